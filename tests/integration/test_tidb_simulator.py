"""The simulator on a real TiDB: real TSOs, TiDB's DDL jobs, AUTO_RANDOM keys, exact replication.

The simulator writes its workload to TiDB (``make up-tidb``) and publishes Drainer messages
whose commit_ts are the ones TiDB assigned (``@@tidb_last_txn_info``), whose DDL messages are
TiDB's own DDL jobs (query text and FinishedTS from the DDL history), and whose rows are read
back from TiDB (so the AUTO_RANDOM keys are TiDB's). Checked against TiDB itself: every DDL
message is a job of TiDB's history; a transaction's rows are invisible at commit_ts - 1 and
visible at commit_ts (``tidb_snapshot``); AUTO_RANDOM keys carry shard bits. Then the
incremental flow replicates the topic into the MariaDB target, which must equal TiDB.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request

import pytest

from tests.integration.test_simulator_stream import decode_all, originals, read_messages
from tests.support import flowrun, stack, tidb
from tidb2mysql.events import DDL, Op, Txn
from tidb2mysql.simulator import SimulatorOptions, run_simulation

pytestmark = [pytest.mark.integration, pytest.mark.tidb]


@pytest.fixture
def tidb_sim_db(tidb_config, request):
    name = stack.unique_name(request.node.name, "tsim")
    yield name
    for ep in (tidb_config.source, tidb_config.target):
        with stack.connect(ep) as conn, conn.cursor() as cur:
            cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
            for (db,) in cur.fetchall():
                if db.startswith(name):  # incl. databases made by the workload's CREATE DATABASE
                    cur.execute(f"DROP DATABASE IF EXISTS `{db}`")


def _ddl_history(cfg) -> dict[int, dict]:
    """TiDB's DDL jobs by FinishedTS (the status port of the server the config points at)."""
    with stack.connect(cfg.source) as conn:
        ip, port = stack.run(conn, "SELECT IP, STATUS_PORT FROM information_schema.TIDB_SERVERS_INFO")[0]
    with urllib.request.urlopen(f"http://{ip}:{port}/ddl/history?limit=2000", timeout=30) as r:
        return {j["binlog"]["FinishedTS"]: j for j in json.load(r)}


def test_simulator_on_tidb_replicates_exactly(tidb_config, kafka_topic, tidb_sim_db, tmp_path):
    cfg = dataclasses.replace(tidb_config, kafka=dataclasses.replace(tidb_config.kafka, topic=kafka_topic))
    s = run_simulation(cfg, SimulatorOptions(seed=7, txns=150, databases=[tidb_sim_db], tables=2, ddl_every=20,
                                             redeliver=0.01))
    assert s.txns == 150 and s.ddls >= 1 + 2 + 7  # database, 2 OLTP tables, 6 special tables + autorand
    assert f"{tidb_sim_db}.autorand" in s.tables
    events, redelivered = originals(msgs := read_messages(cfg, kafka_topic, s.messages),
                                    decode_all(cfg, kafka_topic, msgs))
    assert redelivered == s.redelivered

    # DDL messages are TiDB's own jobs: the job that finished at that TSO, with that text.
    history = _ddl_history(cfg)
    ddls = [e for e in events if isinstance(e, DDL)]
    assert len(ddls) == s.ddls
    for e in ddls:
        job = history.get(e.commit_ts)
        assert job is not None, f"no TiDB DDL job finished at {e.commit_ts}: {e.query}"
        assert (job["query"], job["schema_name"]) == (e.query, e.schema)
        if e.query.startswith("rename table"):  # Drainer names the table after the rename
            assert e.table == job["binlog"]["TableInfo"]["name"]["O"] != job["table_name"], (e, job["table_name"])
    assert any(e.query.startswith("rename table") for e in ddls)  # seed 7 renames a table

    # Transactions carry TiDB's commit_ts: the change appears exactly at that TSO.
    txns = [e for e in events if isinstance(e, Txn)]
    assert len(txns) == s.txns
    auto_keys = []
    for t in txns:
        for tc in t.tables:
            if tc.schema.table == "autorand":
                auto_keys += [r.new[0] for r in tc.rows if r.op == Op.INSERT]
    assert len(auto_keys) >= 5, auto_keys
    assert any(k >> 58 for k in auto_keys), auto_keys  # AUTO_RANDOM(5): shard bits above bit 58
    probe = next(t for t in txns for tc in t.tables if tc.schema.table == "autorand"
                 and any(r.op == Op.INSERT for r in tc.rows))
    key = next(r.new[0] for tc in probe.tables if tc.schema.table == "autorand" for r in tc.rows
               if r.op == Op.INSERT)
    with stack.connect(cfg.source, tidb_sim_db) as conn:
        seen = []
        for ts in (probe.commit_ts - 1, probe.commit_ts):
            stack.run(conn, f"SET @@tidb_snapshot = '{ts}'")
            seen.append(stack.run(conn, "SELECT COUNT(*) FROM autorand WHERE id = %s", (key,))[0][0])
        stack.run(conn, "SET @@tidb_snapshot = ''")
    assert seen == [0, 1], (probe.commit_ts, key, seen)

    # And the stream replicates: the target equals TiDB.
    conf = flowrun.write_config(tmp_path / "t2m.toml", topic=kafka_topic, job=f"tsim_{kafka_topic[-12:]}",
                                base=tidb.config_path())
    log = tmp_path / "incremental.log"
    assert flowrun.run(flowrun.incremental_cmd(conf, workers=2), log, timeout=300) == 0, flowrun.tail(log)
    assert tidb_sim_db in tidb.assert_source_equals_target(cfg, tidb_sim_db)
