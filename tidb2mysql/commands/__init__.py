"""Subcommands of the ``tidb2mysql`` console command, one module each.

Each module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit code``;
:data:`COMMANDS` is the command tree, in ``--help`` order (``cli.build_parser`` reads it).
The stage modules a command needs are imported inside ``run``, so ``tidb2mysql --help`` stays
fast and a broken optional part breaks only its own command.
"""

from __future__ import annotations

from types import ModuleType

from tidb2mysql.commands import (
    cutover,
    ddl,
    full_load,
    incremental,
    migrate,
    precheck,
    schema,
    simulate,
    status,
    verify,
)

COMMANDS: tuple[ModuleType, ...] = (incremental, ddl, full_load, migrate, schema, simulate, precheck, status,
                                    cutover, verify)
