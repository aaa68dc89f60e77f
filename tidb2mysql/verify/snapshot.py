"""Source snapshots ordered against what the target has applied.

A verify compares a source *snapshot* with the *live* target while the incremental flow keeps
applying. Each comparison needs two facts: a source state the target has certainly applied
(else every row the flow has not reached yet looks different), and later, a source state at
least as new as anything the target holds (to tell lag from divergence). So this seam has two
calls, each opening a snapshot on a source connection and returning its commit_ts (TSO):

* :meth:`before` - a snapshot whose changes the target has all applied: the flow's applied
  position (``<meta>.checkpoint``, the minimum over the job's shards: every change at or below
  it is applied) is at or past it. Used for the chunk checksums and the first read of a row.
* :meth:`after` - a snapshot at least as new as anything the target holds. The checker takes
  it while it holds the suspected target rows locked (``FOR UPDATE``), then waits (bounded,
  :meth:`reached`) until every shard has applied everything up to it: the flow cannot have
  changed the locked rows meanwhile, so they must now equal the source rows at that snapshot,
  exactly; a remaining difference is real. If the flow needed one of the locked rows, it
  cannot get there, the wait times out, the locks are released and the rows are re-checked in
  the next round.

TiDB (:class:`TiDBSnapshots`; TiDB-only SQL, unit-tested against a recording connection, since
the test stack has no TiDB): ``before`` reads the target's applied commit_ts and sets
``@@tidb_snapshot`` to it - a past TSO, so no waiting, as long as it is within
``tidb_gc_life_time``; ``after`` uses the newest commit_ts a shard has applied.

MariaDB stand-in (:class:`StandInSnapshots`): ``START TRANSACTION WITH CONSISTENT SNAPSHOT``
and the commit_ts the simulator wrote in ``_tidb2mysql_sim.tso`` inside the last transaction
this snapshot sees (one connection's snapshot is consistent with its own TSO row, so no global
lock is needed, unlike the full load, which shares ONE snapshot across lanes). ``before`` then
waits until the target's applied position reaches that commit_ts; so does the checker after
``after``.

Without checkpoint rows for the job (no incremental replication yet, e.g. right after a full
load) the target is taken as it is: nothing is waited for.
"""

from __future__ import annotations

import logging
import time
from typing import Optional

from tidb2mysql.fullload.snapshot import MariaDBSnapshot, tidb_current_ts
from tidb2mysql.replication.route import MAX_SEQ
from tidb2mysql.mysql.sql import quote_ident
from tidb2mysql.errors import InternalError

log = logging.getLogger("tidb2mysql.verify")


class VerifyError(InternalError, RuntimeError):
    """The verify cannot go on (the message names the table/chunk and what to do)."""


def _exec(conn, sql: str, args=None) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, args)


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

    def reached(self, tgt, ts: int, timeout: float) -> bool:
        """Wait until every shard has applied everything up to ``ts`` (True), or ``timeout``."""
        t0 = time.monotonic()
        try:
            while True:
                a = self.applied(tgt)
                if a is None or a[0] >= ts:
                    return True
                if time.monotonic() - t0 > timeout:
                    return False
                time.sleep(self.poll)
        finally:
            self.waited += time.monotonic() - t0


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
        if not self.reached(tgt, ts, self.wait_timeout):
            a = self.applied(tgt)
            raise VerifyError(
                f"{what + ': ' if what else ''}the target has applied commit_ts {a[0] if a else '?'} of job "
                f"{self.job!r}, the source snapshot is at {ts}, and it did not catch up within "
                f"{self.wait_timeout:.0f}s. Is `tidb2mysql incremental` running for this job? (a verify compares "
                f"only what the flow has applied; [verify] wait_timeout)")


class TiDBSnapshots(_Base):
    kind = "tidb"

    def current_ts(self, src) -> int:
        _exec(src, "SET @@tidb_snapshot = ''")
        return tidb_current_ts(src, VerifyError)

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
        """The newest commit_ts any shard has applied (a real commit the flow will get every shard
        past; ``@@tidb_current_ts`` would not be reached while TiDB is idle, as Drainer sends no
        heartbeats); the current TSO without replication."""
        a = self.applied(tgt)
        return self._set(src, a[1] if a is not None else self.current_ts(src))

    def close(self, src) -> None:
        _exec(src, "SET @@tidb_snapshot = ''")


def make_snapshots(kind: str, tso_table: str, topic: str, meta: str, job: str, wait_timeout: float):
    if kind == "tidb":
        return TiDBSnapshots(meta, job, wait_timeout)
    if kind == "mariadb":
        return StandInSnapshots(tso_table, topic, meta, job, wait_timeout)
    raise ValueError(f"unknown snapshot kind {kind!r}")
