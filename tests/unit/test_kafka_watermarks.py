"""kafka_settings.watermark_offsets: a watermark query asked again in short attempts until its timeout."""

from __future__ import annotations

import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from tidb2mysql.kafka_settings import WATERMARK_ATTEMPT_SECONDS, watermark_offsets


class ScriptedConsumer:
    """Answers ``get_watermark_offsets`` from a script: an exception to raise or a result."""

    def __init__(self, *script):
        self.script = list(script)
        self.timeouts: list[float] = []

    def get_watermark_offsets(self, tp, timeout):
        self.timeouts.append(timeout)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, BaseException):
            raise step
        return step


def _timed_out():
    return KafkaException(KafkaError(KafkaError._TIMED_OUT))


def test_an_answer_at_the_first_attempt_is_returned_after_one_query():
    c = ScriptedConsumer((3, 17))
    assert watermark_offsets(c, TopicPartition("t", 0)) == (3, 17)
    assert c.timeouts == [WATERMARK_ATTEMPT_SECONDS]


def test_a_query_that_does_not_answer_in_one_attempt_is_asked_again():
    c = ScriptedConsumer(_timed_out(), _timed_out(), (0, 5))
    assert watermark_offsets(c, TopicPartition("t", 0), timeout=10) == (0, 5)
    assert len(c.timeouts) == 3 and all(t <= WATERMARK_ATTEMPT_SECONDS for t in c.timeouts)


def test_the_last_error_is_raised_once_the_timeout_is_spent():
    err = KafkaException(KafkaError(KafkaError._ALL_BROKERS_DOWN))
    c = ScriptedConsumer(err)
    t0 = time.monotonic()
    with pytest.raises(KafkaException) as e:
        watermark_offsets(c, TopicPartition("t", 0), timeout=0.05)
    assert e.value is err and time.monotonic() - t0 >= 0.05
    assert all(0 < t <= WATERMARK_ATTEMPT_SECONDS for t in c.timeouts)


def test_with_no_broker_the_real_client_fails_after_the_timeout_not_before():
    """librdkafka itself, nothing listening on the port: the error comes once the timeout is spent."""
    c = Consumer({"bootstrap.servers": "127.0.0.1:1", "group.id": "t2m-test", "log_level": 0})
    try:
        t0 = time.monotonic()
        with pytest.raises(KafkaException):
            watermark_offsets(c, TopicPartition("t", 0), timeout=0.5)
        assert 0.5 <= time.monotonic() - t0 < 5
    finally:
        c.close()
