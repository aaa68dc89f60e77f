"""The TiCDC flow on hand-made canal-json streams (real Kafka and target; exact expectations).

Cases the simulator makes only by chance: one transaction spread over three partitions,
a unique-key swap between rows in different partitions, a DDL sent to partition 0 only,
rows after the last resolved event (must not be applied), a TiCDC restart re-sending a
stretch (rows below the watermark and the whole unresolved window again).
"""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer

from tidb2mysql.mysql import db
from tidb2mysql.events import DDL, Op, RowChange, TableSchema, make_tso
from tidb2mysql.input import canal_json
from tidb2mysql.kafka_settings import producer_config
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.route import MAX_SEQ
from tests.support import flowrun
from tests.support.stack import create_topic, delete_topic

pytestmark = [pytest.mark.integration]

BASE = 1_750_000_000_000


def ts(i: int) -> int:
    return make_tso(BASE + i)


class Stream:
    def __init__(self, kafka, topic: str):
        self.p = Producer(producer_config(kafka))
        self.topic = topic

    def row(self, part: int, schema: TableSchema, op: Op, commit: int, new=None, old=None) -> None:
        self.p.produce(self.topic, canal_json.encode_row(schema, RowChange(op, new, old), commit), partition=part)

    def ddl(self, commit: int, schema: str, table: str, query: str) -> None:
        self.p.produce(self.topic, canal_json.encode_ddl(DDL(commit, schema, table, query)), partition=0)

    def resolved(self, parts, commit: int) -> None:
        for part in parts:
            self.p.produce(self.topic, canal_json.encode_watermark(commit), partition=part)

    def flush(self) -> None:
        assert self.p.flush(30) == 0


@pytest.fixture
def names(stack_config):
    database = f"cdcs_{uuid.uuid4().hex[:6]}"
    topic = create_topic(stack_config.kafka, label="ticdc_stream", partitions=3)
    yield database, topic
    conn = db.connect(stack_config.target)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
    conn.close()
    delete_topic(stack_config.kafka, topic)


def rows(conf, sql: str) -> list:
    conn = db.connect(conf)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def test_transactions_over_partitions_ddl_on_partition_zero_and_redeliveries(stack_config, names, tmp_path):
    database, topic = names
    conn = db.connect(stack_config.target)
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{database}`")
        cur.execute(f"CREATE TABLE `{database}`.t (id int primary key, u int not null, v varchar(20), unique key uk (u))")
    conn.close()
    t = TableSchema(database, "t", ("id", "u", "v"), ("int", "int", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
    t2 = TableSchema(database, "t", ("id", "u", "v", "w"), ("int", "int", "varchar", "int"), pk=(0,),
                     unique_keys=(("PRIMARY", (0,)),))
    s = Stream(stack_config.kafka, topic)
    # txn 1: three rows, one per partition
    for part, i in enumerate((1, 2, 3)):
        s.row(part, t, Op.INSERT, ts(1), new=(i, 10 * i, f"r{i}"))
    s.resolved(range(3), ts(1))
    # txn 2: swap the unique values of rows 1 and 2 (TiCDC: deletes first, then inserts), rows
    # in partitions 0 and 1; partition 2 says nothing but its resolved ts
    s.row(0, t, Op.DELETE, ts(2), old=(1, 10, "r1"))
    s.row(1, t, Op.DELETE, ts(2), old=(2, 20, "r2"))
    s.row(0, t, Op.INSERT, ts(2), new=(1, 20, "r1"))
    s.row(1, t, Op.INSERT, ts(2), new=(2, 10, "r2"))
    s.resolved(range(3), ts(2))
    # a TiCDC restart: re-sends txn 2 on partition 0 (below its watermark) ...
    s.row(0, t, Op.DELETE, ts(2), old=(1, 10, "r1"))
    s.row(0, t, Op.INSERT, ts(2), new=(1, 20, "r1"))
    # txn 3 in partition 2 is delivered twice inside the unresolved window
    s.row(2, t, Op.UPDATE, ts(3), new=(3, 30, "r3b"), old=(3, 30, "r3"))
    s.row(2, t, Op.UPDATE, ts(3), new=(3, 30, "r3b"), old=(3, 30, "r3"))
    s.resolved(range(3), ts(3))
    # a DDL, on partition 0 only (canal-json), then rows in the new layout
    s.ddl(ts(4), database, "t", f"alter table `{database}`.t add column w int")
    s.resolved(range(3), ts(4))
    s.row(1, t2, Op.INSERT, ts(5), new=(4, 40, "r4", 7))
    s.row(2, t2, Op.UPDATE, ts(5), new=(3, 30, "r3c", 8), old=(3, 30, "r3b", None))
    s.resolved(range(3), ts(5))
    # not resolved on every partition: must wait (not applied by this bounded run)
    s.row(0, t2, Op.DELETE, ts(6), old=(1, 20, "r1", None))
    s.row(1, t2, Op.INSERT, ts(7), new=(9, 90, "r9", 9))
    s.resolved((1,), ts(8))
    s.flush()

    # precheck: every partition decodes as canal-json and carries resolved events
    import dataclasses

    from tidb2mysql.config.input import InputConfig
    from tidb2mysql.ops.ticdc_setup import precheck_topic

    cfg = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=topic))
    status, detail, _fix = precheck_topic(dataclasses.replace(cfg, input=InputConfig(format="ticdc-canal-json")))
    assert status == "pass" and "3 partition(s)" in detail, detail
    status, detail, _fix = precheck_topic(dataclasses.replace(cfg, input=InputConfig(format="ticdc-open-protocol")))
    assert status == "fail" and "do not decode as ticdc-open-protocol" in detail, detail
    s.p.produce(topic, b"{not canal-json", partition=1)  # undecodable: dead-lettered, the rest goes on
    s.flush()

    job = f"cdcs_{uuid.uuid4().hex[:6]}"
    cfg_path = flowrun.write_config(tmp_path / "t2m.toml", topic=topic, job=job, input={"format": "ticdc-canal-json"},
                                    incremental={"shards": 4})
    log = tmp_path / "flow.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg_path, workers=2), log, timeout=180)
    assert rc == 0, flowrun.tail(log)
    got = rows(stack_config.target, f"SELECT id, u, v, w FROM `{database}`.t ORDER BY id")
    assert got == [(1, 20, "r1", None), (2, 10, "r2", None), (3, 30, "r3c", 8), (4, 40, "r4", 7)]
    conn = db.connect(stack_config.target)
    try:
        cps = Checkpoints("tidb2mysql", job).load_all(conn)
        assert {c.position for c in cps} == {(ts(5), MAX_SEQ)}, cps  # the global resolved ts
        with conn.cursor() as cur:
            cur.execute("SELECT kind, kafka_partition, payload FROM tidb2mysql.dead_letter WHERE job=%s", (job,))
            assert [tuple(r) for r in cur.fetchall()] == [("decode", 1, b"{not canal-json")]
            cur.execute("SELECT status FROM tidb2mysql.ddl_history WHERE job=%s", (job,))
            assert [r[0] for r in cur.fetchall()] == ["applied"]
    finally:
        conn.close()

    # The rest arrives: a second run (no recovery directory: starts from the checkpoints)
    s.resolved((0, 2), ts(8))
    s.flush()
    rc = flowrun.run(flowrun.incremental_cmd(cfg_path, workers=1), log, timeout=180)
    assert rc == 0, flowrun.tail(log)
    got = rows(stack_config.target, f"SELECT id, u, v, w FROM `{database}`.t ORDER BY id")
    assert got == [(2, 10, "r2", None), (3, 30, "r3c", 8), (4, 40, "r4", 7), (9, 90, "r9", 9)]
