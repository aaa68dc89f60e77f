"""Full load vs ``mariadb-dump | mariadb`` of the same tables, in the same run.

Reuses the full-load engineer's fixtures (tests/integration/test_full_load.py): the same
source tables (every column kind, 1,000,000 rows at scale 1), the same structure copy and
the same command line. Our copies are compared with the source (must be equal); the dump's
equality is reported, not required (mariadb-dump prints FLOAT with ~6 significant digits).
Peak RSS of the flow's process tree is sampled at the full size and at a quarter of it, to
show memory does not follow table size.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bench import env
from bench import verify as verify_bench
from bench.procmem import PeakRSS
from tests.integration.test_full_load import copy_structure, drop_job, full_load_cmd, make_source_tables, write_config
from tests.support import flowrun, stack
from tidb2mysql.compare import compare_databases


def _fresh_target(cfg, source_conn, db: str) -> None:
    stack.drop_database(cfg.target, db)
    with stack.connect(cfg.target) as tgt:
        with tgt.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{db}`")
        copy_structure(source_conn, db, tgt, db)


def _equal(cfg, db: str) -> bool:
    with stack.connect(cfg.source) as a, stack.connect(cfg.target) as b:
        return compare_databases(a, db, b, db).equal


def _flow(cfg, source_conn, db: str, rows: int, workers: int, processes: int, workdir: Path, **settings) -> dict:
    """One ``tidb2mysql full-load`` into fresh target tables; ``settings`` go to ``[full_load]``."""
    _fresh_target(cfg, source_conn, db)
    drop_job(cfg, db)
    conf = write_config(workdir, db, **settings)
    log = workdir / f"fullload_{db}_{processes}x{workers}.log"
    t0 = time.monotonic()
    p = flowrun.start(full_load_cmd(conf, db, workers, processes), log)
    mem = PeakRSS(p.pid)
    try:
        rc = p.wait(timeout=1800)
    finally:
        peak = mem.stop()
    secs = time.monotonic() - t0
    if rc != 0:
        raise RuntimeError(f"bench: full load exited {rc}; log {log}:\n{flowrun.tail(log)}")
    if not _equal(cfg, db):
        raise RuntimeError(f"bench: full load of {db} is not equal to the source")
    drop_job(cfg, db)
    return {"workers": workers, "processes": processes, **settings, "rows": rows, "seconds": round(secs, 2),
            "rows_per_s": round(rows / secs), "peak_rss_mib": round(peak / 1048576, 1), "equal": True}


def _dump_pipe(cfg, source_conn, db: str, rows: int) -> dict:
    if not (shutil.which("mariadb-dump") and shutil.which("mariadb")):
        raise RuntimeError("mariadb-dump and mariadb client tools are needed")
    _fresh_target(cfg, source_conn, db)
    src, tgt = cfg.source, cfg.target
    cmd = (f"mariadb-dump -h{src.host} -P{src.port} -u{src.user} -p{src.resolved_password()} --single-transaction "
           f"--no-create-info --skip-triggers --tz-utc {db} | "
           f"mariadb -h{tgt.host} -P{tgt.port} -u{tgt.user} -p{tgt.resolved_password()} {db}")
    t0 = time.monotonic()
    subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True)
    secs = time.monotonic() - t0
    return {"rows": rows, "seconds": round(secs, 2), "rows_per_s": round(rows / secs), "equal": _equal(cfg, db)}


def run_full_load(cfg, scale: float, workdir: Path) -> dict:
    out: dict = {}
    for label, sc in (("small", scale / 4), ("large", scale)):
        db = stack.create_database(cfg.source, "bench_fl")
        try:
            with stack.connect(cfg.source) as source_conn:
                rows = make_source_tables(source_conn, db, sc)
                if label == "small":
                    out["small_w1"] = _flow(cfg, source_conn, db, rows, 1, 1, workdir)
                    continue
                out["w1"] = _flow(cfg, source_conn, db, rows, 1, 1, workdir)
                out["p2"] = _flow(cfg, source_conn, db, rows, 1, 2, workdir)
                # verify beside the full load, on the copy just checked equal (bench/verify.py)
                out["verify"] = [verify_bench.run_verify(cfg, db, rows, workdir, lanes) for lanes in (1, 2)]
                out["dump_pipe"] = _dump_pipe(cfg, source_conn, db, rows)
        finally:
            drop_job(cfg, db)
            stack.drop_database(cfg.target, db)
            stack.drop_database(cfg.source, db)
    best = max(out["w1"]["rows_per_s"], out["p2"]["rows_per_s"])
    out["ratio_best_vs_dump"] = env.ratio(best, out["dump_pipe"]["rows_per_s"])
    return out
