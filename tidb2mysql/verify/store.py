"""A verify's state in the target's meta schema: runs and chunks (resume), results.

Why in the target: like the full load's job tables, it is the one place a later run (from any
machine) and ``tidb2mysql cutover --require-verify`` can see. A chunk's result (its row
counts, snapshot commit_ts and the keys it suspects) is written when the chunk is finished, so
a killed verify resumes with the chunks it had not finished and still re-checks the suspects
of the finished ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from tidb2mysql.mysql import meta as meta_tables
from tidb2mysql.mysql.sql import quote_ident


@dataclass
class Run:
    job: str
    run_id: int
    state: str
    plan: dict
    differences: Optional[int] = None
    unsettled: Optional[int] = None
    finished_at: object = None


class VerifyStore:
    def __init__(self, meta: str, job: str):
        self.meta, self.job = meta, job
        self.runs = f"{quote_ident(meta)}.`verify_run`"
        self.chunks = f"{quote_ident(meta)}.`verify_chunk`"

    def ensure(self, conn) -> None:
        meta_tables.ensure_meta(conn, self.meta, meta_tables.VERIFY)

    def latest(self, conn) -> Optional[Run]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT run_id, state, plan, differences, unsettled, finished_at FROM {self.runs} "
                        f"WHERE job = %s ORDER BY run_id DESC LIMIT 1", (self.job,))
            r = cur.fetchone()
        if r is None:
            return None
        return Run(self.job, int(r[0]), r[1], json.loads(r[2]), r[3], r[4], r[5])

    def clean_problem(self, conn) -> Optional[str]:
        """Why the job's latest verify does not allow a cut-over (``cutover --require-verify``),
        or None when it finished with no difference left (none found, or all repaired) and no
        unsettled row."""
        self.ensure(conn)
        with conn.cursor() as cur:
            cur.execute(f"SELECT run_id, state, differences, unsettled, repaired, finished_at FROM {self.runs} "
                        f"WHERE job = %s ORDER BY run_id DESC LIMIT 1", (self.job,))
            r = cur.fetchone()
        if r is None:
            return f"job {self.job!r} has never been verified"
        run_id, state, diffs, unsettled, repaired, finished = r
        if state != "done":
            return f"verify run {run_id} of job {self.job!r} did not finish"
        if unsettled:
            return f"verify run {run_id} (finished {finished}) left {unsettled} unsettled row(s)"
        if diffs and (repaired or 0) < diffs:
            return (f"verify run {run_id} (finished {finished}) found {diffs} difference(s) and repaired "
                    f"{repaired or 0}")
        return None

    def create(self, conn, plan: dict, chunks: int) -> int:
        with conn.cursor() as cur:
            cur.execute(f"SELECT COALESCE(MAX(run_id), 0) + 1 FROM {self.runs} WHERE job = %s", (self.job,))
            run_id = int(cur.fetchone()[0])
            cur.execute(f"INSERT INTO {self.runs} (job, run_id, state, started_at, plan, chunks) "
                        f"VALUES (%s, %s, 'running', NOW(3), %s, %s)", (self.job, run_id, json.dumps(plan), chunks))
        return run_id

    def done_chunks(self, conn, run_id: int) -> dict[int, dict]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT chunk, rows_source, rows_target, snapshot_ts, ranges, suspects FROM {self.chunks} "
                        f"WHERE job = %s AND run_id = %s", (self.job, run_id))
            return {int(c): {"rows_source": int(a), "rows_target": int(b), "snapshot_ts": int(ts), "ranges": int(n),
                             "suspects": json.loads(s)} for c, a, b, ts, n, s in cur.fetchall()}

    def chunk_done(self, conn, run_id: int, chunk: int, rows_source: int, rows_target: int, ts: int,
                   ranges: int, suspects: list) -> None:
        with conn.cursor() as cur:
            cur.execute(f"REPLACE INTO {self.chunks} (job, run_id, chunk, rows_source, rows_target, snapshot_ts, "
                        f"ranges, suspects, finished_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,NOW(3))",
                        (self.job, run_id, chunk, rows_source, rows_target, ts, ranges, json.dumps(suspects)))

    def finish(self, conn, run_id: int, state: str, rows: int, differences: int, unsettled: int,
               repaired: Optional[int], report: dict) -> None:
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {self.runs} SET state = %s, finished_at = NOW(3), rows_source = %s, "
                        f"differences = %s, unsettled = %s, repaired = %s, report = %s WHERE job = %s AND run_id = %s",
                        (state, rows, differences, unsettled, repaired, json.dumps(report, default=str),
                         self.job, run_id))
