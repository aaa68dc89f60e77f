"""TiCDC open protocol: batch framing, per type (type code + flags + JSON value), per event kind,
hostile messages, golden messages in TiCDC's form, Go quoting, round trips (docs/ticdc.md)."""

from __future__ import annotations

import random
import struct
from datetime import date, datetime, timedelta
from decimal import Decimal

import orjson
import pytest

from tests.unit.test_ticdc_canal_json import ALL_TYPES, TS, native_row
from tidb2mysql.drainer.values import check_float32
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableSchema, Txn
from tidb2mysql.input.codec import TiCDCDecodeError, Watermark
from tidb2mysql.input.open_protocol import (
    BatchEncoder,
    OpenProtocolCodec,
    encode_ddl,
    encode_resolved,
    encode_row_event,
    go_quote,
    go_unquote,
)

POS = KafkaPosition("cdc", 1, 9)
BIN, HANDLE, PK, UK, MULTI, NULLABLE, UNSIGNED = 1, 2, 8, 16, 32, 64, 128
ID = {"t": 3, "h": True, "f": BIN | HANDLE | PK, "v": 1}


def frame(*parts: bytes) -> bytes:
    return b"".join(struct.pack(">Q", len(p)) + p for p in parts)


def message(events: list[tuple[dict, dict | None]]) -> tuple[bytes, bytes]:
    key = struct.pack(">Q", 1) + frame(*(orjson.dumps(k) for k, _v in events))
    value = frame(*(b"" if v is None else orjson.dumps(v) for _k, v in events))
    return key, value


def row_key(ts: int = TS, table: str = "t") -> dict:
    return {"ts": ts, "scm": "d", "tbl": table, "t": 1}


def decode(key: bytes, value: bytes, zone: str = "UTC"):
    return OpenProtocolCodec(zone).decode(key, value, POS)


def decode_value(code: int, flag: int, v, zone: str = "UTC"):
    [txn] = decode(*message([(row_key(), {"u": {"id": ID, "v": {"t": code, "f": flag, "v": v}}})]), zone)
    row = txn.tables[0].rows[0].new
    return txn.tables[0].schema, row[txn.tables[0].schema.columns.index("v")]


# (type code, flags, JSON value, TiDB type name, native value)
VALUES = [
    (1, BIN, -128, "tinyint", -128),
    (1, BIN | UNSIGNED, 255, "tinyint", 255),
    (2, BIN, 32767, "smallint", 32767),
    (9, BIN | UNSIGNED, 16777215, "mediumint", 16777215),
    (3, BIN, -2147483648, "int", -2147483648),
    (8, BIN, -(1 << 63), "bigint", -(1 << 63)),
    (8, BIN | UNSIGNED, (1 << 64) - 1, "bigint", (1 << 64) - 1),
    (13, BIN | UNSIGNED, 2155, "year", 2155),
    (13, BIN, 0, "year", 0),
    (4, BIN, 0.1, "float", check_float32(0.1)),
    (4, BIN, 3.4028235e38, "float", check_float32(3.4028234663852886e38)),
    (4, BIN, 1, "float", 1.0),
    (5, BIN, 0.30000000000000004, "double", 0.30000000000000004),
    (5, BIN, 1e-7, "double", 1e-7),
    (5, BIN, 5, "double", 5.0),
    (246, BIN, "-0.01", "decimal", Decimal("-0.01")),
    (0, BIN, "1.5", "decimal", Decimal("1.5")),
    (16, BIN | UNSIGNED, (1 << 64) - 1, "bit", (1 << 64) - 1),
    (247, 0, 2, "enum", 2),
    (248, 0, 5, "set", 5),
    (10, BIN, "2024-02-29", "date", date(2024, 2, 29)),
    (14, BIN, "0000-00-00", "date", "0000-00-00"),
    (12, BIN, "2024-02-29 23:59:59.123456", "datetime", datetime(2024, 2, 29, 23, 59, 59, 123456)),
    (7, BIN, "2038-01-19 03:14:07", "timestamp", datetime(2038, 1, 19, 3, 14, 7)),
    (11, BIN, "-838:59:59.000000", "time", -timedelta(hours=838, minutes=59, seconds=59)),
    (254, 0, "h\u00e9", "char", "h\u00e9"),
    (15, 0, "a\\b", "varchar", "a\\b"),  # not binary: no Go quoting
    (253, 0, "x", "var_string", "x"),
    (254, BIN, "\\x00\\xff", "binary", b"\x00\xff"),  # binary charset: Go-quoted
    (15, BIN, "\\\"\\\\\\n\\t\u00e9\\u00a0", "varbinary", b'"\\\n\t\xc3\xa9\xc2\xa0'),
    (15, BIN, "", "varbinary", b""),
    (252, BIN, "AP8=", "blob", b"\x00\xff"),  # blob family: base64
    (249, BIN, "", "tinyblob", b""),
    (251, BIN, "YWJj", "longblob", b"abc"),
    (252, 0, "aMOpbGxv", "text", "h\u00e9llo"),  # text columns too travel as base64
    (250, 0, "", "mediumtext", ""),
    (245, BIN, '{"a": 1}', "json", '{"a": 1}'),
    (15, NULLABLE, None, "varchar", None),
    (252, BIN | NULLABLE, None, "blob", None),
]


@pytest.mark.parametrize("code, flag, v, name, native", VALUES)
def test_value_per_type(code, flag, v, name, native):
    schema, got = decode_value(code, flag, v)
    assert got == native and type(got) is type(native)
    assert schema.types[schema.columns.index("v")] == name
    assert (schema.columns.index("v") in schema.unsigned) == bool(flag & UNSIGNED)


def test_timestamp_is_converted_from_the_changefeed_zone_to_utc():
    assert decode_value(7, BIN, "2024-01-01 08:00:00", "Asia/Shanghai")[1] == datetime(2024, 1, 1)


BAD_VALUES = [
    (3, BIN, "1", "not an integer"),
    (3, BIN, 1.5, "not an integer"),
    (3, BIN, True, "not an integer"),
    (8, BIN, 1 << 63, "int64 range"),
    (8, BIN | UNSIGNED, -1, "uint64 range"),
    (13, BIN, 1800, "YEAR"),
    (4, BIN, "0.1", "not a number"),
    (4, BIN, 1e39, "float32 range"),
    (246, BIN, 1.5, "not a string"),
    (246, BIN, "x", "DECIMAL"),
    (247, 0, -1, "uint64 range"),
    (10, BIN, "2024-02-30", "DATE"),
    (11, BIN, "25:61:00", "TIME"),
    (254, BIN, "\\q", "unknown escape"),
    (254, BIN, "\\x4", "bad escape digits"),
    (254, BIN, "\\400", "above 255"),
    (254, BIN, "\\ud800", "not a Unicode scalar"),
    (254, BIN, 'a"b', "unescaped quote"),
    (254, BIN, "ab\\", "lone backslash"),
    (252, BIN, "!!", "base64"),
    (252, 0, "/w==", "not valid UTF-8"),
    (99, 0, 1, "unknown column type code 99"),
]


@pytest.mark.parametrize("code, flag, v, reason", BAD_VALUES)
def test_bad_value_is_a_decode_error_naming_the_column(code, flag, v, reason):
    with pytest.raises(TiCDCDecodeError) as e:
        decode_value(code, flag, v)
    msg = str(e.value)
    assert reason in msg and "topic 'cdc' partition 1 offset 9" in msg and "open protocol" in msg, msg
    if "type code" not in reason:
        assert "column 'v'" in msg


@pytest.mark.parametrize("raw", [b"", b"a", b"\x00\x01\x7f\x80\xff", "\u00e9\u4e2d\U0001f600".encode(),
                                 b'"\\\n\t\x07\x08\x0b\x0c\r', "\u00a0\u2028\ufeff".encode(), b"\xed\xa0\x80",
                                 b"\xf4\x90\x80\x80", b"\xc0\xaf"])
def test_go_quote_round_trip(raw):
    q = go_quote(raw)
    assert go_unquote(q) == raw and '"' not in q.replace('\\"', "")


def test_go_quote_matches_go_for_known_cases():
    # strconv.Quote: printable runes literal, C escapes, \x for bad bytes and control bytes,
    # \u for non-printable runes
    assert go_quote(b'a"b\\c\n\x00\x7f\xff') == 'a\\"b\\\\c\\n\\x00\\x7f\\xff'
    assert go_quote("\u00e9\u00a0".encode()) == "\u00e9\\u00a0"


# ------------------------------------------------------------------ event kinds and batches


def test_insert_update_delete_and_flags():
    cols = {"id": ID, "email": {"t": 15, "f": UK | NULLABLE, "v": "a@x"}, "n": {"t": 3, "f": BIN | NULLABLE, "v": None}}
    [ins] = decode(*message([(row_key(), {"u": cols})]))
    s = ins.tables[0].schema
    assert s.columns == ("id", "email", "n") and s.pk == (0,)
    assert s.unique_keys == (("PRIMARY", (0,)), ("unique_columns", (1,)))
    assert s.has_secondary_unique_key
    assert ins.tables[0].rows == [RowChange(Op.INSERT, (1, "a@x", None), None)]
    old = dict(cols, email={"t": 15, "f": UK | NULLABLE, "v": "b@x"})
    [upd] = decode(*message([(row_key(), {"u": cols, "p": old})]))
    assert upd.tables[0].rows == [RowChange(Op.UPDATE, (1, "a@x", None), (1, "b@x", None))]
    [dele] = decode(*message([(row_key(), {"d": cols})]))
    assert dele.tables[0].rows == [RowChange(Op.DELETE, None, (1, "a@x", None))]


def test_update_with_only_updated_columns_fills_the_unchanged_ones():
    cols = {"id": ID, "v": {"t": 3, "f": BIN, "v": 2}}
    [upd] = decode(*message([(row_key(), {"u": cols, "p": {"v": {"t": 3, "f": BIN, "v": 1}}})]))
    assert upd.tables[0].rows == [RowChange(Op.UPDATE, (1, 2), (1, 1))]


def test_table_without_primary_key_uses_the_handle_key():
    cols = {"k": {"t": 3, "h": True, "f": BIN | HANDLE | UK, "v": 5}, "v": {"t": 3, "f": BIN | NULLABLE, "v": 1}}
    [t] = decode(*message([(row_key(), {"u": cols})]))
    assert t.tables[0].schema.pk == () and t.tables[0].schema.unique_keys == (("handle", (0,)),)


def test_a_batch_holds_rows_of_several_transactions_and_tables():
    r = {"u": {"id": ID}}
    key, value = message([(row_key(TS), r), (row_key(TS), r), (row_key(TS, "u"), r), (row_key(TS + 1), r)])
    a, b = decode(key, value)
    assert isinstance(a, Txn) and a.commit_ts == TS and [t.schema.table for t in a.tables] == ["t", "u"]
    assert len(a.tables[0].rows) == 2 and b.commit_ts == TS + 1 and b.row_count == 1
    assert OpenProtocolCodec().peek_commit_ts(key, value) == TS


def test_ddl_and_resolved():
    ddl = DDL(TS, "d", "t", "ALTER TABLE t ADD COLUMN c INT")
    assert decode(*encode_ddl(ddl, 5)) == [DDL(TS, "d", "t", ddl.query, POS)]
    assert decode(*encode_resolved(TS + 9)) == [Watermark(TS + 9, POS)]
    assert OpenProtocolCodec().peek_commit_ts(*encode_resolved(TS + 9)) == TS + 9
    assert OpenProtocolCodec().peek_commit_ts(b"\x00" * 7, b"") is None


BAD_MESSAGES = [
    (None, b"", "shorter than the 8-byte version"),
    (struct.pack(">Q", 2) + frame(b"{}"), frame(b"{}"), "key version 2"),
    (struct.pack(">Q", 1), b"", "empty batch"),
    (struct.pack(">Q", 1) + b"\x00\x00", b"", "inside a length prefix"),
    (struct.pack(">Q", 1) + struct.pack(">Q", 99) + b"{}", b"", "runs past the end"),
    (message([(row_key(), {"u": {"id": ID}})])[0], b"", "1 keys but 0 values"),
    (struct.pack(">Q", 1) + frame(b"[1"), frame(b"{}"), "key is not JSON"),
    (struct.pack(">Q", 1) + frame(b"[1]"), frame(b"{}"), "key is not an object"),
    (*message([({"ts": 0, "t": 1}, {})]), "not a TSO"),
    (*message([({"ts": TS, "t": 7, "scm": "d", "tbl": "t"}, {})]), "unknown event type 7"),
    (*message([(dict(row_key(), ohk=True), {"u": {"id": ID}})]), "only the handle key"),
    (*message([(row_key(), {})]), "none of \"u\", \"d\""),
    (*message([(row_key(), {"u": {}})]), "non-empty object"),
    (*message([(row_key(), {"d": {"id": ID}, "u": {"id": ID}})]), "also carries"),
    (*message([(row_key(), {"u": {"id": ID}, "p": {"x": ID}})]), "not in \"u\""),
    (*message([(row_key(), {"u": {"id": 5}})]), "not an object"),
    (*message([(row_key(), {"u": {"id": {"t": "3", "f": 0, "v": 1}}})]), "not integers"),
    (*message([({"ts": TS, "t": 1}, {"u": {"id": ID}})]), "without scm/tbl"),
    (*message([({"ts": TS, "t": 2}, {"t": 3})]), "no query"),
    (*message([({"ts": TS, "t": 3}, {"x": 1})]), "non-empty value"),
    (struct.pack(">Q", 1) + frame(orjson.dumps(row_key())), frame(b"\x1f\x8b\x08"), "compressed?"),
]


@pytest.mark.parametrize("key, value, reason", BAD_MESSAGES)
def test_bad_message_is_a_named_decode_error(key, value, reason):
    with pytest.raises(TiCDCDecodeError) as e:
        decode(key, value)
    assert reason in str(e.value) and "offset 9" in str(e.value), str(e.value)


# ------------------------------------------------------------------ golden messages
# In the form of TiCDC's open-protocol examples (key/value JSON, batched and length-framed);
# the values are ours.

GOLDEN_KEYS = [b'{"ts":445633736098676737,"scm":"shop","tbl":"staff","t":1}',
               b'{"ts":445633736098676737,"scm":"shop","tbl":"staff","t":1}']
GOLDEN_VALUES = [
    b'{"u":{"hired":{"t":10,"f":65,"v":"2014-06-04"},"id":{"t":3,"h":true,"f":11,"v":1},'
    b'"name":{"t":15,"f":64,"v":"Zo\\u00eb"},"photo":{"t":250,"f":65,"v":"AP8="},'
    b'"raw":{"t":15,"f":65,"v":"\\\\x00\\\\\\"z"},"salary":{"t":246,"f":65,"v":"1234.50"}}}',
    b'{"u":{"id":{"t":3,"h":true,"f":11,"v":2},"name":{"t":15,"f":64,"v":"Ann"}},'
    b'"p":{"id":{"t":3,"h":true,"f":11,"v":2},"name":{"t":15,"f":64,"v":"Bob"}}}',
]


def test_golden_batch():
    key = struct.pack(">Q", 1) + frame(*GOLDEN_KEYS)
    [txn] = OpenProtocolCodec().decode(key, frame(*GOLDEN_VALUES), POS)
    first, second = txn.tables
    s = first.schema
    assert s.columns == ("hired", "id", "name", "photo", "raw", "salary")
    assert s.types == ("date", "int", "varchar", "mediumblob", "varbinary", "decimal") and s.pk == (1,)
    assert first.rows == [RowChange(Op.INSERT, (date(2014, 6, 4), 1, "Zo\u00eb", b"\x00\xff", b'\x00"z',
                                                 Decimal("1234.50")), None)]
    assert second.rows == [RowChange(Op.UPDATE, (2, "Ann"), (2, "Bob"))]


def test_encoder_writes_the_golden_form():
    schema = TableSchema("shop", "staff", ("id", "name"), ("int", "varchar"), (11, 64), (0, 0), (0,),
                         (("PRIMARY", (0,)),))
    k, v = encode_row_event(schema, RowChange(Op.UPDATE, (2, "Ann"), (2, "Bob")), 445633736098676737)
    assert orjson.loads(k) == orjson.loads(GOLDEN_KEYS[1])
    assert orjson.loads(v) == orjson.loads(GOLDEN_VALUES[1])
    assert list(orjson.loads(v)["u"]["id"]) == ["t", "h", "f", "v"]  # Go struct field order


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_round_trip_every_type_through_batches(zone):
    rng = random.Random(zone)
    order = sorted(range(len(ALL_TYPES.columns)), key=lambda i: ALL_TYPES.columns[i])
    batch = BatchEncoder(max_batch_size=7)
    sent = []
    for n in range(40):
        new, old = native_row(rng, 0.25), native_row(rng, 0.25)
        for rc in (RowChange(Op.INSERT, new, None), RowChange(Op.UPDATE, new, old), RowChange(Op.DELETE, None, old)):
            batch.append(*encode_row_event(ALL_TYPES, rc, TS + n, zone))
            sent.append((TS + n, rc))
    messages = batch.build()
    assert len(messages) == -(-len(sent) // 7)
    codec = OpenProtocolCodec(zone)
    got = []
    for key, value in messages:
        for txn in codec.decode(key, value, POS):
            got += [(txn.commit_ts, tc.schema, rc) for tc in txn.tables for rc in tc.rows]
    assert len(got) == len(sent)

    def by_table_order(row):
        return None if row is None else tuple(row[i] for i in order)

    for (ts, rc), (got_ts, schema, g) in zip(sent, got):
        assert got_ts == ts and g.op == rc.op
        assert schema.columns == tuple(ALL_TYPES.columns[i] for i in order)  # Go map: name order
        assert g.new == by_table_order(rc.new) and g.old == by_table_order(rc.old)
        assert {schema.columns[i] for i in schema.unsigned} == {ALL_TYPES.columns[i] for i in ALL_TYPES.unsigned}
