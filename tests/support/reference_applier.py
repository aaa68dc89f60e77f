"""A deliberately simple applier of decoded events, used only by tests to check the oracle.

The real apply path (``tidb2mysql/replication/``) merges, batches, shards and checkpoints;
to know that the *oracle* (simulator + source database + compare) is right we need
something that obviously applies a change stream correctly, so that "apply the stream with
this, compare with the source" must come out equal. So this module does everything the
slow, plain way:

* every :class:`~tidb2mysql.events.Txn` is one target transaction, its changes applied one
  statement each, in message order;
* INSERT writes the row; UPDATE sets every written column to the new image, matching the
  row by its primary key from the old image (or, for a table without a primary key, by
  every written column ``<=>`` its old value, ``LIMIT 1``); DELETE matches likewise;
* an UPDATE or DELETE that matches no row is an error naming the event, table and key
  (nothing is lost silently);
* values travel as PyMySQL parameters; the session uses ``time_zone = '+00:00'`` (TIMESTAMP
  values are UTC after decoding) and a ``sql_mode`` without NO_ZERO_DATE/NO_ZERO_IN_DATE
  (zero dates arrive as MySQL text) and with NO_AUTO_VALUE_ON_ZERO (an explicit 0 stays 0);
  it is not strict (ENUM index 0 must be writable), but any server warning on a row
  statement is an error except for exactly that ENUM case;
* generated columns are read from the written database's ``information_schema`` before
  each table's changes and never written or matched (Drainer sends bogus values for them);
* a DDL runs after ``USE schema`` (except CREATE/DROP DATABASE), with TiDB-only comments
  (``/*T![...] ... */``, ``/*T! ... */``, ``/*!90000 ... */``) removed by a regex; "unknown
  table" from a ``DROP TABLE`` is tolerated because Drainer sends ``DROP TABLE a, b`` once
  per table, each with the full text.
"""

from __future__ import annotations

import datetime
import re
from typing import Iterable

import pymysql

from tidb2mysql.events import DDL, Op, TableChanges, Txn
from tidb2mysql.mysql.dialect import is_generated_extra
from tidb2mysql.mysql.sql import quote_ident

# Not strict: strict mode refuses ENUM index 0 (TiDB's "empty/invalid" value, which a
# non-strict TiDB stores). Instead *every* warning of a row statement is an error, except
# "Data truncated" (1265) for an ENUM column written with 0 in that very statement.
SQL_MODE = "NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"
ER_BAD_TABLE_ERROR = 1051  # Unknown table (DROP TABLE of a table that is gone)
WARN_DATA_TRUNCATED = 1265
_WARNING_COLUMN = re.compile(r"column '([^']*)'")

_TIDB_COMMENT = re.compile(r"/\*T!(\[[^\]]*\])?.*?\*/|/\*!90000.*?\*/", re.DOTALL)
_DATABASE_DDL = re.compile(r"^\s*(CREATE|DROP)\s+(DATABASE|SCHEMA)\b", re.IGNORECASE)
_DROP_TABLE = re.compile(r"^\s*DROP\s+TABLE\b", re.IGNORECASE)


class ReferenceApplyError(RuntimeError):
    """A change could not be applied; the message names the event, table and key."""



def strip_tidb_comments(query: str) -> str:
    """Remove ``/*T![feature] ... */``, ``/*T! ... */`` and ``/*!90000 ... */`` comments."""
    return _TIDB_COMMENT.sub(" ", query)


def _param(value):
    """PyMySQL renders a negative timedelta wrongly ('-1:59:59' for -1 s): pass TIME as text."""
    if isinstance(value, datetime.timedelta):
        micros = abs(value) // datetime.timedelta(microseconds=1)
        sign = "-" if value < datetime.timedelta(0) else ""
        secs, us = divmod(micros, 1_000_000)
        return f"{sign}{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}.{us:06d}"
    return value


def prepare_session(conn) -> None:
    with conn.cursor() as cur:
        cur.execute(
            f"SET SESSION time_zone = '+00:00', sql_mode = '{SQL_MODE}', foreign_key_checks = 0")


def _generated_columns(cur, schema: str, table: str) -> set[str]:
    cur.execute(
        "SELECT COLUMN_NAME, EXTRA FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s", (schema, table))
    rows = cur.fetchall()
    if not rows:
        raise ReferenceApplyError(f"table {schema}.{table} does not exist in the written database")
    return {name for name, extra in rows if is_generated_extra(extra)}


def _execute(cur, what: str, sql: str, args: list, zero_enums: set[str]) -> int:
    """Run a row statement; any warning but "ENUM written with 0" is an error."""
    affected = cur.execute(sql, args)
    if cur.warning_count:
        cur.execute("SHOW WARNINGS")
        bad = []
        for _level, code, message in cur.fetchall():
            m = _WARNING_COLUMN.search(message)
            if not (code == WARN_DATA_TRUNCATED and m and m.group(1) in zero_enums):
                bad.append(f"{code} {message}")
        if bad:
            raise ReferenceApplyError(f"{what}: the server warned: {'; '.join(bad)}")
    return affected


def _where(columns: list[str], values: list, exact: bool) -> tuple[str, list]:
    """``a = %s AND b = %s`` (primary key) or ``a <=> %s AND ...`` (full-row match).

    In a full-row match a text value is also compared by its UTF-8 bytes: a collation calls
    'x' and 'x ' (PAD SPACE) or 'x' and 'X' (_ci) equal, and a key-less table may hold both.
    """
    if exact:
        return " AND ".join(f"{quote_ident(c)} = %s" for c in columns), [_param(v) for v in values]
    parts, args = [], []
    for c, v in zip(columns, values):
        parts.append(f"{quote_ident(c)} <=> %s")
        args.append(_param(v))
        if isinstance(v, str):
            parts.append(f"CAST(CONVERT({quote_ident(c)} USING utf8mb4) AS BINARY) = %s")
            args.append(v.encode("utf-8"))
    return " AND ".join(parts), args


def _apply_table(cur, tc: TableChanges, where_from: str) -> None:
    s = tc.schema
    name = f"{quote_ident(s.schema)}.{quote_ident(s.table)}"
    generated = _generated_columns(cur, s.schema, s.table)
    written = [i for i, c in enumerate(s.columns) if c not in generated]
    cols = [s.columns[i] for i in written]
    pk = list(s.pk)
    enums = [i for i in written if s.types[i] == "enum"]
    for n, rc in enumerate(tc.rows):
        what = f"{where_from}, table {s.qualified}, change #{n} ({rc.op.name})"
        zero_enums = {s.columns[i] for i in enums if rc.new is not None and rc.new[i] == 0}
        try:
            if rc.op == Op.INSERT:
                _execute(cur, what,
                         f"INSERT INTO {name} ({', '.join(map(quote_ident, cols))}) VALUES ({', '.join(['%s'] * len(cols))})",
                         [_param(rc.new[i]) for i in written], zero_enums)
                continue
            if pk:
                cond, args = _where([s.columns[i] for i in pk], [rc.old[i] for i in pk], exact=True)
                limit = ""
            else:
                cond, args = _where(cols, [rc.old[i] for i in written], exact=False)
                limit = " LIMIT 1"
            key = {s.columns[i]: rc.old[i] for i in (pk or written)}
            if rc.op == Op.UPDATE:
                # rowcount counts *changed* rows; check that the old row exists first.
                cur.execute(f"SELECT COUNT(*) FROM {name} WHERE {cond}", args)
                if cur.fetchone()[0] == 0:
                    raise ReferenceApplyError(f"{what}: no row matches the old image {key}")
                sets = ", ".join(f"{quote_ident(c)} = %s" for c in cols)
                _execute(cur, what, f"UPDATE {name} SET {sets} WHERE {cond}{limit}",
                         [_param(rc.new[i]) for i in written] + args, zero_enums)
            elif rc.op == Op.DELETE:
                if _execute(cur, what, f"DELETE FROM {name} WHERE {cond}{limit}", args, set()) == 0:
                    raise ReferenceApplyError(f"{what}: no row matches the deleted image {key}")
            else:
                raise ReferenceApplyError(f"{what}: unknown operation {rc.op!r}")
        except pymysql.MySQLError as e:
            raise ReferenceApplyError(f"{what}: {e}") from e


def apply_txn(conn, txn: Txn) -> None:
    """Apply one transaction in one target transaction (rolled back on any error)."""
    where_from = f"txn commit_ts {txn.commit_ts}" + (f" at {txn.position}" if txn.position else "")
    conn.begin()
    try:
        with conn.cursor() as cur:
            for tc in txn.tables:
                _apply_table(cur, tc, where_from)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise


def apply_ddl(conn, ddl: DDL) -> None:
    """Run one DDL (TiDB-only comments removed); tolerate a repeated ``DROP TABLE``."""
    query = strip_tidb_comments(ddl.query)
    with conn.cursor() as cur:
        try:
            if ddl.schema and not _DATABASE_DDL.match(query):
                cur.execute(f"USE {quote_ident(ddl.schema)}")
            cur.execute(query)
        except pymysql.MySQLError as e:
            if e.args and e.args[0] == ER_BAD_TABLE_ERROR and _DROP_TABLE.match(query):
                return
            where = f" at {ddl.position}" if ddl.position else ""
            raise ReferenceApplyError(
                f"DDL commit_ts {ddl.commit_ts}{where} on {ddl.schema}.{ddl.table} failed: {e}; "
                f"query: {query!r}") from e


def apply_events(conn, events: Iterable[Txn | DDL]) -> int:
    """Apply events in order, one by one; returns how many were applied.

    ``conn`` is a PyMySQL connection to the database server to write (its session is
    prepared here). Row changes use qualified table names; a DDL selects its schema with
    ``USE``, so the connection's current database changes.
    """
    prepare_session(conn)
    count = 0
    for event in events:
        if isinstance(event, Txn):
            apply_txn(conn, event)
        elif isinstance(event, DDL):
            apply_ddl(conn, event)
        else:
            raise TypeError(f"not an event: {event!r}")
        count += 1
    return count


__all__ = ["ReferenceApplyError", "apply_ddl", "apply_events", "apply_txn", "strip_tidb_comments"]
