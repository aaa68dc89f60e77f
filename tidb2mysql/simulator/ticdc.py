"""Publishing the simulated workload as TiCDC would (canal-json or open protocol).

The simulator plays TiDB; this module plays TiCDC's Kafka sink (docs/ticdc.md, upstream
``cdc/sink/dmlsink/mq``, ``cdc/sink/ddlsink/mq``, ``pkg/sink/codec``):

* a transaction becomes one row event per changed row *key* (TiCDC reads TiKV's committed
  key-values, not statements: several changes of one row in a transaction fold into one net
  change); an UPDATE that changes a primary/unique key value is split into DELETE + INSERT and
  each table's rows are ordered deletes, updates, inserts (``trySplitAndSortUpdateEvent``,
  the Kafka default ``output-raw-change-event=false``);
* each row goes to the partition its dispatcher picks (:func:`partition_for`: table,
  index-value, ts, default = table);
* open protocol batches consecutive rows of a partition into one message (max-batch-size);
* a DDL goes to partition 0 (canal-json) or to every partition (open protocol);
* a watermark / resolved event goes to every partition.

Pure: returns ``(partition, key, value)`` triples; ``workload.py`` produces them to Kafka.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Optional

from tidb2mysql.drainer.values import zone_for
from tidb2mysql.events import DDL, Op, RowChange, TableSchema, Txn
from tidb2mysql.input import canal_json, open_protocol
from tidb2mysql.input.ticdc_values import go_text_renderers

TICDC_FORMATS = ("ticdc-canal-json", "ticdc-open-protocol")
DISPATCHERS = ("default", "table", "index-value", "ts")

Message = tuple[int, Optional[bytes], bytes]  # (partition, key, value)


@dataclass
class TiCDCOptions:
    format: str = "ticdc-canal-json"
    partitions: int = 1
    dispatcher: str = "table"  # TiCDC's partition dispatcher for every table
    max_batch_size: int = 16  # open protocol: rows per message (TiCDC's max-batch-size)
    split_key_updates: bool = True  # output-raw-change-event=false (TiCDC's default for Kafka)

    def validate(self) -> None:
        if self.format not in TICDC_FORMATS:
            raise ValueError(f"format {self.format!r} is not one of {', '.join(TICDC_FORMATS)}")
        if self.dispatcher not in DISPATCHERS:
            raise ValueError(f"dispatcher {self.dispatcher!r} is not one of {', '.join(DISPATCHERS)}")
        if self.partitions < 1 or self.max_batch_size < 1:
            raise ValueError("partitions and max_batch_size must be >= 1")


# ---------------------------------------------------------------- dispatchers


def handle_key(schema: TableSchema) -> tuple[int, ...]:
    """TiCDC's handle key columns: the primary key, else a unique key (the simulator's
    unique keys are NOT NULL; TiCDC takes the NOT NULL unique index with the fewest columns)."""
    if schema.pk:
        return schema.pk
    keys = [cols for _name, cols in schema.unique_keys if cols]
    return min(keys, key=len) if keys else ()


class Dispatcher:
    """Picks a row's partition exactly as TiCDC's partition dispatchers do
    (``cdc/sink/dmlsink/mq/dispatcher/partition``; hash ``pkg/hash/position_inertia.go``:
    XOR of CRC-32 (IEEE) over each written group of byte strings)."""

    def __init__(self, rule: str, partitions: int, time_zone: str = "UTC"):
        self.rule = "table" if rule == "default" else rule
        self.partitions = partitions
        self._zone = zone_for(time_zone)
        self._renderers: dict[int, tuple[TableSchema, list]] = {}

    def _value_bytes(self, schema: TableSchema, i: int, v: Any) -> bytes:
        """``model.ColumnValueString`` of the Go value TiCDC holds for native ``v``."""
        if v is None:
            return b"null"
        hit = self._renderers.get(id(schema))
        if hit is None or hit[0] is not schema:  # the schema is kept, so its id stays unique
            hit = self._renderers[id(schema)] = (schema, go_text_renderers(schema, self._zone))
        r = hit[1]
        out = r[i](v)
        return out if isinstance(out, bytes) else out.encode("utf-8")

    def partition(self, schema: TableSchema, change: RowChange, commit_ts: int) -> int:
        n = self.partitions
        if self.rule == "ts":
            return commit_ts % n
        h = zlib.crc32(schema.schema.encode() + schema.table.encode())
        if self.rule == "index-value":
            row = change.new if change.new is not None else change.old
            for i in sorted(handle_key(schema)):  # in column order, as dispatchCols are
                h ^= zlib.crc32(schema.columns[i].encode() + self._value_bytes(schema, i, row[i]))
        return h % n


# ---------------------------------------------------------------- TiCDC's view of a transaction


def _key(schema: TableSchema, row: tuple, cols: tuple[int, ...]) -> tuple:
    return tuple(row[i] for i in cols)


def net_changes(schema: TableSchema, rows: list[RowChange], split_key_updates: bool = True) -> list[RowChange]:
    """The row events TiCDC emits for one table of one transaction.

    Changes are folded per handle key (one event per row key, from its state before the
    transaction to its state at commit); key-changing updates become DELETE + INSERT; the
    result is ordered deletes, updates, inserts. A table without any key is keyed by TiDB's
    hidden row id, which the simulator does not have: each row is followed through the
    transaction by its image instead (identical rows are indistinguishable anyway).
    """
    key = handle_key(schema)
    state: dict = {}  # row key -> [before image or None, after image or None]
    order: list = []

    def touch(k, before: Optional[tuple]) -> list:
        s = state.get(k)
        if s is None:
            s = state[k] = [before, before]
            order.append(k)
        return s

    if not key:
        # TiDB's hidden row id is the key: follow each row through the transaction by its image
        def find(image: tuple):
            for k in reversed(order):
                if state[k][1] == image:
                    return k
            return None

        for rc in rows:
            if rc.op == Op.INSERT:
                touch(len(order), None)[1] = rc.new
            else:
                k = find(rc.old)
                s = touch(len(order), rc.old) if k is None else state[k]
                s[1] = rc.new if rc.op == Op.UPDATE else None
    else:
        for rc in rows:
            if rc.op == Op.INSERT:
                touch(_key(schema, rc.new, key), None)[1] = rc.new
            elif rc.op == Op.DELETE:
                touch(_key(schema, rc.old, key), rc.old)[1] = None
            else:
                k_old, k_new = _key(schema, rc.old, key), _key(schema, rc.new, key)
                if k_old == k_new:
                    touch(k_old, rc.old)[1] = rc.new
                else:
                    touch(k_old, rc.old)[1] = None
                    touch(k_new, None)[1] = rc.new
    events = []
    for k in order:
        before, after = state[k]
        if before is None and after is None:
            continue
        if before is None:
            events.append(RowChange(Op.INSERT, after, None))
        elif after is None:
            events.append(RowChange(Op.DELETE, None, before))
        elif before != after:
            events.append(RowChange(Op.UPDATE, after, before))
    keyed = {i for _name, cols in schema.unique_keys for i in cols} | set(schema.pk)
    out: list[RowChange] = []
    for rc in events:
        if split_key_updates and rc.op == Op.UPDATE and any(rc.old[i] != rc.new[i] for i in keyed):
            out += [RowChange(Op.DELETE, None, rc.old), RowChange(Op.INSERT, rc.new, None)]
        else:
            out.append(rc)
    # TiCDC sorts a split transaction deletes, updates, inserts; a clustered primary-key
    # change is a delete and an insert of two row keys already. Sorted always: one of the
    # orders TiCDC can produce, and the one a consumer must be able to apply.
    out.sort(key=lambda rc: 0 if rc.op == Op.DELETE else 1 if rc.op == Op.UPDATE else 2)
    return out


# ---------------------------------------------------------------- the publisher


class TiCDCPublisher:
    """Turns transactions, DDL and resolved timestamps into TiCDC's Kafka messages."""

    def __init__(self, opts: TiCDCOptions, time_zone: str = "UTC"):
        opts.validate()
        self.opts = opts
        self.time_zone = time_zone
        self.dispatcher = Dispatcher(opts.dispatcher, opts.partitions, time_zone)

    def txn(self, txn: Txn) -> list[Message]:
        """The row messages of one transaction, per partition in TiCDC's order."""
        per_partition: dict[int, list[tuple[TableSchema, RowChange]]] = {}
        for tc in txn.tables:
            for rc in net_changes(tc.schema, tc.rows, self.opts.split_key_updates):
                p = self.dispatcher.partition(tc.schema, rc, txn.commit_ts)
                per_partition.setdefault(p, []).append((tc.schema, rc))
        out: list[Message] = []
        for p in sorted(per_partition):
            if self.opts.format == "ticdc-canal-json":
                out += [(p, None, canal_json.encode_row(s, rc, txn.commit_ts, self.time_zone))
                        for s, rc in per_partition[p]]
            else:
                batch = open_protocol.BatchEncoder(self.opts.max_batch_size)
                for s, rc in per_partition[p]:
                    batch.append(*open_protocol.encode_row_event(s, rc, txn.commit_ts, self.time_zone))
                out += [(p, k, v) for k, v in batch.build()]
        return out

    def ddl(self, ddl: DDL) -> list[Message]:
        """canal-json: partition 0 only; open protocol: every partition (mq_ddl_sink.go)."""
        if self.opts.format == "ticdc-canal-json":
            return [(0, None, canal_json.encode_ddl(ddl))]
        k, v = open_protocol.encode_ddl(ddl)
        return [(p, k, v) for p in range(self.opts.partitions)]

    def watermark(self, resolved_ts: int) -> list[Message]:
        """A resolved event on every partition (mq_ddl_sink.go WriteCheckpointTs)."""
        if self.opts.format == "ticdc-canal-json":
            v = canal_json.encode_watermark(resolved_ts)
            return [(p, None, v) for p in range(self.opts.partitions)]
        k, v = open_protocol.encode_resolved(resolved_ts)
        return [(p, k, v) for p in range(self.opts.partitions)]


__all__ = ["DISPATCHERS", "Dispatcher", "TICDC_FORMATS", "TiCDCOptions", "TiCDCPublisher", "handle_key",
           "net_changes"]
