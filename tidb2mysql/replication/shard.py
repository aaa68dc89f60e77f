"""One shard of the apply path: merge, flush, checkpoint, and the DDL barrier.

A :class:`ShardApplier` is the logic behind one Bytewax state key. The Bytewax wrapper
(``flows/incremental.py``) only forwards ``on_batch`` / ``on_notify`` / ``on_eof`` /
``notify_at`` / ``snapshot`` to it.

State that Bytewax snapshots (:class:`ShardState`): the merged pending changes, the highest
stream position received, the input held behind a DDL barrier. The target checkpoint is
*not* snapshotted: it is read from the target when the shard is built, because the target is
the truth about what was applied (a flush after the last snapshot already moved it).

Stream positions are ``(commit_ts, seq)``; anything at or below the target checkpoint or the
highest position received is a replay or a Drainer redelivery and is skipped.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from pymysql.constants.CLIENT import FOUND_ROWS

from tidb2mysql import failpoints
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.backlog import Backlog
from tidb2mysql.replication.barrier import DDLCoordinator, DDLStopped
from tidb2mysql.replication.change import Barrier, ShardChunk, ShardChunks, StreamPos, Watermark
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.mysql.errors import error_code, is_transient
from tidb2mysql.mysql.retry import MAX_BACKOFF, retry_transient, root_cause
from tidb2mysql.mysql.session import prepare_session
from tidb2mysql.replication.merge import RowMerger
from tidb2mysql.replication.route import MAX_SEQ, SPREAD_UNIQUE
from tidb2mysql.config.incremental import IncrementalConfig
from tidb2mysql.mysql.target_schema import TargetTables
from tidb2mysql.replication.unique_handoff import HandoffScope, UniqueHandoffs
from tidb2mysql.replication.writer import BatchWriter, WriteError, divergence_text

log = logging.getLogger(__name__)

# Deadlocks (two shards' flushes locking rows of one table in opposite orders: a unique value
# moving between their rows, replication/unique_handoff.py) are retried at once this many times
# on the same connection before the usual backoff-and-reconnect of transient errors.
DEADLOCK_RETRIES = 5
ER_LOCK_DEADLOCK = 1213

# How many full batches (``batch_rows``) a shard may hold while its previous flush is in flight
# before the worker waits for that flush: the pending rows of a shard stay under this many
# batches (plus one input chunk), and the reader's byte budget bounds them all together.
FULL_BATCHES_BEFORE_WAIT = 2

ZERO: StreamPos = (0, -2)


@dataclass
class ShardState:
    """What Bytewax snapshots for one shard (must stay picklable)."""

    shard: int
    merger: RowMerger = field(default_factory=RowMerger)
    received: StreamPos = ZERO
    received_offset: int = -1
    held: list = field(default_factory=list)  # items that arrived while waiting at a barrier
    waiting: Optional[Barrier] = None
    pending_bytes: int = 0  # wire bytes of the merged changes not flushed yet (backlog.py)


@dataclass
class FlushReport:
    """Emitted downstream after every flush, for progress, delay and metrics."""

    shard: int
    rows: int  # changes merged into this flush
    statements: int
    first: StreamPos
    last: StreamPos
    seconds: float
    dead_letters: int = 0
    skipped_replays: int = 0
    ddl: Optional[str] = None
    # table -> {upsert, insert, delete, update: rows sent}, for metrics (None if not known)
    table_ops: Optional[dict] = None
    ddl_status: Optional[str] = None  # ddl_history.status of a released DDL, for metrics


@dataclass
class ShardContext:
    """Per-process services shared by the shards of a worker (not snapshotted)."""

    settings: IncrementalConfig
    checkpoints: Checkpoints
    coordinator: DDLCoordinator
    connect: Callable[..., Any]  # connect(autocommit: bool) -> pymysql connection
    clock: Callable[[], float] = time.monotonic
    backlog: Backlog = field(default_factory=lambda: Backlog(1 << 62))  # the process's byte budget


class ShardApplier:
    def __init__(self, ctx: ShardContext, state: ShardState):
        self.ctx = ctx
        self.s = ctx.settings
        self.st = state
        self.shard = state.shard
        self._conn = None
        self._coord_conn = None
        self.target_tables: Optional[TargetTables] = None
        self.writer: Optional[BatchWriter] = None
        self.cp: StreamPos = self._load_checkpoint()
        m = state.merger
        if not m.is_empty and m.last_position <= self.cp:
            # A flush after the restored snapshot already applied these.
            log.info("shard %d: restored pending changes up to %s are already applied (checkpoint %s)",
                     self.shard, m.last_position, self.cp)
            state.merger = RowMerger()
            state.pending_bytes = 0
        ctx.backlog.add(state.pending_bytes)  # a new process: the restored changes count again
        if state.received < self.cp:
            state.received = self.cp
        self.last_input = ctx.clock()
        self.next_poll: Optional[float] = None
        self.cp_dirty = False
        self.last_cp_write = ctx.clock()
        self.skipped = 0
        self.barrier_backoff = 0.0  # grows while a DDL is blocked by transient errors
        self.last_ddl_ts = 0  # commit_ts of the last DDL this shard passed (failpoint keys)
        self._quarantined: Optional[set] = None  # target tables whose changes are parked, lazily read
        self._handoff: Any = None  # UniqueHandoffs, False (the job's rule does not spread), None (not read yet)
        if state.waiting is not None:
            self.next_poll = ctx.clock()
        # The flush in flight on the writer thread (overlap_apply), and reports of flushes
        # that finished while no callback could hand them out (snapshot, checkpoint writes).
        self._writer: Optional[ThreadPoolExecutor] = None
        self._inflight: Optional[_InFlight] = None
        self._finished: list[FlushReport] = []

    # -- connections ---------------------------------------------------------------------

    def conn(self):
        if self._conn is None:
            load_rows = self.s.load_rows
            c = (self.ctx.connect(autocommit=False, client_flag=FOUND_ROWS, local_infile=True) if load_rows
                 else self.ctx.connect(autocommit=False, client_flag=FOUND_ROWS))
            prepare_session(c)
            self._conn = c
            self.target_tables = TargetTables(lambda: self.coord_conn())
            self.writer = BatchWriter(c, self.target_tables, load_rows=load_rows)
        return self._conn

    def coord_conn(self):
        if self._coord_conn is None:
            self._coord_conn = self.ctx.connect(autocommit=True)
        return self._coord_conn

    def _reset_connections(self) -> None:
        for c in (self._conn, self._coord_conn):
            try:
                if c is not None:
                    c.close()
            except Exception:  # noqa: BLE001 - closing a connection that is already broken
                pass
        self._conn = self._coord_conn = None
        self.writer = None
        self.target_tables = None

    def _with_retry(self, what: str, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` and retry transient failures (target restart, lost connection)."""
        return retry_transient(fn, f"shard {self.shard}: {what}", on_retry=self._reset_connections,
                               retry_seconds=self.s.retry_seconds, clock=self.ctx.clock)

    def _load_checkpoint(self) -> StreamPos:
        pos = self._with_retry("reading checkpoint", lambda: self.ctx.checkpoints.load(self.coord_conn(), self.shard))
        if pos is None:
            raise RuntimeError(f"shard {self.shard}: no checkpoint row; the flow must create them at start")
        return pos

    # -- Bytewax callbacks -----------------------------------------------------------------

    def on_batch(self, items: list) -> list[FlushReport]:
        out = self._reports()
        for item in items:
            if self.st.waiting is not None:
                self.st.held.append(item)
            else:
                self._process(item, out)
        m = self.st.merger
        if m.pending_rows >= self.s.batch_rows:
            # A full batch waits for this shard's flush in flight only when a second batch has
            # filled up behind it (the backpressure); before that the worker goes on decoding
            # for the other shards and on_notify starts this flush once that one has committed.
            job = self._inflight
            if job is None or job.future.done() or m.pending_rows >= FULL_BATCHES_BEFORE_WAIT * self.s.batch_rows:
                self.flush(out)
        return out

    def on_notify(self) -> list[FlushReport]:
        out = self._reports()
        if self._inflight is not None and self._inflight.future.done():
            self._settle(out)
        now = self.ctx.clock()
        if self.st.waiting is not None and (self.next_poll is None or now >= self.next_poll):
            self._try_release(out)
        # Timer-driven writes never wait for this shard's flush in flight (the worker would
        # stop decoding for every shard meanwhile: a quarter of its time at -p 2, measured):
        # a due flush starts when that one has committed (notify_at polls every 2 ms), and a
        # checkpoint-only write is not needed while one is in flight (also the one just
        # started here): that flush writes a newer checkpoint. Only on_batch waits, when
        # FULL_BATCHES_BEFORE_WAIT batches are pending: that is the backpressure. A full batch
        # that collected behind a flush starts here, without waiting for its timers.
        m = self.st.merger
        if self._inflight is None and not m.is_empty and (m.pending_rows >= self.s.batch_rows or self._flush_due(now)):
            self.flush(out)
        if self._inflight is None and self.cp_dirty and self.st.merger.is_empty and self.st.waiting is None and (
            now - self.last_cp_write >= self.s.checkpoint_interval_ms / 1000
        ):
            self._write_checkpoint_only()
        return out

    def on_eof(self) -> list[FlushReport]:
        out = self._reports()
        if self.st.waiting is None and not self.st.merger.is_empty:
            self.flush(out)
        self._settle(out)
        if self.st.waiting is not None:
            # The source drains before it ends (it waits until every shard passed the last
            # barrier), so this only happens when input ended abruptly: keep the state; the
            # next run resumes from it.
            log.warning("shard %d: input ended while waiting at the DDL barrier at commit_ts %s",
                        self.shard, self.st.waiting.ddl.commit_ts)
        return out

    def notify_at(self) -> Optional[datetime]:
        at: Optional[float] = None
        m = self.st.merger
        if self._inflight is not None or self._finished:
            at = self.ctx.clock() + 0.002  # hand its report out (and start the next flush) soon
        elif self.st.waiting is not None:
            at = self.next_poll if self.next_poll is not None else self.ctx.clock()
        elif not m.is_empty:
            at = min(m.first_added_at + self.s.batch_ms / 1000, self.last_input + self.s.idle_ms / 1000)
        elif self.cp_dirty:
            at = self.last_cp_write + self.s.checkpoint_interval_ms / 1000
        if at is None:
            return None
        return datetime.now(timezone.utc) + timedelta(seconds=max(0.0, at - self.ctx.clock()))

    def snapshot(self) -> ShardState:
        # The changes of a flush in flight are no longer in the merger, but ``received`` is
        # past them: a snapshot taken now and restored after a crash that lost the flush
        # would skip them as replays. So a snapshot waits for the flush to finish.
        self._settle(None)
        return self.st

    # -- processing ------------------------------------------------------------------------

    def _process(self, item, out: list[FlushReport]) -> None:
        st = self.st
        if isinstance(item, ShardChunk):
            floor = st.received if st.received > self.cp else self.cp
            add = st.merger.add
            quarantined = self.quarantined()
            parked = []
            added = 0
            for ch in item.changes:
                pos = (ch.commit_ts, ch.seq)
                if pos <= floor:
                    self.skipped += 1
                    continue
                if quarantined and (ch.schema.schema, ch.schema.table) in quarantined:
                    parked.append(ch)
                else:
                    add(ch)
                    added += 1
                floor = pos
            if parked:
                self._park_quarantined(parked, item.offset)
            if added:
                st.pending_bytes += item.nbytes
            else:
                self.ctx.backlog.settle(item.nbytes)  # replays or parked: nothing waits in memory
            if floor > st.received:
                st.received = floor
                st.received_offset = item.offset
            self.last_input = self.ctx.clock()
        elif isinstance(item, ShardChunks):
            for chunk in item.chunks:
                self._process(chunk, out)
        elif isinstance(item, Barrier):
            pos = (item.ddl.commit_ts, -1)
            floor = st.received if st.received > self.cp else self.cp
            if pos < floor:
                # Past this barrier already: a shard moves beyond (ts, -1) only once released,
                # and it is released only when the DDL is recorded done.
                self.skipped += 1
                return
            if pos == floor:
                # Acknowledged before a crash or a restore, and maybe never released: the
                # acknowledgement says nothing about the DDL. Wait for its done status again.
                log.info("shard %d: barrier at commit_ts %s was acknowledged before; waiting for the DDL again",
                         self.shard, item.ddl.commit_ts)
                st.waiting = item
                self._try_release(out)
                return
            if not st.merger.is_empty:
                self.flush(out)
            if failpoints.ENABLED:
                failpoints.hit("barrier.before_ack", item.ddl.commit_ts)
            st.received = pos
            st.received_offset = item.offset
            self._write_checkpoint_only()  # the barrier acknowledgement
            if failpoints.ENABLED:
                failpoints.hit("barrier.after_ack", item.ddl.commit_ts)
            st.waiting = item
            self._try_release(out)
        elif isinstance(item, Watermark):
            pos = (item.commit_ts, MAX_SEQ)
            if pos > st.received:
                st.received = pos
                st.received_offset = max(st.received_offset, item.offset)
                if st.merger.is_empty:
                    self.cp_dirty = True
            if item.force:
                if not st.merger.is_empty:
                    self.flush(out)
                elif self.cp_dirty or self.cp < st.received:
                    self._write_checkpoint_only()
        else:
            raise TypeError(f"shard {self.shard}: unexpected item {type(item).__name__}")

    def _try_release(self, out: list[FlushReport]) -> None:
        """Poll the DDL's outcome (and run it when this shard is the one that may).

        Never blocks the worker on a transient failure: a lost connection or a DDL waiting
        for a metadata lock is polled again with backoff, for as long as it takes (the other
        shards of this worker and the source keep their turn; ``status`` shows the block).
        """
        b = self.st.waiting
        assert b is not None
        self._settle(out)  # a DDL runs only after this shard's last flush committed
        try:
            done = self.ctx.coordinator.try_complete(self.coord_conn(), b.ddl, b.offset)
        except DDLStopped:
            raise
        except Exception as e:
            if not is_transient(root_cause(e)):
                raise
            self._reset_connections()
            self.barrier_backoff = min(MAX_BACKOFF, max(0.1, self.barrier_backoff * 2))
            log.warning("shard %d: DDL at commit_ts %s: %s; polling again in %.1fs", self.shard, b.ddl.commit_ts,
                        e, self.barrier_backoff)
            self.next_poll = self.ctx.clock() + self.barrier_backoff
            out.append(FlushReport(self.shard, 0, 0, (b.ddl.commit_ts, -1), (b.ddl.commit_ts, -1), 0.0,
                                   ddl_status="blocked"))
            return
        if not done:
            self.next_poll = self.ctx.clock() + self.s.poll_ms / 1000
            return
        self.barrier_backoff = 0.0
        self.st.waiting = None
        self.next_poll = None
        self.last_ddl_ts = b.ddl.commit_ts
        self._quarantined = None  # the DDL may have quarantined a table
        if self.target_tables is not None:
            self.target_tables.invalidate_all()
        out.append(FlushReport(self.shard, 0, 0, (b.ddl.commit_ts, -1), (b.ddl.commit_ts, 0), 0.0,
                               ddl=b.ddl.query[:200], ddl_status=self._ddl_status(b.ddl.commit_ts)))
        if self.st.received < (b.ddl.commit_ts, 0):
            self.st.received = (b.ddl.commit_ts, 0)
        held, self.st.held = self.st.held, []
        for i, item in enumerate(held):
            if self.st.waiting is not None:
                self.st.held.extend(held[i:])
                break
            self._process(item, out)

    def _ddl_status(self, commit_ts: int) -> Optional[str]:
        """The recorded outcome (applied / skipped / quarantined ...) for metrics; None if unreadable."""
        try:
            return self.ctx.coordinator.status(self.coord_conn(), commit_ts)
        except Exception as e:  # noqa: BLE001 - a metric label must never stop the apply path
            log.debug("shard %d: DDL status for metrics: %s", self.shard, e)
            return None

    def quarantined(self) -> set:
        """Target tables a failed DDL put in quarantine (their changes are parked, not applied)."""
        if self._quarantined is None:
            self._settle(None)  # the writer thread may be using the connections
            self._quarantined = self._with_retry(
                "reading quarantined tables", lambda: self.ctx.coordinator.quarantined_tables(self.coord_conn()))
        return self._quarantined

    def _park_quarantined(self, changes: list, offset: int) -> None:
        """Dead-letter changes of quarantined tables before the checkpoint can pass them (a
        replay lands on the dead-letter table's unique key, so nothing is parked twice)."""
        self._settle(None)
        cps = self.ctx.checkpoints
        letters = [deadletter.DeadLetter(
            "quarantine", f"table {ch.schema.schema}.{ch.schema.table} is quarantined after a failed DDL",
            deadletter.change_payload(ch), offset=offset, commit_ts=ch.commit_ts, seq=ch.seq,
            schema=ch.schema.schema, table=ch.schema.table) for ch in changes]
        self._with_retry("dead-lettering quarantined changes",
                         lambda: deadletter.write(self.coord_conn(), cps.meta, cps.job, letters))

    def _flush_due(self, now: float) -> bool:
        m = self.st.merger
        return (now - m.first_added_at) * 1000 >= self.s.batch_ms or (now - self.last_input) * 1000 >= self.s.idle_ms

    # -- writing ---------------------------------------------------------------------------

    def flush(self, out: list[FlushReport]) -> None:
        """Write the merged changes and the checkpoint in one transaction.

        With ``overlap_apply`` the transaction runs on this shard's writer thread while the
        worker goes on decoding and merging (PyMySQL releases the GIL while it waits for the
        server): at most one flush is in flight per shard, the next one waits for it, and
        everything else that touches the target (barrier, checkpoint-only writes, quarantine,
        snapshots, end of input) waits for it first, so order and the checkpoint-in-the-same-
        transaction rule are exactly those of a synchronous flush. Its report (and any error:
        a strict-mode failure stops the flow as before) comes out at the next callback.
        """
        m = self.st.merger
        if m.is_empty:
            return
        self._settle(out)
        job = _InFlight(self.ctx.clock(), m.changes_added, self.st.received, self.st.received_offset,
                        self.st.pending_bytes, self.skipped)
        batches = m.drain()
        job.first = batches[0].first_position if batches else self.cp
        self.st.pending_bytes = 0
        self.skipped = 0

        def run():
            stats, dead = self._write(batches, job.pos, job.rows, job.offset)
            if failpoints.ENABLED:
                failpoints.hit("apply.after_commit", self.last_ddl_ts)
            return stats, dead

        if not self.s.overlap_apply:
            job.future = Future()
            job.future.set_result(run())
            self._inflight = job
            self._settle(out)
            return
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix=f"shard-{self.shard}-writer")
        job.future = self._writer.submit(run)
        self._inflight = job

    def _settle(self, out: Optional[list]) -> None:
        """Wait for the flush in flight (if any) and account for it; its report goes to
        ``out``, or is kept for the next callback when there is none (snapshot)."""
        job = self._inflight
        if job is None:
            return
        self._inflight = None
        stats, dead = job.future.result()  # a failure of the flush is raised here, on the worker
        self.ctx.backlog.settle(job.pending_bytes)
        self.cp = job.pos
        self.cp_dirty = self.st.received > job.pos  # watermarks may have moved on meanwhile
        self.last_cp_write = self.ctx.clock()
        report = FlushReport(self.shard, job.rows, getattr(stats, "statements", 0), job.first, job.pos,
                             self.ctx.clock() - job.started, dead_letters=dead, skipped_replays=job.skipped,
                             table_ops=_table_ops(stats))
        (out if out is not None else self._finished).append(report)

    def _reports(self) -> list[FlushReport]:
        out, self._finished = self._finished, []
        return out

    def _handoffs(self) -> Optional[UniqueHandoffs]:
        """The job's unique-key handoff when its routing rule spreads unique-key tables
        (replication/unique_handoff.py), else None; the rule is read once."""
        if self._handoff is None:
            cps = self.ctx.checkpoints
            routing = self._with_retry("reading the routing rule", lambda: cps.routing(self.coord_conn()))
            self._handoff = (UniqueHandoffs(cps.meta, cps.job, routing, self.s.shards) if routing == SPREAD_UNIQUE
                             else False)
        return self._handoff or None

    def _handoff_scope(self, pos: StreamPos) -> Optional[HandoffScope]:
        """A fresh handoff scope for one attempt of a flush ending at ``pos`` (None when the
        job's rule does not spread unique-key tables)."""
        handoffs = self._handoffs()
        return HandoffScope(handoffs, self.shard, pos) if handoffs is not None else None

    def _write(self, batches, pos: StreamPos, rows: int, offset: int):
        cps = self.ctx.checkpoints
        extra = [cps.update_sql(self.shard, pos, offset, rows)]
        attempts = 0
        first_try = [True]
        scope: list[Optional[HandoffScope]] = [None]

        def apply_once():
            # A connection lost during COMMIT leaves the outcome unknown: the batch may be
            # applied. The checkpoint is in the same transaction, so it tells: never apply a
            # batch twice (a key-less table would get a duplicate row).
            if not first_try[0]:
                done = cps.load(self.coord_conn(), self.shard)
                if done is not None and done >= pos:
                    log.info("shard %d: the batch up to %s was committed before the connection was lost",
                             self.shard, pos)
                    return None
            first_try[0] = False
            for attempt in range(1, DEADLOCK_RETRIES + 1):
                scope[0] = self._handoff_scope(pos)
                try:
                    return self._conn_writer().write(batches, extra, failpoint_key=self.last_ddl_ts,
                                                     on_divergence=self._divergence_rows, strict=self.s.strict,
                                                     handoff=scope[0])
                except WriteError as e:
                    if attempt == DEADLOCK_RETRIES or error_code(root_cause(e)) != ER_LOCK_DEADLOCK:
                        raise
                    # InnoDB rolled the whole transaction back and let the other one go on:
                    # run it again at once on the same connection (nothing was committed).
                    log.info("shard %d: deadlock victim (%s); running the flush again", self.shard, e)

        while True:
            attempts += 1
            try:
                stats = self._with_retry("apply", apply_once)
                return stats, (scope[0].counts.dead if stats is not None and scope[0] is not None else 0)
            except WriteError as e:
                if attempts < self.s.apply_attempts:
                    log.warning("shard %d: batch failed (%s); attempt %d of %d", self.shard, e, attempts,
                                self.s.apply_attempts)
                    time.sleep(0.1 * attempts)
                    continue
                if self.s.strict:
                    raise
                return self._write_salvaging(batches, extra, e, pos)

    def _conn_writer(self) -> BatchWriter:
        self.conn()
        assert self.writer is not None
        return self.writer

    def _divergence_rows(self, divergent):
        """Dead-letter rows (kind ``divergence``) for changes whose DELETE/UPDATE matched no
        target row, run in the flush's own transaction: recorded exactly when the checkpoint
        moves past them, never twice (a replay lands on the dead-letter table's unique key)."""
        cps = self.ctx.checkpoints
        insert = deadletter.insert_sql(cps.meta)
        return [
            (insert, deadletter.params(cps.job, deadletter.DeadLetter(
                "divergence", divergence_text(kind), deadletter.change_payload(ch), commit_ts=ch.commit_ts,
                seq=ch.seq, schema=ch.schema.schema, table=ch.schema.table)))
            for ch, kind in divergent
        ]

    def _write_salvaging(self, batches, extra, first_error, pos: StreamPos):
        """Apply the changes one by one; the failing ones go to the dead-letter table in the
        same transaction as the rest and the checkpoint, so none is lost or parked twice.

        Like the batch path, a retry after a lost connection first reads the shard's
        checkpoint: the COMMIT may have taken effect, and applying a key-less table's INSERT
        again would duplicate its row."""
        log.error("shard %d: batch keeps failing (%s); applying change by change", self.shard, first_error)
        cps = self.ctx.checkpoints
        insert = deadletter.insert_sql(cps.meta)

        def dead_letter_rows(failures):
            return [
                (insert, deadletter.params(cps.job, deadletter.DeadLetter(
                    "apply", str(err), deadletter.change_payload(ch), commit_ts=ch.commit_ts, seq=ch.seq,
                    schema=ch.schema.schema, table=ch.schema.table)))
                for ch, err in failures
            ]

        first_try = [True]

        def salvage_once():
            if not first_try[0]:
                done = cps.load(self.coord_conn(), self.shard)
                if done is not None and done >= pos:
                    log.info("shard %d: the change-by-change batch up to %s was committed before the connection "
                             "was lost", self.shard, pos)
                    return None, []
            first_try[0] = False
            scope[0] = self._handoff_scope(pos)
            return self._conn_writer().write_one_by_one(
                batches, extra, dead_letter_rows, on_divergence=self._divergence_rows, strict=self.s.strict,
                failpoint_key=self.last_ddl_ts, handoff=scope[0])

        scope: list[Optional[HandoffScope]] = [None]
        stats, failures = self._with_retry("apply one by one", salvage_once)
        unpaid = scope[0].counts.dead if stats is not None and scope[0] is not None else 0
        for ch, err in failures:
            log.error("dead letter (apply) %s.%s at commit_ts %d: %s", ch.schema.schema, ch.schema.table,
                      ch.commit_ts, err)
        return stats, len(failures) + unpaid

    def _write_checkpoint_only(self) -> None:
        self._settle(None)  # in order after the flush in flight, on the idle connections
        pos = self.st.received
        sql = self.ctx.checkpoints.update_sql(self.shard, pos, self.st.received_offset)

        def run():
            c = self.coord_conn()
            scope = self._handoff_scope(pos)
            if scope is not None and scope.handoffs.owed(c, self.shard):
                # Handoffs this shard owes whose position the checkpoint passes now without
                # the row: dead letters, in the checkpoint's transaction.
                c.begin()
                try:
                    with c.cursor() as cur:
                        scope.settle(cur, [])
                        cur.execute(sql)
                    c.commit()
                except BaseException:
                    c.rollback()
                    raise
                if scope.counts.dead:
                    self._finished.append(FlushReport(self.shard, 0, 0, pos, pos, 0.0, dead_letters=scope.counts.dead))
                return
            with c.cursor() as cur:
                cur.execute(sql)

        self._with_retry("checkpoint", run)
        self.cp = pos
        self.cp_dirty = False
        self.last_cp_write = self.ctx.clock()

    def close(self) -> None:
        try:
            self._settle(None)
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None
            self._reset_connections()


@dataclass
class _InFlight:
    """A flush handed to the writer thread: what to account for once it committed."""

    started: float
    rows: int
    pos: StreamPos  # the checkpoint its transaction writes
    offset: int
    pending_bytes: int
    skipped: int
    first: StreamPos = ZERO
    future: Optional[Future] = None


def _table_ops(stats) -> Optional[dict]:
    tables = getattr(stats, "tables", None)
    if not tables:
        return None
    return {t: {"upsert": c.upserted, "insert": c.inserted, "delete": c.deleted, "update": c.updated,
                "unmatched": c.unmatched}
            for t, c in tables.items()}
