"""``tidb2mysql full-load``: copy the selected tables from one consistent snapshot.

Plans (or resumes) the job, starts ``flows/full_load.py`` as P processes x W workers, runs
the snapshot handshake and shows progress (tidb2mysql/fullload/coordinator.py). Prints the
snapshot TSO at the end: incremental replication starts right after it.
"""

from __future__ import annotations

import os

from tidb2mysql import config as config_mod
from tidb2mysql import launch


NAME = "full-load"
HELP = "Copy the selected tables from one consistent source snapshot (Bytewax flow)."


def tables_arg(args) -> list[str]:
    return [t.strip() for t in (args.tables or "").split(",") if t.strip()]


def run(args) -> int:
    from tidb2mysql.fullload.coordinator import Coordinator, FullLoadError
    from tidb2mysql.fullload.snapshot import SnapshotError

    cfg_path = args.config or os.environ.get(config_mod.ENV_VAR)
    cfg = config_mod.load(cfg_path)
    try:
        Coordinator(cfg, cfg_path, launch.options_from_args(args), tables_arg(args)).run(restart=args.restart)
    except (FullLoadError, SnapshotError) as e:
        print(f"tidb2mysql full-load: {e}", file=__import__("sys").stderr)
        return 1
    return 0


def add_arguments(p) -> None:
    launch.add_arguments(p, "Bytewax recovery directory (resume inside chunks after a crash)", snapshot_default=1)
    p.add_argument("--tables", help="comma-separated db.table / db.* (overrides [full_load] tables on the first run)")
    p.add_argument("--restart", action="store_true", help="forget the job's recorded state and plan it again")
