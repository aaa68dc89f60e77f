"""``tidb2mysql ddl translate``: show what the DDL translator makes of TiDB DDL, and why.

No configuration is needed (the target is given with ``--target``); a ``--config`` given to
every subcommand by the CLI is accepted and ignored here, so scripts can pass it uniformly.
"""

from __future__ import annotations

import argparse
import json
import sys

from tidb2mysql.cli import command


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="ddl_action", required=True, metavar="ACTION")
    t = sub.add_parser("translate", help="translate TiDB DDL for a MySQL/MariaDB target",
                       description="Translate TiDB DDL (argument, --file, or stdin) and print, per "
                                   "statement, the target statements and every decision with its reason.")
    t.add_argument("sql", nargs="?", help="DDL text (default: --file, else stdin)")
    t.add_argument("--file", "-f", help="read the DDL from this file ('-' for stdin)")
    t.add_argument("--target", default="mariadb:10.11",
                   help="target server, e.g. mariadb:10.11, mysql:8.0, mysql:5.7 (default mariadb:10.11)")
    t.add_argument("--schema", help="the database the statements ran in (emits an explicit USE)")
    t.add_argument("--json", action="store_true", help="print one JSON document")
    t.add_argument("--ansi-quotes", action="store_true", help="the TiDB session used sql_mode ANSI_QUOTES")
    t.add_argument("--keep-definer", action="store_true", help="keep DEFINER= on views")
    t.add_argument("--keep-tidb-comments", action="store_true", help="keep /*T! */ comments instead of dropping them")
    # The CLI gives every subcommand --config; accept it after "translate" too, unused.
    t.add_argument("--config", dest="ddl_config", help=argparse.SUPPRESS)
    r = sub.add_parser("resolve", help="decide what happens to a replicated DDL that stopped the flow",
                       description="A DDL that failed permanently in strict mode stops the incremental flow,"
                                   " across restarts, until this records a decision in ddl_history.")
    r.add_argument("--commit-ts", type=int, required=True, help="the DDL's commit_ts (see `tidb2mysql status`)")
    how = r.add_mutually_exclusive_group(required=True)
    how.add_argument("--retry", dest="decision", action="store_const", const="retry",
                     help="run it again from the statement that failed (after fixing the cause)")
    how.add_argument("--skip", dest="decision", action="store_const", const="skip",
                     help="never run it; the flow carries on (the target schema stays as it is)")
    how.add_argument("--applied-by-hand", dest="decision", action="store_const", const="applied-by-hand",
                     help="you ran an equivalent statement on the target; the flow carries on")
    r.add_argument("--config", dest="resolve_config", help="configuration file (default: $TIDB2MYSQL_CONFIG)")


def run(args) -> int:
    if args.ddl_action == "resolve":
        return resolve(args)
    return translate_command(args)


def resolve(args) -> int:
    """Exit 0 once the decision is recorded; 2 when there is nothing to decide."""
    import getpass
    import os

    from tidb2mysql import config as config_mod
    from tidb2mysql import db
    from tidb2mysql.replication.barrier import DDLCoordinator
    from tidb2mysql.replication.checkpoint import Checkpoints, ensure_meta

    cfg = config_mod.load(getattr(args, "resolve_config", None) or getattr(args, "config", None)
                          or os.environ.get(config_mod.ENV_VAR))
    conn = db.connect(cfg.target, autocommit=True)
    try:
        ensure_meta(conn, cfg.job.meta_schema)
        coord = DDLCoordinator(Checkpoints(cfg.job.meta_schema, cfg.job.name), shard_count=0)
        try:
            status = coord.resolve(conn, args.commit_ts, args.decision, who=getpass.getuser())
        except ValueError as e:
            print(f"tidb2mysql ddl resolve: {e}", file=sys.stderr)
            return 2
    finally:
        conn.close()
    print(f"DDL at commit_ts {args.commit_ts} of job {cfg.job.name!r} is now {status!r};"
          " start the incremental flow again")
    return 0


def translate_command(args) -> int:
    """Exit status 0, or 1 when a statement has an error-level decision (e.g. re-copy needed)."""
    from tidb2mysql.ddl import Options, Target, translate
    from tidb2mysql.ddl.tokenizer import TokenizeError, split_statements

    try:
        target = Target.parse(args.target)
    except ValueError as e:
        print(f"tidb2mysql ddl: {e}", file=sys.stderr)
        return 2
    if args.sql is not None:
        text = args.sql
    elif args.file and args.file != "-":
        with open(args.file, encoding="utf-8") as fh:
            text = fh.read()
    else:
        text = sys.stdin.read()
    options = Options(ansi_quotes=args.ansi_quotes, keep_definer=args.keep_definer,
                      keep_tidb_comments=args.keep_tidb_comments)
    try:
        pieces = split_statements(text, ansi_quotes=args.ansi_quotes)
    except TokenizeError as e:
        print(f"tidb2mysql ddl: cannot split the input into statements: {e}", file=sys.stderr)
        return 2
    results = [translate(piece, target, schema=args.schema, options=options) for piece in pieces]
    if args.json:
        json.dump({"target": str(target), "statements": [r.as_dict() for r in results]}, sys.stdout, indent=2)
        print()
    else:
        for i, r in enumerate(results, 1):
            print(f"-- [{i}] {r.source.strip()}")
            if r.skipped:
                print("--     (skipped: nothing to run on the target)")
            for stmt in r.statements:
                print(stmt + ";")
            for d in r.decisions:
                print(f"--     {d.level.upper()} {d.action}: {d.reason}")
            if r.needs_recopy:
                print(f"--     RE-COPY NEEDED: {', '.join(r.recopy_objects) or '(see above)'}")
            print()
    return 1 if any(r.level == "error" for r in results) else 0


run.add_arguments = add_arguments  # type: ignore[attr-defined]
command("ddl", "DDL tools: translate TiDB DDL for MySQL/MariaDB; resolve a replicated DDL that stopped the flow")(run)
