"""The simulator's Kafka stream, as Drainer would write it: order, counts, DDL rules, traps.

Runs the real simulator against the stack's source and Kafka, consumes the topic and decodes
every message with the project's Decoder. Checks: partition 0 with null keys; exactly one
message per transaction and per DDL job (plus the announced redeliveries, which must be
byte-identical copies of earlier messages); commit_ts strictly increasing apart from
redeliveries; ``DROP TABLE a, b`` twice with the full text; Drainer's table-name rules;
the generated-column trap; the tso table on the source; same seed -> same stream; the CLI.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.support import stack
from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.events import DDL, Op, KafkaPosition, Txn
from tidb2mysql.kafka_settings import consumer_config
from tidb2mysql.simulator import SimulatorOptions, run_simulation

pytestmark = pytest.mark.integration


def with_topic(cfg, topic: str):
    return dataclasses.replace(cfg, kafka=dataclasses.replace(cfg.kafka, topic=topic))


def read_messages(cfg, topic: str, expected: int, timeout_s: float = 60.0) -> list:
    """Every message of partition 0 of ``topic`` (exactly ``expected`` of them)."""
    c = Consumer(consumer_config(cfg.kafka, **{"group.id": f"t-{topic}", "enable.auto.commit": False}))
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        out: list = []
        deadline = time.monotonic() + timeout_s
        while len(out) < expected and time.monotonic() < deadline:
            for m in c.consume(1000, 0.5):
                assert m.error() is None, m.error()
                out.append(m)
        extra = c.consume(10, 1.0)  # nothing beyond what the summary announced
        assert len(out) == expected and not extra, f"read {len(out)} + {len(extra)} messages, expected {expected}"
        return out
    finally:
        c.close()


def decode_all(cfg, topic: str, msgs: list) -> list:
    dec = Decoder(cfg.drainer.time_zone)
    return [dec.decode(m.value(), KafkaPosition(topic, m.partition(), m.offset())) for m in msgs]


def originals(msgs: list, events: list) -> tuple[list, int]:
    """Drop redeliveries (commit_ts not above the highest seen; must repeat an earlier message)."""
    seen: dict[int, bytes] = {}
    kept, redelivered, high = [], 0, -1
    for m, e in zip(msgs, events):
        if e.commit_ts <= high:
            assert seen.get(e.commit_ts) == m.value(), f"offset {m.offset()}: commit_ts went back but is no copy"
            redelivered += 1
            continue
        high = e.commit_ts
        seen[e.commit_ts] = m.value()
        kept.append(e)
    return kept, redelivered


@pytest.fixture
def sim_dbs(stack_config, request):
    names = [stack.unique_name(request.node.name, "sim"), stack.unique_name(request.node.name, "sim")]
    yield names
    with stack.connect(stack_config.source) as conn, conn.cursor() as cur:
        cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")
        for (name,) in cur.fetchall():
            if any(name.startswith(n) for n in names):  # incl. databases created by CREATE DATABASE DDL
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def test_stream_order_counts_ddl_rules_and_traps(stack_config, kafka_topic, sim_dbs):
    cfg = with_topic(stack_config, kafka_topic)
    t0 = time.monotonic()
    s = run_simulation(cfg, SimulatorOptions(seed=1, txns=300, ddl_every=10, redeliver=0.02, databases=sim_dbs,
                                             tables=3))
    sim_s = time.monotonic() - t0
    print(f"\nsimulator: {s.txns} txns, {s.rows} rows, {s.ddls} DDL, {s.messages} messages in {sim_s:.2f}s"
          f" = {s.txns / sim_s:.0f} txn/s, {s.rows / sim_s:.0f} rows/s")
    assert s.txns == 300 and s.redelivered > 0 and s.ddls > 2 * (1 + 3 + 5)  # setup: 2 x (db + 3 + 5 tables)
    msgs = read_messages(cfg, kafka_topic, s.messages)
    assert {m.partition() for m in msgs} == {0} and all(m.key() is None for m in msgs)
    events = decode_all(cfg, kafka_topic, msgs)
    kept, redelivered = originals(msgs, events)
    assert redelivered == s.redelivered
    txns = [e for e in kept if isinstance(e, Txn)]
    ddls = [e for e in kept if isinstance(e, DDL)]
    assert (len(txns), len(ddls)) == (s.txns, s.ddls)
    assert sum(len(tc.rows) for t in txns for tc in t.tables) == s.rows
    assert (kept[0].commit_ts, kept[-1].commit_ts) == (s.first_commit_ts, s.last_commit_ts)
    assert all(any(tc.rows for tc in t.tables) for t in txns)
    assert any(len(t.tables) > 1 for t in txns) and any(len(tc.rows) > 1 for t in txns for tc in t.tables)

    with stack.connect(cfg.source) as conn, conn.cursor() as cur:
        cur.execute("SELECT commit_ts FROM _tidb2mysql_sim.tso WHERE topic=%s", (kafka_topic,))
        assert cur.fetchone()[0] == s.last_commit_ts
        cur.execute("SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES"
                    " WHERE TABLE_SCHEMA IN %s AND TABLE_TYPE='BASE TABLE'", (sim_dbs,))
        assert sorted(r[0] for r in cur.fetchall()) == s.tables
    assert not any(e.schema == "_tidb2mysql_sim" for e in ddls)
    assert not any(tc.schema.schema == "_tidb2mysql_sim" for t in txns for tc in t.tables)

    # DROP TABLE a, b: two DDL messages in a row, each with the full text, one per table.
    two = [(i, d) for i, d in enumerate(ddls) if re.match(r"drop table `\w+`, `\w+`$", d.query)]
    assert two, "this seed must exercise DROP TABLE a, b"
    assert len(two) % 2 == 0
    for (i, a), (j, b) in zip(two[::2], two[1::2]):
        assert j == i + 1 and a.query == b.query and a.schema == b.schema
        assert re.findall(r"`(\w+)`", a.query) == [a.table, b.table]

    for d in ddls:
        q = d.query
        if q.startswith(("create database", "drop database")):
            assert d.table == "" and d.schema == re.search(r"`(\w+)`", q).group(1)
        elif q.startswith("rename table"):
            assert d.table == re.findall(r"`(\w+)`", q)[-1]  # the NEW name
        elif q.startswith("create table") and "primary key" in q:
            assert "/*T![clustered_index] CLUSTERED */" in q and "COLLATE=utf8mb4_bin" in q
    assert {q.split(" ")[0] + " " + q.split(" ")[1] for q in (d.query for d in ddls)} >= {
        "create database", "create table", "alter table", "drop table"}

    # Drainer's generated-column trap on `gen` (y = x * 2 VIRTUAL, nullable).
    seen = {Op.INSERT: 0, Op.UPDATE: 0, Op.DELETE: 0}
    for t in txns:
        for tc in t.tables:
            if tc.schema.table != "gen":
                continue
            y = tc.schema.columns.index("y")
            for r in tc.rows:
                seen[r.op] += 1
                if r.op == Op.INSERT:
                    assert r.new[y] is None
                elif r.op == Op.UPDATE:
                    assert r.new[y] is None and r.old[y] is None
                else:
                    x = r.old[tc.schema.columns.index("x")]
                    assert r.old[y] == (None if x is None else 2 * x)
    assert all(seen.values()), seen

    # Unique-key swap: three updates on `uniq` moving emails through a temporary value.
    swaps = 0
    for t in txns:
        for tc in t.tables:
            if tc.schema.table == "uniq":
                e = tc.schema.columns.index("email")
                for a, b, c in zip(tc.rows, tc.rows[1:], tc.rows[2:]):
                    if all(r.op == Op.UPDATE for r in (a, b, c)) and a.new[e].startswith("tmp") \
                            and b.new[e] == a.old[e] and c.new[e] == b.old[e] and c.old[0] == a.old[0]:
                        swaps += 1
    assert swaps > 0


def _fingerprint(events: list) -> list:
    out = []
    for e in events:
        if isinstance(e, DDL):
            out.append(("ddl", e.schema, e.table, e.query))
        else:
            out.append(("txn", [(tc.schema.table, tc.schema.columns, tc.schema.types,
                                 [(r.op, r.new, r.old) for r in tc.rows]) for tc in e.tables]))
    return out


def test_same_seed_same_stream(stack_config, sim_dbs, request):
    streams = []
    for _ in range(2):
        topic = stack.create_topic(stack_config.kafka, label=request.node.name)
        try:
            cfg = with_topic(stack_config, topic)
            s = run_simulation(cfg, SimulatorOptions(seed=9, txns=60, ddl_every=10, redeliver=0.05,
                                                     databases=sim_dbs[:1], tables=2))
            streams.append(_fingerprint(decode_all(cfg, topic, read_messages(cfg, topic, s.messages))))
        finally:
            stack.delete_topic(stack_config.kafka, topic)
    assert streams[0] == streams[1]
    assert len(streams[0]) > 60


def test_cli_prints_a_json_summary(stack_config, kafka_topic, sim_dbs, tmp_path):
    cfg_path = stack.config_path()
    p = subprocess.run(
        [sys.executable, "-m", "tidb2mysql.cli", "simulate", "--config", str(cfg_path), "--topic", kafka_topic,
         "--seed", "3", "--txns", "25", "--tables", "1", "--txn-rows", "2,3", "--databases", sim_dbs[0], "--json"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).parents[2])
    assert p.returncode == 0, p.stderr
    summary = json.loads(p.stdout)
    assert summary["txns"] == 25 and summary["databases"] == [sim_dbs[0]]
    assert 50 <= summary["rows"] <= 75 + 25  # uk_swap may add its 3 updates
    cfg = with_topic(stack_config, kafka_topic)
    events = decode_all(cfg, kafka_topic, read_messages(cfg, kafka_topic, summary["messages"]))
    assert sum(isinstance(e, Txn) for e in events) == 25
    assert events[-1].commit_ts == summary["last_commit_ts"]


def test_setup_only_creates_a_missing_topic_then_duration_and_rate(stack_config, sim_dbs, request):
    topic = stack.unique_name(request.node.name)  # not created: the simulator must create it
    cfg = with_topic(stack_config, topic)
    try:
        s = run_simulation(cfg, SimulatorOptions(seed=4, setup_only=True, databases=sim_dbs[:1], tables=2))
        assert (s.txns, s.rows, s.ddls, s.messages) == (0, 0, 1 + 2 + 6, 9)  # 6 special tables
        md = stack.admin_client(cfg.kafka).list_topics(topic, timeout=10)
        assert len(md.topics[topic].partitions) == 1
        first = decode_all(cfg, topic, read_messages(cfg, topic, s.messages))
        assert all(isinstance(e, DDL) for e in first) and first[0].query.startswith("create database")
        t0 = time.monotonic()
        s2 = run_simulation(cfg, SimulatorOptions(seed=4, txns=0, duration_s=1.5, rate=20, databases=sim_dbs[:1],
                                                  tables=2))
        took = time.monotonic() - t0
        assert 20 <= s2.txns <= 32 and took < 10, (s2.txns, took)  # ~1.5 s x 20/s, paced, then stops
        assert s2.first_commit_ts > s.last_commit_ts  # strictly increasing across runs (tso table)
    finally:
        stack.delete_topic(stack_config.kafka, topic)
