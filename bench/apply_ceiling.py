"""Context for the ceiling: applying pre-decoded rows (no Kafka, no decode), and LOAD DATA.

* raw upsert: the OLTP rows are built in memory before the clock starts, then applied with
  the project's multi-row upsert text (:class:`TableSQL`), 1000 rows per statement and
  transaction, by 1, 2 and 4 processes on disjoint keys. This is the apply-only ceiling of
  this machine (research/perf-limits.md measured ~22k rows/s for one connection, 40-55k for
  2-4).
* LOAD DATA LOCAL INFILE of the same rows as TSV through PyMySQL: the server's bulk path,
  the upper bound for anything that goes through SQL (~70k rows/s in the study).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import time

from bench import oltp
from tidb2mysql.mysql import db
from tidb2mysql.mysql.sql import TableSQL
from tidb2mysql.mysql.session import prepare_session


BATCH = 1000


def _upsert_share(cfg, database: str, rows: int, index: int, count: int, start, out) -> None:
    try:
        schema = oltp.oltp_schema(database, "oltp")
        q = TableSQL(schema)
        data = [oltp.row(pk, 0) for pk in range(1 + index, rows + 1, count)]
        conn = db.connect(cfg.target, autocommit=False)
        prepare_session(conn)
        cur = conn.cursor()
        start.wait()
        t0 = time.time()
        for i in range(0, len(data), BATCH):
            for st in q.upsert(data[i:i + BATCH]):
                cur.execute(st.sql)
            conn.commit()
        out.put({"rows": len(data), "first": t0, "done": time.time()})
        conn.close()
    except BaseException as e:
        out.put({"error": f"raw upsert process {index}: {type(e).__name__}: {e}"})


def raw_upsert(cfg, database: str, rows: int, processes: int) -> dict:
    ctx = mp.get_context("spawn")
    out, start = ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_upsert_share, args=(cfg, database, rows, i, processes, start, out), daemon=True)
             for i in range(processes)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    # let every process build its rows first; the clock starts in each at start.set()
    time.sleep(max(1.0, rows / 200_000))
    start.set()
    results = [out.get(timeout=1800) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise RuntimeError("; ".join(errors))
    secs = max(r["done"] for r in results) - min(r["first"] for r in results)
    return {"processes": processes, "rows": rows, "seconds": round(secs, 3), "rows_per_s": round(rows / secs)}


def _tsv(v) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, str):
        return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    if isinstance(v, float):
        return repr(v)
    return str(v)


def load_data(cfg, database: str, rows: int) -> dict:
    fd, path = tempfile.mkstemp(suffix=".tsv", prefix="bench_load_")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for pk in range(1, rows + 1):
                f.write("\t".join(map(_tsv, oltp.row(pk, 0))) + "\n")
        conn = db.connect(cfg.target, database=database, autocommit=True, local_infile=True)
        prepare_session(conn)
        cur = conn.cursor()
        t0 = time.time()
        cur.execute(f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE oltp CHARACTER SET utf8mb4")
        conn.commit()
        secs = time.time() - t0
        cur.execute("SELECT COUNT(*) FROM oltp")
        n = cur.fetchone()[0]
        conn.close()
        if n != rows:
            raise RuntimeError(f"LOAD DATA loaded {n} rows, expected {rows}")
        return {"rows": rows, "seconds": round(secs, 3), "rows_per_s": round(rows / secs)}
    finally:
        os.unlink(path)
