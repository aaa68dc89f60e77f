"""Hostile TiCDC messages for fuzzing the canal-json and open-protocol decoders.

The corpus is real messages of every type (our encoders, plus the hand-written golden
messages of the unit tests, which do not share the encoders' assumptions); mutations are byte
flips, truncations, splices and insertions, framing edits, and JSON-level edits (a node
replaced by any JSON value, a field dropped). The contract (:func:`check`): decoding returns
events whose every value has the native type of its column, or raises TiCDCDecodeError naming
topic, partition and offset - any other exception would stop the flow's reader.

Used by ``tests/unit/test_ticdc_fuzz.py`` (hypothesis, bounded) and ``make fuzz``
(``python -m tests.support.ticdc_fuzz --cases N``: plain random mutations, fast).
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import orjson
from hypothesis import strategies as st

from tests.unit.test_ticdc_canal_json import ALL_TYPES, GOLDEN_DDL, GOLDEN_INSERT, GOLDEN_UPDATE, TS, native_row
from tests.unit.test_ticdc_open_protocol import GOLDEN_KEYS, GOLDEN_VALUES, frame
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, Txn
from tidb2mysql.input import canal_json, open_protocol
from tidb2mysql.input.codec import TiCDCDecodeError, Watermark

POS = KafkaPosition("fuzz", 3, 77)
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


def check(codec, key, value) -> bool:
    """True if the message decoded (every value checked), False for a named decode error."""
    try:
        events = codec.decode(key, value, POS)
    except TiCDCDecodeError as e:
        assert e.position == POS and "topic 'fuzz' partition 3 offset 77" in str(e)
        return False
    check_types(events)
    return True


def json_values():
    return st.one_of(st.none(), st.booleans(), st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1),
                     st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                     st.lists(st.integers(-9, 9), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(-9, 9), max_size=2))


def mutate_json(doc, data):
    """Replace or drop one node somewhere in a decoded JSON document."""
    path = []
    node = doc
    while isinstance(node, (dict, list)) and node and data.draw(st.booleans()):
        k = data.draw(st.sampled_from(list(node) if isinstance(node, dict) else list(range(len(node)))))
        path.append((node, k))
        node = node[k]
    if not path:
        return data.draw(json_values())
    parent, k = path[-1]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[k]
    else:
        parent[k] = data.draw(json_values())
    return doc


def mutate_bytes(raw: bytes, data) -> bytes:
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


def _random_json(rnd: random.Random):
    return rnd.choice([None, True, False, 0, -1, (1 << 64) - 1, -(1 << 63), 1.5, 1e300, "", "x", "\u00e9",
                       "\\x0", "1e5", [1], {"t": 3}, {"v": None}])


def _mutate_json_rnd(doc, rnd: random.Random):
    path, node = [], doc
    while isinstance(node, (dict, list)) and node and rnd.random() < 0.7:
        k = rnd.choice(list(node) if isinstance(node, dict) else list(range(len(node))))
        path.append((node, k))
        node = node[k]
    if not path:
        return _random_json(rnd)
    parent, k = path[-1]
    if isinstance(parent, dict) and rnd.random() < 0.3:
        del parent[k]
    else:
        parent[k] = _random_json(rnd)
    return doc


def _mutate_bytes_rnd(raw: bytes, rnd: random.Random) -> bytes:
    b = bytearray(raw)
    for _ in range(rnd.randint(1, 3)):
        n, op = len(b), rnd.randrange(4)
        if op == 0 and n:
            b[rnd.randrange(n)] ^= 1 << rnd.randrange(8)
        elif op == 1 and n:
            del b[rnd.randrange(n):]
        elif op == 2:
            j = rnd.randrange(n + 1)
            b[j:j] = rnd.randbytes(rnd.randint(1, 8))
        elif n:
            a = rnd.randrange(n)
            del b[a:rnd.randrange(a, n + 1)]
    return bytes(b)


def mutation_run(cases: int, seed: int = 1, report=None) -> dict:
    rnd = random.Random(seed)
    canal = canal_json.CanalJsonCodec("Asia/Shanghai")
    opn = open_protocol.OpenProtocolCodec("Asia/Shanghai")
    counts = {"decoded": 0, "dead_letter": 0}
    for i in range(cases):
        if rnd.random() < 0.5:
            raw = rnd.choice(CANAL)
            value = orjson.dumps(_mutate_json_rnd(orjson.loads(raw), rnd)) if rnd.random() < 0.5 \
                else _mutate_bytes_rnd(raw, rnd)
            ok = check(canal, None, value)
        else:
            key, value = rnd.choice(OPEN)
            r = rnd.random()
            if r < 0.3:
                key = _mutate_bytes_rnd(key, rnd)
            elif r < 0.6:
                value = _mutate_bytes_rnd(value, rnd)
            else:
                parts = open_protocol._chunks(value, "value")
                n = rnd.randrange(len(parts))
                if parts[n]:
                    parts[n] = orjson.dumps(_mutate_json_rnd(orjson.loads(parts[n]), rnd))
                value = open_protocol._framed(parts)
            ok = check(opn, key, value)
        counts["decoded" if ok else "dead_letter"] += 1
        if report and (i + 1) % 100_000 == 0:
            report(i + 1, counts)
    return counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="fuzz the TiCDC decoders with mutated messages")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    t0 = time.monotonic()

    def report(n, counts):
        print(f"TiCDC mutated: {n} cases, {counts['decoded']} decoded, {counts['dead_letter']} decode errors "
              f"({time.monotonic() - t0:.0f}s)", flush=True)

    report(args.cases, mutation_run(args.cases, args.seed, report))
    print(f"OK: {args.cases} TiCDC decode cases, every one decoded to native values or failed naming "
          "topic/partition/offset", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
