"""``tidb2mysql ddl translate``: show what the DDL translator makes of TiDB DDL, and why.

No configuration is needed (the target is given with ``--target``); a ``--config`` given to
every subcommand by the CLI is accepted and ignored here, so scripts can pass it uniformly.

``--against-target`` (with ``--config``) translates the way the incremental flow's DDL
barrier does: against the configured target server, whose flavour and version are detected,
with the target's current tables as catalog (tidb2mysql/ddl/catalog.py: UNIQUE keys vs
partitioning, a new VARCHAR's character set, INTERVAL partitions) and shadow validation
(tidb2mysql/ddl/shadow.py: each CREATE/ALTER/CREATE INDEX runs on an empty copy of its table
in a scratch database first, with the documented fallbacks). The decisions that only the
target made possible are marked ``[target]``. Nothing real is changed: the catalog only reads
information_schema, and the shadow writes only to its scratch database
(``_tidb2mysql_shadow_<pid>_<random>``), dropped before the command exits. Names are taken as
they are on the target (no ``[selection]`` mapping), and each statement is checked against the
target as it is now (earlier statements of the same input are not applied).
"""

from __future__ import annotations

import json
import sys


NAME = "ddl"
HELP = "DDL tools: translate TiDB DDL for MySQL/MariaDB; resolve a replicated DDL that stopped the flow"


def add_arguments(p) -> None:
    sub = p.add_subparsers(dest="ddl_action", required=True, metavar="ACTION")
    t = sub.add_parser("translate", help="translate TiDB DDL for a MySQL/MariaDB target",
                       description="Translate TiDB DDL (argument, --file, or stdin) and print, per "
                                   "statement, the target statements and every decision with its reason.")
    t.add_argument("sql", nargs="?", help="DDL text (default: --file, else stdin)")
    t.add_argument("--file", "-f", help="read the DDL from this file ('-' for stdin)")
    t.add_argument("--target", default=None,
                   help="target server, e.g. mariadb:10.11, mysql:8.0, mysql:5.7 (default mariadb:10.11;"
                        " with --against-target: detected)")
    t.add_argument("--against-target", action="store_true",
                   help="connect to the [target] of --config: detect its version, read its tables (catalog) and"
                        " run each CREATE/ALTER on an empty copy in a scratch database first (shadow validation),"
                        " as the incremental flow does; nothing real is changed")
    t.add_argument("--schema", help="the database the statements ran in (emits an explicit USE)")
    t.add_argument("--json", action="store_true", help="print one JSON document")
    t.add_argument("--ansi-quotes", action="store_true", help="the TiDB session used sql_mode ANSI_QUOTES")
    t.add_argument("--keep-definer", action="store_true", help="keep DEFINER= on views")
    t.add_argument("--keep-tidb-comments", action="store_true", help="keep /*T! */ comments instead of dropping them")
    # The CLI gives every subcommand --config; accept it after "translate" too (used by --against-target).
    t.add_argument("--config", dest="ddl_config", help="configuration file for --against-target"
                                                       " (default: $TIDB2MYSQL_CONFIG)")
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
    from tidb2mysql.mysql import db
    from tidb2mysql.replication.barrier import DDLCoordinator
    from tidb2mysql.mysql.meta import REPLICATION, ensure_meta
    from tidb2mysql.replication.checkpoint import Checkpoints

    cfg = config_mod.load(getattr(args, "resolve_config", None) or getattr(args, "config", None)
                          or os.environ.get(config_mod.ENV_VAR))
    conn = db.connect(cfg.target, autocommit=True)
    try:
        ensure_meta(conn, cfg.job.meta_schema, REPLICATION)
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
    from tidb2mysql.ddl import TranslateOptions, translate
    from tidb2mysql.mysql.dialect import Dialect
    from tidb2mysql.ddl.tokenizer import TokenizeError, split_statements

    try:
        target = Dialect.parse(args.target or "mariadb:10.11")
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
    options = TranslateOptions(ansi_quotes=args.ansi_quotes, keep_definer=args.keep_definer,
                      keep_tidb_comments=args.keep_tidb_comments)
    try:
        pieces = split_statements(text, ansi_quotes=args.ansi_quotes)
    except TokenizeError as e:
        print(f"tidb2mysql ddl: cannot split the input into statements: {e}", file=sys.stderr)
        return 2
    server = None
    extra: list[list] = [[] for _ in pieces]  # per statement: decisions only the target made possible
    if getattr(args, "against_target", False):
        got = _against_target(args, pieces, options)
        if isinstance(got, int):
            return got
        target, server, results, extra = got
    else:
        results = [translate(piece, target, schema=args.schema, options=options) for piece in pieces]
    if args.json:
        doc = {"target": str(target), "statements": [r.as_dict() for r in results]}
        if server is not None:
            doc["against_target"] = server
            for d, ex in zip(doc["statements"], extra):
                d["target_decisions"] = [x.as_dict() for x in ex]
        json.dump(doc, sys.stdout, indent=2)
        print()
    else:
        if server is not None:
            print(f"-- against {server['endpoint']} ({target}): catalog and shadow validation;"
                  " [target] marks what only the target's tables decided")
        for i, r in enumerate(results, 1):
            print(f"-- [{i}] {r.source.strip()}")
            if r.skipped:
                print("--     (skipped: nothing to run on the target)")
            for stmt in r.statements:
                print(stmt + ";")
            for d in r.decisions:
                mark = " [target]" if d in extra[i - 1] else ""
                print(f"--     {d.level.upper()} {d.action}{mark}: {d.reason}")
            if r.needs_recopy:
                print(f"--     RE-COPY NEEDED: {', '.join(r.recopy_objects) or '(see above)'}")
            print()
    return 1 if any(r.level == "error" for r in results) else 0


def _against_target(args, pieces: list[str], options):
    """(target, server info, translations, per-statement target-only decisions), or an exit status.

    Read-only on the target except the shadow's scratch database, which is dropped at the end."""
    import os

    from tidb2mysql import config as config_mod
    from tidb2mysql.mysql import db
    from tidb2mysql.ddl import translate
    from tidb2mysql.mysql.dialect import Dialect
    from tidb2mysql.ddl.catalog import TargetCatalog
    from tidb2mysql.ddl.shadow import Shadow, validate

    path = getattr(args, "ddl_config", None) or getattr(args, "config", None) or os.environ.get(config_mod.ENV_VAR)
    if not path:
        print("tidb2mysql ddl: --against-target needs --config (or $TIDB2MYSQL_CONFIG): its [target] is used",
              file=sys.stderr)
        return 2
    cfg = config_mod.load(path)
    conn = db.connect(cfg.target, autocommit=True)  # errors name the endpoint, never the password (cli.py)
    try:
        detected = Dialect.detect(conn)
        given = Dialect.parse(args.target) if args.target else None
        if given is not None and (given.flavour, given.version[:2]) != (detected.flavour, detected.version[:2]):
            print(f"tidb2mysql ddl: --target {args.target} ignored: the target server is {detected}", file=sys.stderr)
        endpoint = f"{cfg.target.user}@{cfg.target.host}:{cfg.target.port}"
        catalog = TargetCatalog(conn)
        results, extra = [], []
        with Shadow(conn) as shadow:
            for piece in pieces:
                plain = translate(piece, detected, schema=args.schema, options=options)
                tr = validate(conn, translate(piece, detected, schema=args.schema, options=options, catalog=catalog),
                              args.schema, shadow=shadow)
                results.append(tr)
                extra.append([d for d in tr.decisions if d not in plain.decisions])
            scratch = shadow.scratch
        return detected, {"endpoint": endpoint, "version": str(detected), "shadow_database": scratch}, results, extra
    finally:
        conn.close()
