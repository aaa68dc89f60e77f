"""``tidb2mysql verify`` against the real servers: equal tables, injected differences, repair.

Both databases get the same rows through the same INSERT statements; then the target is
corrupted by hand (changed value, trailing space, case, FLOAT last bit, NULL vs '', missing
row, extra row, key-less duplicate) and verify must name every difference with its key, write
repair SQL that makes ``compare_databases`` say equal, and ``--fix`` must do the same online.
No replication runs here (no checkpoint rows): the target is compared as it is. The
replicating case is in test_verify_online.py.
"""

from __future__ import annotations

import dataclasses
import random
import struct
import subprocess
import sys
import time

import pytest

from tests.support import stack
from tests.support.flowrun import REPO
from tidb2mysql.compare import compare_databases
from tidb2mysql.verify.runner import VerifyOptions, verify
from tidb2mysql.config.verify import VerifyConfig
from tidb2mysql.config.selection import SelectionConfig

pytestmark = [pytest.mark.integration]

DDL = [
    """CREATE TABLE t_main (
  id INT NOT NULL PRIMARY KEY,
  s VARCHAR(40) COLLATE utf8mb4_general_ci,
  f FLOAT,
  d DOUBLE,
  dec2 DECIMAL(12,2),
  ts TIMESTAMP(3) NULL,
  dt DATETIME,
  j JSON,
  b VARBINARY(16),
  bits BIT(8),
  n VARCHAR(10)
) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
    "CREATE TABLE t_ckey (a VARCHAR(20) NOT NULL, b INT NOT NULL, v TEXT, PRIMARY KEY (a, b)) "
    "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
    "CREATE TABLE t_nokey (x INT, y VARCHAR(10)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
]


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def next_f32(x: float) -> float:
    """The float32 right after ``x`` (its last bit flipped up)."""
    (i,) = struct.unpack("I", struct.pack("f", x))
    return struct.unpack("f", struct.pack("I", i + 1))[0]


def fill(conn, rows: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    with conn.cursor() as cur:
        for stmt in DDL:
            cur.execute(stmt)
        batch = []
        for i in range(1, rows + 1):
            batch.append((i, f"name {i}" if i % 11 else "", f32(rnd.random() * 1000), rnd.random() * 1e6,
                          f"{rnd.randint(0, 10**8)}.{rnd.randint(0, 99):02d}", f"2024-03-0{1 + i % 9} 10:00:00.{i % 1000:03d}",
                          "2020-01-01 00:00:00", '{"k": %d, "a": [1, 2]}' % i, bytes([i % 256, 0, 255]),
                          i % 256, None if i % 3 else ""))
            if len(batch) == 1000:
                cur.executemany("INSERT INTO t_main VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", batch)
                batch = []
        if batch:
            cur.executemany("INSERT INTO t_main VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", batch)
        cur.executemany("INSERT INTO t_ckey VALUES (%s,%s,%s)",
                        [(f"k{i % 50}", i, f"v{i}") for i in range(1, rows // 2 + 1)])
        cur.executemany("INSERT INTO t_nokey VALUES (%s,%s)", [(i % 20, f"y{i % 7}") for i in range(300)])


def config(stack_config, job: str, **verify_settings):
    s = {"chunk_rows": 1000, "leaf_rows": 100, "recheck_interval": 0.1, **verify_settings}
    return dataclasses.replace(stack_config, job=dataclasses.replace(stack_config.job, name=job),
                               verify=VerifyConfig(**s))


def cleanup_job(stack_config, job: str) -> None:
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        for t in ("verify_run", "verify_chunk"):
            try:
                cur.execute(f"DELETE FROM tidb2mysql.{t} WHERE job = %s", (job,))
            except Exception:
                pass


@pytest.fixture
def pair(stack_config, source_db, target_db, source_conn, target_conn):
    """Source and target databases holding the same 5,000 + 2,500 + 300 rows."""
    # Same database name on both sides: the verify plan maps names only through [selection].
    with target_conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{source_db}`")
        cur.execute(f"CREATE DATABASE `{source_db}`")
        cur.execute(f"USE `{source_db}`")
    fill(source_conn, 5000)
    fill(target_conn, 5000)
    job = f"v_{source_db[-12:]}"
    yield source_db, job
    cleanup_job(stack_config, job)
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{source_db}`")


def test_equal_tables_verify_clean(stack_config, pair):
    from tidb2mysql.ops.metrics import METRICS

    db, job = pair
    before = METRICS.get("verify_rows_total") or 0
    rep = verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"]))
    assert rep.clean, rep.text()
    assert METRICS.get("verify_rows_total") - before == rep.rows
    assert METRICS.get("verify_chunks_planned") == rep.chunks
    assert "tidb2mysql_verify_differences{kind=\"missing\"} 0" in METRICS.render()
    assert rep.rows == 5000 + 2500 + 300
    assert rep.chunks >= 8  # 5 + 3 + 1 chunks of <= 1000 rows
    assert {t["table"]: t["rows_target"] for t in rep.tables} == {
        f"{db}.t_main": 5000, f"{db}.t_ckey": 2500, f"{db}.t_nokey": 300}
    assert rep.ranges == rep.chunks  # nothing had to be narrowed down


def corrupt(stack_config, db: str) -> dict:
    """Every kind of difference the issue names; returns what verify must report, by kind."""
    with stack.connect(stack_config.target, db) as t, t.cursor() as cur:
        cur.execute("SELECT f FROM t_main WHERE id = 10")
        cur.execute("UPDATE t_main SET s = CONCAT(s, ' ') WHERE id = 1")  # trailing space (PAD SPACE collation)
        cur.execute("UPDATE t_main SET s = UPPER(s) WHERE id = 2")  # case only (case-insensitive collation)
        cur.execute("SELECT f + 0E0 FROM t_main WHERE id = 3")
        f = cur.fetchone()[0]
        cur.execute("UPDATE t_main SET f = %s WHERE id = 3", (repr(next_f32(f)),))  # FLOAT last bit
        cur.execute("UPDATE t_main SET n = '' WHERE id = 4")  # NULL -> ''  (4 % 3 != 0: NULL in source)
        cur.execute("UPDATE t_main SET n = NULL WHERE id = 6")  # '' -> NULL
        cur.execute("UPDATE t_main SET dec2 = dec2 + 0.01 WHERE id = 2500")  # changed value
        cur.execute("UPDATE t_main SET j = '{\"k\": 77, \"a\": [1, 2, 3]}' WHERE id = 77")  # JSON value
        cur.execute("DELETE FROM t_main WHERE id = 4321")  # missing row
        cur.execute("INSERT INTO t_main (id, s) VALUES (9999, 'extra')")  # extra row
        cur.execute("UPDATE t_ckey SET v = 'changed' WHERE a = 'k7' AND b = 7")
        cur.execute("DELETE FROM t_ckey WHERE a = 'k3' AND b = 1003")
        cur.execute("INSERT INTO t_nokey VALUES (1, 'y1')")  # key-less duplicate (one copy too many)
        cur.execute("DELETE FROM t_nokey WHERE x = 5 AND y = 'y5' LIMIT 1")  # one copy too few
    return {
        "different": {(f"{db}.t_main", "id", k) for k in (1, 2, 3, 4, 6, 2500, 77)} | {(f"{db}.t_ckey", "a", "k7")},
        "missing": {(f"{db}.t_main", "id", 4321), (f"{db}.t_ckey", "a", "k3"), (f"{db}.t_nokey", "x", 5)},
        "extra": {(f"{db}.t_main", "id", 9999), (f"{db}.t_nokey", "x", 1)},
    }


def found(rep) -> dict:
    out: dict = {}
    for d in rep.differences:
        col = next(iter(d.key))
        out.setdefault(d.kind, set()).add((d.table, col, d.key[col]))
    return out


def test_injected_differences_are_found_and_the_repair_file_makes_the_target_equal(stack_config, pair, tmp_path):
    db, job = pair
    expected = corrupt(stack_config, db)
    sql_file = tmp_path / "repair.sql"
    rep = verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"], repair_sql=str(sql_file)))
    assert not rep.clean
    assert found(rep) == expected, rep.text()
    assert rep.difference_count == sum(len(v) for v in expected.values())
    by_key = {(d.table, d.key.get("id")): d for d in rep.differences}
    assert [c for c, _, _ in by_key[(f"{db}.t_main", 3)].columns] == ["f"]
    assert [c for c, _, _ in by_key[(f"{db}.t_main", 1)].columns] == ["s"]
    assert [c for c, _, _ in by_key[(f"{db}.t_main", 4)].columns] == ["n"]
    nokey = [d for d in rep.differences if d.table.endswith("t_nokey")]
    # (x, y) = (i % 20, i % 7) for i < 300: each pair is there for i = r, r + 140, r + 280, three times
    assert {(d.count_source, d.count_target) for d in nokey} == {(3, 4), (3, 2)}
    assert "DIFFERENT" in rep.text() and "t_main (id=4321): missing in target" in rep.text()

    # The repair file, run by the mariadb client, makes the target equal.
    cfg = stack_config.target
    mysql = subprocess.run(["mariadb", "-h", cfg.host, "-P", str(cfg.port), "-u", cfg.user, f"-p{cfg.password}",
                            db], stdin=open(sql_file), capture_output=True, text=True)
    assert mysql.returncode == 0, mysql.stderr
    with stack.connect(stack_config.source) as a, stack.connect(stack_config.target) as b:
        res = compare_databases(a, db, b, db, schema=False)
    assert res.equal, str(res)
    rep2 = verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"], restart=True))
    assert rep2.clean, rep2.text()


def test_fix_repairs_online_and_a_second_verify_is_clean(stack_config, pair):
    db, job = pair
    expected = corrupt(stack_config, db)
    rep = verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"], fix=True, repair_sql=None))
    assert found(rep) == expected, rep.text()
    assert rep.repaired == rep.difference_count
    with stack.connect(stack_config.source) as a, stack.connect(stack_config.target) as b:
        res = compare_databases(a, db, b, db, schema=False)
    assert res.equal, str(res)
    rep2 = verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"]))
    assert rep2.clean, rep2.text()
    assert rep2.run_id == rep.run_id + 1


def test_command_line_json_and_exit_codes(stack_config, pair, tmp_path):
    db, job = pair
    conf = tmp_path / "t2m.toml"
    from tests.support.flowrun import write_config

    write_config(conf, topic=stack_config.kafka.topic, job=job, verify={"chunk_rows": 2000})
    cmd = [sys.executable, "-m", "tidb2mysql.cli", "verify", "--config", str(conf), "--tables", f"{db}.t_main", "--json"]
    ok = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert '"clean": true' in ok.stdout
    with stack.connect(stack_config.target, db) as t, t.cursor() as cur:
        cur.execute("UPDATE t_main SET d = d * 1.0000000000001 WHERE id = 42")
    bad = subprocess.run(cmd + ["--repair-sql", str(tmp_path / "r.sql")], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 1, bad.stderr
    assert '"kind": "different"' in bad.stdout and '"id": "42"' in bad.stdout
    assert (tmp_path / "r.sql").read_text().count("REPLACE INTO") == 1


def test_rate_limit_is_honoured(stack_config, pair):
    db, job = pair
    t0 = time.monotonic()
    rep = verify(config(stack_config, job, chunk_rows=500), VerifyOptions(tables=[f"{db}.t_main", f"{db}.t_ckey"], rate=2500))
    took = time.monotonic() - t0
    assert rep.clean, rep.text()
    # 7,500 rows at 2,500 rows/s: each lane pays for a chunk before its next query, so the last
    # 500-row chunk is never waited for (RateLimiter: at most one range over the rate); the other
    # 7,000 rows must take >= 2.8 s. The rate is judged on those 7,000: judged on all 7,500 the
    # bound was below the limiter's own exact schedule (7,500 / 2.8 s = 2,679 rows/s > 2,625).
    print(f"\n7,500 rows at --rate 2500: {took:.2f}s = {rep.rows / took:,.0f} rows/s")
    assert 2.8 <= took
    assert (rep.rows - 500) / took <= 2500 * 1.05
    t0 = time.monotonic()
    fast = verify(config(stack_config, job, chunk_rows=500), VerifyOptions(tables=[f"{db}.t_main", f"{db}.t_ckey"],
                                                                     restart=True))
    assert time.monotonic() - t0 < took  # the limit, not the servers, made the first run slow
    assert fast.clean


def test_a_killed_verify_resumes_with_the_chunks_it_had_not_finished(stack_config, pair, tmp_path):
    db, job = pair
    from tests.support.flowrun import kill, start, tail, wait_until, write_config

    conf = write_config(tmp_path / "t2m.toml", topic=stack_config.kafka.topic, job=job,
                        verify={"chunk_rows": 500, "lanes": 1})
    cmd = [sys.executable, "-m", "tidb2mysql.cli", "verify", "--config", str(conf), "--tables", f"{db}.*",
           "--rate", "1500"]
    log = tmp_path / "verify.log"
    p = start(cmd, log)

    def done_chunks() -> int:
        with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
            try:
                cur.execute("SELECT COUNT(*) FROM tidb2mysql.verify_chunk WHERE job = %s", (job,))
            except Exception:
                return 0
            return cur.fetchone()[0]

    try:
        wait_until(lambda: done_chunks() >= 4 or p.poll() is not None, 60, what="4 finished chunks")
        assert p.poll() is None, tail(log)
    finally:
        kill(p)  # SIGKILL: no chance to record anything
    before = done_chunks()
    assert 4 <= before < 17, before  # 10 + 5 + 1 chunks (+1: the composite key splits by sampling)
    # A difference in a chunk that was finished before the kill must still be found... only if it was
    # there when that chunk was read; one made now is in a chunk checked after the resume.
    with stack.connect(stack_config.target, db) as t, t.cursor() as cur:
        cur.execute("UPDATE t_main SET s = 'changed' WHERE id = 4990")  # the last chunk: read after the resume
    rep = verify(config(stack_config, job, chunk_rows=500), VerifyOptions(repair_sql=str(tmp_path / "r.sql")))
    assert rep.chunks_resumed == before and rep.run_id == 1
    assert rep.rows == 5000 + 2500 + 300  # every chunk counted once, none twice
    assert [(d.table, d.key) for d in rep.differences] == [(f"{db}.t_main", {"id": 4990})], rep.text()


def test_cutover_require_verify(stack_config, pair, tmp_path):
    db, job = pair
    from tests.support.flowrun import write_config

    conf = write_config(tmp_path / "t2m.toml", topic=stack_config.kafka.topic, job=job, verify={"chunk_rows": 2000})
    cutover = [sys.executable, "-m", "tidb2mysql.cli", "cutover", "--config", str(conf), "--require-verify",
               "--flow-stopped", "--max-wait", "0.5"]

    def refusal() -> str:
        p = subprocess.run(cutover, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert p.returncode == 1, p.stderr  # refused, or (with a clean verify) not caught up: no flow runs
        return p.stderr if "--require-verify" in p.stderr else ""

    try:
        assert "has never been verified" in refusal()
        with stack.connect(stack_config.target, db) as t, t.cursor() as cur:
            cur.execute("DELETE FROM t_ckey WHERE a = 'k1' AND b = 1")
        rep = verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"], repair_sql=str(tmp_path / "r.sql")))
        assert rep.difference_count == 1
        assert "found 1 difference(s) and repaired 0" in refusal()
        rep = verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"], fix=True))
        assert rep.repaired == 1
        assert refusal() == ""  # a fully repaired verify lets the cut-over go on (to its caught-up check)
        assert verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"])).clean
        assert refusal() == ""
    finally:
        with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM tidb2mysql.job_control WHERE job = %s", (job,))


def test_a_missing_target_table_or_column_is_named(stack_config, pair):
    from tidb2mysql.verify.snapshot import VerifyError

    db, job = pair
    with stack.connect(stack_config.target, db) as t, t.cursor() as cur:
        cur.execute("DROP TABLE t_nokey")
        cur.execute("ALTER TABLE t_ckey DROP COLUMN v")
    with pytest.raises(VerifyError) as e:
        verify(config(stack_config, job), VerifyOptions(tables=[f"{db}.*"]))
    assert f"table {db}.t_nokey (of source {db}.t_nokey) does not exist in the target" in str(e.value)
    assert f"table {db}.t_ckey: column(s) v missing in the target" in str(e.value)


def test_selection_and_name_mapping(stack_config, source_db, target_db, source_conn, target_conn):

    fill(source_conn, 2000)
    fill(target_conn, 2000)
    with target_conn.cursor() as cur:
        cur.execute("RENAME TABLE t_ckey TO t_pairs")
        cur.execute("ALTER TABLE t_pairs CHANGE v value TEXT")
        cur.execute("DELETE FROM t_nokey LIMIT 5")  # excluded below: not looked at
    job = f"vmap_{source_db[-12:]}"
    cfg = config(stack_config, job)
    sel = SelectionConfig(databases={source_db: target_db}, exclude=[f"{source_db}.t_nokey"],
                          tables=[{"name": f"{source_db}.t_ckey", "to": "t_pairs", "rename_columns": {"v": "value"}}])
    cfg = dataclasses.replace(cfg, selection=sel)
    try:
        rep = verify(cfg, VerifyOptions(tables=[f"{source_db}.*"]))
        assert rep.clean, rep.text()
        assert {t["table"]: t["target"] for t in rep.tables} == {
            f"{source_db}.t_main": f"{target_db}.t_main", f"{source_db}.t_ckey": f"{target_db}.t_pairs"}
        with target_conn.cursor() as cur:
            cur.execute("UPDATE t_pairs SET value = 'x' WHERE a = 'k2' AND b = 2")
        rep = verify(cfg, VerifyOptions(tables=[f"{source_db}.*"], fix=True, restart=True))
        assert [(d.table, d.key, [c for c, _, _ in d.columns]) for d in rep.differences] == [
            (f"{source_db}.t_ckey", {"a": "k2", "b": 2}, ["v"])]
        assert rep.repaired == 1
        with target_conn.cursor() as cur:
            cur.execute("SELECT value FROM t_pairs WHERE a = 'k2' AND b = 2")
            assert cur.fetchone() == ("v2",)
        assert verify(cfg, VerifyOptions(tables=[f"{source_db}.*"], restart=True)).clean
    finally:
        cleanup_job(stack_config, job)


def test_key_that_differs_only_in_case_on_a_case_insensitive_target(stack_config, source_db, target_db,
                                                                     source_conn, target_conn):
    """The target's key collation is case-insensitive (the source's is binary, like TiDB's):
    range predicates compare differently on the two servers, and 'ab' = 'Ab' there. Rows are
    still matched by their exact bytes, and the repair deletes before it writes."""
    rows = [(f"{c}{i:03d}", i % 3, f"v{i}") for i, c in enumerate("aBcDeFgH" * 40)]
    for conn, coll in ((source_conn, "utf8mb4_bin"), (target_conn, "utf8mb4_general_ci")):
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE t (k VARCHAR(10) COLLATE {coll} NOT NULL, n INT NOT NULL, v TEXT, "
                        f"PRIMARY KEY (k, n)) DEFAULT CHARSET=utf8mb4")
            cur.executemany("INSERT INTO t VALUES (%s,%s,%s)", rows)
    with target_conn.cursor() as cur:
        cur.execute("UPDATE t SET k = 'b001' WHERE k = 'B001'")  # same key to the target, not to the source
    job = f"vci_{source_db[-12:]}"
    cfg = config(stack_config, job, chunk_rows=50, leaf_rows=10)
    cfg = dataclasses.replace(cfg, selection=SelectionConfig(databases={source_db: target_db}))
    try:
        rep = verify(cfg, VerifyOptions(tables=[f"{source_db}.t"], fix=True))
        print(rep.text().splitlines()[0], rep.lag_rechecked, rep.rounds)
        assert rep.chunks > 3
        assert sorted((d.kind, d.key["k"]) for d in rep.differences) == [("extra", "b001"), ("missing", "B001")], \
            rep.text()
        assert rep.repaired == 2
        res = compare_databases(source_conn, source_db, target_conn, target_db, schema=False)
        assert res.equal, str(res)
        assert verify(cfg, VerifyOptions(tables=[f"{source_db}.t"], restart=True)).clean
    finally:
        cleanup_job(stack_config, job)


def test_metrics_endpoint_while_verify_runs(stack_config, pair, tmp_path):
    from tests.integration.test_ops_flow import free_port, try_scrape
    from tests.support.flowrun import start, tail, wait_until

    db, job = pair
    conf = tmp_path / "t2m.toml"
    from tests.support.flowrun import write_config

    write_config(conf, topic=stack_config.kafka.topic, job=job, verify={"chunk_rows": 500, "lanes": 1})
    port = free_port()
    log = tmp_path / "verify.log"
    p = start([sys.executable, "-m", "tidb2mysql.cli", "verify", "--config", str(conf), "--tables", f"{db}.*",
               "--rate", "2000", "--metrics-port", str(port)], log)
    try:
        wait_until(lambda: try_scrape(port).get("tidb2mysql_verify_rows_total", 0) >= 1000 or p.poll() is not None,
                   60, what="verify rows in the metrics")
        m = try_scrape(port)
        assert p.poll() is None, tail(log)  # scraped while it ran
        assert m["tidb2mysql_verify_chunks_planned"] == 16  # t_main 10, t_ckey 5 (sampled composite key), t_nokey 1
        assert m['tidb2mysql_verify_chunks_total{result="equal"}'] * 500 >= m["tidb2mysql_verify_rows_total"] - 500
        assert p.wait(timeout=60) == 0, tail(log)
    finally:
        if p.poll() is None:
            p.kill()
