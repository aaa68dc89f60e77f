"""The ``[input]`` section: which format the topic holds (Drainer or TiCDC)."""

from __future__ import annotations

from dataclasses import dataclass

from tidb2mysql.config.keys import setting

FORMATS = ("drainer", "ticdc-canal-json", "ticdc-open-protocol")


@dataclass(frozen=True)
class InputConfig:
    format: str = setting("drainer", "drainer: TiDB Binlog's Drainer protobuf (one partition, one message per transaction). ticdc-canal-json: TiCDC with protocol=canal-json and enable-tidb-extension=true. ticdc-open-protocol: TiCDC with protocol=open-protocol.")
    time_zone: str = setting("UTC", "TiCDC renders TIMESTAMP values in the changefeed's time zone (the cdc server's --tz, or the changefeed's time-zone); the decoder converts them back to UTC. Drainer input uses [drainer] time_zone instead.")

    def validate(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"format: {self.format!r} is not one of {', '.join(FORMATS)}")
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(
                f"time_zone: {self.time_zone!r} is not an IANA zone name (e.g. 'UTC', 'Asia/Shanghai')"
            ) from None

    @property
    def is_ticdc(self) -> bool:
        return self.format != "drainer"
