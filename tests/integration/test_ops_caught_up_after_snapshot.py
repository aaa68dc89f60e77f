"""Caught up with Kafka when the flow applied nothing since the full load's snapshot.

Reported: ``tidb2mysql cutover --flow-stopped`` after a ``tidb2mysql migrate`` that applied
nothing said "not caught up (applied offset -1)". The shards' checkpoints record the last
Kafka offset they covered; a run that starts after the snapshot and reads no message keeps
``kafka_offset = -1`` although every message in the topic is in the snapshot. status and
cutover now compare the commit_ts of the messages after the applied offset with the shards'
positions (tidb2mysql/ops/status.py). Against the real stack: source, Kafka, target, the
real ``migrate``, ``status`` and ``cutover`` commands.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from confluent_kafka import Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from tests.support import flowrun, stack
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema, Txn, make_tso
from tidb2mysql.kafka_settings import admin_config, producer_config
from tidb2mysql.ops.status import TAIL_WINDOW

pytestmark = pytest.mark.integration

BEFORE = TAIL_WINDOW + 5  # messages inside the snapshot: more than status reads one by one


class Upstream:
    """Plays TiDB + Drainer: a row written to the source and its Drainer message to Kafka."""

    def __init__(self, cfg, db: str, topic: str):
        self.cfg, self.db, self.topic = cfg, db, topic
        self.schema = TableSchema(db, "h", ("id", "v"), ("int", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
        self.ts = make_tso(int(time.time() * 1000))
        self.producer = Producer(producer_config(cfg.kafka))

    def insert(self, i: int) -> None:
        self.ts += 1
        with stack.connect(self.cfg.source, self.db) as conn, conn.cursor() as cur:
            cur.execute("BEGIN")
            cur.execute("INSERT INTO h VALUES (%s, %s)", (i, f"v{i}"))
            cur.execute("REPLACE INTO _tidb2mysql_sim.tso VALUES (%s, %s)", (self.topic, self.ts))
            cur.execute("COMMIT")
        txn = Txn(self.ts, [TableChanges(self.schema, [RowChange(Op.INSERT, (i, f"v{i}"), None)])])
        self.producer.produce(self.topic, encode_txn(txn, "UTC"), partition=0)
        assert self.producer.flush(30) == 0


@pytest.fixture
def job_env(stack_config, source_db, kafka_topic, tmp_path):
    with stack.connect(stack_config.source, source_db) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE h (id INT PRIMARY KEY, v VARCHAR(40))")
        cur.execute("CREATE DATABASE IF NOT EXISTS _tidb2mysql_sim")
        cur.execute("CREATE TABLE IF NOT EXISTS _tidb2mysql_sim.tso "
                    "(topic VARCHAR(249) PRIMARY KEY, commit_ts BIGINT NOT NULL)")
    up = Upstream(stack_config, source_db, kafka_topic)
    for i in range(1, BEFORE + 1):
        up.insert(i)
    job = source_db
    cfg = flowrun.write_config(tmp_path / "t2m.toml", topic=kafka_topic, job=job)
    yield cfg, job, up, tmp_path
    with stack.connect(stack_config.source) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM _tidb2mysql_sim.tso WHERE topic = %s", (kafka_topic,))
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        for table in ("full_load_job", "full_load_chunks", "full_load_lanes", "checkpoint", "ddl_history",
                      "dead_letter", "job_control"):
            cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='tidb2mysql'"
                        " AND TABLE_NAME=%s", (table,))
            if cur.fetchone()[0]:
                cur.execute(f"DELETE FROM tidb2mysql.`{table}` WHERE job = %s", (job,))
    stack.drop_database(stack_config.target, source_db)


def cli(*args, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tidb2mysql.cli", *args], cwd=flowrun.REPO, capture_output=True,
                          text=True, timeout=timeout)


def migrate(cfg, db: str, log) -> None:
    cmd = [sys.executable, "-m", "tidb2mysql.cli", "migrate", "--config", str(cfg), "-w", "1",
           "--tables", f"{db}.*", "--stop-at-end"]
    assert flowrun.run(cmd, log, timeout=180) == 0, flowrun.tail(log)


def status_json(cfg) -> dict:
    r = cli("status", "--config", str(cfg), "--json", "--sample-seconds", "0", "--not-delayed-seconds", "0.001")
    assert r.stdout.strip(), r.stderr
    return {"rc": r.returncode, **json.loads(r.stdout)}


def control_state(stack_config, job: str):
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        cur.execute("SELECT state FROM tidb2mysql.job_control WHERE job = %s", (job,))
        row = cur.fetchone()
    return row[0] if row else None


def checkpoint_offsets(stack_config, job: str) -> set:
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        cur.execute("SELECT DISTINCT kafka_offset FROM tidb2mysql.`checkpoint` WHERE job = %s", (job,))
        return {r[0] for r in cur.fetchall()}


def test_cutover_flow_stopped_after_a_migrate_that_applied_nothing(stack_config, job_env):
    cfg, job, up, tmp = job_env
    migrate(cfg, job, tmp / "migrate.log")
    assert checkpoint_offsets(stack_config, job) == {-1}  # the situation reported: no offset to record
    st = status_json(cfg)
    assert st["kafka_end_offset"] == BEFORE and st["applied_offset"] == -1
    assert st["caught_up_with_kafka"] is True and st["caught_up_by_commit_ts"] is True, st
    assert st["kafka_pending"] == 0 and st["rc"] == 0  # caught up counts as not delayed (threshold ~0)
    assert any("caught up by commit_ts" in n for n in st["notes"])

    r = cli("cutover", "--config", str(cfg), "--flow-stopped", "--max-wait", "10")
    assert r.returncode == 0, r.stderr
    assert "caught up with Kafka" in r.stderr and "warning" not in r.stderr
    assert control_state(stack_config, job) == "finished"


def test_a_message_after_the_snapshot_is_pending_until_applied(stack_config, job_env):
    cfg, job, up, tmp = job_env
    migrate(cfg, job, tmp / "migrate.log")
    up.insert(BEFORE + 1)  # after the snapshot: not applied by anyone yet
    st = status_json(cfg)
    assert st["kafka_end_offset"] == BEFORE + 1
    assert st["caught_up_with_kafka"] is False and st["kafka_pending"] == 1 and st["rc"] == 1, st
    r = cli("cutover", "--config", str(cfg), "--flow-stopped", "--max-wait", "1")
    assert r.returncode == 1 and "not caught up" in r.stderr and "1 message(s) not applied" in r.stderr, r.stderr
    assert control_state(stack_config, job) is None  # nothing changed

    # More messages than status reads one by one, none applied: the older ones are bisected.
    for i in range(BEFORE + 2, BEFORE + 2 + TAIL_WINDOW + 3):
        up.insert(i)
    st = status_json(cfg)
    assert st["caught_up_with_kafka"] is False and st["kafka_pending"] == TAIL_WINDOW + 4, st

    migrate(cfg, job, tmp / "migrate2.log")  # the job is at stage incremental: it applies them
    st = status_json(cfg)
    assert st["caught_up_with_kafka"] is True and st["caught_up_by_commit_ts"] is False, st
    assert st["applied_offset"] == st["kafka_end_offset"] - 1 and st["kafka_pending"] == 0
    r = cli("cutover", "--config", str(cfg), "--flow-stopped", "--max-wait", "10")
    assert r.returncode == 0, r.stderr
    assert control_state(stack_config, job) == "finished"
    with stack.connect(stack_config.target, job) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM h")
        assert cur.fetchone()[0] == BEFORE + 1 + TAIL_WINDOW + 3

    # Messages after the applied offset that retention deleted are not silently "caught up".
    applied = st["applied_offset"]
    for i in range(1000, 1003):
        up.insert(i)
    tp = TopicPartition(up.topic, 0, applied + 3)
    admin = AdminClient(admin_config(stack_config.kafka))
    admin.delete_records([tp])[tp].result(30)  # what retention does: the low watermark moves
    st = status_json(cfg)
    assert st["caught_up_with_kafka"] is False and st["kafka_pending"] == 1, st
    assert any(f"offsets {applied + 1}..{applied + 2} are no longer in Kafka" in n for n in st["notes"]), st["notes"]
