"""Large cases through the simulator: a 16 MiB BLOB row and a ~100 MB transaction.

Both go source -> one Drainer message -> Kafka -> Decoder, and the decoded rows must equal
the source byte for byte (SHA-256 computed by the server vs. of the decoded bytes).
Timings are printed (run with -s); the 100 MB case is meant to stay well under a minute.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.integration.test_simulator_stream import decode_all, read_messages, with_topic
from tests.support import stack
from tidb2mysql.events import Op, Txn
from tidb2mysql.simulator import publish_big_transaction

pytestmark = pytest.mark.integration


def _round_trip(stack_config, kafka_topic, dbname: str, table: str, rows: int, payload: int) -> None:
    cfg = with_topic(stack_config, kafka_topic)
    t0 = time.monotonic()
    ts, size = publish_big_transaction(cfg, dbname, rows=rows, payload_bytes=payload, table=table, seed=rows)
    t1 = time.monotonic()
    msgs = read_messages(cfg, kafka_topic, 3)  # create database, create table, the transaction
    t2 = time.monotonic()
    events = decode_all(cfg, kafka_topic, msgs)
    t3 = time.monotonic()
    print(f"\n{rows} x {payload} B: message {size / 1e6:.1f} MB; simulate+publish {t1 - t0:.1f}s,"
          f" consume {t2 - t1:.1f}s, decode {t3 - t2:.1f}s")
    txn = events[-1]
    assert isinstance(txn, Txn) and txn.commit_ts == ts and len(msgs[-1].value()) == size
    assert size > rows * payload
    (tc,) = txn.tables
    assert (tc.schema.schema, tc.schema.table) == (dbname, table)
    assert [r.op for r in tc.rows] == [Op.INSERT] * rows
    got = {r.new[0]: hashlib.sha256(r.new[1]).hexdigest() for r in tc.rows}
    assert all(len(r.new[1]) == payload for r in tc.rows)
    with stack.connect(cfg.source, dbname) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT id, SHA2(payload, 256) FROM `{table}`")
        assert dict(cur.fetchall()) == got
        cur.execute("SELECT commit_ts FROM _tidb2mysql_sim.tso WHERE topic=%s", (kafka_topic,))
        assert cur.fetchone()[0] == ts


def test_16mib_blob_row(stack_config, kafka_topic, request):
    dbname = stack.unique_name(request.node.name, "sim")
    try:
        _round_trip(stack_config, kafka_topic, dbname, "blob16", rows=1, payload=16 << 20)
    finally:
        stack.drop_database(stack_config.source, dbname)


def test_100mb_transaction(stack_config, kafka_topic, request):
    dbname = stack.unique_name(request.node.name, "sim")
    t0 = time.monotonic()
    try:
        _round_trip(stack_config, kafka_topic, dbname, "big100", rows=100, payload=1_000_000)
    finally:
        stack.drop_database(stack_config.source, dbname)
    assert time.monotonic() - t0 < 90, "the 100 MB case got slow"
