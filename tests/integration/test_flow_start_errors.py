"""A flow that cannot start says why, on one line, with one and with two processes.

Before: a missing topic surfaced with ``-w 1`` as librdkafka's "Unknown partition" at the
bottom of a Rust traceback, and with ``-p 2`` as nothing but "Send thread panic: Any { .. }"
from each process, exit code 1. Now a missing topic stops the flow before
Bytewax builds anything (exit 2, configuration), and any other failure while a reader is
built is named by one ERROR line per process (replication/runtime.py ``reported_start``).
Real broker and target; ~15 s.
"""

from __future__ import annotations

import pytest

from tidb2mysql.mysql import db
from tests.support import flowrun
from tests.support.stack import unique_name

pytestmark = pytest.mark.integration


def _meta_exists(cfg, meta: str) -> bool:
    with db.connect(cfg.target, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME=%s", (meta,))
        return cur.fetchone()[0] == 1


@pytest.mark.parametrize("processes", [1, 2])
def test_a_missing_topic_stops_the_flow_with_one_line(stack_config, tmp_path, processes):
    meta = unique_name("startmeta", prefix="x")
    topic = unique_name("no_topic", prefix="x")
    cfg = flowrun.write_config(tmp_path / "c.toml", topic=topic, job="start_errors", meta_schema=meta)
    log = tmp_path / "flow.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 1, processes), log, timeout=120)
    text = log.read_text()
    assert rc == 2, text[-3000:]  # configuration, not a crash
    assert "cannot start: Kafka 127.0.0.1:" in text and f"topic {topic!r} does not exist; fix: check [kafka] topic" in text, \
        text[-3000:]
    assert "Traceback" not in text and "panic" not in text, text[-3000:]
    assert not _meta_exists(stack_config, meta), "the flow prepared the target although it cannot read"


def test_a_reader_that_fails_to_start_is_named_by_every_process(stack_config, kafka_topic, tmp_path):
    """With -p 2 the cause used to be lost behind "Send thread panic" in both processes."""
    meta = unique_name("startmeta", prefix="x")
    cfg = flowrun.write_config(tmp_path / "c.toml", topic=kafka_topic, job="start_errors", meta_schema=meta)
    log = tmp_path / "flow.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 1, 2), log, timeout=120,
                     env={"TIDB2MYSQL_FAILPOINTS": "source.start=raise"})
    text = log.read_text()
    assert rc != 0, text[-3000:]
    for process in (0, 1):
        line = (f"ERROR tidb2mysql.incremental: process {process}: the reader of {kafka_topic!r} partition 0 could not"
                f" start: FailpointError: failpoint source.start ({process})")
        assert line in text, text[-3000:]
