"""The incremental flow's runtime pieces that Bytewax calls into (flows/incremental.py).

* :class:`SourceLoop`: what the Bytewax source partition of one process does (start position,
  polling, slicing, decode and route to the process's own shards, stop requests, draining).
* :func:`make_pipeline`: a reader's decode -> select -> route pipeline.
* :class:`Services`: per-process, lazily built shared services: the shard context
  (checkpoints, DDL coordinator, connections).

Plain Python: no Bytewax types here, so the flow module stays wiring only.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import threading
import time
from typing import Any, Callable, Optional

from tidb2mysql import failpoints
from tidb2mysql.errors import INTERNAL, Tidb2MysqlError, message
from tidb2mysql.mysql import db
from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.kafka_settings import consumer_config
from tidb2mysql.ops import fencing, shutdown
from tidb2mysql.ops.metrics import METRICS
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.barrier import DDLCoordinator
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.ddl_seam import make_translator, selecting_translator
from tidb2mysql.replication.pipeline import EndOfInput, Pipeline, Tick, select_all
from tidb2mysql.mysql.retry import ReconnectingConnection
from tidb2mysql.replication.route import MAX_SEQ, Router, coalesce
from tidb2mysql.replication.shard import ShardContext
from tidb2mysql.replication.backlog import READER_CLIENT, Backlog, charge
from tidb2mysql.replication.change import ShardChunk
from tidb2mysql.replication.source import MessageSlicer, RawMessage, TopicReader, TxnSlice, next_poll, resolve_start
from tidb2mysql.selection.engine import Selection
from tidb2mysql.selection.events import EventSelector

log = logging.getLogger("tidb2mysql.incremental")


# The most polls of ``source_batch`` messages one step reads (SourceLoop.next_batch): enough
# for a process that applies a quarter of the topic (-p 4) to fill its steps.
MAX_POLLS_PER_STEP = 4


def step_wants_more(polls: int, full: bool, owned_rows: int, first_poll_rows: int) -> bool:
    """Whether a source step reads another poll: only while every poll so far came back full
    (more is waiting: a step never waits for input), fewer than :data:`MAX_POLLS_PER_STEP`
    were read, and the step's row changes for this process's shards are still fewer than
    all the row changes of its first poll (what a process owning every row applies per
    step)."""
    return full and polls < MAX_POLLS_PER_STEP and owned_rows < first_poll_rows


def report_stop(what: str, e: BaseException) -> None:
    """Log, once per exception, ``what: <type> (<category>): <message>`` for an exception ``e``
    that is about to stop the flow (the caller re-raises it).

    Why: Bytewax reports an exception raised in a process of a ``-p 2`` cluster only as "Send
    thread panic: Any { .. }" from each process (the cause is lost in the cluster's teardown),
    and with ``-w 1`` at the bottom of a long Rust/Python chain. So every callback of the
    flows logs the cause first (:func:`reporting`, :func:`reported_start`): a strict-mode
    decode error names its offset with any number of processes. Errors tidb2mysql raises on
    purpose (bad input, a refusing target, settings) are one line with their category;
    anything else comes with its traceback.
    """
    if getattr(e, "_t2m_reported", False):
        return
    try:
        e._t2m_reported = True  # type: ignore[attr-defined]
    except AttributeError:  # pragma: no cover - exceptions with __slots__
        pass
    if isinstance(e, Tidb2MysqlError) and e.category != INTERNAL:
        log.error("%s: %s (%s): %s", what, type(e).__name__, e.category, message(e))
    else:
        log.error("%s: %s: %s", what, type(e).__name__, message(e), exc_info=e)


def reporting(what: Callable[[Any], str]):
    """Decorate a Bytewax callback method: an exception leaving it (not ``StopIteration``, a
    source's normal end) is logged by :func:`report_stop` as ``what(self)`` and re-raised."""

    def wrap(method):
        @functools.wraps(method)
        def call(self, *args):
            try:
                return method(self, *args)
            except StopIteration:
                raise
            except Exception as e:
                report_stop(what(self), e)
                raise

        return call

    return wrap


@contextlib.contextmanager
def reported_start(what: str):
    """:func:`report_stop` for a reader Bytewax is building (``what`` could not start).

    Errors the flow can foresee are raised before the build, with exit code 2 (a missing topic,
    a wrong password: flows/incremental.py); this is for the rest (a target that refuses a
    query, a failpoint).
    """
    try:
        yield
    except Exception as e:
        report_stop(f"{what} could not start", e)
        raise


class SourceLoop:
    """The reading side of the flow for ONE process: Kafka partition 0 -> routed shard items.

    Every process of the cluster runs one reader (on its first worker) that reads the whole
    Drainer partition, decodes it and routes only to the shards whose Bytewax state keys live
    on this process's workers (``owned``): no row ever crosses a process boundary, and adding a
    process adds a reader and a decoder instead of a pickling hop (docs/architecture.md,
    "Scaling"). Coordination between processes goes through the target only (checkpoints, the
    DDL barrier).

    Decides the start position from the target checkpoints of the owned shards (the truth
    about what is applied; Bytewax snapshots only the shards' pending state), polls without
    blocking the worker, hands large transactions out in slices, watches graceful-stop and
    cut-over requests, and at the end of a bounded run drains.

    The stop target of a bounded run (and of a graceful stop or cut-over) is ``last_ts``: the
    highest commit_ts decoded and routed completely (also of a message the selection filtered
    or a redelivery; not of one that failed to decode: its bytes cannot be trusted); with
    ``stop_at_ts`` it is ``min(stop_at_ts, last_ts)``. The reader ends when
    every owned shard's checkpoint is at or after ``(target, MAX_SEQ)``. A cut-over also needs
    every shard of the job there, at the end of the topic: a reader that drained its own
    shards keeps reading while the topic grows, and whoever sees all shards at the end marks
    the job stopped.
    """

    def __init__(self, cfg, owned: list[int], process: int = 0, backlog: Optional[Backlog] = None):
        self.cfg = cfg
        self.s = cfg.incremental
        self.owned = list(owned)
        self.process = process
        self.backlog = backlog or Backlog(self.s.backlog_bytes)
        self.paused = False
        self.got_input = False  # the last batch read something: read again at once (next_awake)
        if failpoints.ENABLED:
            failpoints.hit("source.start", process)
        self.conn = ReconnectingConnection(lambda: db.connect(cfg.target, autocommit=True), "source: target query")
        self.checkpoints = Checkpoints(cfg.job.meta_schema, cfg.job.name)
        self.reader = TopicReader(reader_client_config(cfg.kafka), cfg.kafka.topic, cfg.kafka.partition)
        decoder = self.decoder = Decoder(cfg.drainer.time_zone)
        self.slicer: Optional[MessageSlicer] = None
        self.slice_bytes = 0  # wire bytes of one slice of the large message being sliced
        start = resolve_start(
            self.reader,
            self.conn.run(lambda c: self.checkpoints.min_position(c, self.s.shards, self.owned)),
            self.s.start_commit_ts,
            lambda v: decoder.decode(v, None).commit_ts,
        )
        log.info("process %d reads %s partition %d from offset %d (%s) for shards %s", process, cfg.kafka.topic,
                 cfg.kafka.partition, start.offset, start.reason, self.owned)
        self.reader.assign(start.offset)
        routing = self.conn.run(self.checkpoints.routing)  # the job's rule, for its life (route.py)
        self.pipeline = make_pipeline(cfg, self.owned, start.skip_through_ts, decoder, routing)
        self.last_ts = max(start.skip_through_ts, 0)
        self.stop_ts: Optional[int] = None  # the drain target, once draining
        self.last_tick = time.monotonic()
        self.draining = False
        self.stopped_at_ts = False
        # Graceful stop (SIGTERM/SIGINT) and cut-over requests (target job_control row).
        self.control = fencing.JobControl(cfg.job.meta_schema, cfg.job.name)
        self.next_control_poll = 0.0
        self.stop_reason: Optional[str] = None
        ms = cfg.metrics
        self.lag_interval = ms.kafka_lag_interval if ms.port else 0.0
        self.next_lag = 0.0

    def next_batch(self) -> list:
        """Routed ``(shard_key, (shard, item))`` pairs for the apply step (maybe none).

        One step reads one poll of up to ``source_batch`` messages, and more polls while
        :func:`step_wants_more` says so: a process that applies only part of the topic (``-p
        2``) reads on until the step carries about as many row changes for its own shards as
        its first poll carried in all. Why: the per-step costs (a Bytewax step, each shard's
        ``on_batch``, a flush once a shard is full) were paid per half as many applied rows as
        at ``-w 1``. Measured (docs/performance.md): ``-p 2`` inserts 4.6 % faster with this
        rule, the other workloads unchanged; larger steps for every process made the mix at
        ``-w 1`` 4-7 % slower (its writers get their rows later). A process that owns every
        row stops after one poll: ``-w 1`` behaves as before.
        """
        out: list = []
        got_input = False
        polls = owned_rows = first_poll_rows = 0
        while True:
            raw = self._read()
            polls += 1
            got_input = got_input or any(isinstance(r, (RawMessage, TxnSlice)) for r in raw)
            seen = self.pipeline.rows_seen
            items = list(self.pipeline.process(raw))
            # The stop target counts what was decoded and routed (also what the selection filtered
            # or a redelivery repeated), never the commit_ts bytes of a message that failed to
            # decode: garbage that looks like a far-future TSO must not move any checkpoint.
            if self.pipeline.last_ts > self.last_ts:
                self.last_ts = self.pipeline.last_ts
            sizes = {r.offset: len(r.value) for r in raw if isinstance(r, RawMessage)}
            for r in raw:
                if isinstance(r, TxnSlice):
                    sizes[r.offset] = self.slice_bytes
            if sizes:
                charge(items, sizes, self.backlog)
            out += items
            if polls == 1:
                first_poll_rows = self.pipeline.rows_seen - seen
            full = len(raw) == self.s.source_batch and raw[-1].__class__ is RawMessage
            chunks_only = True
            for _key, (_s, it) in items:
                if it.__class__ is ShardChunk:
                    owned_rows += len(it.changes)
                else:
                    chunks_only = False  # a barrier or watermark: end the step with it
            if not step_wants_more(polls, full and chunks_only, owned_rows, first_poll_rows):
                break
        self.got_input = got_input
        return coalesce(out)

    def _read(self) -> list:
        if self.draining:
            return self._drain()
        self._poll_stop_requests()
        if self.backlog.full and self.stop_reason != "signal":
            if not self.paused:
                self.paused = True
                log.debug("process %d: %d bytes routed and not applied: pausing Kafka", self.process,
                          self.backlog.bytes)
            return []  # the shards catch up on their timers; the pipeline keeps sending watermarks
        self.paused = False
        if self.slicer is not None:
            return [self._next_slice()]
        if self.stop_reason == "signal":
            return self._end_input()
        if self.s.stop_at_ts and self.last_ts >= self.s.stop_at_ts:
            self.stopped_at_ts = True  # e.g. a restart whose checkpoints are already beyond it
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

    def _drain(self) -> list:
        ts = self.stop_ts
        own = self.conn.run(lambda c: self.checkpoints.count_at_or_after(c, (ts, MAX_SEQ), self.owned))
        if own < len(self.owned):
            return []
        if self.stop_reason == "cut-over":
            if not self.reader.caught_up():
                self.draining = False  # the topic grew after the end was decided: read on to its new end
                return []
            every = self.conn.run(lambda c: self.checkpoints.count_at_or_after(c, (ts, MAX_SEQ)))
            if every < self.s.shards:
                return []  # another process's shards are not there yet
            self.conn.run(lambda c: self.control.mark_stopped(c, f"drained through commit_ts {ts}"))
        log.info("process %d: shards %s applied everything through commit_ts %d; stopping", self.process,
                 self.owned, ts)
        raise StopIteration()

    def _end_input(self) -> list:
        """Start draining: a forced watermark at the stop target to every owned shard (pipeline.py)."""
        ts = self.last_ts
        if self.s.stop_at_ts:
            ts = min(ts, self.s.stop_at_ts)
        self.draining = True
        self.stop_ts = ts
        log.info("input ends (%s) at offset %s: waiting until shards %s applied everything through commit_ts %d",
                 self.stop_reason or ("stop_at_ts" if self.stopped_at_ts else "stop_at_end"), self.reader.position,
                 self.owned, ts)
        return [EndOfInput(ts)]

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
        from tidb2mysql.events import KafkaPosition

        try:
            b = self.decoder.parse_large(m.value, KafkaPosition(self.cfg.kafka.topic, self.cfg.kafka.partition, m.offset))
        except ValueError:
            return False  # let the pipeline decode it and dead-letter it with its error
        if b.type != pb.DML or not sum(self.decoder.mutation_counts(b)):
            return False
        log.info("offset %d: large transaction (%d bytes, %d row changes) decoded in slices of %d",
                 m.offset, len(m.value), sum(self.decoder.mutation_counts(b)), self.s.slice_rows)
        self.slicer = MessageSlicer(m.offset, b, self.decoder.mutation_counts(b), self.s.slice_rows)
        self.slice_bytes = len(m.value) * self.s.slice_rows // max(1, sum(self.decoder.mutation_counts(b)))
        return True

    def _next_slice(self):
        sl = self.slicer.next_slice()
        if self.slicer.done:
            self.reader.assign(self.slicer.offset + 1)
            self.slicer = None
        return sl

    def next_awake(self):
        if self.slicer is not None:
            return None  # the large message's next slice is ready now
        if self.draining:
            return next_poll(False, 50)  # waiting for the shards' checkpoints: poll the target less often
        return next_poll(self.got_input and not self.paused)

    def close(self):
        self.pipeline.redeliveries.close()
        self.reader.close()
        self.conn.close()


def tune_gc() -> None:
    """Fewer cyclic garbage collections in a flow process (called once, after start-up).

    Why: the hot path allocates several container objects per row change (row tuples,
    ``Change``, lists) that live until their flush; CPython's default first threshold (700
    allocations) ran the collector over them again and again (``gc_collect_main`` was ~5 % of
    a ``-p 2`` process's native samples, py-spy ``--native``). They hardly ever form cycles:
    reference counting frees them. ``gc.freeze`` moves what start-up built (modules,
    configuration, compiled regexes) out of the collector's sight for good."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def reader_client_config(kafka) -> dict:
    """The reader's consumer settings: bounded prefetch (backlog.py) unless ``[kafka] client``
    sets those keys itself."""
    conf = consumer_config(kafka)
    own = kafka.client_config()
    conf.update({k: v for k, v in READER_CLIENT.items() if k not in own})
    return conf


def make_pipeline(cfg, owned: list[int], skip_through_ts: int, decoder: Decoder, routing: str) -> Pipeline:
    """The decode -> select -> route pipeline of one reader, routing to its ``owned`` shards
    under the job's ``routing`` rule (``Checkpoints.routing``)."""
    s = cfg.incremental
    dl_conn = ReconnectingConnection(lambda: db.connect(cfg.target, autocommit=True), "dead-letter write")

    def dead_letter(letters):
        dl_conn.run(lambda c: deadletter.write(c, cfg.job.meta_schema, cfg.job.name, letters))
        for letter in letters:
            METRICS.inc("dead_letters_total", kind=getattr(letter, "kind", "decode"))

    sel = Selection.from_config(cfg)
    return Pipeline(
        decoder, Router(s.shards, owned, routing), cfg.kafka.topic, cfg.kafka.partition, skip_through_ts, dead_letter,
        strict=s.strict, watermark_interval=s.watermark_interval_ms / 1000,
        selector=select_all if sel.is_identity else EventSelector(sel),
    )


class Services:
    """Per-process, lazily built: the shard context shared by the shards of every worker."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.s = cfg.incremental
        self.lock = threading.Lock()
        self._ctx: Optional[ShardContext] = None
        self.backlog = Backlog(self.s.backlog_bytes)  # shared by the reader and the shards

    def connect(self, autocommit: bool = True, **kw):
        return db.connect(self.cfg.target, autocommit=autocommit, **kw)

    def shard_context(self) -> ShardContext:
        with self.lock:
            if self._ctx is None:
                cfg = self.cfg
                cps = Checkpoints(cfg.job.meta_schema, cfg.job.name)
                translate = make_translator(cfg, self.connect)
                sel = Selection.from_config(cfg)
                target_name = (lambda db, table: (db, table))  # noqa: E731 - the identity mapping, replaced below
                if not sel.is_identity:
                    translate = selecting_translator(sel, translate)
                    target_name = sel.map_table
                coord = DDLCoordinator(cps, self.s.shards, translate, strict=self.s.strict,
                                       lock_wait_timeout=self.s.ddl_lock_wait_seconds, target_name=target_name)
                self._ctx = ShardContext(self.s, cps, coord, self.connect, backlog=self.backlog)
            return self._ctx
