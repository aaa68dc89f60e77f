"""The schema fingerprint that decides whether an interrupted DDL statement took effect, on the
real target: it must change with what the statement does, and with nothing else."""

from __future__ import annotations

import uuid

import pytest

from tidb2mysql.replication.ddl_outcome import schema_fingerprint

pytestmark = pytest.mark.integration


def run(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)


@pytest.fixture
def other_db(target_conn):
    name = f"t2m_other_{uuid.uuid4().hex[:8]}"
    yield name
    run(target_conn, f"DROP DATABASE IF EXISTS `{name}`")


def test_other_clients_databases_and_tables_do_not_count(target_conn, target_db, other_db):
    """Found by the crash test on a shared server: a CREATE DATABASE that never ran was judged
    'took effect' because some other database appeared meanwhile."""
    new_db = f"{target_db}_new"
    stmt = f"CREATE DATABASE `{new_db}`"
    before = schema_fingerprint(target_conn, stmt, None)
    run(target_conn, f"CREATE DATABASE `{other_db}`")
    run(target_conn, f"CREATE TABLE `{other_db}`.x (id INT PRIMARY KEY)")
    assert schema_fingerprint(target_conn, stmt, None) == before
    run(target_conn, stmt)
    try:
        assert schema_fingerprint(target_conn, stmt, None) != before
    finally:
        run(target_conn, f"DROP DATABASE `{new_db}`")


def test_a_swap_of_identical_tables_and_a_truncate_show(target_conn, target_db):
    for t in ("a", "b"):
        run(target_conn, f"CREATE TABLE `{target_db}`.{t} (id INT PRIMARY KEY, v VARCHAR(10))")
    swap = "RENAME TABLE a TO tmp, b TO a, tmp TO b"
    before = schema_fingerprint(target_conn, swap, target_db)
    assert schema_fingerprint(target_conn, swap, target_db) == before  # stable
    run(target_conn, f"RENAME TABLE `{target_db}`.a TO `{target_db}`.tmp, `{target_db}`.b TO `{target_db}`.a,"
                     f" `{target_db}`.tmp TO `{target_db}`.b")
    assert schema_fingerprint(target_conn, swap, target_db) != before  # same structures, other table ids
    trunc = "TRUNCATE TABLE a"
    before = schema_fingerprint(target_conn, trunc, target_db)
    run(target_conn, f"TRUNCATE TABLE `{target_db}`.a")
    assert schema_fingerprint(target_conn, trunc, target_db) != before


@pytest.mark.parametrize("ddl", [
    "ALTER TABLE t ADD COLUMN w INT", "ALTER TABLE t ADD INDEX iv (v)", "ALTER TABLE t MODIFY v VARCHAR(20)",
    "CREATE VIEW vt AS SELECT id FROM t", "DROP TABLE t", "CREATE TABLE t2 (id INT PRIMARY KEY)",
    "ALTER TABLE t RENAME INDEX iu TO iu2", "ALTER TABLE t ALTER v SET DEFAULT 'x'",
])
def test_each_ddl_kind_changes_it(target_conn, target_db, ddl):
    run(target_conn, f"CREATE TABLE `{target_db}`.t (id INT PRIMARY KEY, v VARCHAR(10), u INT, UNIQUE KEY iu (u))")
    before = schema_fingerprint(target_conn, ddl, target_db)
    run(target_conn, f"USE `{target_db}`")
    run(target_conn, ddl)
    assert schema_fingerprint(target_conn, ddl, target_db) != before
