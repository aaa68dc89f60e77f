"""``tidb2mysql migrate`` end to end on a real TiDB: schema, full load, incremental.

The simulator writes to TiDB (``make up-tidb``) and publishes its Drainer messages (real TSOs,
TiDB's DDL jobs, AUTO_RANDOM keys) while ``migrate`` runs: the schema stage translates TiDB's
tables, the full load copies them at one TSO taken while the workload runs (``tidb_snapshot``),
and incremental replication applies the messages after that TSO. The workload goes on until a
few seconds after the snapshot TSO is recorded (no guessed durations: the machine may be
slow). The first ``migrate --stop-at-end`` stops at the topic's end of its moment; a second
run resumes the incremental stage from its checkpoints once the workload is over. The target
must then equal TiDB.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time

import pymysql
import pytest

from tests.integration.test_full_load import job_row
from tests.support import flowrun, stack, tidb
from tidb2mysql.simulator import SimulatorOptions, run_simulation

pytestmark = [pytest.mark.integration, pytest.mark.tidb]


def _table_exists(cfg, db: str, table: str) -> bool:
    with stack.connect(cfg.source) as conn:
        return bool(stack.run(conn, "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
                                    " AND TABLE_NAME = %s", (db, table)))


def _snapshot_recorded(cfg, job: str) -> bool:
    try:
        row = job_row(cfg, job)
    except pymysql.MySQLError:  # migrate has not created its job table yet (fresh target)
        return False
    return bool(row and row[1])


def test_migrate_from_tidb_while_it_writes(tidb_config, kafka_topic, tmp_path, request):
    db = stack.unique_name(request.node.name, "tmig")
    job = f"tmig_{db[-8:]}"
    cfg = dataclasses.replace(tidb_config, kafka=dataclasses.replace(tidb_config.kafka, topic=kafka_topic))
    conf = flowrun.write_config(tmp_path / "t2m.toml", topic=kafka_topic, job=job, base=tidb.config_path(),
                                full_load={"chunk_rows": 200, "page_rows": 50, "progress_interval": 2.0})
    out: dict = {}
    stop = threading.Event()

    def simulate():
        try:
            out["summary"] = run_simulation(cfg, SimulatorOptions(
                # No DDL: a table the workload creates between migrate's schema stage and the
                # full load's snapshot stops the load ("target table(s) missing"; a re-run of
                # migrate repairs it) - a known gap, not this test's subject. DDL replication
                # from TiDB is test_tidb_simulator.py's.
                seed=21, txns=0, duration_s=600, rate=12, databases=[db], tables=2, ddl_every=0,
                should_stop=stop.is_set))
        except BaseException as e:  # reported by the test thread
            out["error"] = e

    sim = threading.Thread(target=simulate, daemon=True)
    sim.start()
    try:
        flowrun.wait_until(lambda: _table_exists(cfg, db, "autorand") or not sim.is_alive(), timeout=60,
                           what="the simulator's tables")
        time.sleep(3)  # some transactions before the snapshot
        # --skip-precheck: this TiDB runs without binlog (@@log_bin = 0, no Pump/Drainer), which the
        # precheck rightly fails; here the simulator publishes the Drainer messages instead.
        cmd = [sys.executable, "-m", "tidb2mysql.cli", "migrate", "--config", str(conf), "-w", "2",
               "--tables", f"{db}.*", "--stop-at-end", "--skip-precheck"]
        log1 = tmp_path / "migrate1.log"
        first = flowrun.start(cmd, log1)
        try:
            flowrun.wait_until(lambda: _snapshot_recorded(tidb_config, job) or first.poll() is not None,
                               timeout=300, interval=0.5, what="the full load's snapshot TSO")
            time.sleep(3)  # transactions after the snapshot, for the incremental stage
            stop.set()
            assert first.wait(300) == 0, flowrun.tail(log1)
        finally:
            stop.set()
            if first.poll() is None:
                flowrun.kill(first)
        sim.join(120)
        assert not sim.is_alive() and "error" not in out, out.get("error")
        s = out["summary"]
        stage, snap_ts, _, _ = job_row(tidb_config, job)
        assert stage == "incremental"
        assert s.first_commit_ts < snap_ts < s.last_commit_ts, (s.first_commit_ts, snap_ts, s.last_commit_ts)
        text = log1.read_text()
        assert f"incremental replication from after commit_ts {snap_ts}" in text
        log2 = tmp_path / "migrate2.log"
        assert flowrun.run(cmd, log2, timeout=300) == 0, flowrun.tail(log2)
        assert "at stage 'incremental'" in log2.read_text()
        assert db in tidb.assert_source_equals_target(cfg, db)
    finally:
        stop.set()
        sim.join(120)
        for ep in (tidb_config.source, tidb_config.target):
            with stack.connect(ep) as conn:
                for (name,) in stack.run(conn, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
                                               " WHERE SCHEMA_NAME LIKE %s", (db + "%",)):
                    stack.run(conn, f"DROP DATABASE IF EXISTS `{name}`")
