"""A deliberately simple TiCDC consumer for tests: all partitions' decoded events -> the
ordered list of whole transactions and DDL to apply (the oracle for the TiCDC codecs).

Mirrors TiCDC's own consumer (``cmd/kafka-consumer/writer.go``), offline and plainly:

* partitions are read round-robin, one watermark interval at a time;
* a partition's watermark is the highest it has delivered; the global resolved ts is the
  minimum over all partitions; rows and DDL at or below it are released in commit_ts order,
  the rows of one commit_ts (from every partition and table) as ONE transaction;
* inside a transaction, each table's rows go deletes, updates, inserts (TiCDC splits
  key-changing updates into delete + insert and may put the halves on different partitions);
* DDL is taken from partition 0 only (canal-json sends it there; the open protocol to every
  partition) and deduplicated by (commit_ts, query);
* redeliveries (the simulator's TiCDC restart re-sends every partition from an earlier
  watermark, that watermark first): rows at or below the partition's watermark are dropped,
  and a watermark not above the partition's highest one drops the rows buffered since (they
  come again). A real TiCDC need not repeat the watermark: the flow must apply the rows of
  a replay window idempotently instead.

The real flow does this streaming, crash-safely and in parallel; this is only the yardstick.
"""

from __future__ import annotations

from tidb2mysql.events import DDL, Op, TableChanges, Txn
from tidb2mysql.input.codec import Watermark

_ORDER = {Op.DELETE: 0, Op.UPDATE: 1, Op.INSERT: 2}


def assemble(per_partition: list[list]) -> tuple[list[Txn | DDL], dict]:
    """``per_partition[p]`` = decoded events of partition p in offset order.

    Returns (events to apply in order, counters)."""
    n = len(per_partition)
    pos = [0] * n
    marks = [0] * n
    buffers: list[list[tuple[int, TableChanges]]] = [[] for _ in range(n)]
    ddls: list[DDL] = []
    ddl_seen: set[tuple[int, str]] = set()
    out: list[Txn | DDL] = []
    stats = {"replayed_rows": 0, "replays": 0, "ddl_copies": 0}
    released = 0
    while any(pos[p] < len(per_partition[p]) for p in range(n)):
        for p in range(n):  # one watermark interval of each partition
            events = per_partition[p]
            while pos[p] < len(events):
                e = events[pos[p]]
                pos[p] += 1
                if isinstance(e, Watermark):
                    if e.resolved_ts <= marks[p]:  # a restart re-sends from here (the simulator
                        # never repeats a watermark otherwise)
                        stats["replays"] += 1
                        stats["replayed_rows"] += sum(len(tc.rows) for _ts, tc in buffers[p])
                        buffers[p].clear()
                    else:
                        marks[p] = e.resolved_ts
                        break
                elif isinstance(e, DDL):
                    key = (e.commit_ts, e.query)
                    if p != 0 or key in ddl_seen or e.commit_ts <= released:
                        stats["ddl_copies"] += 1
                        continue
                    ddl_seen.add(key)
                    ddls.append(e)
                else:
                    if e.commit_ts <= marks[p]:
                        stats["replayed_rows"] += e.row_count
                        continue
                    buffers[p] += [(e.commit_ts, tc) for tc in e.tables]
        resolved = min(marks)
        if resolved <= released:
            continue
        ready: dict[int, list[TableChanges]] = {}
        for p in range(n):
            keep = []
            for ts, tc in buffers[p]:
                if ts <= resolved:
                    ready.setdefault(ts, []).append(tc)
                else:
                    keep.append((ts, tc))
            buffers[p] = keep
        todo: list = [(ts, 1, _txn(ts, tcs)) for ts, tcs in ready.items()]
        todo += [(d.commit_ts, 0, d) for d in ddls if d.commit_ts <= resolved]
        ddls = [d for d in ddls if d.commit_ts > resolved]
        out += [e for _ts, _k, e in sorted(todo, key=lambda x: (x[0], x[1]))]
        released = resolved
    leftover = sum(len(b) for b in buffers) + len(ddls)
    stats["unresolved"] = leftover
    return out, stats


def _txn(ts: int, tcs: list[TableChanges]) -> Txn:
    by_table: dict[tuple[str, str], list] = {}
    schemas = {}
    for tc in tcs:
        k = (tc.schema.schema, tc.schema.table)
        by_table.setdefault(k, []).extend((rc, tc.schema) for rc in tc.rows)
        schemas.setdefault(k, tc.schema)
    tables = []
    for k, rows in by_table.items():
        rows.sort(key=lambda r: _ORDER[r[0].op])
        # one TableChanges per (table, message schema) run, order kept
        cur: TableChanges | None = None
        for rc, schema in rows:
            if cur is None or cur.schema is not schema:
                cur = TableChanges(schema, [])
                tables.append(cur)
            cur.rows.append(rc)
    return Txn(ts, tables)
