"""The pure DML planner (replication/dml_plan.py): merged batches -> ordered statements.

Table-driven over every mode (upsert, replace-by-key, ordered/key-less), the target-driven
upgrade to replace-by-key, primary-key changes, unique-key swaps, the existence checks of
rows that must already be in the target, and the errors. No server: what the statements do
on MariaDB is tested in tests/integration/test_writer.py.
"""

from __future__ import annotations

import pytest

from tidb2mysql.events import Op, TableSchema
from tidb2mysql.mysql.sql import TableSQL
from tidb2mysql.mysql.target_schema import TargetColumn, TargetTable
from tidb2mysql.replication import dml_plan
from tidb2mysql.replication.change import Change
from tidb2mysql.replication.merge import ORDERED, REPLACE_BY_KEY, UPSERT, RowMerger

PK = TableSchema("d", "t", ("id", "v"), ("int", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
UK = TableSchema("d", "u", ("id", "email"), ("int", "varchar"), pk=(0,),
                 unique_keys=(("PRIMARY", (0,)), ("email", (1,))))
NOKEY = TableSchema("d", "n", ("a", "b"), ("int", "varchar"))


def target(schema: TableSchema, *keys: tuple[str, tuple[str, ...]]) -> TargetTable:
    cols = tuple(TargetColumn(c, "int" if t == "int" else "varchar") for c, t in zip(schema.columns, schema.types))
    pk = next((k[1] for k in keys if k[0] == "PRIMARY"), ())
    return TargetTable(schema.schema, schema.table, cols, pk, keys)


T_PK = target(PK, ("PRIMARY", ("id",)))
T_UK = target(UK, ("PRIMARY", ("id",)), ("email", ("email",)))
T_PK_EXTRA_UK = target(PK, ("PRIMARY", ("id",)), ("v", ("v",)))  # only the target has a 2nd unique key
T_OTHER_PK = target(PK, ("PRIMARY", ("v",)))  # the target's key is another column
T_NOKEY = target(NOKEY)


class S:
    ts = 100

    @classmethod
    def ch(cls, schema, op, new=None, old=None, seq=0):
        cls.ts += 1
        return Change(cls.ts, seq, schema, op, new, old)


def ins(schema, row):
    return S.ch(schema, Op.INSERT, new=row)


def upd(schema, old, new):
    return S.ch(schema, Op.UPDATE, new=new, old=old)


def dele(schema, row):
    return S.ch(schema, Op.DELETE, old=row)


def plan(changes, tgt):
    m = RowMerger()
    for c in changes:
        m.add(c)
    [batch] = m.drain()
    return dml_plan.plan_table(batch, TableSQL(batch.schema, tgt))


def steps(p):
    return [(s.op, s.sql) for s in dml_plan.plan_flush([p])]


CASES = [
    ("upsert: inserts and updates are one upsert",
     PK, T_PK, [ins(PK, (1, "a")), ins(PK, (2, "b")), upd(PK, (2, "b"), (2, "c"))], UPSERT,
     [("write", "INSERT INTO `d`.`t` (`id`,`v`) VALUES (1,'a'),(2,'c') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)")]),
    ("upsert: a delete of a pre-existing row goes first, checked",
     PK, T_PK, [dele(PK, (5, "x")), ins(PK, (6, "y"))], UPSERT,
     [("delete", "DELETE FROM `d`.`t` WHERE `id` IN (5)"),
      ("write", "INSERT INTO `d`.`t` (`id`,`v`) VALUES (6,'y') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)")]),
    ("upsert: an updated pre-existing row must exist (count check before the upsert)",
     PK, T_PK, [upd(PK, (7, "a"), (7, "b"))], UPSERT,
     [("check_existing", "SELECT COUNT(*) FROM `d`.`t` WHERE `id` IN (7)"),
      ("write", "INSERT INTO `d`.`t` (`id`,`v`) VALUES (7,'b') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)")]),
    ("primary-key change: delete the old key, upsert the new one",
     PK, T_PK, [dele(PK, (1, "a")), ins(PK, (2, "a"))], UPSERT,
     [("delete", "DELETE FROM `d`.`t` WHERE `id` IN (1)"),
      ("write", "INSERT INTO `d`.`t` (`id`,`v`) VALUES (2,'a') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)")]),
    ("unique-key swap: replace-by-key deletes every touched key, then plain inserts",
     UK, T_UK, [upd(UK, (1, "a@x"), (1, "tmp@x")), upd(UK, (2, "b@x"), (2, "a@x")), upd(UK, (1, "tmp@x"), (1, "b@x"))],
     REPLACE_BY_KEY,
     [("delete", "DELETE FROM `d`.`u` WHERE `id` IN (1,2)"),
      ("write", "INSERT INTO `d`.`u` (`id`,`email`) VALUES (1,'b@x'),(2,'a@x')")]),
    ("target-only unique key: upsert upgraded to replace-by-key",
     PK, T_PK_EXTRA_UK, [ins(PK, (1, "a")), upd(PK, (1, "a"), (1, "b"))], REPLACE_BY_KEY,
     [("delete", "DELETE FROM `d`.`t` WHERE `id` IN (1)"),
      ("write", "INSERT INTO `d`.`t` (`id`,`v`) VALUES (1,'b')")]),
    ("target keyed on another column: upgraded as well",
     PK, T_OTHER_PK, [ins(PK, (3, "c"))], REPLACE_BY_KEY,
     [("delete", "DELETE FROM `d`.`t` WHERE `id` IN (3)"),
      ("write", "INSERT INTO `d`.`t` (`id`,`v`) VALUES (3,'c')")]),
    ("key-less table: ordered, change by change, rows found by all their values",
     NOKEY, T_NOKEY, [ins(NOKEY, (1, "a")), upd(NOKEY, (1, "a"), (1, "b")), dele(NOKEY, (2, "z"))], ORDERED,
     [("ordered", "INSERT INTO `d`.`n` (`a`,`b`) VALUES (1,'a')"),
      ("ordered", "UPDATE `d`.`n` SET `a`=1,`b`='b' WHERE `a` <=> 1 AND `b` = 'a' AND CAST(CONVERT(`b` USING utf8mb4)"
                  " AS BINARY) = X'61' LIMIT 1"),
      ("ordered", "DELETE FROM `d`.`n` WHERE `a` <=> 2 AND `b` = 'z' AND CAST(CONVERT(`b` USING utf8mb4) AS BINARY)"
                  " = X'7a' LIMIT 1")]),
]


@pytest.mark.parametrize("what, schema, tgt, changes, mode, expected", CASES, ids=[c[0] for c in CASES])
def test_plan(what, schema, tgt, changes, mode, expected):
    p = plan(changes, tgt)
    assert p.mode == mode
    assert steps(p) == expected


def test_upgrade_is_reported_and_deletes_every_row_key():
    p = plan([ins(PK, (1, "a")), ins(PK, (2, "b"))], T_PK_EXTRA_UK)
    assert p.upgraded and p.mode == REPLACE_BY_KEY
    assert p.delete_keys == [(1,), (2,)]
    assert [c.new for c in p.delete_sources] == [(1, "a"), (2, "b")]
    assert not plan([ins(PK, (1, "a"))], T_PK).upgraded


def test_tables_are_ordered_deletes_then_checks_then_writes_then_ordered():
    a = plan([dele(PK, (1, "a")), upd(PK, (2, "b"), (2, "c")), ins(PK, (3, "d"))], T_PK)
    b = plan([upd(UK, (5, "e@x"), (5, "f@x"))], T_UK)
    n = plan([ins(NOKEY, (9, "n"))], T_NOKEY)
    ops = [(s.op, s.plan.table) for s in dml_plan.plan_flush([n, a, b])]
    assert ops == [("delete", "d.t"), ("delete", "d.u"), ("check_existing", "d.t"),
                   ("write", "d.t"), ("write", "d.u"), ("ordered", "d.n")]


def test_statement_split_keeps_the_slices_and_the_first_key():
    q = TableSQL(PK, T_PK, budget=80)
    m = RowMerger()
    for i in range(6):
        m.add(ins(PK, (i, "v" * 10)))
    [batch] = m.drain()
    writes = [s for s in dml_plan.plan_flush([dml_plan.plan_table(batch, q)]) if s.op == "write"]
    assert len(writes) > 1
    assert [(s.first, s.count) for s in writes] == [(sum(w.count for w in writes[:i]), w.count)
                                                    for i, w in enumerate(writes)]
    assert [s.key for s in writes] == [(s.first,) for s in writes]


def test_a_value_without_literal_names_table_kind_and_key():
    p = plan([ins(PK, (1, "a")), ins(PK, (2, float("nan")))], target(PK, ("PRIMARY", ("id",))))
    with pytest.raises(dml_plan.PlanningError) as e:
        dml_plan.plan_flush([p])
    assert (e.value.table, e.value.kind, e.value.key) == ("d.t", "upsert", (2,))
    assert "column 'v'" in e.value.message


def test_a_message_column_missing_in_the_target_is_an_error_for_the_table():
    narrow = TargetTable("d", "t", (TargetColumn("id", "int"),), ("id",), (("PRIMARY", ("id",)),))
    m = RowMerger()
    m.add(ins(PK, (1, "a")))
    [batch] = m.drain()
    with pytest.raises(dml_plan.PlanningError, match=r"message column\(s\) v missing in the target") as e:
        dml_plan.plan_table(batch, TableSQL(PK, narrow))
    assert (e.value.kind, e.value.key) == ("metadata", (1,))


def test_salvage_units_follow_the_same_order_one_row_each():
    a = plan([dele(PK, (1, "a")), ins(PK, (3, "d"))], T_PK)
    n = plan([ins(NOKEY, (9, "n"))], T_NOKEY)
    units = list(dml_plan.salvage_units([n, a]))
    assert [(u.kind, u.key, u.build()) for u in units] == [
        ("delete_key_one", (1,), "DELETE FROM `d`.`t` WHERE `id` IN (1)"),
        ("upsert_one", (3,), "INSERT INTO `d`.`t` (`id`,`v`) VALUES (3,'d') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)"),
        ("insert_one", (9, "n"), "INSERT INTO `d`.`n` (`a`,`b`) VALUES (9,'n')"),
    ]
    assert [u.skip_if_key_failed for u in units] == [False, True, False]


# -- loads: rows expected new as one LOAD DATA step ------------------------------------------


def load_steps(p, load_rows=1):
    return [(s.op, s.kind, [r for r in s.rows] if s.op == "load" else s.sql) for s in dml_plan.plan_flush([p], load_rows)]


def test_rows_whose_first_change_is_an_insert_are_loaded_the_updated_ones_upserted():
    p = plan([ins(PK, (1, "a")), upd(PK, (2, "b"), (2, "c")), ins(PK, (3, "d"))], T_PK)
    got = load_steps(p)
    assert [g[:2] for g in got] == [("check_existing", "count"), ("load", "upsert"), ("write", "upsert")]
    assert got[1][2] == [(1, "a"), (3, "d")]
    assert got[2][2] == "INSERT INTO `d`.`t` (`id`,`v`) VALUES (2,'c') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)"
    [load] = [s for s in dml_plan.plan_flush([p], 1) if s.op == "load"]
    assert load.data == b"1\ta\n3\td\n" and load.key == (1,) and load.count == 2
    assert load.sql.startswith("LOAD DATA LOCAL INFILE 'tidb2mysql-memory:rows' INTO TABLE `d`.`t`")
    # the statements of its rows, for a load that did not insert them as given
    assert [st.sql for st in load.fallback()] == [
        "INSERT INTO `d`.`t` (`id`,`v`) VALUES (1,'a'),(3,'d') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)"]


def test_a_replace_by_key_table_loads_every_row_after_deleting_the_keys_of_rows_not_born_in_it():
    p = plan([upd(UK, (5, "e@x"), (5, "f@x")), ins(UK, (6, "g@x")), dele(UK, (7, "h@x")),
              ins(UK, (8, "i@x")), dele(UK, (8, "i@x"))], T_UK)
    got = load_steps(p)
    assert [g[:2] for g in got] == [("delete", "delete"), ("load", "insert")]
    # 6 is born and loaded: its key was absent (a load warns if it is not, see test_writer);
    # 8 was born and deleted in the window: deleted like any key the window removed
    assert got[0][2] == "DELETE FROM `d`.`u` WHERE `id` IN (5,7,8)"
    assert got[1][2] == [(5, "f@x"), (6, "g@x")]
    [load] = [s for s in dml_plan.plan_flush([p], 1) if s.op == "load"]
    assert [st.kind for st in load.fallback()] == ["insert"]
    assert p.delete_keys == [(5,), (6,), (7,), (8,)]  # every key touched (unique-key handoffs)
    # every row born: no delete at all
    assert [g[:2] for g in load_steps(plan([ins(UK, (1, "a")), ins(UK, (2, "b"))], T_UK))] == [("load", "insert")]


def test_born_rows_keep_their_delete_when_they_are_inserted_or_the_target_cannot_tell():
    changes = [upd(UK, (5, "e@x"), (5, "f@x")), ins(UK, (6, "g@x"))]
    every = "DELETE FROM `d`.`u` WHERE `id` IN (5,6)"
    # written by INSERT (no load): a plain insert cannot repair a row the target holds
    assert steps(plan(changes, T_UK))[0] == ("delete", every)
    assert [s.sql for s in dml_plan.plan_flush([plan(changes, T_UK)], 3) if s.op == "delete"] == [every]
    # no unique key of the target is the row key: a load would not warn on a held key
    t_email_only = target(UK, ("email", ("email",)))
    assert load_steps(plan(changes, t_email_only))[0] == ("delete", "delete", every)
    # a target without knowledge (tests): the same
    assert load_steps(plan(changes, None))[0] == ("delete", "delete", every)


def test_no_load_below_load_rows_or_when_off():
    p = plan([ins(PK, (1, "a")), ins(PK, (2, "b"))], T_PK)
    assert [s.op for s in dml_plan.plan_flush([p], 3)] == ["write"]
    assert [s.op for s in dml_plan.plan_flush([p], 0)] == ["write"]
    assert [s.op for s in dml_plan.plan_flush([p], 2)] == ["load"]


def test_rows_with_a_value_without_load_text_are_written_with_statements():
    # NaN has neither text nor a literal: the upsert path names it, as without loads
    p = plan([ins(PK, (1, "a")), ins(PK, (2, float("nan")))], target(PK, ("PRIMARY", ("id",))))
    with pytest.raises(dml_plan.PlanningError) as e:
        dml_plan.plan_flush([p], 1)
    assert e.value.key == (2,)
    # bytes in a column the target declares as text: no load text, the INSERT literal is exact
    p = plan([ins(PK, (1, b"\xff"))], T_PK)
    assert [(s.op, s.sql) for s in dml_plan.plan_flush([p], 1)] == [
        ("write", "INSERT INTO `d`.`t` (`id`,`v`) VALUES (1,X'ff') ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)")]
