"""The target layer's flavour/version rules (tidb2mysql/mysql/dialect.py) and what depends on
them: the upsert spelling, the statement budget, and the meta tables' definitions. Pure.
(The generated-column spellings are tested in test_sql.py.)"""

from __future__ import annotations

import pytest

from tidb2mysql.events import TableSchema
from tidb2mysql.mysql import meta
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.mysql.session import PACKET_MARGIN, ServerFacts, isolation_for, statement_budget
from tidb2mysql.mysql.sql import DEFAULT_BUDGET, TableSQL, upsert_tail

MARIADB_10 = Dialect.from_version_string("10.11.6-MariaDB-1:10.11.6+maria~deb12")
MYSQL_57 = Dialect.from_version_string("5.7.44-log")
MYSQL_80_OLD = Dialect.from_version_string("8.0.19")
MYSQL_80 = Dialect.from_version_string("8.0.36")
MYSQL_84 = Dialect.from_version_string("8.4.3")


@pytest.mark.parametrize("dialect, flavour, version, row_alias", [
    (MARIADB_10, "mariadb", (10, 11, 6), False),
    (Dialect.from_version_string("11.4.2-MariaDB"), "mariadb", (11, 4, 2), False),
    (MYSQL_57, "mysql", (5, 7, 44), False),
    (MYSQL_80_OLD, "mysql", (8, 0, 19), False),  # the alias exists, VALUES() is not deprecated yet
    (Dialect.from_version_string("8.0.20"), "mysql", (8, 0, 20), True),
    (MYSQL_80, "mysql", (8, 0, 36), True),
    (MYSQL_84, "mysql", (8, 4, 3), True),
])
def test_flavour_version_and_upsert_spelling(dialect, flavour, version, row_alias):
    assert (dialect.flavour, dialect.version) == (flavour, version)
    assert dialect.upsert_row_alias is row_alias
    tail = upsert_tail(["`a`", "`b`"], "t", dialect)
    if row_alias:
        assert tail == " AS new ON DUPLICATE KEY UPDATE `a`=new.`a`,`b`=new.`b`"
    else:
        assert tail == " ON DUPLICATE KEY UPDATE `a`=VALUES(`a`),`b`=VALUES(`b`)"


def test_upsert_without_a_known_dialect_uses_the_spelling_every_server_runs():
    assert upsert_tail(["`a`"], "t") == " ON DUPLICATE KEY UPDATE `a`=VALUES(`a`)"


def test_row_alias_never_equals_the_table_name():
    assert upsert_tail(["`a`"], "NEW", MYSQL_80) == " AS new_row ON DUPLICATE KEY UPDATE `a`=new_row.`a`"


@pytest.mark.parametrize("dialect, expected_tail", [
    (MARIADB_10, " ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)"),
    (MYSQL_57, " ON DUPLICATE KEY UPDATE `v`=VALUES(`v`)"),
    (MYSQL_80, " AS new ON DUPLICATE KEY UPDATE `v`=new.`v`"),
    (MYSQL_84, " AS new ON DUPLICATE KEY UPDATE `v`=new.`v`"),
])
def test_table_sql_upserts_in_the_dialect(dialect, expected_tail):
    q = TableSQL(TableSchema("d", "t", ("id", "v"), ("int", "varchar"), pk=(0,)), None, DEFAULT_BUDGET, dialect)
    [st] = q.upsert([(1, "x"), (2, "y")])
    assert st.sql == "INSERT INTO `d`.`t` (`id`,`v`) VALUES (1,'x'),(2,'y')" + expected_tail
    assert q.upsert_one((3, "z")) == "INSERT INTO `d`.`t` (`id`,`v`) VALUES (3,'z')" + expected_tail


@pytest.mark.parametrize("packet, ceiling, budget", [
    (1 << 30, DEFAULT_BUDGET, DEFAULT_BUDGET),         # large packet: the ceiling
    (256 << 10, DEFAULT_BUDGET, (256 << 10) - PACKET_MARGIN),  # small packet: below it, with a margin
    (100, DEFAULT_BUDGET, 1024),                      # absurdly small: never below 1 KiB
    (1 << 30, 5000, 5000),
])
def test_statement_budget(packet, ceiling, budget):
    assert statement_budget(packet, ceiling) == budget
    assert ServerFacts(MARIADB_10, packet).budget(ceiling) == budget


def test_every_meta_component_creates_its_tables_and_the_version_table():
    expected = {
        meta.REPLICATION: {"checkpoint", "ddl_history", "quarantine", "dead_letter", "unique_handoff"},
        meta.FENCING: {"job_control"},
        meta.FULL_LOAD: {"full_load_job", "full_load_chunks", "full_load_lanes", "full_load_errors", "full_load_notes"},
        meta.VERIFY: {"verify_run", "verify_chunk"},
    }
    assert set(meta.COMPONENTS) == set(expected)
    for component, tables in expected.items():
        stmts = meta.create_statements("m`x", component)
        assert stmts[0] == "CREATE DATABASE IF NOT EXISTS `m``x`"
        assert "`schema_version`" in stmts[1]
        created = {s.split("`m``x`.", 1)[1].split()[0].strip("`") for s in stmts[2:]}
        assert created == tables
        assert all(s.startswith("CREATE TABLE IF NOT EXISTS") for s in stmts[1:])


@pytest.mark.parametrize("table, columns", [("ddl_history", meta.DDL_HISTORY_UPGRADE),
                                            ("checkpoint", meta.CHECKPOINT_UPGRADE)])
def test_new_replication_tables_already_have_every_migrated_column(table, columns):
    """A fresh table is created at the current version: the migrations' columns are in it."""
    [stmt] = [s for s in meta.create_statements("m", meta.REPLICATION) if f"`{table}`" in s]
    for col, decl in columns.items():
        assert f"`{col}` {decl}," in stmt
    assert [v for v, _ in meta.COMPONENTS[meta.REPLICATION].migrations] == [1, 2]


@pytest.mark.parametrize("binlog_format, log_bin, level", [
    ("ROW", 1, "READ COMMITTED"),
    ("MIXED", "ON", "READ COMMITTED"),
    ("STATEMENT", 0, "READ COMMITTED"),      # no binary log: nothing to refuse
    ("STATEMENT", 1, "REPEATABLE READ"),     # InnoDB refuses RC writes (1665)
    ("statement", "ON", "REPEATABLE READ"),
    (None, None, "READ COMMITTED"),
])
def test_isolation_for(binlog_format, log_bin, level):
    assert isolation_for(binlog_format, log_bin) == level
