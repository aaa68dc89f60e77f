"""Prometheus metrics of the running incremental flow: a tiny registry + text endpoint.

Why not prometheus_client: the flow needs a handful of counters, gauges and histograms and
the text exposition format (version 0.0.4) is a few lines; no new dependency. One registry
per process (:data:`METRICS`); the flow's hooks record into it and :func:`serve` exposes it
on ``[metrics] bind:port`` (port + process index with several local processes).

Delay is computed at scrape time from the applied commit_ts (its TSO physical time), so it
keeps growing while nothing is applied - including when the upstream is idle, since Drainer
sends no heartbeats. Kafka offset lag (high watermark minus the source's position) tells the
two apart: lag 0 means everything in Kafka was read.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

from tidb2mysql.events import tso_physical_ms

log = logging.getLogger("tidb2mysql.metrics")

PREFIX = "tidb2mysql_"

# name -> (type, help)
SPEC: dict[str, tuple[str, str]] = {
    "rows_applied_total": ("counter", "Row changes applied, by table and operation (upsert, insert, delete, update)."),
    "shard_changes_total": ("counter", "Row changes merged into flushes, by shard."),
    "flushes_total": ("counter", "Target transactions (batch flushes), by shard."),
    "flush_seconds": ("histogram", "Time to write one batch and its checkpoint."),
    "batch_rows": ("histogram", "Row changes per flush."),
    "applied_commit_ts": ("gauge", "Highest commit_ts applied by this process."),
    "shard_applied_commit_ts": ("gauge", "Highest commit_ts applied, by shard."),
    "delay_seconds": ("gauge", "Now minus the physical time of applied_commit_ts (grows while upstream is idle)."),
    "dead_letters_total": ("counter", "Messages or changes written to the dead_letter table, by kind."),
    "divergences_total": ("counter", "DELETE/UPDATE changes that matched no target row (the target differed from"
                                     " the source; each is in the dead_letter table, kind divergence), by table."),
    "ddl_total": ("counter", "DDL jobs passed, by their ddl_history status (applied, skipped, failed, ...); once per process."),
    "ddl_blocked": ("gauge", "1 while a DDL waits on transient errors (lock wait, lost connection): alert when it stays 1."),
    "ddl_blocked_polls_total": ("counter", "Polls of a DDL that failed transiently (each is retried with backoff)."),
    "skipped_replays_total": ("counter", "Changes a shard skipped as replays (at or below its checkpoint)."),
    "redelivered_messages_total": ("counter", "Messages a source skipped as re-deliveries (nothing newer than what"
                                              " it already routed: a Drainer or TiCDC restart re-sends), by input."),
    "kafka_position": ("gauge", "Next Kafka offset the source will read."),
    "kafka_high_watermark": ("gauge", "Kafka high watermark (end offset) of the Drainer partition."),
    "kafka_offset_lag": ("gauge", "Kafka high watermark minus the source's position."),
    "stop_requested": ("gauge", "1 once a graceful stop or cut-over was requested."),
    "up": ("gauge", "1 while the flow process runs."),
    # tidb2mysql verify (tidb2mysql/verify/; docs/verify.md)
    "verify_chunks_planned": ("gauge", "Chunks in the verify run."),
    "verify_chunks_total": ("counter", "Chunks checked, by result (equal, suspect)."),
    "verify_rows_total": ("counter", "Source rows checked by verify."),
    "verify_rows_per_second": ("gauge", "Rows per second checked by verify (last progress interval)."),
    "verify_differences": ("gauge", "Confirmed differences of the last verify, by kind (missing, extra, different)."),
    "verify_unsettled": ("gauge", "Rows that kept changing during every re-check of the last verify."),
    "verify_repaired_total": ("counter", "Target rows repaired by verify --fix."),
}

FLUSH_SECONDS_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_ROWS_BUCKETS = (1, 10, 50, 100, 500, 1000, 2000, 5000, 10000, 50000)
BUCKETS = {"flush_seconds": FLUSH_SECONDS_BUCKETS, "batch_rows": BATCH_ROWS_BUCKETS}

Labels = tuple[tuple[str, str], ...]


def _labels(kw: dict) -> Labels:
    return tuple(sorted((k, str(v)) for k, v in kw.items()))


def _esc(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _fmt_labels(labels: Labels, extra: Optional[tuple[str, str]] = None) -> str:
    items = list(labels) + ([extra] if extra else [])
    if not items:
        return ""
    return "{" + ",".join(f'{k}="{_esc(v)}"' for k, v in items) + "}"


def _num(v: float) -> str:
    if v == float("inf"):
        return "+Inf"
    return repr(int(v)) if float(v).is_integer() and abs(v) < 2**63 else repr(float(v))


class Registry:
    """Thread-safe counters, gauges and histograms; renders the text exposition format."""

    def __init__(self, clock=time.time):
        self.lock = threading.Lock()
        self.values: dict[str, dict[Labels, float]] = {}
        self.hist: dict[str, dict[Labels, list]] = {}  # [bucket counts..., sum, count]
        self.clock = clock
        self._seen: dict[str, list] = {}  # kind -> recent keys (bounded), for once-only counting

    def first_time(self, kind: str, key, keep: int = 1024) -> bool:
        """True the first time ``key`` is seen (among the last ``keep`` of this kind)."""
        with self.lock:
            seen = self._seen.setdefault(kind, [])
            if key in seen:
                return False
            seen.append(key)
            del seen[:-keep]
            return True

    def _check(self, name: str, kind: str) -> None:
        if SPEC.get(name, ("",))[0] != kind:
            raise KeyError(f"metric {name!r} is not a declared {kind}")

    def inc(self, name: str, value: float = 1, **labels) -> None:
        self._check(name, "counter")
        if value < 0:
            raise ValueError(f"counter {name} cannot decrease")
        with self.lock:
            d = self.values.setdefault(name, {})
            k = _labels(labels)
            d[k] = d.get(k, 0) + value

    def set(self, name: str, value: float, **labels) -> None:
        self._check(name, "gauge")
        with self.lock:
            self.values.setdefault(name, {})[_labels(labels)] = value

    def set_max(self, name: str, value: float, **labels) -> None:
        self._check(name, "gauge")
        with self.lock:
            d = self.values.setdefault(name, {})
            k = _labels(labels)
            if value > d.get(k, float("-inf")):
                d[k] = value

    def get(self, name: str, **labels) -> Optional[float]:
        with self.lock:
            return self.values.get(name, {}).get(_labels(labels))

    def observe(self, name: str, value: float, **labels) -> None:
        self._check(name, "histogram")
        bounds = BUCKETS[name]
        with self.lock:
            d = self.hist.setdefault(name, {})
            k = _labels(labels)
            h = d.get(k)
            if h is None:
                h = d[k] = [0] * (len(bounds) + 3)  # buckets, overflow, sum, count
            h[bisect.bisect_left(bounds, value)] += 1  # non-cumulative here; cumulated on render
            h[-2] += value
            h[-1] += 1

    def render(self) -> str:
        # Delay is derived now, from the applied commit_ts.
        ts = self.get("applied_commit_ts")
        if ts:
            self.set("delay_seconds", max(0.0, self.clock() - tso_physical_ms(int(ts)) / 1000))
        out: list[str] = []
        with self.lock:
            for name, (kind, help_) in SPEC.items():
                full = PREFIX + name
                if kind == "histogram":
                    series = self.hist.get(name)
                    if not series:
                        continue
                    out += [f"# HELP {full} {help_}", f"# TYPE {full} histogram"]
                    bounds = BUCKETS[name]
                    for labels, h in sorted(series.items()):
                        acc = 0
                        for i, b in enumerate(bounds):
                            acc += h[i]
                            out.append(f"{full}_bucket{_fmt_labels(labels, ('le', _num(b)))} {acc}")
                        acc += h[len(bounds)]
                        out.append(f"{full}_bucket{_fmt_labels(labels, ('le', '+Inf'))} {acc}")
                        out.append(f"{full}_sum{_fmt_labels(labels)} {_num(h[-2])}")
                        out.append(f"{full}_count{_fmt_labels(labels)} {h[-1]}")
                    continue
                series = self.values.get(name)
                if not series:
                    continue
                out += [f"# HELP {full} {help_}", f"# TYPE {full} {kind}"]
                for labels, v in sorted(series.items()):
                    out.append(f"{full}{_fmt_labels(labels)} {_num(v)}")
        return "\n".join(out) + "\n"


METRICS = Registry()


def record_flush(report, registry: Registry = METRICS) -> None:
    """Record one FlushReport (replication/shard.py) of any worker of this process."""
    r = registry
    shard = str(report.shard)
    last_ts = report.last[0]
    if getattr(report, "ddl_status", None) == "blocked":
        r.set("ddl_blocked", 1)
        r.inc("ddl_blocked_polls_total")
        return
    if report.ddl is not None:
        r.set("ddl_blocked", 0)
        # Every shard reports each DDL: count it once per process.
        if r.first_time("ddl", last_ts):
            r.inc("ddl_total", status=getattr(report, "ddl_status", None) or "unknown")
    else:
        r.inc("flushes_total", shard=shard)
        r.inc("shard_changes_total", report.rows, shard=shard)
        r.observe("flush_seconds", report.seconds)
        r.observe("batch_rows", report.rows)
    for table, ops in (getattr(report, "table_ops", None) or {}).items():
        for op_name, n in ops.items():
            if not n:
                continue
            if op_name == "unmatched":
                r.inc("divergences_total", n, table=table)
                r.inc("dead_letters_total", n, kind="divergence")
            else:
                r.inc("rows_applied_total", n, table=table, op=op_name)
    if report.dead_letters:
        r.inc("dead_letters_total", report.dead_letters, kind="apply")
    if report.skipped_replays:
        r.inc("skipped_replays_total", report.skipped_replays)
    if last_ts > 0:
        r.set_max("shard_applied_commit_ts", last_ts, shard=shard)
        r.set_max("applied_commit_ts", last_ts)


class _Handler(BaseHTTPRequestHandler):
    registry: Registry = METRICS

    def do_GET(self):
        if self.path.split("?")[0] not in ("/metrics", "/"):
            self.send_error(404, "try /metrics")
            return
        body = self.registry.render().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):  # scrapes every few seconds: keep them out of the log
        pass


def serve(bind: str, port: int, registry: Registry = METRICS) -> ThreadingHTTPServer:
    """Start the endpoint in a daemon thread; returns the server (``.server_address``)."""
    handler = type("Handler", (_Handler,), {"registry": registry})
    server = ThreadingHTTPServer((bind, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="tidb2mysql-metrics", daemon=True).start()
    registry.set("up", 1)
    log.info("metrics endpoint on http://%s:%d/metrics", *server.server_address[:2])
    return server


__all__ = ["METRICS", "Registry", "record_flush", "serve", "SPEC"]
