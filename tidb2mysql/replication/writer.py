"""Apply merged batches to the target in ONE transaction (plus the caller's extra statements).

One flush of a shard = ``BEGIN``; the deletes of every keyed table; the upserts / inserts of
every keyed table; the ordered tables change by change; the caller's ``extra`` statements
(the shard checkpoint); ``COMMIT``. Deletes go first so that, for ``replace_by_key`` tables,
no final image can collide with a row the window deletes or re-keys. Different tables are
independent (foreign-key checks are off in the session), so this order is safe.

On any error the transaction is rolled back and :class:`WriteError` names the table, the
statement kind, the first row key of the failing statement and the server's error code; the
original exception is chained as ``__cause__`` so the caller can tell transient errors
(reconnect and retry) from permanent ones. :meth:`BatchWriter.write_one_by_one` is the
salvage path: it applies each row alone inside a savepoint and reports the changes that fail,
which the caller dead-letters, so one bad row never blocks or loses the others.

Effective mode per table. The merger picks the mode from the message. The writer adds what
only the target knows: if the target table has a unique key besides its primary key, or its
primary key is not the message's primary key, ``ON DUPLICATE KEY UPDATE`` could hit the
wrong row (or, with no key at all, never fire and duplicate the row), so such an ``upsert``
batch is written as ``replace_by_key`` (delete every touched key, then plain insert).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from tidb2mysql import failpoints
from tidb2mysql.failpoints import commit
from tidb2mysql.replication.change import Change
from tidb2mysql.mysql.errors import error_code, error_message, is_transient
from tidb2mysql.replication.merge import ORDERED, REPLACE_BY_KEY, UPSERT, TableBatch, key_getter
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.mysql.session import server_facts
from tidb2mysql.mysql.sql import DEFAULT_BUDGET, LiteralError, TableSQL
from tidb2mysql.mysql.target_schema import TargetTables, UnknownTableError

log = logging.getLogger(__name__)

class DivergenceError(Exception):
    """Strict mode: a DELETE/UPDATE matched no row in the target (rolled back, flow stops).

    Not a :class:`WriteError` on purpose: retrying cannot help, the target already differs
    from the source, and strict mode must stop at the first such change.
    """

    def __init__(self, change: Change, kind: str, table: str):
        self.change = change
        self.kind = kind
        self.table = table
        super().__init__(f"table {table}: {divergence_text(kind)} (commit_ts {change.commit_ts}, "
                         f"seq {change.seq}, row {_short(_change_key(change))}); strict mode stops here")


def divergence_text(kind: str) -> str:
    what = {"delete_one": "DELETE", "update_one": "UPDATE", "delete": "DELETE by key",
            "delete_key_one": "DELETE by key", "update_key": "UPDATE by key"}.get(kind, kind)
    return f"{what} matched no row in the target: the target already differed from the source"


# on_divergence(list of (change, statement kind)) -> parameterized statements run in the
# same transaction (the caller's dead-letter rows)
DivergenceHook = Callable[[list], Sequence[tuple[str, tuple]]]


class WriteError(Exception):
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
    bytes: int = 0  # UTF-8 bytes of SQL text sent
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


@dataclass
class _Plan:
    batch: TableBatch
    sql: TableSQL
    mode: str  # effective mode (may be stricter than batch.mode, see module docstring)
    delete_keys: list  # keys to delete first
    delete_sources: list  # parallel to delete_keys


class BatchWriter:
    """Writes :class:`TableBatch` lists through one connection prepared by
    :func:`tidb2mysql.mysql.session.prepare_session`."""

    def __init__(self, conn, target_tables: TargetTables, budget: int = DEFAULT_BUDGET):
        self.conn = conn
        self.target_tables = target_tables
        self.budget = budget
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

    def _plan(self, batch: TableBatch) -> _Plan:
        try:
            q = self.table_sql(batch)
        except UnknownTableError as e:
            raise WriteError(batch.qualified, "metadata", _first_key(batch), e.code, str(e)) from e
        except ValueError as e:
            raise WriteError(batch.qualified, "metadata", _first_key(batch), -1, str(e)) from e
        except Exception as e:
            raise WriteError(batch.qualified, "metadata", None, error_code(e), error_message(e)) from e
        if q.plan.dropped_missing:
            # Never drop a value silently: a column the message has and the target lacks means
            # the schemas diverged (a lost ADD COLUMN, a hand-made target table). The changes
            # fail and are parked in the dead-letter table; a column left out on purpose is
            # removed by the [selection] column list before routing and never gets here.
            raise WriteError(batch.qualified, "metadata", _first_key(batch), -1,
                             f"message column(s) {', '.join(q.plan.dropped_missing)} missing in the target table")
        mode = batch.mode
        if mode == UPSERT:
            t = q.target
            # Drainer lists key columns in column order, the target in key order: compare as sets.
            # ODKU is exact only when the target's ONLY unique key is the message's row key (its
            # primary key, or the unique key of a unique-key-only table, route.row_key_schema).
            msg_pk = {batch.schema.columns[i].lower() for i in batch.schema.pk}
            if len(t.unique_keys) != 1 or {c.lower() for c in t.unique_keys[0][1]} != msg_pk:
                mode = REPLACE_BY_KEY
                if ("upgrade", batch.qualified) not in self._warned:
                    self._warned.add(("upgrade", batch.qualified))
                    log.warning("table %s: target keys %s differ from the message's primary key; "
                                "writing it as delete + insert", batch.qualified, t.unique_keys or "(none)")
        delete_keys, delete_sources = batch.delete_keys, batch.delete_sources
        if mode == REPLACE_BY_KEY and batch.mode == UPSERT and batch.rows:
            get = key_getter(batch.schema.pk)
            delete_keys = delete_keys + [get(r) for r in batch.rows]
            delete_sources = delete_sources + batch.row_sources
        return _Plan(batch, q, mode, delete_keys, delete_sources)

    # -- one transaction -----------------------------------------------------------------

    def write(self, batches: Sequence[TableBatch], extra: Sequence[str] = (), failpoint_key=None,
              on_divergence: Optional[DivergenceHook] = None, strict: bool = False) -> WriteStats:
        """Write everything in one transaction; :class:`WriteError` (rolled back) on failure.

        Divergence (a DELETE/UPDATE whose row the target does not have; see
        :meth:`_check_deleted`): every such change is in ``stats.divergent`` and
        ``on_divergence`` statements record it in the same transaction; with ``strict`` the
        first one raises :class:`DivergenceError` and nothing is committed.
        """
        stats = WriteStats()
        self._strict = strict
        plans = [self._plan(b) for b in batches]
        conn = self.conn
        # What is being done, for the error: (table, kind, key, the list a builder's
        # LiteralError.index points into, how to turn an element of it into a key).
        ctx: tuple = ("", "begin", None, None, None)
        try:
            conn.begin()
            with conn.cursor() as cur:
                for p in plans:
                    if p.mode == ORDERED or not p.delete_keys:
                        continue
                    name = p.batch.qualified
                    ctx = (name, "delete", None, p.delete_keys, _same)
                    check = p.mode == UPSERT  # every key deleted here must exist (see _check_deleted)
                    for st in p.sql.delete(p.delete_keys):
                        ctx = (name, st.kind, p.delete_keys[st.first], None, None)
                        if check:
                            cur.execute("SAVEPOINT tidb2mysql_del")
                        n = self._exec(cur, st.sql, stats)
                        if check and n < st.count:
                            self._check_deleted(cur, p, st, stats)
                    stats.table(name).deleted += len(p.delete_keys)
                for p in plans:
                    if p.mode == UPSERT and p.batch.must_exist:
                        ctx = (p.batch.qualified, "count", None, None, None)
                        self._check_existing(cur, p, stats)
                for p in plans:
                    if p.mode == ORDERED or not p.batch.rows:
                        continue
                    name, rows, batch = p.batch.qualified, p.batch.rows, p.batch
                    kind = "upsert" if p.mode == UPSERT else "insert"
                    ctx = (name, kind, None, rows, lambda r, b=batch: _row_key(b, r))
                    statements = p.sql.upsert(rows) if kind == "upsert" else p.sql.insert(rows)
                    for st in statements:
                        ctx = (name, st.kind, _row_key(batch, rows[st.first]), None, None)
                        self._exec(cur, st.sql, stats)
                    c = stats.table(name)
                    if kind == "upsert":
                        c.upserted += len(rows)
                    else:
                        c.inserted += len(rows)
                for p in plans:
                    if p.mode != ORDERED:
                        continue
                    name = p.batch.qualified
                    for ch in p.batch.ordered:
                        ctx = (name, _ORDERED_KINDS[int(ch.op)], _change_key(ch), None, None)
                        kind, sql = _ordered_statement(p.sql, ch)
                        if not self._apply_ordered(cur, kind, sql, stats.table(name), stats):
                            self._diverged(stats, ch, kind, name)
                if on_divergence is not None and stats.divergent:
                    ctx = ("", "divergence", None, None, None)
                    for sql, params in on_divergence(stats.divergent):
                        cur.execute(sql, params)
                for sql in extra:
                    ctx = ("", "extra", None, None, None)
                    self._exec(cur, sql, stats)
                ctx = ("", "commit", None, None, None)
                if failpoints.ENABLED and failpoint_key is not None:
                    failpoints.hit("apply.before_commit", failpoint_key, conn)
                commit(conn, "apply.commit", failpoint_key)
        except DivergenceError:
            self._rollback()
            raise
        except Exception as e:
            self._rollback()
            key = ctx[2]
            index = getattr(e, "index", None)
            if key is None and ctx[3] is not None and isinstance(index, int):
                key = ctx[4](ctx[3][index])
            raise WriteError(ctx[0], ctx[1], key, error_code(e), error_message(e)) from e
        self._log_divergence(stats)
        return stats

    def _diverged(self, stats: WriteStats, ch: Change, kind: str, table: str) -> None:
        stats.divergent.append((ch, kind))
        if self._strict:
            raise DivergenceError(ch, kind, table)

    def _check_deleted(self, cur, p: _Plan, st, stats: WriteStats) -> None:
        """A multi-row DELETE by key removed fewer rows than it named: find which keys.

        Why every key must exist: in ``upsert`` mode a key is deleted only for a DELETE (or
        the old half of a key change) of a row that existed before the window (a row
        inserted and deleted inside the window is dropped by the merge), and replays never
        get here (positions at or below the checkpoint are skipped). So a missing row means
        the target differed from the source. Rare, so found the slow way: undo the
        statement (savepoint) and delete key by key.
        """
        cur.execute("ROLLBACK TO SAVEPOINT tidb2mysql_del")
        q, name = p.sql, p.batch.qualified
        for key, ch in zip(p.delete_keys[st.first:st.first + st.count],
                           p.delete_sources[st.first:st.first + st.count]):
            if self._exec(cur, q.delete_key_one(key), stats) == 0:
                stats.table(name).unmatched += 1
                self._diverged(stats, ch, "delete", name)

    def _check_existing(self, cur, p: _Plan, stats: WriteStats) -> None:
        """Rows updated in the window that existed before it must be in the target.

        Why: ``INSERT ... ON DUPLICATE KEY UPDATE`` silently inserts a row the target lacks,
        so an UPDATE of a missing row would otherwise go unnoticed (the target differed from
        the source). "Existed before the window" = the row's first change in the window was
        an UPDATE or a DELETE (``TableBatch.must_exist``). Checked before the upserts: one
        ``COUNT(*)`` by primary key per table, and key by key only when the count is short.
        The final image is still written (it is the source's row), and the change is
        reported as a divergence.
        """
        b, q, name = p.batch, p.sql, p.batch.qualified
        get = key_getter(b.schema.pk)
        pairs = [(get(b.rows[i]), b.row_sources[i]) for i in b.must_exist]
        if p.delete_keys:  # a DELETE..INSERT..UPDATE row was deleted above: not to be found now
            gone = set(p.delete_keys)
            pairs = [kc for kc in pairs if kc[0] not in gone]
        if not pairs:
            return
        keys = [k for k, _ in pairs]
        found = 0
        for st in q.count_keys(keys):
            self._exec(cur, st.sql, stats)
            found += int(cur.fetchone()[0])
        if found >= len(keys):
            return
        for key, ch in pairs:
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
                         failpoint_key=None,
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

        plans: list[_Plan] = []
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

                def unit(name: str, kind: str, key: Any, build: Callable[[], str], ch: Change,
                         counts_attr: str) -> bool:
                    try:
                        sql = build()  # inside: a value without literal fails this change only
                        cur.execute("SAVEPOINT tidb2mysql_row")
                        if kind in ("delete_one", "update_one"):
                            if not self._apply_ordered(cur, kind, sql, stats.table(name), stats):
                                self._diverged(stats, ch, kind, name)
                        else:
                            n = self._exec(cur, sql, stats)
                            c = stats.table(name)
                            if kind == "delete_key_one" and n == 0 and check_deletes:
                                c.unmatched += 1
                                self._diverged(stats, ch, kind, name)
                            else:
                                setattr(c, counts_attr, getattr(c, counts_attr) + 1)
                        return True
                    except Exception as e:
                        if is_transient(e) or isinstance(e, DivergenceError):
                            raise
                        if not isinstance(e, LiteralError):
                            cur.execute("ROLLBACK TO SAVEPOINT tidb2mysql_row")
                        err = WriteError(name, kind, key, error_code(e), error_message(e))
                        err.__cause__ = e
                        fail(ch, err)
                        return False

                for p in plans:
                    if p.mode == ORDERED:
                        continue
                    name, q = p.batch.qualified, p.sql
                    check_deletes = p.mode == UPSERT
                    bad_keys = set()
                    for key, ch in zip(p.delete_keys, p.delete_sources):
                        if not unit(name, "delete_key_one", key, lambda k=key: q.delete_key_one(k), ch, "deleted"):
                            bad_keys.add(key)
                    get = key_getter(p.batch.schema.pk)
                    for row, ch in zip(p.batch.rows, p.batch.row_sources):
                        key = get(row)
                        if key in bad_keys:
                            continue  # its delete failed; already reported
                        if p.mode == UPSERT:
                            unit(name, "upsert_one", key, lambda r=row: q.upsert_one(r), ch, "upserted")
                        else:
                            unit(name, "insert_one", key, lambda r=row: q.insert_one(r), ch, "inserted")
                for p in plans:
                    if p.mode != ORDERED:
                        continue
                    name, q = p.batch.qualified, p.sql
                    for ch in p.batch.ordered:
                        unit(name, _ORDERED_KINDS[int(ch.op)], _change_key(ch),
                             lambda c=ch: _ordered_statement(q, c)[1], ch, "inserted")
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


_ORDERED_KINDS = {0: "insert_one", 1: "update_one", 2: "delete_one"}


def _same(x):
    return x


def _ordered_statement(q: TableSQL, ch: Change) -> tuple[str, str]:
    op = int(ch.op)
    if op == 0:
        return "insert_one", q.insert_one(ch.new)
    if op == 2:
        return "delete_one", q.delete_one(ch.old)
    return "update_one", q.update_one(ch.old, ch.new)


def _row_key(batch: TableBatch, row) -> tuple:
    return key_getter(batch.schema.pk)(row) if batch.schema.pk else tuple(row)


def _change_key(ch: Change) -> tuple:
    row = ch.old if ch.old is not None else ch.new
    if ch.schema.pk:
        return key_getter(ch.schema.pk)(row)
    return tuple(row) if row is not None else ()


def _first_key(batch: TableBatch) -> Optional[tuple]:
    if batch.delete_keys:
        return batch.delete_keys[0]
    if batch.rows:
        return _row_key(batch, batch.rows[0])
    if batch.ordered:
        return _change_key(batch.ordered[0])
    return None


def _short(v: Any, limit: int = 200) -> str:
    r = repr(v)
    return r if len(r) <= limit else r[:limit] + "..."


__all__ = ["BatchWriter", "DivergenceError", "divergence_text", "TableCounts", "WriteError", "WriteStats"]
