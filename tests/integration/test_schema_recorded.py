"""Real TiDB SHOW CREATE outputs (tests/schema_fixtures/tidb_show, from TiDB's own tests and
docs) through the recorded ``SchemaSource`` into fresh target databases, with the created
objects checked against what TiDB's output means."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.support import stack
from tidb2mysql import cli

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).resolve().parents[1] / "schema_fixtures" / "tidb_show"


def query(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return [tuple(r) for r in cur.fetchall()]


def column(conn, db, table, col):
    return query(conn, "SELECT COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLLATION_NAME FROM "
                 "information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s AND COLUMN_NAME=%s",
                 (db, table, col))[0]


def test_recorded_tidb_schema_is_created(capsys, stack_config, target_conn, target_db):
    more = f"{target_db[:40]}_more_{uuid.uuid4().hex[:6]}"
    try:
        code = cli.main(["schema", "--config", str(stack.config_path()), "--recorded", str(FIXTURE),
                         "--map-database", f"executor__show={target_db},show_more={more}", "--json"])
        report = json.loads(capsys.readouterr().out)
        assert code == 0, report
        status = {o["source"]: (o["action"], o["status"], o["level"]) for o in report["objects"]}
        assert status["executor__show"] == ("keep", "done", "info")        # the fixture made it already
        assert status["show_more"] == ("create", "done", "info")          # created automatically
        assert status["executor__show.seq"] == ("skip", "done", "warning")
        assert status["executor__show.t3"] == ("skip", "done", "warning")
        assert status["executor__show.default_sequence"] == ("create", "done", "warning")
        origins = {o["source"]: o["origin"] for o in report["objects"]}
        assert "pingcap/tidb tests/integrationtest/r/executor/show.result" in origins["executor__show.log"]

        tables = {r[0]: r[1] for r in query(target_conn, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
                                                         "WHERE TABLE_SCHEMA=%s", (target_db,))}
        assert tables == {n: "BASE TABLE" for n in ["auto_random_tbl1", "auto_random_tbl4", "test1", "t", "t1", "log",
                                                   "ttt4", "binary_collate", "default_varchar", "default_sequence",
                                                   "thash", "employees"]} | {"v": "VIEW", "v1": "VIEW"}
        more_tables = sorted(r[0] for r in query(target_conn, "SELECT TABLE_NAME FROM information_schema.TABLES "
                                                              "WHERE TABLE_SCHEMA=%s", (more,)))
        assert more_tables == ["t", "t1", "thash"]
        assert query(target_conn, "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE "
                     "SCHEMA_NAME=%s", (more,)) == [("utf8mb4_bin",)]

        # AUTO_RANDOM -> AUTO_INCREMENT ([ddl] auto_random): the application's inserts after cut-over get ids
        assert column(target_conn, target_db, "auto_random_tbl1", "a") == ("bigint(20)", "NO", None, "auto_increment",
                                                                           None)
        # TIMESTAMP defaults and ON UPDATE kept; nullable TIMESTAMP made explicitly NULL
        assert column(target_conn, target_db, "t", "a") == ("timestamp", "NO", "current_timestamp()", "", None)
        assert column(target_conn, target_db, "t", "g") == (
            "timestamp(2)", "YES", "current_timestamp(2)", "on update current_timestamp(2)", None)
        assert column(target_conn, target_db, "t", "h")[:3] == ("date", "YES", "curdate()")
        assert column(target_conn, target_db, "t1", "c") == ("int(10) unsigned", "YES", "0", "", None)
        assert column(target_conn, target_db, "ttt4", "a")[4] == "utf8mb4_unicode_ci"
        assert column(target_conn, target_db, "default_sequence", "a")[:3] == ("int(11)", "YES", "NULL")
        # NONCLUSTERED composite key and 12 RANGE partitions on MONTH(end_time)
        keys = query(target_conn, "SELECT INDEX_NAME, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) FROM "
                     "information_schema.STATISTICS WHERE TABLE_SCHEMA=%s AND TABLE_NAME='log' GROUP BY INDEX_NAME "
                     "ORDER BY INDEX_NAME", (target_db,))
        assert keys == [("IDX_EndTime", "END_TIME"), ("IDX_RoundId", "ROUND_ID"),
                        ("IDX_UserId_EndTime", "USER_ID,END_TIME"), ("PRIMARY", "LOG_ID,END_TIME")]
        parts = query(target_conn, "SELECT PARTITION_METHOD, PARTITION_NAME FROM information_schema.PARTITIONS "
                      "WHERE TABLE_SCHEMA=%s AND TABLE_NAME='log' ORDER BY PARTITION_ORDINAL_POSITION", (target_db,))
        assert [p[1] for p in parts] == [f"p{i}" for i in range(1, 13)] and parts[0][0] == "RANGE"
        assert query(target_conn, "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA=%s AND "
                     "TABLE_NAME='t' AND PARTITION_METHOD='LIST'", (more,)) == [(4,)]
        # views resolve
        assert query(target_conn, f"SELECT * FROM `{target_db}`.`v1`") == [(1,)]
        assert query(target_conn, f"SELECT * FROM `{target_db}`.`v`") == [("{}",)]
    finally:
        conn = stack.connect(stack_config.target)
        try:
            query(conn, f"DROP DATABASE IF EXISTS `{more}`")
        finally:
            conn.close()
