"""``tidb2mysql incremental``: run the incremental replication flow (flows/incremental.py).

It wraps ``python -m bytewax.run flows.incremental``: one process, or P local processes
joined into one Bytewax cluster (``-i``/``-a``), with a recovery directory when asked. The
configuration file reaches the flow through ``$TIDB2MYSQL_CONFIG``; command-line settings
through ``$TIDB2MYSQL_OVERRIDES``.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from tidb2mysql import config as config_mod
from tidb2mysql import launch
from tidb2mysql.cli import command
from tidb2mysql.config.incremental import IncrementalConfig
from tidb2mysql.config.keys import add_flags, flag_overrides
from tidb2mysql.config.metrics import MetricsConfig


def run(args) -> int:
    cfg_path = args.config or os.environ.get(config_mod.ENV_VAR)
    sections = flag_overrides(args)  # the [incremental] / [metrics] flags given (config/keys.py)
    cfg = config_mod.load(cfg_path, sections or None)  # validate early
    opts = launch.options_from_args(args)
    procs = launch.start("flows.incremental", opts, cfg_path, sections or None)
    print(f"tidb2mysql incremental: job {cfg.job.name!r}, {args.processes} process(es) x {args.workers} worker(s),"
          f" topic {cfg.kafka.topic!r} -> {cfg.target.describe()}", file=sys.stderr)

    def forward(signum, _frame):
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    rc = 0
    while procs:
        for p in list(procs):
            r = p.poll()
            if r is None:
                continue
            procs.remove(p)
            if r != 0:
                rc = rc or r
                for q in procs:  # one process down takes the cluster down; restart all together
                    q.terminate()
        time.sleep(0.1)
    return rc


def add_arguments(p) -> None:
    launch.add_arguments(p, "Bytewax recovery directory (enables crash recovery)", snapshot_default=5)
    add_flags(p, "incremental", IncrementalConfig)
    add_flags(p, "metrics", MetricsConfig)


run.add_arguments = add_arguments  # type: ignore[attr-defined]
command("incremental", "Replicate Drainer binlogs from Kafka to the target (Bytewax flow).")(run)
