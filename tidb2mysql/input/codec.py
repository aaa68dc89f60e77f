"""The input codec interface: one Kafka message -> a list of events, whatever the format.

The incremental flow reads one of three formats (``[input] format``):

* ``drainer`` - TiDB Binlog's Drainer protobuf: one message = one whole transaction or one
  DDL, one partition (:mod:`tidb2mysql.drainer.decode`);
* ``ticdc-canal-json`` - TiCDC's canal-json with ``enable-tidb-extension=true``
  (:mod:`tidb2mysql.input.canal_json`);
* ``ticdc-open-protocol`` - TiCDC's open protocol (:mod:`tidb2mysql.input.open_protocol`).

Each is an :class:`InputCodec`, so the flow does not know which one it reads. A message
decodes to a *list* of events because a TiCDC open-protocol message batches several
key/value pairs (rows of several transactions, or resolved events).

Events:

* :class:`~tidb2mysql.events.Txn` - for Drainer a whole transaction; for TiCDC only the rows
  of *that message* (a partial transaction): TiCDC spreads one transaction's rows over many
  messages and, with the index-value or ts dispatcher, over partitions. The flow assembles
  rows with the same ``commit_ts`` and applies them once that ``commit_ts`` is resolved on
  every partition.
* :class:`~tidb2mysql.events.DDL` - one DDL job. TiCDC sends each DDL to *every* partition.
* :class:`Watermark` - TiCDC's resolved-ts event (canal-json WATERMARK, open-protocol
  resolved): everything with ``commit_ts <= resolved_ts`` *on this partition* was delivered.
  Drainer has none.

Values are the native types documented in :mod:`tidb2mysql.events`, identical for all
formats, so everything downstream is unchanged. Every malformed message raises an
:class:`~tidb2mysql.events.InputDecodeError` subclass naming topic, partition and offset.
See docs/ticdc.md for the TiCDC encodings and where each fact comes from upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tidb2mysql.events import DDL, InputDecodeError, KafkaPosition, Txn


@dataclass(frozen=True, slots=True)
class Watermark:
    """TiCDC resolved-ts event: every change with ``commit_ts <= resolved_ts`` on this
    partition has been delivered (earlier in this partition)."""

    resolved_ts: int
    position: KafkaPosition


Event = Txn | DDL | Watermark


class TiCDCDecodeError(InputDecodeError):
    """A TiCDC message (canal-json or open protocol) that cannot be decoded."""

    def __init__(self, position: KafkaPosition, payload_size: int, reason: str, protocol: str = "TiCDC"):
        super().__init__(position, payload_size, reason, f"{protocol} message")


@runtime_checkable
class InputCodec(Protocol):
    """Decodes the messages of one input format (stateless between messages)."""

    name: str  # "drainer" | "ticdc-canal-json" | "ticdc-open-protocol"

    def decode(self, key: bytes | None, value: bytes, position: KafkaPosition) -> list[Event]:
        """All events of one Kafka message, in message order; raises InputDecodeError."""
        ...

    def peek_commit_ts(self, key: bytes | None, value: bytes) -> int | None:
        """The message's commit_ts (resolved ts for a watermark) read cheaply, for seeking;
        None when it cannot be read without a full decode (callers then decode)."""
        ...


class DrainerCodec:
    """TiDB Binlog's Drainer protobuf as an :class:`InputCodec` (one event per message)."""

    name = "drainer"

    def __init__(self, time_zone: str = "UTC"):
        from tidb2mysql.drainer.decode import Decoder

        self.decoder = Decoder(time_zone)

    def decode(self, key: bytes | None, value: bytes, position: KafkaPosition) -> list[Event]:
        return [self.decoder.decode(value, position)]

    def peek_commit_ts(self, key: bytes | None, value: bytes) -> int | None:
        from tidb2mysql.drainer.decode import peek_commit_ts

        return peek_commit_ts(value) if value is not None else None


def detect_format(key: bytes | None, value: bytes | None) -> str:
    """Which format one Kafka message is in, from its bytes (for precheck and status).

    Returns a format name of ``[input] format``, ``"canal-json without enable-tidb-extension"``
    (TiCDC canal-json that tidb2mysql cannot use: no commit_ts, no watermarks), or
    ``"unknown"``. Cheap: looks only at the framing and the first event.
    """
    import orjson

    if key and len(key) >= 16 and key[:8] == b"\x00" * 7 + b"\x01":
        n = int.from_bytes(key[8:16], "big")
        try:
            first = orjson.loads(key[16:16 + n])
        except orjson.JSONDecodeError:
            first = None
        if isinstance(first, dict) and "ts" in first and "t" in first:
            return "ticdc-open-protocol"
    if value and value[:1] == b"{":
        try:
            m = orjson.loads(value)
        except orjson.JSONDecodeError:
            m = None
        if isinstance(m, dict) and "isDdl" in m and "type" in m:
            return "ticdc-canal-json" if isinstance(m.get("_tidb"), dict) else \
                "canal-json without enable-tidb-extension"
    if value:
        from tidb2mysql.drainer.decode import Decoder, DrainerDecodeError

        try:
            Decoder("UTC").parse(value, KafkaPosition("", 0, 0))
            return "drainer"
        except DrainerDecodeError:
            pass
    return "unknown"


def codec_for(cfg) -> InputCodec:
    """The codec for ``cfg``'s ``[input] format`` (a :class:`~tidb2mysql.config.Config`).

    Takes the whole config because the Drainer codec's TIMESTAMP zone is ``[drainer]
    time_zone`` while TiCDC's is ``[input] time_zone``.
    """
    settings = cfg.input
    if settings.format == "drainer":
        return DrainerCodec(cfg.drainer.time_zone)
    if settings.format == "ticdc-canal-json":
        from tidb2mysql.input.canal_json import CanalJsonCodec

        return CanalJsonCodec(settings.time_zone)
    if settings.format == "ticdc-open-protocol":
        from tidb2mysql.input.open_protocol import OpenProtocolCodec

        return OpenProtocolCodec(settings.time_zone)
    raise ValueError(f"unknown input format {settings.format!r}")  # validate() rejects it earlier


__all__ = ["DrainerCodec", "Event", "InputCodec", "TiCDCDecodeError", "Watermark", "codec_for", "detect_format"]
