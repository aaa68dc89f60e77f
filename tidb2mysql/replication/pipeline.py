"""From raw Kafka messages to per-shard items: decode -> drop redeliveries -> select -> route.

Runs on the worker that reads the topic (one partition, so one worker), as one Bytewax
``flat_map_batch`` step. Undecodable messages go to the dead-letter table (or stop the
flow in strict mode); they are never skipped silently.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Optional

from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError, row_scan_built
from tidb2mysql.drainer.redelivery import RedeliveryFilter
from tidb2mysql.events import DDL, Event, KafkaPosition, Txn
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.progress import Redeliveries
from tidb2mysql.replication.route import NO_ROWS, Router
from tidb2mysql.replication.source import RawMessage, TxnSlice

log = logging.getLogger(__name__)


@dataclass
class Tick:
    """Sent by the source while the topic is idle, so watermarks keep flowing."""


@dataclass
class EndOfInput:
    """Sent by the source once, at the end of a bounded run: flush everything now."""

    last_commit_ts: int


# A selection hook: returns the event to replicate (possibly with tables removed or renamed),
# or None to drop it. The object-selection stage plugs its rule engine in here.
Selector = Callable[[Event], Optional[Event]]


def select_all(event: Event) -> Optional[Event]:
    return event


def reader_interest(router: Router, selector: Selector):
    """The decoder's ``interest`` for this reader (drainer/decode.py), or None for "all rows".

    Composes the selection's projection (which tables are kept, renamed, which columns) with
    the router's ownership (route.py ``Router.interest``), so a process decodes fully only
    the rows it will apply. Asked once per table structure: the decoder keeps the answer with
    its cached header (drainer/decode.py ``Decoder._table``).
    """
    if router.routes_everything:
        return None
    if not row_scan_built():
        log.warning("the C row scan (tidb2mysql/drainer/_rowscan.c) is not built, probably no C compiler at"
                    " install: this process tells the other processes' rows from its own in Python, ~1 us"
                    " more CPU per row of the topic (docs/performance.md); reinstall with gcc to build it")
    project = getattr(selector, "project", None)

    def interest(ts):
        p = project(ts) if project is not None else (ts, None)
        if p is None:
            return NO_ROWS  # not selected: its rows are dropped whole
        schema, keep = p
        want = router.interest(schema)
        if want is not None and want.key and keep is not None:
            want = dataclasses.replace(want, key=tuple([keep[i] for i in want.key]))
        return want

    return interest


class Pipeline:
    def __init__(
        self,
        decoder: Decoder,
        router: Router,
        topic: str,
        partition: int,
        skip_through_ts: int,
        dead_letter: Callable[[list[deadletter.DeadLetter]], None],
        strict: bool = False,
        selector: Selector = select_all,
        watermark_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.decoder = decoder
        self.router = router
        self.topic = topic
        self.partition = partition
        self.redelivery = RedeliveryFilter(skip_through_ts)
        self.dead_letter = dead_letter
        self.strict = strict
        self.selector = selector
        self.watermark_interval = watermark_interval
        self.clock = clock
        self.interest = reader_interest(router, selector)
        # Highest commit_ts whose message is routed COMPLETELY: watermarks carry it. A large
        # transaction being routed slice by slice is not complete until its last slice; a
        # watermark at its commit_ts would make shards treat its later slices as replays.
        self.last_ts = max(skip_through_ts, 0)
        self.last_offset = -1
        self.last_watermark = clock()
        self.messages = 0
        self.rows_seen = 0  # row changes of the accepted messages, every process's (sizes a source step)
        self.redeliveries = Redeliveries("drainer", "Drainer", "source", log)
        self.dead_letters = 0
        self._slice_accepted = False  # the current large message is being routed
        self._slice_counted = False  # ... and was not a redelivery

    def process(self, items: Iterable) -> Iterator[tuple[str, tuple]]:
        router = self.router
        for item in items:
            if isinstance(item, RawMessage):
                ev = self._decode(item)
                self.last_offset = item.offset
                if ev is None:
                    continue
                if not self.redelivery.accept(ev.commit_ts):
                    self._redelivered(item.offset, ev.commit_ts)
                    continue
                self.messages += 1
                self.last_ts = ev.commit_ts
                if ev.__class__ is Txn:
                    self.rows_seen += ev.row_count
                ev = self.selector(ev)
                if ev is None:
                    continue
                if isinstance(ev, Txn):
                    yield from router.route_txn(ev, item.offset)
                else:
                    yield from router.route_ddl(ev, item.offset)
            elif isinstance(item, TxnSlice):
                yield from self._slice(item)
            elif isinstance(item, Tick):
                pass
            elif isinstance(item, EndOfInput):
                yield from router.watermark(max(self.last_ts, item.last_commit_ts), self.last_offset, force=True)
                self.last_watermark = self.clock()
            else:
                raise TypeError(f"unexpected source item {type(item).__name__}")
        now = self.clock()
        if now - self.last_watermark >= self.watermark_interval:
            self.last_watermark = now
            yield from router.watermark(self.last_ts, self.last_offset)

    @property
    def redelivered(self) -> int:
        return self.redeliveries.count

    def _redelivered(self, offset: int, commit_ts: int) -> None:
        self.redeliveries.skipped(lambda: f"offset {offset}: commit_ts {commit_ts} is not above the last routed"
                                          f" {self.last_ts}: skipped as a Drainer re-delivery (the first of this"
                                          " run; all are counted)")

    def _slice(self, sl: TxnSlice) -> Iterator[tuple[str, tuple]]:
        if sl.first:
            self._slice_accepted = self._slice_counted = self.redelivery.accept(sl.commit_ts)
            if self._slice_accepted:
                self.messages += 1
            else:
                self._redelivered(sl.offset, sl.commit_ts)
        if sl.last and self._slice_counted:
            self.last_ts = sl.commit_ts  # complete once this last slice is routed (below)
        self.last_offset = sl.offset
        if not self._slice_accepted:
            return
        pos = KafkaPosition(self.topic, self.partition, sl.offset)
        try:
            tc = self.decoder.decode_slice(sl.binlog, pos, sl.table_index, sl.start, sl.end, self.interest)
        except DrainerDecodeError as e:
            if self.strict:
                raise
            self._slice_accepted = False  # the rest of this message is parked with it
            self.dead_letters += 1
            self.dead_letter([
                deadletter.DeadLetter(
                    "decode", f"{e} (large transaction: row changes before index {sl.first_index} were applied;"
                    " the rest of the message is not)", sl.binlog.SerializeToString(), topic=self.topic,
                    partition=self.partition, offset=sl.offset, commit_ts=sl.commit_ts, seq=2 * sl.first_index)
            ])
            return
        ev = self.selector(Txn(sl.commit_ts, [tc], pos))
        if ev is not None:
            yield from self.router.route_txn(ev, sl.offset, sl.first_index)

    def _decode(self, m: RawMessage) -> Optional[Event]:
        try:
            return self.decoder.decode(m.value, KafkaPosition(self.topic, self.partition, m.offset), self.interest)
        except DrainerDecodeError as e:
            if self.strict:
                raise
            self.dead_letters += 1
            self.dead_letter([
                deadletter.DeadLetter("decode", str(e), m.value, topic=self.topic, partition=self.partition,
                                      offset=m.offset, commit_ts=m.commit_ts or 0)
            ])
            return None


__all__ = ["EndOfInput", "Pipeline", "Selector", "Tick", "select_all", "DDL"]
