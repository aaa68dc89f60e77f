"""Fuzzing the TiCDC decoders (bounded, for CI): every mutated message decodes or fails with
TiCDCDecodeError naming topic/partition/offset - never another exception, never a value of
the wrong Python type.

Why: a decoder exception other than the named one stops the flow's reader; a wrong-typed
value (bytes in a text column, a str in an integer column) would be written silently.
Mutations start from real encoder output (every type), so they reach deep into the value
parsers: byte flips, truncation, splices, and JSON-level edits (a value replaced by another
JSON value, a field dropped).
"""

from __future__ import annotations

import random
import struct
from datetime import date, datetime, timedelta
from decimal import Decimal

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.test_ticdc_canal_json import ALL_TYPES, GOLDEN_DDL, GOLDEN_INSERT, GOLDEN_UPDATE, TS, native_row
from tests.unit.test_ticdc_open_protocol import GOLDEN_KEYS, GOLDEN_VALUES, frame
from tidb2mysql.events import DDL, Op, Position, RowChange, Txn
from tidb2mysql.input import canal_json, open_protocol
from tidb2mysql.input.codec import TiCDCDecodeError, Watermark

POS = Position("fuzz", 3, 77)
_rng = random.Random(5)
_ROWS = [native_row(_rng, 0.3) for _ in range(6)]
CANAL = [canal_json.encode_row(ALL_TYPES, RowChange(op, new, old), TS, "Asia/Shanghai")
         for op, new, old in ((Op.INSERT, _ROWS[0], None), (Op.UPDATE, _ROWS[1], _ROWS[2]), (Op.DELETE, None, _ROWS[3]))]
CANAL += [canal_json.encode_ddl(DDL(TS, "d", "t", "ALTER TABLE t ADD c INT")), canal_json.encode_watermark(TS)]
CANAL += [GOLDEN_INSERT, GOLDEN_UPDATE, GOLDEN_DDL]  # hand-written, not from our encoder
_batch = open_protocol.BatchEncoder(4)
for op, new, old in ((Op.INSERT, _ROWS[4], None), (Op.UPDATE, _ROWS[5], _ROWS[0]), (Op.DELETE, None, _ROWS[1])):
    _batch.append(*open_protocol.encode_row_event(ALL_TYPES, RowChange(op, new, old), TS, "Asia/Shanghai"))
OPEN = _batch.build() + [open_protocol.encode_ddl(DDL(TS, "d", "t", "DROP TABLE t")), open_protocol.encode_resolved(TS)]
OPEN.append((struct.pack(">Q", 1) + frame(*GOLDEN_KEYS), frame(*GOLDEN_VALUES)))  # hand-written

_TYPES = {"tinyint": int, "smallint": int, "mediumint": int, "int": int, "bigint": int, "year": int, "bit": int,
          "enum": int, "set": int, "float": float, "double": float, "decimal": Decimal, "json": str, "time": timedelta}
_TEXT = {"char", "varchar", "var_string", "tinytext", "text", "mediumtext", "longtext"}
_BIN = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}


def check_types(events) -> None:
    for e in events:
        assert isinstance(e, (Txn, DDL, Watermark)), e
        if not isinstance(e, Txn):
            continue
        for tc in e.tables:
            for rc in tc.rows:
                for image in (rc.new, rc.old):
                    if image is None:
                        continue
                    assert len(image) == len(tc.schema.columns)
                    for t, v in zip(tc.schema.types, image):
                        if v is None:
                            continue
                        if t in _TEXT:
                            assert type(v) is str, (t, v)
                        elif t in _BIN:
                            assert type(v) is bytes, (t, v)
                        elif t in _TYPES:
                            assert type(v) is _TYPES[t], (t, v)
                        elif t == "date":
                            assert type(v) in (date, str), (t, v)
                        elif t in ("datetime", "timestamp"):
                            assert type(v) in (datetime, str), (t, v)


def check(codec, key, value) -> None:
    try:
        events = codec.decode(key, value, POS)
    except TiCDCDecodeError as e:
        assert e.position == POS and "topic 'fuzz' partition 3 offset 77" in str(e)
        return
    check_types(events)


def _json_values():
    return st.one_of(st.none(), st.booleans(), st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                     st.lists(st.integers(-9, 9), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(-9, 9), max_size=2))


def _mutate_json(doc, data):
    """Replace or drop one node somewhere in a decoded JSON document."""
    path = []
    node = doc
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        k = data.draw(st.sampled_from(list(node) if isinstance(node, dict) else list(range(len(node)))))
        path.append((node, k))
        node = node[k]
    if not path:
        return data.draw(_json_values())
    parent, k = path[-1]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[k]
    else:
        parent[k] = data.draw(_json_values())
    return doc


def _mutate_bytes(raw: bytes, data) -> bytes:
    kind = data.draw(st.sampled_from(["flip", "truncate", "splice", "insert"]))
    if not raw:
        return data.draw(st.binary(max_size=20))
    i = data.draw(st.integers(0, len(raw) - 1))
    if kind == "flip":
        return raw[:i] + bytes([raw[i] ^ data.draw(st.integers(1, 255))]) + raw[i + 1:]
    if kind == "truncate":
        return raw[:i]
    if kind == "splice":
        j = data.draw(st.integers(i, len(raw)))
        return raw[:i] + raw[j:]
    return raw[:i] + data.draw(st.binary(min_size=1, max_size=8)) + raw[i:]


SETTINGS = settings(max_examples=400, deadline=None, database=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@SETTINGS
@given(st.data())
def test_canal_json_mutations_decode_or_fail_named(data):
    codec = canal_json.CanalJsonCodec("Asia/Shanghai")
    raw = data.draw(st.sampled_from(CANAL))
    if data.draw(st.booleans()):
        value = orjson.dumps(_mutate_json(orjson.loads(raw), data))
    else:
        value = _mutate_bytes(raw, data)
    check(codec, None, value)


@SETTINGS
@given(st.data())
def test_open_protocol_mutations_decode_or_fail_named(data):
    codec = open_protocol.OpenProtocolCodec("Asia/Shanghai")
    key, value = data.draw(st.sampled_from(OPEN))
    where = data.draw(st.sampled_from(["key", "value", "json"]))
    if where == "key":
        key = _mutate_bytes(key, data)
    elif where == "value":
        value = _mutate_bytes(value, data)
    else:  # edit the JSON of one framed value, keep the framing right
        parts = open_protocol._chunks(value, "value")
        n = data.draw(st.integers(0, len(parts) - 1))
        if parts[n]:
            parts[n] = orjson.dumps(_mutate_json(orjson.loads(parts[n]), data))
        value = open_protocol._framed(parts)
    check(codec, key, value)


def test_unmutated_messages_decode():
    for v in CANAL:
        check_types(canal_json.CanalJsonCodec("Asia/Shanghai").decode(None, v, POS))
    for k, v in OPEN:
        check_types(open_protocol.OpenProtocolCodec("Asia/Shanghai").decode(k, v, POS))
