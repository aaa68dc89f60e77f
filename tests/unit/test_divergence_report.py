"""Divergence is reported, not only logged: metric per table, status line (issue 12).

Why: a DELETE/UPDATE that matched no target row means the target already differs from the
source; an operator must see it on the dashboard and in `tidb2mysql status`.
"""

from __future__ import annotations

from tidb2mysql.events import make_tso
from tidb2mysql.ops.metrics import Registry, record_flush
from tidb2mysql.ops.status import Status, render
from tidb2mysql.replication.shard import FlushReport


def test_unmatched_changes_count_as_divergences_by_table_not_as_applied_rows():
    r = Registry()
    ts = make_tso(1_700_000_000_000)
    record_flush(FlushReport(1, 5, 3, (ts, 0), (ts, 8), 0.01, table_ops={
        "d.k": {"upsert": 0, "insert": 2, "delete": 1, "update": 0, "unmatched": 2},
        "d.p": {"upsert": 3, "insert": 0, "delete": 0, "update": 0, "unmatched": 0}}), r)
    assert r.get("divergences_total", table="d.k") == 2
    assert r.get("divergences_total", table="d.p") is None
    assert r.get("dead_letters_total", kind="divergence") == 2
    assert r.get("rows_applied_total", table="d.k", op="unmatched") is None
    assert r.get("rows_applied_total", table="d.k", op="insert") == 2
    assert 'tidb2mysql_divergences_total{table="d.k"} 2' in r.render()


def test_status_prints_a_diverged_line_only_when_there_is_one():
    st = Status(job="j", meta_schema="tidb2mysql", stage="incremental")
    assert "DIVERGED" not in render(st)
    st.divergences = {"d.k": 2, "d.n": 1}
    assert ("DIVERGED         3 delete/update change(s) matched no target row (d.k 2, d.n 1);"
            " see dead_letter kind 'divergence'") in render(st)
