"""librdkafka settings for tidb2mysql's Kafka clients: one place for producer and consumer.

Drainer writes one Kafka message per TiDB transaction, so a single message can be hundreds
of MB. librdkafka's defaults (1 MB messages, 50 MB fetches, 100 MB receive buffer) would
refuse or truncate those, and the error surfaces far from its cause. The simulator, the
flows and the tests therefore build their client configs here, and the local stack's broker
(scripts/stack.sh) is configured with matching limits.

Settings from the ``[kafka] client`` table of the configuration file (security.protocol,
sasl.*, or a tuned limit) are applied last, so an operator can override anything here.
"""

from __future__ import annotations

from typing import Any

from tidb2mysql.config import KafkaConfig

# librdkafka caps a producer's message.max.bytes at 1e9 (just under the broker's 1 GiB).
PRODUCER_MESSAGE_MAX_BYTES = 1_000_000_000
# One fetch may return a whole (huge) message batch. librdkafka caps the per-partition
# limit (max.partition.fetch.bytes) at 1e9; the whole-fetch limit may go higher.
CONSUMER_PARTITION_FETCH_MAX_BYTES = 1_000_000_000
CONSUMER_FETCH_MAX_BYTES = 1 << 30
# librdkafka requires receive.message.max.bytes >= fetch.max.bytes + 512 (protocol overhead).
CONSUMER_RECEIVE_MAX_BYTES = CONSUMER_FETCH_MAX_BYTES + (1 << 20)


def producer_config(kafka: KafkaConfig, **overrides: Any) -> dict[str, Any]:
    """Config for ``confluent_kafka.Producer`` writing Drainer-size messages to ``kafka``."""
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.brokers,
        "message.max.bytes": PRODUCER_MESSAGE_MAX_BYTES,
        # Drainer's own producer waits for all in-sync replicas; so do we.
        "acks": "all",
    }
    conf.update(kafka.client_config())
    conf.update(overrides)
    return conf


def consumer_config(kafka: KafkaConfig, **overrides: Any) -> dict[str, Any]:
    """Config for ``confluent_kafka.Consumer`` reading Drainer-size messages from ``kafka``.

    confluent-kafka refuses a consumer without ``group.id``, so a default is set; offsets
    are never committed to Kafka (they live in tidb2mysql's own checkpoints and Bytewax
    snapshots), so the group only names the client in the broker's logs.
    """
    conf: dict[str, Any] = {
        "bootstrap.servers": kafka.brokers,
        "group.id": "tidb2mysql",
        "enable.auto.commit": False,
        "fetch.max.bytes": CONSUMER_FETCH_MAX_BYTES,
        "max.partition.fetch.bytes": CONSUMER_PARTITION_FETCH_MAX_BYTES,
        "receive.message.max.bytes": CONSUMER_RECEIVE_MAX_BYTES,
    }
    conf.update(kafka.client_config())
    conf.update(overrides)
    return conf


def admin_config(kafka: KafkaConfig, **overrides: Any) -> dict[str, Any]:
    """Config for ``confluent_kafka.admin.AdminClient`` (topic creation in tools and tests)."""
    conf: dict[str, Any] = dict(kafka.client_config())
    conf.update(overrides)
    return conf
