"""The C row scan and skim (tidb2mysql/drainer/_rowscan.c) choose exactly the rows the Python
path would, and give way to it whenever they are unsure.

Why this matters: in a ``-p N`` flow each process applies only the row changes the scan (or
the Python path) says it owns. A row both paths disagree on would be applied by no process
(lost) or by two (out of order). So every answer of the scan is compared with the Python
path's over random tables, keys at the edges of every integer field, both routing rules and
any shard ownership, and over damaged messages: where protobuf still parses the bytes, both
paths must give the same rows or the same error. The skim (a whole message none of whose rows
this process applies, answered from its bytes without protobuf) is compared the same way: a
third decoder that decoded the message's tables before (so it knows their headers) must give
the same rows or error as the other two.
"""

from __future__ import annotations

import random

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, given, settings

from tests.support.drainer_fuzz import binlog_bytes
from tidb2mysql.drainer import decode as decode_mod
from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import KafkaPosition, Op, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.replication.route import ROUTING_RULES, Router

POS = KafkaPosition("topic", 0, 7)
INT64_MIN, INT64_MAX, UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1


def test_the_extension_is_built():
    # The build makes it optional (a machine without a C compiler still installs); the test
    # environment must have it, or the suite would test only the Python path.
    assert decode_mod.row_scan_built()


def _schema(key_type: str, width: int, key_at: int, name: str = "t", unsigned: bool = False) -> TableSchema:
    cols = tuple(f"c{i}" for i in range(width))
    types = tuple(key_type if i == key_at else ("varchar" if i % 2 else "int") for i in range(width))
    return TableSchema("db", name, cols, types, pk=(key_at,), unique_keys=(("PRIMARY", (key_at,)),),
                       unsigned=(key_at,) if unsigned else ())


def _decoded(decoder: Decoder, value: bytes, interest):
    try:
        ev = decoder.decode(value, POS, interest)
        if not isinstance(ev, Txn):
            return ev  # a DDL
        return [(tc.schema.qualified, list(tc.rows)) for tc in ev.tables]
    except DrainerDecodeError as e:
        return str(e)


def _both(value: bytes, shards: int, owned, routing: str, known: tuple = ()):
    """(scan path, Python path, skim path): each the decoded tables' rows, or the error text.

    The skim path is a decoder with the C code that decoded ``known`` (messages with the same
    tables, so their headers are cached) and ``value`` once before: the skim answers only for
    headers a decoder has decoded."""
    out = []
    for path in ("scan", "python"):
        saved = decode_mod._owned_rows, decode_mod._skim, decode_mod._all_rows
        if path == "python":
            decode_mod._owned_rows = decode_mod._skim = decode_mod._all_rows = None
        try:
            out.append(_decoded(Decoder("UTC"), value, Router(shards, owned, routing).interest))
        finally:
            decode_mod._owned_rows, decode_mod._skim, decode_mod._all_rows = saved
    out.append(_known_decoded(value, Router(shards, owned, routing).interest, known=known))
    return out


def _known_decoded(value: bytes, interest, zone: str = "UTC", known: tuple = ()):
    """``_decoded`` by a decoder with the C code that decoded ``known`` and ``value`` once
    before, so it knows their headers: the skim reads the message."""
    decoder = Decoder(zone)
    for v in known + (value,):
        _decoded(decoder, v, interest)
    return _decoded(decoder, value, interest)


class _SkimSpy:
    """Records the C skim's answers (a tuple: it read the message; False or None: the full decode did)."""

    def __init__(self):
        self.answers = []
        self.real = decode_mod._skim

    def __enter__(self):
        def spy(*a):
            self.answers.append(self.real(*a))
            return self.answers[-1]
        decode_mod._skim = spy
        return self

    def __exit__(self, *exc):
        decode_mod._skim = self.real

    @property
    def decided(self) -> int:
        return sum(a.__class__ is tuple for a in self.answers)


# Drainer writes a signed column's value as int64_value, an unsigned one's as uint64_value
SIGNED = st.one_of(st.integers(INT64_MIN, INT64_MAX), st.integers(-3000, 3000),
                   st.sampled_from([0, -1, 1, 1023, 1024, -1024, -1025, INT64_MIN, INT64_MAX]))
UNSIGNED = st.one_of(st.integers(0, UINT64_MAX), st.integers(0, 5000),
                     st.sampled_from([0, 1, 1023, 1024, INT64_MAX, 1 << 63, UINT64_MAX]))


@st.composite
def messages(draw):
    tables = []
    for ti in range(draw(st.integers(1, 3))):
        width = draw(st.integers(1, 5))
        key_type = draw(st.sampled_from(["tinyint", "smallint", "mediumint", "int", "bigint"]))
        unsigned = draw(st.booleans())
        keys = UNSIGNED if unsigned else SIGNED
        schema = _schema(key_type, width, draw(st.integers(0, width - 1)), f"t{ti}", unsigned)
        rows = []
        for _ in range(draw(st.integers(0, 12))):
            def image():
                return tuple(draw(keys) if i in schema.pk else (f"v{draw(st.integers(0, 9))}" if i % 2 else i)
                             for i in range(width))
            op = draw(st.sampled_from([Op.INSERT, Op.UPDATE, Op.DELETE]))
            if op == Op.INSERT:
                rows.append(RowChange(op, image(), None))
            elif op == Op.DELETE:
                rows.append(RowChange(op, None, image()))
            else:
                rows.append(RowChange(op, image(), image()))
        tables.append(TableChanges(schema, rows))
    return encode_txn(Txn(draw(st.integers(1, 1 << 40)), tables), "UTC")


@settings(max_examples=300, deadline=None)
@given(value=messages(), shards=st.integers(1, 9), data=st.data(), routing=st.sampled_from(ROUTING_RULES))
def test_the_scan_owns_the_rows_python_owns(value, shards, data, routing):
    owned = data.draw(st.sets(st.integers(0, shards - 1), max_size=shards - 1))  # never all: partial
    scanned, python, skimmed = _both(value, shards, owned, routing)
    assert scanned == python == skimmed


def test_the_scan_is_used_and_skips_only_the_others_rows():
    schema = _schema("bigint", 3, 0)
    rows = [RowChange(Op.INSERT, (k << 10, "x", 1), None) for k in range(40)]
    value = encode_txn(Txn(5, [TableChanges(schema, rows)]), "UTC")
    calls = []
    real = decode_mod._owned_rows

    def spy(*a):
        calls.append(real(*a))
        return calls[-1]

    decode_mod._owned_rows = spy
    try:
        mine = Decoder("UTC").decode(value, POS, Router(2, {0}).interest).tables[0].rows
    finally:
        decode_mod._owned_rows = real
    assert len(calls) == 1 and calls[0] is not None  # the scan decided, not the Python path
    full = [r for r in mine if r.new is not None]
    assert 0 < len(full) < 40  # some rows of each process, the placeholders count the others
    assert len(mine) == 40 and all(r.op is Op.INSERT for r in mine)


def _column(**fields) -> bytes:
    c = pb.Column()
    for k, v in fields.items():
        setattr(c, k, v)
    return c.SerializeToString()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    head = _varint((number << 3) | wire_type)
    return head + (_varint(len(payload)) if wire_type == 2 else b"") + payload


def _message(mutations: list[bytes], width: int = 2, key_type: str = "bigint") -> bytes:
    """A Drainer DML message of table db.t (key column 0) with these raw mutations."""
    head = (_field(1, 2, b"db") + _field(2, 2, b"t")
            + b"".join(_field(3, 2, pb.ColumnInfo(name=f"c{i}", mysql_type=key_type if i == 0 else "varchar",
                                                   is_primary_key=i == 0).SerializeToString())
                       for i in range(width))
            + _field(5, 2, pb.Key(name="PRIMARY", column_names=["c0"]).SerializeToString()))
    table = head + b"".join(_field(4, 2, m) for m in mutations)
    dml = _field(1, 2, table)
    return b"\x08\x00\x10\x2a" + _field(3, 2, dml)


def _row(*columns: bytes) -> bytes:
    return b"".join(_field(1, 2, c) for c in columns)


KEY5, TEXT = _column(int64_value=5), _column(string_value="x")
INSERT = _field(1, 0, b"\x00") + _field(2, 2, _row(KEY5, TEXT))


@pytest.mark.parametrize("name,mutation", [
    ("row given twice (protobuf merges the two)", INSERT + _field(2, 2, _row(KEY5, TEXT))),
    ("key in string_value", _field(1, 0, b"\x00") + _field(2, 2, _row(_column(string_value="5"), TEXT))),
    ("key field with the wrong wire type", _field(1, 0, b"\x00") + _field(2, 2, _row(_field(2, 2, b"5"), TEXT))),
    ("unknown mutation type", _field(1, 0, b"\x07") + _field(2, 2, _row(KEY5, TEXT))),
    ("no type", _field(2, 2, _row(KEY5, TEXT))),
    ("no row", _field(1, 0, b"\x00")),
    ("too few columns", _field(1, 0, b"\x00") + _field(2, 2, _row(KEY5))),
    ("too many columns", _field(1, 0, b"\x00") + _field(2, 2, _row(KEY5, TEXT, TEXT))),
    ("insert with a before image", INSERT + _field(3, 2, _row(KEY5, TEXT))),
    ("update without a before image", _field(1, 0, b"\x01") + _field(2, 2, _row(KEY5, TEXT))),
    ("update with a short before image", _field(1, 0, b"\x01") + _field(2, 2, _row(KEY5, TEXT))
     + _field(3, 2, _row(KEY5))),
    ("type given twice", _field(1, 0, b"\x02") + INSERT),
    ("NULL key", _field(1, 0, b"\x00") + _field(2, 2, _row(_column(is_null=True), TEXT))),
    ("both integer fields: the non-zero one counts", [
        _field(1, 0, b"\x00") + _field(2, 2, _row(_column(int64_value=0, uint64_value=k << 10), TEXT))
        for k in range(1, 9)]),
    ("unknown fields everywhere", _field(1, 0, b"\x00") + _field(9, 0, b"\x01") + _field(2, 2, _row(
        _column(int64_value=5) + _field(12, 5, b"abcd") + _field(13, 1, b"12345678"), TEXT) + _field(7, 2, b"zz"))),
    ("a value of another type in the key column", _field(1, 0, b"\x00")
     + _field(2, 2, _row(_column(int64_value=5, double_value=1.5), TEXT))),
])
@pytest.mark.parametrize("owned", [{0}, {1}])
def test_odd_and_malformed_mutations_decode_as_the_python_path_decodes_them(name, mutation, owned):
    value = _message([INSERT] + (mutation if isinstance(mutation, list) else [mutation]) + [INSERT])
    scanned, python, skimmed = _both(value, 2, owned, ROUTING_RULES[-1], known=(_message([INSERT, INSERT]),))
    assert scanned == python == skimmed, name


def _damaged(rng: random.Random, value: bytes, edits: int) -> bytes:
    """``value`` with 1 to ``edits`` bytes changed (70 %), removed or inserted."""
    out = bytearray(value)
    for _ in range(rng.randint(1, edits)):
        at = rng.randrange(len(out))
        if rng.random() < 0.7:
            out[at] = rng.randrange(256)
        elif rng.random() < 0.5:
            del out[at]
        else:
            out.insert(at, rng.randrange(256))
    return bytes(out)


def test_damaged_messages_decode_or_fail_the_same_way_on_both_paths():
    rng = random.Random(13)
    schema = _schema("bigint", 3, 1)
    base = []
    for n in range(20):
        rows = [RowChange(Op.UPDATE, (7, k + 1, 3), (7, k, 3)) if k % 3 == 0 else
                RowChange(Op.INSERT, (8, k * 977, 4), None) for k in range(n * 50, n * 50 + 8)]
        base.append(encode_txn(Txn(9 + n, [TableChanges(schema, rows)]), "UTC"))
    compared = differ = 0
    for i in range(3000):
        value = _damaged(rng, rng.choice(base), 3)
        scanned, python, skimmed = _both(value, 3, {i % 3}, ROUTING_RULES[i % 2])
        assert scanned == python == skimmed, value.hex()
        compared += 1
        differ += isinstance(python, str)
    assert compared == 3000 and 0 < differ < compared  # both outcomes were exercised


def test_damaged_messages_decode_or_fail_alike_when_every_row_is_applied():
    # -w 1: a decoder that knows the headers reads each message with the skim (every row its
    # own, checked whole), one that does not parses it; both as the Python path.
    rng = random.Random(17)
    schema = _schema("bigint", 3, 1)
    base = [encode_txn(Txn(9 + n, [TableChanges(schema, [
        RowChange(Op.UPDATE, (7, k + 1, 3), (7, k, 3)) if k % 3 == 0 else RowChange(Op.INSERT, (8, k * 977, 4), None)
        for k in range(n * 50, n * 50 + 8)])]), "UTC") for n in range(20)]
    differ = 0
    with _SkimSpy() as spy:
        for _ in range(2000):
            value = _damaged(rng, rng.choice(base), 3)
            python = _python_only(value, None)
            assert repr(_decoded(Decoder("UTC"), value, None)) == repr(python)
            assert repr(_known_decoded(value, None, known=(base[0],))) == repr(python), value.hex()
            differ += isinstance(python, str)
    assert 0 < differ < 2000 and spy.decided > 100, (differ, spy.decided)  # both outcomes; the skim read many


def test_the_scan_decides_every_well_formed_message():
    # The comparisons above would pass if the scan always gave way to the Python path.
    rng = random.Random(5)
    real = decode_mod._owned_rows
    answers = []

    def spy(*a):
        answers.append(real(*a))
        return answers[-1]

    for n in range(200):
        schema = _schema(rng.choice(["int", "bigint", "tinyint"]), rng.randint(1, 4), 0, unsigned=n % 2 == 1)
        width = len(schema.columns)
        low = 0 if n % 2 else INT64_MIN

        def image():
            return (rng.choice([rng.randint(low, INT64_MAX), rng.randint(0, 5000)]),) + tuple(
                f"v{i}" if i % 2 else i for i in range(1, width))
        rows = [rng.choice([RowChange(Op.INSERT, image(), None), RowChange(Op.DELETE, None, image()),
                            RowChange(Op.UPDATE, image(), image())]) for _ in range(rng.randint(1, 10))]
        value = encode_txn(Txn(n + 1, [TableChanges(schema, rows)]), "UTC")
        decode_mod._owned_rows = spy
        try:
            scanned, python, skimmed = _both(value, 3, {n % 3}, ROUTING_RULES[n % 2])
        finally:
            decode_mod._owned_rows = real
        assert scanned == python == skimmed
    assert len(answers) >= 200 and None not in answers  # (the skim path's decoder calls it too)


def test_a_message_with_its_tables_in_two_dml_data_fields_decodes_as_protobuf_merges_it():
    # protobuf merges a repeated message field given twice (the tables of both join); the
    # scan must not read only one of them.
    schema = _schema("bigint", 2, 0)
    a = encode_txn(Txn(3, [TableChanges(schema, [RowChange(Op.INSERT, (k << 10, "a"), None) for k in range(16)])]), "UTC")
    b = encode_txn(Txn(3, [TableChanges(schema, [RowChange(Op.INSERT, ((k << 10) + 7, "b"), None)
                                                 for k in range(16, 40)])]), "UTC")
    dml_a = pb.Binlog.FromString(a).dml_data.SerializeToString()
    dml_b = pb.Binlog.FromString(b).dml_data.SerializeToString()
    value = b"\x08\x00\x10\x03" + _field(3, 2, dml_a) + _field(3, 2, dml_b)
    assert len(pb.Binlog.FromString(value).dml_data.tables) == 2
    for owned in ({0}, {1}):
        scanned, python, skimmed = _both(value, 2, owned, ROUTING_RULES[-1])
        assert scanned == python == skimmed


# -- the skim: a message none of whose rows this process applies, from its bytes ------------

def _run_message(run: int, n: int, ts: int, width: int = 3, tables: int = 1) -> bytes:
    """A DML message of ``tables`` tables whose rows' keys all lie in key run ``run`` (one
    shard under the key-runs rule): inserts, updates and deletes."""
    changes = []
    for ti in range(tables):
        schema = _schema("bigint", width, 0, f"t{ti}")
        rows = []
        for k in range(n):
            img = ((run << 10) + k,) + tuple(f"v{i}" if i % 2 else i for i in range(1, width))
            rows.append(RowChange(Op.UPDATE, img, img) if k % 4 == 1 else
                        RowChange(Op.DELETE, None, img) if k % 4 == 3 else RowChange(Op.INSERT, img, None))
        changes.append(TableChanges(schema, rows))
    return encode_txn(Txn(ts, changes), "UTC")


def _owners(value: bytes, shards: int = 2) -> set:
    """The shards whose process applies some row of ``value`` (key-runs rule, Python path)."""
    out = set()
    for s in range(shards):
        _, python, _ = _both(value, shards, {s}, ROUTING_RULES[1])
        if any(r.new is not None or r.old is not None for _, rows in python for r in rows):
            out.add(s)
    return out


def test_the_skim_decides_a_message_none_of_whose_rows_are_owned_and_only_that():
    interest = Router(2, {0}, ROUTING_RULES[1]).interest
    foreign = [v for v in (_run_message(r, 8, 100 + r, tables=1 + r % 2) for r in range(40)) if _owners(v) == {1}]
    mine = [v for v in (_run_message(r, 8, 200 + r) for r in range(40)) if _owners(v) == {0}]
    assert len(foreign) >= 5 and len(mine) >= 5
    d = Decoder("UTC")
    with _SkimSpy() as spy:
        first = d.decode(foreign[0], POS, interest)  # headers not known yet: decoded fully, learnt
        assert spy.answers == [False] and len(first.tables[0].rows) == 8
        for v in foreign:
            txn = d.decode(v, POS, interest)
            assert [list(tc.rows) for tc in txn.tables] == [list(tc.rows) for tc in
                                                           Decoder("UTC").decode(v, POS, interest).tables]
            assert [tc.schema for tc in txn.tables] == [tc.schema for tc in
                                                       Decoder("UTC").decode(v, POS, interest).tables]
            assert txn.commit_ts == pb.Binlog.FromString(v).commit_ts and txn.position == POS
        assert spy.decided == len(foreign)  # every one (the first again, now that it is known)
        n = len(spy.answers)

        def no_full_decode(*a, **k):
            raise AssertionError("the full decode (protobuf parse) ran although the skim had read the message")
        d._decode = no_full_decode
        for v in mine:
            txn = d.decode(v, POS, interest)
            assert sum(r.new is not None or r.old is not None for r in txn.tables[0].rows) == 8
            assert repr(_decoded(d, v, interest)) == repr(_python_only(v, interest))
        # a row of its own: the skim answers too (None for the table whose rows it owns), and
        # those rows are converted from the wire, without a protobuf parse
        assert [a.__class__ for a in spy.answers[n:]] == [tuple] * (2 * len(mine))
        assert all(a[2] == [None] and a[1][0][0] is txn.tables[0].schema for a in spy.answers[n:])


@pytest.mark.parametrize("damage", [
    b"\x08",  # a column truncated inside (a tag without its varint): protobuf refuses it
    _field(6, 0, b"\x01"),  # string_value in the varint wire type: protobuf keeps it as unknown
    _field(2, 3, b""),  # a group never closed
])
@pytest.mark.parametrize("mine_first", [True, False])
@pytest.mark.parametrize("update", [False, True])
def test_a_damaged_row_of_another_process_next_to_a_row_of_its_own_is_refused_as_protobuf_refuses_it(
        damage, mine_first, update):
    # The skim reads a message with a row of this process's whole: the other process's rows are
    # checked down to each column (the row scan that converts the owned rows reads only their
    # keys), and anything odd there goes to the full decode, so a message protobuf rejects is
    # rejected here too, as in the process that owns the damaged row, never applied in part.
    interest = Router(2, {0}, ROUTING_RULES[1]).interest
    keys = {s: next(k for k in range(0, 1 << 16, 1 << 10) if _owners(_message([
        _field(1, 0, b"\x00") + _field(2, 2, _row(_column(int64_value=k), TEXT))])) == {s}) for s in (0, 1)}
    good = _field(1, 0, b"\x00") + _field(2, 2, _row(_column(int64_value=keys[0]), TEXT))
    bad_row = _row(_column(int64_value=keys[1]), damage)
    bad = (_field(1, 0, b"\x01") + _field(2, 2, _row(_column(int64_value=keys[1]), TEXT)) + _field(3, 2, bad_row)
           if update else _field(1, 0, b"\x00") + _field(2, 2, bad_row))
    value = _message([good, bad] if mine_first else [bad, good])
    want = _python_only(value, interest)
    assert damage != b"\x08" or (isinstance(want, str) and "protobuf parse error" in want)
    d = Decoder("UTC")
    _decoded(d, _message([good]), interest)  # the header is known: the skim reads the message
    with _SkimSpy() as spy:
        assert _decoded(d, value, interest) == want
    assert spy.answers == [None]


def test_the_skim_reads_every_plain_message_of_a_process_that_applies_every_row():
    # -w 1 (interest None): after a table's first message, no message of it is parsed by protobuf
    msgs = [_run_message(r, 8, 500 + r, tables=1 + r % 3) for r in range(30)]
    d = Decoder("UTC")
    with _SkimSpy() as spy:
        for v in msgs[:3]:
            d.decode(v, POS, None)  # learns the three tables' headers
        full = d._decode

        def no_full_decode(*a, **k):
            raise AssertionError("the full decode (protobuf parse) ran although the skim had read the message")
        d._decode = no_full_decode
        for v in msgs:
            assert repr(_decoded(d, v, None)) == repr(_python_only(v, None))
        assert all(a.__class__ is tuple and all(t is None for t in a[2]) for a in spy.answers[3:])
        # a row C gives way on (invalid UTF-8 in a text column): the full decode decides, with
        # the headers the skim found, and gives the Python path's exact answer
        d._decode = full
        bad = _typed_message("varchar", [_field(6, 2, b"\xff")])
        d.decode(_typed_message("varchar", [_column(string_value="x")]), POS, None)
        assert repr(_decoded(d, bad, None)) == repr(_python_only(bad, None))
        assert spy.answers[-1].__class__ is tuple


def test_the_skim_gives_way_for_another_interest_a_changed_header_ddl_and_odd_envelopes():
    interest = Router(2, {0}, ROUTING_RULES[1]).interest
    foreign = next(v for v in (_run_message(r, 6, 300 + r) for r in range(40)) if _owners(v) == {1})
    d = Decoder("UTC")
    d.decode(foreign, POS, interest)
    with _SkimSpy() as spy:
        d.decode(foreign, POS, interest)
        assert spy.decided == 1
        other = Router(2, {0}, ROUTING_RULES[1]).interest  # an interest not asked of this header
        d.decode(foreign, POS, other)
        assert spy.answers[-1] is False
        # the same table with one more column: another structure, never taken for the first
        wider = next(v for v in (_run_message(r, 6, 300 + r, width=4) for r in range(40)) if _owners(v) == {1})
        txn = d.decode(wider, POS, other)
        assert spy.answers[-1] is False and len(txn.tables[0].schema.columns) == 4
        ddl = pb.Binlog(type=pb.DDL, commit_ts=9, ddl_data=pb.DDLData(schema_name="db", table_name="t",
                                                                       ddl_query=b"drop table t"))
        assert d.decode(ddl.SerializeToString(), POS, other).query == "drop table t"
        assert spy.answers[-1] is None
        odd = [
            _field(5, 2, b"+08:00") + foreign,  # time_zone: a field the skim does not expect
            foreign + _field(2, 0, _varint(77)),  # commit_ts twice: protobuf keeps the last
            foreign + _field(3, 2, b""),  # dml_data twice: protobuf merges
        ]
        for v in odd:
            n = len(spy.answers)
            want = Decoder("UTC").decode(v, POS, other)
            got = d.decode(v, POS, other)
            assert spy.answers[n] is None
            assert got.commit_ts == want.commit_ts
            assert [list(t.rows) for t in got.tables] == [list(t.rows) for t in want.tables]
        assert d.decode(odd[1], POS, other).commit_ts == 77
        body = foreign[2:]  # after the type field (b"\x08\x00", written first)
        assert foreign[:2] == b"\x08\x00"
        for type_field, error in ((b"\x08\x01", "DDL message without ddl_data"),
                                  (b"\x08\x05", "missing or unknown BinlogType"),
                                  (b"", "missing or unknown BinlogType")):
            n = len(spy.answers)
            with pytest.raises(DrainerDecodeError, match=error):
                d.decode(type_field + body, POS, other)
            assert spy.answers[n] is None


def test_damaged_foreign_messages_decode_or_fail_as_the_python_path_decodes_them():
    # The skim reads bytes protobuf never parsed: any damage it accepts must be damage protobuf
    # accepts too, with the same rows (or it must give way to the full decode).
    rng = random.Random(29)
    base = [v for v in (_run_message(r, 8, 500 + r, width=4, tables=1 + r % 3) for r in range(60))
            if _owners(v) == {1}][:12]
    assert len(base) >= 8
    compared = differ = 0
    with _SkimSpy() as spy:
        for i in range(2500):
            value = _damaged(rng, rng.choice(base), 2)
            scanned, python, skimmed = _both(value, 2, {0}, ROUTING_RULES[1], known=tuple(base))
            assert scanned == python == skimmed, value.hex()
            compared += 1
            differ += isinstance(python, str)
    assert 0 < differ < compared
    assert spy.decided > 250  # the skim itself answered for many damaged messages, not only gave way


@pytest.mark.parametrize("name,column", [
    ("invalid UTF-8 in a string column", _field(6, 2, b"\xff\xfe")),
    ("a known column field with the wrong wire type", _field(4, 0, b"\x01")),
    ("an unknown column field", _field(11, 2, b"zz")),
    ("a truncated column", b"\x10"),
    ("a group in a column", _field(7, 3, b"")),
    ("a NULL column", _column(is_null=True)),
])
@pytest.mark.parametrize("owned", [{0}, {1}])
def test_odd_columns_of_foreign_rows_decode_as_the_python_path_decodes_them(name, column, owned):
    rows = [_field(1, 0, b"\x00") + _field(2, 2, _row(_column(int64_value=(k << 10) + 5), column)) for k in (7, 7, 7)]
    scanned, python, skimmed = _both(_message(rows), 2, owned, ROUTING_RULES[1], known=(_message([INSERT]),))
    assert scanned == python == skimmed, name


@settings(max_examples=600, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(raw=binlog_bytes(), owned=st.sampled_from([{0}, {1}]), routing=st.sampled_from(ROUTING_RULES))
def test_the_fuzzers_hostile_messages_decode_alike_on_every_path(raw, owned, routing):
    # tests/support/drainer_fuzz.py's messages (wrong column counts, values of other types,
    # unknown enums, missing nested fields, bit flips, random bytes), built field by field
    # without our encoder. repr: a NaN double is not equal to itself.
    scanned, python, skimmed = _both(raw, 2, owned, routing)
    assert repr(scanned) == repr(python) == repr(skimmed)


# ------------------------------------------------------------------ the C conversion of the rows
#
# The rows a process applies are converted from the wire in C (values.column_plan: the same
# plan the Python converters are built from). A value the two disagree on would be written
# wrong, silently; so the C conversion is compared with the Python converters on every column
# type, on the fuzzer's hostile columns and on odd columns, and where it is unsure it must give
# way (the Python path then gives the exact value or error).


class _Spy:
    """Counts a C entry point's answers that decided (anything but None)."""

    def __init__(self, name: str):
        self.name, self.real, self.decided, self.calls = name, getattr(decode_mod, name), 0, 0

    def __enter__(self):
        def spy(*a):
            got = self.real(*a)
            self.calls += 1
            self.decided += got is not None
            return got
        setattr(decode_mod, self.name, spy)
        return self

    def __exit__(self, *exc):
        setattr(decode_mod, self.name, self.real)


def _python_only(value: bytes, interest, zone: str = "UTC"):
    saved = decode_mod._owned_rows, decode_mod._skim, decode_mod._all_rows
    decode_mod._owned_rows = decode_mod._skim = decode_mod._all_rows = None
    try:
        return _decoded(Decoder(zone), value, interest)
    finally:
        decode_mod._owned_rows, decode_mod._skim, decode_mod._all_rows = saved


def _every_type_rows(rng: random.Random, schema: TableSchema, native_row, n: int) -> list:
    rows = []
    for _ in range(n):
        op = rng.choice([Op.INSERT, Op.UPDATE, Op.DELETE])
        new, old = native_row(rng, 0.25), native_row(rng, 0.25)
        rows.append(RowChange(op, None if op == Op.DELETE else new, None if op == Op.INSERT else old))
    return rows


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/New_York"])
def test_every_column_type_is_converted_in_c_as_the_python_converters_convert_it(zone):
    from tests.unit.test_ticdc_canal_json import ALL_TYPES, native_row  # every type the simulator writes

    # every kind of value field and every function of a plan (values.column_plan) is here
    assert {"decimal", "bit", "date", "datetime", "timestamp", "time", "year", "json", "enum", "set", "double",
            "float", "bigint", "varchar", "blob"} <= set(ALL_TYPES.types)
    rng = random.Random(zone)
    with _Spy("_all_rows") as every, _Spy("_owned_rows") as owned:
        for n in range(40):
            rows = _every_type_rows(rng, ALL_TYPES, native_row, rng.randint(1, 8))
            value = encode_txn(Txn(n + 1, [TableChanges(ALL_TYPES, rows)]), zone)
            for interest in (None, Router(2, {0}).interest, Router(2, {1}).interest):
                c_path = _decoded(Decoder(zone), value, interest)
                assert repr(c_path) == repr(_python_only(value, interest, zone)), (n, interest)
                assert not isinstance(c_path, str), c_path  # the encoder's messages decode
                assert repr(_known_decoded(value, interest, zone)) == repr(c_path)  # the skim's path
    # The comparison above would pass if C always gave way: it decided every message.
    assert every.calls == every.decided == 40 * 3  # fresh decoder; knowing one: its first decode, the skim's
    assert owned.decided == owned.calls >= 80


@settings(max_examples=600, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(raw=binlog_bytes())
def test_the_fuzzers_hostile_messages_convert_alike_when_every_row_is_applied(raw):
    # Every row applied here (-w 1, one process): all_rows converts every table in C (after
    # the full decode, or read by the skim once the headers are known).
    want = repr(_python_only(raw, None))
    assert repr(_decoded(Decoder("UTC"), raw, None)) == want
    assert repr(_known_decoded(raw, None)) == want


_TYPED_COLUMNS = [
    # (column type, Column bytes): plain values, edges, and forms protobuf accepts but C must give
    # way on (or agree with): repeated fields, two value fields, is_null with a value, unknown
    # fields, wire types of another field, invalid UTF-8, texts the type's parser rejects.
    ("int", _column(int64_value=-7)),
    ("int", _column(uint64_value=7)),
    ("int", _column(int64_value=0)),
    ("bigint", _column(uint64_value=UINT64_MAX)),
    ("bigint", _column(int64_value=INT64_MIN)),
    ("int", _column(int64_value=0, uint64_value=9)),
    ("int", _column(int64_value=3, uint64_value=9)),
    ("int", _column(int64_value=3) + _column(int64_value=4)),
    ("int", _column(string_value="5")),
    ("int", _column(is_null=False)),
    ("int", _column(is_null=False, int64_value=5)),
    ("int", _column(is_null=True, int64_value=5)),
    ("int", _column(is_null=True) + _column(is_null=False)),
    ("int", _field(2, 2, b"5")),
    ("int", _column(int64_value=5) + _field(9, 0, b"\x01")),
    ("int", _field(2, 0, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")),
    ("year", _column(string_value="0")),
    ("year", _column(string_value="2024")),
    ("year", _column(string_value="x")),
    ("double", _column(double_value=-0.0)),
    ("double", _column(double_value=float("nan"))),
    ("double", _column(double_value=float("inf"))),
    ("double", _column(double_value=1e-310)),
    ("double", b""),
    ("double", _field(4, 5, b"\x00\x00\x80\x3f")),
    ("float", _column(double_value=0.1)),
    ("varchar", _column(string_value="")),
    ("varchar", b""),
    ("varchar", _column(string_value="名前 \x00 ' \\")),
    ("varchar", _field(6, 2, b"\xed\xa0\x80")),
    ("varchar", _field(6, 2, b"\xc0\xaf")),
    ("varchar", _field(6, 2, b"\xf4\x90\x80\x80")),
    ("varchar", _field(6, 2, b"\xff")),
    ("varchar", _column(bytes_value=b"x")),
    ("varchar", _column(string_value="a") + _column(string_value="b")),
    ("varchar", _column(string_value="a", int64_value=1)),
    ("text", _column(is_null=True)),
    ("blob", b""),
    ("blob", _column(bytes_value=b"\x00\xff")),
    ("blob", _column(string_value="x")),
    ("varbinary", _column(bytes_value=b"")),
    ("bit", _column(bytes_value=b"\x01\x00")),
    ("bit", b""),
    ("json", _column(bytes_value='{"a": "名"}'.encode())),
    ("json", _column(bytes_value=b"\xff")),
    ("decimal", _column(string_value="-12.50")),
    ("decimal", _column(string_value="NaN")),
    ("decimal", _column(string_value="1e400")),
    ("decimal", b""),
    # DECIMAL and DATETIME/TIMESTAMP text is converted in C when plain (kinds "N", "T"): its
    # edges, and texts just outside what C takes itself (the plan's function decides those)
    ("decimal", _column(string_value="0")),
    ("decimal", _column(string_value="-0.000")),
    ("decimal", _column(string_value="12345678901234567890123456789012345678901234567890.123456789012345")),
    ("decimal", _column(string_value="1" * 129)),
    ("decimal", _column(string_value="+1.5")),
    ("decimal", _column(string_value="1.")),
    ("decimal", _column(string_value=".5")),
    ("decimal", _column(string_value="-")),
    ("decimal", _column(string_value="1_000")),
    ("decimal", _column(string_value=" 1")),
    ("decimal", _column(string_value="1.5e3")),
    ("decimal", _column(string_value="١٢")),
    ("datetime", _column(string_value="2024-02-29 23:59:59")),
    ("datetime", _column(string_value="2024-02-29 23:59:59.5")),
    ("datetime", _column(string_value="2024-02-29 23:59:59.12345")),
    ("datetime", _column(string_value="2024-02-29 23:59:59.")),
    ("datetime", _column(string_value="2024-02-29 23:59:59.1234567")),
    ("datetime", _column(string_value="9999-12-31 23:59:59.999999")),
    ("datetime", _column(string_value="0001-01-01 00:00:00")),
    ("datetime", _column(string_value="2023-02-29 00:00:00")),
    ("datetime", _column(string_value="2024-01-01 24:00:00")),
    ("datetime", _column(string_value="2024-01-01 23:60:00")),
    ("datetime", _column(string_value="2024-01-01 23:59:60")),
    ("datetime", _column(string_value="2024-13-01 00:00:00")),
    ("datetime", _column(string_value="2024-01-00 00:00:00")),
    ("datetime", _column(string_value="0000-01-01 00:00:00")),
    ("datetime", _column(string_value="2024-01-01 00:00:0x")),
    ("datetime", _column(string_value="2024-01-01T00:00:00")),
    ("datetime", _column(string_value="2024/01/01 00:00:00")),
    ("datetime", _column(string_value="2024-01-01 00:00:00.1+0")),
    ("datetime", _column(string_value="2024-01-01 00:00:00Z")),
    ("datetime", _column(string_value="２024-01-01 00:00:00")),
    ("datetime", _column(string_value="2024-01-01")),
    ("timestamp", _column(string_value="0000-00-00 00:00:00")),
    ("timestamp", _column(string_value="2024-10-27 02:30:00.25")),
    ("datetime", _column(string_value="2024-02-29 23:59:59.000001")),
    ("datetime", _column(string_value="0000-00-00 00:00:00")),
    ("datetime", _column(string_value="2024-02-30 00:00:00")),
    ("datetime", _column(string_value="2024-01-01T00:00:00+01:00")),
    ("timestamp", _column(string_value="2024-03-10 02:30:00")),
    ("date", _column(string_value="2024-00-01")),
    ("time", _column(string_value="-838:59:59.5")),
    ("time", _column(string_value="12:60:00")),
    ("enum", _column(uint64_value=2)),
    ("enum", _column(int64_value=2)),
    ("set", _column(uint64_value=0)),
    ("geometry", _column(string_value="POINT(1 2)")),
]


def _typed_message(col_type: str, columns: list[bytes]) -> bytes:
    """db.t (bigint key c0, one column of ``col_type``): an insert per column, and an update
    whose before image has it too."""
    head = (_field(1, 2, b"db") + _field(2, 2, b"t")
            + _field(3, 2, pb.ColumnInfo(name="c0", mysql_type="bigint", is_primary_key=True).SerializeToString())
            + _field(3, 2, pb.ColumnInfo(name="c1", mysql_type=col_type).SerializeToString())
            + _field(5, 2, pb.Key(name="PRIMARY", column_names=["c0"]).SerializeToString()))
    muts = [_field(1, 0, b"\x00") + _field(2, 2, _row(_column(int64_value=(k << 10) + 5), c))
            for k, c in enumerate(columns)]
    muts += [_field(1, 0, b"\x01") + _field(2, 2, _row(_column(int64_value=(9 << 10) + 1), _column(is_null=True)))
             + _field(3, 2, _row(_column(int64_value=(9 << 10) + 1), c)) for c in columns]
    return b"\x08\x00\x10\x2a" + _field(3, 2, _field(1, 2, head + b"".join(_field(4, 2, m) for m in muts)))


@pytest.mark.parametrize("col_type,column", _TYPED_COLUMNS)
@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_odd_columns_of_applied_rows_convert_as_the_python_converters_convert_them(col_type, column, zone):
    value = _typed_message(col_type, [column])
    plain = _typed_message(col_type, [_column(is_null=True)])
    for interest in (None, Router(2, {0}, ROUTING_RULES[1]).interest, Router(2, {1}, ROUTING_RULES[1]).interest):
        want = _python_only(value, interest, zone)
        assert repr(_decoded(Decoder(zone), value, interest)) == repr(want), (col_type, column.hex())
        d = Decoder(zone)  # a decoder that knows the header: the skim, then the full decode
        _decoded(d, plain, interest)
        assert repr(_decoded(d, value, interest)) == repr(want)


@pytest.mark.parametrize("col_type,text,by_c", [
    ("decimal", "-12.50", True), ("decimal", "0", True), ("decimal", "1e3", False), ("decimal", "+1", False),
    ("datetime", "2024-02-29 23:59:59.5", True), ("datetime", "2024-02-29 23:59:59", True),
    ("datetime", "0000-00-00 00:00:00", False), ("datetime", "2024-00-00 00:00:00.000000", False),
    ("timestamp", "2024-10-27 02:30:00", True),
])
def test_plain_decimal_and_datetime_text_is_converted_in_c_without_the_plans_function(monkeypatch, col_type, text, by_c):
    # The comparisons above would pass if kinds "N" / "T" were plain strings handed to the
    # function: here the function is watched, and must be called exactly for the texts C leaves.
    from tidb2mysql.drainer import values

    calls = []
    kind, fn = values.column_plan(col_type, None)
    assert kind == ("N" if col_type == "decimal" else "T")

    def watched(s):
        calls.append(s)
        return fn(s)

    if col_type == "timestamp":
        monkeypatch.setattr(values, "_timestamp_text", lambda zone: watched)
    else:
        monkeypatch.setitem(values._FIXED_PLANS, col_type, (kind, watched))
    value = _typed_message(col_type, [_column(string_value=text)])
    with _Spy("_all_rows") as every:
        got = _decoded(Decoder("UTC"), value, None)
    assert every.decided
    assert calls == ([] if by_c else [text, text])  # the insert's row and the update's before image
    assert repr(got) == repr(_python_only(value, None, "UTC"))


@pytest.mark.parametrize("col_type,column,gives_way", [
    ("int", _column(int64_value=-7), False),
    ("varchar", b"", False),
    ("decimal", _column(string_value="1.5"), False),
    ("int", _column(int64_value=3) + _column(int64_value=4), True),  # repeated: protobuf keeps the last
    ("int", _column(int64_value=3, uint64_value=9), True),  # two value fields
    ("int", _column(is_null=True, int64_value=5), True),  # NULL with a value
    ("int", _column(int64_value=5) + _field(9, 0, b"\x01"), True),  # unknown field
    ("int", _field(2, 2, b"5"), True),  # a known field in another wire type
    ("varchar", _field(6, 2, b"\xed\xa0\x80"), True),  # invalid UTF-8 (a surrogate)
    ("decimal", _column(string_value="NaN"), True),  # the plan's function raises
    ("decimal", _column(string_value="1e3"), False),  # not plain: the function, called from C
    ("datetime", _column(string_value="2024-02-29 23:59:59.5"), False),
    ("datetime", _column(string_value="0000-00-00 00:00:00"), False),  # the function: a zero date
    ("datetime", _column(string_value="2024-02-30 00:00:00"), True),  # the function raises
    ("timestamp", _column(string_value="2024-10-27 02:30:00"), False),
    ("varchar", _column(bytes_value=b"x"), True),  # another type's value field
])
def test_the_c_conversion_decides_plain_columns_and_gives_way_on_odd_ones(col_type, column, gives_way):
    # The comparisons above would pass if C always gave way, or never did: here its own answer.
    value = _typed_message(col_type, [column])
    with _Spy("_all_rows") as every:
        _decoded(Decoder("UTC"), value, None)
    assert every.calls == 1 and every.decided == (not gives_way)
