"""Subcommands of the ``tidb2mysql`` console command, one module each.

Each module registers itself with :func:`tidb2mysql.cli.command`; import it here.
"""
from tidb2mysql.commands import incremental  # noqa: F401
from tidb2mysql.commands import ddl  # noqa: F401
from tidb2mysql.commands import full_load  # noqa: F401
from tidb2mysql.commands import migrate  # noqa: F401
from tidb2mysql.commands import schema  # noqa: F401
from tidb2mysql.commands import simulate  # noqa: F401
from tidb2mysql.commands import precheck  # noqa: F401
from tidb2mysql.commands import status  # noqa: F401
from tidb2mysql.commands import cutover  # noqa: F401
from tidb2mysql.commands import verify  # noqa: F401
