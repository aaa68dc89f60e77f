"""The metrics registry and its text exposition (pure), and the endpoint on a real socket."""

from __future__ import annotations

import urllib.request

import pytest

from tidb2mysql.events import make_tso
from tidb2mysql.ops.metrics import Registry, record_flush, serve
from tidb2mysql.replication.shard import FlushReport


def lines(r: Registry) -> list[str]:
    return r.render().splitlines()


def test_counters_gauges_and_labels_render_in_exposition_format():
    r = Registry()
    r.inc("flushes_total", shard=3)
    r.inc("flushes_total", 2, shard=3)
    r.inc("rows_applied_total", 5, table='d.t"x', op="upsert")
    r.set("kafka_offset_lag", 7)
    out = lines(r)
    assert "# TYPE tidb2mysql_flushes_total counter" in out
    assert 'tidb2mysql_flushes_total{shard="3"} 3' in out
    assert 'tidb2mysql_rows_applied_total{op="upsert",table="d.t\\"x"} 5' in out
    assert "tidb2mysql_kafka_offset_lag 7" in out


def test_histogram_buckets_are_cumulative_with_sum_and_count():
    r = Registry()
    for v in (0.0005, 0.02, 0.02, 99.0):
        r.observe("flush_seconds", v)
    out = lines(r)
    assert 'tidb2mysql_flush_seconds_bucket{le="0.001"} 1' in out
    assert 'tidb2mysql_flush_seconds_bucket{le="0.025"} 3' in out
    assert 'tidb2mysql_flush_seconds_bucket{le="10"} 3' in out
    assert 'tidb2mysql_flush_seconds_bucket{le="+Inf"} 4' in out
    assert "tidb2mysql_flush_seconds_count 4" in out
    assert "tidb2mysql_flush_seconds_sum 99.041" in out[-2] or any(x.startswith("tidb2mysql_flush_seconds_sum 99.04") for x in out)


def test_undeclared_or_wrong_kind_and_negative_counter_are_refused():
    r = Registry()
    with pytest.raises(KeyError):
        r.inc("no_such_metric")
    with pytest.raises(KeyError):
        r.set("flushes_total", 1)  # a counter, not a gauge
    with pytest.raises(ValueError):
        r.inc("flushes_total", -1)


def test_delay_is_derived_from_applied_commit_ts_at_render_time():
    now = 1_800_000_000.0
    r = Registry(clock=lambda: now)
    ts = make_tso(int((now - 30) * 1000))
    r.set_max("applied_commit_ts", ts)
    r.set_max("applied_commit_ts", ts - 5)  # never goes back
    out = lines(r)
    assert f"tidb2mysql_applied_commit_ts {ts}" in out  # exact, not a rounded float
    assert "tidb2mysql_delay_seconds 30" in out


def test_record_flush_counts_rows_by_table_and_operation_and_ddl_once_per_report():
    r = Registry()
    ts = make_tso(1_700_000_000_000)
    record_flush(FlushReport(2, 12, 2, (ts, 0), (ts, 22), 0.03, dead_letters=1, skipped_replays=4,
                             table_ops={"d.t": {"upsert": 10, "insert": 0, "delete": 2, "update": 0}}), r)
    for shard in (2, 3):  # every shard reports the DDL; counted once
        record_flush(FlushReport(shard, 0, 0, (ts + 1, -1), (ts + 1, 0), 0.0, ddl="alter table t add c int",
                                 ddl_status="applied"), r)
    record_flush(FlushReport(2, 0, 0, (ts + 2, -1), (ts + 2, 0), 0.0, ddl="alter table t add c int", ddl_status="skipped"), r)
    out = lines(r)
    assert 'tidb2mysql_rows_applied_total{op="upsert",table="d.t"} 10' in out
    assert 'tidb2mysql_rows_applied_total{op="delete",table="d.t"} 2' in out
    assert not any('op="insert"' in x for x in out)  # zero counts are not emitted
    assert 'tidb2mysql_shard_changes_total{shard="2"} 12' in out
    assert 'tidb2mysql_dead_letters_total{kind="apply"} 1' in out
    assert "tidb2mysql_skipped_replays_total 4" in out
    assert 'tidb2mysql_ddl_total{status="applied"} 1' in out and 'tidb2mysql_ddl_total{status="skipped"} 1' in out
    assert 'tidb2mysql_flushes_total{shard="2"} 1' in out  # the DDL report is not a flush
    assert f"tidb2mysql_applied_commit_ts {ts + 2}" in out


def test_a_blocked_ddl_raises_the_gauge_until_the_ddl_passes():
    r = Registry()
    ts = make_tso(1_700_000_000_000)
    for _ in range(3):
        record_flush(FlushReport(1, 0, 0, (ts, -1), (ts, -1), 0.0, ddl_status="blocked"), r)
    out = lines(r)
    assert "tidb2mysql_ddl_blocked 1" in out and "tidb2mysql_ddl_blocked_polls_total 3" in out
    assert not any(x.startswith("tidb2mysql_flushes_total") or x.startswith("tidb2mysql_shard_applied")
                   for x in out)  # nothing was applied
    record_flush(FlushReport(1, 0, 0, (ts, -1), (ts, 0), 0.0, ddl="alter table t add c int", ddl_status="applied"), r)
    assert "tidb2mysql_ddl_blocked 0" in lines(r)


def test_endpoint_serves_metrics_and_404s_elsewhere():
    r = Registry()
    r.inc("flushes_total", shard=0)
    server = serve("127.0.0.1", 0, r)
    try:
        port = server.server_address[1]
        resp = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        body = resp.read().decode()
        assert 'tidb2mysql_flushes_total{shard="0"} 1' in body and "tidb2mysql_up 1" in body
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/other", timeout=5)
        assert e.value.code == 404
    finally:
        server.shutdown()
        server.server_close()


def test_the_grafana_dashboard_uses_only_declared_metrics():
    import json
    import re
    from pathlib import Path

    from tidb2mysql.ops.metrics import PREFIX, SPEC

    dash = json.loads((Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "tidb2mysql.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(rf"{PREFIX}(\w+)", e)}
    declared = set(SPEC) | {f"{n}_{s}" for n, (k, _) in SPEC.items() if k == "histogram" for s in ("bucket", "sum", "count")}
    assert used and used <= declared, used - declared
