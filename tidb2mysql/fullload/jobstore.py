"""The full load's state in the target's meta schema: job, chunks, lanes.

Why in the target: it is the one place every process of the Bytewax cluster, the
coordinating command and a later resume all see, and a page's rows and its chunk progress
are committed in the SAME target transaction, so "chunk done" can never be recorded for
rows that were not written.

* ``full_load_job``: one row per job - the stage reached (``loading`` -> ``loaded`` ->
  ``incremental``, for ``tidb2mysql migrate``), the snapshot kind and TSO, the plan (tables
  and their keys, as JSON), the number of lanes, the current run and the snapshot-lock
  handshake state (``waiting`` -> ``locked`` -> ``released``, or ``failed``).
* ``full_load_chunks``: one row per chunk - its table, key range, lane, rows copied, the
  key after which to continue, done flag and times.
* ``full_load_lanes``: one row per lane - which run it belongs to and whether its snapshot
  is open (``connected`` -> ``opened``; ``idle`` when it has nothing left to copy).
* ``full_load_errors``: why a run's flow stopped (one line each, ``fullload/failure.py``), so
  the coordinator can print it instead of the child processes' tracebacks.
* ``full_load_notes``: small named values of a job, e.g. the source's ``tidb_gc_life_time``
  before the load raised it (restored at the end, also by a later run after a crash).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from tidb2mysql.fullload.chunking import Chunk, LoadPlan, TablePlan
from tidb2mysql.mysql import meta as meta_tables
from tidb2mysql.mysql.sql import quote_ident

STAGES = ("loading", "loaded", "incremental")


@dataclass
class Job:
    job: str
    stage: str
    snapshot_kind: str
    snapshot_ts: Optional[int]
    lanes: int
    run: int
    lock_state: str
    lock_ms: Optional[float]
    tables: list  # [TablePlan]


@dataclass
class ChunkState:
    chunk: Chunk
    rows_done: int
    after_key: Optional[list]
    done: bool


class JobStore:
    """Reads and writes one job's rows. Every method commits (autocommit connection)."""

    def __init__(self, meta_schema: str, job: str):
        self.meta = meta_schema
        self.m = quote_ident(meta_schema)
        self.job = job

    def ensure(self, conn) -> None:
        meta_tables.ensure_meta(conn, self.meta, meta_tables.FULL_LOAD)

    # -- job ---------------------------------------------------------------------------

    def load(self, conn) -> Optional[Job]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT stage, snapshot_kind, snapshot_ts, lanes, run, lock_state, lock_ms, plan "
                        f"FROM {self.m}.full_load_job WHERE job = %s", (self.job,))
            row = cur.fetchone()
        if row is None:
            return None
        stage, kind, ts, lanes, run, lock_state, lock_ms, plan = row
        tables = [TablePlan.from_json(t) for t in json.loads(plan)]
        return Job(self.job, stage, kind, None if ts is None else int(ts), int(lanes), int(run),
                   lock_state, lock_ms, tables)

    def lock_info(self, conn) -> Optional[tuple[int, str, Optional[int]]]:
        """``(run, lock_state, snapshot_ts)`` - what a waiting lane polls (cheap: not the plan)."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT run, lock_state, snapshot_ts FROM {self.m}.full_load_job WHERE job = %s", (self.job,))
            row = cur.fetchone()
        if row is None:
            return None
        return int(row[0]), row[1], None if row[2] is None else int(row[2])

    def create(self, conn, kind: str, plan: LoadPlan, lanes: int) -> None:
        tables = json.dumps([t.to_json() for t in plan.tables])
        with conn.cursor() as cur:
            cur.execute(f"INSERT INTO {self.m}.full_load_job (job, stage, snapshot_kind, lanes, plan, created_at) "
                        f"VALUES (%s, 'loading', %s, %s, %s, NOW(6))", (self.job, kind, lanes, tables))
            rows = [(self.job, c.chunk, c.table, c.lane, plan.tables[c.table].schema, plan.tables[c.table].table,
                     _j(c.lo), _j(c.hi), c.est_rows) for c in plan.chunks]
            for i in range(0, len(rows), 1000):
                cur.executemany(f"INSERT INTO {self.m}.full_load_chunks (job, chunk, tbl, lane, schema_name, "
                                f"table_name, lo, hi, est_rows) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                                rows[i:i + 1000])

    def delete(self, conn) -> None:
        with conn.cursor() as cur:
            for t in ("full_load_job", "full_load_chunks", "full_load_lanes", "full_load_errors"):
                cur.execute(f"DELETE FROM {self.m}.{t} WHERE job = %s", (self.job,))

    def set(self, conn, **values) -> None:
        cols = ", ".join(f"{k} = %s" for k in values)
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {self.m}.full_load_job SET {cols} WHERE job = %s", (*values.values(), self.job))

    def set_stage(self, conn, stage: str) -> None:
        assert stage in STAGES
        if stage == "loaded":
            self.set(conn, stage=stage, loaded_at=_now(conn))
        else:
            self.set(conn, stage=stage)

    # -- chunks ------------------------------------------------------------------------

    def chunks(self, conn, lane: Optional[int] = None) -> list[ChunkState]:
        sql = (f"SELECT chunk, tbl, lane, lo, hi, est_rows, rows_done, after_key, done "
               f"FROM {self.m}.full_load_chunks WHERE job = %s")
        args: tuple = (self.job,)
        if lane is not None:
            sql += " AND lane = %s"
            args += (lane,)
        with conn.cursor() as cur:
            cur.execute(sql + " ORDER BY chunk", args)
            out = []
            for chunk, tbl, ln, lo, hi, est, done_rows, after, done in cur.fetchall():
                c = Chunk(int(chunk), int(tbl), _l(lo), _l(hi), int(est), int(ln))
                out.append(ChunkState(c, int(done_rows), _l(after), bool(done)))
        return out

    def page_sql(self, chunk: int, rows_done: int, after_key: Optional[list], last: bool) -> tuple[str, tuple]:
        """The chunk-progress UPDATE that goes in the same transaction as a page's rows."""
        sql = (f"UPDATE {self.m}.full_load_chunks SET rows_done = %s, after_key = %s, done = %s, "
               f"started_at = COALESCE(started_at, NOW(6)), finished_at = IF(%s, NOW(6), NULL) "
               f"WHERE job = %s AND chunk = %s")
        return sql, (rows_done, _j(after_key), int(last), int(last), self.job, chunk)

    def progress(self, conn) -> list[tuple]:
        """Per table: (schema, table, est_rows, rows_done, chunks, chunks_done, started, finished)."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT schema_name, table_name, SUM(est_rows), SUM(rows_done), COUNT(*), SUM(done), "
                        f"MIN(started_at), IF(SUM(done) = COUNT(*), MAX(finished_at), NULL) "
                        f"FROM {self.m}.full_load_chunks WHERE job = %s GROUP BY tbl, schema_name, table_name "
                        f"ORDER BY tbl", (self.job,))
            return [(s, t, int(e or 0), int(d or 0), int(n), int(nd or 0), st, fin)
                    for s, t, e, d, n, nd, st, fin in cur.fetchall()]

    # -- failures and notes --------------------------------------------------------------

    def record_failure(self, conn, run: int, permanent: bool, message: str) -> None:
        with conn.cursor() as cur:
            cur.execute(f"INSERT INTO {self.m}.full_load_errors (job, run, permanent, message, at) "
                        f"VALUES (%s, %s, %s, %s, NOW(6))", (self.job, run, int(permanent), message))

    def failures(self, conn, run: int) -> list[tuple[bool, str]]:
        """``[(permanent, message)]`` recorded by the flow during ``run``, oldest first."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT permanent, message FROM {self.m}.full_load_errors WHERE job = %s AND run = %s "
                        f"ORDER BY id", (self.job, run))
            return [(bool(p), m.decode() if isinstance(m, (bytes, bytearray)) else m) for p, m in cur.fetchall()]

    def note(self, conn, name: str) -> Optional[str]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT value FROM {self.m}.full_load_notes WHERE job = %s AND name = %s", (self.job, name))
            row = cur.fetchone()
        if row is None:
            return None
        return row[0].decode() if isinstance(row[0], (bytes, bytearray)) else row[0]

    def set_note(self, conn, name: str, value: Optional[str]) -> None:
        with conn.cursor() as cur:
            if value is None:
                cur.execute(f"DELETE FROM {self.m}.full_load_notes WHERE job = %s AND name = %s", (self.job, name))
            else:
                cur.execute(f"INSERT INTO {self.m}.full_load_notes (job, name, value) VALUES (%s, %s, %s) "
                            f"ON DUPLICATE KEY UPDATE value = VALUES(value)", (self.job, name, value))

    # -- lanes -------------------------------------------------------------------------

    def lane_state(self, conn, lane: int, run: int, state: str) -> None:
        with conn.cursor() as cur:
            cur.execute(f"INSERT INTO {self.m}.full_load_lanes (job, lane, run, state) VALUES (%s,%s,%s,%s) "
                        f"ON DUPLICATE KEY UPDATE run = %s, state = %s",
                        (self.job, lane, run, state, run, state))

    def lane_counts(self, conn, run: int) -> dict[str, int]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT state, COUNT(*) FROM {self.m}.full_load_lanes WHERE job = %s AND run = %s "
                        f"GROUP BY state", (self.job, run))
            return {s: int(n) for s, n in cur.fetchall()}


def _j(v: Optional[list]) -> Optional[str]:
    return None if v is None else json.dumps(v)


def _l(v) -> Optional[list]:
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        v = v.decode("utf-8")
    return json.loads(v)


def _now(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT NOW(6)")
        return cur.fetchone()[0]
