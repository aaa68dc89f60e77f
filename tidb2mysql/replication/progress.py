"""Progress of the apply path, as plain log lines: rows, rate, applied commit_ts, delay."""

from __future__ import annotations

import logging
import time
from typing import Callable, Optional

from tidb2mysql.events import tso_physical_ms
from tidb2mysql.ops.metrics import METRICS

log = logging.getLogger("tidb2mysql.progress")


def delay_seconds(commit_ts: int, now: Optional[float] = None) -> float:
    """Wall-clock delay of a TSO: now minus its physical time."""
    now = time.time() if now is None else now
    return max(0.0, now - tso_physical_ms(commit_ts) / 1000)


class ProgressLog:
    """Aggregates FlushReports of one worker and logs a line every ``interval`` seconds."""

    def __init__(self, worker: int, interval: float = 5.0):
        self.worker = worker
        self.interval = interval
        self.rows = self.flushes = self.dead = 0
        self.ddl_ts: set[int] = set()  # every shard reports each DDL; count it once
        self.window_rows = 0
        self.window_start = time.monotonic()
        self.last_ts = 0

    def add(self, report) -> None:
        if report.ddl_status == "blocked":
            return  # a DDL still waiting: nothing was applied (the shard logs why)
        if report.ddl is not None:
            self.ddl_ts.add(report.last[0])
        else:
            self.flushes += 1
        self.rows += report.rows
        self.window_rows += report.rows
        self.dead += report.dead_letters
        if report.last[0] > self.last_ts:
            self.last_ts = report.last[0]

    def maybe_log(self, force: bool = False) -> None:
        now = time.monotonic()
        span = now - self.window_start
        if not force and span < self.interval:
            return
        rate = self.window_rows / span if span > 0 else 0.0
        delay = f"{delay_seconds(self.last_ts):.1f}s" if self.last_ts else "-"
        log.info(
            "worker %d: %d rows applied (%.0f rows/s), %d flushes, %d DDL, %d dead letters, applied commit_ts %d, delay %s",
            self.worker, self.rows, rate, self.flushes, len(self.ddl_ts), self.dead, self.last_ts, delay,
        )
        self.window_rows = 0
        self.window_start = now


class Redeliveries:
    """What a source skipped as re-deliveries, never silently: each skip counted (metric
    ``redelivered_messages_total{input}``), the first of a run logged with its place, the
    run's total logged when the reader closes. One per reader (Drainer: a process's reader;
    TiCDC: a Kafka partition's); ``log`` is the reader's own logger."""

    def __init__(self, input_name: str, label: str, where: str, logger: logging.Logger):
        self.input = input_name
        self.label = label  # "Drainer" / "TiCDC", as the log lines say it
        self.where = where  # "source" / "partition 3"
        self.log = logger
        self.count = 0

    def skipped(self, first_line: Callable[[], str]) -> None:
        if self.count == 0:
            self.log.info(first_line())
        self.count += 1
        METRICS.inc("redelivered_messages_total", input=self.input)

    def close(self) -> None:
        if self.count:
            self.log.info("%s: %d messages skipped as %s re-deliveries in this run", self.where, self.count,
                          self.label)
