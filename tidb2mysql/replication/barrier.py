"""The DDL barrier: a DDL runs after every change before it and before every change after it.

Protocol (all coordination goes through the target database, so it works across Bytewax
workers *and* processes; nobody ever blocks waiting for another shard):

1. The router copies the DDL to every shard (a :class:`~tidb2mysql.replication.change.Barrier`).
2. A shard receiving it flushes what it holds and moves its checkpoint to ``(ts, -1)``: "all my
   changes before this DDL are applied". From then on it holds its later input.
3. Every waiting shard polls :meth:`DDLCoordinator.try_complete` from a Bytewax timer. The
   first one that sees all ``shard_count`` checkpoints at or past ``(ts, -1)`` takes a named
   lock, re-checks the history, executes the translated statements and records the DDL in
   ``ddl_history`` (the lock makes it exactly one executor). The others see the record and
   release their held input.

A DDL re-delivered after a crash finds its history row and is not executed again. If a crash
hit between executing and recording, the DDL runs again: errors meaning "already done"
(exists / unknown / duplicate) are tolerated and recorded, as Drainer's own loader does.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import orjson
import pymysql

from tidb2mysql.events import DDL
from tidb2mysql.replication.checkpoint import Checkpoints, _q
from tidb2mysql.replication.errors import error_code, error_message, is_transient

log = logging.getLogger(__name__)

# MySQL/MariaDB errors that mean "this DDL (or its twin) already took effect".
ALREADY_DONE_ERRORS = {
    1007: "database exists",
    1008: "database does not exist",
    1050: "table exists",
    1051: "unknown table",
    1054: "unknown column",
    1060: "duplicate column",
    1061: "duplicate key name",
    1091: "cannot drop: column/key does not exist",
    1146: "table does not exist",
    1826: "duplicate foreign key",
    4092: "unknown view",
}


@dataclass
class Translation:
    """What to run on the target for one DDL, and why (filled by the DDL translator).

    ``statements`` run as they are, in order, on one connection (a ``USE`` is one of them
    when the DDL depends on the current database).
    """

    statements: list[str]
    decisions: list[dict] = field(default_factory=list)
    skipped: bool = False
    needs_recopy: bool = False


_TIDB_COMMENT = re.compile(r"/\*T!(?:\[[^\]]*\])?.*?\*/", re.S)
_VERSIONED_9 = re.compile(r"/\*!9\d{4}.*?\*/", re.S)
_DB_LEVEL = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(create|drop|alter)\s+(database|schema)\b", re.I | re.S)


def passthrough_translate(ddl: DDL) -> Translation:
    """Strip TiDB-only comments and nothing else (the fallback when no translator is set)."""
    q = _VERSIONED_9.sub("", _TIDB_COMMENT.sub("", ddl.query)).strip().rstrip(";")
    decisions = []
    if q != ddl.query.strip().rstrip(";"):
        decisions.append({"level": "info", "action": "changed", "reason": "removed TiDB-only comments"})
    if not q:
        return Translation([], decisions, skipped=True)
    use = [f"USE {_q(ddl.schema)}"] if ddl.schema and not _DB_LEVEL.match(q) else []
    return Translation(use + [q], decisions)


class DDLCoordinator:
    """Decides when a barrier's DDL may run, runs it once, and records it."""

    def __init__(
        self,
        checkpoints: Checkpoints,
        shard_count: int,
        translate: Callable[[DDL], Translation] = passthrough_translate,
        strict: bool = False,
    ):
        self.cp = checkpoints
        self.meta = checkpoints.meta
        self.job = checkpoints.job
        self.shard_count = shard_count
        self.translate = translate
        self.strict = strict
        self.history = f"{_q(self.meta)}.`ddl_history`"

    def is_done(self, conn, commit_ts: int) -> bool:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT 1 FROM {self.history} WHERE job=%s AND commit_ts=%s", (self.job, commit_ts)
            )
            return cur.fetchone() is not None

    def all_reached(self, conn, commit_ts: int) -> bool:
        return self.cp.count_at_or_after(conn, (commit_ts, -1)) >= self.shard_count

    def try_complete(self, conn, ddl: DDL, offset: int = -1) -> bool:
        """Non-blocking: True once the DDL is recorded as done (by us or another shard)."""
        if self.is_done(conn, ddl.commit_ts):
            return True
        if not self.all_reached(conn, ddl.commit_ts):
            return False
        lock = f"tidb2mysql:ddl:{self.job}"[:64]
        with conn.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", (lock,))
            got = cur.fetchone()[0] == 1
        if not got:
            return False  # another shard is executing it right now; poll again
        try:
            if self.is_done(conn, ddl.commit_ts):
                return True
            self._execute_and_record(conn, ddl, offset)
            return True
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT RELEASE_LOCK(%s)", (lock,))

    def _execute_and_record(self, conn, ddl: DDL, offset: int) -> None:
        tr = self.translate(ddl)
        decisions = list(tr.decisions)
        status, error = ("skipped" if tr.skipped or not tr.statements else "applied"), None
        if tr.needs_recopy:
            status = "needs-recopy"
        for stmt in tr.statements:
            err = self._run(conn, ddl, stmt)
            if err is None:
                continue
            code, msg = err
            if code in ALREADY_DONE_ERRORS:
                decisions.append(
                    {
                        "level": "warning",
                        "action": "tolerated",
                        "reason": f"error {code} ({ALREADY_DONE_ERRORS[code]}): {msg}; treated as already applied",
                    }
                )
                continue
            status, error = "failed", f"{code}: {msg} (statement: {stmt})"
            break
        with conn.cursor() as cur:
            cur.execute(
                f"INSERT INTO {self.history} (job, commit_ts, schema_name, table_name, query, statements,"
                " decisions, status, error, kafka_offset) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (
                    self.job, ddl.commit_ts, ddl.schema, ddl.table, ddl.query,
                    orjson.dumps(tr.statements).decode(), orjson.dumps(decisions).decode(),
                    status, error, offset,
                ),
            )
            if status == "failed":
                from tidb2mysql.replication import deadletter

                deadletter.write(
                    conn, self.meta, self.job,
                    [deadletter.DeadLetter("ddl", error or "", ddl.query.encode(), offset=offset,
                                           commit_ts=ddl.commit_ts, schema=ddl.schema, table=ddl.table)],
                    commit=False,
                )
        conn.commit()
        level = logging.ERROR if status == "failed" else logging.INFO
        log.log(level, "DDL at commit_ts %s (%s.%s) %s: %s%s", ddl.commit_ts, ddl.schema, ddl.table,
                status, ddl.query[:200], f" -> {error}" if error else "")
        if status == "failed" and self.strict:
            raise RuntimeError(f"DDL at commit_ts {ddl.commit_ts} failed (strict mode): {error}")

    def _run(self, conn, ddl: DDL, stmt: str, attempts: int = 5) -> Optional[tuple[int, str]]:
        """Run one statement; None on success, else (error code, message) after retries."""
        for attempt in range(attempts):
            try:
                with conn.cursor() as cur:
                    cur.execute(stmt)
                return None
            except pymysql.err.MySQLError as e:
                if is_transient(e) and attempt < attempts - 1:
                    log.warning("DDL at commit_ts %s: %s; retrying", ddl.commit_ts, e)
                    time.sleep(min(5.0, 0.2 * 2**attempt))
                    conn.ping(reconnect=True)
                    continue
                return (error_code(e), error_message(e))
        return None  # not reached

    def history_rows(self, conn) -> list[dict]:
        with conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute(f"SELECT * FROM {self.history} WHERE job=%s ORDER BY commit_ts", (self.job,))
            return list(cur.fetchall())
