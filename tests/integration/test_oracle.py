"""The oracle is self-consistent: simulator messages, replayed plainly, rebuild the source.

The whole project is judged by "after replication the target equals the source". That only
means something if the simulator's Drainer messages describe exactly what it did to the
source. So: run the simulator (DML + interleaved DDL, redeliveries, edge values), read the
topic from the beginning, decode every message, drop redeliveries (commit_ts not above the
last one seen, as Drainer's at-least-once delivery requires), apply the rest one by one with
the deliberately simple reference applier to EMPTY databases of the same names on the
target server, and compare source and target with ``tidb2mysql.compare``: they must be equal.
A last step breaks one target row and checks that the comparison notices, so a comparison
that always says "equal" cannot pass this test.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
from confluent_kafka import Consumer, TopicPartition

from tidb2mysql.compare import compare_databases
from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.events import DDL, Position, Txn
from tidb2mysql.kafka_settings import consumer_config
from tidb2mysql.simulator import SimulatorOptions, run_simulation
from tests.support import stack
from tests.support.reference_applier import apply_events

pytestmark = pytest.mark.integration

TXNS = 300


def read_topic(cfg, topic: str, decoder: Decoder) -> list[Txn | DDL]:
    """Every message of partition 0 from the beginning to the current end, decoded."""
    consumer = Consumer(consumer_config(cfg.kafka, **{"group.id": f"{topic}_oracle"}))
    try:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, low)])
        events: list[Txn | DDL] = []
        next_offset = low
        deadline = time.monotonic() + 60
        while next_offset < high:
            assert time.monotonic() < deadline, f"read {next_offset - low} of {high - low} messages in 60 s"
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            assert msg.offset() == next_offset, f"expected offset {next_offset}, got {msg.offset()}"
            events.append(decoder.decode(msg.value(), Position(topic, 0, msg.offset())))
            next_offset += 1
        return events
    finally:
        consumer.close()


def drop_redeliveries(events: list[Txn | DDL]) -> tuple[list[Txn | DDL], int]:
    kept, last, dropped = [], -1, 0
    for e in events:
        if e.commit_ts <= last:
            dropped += 1
            continue
        last = e.commit_ts
        kept.append(e)
    return kept, dropped


def drop_databases(endpoint, names) -> None:
    with stack.connect(endpoint) as conn, conn.cursor() as cur:
        for name in names:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_reference_replay_rebuilds_the_source(stack_config, kafka_topic, seed):
    cfg = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=kafka_topic))
    databases = [stack.unique_name(f"oracle_{seed}_{i}") for i in range(2)]
    cleanup = set(databases)
    drop_databases(cfg.target, databases)
    try:
        t0 = time.monotonic()
        summary = run_simulation(cfg, SimulatorOptions(
            seed=seed, txns=TXNS, databases=databases, tables=3, ddl_every=25,
            redeliver=0.02, edge_values=0.2,
        ))
        cleanup.update(summary.databases)
        t_sim = time.monotonic() - t0
        assert summary.txns == TXNS and summary.ddls >= TXNS // 25 // 2, summary

        events = read_topic(cfg, kafka_topic, Decoder(cfg.drainer.time_zone))
        assert len(events) == summary.messages
        events, dropped = drop_redeliveries(events)
        assert dropped == summary.redelivered
        assert len(events) == summary.txns + summary.ddls
        assert sum(isinstance(e, DDL) for e in events) == summary.ddls

        # The stream recreates the databases itself (CREATE DATABASE messages).
        drop_databases(cfg.target, cleanup)
        t1 = time.monotonic()
        target = stack.connect(cfg.target)
        source = stack.connect(cfg.source)
        try:
            assert apply_events(target, events) == len(events)
            t_apply = time.monotonic() - t1
            t2 = time.monotonic()
            compared_rows = 0
            for name in summary.databases:
                result = compare_databases(source, name, target, name)
                assert result.equal, f"seed {seed}, database {name}:\n{result}"
                compared_rows += sum(t.rows_a for t in result.tables)
            t_cmp = time.monotonic() - t2
            assert compared_rows > 0
            print(f"\nseed {seed}: {summary.messages} messages ({summary.txns} txns, {summary.ddls} DDL, "
                  f"{summary.redelivered} redelivered), {summary.rows} row changes; simulate {t_sim:.1f}s, "
                  f"apply {t_apply:.1f}s, compare {compared_rows} rows {t_cmp:.2f}s")

            # Negative control: one changed target row must make the comparison fail.
            name, table = next((d, t.table_a) for d in summary.databases
                               for t in compare_databases(source, d, target, d).tables if t.rows_b)
            with target.cursor() as cur:
                cur.execute(f"DELETE FROM `{name}`.`{table}` LIMIT 1")
            broken = compare_databases(source, name, target, name)
            assert not broken.equal and "only in source" in str(broken)
        finally:
            target.close()
            source.close()
    finally:
        drop_databases(cfg.target, cleanup)
        drop_databases(cfg.source, cleanup)
