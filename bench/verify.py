"""``tidb2mysql verify`` throughput on the full-load tables (every column kind), beside the full load.

Run right after the full load of the same database, while the target equals the source:
the command line a user runs (``tidb2mysql verify --json``), 1 and 2 lanes, no rate limit, no
incremental job (nothing to wait for). Reports wall time (including planning with exact row
counts) and rows/s; the verify must come out clean (else the bench fails: a verify that finds
differences where compare_databases found none would be wrong).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.support import flowrun


def run_verify(cfg, db: str, rows: int, workdir: Path, lanes: int, chunk_rows: int = 50_000) -> dict:
    job = f"bench_verify_{db[-12:]}_{lanes}"
    conf = flowrun.write_config(workdir / f"verify_{lanes}.toml", topic="bench_verify", job=job,
                                verify={"chunk_rows": chunk_rows, "lanes": lanes, "progress_interval": 5.0})
    cmd = [sys.executable, "-m", "tidb2mysql.cli", "verify", "--config", str(conf), "--tables", f"{db}.*", "--json",
           "--restart"]
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=flowrun.REPO, capture_output=True, text=True, timeout=3600)
    secs = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError(f"bench: verify exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    rep = json.loads(p.stdout)
    if rep["rows"] != rows or not rep["clean"]:
        raise RuntimeError(f"bench: verify of {db} saw {rep['rows']} rows (expected {rows}), clean={rep['clean']}")
    _forget(cfg, job)
    return {"lanes": lanes, "rows": rows, "chunks": rep["chunks"], "ranges": rep["ranges"], "seconds": round(secs, 2),
            "rows_per_s": round(rows / secs), "inside_seconds": round(rep["seconds"], 2), "equal": True}


def _forget(cfg, job: str) -> None:
    from tests.support import stack

    with stack.connect(cfg.target) as conn, conn.cursor() as cur:
        for t in ("verify_run", "verify_chunk"):
            cur.execute(f"DELETE FROM `{cfg.job.meta_schema}`.`{t}` WHERE job = %s", (job,))
