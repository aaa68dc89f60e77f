"""Full load crash and resume: SIGKILL the whole process group mid-way, resume with the recovery dir.

Checks that the target ends equal to the source, that every chunk the target recorded as
done before the kill is skipped (logged, not read again), and that the MariaDB stand-in
refuses to resume when the source's TSO row moved (its old snapshot cannot be re-opened).
"""

from __future__ import annotations

import re

import pytest

from tests.integration.test_full_load import (
    TABLES,
    assert_equal,
    copy_structure,
    drop_job,
    full_load_cmd,
    make_source_tables,
    same_db_fixture,
    write_config,
)
from tests.support import flowrun, stack

pytestmark = pytest.mark.integration

RESUME_TABLES = [t for t in TABLES if t[0] in ("t_int", "t_strings", "t_composite", "t_nokey", "t_dates")]


@pytest.fixture
def job(stack_config, source_db):
    same_db_fixture(stack_config, source_db)
    yield source_db
    drop_job(stack_config, source_db)
    stack.drop_database(stack_config.target, source_db)


def done_chunks(stack_config, job: str) -> set[int]:
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        cur.execute("SELECT chunk FROM tidb2mysql.full_load_chunks WHERE job = %s AND done = 1", (job,))
        return {r[0] for r in cur.fetchall()}


def all_chunks(stack_config, job: str) -> set[int]:
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        cur.execute("SELECT chunk FROM tidb2mysql.full_load_chunks WHERE job = %s", (job,))
        return {r[0] for r in cur.fetchall()}


def set_tso(stack_config, topic: str, ts: int) -> None:
    with stack.connect(stack_config.source) as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS _tidb2mysql_sim")
        cur.execute("CREATE TABLE IF NOT EXISTS _tidb2mysql_sim.tso "
                    "(topic VARCHAR(249) PRIMARY KEY, commit_ts BIGINT NOT NULL)")
        cur.execute("REPLACE INTO _tidb2mysql_sim.tso VALUES (%s, %s)", (topic, ts))


def clear_tso(stack_config, topic: str) -> None:
    with stack.connect(stack_config.source) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM _tidb2mysql_sim.tso WHERE topic = %s", (topic,))


def start_and_kill(stack_config, job, cmd, log, min_done: int = 3):
    """Start the load, SIGKILL its process group once ``min_done`` chunks are done."""
    p = flowrun.start(cmd, log)
    try:
        flowrun.wait_until(lambda: len(done_chunks(stack_config, job)) >= min_done or p.poll() is not None,
                           timeout=120, interval=0.05, what=f"{min_done} chunks done")
    finally:
        flowrun.kill(p)
    done = done_chunks(stack_config, job)
    assert len(done) < len(all_chunks(stack_config, job)), "the load finished before the kill; nothing to resume"
    return done


def test_kill_and_resume_skips_finished_chunks(stack_config, source_conn, source_db, job, tmp_path):
    make_source_tables(source_conn, source_db, scale=0.8, tables=RESUME_TABLES)
    with stack.connect(stack_config.target) as tgt:
        copy_structure(source_conn, source_db, tgt, source_db)
    topic_cfg = write_config(tmp_path, job, chunk_rows=20_000, page_rows=500)
    topic = "fl_" + job[-16:]
    set_tso(stack_config, topic, 4242)
    try:
        rdir = tmp_path / "recovery"
        cmd = full_load_cmd(topic_cfg, source_db, workers=2, recovery_dir=rdir)
        done_before = start_and_kill(stack_config, job, cmd, tmp_path / "run1.log")
        log2 = tmp_path / "run2.log"
        rc = flowrun.run(cmd, log2, timeout=180)
        text = log2.read_text()
        assert rc == 0, flowrun.tail(log2)
    finally:
        clear_tso(stack_config, topic)
    assert_equal(stack_config, source_db)
    skipped = {int(m) for m in re.findall(r"chunk (\d+) of \S+ already done", text)}
    reread = {int(m) for m in re.findall(r"chunk (\d+) of \S+ read:", text)}
    assert done_before <= skipped, (done_before, skipped)
    assert not (done_before & reread), f"finished chunks were copied again: {done_before & reread}"
    assert skipped | reread == all_chunks(stack_config, job)
    assert "resumes after" in text or "restarts from its first row" in text or not (reread - done_before)
    assert "snapshot TSO 4242" in text


def test_resume_refused_when_source_changed(stack_config, source_conn, source_db, job, tmp_path):
    make_source_tables(source_conn, source_db, scale=0.5, tables=RESUME_TABLES[:2])
    with stack.connect(stack_config.target) as tgt:
        copy_structure(source_conn, source_db, tgt, source_db)
    cfg = write_config(tmp_path, job, chunk_rows=10_000, page_rows=500)
    topic = "fl_" + job[-16:]
    set_tso(stack_config, topic, 1000)
    try:
        cmd = full_load_cmd(cfg, source_db, workers=1)
        start_and_kill(stack_config, job, cmd, tmp_path / "run1.log", min_done=1)
        set_tso(stack_config, topic, 1001)  # a transaction committed after the snapshot
        log2 = tmp_path / "run2.log"
        assert flowrun.run(cmd, log2, timeout=60) == 1
        text = log2.read_text()
        assert "cannot resume the full load" in text and "TSO 1000" in text and "1001" in text
        set_tso(stack_config, topic, 1000)  # back to the recorded snapshot: resumable again
        log3 = tmp_path / "run3.log"
        assert flowrun.run(cmd, log3, timeout=120) == 0, flowrun.tail(log3)
    finally:
        clear_tso(stack_config, topic)
    assert_equal(stack_config, source_db)
