"""``tidb2mysql incremental``: run the incremental replication flow (flows/incremental.py).

It wraps ``python -m bytewax.run flows.incremental``: one process, or P local processes
joined into one Bytewax cluster (``-i``/``-a``), with a recovery directory when asked. The
configuration file reaches the flow through ``$TIDB2MYSQL_CONFIG``; command-line settings
through ``$TIDB2MYSQL_OVERRIDES``.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

from tidb2mysql import config as config_mod
from tidb2mysql import launch
from tidb2mysql.config.incremental import IncrementalConfig
from tidb2mysql.config.keys import add_flags, flag_overrides
from tidb2mysql.config.metrics import MetricsConfig


NAME = "incremental"
HELP = "Replicate Drainer binlogs from Kafka to the target (Bytewax flow)."


def default_start(explicit: Optional[int], configured: int, job) -> tuple[Optional[int], str]:
    """Where replication starts when the target has no checkpoint yet: ``(ts or None, note)``.

    An explicit ``--start-commit-ts`` or ``[incremental] start_commit_ts`` wins. Otherwise the
    snapshot TSO the job's full load recorded (``full_load_job``): started alone after a full
    load, replication must begin right after that snapshot, not at the topic's first message
    (which would re-apply older binlogs over newer copied rows). A full load that has not
    finished is an error: replicating onto a partly copied target is wrong either way."""
    if explicit is not None:
        return explicit, f"--start-commit-ts {explicit}"
    if configured:
        return None, f"[incremental] start_commit_ts {configured}"
    if job is None:
        return None, ("no full load recorded for this job: starting at the target's checkpoints, or at the topic's"
                      " earliest message (give --start-commit-ts <TSO> to start after a snapshot)")
    if job.stage == "loading":
        raise ValueError(f"the full load of job {job.job!r} has not finished (stage 'loading'): finish it "
                         f"(tidb2mysql full-load) or give --start-commit-ts explicitly")
    if not job.snapshot_ts:
        return None, f"the full load of job {job.job!r} recorded no snapshot TSO: starting at the earliest message"
    return job.snapshot_ts, (f"after the snapshot TSO {job.snapshot_ts} recorded by the full load of job {job.job!r}"
                             " (ignored where the target already has checkpoints)")


def _recorded_job(cfg):
    from tidb2mysql.fullload.jobstore import JobStore
    from tidb2mysql.mysql import db, meta

    store = JobStore(cfg.job.meta_schema, cfg.job.name)
    conn = db.connect(cfg.target, autocommit=True)
    try:
        # Only read: nothing is created before the flow has checked Kafka and the target (a wrong
        # password must leave the target untouched); an existing table is brought forward.
        if not meta.table_exists(conn, cfg.job.meta_schema, "full_load_job"):
            return None
        store.ensure(conn)
        return store.load(conn)
    finally:
        conn.close()


def run(args) -> int:
    cfg_path = args.config or os.environ.get(config_mod.ENV_VAR)
    sections = flag_overrides(args)  # the [incremental] / [metrics] flags given (config/keys.py)
    return run_incremental(cfg_path, launch.options_from_args(args), sections)


def run_incremental(cfg_path: str | None, opts: launch.LaunchOptions, sections: dict | None = None) -> int:
    """The incremental stage as a function (the ``incremental`` command and ``migrate`` call it):
    validate the configuration with ``sections`` ({section: {key: value}}) over it, start the
    flow's processes and supervise them until they end; their exit status."""
    sections = dict(sections or {})
    base = config_mod.load(cfg_path)
    explicit = sections.get("incremental", {}).get("start_commit_ts")
    configured = base.incremental.start_commit_ts
    try:
        job = _recorded_job(base) if explicit is None and not configured else None
    except Exception as e:  # noqa: BLE001 - the target down at start: the flow waits for it anyway
        print(f"tidb2mysql incremental: could not read the job's full-load record ({e}); if the target has no"
              " checkpoints yet, give --start-commit-ts", file=sys.stderr)
        job = None
    try:
        start, note = default_start(explicit, configured, job)
    except ValueError as e:
        print(f"tidb2mysql incremental: {e}", file=sys.stderr)
        return 2
    if start is not None:
        sections.setdefault("incremental", {})["start_commit_ts"] = start
    print(f"tidb2mysql incremental: start position: {note}", file=sys.stderr)
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
