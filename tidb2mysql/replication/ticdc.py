"""The incremental flow's runtime pieces for TiCDC input (Bytewax calls into these from
flows/ticdc.py; plain Python, no Bytewax types).

Data path (docs/architecture.md, "TiCDC input"): every Kafka partition of the TiCDC topic is
one Bytewax input partition (:class:`PartitionSource`), read by whichever worker Bytewax
gives it to, so more workers read more partitions in parallel. A partition's reader decodes
with the configured codec, drops what TiCDC re-sent (:class:`~.resolved.PartitionFilter`),
applies the selection, routes rows to shards exactly like Drainer rows (route.py), copies
DDLs and its resolved ts to every shard. Each shard (:class:`TiCDCShard`) puts a
:class:`~.resolved.ResolvedGate` in front of the usual :class:`~.shard.ShardApplier`: rows are
applied only once resolved on every partition, one whole transaction at a time, with the
checkpoint in the same target transaction; DDLs go through the usual barrier.

Recovery: Bytewax snapshots each partition's next offset and filter, and each shard's gate
and pending state, at the same epoch. Without snapshots (a lost recovery directory, or none
configured) every partition starts right after its last resolved event at or below the
lowest target checkpoint (:func:`resume_offset`): everything before it is applied on every
shard, and what follows and was applied already is skipped by the shards' checkpoints.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

from tidb2mysql import failpoints
from tidb2mysql.mysql import db
from tidb2mysql.events import DDL, InputDecodeError, KafkaPosition, Op, Txn
from tidb2mysql.input.codec import InputCodec, Watermark
from tidb2mysql.ops import shutdown
from tidb2mysql.ops.metrics import METRICS
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.change import Barrier, Change, ShardChunk
from tidb2mysql.replication.change import Watermark as FlushMark
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.progress import Redeliveries
from tidb2mysql.replication.resolved import GateState, PartitionFilter, PartitionResolved, ReadGate, ResolvedGate
from tidb2mysql.mysql.retry import ReconnectingConnection
from tidb2mysql.replication.route import MAX_SEQ, Router
from tidb2mysql.replication.shard import ShardApplier, ShardContext, ShardState
from tidb2mysql.replication.source import TopicReader, next_poll
from tidb2mysql.selection.engine import Selection
from tidb2mysql.selection.events import EventSelector

log = logging.getLogger("tidb2mysql.incremental")

SEEK_SCAN = 5000  # messages scanned forward from a probe offset for a resolved event


def applied_through(position: tuple[int, int]) -> int:
    """The commit_ts through which a shard checkpoint says everything is applied."""
    ts, seq = position
    return ts if seq >= MAX_SEQ else ts - 1


def topic_partitions(client_config: dict, topic: str, timeout: float = 10.0) -> int:
    """How many partitions the topic has (Bytewax builds one input partition per Kafka partition)."""
    from confluent_kafka import Consumer

    conf = dict(client_config)
    conf.setdefault("group.id", "tidb2mysql")
    c = Consumer(conf)
    try:
        md = c.list_topics(topic, timeout=timeout)
        t = md.topics.get(topic)
        if t is None or t.error is not None or not t.partitions:
            raise RuntimeError(f"Kafka topic {topic!r} does not exist or has no partitions"
                               f"{': ' + str(t.error) if t is not None and t.error else ''}")
        return len(t.partitions)
    finally:
        c.close()


def first_resolved_from(reader: TopicReader, codec: InputCodec, offset: int, end: int,
                        scan: int = SEEK_SCAN) -> Optional[tuple[int, int]]:
    """(offset, resolved_ts) of the first resolved event at or after ``offset`` (within
    ``scan`` messages and before ``end``); None if there is none."""
    reader.assign(offset)
    seen = 0
    deadline = time.monotonic() + 30
    while seen < scan and (reader.position or offset) < end and time.monotonic() < deadline:
        for m in reader.poll_batch(max(1, min(50, end - (reader.position or offset))), 1.0):
            seen += 1
            if m.offset >= end:
                return None
            try:
                events = codec.decode(m.key, m.value, KafkaPosition(reader.topic, reader.partition, m.offset))
            except InputDecodeError:
                continue
            for ev in events:
                if isinstance(ev, Watermark):
                    return m.offset, ev.resolved_ts
    return None


def resume_offset(reader: TopicReader, codec: InputCodec, applied_ts: int) -> tuple[int, str]:
    """Where a partition starts without a snapshot: right after the last resolved event with
    ``resolved_ts <= applied_ts`` (binary search; resolved ts grow along a partition).

    Starting earlier is always safe (redeliveries are skipped), so every uncertainty (no
    resolved event near a probe, a regression after a TiCDC restart) moves the start earlier.
    """
    lo, hi = reader.watermarks()
    if lo >= hi or applied_ts <= 0:
        return max(lo, 0), "earliest offset"
    start, why = lo, "earliest offset (no resolved event at or below the checkpoint)"
    a, b = lo, hi
    while a < b:
        mid = (a + b) // 2
        found = first_resolved_from(reader, codec, mid, b)
        if found is None or found[1] > applied_ts:
            b = mid
            continue
        start, why = found[0] + 1, f"after the resolved event {found[1]} at offset {found[0]}"
        a = found[0] + 1
    return start, why


UNKNOWN_KEYS = "(unique keys not known)"


def with_target_keys(schema, keys: tuple):
    """``schema`` with the target table's primary and unique keys (column names -> indexes;
    PRIMARY first, as route.py expects); unchanged if the target names no usable key."""
    index = {c.lower(): i for i, c in enumerate(schema.columns)}
    uks = []
    for name, cols in keys:
        idx = tuple(index.get(c.lower(), -1) for c in cols)
        if -1 not in idx:
            uks.append((name, idx))
    if not uks:
        return dataclasses.replace(schema, pk=(), unique_keys=())
    pk = next((i for n, i in uks if n == "PRIMARY"), ())
    return dataclasses.replace(schema, pk=pk, unique_keys=tuple(sorted(uks, key=lambda k: k[0] != "PRIMARY")))


class KeysAtApply:
    """The shard side of :class:`UniqueKeys`: rows of a table that was not in the target when
    its first row was routed all come to one shard, with a placeholder key. By the time they
    are applied the DDL that created the table has run (the barrier orders them), so the
    shard reads the table's keys and merges the rows by them - a re-sent row is then an
    idempotent upsert, not a second row. A DDL handed to the shard clears the cache."""

    def __init__(self, read_keys: Callable[[str, str], Optional[tuple]]):
        self.read_keys = read_keys
        self._schemas: dict[int, tuple] = {}

    def clear(self) -> None:
        self._schemas.clear()

    def complete(self, chunk: ShardChunk) -> None:
        for i, ch in enumerate(chunk.changes):
            s = ch.schema
            if not s.unique_keys or s.unique_keys[-1][0] != UNKNOWN_KEYS:
                continue
            hit = self._schemas.get(id(s))
            if hit is None or hit[0] is not s:
                keys = self.read_keys(s.schema, s.table)
                hit = self._schemas[id(s)] = (s, None if keys is None else with_target_keys(s, keys))
            done = hit[1]
            if done is None:
                continue  # still not in the target: applied as the message says
            if not done.pk and len(done.unique_keys) == 1:  # only a unique key: the row's identity
                uk = done.unique_keys[0][1]
                row = ch.old if ch.op == Op.DELETE else ch.new
                if None not in (row[j] for j in uk):
                    done = dataclasses.replace(done, pk=uk, unique_keys=(("PRIMARY", uk),))
            chunk.changes[i] = Change(ch.commit_ts, ch.seq, done, ch.op, ch.new, ch.old)


def routing_table_sql(meta: str) -> str:
    return (f"CREATE TABLE IF NOT EXISTS `{meta}`.`ticdc_table_keys` (job VARCHAR(128) NOT NULL,"
            " schema_name VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL, unique_keys TEXT NULL,"
            " decided_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),"
            " PRIMARY KEY (job, schema_name, table_name)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")


class UniqueKeys:
    """Completes TiCDC table structures with their unique keys, for routing (one per process,
    shared by its partition readers).

    canal-json names only the primary key of a table and the open protocol flags unique-key
    columns without saying which index they belong to (docs/ticdc.md); the router needs the
    unique keys (route.py: a table with a secondary unique key goes to one shard, so a unique
    value moving between rows is applied in order; a table whose only key is a unique key is
    merged by it). The schema migration created the target tables with the same keys, so they
    are read from there. A table not in the target yet (created by a DDL in the stream that
    has not run) gets a placeholder key: the whole table goes to one shard, which completes
    the keys when it applies the rows (:class:`KeysAtApply`).

    A table's routing must never change: a row's change routed to another shard than its
    earlier changes could overtake them, and a shard whose checkpoint is past a row it never
    saw would skip it. So the first decision is recorded in the target
    (``<meta>.ticdc_table_keys``, first writer wins) and kept by every process and every later
    run of the job.
    """

    def __init__(self, cfg):
        self.cfg = cfg
        self._conn: Optional[ReconnectingConnection] = None
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], Optional[tuple]] = {}  # (db, table) -> routing keys, None = unknown
        self._schemas: dict[int, tuple] = {}  # id(schema) -> (schema, completed schema)

    def complete(self, schema):
        hit = self._schemas.get(id(schema))
        if hit is not None and hit[0] is schema:
            return hit[1]
        with self._lock:
            keys = self._decided(schema.schema, schema.table)
            if keys is None:  # one shard for the whole table; the shard completes the keys (KeysAtApply)
                pk = schema.pk
                marker = ((UNKNOWN_KEYS, pk),) if pk else ((UNKNOWN_KEYS, ()),)
                done = dataclasses.replace(schema, unique_keys=(("PRIMARY", pk),) * bool(pk) + marker)
            else:
                done = with_target_keys(schema, keys)
            if len(self._schemas) > 10000:
                self._schemas.clear()
            self._schemas[id(schema)] = (schema, done)
        return done

    def _decided(self, db_name: str, table: str) -> Optional[tuple]:
        k = (db_name, table)
        if k in self._keys:
            return self._keys[k]
        import orjson

        from tidb2mysql.mysql.target_schema import UnknownTableError, read_target_table

        meta, job = self.cfg.job.meta_schema, self.cfg.job.name
        if self._conn is None:
            cfg = self.cfg
            self._conn = ReconnectingConnection(lambda: db.connect(cfg.target, autocommit=True),
                                                "source: table keys for routing")
            self._conn.run(lambda c: c.cursor().execute(routing_table_sql(meta)))
        select = (f"SELECT unique_keys FROM `{meta}`.`ticdc_table_keys` WHERE job=%s AND schema_name=%s"
                  " AND table_name=%s")

        def decide(c) -> Optional[tuple]:
            with c.cursor() as cur:
                cur.execute(select, (job, db_name, table))
                row = cur.fetchone()
                if row is None:
                    try:
                        keys = read_target_table(c, db_name, table).unique_keys
                    except UnknownTableError:
                        keys = None
                    cur.execute(f"INSERT IGNORE INTO `{meta}`.`ticdc_table_keys` (job, schema_name, table_name,"
                                " unique_keys) VALUES (%s,%s,%s,%s)",
                                (job, db_name, table, None if keys is None else orjson.dumps(keys).decode()))
                    cur.execute(select, (job, db_name, table))
                    row = cur.fetchone()
            if row is None or row[0] is None:
                return None
            return tuple((name, tuple(cols)) for name, cols in orjson.loads(row[0]))

        got = self._conn.run(decide)
        if got is None:
            log.info("table %s.%s was not in the target when its rows were first routed: they all go to one shard",
                     db_name, table)
        self._keys[k] = got
        return got

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def last_resolved(reader: TopicReader, codec: InputCodec, window: int = 500, max_back: int = 20000) -> int:
    """The highest resolved ts among the last resolved events of a partition (-1 if none):
    read backward window by window from its end (a TiCDC restart may have re-sent a lower
    one last, hence the highest of the window that has any)."""
    lo, hi = reader.watermarks()
    end = hi
    while end > lo and hi - end < max_back:
        start = max(lo, end - window)
        reader.assign(start)
        best = -1
        deadline = time.monotonic() + 30
        while (reader.position or start) < end and time.monotonic() < deadline:
            # ask for no more than what is left: consume() then returns as soon as it is there
            for m in reader.poll_batch(max(1, min(500, end - (reader.position or start))), 1.0):
                if m.offset >= end:
                    break
                try:
                    events = codec.decode(m.key, m.value, KafkaPosition(reader.topic, reader.partition, m.offset))
                except InputDecodeError:
                    continue
                for ev in events:
                    if isinstance(ev, Watermark) and ev.resolved_ts > best:
                        best = ev.resolved_ts
        if best >= 0:
            return best
        end = start
    return -1


class ReaderServices:
    """Per process, shared by its partition readers: the read gate (byte budget), the
    unique keys of tables, the topic's resolved ts at its end."""

    def __init__(self, cfg, backlog):
        self.cfg = cfg
        self.read_gate = ReadGate(backlog)
        self.keys = UniqueKeys(cfg)
        self._lock = threading.Lock()
        self._topic_resolved: Optional[int] = None

    def topic_resolved(self, compute: Callable[[], int]) -> int:
        with self._lock:
            if self._topic_resolved is None:
                self._topic_resolved = compute()
            return self._topic_resolved

    def topic_grew(self) -> None:
        """A reader at the end got new messages: the topic's end must be read again."""
        with self._lock:
            self._topic_resolved = None


@dataclass
class SourceState:
    """What Bytewax snapshots for one Kafka partition (picklable)."""

    offset: int  # the next offset to read
    filter: PartitionFilter = field(default_factory=PartitionFilter)


class PartitionSource:
    """Reads one Kafka partition of the TiCDC topic and routes its events to every shard."""

    def __init__(self, cfg, partition: int, codec: InputCodec, services: ReaderServices,
                 resume: Optional[SourceState] = None,
                 dead_letter: Optional[Callable[[list], None]] = None):
        if failpoints.ENABLED:
            failpoints.hit("source.start", partition)
        self.cfg = cfg
        self.s = cfg.incremental
        self.partition = partition
        self.topic = cfg.kafka.topic
        self.codec = codec
        self.services = services
        self.read_gate = read_gate = services.read_gate
        read_gate.register(partition)
        from tidb2mysql.replication.runtime import reader_client_config

        self.reader = TopicReader(reader_client_config(cfg.kafka), self.topic, partition)
        self.reader.peek = lambda v: None
        sel = Selection.from_config(cfg)
        self.selector = None if sel.is_identity else EventSelector(sel)
        self.dead_letter = dead_letter or self._dead_letter_to_target
        self.keys = services.keys
        self._conn: Optional[ReconnectingConnection] = None
        conn = ReconnectingConnection(lambda: db.connect(cfg.target, autocommit=True), "source: target query")
        try:
            cps = Checkpoints(cfg.job.meta_schema, cfg.job.name)
            self.router = Router(self.s.shards, routing=conn.run(cps.routing))  # the job's rule (route.py)
            if resume is not None:
                self.state = resume
                why = "Bytewax snapshot"
            else:
                low = conn.run(lambda c: cps.min_position(c, self.s.shards))
                applied = applied_through(low) if low is not None else self.s.start_commit_ts
                offset, why = resume_offset(self.reader, codec, applied)
                why = f"target checkpoints (applied through commit_ts {applied}): {why}"
                self.state = SourceState(offset)
        finally:
            conn.close()
        read_gate.note(partition, self.state.filter.resolved)
        log.info("%s partition %d: reading from offset %d (%s)", self.topic, partition, self.state.offset, why)
        self.reader.assign(self.state.offset)
        self.messages = 0
        self.redeliveries = Redeliveries("ticdc", "TiCDC", f"partition {partition}", log)
        self.drain_ts: Optional[int] = None  # at the end of a bounded run: the topic's global resolved ts
        self.next_drain_poll = 0.0
        self.got_input = False  # the last poll read messages: poll again at once (next_awake)

    def next_batch(self) -> list:
        """``(shard_key, (shard, partition, item))`` triples for the apply step."""
        if shutdown.requested():
            log.info("partition %d: stop requested at offset %d", self.partition, self.state.offset)
            raise StopIteration()
        self.got_input = False
        if not self.read_gate.may_read(self.partition):
            return []  # ahead of the global resolved ts while the byte budget is full
        msgs = self.reader.poll_batch(self.s.source_batch, 0)
        self.got_input = bool(msgs)
        if not msgs:
            if self.s.stop_at_end and self.reader.at_end:
                self._drain()
            return []
        if self.drain_ts is not None:
            self.drain_ts = None
            self.services.topic_grew()
        out: list = []
        for m in msgs:
            self._message(m, out)
            self.state.offset = m.offset + 1
        return out

    def _drain(self) -> None:
        """End of a bounded run: the input ends once every shard applied everything up to the
        topic's global resolved ts (the lowest last resolved ts of its partitions); ending
        earlier would cut off shards still working through DDL barriers."""
        now = time.monotonic()
        if now < self.next_drain_poll:
            return
        self.next_drain_poll = now + 0.1
        if self._conn is None:  # this reader's own connection (readers run on several threads)
            cfg = self.cfg
            self._conn = ReconnectingConnection(lambda: db.connect(cfg.target, autocommit=True), "source: target")
        conn = self._conn
        if self.drain_ts is None:
            self.drain_ts = self.services.topic_resolved(self._topic_resolved)
            log.info("partition %d: end of the topic at offset %d; waiting until every shard applied through the"
                     " topic's resolved ts %d", self.partition, self.state.offset, self.drain_ts)
        cps = Checkpoints(self.cfg.job.meta_schema, self.cfg.job.name)
        ts = self.drain_ts
        if ts < 0 or conn.run(lambda c: cps.count_at_or_after(c, (ts, MAX_SEQ))) >= self.s.shards:
            log.info("partition %d: every shard applied through commit_ts %d; input ends", self.partition, ts)
            raise StopIteration()

    def _topic_resolved(self) -> int:
        """min over the topic's partitions of their last resolved ts (read from Kafka)."""
        from tidb2mysql.replication.runtime import reader_client_config

        out = None
        for q in range(topic_partitions(reader_client_config(self.cfg.kafka), self.topic)):
            r = TopicReader(reader_client_config(self.cfg.kafka), self.topic, q)
            r.peek = lambda v: None
            try:
                last = last_resolved(r, self.codec)
            finally:
                r.close()
            out = last if out is None else min(out, last)
        return -1 if out is None else out

    def _message(self, m, out: list) -> None:
        p = self.partition
        pos = KafkaPosition(self.topic, p, m.offset)
        try:
            events = self.codec.decode(m.key, m.value, pos)
        except InputDecodeError as e:
            if self.s.strict:
                raise
            # seq = the partition: the dead-letter origin key has no partition column. The
            # open protocol carries events in the Kafka key too: both are kept.
            payload, why = m.value, str(e)
            if m.key is not None:
                payload = len(m.key).to_bytes(4, "big") + m.key + m.value
                why += " (payload: 4-byte key length, the Kafka key, the value)"
            self.dead_letter([deadletter.DeadLetter("decode", why, payload, topic=self.topic, partition=p,
                                                    offset=m.offset, seq=p)])
            return
        flt = self.state.filter
        keys = self.router.keys
        for ev in events:
            if isinstance(ev, Watermark):
                if flt.advance(ev.resolved_ts):
                    self.read_gate.note(p, ev.resolved_ts)
                    r = PartitionResolved(ev.resolved_ts, m.offset)
                    out.extend((k, (s, p, r)) for s, k in enumerate(keys))
                continue
            if isinstance(ev, DDL):
                if flt.ddl_is_old(ev.commit_ts, ev.query):
                    self._redelivered(m.offset, ev.commit_ts, "DDL")
                    continue
                sel = self.selector(ev) if self.selector else ev
                if sel is not None:
                    out.extend((k, (s, p, b)) for k, (s, b) in self.router.route_ddl(sel, m.offset))
                continue
            if isinstance(ev, Txn):
                tables = [tc for tc in ev.tables if not flt.row_is_old(tc.schema.schema, tc.schema.table, ev.commit_ts)]
                if not tables:
                    self._redelivered(m.offset, ev.commit_ts, "row")
                    continue
                self.messages += 1
                txn = Txn(ev.commit_ts, tables, ev.position)
                sel = self.selector(txn) if self.selector else txn
                if sel is None:
                    continue
                for tc in sel.tables:
                    tc.schema = self.keys.complete(tc.schema)
                routed = list(self.router.route_txn(sel, m.offset))
                total = sum(len(c.changes) for _k, (_s, c) in routed) or 1
                size = len(m.value) + len(m.key or b"")
                for k, (s, chunk) in routed:
                    chunk.nbytes = size * len(chunk.changes) // total
                    out.append((k, (s, p, chunk)))

    def _redelivered(self, offset: int, commit_ts: int, what: str) -> None:
        self.redeliveries.skipped(lambda: f"partition {self.partition} offset {offset}: {what} at commit_ts {commit_ts}"
                                          " skipped as a TiCDC re-delivery (partition resolved ts"
                                          f" {self.state.filter.resolved}; the first of this run, all are counted)")

    def _dead_letter_to_target(self, letters: list) -> None:
        if self._conn is None:
            cfg = self.cfg
            self._conn = ReconnectingConnection(lambda: db.connect(cfg.target, autocommit=True), "source: target")
        cfg = self.cfg
        self._conn.run(lambda c: deadletter.write(c, cfg.job.meta_schema, cfg.job.name, letters))
        for _ in letters:
            METRICS.inc("dead_letters_total", kind="decode")

    def snapshot(self) -> SourceState:
        return SourceState(self.state.offset, PartitionFilter(self.state.filter.resolved,
                                                              dict(self.state.filter.table_high),
                                                              self.state.filter.ddl_high))

    def next_awake(self):
        return next_poll(self.got_input)

    def close(self) -> None:
        self.redeliveries.close()
        self.reader.close()
        if self._conn is not None:
            self._conn.close()


class TiCDCShard:
    """One shard for TiCDC input: the resolved-ts gate in front of the usual applier."""

    def __init__(self, ctx: ShardContext, shard: int, partitions: int,
                 resume: Optional[tuple[GateState, ShardState]] = None):
        if resume is not None:
            gate_state, shard_state = resume
            self.applier = ShardApplier(ctx, shard_state)
            self.gate = ResolvedGate(gate_state, ctx.backlog, restored=True)
        else:
            self.applier = ShardApplier(ctx, ShardState(shard))
            self.gate = ResolvedGate(GateState(partitions), ctx.backlog)
        if self.gate.st.partitions != partitions:
            raise RuntimeError(f"shard {shard}: the snapshot is of a topic with {self.gate.st.partitions} partitions,"
                               f" the topic now has {partitions}; restart without the recovery directory")
        self.gate.start_after(applied_through(self.applier.cp))
        self.ctx = ctx
        self.keys = KeysAtApply(self._read_keys)

    def _read_keys(self, db_name: str, table: str) -> Optional[tuple]:
        from tidb2mysql.mysql.target_schema import UnknownTableError, read_target_table

        try:
            return self.applier._with_retry("reading target keys",
                                            lambda: read_target_table(self.applier.coord_conn(), db_name, table).unique_keys)
        except UnknownTableError:
            return None

    def on_batch(self, items: list) -> list:
        q = self.gate.st.queue
        add = self.gate.add
        for _shard, partition, item in items:
            q.extend(add(partition, item))
        return self._feed()

    def _feed(self) -> list:
        """Hand the queue to the applier up to and including the next DDL barrier, and the
        rest once the applier passed it: rows after a DDL get their table's keys read after
        the DDL ran (KeysAtApply). Each hand-over ends with whole transactions (and their
        watermark), so a flush never splits a shard's part of a transaction."""
        out: list = []
        q = self.gate.st.queue
        while q and self.applier.st.waiting is None:
            n = next((i + 1 for i, it in enumerate(q) if isinstance(it, Barrier)), len(q))
            part, q[:n] = q[:n], []
            for it in part:
                if isinstance(it, ShardChunk):
                    self.keys.complete(it)
            if isinstance(part[-1], Barrier):
                self.keys.clear()
            out.extend(self.applier.on_batch(part))
        return out

    def on_notify(self) -> list:
        out = self.applier.on_notify()
        if self.gate.st.queue and self.applier.st.waiting is None:
            out.extend(self._feed())
        return out

    def notify_at(self):
        return self.applier.notify_at()

    def on_eof(self) -> list:
        """End of input: write what is resolved and the checkpoint. A bounded run ends its input
        only after every shard applied everything (PartitionSource._drain); after a stop
        request, rows not resolved or held behind a DDL stay in the snapshot (or are read
        again from the target checkpoints)."""
        out: list = []
        a = self.applier
        if self.gate.st.handed >= 0 and a.st.waiting is None and not self.gate.st.queue:
            out.extend(a.on_batch([FlushMark(self.gate.st.handed, force=True)]))
        out.extend(a.on_eof())
        return out

    def snapshot(self) -> tuple[GateState, ShardState]:
        return self.gate.st, self.applier.snapshot()


__all__ = ["ReaderServices", "PartitionSource", "SourceState", "TiCDCShard", "applied_through", "resume_offset", "topic_partitions"]
