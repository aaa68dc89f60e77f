"""Encoded Drainer messages survive the real Kafka broker; corrupted ones fail at their exact offset."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.kafka_settings import consumer_config, producer_config

pytestmark = pytest.mark.integration

TZ = "Asia/Shanghai"
S = TableSchema(
    "shop", "orders",
    ("id", "u", "amount", "at", "ts", "dur", "note", "raw"),
    ("bigint", "bigint", "decimal", "datetime", "timestamp", "time", "text", "blob"),
    (20, 20, 65, 0, 0, 0, 65535, 65535), (0, 0, 30, 6, 3, 1, 0, 0),
    pk=(0,), unique_keys=(("PRIMARY", (0,)),), unsigned=(1,),
)


def _row(i: int) -> tuple:
    return (
        i, (1 << 64) - 1 - i, Decimal(f"-{i}.5"), datetime(2024, 1, 2, 3, 4, 5, 123456),
        datetime(2024, 6, 1, 12, 0, 0, 250000), timedelta(hours=-838, seconds=-0.5 * (i % 2)),
        "😀" * i, b"\x00" * i,
    )


def _consume(stack_config, topic: str, n: int) -> list:
    c = Consumer(consumer_config(stack_config.kafka, **{"group.id": f"t-{topic}", "auto.offset.reset": "earliest"}))
    try:
        c.assign([TopicPartition(topic, 0, 0)])
        out = []
        for _ in range(200):
            if len(out) == n:
                break
            m = c.poll(0.5)
            if m is None:
                continue
            assert m.error() is None, m.error()
            out.append(m)
        assert len(out) == n, f"consumed {len(out)} of {n} messages"
        return out
    finally:
        c.close()


def test_good_messages_decode_equal_and_corrupt_ones_name_their_offset(stack_config, kafka_topic):
    txns = [
        Txn(1000 + i, [TableChanges(S, [RowChange(Op.INSERT, _row(i), None),
                                        RowChange(Op.UPDATE, _row(i + 1), _row(i)),
                                        RowChange(Op.DELETE, None, _row(i + 1))])])
        for i in range(3)
    ]
    ddl = DDL(2000, "shop", "orders", "ALTER TABLE orders ADD COLUMN c INT COMMENT 'é'")
    good = encode_txn(txns[0], TZ)
    payloads = [
        good,
        encode_ddl(ddl),
        good[: len(good) // 2],  # truncated
        random.Random(7).randbytes(300) + b"\xff",  # random bytes (ends in an unfinished varint)
        encode_txn(txns[1], TZ),
        encode_txn(txns[2], TZ),
    ]
    p = Producer(producer_config(stack_config.kafka))
    for v in payloads:
        p.produce(kafka_topic, value=v, partition=0)
    assert p.flush(30) == 0

    msgs = _consume(stack_config, kafka_topic, len(payloads))
    dec = Decoder(TZ)
    got = []
    for m in msgs:
        pos = KafkaPosition(m.topic(), m.partition(), m.offset())
        try:
            got.append(dec.decode(m.value(), pos))
        except DrainerDecodeError as e:
            got.append(e)

    offsets = [m.offset() for m in msgs]
    assert offsets == list(range(len(payloads)))
    assert got[0].tables[0].rows == txns[0].tables[0].rows and got[0].commit_ts == 1000
    assert got[0].position == KafkaPosition(kafka_topic, 0, 0)
    assert got[1] == DDL(2000, "shop", "orders", ddl.query, KafkaPosition(kafka_topic, 0, 1))
    for off in (2, 3):
        e = got[off]
        assert isinstance(e, DrainerDecodeError), e
        assert f"topic {kafka_topic!r} partition 0 offset {off}" in str(e)
        assert e.position == KafkaPosition(kafka_topic, 0, off)
        assert e.payload_size == len(payloads[off])
    for k, off in ((1, 4), (2, 5)):
        assert got[off].tables[0].rows == txns[k].tables[0].rows
        assert got[off].position.offset == off
