"""Hostile Drainer messages for fuzzing the input path (hypothesis strategies + a checker).

One generator feeds the bounded CI runs (``tests/unit/test_drainer_fuzz.py``, and the real
flow in ``tests/integration/test_fuzz_flow.py``) and the long run (``make fuzz`` =
``python -m tests.support.drainer_fuzz --cases N``); hypothesis is a dev dependency, so this
lives with the tests, not in the package. Messages are built field by field from the
protobuf classes, NOT with ``drainer/encode.py``: an encoder shares the decoder's
assumptions, a fuzzer must not.

What "hostile" covers (issue 12): wrong column counts, value fields that do not match
``column_info`` types, out-of-range values, invalid UTF-8 in ``string_value`` and names,
unknown mutation and binlog types, missing required fields in nested messages, unique keys
naming unknown columns, huge fields, duplicated rows, any commit_ts (negative, going
backwards), truncated or bit-flipped encodings, and plain random bytes.

The contract checked by :func:`check_decode`: decoding either returns a Txn/DDL whose every
row has one native value per column (text columns ``str``, binary columns ``bytes``), or
raises :class:`~tidb2mysql.drainer.decode.DrainerDecodeError` naming topic, partition and
offset. Any other exception is a bug (it would crash a worker).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import decimal
import sys
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError
from tidb2mysql.events import DDL, KafkaPosition, Txn

KNOWN_TYPES = ["tinyint", "smallint", "mediumint", "int", "bigint", "float", "double", "decimal", "bit", "date",
               "datetime", "timestamp", "time", "year", "char", "varchar", "text", "tinytext", "mediumtext",
               "longtext", "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "enum", "set",
               "json"]
TEXT = {"char", "varchar", "var_string", "text", "tinytext", "mediumtext", "longtext"}
BINARY = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
NATIVE = (int, float, decimal.Decimal, str, bytes, _dt.date, _dt.datetime, _dt.timedelta, type(None))

_names = st.one_of(st.sampled_from(["id", "a", "b", "c", "v", "名前", "a`b", ""]), st.text(max_size=12))
_types = st.one_of(st.sampled_from(KNOWN_TYPES), st.text(max_size=10))
# values that look like what each type carries, plus plain hostile ones
_text_values = st.one_of(
    st.sampled_from(["", "0", "-1", "2024-02-30", "0000-00-00", "2024-01-01 25:61:61", "838:59:59", "-839:00:00",
                     "1e400", "NaN", "99999999999999999999999999999999999999999999999999999999999999999.5",
                     "{\"a\": [1, 2]}", "{bad json", "x" * 300, "\x00\n'\\"]),
    st.text(max_size=40))


@st.composite
def columns(draw, n: int, types: list):
    out = []
    count = n if draw(st.integers(0, 9)) else draw(st.integers(0, n + 3))  # mostly right, sometimes wrong
    for i in range(count):
        c = pb.Column()
        kind = draw(st.sampled_from(["natural", "natural", "natural", "null", "none", "int", "uint", "double",
                                     "bytes", "string", "bad_utf8", "two"]))
        t = types[i].lower() if i < len(types) else "int"
        if kind == "natural":
            if t in ("tinyint", "smallint", "mediumint", "int", "bigint", "year"):
                if draw(st.booleans()):
                    c.int64_value = draw(st.integers(-2**63, 2**63 - 1))
                else:
                    c.uint64_value = draw(st.integers(0, 2**64 - 1))
            elif t in ("float", "double"):
                c.double_value = draw(st.floats(allow_nan=True, allow_infinity=True))
            elif t in ("enum", "set"):
                c.uint64_value = draw(st.integers(0, 2**64 - 1))
            elif t in BINARY or t in ("bit", "json"):
                c.bytes_value = draw(st.binary(max_size=20))
            else:
                c.string_value = draw(_text_values)
        elif kind == "null":
            c.is_null = True
        elif kind == "int":
            c.int64_value = draw(st.integers(-2**63, 2**63 - 1))
        elif kind == "uint":
            c.uint64_value = draw(st.integers(0, 2**64 - 1))
        elif kind == "double":
            c.double_value = draw(st.floats())
        elif kind == "bytes":
            c.bytes_value = draw(st.binary(max_size=20))
        elif kind == "string":
            c.string_value = draw(_text_values)
        elif kind == "bad_utf8":
            raw = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"ok\x80"]))
            c.ParseFromString(b"\x32" + bytes([len(raw)]) + raw)  # string_value (field 6) with invalid UTF-8
        elif kind == "two":  # two value fields at once
            c.int64_value = 1
            c.string_value = "1"
        out.append(c)
    return out


@st.composite
def dml_table(draw):
    t = pb.Table()
    t.schema_name = draw(st.one_of(st.just("db"), _names))
    t.table_name = draw(st.one_of(st.just("t"), _names))
    n = draw(st.integers(0, 6))
    types = []
    for i in range(n):
        ci = t.column_info.add()
        ci.name = draw(_names) if draw(st.integers(0, 5)) == 0 else f"c{i}"
        ci.mysql_type = draw(_types)
        ci.is_primary_key = draw(st.booleans())
        ci.flen = draw(st.integers(-2**31, 2**31 - 1))
        ci.decimal = draw(st.integers(-2**31, 2**31 - 1))
        types.append(ci.mysql_type)
    for _ in range(draw(st.integers(0, 2))):
        k = t.unique_keys.add()
        k.name = draw(st.sampled_from(["PRIMARY", "uk", ""]))
        k.column_names.extend(draw(st.lists(st.one_of(st.sampled_from([f"c{i}" for i in range(max(n, 1))]), _names),
                                            max_size=3)))
    for _ in range(draw(st.integers(0, 4))):
        m = t.mutations.add()
        shape = draw(st.sampled_from(["insert", "update", "delete", "update_no_before", "insert_with_before",
                                      "no_type", "no_row", "unknown_type"]))
        if shape == "unknown_type":
            m.MergeFromString(b"\x08\x07")  # type = 7: not a MutationType (goes to unknown fields)
        elif shape != "no_type":
            m.type = {"insert": pb.Insert, "update": pb.Update, "delete": pb.Delete,
                      "update_no_before": pb.Update, "insert_with_before": pb.Insert}.get(shape, pb.Insert)
        if shape != "no_row":
            m.row.columns.extend(draw(columns(n, types)))
        if shape in ("update", "insert_with_before"):
            m.change_row.columns.extend(draw(columns(n, types)))
        if shape == "no_row" and draw(st.booleans()):
            m.change_row.columns.extend(draw(columns(n, types)))
    if t.mutations and draw(st.integers(0, 4)) == 0:  # duplicated rows
        t.mutations.extend(list(t.mutations))
    return t


@st.composite
def binlog_bytes(draw) -> bytes:
    """Serialized hostile (but mostly well-formed) Binlog messages, and some raw damage."""
    shape = draw(st.sampled_from(["dml", "dml", "dml", "ddl", "no_type", "unknown_type", "dml_no_data",
                                  "ddl_no_data", "random"]))
    if shape == "random":
        return draw(st.binary(max_size=200))
    b = pb.Binlog()
    if shape == "unknown_type":
        b.MergeFromString(b"\x08\x05")
    elif shape != "no_type":
        b.type = pb.DDL if shape.startswith("ddl") else pb.DML
    if draw(st.integers(0, 9)):
        b.commit_ts = draw(st.integers(-2**63, 2**63 - 1))
    if shape in ("dml", "no_type", "unknown_type"):
        b.dml_data.tables.extend(draw(st.lists(dml_table(), max_size=3)))
    elif shape == "ddl":
        b.ddl_data.schema_name = draw(_names)
        b.ddl_data.table_name = draw(_names)
        b.ddl_data.ddl_query = draw(st.one_of(st.binary(max_size=60), st.text(max_size=60).map(str.encode)))
    raw = b.SerializePartialToString()
    damage = draw(st.integers(0, 14))
    if damage == 0 and raw:
        raw = raw[: draw(st.integers(0, len(raw) - 1))]  # truncated
    elif damage == 1 and raw:
        i = draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([raw[i] ^ (1 << draw(st.integers(0, 7)))]) + raw[i + 1:]  # one bit flipped
    return raw


def check_decode(decoder: Decoder, raw: bytes, offset: int = 7):
    """Decode ``raw`` and enforce the contract (module docstring); returns the event or the error."""
    pos = KafkaPosition("fuzz", 0, offset)
    try:
        ev = decoder.decode(raw, pos)
    except DrainerDecodeError as e:
        assert f"topic 'fuzz' partition 0 offset {offset}" in str(e), str(e)
        return e
    assert isinstance(ev, (Txn, DDL)), type(ev)
    if isinstance(ev, DDL):
        assert isinstance(ev.query, str) and isinstance(ev.schema, str) and isinstance(ev.table, str)
        return ev
    for tc in ev.tables:
        s = tc.schema
        assert isinstance(s.schema, str) and isinstance(s.table, str), (s.schema, s.table)
        assert all(isinstance(c, str) for c in s.columns), s.columns
        n = len(s.columns)
        for rc in tc.rows:
            for img in (rc.new, rc.old):
                if img is None:
                    continue
                assert len(img) == n
                for t, v in zip(s.types, img):
                    assert isinstance(v, NATIVE), (t, type(v))
                    if t in TEXT:
                        assert v is None or isinstance(v, str), (t, v)
                    if t in BINARY:
                        assert v is None or isinstance(v, bytes), (t, v)
    return ev


def run(cases: int, seed: int = 0) -> dict:
    """Run ``cases`` generated messages through the decoder; returns counts by outcome."""
    decoder = Decoder("UTC")
    counts = {"decoded": 0, "dead_letter": 0}

    @settings(max_examples=cases, database=None, deadline=None, derandomize=seed == 0,
              suppress_health_check=list(HealthCheck))
    @given(binlog_bytes())
    def one(raw):
        out = check_decode(decoder, raw)
        counts["dead_letter" if isinstance(out, DrainerDecodeError) else "decoded"] += 1

    one()
    return counts


def seeds(count: int) -> list[bytes]:
    """``count`` messages from the hypothesis generator (the corpus the mutation run starts from)."""
    out: list[bytes] = []

    @settings(max_examples=count, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(binlog_bytes())
    def collect(raw):
        out.append(raw)

    collect()
    return out


def mutation_run(cases: int, corpus: list[bytes], seed: int = 1, report=None) -> dict:
    """``cases`` decode cases made by mutating the corpus (bit flips, random bytes, truncation,
    inserted garbage, duplicated and spliced slices) - thousands per second, where the
    structured generator makes tens: how a million cases fit in a make target."""
    import random

    rnd = random.Random(seed)
    decoder = Decoder("UTC")
    counts = {"decoded": 0, "dead_letter": 0}
    for i in range(cases):
        raw = bytearray(rnd.choice(corpus))
        for _ in range(rnd.randint(1, 3)):
            op = rnd.randrange(6)
            n = len(raw)
            if op == 0 and n:
                j = rnd.randrange(n)
                raw[j] ^= 1 << rnd.randrange(8)
            elif op == 1 and n:
                raw[rnd.randrange(n)] = rnd.randrange(256)
            elif op == 2 and n:
                del raw[rnd.randrange(n):]
            elif op == 3:
                j = rnd.randrange(n + 1)
                raw[j:j] = rnd.randbytes(rnd.randint(1, 8))
            elif op == 4 and n:
                a = rnd.randrange(n)
                b = rnd.randrange(a, min(n, a + 32) + 1)
                raw[a:a] = raw[a:b]
            else:
                other = rnd.choice(corpus)
                raw = raw[: rnd.randrange(len(raw) + 1)] + other[rnd.randrange(len(other) + 1):]
        out = check_decode(decoder, bytes(raw), i)
        counts["dead_letter" if isinstance(out, DrainerDecodeError) else "decoded"] += 1
        if report and (i + 1) % 100_000 == 0:
            report(i + 1, counts)
    return counts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="fuzz the Drainer decoder with hostile messages")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--structured", type=int, default=5_000,
                    help="cases from the structured generator (also the mutation corpus)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    import logging

    logging.getLogger("tidb2mysql.drainer.values").setLevel(logging.ERROR)  # "unknown mysql_type" per random type
    t0 = time.monotonic()
    corpus = seeds(args.structured)
    c = run(args.structured)
    print(f"structured: {args.structured} cases, {c['decoded']} decoded, {c['dead_letter']} decode errors "
          f"({time.monotonic() - t0:.0f}s)", flush=True)

    def report(n, counts):
        print(f"mutated: {n} cases, {counts['decoded']} decoded, {counts['dead_letter']} decode errors "
              f"({time.monotonic() - t0:.0f}s)", flush=True)

    c = mutation_run(args.cases, corpus, args.seed, report)
    report(args.cases, c)
    print(f"OK: {args.structured + args.cases} decode cases, every one decoded to native values or failed "
          f"naming topic/partition/offset", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
