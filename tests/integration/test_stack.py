"""The local stack is what the rest of the test suite relies on.

Checks the promises of ``make up`` against the running servers: versions, that source and
target are really two servers, the 1 GiB packet limit, and that a Drainer-size message
passes through Kafka with the client settings from ``tidb2mysql.kafka_settings``.
"""

from __future__ import annotations

import os
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from tests.support import stack
from tidb2mysql.mysql import db
from tidb2mysql.kafka_settings import consumer_config, producer_config

pytestmark = pytest.mark.integration

GIB = 1 << 30


def _one(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


@pytest.mark.parametrize("role", ["source", "target"])
def test_servers_are_mariadb_10_11_with_1gib_packets(stack_config, role):
    with db.connect(getattr(stack_config, role)) as conn:
        version = _one(conn, "SELECT VERSION()")
        assert version.startswith("10.11.") and "MariaDB" in version, version
        assert _one(conn, "SELECT @@max_allowed_packet") >= GIB
        assert _one(conn, "SELECT @@character_set_server") == "utf8mb4"


def test_source_collates_like_tidb(source_conn):
    assert _one(source_conn, "SELECT @@collation_server") == "utf8mb4_bin"


def test_source_and_target_are_different_servers(stack_config, source_conn, source_db, target_conn, target_db):
    ident = "SELECT CONCAT(@@server_id, ':', @@datadir, ':', @@port)"
    assert _one(source_conn, ident) != _one(target_conn, ident)
    with source_conn.cursor() as cur:
        cur.execute("CREATE TABLE only_on_source (id INT PRIMARY KEY)")
    count = (
        "SELECT COUNT(*) FROM information_schema.tables "
        "WHERE table_schema = %s AND table_name = 'only_on_source'"
    )
    with source_conn.cursor() as cur:
        cur.execute(count, (source_db,))
        assert cur.fetchone()[0] == 1
    # The target has no database of that name at all, let alone the table.
    with target_conn.cursor() as cur:
        cur.execute(count, (source_db,))
        assert cur.fetchone()[0] == 0
        cur.execute("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = %s", (source_db,))
        assert cur.fetchone()[0] == 0


def test_large_statement_passes_client_and_server(target_conn):
    # A 20 MiB value in one statement: over MariaDB's default 16 MiB max_allowed_packet, so
    # this fails unless the server's limit was raised (and PyMySQL splits it into packets).
    blob = os.urandom(20 * 1024 * 1024)
    with target_conn.cursor() as cur:
        cur.execute("CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB)")
        cur.execute("INSERT INTO big VALUES (1, %s)", (blob,))
        cur.execute("SELECT b FROM big WHERE id = 1")
        assert cur.fetchone()[0] == blob


def test_kafka_passes_a_20mb_message_with_our_client_settings(stack_config, kafka_topic):
    payload = os.urandom(20 * 1024 * 1024)
    producer = Producer(producer_config(stack_config.kafka))
    delivered = []
    producer.produce(kafka_topic, value=payload, key=b"k", partition=0,
                     on_delivery=lambda err, msg: delivered.append((err, msg.offset() if msg else None)))
    assert producer.flush(60) == 0
    assert delivered == [(None, 0)], delivered

    consumer = Consumer(consumer_config(stack_config.kafka, **{"group.id": stack.unique_name("stacktest")}))
    try:
        consumer.assign([TopicPartition(kafka_topic, 0, 0)])
        deadline = time.monotonic() + 60
        msg = None
        while msg is None and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and msg.error():
                pytest.fail(f"consumer error on {kafka_topic}: {msg.error()}")
        assert msg is not None, f"no message came back from {kafka_topic} within 60 s"
        assert msg.offset() == 0 and msg.key() == b"k"
        assert len(msg.value()) == len(payload) and msg.value() == payload
    finally:
        consumer.close()


def test_kafka_does_not_auto_create_topics(stack_config):
    # A typo in a topic name must be an error, not a silently created empty topic.
    name = stack.unique_name("not_created")
    producer = Producer(producer_config(stack_config.kafka, **{"message.timeout.ms": 3000}))
    errors = []
    producer.produce(name, value=b"x", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(10)
    assert errors and errors[0] is not None
    md = stack.admin_client(stack_config.kafka).list_topics(timeout=10)
    assert name not in md.topics
