"""Decoder: message structure, image placement, key mapping, wire presence, and every error."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn

POS = KafkaPosition("topic-x", 3, 987654321)

S = TableSchema(
    "shop", "orders", ("id", "code", "amount", "note"), ("bigint", "varchar", "decimal", "text"),
    (20, 32, 12, 65535), (0, 0, 2, 0), pk=(0,),
    unique_keys=(("PRIMARY", (0,)), ("uk_code", (1,))),
)


def txn(*rows: RowChange, commit_ts: int = 42) -> Txn:
    return Txn(commit_ts, [TableChanges(S, list(rows))])


R1 = (1, "a", Decimal("1.50"), "x")
R2 = (1, "b", Decimal("2.00"), None)


def test_image_placement_on_the_wire_and_back():
    t = txn(RowChange(Op.INSERT, R1, None), RowChange(Op.UPDATE, R2, R1), RowChange(Op.DELETE, None, R2))
    payload = encode_txn(t, "UTC")
    b = pb.Binlog()
    b.ParseFromString(payload)
    ms = b.dml_data.tables[0].mutations
    # Update: row = new (after) image, change_row = old (before) image; Delete: row = deleted row.
    assert [m.type for m in ms] == [pb.Insert, pb.Update, pb.Delete]
    assert ms[0].row.columns[1].string_value == "a" and not ms[0].HasField("change_row")
    assert ms[1].row.columns[1].string_value == "b" and ms[1].change_row.columns[1].string_value == "a"
    assert ms[2].row.columns[1].string_value == "b" and not ms[2].HasField("change_row")
    got = Decoder("UTC").decode(payload, POS)
    assert got == Txn(42, t.tables, POS)
    assert got.tables[0].rows[1].new == R2 and got.tables[0].rows[1].old == R1
    assert got.tables[0].rows[2].old == R2 and got.tables[0].rows[2].new is None


def test_schema_fields_keys_primary_first():
    b = pb.Binlog(type=pb.DML, commit_ts=7)
    t = b.dml_data.tables.add(schema_name="s", table_name="t")
    for name, typ, pk in (("a", "INT", False), ("b", "varchar", True), ("c", "int", True)):
        t.column_info.add(name=name, mysql_type=typ, is_primary_key=pk, flen=11, decimal=-1)
    t.unique_keys.add(name="uk_a", column_names=["a"])
    t.unique_keys.add(name="PRIMARY", column_names=["c", "b"])
    got = Decoder().decode(b.SerializeToString(), POS).tables[0].schema
    assert got.types == ("int", "varchar", "int")  # lower-cased
    assert got.pk == (1, 2)
    assert got.unique_keys == (("PRIMARY", (2, 1)), ("uk_a", (0,)))
    assert got.flen == (11, 11, 11) and got.decimal == (-1, -1, -1)
    assert got.unsigned == ()  # Drainer does not carry signedness


def test_empty_tables_is_a_valid_empty_txn_and_multi_table():
    assert Decoder().decode(encode_txn(Txn(9, []), "UTC"), POS) == Txn(9, [], POS)
    b = pb.Binlog(type=pb.DML, commit_ts=9)
    assert Decoder().decode(b.SerializeToString() + bytes([0x1A, 0]), POS) == Txn(9, [], POS)
    t = Txn(5, [TableChanges(S, [RowChange(Op.INSERT, R1, None)]), TableChanges(S, [RowChange(Op.DELETE, None, R2)])])
    assert Decoder().decode(encode_txn(t, "UTC"), POS).tables == t.tables


def test_ddl_roundtrip_and_wire():
    d = DDL(123, "shop", "orders", "ALTER TABLE orders ADD COLUMN x INT /*T! AUTO_RANDOM */ -- é😀")
    payload = encode_ddl(d)
    b = pb.Binlog()
    b.ParseFromString(payload)
    assert b.type == pb.DDL and b.ddl_data.ddl_query == d.query.encode()
    assert not b.HasField("dml_data") and not b.HasField("time_zone")
    assert Decoder().decode(payload, POS) == DDL(123, "shop", "orders", d.query, POS)
    empty = DDL(1, "newdb", "", "CREATE DATABASE newdb")
    assert Decoder().decode(encode_ddl(empty), POS) == DDL(1, "newdb", "", "CREATE DATABASE newdb", POS)


def test_field_presence_as_upstream_go_reads_it():
    """Bytes as gogo writes them: type always (even DML=0), every ColumnInfo field, is_null only for NULL."""
    s = TableSchema("d", "t", ("a", "b", "c", "d"), ("int", "int", "varchar", "blob"), (11, 11, 8, 0), (0, 0, 0, 0), unsigned=(1,))
    payload = encode_txn(Txn(1, [TableChanges(s, [RowChange(Op.INSERT, (0, 0, "", None), None)])]), "Asia/Shanghai")
    assert payload.startswith(b"\x08\x00\x10\x01")  # field 1 type=0 (DML) written, then commit_ts=1
    b = pb.Binlog()
    b.ParseFromString(payload)
    assert b.HasField("type") and not b.HasField("time_zone") and not b.HasField("ddl_data")
    ci = b.dml_data.tables[0].column_info[0]
    assert [f.name for f, _ in ci.ListFields()] == ["name", "mysql_type", "is_primary_key", "flen", "decimal"]
    cols = b.dml_data.tables[0].mutations[0].row.columns
    assert cols[0].SerializeToString() == b"\x10\x00"  # int64_value=0 present, no is_null
    assert cols[1].SerializeToString() == b"\x18\x00"  # uint64_value=0
    assert cols[2].SerializeToString() == b"\x32\x00"  # string_value="" present
    assert cols[3].SerializeToString() == b"\x08\x01"  # is_null=true only
    assert b.dml_data.tables[0].mutations[0].type == pb.Insert
    assert b.dml_data.tables[0].mutations[0].HasField("type")


def test_absent_value_field_reads_empty_like_go():
    # gogo omits a nil []byte, so an empty blob/string may arrive with no value field at all.
    b = pb.Binlog(type=pb.DML, commit_ts=1)
    t = b.dml_data.tables.add(schema_name="s", table_name="t")
    t.column_info.add(name="a", mysql_type="blob")
    t.column_info.add(name="b", mysql_type="varchar")
    m = t.mutations.add(type=pb.Insert)
    m.row.columns.add()
    m.row.columns.add()
    assert Decoder().decode(b.SerializeToString(), POS).tables[0].rows[0].new == (b"", "")


# ------------------------------------------------------------------ errors


def expect_error(payload, match: str, pos: KafkaPosition = POS) -> DrainerDecodeError:
    with pytest.raises(DrainerDecodeError, match=match) as ei:
        Decoder("UTC").decode(payload, pos)
    e = ei.value
    assert isinstance(e, ValueError)
    assert "topic 'topic-x' partition 3 offset 987654321" in str(e)
    assert e.position == pos
    assert e.payload_size == (0 if payload is None else len(payload))
    return e


def one_table(types=("int",), values=None, op=pb.Insert) -> pb.Binlog:
    b = pb.Binlog(type=pb.DML, commit_ts=5)
    t = b.dml_data.tables.add(schema_name="s", table_name="t")
    for i, ty in enumerate(types):
        t.column_info.add(name=f"c{i}", mysql_type=ty)
    m = t.mutations.add(type=op)
    for v in values or [pb.Column(int64_value=1)]:
        m.row.columns.add().CopyFrom(v)
    return b


def test_error_none_payload():
    expect_error(None, "None")


def test_error_random_and_truncated_bytes():
    good = encode_txn(txn(RowChange(Op.INSERT, R1, None)), "UTC")
    expect_error(good[:-3], "protobuf parse error")
    expect_error(b"\xff" * 40, "protobuf parse error")
    for seed in range(20):  # seeded, so every case is reproducible and must fail
        expect_error(random.Random(seed).randbytes(64) + b"\xff", "protobuf parse error|BinlogType|commit_ts|dml_data|ddl_data")


def test_error_missing_required_mutation_fields():
    # A mutation without `row` (required): type only.
    bad = pb.Binlog(type=pb.DML, commit_ts=5)
    t = bad.dml_data.tables.add(schema_name="s", table_name="t")
    t.mutations.add(type=pb.Insert)
    expect_error(bad.SerializePartialToString(), "mutation 0: mutation without row")


def test_error_unknown_binlog_type_and_mutation_type():
    # field 1 varint 7: not a BinlogType; proto2 moves it to unknown fields.
    expect_error(b"\x08\x07\x10\x05", "unknown BinlogType")
    # MutationType 9 is unknown -> the required `type` is missing -> parse error
    b2 = pb.Binlog(type=pb.DML, commit_ts=5)
    t = b2.dml_data.tables.add()
    raw_mut = b"\x08\x09\x12\x00"  # type=9, row={}
    table_bytes = t.SerializeToString() + b"\x22" + bytes([len(raw_mut)]) + raw_mut
    dml = b"\x0a" + bytes([len(table_bytes)]) + table_bytes
    msg = b"\x08\x00\x10\x05\x1a" + bytes([len(dml)]) + dml
    expect_error(msg, "mutation 0: missing or unknown MutationType")


def test_error_missing_commit_ts():
    expect_error(b"\x08\x00\x1a\x00", "missing commit_ts")


def test_error_dml_without_dml_data_and_ddl_without_ddl_data():
    expect_error(pb.Binlog(type=pb.DML, commit_ts=1).SerializeToString(), "DML message without dml_data")
    expect_error(pb.Binlog(type=pb.DDL, commit_ts=1).SerializeToString(), "DDL message without ddl_data")


def test_error_ddl_query_invalid_utf8():
    b = pb.Binlog(type=pb.DDL, commit_ts=1)
    b.ddl_data.ddl_query = b"CREATE TABLE \xff\xfe"
    expect_error(b.SerializeToString(), "not valid UTF-8")


def test_error_column_count_mismatch():
    b = one_table(types=("int", "int"), values=[pb.Column(int64_value=1)])
    expect_error(b.SerializeToString(), r"table s.t \(#0\) mutation 0: row has 1 columns but column_info has 2")


@pytest.mark.parametrize(
    "mysql_type, col, match",
    [
        ("int", pb.Column(string_value="1"), "column 'c0': expected int64_value or uint64_value, got string_value"),
        ("int", pb.Column(), "expected int64_value or uint64_value, got no value field"),
        ("varchar", pb.Column(int64_value=0), "expected string_value, got int64_value"),
        ("blob", pb.Column(string_value=""), "expected bytes_value, got string_value"),
        ("double", pb.Column(int64_value=0), "expected double_value"),
        ("enum", pb.Column(int64_value=0), "expected uint64_value"),
        ("decimal", pb.Column(string_value="abc"), "invalid DECIMAL"),
        ("decimal", pb.Column(string_value="NaN"), "invalid DECIMAL"),
        ("date", pb.Column(string_value="2020-02-30"), "invalid DATE"),
        ("date", pb.Column(string_value="20200101"), "invalid DATE"),
        ("datetime", pb.Column(string_value="2020-01-01T00:00:00Z"), "invalid DATETIME"),
        ("timestamp", pb.Column(string_value="yesterday"), "invalid TIMESTAMP"),
        ("time", pb.Column(string_value="12:61:00"), "invalid TIME"),
        ("time", pb.Column(string_value="839:00:00"), "invalid TIME"),
        ("year", pb.Column(string_value="20x1"), "invalid YEAR"),
        ("json", pb.Column(bytes_value=b"\xff"), "JSON value is not valid UTF-8"),
    ],
)
def test_error_value_field_cannot_belong_to_type(mysql_type, col, match):
    b = one_table(types=(mysql_type,), values=[col])
    expect_error(b.SerializeToString(), match)


def test_error_update_without_change_row_and_images_on_insert_delete():
    expect_error(one_table(op=pb.Update).SerializeToString(), "Update mutation without change_row")
    b = one_table(op=pb.Delete)
    b.dml_data.tables[0].mutations[0].change_row.columns.add(int64_value=1)
    expect_error(b.SerializeToString(), "Delete mutation carries a change_row")


def test_error_bad_value_in_update_before_image_is_named():
    b = one_table(op=pb.Update)
    b.dml_data.tables[0].mutations[0].change_row.columns.add(string_value="x")
    expect_error(b.SerializeToString(), "change_row column 'c0'")


def test_error_unique_key_names_unknown_column():
    b = one_table()
    b.dml_data.tables[0].unique_keys.add(name="uk", column_names=["nope"])
    expect_error(b.SerializeToString(), "unique key 'uk' names column 'nope' not in column_info")


def test_error_offset_is_the_given_one():
    e = expect_error(b"\xff", "parse", KafkaPosition("topic-x", 3, 987654321))
    assert e.position.offset == 987654321


# -- the table header is decoded once per structure (Decoder._headers) -------------------

def _one_table(mutate=None) -> bytes:
    b = pb.Binlog(type=pb.DML, commit_ts=9)
    t = b.dml_data.tables.add(schema_name="db", table_name="t")
    for name, typ, pk, flen, dec in (("id", "bigint", True, 20, 0), ("v", "varchar", False, 64, 0),
                                     ("d", "decimal", False, 12, 2)):
        t.column_info.add(name=name, mysql_type=typ, is_primary_key=pk, flen=flen, decimal=dec)
    t.unique_keys.add(name="PRIMARY", column_names=["id"])
    m = t.mutations.add(type=pb.Insert)
    m.row.columns.add(int64_value=1)
    m.row.columns.add(string_value="x")
    m.row.columns.add(string_value="1.50")
    if mutate is not None:
        mutate(t)
    return b.SerializeToString()


def _schema(d: Decoder, raw: bytes) -> TableSchema:
    return d.decode(raw, KafkaPosition("t", 0, 1)).tables[0].schema


@pytest.mark.parametrize("change", [
    lambda t: setattr(t.column_info[1], "mysql_type", "text"),
    lambda t: setattr(t.column_info[1], "flen", 65),
    lambda t: setattr(t.column_info[2], "decimal", 3),
    lambda t: setattr(t.column_info[1], "is_primary_key", True),
    lambda t: setattr(t.column_info[1], "name", "w"),
    lambda t: t.unique_keys.add(name="uk_v", column_names=["v"]),
    lambda t: setattr(t, "table_name", "t2"),
    lambda t: setattr(t, "schema_name", "db2"),
], ids=["type", "flen", "decimal", "pk flag", "name", "unique key", "table", "schema"])
def test_a_header_is_reused_only_while_every_field_of_it_is_the_same(change):
    d = Decoder()
    first = _schema(d, _one_table())
    assert _schema(d, _one_table()) is first  # the same structure: decoded once
    other = _schema(d, _one_table(change))
    assert other is not first and other != first
    assert other == _schema(Decoder(), _one_table(change))  # exactly what a fresh decoder makes
    assert _schema(d, _one_table()) is first


def test_a_malformed_header_fails_every_time_and_is_not_remembered():
    d = Decoder()
    bad = _one_table(lambda t: t.unique_keys.add(name="uk", column_names=["nope"]))
    for _ in range(2):
        with pytest.raises(DrainerDecodeError, match="names column 'nope' not in column_info"):
            d.decode(bad, KafkaPosition("t", 0, 5))
    assert not any("nope" in str(k) for k in d._headers)


def test_a_schema_from_a_snapshot_written_before_the_derived_field_still_answers():
    # Bytewax snapshots pickle TableSchema; one written by the previous version has no
    # _secondary_uk (dataclass __setstate__ restores the fields it has and skips __post_init__).
    s = TableSchema("a", "b", ("x", "y"), ("int", "int"), pk=(0,), unique_keys=(("PRIMARY", (0,)), ("u", (1,))))
    old_state = [s.schema, s.table, s.columns, s.types, s.flen, s.decimal, s.pk, s.unique_keys, s.unsigned]
    restored = TableSchema.__new__(TableSchema)
    restored.__setstate__(old_state)
    assert restored == s and restored.has_secondary_unique_key is True
    assert TableSchema("a", "b", ("x",), ("int",), pk=(0,), unique_keys=(("PRIMARY", (0,)),)).has_secondary_unique_key is False
