"""The ``[metrics]`` section of the configuration file."""

from __future__ import annotations

from dataclasses import dataclass

from tidb2mysql.config import register_section


@dataclass(frozen=True)
class MetricsConfig:
    # Prometheus text endpoint of the running incremental flow (0 = off). With several
    # local processes (-p P), process i listens on port + i.
    port: int = 0
    # Loopback by default: the endpoint has no authentication.
    bind: str = "127.0.0.1"
    # Seconds between Kafka high-watermark queries for the offset-lag gauge.
    kafka_lag_interval: float = 5.0

    def validate(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.kafka_lag_interval <= 0:
            raise ValueError("kafka_lag_interval must be > 0")


register_section("metrics", MetricsConfig)


def metrics_settings(cfg) -> MetricsConfig:
    return cfg.extra.get("metrics") or MetricsConfig()
