"""The DDL barrier: a DDL runs after every change before it and before every change after it,
exactly once, and a crash or a lost connection at any moment neither loses nor reorders data.

All coordination goes through the target database, so it works across Bytewax workers *and*
processes, survives the loss of Bytewax's recovery directory, and nobody blocks waiting for
another shard. The protocol, per DDL at ``commit_ts = ts`` (docs/architecture.md draws it as a
state machine with what a crash does in each state):

1. **Route.** The router copies the DDL to every shard as a :class:`~.change.Barrier`.
2. **Acknowledge.** A shard receiving it flushes what it holds and moves its checkpoint to
   ``(ts, -1)``: "all my changes before this DDL are applied". From then on it holds its later
   input. A shard whose checkpoint is *exactly* ``(ts, -1)`` when the barrier reaches it
   (re-delivered after a crash, or restored from a snapshot) waits again: an acknowledgement
   says nothing about whether the DDL ran. Only a checkpoint *past* ``(ts, -1)`` proves the
   shard was released, which happens only after the DDL is recorded as done.
3. **Intent.** A waiting shard polls :meth:`DDLCoordinator.try_complete`. Once all
   ``shard_count`` checkpoints are at or past ``(ts, -1)`` it takes a named lock
   (``GET_LOCK``, per job) and, under it, writes the intent row in ``ddl_history``: the
   translated statements, ``status = 'running'``, ``step = 0``.
4. **Execute, one statement at a time.** Before statement ``step`` is first sent, the row gets
   a fingerprint of the target's schema (:mod:`.ddl_outcome`: the structure of the databases
   the statement names, plus InnoDB table ids, so a RENAME swap or a TRUNCATE shows). After it
   succeeds, ``step`` advances and the fingerprint is cleared. If the executor dies or loses
   its connection in between, the next executor (any shard, after re-taking the lock: the
   lock is held by the old session until its statement has finished) finds a fingerprint and
   compares: a changed schema means the statement took effect (it is not sent again); an
   unchanged one means it did not (it is sent, and only *then*, on a proven re-run, are
   "already exists / unknown" errors tolerated). No statement runs twice; a statement never
   runs on a session without its database: the default database of each statement (the
   translation's ``USE``) is set again on every connection before the statement.
5. **Record.** ``status = 'applied'``. Shards see a done status and release their held input.

Outcomes (``status``): ``applied``; ``skipped`` (nothing to run on the target, e.g. a TiDB-only
statement or a table outside the selection); ``failed`` (a permanent error or a DDL that
cannot be translated, in strict mode: the flow stops, and stays stopped across restarts until
``tidb2mysql ddl resolve`` records an operator's decision); ``quarantined`` / ``needs-recopy``
(the same in non-strict mode: the DDL is parked as a dead letter, the affected table is put in
``quarantine`` and its later changes go to the dead-letter table instead of being applied
against the wrong schema); ``manual-applied`` / ``manual-skip`` (operator decisions).
Transient errors (lost connection, lock wait timeout behind a long transaction, deadlock) are
never an outcome: the DDL stays ``running``, the row says since when it is blocked and why,
and it is retried with backoff for as long as it takes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

import orjson
import pymysql

from tidb2mysql import failpoints
from tidb2mysql.events import DDL
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.ddl_outcome import schema_fingerprint
from tidb2mysql.mysql.errors import ALREADY_DONE_ERRORS, NOT_APPLIED_ERRORS, error_code, error_message, is_transient
from tidb2mysql.mysql.sql import quote_ident

log = logging.getLogger(__name__)

RUNNING = "running"
APPLIED = "applied"
SKIPPED = "skipped"
FAILED = "failed"
QUARANTINED = "quarantined"
NEEDS_RECOPY = "needs-recopy"
MANUAL_APPLIED = "manual-applied"
MANUAL_SKIP = "manual-skip"
# A shard may pass the barrier once its DDL has one of these.
DONE = frozenset({APPLIED, SKIPPED, QUARANTINED, NEEDS_RECOPY, MANUAL_APPLIED, MANUAL_SKIP})


class DDLStopped(RuntimeError):
    """A DDL failed permanently in strict mode: the flow stops until an operator decides."""


@dataclass
class BarrierTranslation:
    """What to run on the target for one DDL, and why (filled by the DDL translator).

    ``statements`` run in order; a ``USE db`` among them sets the default database of the
    statements after it (re-applied on every new connection).
    """

    statements: list[str]
    decisions: list[dict] = field(default_factory=list)
    skipped: bool = False
    needs_recopy: bool = False
    # no safe statement exists (or the target rejected every fallback): the operator decides
    untranslatable: bool = False

    @property
    def errors(self) -> list[dict]:
        return [d for d in self.decisions if d.get("level") == "error"]


@dataclass
class HistoryRow:
    commit_ts: int
    status: str
    statements: list[str]
    decisions: list[dict]
    step: int
    step_fingerprint: Optional[str]
    attempts: int
    error: Optional[str]


_TIDB_COMMENT = re.compile(r"/\*T!(?:\[[^\]]*\])?.*?\*/", re.S)
_VERSIONED_9 = re.compile(r"/\*!9\d{4}.*?\*/", re.S)
_DB_LEVEL = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(create|drop|alter)\s+(database|schema)\b", re.I | re.S)
_USE = re.compile(r"^\s*USE\s+(`(?:[^`]|``)+`|\w+)\s*;?\s*$", re.I)


def passthrough_translate(ddl: DDL, conn=None) -> BarrierTranslation:
    """Strip TiDB-only comments and nothing else (the fallback when no translator is set)."""
    q = _VERSIONED_9.sub("", _TIDB_COMMENT.sub("", ddl.query)).strip().rstrip(";")
    decisions = []
    if q != ddl.query.strip().rstrip(";"):
        decisions.append({"level": "info", "action": "changed", "reason": "removed TiDB-only comments"})
    if not q:
        return BarrierTranslation([], decisions, skipped=True)
    use = [f"USE {quote_ident(ddl.schema)}"] if ddl.schema and not _DB_LEVEL.match(q) else []
    return BarrierTranslation(use + [q], decisions)


def use_target(stmt: str) -> Optional[str]:
    """The database of a ``USE`` statement, or None for any other statement."""
    m = _USE.match(stmt)
    if not m:
        return None
    name = m.group(1)
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


class DDLCoordinator:
    """Decides when a barrier's DDL may run, runs it exactly once, and records it."""

    def __init__(
        self,
        checkpoints: Checkpoints,
        shard_count: int,
        translate: Callable[..., BarrierTranslation] = passthrough_translate,
        strict: bool = False,
        lock_wait_timeout: int = 60,
        target_name: Callable[[str, str], tuple[str, str]] = lambda db, table: (db, table),
    ):
        self.cp = checkpoints
        self.meta = checkpoints.meta
        self.job = checkpoints.job
        self.shard_count = shard_count
        self.translate = translate
        self.strict = strict
        # A DDL waiting for a metadata lock behind a long target transaction gives up after
        # this many seconds (error 1205, transient: retried with backoff, shown by `status`),
        # instead of blocking the worker for the server default (a day on MariaDB).
        self.lock_wait_timeout = lock_wait_timeout
        self.target_name = target_name  # source (db, table) -> target names (selection)
        self.history = f"{quote_ident(self.meta)}.`ddl_history`"
        self.quarantine = f"{quote_ident(self.meta)}.`quarantine`"

    # -- reads ---------------------------------------------------------------------------

    def load(self, conn, commit_ts: int) -> Optional[HistoryRow]:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT commit_ts, status, statements, decisions, step, step_fingerprint, attempts, error"
                f" FROM {self.history} WHERE job=%s AND commit_ts=%s", (self.job, commit_ts))
            r = cur.fetchone()
        if r is None:
            return None
        return HistoryRow(int(r[0]), r[1], orjson.loads(r[2] or "[]"), orjson.loads(r[3] or "[]"),
                          int(r[4]), r[5], int(r[6]), r[7])

    def status(self, conn, commit_ts: int) -> Optional[str]:
        row = self.load(conn, commit_ts)
        return row.status if row else None

    def is_done(self, conn, commit_ts: int) -> bool:
        return self.status(conn, commit_ts) in DONE

    def all_reached(self, conn, commit_ts: int) -> bool:
        return self.cp.count_at_or_after(conn, (commit_ts, -1)) >= self.shard_count

    def quarantined_tables(self, conn) -> set[tuple[str, str]]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT schema_name, table_name FROM {self.quarantine} WHERE job=%s", (self.job,))
            return {(r[0], r[1]) for r in cur.fetchall()}

    # -- the protocol --------------------------------------------------------------------

    def try_complete(self, conn, ddl: DDL, offset: int = -1) -> bool:
        """Non-blocking: True once the DDL has a done status (by us or another shard).

        Raises :class:`DDLStopped` for a DDL recorded ``failed`` (strict mode: it stays
        failed across restarts until ``tidb2mysql ddl resolve``); transient database errors
        propagate (the caller reconnects and polls again).
        """
        row = self.load(conn, ddl.commit_ts)
        if row is not None:
            if row.status in DONE:
                return True
            if row.status == FAILED:
                raise DDLStopped(self._stopped_message(ddl, row.error))
        if not self.all_reached(conn, ddl.commit_ts):
            return False
        lock = f"tidb2mysql:ddl:{self.job}"[:64]
        with conn.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", (lock,))
            got = cur.fetchone()[0] == 1
        if not got:
            return False  # another session runs it now, or a lost one is still finishing its statement
        try:
            return self._complete_locked(conn, ddl, offset)
        finally:
            try:
                with conn.cursor() as cur:
                    cur.execute("SELECT RELEASE_LOCK(%s)", (lock,))
            except pymysql.err.MySQLError:
                pass  # the connection is gone, and the lock with it

    def _complete_locked(self, conn, ddl: DDL, offset: int) -> bool:
        row = self.load(conn, ddl.commit_ts)
        if row is None:
            row = self._write_intent(conn, ddl, offset)
            if failpoints.ENABLED:
                failpoints.hit("barrier.after_intent", ddl.commit_ts, conn)
        if row.status in DONE:
            return True
        if row.status == FAILED:
            raise DDLStopped(self._stopped_message(ddl, row.error))
        self._execute(conn, ddl, row, offset)
        if failpoints.ENABLED:
            failpoints.hit("barrier.after_record", ddl.commit_ts, conn)
        return True

    def _write_intent(self, conn, ddl: DDL, offset: int) -> HistoryRow:
        """Translate and record what will run (status running), or the outcome when nothing runs."""
        tr = self.translate(ddl, conn)  # conn: the translator may read and shadow-test the target
        decisions = list(tr.decisions)
        status, error = RUNNING, None
        if tr.needs_recopy or tr.untranslatable or tr.errors:
            why = "; ".join(d.get("reason", "") for d in tr.errors) or "the table must be copied again"
            error = f"the DDL cannot be applied as replicated: {why}"
            status = FAILED if self.strict else (NEEDS_RECOPY if tr.needs_recopy else QUARANTINED)
        elif tr.skipped or not any(use_target(s) is None for s in tr.statements):
            status = SKIPPED
        conn.begin()  # the row, its dead letter and the quarantine become visible together
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {self.history} (job, commit_ts, schema_name, table_name, query, statements,"
                " decisions, status, error, kafka_offset) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (self.job, ddl.commit_ts, ddl.schema, ddl.table, ddl.query, orjson.dumps(tr.statements).decode(),
                 orjson.dumps(decisions).decode(), status, error, offset),
            )
            if status in (FAILED, QUARANTINED, NEEDS_RECOPY):
                self._park(conn, ddl, offset, error or "", status)
        conn.commit()
        if status == RUNNING:
            log.info("DDL at commit_ts %s (%s.%s): intent recorded, %d statement(s): %s", ddl.commit_ts,
                     ddl.schema, ddl.table, len(tr.statements), ddl.query[:200])
        elif status == SKIPPED:
            log.info("DDL at commit_ts %s (%s.%s) skipped: %s", ddl.commit_ts, ddl.schema, ddl.table, ddl.query[:200])
        return HistoryRow(ddl.commit_ts, status, tr.statements, decisions, 0, None, 0, error)

    def _execute(self, conn, ddl: DDL, row: HistoryRow, offset: int) -> None:
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {self.history} SET attempts = attempts + 1 WHERE job=%s AND commit_ts=%s",
                        (self.job, ddl.commit_ts))
            cur.execute(f"SET SESSION lock_wait_timeout = {int(self.lock_wait_timeout)}")
        decisions = list(row.decisions)
        database: Optional[str] = None
        # A fingerprint in the row means the first pending statement was sent before and its
        # outcome is unknown (the USE statements before it are not steps of their own).
        interrupted = row.step_fingerprint
        for i, stmt in enumerate(row.statements):
            db = use_target(stmt)
            if db is not None:
                database = db
                continue
            if i < row.step:
                continue
            rerun, interrupted = interrupted is not None, None
            now = schema_fingerprint(conn, stmt, database)
            if rerun and now != row.step_fingerprint:
                decisions.append({"level": "warning", "action": "recovered",
                                  "reason": f"statement {i + 1} took effect before the interruption"
                                            " (the target schema changed since it was sent); not sent again"})
                log.warning("DDL at commit_ts %s: statement %d took effect before the interruption; not sent again",
                            ddl.commit_ts, i + 1)
                self._advance(conn, ddl, i + 1, decisions)
                continue
            if not rerun:
                self._set_fingerprint(conn, ddl, now)
            try:
                self._send(conn, database, stmt)
            except pymysql.err.MySQLError as e:
                if is_transient(e):
                    # A server's error reply (lock wait timeout, deadlock) proves the statement
                    # did not take effect: it is sent again as a first run. Only a lost
                    # connection leaves the outcome unknown (the fingerprint stays to decide).
                    self._note_blocked(conn, ddl, e, not_applied=error_code(e) in NOT_APPLIED_ERRORS)
                    raise
                code, msg = error_code(e), error_message(e)
                if rerun and code in ALREADY_DONE_ERRORS:
                    decisions.append({"level": "warning", "action": "tolerated",
                                      "reason": f"re-run of statement {i + 1}: error {code}"
                                                f" ({ALREADY_DONE_ERRORS[code]}): {msg}; it had taken effect"})
                else:
                    self._fail(conn, ddl, offset, f"{code}: {msg} (statement: {stmt})", decisions)
                    return
            if failpoints.ENABLED:
                failpoints.hit("barrier.after_execute", ddl.commit_ts, conn)
            self._advance(conn, ddl, i + 1, decisions)
        with conn.cursor() as cur:
            cur.execute(
                f"UPDATE {self.history} SET status=%s, decisions=%s, error=NULL, blocked_since=NULL,"
                " applied_at=CURRENT_TIMESTAMP(3) WHERE job=%s AND commit_ts=%s",
                (APPLIED, orjson.dumps(decisions).decode(), self.job, ddl.commit_ts))
        conn.commit()
        log.info("DDL at commit_ts %s (%s.%s) applied: %s", ddl.commit_ts, ddl.schema, ddl.table, ddl.query[:200])

    def _send(self, conn, database: Optional[str], stmt: str) -> None:
        with conn.cursor() as cur:
            if database is not None:
                cur.execute(f"USE {quote_ident(database)}")
            cur.execute(stmt)

    def _set_fingerprint(self, conn, ddl: DDL, fp: str) -> None:
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {self.history} SET step_fingerprint=%s WHERE job=%s AND commit_ts=%s",
                        (fp, self.job, ddl.commit_ts))
        conn.commit()

    def _advance(self, conn, ddl: DDL, step: int, decisions: list[dict]) -> None:
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {self.history} SET step=%s, step_fingerprint=NULL, decisions=%s"
                        " WHERE job=%s AND commit_ts=%s",
                        (step, orjson.dumps(decisions).decode(), self.job, ddl.commit_ts))
        conn.commit()

    def _note_blocked(self, conn, ddl: DDL, e: BaseException, not_applied: bool) -> None:
        """Best effort: record why the DDL waits (the connection may be the thing that broke)."""
        log.warning("DDL at commit_ts %s blocked: %s; retrying", ddl.commit_ts, e)
        clear = ", step_fingerprint=NULL" if not_applied else ""
        try:
            with conn.cursor() as cur:
                cur.execute(f"UPDATE {self.history} SET error=%s, blocked_since=COALESCE(blocked_since,"
                            f" CURRENT_TIMESTAMP(3)){clear} WHERE job=%s AND commit_ts=%s",
                            (f"blocked: {error_code(e)}: {error_message(e)}", self.job, ddl.commit_ts))
            conn.commit()
        except Exception as e2:  # noqa: BLE001 - the record is informational
            log.debug("could not record the blocked DDL: %s", e2)

    def _fail(self, conn, ddl: DDL, offset: int, error: str, decisions: list[dict]) -> None:
        status = FAILED if self.strict else QUARANTINED
        conn.begin()  # a shard that sees the status must also see the quarantine
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {self.history} SET status=%s, error=%s, decisions=%s, blocked_since=NULL"
                        " WHERE job=%s AND commit_ts=%s",
                        (status, error, orjson.dumps(decisions).decode(), self.job, ddl.commit_ts))
            self._park(conn, ddl, -1 if offset is None else offset, error, status)
        conn.commit()
        log.error("DDL at commit_ts %s (%s.%s) %s: %s -> %s", ddl.commit_ts, ddl.schema, ddl.table, status,
                  ddl.query[:200], error)
        if status == FAILED:
            raise DDLStopped(self._stopped_message(ddl, error))

    def _park(self, conn, ddl: DDL, offset: int, error: str, status: str) -> None:
        """Dead-letter the DDL; in non-strict mode also quarantine its table (same transaction)."""
        deadletter.write(conn, self.meta, self.job, [deadletter.DeadLetter(
            "ddl", error, ddl.query.encode(), offset=offset, commit_ts=ddl.commit_ts, schema=ddl.schema,
            table=ddl.table)], commit=False)
        if status != FAILED and ddl.table:
            db, table = self.target_name(ddl.schema, ddl.table)
            with conn.cursor() as cur:
                cur.execute(f"INSERT IGNORE INTO {self.quarantine} (job, schema_name, table_name, commit_ts, reason)"
                            " VALUES (%s,%s,%s,%s,%s)", (self.job, db, table, ddl.commit_ts, error[:60000]))

    def _stopped_message(self, ddl: DDL, error: Optional[str]) -> str:
        return (f"DDL at commit_ts {ddl.commit_ts} ({ddl.schema}.{ddl.table}) failed: {error}. The flow stays"
                f" stopped (strict mode) until an operator decides: tidb2mysql ddl resolve --commit-ts"
                f" {ddl.commit_ts} --retry | --skip | --applied-by-hand")

    RESOLUTIONS = {"retry": RUNNING, "skip": MANUAL_SKIP, "applied-by-hand": MANUAL_APPLIED}

    def resolve(self, conn, commit_ts: int, decision: str, who: str = "") -> str:
        """Record an operator's decision on a DDL that stopped the flow; the new status.

        ``retry``: run it again from the statement that failed (a permanent error leaves no
        effect, so that statement is sent as a first run); ``skip``: never run it, carry on;
        ``applied-by-hand``: the operator ran an equivalent statement, carry on.
        """
        new = self.RESOLUTIONS.get(decision)
        if new is None:
            raise ValueError(f"unknown decision {decision!r} (retry, skip, applied-by-hand)")
        row = self.load(conn, commit_ts)
        if row is None:
            raise ValueError(f"job {self.job!r} has no DDL at commit_ts {commit_ts} in {self.history}")
        if row.status != FAILED:
            raise ValueError(f"the DDL at commit_ts {commit_ts} is {row.status!r}; only a failed DDL waits for a"
                             " decision")
        note = f"{decision} by {who or 'operator'}; was failed: {row.error}"
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {self.history} SET status=%s, step_fingerprint=NULL, blocked_since=NULL,"
                        " resolution=CONCAT(CAST(CURRENT_TIMESTAMP(3) AS CHAR), ' ', %s)"
                        " WHERE job=%s AND commit_ts=%s AND status=%s",
                        (new, note, self.job, commit_ts, FAILED))
        conn.commit()
        log.warning("DDL at commit_ts %s: %s", commit_ts, note)
        return new

    def history_rows(self, conn) -> list[dict]:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(f"SELECT * FROM {self.history} WHERE job=%s ORDER BY commit_ts", (self.job,))
            return list(cur.fetchall())
