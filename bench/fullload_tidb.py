"""Full load from a real TiDB vs TiDB's own dump tool: ``dumpling`` + the MariaDB client.

The same tables as the MariaDB full-load section (tests/integration/test_full_load.py, every
column kind), generated on the stack's TiDB (``make up-tidb``; a recursive CTE instead of
MariaDB's SEQUENCE engine). The target tables come from ``tidb2mysql schema`` (the real schema
stage), then:

* ``tidb2mysql full-load`` from TiDB (-w 1 and -p 2), each into fresh target tables; the copy
  must equal TiDB.
* the peer: ``dumpling`` (built from the same TiDB module as the server, scripts/stack.sh
  build-tidb) writes SQL files at one TSO (``--no-schemas``, 2 threads); the ``mariadb``
  client loads them (myloader is not available here) in a session with time_zone +00:00 -
  dumpling reads TIMESTAMPs in UTC but its files do not set the zone. Dump + load is timed as
  one pipeline. Whether the peer is exact is reported, not required.

The result: tidb2mysql's best rows/s as a ratio of the peer's.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bench import env
from tests.integration.test_full_load import drop_job, full_load_cmd, make_source_tables, write_config
from tests.support import flowrun, stack, tidb
from tidb2mysql.compare import compare_databases

REPO = Path(__file__).resolve().parents[1]


def dumpling_bin() -> Path:
    """The dumpling built beside tidb-server (cached; builds only when the pin changed)."""
    p = subprocess.run([str(REPO / "scripts" / "stack.sh"), "build-tidb"], capture_output=True, text=True,
                       timeout=3600)
    if p.returncode != 0:
        raise RuntimeError(f"bench: scripts/stack.sh build-tidb failed:\n{p.stderr[-3000:]}")
    return Path(p.stdout.strip().splitlines()[-1]) / "dumpling"


def _equal(cfg, db: str) -> tuple[bool, str]:
    with stack.connect(cfg.source) as a, stack.connect(cfg.target) as b:
        r = compare_databases(a, db, b, db)
    return r.equal, ("" if r.equal else str(r)[:1500])


def _fresh_target(conf: Path, cfg, db: str, workdir: Path) -> None:
    """Empty target tables made by the schema stage itself (TiDB's DDL translated)."""
    stack.drop_database(cfg.target, db)
    log = workdir / f"schema_{db}.log"
    rc = flowrun.run([*flowrun.incremental_cmd(conf)[:3], "schema", "--config", str(conf), "--databases", db],
                     log, timeout=600)
    if rc != 0:
        raise RuntimeError(f"bench: tidb2mysql schema exited {rc}; log {log}:\n{flowrun.tail(log)}")


def _flow(conf: Path, cfg, db: str, rows: int, workers: int, processes: int, workdir: Path) -> dict:
    _fresh_target(conf, cfg, db, workdir)
    drop_job(cfg, db)
    log = workdir / f"fullload_tidb_{db}_{processes}x{workers}.log"
    t0 = time.monotonic()
    rc = flowrun.run(full_load_cmd(conf, db, workers, processes), log, timeout=3600)
    secs = time.monotonic() - t0
    if rc != 0:
        raise RuntimeError(f"bench: full load from TiDB exited {rc}; log {log}:\n{flowrun.tail(log)}")
    equal, why = _equal(cfg, db)
    if not equal:
        raise RuntimeError(f"bench: full load of {db} from TiDB is not equal to TiDB: {why}")
    drop_job(cfg, db)
    return {"workers": workers, "processes": processes, "rows": rows, "seconds": round(secs, 2),
            "rows_per_s": round(rows / secs), "equal": True}


def _dumpling_pipe(conf: Path, cfg, db: str, rows: int, workdir: Path) -> dict:
    if not shutil.which("mariadb"):
        raise RuntimeError("the mariadb client is needed")
    dumpling = dumpling_bin()
    _fresh_target(conf, cfg, db, workdir)
    out = workdir / f"dumpling_{db}"
    shutil.rmtree(out, ignore_errors=True)
    src, tgt = cfg.source, cfg.target
    t0 = time.monotonic()
    subprocess.run([str(dumpling), "-h", src.host, "-P", str(src.port), "-u", src.user, "-p", src.resolved_password(),
                    "-B", db, "--no-schemas", "--filetype", "sql", "-t", "2", "-o", str(out),
                    "-L", str(workdir / f"dumpling_{db}.log")], check=True, capture_output=True, timeout=3600)
    dumped = time.monotonic() - t0
    files = sorted(out.glob(f"{db}.*.sql"))
    if not files:
        raise RuntimeError(f"bench: dumpling wrote no data files into {out}")
    loader = ["mariadb", "--no-defaults", f"-h{tgt.host}", f"-P{tgt.port}", f"-u{tgt.user}",
              "--init-command=SET time_zone = '+00:00'", db]
    with subprocess.Popen(loader, stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                          env={"MYSQL_PWD": tgt.resolved_password(), "PATH": "/usr/bin:/bin"}) as p:
        for f in files:
            with open(f, "rb") as fh:
                shutil.copyfileobj(fh, p.stdin, 1 << 20)
        p.stdin.close()
        err = p.stderr.read().decode(errors="replace")
        if p.wait() != 0:
            raise RuntimeError(f"bench: loading dumpling's files with the mariadb client failed: {err[-2000:]}")
    secs = time.monotonic() - t0
    equal, why = _equal(cfg, db)
    shutil.rmtree(out, ignore_errors=True)
    return {"rows": rows, "seconds": round(secs, 2), "dump_seconds": round(dumped, 2),
            "rows_per_s": round(rows / secs), "files": len(files), "equal": equal, "difference": why}


def run_full_load_tidb(scale: float, workdir: Path) -> dict:
    cfg = tidb.load_config()
    tidb.check_tidb(cfg)
    out: dict = {"source": tidb.server_version(cfg.source)}
    db = stack.create_database(cfg.source, "bench_fltidb")
    conf = write_config(workdir, db, base=tidb.config_path())
    try:
        with stack.connect(cfg.source) as conn:
            rows = make_source_tables(conn, db, scale, tidb=True)
        out["w1"] = _flow(conf, cfg, db, rows, 1, 1, workdir)
        out["p2"] = _flow(conf, cfg, db, rows, 1, 2, workdir)
        out["dumpling_pipe"] = _dumpling_pipe(conf, cfg, db, rows, workdir)
    finally:
        drop_job(cfg, db)
        stack.drop_database(cfg.target, db)
        stack.drop_database(cfg.source, db)
    best = max(out["w1"]["rows_per_s"], out["p2"]["rows_per_s"])
    out["ratio_best_vs_dumpling"] = env.ratio(best, out["dumpling_pipe"]["rows_per_s"])
    return out
