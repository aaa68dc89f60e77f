"""Partial decode (a scaled-out reader converts only its own shards' rows) routes exactly like
a full decode followed by routing to the same shards.

The reader of one process of a ``-p N`` flow reads the whole topic; ``Router.interest`` tells
the decoder which row changes go to this process's shards, and the others stay undecoded
placeholders. If the two ever disagreed, a row would be applied by no process (lost) or by
two (out of order), so this compares them over every table shape the router knows, key
changes, NULL unique keys, slices, and a selection that renames tables and drops columns.
"""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from tidb2mysql.drainer import secondary_binlog_pb2 as pb
from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError, UnwalkedRows
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.replication.change import ShardChunk
from tidb2mysql.replication.pipeline import Pipeline, select_all
from tidb2mysql.replication.route import KEY_RUNS, ROUTING_RULES, RUN_BITS, Router, shards_of_process
from tidb2mysql.replication.source import MessageSlicer, RawMessage, TxnSlice
from tidb2mysql.selection.engine import Selection
from tidb2mysql.selection.events import EventSelector
from tidb2mysql.config.selection import SelectionConfig

SHARDS = 8
# Every routing rule of route.py: primary key, composite primary key, unique-key-only (its key
# nullable, so NULL-keyed rows go to the table's shard), primary key + secondary unique key,
# no key at all.
PK = TableSchema("db", "pk", ("id", "v", "n"), ("bigint", "varchar", "int"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
CPK = TableSchema("db", "cpk", ("a", "b", "v"), ("varchar", "int", "varchar"), pk=(0, 1),
                  unique_keys=(("PRIMARY", (0, 1)),))
UK = TableSchema("db", "uk", ("u", "v"), ("int", "varchar"), unique_keys=(("u", (0,)),))
SUK = TableSchema("db", "suk", ("id", "e", "v"), ("bigint", "varchar", "varchar"), pk=(0,),
                  unique_keys=(("PRIMARY", (0,)), ("e", (1,))))
NOKEY = TableSchema("db", "nokey", ("x", "v"), ("int", "varchar"))
TABLES = (PK, CPK, UK, SUK, NOKEY)


def _row(schema: TableSchema, k: int, v: str):
    if schema is PK:
        return (k, v, k * 3)
    if schema is CPK:
        return (f"a{k % 5}", k, v)
    if schema is UK:
        return (None if k % 7 == 0 else k, v)
    if schema is SUK:
        return (k, f"e{k}", v)
    return (k, v)


@st.composite
def transactions(draw):
    txns = []
    for ts in range(100, 100 + draw(st.integers(1, 6))):
        tables = []
        for schema in draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=3, unique=True)):
            rows = []
            for _ in range(draw(st.integers(1, 12))):
                op = draw(st.sampled_from([Op.INSERT, Op.UPDATE, Op.DELETE]))
                # keys spread over runs of 1,024 (key-runs routing) and several keys per run
                k = draw(st.integers(-30, 60)) * 301
                v = draw(st.text(max_size=4))
                if op == Op.INSERT:
                    rows.append(RowChange(op, _row(schema, k, v), None))
                elif op == Op.DELETE:
                    rows.append(RowChange(op, None, _row(schema, k, v)))
                else:  # sometimes the key changes (a split into DELETE + INSERT)
                    k2 = k if draw(st.booleans()) else draw(st.integers(-30, 60)) * 301
                    rows.append(RowChange(op, _row(schema, k2, v + "!"), _row(schema, k, v)))
            tables.append(TableChanges(schema, rows))
        txns.append(Txn(ts, tables))
    return txns


def _selector(kind: str):
    if kind == "all":
        return select_all
    # rename a database and a table, drop a non-key column, leave one table out
    cfg = SelectionConfig(exclude=["db.nokey"] if kind == "exclude" else [], databases={"db": "tgt"},
                          tables=[{"name": "db.pk", "to": "pk2", "columns": ["id", "n"]},
                                  {"name": "db.cpk", "columns": ["a", "b"]}])
    return EventSelector(Selection(cfg))


def _pipeline(owned, selector, routing=ROUTING_RULES[-1]):
    return Pipeline(Decoder("UTC"), Router(SHARDS, owned, routing), "topic", 0, -1, lambda letters: None,
                    selector=selector, watermark_interval=1e9, clock=lambda: 0.0)


def _routed(pipeline, items):
    out = []
    for key, (shard, it) in pipeline.process(items):
        if isinstance(it, ShardChunk):
            out += [(key, shard, c.commit_ts, c.seq, c.schema.qualified, c.schema.pk, c.op, c.new, c.old)
                    for c in it.changes]
    return sorted(out, key=repr)


def _messages(txns):
    return [RawMessage(i, encode_txn(t, "UTC"), t.commit_ts) for i, t in enumerate(txns)]


@settings(max_examples=150, deadline=None)
@given(txns=transactions(), processes=st.sampled_from([2, 3, 4]), sel=st.sampled_from(["all", "rename", "exclude"]),
       routing=st.sampled_from(ROUTING_RULES))
def test_each_process_routes_exactly_what_full_decoding_would_route_to_it(txns, processes, sel, routing):
    msgs = _messages(txns)
    everything = _routed(_pipeline(None, _selector(sel), routing), msgs)
    union = []
    for p in range(processes):
        owned = shards_of_process(SHARDS, p, 1, processes)
        partial = _pipeline(owned, _selector(sel), routing)
        assert partial.interest is not None  # the partial path is the one under test
        got = _routed(partial, msgs)
        assert got == [r for r in everything if r[1] in owned]
        union += got
    assert sorted(union, key=repr) == everything  # each change applied by exactly one process


@settings(max_examples=40, deadline=None)
@given(txns=transactions(), processes=st.sampled_from([2, 3]), routing=st.sampled_from(ROUTING_RULES))
def test_slices_of_a_large_transaction_decode_partially_like_the_whole(txns, processes, routing):
    big = Txn(500, [tc for t in txns for tc in t.tables])
    msg = RawMessage(9, encode_txn(big, "UTC"), 500)
    everything = _routed(_pipeline(None, select_all, routing), [msg])
    for p in range(processes):
        owned = shards_of_process(SHARDS, p, 1, processes)
        d = Decoder("UTC")
        b = d.parse(msg.value, KafkaPosition("topic", 0, 9))
        slicer = MessageSlicer(9, b, d.mutation_counts(b), max_rows=5)
        slices: list[TxnSlice] = []
        while not slicer.done:
            slices.append(slicer.next_slice())
        assert _routed(_pipeline(owned, select_all, routing), slices) == [r for r in everything if r[1] in owned]


def test_rows_of_other_processes_are_not_converted():
    """The saving is real: a value that cannot be converted in another process's row is not
    even looked at (its owner finds it and parks the message), while the key is checked."""
    owned = shards_of_process(SHARDS, 0, 1, 2)
    router = Router(SHARDS, owned)
    mine = next(k for k in range(0, 100 << RUN_BITS, 1 << RUN_BITS) if any(s in owned for s, _ in _shards(router, k)))
    theirs = next(k for k in range(0, 100 << RUN_BITS, 1 << RUN_BITS) if not any(s in owned for s, _ in _shards(router, k)))
    pipeline = _pipeline(owned, select_all)
    txn = Txn(7, [TableChanges(PK, [RowChange(Op.INSERT, (mine, "ok", 1), None),
                                    RowChange(Op.INSERT, (theirs, "ok", 2), None)])])
    ev = pipeline.decoder.decode(encode_txn(txn, "UTC"), KafkaPosition("t", 0, 0), pipeline.interest)
    assert [r.new for r in ev.tables[0].rows] == [(mine, "ok", 1), None]


def _shards(router, k):
    return [(s, it) for _key, (s, it) in router.route_txn(Txn(1, [TableChanges(PK, [RowChange(Op.INSERT, (k, "", 0),
                                                                                            None)])]))]


def test_a_table_applied_wholly_elsewhere_is_not_walked_and_keeps_its_positions():
    """A table whose every row goes to another process (secondary unique key: one shard) is
    not walked: its rows are placeholders with their operations (they count for ``seq``);
    the rows of the other tables of the same message are decoded as usual. A structural
    error in such a table is the owner's to find (as a bad value in a row it applies)."""
    whole = Router(SHARDS)._whole_table_shard(SUK)
    process = next(p for p in (0, 1) if whole not in shards_of_process(SHARDS, p, 1, 2))
    owned = shards_of_process(SHARDS, process, 1, 2)
    pipeline = _pipeline(owned, select_all, KEY_RUNS)  # the rule that applies a unique-key table whole
    router = Router(SHARDS, owned, KEY_RUNS)
    mine = next(k for k in range(100) if any(s in owned for s, _ in _shards(router, k)))
    txn = Txn(7, [TableChanges(SUK, [RowChange(Op.INSERT, (1, "e1", "a"), None),
                                     RowChange(Op.UPDATE, (1, "e1", "b"), (1, "e1", "a")),
                                     RowChange(Op.DELETE, None, (1, "e1", "b"))]),
                  TableChanges(PK, [RowChange(Op.INSERT, (mine, "ok", 1), None)])])
    value = encode_txn(txn, "UTC")
    ev = pipeline.decoder.decode(value, KafkaPosition("t", 0, 0), pipeline.interest)
    rows = ev.tables[0].rows
    assert isinstance(rows, UnwalkedRows) and len(rows) == 3 and ev.row_count == 4
    assert [(r.op, r.new, r.old) for r in rows] == [(Op.INSERT, None, None), (Op.UPDATE, None, None),
                                                    (Op.DELETE, None, None)]
    assert [r.new for r in ev.tables[1].rows] == [(mine, "ok", 1)]
    routed = list(pipeline.router.route_txn(ev))
    assert [c.seq for _k, (_s, ch) in routed for c in ch.changes] == [6]  # after the 3 placeholders

    bad = pb.Binlog()
    bad.ParseFromString(value)
    bad.dml_data.tables[0].mutations[1].ClearField("row")  # structurally broken, in the SUK table
    broken = bad.SerializePartialToString()
    ev = pipeline.decoder.decode(broken, KafkaPosition("t", 0, 1), pipeline.interest)
    assert len(ev.tables[0].rows) == 3  # not this process's table: not walked
    owner = _pipeline(shards_of_process(SHARDS, 1 - process, 1, 2), select_all, KEY_RUNS)
    with pytest.raises(DrainerDecodeError, match="mutation 1: mutation without row"):
        owner.decoder.decode(broken, KafkaPosition("t", 0, 1), owner.interest)


def test_the_decoder_asks_an_interest_once_per_table_structure():
    """The interest's answer is kept with the table's header (asking it hashed the whole
    TableSchema per table and message); another interest object is asked anew, and a new
    structure of the same table is asked again."""
    asked = []

    def interest(ts):
        asked.append((ts.table, len(ts.columns)))
        return None

    d = Decoder("UTC")
    pos = KafkaPosition("t", 0, 0)
    pk = encode_txn(Txn(1, [TableChanges(PK, [RowChange(Op.INSERT, (1, "a", 2), None)])]), "UTC")
    both = encode_txn(Txn(2, [TableChanges(PK, [RowChange(Op.INSERT, (2, "b", 3), None)]),
                              TableChanges(SUK, [RowChange(Op.INSERT, (1, "e1", "x"), None)])]), "UTC")
    wider = TableSchema("db", "pk", ("id", "v", "n", "w"), ("bigint", "varchar", "int", "int"), pk=(0,),
                        unique_keys=(("PRIMARY", (0,)),))
    altered = encode_txn(Txn(3, [TableChanges(wider, [RowChange(Op.INSERT, (3, "c", 4, 5), None)])]), "UTC")
    for v in (pk, both, pk, both, altered, altered):
        d.decode(v, pos, interest)
    assert asked == [("pk", 3), ("suk", 3), ("pk", 4)]
    d.decode(pk, pos, lambda ts: asked.append("other"))
    assert asked[-1] == "other"
    assert d.decode(pk, pos).tables[0].rows[0].new == (1, "a", 2)  # no interest: every row, as always
