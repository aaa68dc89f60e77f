"""The consistent-snapshot seam: one snapshot TSO shared by every chunk reader.

The full load must read every table as of ONE point in the source's history, and know that
point as a TiDB commit_ts (TSO): incremental replication then starts right after it, so each
binlog is either already in the copied data (commit_ts <= TSO, skipped) or applied later
(commit_ts > TSO). Two implementations:

* :class:`TiDBSnapshot` - the real thing. The coordinator reads one TSO from TiDB
  (``SELECT @@tidb_current_ts`` inside a transaction is the transaction's start TSO; every
  transaction committed before it is visible at it). Every reader connection runs
  ``SET @@tidb_snapshot = '<tso>'`` and then reads history at that TSO, from any number of
  connections and processes, and again after a crash. The one limit: TiDB's GC must not
  collect that history while the load runs, so ``tidb_gc_life_time`` must exceed the load
  time (we log its value; raise it before a long load, e.g. ``SET GLOBAL tidb_gc_life_time
  = '24h'``, and reset it afterwards).

* :class:`MariaDBSnapshot` - the stand-in the test stack uses (its source is MariaDB, which
  cannot share one snapshot across connections). The mydumper technique: the coordinator
  takes ``FLUSH TABLES WITH READ LOCK`` (no commit can happen while it is held), reads the
  TSO from the simulator's ``_tidb2mysql_sim.tso`` row (the commit_ts of the last
  transaction the snapshot contains, written by the simulator inside every transaction),
  every reader opens ``START TRANSACTION WITH CONSISTENT SNAPSHOT`` and re-reads that row
  (it must equal the recorded TSO), then the coordinator releases the lock. After a crash
  the old snapshot is gone: a resumed load opens a new one and continues only if the TSO row
  still equals the recorded TSO (the source did not change since); otherwise it fails and
  the load must restart from scratch. TiDB itself has no such limit.

Each class only issues SQL on connections it is given, so the SQL is unit-tested with a
recording fake connection.
"""

from __future__ import annotations

import logging
from typing import Optional

from tidb2mysql.config.full_load import parse_go_duration

from tidb2mysql.mysql.sql import quote_ident
from tidb2mysql.errors import InternalError

log = logging.getLogger(__name__)


class SnapshotError(InternalError, RuntimeError):
    """The snapshot cannot be taken or re-opened consistently; the message says what to do."""


def _one(conn, sql: str, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def _exec(conn, sql: str, args=None) -> None:
    with conn.cursor() as cur:
        cur.execute(sql, args)


def tidb_current_ts(conn, error: type = None) -> int:
    """A fresh TSO from TiDB: the start TSO of a transaction (everything committed before is
    visible). ``error``: the exception class to raise when the server gives none."""
    _exec(conn, "BEGIN")
    try:
        row = _one(conn, "SELECT @@tidb_current_ts")
    finally:
        _exec(conn, "COMMIT")
    ts = int(row[0]) if row and row[0] is not None else 0
    if ts <= 0:
        raise (error or SnapshotError)("TiDB returned no @@tidb_current_ts; is the source really TiDB?")
    return ts


class TiDBSnapshot:
    kind = "tidb"
    needs_global_lock = False

    def record_ts(self, conn) -> int:
        """A fresh TSO: the start TSO of a transaction (everything committed before is visible)."""
        return tidb_current_ts(conn)

    def warn_gc(self, conn) -> Optional[str]:
        try:
            row = _one(conn, "SELECT @@tidb_gc_life_time")
        except Exception:  # noqa: BLE001 - older TiDB keeps it in mysql.tidb; not worth failing over
            row = None
        life = str(row[0]) if row else "unknown"
        log.warning(
            "TiDB snapshot reads need history: tidb_gc_life_time (now %s) must exceed the full "
            "load's duration, or readers fail with 'GC life time is shorter than transaction "
            "duration'. Raise it for the load (SET GLOBAL tidb_gc_life_time = '24h') and reset it after.",
            life,
        )
        return life

    def open_reader(self, conn, ts: int) -> None:
        """Make ``conn`` read the database as of ``ts`` (session-wide, every later statement)."""
        _exec(conn, f"SET @@tidb_snapshot = '{int(ts)}'")

    def reopen_reader(self, conn, ts: int) -> None:
        """After a crash: the same TSO still works (within the GC life time)."""
        self.open_reader(conn, ts)


class MariaDBSnapshot:
    kind = "mariadb"
    needs_global_lock = True

    def __init__(self, tso_table: str, topic: str, lock_wait_seconds: int = 30):
        schema, table = tso_table.split(".", 1)
        self.tso_table = quote_ident(schema) + "." + quote_ident(table)
        self.topic = topic
        self.lock_wait_seconds = lock_wait_seconds

    def lock(self, conn) -> None:
        """Stop every commit on the source (held by the coordinator's connection).

        FLUSH TABLES WITH READ LOCK first waits for running statements; every writer queues
        behind it meanwhile. ``lock_wait_timeout`` bounds that wait (the server default is a
        day), so a long-running query fails the load instead of stalling the source.
        """
        _exec(conn, f"SET SESSION lock_wait_timeout = {int(self.lock_wait_seconds)}")
        try:
            _exec(conn, "FLUSH TABLES WITH READ LOCK")
        except Exception as e:
            if getattr(e, "args", (None,))[0] == 1205:  # lock wait timeout
                raise SnapshotError(
                    f"could not take FLUSH TABLES WITH READ LOCK within {self.lock_wait_seconds}s: a long-running "
                    f"query or transaction on the source holds tables; retry when it has finished") from None
            raise

    def unlock(self, conn) -> None:
        _exec(conn, "UNLOCK TABLES")

    def read_ts(self, conn) -> int:
        """The commit_ts of the last transaction visible to ``conn`` (0 without a TSO row)."""
        try:
            row = _one(conn, f"SELECT commit_ts FROM {self.tso_table} WHERE topic = %s", (self.topic,))
        except Exception as e:
            if getattr(e, "args", (None,))[0] in (1146, 1049):  # no such table / database
                return 0
            raise
        return int(row[0]) if row and row[0] is not None else 0

    def record_ts(self, conn) -> int:
        """Called by the coordinator while it holds the lock."""
        ts = self.read_ts(conn)
        if ts == 0:
            log.warning("no row for topic %r in %s: snapshot TSO recorded as 0 (incremental would "
                        "start at the topic's beginning)", self.topic, self.tso_table)
        return ts

    def open_reader(self, conn, ts: int) -> None:
        """Open this connection's snapshot (while the coordinator holds the lock) and check it."""
        _exec(conn, "START TRANSACTION WITH CONSISTENT SNAPSHOT")
        seen = self.read_ts(conn)
        if seen != ts:
            raise SnapshotError(
                f"snapshot mismatch: this reader sees commit_ts {seen} in {self.tso_table} but the "
                f"load's snapshot is {ts}; the source changed while the snapshot was being opened "
                f"(was the read lock released early?)"
            )

    def reopen_reader(self, conn, ts: int) -> None:
        try:
            self.open_reader(conn, ts)
        except SnapshotError as e:
            raise SnapshotError(
                f"cannot resume the full load: the MariaDB stand-in cannot re-open the old snapshot, "
                f"and the source changed since (recorded TSO {ts}; {e}). The load must restart from "
                f"scratch: drop the job's rows (tidb2mysql full-load --restart) and empty the target tables."
            ) from None


GC_NOTE = "tidb_gc_life_time_before_load"


def _go_seconds(text: str) -> Optional[float]:
    return parse_go_duration(text) if text else None


class GCHold:
    """Keep the snapshot's MVCC versions alive while the load reads them.

    ``tidb_snapshot`` reads are not transactions, so nothing stops TiDB's GC from collecting
    the versions at the snapshot TSO once it is older than ``tidb_gc_life_time`` (default
    10m): readers then fail with "GC life time is shorter than transaction duration" and the
    snapshot is lost for good. Like TiDB's dumpling does when it cannot register a PD service
    safe point, the coordinator raises ``tidb_gc_life_time`` for the duration of the load and
    restores it afterwards. The value it found is written to the job's notes BEFORE raising,
    so a coordinator killed mid-load leaves the original behind, and the next run (resume or
    restart) restores that one, not its own raised value.
    """

    def __init__(self, want: str, store):
        self.want = want
        self.store = store
        self.raised = False

    def acquire(self, src, tgt) -> Optional[str]:
        """Raise the GC life time to ``want`` if it is shorter. Returns a line for the operator."""
        if not self.want:
            return None
        want_s = _go_seconds(self.want)
        current = str(_one(src, "SELECT @@global.tidb_gc_life_time")[0])
        original = self.store.note(tgt, GC_NOTE)  # left by an earlier run that did not restore it
        cur_s = _go_seconds(current)
        if original is None and cur_s is not None and want_s is not None and cur_s >= want_s:
            return f"tidb_gc_life_time is {current} (>= {self.want}): left as it is"
        if original is None:
            self.store.set_note(tgt, GC_NOTE, current)
            original = current
        try:
            _exec(src, f"SET GLOBAL tidb_gc_life_time = '{self.want}'")
        except Exception as e:  # noqa: BLE001 - no SUPER / SYSTEM_VARIABLES_ADMIN: warn, the load may still fit
            if self.store.note(tgt, GC_NOTE) == current:
                self.store.set_note(tgt, GC_NOTE, None)
            msg = (f"could not raise tidb_gc_life_time ({current}) to {self.want} for the load: "
                   f"{e.args[-1] if getattr(e, 'args', None) else e}. If the load outlasts {current}, its snapshot is "
                   f"garbage-collected and the load fails: grant SYSTEM_VARIABLES_ADMIN (or SUPER), or raise it by hand")
            log.warning(msg)
            return msg
        self.raised = True
        return (f"tidb_gc_life_time raised from {original} to {self.want} while the load reads its snapshot"
                f" (restored at the end)")

    def release(self, src, tgt) -> Optional[str]:
        """Restore the value found before the load (also one left by a crashed earlier run)."""
        original = self.store.note(tgt, GC_NOTE)
        if original is None:
            return None
        _exec(src, f"SET GLOBAL tidb_gc_life_time = '{original}'")
        self.store.set_note(tgt, GC_NOTE, None)
        self.raised = False
        return f"tidb_gc_life_time restored to {original}"


def detect_kind(conn) -> str:
    version = str(_one(conn, "SELECT VERSION()")[0])
    return "tidb" if "tidb" in version.lower() else "mariadb"


def make_snapshot(kind: str, tso_table: str, topic: str, lock_wait_seconds: int = 30):
    if kind == "tidb":
        return TiDBSnapshot()
    if kind == "mariadb":
        return MariaDBSnapshot(tso_table, topic, lock_wait_seconds)
    raise ValueError(f"unknown snapshot kind {kind!r}")
