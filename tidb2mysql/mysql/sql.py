"""SQL text for the apply path, with every literal escaped here in Python.

Why text and not placeholders: one multi-row statement per table and operation is one round
trip; the drivers' own escaping costs 14-18 us per 10-column row (research/perf-limits.md §4),
as much as the server spends inserting it. The encoder below dispatches on the value's
*type* (one dict lookup per value, C-level ``str``/``repr``/``hex`` for most types) and
escapes strings only when they contain a character that needs it.

Dispatch is by value type rather than by column type on purpose: the native value model
(``tidb2mysql/events.py``) already says what each value is, and a column can legitimately
carry another type than its declared one (``None``; a zero date such as ``0000-00-00``
that stays ``str`` in a DATE column), so a per-column encoder would need the same checks.

Literals assume the session set up by :func:`tidb2mysql.mysql.session.prepare_session`:
utf8mb4, ``time_zone = '+00:00'``, and no ``NO_BACKSLASH_ESCAPES`` in ``sql_mode``.

Statements are split so each stays under a byte budget (``max_allowed_packet`` must hold a
statement); a single row larger than the budget still goes, alone.
"""

from __future__ import annotations

import datetime as _dt
import decimal
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable, NamedTuple, Optional, Sequence

from tidb2mysql.events import Row, TableSchema
from tidb2mysql.mysql import load_data
from tidb2mysql.errors import InputDataError

if TYPE_CHECKING:  # pragma: no cover
    from tidb2mysql.mysql.dialect import Dialect
    from tidb2mysql.mysql.target_schema import TargetTable

# Bytes per statement (also capped by the server's max_allowed_packet: session.statement_budget).
# Why 512 KiB and not more: MariaDB 10.11 spends more CPU per row on larger multi-row
# statements. 400k inserts through the flow, -w 1 and -p 2, 2-3 rounds per size: 4 MiB
# (~3,300-5,000 rows per statement) cost the server 8.5-9.3 us/row, 1 MiB 8.5-9.3, 512 KiB
# (~1,700 rows) 7.8-8.2, 256 KiB 7.9-8.2; one connection, 200k pre-built rows: 1,000-3,000
# rows per statement 6.2-6.9 us/row, 8,000 rows 7.4-8.0 (docs/performance.md). A row larger
# than the budget still goes alone in its own statement.
DEFAULT_BUDGET = 512 * 1024


class LiteralError(InputDataError, ValueError):
    """A value that has no exact SQL literal (NaN, infinity, an unknown type).

    When raised by a multi-row builder, ``index`` is the position of the offending row (or
    key) in the input list, and the message names the table and column.
    """

    index: Optional[int] = None


# -- identifiers -------------------------------------------------------------------------


def quote_ident(name: str) -> str:
    """Backtick-quote an identifier (a backtick inside is doubled)."""
    return "`" + name.replace("`", "``") + "`"


def table_ref(schema: str, table: str) -> str:
    return quote_ident(schema) + "." + quote_ident(table)


# -- literals ----------------------------------------------------------------------------

def _enc_str(v: str) -> str:
    # Fast path: most strings need no escaping. Six substring tests (memchr in C) are ~5x
    # cheaper than a set or regex scan of the string, and ~4x cheaper than always escaping.
    if not ("'" in v or "\\" in v or "\0" in v or "\n" in v or "\r" in v or "\x1a" in v):
        return "'" + v + "'"
    return (
        "'"
        + v.replace("\\", "\\\\")
        .replace("'", "\\'")
        .replace("\0", "\\0")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\x1a", "\\Z")
        + "'"
    )


def _enc_float(v: float) -> str:
    r = repr(v)  # shortest text that round-trips exactly
    if r[-1] in "fn":  # 'inf', '-inf', 'nan'
        raise LiteralError(f"float {r} has no SQL literal (MySQL stores no NaN or infinity)")
    return r


def _enc_decimal(v: decimal.Decimal) -> str:
    if not v.is_finite():
        raise LiteralError(f"decimal {v} has no SQL literal")
    s = str(v)
    if "E" in s:  # str() switches to exponent form for tiny/huge values; keep it exact
        s = format(v, "f")
    return s


def _enc_bytes(v: bytes) -> str:
    return "X'" + v.hex() + "'"


def _enc_datetime(v: _dt.datetime) -> str:
    if v.tzinfo is not None:
        # Sessions run in UTC; an aware value is converted, never shifted silently.
        v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return "'" + v.isoformat(" ") + "'"


def _enc_date(v: _dt.date) -> str:
    return "'" + v.isoformat() + "'"


def _enc_time(v: _dt.time) -> str:
    return "'" + v.replace(tzinfo=None).isoformat() + "'"


def _enc_timedelta(v: _dt.timedelta) -> str:
    """MySQL TIME text: ``[-]H:MM:SS[.ffffff]``, hours may exceed 24 (up to 838)."""
    us = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
    sign = ""
    if us < 0:
        sign, us = "-", -us
    secs, frac = divmod(us, 1_000_000)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    if frac:
        return f"'{sign}{h:02d}:{m:02d}:{s:02d}.{frac:06d}'"
    return f"'{sign}{h:02d}:{m:02d}:{s:02d}'"


def _enc_null(v: None) -> str:
    return "NULL"


def _enc_bool(v: bool) -> str:
    return "1" if v else "0"


_ENCODERS: dict[type, Callable[[Any], str]] = {
    int: int.__repr__,
    str: _enc_str,
    type(None): _enc_null,
    float: _enc_float,
    decimal.Decimal: _enc_decimal,
    bytes: _enc_bytes,
    _dt.datetime: _enc_datetime,
    _dt.date: _enc_date,
    _dt.timedelta: _enc_timedelta,
    _dt.time: _enc_time,
    bool: _enc_bool,
    bytearray: lambda v: "X'" + v.hex() + "'",
    memoryview: lambda v: "X'" + v.hex() + "'",
}


# (base type, conversion of a subclass instance to the base's plain value); bool before int,
# datetime before date. str.__str__ gives the plain text of a str-mixin Enum (str() would not).
_SUBCLASS_BASES: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (bool, bool),
    (int, int.__index__),
    (float, float),
    (str, str.__str__),
    (bytes, bytes),
    (bytearray, bytes),
    (decimal.Decimal, decimal.Decimal),
    (_dt.datetime, lambda v: v),
    (_dt.date, lambda v: v),
    (_dt.timedelta, lambda v: v),
    (_dt.time, lambda v: v),
)


def literal(v: Any) -> str:
    """The exact SQL literal of a native value (see the table in ``tidb2mysql/events.py``)."""
    enc = _ENCODERS.get(type(v))
    if enc is not None:
        return str(enc(v))
    return _literal_subclass(v)


def _literal_subclass(v: Any) -> str:
    # Subclasses (IntEnum, str enums, ...) land here; order matters (bool < int, datetime < date).
    for base, plain in _SUBCLASS_BASES:
        if isinstance(v, base):
            return str(_ENCODERS[base](plain(v)))
    raise LiteralError(f"no SQL literal for a value of type {type(v).__name__}: {v!r:.80}")


try:  # the C rendering of rows (setup.py builds it where a C compiler is): the same text
    from tidb2mysql.mysql._rowtext import values as _values_c
except ImportError:  # pragma: no cover - without a C compiler
    _values_c = None  # type: ignore[assignment]


def encode_rows(rows: list[Sequence[Any]]) -> list[str]:
    """:func:`encode_values` of each of ``rows``: in C (``mysql/_rowtext.c``) when it is built
    and every value has its text there, else in Python (the specification)."""
    if _values_c is not None:
        got = _values_c(rows, _ENCODERS)
        if got is not None:
            return got
    return [encode_values(r) for r in rows]


def encode_values(values: Iterable[Any]) -> str:
    """``(v1,v2,...)`` - the VALUES tuple of a row (or a composite key)."""
    E = _ENCODERS
    try:
        return "(" + ",".join([E[type(v)](v) for v in values]) + ")"
    except KeyError:
        return "(" + ",".join([literal(v) for v in values]) + ")"


# -- statements --------------------------------------------------------------------------


LOAD_TOKEN = load_data.TOKEN_PREFIX + "rows"  # the "file" a TableSQL.load statement names


class Statement(NamedTuple):
    """One SQL statement and the slice of input rows/keys it covers (for error messages)."""

    sql: str
    kind: str  # upsert | insert | delete | insert_one | delete_one | update_one
    first: int  # index of its first row/key in the input list
    count: int  # type: ignore[assignment]  # shadows tuple.count; the field name is the API


def _byte_len(s: str) -> int:
    return len(s) if s.isascii() else len(s.encode("utf-8"))


def split_statements(head: str, parts: Sequence[str], tail: str, kind: str,
                     budget: int = DEFAULT_BUDGET, sep: str = ",") -> list[Statement]:
    """``head + sep.join(chunk) + tail`` for consecutive chunks of ``parts``, each under ``budget``
    bytes; a part too big for any statement goes alone."""
    out: list[Statement] = []
    fixed = _byte_len(head) + _byte_len(tail)
    start = 0
    size = fixed
    sl = len(sep)
    for i, p in enumerate(parts):
        n = (len(p) if p.isascii() else len(p.encode("utf-8"))) + sl
        if i > start and size + n > budget:
            out.append(Statement(head + sep.join(parts[start:i]) + tail, kind, start, i - start))
            start, size = i, fixed
        size += n
    if start < len(parts):
        out.append(Statement(head + sep.join(parts[start:]) + tail, kind, start, len(parts) - start))
    return out


@dataclass
class ColumnPlan:
    """Which message columns get written, and why the others do not."""

    write: tuple[int, ...]  # message column indexes written, in message order
    dropped_missing: tuple[str, ...]  # in the message, not in the target (Drainer's loader drops them too)
    skipped_generated: tuple[str, ...]  # generated in the target: never written
    json_cast: tuple[bool, ...]  # per written column: compare with CAST(... AS JSON) (MySQL JSON type)


def plan_columns(schema: TableSchema, target: Optional["TargetTable"]) -> ColumnPlan:
    if target is None:
        return ColumnPlan(tuple(range(len(schema.columns))), (), (), (False,) * len(schema.columns))
    write, missing, generated, cast = [], [], [], []
    for i, name in enumerate(schema.columns):
        col = target.column(name)
        if col is None:
            missing.append(name)
        elif col.generated:
            generated.append(name)
        else:
            write.append(i)
            cast.append(col.data_type == "json")
    return ColumnPlan(tuple(write), tuple(missing), tuple(generated), tuple(cast))


class TableSQL:
    """Statement builders for one message column layout of one table.

    Build once per (``TableSchema``, target structure) and reuse: the column list, key
    getters and the ``ON DUPLICATE KEY UPDATE`` clause are computed here, not per row.
    """

    def __init__(self, schema: TableSchema, target: Optional["TargetTable"] = None,
                 budget: int = DEFAULT_BUDGET, dialect: Optional["Dialect"] = None):
        self.schema = schema
        self.target = target
        self.budget = budget
        self.ref = table_ref(schema.schema, schema.table)
        self.plan = plan = plan_columns(schema, target)
        if not plan.write:
            raise ValueError(f"table {schema.qualified}: no message column exists in the target "
                             f"(message columns: {', '.join(schema.columns)})")
        names = [quote_ident(schema.columns[i]) for i in plan.write]
        self.names = names
        self.column_list = "(" + ",".join(names) + ")"
        n = len(schema.columns)
        if plan.write == tuple(range(n)):
            self._pick: Callable[[Row], Sequence[Any]] = _identity
        elif len(plan.write) == 1:
            j = plan.write[0]
            self._pick = lambda row: (row[j],)
        else:
            self._pick = itemgetter(*plan.write)
        pk = schema.pk
        written = set(plan.write)
        for i in pk:
            if i not in written:
                raise ValueError(
                    f"table {schema.qualified}: primary-key column {schema.columns[i]!r} is "
                    f"{'generated' if schema.columns[i] in plan.skipped_generated else 'missing'} in the target"
                )
        self.pk_names = [quote_ident(schema.columns[i]) for i in pk]
        non_key = [nm for i, nm in zip(plan.write, names) if i not in pk] or names[:1]
        self._odku = upsert_tail(non_key, schema.table, dialect)
        self._insert_head = f"INSERT INTO {self.ref} {self.column_list} VALUES "
        if len(pk) == 1:
            self._delete_head = f"DELETE FROM {self.ref} WHERE {self.pk_names[0]} IN ("
        else:
            self._delete_head = f"DELETE FROM {self.ref} WHERE ({','.join(self.pk_names)}) IN ("
        self._row_text: Optional[load_data.RowText] = None  # built on the first load()
        self._load_sql = ""
        # How each written column is compared in a whole-row match (see _match).
        self._cmp = [(nm, _JSON if c else (_TEXT if _is_text(schema, target, i) else _PLAIN),
                      _is_char(schema, target, i))
                     for nm, c, i in zip(names, plan.json_cast, plan.write)]

    # - multi-row -

    def row_values(self, row: Row) -> str:
        return encode_values(self._pick(row))

    def key_text(self, key: tuple[Any, ...]) -> str:
        if len(key) == 1:
            return literal(key[0])
        return encode_values(key)

    def _encode_rows(self, rows: Sequence[Row]) -> list[str]:
        pick = self._pick
        try:
            return encode_rows([pick(r) for r in rows])
        except LiteralError:
            self._locate_bad_value(rows, [self.schema.columns[i] for i in self.plan.write], pick)
            raise

    def _locate_bad_value(self, rows: Sequence[Any], names: Sequence[str], pick: Callable[[Any], Sequence[Any]]) -> None:
        """Slow path after a failure: raise again naming the table, row index and column."""
        for index, row in enumerate(rows):
            for name, v in zip(names, pick(row)):
                try:
                    literal(v)
                except LiteralError as e:
                    err = LiteralError(f"table {self.schema.qualified}, column {name!r}: {e}")
                    err.index = index
                    raise err from None

    def upsert(self, rows: Sequence[Row]) -> list[Statement]:
        """``INSERT ... VALUES (..),(..) ON DUPLICATE KEY UPDATE c=VALUES(c),...`` (see :func:`upsert_tail`)."""
        parts = self._encode_rows(rows)
        return split_statements(self._insert_head, parts, self._odku, "upsert", self.budget)

    def insert(self, rows: Sequence[Row]) -> list[Statement]:
        """Plain multi-row ``INSERT`` (replace_by_key: the keys were deleted first)."""
        parts = self._encode_rows(rows)
        return split_statements(self._insert_head, parts, "", "insert", self.budget)

    def load(self, rows: Sequence[Row]) -> Optional[tuple[str, bytes]]:
        """``(LOAD DATA LOCAL statement, its text)`` of ``rows`` (mysql/load_data.py), or None
        when a value has no exact LOAD DATA text (write those rows with :meth:`upsert` /
        :meth:`insert`). The statement names :data:`LOAD_TOKEN` as its file; LOCAL means
        IGNORE semantics: a caller checks the count and the warnings."""
        text = self._row_text
        if text is None:
            kinds = []
            for i in self.plan.write:
                col = self.target.column(self.schema.columns[i]) if self.target is not None else None
                kinds.append(load_data.column_kind(col.data_type if col is not None else self.schema.types[i]))
            text = self._row_text = load_data.RowText(kinds)
            self._load_sql = load_data.load_statement(self.ref, self.names, kinds, False, LOAD_TOKEN)
        data = load_data.rows_text(text, rows, self._pick)
        return None if data is None else (self._load_sql, data)

    def count_keys(self, keys: Sequence[tuple[Any, ...]]) -> list[Statement]:
        """``SELECT COUNT(*) ... WHERE pk IN (...)``: how many of ``keys`` the target holds."""
        head = "SELECT COUNT(*) FROM " + self._delete_head[len("DELETE FROM "):]
        return [st._replace(kind="count") for st in split_statements(head, [self.key_text(k) for k in keys], ")",
                                                                      "count", self.budget)]

    def exists_one(self, key: tuple[Any, ...]) -> str:
        return "SELECT 1 FROM " + self._delete_head[len("DELETE FROM "):] + self.key_text(key) + ") LIMIT 1"

    def delete(self, keys: Sequence[tuple[Any, ...]]) -> list[Statement]:
        """``DELETE ... WHERE pk IN (...)`` / ``WHERE (a,b) IN ((..),(..))``."""
        kt = self.key_text
        try:
            parts = [kt(k) for k in keys]
        except LiteralError:
            self._locate_bad_value(keys, [self.schema.columns[i] for i in self.schema.pk], _identity)
            raise
        return split_statements(self._delete_head, parts, ")", "delete", self.budget)

    # - one row (ordered tables, and the one-by-one salvage path) -

    def insert_one(self, row: Row) -> str:
        return self._insert_head + encode_values(self._pick(row))

    def upsert_one(self, row: Row) -> str:
        return self._insert_head + encode_values(self._pick(row)) + self._odku

    def delete_key_one(self, key: tuple[Any, ...]) -> str:
        return self._delete_head + self.key_text(key) + ")"

    def unique_holders(self, rows: Sequence[Row], keys: Sequence[tuple[str, ...]]) -> Optional[str]:
        """``SELECT * ... FOR UPDATE``: the target rows that hold a value of a unique key in
        ``keys`` (target column names) that one of ``rows`` holds; None when a key has a
        column the message lacks (its values cannot be looked up) or no row has a non-NULL
        value for any key (NULLs never collide).

        Why a locking read: the caller decides from a holder's image and its shard's
        checkpoint whether the holder is stale or ahead (replication/unique_handoff.py); the
        row lock keeps that image from changing until the caller commits."""
        by_name = {self.schema.columns[i].lower(): i for i in self.plan.write}
        conds = []
        for key in keys:
            idx = [by_name.get(c.lower()) for c in key]
            if any(i is None for i in idx):
                return None
            seen: dict[str, None] = {}
            for r in rows:
                vals = tuple(r[i] for i in idx)  # type: ignore[index]
                if None in vals:
                    continue
                seen[literal(vals[0]) if len(vals) == 1 else encode_values(vals)] = None
            if seen:
                cols = quote_ident(key[0]) if len(key) == 1 else "(" + ",".join(map(quote_ident, key)) + ")"
                conds.append(f"{cols} IN ({','.join(seen)})")
        if not conds:
            return None
        return f"SELECT * FROM {self.ref} WHERE " + " OR ".join(conds) + " FOR UPDATE"

    def insert_target_row(self, names: Sequence[str], values: Sequence[Any]) -> str:
        """``INSERT`` of a row as the target returned it (column names from the cursor): the
        statement that puts it back (replication/unique_handoff.py keeps it with a handoff)."""
        return (f"INSERT INTO {self.ref} (" + ",".join(map(quote_ident, names)) + ") VALUES "
                + encode_values(values))

    def _match(self, row: Row) -> str:
        """A WHERE condition true exactly for rows byte-equal to ``row`` in every written column.

        Why not just ``col <=> literal``: a character column compares under its collation, and
        MySQL collations are not byte-exact. With a PAD SPACE collation (``utf8mb4_bin`` on
        TiDB and MySQL 5.7 / MariaDB) ``'x' = 'x '`` is true; with ``*_ci`` / ``*_ai``
        collations ``'x' = 'X'`` and ``'e' = 'é'`` are. A key-less table may hold both rows,
        and a DELETE of one must not remove the other. So a text value is compared twice:
        ``col = 'x'`` (under the collation: an index on the column can serve it, and it
        filters nearly every row before the second test runs) AND the column's UTF-8 bytes
        equal the value's bytes (``CAST(CONVERT(col USING utf8mb4) AS BINARY)``; CONVERT makes
        a latin1/utf8mb3 column comparable to the UTF-8 literal, and is a no-op for utf8mb4).
        Byte equality implies collation equality, so the first test only narrows the scan.

        Other types already compare exactly: integers, DECIMAL (exact text), BIT (as an
        integer), ENUM/SET (index / bitmask), temporal values, binary strings (the binary
        collation is byte-wise and NO PAD), FLOAT/DOUBLE (``repr`` of the double round-trips,
        and a FLOAT column's value is compared as the same widened double), MySQL JSON (as a
        JSON value, ``CAST(.. AS JSON)``), NULL (``IS NULL``).
        """
        parts = []
        for (nm, kind, char), v in zip(self._cmp, self._pick(row)):
            if v is None:
                parts.append(nm + " IS NULL")
            elif kind is _TEXT and isinstance(v, str):
                if char:  # what a CHAR column holds (a NO PAD collation would not match 'x ')
                    v = v.rstrip(" ")
                try:
                    raw = v.encode("utf-8")
                except UnicodeEncodeError as e:
                    raise LiteralError(f"column {nm}: text is not valid UTF-8 ({e.reason})") from None
                parts.append(f"{nm} = {_enc_str(v)} AND CAST(CONVERT({nm} USING utf8mb4) AS BINARY) = X'{raw.hex()}'")
            elif kind is _JSON:
                parts.append(f"{nm} <=> CAST({literal(v)} AS JSON)")
            else:
                parts.append(f"{nm} <=> {literal(v)}")
        return " AND ".join(parts)

    def delete_one(self, old: Row) -> str:
        """Delete exactly one row equal to ``old`` in every written column (NULL-safe)."""
        return f"DELETE FROM {self.ref} WHERE {self._match(old)} LIMIT 1"

    def update_one(self, old: Row, new: Row) -> str:
        """Update exactly one row equal to ``old`` to ``new``."""
        sets = ",".join(f"{nm}={literal(v)}" for nm, v in zip(self.names, self._pick(new)))
        return f"UPDATE {self.ref} SET {sets} WHERE {self._match(old)} LIMIT 1"


def upsert_tail(names: Sequence[str], table: str, dialect: Optional["Dialect"] = None) -> str:
    """What follows the ``VALUES`` rows of an upsert: ``ON DUPLICATE KEY UPDATE`` of ``names``
    (quoted column names) to the inserted row's values.

    ``c=VALUES(c)`` (MariaDB, MySQL before 8.0.20, and when the dialect is unknown: every
    server runs it), or with a row alias ``AS new ... c=new.c`` where the dialect has one
    (MySQL 8.0.20 deprecates ``VALUES()`` here). The alias must differ from the table name.
    """
    if dialect is not None and dialect.upsert_row_alias:
        alias = "new" if table.lower() != "new" else "new_row"
        return f" AS {alias} ON DUPLICATE KEY UPDATE " + ",".join(f"{nm}={alias}.{nm}" for nm in names)
    return " ON DUPLICATE KEY UPDATE " + ",".join(f"{nm}=VALUES({nm})" for nm in names)


def _identity(row: Row) -> Row:
    return row


# Column kinds for whole-row matching (TableSQL._match).
_PLAIN, _TEXT, _JSON = "plain", "text", "json"
# Character types that compare under a collation: Drainer's mysql_type names (a binary
# charset turns them into binary/varbinary/*blob) and information_schema DATA_TYPE names
# (MariaDB reports a JSON column as longtext: it is text there, compared as such).
_TEXT_TYPES = frozenset({"char", "varchar", "var_string", "tinytext", "text", "mediumtext", "longtext"})


def _is_text(schema: TableSchema, target: Optional["TargetTable"], i: int) -> bool:
    if target is not None:
        col = target.column(schema.columns[i])
        if col is not None:
            return col.data_type in _TEXT_TYPES
    return i < len(schema.types) and schema.types[i] in _TEXT_TYPES


def _is_char(schema: TableSchema, target: Optional["TargetTable"], i: int) -> bool:
    """CHAR(n): the server strips trailing spaces when it stores (and TiDB when it reads)."""
    if target is not None:
        col = target.column(schema.columns[i])
        if col is not None:
            return col.data_type == "char"
    return i < len(schema.types) and schema.types[i] == "char"


__all__ = [
    "DEFAULT_BUDGET",
    "ColumnPlan",
    "LiteralError",
    "Statement",
    "TableSQL",
    "encode_rows",
    "encode_values",
    "literal",
    "plan_columns",
    "quote_ident",
    "split_statements",
    "table_ref",
    "upsert_tail",
]
