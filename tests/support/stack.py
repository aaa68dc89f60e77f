"""Plain helpers for talking to the local stack (``make up``) from tests and tools.

The pytest fixtures in ``tests/conftest.py`` are thin wrappers around these, so code that is
not a fixture (a test that starts ``tidb2mysql`` in a subprocess, a benchmark script) can
create and clean up the same things the same way.

Several engineers and CI jobs share one stack, so every database and topic made here gets
a unique name: the caller's label, a short hash of it, and random hex.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from pathlib import Path
from typing import Optional

import pymysql
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from tidb2mysql import config as config_mod
from tidb2mysql.mysql import db
from tidb2mysql.config import Config, Endpoint, KafkaConfig
from tidb2mysql.kafka_settings import admin_config

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / ".stack" / "tidb2mysql.toml"


class StackUnavailable(RuntimeError):
    """The local stack is not running or not reachable; the message says what to do."""


def config_path() -> Path:
    """``$TIDB2MYSQL_CONFIG`` if set, else the file ``make up`` writes."""
    return Path(os.environ.get(config_mod.ENV_VAR) or DEFAULT_CONFIG)


def load_config() -> Config:
    path = config_path()
    if not path.exists():
        raise StackUnavailable(f"no stack config at {path}: run `make up` (or set ${config_mod.ENV_VAR})")
    return config_mod.load(path)


def unique_name(label: str, prefix: str = "t2m") -> str:
    """``t2m_<label>_<hash>_<random>``: readable, unique, and a valid MySQL/Kafka name (<= 64)."""
    clean = re.sub(r"[^A-Za-z0-9_]+", "_", label).strip("_").lower()[:24] or "x"
    digest = hashlib.sha1(label.encode()).hexdigest()[:6]
    return f"{prefix}_{clean}_{digest}_{uuid.uuid4().hex[:8]}"


def connect(endpoint: Endpoint, db_name: Optional[str] = None, **kw) -> pymysql.connections.Connection:
    """Autocommit utf8mb4 connection to ``endpoint``, ``db_name`` selected if given."""
    return db.connect(endpoint, database=db_name, autocommit=True, **kw)


def run(conn, sql: str, args=None) -> tuple:
    """Execute one statement and return all its rows (tuples, as the driver gives them)."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def create_database(endpoint: Endpoint, label: str) -> str:
    name = unique_name(label)
    with connect(endpoint) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
    return name


def drop_database(endpoint: Endpoint, name: str) -> None:
    with connect(endpoint) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def admin_client(kafka: KafkaConfig) -> AdminClient:
    return AdminClient(admin_config(kafka))


def create_topic(kafka: KafkaConfig, name: Optional[str] = None, label: str = "topic",
                 partitions: int = 1, timeout: float = 30.0) -> str:
    """Create a topic (unique name unless given) and wait until its leader is known."""
    name = name or unique_name(label)
    admin = admin_client(kafka)
    future = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                 operation_timeout=timeout)[name]
    try:
        future.result(timeout)
    except KafkaException as e:
        if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise
    # create_topics returns when the controller accepted it; producers need a leader.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        topic = admin.list_topics(name, timeout=5).topics.get(name)
        if topic is not None and topic.error is None and len(topic.partitions) == partitions \
                and all(p.leader >= 0 for p in topic.partitions.values()):
            return name
        time.sleep(0.05)
    raise TimeoutError(f"topic {name} has no leader after {timeout} s")


def delete_topic(kafka: KafkaConfig, name: str, timeout: float = 30.0) -> None:
    """Delete a topic; a topic that does not exist (any more) is fine."""
    admin = admin_client(kafka)  # keep a reference: a collected client fails its futures
    future = admin.delete_topics([name], operation_timeout=timeout)[name]
    try:
        future.result(timeout)
    except KafkaException as e:
        if e.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
            raise


def read_partition(kafka: KafkaConfig, topic: str, partition: int, timeout: float = 60.0) -> list:
    """Every message of one partition, from its low to its high watermark, in offset order."""
    from confluent_kafka import Consumer, TopicPartition

    from tidb2mysql.kafka_settings import consumer_config, watermark_offsets

    consumer = Consumer(consumer_config(kafka, **{"group.id": f"{topic}_read"}))
    try:
        low, high = watermark_offsets(consumer, TopicPartition(topic, partition))
        consumer.assign([TopicPartition(topic, partition, low)])
        out: list = []
        nxt = low
        deadline = time.monotonic() + timeout
        while nxt < high:
            assert time.monotonic() < deadline, f"partition {partition}: read {nxt - low} of {high - low} in {timeout} s"
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            assert msg.offset() == nxt, f"expected offset {nxt}, got {msg.offset()}"
            out.append(msg)
            nxt += 1
        return out
    finally:
        consumer.close()


def check_reachable(cfg: Config, timeout: float = 5.0) -> None:
    """Raise StackUnavailable naming what does not answer (both servers and Kafka)."""
    problems = []
    for role in ("source", "target"):
        ep: Endpoint = getattr(cfg, role)
        try:
            with connect(ep, connect_timeout=int(timeout)) as conn, conn.cursor() as cur:
                cur.execute("SELECT 1")
        except pymysql.MySQLError as e:
            problems.append(f"{role} MySQL {ep.describe()}: {e}")
    try:
        md = admin_client(cfg.kafka).list_topics(timeout=timeout)
        if not md.brokers:
            problems.append(f"Kafka {cfg.kafka.brokers}: no brokers in metadata")
    except KafkaException as e:
        problems.append(f"Kafka {cfg.kafka.brokers}: {e}")
    if problems:
        raise StackUnavailable("the local stack is not reachable; run `make up`.\n  " + "\n  ".join(problems))
