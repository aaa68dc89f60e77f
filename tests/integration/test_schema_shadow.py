"""`tidb2mysql schema` runs every table's CREATE on a shadow first (issue 19): a statement the
real MariaDB target rejects gets its fallback, or fails its step before anything real exists.
The steps carry statements the translator would not produce, to inject the rejection."""

from __future__ import annotations

import os

import pytest

from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.schema.apply import apply_plan, exit_status
from tidb2mysql.schema.model import CREATE, SourceObject, Step
from tidb2mysql.schema.plan import SchemaPlan

pytestmark = pytest.mark.integration


def _step(db: str, name: str, sql: str) -> Step:
    return Step(SourceObject("table", db, name, sql), db, CREATE, [sql])


def _rows(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def test_rejected_create_table_gets_its_fallback_or_fails_untouched(target_conn, target_db):
    plan = SchemaPlan(Dialect.detect(target_conn), steps=[
        _step(target_db, "p", "CREATE TABLE p (a int, b int, UNIQUE KEY uk (a)) PARTITION BY HASH (b) PARTITIONS 4"),
        _step(target_db, "w", "CREATE TABLE w (a varchar(20000)) DEFAULT CHARSET=utf8mb4"),
        _step(target_db, "r", "CREATE TABLE r (a varchar(10000), b varchar(10000)) DEFAULT CHARSET=utf8mb4"),
        _step(target_db, "k", "CREATE TABLE k (a int, b int, PRIMARY KEY (a), KEY kk (b, b))"),
        _step(target_db, "ok", "CREATE TABLE ok (a int)"),
    ])
    apply_plan(plan, target_conn)
    by = {s.obj.name: s for s in plan.steps}
    assert [s.status for s in plan.steps] == ["done", "done", "done", "failed", "done"]
    assert _rows(target_conn, "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA=%s AND "
                 "TABLE_NAME='p' AND PARTITION_NAME IS NOT NULL", target_db)[0][0] == 0
    assert _rows(target_conn, "SELECT NON_UNIQUE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=%s AND "
                 "TABLE_NAME='p' AND INDEX_NAME='uk'", target_db)[0][0] == 0
    assert _rows(target_conn, "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND "
                 "TABLE_NAME='w'", target_db)[0][0] == "mediumtext"
    assert sorted(r[0] for r in _rows(target_conn, "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE "
                                      "TABLE_SCHEMA=%s AND TABLE_NAME='r'", target_db)) == ["text", "varchar"]
    for name in ("p", "w", "r"):
        assert any(d.level == "warning" and "shadow validation" in d.reason for d in by[name].decisions), name
    # no fallback for a duplicate column in a key (1060): the step fails, nothing real was created
    assert by["k"].level == "error" and "operator must decide" in by["k"].error
    assert not _rows(target_conn, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME='k'",
                     target_db)
    mine = f"_tidb2mysql_shadow_{os.getpid()}_"
    assert not [r for r in _rows(target_conn, "SHOW DATABASES") if r[0].startswith(mine)]
    assert exit_status(plan) == 1
