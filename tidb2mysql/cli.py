"""The ``tidb2mysql`` console command.

The command tree is ``tidb2mysql.commands.COMMANDS`` (one module per subcommand); the work
itself lives in the stages, so this file only builds the parser and maps errors to exit codes.
"""

from __future__ import annotations

import argparse
import logging
import sys

from tidb2mysql import __version__
from tidb2mysql.errors import Tidb2MysqlError, exit_code, one_line

def build_parser() -> argparse.ArgumentParser:
    from tidb2mysql.commands import COMMANDS
    p = argparse.ArgumentParser(prog="tidb2mysql", description="Move a live TiDB database into MySQL.")
    p.add_argument("--version", action="version", version=f"tidb2mysql {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS:
        sp = sub.add_parser(cmd.NAME, help=cmd.HELP, description=cmd.HELP)
        sp.add_argument("--config", help="configuration file (default: $TIDB2MYSQL_CONFIG)")
        cmd.add_arguments(sp)
        sp.set_defaults(_run=cmd.run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args._run(args) or 0)
    except Tidb2MysqlError as e:
        # Configuration, credentials, TLS, a fenced job: one line naming what to fix (a
        # traceback would only bury it), and the exit code of tidb2mysql/errors.py.
        line = one_line(e)
        if line is None:
            raise
        print(f"tidb2mysql: {line}", file=sys.stderr)
        return exit_code(e)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
