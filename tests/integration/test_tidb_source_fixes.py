"""Issue 20, "Deliver 3": what broke on a real TiDB, each checked against a real TiDB.

The source is the real tidb-server of ``make up-tidb`` (tests/support/tidb.py; fixtures
``tidb_config`` / ``tidb_db`` / ``tidb_conn`` in tests/conftest.py), the target the stack's
MariaDB. These tests FAIL when TiDB does not answer (the fixture says how to start it).
The embedded TiDB runs without Pump/Drainer (``@@log_bin = 0``): that is itself item 4.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support import flowrun, stack
from tidb2mysql import config as config_mod

pytestmark = [pytest.mark.integration, pytest.mark.tidb]
REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, db: str, job: str, topic: str = "tidbfixes_unused", **sections) -> Path:
    """A config file: the TiDB config of ``make up-tidb`` with this test's job, topic, tables."""
    from tests.support import tidb as tidb_support  # the tidb-stack branch's helper (fixtures beside it)

    data = tomllib.loads(tidb_support.config_path().read_text())
    data.setdefault("kafka", {})["topic"] = topic
    data.setdefault("job", {})["name"] = job
    data.setdefault("full_load", {}).update({"tables": [f"{db}.*"]})
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path = tmp_path / f"{job}.toml"
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        for k, v in values.items():
            if isinstance(v, list):
                lines.append(f"{k} = [{', '.join(flowrun._toml_value(x) for x in v)}]")
            else:
                lines.append(f"{k} = {flowrun._toml_value(v)}")
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def _cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tidb2mysql.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def _run(conn, *sqls) -> None:
    with conn.cursor() as cur:
        for sql in sqls:
            cur.execute(sql)


def _rows(conn, sql: str) -> list:
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


@pytest.fixture
def target_cleanup(tidb_config, tidb_db):
    """The target database the schema stage creates for ``tidb_db``, and the job's meta rows."""
    yield tidb_db
    stack.drop_database(tidb_config.target, tidb_db)


def _fill(conn, table: str, n: int, select: str) -> None:
    """INSERT n generated rows (``select`` over ``s.n``) in one statement."""
    _run(conn, "SET SESSION cte_max_recursion_depth = 1000000",
         f"INSERT INTO {table} WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) "
         f"SELECT {select} FROM s")


def _schema_and_load(cfg: Path, db: str, *load_args) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    schema = _cli("schema", "--config", cfg, "--databases", db)
    load = _cli("full-load", "--config", cfg, *load_args)
    return schema, load


def _no_backtrace(out: str) -> None:
    assert "Traceback" not in out and "panicked" not in out and "stack backtrace" not in out, out


# -- item 1: data TiDB tolerates ------------------------------------------------------------


def _odd_data(conn) -> None:
    _run(conn, "SET SESSION sql_mode = 'ALLOW_INVALID_DATES'",
         "CREATE TABLE d (id INT PRIMARY KEY, d DATE, dt DATETIME)",
         "INSERT INTO d VALUES (1, '2020-02-30', '2021-04-31 10:00:00'), (2, '2020-02-29', NULL)",
         "CREATE TABLE l (id INT PRIMARY KEY, v VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin)",
         "INSERT INTO l VALUES (1, 'plain'), (2, '中文 text')")


def test_precheck_names_invalid_dates_and_text_outside_latin1(tidb_config, tidb_db, tidb_conn, tmp_path):
    _odd_data(tidb_conn)
    out = _cli("precheck", "--config", _config(tmp_path, tidb_db, "pc_" + tidb_db[-8:]), "--json").stdout
    import json

    checks = {c["name"]: c for c in json.loads(out)["checks"]}
    dates, text = checks["source.invalid_dates"], checks["source.charset_data"]
    assert dates["status"] == "warn" and f"{tidb_db}.d (1 row(s) in d, dt)" in dates["detail"], dates
    assert "ALLOW_INVALID_DATES" in dates["fix"]
    assert text["status"] == "fail" and f"{tidb_db}.l (1 row(s) in v)" in text["detail"], text
    assert '[ddl] latin1 = "utf8mb4"' in text["fix"]


def test_full_load_copies_invalid_dates_and_latin1_text_by_policy(tidb_config, tidb_db, tidb_conn, target_cleanup,
                                                                   tmp_path):
    _odd_data(tidb_conn)
    cfg = _config(tmp_path, tidb_db, "pol_" + tidb_db[-8:], ddl={"latin1": "utf8mb4"})
    schema, load = _schema_and_load(cfg, tidb_db)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert load.returncode == 0, load.stderr
    tgt = stack.connect(tidb_config.target, tidb_db)
    try:
        assert [tuple(map(str, r)) for r in _rows(tgt, "SELECT id, d, dt FROM d ORDER BY id")] == \
            [("1", "2020-02-30", "2021-04-31 10:00:00"), ("2", "2020-02-29", "None")]
        assert _rows(tgt, "SELECT id, v FROM l ORDER BY id") == [(1, "plain"), (2, "中文 text")]
        assert "utf8mb4" in _rows(tgt, "SHOW CREATE TABLE l")[0][1]
    finally:
        tgt.close()


def test_a_refused_value_stops_the_load_with_one_line_and_no_resume_advice(tidb_config, tidb_db, tidb_conn,
                                                                          target_cleanup, tmp_path):
    _odd_data(tidb_conn)
    cfg = _config(tmp_path, tidb_db, "one_" + tidb_db[-8:])  # [ddl] latin1 = keep: the target column stays latin1
    schema, load = _schema_and_load(cfg, tidb_db, "-p", "2")
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert load.returncode == 1
    _no_backtrace(load.stderr)
    errors = [ln for ln in load.stderr.splitlines() if ln.startswith("tidb2mysql full-load:")]
    assert len(errors) == 1, load.stderr
    line = errors[0]
    assert f"{tidb_db}.l" in line and "(1366) Incorrect string value" in line, line
    assert line.count("Incorrect string value") == 1 and '[ddl] latin1 = "utf8mb4"' in line, line
    assert "fail the same way" in line and "run the same command again to resume" not in line, line
    # smaller items: the TSO is printed at the start, and -p 2 prints no "Connection refused ... retrying"
    assert re.search(r"reading at snapshot TSO \d+", load.stderr), load.stderr
    assert "Connection refused" not in load.stderr and "retrying" not in load.stderr.lower()


# -- item 2: temporary tables -------------------------------------------------------------------


def test_global_temporary_tables_are_left_out_of_every_stage(tidb_config, tidb_db, tidb_conn, target_cleanup,
                                                            tmp_path):
    _run(tidb_conn, "CREATE GLOBAL TEMPORARY TABLE g (id INT PRIMARY KEY) ON COMMIT DELETE ROWS",
         "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "INSERT INTO t VALUES (1, 1), (2, 2)")
    cfg = _config(tmp_path, tidb_db, "tmp_" + tidb_db[-8:])
    schema, load = _schema_and_load(cfg, tidb_db)
    assert schema.returncode == 0 and "GLOBAL TEMPORARY" in schema.stdout, schema.stdout + schema.stderr
    assert load.returncode == 0, load.stderr
    assert "not copied: 1 GLOBAL TEMPORARY table(s)" in load.stderr
    tgt = stack.connect(tidb_config.target, tidb_db)
    try:
        assert [r[0] for r in _rows(tgt, "SHOW TABLES")] == ["t"]
        assert _rows(tgt, "SELECT COUNT(*) FROM t") == [(2,)]
    finally:
        tgt.close()


# -- item 3: generated keys, view security, TTL -------------------------------------------------


def test_auto_random_and_sequence_keys_accept_inserts_after_cut_over(tidb_config, tidb_db, tidb_conn,
                                                                    target_cleanup, tmp_path):
    _run(tidb_conn, "CREATE TABLE ar (id BIGINT PRIMARY KEY AUTO_RANDOM, v INT)",
         "INSERT INTO ar (v) VALUES (1), (2), (3)",
         "CREATE SEQUENCE seq", "CREATE TABLE sq (id INT PRIMARY KEY DEFAULT NEXT VALUE FOR seq, v INT)",
         "INSERT INTO sq (v) VALUES (1), (2)",
         "CREATE TABLE tt (id INT PRIMARY KEY, created_at DATETIME) TTL = created_at + INTERVAL 1 DAY",
         "CREATE VIEW vw AS SELECT id, v FROM ar")
    cfg = _config(tmp_path, tidb_db, "ar_" + tidb_db[-8:])
    schema, load = _schema_and_load(cfg, tidb_db)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert load.returncode == 0, load.stderr
    out = schema.stdout
    assert re.search(r"warning.*AUTO_RANDOM -> AUTO_INCREMENT", out, re.I), out
    assert re.search(r"WARNING changed: table `sq`, column id: DEFAULT nextval\(.*\) -> AUTO_INCREMENT", out), out
    assert re.search(r"warning.*DEFINER.*keep_definer", out, re.I), out
    assert re.search(r"warning.*TTL.*EVENT", out, re.I), out
    biggest = max(r[0] for r in _rows(tidb_conn, "SELECT id FROM ar"))
    tgt = stack.connect(tidb_config.target, tidb_db)
    try:
        _run(tgt, "INSERT INTO ar (v) VALUES (4)", "INSERT INTO sq (v) VALUES (3)")  # the application after cut-over
        new = _rows(tgt, "SELECT id FROM ar WHERE v = 4")[0][0]
        assert new > biggest
        assert _rows(tgt, "SELECT COUNT(*) FROM sq") == [(3,)]
    finally:
        tgt.close()


# -- item 4: binlog off, and what status may say -------------------------------------------------


def test_precheck_and_status_see_that_tidb_binlog_is_off(tidb_config, tidb_db, tidb_conn, tmp_path):
    from tidb2mysql.ops import status as status_mod

    _run(tidb_conn, "CREATE TABLE t (id INT PRIMARY KEY)")
    cfg = _config(tmp_path, tidb_db, "bl_" + tidb_db[-8:])
    pre = _cli("precheck", "--config", cfg, "--no-data-scan")
    assert pre.returncode == 1
    line = next(ln for ln in pre.stdout.splitlines() if "source.binlog" in ln)
    assert line.startswith("FAIL") and "binlog is off (@@log_bin = 0)" in line, pre.stdout
    # status: what TiDB says now against a job that is "caught up with Kafka"
    conn = stack.connect(tidb_config.source)
    try:
        view = status_mod.read_source(conn)
        _run(conn, f"INSERT INTO `{tidb_db}`.t VALUES (1)")  # a commit that never reaches Kafka
        later = status_mod.read_source(conn)
    finally:
        conn.close()
    assert view.kind == "tidb" and view.log_bin == "0" and later.tso > view.tso > 0
    st = status_mod.Status(job="j", meta_schema="m", stage="incremental", shards=1, applied_commit_ts=view.tso,
                           caught_up_with_kafka=True, not_delayed=True, kafka_end_offset=1, applied_offset=0)
    status_mod.judge_source(st, later)
    assert not st.not_delayed
    assert "verdict          DELAYED" in status_mod.render(st) and "binlog is OFF" in status_mod.render(st)


# -- item 5: GC life time and the estimate -----------------------------------------------------


def test_full_load_raises_gc_life_time_for_its_duration_and_restores_it(tidb_config, tidb_db, tidb_conn,
                                                                      target_cleanup, tmp_path):
    _run(tidb_conn, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(40))")
    _fill(tidb_conn, "t", 3000, "n, CONCAT('row ', n)")
    before = _rows(tidb_conn, "SELECT @@global.tidb_gc_life_time")[0][0]
    assert before != "73h"
    cfg = _config(tmp_path, tidb_db, "gc_" + tidb_db[-8:], full_load={"gc_life_time": "73h"})
    schema, load = _schema_and_load(cfg, tidb_db)
    assert load.returncode == 0, load.stderr
    assert f"tidb_gc_life_time raised from {before} to 73h" in load.stderr, load.stderr
    assert f"tidb_gc_life_time restored to {before}" in load.stderr, load.stderr
    assert _rows(tidb_conn, "SELECT @@global.tidb_gc_life_time")[0][0] == before
    pre = _cli("precheck", "--config", cfg, "--no-data-scan")
    line = next(ln for ln in pre.stdout.splitlines() if "source.tidb_gc" in ln)
    assert "rows/s measured on one connection" in line and "raises it to 73h" in line, pre.stdout


# -- item 6: incremental started alone ------------------------------------------------------------


def test_incremental_alone_starts_after_the_full_loads_snapshot(tidb_config, tidb_db, tidb_conn, target_cleanup,
                                                               kafka_topic, tmp_path):
    from tests.support.drainer_stream import Stream
    from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema

    _run(tidb_conn, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "INSERT INTO t VALUES (1, 10)")
    cfg = _config(tmp_path, tidb_db, "inc_" + tidb_db[-8:], topic=kafka_topic)
    schema, load = _schema_and_load(cfg, tidb_db)
    assert load.returncode == 0, load.stderr
    snap = int(re.search(r"snapshot TSO (\d+)", load.stderr).group(1))
    ts = TableSchema(tidb_db, "t", ("id", "v"), ("int", "int"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
    stream = Stream(config_mod.load(cfg), kafka_topic)
    # already in the copy (commit_ts below the snapshot): replaying it would delete row 1
    stream.txn(TableChanges(ts, [RowChange(Op.DELETE, None, (1, 10))]), ts=snap - (5 << 18))
    stream.txn(TableChanges(ts, [RowChange(Op.INSERT, (2, 20), None)]), ts=snap + (5 << 18))
    stream.flush()
    inc = _cli("incremental", "--config", cfg, "--stop-at-end", timeout=180)
    assert inc.returncode == 0, inc.stderr
    assert f"start position: after the snapshot TSO {snap} recorded by the full load" in inc.stderr
    tgt = stack.connect(tidb_config.target, tidb_db)
    try:
        assert _rows(tgt, "SELECT id, v FROM t ORDER BY id") == [(1, 10), (2, 20)]
    finally:
        tgt.close()


# -- item 7: chunking by _tidb_rowid and sampled boundaries ------------------------------------


def test_keyless_nonclustered_and_composite_tables_are_chunked_without_reading_every_key(
        tidb_config, tidb_db, tidb_conn, target_cleanup, tmp_path):
    from tidb2mysql.fullload.chunking import make_plan

    _run(tidb_conn, "CREATE TABLE kl (a INT, b VARCHAR(20))",
         "CREATE TABLE nc (id VARCHAR(20), v INT, PRIMARY KEY (id) NONCLUSTERED)",
         "CREATE TABLE cc (a VARCHAR(10), b INT, v INT, PRIMARY KEY (a, b) CLUSTERED)")
    _fill(tidb_conn, "kl", 2500, "n % 7, CONCAT('x', n % 3)")  # duplicate rows on purpose
    _fill(tidb_conn, "nc", 2500, "CONCAT('k', LPAD(n, 6, '0')), n")
    _fill(tidb_conn, "cc", 2500, "CONCAT('g', n % 5), n, n")
    _run(tidb_conn, "ANALYZE TABLE kl, nc, cc")  # TABLE_ROWS estimates for the plan
    conn = stack.connect(tidb_config.source)
    try:
        plan = make_plan(conn, [(tidb_db, "kl"), (tidb_db, "nc"), (tidb_db, "cc")], 1000, 2)
    finally:
        conn.close()
    by = {tp.table: tp for tp in plan.tables}
    assert by["kl"].key == ["_tidb_rowid"] and by["kl"].hidden_key and by["kl"].unique_key == []
    assert by["nc"].key == ["_tidb_rowid"] and by["nc"].unique_key == ["id"]
    assert by["cc"].key == ["a", "b"] and not by["cc"].hidden_key
    chunks = {t: sum(1 for c in plan.chunks if plan.tables[c.table].table == t) for t in by}
    assert chunks["kl"] >= 2 and chunks["nc"] >= 2 and chunks["cc"] >= 2, chunks
    cfg = _config(tmp_path, tidb_db, "ch_" + tidb_db[-8:], full_load={"chunk_rows": 1000, "page_rows": 300})
    schema, load = _schema_and_load(cfg, tidb_db, "-w", "2")
    assert load.returncode == 0, load.stderr
    tgt = stack.connect(tidb_config.target, tidb_db)
    try:
        for t, order in (("kl", "a, b"), ("nc", "id"), ("cc", "a, b")):
            src_rows = sorted(_rows(tidb_conn, f"SELECT * FROM {t}"), key=repr)
            assert sorted(_rows(tgt, f"SELECT * FROM {t} ORDER BY {order}"), key=repr) == src_rows, t
    finally:
        tgt.close()


# -- item 8: migrate runs the precheck; system databases --------------------------------------------


def test_migrate_runs_the_precheck_first(tidb_config, tidb_db, tidb_conn, target_cleanup, tmp_path):
    _run(tidb_conn, "CREATE TABLE t (id INT PRIMARY KEY)")
    cfg = _config(tmp_path, tidb_db, "mg_" + tidb_db[-8:])
    out = _cli("migrate", "--config", cfg, "--tables", f"{tidb_db}.*", "--stop-at-end")
    assert out.returncode == 1
    assert "precheck failed" in out.stderr and "source.binlog" in out.stderr, out.stderr
    tgt = stack.connect(tidb_config.target)
    try:  # nothing was created
        assert not _rows(tgt, f"SHOW DATABASES LIKE '{tidb_db}'")
    finally:
        tgt.close()


def test_system_databases_and_the_empty_test_database_are_not_migrated(tidb_config, tidb_db, tidb_conn, tmp_path):
    cfg = _config(tmp_path, tidb_db, "sy_" + tidb_db[-8:])
    _run(tidb_conn, "CREATE DATABASE IF NOT EXISTS test")
    if _rows(tidb_conn, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'test'")[0][0]:
        pytest.fail("TiDB's `test` database holds tables: this test needs it empty (as TiDB bootstraps it)")
    out = _cli("schema", "--config", cfg, "--dry-run", "--json")
    assert out.returncode in (0, 1), out.stderr
    import json

    doc = json.loads(out.stdout)
    created = {o.get("source", "") for o in doc["objects"]}
    assert f"{tidb_db}" in created or any(c.startswith(tidb_db) for c in created), created
    for system in ("mysql", "INFORMATION_SCHEMA", "PERFORMANCE_SCHEMA", "METRICS_SCHEMA", "sys", "test"):
        assert not any(c.lower() == system.lower() or c.lower().startswith(system.lower() + ".") for c in created), system
    assert any(n.get("source") == "test" and "bootstrap" in n.get("reason", "") for n in doc["not_migrated"]), \
        doc["not_migrated"]
