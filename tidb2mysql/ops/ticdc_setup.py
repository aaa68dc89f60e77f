"""Setting up TiCDC for a migration: the changefeed to create, and checking its topic.

Why: with TiCDC input the full load's snapshot TSO must become the changefeed's ``start-ts``
(TiCDC then sends exactly the changes committed after the copied snapshot), and the sink must
write the protocol and partition count the flow is configured for. ``tidb2mysql migrate``
prints the command (:func:`changefeed_command`); ``precheck`` samples the topic
(:func:`check_topic`).

Sink URI parameters, as TiCDC parses them (pingcap/tiflow): ``partition-num``,
``replication-factor``, ``max-message-bytes``, ``kafka-version`` (``pkg/sink/kafka/options.go``
``urlConfig``), ``protocol`` and ``enable-tidb-extension`` (``pkg/sink/codec/common/config.go``
``urlConfig``). The dispatcher (table / index-value / ts) is set in the changefeed's config
file (``[sink] dispatchers``), not in the URI; every dispatcher works with this flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from tidb2mysql.events import InputDecodeError, KafkaPosition

PROTOCOL = {"ticdc-canal-json": "canal-json", "ticdc-open-protocol": "open-protocol"}


def sink_uri(kafka, fmt: str, partitions: int, max_message_bytes: int = 64 << 20) -> str:
    """The ``--sink-uri`` for TiCDC's Kafka sink writing what this job reads."""
    protocol = PROTOCOL[fmt]
    params = [f"protocol={protocol}"]
    if protocol == "canal-json":
        params.append("enable-tidb-extension=true")  # commit_ts and WATERMARK events
    params += [f"partition-num={partitions}", "replication-factor=1", f"max-message-bytes={max_message_bytes}"]
    return f"kafka://{kafka.brokers}/{kafka.topic}?" + "&".join(params)


def changefeed_command(kafka, fmt: str, partitions: int, start_ts: int, changefeed_id: str,
                       server: str = "http://<ticdc-host>:8300") -> str:
    """The exact ``cdc cli changefeed create`` command for a migration from ``start_ts``."""
    return (f'cdc cli changefeed create --server={server} --changefeed-id="{changefeed_id}"'
            f" --start-ts={start_ts} --sink-uri=\"{sink_uri(kafka, fmt, partitions)}\"")


def changefeed_id(job: str) -> str:
    """TiCDC accepts ``^[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*$`` as changefeed id."""
    parts = "".join(c if c.isalnum() else "-" for c in f"tidb2mysql-{job}").split("-")
    return "-".join(p for p in parts if p)


@dataclass
class TopicSample:
    partitions: int = 0
    messages: int = 0
    rows: int = 0
    ddls: int = 0
    watermarks: int = 0
    errors: list = field(default_factory=list)
    empty: list = field(default_factory=list)  # partitions with nothing to sample

    @property
    def problem(self) -> Optional[str]:
        if self.errors:
            return "; ".join(self.errors[:3])
        if self.messages and not self.watermarks:
            return (f"{self.messages} messages sampled but no resolved (WATERMARK) event: canal-json needs"
                    " enable-tidb-extension=true")
        return None


def sample_topic(cfg, codec, per_partition: int = 20, timeout: float = 10.0) -> TopicSample:
    """Decode the first messages of every partition with the configured codec."""
    from tidb2mysql.input.codec import Watermark
    from tidb2mysql.kafka_settings import consumer_config
    from tidb2mysql.replication.source import TopicReader
    from tidb2mysql.replication.ticdc import topic_partitions

    k = cfg.kafka
    conf = consumer_config(k, **{"group.id": "tidb2mysql-precheck"})
    out = TopicSample(partitions=topic_partitions(conf, k.topic))
    for p in range(out.partitions):
        reader = TopicReader(conf, k.topic, p)
        reader.peek = lambda v: None
        try:
            lo, hi = reader.watermarks(timeout)
            if hi <= lo:
                out.empty.append(p)
                continue
            reader.assign(lo)
            got: list = []
            import time

            deadline = time.monotonic() + timeout
            want = min(per_partition, hi - lo)
            while len(got) < want and time.monotonic() < deadline:
                got += reader.poll_batch(want - len(got), 0.5)
            for m in got:
                out.messages += 1
                try:
                    events = codec.decode(m.key, m.value, KafkaPosition(k.topic, p, m.offset))
                except InputDecodeError as e:
                    out.errors.append(str(e)[:300])
                    continue
                for ev in events:
                    if isinstance(ev, Watermark):
                        out.watermarks += 1
                    elif hasattr(ev, "tables"):
                        out.rows += 1
                    else:
                        out.ddls += 1
        finally:
            reader.close()
    return out


__all__ = ["PROTOCOL", "TopicSample", "changefeed_command", "changefeed_id", "sample_topic", "sink_uri"]


def precheck_topic(cfg) -> tuple[str, str, str]:
    """(status, detail, fix) of the ``kafka.topic`` check for TiCDC input."""
    from tidb2mysql.input.codec import codec_for

    fmt = cfg.input.format
    try:
        s = sample_topic(cfg, codec_for(cfg))
    except Exception as e:  # noqa: BLE001 - a missing or unreadable topic is the finding
        return "fail", f"cannot read topic {cfg.kafka.topic!r}: {e}", (
            "create the changefeed first (tidb2mysql migrate prints the command) and check [kafka] topic")
    where = f"topic {cfg.kafka.topic!r}: {s.partitions} partition(s)"
    uri = sink_uri(cfg.kafka, fmt, s.partitions)
    if s.problem:
        return "fail", f"{where}; the first messages do not decode as {fmt}: {s.problem}", (
            f"check [input] format against the changefeed's sink URI (expected: {uri})")
    if not s.messages:
        return "warn", f"{where}, all empty", f"nothing to sample yet; the changefeed's sink URI should be {uri}"
    detail = (f"{where}; sampled {s.messages} message(s): {s.rows} row event(s), {s.ddls} DDL(s),"
              f" {s.watermarks} resolved event(s) as {fmt}")
    if s.empty:
        return "warn", detail + f"; partitions {s.empty} are empty", (
            f"TiCDC sends resolved events to every partition: an empty one means partition-num in the sink URI"
            f" is lower than the topic's partition count (expected: {uri})")
    return "pass", detail, ""
