"""Resolved-ts ordering of TiCDC input: what may be applied, in which order, as which unit.

Why: TiCDC spreads one transaction's rows over many Kafka messages and, with the index-value
or ts dispatcher, over partitions; a partition is ordered only per table; TiCDC re-sends after
its own restarts (at-least-once). What it guarantees (docs/ticdc.md, "Ordering and
atomicity"): in every partition, a resolved event (canal-json WATERMARK, open-protocol
resolved) with ``ts`` comes after every row of that partition with ``commit_ts <= ts``; rows
of one table in one partition come in commit_ts order; a DDL is sent to every partition after
the rows before it. It does not make a transaction atomic downstream, nor order partitions
against each other. This module adds that, as pure logic (no Kafka, no Bytewax, no database):

* :class:`PartitionFilter` (one per Kafka partition, on the reading side): drops what this
  partition already delivered - a row below the partition's resolved ts or below the highest
  commit_ts already seen for its table there, a resolved ts that goes back, a DDL seen before
  (the rules of TiCDC's own consumer, ``cmd/kafka-consumer/writer.go`` ``isOldMessage`` /
  ``checkOldMessageForWatermark``).
* :class:`ResolvedGate` (one per shard, in front of its :class:`~.shard.ShardApplier`):
  holds the shard's routed rows per commit_ts until the *global* resolved ts - the minimum
  over all partitions of the latest resolved ts each delivered - reaches them, then hands
  them over in commit_ts order, all rows of one commit_ts (from every partition) as ONE
  :class:`~.change.ShardChunk`, followed by a :class:`~.change.Watermark` at the new resolved
  ts. The applier's flush therefore always writes whole transactions and its checkpoint
  ``(resolved_ts, MAX_SEQ)`` in the same target transaction: a shard's part of a transaction
  is applied entirely or not at all. A DDL (a :class:`~.change.Barrier`) is taken from
  partition 0 (canal-json sends it there only, the open protocol to every partition) and
  handed over once the global resolved ts reached its commit_ts: every partition has then
  delivered everything before it (and, with the open protocol, the DDL itself). It then goes
  through the usual crash-safe barrier (replication/barrier.py). Rows at or below what was
  already handed over are dropped (redeliveries); what the applier already applied is
  skipped by its checkpoint.

Memory: the gate's held rows keep their share of the process's byte budget
(replication/backlog.py) until applied; :class:`ReadGate` tells a partition's reader to pause
while the budget is full unless it is the one holding the global resolved ts back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Optional

from tidb2mysql.replication.backlog import Backlog
from tidb2mysql.events import DDL, Op
from tidb2mysql.replication.change import Barrier, Change, ShardChunk, Watermark


@dataclass(slots=True)
class PartitionResolved:
    """Sent by a partition's reader to every shard: every change of Kafka partition
    ``partition`` with ``commit_ts <= ts`` has been routed."""

    ts: int
    offset: int = -1


# ---------------------------------------------------------------------------------------
# Reading side: one per Kafka partition.


@dataclass
class PartitionFilter:
    """Redelivery filter of one Kafka partition (picklable: it is part of the source snapshot)."""

    resolved: int = -1  # latest resolved ts delivered on this partition
    table_high: dict = field(default_factory=dict)  # (schema, table) -> highest commit_ts seen
    ddl_high: int = -1  # commit_ts of the latest DDL seen on this partition
    ddl_queries: tuple = ()  # the queries seen at ddl_high (several DDLs may share a commit_ts)

    def row_is_old(self, schema: str, table: str, commit_ts: int) -> bool:
        """A row below the partition's resolved ts, or below its table's latest commit_ts here,
        was delivered before (TiCDC re-sends from its checkpoint after a restart)."""
        if commit_ts <= self.resolved:
            return True
        k = (schema, table)
        if commit_ts < self.table_high.get(k, -1):
            return True
        self.table_high[k] = commit_ts
        return False

    def ddl_is_old(self, commit_ts: int, query: str = "") -> bool:
        """A DDL below the latest one seen here, or that one again (TiCDC dedups by commit_ts
        and query: a split multi-table DDL is several DDLs with one commit_ts)."""
        if commit_ts <= self.resolved or commit_ts < self.ddl_high:
            return True
        if commit_ts == self.ddl_high:
            if query in self.ddl_queries:
                return True
            self.ddl_queries += (query,)
            return False
        self.ddl_high, self.ddl_queries = commit_ts, (query,)
        return False

    def advance(self, resolved_ts: int) -> bool:
        """True when ``resolved_ts`` moves this partition forward (a stale one is dropped)."""
        if resolved_ts <= self.resolved:
            return False
        self.resolved = resolved_ts
        # Tables seen at or below the resolved ts need no entry any more (bounded state).
        if len(self.table_high) > 64:
            self.table_high = {k: v for k, v in self.table_high.items() if v > resolved_ts}
        return True


class ReadGate:
    """Per process: the latest resolved ts of each partition read here, and the byte budget.

    A partition's reader pauses while the budget is full, unless its resolved ts is the lowest
    of the process: that partition holds the global resolved ts back, so reading it is what
    lets the held rows be applied and the budget drain (no deadlock)."""

    def __init__(self, backlog: Backlog):
        self.backlog = backlog
        self._marks: dict[int, int] = {}
        self._lock = threading.Lock()

    def note(self, partition: int, resolved_ts: int) -> None:
        with self._lock:
            if resolved_ts > self._marks.get(partition, -1):
                self._marks[partition] = resolved_ts

    def register(self, partition: int) -> None:
        with self._lock:
            self._marks.setdefault(partition, -1)

    def may_read(self, partition: int) -> bool:
        if not self.backlog.full:
            return True
        with self._lock:
            mine = self._marks.get(partition, -1)
            return mine <= min(self._marks.values(), default=-1)


# ---------------------------------------------------------------------------------------
# Applying side: one per shard.


@dataclass
class GateState:
    """What Bytewax snapshots for one shard's gate (picklable)."""

    partitions: int
    marks: list = field(default_factory=list)  # latest resolved ts per Kafka partition
    rows: dict = field(default_factory=dict)  # commit_ts -> [(partition, offset, ShardChunk)]
    ddls: dict = field(default_factory=dict)  # commit_ts -> Barrier (from partition 0)
    handed: int = -1  # everything at or below this commit_ts was handed to the applier
    sent: int = -1  # the last watermark handed to the applier
    queue: list = field(default_factory=list)  # handed over, waiting for the applier to pass a DDL barrier
    held_bytes: int = 0  # byte-budget share of the held rows

    def __post_init__(self):
        if not self.marks:
            self.marks = [-1] * self.partitions


class ResolvedGate:
    """Holds one shard's rows until resolved on every partition; see the module docstring."""

    def __init__(self, state: GateState, backlog: Optional[Backlog] = None, restored: bool = False):
        self.st = state
        self.backlog = backlog or Backlog(1 << 62)
        if restored:
            self.backlog.add(state.held_bytes)  # a new process: the restored rows count again

    @property
    def resolved(self) -> int:
        """The global resolved ts as this shard knows it (-1 until every partition spoke)."""
        return min(self.st.marks)

    def start_after(self, commit_ts: int) -> None:
        """The shard's target checkpoint says everything through ``commit_ts`` is applied."""
        if commit_ts > self.st.handed:
            self.st.handed = self.st.sent = commit_ts
            self._drop_through(commit_ts)

    def add(self, partition: int, item) -> list:
        """One routed item from Kafka partition ``partition``; returns what the applier may
        process now, in order (chunks, barriers, then a watermark)."""
        st = self.st
        if isinstance(item, PartitionResolved):
            if item.ts > st.marks[partition]:
                st.marks[partition] = item.ts
                return self._release()
            return []
        if isinstance(item, ShardChunk):
            if item.commit_ts <= st.handed:
                self.backlog.settle(item.nbytes)  # a redelivery of what was handed over
                return []
            self.backlog.add(item.nbytes)
            st.held_bytes += item.nbytes
            st.rows.setdefault(item.commit_ts, []).append((partition, item.offset, item))
            return []
        if isinstance(item, Barrier):
            # TiCDC's canal-json sends a DDL to partition 0 only, the open protocol to every
            # partition: like TiCDC's own consumer, take it from partition 0 and run it once
            # the global resolved ts reached it (every partition then delivered what precedes
            # it, and, for the open protocol, the DDL itself).
            ts = item.ddl.commit_ts
            if partition != 0 or ts <= st.handed:
                return []
            held = st.ddls.get(ts)
            if held is None:
                st.ddls[ts] = item
            elif item.ddl.query not in held.ddl.query.split(";\n"):
                # Several DDLs of one commit_ts (a split multi-table DDL): one barrier, its
                # statements in order (the barrier protocol keys a DDL by its commit_ts).
                d = held.ddl
                st.ddls[ts] = Barrier(DDL(ts, d.schema, d.table, d.query + ";\n" + item.ddl.query, d.position),
                                      held.offset)
            return self._release()
        raise TypeError(f"unexpected item for the resolved-ts gate: {type(item).__name__}")

    def _release(self) -> list:
        st = self.st
        r = min(st.marks)
        out: list = []
        for ts in sorted({t for t in (*st.rows, *st.ddls) if t <= r}):
            if ts in st.rows:  # (no row shares a DDL's commit_ts in TiDB; rows first anyway)
                out.append(self._merge(ts))
            if ts in st.ddls:
                out.append(st.ddls.pop(ts))
        if r > st.handed:
            st.handed = r
        if st.handed > st.sent:
            st.sent = st.handed
            out.append(Watermark(st.handed))
        return out

    def _merge(self, ts: int) -> ShardChunk:
        """All rows of transaction ``ts`` for this shard as one chunk, in a deterministic order
        (partition, offset, order in the message): positions (ts, seq) numbered again."""
        parts = self.st.rows.pop(ts)
        parts.sort(key=lambda p: (p[0], p[1]))
        ordered: list[Change] = []
        nbytes = 0
        offset = -1
        for _p, off, chunk in parts:
            nbytes += chunk.nbytes
            offset = max(offset, off)
            ordered.extend(chunk.changes)
        # Deletes, then updates, then inserts, as TiCDC orders a table's transaction: the two
        # halves of a split key update may come from different partitions. (A stable sort: a
        # row has one change per transaction, or a delete before its insert.)
        ordered.sort(key=_op_rank)
        changes = [Change(ts, seq, ch.schema, ch.op, ch.new, ch.old) for seq, ch in enumerate(ordered)]
        self.st.held_bytes -= nbytes
        # The bytes stay charged: the applier settles them when it applies or skips the chunk.
        return ShardChunk(ts, changes, offset, nbytes)

    def _drop_through(self, ts: int) -> None:
        st = self.st
        for t in [t for t in st.rows if t <= ts]:
            for _p, _o, chunk in st.rows.pop(t):
                st.held_bytes -= chunk.nbytes
                self.backlog.settle(chunk.nbytes)
        for t in [t for t in st.ddls if t <= ts]:
            del st.ddls[t]


def _op_rank(ch: Change) -> int:
    return _RANK[ch.op]


_RANK = {Op.DELETE: 0, Op.UPDATE: 1, Op.INSERT: 2}

__all__ = ["GateState", "PartitionFilter", "PartitionResolved", "ReadGate", "ResolvedGate"]
