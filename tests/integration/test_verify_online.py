"""``tidb2mysql verify`` while the incremental flow replicates a simulator workload.

The simulator writes into the source and publishes the Drainer messages; the real flow
(``tidb2mysql incremental``, not stopping at the end) applies them to the target. Verify runs
meanwhile: every chunk compares a source snapshot with a target that has applied at least its
commit_ts and keeps moving, so chunks mismatch because of lag, and the re-checks must explain
every such row - no difference may be reported. Then target rows are corrupted while the
workload still runs, and ``--fix`` must repair them online so that, once the flow has applied
the rest, ``compare_databases`` finds source and target equal.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pytest

from tests.integration.test_verify import cleanup_job
from tests.support import flowrun, stack
from tidb2mysql.compare import compare_databases
from tidb2mysql.simulator import SimulatorOptions, run_simulation
from tidb2mysql.verify.runner import VerifyOptions, verify
from tidb2mysql.config.verify import VerifyConfig
from tidb2mysql.verify.snapshot import applied_range

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _tso(cfg, topic):
    with stack.connect(cfg.source) as conn, conn.cursor() as cur:
        try:
            cur.execute("SELECT commit_ts FROM _tidb2mysql_sim.tso WHERE topic = %s", (topic,))
        except Exception:
            return None
        row = cur.fetchone()
        return row[0] if row else None


def _applied(cfg, job):
    with stack.connect(cfg.target) as conn:
        a = applied_range(conn, cfg.job.meta_schema, job)
    return a[0] if a else 0


def _rows(cfg, database):
    with stack.connect(cfg.target) as conn, conn.cursor() as cur:
        try:
            cur.execute(f"SELECT COUNT(*) FROM `{database}`.`oltp_0`")
            return cur.fetchone()[0]
        except Exception:
            return 0


def test_verify_while_the_flow_replicates_a_simulator_workload(stack_config, kafka_topic, tmp_path):
    database = f"vonline_{uuid.uuid4().hex[:8]}"
    job = f"vonline_{uuid.uuid4().hex[:8]}"
    base = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=kafka_topic),
                               job=dataclasses.replace(stack_config.job, name=job))
    cfg = dataclasses.replace(base, verify=VerifyConfig(
        chunk_rows=150, leaf_rows=40, lanes=2, recheck_interval=0.5, recheck_rounds=10, snapshot_refresh=2.0,
        wait_timeout=60))
    result: dict = {}

    def simulate():
        try:
            result["summary"] = run_simulation(base, SimulatorOptions(
                seed=5, txns=0, duration_s=70, rate=80, databases=[database], tables=2, ddl_every=0,
                edge_values=0.1, txn_rows=(1, 6)))
        except BaseException as e:
            result["error"] = e

    conf = flowrun.write_config(tmp_path / "t2m.toml", topic=kafka_topic, job=job,
                                incremental={"batch_ms": 200})
    log = tmp_path / "incremental.log"
    flow = flowrun.start(flowrun.incremental_cmd(conf, workers=2, stop_at_end=False), log)
    sim = threading.Thread(target=simulate, daemon=True)
    sim.start()
    try:
        flowrun.wait_until(lambda: "error" in result or (_tso(base, kafka_topic) or 0) > 0, 60,
                           what="first simulated transaction")
        assert "error" not in result, result.get("error")
        # Let the tables fill and the flow replicate them for a while.
        flowrun.wait_until(lambda: _rows(base, database) > 300 or flow.poll() is not None, 90,
                           what="300 replicated rows in oltp_0")
        assert flow.poll() is None, flowrun.tail(log)

        t0 = time.monotonic()
        rep = verify(cfg, VerifyOptions(tables=[f"{database}.*"]))
        took = time.monotonic() - t0
        assert sim.is_alive(), "the simulator stopped before the verify ended: it did not run against a moving target"
        print(f"\nonline verify: {rep.rows} rows, {rep.chunks} chunks, {rep.ranges} ranges, {rep.lag_rechecked} "
              f"suspects were lag, {len(rep.unsettled)} unsettled, {rep.rounds} rounds, {took:.1f}s, waited "
              f"{rep.waited_seconds:.1f}s; snapshots {rep.first_ts}..{rep.last_ts}")
        assert rep.difference_count == 0, rep.text()
        assert rep.rows > 300 and rep.chunks > len(rep.tables)
        # The target moved while the chunks were read: some suspects had to be explained as lag.
        assert rep.lag_rechecked > 0 and rep.ranges > rep.chunks, rep.text()

        # Corrupt some target rows while the workload and the flow keep running; --fix repairs online.
        with stack.connect(base.target, database) as t, t.cursor() as cur:
            cur.execute("UPDATE oltp_0 SET c3 = CONCAT(c3, ' ') WHERE c3 IS NOT NULL ORDER BY id LIMIT 2")
            cur.execute("DELETE FROM oltp_1 ORDER BY id LIMIT 2")
            cur.execute("INSERT INTO oltp_1 (id) VALUES (900000001)")
        fixed = verify(cfg, VerifyOptions(tables=[f"{database}.*"], fix=True, restart=True))
        print(f"fix: {fixed.difference_count} differences ({fixed.by_kind}), {fixed.repaired} repaired, "
              f"{len(fixed.unsettled)} unsettled")
        print("\n".join(str(d) for d in fixed.differences))
        assert fixed.repaired is not None and fixed.repaired >= 3, fixed.text()
        assert fixed.by_kind.get("extra", 0) >= 1, fixed.text()  # the row 900000001 nobody else touches

        sim.join(120)
        assert "error" not in result, result.get("error")
        last = result["summary"].last_commit_ts
        flowrun.wait_until(lambda: _applied(base, job) >= last or flow.poll() is not None, 120,
                           what="the flow to apply the last simulated transaction")
        assert flow.poll() is None, flowrun.tail(log)
        with stack.connect(base.source) as a, stack.connect(base.target) as b:
            res = compare_databases(a, database, b, database, schema=False)
        assert res.equal, str(res)
        final = verify(cfg, VerifyOptions(tables=[f"{database}.*"], restart=True))
        assert final.clean, final.text()
    finally:
        if flow.poll() is None:
            flowrun.kill(flow)
        sim.join(120)
        cleanup_job(stack_config, job)
        with stack.connect(stack_config.target) as t, t.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            for table in ("checkpoint", "ddl_history", "dead_letter"):
                cur.execute(f"DELETE FROM tidb2mysql.{table} WHERE job = %s", (job,))
        with stack.connect(stack_config.source) as s, s.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cur.execute("DELETE FROM _tidb2mysql_sim.tso WHERE topic = %s", (kafka_topic,))
