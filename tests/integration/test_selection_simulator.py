"""Volume: the project's simulator (every table kind, DDL every ~20 transactions) over two
databases; [selection] excludes one database and renames the other. After the real flow the
renamed target database equals the source one, and nothing of the excluded one exists."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from tests.support import flowrun, stack
from tidb2mysql.compare import compare_databases
from tidb2mysql.simulator import SimulatorOptions, run_simulation

pytestmark = pytest.mark.integration


def q(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def test_simulated_stream_with_database_exclude_and_rename(stack_config, kafka_topic, tmp_path):
    tag = uuid.uuid4().hex[:6]
    keep, drop, renamed = f"selsim_a_{tag}", f"selsim_b_{tag}", f"selsim_a_{tag}_t"
    job = f"selsim_{tag}"
    cfg = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=kafka_topic))
    try:
        summary = run_simulation(cfg, SimulatorOptions(seed=21, txns=600, databases=[keep, drop], tables=3,
                                                       ddl_every=20, edge_values=0.05))
        conf = flowrun.write_config(tmp_path / "t2m.toml", topic=kafka_topic, job=job)
        conf.write_text(conf.read_text() + f'\n[selection]\nexclude = ["{drop}"]\n'
                                           f'databases = {{ "{keep}" = "{renamed}" }}\n')
        log = tmp_path / "incremental.log"
        assert flowrun.run(flowrun.incremental_cmd(conf, workers=2), log, timeout=240) == 0, flowrun.tail(log)
        with stack.connect(cfg.source) as a, stack.connect(cfg.target) as b:
            res = compare_databases(a, keep, b, renamed)
            assert res.equal, str(res)
            assert sum(t.rows_a for t in res.tables) > 0
            assert q(b, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (%s, %s)",
                     drop, keep) == [(0,)]
            hist = q(b, "SELECT schema_name, status FROM tidb2mysql.ddl_history WHERE job=%s", job)
            assert {s for n, s in hist if n == drop} == {"skipped"}
            assert {s for n, s in hist if n == keep} == {"applied"}
            assert q(b, "SELECT COUNT(*) FROM tidb2mysql.dead_letter WHERE job=%s", job) == [(0,)]
        assert f"selection: dropping row changes of {drop}." in log.read_text()
        print(f"{summary.txns} txns, {len(hist)} DDL")
    finally:
        with stack.connect(cfg.target) as t, t.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{renamed}`")
            for table in ("checkpoint", "ddl_history", "dead_letter"):
                cur.execute(f"DELETE FROM tidb2mysql.{table} WHERE job = %s", (job,))
        with stack.connect(cfg.source) as s, s.cursor() as cur:
            for d in (keep, drop):
                cur.execute(f"DROP DATABASE IF EXISTS `{d}`")
            cur.execute("DELETE FROM _tidb2mysql_sim.tso WHERE topic = %s", (kafka_topic,))
