"""Handoff with the project's simulator: full load while it writes, then incremental from the TSO.

The simulator (tidb2mysql.simulator) runs a seeded workload on the source (every table kind:
OLTP, all_types, composite key, secondary unique key, no key, generated column) and
publishes the Drainer messages; inside every transaction it records the commit_ts in
``_tidb2mysql_sim.tso``. While it writes, ``tidb2mysql full-load`` copies its database from
one snapshot; afterwards ``tidb2mysql incremental --start-commit-ts <TSO> --stop-at-end``
applies the rest. The target must then equal the source, for 3 seeds.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pytest

from tests.integration.test_full_load import copy_structure, drop_job, job_row
from tests.support import flowrun, stack
from tidb2mysql.compare import compare_databases
from tidb2mysql.simulator import SimulatorOptions, run_simulation

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _tso_row(cfg, topic):
    with stack.connect(cfg.source) as conn, conn.cursor() as cur:
        try:
            cur.execute("SELECT commit_ts FROM _tidb2mysql_sim.tso WHERE topic = %s", (topic,))
        except Exception:
            return None
        row = cur.fetchone()
        return row[0] if row else None


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_simulator_handoff(stack_config, kafka_topic, tmp_path, seed):
    database = f"flsim_{seed}_{uuid.uuid4().hex[:6]}"
    job = f"flsim_{seed}_{uuid.uuid4().hex[:8]}"
    cfg = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=kafka_topic))
    result: dict = {}

    def simulate():
        try:
            result["summary"] = run_simulation(cfg, SimulatorOptions(
                seed=seed, txns=1200, rate=150, databases=[database], tables=3, ddl_every=0, edge_values=0.05))
        except BaseException as e:  # surfaced below
            result["error"] = e

    sim = threading.Thread(target=simulate, daemon=True)
    sim.start()
    try:
        # The simulator creates its tables first, then commits transactions (tso row appears).
        flowrun.wait_until(lambda: _tso_row(cfg, kafka_topic) is not None or "error" in result, timeout=60,
                           what="first simulated transaction")
        assert "error" not in result, result.get("error")
        with stack.connect(cfg.source) as src, stack.connect(cfg.target) as tgt:
            with tgt.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
                cur.execute(f"CREATE DATABASE `{database}`")
            copy_structure(src, database, tgt, database)
        time.sleep(1.0)  # let the workload run a while before the snapshot
        conf = flowrun.write_config(tmp_path / "t2m.toml", topic=kafka_topic, job=job,
                                    full_load={"chunk_rows": 200, "page_rows": 100, "progress_interval": 1.0})
        log1 = tmp_path / "full_load.log"
        cmd = [*flowrun.incremental_cmd(conf)[:3], "full-load", "--config", str(conf), "-w", "2",
               "--tables", f"{database}.*"]
        assert flowrun.run(cmd, log1, timeout=120) == 0, flowrun.tail(log1)
        assert sim.is_alive(), "the simulator finished before the full load; the handoff was not exercised"
        sim.join(120)
        assert "error" not in result, result.get("error")
        summary = result["summary"]
        stage, snap_ts, lock_ms, _ = job_row(stack_config, job)
        assert stage == "loaded"
        assert summary.first_commit_ts < snap_ts < summary.last_commit_ts
        log2 = tmp_path / "incremental.log"
        inc = flowrun.incremental_cmd(conf, workers=2, extra=("--start-commit-ts", str(snap_ts)))
        assert flowrun.run(inc, log2, timeout=240) == 0, flowrun.tail(log2)
        with stack.connect(cfg.source) as a, stack.connect(cfg.target) as b:
            res = compare_databases(a, database, b, database)
        assert res.equal, str(res)
        assert sum(t.rows_a for t in res.tables) > 0
        print(f"seed {seed}: {summary.txns} txns, snapshot TSO {snap_ts} (lock {lock_ms:.0f} ms)")
    finally:
        sim.join(120)
        drop_job(stack_config, job)
        with stack.connect(cfg.target) as t, t.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            for table in ("checkpoint", "ddl_history", "dead_letter"):
                cur.execute(f"DELETE FROM tidb2mysql.{table} WHERE job = %s", (job,))
        with stack.connect(cfg.source) as s, s.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cur.execute("DELETE FROM _tidb2mysql_sim.tso WHERE topic = %s", (kafka_topic,))
