"""Operations on the real running flow: metrics endpoint, graceful stop, --stop-at-ts,
cut-over fencing and auto-resume after kill -9 (real Kafka, real target, hand-made streams)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from tidb2mysql.events import Op, RowChange, TableChanges
from tidb2mysql.replication.route import MAX_SEQ
from tests.support.drainer_stream import q, schema, stream_env
from tests.support import flowrun

pytestmark = pytest.mark.integration


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(port: int) -> dict[str, float]:
    """``name{labels}`` -> value from the endpoint's text exposition."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = int(value) if re.fullmatch(r"-?\d+", value) else float(value)  # TSOs are exact
    return out


def metric_sum(m: dict, name: str, **labels) -> float:
    want = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for k, v in m.items() if re.match(rf"{name}(\{{|$)", k) and all(w in k for w in want))


def try_scrape(port):
    try:
        return scrape(port)
    except OSError:
        return {}


@pytest.fixture
def env(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "ops") as env_:
        yield env_


def create_table(s, dbn):
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "t", "create table t (id bigint primary key, v varchar(20))")


def checkpoints(conn, job):
    return q(conn, "SELECT commit_ts, seq FROM tidb2mysql.checkpoint WHERE job=%s ORDER BY shard", job)


def test_metrics_endpoint_of_a_running_flow(env):
    s, dbn, job, conn, tmp = env
    s1 = schema(dbn)
    create_table(s, dbn)
    for i in range(20):
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i * 10 + j, "v"), None) for j in range(10)]))
    s.send(b"\x08\x00\x10\x01not-a-binlog")  # one decode dead letter
    s.flush()
    port = free_port()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job, metrics={"kafka_lag_interval": 0.2})
    log = tmp / f"{job}.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg, 2, 1, stop_at_end=False, extra=("--metrics-port", str(port))), log)
    try:
        flowrun.wait_until(lambda: metric_sum(try_scrape(port), "tidb2mysql_shard_changes_total") == 200, 60,
                           what="200 changes in the metrics")
        first_ts = s.ts
        for k in range(5):
            s.txn(TableChanges(s1, [RowChange(Op.DELETE, None, (k, "v"))]))
        s.flush()
        flowrun.wait_until(lambda: metric_sum(try_scrape(port), "tidb2mysql_rows_applied_total", op="delete") == 5, 60,
                           what="5 deletes in the metrics")
        flowrun.wait_until(lambda: try_scrape(port).get("tidb2mysql_kafka_offset_lag") == 0, 30, what="lag 0")
        m = scrape(port)
        table = f"{dbn}.t"
        assert metric_sum(m, "tidb2mysql_rows_applied_total", table=table, op="upsert") == 200
        assert metric_sum(m, "tidb2mysql_rows_applied_total", table=table, op="delete") == 5
        assert m['tidb2mysql_dead_letters_total{kind="decode"}'] == 1
        assert m['tidb2mysql_ddl_total{status="applied"}'] == 2  # CREATE DATABASE + CREATE TABLE, once each
        assert m["tidb2mysql_applied_commit_ts"] == s.ts > first_ts
        assert 0 <= m["tidb2mysql_delay_seconds"] < 60
        # (failed twice without saying which side differed: print all three, and the lag)
        assert m["tidb2mysql_kafka_high_watermark"] == s.offset == m["tidb2mysql_kafka_position"], (
            m["tidb2mysql_kafka_high_watermark"], s.offset, m["tidb2mysql_kafka_position"],
            m.get("tidb2mysql_kafka_offset_lag"))
        assert m["tidb2mysql_flush_seconds_count"] == metric_sum(m, "tidb2mysql_flushes_total") > 0
        assert m['tidb2mysql_batch_rows_bucket{le="+Inf"}'] == m["tidb2mysql_batch_rows_count"]
        assert m["tidb2mysql_up"] == 1
        p.send_signal(signal.SIGTERM)  # the launcher forwards it; the flow drains and exits 0
        assert p.wait(timeout=60) == 0, flowrun.tail(log)
    finally:
        if p.poll() is None:
            flowrun.kill(p)
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(195,)]


def test_sigterm_flushes_pending_batches_and_records_checkpoints(env):
    s, dbn, job, conn, tmp = env
    s1 = schema(dbn)
    create_table(s, dbn)
    for i in range(20):
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i * 10 + j, f"v{i}"), None) for j in range(10)]))
    s.flush()
    port = free_port()
    # Nothing flushes on its own: only the graceful stop can apply these rows.
    never = 3_600_000
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job,
                               incremental={"batch_ms": never, "idle_ms": never, "batch_rows": 1_000_000,
                                            "checkpoint_interval_ms": never},
                               metrics={"port": port, "kafka_lag_interval": 0.2})
    log = tmp / f"{job}.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg, 1, 1, stop_at_end=False), log)
    try:
        flowrun.wait_until(lambda: try_scrape(port).get("tidb2mysql_kafka_position") == s.offset, 60,
                           what="the whole topic read")
        flowrun.wait_until(lambda: q(conn, f"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='{dbn}'")
                           == [(1,)], 30, what="DDL applied")
        assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(0,)]  # all 200 rows are pending in the shards
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0, flowrun.tail(log)
    finally:
        if p.poll() is None:
            flowrun.kill(p)
    assert q(conn, f"SELECT COUNT(*), COUNT(DISTINCT v) FROM `{dbn}`.t") == [(200, 20)]
    assert set(checkpoints(conn, job)) == {(s.ts, MAX_SEQ)}
    assert "SIGTERM: stopping gracefully" in log.read_text()


def test_stop_at_ts_applies_exactly_up_to_it(env):
    s, dbn, job, conn, tmp = env
    s1 = schema(dbn)
    create_table(s, dbn)
    stamps = []
    for i in range(10):
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i, "v"), None)]))
        stamps.append(s.ts)
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job)
    log = tmp / f"{job}.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 2, 1, stop_at_end=False, extra=("--stop-at-ts", str(stamps[4]))), log, 120)
    assert rc == 0, flowrun.tail(log)
    assert q(conn, f"SELECT id FROM `{dbn}`.t ORDER BY id") == [(i,) for i in range(5)]
    assert set(checkpoints(conn, job)) == {(stamps[4], MAX_SEQ)}
    # The next run continues from there.
    rc = flowrun.run(flowrun.incremental_cmd(cfg), log, 120)
    assert rc == 0, flowrun.tail(log)
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(10,)]


def test_cutover_stops_the_flow_and_fences_a_restart(env):
    s, dbn, job, conn, tmp = env
    s1 = schema(dbn)
    create_table(s, dbn)
    for i in range(30):
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i, "before"), None)]))
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job)
    log = tmp / f"{job}.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg, 1, 1, stop_at_end=False), log)
    try:
        cut = subprocess.run([sys.executable, "-m", "tidb2mysql.cli", "cutover", "--config", str(cfg), "--max-wait", "90"],
                             cwd=flowrun.REPO, capture_output=True, text=True, timeout=120)
        assert cut.returncode == 0, cut.stderr + flowrun.tail(log)
        assert p.wait(timeout=60) == 0, flowrun.tail(log)  # the flow saw the request and drained
    finally:
        if p.poll() is None:
            flowrun.kill(p)
    assert "caught up with Kafka" in cut.stderr and "finished" in cut.stderr
    assert q(conn, "SELECT state FROM tidb2mysql.job_control WHERE job=%s", job) == [("finished",)]
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(30,)]
    # The application now writes to the target; a late binlog must not overwrite it.
    with conn.cursor() as cur:
        cur.execute(f"UPDATE `{dbn}`.t SET v='app' WHERE id=0")
    s.txn(TableChanges(s1, [RowChange(Op.UPDATE, (0, "late"), (0, "before"))]))
    s.flush()
    rc = flowrun.run(flowrun.incremental_cmd(cfg), log, 120)
    assert rc != 0
    assert "finished by a cut-over" in flowrun.tail(log) and "--force" in flowrun.tail(log)
    assert q(conn, f"SELECT v FROM `{dbn}`.t WHERE id=0") == [("app",)]
    rc = flowrun.run(flowrun.incremental_cmd(cfg, extra=("--force",)), log, 120)
    assert rc == 0, flowrun.tail(log)
    assert q(conn, f"SELECT v FROM `{dbn}`.t WHERE id=0") == [("late",)]


def test_kill_9_and_restart_with_the_same_recovery_dir_is_exact(env):
    s, dbn, job, conn, tmp = env
    s1 = schema(dbn)
    create_table(s, dbn)
    expect: dict[int, str] = {}
    for i in range(400):
        rows = [RowChange(Op.INSERT, (i, f"v{i}"), None)]
        expect[i] = f"v{i}"
        if i % 3 == 0 and i // 2 in expect:
            rows.append(RowChange(Op.UPDATE, (i // 2, f"u{i}"), (i // 2, expect[i // 2])))
            expect[i // 2] = f"u{i}"
        if i % 7 == 0 and i > 10:
            rows.append(RowChange(Op.DELETE, None, (i - 10, expect.pop(i - 10))))
        s.txn(TableChanges(s1, rows))
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job,
                               incremental={"batch_rows": 5, "source_batch": 5})
    rdir = tmp / "recovery"
    log = tmp / f"{job}.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg, 1, 1, recovery_dir=rdir, stop_at_end=False), log)
    try:
        flowrun.wait_until(lambda: q(conn, f"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='{dbn}'")
                           == [(1,)] and q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t")[0][0] >= 60, 60, what="some rows")
    finally:
        flowrun.kill(p)  # SIGKILL the whole group: no drain, no final snapshot
    partial = q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t")[0][0]
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 1, 1, recovery_dir=rdir), log, 180)
    assert rc == 0, flowrun.tail(log)
    got = dict(q(conn, f"SELECT id, v FROM `{dbn}`.t"))
    assert got == expect, f"partial before restart: {partial}"


def test_a_running_flow_stops_when_its_job_is_marked_finished(env):
    from tidb2mysql.ops.fencing import JobControl

    s, dbn, job, conn, tmp = env
    s1 = schema(dbn)
    create_table(s, dbn)
    s.txn(TableChanges(s1, [RowChange(Op.INSERT, (1, "v"), None)]))
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job)
    log = tmp / f"{job}.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg, 1, 1, stop_at_end=False), log)
    try:
        flowrun.wait_until(lambda: q(conn, f"SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='{dbn}'")
                           == [(1,)] and q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(1,)], 60, what="row applied")
        JobControl("tidb2mysql", job).mark_finished(conn, "cutover --flow-stopped while the flow ran")
        assert p.wait(timeout=30) == 0, flowrun.tail(log)
    finally:
        if p.poll() is None:
            flowrun.kill(p)
    assert "finished by a cut-over while this flow ran" in log.read_text()
