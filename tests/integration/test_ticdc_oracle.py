"""The TiCDC oracle: the simulator's TiCDC messages, decoded and replayed plainly, rebuild the source.

Like test_oracle.py for Drainer, for each TiCDC format: run the simulator on the real source
with TiCDC output (N partitions, a dispatcher, watermarks, DDL, redeliveries), read every
partition of the topic, decode every message with the project's codec (``codec_for``), put
the transactions back together with the plain consumer of tests/support/ticdc_consumer.py
(TiCDC's own consumer rules), apply them with the reference applier to empty databases on the
target, and compare source and target: they must be equal. This checks the encoders, the
decoders and the simulator's TiCDC model together against the real servers (no mocks).
"""

from __future__ import annotations

import dataclasses
import time

import pytest

from tests.support import stack
from tests.support.reference_applier import apply_events
from tests.support.ticdc_consumer import assemble
from tidb2mysql.compare import compare_databases
from tidb2mysql.events import DDL, KafkaPosition
from tidb2mysql.input.codec import Watermark, codec_for

pytestmark = pytest.mark.integration

TXNS = 250


def read_partitions(cfg, topic: str, codec) -> list[list]:
    """Every message of every partition, decoded, in offset order per partition."""
    md = stack.admin_client(cfg.kafka).list_topics(topic, timeout=10)
    return [[e for m in stack.read_partition(cfg.kafka, topic, p)
             for e in codec.decode(m.key(), m.value(), KafkaPosition(topic, p, m.offset()))]
            for p in sorted(md.topics[topic].partitions)]


@pytest.mark.parametrize("fmt, partitions, dispatcher, seed", [
    ("ticdc-canal-json", 3, "index-value", 11),
    ("ticdc-open-protocol", 3, "ts", 12),
    ("ticdc-canal-json", 1, "table", 13),
    ("ticdc-open-protocol", 8, "index-value", 14),
])
def test_ticdc_replay_rebuilds_the_source(stack_config, request, fmt, partitions, dispatcher, seed):
    from tidb2mysql.simulator import SimulatorOptions, run_simulation

    topic = stack.unique_name(request.node.name, "ticdc")
    cfg = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=topic))
    cfg = dataclasses.replace(cfg, input=dataclasses.replace(cfg.input, format=fmt, time_zone="Asia/Shanghai"))
    databases = [stack.unique_name(f"ticdc_{seed}_{i}") for i in range(2)]
    cleanup = set(databases)
    try:
        t0 = time.monotonic()
        summary = run_simulation(cfg, SimulatorOptions(
            seed=seed, txns=TXNS, databases=databases, tables=2, ddl_every=25, redeliver=0.02,
            edge_values=0.2, partitions=partitions, dispatcher=dispatcher, watermark_every=3,
        ))
        cleanup.update(summary.databases)
        t_sim = time.monotonic() - t0
        assert summary.output == fmt and summary.txns == TXNS, summary

        per_partition = read_partitions(cfg, topic, codec_for(cfg))
        assert len(per_partition) == partitions
        # watermarks reach every partition; canal-json DDL only partition 0, open protocol all
        for p, events in enumerate(per_partition):
            assert any(isinstance(e, Watermark) for e in events), f"partition {p} has no watermark"
            has_ddl = any(isinstance(e, DDL) for e in events)
            assert has_ddl == (p == 0 or fmt == "ticdc-open-protocol"), (p, has_ddl)
        events, stats = assemble(per_partition)
        assert stats["unresolved"] == 0, stats
        assert sum(isinstance(e, DDL) for e in events) == summary.ddls
        if summary.redelivered:
            assert stats["replays"] > 0, stats

        with stack.connect(cfg.target) as conn, conn.cursor() as cur:  # the stream creates them
            for name in cleanup:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        target, source = stack.connect(cfg.target), stack.connect(cfg.source)
        try:
            apply_events(target, events)
            compared = set()
            for name in sorted(cleanup):
                with source.cursor() as cur:
                    cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
                    if cur.fetchone() is None:
                        continue
                result = compare_databases(source, name, target, name)
                assert result.equal, f"{fmt} seed {seed}, database {name}:\n{result}"
                compared.update(t.table_a for t in result.tables if t.rows_a)
            assert {"all_types", "nokey", "ukonly", "uniq", "composite"} <= compared, compared
            print(f"\n{fmt} x{partitions} {dispatcher}: {summary.messages} messages ({summary.txns} txns,"
                  f" {summary.ddls} DDL, {summary.redelivered} redelivered, {stats}), simulate {t_sim:.1f}s")
        finally:
            target.close()
            source.close()
    finally:
        for endpoint in (cfg.source, cfg.target):
            with stack.connect(endpoint) as conn, conn.cursor() as cur:
                for name in cleanup:
                    cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        stack.delete_topic(cfg.kafka, topic)
