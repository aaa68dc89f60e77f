"""Replicated DDL under the selection: skipped with a reason, or identifiers rewritten."""

from __future__ import annotations

import pytest

from tidb2mysql.events import DDL
from tidb2mysql.replication.barrier import BarrierTranslation
from tidb2mysql.replication.ddl_seam import selecting_translator
from tidb2mysql.selection.ddl import rewrite_ddl
from tidb2mysql.selection.engine import Selection
from tidb2mysql.config.selection import SelectionConfig

S = Selection(SelectionConfig(
    include=["shop.*"], exclude=["shop.tmp_*"], databases={"shop": "prod"},
    tables=[{"name": "shop.users", "to": "customers", "columns": ["id", "name", "email"],
             "rename_columns": {"email": "mail"}},
            {"name": "shop.moved", "to": "archive.moved2"}]))


def rw(query, table="users", schema="shop"):
    return rewrite_ddl(S, schema, table, query)


@pytest.mark.parametrize("query,expected", [
    ("CREATE TABLE users (id int primary key, name varchar(10), secret int, email varchar(20), KEY k(secret), "
     "unique key u (email))",
     "CREATE TABLE `customers` (id int primary key, name varchar(10), `mail` varchar(20), unique key u (`mail`))"),
    ("ALTER TABLE users ADD COLUMN x int, CHANGE email email varchar(40)",
     "ALTER TABLE `customers` CHANGE `mail` `mail` varchar(40)"),
    ("ALTER TABLE users MODIFY COLUMN email text, DROP COLUMN secret", "ALTER TABLE `customers` MODIFY COLUMN `mail` text"),
    ("ALTER TABLE users ADD INDEX i (email(5), name), ADD KEY j (secret)",
     "ALTER TABLE `customers` ADD INDEX i (`mail`(5), name)"),
    ("ALTER TABLE `shop`.`users` RENAME COLUMN email TO email", "ALTER TABLE `prod`.`customers` RENAME COLUMN `mail` TO `mail`"),
    ("ALTER TABLE orders ADD COLUMN note text", "ALTER TABLE orders ADD COLUMN note text"),
    ("DROP TABLE IF EXISTS tmp_a, users, b", "DROP TABLE IF EXISTS `customers`, b"),
    ("DROP TABLE b, tmp_a", "DROP TABLE b"),
    ("RENAME TABLE a TO b, users TO users2", "RENAME TABLE a TO b, `customers` TO users2"),
    ("CREATE INDEX i ON users (email, name)", "CREATE INDEX i ON `customers` (`mail`, name)"),
    ("TRUNCATE TABLE moved", "TRUNCATE TABLE `archive`.`moved2`"),
    ("CREATE TABLE c (id int, u int, FOREIGN KEY (u) REFERENCES users (id))",
     "CREATE TABLE c (id int, u int, FOREIGN KEY (u) REFERENCES `customers` (id))"),
    ("CREATE TABLE x LIKE users", "CREATE TABLE x LIKE `customers`"),
    ("CREATE DATABASE IF NOT EXISTS shop", "CREATE DATABASE IF NOT EXISTS `prod`"),
    ("CREATE VIEW v AS select `shop`.`users`.`id` AS `id` from `shop`.`users`",
     "CREATE VIEW v AS select `prod`.`customers`.`id` AS `id` from `prod`.`customers`"),
    ("/* c */ ALTER TABLE users /*T! SHARD_ROW_ID_BITS=4 */ MODIFY email text",
     "/* c */ ALTER TABLE `customers` /*T! SHARD_ROW_ID_BITS=4 */ MODIFY `mail` text"),
])
def test_rewrites(query, expected):
    r = rw(query)
    assert not r.skipped, r.decisions
    assert r.query == expected
    assert r.schema == "prod"


@pytest.mark.parametrize("query,table,reason", [
    ("CREATE TABLE tmp_x (id int primary key)", "tmp_x", "excluded by selection rule exclude 'shop.tmp_*'"),
    ("ALTER TABLE tmp_x ADD c int", "tmp_x", "excluded by selection"),
    ("TRUNCATE tmp_x", "tmp_x", "excluded by selection"),
    ("DROP TABLE tmp_x", "tmp_x", "excluded by selection"),
    ("CREATE INDEX i ON tmp_x (a)", "tmp_x", "excluded by selection"),
    ("CREATE DATABASE other", "", "database other is not selected"),
    ("ALTER TABLE users DROP COLUMN secret", "users", "secret not selected"),
    ("CREATE INDEX i ON users (secret)", "users", "unselected column"),
])
def test_skipped_with_reason(query, table, reason):
    r = rw(query, table)
    assert r.skipped and not r.needs_recopy
    assert any(reason in d["reason"] for d in r.decisions), r.decisions


def test_other_database_table_not_selected():
    r = rewrite_ddl(S, "crm", "t", "CREATE TABLE t (id int)")
    assert r.skipped and "not matched by any selection include rule" in r.decisions[0]["reason"]


def test_rename_out_of_selection_keeps_the_target_table():
    for q in ("RENAME TABLE users TO tmp_users", "ALTER TABLE users RENAME TO tmp_users"):
        r = rw(q, "tmp_users")
        assert r.skipped and not r.needs_recopy
        assert r.decisions[0]["level"] == "warning" and "prod.customers is kept" in r.decisions[0]["reason"]


def test_rename_into_selection_needs_copy():
    for q in ("RENAME TABLE tmp_old TO fresh", "ALTER TABLE tmp_old RENAME TO fresh"):
        r = rw(q, "fresh")
        assert r.skipped and r.needs_recopy
        assert r.decisions[0]["level"] == "error" and "needs copy" in r.decisions[0]["reason"]


def test_rename_mixed_pairs_keep_the_selected_one():
    r = rw("RENAME TABLE tmp_a TO tmp_b, orders TO orders2")
    assert r.query == "RENAME TABLE orders TO orders2" and not r.skipped


def test_identity_selection_leaves_text_alone():
    r = rewrite_ddl(Selection(), "db", "t", "ALTER TABLE t ADD c int")
    assert r.query == "ALTER TABLE t ADD c int" and r.schema == "db" and not r.decisions


def test_unreadable_statement_is_an_error_skip():
    r = rw("ALTER TABLE users ADD COLUMN (a int, b int)")
    assert r.skipped and r.decisions[-1]["level"] == "error"


def test_selecting_translator_passes_mapped_text_and_schema():
    seen = []

    def inner(ddl, conn=None):
        seen.append((ddl, conn))
        return BarrierTranslation([f"USE `{ddl.schema}`", ddl.query], [{"level": "info", "action": "unchanged", "reason": "x"}])

    tr = selecting_translator(S, inner)
    out = tr(DDL(5, "shop", "users", "ALTER TABLE users MODIFY email text"), "the-connection")
    assert out.statements == ["USE `prod`", "ALTER TABLE `customers` MODIFY `mail` text"]
    assert seen[0][1] == "the-connection"  # the barrier's connection reaches the translator
    out = tr(DDL(6, "shop", "tmp_1", "DROP TABLE tmp_1"))
    assert out.skipped and out.statements == [] and len(seen) == 1
    assert "excluded by selection" in out.decisions[0]["reason"]
