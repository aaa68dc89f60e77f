"""The ``[metrics]`` section of the configuration file."""

from __future__ import annotations

from dataclasses import dataclass

from tidb2mysql.config.keys import setting


@dataclass(frozen=True)
class MetricsConfig:
    port: int = setting(0, 'Prometheus text endpoint of the running incremental flow (0 = off). With several local processes (-p P), process i listens on port + i.', flag='--metrics-port')
    bind: str = setting("127.0.0.1", 'Loopback by default: the endpoint has no authentication.', flag='--metrics-bind')
    kafka_lag_interval: float = setting(5.0, 'Seconds between Kafka high-watermark queries for the offset-lag gauge.')

    def validate(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.kafka_lag_interval <= 0:
            raise ValueError("kafka_lag_interval must be > 0")

