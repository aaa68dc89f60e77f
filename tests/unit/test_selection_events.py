"""Selection applied to incremental Txn events: drop, rename, project columns and keys."""

from __future__ import annotations

import pytest

from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.selection.engine import Selection, SelectionError
from tidb2mysql.selection.events import EventSelector
from tidb2mysql.config.selection import SelectionConfig

T = TableSchema("shop", "users", ("id", "secret", "email"), ("int", "varchar", "varchar"), (11, 10, 20), (0, 0, 0),
                pk=(0,), unique_keys=(("PRIMARY", (0,)), ("u_email", (2,)), ("u_secret", (1,))), unsigned=(0,))
L = TableSchema("shop", "tmp_log", ("id",), ("int",), pk=(0,), unique_keys=(("PRIMARY", (0,)),))


def txn():
    return Txn(7, [TableChanges(T, [RowChange(Op.INSERT, (1, "s", "a@x"), None),
                                    RowChange(Op.UPDATE, (1, "t", "b@x"), (1, "s", "a@x"))]),
                   TableChanges(L, [RowChange(Op.DELETE, None, (5,))])])


def selector(**kw):
    return EventSelector(Selection(SelectionConfig(**kw)))


def test_identity_rules_return_the_same_event():
    ev = txn()
    assert selector(include=["*.*"])(ev) is ev


def test_excluded_tables_dropped_and_counted():
    s = selector(exclude=["shop.tmp_*"])
    out = s(txn())
    assert [tc.schema.table for tc in out.tables] == ["users"]
    assert s.dropped_rows == 1 and s.dropped_tables == {"shop.tmp_log": 1}
    only = Txn(8, [TableChanges(L, [RowChange(Op.INSERT, (1,), None)])])
    assert s(only) is None


def test_rename_and_column_projection():
    s = selector(databases={"shop": "prod"},
                 tables=[{"name": "shop.users", "to": "customers", "columns": ["id", "email"],
                          "rename_columns": {"email": "mail"}}])
    out = s(txn())
    tc = out.tables[0]
    assert tc.schema.qualified == "prod.customers"
    assert tc.schema.columns == ("id", "mail") and tc.schema.types == ("int", "varchar")
    assert tc.schema.flen == (11, 20) and tc.schema.pk == (0,) and tc.schema.unsigned == (0,)
    assert tc.schema.unique_keys == (("PRIMARY", (0,)), ("u_email", (1,)))
    assert tc.rows[0].new == (1, "a@x") and tc.rows[1].old == (1, "a@x") and tc.rows[1].new == (1, "b@x")
    assert out.tables[1].schema.qualified == "prod.tmp_log"
    assert out.commit_ts == 7


def test_column_selection_without_the_key_is_an_error():
    s = selector(tables=[{"name": "shop.users", "columns": ["email"]}])
    with pytest.raises(SelectionError, match="primary key column"):
        s(txn())


def test_merge_detected_in_stream():
    s = selector(tables=[{"name": "shop.tmp_log", "to": "users"}])
    with pytest.raises(SelectionError, match="both mapped to shop.users"):
        s(txn())


def test_rules_logged_unmatched_warned_and_drop_counts_logged(caplog):
    now = [0.0]
    caplog.set_level("INFO", logger="tidb2mysql.selection")
    s = EventSelector(Selection(SelectionConfig(exclude=["shop.tmp_*", "never.*"], warn_after_messages=2)),
                      log_interval=10, clock=lambda: now[0])
    assert "selection rule: exclude 'never.*'" in caplog.text
    s(txn())
    s(txn())
    assert "selection rule exclude 'never.*' matched nothing in the first 2 messages" in caplog.text
    assert "'shop.tmp_*' matched nothing" not in caplog.text
    assert "dropping row changes of shop.tmp_log" in caplog.text
    now[0] = 11
    s(txn())
    assert "selection: dropped 2 row changes of unselected tables so far (shop.tmp_log: 2)" in caplog.text
