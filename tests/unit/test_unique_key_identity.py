"""Unique-key-only tables: the unique key is the row identity (routing and merging).

Why: MySQL makes a table's NOT NULL unique key its clustered key; such a table is as keyed as
a primary-key table and must be sharded, merged and upserted like one, not applied change by
change in one shard with whole-row matching. Drainer does not say whether the key is
nullable, so a change whose key holds a NULL keeps the key-less path (issue 12).
"""

import pytest

from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.replication.change import Change
from tidb2mysql.replication.merge import ORDERED, UPSERT, RowMerger
from tidb2mysql.replication.route import Router, row_key_schema, sole_unique_key

UK_ONLY = TableSchema("db", "u", ("code", "v"), ("varchar", "int"), unique_keys=(("uk_code", (0,)),))
TWO_UK = TableSchema("db", "w", ("a", "b"), ("int", "int"), unique_keys=(("ua", (0,)), ("ub", (1,))))


def routed(router, *rows, ts=100):
    out = []
    for _key, (shard, chunk) in router.route_txn(Txn(ts, [TableChanges(rows[0][0], [r for _, r in rows])])):
        out.extend((shard, c) for c in chunk.changes)
    return sorted(out, key=lambda sc: sc[1].seq)


def test_sole_unique_key_and_the_derived_schema():
    assert sole_unique_key(UK_ONLY) == (0,)
    assert sole_unique_key(TWO_UK) == ()
    k = row_key_schema(UK_ONLY)
    assert (k.pk, k.unique_keys, k.columns) == ((0,), (("PRIMARY", (0,)),), UK_ONLY.columns)
    with pytest.raises(ValueError, match="db.w"):
        row_key_schema(TWO_UK)


def test_keyed_changes_spread_over_shards_and_one_key_stays_in_one_shard():
    r = Router(8)
    rows = [(UK_ONLY, RowChange(Op.INSERT, (f"k{i}", i), None)) for i in range(64)]
    rows += [(UK_ONLY, RowChange(Op.UPDATE, (f"k{i}", -i), (f"k{i}", i))) for i in range(64)]
    out = routed(r, *rows)
    shard_of = {}
    for shard, c in out:
        assert c.schema.pk == (0,)  # merged like a primary-key table
        shard_of.setdefault(c.new[0], set()).add(shard)
    assert all(len(s) == 1 for s in shard_of.values())
    assert len({next(iter(s)) for s in shard_of.values()}) >= 6


def test_null_keys_go_to_the_table_shard_with_the_keyless_schema():
    r = Router(8)
    out = routed(r, (UK_ONLY, RowChange(Op.INSERT, (None, 1), None)),
                 (UK_ONLY, RowChange(Op.INSERT, (None, 1), None)),
                 (UK_ONLY, RowChange(Op.UPDATE, (None, 2), (None, 1))),  # stays one ordered UPDATE
                 (UK_ONLY, RowChange(Op.UPDATE, ("a", 2), (None, 2))),  # gets an identity: DELETE + INSERT
                 (UK_ONLY, RowChange(Op.UPDATE, (None, 3), ("a", 2))),  # loses it
                 (UK_ONLY, RowChange(Op.UPDATE, ("b", 3), ("a", 3))))  # key change
    kinds = [(c.seq, Op(c.op).name, bool(c.schema.pk)) for _, c in out]
    assert kinds == [(0, "INSERT", False), (2, "INSERT", False), (4, "UPDATE", False),
                     (6, "DELETE", False), (7, "INSERT", True), (8, "DELETE", True), (9, "INSERT", False),
                     (10, "DELETE", True), (11, "INSERT", True)]
    table_shard = {s for s, c in out if not c.schema.pk}
    assert len(table_shard) == 1
    assert all(c.schema is UK_ONLY for _, c in out if not c.schema.pk)


def test_several_unique_keys_without_primary_key_stay_whole_table_and_ordered():
    r = Router(8)
    out = routed(r, *[(TWO_UK, RowChange(Op.INSERT, (i, i), None)) for i in range(20)])
    assert len({s for s, _ in out}) == 1 and all(not c.schema.pk for _, c in out)


def test_merger_keeps_keyed_and_null_key_changes_of_one_table_apart():
    r = Router(1)
    out = routed(r, (UK_ONLY, RowChange(Op.INSERT, ("a", 1), None)),
                 (UK_ONLY, RowChange(Op.INSERT, (None, 1), None)),
                 (UK_ONLY, RowChange(Op.UPDATE, ("a", 2), ("a", 1))),
                 (UK_ONLY, RowChange(Op.DELETE, None, (None, 1))))
    m = RowMerger()
    for _, c in out:
        m.add(c)
    batches = m.drain()
    assert [(b.mode, len(b.rows), len(b.ordered)) for b in batches] == [(UPSERT, 1, 0), (ORDERED, 0, 2)]
    assert batches[0].rows == [("a", 2)]


def test_position_of_split_halves():
    r = Router(4)
    out = routed(r, (UK_ONLY, RowChange(Op.UPDATE, ("b", 1), ("a", 1))))
    assert [(c.position, Op(c.op).name) for _, c in out] == [((100, 0), "DELETE"), ((100, 1), "INSERT")]
    assert isinstance(out[0][1], Change)
