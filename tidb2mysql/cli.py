"""The ``tidb2mysql`` console command.

Each stage registers a subcommand here; the work itself lives in the stage's
module, so this file stays a thin table of commands.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Callable

from tidb2mysql import __version__
from tidb2mysql.config import ConfigError

# (name, help, add_arguments(parser), run(args) -> exit code). Modules are imported lazily
# inside run() so `tidb2mysql --help` stays fast and a missing optional part breaks only
# its own command.
Command = tuple[str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: list[Command] = []


def command(name: str, help: str):
    """Register ``run(args)``; its ``add_arguments`` is given as ``run.add_arguments``."""

    def deco(run: Callable[[argparse.Namespace], int]):
        add = getattr(run, "add_arguments", lambda p: None)
        COMMANDS.append((name, help, add, run))
        return run

    return deco


def _load_commands() -> None:
    # Importing registers the commands (module-level @command decorators).
    from tidb2mysql import commands  # noqa: F401


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    p = argparse.ArgumentParser(prog="tidb2mysql", description="Move a live TiDB database into MySQL.")
    p.add_argument("--version", action="version", version=f"tidb2mysql {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_, add, run in COMMANDS:
        sp = sub.add_parser(name, help=help_, description=help_)
        sp.add_argument("--config", help="configuration file (default: $TIDB2MYSQL_CONFIG)")
        add(sp)
        sp.set_defaults(_run=run)
    return p


def _connect_failure(e: BaseException) -> str | None:
    """The message of a TLS / authentication failure while connecting, else None."""
    from tidb2mysql.mysql.db import ER_ACCESS_DENIED, TLSConnectError
    from tidb2mysql.kafka_settings import KafkaConnectError

    if isinstance(e, KafkaConnectError):
        return str(e)
    args = getattr(e, "args", ())
    if isinstance(e, TLSConnectError) or (type(e).__name__ == "OperationalError" and args and args[0] == ER_ACCESS_DENIED):
        return str(args[1]) if len(args) > 1 else str(e)
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args._run(args) or 0)
    except ConfigError as e:
        print(f"tidb2mysql: configuration error: {e}", file=sys.stderr)
        return 2
    except Exception as e:
        msg = _connect_failure(e)
        if msg is None:
            raise
        # Wrong credentials or an untrusted certificate: the message names the endpoint and
        # the fix; a traceback would only bury it.
        print(f"tidb2mysql: cannot connect: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run through the imported module, not __main__: the subcommands register themselves in
    # tidb2mysql.cli.COMMANDS, which is a different module object from __main__.
    from tidb2mysql.cli import main as _main

    sys.exit(_main())
