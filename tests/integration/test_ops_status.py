"""``tidb2mysql status`` against the real target and Kafka: delay, Kafka catch-up, counts, stages."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from tidb2mysql.mysql import db
from tidb2mysql.events import Op, RowChange, TableChanges, make_tso
from tidb2mysql.fullload.jobstore import JobStore
from tidb2mysql.ops.status import kafka_end_offset, read_status
from tests.support.drainer_stream import schema, stream_env
from tests.support import flowrun

pytestmark = pytest.mark.integration


@pytest.fixture
def env(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "opst") as env_:
        yield env_


def status_cli(cfg, *extra):
    r = subprocess.run([sys.executable, "-m", "tidb2mysql.cli", "status", "--config", str(cfg), "--json",
                        "--sample-seconds", "0", *extra], cwd=flowrun.REPO, capture_output=True, text=True, timeout=60)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else r.stderr


def test_delay_of_old_commit_ts_then_not_delayed_after_catching_up_with_kafka(env):
    s, dbn, job, conn, tmp = env
    s.ts = make_tso(int((time.time() - 30) * 1000))  # the upstream committed these 30 s ago
    s1 = schema(dbn)
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "t", "create table t (id bigint primary key, v varchar(20))")
    for i in range(10):
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i, "v"), None)]))
    s.send(b"\x08\x00\x10\x01not-a-binlog")
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job)
    log = tmp / f"{job}.log"
    assert flowrun.run(flowrun.incremental_cmd(cfg), log, 120) == 0, flowrun.tail(log)
    applied_ts = s.ts
    for i in range(10, 15):  # written to Kafka, not applied yet: "under load"
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i, "v"), None)]))
    s.flush()

    rc, st = status_cli(cfg, "--not-delayed-seconds", "10")
    assert rc == 1, st
    assert st["stage"] == "incremental" and st["shards"] == 8
    assert st["applied_commit_ts"] == applied_ts
    assert 29 <= st["delay_seconds"] < 90
    assert st["kafka_end_offset"] == s.offset and st["applied_offset"] == s.offset - 6
    assert st["caught_up_with_kafka"] is False and st["not_delayed"] is False
    assert st["rows_applied"] == 10 and st["dead_letters"] == 1 and st["ddl"] == {"applied": 2}
    rc, st = status_cli(cfg, "--not-delayed-seconds", "300")  # under the threshold: not delayed
    assert rc == 0 and st["not_delayed"] is True and st["caught_up_with_kafka"] is False

    assert flowrun.run(flowrun.incremental_cmd(cfg), log, 120) == 0, flowrun.tail(log)
    rc, st = status_cli(cfg, "--not-delayed-seconds", "10")
    assert rc == 0, st
    assert st["caught_up_with_kafka"] is True and st["not_delayed"] is True
    assert st["delay_seconds"] >= 29  # no heartbeats: the delay keeps growing while upstream is idle
    assert any("upstream is idle" in n for n in st["notes"])
    assert st["rows_applied"] == 15
    # Without Kafka the same state reads as delayed: the catch-up cannot be seen.
    rc, st = status_cli(cfg, "--not-delayed-seconds", "10", "--no-kafka")
    assert rc == 1 and st["caught_up_with_kafka"] is None and st["not_delayed"] is False
    text = subprocess.run([sys.executable, "-m", "tidb2mysql.cli", "status", "--config", str(cfg), "--sample-seconds", "0"],
                          cwd=flowrun.REPO, capture_output=True, text=True, timeout=60).stdout
    assert "caught up with Kafka" in text and "NOT DELAYED" in text and f"commit_ts {s.ts}" in text


def test_rows_per_second_from_two_checkpoint_samples(env, stack_config):
    s, dbn, job, conn, tmp = env
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job)
    assert flowrun.run(flowrun.incremental_cmd(cfg), tmp / "log", 120) == 0

    def apply_rows():  # as a running flow would: rows_applied grows while status samples
        time.sleep(0.3)
        c = db.connect(stack_config.target)
        with c.cursor() as cur:
            cur.execute("UPDATE tidb2mysql.checkpoint SET rows_applied = rows_applied + 250 WHERE job=%s", (job,))
        c.close()

    t = threading.Thread(target=apply_rows)
    t.start()
    end, err = kafka_end_offset(stack_config.kafka.__class__(brokers=stack_config.kafka.brokers, topic=s.topic))
    st = read_status(conn, "tidb2mysql", job, kafka_end=end, kafka_error=err, sample_seconds=1.0)
    t.join()
    assert st.rows_per_second == pytest.approx(8 * 250 / 1.0)
    assert st.rows_applied == 2000


def test_full_load_stage_and_progress(env):
    s, dbn, job, conn, tmp = env
    store = JobStore("tidb2mysql", job)
    store.ensure(conn)
    with conn.cursor() as cur:
        cur.execute("INSERT INTO tidb2mysql.full_load_job (job, stage, snapshot_kind, snapshot_ts, lanes, plan, created_at)"
                    " VALUES (%s, 'loading', 'mariadb', 42, 2, '[]', NOW(6))", (job,))
        cur.executemany("INSERT INTO tidb2mysql.full_load_chunks (job, chunk, tbl, lane, schema_name, table_name, est_rows,"
                        " rows_done, done) VALUES (%s,%s,%s,0,'d',%s,100,%s,%s)",
                        [(job, 0, 0, "a", 100, 1), (job, 1, 0, "a", 100, 1), (job, 2, 1, "b", 30, 0)])
    st = read_status(conn, "tidb2mysql", job)
    assert st.stage == "full load"
    fl = st.full_load
    assert (fl.tables, fl.tables_done, fl.chunks, fl.chunks_done, fl.rows_done, fl.rows_estimated, fl.snapshot_ts) == \
        (2, 1, 3, 2, 230, 300, 42)
    store.set_stage(conn, "incremental")
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job)
    assert flowrun.run(flowrun.incremental_cmd(cfg), tmp / "log", 120) == 0
    assert read_status(conn, "tidb2mysql", job).stage == "incremental"
