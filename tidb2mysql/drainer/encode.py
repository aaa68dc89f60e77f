"""``Txn``/``DDL`` -> Drainer Kafka message bytes, exactly as Drainer writes them.

Used by the simulator (which plays TiDB + Pump + Drainer) and by tests, so it must write
what ``drainer/translator/kafka.go`` writes and nothing else:

* ``Binlog.type`` is always written (gogo's non-nullable marshaller writes it even for
  DML = 0) and so is ``commit_ts``; ``time_zone`` is never set.
* every ``ColumnInfo`` field is written (name, mysql_type, is_primary_key, flen, decimal);
* ``unique_keys`` as (name, column names), PRIMARY first as the schema lists them;
* a mutation's ``row`` is the new image for Insert/Update and the deleted row for
  Delete; ``change_row`` (the before image) only for Update;
* ``Column.is_null`` is written only for NULL values; otherwise exactly one value field
  (see :mod:`tidb2mysql.drainer.values`).

Native values that Drainer could never have produced for the column (NaN, out-of-range
integers, extra fractional digits, wrong Python types) raise ``ValueError`` naming the
table, column and row.
"""

from __future__ import annotations

from typing import Any

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer.values import encoder_for, zone_for
from tidb2mysql.events import DDL, Op, TableSchema, Txn


def _encoders(schema: TableSchema, zone: Any) -> list:
    return [encoder_for(t, flen, dec, uns, zone) for t, flen, dec, uns in schema.column_specs()]


def _fill_row(out: Any, values: Any, encoders: list, schema: TableSchema, where: str) -> None:
    if values is None or len(values) != len(encoders):
        raise ValueError(
            f"table {schema.qualified} {where}: row image {values!r} does not have "
            f"{len(encoders)} columns"
        )
    cols = out.columns
    for i, (v, enc) in enumerate(zip(values, encoders)):
        c = cols.add()
        if v is None:
            c.is_null = True
            continue
        try:
            enc(v, c)
        except ValueError as e:
            raise ValueError(
                f"table {schema.qualified} {where} column {schema.columns[i]!r} "
                f"({schema.types[i]}): {e}"
            ) from None


def encode_txn(txn: Txn, time_zone: str) -> bytes:
    """The Drainer DML message for one transaction; TIMESTAMPs rendered in ``time_zone``."""
    zone = zone_for(time_zone)
    b = pb.Binlog()
    b.type = pb.DML
    b.commit_ts = txn.commit_ts
    b.dml_data.SetInParent()  # present even for an empty transaction
    for tc in txn.tables:
        s = tc.schema
        t = b.dml_data.tables.add()
        t.schema_name = s.schema
        t.table_name = s.table
        encoders = _encoders(s, zone)
        pk = set(s.pk)
        flen = s.flen or (0,) * len(s.columns)
        dec = s.decimal or (0,) * len(s.columns)
        for i, name in enumerate(s.columns):
            ci = t.column_info.add()
            ci.name = name
            ci.mysql_type = s.types[i]
            ci.is_primary_key = i in pk
            ci.flen = flen[i]
            ci.decimal = dec[i]
        for key_name, idxs in s.unique_keys:
            k = t.unique_keys.add()
            k.name = key_name
            k.column_names.extend(s.columns[i] for i in idxs)
        for n, rc in enumerate(tc.rows):
            m = t.mutations.add()
            m.type = int(rc.op)
            where = f"row {n} ({rc.op.name})"
            if rc.op == Op.INSERT:
                _fill_row(m.row, rc.new, encoders, s, where)
            elif rc.op == Op.UPDATE:
                _fill_row(m.row, rc.new, encoders, s, where + " new image")
                _fill_row(m.change_row, rc.old, encoders, s, where + " old image")
            elif rc.op == Op.DELETE:
                _fill_row(m.row, rc.old, encoders, s, where)
            else:  # pragma: no cover - Op is a closed enum
                raise ValueError(f"unknown op {rc.op!r}")
    return b.SerializeToString()


def encode_ddl(ddl: DDL) -> bytes:
    """The Drainer DDL message: query as UTF-8 bytes, schema/table as given."""
    b = pb.Binlog()
    b.type = pb.DDL
    b.commit_ts = ddl.commit_ts
    d = b.ddl_data
    d.schema_name = ddl.schema
    d.table_name = ddl.table
    d.ddl_query = ddl.query.encode("utf-8")
    return b.SerializeToString()


__all__ = ["encode_ddl", "encode_txn"]
