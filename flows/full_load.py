"""Full load: one consistent source snapshot -> target tables. A BOUNDED flow (exits 0 when done).

Run through ``tidb2mysql full-load`` (tidb2mysql/commands/full_load.py), which plans the job
and coordinates the snapshot (tidb2mysql/fullload/coordinator.py) and starts this flow:

    python -m bytewax.run flows.full_load -w N [-r DIR -s 1 -b 0] [-i I -a ADDRS]

Only Bytewax wiring lives here; the logic is in ``tidb2mysql/fullload/``:

    LaneSource   FixedPartitionedSource, one partition per lane (fullload/reader.py):
                 opens the snapshot when the coordinator allows, then emits keyset pages;
                 its state (chunk, next key) is in Bytewax snapshots
      -> "write" DynamicSink (fullload/page_writer.py): one target transaction per page,
                 rows + chunk progress together; pages stay on the worker that read them,
                 so a chunk's pages are written in order
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Optional

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from tidb2mysql import config as config_mod
from tidb2mysql.fullload import failure
from tidb2mysql.mysql import db
from tidb2mysql.fullload.jobstore import Job, JobStore
from tidb2mysql.fullload.page_writer import PageWriter
from tidb2mysql.fullload.reader import LaneReader
from tidb2mysql.fullload.snapshot import make_snapshot

log = logging.getLogger("tidb2mysql.full_load")


def lane_name(lane: int) -> str:
    return f"lane-{lane:04d}"


def _recorded(cfg, job: Job):
    """Run ``fn`` and hand any exception to fullload/failure.py before re-raising it (Bytewax
    turns it into a panic whose output only reaches the log file)."""
    def wrap(fn, *args):
        try:
            return fn(*args)
        except StopIteration:  # a lane that is done: Bytewax's end of input, not a failure
            raise
        except Exception as e:
            failure.record(JobStore(cfg.job.meta_schema, cfg.job.name),
                           lambda: db.connect(cfg.target, autocommit=True), job.run, e)
            raise
    return wrap


class LanePartition(StatefulSourcePartition):
    def __init__(self, cfg, job: Job, lane: int, resume: Optional[dict]):
        self._guard = _recorded(cfg, job)
        self._guard(self._build, cfg, job, lane, resume)

    def _build(self, cfg, job: Job, lane: int, resume: Optional[dict]):
        s = cfg.full_load
        store = JobStore(cfg.job.meta_schema, cfg.job.name)
        self.src = db.connect(cfg.source, autocommit=True)
        self.tgt = db.connect(cfg.target, autocommit=True)
        snapshot = make_snapshot(job.snapshot_kind, s.tso_table, cfg.kafka.topic)
        self.reader = LaneReader(lane, job.run, job.tables, store.chunks(self.tgt, lane), store, snapshot,
                                 self.src, self.tgt, s.page_rows, resume, s.lane_timeout,
                                 text=s.method == "load_data", prefetch=s.read_ahead)

    def next_batch(self):
        return self._guard(self._next_batch)

    def _next_batch(self):
        r = self.reader
        if r.finished:
            raise StopIteration()
        if not r.opened and not r.try_open():
            return []
        page = r.next_page()
        return [page] if page is not None else []

    def next_awake(self):
        if self.reader.opened or self.reader.finished:
            return None
        return datetime.now(timezone.utc) + timedelta(milliseconds=20)

    def snapshot(self):
        return self.reader.state()

    def close(self):
        self.reader.close()
        self.src.close()
        self.tgt.close()


class LaneSource(FixedPartitionedSource):
    def __init__(self, cfg, job: Job):
        self.cfg = cfg
        self.job = job

    def list_parts(self):
        return [lane_name(i) for i in range(self.job.lanes)]

    def build_part(self, step_id, for_part, resume_state):
        if resume_state is not None:
            log.info("%s: Bytewax resume state %r", for_part, resume_state)
        return LanePartition(self.cfg, self.job, int(for_part.split("-")[1]), resume_state)


class _WriterPartition(StatelessSinkPartition):
    def __init__(self, cfg, job: Job):
        s = cfg.full_load
        self._guard = _recorded(cfg, job)
        self.writer = PageWriter(job.tables, JobStore(cfg.job.meta_schema, cfg.job.name),
                                 lambda: db.connect(cfg.target, autocommit=False, local_infile=True),
                                 s.disable_target_binlog, invalid_dates=s.invalid_dates)

    def write_batch(self, items):
        for page in items:
            self._guard(self.writer.write, page)

    def close(self):
        self.writer.close()


class PageSink(DynamicSink):
    def __init__(self, cfg, job: Job):
        self.cfg = cfg
        self.job = job

    def build(self, step_id, worker_index, worker_count):
        return _WriterPartition(self.cfg, self.job)


def build_flow(cfg) -> Dataflow:
    conn = db.connect(cfg.target, autocommit=True)
    try:
        job = JobStore(cfg.job.meta_schema, cfg.job.name).load(conn)
    finally:
        conn.close()
    if job is None:
        raise SystemExit(f"full load: no job {cfg.job.name!r} in the target; start it with `tidb2mysql full-load`")
    flow = Dataflow("tidb2mysql_full_load")
    pages = op.input("lanes", flow, LaneSource(cfg, job))
    op.output("write", pages, PageSink(cfg, job))
    return flow


def _flow_from_env() -> Dataflow:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return build_flow(config_mod.load())


def __getattr__(name: str) -> Dataflow:
    """``flow`` is built on first access, which is what ``python -m bytewax.run flows.full_load``
    does: building connects to the target to read the job; importing this module (tests, tools) does none of that."""
    if name == "flow":
        built = _flow_from_env()
        globals()["flow"] = built  # later accesses find it without coming here
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
