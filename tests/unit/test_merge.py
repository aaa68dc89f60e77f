"""RowMerger: every merge rule, mode selection, drain grouping, positions, picklability."""

from __future__ import annotations

import pickle
import time

import pytest

from tidb2mysql.events import Op, TableSchema
from tidb2mysql.replication.change import Change
from tidb2mysql.replication.merge import (
    ORDERED,
    REPLACE_BY_KEY,
    UPSERT,
    RowMerger,
    TableBatch,
    table_mode,
)

T = TableSchema("db", "t", ("id", "v"), ("int", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
T_UK = TableSchema("db", "u", ("id", "email"), ("int", "varchar"), pk=(0,),
                   unique_keys=(("PRIMARY", (0,)), ("email", (1,))))
T_NOPK = TableSchema("db", "n", ("a", "b"), ("int", "int"))
T_COMPOSITE = TableSchema("db", "c", ("a", "b", "v"), ("int", "varchar", "int"), pk=(0, 1),
                          unique_keys=(("PRIMARY", (0, 1)),))


class Stream:
    """Builds changes with strictly increasing positions."""

    def __init__(self) -> None:
        self.ts = 1000

    def _next(self):
        self.ts += 1
        return self.ts, 0

    def ins(self, row, schema=T):
        return Change(*self._next(), schema, Op.INSERT, row, None)

    def upd(self, old, new, schema=T):
        return Change(*self._next(), schema, Op.UPDATE, new, old)

    def dele(self, row, schema=T):
        return Change(*self._next(), schema, Op.DELETE, None, row)


def merged(*changes) -> list[TableBatch]:
    m = RowMerger()
    for c in changes:
        m.add(c)
    return m.drain()


def one(batches) -> TableBatch:
    assert len(batches) == 1, batches
    return batches[0]


s = Stream()


# -- modes -------------------------------------------------------------------------------


def test_mode_selection():
    assert table_mode(T) == UPSERT
    assert table_mode(T_UK) == REPLACE_BY_KEY
    assert table_mode(T_NOPK) == ORDERED
    assert table_mode(T_COMPOSITE) == UPSERT
    # unique_keys absent (old Drainer) but pk flagged: still upsert
    assert table_mode(TableSchema("d", "x", ("id",), ("int",), pk=(0,))) == UPSERT


# -- merge rules (upsert mode) -----------------------------------------------------------


def test_insert_then_updates_is_one_upsert_of_final_image():
    b = one(merged(s.ins((1, "a")), s.upd((1, "a"), (1, "b")), s.upd((1, "b"), (1, "c"))))
    assert b.mode == UPSERT
    assert b.rows == [(1, "c")]
    assert b.delete_keys == []


def test_insert_then_delete_is_nothing():
    assert merged(s.ins((1, "a")), s.upd((1, "a"), (1, "b")), s.dele((1, "b"))) == []


def test_updates_only_upsert_final_image():
    b = one(merged(s.upd((1, "a"), (1, "b")), s.upd((1, "b"), (1, "c"))))
    assert b.rows == [(1, "c")] and b.delete_keys == []


def test_update_then_delete_is_delete():
    b = one(merged(s.upd((1, "a"), (1, "b")), s.dele((1, "b"))))
    assert b.rows == [] and b.delete_keys == [(1,)]


def test_delete_then_insert_is_upsert():
    b = one(merged(s.dele((1, "a")), s.ins((1, "z"))))
    assert b.rows == [(1, "z")] and b.delete_keys == []


def test_delete_insert_delete_is_delete():
    b = one(merged(s.dele((1, "a")), s.ins((1, "z")), s.dele((1, "z"))))
    assert b.rows == [] and b.delete_keys == [(1,)]


def test_insert_delete_insert_is_upsert():
    b = one(merged(s.ins((1, "a")), s.dele((1, "a")), s.ins((1, "b"))))
    assert b.rows == [(1, "b")] and b.delete_keys == []


def test_plain_delete():
    b = one(merged(s.dele((7, "x"))))
    assert b.delete_keys == [(7,)] and b.rows == []
    assert b.delete_sources[0].old == (7, "x")


def test_distinct_rows_keep_first_seen_order():
    b = one(merged(s.ins((3, "c")), s.ins((1, "a")), s.ins((2, "b")), s.upd((3, "c"), (3, "C"))))
    assert b.rows == [(3, "C"), (1, "a"), (2, "b")]
    assert [c.new for c in b.row_sources] == b.rows


def test_composite_key_identity():
    b = one(merged(
        s.ins((1, "x", 10), T_COMPOSITE), s.ins((1, "y", 20), T_COMPOSITE),
        s.upd((1, "x", 10), (1, "x", 11), T_COMPOSITE), s.dele((1, "y", 20), T_COMPOSITE),
        s.dele((2, "z", 0), T_COMPOSITE),
    ))
    assert b.rows == [(1, "x", 11)]
    assert b.delete_keys == [(2, "z")]


def test_same_key_values_in_different_tables_are_different_rows():
    t2 = TableSchema("db", "t2", ("id", "v"), ("int", "varchar"), pk=(0,))
    t_other_db = TableSchema("db2", "t", ("id", "v"), ("int", "varchar"), pk=(0,))
    bs = merged(s.ins((1, "a")), s.ins((1, "b"), t2), s.dele((1, "c"), t_other_db))
    assert [(b.schema.qualified, b.rows, b.delete_keys) for b in bs] == [
        ("db.t", [(1, "a")], []),
        ("db.t2", [(1, "b")], []),
        ("db2.t", [], [(1,)]),
    ]


def test_pk_change_split_by_router_merges_as_two_rows():
    # UPDATE id 1 -> 2 arrives as DELETE(1) + INSERT(2)
    b = one(merged(s.ins((1, "a")), s.dele((1, "a")), s.ins((2, "a"))))
    assert b.rows == [(2, "a")] and b.delete_keys == []
    b = one(merged(s.dele((1, "a")), s.ins((2, "a"))))
    assert b.rows == [(2, "a")] and b.delete_keys == [(1,)]


# -- replace_by_key ----------------------------------------------------------------------


def test_replace_by_key_deletes_every_touched_key_then_inserts():
    b = one(merged(
        s.upd((1, "a@x"), (1, "b@x"), T_UK),  # unique-key swap between rows 1 and 2
        s.upd((2, "b@x"), (2, "a@x"), T_UK),
        s.ins((3, "c@x"), T_UK),
        s.dele((4, "d@x"), T_UK),
        s.ins((5, "e@x"), T_UK), s.dele((5, "e@x"), T_UK),
    ))
    assert b.mode == REPLACE_BY_KEY
    assert sorted(b.delete_keys) == [(1,), (2,), (3,), (4,), (5,)]
    assert b.rows == [(1, "b@x"), (2, "a@x"), (3, "c@x")]
    assert len(b.delete_sources) == len(b.delete_keys)
    assert len(b.row_sources) == len(b.rows)


def test_mode_upgrades_to_replace_when_a_later_message_knows_the_unique_key():
    old_style = TableSchema("db", "u", ("id", "email"), ("int", "varchar"), pk=(0,))
    b = one(merged(s.ins((1, "a"), old_style), s.ins((2, "b"), T_UK)))
    assert b.mode == REPLACE_BY_KEY
    assert sorted(b.delete_keys) == [(1,), (2,)]


def test_pk_presence_disagreement_is_a_clear_error():
    m = RowMerger()
    m.add(s.ins((1, 2), TableSchema("db", "n", ("a", "b"), ("int", "int"), pk=(0,))))
    with pytest.raises(ValueError, match="db.n"):
        m.add(s.ins((1, 2), T_NOPK))


def test_change_without_the_needed_image_is_a_clear_error():
    m = RowMerger()
    with pytest.raises(ValueError, match=r"db\.t: DELETE change at commit_ts 5 seq 3 has no usable old row"):
        m.add(Change(5, 3, T, Op.DELETE, (1, "a"), None))
    with pytest.raises(ValueError, match=r"db\.t: INSERT change .* new row"):
        m.add(Change(5, 4, T, Op.INSERT, (), None))
    with pytest.raises(ValueError, match=r"db\.n: UPDATE change .* old row"):
        m.add(Change(5, 5, T_NOPK, Op.UPDATE, (1, 2), None))
    assert m.is_empty and m.changes_added == 0 and m.drain() == []


# -- ordered -----------------------------------------------------------------------------


def test_ordered_keeps_every_change_in_order():
    cs = [s.ins((1, 1), T_NOPK), s.ins((1, 1), T_NOPK), s.upd((1, 1), (1, 2), T_NOPK),
          s.dele((1, 2), T_NOPK), s.ins((1, 1), T_NOPK)]
    b = one(merged(*cs))
    assert b.mode == ORDERED
    assert b.ordered == cs
    assert b.rows == [] and b.delete_keys == []
    assert b.first_position == cs[0].position and b.last_position == cs[-1].position


def test_ordered_splits_into_runs_when_columns_change_keeping_order():
    t_wide = TableSchema("db", "n", ("a", "b", "c"), ("int", "int", "int"))
    cs = [s.ins((1, 1), T_NOPK), s.ins((2, 2, 2), t_wide), s.ins((3, 3), T_NOPK)]
    bs = merged(*cs)
    assert [b.ordered for b in bs] == [[cs[0]], [cs[1]], [cs[2]]]
    # an equal-but-distinct schema object does not split
    same = TableSchema("db", "n", ("a", "b"), ("int", "int"))
    bs = merged(s.ins((1, 1), T_NOPK), s.ins((2, 2), same))
    assert len(one(bs).ordered) == 2


# -- drain grouping and bookkeeping ------------------------------------------------------


def test_drain_groups_by_column_layout():
    t_v2 = TableSchema("db", "t", ("id", "v", "w"), ("int", "varchar", "int"), pk=(0,))
    t_v2_copy = TableSchema("db", "t", ("id", "v", "w"), ("int", "varchar", "int"), pk=(0,))
    bs = merged(s.ins((1, "a")), s.ins((2, "b", 2), t_v2), s.ins((3, "c")), s.ins((4, "d", 4), t_v2_copy),
                s.upd((1, "a"), (1, "a2", 9), t_v2))  # row 1's final image has the new layout
    assert [(b.schema.columns, b.rows) for b in bs] == [
        (("id", "v", "w"), [(1, "a2", 9), (2, "b", 2), (4, "d", 4)]),
        (("id", "v"), [(3, "c")]),
    ]


def test_tables_in_first_seen_order_and_positions():
    c1, c2, c3 = s.ins((1, 1), T_NOPK), s.ins((1, "a")), s.upd((1, "a"), (1, "b"))
    bs = merged(c1, c2, c3)
    assert [b.schema.table for b in bs] == ["n", "t"]
    assert bs[1].first_position == c2.position and bs[1].last_position == c3.position


def test_counters_and_empty_state():
    m = RowMerger()
    assert m.is_empty and m.pending_rows == 0 and m.first_added_at is None and m.last_position is None
    before = time.monotonic()
    a, b, c = s.ins((1, "a")), s.upd((1, "a"), (1, "b")), s.ins((2, "x"), T_NOPK)
    for ch in (a, b, c):
        m.add(ch)
    assert not m.is_empty
    assert m.changes_added == 3
    assert m.pending_rows == 2  # row 1 merged, plus one ordered change
    assert m.last_position == c.position
    assert before <= m.first_added_at <= time.monotonic()
    m.drain()
    assert m.is_empty and m.pending_rows == 0 and m.changes_added == 0
    assert m.first_added_at is None and m.last_position is None and m.drain() == []


def test_pickle_round_trip_keeps_pending_state_and_keeps_merging():
    m = RowMerger()
    m.add(s.ins((1, "a")))
    m.add(s.ins((1, 1), T_NOPK))
    m2 = pickle.loads(pickle.dumps(m))
    assert m2.pending_rows == 2 and m2.changes_added == 2 and m2.last_position == m.last_position
    m2.add(s.upd((1, "a"), (1, "b")))  # merges into the restored row
    bs = m2.drain()
    assert [b.rows for b in bs if b.mode == UPSERT] == [[(1, "b")]]
    assert [len(b.ordered) for b in bs if b.mode == ORDERED] == [1]


def test_batches_pickle():
    bs = merged(s.ins((1, "a")), s.dele((2, "b")))
    assert pickle.loads(pickle.dumps(bs)) == bs


def test_add_is_cheap():
    """Hot path: about 1-2 us per add on the dev machine; the bound here is loose (shared CPU)."""
    schema = T
    changes = [Change(1, i, schema, Op.INSERT, (i % 5000, "v"), None) for i in range(50_000)]
    best = float("inf")
    for _ in range(3):
        m = RowMerger()
        add = m.add
        t0 = time.perf_counter()
        for ch in changes:
            add(ch)
        best = min(best, time.perf_counter() - t0)
    per_add_us = best / len(changes) * 1e6
    assert m.pending_rows == 5000
    assert per_add_us < 10, f"{per_add_us:.2f} us per add"
