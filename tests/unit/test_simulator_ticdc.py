"""The simulator's TiCDC model (simulator/ticdc.py): dispatchers against TiCDC's own test
expectations, per-key folding and key-update splitting, DDL and watermark placement."""

from __future__ import annotations

import pytest

from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.input.canal_json import CanalJsonCodec
from tidb2mysql.input.codec import Watermark
from tidb2mysql.input.open_protocol import OpenProtocolCodec
from tidb2mysql.simulator.ticdc import Dispatcher, TiCDCOptions, TiCDCPublisher, net_changes

ONE = TableSchema("test", "t1", ("a", "b"), ("int", "int"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
TWO = TableSchema("test", "t2", ("a", "b"), ("int", "int"), pk=(0, 1), unique_keys=(("PRIMARY", (0, 1)),))


# Expected partitions (16 partitions) from TiCDC's own tests:
# cdc/sink/dmlsink/mq/dispatcher/partition/table_test.go and index_value_test.go.
@pytest.mark.parametrize("table, expected", [("t1", 15), ("t2", 5), ("t3", 3)])
def test_table_dispatcher_matches_ticdc(table, expected):
    s = TableSchema("test", table, ("a",), ("int",))
    for ts in (1, 2, 3):
        assert Dispatcher("table", 16).partition(s, RowChange(Op.INSERT, (1,), None), ts) == expected
        assert Dispatcher("default", 16).partition(s, RowChange(Op.INSERT, (1,), None), ts) == expected


@pytest.mark.parametrize("schema, row, expected", [
    (ONE, (11, 22), 2), (ONE, (22, 22), 11), (ONE, (11, 33), 2),
    (TWO, (11, 22), 5), (TWO, (11, 0), 14), (TWO, (11, 33), 2),
])
def test_index_value_dispatcher_matches_ticdc(schema, row, expected):
    d = Dispatcher("index-value", 16)
    assert d.partition(schema, RowChange(Op.INSERT, row, None), 1) == expected
    assert d.partition(schema, RowChange(Op.DELETE, None, row), 1) == expected  # pre image when no new


def test_ts_dispatcher():
    assert [Dispatcher("ts", 3).partition(ONE, RowChange(Op.INSERT, (1, 1), None), ts) for ts in (3, 4, 5)] == [0, 1, 2]


def ins(*row):
    return RowChange(Op.INSERT, row, None)


def upd(old, new):
    return RowChange(Op.UPDATE, new, old)


def dele(*row):
    return RowChange(Op.DELETE, None, row)


UNIQ = TableSchema("d", "u", ("id", "email"), ("int", "varchar"), pk=(0,),
                   unique_keys=(("PRIMARY", (0,)), ("email", (1,))))
NOKEY = TableSchema("d", "n", ("a", "b"), ("int", "int"))


@pytest.mark.parametrize("schema, rows, expected", [
    # one event per row key: the net change over the transaction
    (ONE, [ins(1, 1), upd((1, 1), (1, 2))], [ins(1, 2)]),
    (ONE, [ins(1, 1), dele(1, 1)], []),
    (ONE, [upd((1, 1), (1, 2)), upd((1, 2), (1, 3))], [upd((1, 1), (1, 3))]),
    (ONE, [dele(1, 1), ins(1, 5)], [upd((1, 1), (1, 5))]),
    (ONE, [upd((1, 1), (1, 1))], []),
    # a primary-key change is a delete and an insert (different row keys); deletes first
    (ONE, [ins(9, 9), upd((1, 1), (2, 1))], [dele(1, 1), ins(9, 9), ins(2, 1)]),
    # a unique-key change is split too (output-raw-change-event=false), deletes first
    (UNIQ, [upd((1, "a"), (1, "b")), upd((2, "b"), (2, "a"))],
     [dele(1, "a"), dele(2, "b"), ins(1, "b"), ins(2, "a")]),
    # keyless: rows followed by image
    (NOKEY, [ins(1, 1), upd((1, 1), (1, 2)), dele(5, 5)], [dele(5, 5), ins(1, 2)]),
    (NOKEY, [ins(1, 1), ins(1, 1), dele(1, 1)], [ins(1, 1)]),
])
def test_net_changes(schema, rows, expected):
    got = net_changes(schema, rows)
    key = {Op.DELETE: 0, Op.UPDATE: 1, Op.INSERT: 2}
    assert sorted(got, key=lambda r: (key[r.op], repr(r))) == sorted(expected, key=lambda r: (key[r.op], repr(r)))
    assert [key[r.op] for r in got] == sorted(key[r.op] for r in got) or schema is NOKEY


def test_raw_change_events_keep_key_updates():
    assert net_changes(ONE, [upd((1, 1), (2, 1))], split_key_updates=False) == [dele(1, 1), ins(2, 1)]
    assert net_changes(UNIQ, [upd((1, "a"), (1, "b"))], split_key_updates=False) == [upd((1, "a"), (1, "b"))]


@pytest.mark.parametrize("fmt", ["ticdc-canal-json", "ticdc-open-protocol"])
def test_publisher_places_rows_ddl_and_watermarks(fmt):
    pub = TiCDCPublisher(TiCDCOptions(fmt, partitions=4, dispatcher="index-value", max_batch_size=2))
    txn = Txn(100, [TableChanges(ONE, [ins(i, i) for i in range(10)])])
    msgs = pub.txn(txn)
    codec = CanalJsonCodec() if fmt == "ticdc-canal-json" else OpenProtocolCodec()
    d = Dispatcher("index-value", 4)
    rows = []
    for p, k, v in msgs:
        for e in codec.decode(k, v, KafkaPosition("t", p, 0)):
            for rc in e.tables[0].rows:
                assert d.partition(ONE, rc, 100) == p  # on the partition TiCDC would pick
                rows.append(rc.new[ONE.columns.index("a")] if fmt == "ticdc-canal-json" else rc.new[0])
    assert sorted(rows) == list(range(10))
    if fmt == "ticdc-open-protocol":
        assert len(msgs) < 10  # batched
    ddl = pub.ddl(DDL(101, "test", "t1", "ALTER TABLE t1 ADD c INT"))
    assert [p for p, _k, _v in ddl] == ([0] if fmt == "ticdc-canal-json" else [0, 1, 2, 3])
    wm = pub.watermark(101)
    assert [p for p, _k, _v in wm] == [0, 1, 2, 3]
    assert all(codec.decode(k, v, KafkaPosition("t", p, 0)) == [Watermark(101, KafkaPosition("t", p, 0))] for p, k, v in wm)


def test_options_are_validated():
    with pytest.raises(ValueError, match="dispatcher"):
        TiCDCPublisher(TiCDCOptions("ticdc-canal-json", dispatcher="columns"))
    with pytest.raises(ValueError, match="format"):
        TiCDCPublisher(TiCDCOptions("drainer"))
