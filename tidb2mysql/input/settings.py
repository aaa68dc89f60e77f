"""The ``[input] section``: which format the topic holds (Drainer or TiCDC)."""

from __future__ import annotations

from dataclasses import dataclass

from tidb2mysql.config import register_section

FORMATS = ("drainer", "ticdc-canal-json", "ticdc-open-protocol")


@dataclass(frozen=True)
class InputConfig:
    # drainer: TiDB Binlog's Drainer protobuf (one partition, one message per transaction).
    # ticdc-canal-json: TiCDC with protocol=canal-json and enable-tidb-extension=true.
    # ticdc-open-protocol: TiCDC with protocol=open-protocol.
    format: str = "drainer"
    # TiCDC renders TIMESTAMP values in the changefeed's time zone (the cdc server's --tz, or
    # the changefeed's time-zone); the decoder converts them back to UTC. Drainer input uses
    # [drainer] time_zone instead.
    time_zone: str = "UTC"

    def validate(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format: {self.format!r} is not one of {', '.join(FORMATS)}")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.time_zone)
        except Exception:
            raise ValueError(
                f"time_zone: {self.time_zone!r} is not an IANA zone name (e.g. 'UTC', 'Asia/Shanghai')"
            ) from None

    @property
    def is_ticdc(self) -> bool:
        return self.format != "drainer"


register_section("input", InputConfig)


def input_settings(cfg) -> InputConfig:
    return cfg.extra.get("input") or InputConfig()


__all__ = ["FORMATS", "InputConfig", "input_settings"]
