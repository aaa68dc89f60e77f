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


def run(args) -> int:
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
command("ddl", "DDL tools: translate TiDB DDL for MySQL/MariaDB (no configuration needed)")(run)
