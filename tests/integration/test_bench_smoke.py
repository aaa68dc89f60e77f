"""``python -m bench --smoke`` runs every benchmark section against the real stack.

Tiny sizes (under a minute), so the numbers mean nothing as performance figures; what this
checks is that every measurement really ran: each section is present in results.json with
positive rates measured on real data, the flow and the ceiling left the target in the same
state, the full loads are equal to the source, and results.md renders every table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.flowrun import REPO

pytestmark = [pytest.mark.integration, pytest.mark.tidb]  # the fullload_tidb section reads TiDB


def _positive(d: dict, *keys: str) -> None:
    for k in keys:
        assert isinstance(d.get(k), (int, float)) and d[k] > 0, f"{k} = {d.get(k)!r} in {d}"


def test_smoke_bench_writes_every_section(stack_config, tidb_config, tmp_path):
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "bench", "--smoke", "--out", str(tmp_path),
                        "--workdir", str(tmp_path / "work")], cwd=REPO,
                       capture_output=True, text=True, timeout=360)
    secs = time.monotonic() - t0
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-5000:]
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["mode"] == "smoke" and res["errors"] == []

    inc = res["incremental"]
    assert set(inc) == {"insert", "mix", "tables16", "uk"}
    for name, w in inc.items():
        assert w["txns"] > 0 and w["rows"] > 0, name
        assert w["target_equal"] is True, f"{name}: flow and ceiling left different targets: {w.get('divergence')}"
        assert "w1" in w["flow"] and "1" in w["ceiling"] and "2" in w["ceiling"], name
        assert set(w["ceiling_load"]) == {"1", "2"}, name  # the ceiling loading new rows, like the flow
        for r in list(w["flow"].values()) + list(w["ceiling"].values()) + list(w["ceiling_load"].values()):
            assert r["rows"] == w["rows"], name
            _positive(r, "rows_per_s", "seconds")
        for r in w["flow"].values():
            _positive(r, "rows_per_s_wall", "peak_rss_mib")
            assert r["dead_letters"] == {}, (name, r)  # every row applied, none parked
            assert r["redeliveries_skipped"] == 0, (name, r)  # the topic was read in the order written
        _positive(w["ratio"], *w["flow"])
        _positive(w["ratio_load"], *w["flow"])
    assert "p2" in inc["insert"]["flow"]
    assert "ceiling with loads 1 proc" in (tmp_path / "results.md").read_text()

    ap = res["apply_ceiling"]
    for r in ap["upsert"].values():
        _positive(r, "rows_per_s")
    _positive(ap["load_data"], "rows_per_s")

    d = res["delay"]
    _positive(d, "offered_rows_per_s", "achieved_rows_per_s", "txns", "p50_ms", "p99_ms", "max_ms", "peak_rss_mib")
    assert d["p50_ms"] <= d["p99_ms"] <= d["max_ms"]

    fl = res["full_load"]
    for k in ("small_w1", "w1", "p2"):
        _positive(fl[k], "rows_per_s", "peak_rss_mib")
        assert fl[k]["equal"] is True, k
    _positive(fl["dump_pipe"], "rows_per_s")
    _positive(fl, "ratio_best_vs_dump")

    ft = res["full_load_tidb"]
    assert "TiDB" in ft["source"]
    for k in ("w1", "p2"):
        _positive(ft[k], "rows_per_s", "rows")
        assert ft[k]["equal"] is True, k
    _positive(ft["dumpling_pipe"], "rows_per_s", "files", "dump_seconds")
    assert ft["dumpling_pipe"]["rows"] == ft["w1"]["rows"]
    assert isinstance(ft["dumpling_pipe"]["equal"], bool)
    _positive(ft, "ratio_best_vs_dumpling")

    mem = res["memory"]
    assert len(mem["comparisons"]) == 3
    for c in mem["comparisons"]:
        _positive(c, "small_mib", "large_mib", "growth")

    shapes = res["table_shapes"]
    assert set(shapes) == {"pk", "unique_key_only", "keyless"}
    for r in shapes.values():
        _positive(r, "rows_per_s", "rows_in_table")
    assert len({r["rows_in_table"] for r in shapes.values()}) == 1  # same workload, same end state

    tc = res["ticdc"]
    assert tc["target_equal"] is True, _ticdc_why(tc)
    assert tc["partitions"] == 8 and tc["messages"] > tc["rows"]
    for r in [*tc["flow"].values(), tc["drainer_w1"]]:
        assert r["dead_letters"] == {} and r["redeliveries_skipped"] == 0, r
    for r in [*tc["flow"].values(), tc["drainer_w1"]]:
        _positive(r, "rows_per_s", "rows_per_s_wall", "peak_rss_mib")

    assert {g["goal"].split(" ")[0] for g in res["goals"]} >= {"incremental", "scaling", "p99", "full", "memory:"}
    md = (tmp_path / "results.md").read_text()
    for heading in ("## Incremental replication", "## Incremental per table shape", "## Incremental from TiCDC",
                    "## Apply ceiling", "## Delay", "## Full load", "## Full load from TiDB", "## Memory", "## Goals"):
        assert heading in md
    print(f"smoke bench: {secs:.0f}s")


def _ticdc_why(tc: dict) -> str:
    """What a failed TiCDC equality says: each run's checksum, how it differs from the
    generator's final state, and the end of the log of each run that differs."""
    runs = {"ticdc_w1": tc["flow"].get("w1"), "ticdc_w2": tc["flow"].get("w2"), "drainer_w1": tc.get("drainer_w1")}
    out = [f"checksums {tc.get('checksums')}", f"divergence {tc.get('divergence')}"]
    for run in tc.get("divergence") or {}:
        log = Path((runs.get(run) or {}).get("log", "/nonexistent"))
        out.append(f"--- {run} log {log}:\n" + (log.read_text()[-6000:] if log.exists() else "(missing)"))
    return "\n".join(out)
