"""Write pages into the target: one transaction per page, rows + chunk progress together.

Pages with ``data`` (``[full_load] method = "load_data"``, the default; the text was rendered
by the source, see ``fullload/tsv.py``) are written with ``LOAD DATA LOCAL INFILE`` fed from
memory (the connection must be opened with ``local_infile=True``):

* a fresh chunk's page: plain LOAD; a page of a resumed chunk (``page.upsert``): ``REPLACE``.
* LOCAL means IGNORE semantics (duplicate keys and values the column cannot hold are only
  warnings), so every warning is an error (:class:`LoadWarning`, never retried), except that a
  fresh page whose warnings are all duplicate keys (a target table that was not empty) is
  rolled back and loaded again with REPLACE. The loaded row count must equal the page's.

Pages with native ``rows`` (``method = "insert"``) go through the incremental path's
statement builder (``mysql/sql.py`` ``TableSQL``: the one literal encoder, statements
split under ``max_allowed_packet``):

* tables with a key: multi-row ``INSERT ... ON DUPLICATE KEY UPDATE`` - re-writing a page
  after a crash or a replayed Bytewax epoch is harmless. The target table must be empty or
  hold only rows of this same load (the schema stage creates it empty): the rows all come
  from one snapshot, so a secondary unique key can only ever collide with the same row.
* keyless tables: plain multi-row ``INSERT``; the chunk's first page (``Page.reset``)
  empties the table in the same transaction, so a restarted keyless chunk never duplicates.

Session (``mysql/session.py`` ``prepare_load_session``, on top of ``prepare_session``: utf8mb4, ``time_zone='+00:00'``,
strict sql_mode without zero-date checks, ``foreign_key_checks = 0``):

* ``unique_checks = 0``: lets InnoDB skip secondary unique-index checks (change buffering)
  during the bulk load. Safe here because the rows come from a consistent snapshot of a
  source whose unique keys already hold; primary keys are always checked, which the upserts
  rely on.
* ``sql_log_bin = 0`` only with ``[full_load] disable_target_binlog`` (needs SUPER / BINLOG
  ADMIN, and the target's own replicas would not get the rows).

A transient error (lost connection, deadlock) reconnects and retries the page; any other
error stops the load with a message naming the table, chunk and the first key of the page.

A connection lost *during COMMIT* leaves the outcome unknown: the page may be in the target.
Re-writing a keyed page is harmless (upserts), but a key-less page is plain INSERTs and
would duplicate its rows. So before a retry the chunk's progress row, written in the page's
own transaction, is read back: if it already says "this page" (same ``rows_done``, key and
done flag), the page committed and is not written again. Within one lane run a chunk's
``rows_done`` strictly increases page by page (a non-empty page adds rows), so no earlier
state of the row can look like this page's. The one exception is a key-less chunk's first
page (``reset``), whose progress row may still hold an older run's count; that page empties
the table in the same transaction, so writing it again is harmless anyway.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Callable, Optional

from tidb2mysql import failpoints
from tidb2mysql.events import TableSchema
from tidb2mysql.fullload import tsv
from tidb2mysql.mysql import load_data
from tidb2mysql.fullload.chunking import TablePlan
from tidb2mysql.fullload.jobstore import JobStore
from tidb2mysql.fullload.reader import Page
from tidb2mysql.mysql.errors import error_code, error_message
from tidb2mysql.mysql.retry import retry_transient
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.mysql.session import prepare_load_session, server_facts
from tidb2mysql.mysql.sql import TableSQL, table_ref
from tidb2mysql.mysql.target_schema import read_target_table
from tidb2mysql.errors import TargetPermanentError

log = logging.getLogger("tidb2mysql.full_load")


class PageWriteError(TargetPermanentError, RuntimeError):
    """A page could not be written (names table, chunk and first row key)."""


class LoadWarning(RuntimeError):
    """LOAD DATA LOCAL reported warnings: with LOCAL, bad values and duplicate keys are only
    warnings (IGNORE semantics), so every warning of a page is an error (never retried)."""

    def __init__(self, warnings: list):
        self.warnings = warnings
        level, code, msg = warnings[0]
        more = f" (+{len(warnings) - 1} more warnings)" if len(warnings) > 1 else ""
        super().__init__(int(code), f"{msg}{more}")

    @property
    def duplicates_only(self) -> bool:
        return all(int(w[1]) == 1062 for w in self.warnings)


class PageWriter:
    def __init__(self, tables: list[TablePlan], store: JobStore, connect: Callable[[], object],
                 disable_binlog: bool = False, retries: int = 5, invalid_dates: str = "copy"):
        self.tables = tables
        self.store = store
        self._connect = connect
        self.disable_binlog = disable_binlog
        self.invalid_dates = invalid_dates
        self.retries = retries
        self.conn = None
        self.dialect: Optional[Dialect] = None  # the target's, read with the statement budget
        self._sql: dict[int, TableSQL] = {}
        self._load: dict[tuple, str] = {}
        self.rows = 0
        self.replaced_pages = 0  # fresh LOAD pages that met existing rows and were re-loaded with REPLACE
        load_data.install_memory_infile()

    def _conn(self):
        if self.conn is None:
            self.conn = self._connect()
            prepare_load_session(self.conn, self.disable_binlog, self.invalid_dates)
            facts = server_facts(self.conn)
            self.budget = facts.budget()
            self.dialect = facts.dialect
        return self.conn

    def table_sql(self, ti: int) -> TableSQL:
        ts = self._sql.get(ti)
        if ts is None:
            tp = self.tables[ti]
            tdb, ttable, tcols = tp.target_names()
            target = read_target_table(self._conn(), tdb, ttable)
            schema = TableSchema(tdb, ttable, tuple(tcols), tuple(tp.types), pk=tuple(tp.key_positions()))
            ts = TableSQL(schema, target, self.budget, self.dialect)
            if ts.plan.dropped_missing:
                raise PageWriteError(f"table {tp.qualified}: column(s) {', '.join(ts.plan.dropped_missing)} "
                                     f"exist in the source but not in the target; the load would lose them")
            self._sql[ti] = ts
        return ts

    def write(self, page: Page) -> None:
        try:
            self._write(page)
        except PageWriteError as e:
            cause = e.__cause__
            if not (isinstance(cause, LoadWarning) and cause.duplicates_only and not page.upsert):
                raise
            # A fresh page met rows that are already there (a target table that was not empty,
            # see docs/full-load.md): the transaction was rolled back; load it again as an upsert.
            log.warning("table %s, chunk %d: the page up to row %d met existing keys; loading it again with "
                        "REPLACE", self.tables[page.table].qualified, page.chunk, page.rows_done)
            page.upsert = True
            self.replaced_pages += 1
            self._write(page)

    def _write(self, page: Page) -> None:
        first_try = [True]

        def once():
            try:
                if not first_try[0] and page.size and not page.reset and self._committed(page):
                    log.info("chunk %d: the page up to row %d was committed before the connection was lost",
                             page.chunk, page.rows_done)
                    return
                first_try[0] = False
                self._write_once(page)
            except Exception:
                self._rollback()
                raise

        try:
            retry_transient(once, f"chunk {page.chunk}: page write", on_retry=self._drop,
                            max_attempts=self.retries + 1)
        except PageWriteError:
            raise
        except Exception as e:
            tp = self.tables[page.table]
            first = _first_key(tp, page)
            raise PageWriteError(f"table {tp.qualified}, chunk {page.chunk}: writing {page.size} rows "
                                 f"failed{first}: ({error_code(e)}) {error_message(e)}") from e
        self.rows += page.size

    def _write_once(self, page: Page) -> None:
        conn = self._conn()
        ts = self.table_sql(page.table)
        with conn.cursor() as cur:
            if page.reset:
                cur.execute(f"DELETE FROM {ts.ref}")
            if page.data is not None:
                self._load_page(cur, page)
            elif page.rows:
                tp = self.tables[page.table]
                # hidden key (_tidb_rowid): plain INSERT; a page is written once (its progress row
                # is in the same transaction, a resumed chunk continues after the committed key)
                stmts = ts.upsert(page.rows) if tp.key and not tp.hidden_key else ts.insert(page.rows)
                for st in stmts:
                    cur.execute(st.sql)
            sql, args = self.store.page_sql(page.chunk, page.rows_done, page.after, page.last)
            cur.execute(sql, args)
        failpoints.commit(conn, "page.commit", f"{page.chunk}.{page.rows_done}")

    def load_sql(self, ti: int, replace: bool) -> str:
        sql = self._load.get((ti, replace))
        if sql is None:
            self.table_sql(ti)  # checks that every source column exists in the target
            tp = self.tables[ti]
            tdb, ttable, tcols = tp.target_names()
            sql = tsv.load_sql(table_ref(tdb, ttable), tcols, tp.types, replace, _TOKEN)
            self._load[(ti, replace)] = sql
        return sql

    def _load_page(self, cur, page: Page) -> None:
        """LOAD DATA LOCAL of the page's text, from memory: a plain load for a fresh chunk,
        REPLACE for a page of a resumed chunk (``page.upsert``: rows of an earlier attempt
        may be there). A plain load that meets existing keys anyway raises :class:`LoadWarning`
        (duplicates only) and :meth:`write` loads the page again with REPLACE."""
        self._load_once(cur, page, page.upsert)

    def _load_once(self, cur, page: Page, replace: bool) -> None:
        conn = cur.connection
        if not getattr(conn, "_local_infile", False):
            raise PageWriteError("the target connection was opened without local_infile=True "
                                 "(needed for LOAD DATA LOCAL)")
        if not getattr(conn, "_t2m_local_infile_checked", False):
            cur.execute("SELECT @@GLOBAL.local_infile")
            if not int(cur.fetchone()[0]):  # MySQL 8.0's default; LOAD would fail with error 3948
                raise PageWriteError("the target server has local_infile = OFF, so LOAD DATA LOCAL INFILE is refused: "
                                     "SET GLOBAL local_infile = 1 on the target for the load, or set "
                                     "[full_load] method = \"insert\"")
            conn._t2m_local_infile_checked = True
        affected = load_data.send_from_memory(cur, self.load_sql(page.table, replace), _TOKEN, page.data)
        if cur.warning_count:
            cur.execute("SHOW WARNINGS LIMIT 20")
            warnings = [list(w) for w in cur.fetchall()]
            m = re.search(r" at row (\d+)$", str(warnings[0][2])) if warnings else None
            if m:  # name the row: "at row N" counts lines of this page
                tp = self.tables[page.table]
                warnings[0][2] = f"{warnings[0][2]} (key {tsv.row_key_text(tp, page.data, int(m.group(1)))})"
            raise LoadWarning(warnings or [("Warning", 0, "LOAD DATA reported a warning")])
        if not replace and affected != page.count:
            raise PageWriteError(f"LOAD DATA loaded {affected} rows of {page.count}")

    def _committed(self, page: Page) -> bool:
        """Does the chunk's progress row already record exactly this page (see module notes)?"""
        conn = self._conn()
        with conn.cursor() as cur:
            cur.execute(f"SELECT rows_done, after_key, done FROM {self.store.m}.full_load_chunks"
                        f" WHERE job = %s AND chunk = %s", (self.store.job, page.chunk))
            row = cur.fetchone()
        conn.commit()  # end the read's snapshot: the page's own transaction must see fresh rows
        if row is None:
            return False
        rows_done, after, done = row
        if isinstance(after, (bytes, bytearray)):
            after = after.decode("utf-8")
        want_after = None if page.after is None else json.dumps(page.after)
        return int(rows_done) == page.rows_done and after == want_after and bool(done) == page.last

    def _rollback(self) -> None:
        try:
            if self.conn is not None:
                self.conn.rollback()
        except Exception:  # noqa: BLE001 - a failed rollback means a broken connection: drop it
            self._drop()

    def _drop(self) -> None:
        try:
            if self.conn is not None:
                self.conn.close()
        except Exception:  # noqa: BLE001 - closing a connection that is already broken
            pass
        self.conn = None
        self._sql.clear()

    def close(self) -> None:
        self._drop()


_TOKEN = tsv.TOKEN_PREFIX + "page"


def _first_key(tp: TablePlan, page: Page) -> str:
    if page.data is not None:
        return f" (first row{' key' if tp.key and not tp.hidden_key else ''} {tsv.first_key_text(tp, page.data):.120})"
    if not page.rows:
        return ""
    if tp.key and not tp.hidden_key:
        return f" (first row key {tuple(page.rows[0][i] for i in tp.key_positions())!r:.120})"
    return f" (first row {tuple(page.rows[0])!r:.120})"
