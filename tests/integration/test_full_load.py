"""Full load against the real stack: every type, 1,000,000 rows, exact equality; keys and chunks.

The data is generated on the source with ``INSERT ... SELECT`` from MariaDB's SEQUENCE
engine (``seq_1_to_N``), so a million rows take seconds. Target tables are created from the
source's ``SHOW CREATE TABLE`` (the schema stage's job in production).
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pytest

from tests.support import flowrun, stack
from tidb2mysql.compare import compare_databases

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

# (table, DDL body, rows, SELECT producing the rows from seq_1_to_N as `seq`)
TABLES = [
    ("t_int", "(id BIGINT PRIMARY KEY, a TINYINT, b SMALLINT UNSIGNED, c MEDIUMINT, d INT UNSIGNED, "
              "e BIGINT UNSIGNED, f BIGINT)", 250_000,
     "SELECT seq * 3, seq % 256 - 128, seq % 65536, seq - 8388608, 4294967295 - seq, "
     "18446744073709551615 - seq, -9223372036854775807 + seq * 1000 FROM {seq}"),
    ("t_float", "(id INT PRIMARY KEY, f FLOAT, d DOUBLE, fu FLOAT UNSIGNED, dn DOUBLE NULL)", 150_000,
     "SELECT seq, seq / 7 + 0.1, seq / 3 * 1.0E-300, seq * 1.17549435E-38, "
     "IF(seq % 5 = 0, NULL, 1.7976931348623157E308 / seq) FROM {seq}"),
    ("t_decimal", "(id INT PRIMARY KEY, a DECIMAL(65,30), b DECIMAL(10,2), c DECIMAL(20,0) NULL)", 100_000,
     "SELECT seq, seq * 12345678901234567890.123456789012345678901234567891 - 99999999999999999999, "
     "(seq % 200000) / 100 - 1000, IF(seq % 3 = 0, NULL, seq * -1000000007) FROM {seq}"),
    ("t_dates", "(id INT PRIMARY KEY, d DATE, dt DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), y YEAR, "
                "dt0 DATETIME NULL)", 100_000,
     "SELECT seq, IF(seq % 97 = 0, '0000-00-00', IF(seq % 89 = 0, '2020-00-00', "
     "'1000-01-01' + INTERVAL seq DAY)), '2001-02-03 04:05:06.789012' + INTERVAL seq SECOND, "
     "IF(seq % 11 = 0, NULL, FROM_UNIXTIME(1 + seq * 12345.678901)), "
     "SEC_TO_TIME((seq % 3000000) - 1500000 + 0.000001 * (seq % 999999)), 1901 + seq % 255, "
     "IF(seq % 7 = 0, '0000-00-00 00:00:00', NULL) FROM {seq}"),
    ("t_strings", "(id INT PRIMARY KEY, c CHAR(10), v VARCHAR(100), t TEXT, l VARCHAR(20) CHARACTER SET latin1, "
                  "e ENUM('a','b','c'), s SET('x','y','z'), cs VARCHAR(10) COLLATE utf8mb4_bin) "
                  "DEFAULT CHARSET=utf8mb4", 100_000,
     "SELECT seq, CONCAT('c', seq % 1000), CONCAT('v\\'\"\\\\', seq, '\\n\\r\\t😀ü'), "
     "IF(seq % 13 = 0, NULL, REPEAT(CONCAT('line', CHAR(10), 'é'), seq % 20)), CONCAT('ñ', seq), "
     "ELT(1 + seq % 3, 'a', 'b', 'c'), IF(seq % 4 = 0, '', ELT(1 + seq % 3, 'x', 'x,y', 'x,y,z')), "
     "IF(seq % 2 = 0, 'Aa ', 'aA') FROM {seq}"),
    ("t_binary", "(id INT PRIMARY KEY, b BINARY(16), vb VARBINARY(64), bl BLOB)", 80_000,
     "SELECT seq, UNHEX(MD5(seq)), CONCAT(X'00275C0A0D1A', UNHEX(SHA1(seq))), "
     "IF(seq % 9 = 0, NULL, REPEAT(UNHEX(MD5(seq)), seq % 10)) FROM {seq}"),
    ("t_composite", "(k VARCHAR(20) NOT NULL, n INT NOT NULL, v VARCHAR(30), PRIMARY KEY (k, n))", 100_000,
     "SELECT CONCAT('key-', seq % 37), seq, CONCAT('val', seq) FROM {seq}"),
    ("t_json", "(id INT PRIMARY KEY, j JSON, jn JSON NULL)", 50_000,
     "SELECT seq, JSON_OBJECT('n', seq, 's', CONCAT('ü\"', seq), 'a', JSON_ARRAY(seq, 1.5, NULL)), "
     "IF(seq % 2 = 0, NULL, '[1, 2.50, \"x\"]') FROM {seq}"),
    ("t_bit", "(id INT PRIMARY KEY, b1 BIT(1), b10 BIT(10), b64 BIT(64))", 30_000,
     "SELECT seq, seq % 2, seq % 1024, 18446744073709551615 - seq FROM {seq}"),
    ("t_nokey", "(a INT, b VARCHAR(10), c DOUBLE)", 20_000,
     "SELECT seq % 100, CONCAT('x', seq % 7), seq / 9 FROM {seq}"),
    ("t_uk", "(u VARCHAR(20) NOT NULL, v INT, UNIQUE KEY uk (u))", 10_000,
     "SELECT CONCAT('u', seq), seq FROM {seq}"),
    ("t_gen", "(id INT PRIMARY KEY, a INT, g INT AS (a * 2) STORED, vg INT AS (a + 1) VIRTUAL)", 10_000,
     "(id, a) SELECT seq, seq * 5 FROM {seq}"),
]
TOTAL_ROWS = sum(t[2] for t in TABLES)


def seq_rows(cur, n: int, tidb: bool = False) -> str:
    """A derived table ``s`` of ``seq`` = 1..n: MariaDB's SEQUENCE engine, or on TiDB (which has
    none) a recursive CTE, whose depth limit is raised for this session first."""
    if not tidb:
        return f"(SELECT CAST(seq AS SIGNED) AS seq FROM seq_1_to_{n}) AS s"
    cur.execute(f"SET SESSION cte_max_recursion_depth = {n + 1}")
    return f"(WITH RECURSIVE r (seq) AS (SELECT 1 UNION ALL SELECT seq + 1 FROM r WHERE seq < {n}) SELECT seq FROM r) AS s"


def make_source_tables(conn, db: str, scale: float = 1.0, tables=TABLES, tidb: bool = False) -> int:
    """Create and fill the tables on the source (``tidb``: a real TiDB); returns the number of rows."""
    total = 0
    with conn.cursor() as cur:
        cur.execute(f"USE `{db}`")
        cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', SESSION time_zone = '+00:00'")
        for name, body, rows, select in tables:
            n = max(1, int(rows * scale))
            cur.execute(f"CREATE TABLE `{name}` {body}")
            cur.execute(f"INSERT INTO `{name}` {select.format(seq=seq_rows(cur, n, tidb))}")
            total += n
        cur.execute("ANALYZE TABLE " + ", ".join(f"`{t[0]}`" for t in tables))
        cur.fetchall()
    return total


def copy_structure(src_conn, src_db: str, tgt_conn, tgt_db: str) -> None:
    """Create the target tables from the source's SHOW CREATE TABLE (stand-in for the schema stage)."""
    with src_conn.cursor() as s, tgt_conn.cursor() as t:
        s.execute(f"SHOW FULL TABLES FROM `{src_db}` WHERE Table_type = 'BASE TABLE'")
        names = [r[0] for r in s.fetchall()]
        t.execute(f"USE `{tgt_db}`")
        for name in names:
            s.execute(f"SHOW CREATE TABLE `{src_db}`.`{name}`")
            t.execute(s.fetchone()[1])


def write_config(tmp_path: Path, job: str, base: Path | None = None, **full_load) -> Path:
    """``base``: the stack config to start from (default the stack's; the TiDB one for TiDB)."""
    settings = {"chunk_rows": 50_000, "page_rows": 5_000, "progress_interval": 2.0}
    settings.update(full_load)
    return flowrun.write_config(tmp_path / "t2m.toml", topic="fl_" + job[-16:], job=job, base=base,
                                full_load=settings)


def full_load_cmd(config: Path, db: str, workers: int = 1, processes: int = 1, recovery_dir=None,
                  extra=()) -> list[str]:
    cmd = [sys.executable, "-m", "tidb2mysql.cli", "full-load", "--config", str(config), "-w", str(workers),
           "-p", str(processes), "--tables", f"{db}.*"]
    if recovery_dir is not None:
        cmd += ["-r", str(recovery_dir), "-s", "1"]
    return cmd + list(extra)


def assert_equal(stack_config, db: str) -> None:
    a = stack.connect(stack_config.source)
    b = stack.connect(stack_config.target)
    try:
        result = compare_databases(a, db, b, db)
    finally:
        a.close()
        b.close()
    assert result.equal, str(result)
    return result


def job_row(stack_config, job: str):
    conn = stack.connect(stack_config.target)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT stage, snapshot_ts, lock_ms, lanes FROM tidb2mysql.full_load_job WHERE job = %s",
                        (job,))
            return cur.fetchone()
    finally:
        conn.close()


def drop_job(stack_config, job: str) -> None:
    conn = stack.connect(stack_config.target)
    try:
        with conn.cursor() as cur:
            for t in ("full_load_job", "full_load_chunks", "full_load_lanes", "full_load_errors", "full_load_notes"):
                cur.execute(f"DELETE FROM tidb2mysql.{t} WHERE job = %s", (job,))
    finally:
        conn.close()


@pytest.fixture
def job(source_db, stack_config):
    yield source_db  # the job is named after the (unique) database
    drop_job(stack_config, source_db)


def same_db_fixture(stack_config, source_db):
    """The target database must have the SAME name as the source one (no name mapping yet)."""
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{source_db}`")


@pytest.fixture
def mirror_db(stack_config, source_db):
    same_db_fixture(stack_config, source_db)
    yield source_db
    stack.drop_database(stack_config.target, source_db)


@pytest.mark.slow
def test_million_rows_every_type_two_processes(stack_config, source_conn, source_db, mirror_db, job, tmp_path):
    total = make_source_tables(source_conn, source_db)
    assert total == TOTAL_ROWS == 1_000_000
    tgt = stack.connect(stack_config.target)
    copy_structure(source_conn, source_db, tgt, mirror_db)
    tgt.close()
    cfg = write_config(tmp_path, job)
    log = tmp_path / "full_load.log"
    t0 = time.monotonic()
    rc = flowrun.run(full_load_cmd(cfg, source_db, workers=1, processes=2), log, timeout=240)
    secs = time.monotonic() - t0
    text = log.read_text()
    assert rc == 0, flowrun.tail(log)
    result = assert_equal(stack_config, source_db)
    assert sum(t.rows_a for t in result.tables) == 1_000_000
    stage, ts, lock_ms, lanes = job_row(stack_config, job)
    assert stage == "loaded" and lanes == 2
    assert lock_ms is not None and lock_ms < 5000
    assert "TOTAL" in text and "1,000,000" in text  # the summary table
    print(f"full load of 1,000,000 rows with -p 2 -w 1: {secs:.1f}s, {1_000_000 / secs:,.0f} rows/s "
          f"(lock window {lock_ms:.0f} ms)")


def test_small_load_equal_and_rerun_is_noop(stack_config, source_conn, source_db, mirror_db, job, tmp_path):
    make_source_tables(source_conn, source_db, scale=0.01)
    tgt = stack.connect(stack_config.target)
    copy_structure(source_conn, source_db, tgt, mirror_db)
    tgt.close()
    cfg = write_config(tmp_path, job, chunk_rows=300, page_rows=100)
    log = tmp_path / "a.log"
    assert flowrun.run(full_load_cmd(cfg, source_db, workers=2), log, timeout=120) == 0, flowrun.tail(log)
    assert_equal(stack_config, source_db)
    text = log.read_text()
    # integer keys split into ranges, the composite key by sampled boundaries, the keyless table in one chunk
    assert re.search(r"chunk \d+ of \S+\.t_composite read", text)
    stage, ts, lock_ms, lanes = job_row(stack_config, job)
    assert stage == "loaded" and ts == 0
    log2 = tmp_path / "b.log"
    assert flowrun.run(full_load_cmd(cfg, source_db), log2, timeout=60) == 0
    assert "already complete" in log2.read_text()


def test_missing_target_table_is_a_clear_error(stack_config, source_conn, source_db, mirror_db, job, tmp_path):
    make_source_tables(source_conn, source_db, scale=0.001, tables=TABLES[:2])
    cfg = write_config(tmp_path, job)
    log = tmp_path / "a.log"
    rc = flowrun.run(full_load_cmd(cfg, source_db), log, timeout=60)
    assert rc == 1
    assert f"target table(s) missing: {source_db}.t_float, {source_db}.t_int" in log.read_text()


def test_value_the_target_cannot_hold_stops_with_table_chunk_and_key(stack_config, source_conn, source_db,
                                                                    mirror_db, job, tmp_path):
    with source_conn.cursor() as cur:
        cur.execute("CREATE TABLE narrow (id INT PRIMARY KEY, v VARCHAR(20))")
        cur.execute("INSERT INTO narrow SELECT seq, IF(seq = 7, 'much too long', 'ok') FROM seq_1_to_20")
    with stack.connect(stack_config.target, mirror_db) as tgt, tgt.cursor() as cur:
        cur.execute("CREATE TABLE narrow (id INT PRIMARY KEY, v VARCHAR(5))")  # strict mode: never truncated
    cfg = write_config(tmp_path, job, page_rows=5)
    log = tmp_path / "a.log"
    assert flowrun.run(full_load_cmd(cfg, source_db), log, timeout=60) == 1
    text = log.read_text()
    # LOAD DATA LOCAL reports a value the column cannot hold as a warning (IGNORE semantics);
    # the writer makes every warning an error and names the row (the insert path: 1406).
    assert (f"table {source_db}.narrow, chunk 0: writing 5 rows failed (first row key (6,)): (1265) Data truncated "
            f"for column 'v' at row 2 (key (7,))") in text
    # issue 20: ONE line, no traceback / Rust panic, and no "run again to resume" (it would fail the same way)
    assert "Traceback" not in text and "panicked" not in text and "stack backtrace" not in text, text
    errors = [ln for ln in text.splitlines() if ln.startswith("tidb2mysql full-load:")]
    assert len(errors) == 1 and "(1265) Data truncated" in errors[0], text
    assert "fail the same way" in errors[0] and "column definitions" in errors[0]
    assert "run the same command again to resume" not in text
    with stack.connect(stack_config.target, mirror_db) as tgt, tgt.cursor() as cur:
        cur.execute("SELECT COUNT(*), MAX(id) FROM narrow")
        assert cur.fetchone() == (5, 5)  # the pages before the bad one are in; nothing after


def test_read_lock_wait_is_bounded(stack_config, source_conn, source_db):
    """A long-running write makes FLUSH TABLES WITH READ LOCK wait; the wait is bounded and explained."""
    import threading

    from tidb2mysql.fullload.snapshot import MariaDBSnapshot, SnapshotError

    with source_conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id INT PRIMARY KEY, v INT)")
        cur.execute("INSERT INTO t VALUES (1, 1)")

    def slow_update():
        with stack.connect(stack_config.source, source_db) as c, c.cursor() as cur:
            cur.execute("UPDATE t SET v = v + SLEEP(3)")

    th = threading.Thread(target=slow_update)
    th.start()
    time.sleep(0.3)
    conn = stack.connect(stack_config.source)
    try:
        t0 = time.monotonic()
        with pytest.raises(SnapshotError, match="within 1s: a long-running query"):
            MariaDBSnapshot("_tidb2mysql_sim.tso", "t", lock_wait_seconds=1).lock(conn)
        assert 0.9 < time.monotonic() - t0 < 2.5
    finally:
        conn.close()
        th.join()
