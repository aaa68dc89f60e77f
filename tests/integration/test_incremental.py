"""The incremental flow end to end: simulator -> Kafka -> `tidb2mysql incremental` -> target.

The simulator is the oracle: after replication, every simulated database in the target must
equal the source. One simulated workload (module fixture) is replayed into a fresh target by
each test: different worker/process layouts, SIGKILL crashes with recovery, a lost recovery
directory, redelivered messages.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import shutil
import time
import uuid
from pathlib import Path

import pytest

from tidb2mysql.mysql import db
from tidb2mysql.compare import compare_databases
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.simulator import SimulatorOptions, run_simulation
from tests.support import flowrun
from tests.support.stack import create_topic, delete_topic

pytestmark = [pytest.mark.integration, pytest.mark.slow]

META = "tidb2mysql"
TXNS = int(os.environ.get("T2M_TEST_TXNS", "20000"))


@dataclasses.dataclass
class Workload:
    cfg: object
    topic: str
    databases: list
    summary: object


@pytest.fixture(scope="module")
def workload(stack_config):
    topic = f"t2m_incr_{uuid.uuid4().hex[:8]}"
    create_topic(stack_config.kafka, topic)
    cfg = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=topic))
    dbs = [f"incr_{uuid.uuid4().hex[:6]}_{i}" for i in range(2)]
    t0 = time.monotonic()
    summary = run_simulation(cfg, SimulatorOptions(
        seed=20261129, txns=TXNS, databases=dbs, tables=4, ddl_every=max(TXNS // 15, 20),
        redeliver=0.002, edge_values=0.05,
    ))
    print(f"simulated {summary.txns} txns, {summary.ddls} DDL, {summary.rows} rows,"
          f" {summary.redelivered} redelivered in {time.monotonic() - t0:.1f}s")
    assert summary.ddls >= 10
    yield Workload(cfg, topic, list(summary.databases), summary)
    src = db.connect(stack_config.source)
    with src.cursor() as cur:
        for d in summary.databases:
            cur.execute(f"DROP DATABASE IF EXISTS `{d}`")
    src.close()
    delete_topic(stack_config.kafka, topic)


def fresh_target(w: Workload, job: str) -> None:
    conn = db.connect(w.cfg.target)
    with conn.cursor() as cur:
        for d in w.databases:
            cur.execute(f"DROP DATABASE IF EXISTS `{d}`")
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{META}`")
    try:
        Checkpoints(META, job).delete_job(conn)
    except Exception:
        pass
    conn.close()


def assert_target_equals_source(w: Workload) -> None:
    src, dst = db.connect(w.cfg.source), db.connect(w.cfg.target)
    try:
        for d in w.databases:
            res = compare_databases(src, d, dst, d)
            assert res.equal, f"database {d} differs:\n{res}"
    finally:
        src.close()
        dst.close()


def dead_letters(w: Workload, job: str) -> int:
    conn = db.connect(w.cfg.target)
    try:
        return deadletter.count(conn, META, job)
    finally:
        conn.close()


@pytest.mark.parametrize("workers,processes", [(1, 1), (4, 1), (2, 2)], ids=["w1", "w4", "p2w2"])
def test_target_equals_source(workload, tmp_path, workers, processes):
    job = f"eq_{workers}x{processes}_{uuid.uuid4().hex[:6]}"
    fresh_target(workload, job)
    cfg_path = flowrun.write_config(tmp_path / "t2m.toml", topic=workload.topic, job=job)
    log = tmp_path / "flow.log"
    t0 = time.monotonic()
    rc = flowrun.run(flowrun.incremental_cmd(cfg_path, workers, processes), log, timeout=600)
    took = time.monotonic() - t0
    assert rc == 0, flowrun.tail(log)
    print(f"{workers}w x {processes}p: {workload.summary.rows} rows in {took:.1f}s")
    assert_target_equals_source(workload)
    assert dead_letters(workload, job) == 0
    # the simulator re-sent messages: every reading process reports how many it skipped
    skipped = re.findall(r"(\d+) messages skipped as Drainer re-deliveries in this run", log.read_text())
    assert workload.summary.redelivered > 0 and len(skipped) == processes, flowrun.tail(log)
    assert all(int(n) >= workload.summary.redelivered for n in skipped), (skipped, workload.summary.redelivered)


def _wait_for_new_line(log: Path, start: int, pattern: "re.Pattern[str]", p, timeout: float) -> bool:
    """True once a line matching ``pattern`` appears in ``log`` after byte ``start``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        with open(log, "rb") as fh:
            fh.seek(start)
            if pattern.search(fh.read().decode(errors="replace")):
                return True
        time.sleep(0.01)
    return False


# Log lines that mean "a DDL barrier is in progress right now": the intent row is written (the
# statements may be running), or the DDL was just recorded (some shards are released, others
# not yet), or a restarted shard waits again at a barrier it acknowledged before the crash.
BARRIER_MOMENT = re.compile(r"intent recorded|\) applied: |acknowledged before; waiting")


def test_sigkill_at_random_moments_with_recovery(workload, tmp_path):
    """SIGKILL of the whole cluster (2 processes x 2 workers), at least 10 times: every other kill
    is aimed at a moment when a DDL barrier is in progress (seen in the flow's log, killed at
    once or a few milliseconds later), the others at random moments."""
    job = f"crash_{uuid.uuid4().hex[:6]}"
    fresh_target(workload, job)
    cfg_path = flowrun.write_config(tmp_path / "t2m.toml", topic=workload.topic, job=job)
    recovery = tmp_path / "recovery"
    log = tmp_path / "flow.log"
    rnd = random.Random(int(os.environ.get("T2M_CRASH_SEED", "7")))
    kills = {"barrier": 0, "random": 0}
    # Each batch waits 0.2 s with its transaction open before COMMIT, so the killed runs apply
    # the finite topic in more than 14 windows whatever the machine's speed (without it a
    # fast machine applied all 20,484 messages within 9 runs: the 10th finished inside its
    # 1-3 s wait, and the test lost its power, not its correctness). Random kills then also
    # often land in that window: rows sent, COMMIT not.
    slow = {"TIDB2MYSQL_FAILPOINTS": "apply.before_commit=sleep:0.2"}
    for i in range(14):
        start = log.stat().st_size if log.exists() else 0
        p = flowrun.start(flowrun.incremental_cmd(cfg_path, 2, 2, recovery_dir=recovery), log, env=slow)
        if i % 2 == 0 and _wait_for_new_line(log, start, BARRIER_MOMENT, p, timeout=15):
            time.sleep(rnd.choice([0, 0, 0.005, 0.02, 0.05]))
            kind = "barrier"
        else:
            time.sleep(rnd.uniform(1.0, 3.0))
            kind = "random"
        if p.poll() is not None:
            break  # finished before the kill
        flowrun.kill(p)
        kills[kind] += 1
    rc = flowrun.run(flowrun.incremental_cmd(cfg_path, 2, 2, recovery_dir=recovery), log, timeout=600)
    assert rc == 0, flowrun.tail(log)
    print(f"kills: {kills}")
    assert_target_equals_source(workload)
    assert dead_letters(workload, job) == 0
    assert sum(kills.values()) >= 10 and kills["barrier"] >= 4, (
        f"only {kills} kills happened before the flow finished; slow the workload down")


def test_lost_recovery_directory_resumes_from_target_checkpoint(workload, tmp_path):
    job = f"lost_{uuid.uuid4().hex[:6]}"
    fresh_target(workload, job)
    cfg_path = flowrun.write_config(tmp_path / "t2m.toml", topic=workload.topic, job=job)
    recovery = tmp_path / "recovery"
    log = tmp_path / "flow.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg_path, 1, 1, recovery_dir=recovery), log)
    conn = db.connect(workload.cfg.target)

    def applied():
        cps = Checkpoints(META, job).load_all(conn)
        return min(c.commit_ts for c in cps) if cps else 0

    # Was a fixed 4 s sleep: under load no shard had a checkpoint yet (seen once at load ~9).
    flowrun.wait_until(lambda: applied() > 0 or p.poll() is not None, 120, what="a first checkpoint of every shard")
    assert p.poll() is None, "flow ended before the kill: " + flowrun.tail(log)
    flowrun.kill(p)
    applied_before = applied()
    conn.close()
    assert applied_before > 0
    shutil.rmtree(recovery)
    rc = flowrun.run(flowrun.incremental_cmd(cfg_path, 1, 1, recovery_dir=recovery), log, timeout=600)
    assert rc == 0, flowrun.tail(log)
    assert "target checkpoint" in log.read_text()
    assert_target_equals_source(workload)


def test_target_outages_are_retried_without_loss(workload, tmp_path):
    """The target 'restarts' twice mid-run (every connection dropped, new ones refused)."""
    from tests.support.tcp_proxy import TcpProxy

    job = f"outage_{uuid.uuid4().hex[:6]}"
    fresh_target(workload, job)
    proxy = TcpProxy(workload.cfg.target.host, workload.cfg.target.port)
    try:
        cfg_path = flowrun.write_config(tmp_path / "t2m.toml", topic=workload.topic, job=job,
                                        target={"port": proxy.port, "host": "127.0.0.1"})
        log = tmp_path / "flow.log"
        p = flowrun.start(flowrun.incremental_cmd(cfg_path, 2, 1), log)
        for pause in (2.5, 2.0):
            time.sleep(pause)
            if p.poll() is not None:
                break
            proxy.outage(3.0)
        rc = p.wait(timeout=600)
        assert rc == 0, flowrun.tail(log)
        assert proxy.refused > 0, "no reconnect attempt hit the outage; the test did not test anything"
        assert "retrying" in log.read_text()
    finally:
        proxy.close()
    assert_target_equals_source(workload)
    assert dead_letters(workload, job) == 0


def handoffs_left(w: Workload, job: str) -> list:
    conn = db.connect(w.cfg.target)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT shard, table_name, key_text, reason FROM `{META}`.unique_handoff WHERE job=%s", (job,))
            return list(cur.fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize("workers,processes", [(1, 1), (2, 2)], ids=["w1", "p2w2"])
def test_kill_at_a_unique_handoff_with_recovery(workload, tmp_path, workers, processes):
    """The whole cluster is killed 5 times at ``unique.resolved``: a flush has just stolen a
    unique value from another shard's row or skipped its own row (replication/unique_handoff.py:
    a row deleted, a handoff recorded), before its COMMIT. The simulated workload swaps unique
    values between rows of different shards (``uniq`` tables, routed by primary key). Each
    restart recovers from the Bytewax snapshots and the target checkpoints and decides again;
    at the end the target equals the source, nothing is dead-lettered, and every handoff was paid."""
    from tidb2mysql import failpoints

    job = f"ukill_{uuid.uuid4().hex[:6]}"
    fresh_target(workload, job)
    cfg_path = flowrun.write_config(tmp_path / "t2m.toml", topic=workload.topic, job=job)
    cmd = flowrun.incremental_cmd(cfg_path, workers, processes, recovery_dir=tmp_path / "recovery")
    log, once = tmp_path / "flow.log", tmp_path / "once"
    once.mkdir()
    env = {failpoints.ENV: "unique.resolved=kill", failpoints.ONCE_DIR_ENV: str(once)}
    kills = 0
    while kills < 5:
        before = len(list(once.iterdir()))
        p = flowrun.start(cmd, log, env)
        deadline = time.monotonic() + 120
        while p.poll() is None and len(list(once.iterdir())) == before:
            assert time.monotonic() < deadline, "the failpoint was not reached in 120 s:\n" + flowrun.tail(log)
            time.sleep(0.02)
        assert len(list(once.iterdir())) > before, "the flow ended without reaching unique.resolved:\n" + flowrun.tail(log)
        time.sleep(0.05)
        flowrun.kill(p)  # the whole cluster at once, as a machine loss would
        kills += 1
    rc = flowrun.run(cmd, log, timeout=600)
    assert rc == 0, flowrun.tail(log)
    assert_target_equals_source(workload)
    assert dead_letters(workload, job) == 0
    assert handoffs_left(workload, job) == []


def test_connection_cut_at_every_unique_handoff(workload, tmp_path):
    """The flush's connection is cut at ``unique.resolved`` once per flush end position that
    reaches it (50 in the run that landed it): the transaction with its steal or skip is lost, the batch
    is retried on a new connection and decides again; nothing is lost or parked."""
    from tidb2mysql import failpoints

    job = f"ucut_{uuid.uuid4().hex[:6]}"
    fresh_target(workload, job)
    cfg_path = flowrun.write_config(tmp_path / "t2m.toml", topic=workload.topic, job=job)
    log, once = tmp_path / "flow.log", tmp_path / "once"
    once.mkdir()
    rc = flowrun.run(flowrun.incremental_cmd(cfg_path, 2, 2), log, timeout=600,
                     env={failpoints.ENV: "unique.resolved=drop", failpoints.ONCE_DIR_ENV: str(once)})
    assert rc == 0, flowrun.tail(log)
    cuts = len(list(once.iterdir()))
    print(f"{cuts} connections cut at unique.resolved")
    assert cuts >= 20, f"only {cuts} cuts: the workload did not move unique values across shards"
    assert_target_equals_source(workload)
    assert dead_letters(workload, job) == 0
    assert handoffs_left(workload, job) == []
