"""``tidb2mysql migrate``: schema -> full load -> incremental replication, in one command.

Resumable at each stage; the stage reached is recorded in the target
(``<meta_schema>.full_load_job.stage``: ``loading`` -> ``loaded`` -> ``incremental``):

1. precheck - ``tidb2mysql precheck``'s checks (in process) before a NEW job: any failed check
   stops migrate before anything is created (``--skip-precheck`` to override); warnings are
   printed and migrate goes on. A resumed job does not repeat it.
2. schema - the schema stage (``commands/schema.py`` ``run_schema``, in this process) with the
   same config, the same table selection and ``existing="check"``, so a re-run accepts what
   an earlier run created; before the first full load only.
3. full load - ``tidb2mysql full-load`` (resumes a started job; skipped once ``loaded``).
4. incremental - ``tidb2mysql incremental`` starting right after the full load's snapshot
   TSO (binlogs at or below it are already in the copied data). Once this stage is recorded,
   a re-run goes straight to incremental, whose own checkpoints say where to continue.

``-r DIR`` gives each flow its own recovery directory (``DIR/full_load``, ``DIR/incremental``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tidb2mysql import config as config_mod
from tidb2mysql import launch
from tidb2mysql.mysql import db
from tidb2mysql.config.incremental import IncrementalConfig
from tidb2mysql.config.keys import add_flags, flag_overrides
from tidb2mysql.config.metrics import MetricsConfig


NAME = "migrate"
HELP = "Schema, full load and incremental replication in one resumable command."


def schema_selection(tables: list[str]) -> dict[str, str]:
    """The full load's ``db.*`` / ``db.table`` selection as the schema stage's ``databases`` /
    ``tables`` arguments."""
    dbs = [t.split(".", 1)[0] for t in tables if t.endswith(".*")]
    named = [t for t in tables if not t.endswith(".*")]
    out = {}
    if dbs:
        out["databases"] = ",".join(dbs)
    if named:
        out["tables"] = ",".join(named)
    return out


def run(args) -> int:
    from tidb2mysql.commands import full_load as full_load_cmd
    from tidb2mysql.commands import incremental as incremental_cmd
    from tidb2mysql.commands import schema as schema_cmd
    from tidb2mysql.fullload.coordinator import Coordinator, FullLoadError
    from tidb2mysql.fullload.jobstore import JobStore
    from tidb2mysql.fullload.snapshot import SnapshotError

    cfg_path = args.config or os.environ.get(config_mod.ENV_VAR)
    cfg = config_mod.load(cfg_path)
    store = JobStore(cfg.job.meta_schema, cfg.job.name)
    conn = db.connect(cfg.target, autocommit=True)
    try:
        store.ensure(conn)
        job = store.load(conn)
    finally:
        conn.close()
    stage = job.stage if job else "new"
    print(f"tidb2mysql migrate: job {cfg.job.name!r} at stage {stage!r}", file=sys.stderr)
    if job is None and not args.skip_precheck:
        from tidb2mysql.ops import precheck

        checks = precheck.run_precheck(cfg, precheck.PrecheckOptions(tables=tuple(full_load_cmd.tables_arg(args))))
        print(precheck.render(checks), file=sys.stderr)
        if any(c.status == precheck.FAIL for c in checks):
            print("tidb2mysql migrate: precheck failed (above); fix what it names, or run with --skip-precheck",
                  file=sys.stderr)
            return 1
    if job is None:
        rc = schema_cmd.run_schema(cfg_path, existing="check", **schema_selection(full_load_cmd.tables_arg(args)))
        if rc != 0:
            print("tidb2mysql migrate: schema migration failed; fix it and run migrate again", file=sys.stderr)
            return rc
    rdir = Path(args.recovery_dir) if args.recovery_dir else None
    if job is None or job.stage == "loading":
        opts = launch.options_from_args(args, str(rdir / "full_load") if rdir else None)
        try:
            result = Coordinator(cfg, cfg_path, opts, full_load_cmd.tables_arg(args)).run()
        except (FullLoadError, SnapshotError) as e:
            print(f"tidb2mysql migrate: full load: {e}", file=sys.stderr)
            return 1
        ts = result.snapshot_ts
    else:
        ts = job.snapshot_ts or 0
    conn = db.connect(cfg.target, autocommit=True)
    try:
        store.set_stage(conn, "incremental")
    finally:
        conn.close()
    print(f"tidb2mysql migrate: incremental replication from after commit_ts {ts}", file=sys.stderr)
    if not _print_changefeed(cfg, ts):
        return 3
    sections = flag_overrides(args)  # the [incremental] / [metrics] flags given
    sections.setdefault("incremental", {})["start_commit_ts"] = ts
    opts = launch.options_from_args(args, str(rdir / "incremental") if rdir else None)
    return incremental_cmd.run_incremental(cfg_path, opts, sections)


def _print_changefeed(cfg, ts: int) -> bool:
    """TiCDC input: the changefeed must start at the snapshot TSO; say exactly how to create it.
    False when its topic does not exist yet: the user creates the changefeed and runs migrate
    again (the stage is recorded: it goes on with incremental replication)."""
    fmt = cfg.input.format
    if not cfg.input.is_ticdc:
        return True
    from tidb2mysql.ops import ticdc_setup
    from tidb2mysql.replication.runtime import reader_client_config
    from tidb2mysql.replication.ticdc import topic_partitions

    try:
        n, exists = topic_partitions(reader_client_config(cfg.kafka), cfg.kafka.topic), True
    except RuntimeError:  # TiCDC creates the topic with partition-num partitions
        n, exists = 8, False
    print("tidb2mysql migrate: create the TiCDC changefeed from the snapshot (if not done yet):\n  "
          + ticdc_setup.changefeed_command(cfg.kafka, fmt, n, ts, ticdc_setup.changefeed_id(cfg.job.name)),
          file=sys.stderr)
    if not exists:
        print(f"tidb2mysql migrate: topic {cfg.kafka.topic!r} does not exist yet: create the changefeed, then run"
              " `tidb2mysql migrate` again (it continues with incremental replication)", file=sys.stderr)
    return exists


def add_arguments(p) -> None:
    launch.add_arguments(p, "recovery directory root (one subdirectory per flow)", snapshot_default=1)
    p.add_argument("--tables", help="comma-separated db.table / db.* for the full load")
    p.add_argument("--skip-precheck", action="store_true", help="do not run the precheck before a new job")
    add_flags(p, "incremental", IncrementalConfig)
    add_flags(p, "metrics", MetricsConfig)
