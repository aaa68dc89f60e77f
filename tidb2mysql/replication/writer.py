"""Apply merged batches to the target in ONE transaction (plus the caller's extra statements).

The executor half: :mod:`tidb2mysql.replication.dml_plan` decides, without I/O, the effective
mode of each table and the ordered statements of the flush (deletes of every keyed table,
existence checks, loads / upserts / inserts, ordered tables change by change); this module runs them
between ``BEGIN`` and ``COMMIT`` with the caller's ``extra`` statements (the shard
checkpoint), and does what needs the server's answers: a DELETE that matched fewer rows than
it named, an updated row the target lacks (divergence), FOUND_ROWS of ordered statements, a
LOAD DATA of rows expected new that did not insert each of them as given (an existing key or
a warning: LOCAL means IGNORE semantics), whose rows are then written with the upsert or
insert they would have had (``Step.fallback``) in the same transaction.

On any error the transaction is rolled back and :class:`WriteError` names the table, the
statement kind, the first row key of the failing statement and the server's error code; the
original exception is chained as ``__cause__`` so the caller can tell transient errors
(reconnect and retry) from permanent ones. :meth:`BatchWriter.write_one_by_one` is the
salvage path: it applies each row alone inside a savepoint (``dml_plan.salvage_units``) and
reports the changes that fail, which the caller dead-letters, so one bad row never blocks or
loses the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import pymysql

from tidb2mysql import failpoints
from tidb2mysql.failpoints import commit
from tidb2mysql.replication.change import Change
from tidb2mysql.mysql.errors import error_code, error_message, is_transient
from tidb2mysql.replication.dml_plan import (
    CHECK_EXISTING, DELETE, LOAD, WRITE, PlanningError, Step, TablePlan, Unit, change_key, first_key, plan_flush,
    plan_table, salvage_units,
)
from tidb2mysql.replication.merge import REPLACE_BY_KEY, UPSERT, TableBatch, key_getter
from tidb2mysql.replication.unique_handoff import HandoffScope
from tidb2mysql.mysql import load_data
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.mysql.session import server_facts
from tidb2mysql.mysql.sql import DEFAULT_BUDGET, LOAD_TOKEN, LiteralError, TableSQL
from tidb2mysql.mysql.target_schema import TargetTables, UnknownTableError
from tidb2mysql.errors import TARGET_PERMANENT, TARGET_TRANSIENT, TargetPermanentError

log = logging.getLogger(__name__)

class DivergenceError(TargetPermanentError):
    """Strict mode: a DELETE/UPDATE matched no row in the target (rolled back, flow stops).

    Not a :class:`WriteError` on purpose: retrying cannot help, the target already differs
    from the source, and strict mode must stop at the first such change.
    """

    def __init__(self, change: Change, kind: str, table: str):
        self.change = change
        self.kind = kind
        self.table = table
        super().__init__(f"table {table}: {divergence_text(kind)} (commit_ts {change.commit_ts}, "
                         f"seq {change.seq}, row {_short(change_key(change))}); strict mode stops here")


def divergence_text(kind: str) -> str:
    what = {"delete_one": "DELETE", "update_one": "UPDATE", "delete": "DELETE by key",
            "delete_key_one": "DELETE by key", "update_key": "UPDATE by key"}.get(kind, kind)
    return f"{what} matched no row in the target: the target already differed from the source"


# on_divergence(list of (change, statement kind)) -> parameterized statements run in the
# same transaction (the caller's dead-letter rows)
DivergenceHook = Callable[[list], Sequence[tuple[str, tuple]]]


class WriteError(TargetPermanentError):
    """A batch could not be written; the transaction was rolled back.

    ``table`` ("schema.table" or "" for the caller's extra statements), ``kind`` (statement
    kind: upsert, insert, delete, insert_one, delete_one, update_one, upsert_one,
    delete_key_one, extra, metadata, begin, commit), ``key`` (primary-key tuple, or the full
    row for a table without key, of the first row of the failing statement), ``code`` (the
    MySQL error number, -1 if none) and ``message``. The original exception is ``__cause__``.
    """

    def __init__(self, table: str, kind: str, key: Any, code: int, message: str):
        self.table = table
        self.kind = kind
        self.key = key
        self.code = code
        self.message = message
        where = f"table {table}" if table else "extra statement"
        key_text = f" at row key {_short(key)}" if key is not None else ""
        super().__init__(f"{where}: {kind} failed{key_text}: ({code}) {message}")

    @property
    def transient(self) -> bool:
        c = self.__cause__
        return c is not None and is_transient(c)

    @property  # type: ignore[override]
    def category(self) -> str:
        return TARGET_TRANSIENT if self.transient else TARGET_PERMANENT


@dataclass
class TableCounts:
    upserted: int = 0  # rows sent in INSERT ... ON DUPLICATE KEY UPDATE
    inserted: int = 0  # rows sent in plain INSERT (replace_by_key, ordered inserts)
    deleted: int = 0  # keys / rows sent for deletion
    updated: int = 0  # ordered UPDATE ... LIMIT 1
    unmatched: int = 0  # ordered DELETE/UPDATE that found no equal row in the target


@dataclass
class WriteStats:
    tables: dict[str, TableCounts] = field(default_factory=dict)
    statements: int = 0
    bytes: int = 0  # UTF-8 bytes of SQL text (and LOAD DATA text) sent
    loaded: int = 0  # rows written by LOAD DATA as given
    load_fallbacks: int = 0  # LOAD DATA steps whose rows were written again with upsert / insert
    failed: int = 0  # write_one_by_one: changes that failed
    # (change, statement kind) of every DELETE/UPDATE that matched no target row: divergence
    divergent: list = field(default_factory=list)

    def table(self, name: str) -> TableCounts:
        c = self.tables.get(name)
        if c is None:
            c = self.tables[name] = TableCounts()
        return c

    @property
    def rows(self) -> int:
        return sum(c.upserted + c.inserted + c.deleted + c.updated for c in self.tables.values())


class BatchWriter:
    """Writes :class:`TableBatch` lists through one connection prepared by
    :func:`tidb2mysql.mysql.session.prepare_session`."""

    def __init__(self, conn, target_tables: TargetTables, budget: int = DEFAULT_BUDGET, load_rows: int = 0):
        self.conn = conn
        self.target_tables = target_tables
        self.budget = budget
        # Rows expected new are loaded (LOAD DATA LOCAL) from this many per table and flush
        # (0 = never): only on a connection opened with local_infile=True to a server with
        # local_infile ON (checked once, with the budget).
        self.load_rows = load_rows if getattr(conn, "_local_infile", False) else 0
        if self.load_rows:
            load_data.install_memory_infile()
            conn._t2m_infile = None  # refuse any file the server asks for between loads
        self._budget_checked = False
        self.dialect: Optional[Dialect] = None  # the target's, read with the statement budget
        self._sql_cache: dict[tuple, tuple[int, TableSQL]] = {}
        self._warned: set = set()
        self._strict = False  # the current write's strict flag (DivergenceError at the first divergence)

    # -- planning ------------------------------------------------------------------------

    def _effective_budget(self) -> int:
        if not self._budget_checked:
            facts = server_facts(self.conn)
            self.budget = facts.budget(self.budget)
            self.dialect = facts.dialect
            if self.load_rows and not facts.local_infile:
                log.warning("the target has local_infile = OFF: new rows are written with INSERT, not LOAD DATA"
                            " (SET GLOBAL local_infile = 1 lets the target spend less CPU on them)")
                self.load_rows = 0
            self._budget_checked = True
        return self.budget

    def table_sql(self, batch: TableBatch) -> TableSQL:
        s = batch.schema
        gen = self.target_tables.generation
        ck = (s.schema, s.table, s.columns, s.pk)
        hit = self._sql_cache.get(ck)
        if hit is not None and hit[0] == gen:
            return hit[1]
        target = self.target_tables.get(s.schema, s.table)
        q = TableSQL(s, target, self._effective_budget(), self.dialect)
        self._sql_cache[ck] = (gen, q)
        return q

    def _plan(self, batch: TableBatch) -> TablePlan:
        try:
            q = self.table_sql(batch)
        except UnknownTableError as e:
            raise WriteError(batch.qualified, "metadata", first_key(batch), e.code, str(e)) from e
        except ValueError as e:
            raise WriteError(batch.qualified, "metadata", first_key(batch), -1, str(e)) from e
        except Exception as e:
            raise WriteError(batch.qualified, "metadata", None, error_code(e), error_message(e)) from e
        try:
            p = plan_table(batch, q)
        except PlanningError as e:
            raise WriteError(e.table, e.kind, e.key, e.code, e.message) from e
        if p.upgraded and ("upgrade", batch.qualified) not in self._warned:
            self._warned.add(("upgrade", batch.qualified))
            log.warning("table %s: target keys %s differ from the message's primary key; "
                        "writing it as delete + insert", batch.qualified, q.target.unique_keys if q.target else "(none)")
        return p

    # -- one transaction -----------------------------------------------------------------

    def write(self, batches: Sequence[TableBatch], extra: Sequence[str] = (), failpoint_key=None,
              on_divergence: Optional[DivergenceHook] = None, strict: bool = False,
              handoff: Optional[HandoffScope] = None) -> WriteStats:
        """Write everything in one transaction; :class:`WriteError` (rolled back) on failure.

        ``handoff`` (a job that spreads unique-key tables by primary key): the inserts of
        those tables resolve a unique value held by another shard's row, and the handoffs
        this shard owes are settled, all in this transaction (replication/unique_handoff.py).

        Divergence (a DELETE/UPDATE whose row the target does not have; see
        :meth:`_check_deleted`): every such change is in ``stats.divergent`` and
        ``on_divergence`` statements record it in the same transaction; with ``strict`` the
        first one raises :class:`DivergenceError` and nothing is committed.
        """
        stats = WriteStats()
        self._strict = strict
        plans = [self._plan(b) for b in batches]
        try:
            steps = plan_flush(plans, self.load_rows)
        except PlanningError as e:
            raise WriteError(e.table, e.kind, e.key, e.code, e.message) from e.__cause__
        conn = self.conn
        # What is being done, for the error: (table, statement kind, row key).
        ctx: tuple[str, str, Any] = ("", "begin", None)
        found = 0  # rows found by the CHECK_EXISTING statements of the current table
        try:
            conn.begin()
            with conn.cursor() as cur:
                for step in steps:
                    name = step.plan.table
                    ctx = (name, step.kind, step.key)
                    if step.op == DELETE:
                        if step.check:
                            cur.execute("SAVEPOINT tidb2mysql_del")
                        n = self._exec(cur, step.sql, stats)
                        if step.check and n < step.count:
                            self._check_deleted(cur, step, stats)
                        stats.table(name).deleted += step.count
                    elif step.op == CHECK_EXISTING:
                        self._exec(cur, step.sql, stats)
                        found += int(cur.fetchone()[0])
                        if step.check:  # the table's last count: are all its keys there?
                            if found < len(step.keys):
                                self._find_missing(cur, step, stats)
                            found = 0
                    elif step.op == WRITE or step.op == LOAD:
                        if step.op == LOAD:
                            self._load(cur, step, stats, handoff)
                        elif handoff is not None and step.kind == "insert" and handoff.applies(step.plan):
                            handoff.insert(cur, step.plan, step.sql,
                                           step.plan.batch.rows[step.first:step.first + step.count],
                                           lambda sql: self._exec(cur, sql, stats))
                        else:
                            self._exec(cur, step.sql, stats)
                        c = stats.table(name)
                        if step.kind == "upsert":
                            c.upserted += step.count
                        else:
                            c.inserted += step.count
                    else:  # ORDERED_CHANGE
                        assert step.change is not None
                        if not self._apply_ordered(cur, step.kind, step.sql, stats.table(name), stats):
                            self._diverged(stats, step.change, step.kind, name)
                if handoff is not None:
                    ctx = ("", "unique_handoff", None)
                    handoff.settle(cur, plans)
                if on_divergence is not None and stats.divergent:
                    ctx = ("", "divergence", None)
                    for sql, params in on_divergence(stats.divergent):
                        cur.execute(sql, params)
                for sql in extra:
                    ctx = ("", "extra", None)
                    self._exec(cur, sql, stats)
                ctx = ("", "commit", None)
                if failpoints.ENABLED and failpoint_key is not None:
                    failpoints.hit("apply.before_commit", failpoint_key, conn)
                commit(conn, "apply.commit", failpoint_key)
        except DivergenceError:
            self._rollback()
            raise
        except Exception as e:
            self._rollback()
            raise WriteError(ctx[0], ctx[1], ctx[2], error_code(e), error_message(e)) from e
        self._log_divergence(stats)
        return stats

    def _load(self, cur, step: Step, stats: WriteStats, handoff: Optional[HandoffScope] = None) -> None:
        """One LOAD step; its rows written again by the usual statements unless the load
        inserted every one of them without a warning."""
        try:
            n = load_data.send_from_memory(cur, step.sql, LOAD_TOKEN, step.data)
        except pymysql.err.MySQLError as e:
            if error_code(e) not in load_data.LOCAL_INFILE_REFUSED:
                raise
            # local_infile was turned OFF since the check: the statement was refused before
            # doing anything (the transaction goes on); insert from now on.
            log.warning("the target refused LOAD DATA LOCAL (%s): new rows are written with INSERT from now on",
                        error_message(e))
            self.load_rows = 0
            n = -1
        stats.statements += 1
        stats.bytes += len(step.sql) + len(step.data)
        if n == step.count and not cur.warning_count:
            stats.loaded += step.count
            return
        # An existing key (a replay after a crash, a row the target already had) or a value
        # the server adjusted: the upsert / insert gives these rows the outcome they would
        # have had without the load (an upsert overwrites what the load inserted; an error
        # fails the batch as before).
        stats.load_fallbacks += 1
        log.debug("table %s: LOAD DATA inserted %d of %d rows with %d warnings; writing them with %s",
                  step.plan.table, n, step.count, cur.warning_count, step.kind)
        p = step.plan
        try:
            statements = step.fallback()
            # A replace-mode table: what the load did insert, and a row the target held under
            # the key of a row born in the window (its key was not deleted before the load,
            # dml_plan), are deleted, so the plain INSERTs below write every row exactly once.
            undo = (p.sql.delete(list(map(key_getter(p.batch.schema.pk), step.rows)))
                    if p.mode == REPLACE_BY_KEY else [])
        except LiteralError as e:
            raise PlanningError(p.table, step.kind, step.key, str(e)) from e
        for st in undo:
            self._exec(cur, st.sql, stats)
        resolve = handoff is not None and step.kind == "insert" and handoff.applies(p)
        for st in statements:
            if resolve:
                assert handoff is not None
                handoff.insert(cur, p, st.sql, step.rows[st.first:st.first + st.count],
                               lambda sql: self._exec(cur, sql, stats))
            else:
                self._exec(cur, st.sql, stats)

    def _diverged(self, stats: WriteStats, ch: Change, kind: str, table: str) -> None:
        stats.divergent.append((ch, kind))
        if self._strict:
            raise DivergenceError(ch, kind, table)

    def _check_deleted(self, cur, step: Step, stats: WriteStats) -> None:
        """A multi-row DELETE by key removed fewer rows than it named: find which keys.

        Why every key must exist: in ``upsert`` mode a key is deleted only for a DELETE (or
        the old half of a key change) of a row that existed before the window (a row
        inserted and deleted inside the window is dropped by the merge), and replays never
        get here (positions at or below the checkpoint are skipped). So a missing row means
        the target differed from the source. Rare, so found the slow way: undo the
        statement (savepoint) and delete key by key.
        """
        cur.execute("ROLLBACK TO SAVEPOINT tidb2mysql_del")
        p = step.plan
        q, name = p.sql, p.table
        for key, ch in zip(p.delete_keys[step.first:step.first + step.count],
                           p.delete_sources[step.first:step.first + step.count]):
            if self._exec(cur, q.delete_key_one(key), stats) == 0:
                stats.table(name).unmatched += 1
                self._diverged(stats, ch, "delete", name)

    def _find_missing(self, cur, step: Step, stats: WriteStats) -> None:
        """Rows updated in the window that existed before it must be in the target
        (``dml_plan.existence_checks``); the counts came up short: find them key by key.
        The final image is still written (it is the source's row); each missing one is
        reported as a divergence."""
        q, name = step.plan.sql, step.plan.table
        for key, ch in step.keys:
            self._exec(cur, q.exists_one(key), stats)
            if cur.fetchone() is None:
                stats.table(name).unmatched += 1
                self._diverged(stats, ch, "update_key", name)

    @staticmethod
    def _log_divergence(stats: WriteStats) -> None:
        for name, c in stats.tables.items():
            if c.unmatched:
                log.error("table %s: %d delete/update change(s) matched no row in the target (divergence, "
                          "recorded in the dead-letter table)", name, c.unmatched)

    # -- salvage: row by row ------------------------------------------------------------

    def write_one_by_one(self, batches: Sequence[TableBatch],
                         extra: Sequence[str] = (),
                         on_failures: Optional[Callable[[list], Sequence[tuple[str, tuple]]]] = None,
                         on_divergence: Optional[DivergenceHook] = None, strict: bool = False,
                         failpoint_key=None, handoff: Optional[HandoffScope] = None,
                         ) -> tuple[WriteStats, list[tuple[Change, WriteError]]]:
        """Apply each row alone (one savepoint each) in one transaction with ``extra``.

        ``on_failures(failures)`` may return parameterized statements ``(sql, params)`` that
        run in the same transaction before it commits: the caller's dead-letter rows, so a
        failed change is parked exactly when the checkpoint moves past it.

        Returns the stats of what was applied and ``(change, error)`` for every change that
        failed (the caller dead-letters those). Transient errors (lost connection, deadlock)
        abort the whole attempt with :class:`WriteError` so the caller can retry it.
        """
        stats = WriteStats()
        self._strict = strict
        failures: list[tuple[Change, WriteError]] = []
        failed_ids: set[int] = set()

        def fail(ch: Change, err: WriteError) -> None:
            if id(ch) not in failed_ids:
                failed_ids.add(id(ch))
                failures.append((ch, err))

        plans: list[TablePlan] = []
        for b in batches:
            try:
                plans.append(self._plan(b))
            except WriteError as e:
                if e.transient:
                    raise
                for ch in b.delete_sources + b.row_sources + b.ordered:
                    fail(ch, e)
        conn = self.conn
        try:
            conn.begin()
            with conn.cursor() as cur:

                def run(u: Unit) -> bool:
                    name, kind = u.plan.table, u.kind
                    try:
                        sql = u.build()  # inside: a value without literal fails this change only
                        cur.execute("SAVEPOINT tidb2mysql_row")
                        if kind in ("delete_one", "update_one"):
                            if not self._apply_ordered(cur, kind, sql, stats.table(name), stats):
                                self._diverged(stats, u.change, kind, name)
                        else:
                            if (handoff is not None and kind == "insert_one" and u.row is not None
                                    and handoff.applies(u.plan)):
                                # a unique value another shard's row holds: resolved as in a batch
                                handoff.insert(cur, u.plan, sql, [u.row], lambda s: self._exec(cur, s, stats))
                                n = 1
                            else:
                                n = self._exec(cur, sql, stats)
                            c = stats.table(name)
                            if kind == "delete_key_one" and n == 0 and u.plan.mode == UPSERT:
                                c.unmatched += 1
                                self._diverged(stats, u.change, kind, name)
                            else:
                                setattr(c, u.counts_attr, getattr(c, u.counts_attr) + 1)
                        return True
                    except Exception as e:
                        if is_transient(e) or isinstance(e, DivergenceError):
                            raise
                        if not isinstance(e, LiteralError):
                            cur.execute("ROLLBACK TO SAVEPOINT tidb2mysql_row")
                        err = WriteError(name, kind, u.key, error_code(e), error_message(e))
                        err.__cause__ = e
                        fail(u.change, err)
                        return False

                bad_keys: dict[int, set] = {}  # per table plan: keys whose delete failed
                for u in salvage_units(plans):
                    bad = bad_keys.setdefault(id(u.plan), set())
                    if u.skip_if_key_failed and u.key in bad:
                        continue  # its delete failed; already reported
                    if not run(u) and u.kind == "delete_key_one":
                        bad.add(u.key)
                if handoff is not None:  # rows written here pay their handoffs
                    handoff.settle(cur, plans)
                for sql in extra:
                    self._exec(cur, sql, stats)
                if on_failures is not None and failures:
                    for sql, params in on_failures(failures):
                        cur.execute(sql, params)
                if on_divergence is not None and stats.divergent:
                    for sql, params in on_divergence(stats.divergent):
                        cur.execute(sql, params)
                commit(conn, "apply.salvage_commit", failpoint_key)
        except DivergenceError:
            self._rollback()
            raise
        except Exception as e:
            self._rollback()
            raise WriteError("", "one_by_one", None, error_code(e), error_message(e)) from e
        stats.failed = len(failures)
        self._log_divergence(stats)
        return stats, failures

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _exec(cur, sql: str, stats: WriteStats) -> int:
        n = cur.execute(sql)
        stats.statements += 1
        stats.bytes += len(sql) if sql.isascii() else len(sql.encode("utf-8"))
        return n

    def _apply_ordered(self, cur, kind: str, sql: str, counts: TableCounts, stats: WriteStats) -> bool:
        """Run one ordered statement; False when a DELETE/UPDATE matched no row (needs the
        connection's FOUND_ROWS flag, so an UPDATE to identical values still counts)."""
        n = self._exec(cur, sql, stats)
        if kind == "insert_one":
            counts.inserted += 1
        elif n == 0:
            counts.unmatched += 1
            return False
        elif kind == "delete_one":
            counts.deleted += 1
        else:
            counts.updated += 1
        return True

    def _rollback(self) -> None:
        try:
            self.conn.rollback()
        except Exception as e:  # noqa: BLE001 - the connection may be gone; the server rolls back then
            log.debug("rollback failed: %s", e)


def _short(v: Any, limit: int = 200) -> str:
    r = repr(v)
    return r if len(r) <= limit else r[:limit] + "..."


__all__ = ["BatchWriter", "DivergenceError", "divergence_text", "TableCounts", "WriteError", "WriteStats"]
