"""The incremental flow on small hand-made Drainer streams (no simulator): each guarantee alone.

Messages are encoded with tidb2mysql.drainer.encode exactly as Drainer writes them, produced
to a fresh topic on the real broker, and applied by the real flow (`tidb2mysql incremental
--stop-at-end`) to the real target.
"""

from __future__ import annotations


import pytest

from tidb2mysql.events import Op, RowChange, TableChanges
from tests.support import flowrun
from tests.support.drainer_stream import Stream, q, schema, stream_env

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "basic") as env_:
        yield env_


def run_flow(s, job, tmp_path, workers=1, processes=1, **incremental):
    cfg = flowrun.write_config(tmp_path / f"{job}.toml", topic=s.topic, job=job, incremental=incremental)
    log = tmp_path / f"{job}.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, workers, processes), log, timeout=180)
    return rc, log


@pytest.mark.parametrize("workers,processes", [(1, 1), (2, 2)], ids=["w1", "p2w2"])
def test_ddl_dml_redelivery_and_dead_letter(setup, workers, processes):
    s, dbn, job, conn, tmp = setup
    s1, s2 = schema(dbn), schema(dbn, ("id", "v", "w"), ("bigint", "varchar", "int"))
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "t", "create table t (id bigint primary key /*T![clustered_index] CLUSTERED */, v varchar(20)) /*T! SHARD_ROW_ID_BITS=4 */")
    for i in range(30):
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i * 10 + j, f"v{i}-{j}"), None) for j in range(10)]))
    old_ts = s.ts - 5
    s.ddl(dbn, "t", "alter table t add column w int")
    s.txn(TableChanges(s2, [RowChange(Op.UPDATE, (k, "new", k), (k, "x", None)) for k in range(0, 300, 7)]
                       + [RowChange(Op.DELETE, None, (3, "x", None))]))
    s.txn(TableChanges(s1, [RowChange(Op.INSERT, (99999, "redelivered"), None)]), ts=old_ts)  # Drainer restart
    bad = s.send(b"\x08\x00\x10\x01garbage-that-is-not-a-binlog")
    s.txn(TableChanges(s2, [RowChange(Op.UPDATE, (7, "seven", 70), (7, "new", 7))]))
    s.flush()
    rc, log = run_flow(s, job, tmp, workers, processes)
    assert rc == 0, flowrun.tail(log)
    assert q(conn, f"SELECT COUNT(*), SUM(v='new'), SUM(w IS NOT NULL) FROM `{dbn}`.t") == [(299, 42, 43)]
    assert q(conn, f"SELECT id, v, w FROM `{dbn}`.t WHERE id IN (3, 7, 99999)") == [(7, "seven", 70)]
    dl = q(conn, "SELECT kind, kafka_offset, error FROM tidb2mysql.dead_letter WHERE job=%s", job)
    assert len(dl) == 1 and dl[0][:2] == ("decode", bad) and f"offset {bad}" in dl[0][2]
    hist = q(conn, "SELECT status FROM tidb2mysql.ddl_history WHERE job=%s ORDER BY commit_ts", job)
    assert hist == [("applied",)] * 3
    # Run again over the same topic: everything is already applied; nothing changes.
    before = q(conn, "SELECT shard, commit_ts, seq, rows_applied FROM tidb2mysql.checkpoint WHERE job=%s ORDER BY shard", job)
    rc, log = run_flow(s, job, tmp, workers, processes)
    assert rc == 0, flowrun.tail(log)
    assert q(conn, "SELECT shard, commit_ts, seq, rows_applied FROM tidb2mysql.checkpoint WHERE job=%s ORDER BY shard", job) == before
    assert len(q(conn, "SELECT 1 FROM tidb2mysql.dead_letter WHERE job=%s", job)) == 1


@pytest.mark.parametrize("processes", [1, 2])
def test_strict_mode_stops_on_an_undecodable_message(setup, processes):
    """With -p 2 too: Bytewax reports an exception of a cluster process only as "Send thread
    panic", so the flow logs why it stops itself (replication/runtime.py ``reporting``)."""
    s, dbn, job, conn, tmp = setup
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    bad = s.send(b"not a binlog at all")
    s.flush()
    rc, log = run_flow(s, job, tmp, processes=processes, strict=True)
    assert rc != 0
    text = log.read_text()
    assert f"offset {bad}" in text and "cannot decode Drainer message" in text, text[-3000:]
    assert "the reader stopped the flow: DrainerDecodeError (input data): " in text, text[-3000:]
    assert q(conn, "SELECT COUNT(*) FROM tidb2mysql.dead_letter WHERE job=%s", job) == [(0,)]


def test_strict_mode_names_the_shard_and_the_refused_row_with_two_processes(setup):
    """An apply failure in a process of a -p 2 cluster is named before Bytewax's "Send thread
    panic" (which is all Bytewax itself says)."""
    s, dbn, job, conn, tmp = setup
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.txn(TableChanges(schema(dbn), [RowChange(Op.INSERT, (i << 10, "x"), None) for i in range(8)]))  # no table t
    s.flush()
    rc, log = run_flow(s, job, tmp, processes=2, strict=True)
    assert rc != 0
    text = log.read_text()
    assert (": applying stopped the flow: WriteError (target permanent): " in text
            and f"target table `{dbn}`.`t` does not exist in the target database" in text), text[-3000:]
    assert q(conn, "SELECT COUNT(*) FROM tidb2mysql.dead_letter WHERE job=%s", job) == [(0,)]


def test_drop_table_a_b_delivered_twice(setup):
    s, dbn, job, conn, tmp = setup
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "a", "create table a (id int primary key)")
    s.ddl(dbn, "b", "create table b (id int primary key)")
    s.ddl(dbn, "a", "drop table a, b")  # TiDB: one job per table, each with the full text
    s.ddl(dbn, "b", "drop table a, b")
    s.ddl(dbn, "a", "create table a (id int primary key, x int)")
    s.flush()
    rc, log = run_flow(s, job, tmp)
    assert rc == 0, flowrun.tail(log)
    assert q(conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s", dbn) == [("a",)]
    assert len(q(conn, "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND TABLE_NAME='a'", dbn)) == 2
    statuses = q(conn, "SELECT status FROM tidb2mysql.ddl_history WHERE job=%s ORDER BY commit_ts", job)
    assert statuses == [("applied",)] * 6


def test_start_commit_ts_skips_what_the_full_load_copied(setup):
    s, dbn, job, conn, tmp = setup
    s1 = schema(dbn)
    with conn.cursor() as cur:  # as if schema migration + full load had run
        cur.execute(f"CREATE DATABASE `{dbn}`")
        cur.execute(f"CREATE TABLE `{dbn}`.t (id BIGINT PRIMARY KEY, v VARCHAR(20))")
        cur.execute(f"INSERT INTO `{dbn}`.t VALUES (1, 'snapshot')")
    s.txn(TableChanges(s1, [RowChange(Op.INSERT, (1, "before-snapshot"), None)]))
    snapshot_ts = s.ts
    s.txn(TableChanges(s1, [RowChange(Op.INSERT, (2, "after"), None)]))
    s.flush()
    rc, log = run_flow(s, job, tmp, start_commit_ts=snapshot_ts)
    assert rc == 0, flowrun.tail(log)
    assert q(conn, f"SELECT id, v FROM `{dbn}`.t ORDER BY id") == [(1, "snapshot"), (2, "after")]
    assert f"configured start_commit_ts {snapshot_ts}" in log.read_text()


def test_kafka_restart_mid_run_and_stop_at_ts(setup):
    """The broker restarts under a running flow; it reconnects, and --stop-at-ts ends it exactly."""
    import subprocess

    s, dbn, job, conn, tmp = setup
    s1 = schema(dbn)
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "t", "create table t (id bigint primary key, v varchar(20))")
    for i in range(50):
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i, "first"), None)]))
    s.flush()
    stop_ts = s.ts + 50  # the 50th transaction of the second half
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job)
    log = tmp / f"{job}.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg, 2, 1, stop_at_end=False, extra=("--stop-at-ts", str(stop_ts))), log)
    try:
        flowrun.wait_until(lambda: q(conn, f"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='{dbn}'") == [(1,)]
                           and q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(50,)], 60, what="first half applied")
        subprocess.run(["bash", str(flowrun.REPO / "scripts" / "stack.sh"), "restart-kafka"], check=True,
                       capture_output=True, timeout=180)
        s2 = Stream(s.cfg, s.topic)
        s2.ts = s.ts
        for i in range(60):  # 10 beyond stop_ts must not be applied
            s2.txn(TableChanges(s1, [RowChange(Op.UPDATE, (i % 50, f"second{i}"), (i % 50, "first"))]))
        s2.flush()
        assert p.wait(timeout=120) == 0, flowrun.tail(log)
    finally:
        if p.poll() is None:
            flowrun.kill(p)
    got = dict(q(conn, f"SELECT id, v FROM `{dbn}`.t"))
    assert got == {i: f"second{i}" for i in range(50)}  # updates 0..49 applied, 50..59 (> stop_ts) not
