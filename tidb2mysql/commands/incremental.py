"""``tidb2mysql incremental``: run the incremental replication flow (flows/incremental.py).

It wraps ``python -m bytewax.run flows.incremental``: one process, or P local processes
joined into one Bytewax cluster (``-i``/``-a``), with a recovery directory when asked. The
configuration file reaches the flow through ``$TIDB2MYSQL_CONFIG``; command-line settings
through ``$TIDB2MYSQL_OVERRIDES``.
"""

from __future__ import annotations

import os
import sys

from tidb2mysql import config as config_mod
from tidb2mysql import launch
from tidb2mysql.config.incremental import IncrementalConfig
from tidb2mysql.config.keys import add_flags, flag_overrides
from tidb2mysql.config.metrics import MetricsConfig


NAME = "incremental"
HELP = "Replicate Drainer binlogs from Kafka to the target (Bytewax flow)."


def run(args) -> int:
    cfg_path = args.config or os.environ.get(config_mod.ENV_VAR)
    sections = flag_overrides(args)  # the [incremental] / [metrics] flags given (config/keys.py)
    return run_incremental(cfg_path, launch.options_from_args(args), sections)


def run_incremental(cfg_path: str | None, opts: launch.LaunchOptions, sections: dict | None = None) -> int:
    """The incremental stage as a function (the ``incremental`` command and ``migrate`` call it):
    validate the configuration with ``sections`` ({section: {key: value}}) over it, start the
    flow's processes and supervise them until they end; their exit status."""
    cfg = config_mod.load(cfg_path, sections or None)  # validate early
    group = launch.start("flows.incremental", opts, cfg_path, sections or None)
    print(f"tidb2mysql incremental: job {cfg.job.name!r}, {opts.processes} process(es) x {opts.workers} worker(s),"
          f" topic {cfg.kafka.topic!r} -> {cfg.target.describe()}", file=sys.stderr)
    group.forward_signals()
    return group.wait()


def add_arguments(p) -> None:
    launch.add_arguments(p, "Bytewax recovery directory (enables crash recovery)", snapshot_default=5)
    add_flags(p, "incremental", IncrementalConfig)
    add_flags(p, "metrics", MetricsConfig)
