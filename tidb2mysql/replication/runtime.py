"""The incremental flow's runtime pieces that Bytewax calls into (flows/incremental.py).

* :class:`SourceLoop`: what the Bytewax source partition does (start position, polling,
  slicing, stop requests, draining).
* :class:`Services`: per-process, lazily built shared services: the decode/route pipeline on
  the reading worker and the shard context (checkpoints, DDL coordinator, connections).
* :func:`decode_route_step`: the ``flat_map_batch`` function of the "decode_route" step.

Plain Python: no Bytewax types here, so the flow module stays wiring only.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Optional

from tidb2mysql import db
from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.kafka_settings import consumer_config
from tidb2mysql.ops import fencing, shutdown
from tidb2mysql.ops.metrics import METRICS
from tidb2mysql.ops.settings import metrics_settings
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.barrier import DDLCoordinator
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.ddl_seam import make_translator
from tidb2mysql.replication.pipeline import EndOfInput, Pipeline, Tick, select_all
from tidb2mysql.replication.retry import ReconnectingConnection
from tidb2mysql.replication.route import MAX_SEQ, Router
from tidb2mysql.replication.settings import incremental_settings
from tidb2mysql.replication.shard import ShardContext
from tidb2mysql.replication.source import MessageSlicer, TopicReader, last_commit_ts_before, resolve_start
from tidb2mysql.selection.ddl import selecting_translator
from tidb2mysql.selection.engine import Selection
from tidb2mysql.selection.events import EventSelector

log = logging.getLogger("tidb2mysql.incremental")


class _Start:
    """First item of a run: tells the pipeline which commit_ts are already applied."""

    def __init__(self, skip_through_ts: int):
        self.skip_through_ts = skip_through_ts


class SourceLoop:
    """The reading side of the flow: Kafka partition 0 -> raw messages and control items.

    Decides the start position, polls without blocking the worker, hands large transactions
    out in slices, watches graceful-stop and cut-over requests, and at the end of a bounded
    run drains (waits until every shard's checkpoint covers the last commit_ts). The Bytewax
    source partition in flows/incremental.py is this class plus Bytewax's base class.

    The stop target of a bounded run (and of a graceful stop or cut-over) is ``last_ts``: the
    highest commit_ts read so far, counting the messages an earlier run read before a restored
    position (kept in the snapshot as ``(offset, last_ts)``; for a snapshot holding the offset
    only, the commit_ts of the last message before it). With ``stop_at_ts`` it is
    ``min(stop_at_ts, last_ts)``. The run ends when every shard's checkpoint is at or after
    ``(target, MAX_SEQ)``.
    """

    def __init__(self, cfg, resume_state):
        self.cfg = cfg
        self.s = incremental_settings(cfg)
        self.conn = ReconnectingConnection(lambda: db.connect(cfg.target, autocommit=True), "source: target query")
        self.checkpoints = Checkpoints(cfg.job.meta_schema, cfg.job.name)
        self.reader = TopicReader(consumer_config(cfg.kafka), cfg.kafka.topic, cfg.kafka.partition)
        decoder = self.decoder = Decoder(cfg.drainer.time_zone)
        self.slicer: Optional[MessageSlicer] = None
        self.ts_before_slicer = 0  # last_ts before the message being sliced was read
        restored_ts = 0  # highest commit_ts read before the start offset by earlier runs
        if resume_state is not None:
            offset, restored_ts = self._restored_position(resume_state)
            skip, why = -1, f"Bytewax recovery snapshot; read before it: through commit_ts {restored_ts}"
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
        self.last_ts = max(skip, 0, restored_ts)
        self.stop_ts: Optional[int] = None  # the drain target, once draining
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
            ts = self.stop_ts
            done = self.conn.run(lambda c: self.checkpoints.count_at_or_after(c, (ts, MAX_SEQ)))
            if done >= self.s.shards:
                log.info("all shards applied everything through commit_ts %d; stopping", ts)
                if self.stop_reason == "cut-over":
                    self.conn.run(lambda c: self.control.mark_stopped(c, f"drained through commit_ts {ts}"))
                raise StopIteration()
            return []
        self._poll_stop_requests()
        if self.slicer is not None:
            return [self._next_slice()]
        if self.stop_reason == "signal":
            return self._end_input()
        if self.s.stop_at_ts and self.last_ts >= self.s.stop_at_ts:
            self.stopped_at_ts = True  # e.g. a restored position already beyond it: read no further
            return self._end_input()
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
            # Every message read counts, also one that will be dead-lettered or filtered.
            if m.commit_ts is not None and m.commit_ts > self.last_ts:
                self.last_ts = m.commit_ts
        if msgs:
            return msgs
        if self.s.stop_at_ts and self.last_ts >= self.s.stop_at_ts:
            self.stopped_at_ts = True
        at_end_stop = self.s.stop_at_end or self.stop_reason == "cut-over"
        if self.stopped_at_ts or (at_end_stop and self.reader.at_end):
            return self._end_input()
        now = time.monotonic()
        if now - self.last_tick >= self.s.watermark_interval_ms / 1000:
            self.last_tick = now
            return [Tick()]
        return []

    def _end_input(self) -> list:
        """Start draining: a forced watermark at the stop target to every shard (pipeline.py)."""
        ts = self.last_ts
        if self.s.stop_at_ts:
            ts = min(ts, self.s.stop_at_ts)
        self.draining = True
        self.stop_ts = ts
        log.info("input ends (%s) at offset %s: waiting until every shard applied everything through commit_ts %d",
                 self.stop_reason or ("stop_at_ts" if self.stopped_at_ts else "stop_at_end"), self.reader.position, ts)
        return [EndOfInput(ts)]

    def _restored_position(self, state) -> tuple[int, int]:
        """(offset, highest commit_ts read before it) from a Bytewax snapshot of this source.

        Snapshots are ``(offset, last_ts)``; older versions kept the offset only, and then the
        commit_ts of the last message before it (that has one) is read from the topic.
        """
        if isinstance(state, (tuple, list)):
            return int(state[0]), int(state[1])
        offset = int(state)
        topic, part = self.cfg.kafka.topic, self.cfg.kafka.partition

        def parsed_ts(v: bytes) -> Optional[int]:
            from tidb2mysql.events import Position

            try:
                return self.decoder.parse(v, Position(topic, part, -1)).commit_ts
            except ValueError:
                return None

        ts = last_commit_ts_before(self.reader, offset, parsed_ts)
        if ts is None:
            # Nothing readable before the offset (empty, deleted by retention, undecodable):
            # at least what the most advanced shard recorded must be applied by every shard.
            cps = self.conn.run(self.checkpoints.load_all)
            ts = max((c.position[0] for c in cps), default=0)
            if offset > 0:
                log.warning("restored offset %d: no readable message before it; the stop target is at least the"
                            " highest shard checkpoint, commit_ts %d", offset, ts)
        return offset, max(ts, 0)

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
        self.ts_before_slicer = self.last_ts
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
        # (shards skip the positions they already have). The commit_ts is the highest of the
        # messages before the offset, all routed completely: a restored run's stop target
        # (see the class docstring). A half-routed large message does not count: a stop right
        # after the restore would otherwise checkpoint past its unrouted rows.
        if self.slicer is not None:
            return (self.slicer.offset, self.ts_before_slicer)
        return (self.reader.position, self.last_ts)

    def close(self):
        self.reader.close()
        self.conn.close()


class Services:
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
                target_name = (lambda db, table: (db, table))
                if not sel.is_identity:
                    translate = selecting_translator(sel, translate)
                    target_name = sel.map_table
                coord = DDLCoordinator(cps, self.s.shards, translate, strict=self.s.strict,
                                       lock_wait_timeout=self.s.ddl_lock_wait_seconds, target_name=target_name)
                self._ctx = ShardContext(self.s, cps, coord, self.connect)
            return self._ctx


def decode_route_step(services: "Services"):
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
