"""Reading the Drainer topic: start position, seeking by commit_ts, consuming partition 0.

Drainer writes one partition (0) with no key; offsets are the only order. Every process's
reader decides its start here (:func:`resolve_start`), in this order (nothing of the source is
kept in Bytewax snapshots):

1. the target checkpoints of the reader's shards: their lowest position, found in the topic by
   binary search over commit_ts (like TiDB's own Go reader, ``tidb-binlog/driver/reader/offset.go``);
2. the configured ``start_commit_ts`` (the full load's snapshot TSO): the first message after it;
3. the earliest offset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from tidb2mysql.drainer.decode import peek_commit_ts  # re-exported: Drainer's cheap commit_ts read
from tidb2mysql.kafka_settings import watermark_offsets

log = logging.getLogger(__name__)


_UNREAD = object()


class RawMessage:
    """One Kafka message as read: ``offset``, ``value``, ``key`` (TiCDC's open protocol carries
    events in it) and ``commit_ts``: its transaction's commit_ts read cheaply
    (:func:`peek_commit_ts`), None if it cannot be read that way.

    ``commit_ts`` is read on first use when the reader passes ``peek`` instead. Why: it is
    needed only to stop at a commit_ts, to seek, and to name a dead letter, while reading it
    cost ~1 us per message in every process of the flow (the decoder reads it anyway).
    """

    __slots__ = ("offset", "value", "key", "_ts", "_peek")

    def __init__(self, offset: int, value: bytes, commit_ts: Optional[int] = None, key: Optional[bytes] = None,
                 peek: Optional[Callable[[bytes], Optional[int]]] = None):
        self.offset = offset
        self.value = value
        self.key = key
        self._ts = commit_ts if peek is None else _UNREAD
        self._peek = peek

    @property
    def commit_ts(self) -> Optional[int]:
        ts = self._ts
        if ts is _UNREAD:
            ts = self._ts = self._peek(self.value)
        return ts

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not RawMessage:
            return NotImplemented
        return (self.offset, self.value, self.commit_ts, self.key) == (other.offset, other.value, other.commit_ts,
                                                                       other.key)

    __hash__ = None  # mutable, like the dataclass it replaced

    def __repr__(self) -> str:
        return f"RawMessage(offset={self.offset}, {len(self.value)} bytes, commit_ts={self.commit_ts})"


@dataclass
class TxnSlice:
    """A bounded range of rows of one table of a large transaction message.

    All slices of a message share its parsed protobuf ``binlog``; the pipeline decodes
    only ``[start, end)`` of table ``table_index``. ``first_index`` is the index of the
    slice's first row change within the whole transaction (it fixes the stream positions).
    """

    offset: int
    commit_ts: int
    binlog: Any
    table_index: int
    start: int
    end: int
    first_index: int
    first: bool
    last: bool


class MessageSlicer:
    """Cuts one parsed large DML message into :class:`TxnSlice` items of at most ``max_rows``."""

    def __init__(self, offset: int, binlog: Any, counts: list[int], max_rows: int):
        self.offset = offset
        self.commit_ts = binlog.commit_ts
        self.binlog = binlog
        self.ranges: list[tuple[int, int, int, int]] = []  # (table, start, end, first_index)
        index = 0
        for ti, n in enumerate(counts):
            for a in range(0, n, max_rows):
                b = min(n, a + max_rows)
                self.ranges.append((ti, a, b, index + a))
            index += n
        self.i = 0

    @property
    def done(self) -> bool:
        return self.i >= len(self.ranges)

    def next_slice(self) -> TxnSlice:
        ti, a, b, first_index = self.ranges[self.i]
        self.i += 1
        return TxnSlice(self.offset, self.commit_ts, self.binlog, ti, a, b, first_index,
                        first=self.i == 1, last=self.i == len(self.ranges))


def next_poll(read_messages: bool, idle_ms: float = 5) -> Optional[datetime]:
    """A Bytewax source's ``next_awake``: at once (None) while messages come, ``idle_ms`` later
    when the last poll read none. Why: waiting after every batch, full ones too, capped the flow
    (mix, -p 2: 11.8k -> 16.8k rows/s without it, docs/performance.md); an idle topic is polled
    without busy-looping the worker."""
    if read_messages:
        return None
    return datetime.now(timezone.utc) + timedelta(milliseconds=idle_ms)


class TopicReader:
    """A consumer assigned to one partition of the Drainer topic, at an explicit offset."""

    def __init__(self, client_config: dict, topic: str, partition: int = 0):
        self.topic = topic
        self.partition = partition
        conf = dict(client_config)
        conf.setdefault("group.id", "tidb2mysql")
        conf["enable.auto.commit"] = False
        conf["enable.partition.eof"] = True
        self.consumer = Consumer(conf)
        self._conf = conf
        self._offsets: Optional[Consumer] = None
        self.position: Optional[int] = None
        self.at_end = False
        self.peek: Callable[[bytes], Optional[int]] = peek_commit_ts  # Drainer's; TiCDC readers replace it

    def watermarks(self, timeout: float = 10.0) -> tuple[int, int]:
        """(low, high) of the partition as the broker sees it now, asked on a client of its own.

        Why not ``self.consumer``: librdkafka sends the query on the same broker connection as
        the consumer's fetches, and the broker answers one request of a connection at a time.
        Once the reader is assigned and at the end of the partition, a fetch is parked at the
        broker for ``fetch.wait.max.ms`` (500 ms), so every query waited up to 500 ms behind it
        (p50 497 ms measured on a reader at the end), and in 0.1 s attempts each one timed out
        in flight until librdkafka answered nothing for 10 s (a flaky cut-over test,
        docs/performance.md). A never-assigned consumer has no fetch ahead of its query:
        0.7 ms p50, 3.6 ms p99, 3-33 ms for the first one of a new client.
        """
        if self._offsets is None:
            self._offsets = Consumer(self._conf)
        return watermark_offsets(self._offsets, TopicPartition(self.topic, self.partition), timeout)

    def caught_up(self) -> bool:
        """At the end of the partition as the broker sees it now (a round trip; ``at_end`` is
        only what the last poll saw)."""
        if self.position is None:
            return False
        return self.position >= self.watermarks()[1]

    def assign(self, offset: int) -> None:
        self.consumer.assign([TopicPartition(self.topic, self.partition, offset)])
        self.position = offset
        self.at_end = False

    def poll_batch(self, max_messages: int, timeout: float) -> list[RawMessage]:
        out: list[RawMessage] = []
        msgs = self.consumer.consume(max_messages, timeout)
        for m in msgs:
            err = m.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    self.at_end = True
                    continue
                if err.retriable() or err.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN):
                    log.warning("Kafka: %s (will retry)", err)
                    continue
                raise KafkaException(err)
            v = m.value() or b""
            out.append(RawMessage(m.offset(), v, None, m.key(), self.peek))
            self.position = m.offset() + 1
            self.at_end = False
        return out

    def read_one(self, offset: int, timeout: float = 30.0) -> RawMessage:
        self.assign(offset)
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.poll_batch(1, 1.0)
            if got:
                return got[0]
        raise TimeoutError(f"could not read {self.topic}[{self.partition}] offset {offset} within {timeout}s")

    def close(self) -> None:
        for c in (self.consumer, self._offsets):
            if c is None:
                continue
            try:
                c.close()
            except Exception:  # noqa: BLE001 - closing a consumer that lost its broker
                pass


def find_first_offset_after(reader: TopicReader, commit_ts: int, decode_ts: Callable[[bytes], int],
                            inclusive: bool = False) -> int:
    """The first offset whose message has commit_ts > ``commit_ts`` (>= when inclusive).

    Binary search over the retained range; commit_ts is monotonic in Drainer's first
    deliveries. A redelivered stretch can mislead the search only into skipping first
    deliveries that the redelivery repeats, which the shards' positions make harmless.
    If the target is older than the oldest retained message, warn: binlogs may be lost.
    """
    lo, hi = reader.watermarks()
    if lo >= hi:
        return lo

    def ts_at(off: int) -> int:
        m = reader.read_one(off)
        return m.commit_ts if m.commit_ts is not None else decode_ts(m.value)

    def after(ts: int) -> bool:
        return ts >= commit_ts if inclusive else ts > commit_ts

    first_ts = ts_at(lo)
    if after(first_ts):
        if commit_ts and first_ts > commit_ts + 1:
            log.warning(
                "start commit_ts %s is older than the oldest retained message (offset %s, commit_ts %s):"
                " binlogs between them may have been deleted by retention", commit_ts, lo, first_ts)
        return lo
    a, b = lo, hi  # invariant: message at a is not "after"; answer in (a, b]
    while b - a > 1:
        mid = (a + b) // 2
        if after(ts_at(mid)):
            b = mid
        else:
            a = mid
    return b


def last_commit_ts_before(reader: TopicReader, offset: int, decode_ts: Callable[[bytes], Optional[int]],
                          max_back: int = 1000) -> Optional[int]:
    """commit_ts of the last message before ``offset`` that has one; None if there is none.

    Used when a run resumes from a position restored from a Bytewax snapshot of an older
    version (which kept the offset only): the messages before ``offset`` were read by an
    earlier run, and a bounded run must not stop before the shards applied them. An
    undecodable message (dead-lettered when it was read) has no commit_ts; the one before it
    counts. ``decode_ts`` parses the message (None if it cannot): a cheap peek could take a
    number out of garbage. Looks back at most ``max_back`` messages, never below the
    retained range.
    """
    lo, hi = reader.watermarks()
    off = min(offset, hi) - 1
    stop = max(lo, offset - max_back)
    while off >= stop:
        ts = decode_ts(reader.read_one(off).value)
        if ts is not None:
            return ts
        off -= 1
    return None


@dataclass
class StartPosition:
    offset: int
    skip_through_ts: int  # messages at or below this commit_ts are already applied
    reason: str


def resolve_start(reader: TopicReader, checkpoint_min: Optional[tuple[int, int]], start_commit_ts: int,
                  decode_ts: Callable[[bytes], int]) -> StartPosition:
    from tidb2mysql.replication.route import MAX_SEQ

    untouched = checkpoint_min == (start_commit_ts, MAX_SEQ)  # rows as created at the start
    if checkpoint_min is not None and checkpoint_min[0] > 0 and not untouched:
        ts = checkpoint_min[0]
        off = find_first_offset_after(reader, ts, decode_ts, inclusive=True)
        return StartPosition(off, ts - 1, f"target checkpoint (lowest shard position commit_ts {ts})")
    if start_commit_ts:
        off = find_first_offset_after(reader, start_commit_ts, decode_ts)
        return StartPosition(off, start_commit_ts, f"configured start_commit_ts {start_commit_ts}")
    lo, _ = reader.watermarks()
    return StartPosition(max(lo, 0), -1, "earliest offset")


__all__ = ["OFFSET_BEGINNING", "MessageSlicer", "RawMessage", "TxnSlice", "StartPosition", "TopicReader", "find_first_offset_after",
           "last_commit_ts_before", "peek_commit_ts", "resolve_start"]
