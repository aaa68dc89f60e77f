"""status, cutover and precheck over SASL_SSL: quiet short-lived Kafka clients, fast specific errors.

Reported: over SASL_SSL, ``tidb2mysql status`` / ``cutover`` printed raw librdkafka lines
("GroupCoordinator: SASL authentication error ... transport failure") when their short-lived
consumers closed, and with a wrong password ``status`` printed ~5 s of library errors before a
generic "Kafka unreachable". Now the end offset comes from an AdminClient (no consumer group),
every short-lived client's log lines are collected (kafka_settings.ClientLog), and a connect
failure is kafka_settings.check_connection's specific message. Against the secured stack
(``make up SECURE=1``; the fixture starts it), as the least-privilege user.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Producer

from tests.integration.test_security import assert_no_secret, write_toml
from tests.support import flowrun
from tests.support.secure_stack import SecureStack, ensure_up
from tests.support.stack import create_topic, delete_topic, unique_name
from tidb2mysql import config as config_mod
from tidb2mysql.mysql import db
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema, Txn, make_tso
from tidb2mysql.kafka_settings import producer_config

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LIBRDKAFKA_LINE = re.compile(r"^%\d\|\d+\.\d+\|", re.M)  # what librdkafka prints to stderr by itself
BAD_PW = "bad-password-quiet-x"


@pytest.fixture(scope="module")
def sec() -> SecureStack:
    return ensure_up()


@pytest.fixture(scope="module")
def secrets(sec) -> dict[str, str]:
    return {**sec.secrets(), "bad": BAD_PW}


@pytest.fixture
def job_cfg(sec, tmp_path):
    """A job on the secured stack whose flow ran after a snapshot and read nothing: 5 messages
    in the topic, all at or below its start_commit_ts, checkpoints with kafka_offset -1."""
    adm = sec.load(sec.admin_config_path)
    topic = create_topic(adm.kafka, label="quiet")  # as the drainer user: the app user may not create topics
    job = unique_name("quiet", prefix="sec")
    schema = TableSchema("quiet_db", "t", ("id",), ("int",), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
    ts = make_tso(int(time.time() * 1000))
    p = Producer(producer_config(adm.kafka))
    for i in range(5):
        p.produce(topic, encode_txn(Txn(ts + i, [TableChanges(schema, [RowChange(Op.INSERT, (i,), None)])]), "UTC"),
                  partition=0)
    assert p.flush(30) == 0
    cfg = write_toml(tmp_path / "app.toml", sec.app_config_path, kafka={"topic": topic}, job={"name": job})
    log = tmp_path / "flow.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, extra=("--start-commit-ts", str(ts + 4))), log, timeout=120)
    assert rc == 0, flowrun.tail(log)
    try:
        yield cfg, topic, job
    finally:
        meta = config_mod.load(cfg).job.meta_schema
        with db.connect(adm.target) as conn, conn.cursor() as cur:
            for table in ("checkpoint", "ddl_history", "dead_letter", "job_control"):
                cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s",
                            (meta, table))
                if cur.fetchone()[0]:
                    cur.execute(f"DELETE FROM `{meta}`.`{table}` WHERE job=%s", (job,))
        delete_topic(adm.kafka, topic)


def cli(*args, timeout=120):
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "tidb2mysql.cli", *args], cwd=REPO, capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, "T2M_TEST_BAD_PW": BAD_PW})
    return r, time.monotonic() - t0


def assert_quiet(r, secrets, what):
    out = r.stdout + r.stderr
    assert not LIBRDKAFKA_LINE.search(out) and "rdkafka" not in out, f"{what} printed librdkafka lines:\n{out[-3000:]}"
    assert_no_secret(out, secrets, what)


def test_status_and_cutover_over_sasl_ssl_print_no_library_lines(job_cfg, secrets):
    cfg, topic, job = job_cfg
    for _ in range(3):  # the coordinator line came now and then, on close: ask more than once
        r, secs = cli("status", "--config", str(cfg), "--json", "--sample-seconds", "0", "--not-delayed-seconds", "0.001")
        assert_quiet(r, secrets, "status")
        st = json.loads(r.stdout)
        # read the 5 messages over SASL_SSL with the status consumer (group tidb2mysql-status)
        assert st["kafka_end_offset"] == 5 and st["applied_offset"] == -1 and st["caught_up_by_commit_ts"] is True, st
        assert r.returncode == 0 and secs < 10, (r.returncode, secs)
    r, _ = cli("cutover", "--config", str(cfg), "--flow-stopped", "--max-wait", "20")
    assert_quiet(r, secrets, "cutover")
    assert r.returncode == 0, r.stderr
    assert all(line.startswith("tidb2mysql cutover: ") for line in r.stderr.splitlines()), r.stderr


@pytest.mark.parametrize("broken", ["password", "port"])
def test_wrong_kafka_settings_fail_fast_and_specifically(job_cfg, sec, secrets, tmp_path, broken):
    cfg, topic, job = job_cfg
    if broken == "password":
        bad = write_toml(tmp_path / "bad.toml", cfg, kafka={"password_file": None, "password_env": "T2M_TEST_BAD_PW"})
        expect = "SASL SCRAM-SHA-256 authentication failed for user 'tidb2mysql'"
    else:
        bad = write_toml(tmp_path / "bad.toml", cfg, kafka={"brokers": "127.0.0.1:1"})
        expect = "no broker answers at 127.0.0.1:1"
    r, secs = cli("status", "--config", str(bad), "--json", "--sample-seconds", "0", "--not-delayed-seconds", "0.001")
    assert_quiet(r, secrets, "status")
    st = json.loads(r.stdout)
    assert expect in st["kafka_error"] and "fix: " in st["kafka_error"], st["kafka_error"]
    assert st["kafka_end_offset"] is None and st["caught_up_with_kafka"] is None and r.returncode == 1
    assert secs < 4, f"status took {secs:.1f}s"
    r, _ = cli("status", "--config", str(bad), "--sample-seconds", "0")
    assert f"kafka            Kafka tidb2mysql@{'127.0.0.1:1' if broken == 'port' else '127.0.0.1:'}" in r.stdout

    r, secs = cli("cutover", "--config", str(bad), "--max-wait", "30" if broken == "password" else "2", "--flow-stopped")
    assert_quiet(r, secrets, "cutover")
    assert r.returncode == 1 and expect in r.stderr and "nothing changed" in r.stderr, r.stderr
    if broken == "password":  # a configuration error: no use waiting --max-wait
        assert secs < 6, f"cutover took {secs:.1f}s with a wrong password"
    adm = sec.load(sec.admin_config_path)
    with db.connect(adm.target) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM tidb2mysql.job_control WHERE job=%s", (job,))
        assert cur.fetchone()[0] == 0  # nothing changed


def test_precheck_over_sasl_ssl_prints_no_library_lines(job_cfg, secrets):
    cfg, topic, job = job_cfg
    r, _ = cli("precheck", "--config", str(cfg), "--json")
    assert_quiet(r, secrets, "precheck")
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["kafka.connect"]["status"] == "pass" and checks["kafka.topic"]["status"] == "pass", checks
