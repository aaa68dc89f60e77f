"""Incremental replication: Drainer binlogs in Kafka -> MySQL.

Run:  TIDB2MYSQL_CONFIG=tidb2mysql.toml python -m bytewax.run flows.incremental [-w N] \
          [-r RECOVERY_DIR -s SNAPSHOT_SECONDS -b 0]
or:   tidb2mysql incremental --config tidb2mysql.toml --workers N --processes P ...

Only Bytewax wiring lives here; the logic is in ``tidb2mysql/replication/``:

    DrainerSource (offsets in Bytewax snapshots; start position: replication/source.py)
      -> "decode_route"  flat_map_batch: replication/pipeline.py (decode, redeliveries,
                          selection, route to shards, watermarks)
      -> "apply"         stateful_batch keyed by shard: replication/shard.py (merge, flush,
                          checkpoint, DDL barrier)
      -> "progress"      sink: replication/progress.py (logs, delay)
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Optional

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.operators import StatefulBatchLogic
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from tidb2mysql import config as config_mod
from tidb2mysql import db
from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.kafka_settings import consumer_config
from tidb2mysql.ops import fencing, shutdown
from tidb2mysql.ops.metrics import METRICS, record_flush
from tidb2mysql.ops.metrics import serve as serve_metrics
from tidb2mysql.ops.settings import metrics_settings
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.barrier import DDLCoordinator
from tidb2mysql.replication.checkpoint import Checkpoints, ensure_meta
from tidb2mysql.replication.ddl_seam import make_translator
from tidb2mysql.replication.pipeline import EndOfInput, Pipeline, Tick, select_all
from tidb2mysql.replication.progress import ProgressLog
from tidb2mysql.replication.retry import ReconnectingConnection
from tidb2mysql.replication.route import MAX_SEQ, Router
from tidb2mysql.replication.settings import incremental_settings
from tidb2mysql.replication.shard import ShardApplier, ShardContext, ShardState
from tidb2mysql.replication.source import MessageSlicer, TopicReader, resolve_start
from tidb2mysql.selection.ddl import selecting_translator
from tidb2mysql.selection.engine import Selection
from tidb2mysql.selection.events import EventSelector

log = logging.getLogger("tidb2mysql.incremental")


class _Start:
    """First item of a run: tells the pipeline which commit_ts are already applied."""

    def __init__(self, skip_through_ts: int):
        self.skip_through_ts = skip_through_ts


class DrainerPartition(StatefulSourcePartition):
    def __init__(self, cfg, resume_offset: Optional[int]):
        self.cfg = cfg
        self.s = incremental_settings(cfg)
        self.conn = ReconnectingConnection(lambda: db.connect(cfg.target, autocommit=True), "source: target query")
        self.checkpoints = Checkpoints(cfg.job.meta_schema, cfg.job.name)
        self.reader = TopicReader(consumer_config(cfg.kafka), cfg.kafka.topic, cfg.kafka.partition)
        decoder = self.decoder = Decoder(cfg.drainer.time_zone)
        self.slicer: Optional[MessageSlicer] = None
        if resume_offset is not None:
            offset, skip, why = resume_offset, -1, "Bytewax recovery snapshot"
        else:
            start = resolve_start(
                self.reader,
                self.conn.run(lambda c: self.checkpoints.min_position(c, self.s.shards)),
                self.s.start_commit_ts,
                lambda v: decoder.decode(v, None).commit_ts,
            )
            offset, skip, why = start.offset, start.skip_through_ts, start.reason
        log.info("reading %s partition %d from offset %d (%s)", cfg.kafka.topic, cfg.kafka.partition, offset, why)
        self.reader.assign(offset)
        self.pending: list = [_Start(skip)]
        self.last_ts = max(skip, 0)
        self.last_tick = time.monotonic()
        self.draining = False
        self.stopped_at_ts = False
        # Graceful stop (SIGTERM/SIGINT) and cut-over requests (target job_control row).
        self.control = fencing.JobControl(cfg.job.meta_schema, cfg.job.name)
        self.next_control_poll = 0.0
        self.stop_reason: Optional[str] = None
        ms = metrics_settings(cfg)
        self.lag_interval = ms.kafka_lag_interval if ms.port else 0.0
        self.next_lag = 0.0

    def next_batch(self):
        if self.pending:
            out, self.pending = self.pending, []
            return out
        if self.draining:
            done = self.conn.run(lambda c: self.checkpoints.count_at_or_after(c, (self.last_ts, MAX_SEQ)))
            if done >= self.s.shards:
                log.info("all shards applied everything through commit_ts %d; stopping", self.last_ts)
                if self.stop_reason == "cut-over":
                    self.conn.run(lambda c: self.control.mark_stopped(c, f"drained through commit_ts {self.last_ts}"))
                raise StopIteration()
            return []
        self._poll_stop_requests()
        if self.slicer is not None:
            return [self._next_slice()]
        if self.stop_reason == "signal":
            self.draining = True
            return [EndOfInput(self.last_ts)]
        msgs = self.reader.poll_batch(self.s.source_batch, 0)
        if self.s.stop_at_ts:
            keep = [m for m in msgs if m.commit_ts is None or m.commit_ts <= self.s.stop_at_ts]
            if len(keep) < len(msgs):
                self.reader.assign(keep[-1].offset + 1 if keep else msgs[0].offset)
                self.stopped_at_ts = True
            msgs = keep
        for i, m in enumerate(msgs):
            if len(m.value) > self.s.slice_bytes and self._start_slicing(m):
                msgs = msgs[:i]  # the rest is read again after the large message
                if not msgs:
                    return [self._next_slice()]
                break
        if msgs:
            for m in msgs:
                if m.commit_ts is not None and m.commit_ts > self.last_ts:
                    self.last_ts = m.commit_ts
            return msgs
        if self.s.stop_at_ts and self.last_ts >= self.s.stop_at_ts:
            self.stopped_at_ts = True
        at_end_stop = self.s.stop_at_end or self.stop_reason == "cut-over"
        if self.stopped_at_ts or (at_end_stop and self.reader.at_end):
            self.draining = True
            return [EndOfInput(self.last_ts)]
        now = time.monotonic()
        if now - self.last_tick >= self.s.watermark_interval_ms / 1000:
            self.last_tick = now
            return [Tick()]
        return []

    def _poll_stop_requests(self) -> None:
        """A signal drains now; a cut-over request reads Kafka to its end first (ops/fencing.py)."""
        now = time.monotonic()
        if self.stop_reason is None:
            if shutdown.requested():
                self.stop_reason = "signal"
            elif now >= self.next_control_poll:
                self.next_control_poll = now + self.s.control_poll_seconds
                state = self.conn.run(self.control.state)
                if state == fencing.REQUESTED:
                    self.stop_reason = "cut-over"
                elif state == fencing.FINISHED and not self.s.force:
                    # Finished while running (cutover --flow-stopped by mistake): stop writing.
                    log.error("job %r was finished by a cut-over while this flow ran", self.cfg.job.name)
                    self.stop_reason = "signal"
            if self.stop_reason is not None:
                log.info("%s: stopping after applying everything read so far (commit_ts %d)%s", self.stop_reason,
                         self.last_ts, " and the rest of the topic" if self.stop_reason == "cut-over" else "")
                METRICS.set("stop_requested", 1)
        if self.lag_interval and now >= self.next_lag:
            self.next_lag = now + self.lag_interval
            try:
                _lo, hi = self.reader.watermarks(timeout=2.0)
            except Exception as e:  # noqa: BLE001 - a metric must not stop the flow
                log.debug("Kafka watermarks for the lag metric: %s", e)
            else:
                pos = self.reader.position if self.reader.position is not None else hi
                METRICS.set("kafka_high_watermark", hi)
                METRICS.set("kafka_position", pos)
                METRICS.set("kafka_offset_lag", max(0, hi - pos))

    def _start_slicing(self, m) -> bool:
        """Parse a large message once and hand it out in slices (bounded memory)."""
        from tidb2mysql.drainer import secondary_binlog_pb2 as pb
        from tidb2mysql.events import Position

        try:
            b = self.decoder.parse(m.value, Position(self.cfg.kafka.topic, self.cfg.kafka.partition, m.offset))
        except ValueError:
            return False  # let the pipeline decode it and dead-letter it with its error
        if b.type != pb.DML or not sum(self.decoder.mutation_counts(b)):
            return False
        log.info("offset %d: large transaction (%d bytes, %d row changes) decoded in slices of %d",
                 m.offset, len(m.value), sum(self.decoder.mutation_counts(b)), self.s.slice_rows)
        self.slicer = MessageSlicer(m.offset, b, self.decoder.mutation_counts(b), self.s.slice_rows)
        if m.commit_ts is not None and m.commit_ts > self.last_ts:
            self.last_ts = m.commit_ts
        return True

    def _next_slice(self):
        sl = self.slicer.next_slice()
        if self.slicer.done:
            self.reader.assign(self.slicer.offset + 1)
            self.slicer = None
        return sl

    def next_awake(self):
        if self.pending or self.slicer is not None:
            return None
        # Poll Kafka (non-blocking) about every 5 ms when idle, without busy-looping the worker.
        return datetime.now(timezone.utc) + timedelta(milliseconds=5 if not self.draining else 50)

    def snapshot(self):
        # While a large message is being handed out, resume re-reads it from its first slice
        # (shards skip the positions they already have).
        return self.slicer.offset if self.slicer is not None else self.reader.position

    def close(self):
        self.reader.close()
        self.conn.close()


class DrainerSource(FixedPartitionedSource):
    def __init__(self, cfg):
        self.cfg = cfg

    def list_parts(self):
        return [str(self.cfg.kafka.partition)]

    def build_part(self, step_id, for_part, resume_state):
        return DrainerPartition(self.cfg, resume_state)


class _Services:
    """Per-process, lazily built: the pipeline (on the reading worker) and shard contexts."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.s = incremental_settings(cfg)
        self.lock = threading.Lock()
        self._pipeline: Optional[Pipeline] = None
        self._ctx: Optional[ShardContext] = None

    def connect(self, autocommit: bool = True, **kw):
        return db.connect(self.cfg.target, autocommit=autocommit, **kw)

    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            cfg = self.cfg
            dl_conn = ReconnectingConnection(lambda: self.connect(True), "dead-letter write")

            def dead_letter(letters):
                dl_conn.run(lambda c: deadletter.write(c, cfg.job.meta_schema, cfg.job.name, letters))
                for letter in letters:
                    METRICS.inc("dead_letters_total", kind=getattr(letter, "kind", "decode"))

            sel = Selection.from_config(cfg)
            self._pipeline = Pipeline(
                Decoder(cfg.drainer.time_zone), Router(self.s.shards), cfg.kafka.topic, cfg.kafka.partition,
                -1, dead_letter, strict=self.s.strict, watermark_interval=self.s.watermark_interval_ms / 1000,
                selector=select_all if sel.is_identity else EventSelector(sel),
            )
        return self._pipeline

    def shard_context(self) -> ShardContext:
        with self.lock:
            if self._ctx is None:
                cfg = self.cfg
                cps = Checkpoints(cfg.job.meta_schema, cfg.job.name)
                translate = make_translator(cfg, self.connect)
                sel = Selection.from_config(cfg)
                if not sel.is_identity:
                    translate = selecting_translator(sel, translate)
                coord = DDLCoordinator(cps, self.s.shards, translate, strict=self.s.strict)
                self._ctx = ShardContext(self.s, cps, coord, self.connect)
            return self._ctx


def _decode_route(services: _Services):
    def step(items):
        p = services.pipeline()
        out = []
        for it in items:
            if isinstance(it, _Start):
                p.redelivery = type(p.redelivery)(it.skip_through_ts)
                p.last_ts = max(p.last_ts, it.skip_through_ts)
            else:
                out.append(it)
        return list(p.process(out))

    return step


class ShardLogic(StatefulBatchLogic):
    """Thin Bytewax adapter around :class:`ShardApplier`."""

    def __init__(self, services: _Services, resume: Optional[bytes]):
        self.services = services
        self.applier: Optional[ShardApplier] = None
        if resume is not None:
            self.applier = ShardApplier(services.shard_context(), pickle.loads(resume))

    def _ensure(self, shard: int) -> ShardApplier:
        if self.applier is None:
            self.applier = ShardApplier(self.services.shard_context(), ShardState(shard))
        return self.applier

    def on_batch(self, values):
        a = self._ensure(values[0][0])
        return a.on_batch([v[1] for v in values]), StatefulBatchLogic.RETAIN

    def on_notify(self):
        return (self.applier.on_notify() if self.applier else []), StatefulBatchLogic.RETAIN

    def on_eof(self):
        return (self.applier.on_eof() if self.applier else []), StatefulBatchLogic.RETAIN

    def notify_at(self):
        return self.applier.notify_at() if self.applier else None

    def snapshot(self):
        # Frozen now, as bytes: the state keeps changing after this call, and Bytewax may
        # serialize the snapshot later.
        return pickle.dumps(self.applier.snapshot(), protocol=pickle.HIGHEST_PROTOCOL) if self.applier else None


class _ProgressPartition(StatelessSinkPartition):
    def __init__(self, worker_index: int):
        self.progress = ProgressLog(worker_index)

    def write_batch(self, items):
        for _key, report in items:
            self.progress.add(report)
            record_flush(report)
        self.progress.maybe_log()

    def close(self):
        self.progress.maybe_log(force=True)


class ProgressSink(DynamicSink):
    def build(self, step_id, worker_index, worker_count):
        return _ProgressPartition(worker_index)


def build_flow(cfg) -> Dataflow:
    s = incremental_settings(cfg)
    conn = db.connect(cfg.target, autocommit=True)
    try:
        forced = fencing.check_may_write(conn, cfg.job.meta_schema, cfg.job.name, s.force)  # JobFenced
        if forced:
            log.warning("%s", forced)
        ensure_meta(conn, cfg.job.meta_schema)
        fencing.JobControl(cfg.job.meta_schema, cfg.job.name).ensure(conn)
        initial = (s.start_commit_ts, MAX_SEQ)
        Checkpoints(cfg.job.meta_schema, cfg.job.name).ensure_shards(conn, s.shards, initial)
    finally:
        conn.close()
    services = _Services(cfg)
    flow = Dataflow("tidb2mysql_incremental")
    raw = op.input("drainer", flow, DrainerSource(cfg))
    routed = op.flat_map_batch("decode_route", raw, _decode_route(services))
    applied = op.stateful_batch("apply", routed, lambda resume: ShardLogic(services, resume))
    reports = op.flat_map("reports", applied, lambda kv: [kv[1]] if kv[1] is not None else [])
    op.output("progress", op.key_on("by_shard", reports, lambda r: str(r.shard)), ProgressSink())
    return flow


def _process_index(argv: list[str]) -> int:
    """This process's Bytewax ``-i``/``--process-id`` (0 when run alone)."""
    for i, a in enumerate(argv):
        if a in ("-i", "--process-id") and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--process-id="):
            return int(a.split("=", 1)[1])
    return 0


def _flow_from_env() -> Dataflow:
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = config_mod.load()
    try:
        built = build_flow(cfg)
    except fencing.JobFenced as e:
        log.error("%s", e)
        sys.exit(3)
    shutdown.install()  # SIGTERM/SIGINT -> drain and exit 0 (the source polls the flag)
    ms = metrics_settings(cfg)
    if ms.port:
        serve_metrics(ms.bind, ms.port + _process_index(sys.argv))
    return built


flow = _flow_from_env()
