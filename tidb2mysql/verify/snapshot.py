"""Source snapshots ordered against what the target has applied.

A verify compares a source *snapshot* with the *live* target while the incremental flow keeps
applying. Each comparison needs two facts: a source state the target has certainly applied
(else every row the flow has not reached yet looks different), and later, a source state at
least as new as anything the target holds (to tell lag from divergence). So this seam has two
calls, each opening a snapshot on a source connection and returning its commit_ts (TSO):

* :meth:`before` - a snapshot whose changes the target has all applied: the flow's applied
  position (``<meta>.checkpoint``, the minimum over the job's shards: every change at or below
  it is applied) is at or past it. Used for the chunk checksums and the first read of a row.
* :meth:`after` - a snapshot taken after the target was read: it contains every change the
  target could hold (the flow applies a change only after TiDB committed it).

A row whose source images at ``before`` and ``after`` are equal did not change in between, so
the target, which sits somewhere in between, must hold exactly that image: a difference is
real. A row that changed in between is re-checked later (it was lag, or it is hot).

TiDB (:class:`TiDBSnapshots`; TiDB-only SQL, unit-tested against a recording connection, since
the test stack has no TiDB): ``before`` reads the target's applied commit_ts and sets
``@@tidb_snapshot`` to it - a past TSO, so no waiting, as long as it is within
``tidb_gc_life_time``; ``after`` uses ``@@tidb_current_ts`` of a fresh transaction.

MariaDB stand-in (:class:`StandInSnapshots`): ``START TRANSACTION WITH CONSISTENT SNAPSHOT``
and the commit_ts the simulator wrote in ``_tidb2mysql_sim.tso`` inside the last transaction
this snapshot sees (one connection's snapshot is consistent with its own TSO row, so no global
lock is needed, unlike the full load, which shares ONE snapshot across lanes). ``before`` then
waits until the target's applied position reaches that commit_ts.

Without checkpoint rows for the job (no incremental replication yet, e.g. right after a full
load) the target is taken as it is: nothing is waited for.
"""

from __future__ import annotations

import logging
import time
from typing import Optional

from tidb2mysql.fullload.snapshot import MariaDBSnapshot
from tidb2mysql.replication.route import MAX_SEQ
from tidb2mysql.replication.sql import quote_ident

log = logging.getLogger("tidb2mysql.verify")


class VerifyError(RuntimeError):
    """The verify cannot go on (the message names the table/chunk and what to do)."""


def _exec(conn, sql: str, args=None) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, args)


def _one(conn, sql: str, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def applied_range(tgt, meta: str, job: str) -> Optional[tuple[int, int]]:
    """``(through, highest)`` for the job's shards, or None without checkpoint rows.

    ``through``: every change with commit_ts <= it is applied on every shard (a shard at
    ``(ts, seq)`` with seq below "all of ts" has applied only part of ts, so ts - 1).
    ``highest``: the newest commit_ts any shard has touched.
    """
    try:
        with tgt.cursor() as cur:
            cur.execute(f"SELECT commit_ts, seq FROM {quote_ident(meta)}.`checkpoint` WHERE job = %s", (job,))
            rows = cur.fetchall()
    except Exception as e:
        if getattr(e, "args", (None,))[0] in (1146, 1049):  # no meta table / schema yet
            return None
        raise
    if not rows:
        return None
    through = min(int(ts) if int(seq) >= MAX_SEQ else int(ts) - 1 for ts, seq in rows)
    return through, max(int(ts) for ts, _ in rows)


class _Base:
    def __init__(self, meta: str, job: str, wait_timeout: float = 300.0, poll: float = 0.05):
        self.meta, self.job = meta, job
        self.wait_timeout, self.poll = wait_timeout, poll
        self.waited = 0.0  # seconds spent waiting for the target (reported)

    def applied(self, tgt) -> Optional[tuple[int, int]]:
        return applied_range(tgt, self.meta, self.job)


class StandInSnapshots(_Base):
    kind = "mariadb"

    def __init__(self, tso_table: str, topic: str, meta: str, job: str, wait_timeout: float = 300.0):
        super().__init__(meta, job, wait_timeout)
        self.tso = MariaDBSnapshot(tso_table, topic)

    def _open(self, src) -> int:
        _exec(src, "ROLLBACK")
        _exec(src, "START TRANSACTION WITH CONSISTENT SNAPSHOT")
        return self.tso.read_ts(src)

    def before(self, src, tgt, what: str = "") -> int:
        ts = self._open(src)
        self.wait_applied(tgt, ts, what)
        return ts

    def after(self, src, tgt) -> int:
        return self._open(src)

    def close(self, src) -> None:
        _exec(src, "COMMIT")

    def wait_applied(self, tgt, ts: int, what: str = "") -> None:
        t0 = time.monotonic()
        while True:
            a = self.applied(tgt)
            if a is None or a[0] >= ts:
                self.waited += time.monotonic() - t0
                return
            if time.monotonic() - t0 > self.wait_timeout:
                raise VerifyError(
                    f"{what + ': ' if what else ''}the target has applied commit_ts {a[0]} of job {self.job!r}, "
                    f"the source snapshot is at {ts}, and it did not catch up within {self.wait_timeout:.0f}s. "
                    f"Is `tidb2mysql incremental` running for this job? (a verify compares only what the flow "
                    f"has applied; [verify] wait_timeout)")
            time.sleep(self.poll)


class TiDBSnapshots(_Base):
    kind = "tidb"

    def current_ts(self, src) -> int:
        _exec(src, "SET @@tidb_snapshot = ''")
        _exec(src, "BEGIN")
        try:
            row = _one(src, "SELECT @@tidb_current_ts")
        finally:
            _exec(src, "COMMIT")
        ts = int(row[0]) if row and row[0] is not None else 0
        if ts <= 0:
            raise VerifyError("TiDB returned no @@tidb_current_ts; is the source really TiDB?")
        return ts

    def _set(self, src, ts: int) -> int:
        _exec(src, f"SET @@tidb_snapshot = '{int(ts)}'")
        return int(ts)

    def before(self, src, tgt, what: str = "") -> int:
        a = self.applied(tgt)
        if a is None:
            return self._set(src, self.current_ts(src))
        if a[0] <= 0:
            raise VerifyError(f"{what + ': ' if what else ''}the target has applied nothing yet for job {self.job!r}")
        return self._set(src, a[0])

    def after(self, src, tgt) -> int:
        return self._set(src, self.current_ts(src))

    def close(self, src) -> None:
        _exec(src, "SET @@tidb_snapshot = ''")


def make_snapshots(kind: str, tso_table: str, topic: str, meta: str, job: str, wait_timeout: float):
    if kind == "tidb":
        return TiDBSnapshots(meta, job, wait_timeout)
    if kind == "mariadb":
        return StandInSnapshots(tso_table, topic, meta, job, wait_timeout)
    raise ValueError(f"unknown snapshot kind {kind!r}")
