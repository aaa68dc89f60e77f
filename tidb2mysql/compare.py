"""Do two databases hold the same rows?  The oracle's judge.

``compare_databases(conn_a, db_a, conn_b, db_b)`` compares every base table of two databases
(usually the TiDB source and the MySQL target, on two servers) and returns a
:class:`CompareResult`: per table the row counts on both sides, whether it is equal, the
first differences in readable form ("only in source", "only in target", "column c differs:
'x' vs 'y'"), column-list differences, and the tables present on one side only.
``str(result)`` is a short human report.

How it decides, and why:

* **Exact, streaming merge-join.** Each table is read once from each side with an
  unbuffered cursor (PyMySQL ``SSCursor``), ordered by primary key, and the two ordered
  streams are merged. Memory is bounded (a few rows plus ``max_diffs`` differences) however
  large the table; the row counts are exact because every row is read. There is no
  checksum shortcut: a checksum can only say "maybe equal", and collations/types make
  server-side checksums disagree across MySQL flavours.
* **One order on both sides.** A merge-join is only correct if both servers and Python
  agree on the order. Numeric columns (integers, DECIMAL, FLOAT/DOUBLE, BIT, YEAR) are
  ordered natively, which Python's ``<`` reproduces (and which uses the primary-key index).
  Every other column (strings, dates, ENUM, JSON, ...) is ordered by ``CAST(col AS BINARY)``
  (character columns first converted to utf8mb4, so a latin1 side and a utf8mb4 side agree)
  and that byte string is fetched too and compared in Python: a case-insensitive or
  PAD SPACE collation on one server must not reorder rows ('a' vs 'A', 'x' vs 'x '), and
  zero dates (returned as ``str``) must not be compared with ``datetime`` objects. The
  session's ``max_sort_length`` is raised so long values are sorted by all their bytes.
* **Exact values.** Values are compared as the driver returns them (FLOAT read widened to
  DOUBLE, since the text protocol rounds it to 6 digits): floats with ``==``
  (0.1 and 0.1000001 differ), ``Decimal`` by its exact text ('1.0' and '1.00' differ),
  strings code point by code point whatever the collation says (so case and trailing-space
  differences are differences), ``None`` only equals ``None`` (NULL is not '').
  Generated columns are compared like the others: they must be computed the same way.
* **Tables without a primary key** (or whose primary keys differ between the sides) are
  compared as **multisets** of rows: both sides are ordered by all compared columns, so
  duplicates are adjacent and the merge pairs them one to one; a row present twice on one
  side and once on the other is reported once as "only in ...".
* **Same rendering on both sides.** The comparing sessions use ``time_zone = '+00:00'``
  (TIMESTAMP values are rendered in the session zone) and a long ``net_write_timeout``
  (one side may wait while the other streams a long run of rows); the previous values
  are restored afterwards.

The caller must make sure neither side changes during the comparison (or accept that
it compares a moving target).

Column and table names may differ between the sides (the object-mapping stage renames
things): ``table_map`` maps a table name of side A to its name on side B, ``column_map``
maps, per side-A table name, a side-A column name to its side-B name. Unmapped names are
the same on both sides. Column *lists* are compared too (names and order): a missing,
extra or reordered column makes the table unequal, and the rows are then compared on the
columns both sides have.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional, Sequence

import pymysql
import pymysql.cursors

# information_schema DATA_TYPE values whose native ORDER BY matches Python's ``<`` on the
# values PyMySQL returns (int, Decimal, float, fixed-width big-endian bytes for BIT).
_NATIVE_ORDER_TYPES = frozenset({
    "tinyint", "smallint", "mediumint", "int", "integer", "bigint",
    "decimal", "numeric", "float", "double", "real", "bit", "year",
})

# Character types: ordered by their utf8mb4 bytes (= code point order), so the order does not
# depend on the column's charset on either side. Other non-native types (binary strings,
# dates, times) are ordered by their own bytes.
_TEXT_TYPES = frozenset({
    "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json",
})

# Largest max_sort_length MySQL and MariaDB accept (8 MiB).
_MAX_SORT_LENGTH = 8388608
_FETCH = 2000
_SHOW = 80  # characters of a value shown in a report


def _q(name: str) -> str:
    """Quote an identifier with backticks."""
    return "`" + name.replace("`", "``") + "`"


def _show(value: Any) -> str:
    """A value for the report: repr, cut to a readable length."""
    text = repr(value)
    if len(text) > _SHOW:
        text = text[: _SHOW - 3] + "..."
    return text


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Difference:
    """One row-level difference.

    ``kind`` is ``"only_a"``, ``"only_b"`` (the row exists on one side only) or
    ``"column"`` (same key, ``column`` holds ``value_a`` vs ``value_b``). ``key`` is the
    primary-key values as ``{column: value}``; for a table compared as a multiset it is
    the whole row.
    """

    table: str
    key: Mapping[str, Any]
    kind: str
    column: Optional[str] = None
    value_a: Any = None
    value_b: Any = None
    label_a: str = "source"
    label_b: str = "target"

    def key_text(self) -> str:
        return "(" + ", ".join(f"{k}={_show(v)}" for k, v in self.key.items()) + ")"

    def __str__(self) -> str:
        where = f"{self.table} {self.key_text()}"
        if self.kind == "only_a":
            return f"{where}: only in {self.label_a}"
        if self.kind == "only_b":
            return f"{where}: only in {self.label_b}"
        return f"{where}: column {self.column} differs: {_show(self.value_a)} vs {_show(self.value_b)}"


@dataclass
class TableComparison:
    """The comparison of one table (``table_a`` on side A with ``table_b`` on side B)."""

    table_a: str
    table_b: str
    columns_a: tuple[str, ...] = ()  # side-A names mapped to side-B names, in order
    columns_b: tuple[str, ...] = ()
    key: tuple[str, ...] = ()  # side-B names of the merge key; () = compared as a multiset
    rows_a: int = 0
    rows_b: int = 0
    diff_count: int = 0  # all row differences found (``differences`` keeps the first few)
    differences: list[Difference] = field(default_factory=list)
    schema_notes: list[str] = field(default_factory=list)  # column list / key differences
    label_a: str = "source"
    label_b: str = "target"

    @property
    def equal(self) -> bool:
        return self.diff_count == 0 and not self.schema_notes

    @property
    def name(self) -> str:
        return self.table_a if self.table_a == self.table_b else f"{self.table_a} -> {self.table_b}"

    def __str__(self) -> str:
        state = "equal" if self.equal else "DIFFERENT"
        how = "" if self.key else " (no common primary key: compared as multisets)"
        lines = [f"{self.name}: {state}, {self.rows_a} rows in {self.label_a}, "
                 f"{self.rows_b} rows in {self.label_b}{how}"]
        lines += [f"  {note}" for note in self.schema_notes]
        lines += [f"  {d}" for d in self.differences]
        hidden = self.diff_count - len(self.differences)
        if hidden > 0:
            lines.append(f"  ... and {hidden} more difference(s)")
        return "\n".join(lines)


@dataclass
class CompareResult:
    """The comparison of two databases (or of selected tables in them)."""

    db_a: str
    db_b: str
    tables: list[TableComparison] = field(default_factory=list)
    only_in_a: list[str] = field(default_factory=list)  # side-A table names missing on B
    only_in_b: list[str] = field(default_factory=list)  # side-B table names missing on A
    label_a: str = "source"
    label_b: str = "target"

    @property
    def equal(self) -> bool:
        return not self.only_in_a and not self.only_in_b and all(t.equal for t in self.tables)

    @property
    def different_tables(self) -> list[TableComparison]:
        return [t for t in self.tables if not t.equal]

    def __str__(self) -> str:
        state = "EQUAL" if self.equal else "DIFFERENT"
        rows = sum(t.rows_a for t in self.tables)
        lines = [f"{self.label_a} {self.db_a} vs {self.label_b} {self.db_b}: {state} "
                 f"({len(self.tables)} table(s) compared, {rows} rows in {self.label_a})"]
        for name in self.only_in_a:
            lines.append(f"  table {name}: only in {self.label_a}")
        for name in self.only_in_b:
            lines.append(f"  table {name}: only in {self.label_b}")
        for t in self.tables:
            if not t.equal:
                lines.append("  " + str(t).replace("\n", "\n  "))
        return "\n".join(lines)


# ----------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class _TableInfo:
    columns: tuple[str, ...]
    types: dict[str, str]  # column -> DATA_TYPE (lower case)
    primary_key: tuple[str, ...]


def _database_exists(conn, db: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (db,))
        return cur.fetchone() is not None


def _base_tables(conn, db: str) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
            (db,),
        )
        return [r[0] for r in cur.fetchall()]


def _table_info(conn, db: str, table: str) -> Optional[_TableInfo]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION",
            (db, table),
        )
        cols = cur.fetchall()
        if not cols:
            return None
        cur.execute(
            "SELECT COLUMN_NAME FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND INDEX_NAME = 'PRIMARY' "
            "ORDER BY SEQ_IN_INDEX",
            (db, table),
        )
        pk = tuple(r[0] for r in cur.fetchall())
    return _TableInfo(
        columns=tuple(c for c, _ in cols),
        types={c: str(t).lower() for c, t in cols},
        primary_key=pk,
    )


class _Session:
    """Comparison session settings on one connection, restored on exit."""

    _VARS = ("time_zone", "net_write_timeout", "max_sort_length")

    def __init__(self, conn):
        self.conn = conn
        self.saved: Optional[tuple] = None

    def __enter__(self):
        with self.conn.cursor() as cur:
            cur.execute("SELECT " + ", ".join(f"@@SESSION.{v}" for v in self._VARS))
            self.saved = cur.fetchone()
            cur.execute(
                "SET SESSION time_zone = '+00:00', net_write_timeout = 3600, "
                f"max_sort_length = {_MAX_SORT_LENGTH}"
            )
        return self

    def __exit__(self, *exc):
        if self.saved is None or not self.conn.open:
            return
        with self.conn.cursor() as cur:
            cur.execute(
                "SET SESSION time_zone = %s, net_write_timeout = %s, max_sort_length = %s",
                self.saved,
            )


# ----------------------------------------------------------------------------- streaming


def _stream(conn, db: str, table: str, columns: Sequence[str], order: Sequence[tuple[str, bool]],
            widen: frozenset = frozenset()) -> Iterator[tuple]:
    """Rows of ``columns`` ordered by ``order`` [(column, "native" | "text" | "bytes")], unbuffered.

    Columns in ``widen`` (FLOAT) are read as ``col + 0E0``: the text protocol prints a FLOAT
    with about 6 significant digits (0.1 and 0.1000001 both print as 0.1), while the sum is
    a DOUBLE holding the exact float32 value, printed in full.

    Each yielded tuple is the column values followed by ``CAST(col AS BINARY)`` of every
    non-native order column (the bytes the merge compares; utf8mb4 bytes for "text").
    """
    select = [f"({_q(c)} + 0E0)" if c in widen else _q(c) for c in columns]
    order_by = []
    for col, how in order:
        if how == "native":
            order_by.append(_q(col))
        else:
            expr = f"CONVERT({_q(col)} USING utf8mb4)" if how == "text" else _q(col)
            expr = f"CAST({expr} AS BINARY)"
            select.append(expr)
            order_by.append(expr)
    sql = f"SELECT {', '.join(select)} FROM {_q(db)}.{_q(table)}"
    if order_by:
        sql += " ORDER BY " + ", ".join(order_by)
    cur = conn.cursor(pymysql.cursors.SSCursor)
    try:
        cur.execute(sql)
        while True:
            rows = cur.fetchmany(_FETCH)
            if not rows:
                break
            yield from rows
    finally:
        cur.close()  # reads any unread rest, so the connection stays usable


def values_equal(a: Any, b: Any) -> bool:
    """Exact equality of two driver values: same type and same value.

    ``Decimal`` compares by exact text ('1.0' != '1.00'), floats with ``==``, ``None``
    only equals ``None``, ``str`` code point by code point (no collation).
    """
    if a is None or b is None:
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, decimal.Decimal):
        return a.as_tuple() == b.as_tuple()
    return a == b


def _key_getter(positions: Sequence[int], nullable: bool):
    """Build ``row -> comparable key``. Nullable keys wrap values so NULL sorts first."""
    if nullable:
        return lambda row: tuple((row[i] is not None, row[i]) for i in positions)
    if len(positions) == 1:
        p = positions[0]
        return lambda row: (row[p],)
    return lambda row: tuple(row[i] for i in positions)


# ----------------------------------------------------------------------------- comparing


def compare_table(
    conn_a, db_a: str, table_a: str,
    conn_b, db_b: str, table_b: Optional[str] = None,
    *,
    max_diffs: int = 10,
    column_map: Optional[Mapping[str, str]] = None,
    label_a: str = "source",
    label_b: str = "target",
) -> TableComparison:
    """Compare one table on side A with one on side B (same name unless ``table_b``).

    ``column_map`` maps side-A column names to side-B names for this table. The two
    connections must be different connections (each side streams at the same time).
    Raises ``LookupError`` naming the table when it does not exist on a side.
    """
    if conn_a is conn_b:
        raise ValueError("compare needs two separate connections: both sides stream at the same time")
    table_b = table_b or table_a
    with _Session(conn_a), _Session(conn_b):
        return _compare_table(conn_a, db_a, table_a, conn_b, db_b, table_b,
                              max_diffs, column_map or {}, label_a, label_b)


def _compare_table(conn_a, db_a, table_a, conn_b, db_b, table_b, max_diffs, column_map,
                   label_a, label_b) -> TableComparison:
    info_a = _table_info(conn_a, db_a, table_a)
    info_b = _table_info(conn_b, db_b, table_b)
    for info, db, table, label in ((info_a, db_a, table_a, label_a), (info_b, db_b, table_b, label_b)):
        if info is None:
            raise LookupError(f"table {db}.{table} does not exist in {label}")
    to_b = {c: column_map.get(c, c) for c in info_a.columns}
    cols_a = tuple(to_b[c] for c in info_a.columns)  # side-A columns under side-B names
    from_b = {v: k for k, v in to_b.items()}
    res = TableComparison(table_a, table_b, cols_a, info_b.columns, label_a=label_a, label_b=label_b)

    if cols_a != info_b.columns:
        missing_b = [c for c in cols_a if c not in info_b.columns]
        missing_a = [c for c in info_b.columns if c not in cols_a]
        if missing_b:
            res.schema_notes.append(f"column(s) only in {label_a}: {', '.join(missing_b)}")
        if missing_a:
            res.schema_notes.append(f"column(s) only in {label_b}: {', '.join(missing_a)}")
        if not missing_a and not missing_b:
            res.schema_notes.append(
                f"column order differs: {label_a} ({', '.join(cols_a)}) vs {label_b} ({', '.join(info_b.columns)})")
    common = [c for c in cols_a if c in info_b.columns]  # side-B names, side-A order
    if not common:
        res.schema_notes.append("no columns in common: rows not compared")
        return res

    pk_a = tuple(to_b[c] for c in info_a.primary_key)
    pk_b = info_b.primary_key
    if pk_a != pk_b:
        res.schema_notes.append(
            f"primary key differs: {label_a} ({', '.join(pk_a) or 'none'}) vs "
            f"{label_b} ({', '.join(pk_b) or 'none'})")
    use_key = bool(pk_a) and pk_a == pk_b and all(c in common for c in pk_a)
    order_cols = list(pk_a) if use_key else list(common)
    res.key = tuple(pk_a) if use_key else ()

    # Per order column: native order only if both sides' types order like Python values.
    def how(c: str) -> str:
        types = (info_a.types[from_b[c]], info_b.types[c])
        if all(t in _NATIVE_ORDER_TYPES for t in types):
            return "native"
        return "text" if any(t in _TEXT_TYPES for t in types) else "bytes"

    order = [(c, how(c)) for c in order_cols]
    positions, extra = [], len(common)
    for c, kind in order:
        if kind == "native":
            positions.append(common.index(c))
        else:
            positions.append(extra)
            extra += 1
    key_of = _key_getter(positions, nullable=not use_key)
    key_pos = [common.index(c) for c in order_cols]
    n = len(common)

    def record(kind, row, column=None, va=None, vb=None):
        res.diff_count += 1
        if len(res.differences) < max_diffs:
            if use_key:
                key = {c: row[i] for c, i in zip(order_cols, key_pos)}
            else:
                key = dict(zip(common, row[:n]))
            res.differences.append(Difference(table_a if table_a == table_b else f"{table_a}/{table_b}",
                                              key, kind, column, va, vb, label_a, label_b))

    # Fast row check: equal tuples of equally typed values, Decimals with the same exponent.
    dec_pos = [i for i, c in enumerate(common)
               if info_a.types[from_b[c]] in ("decimal", "numeric") or info_b.types[c] in ("decimal", "numeric")]

    def same_row(ra, rb) -> bool:
        va, vb = ra[:n], rb[:n]
        return (va == vb and list(map(type, va)) == list(map(type, vb))
                and all(values_equal(va[i], vb[i]) for i in dec_pos))

    floats = {c for c in common if info_a.types[from_b[c]] == "float" or info_b.types[c] == "float"}
    rows_a = _stream(conn_a, db_a, table_a, [from_b[c] for c in common],
                     [(from_b[c], kind) for c, kind in order], frozenset(from_b[c] for c in floats))
    rows_b = _stream(conn_b, db_b, table_b, common, order, frozenset(floats))
    count_a = count_b = 0
    try:
        a = next(rows_a, None)
        b = next(rows_b, None)
        ka = key_of(a) if a is not None else None
        kb = key_of(b) if b is not None else None
        while a is not None or b is not None:
            if b is None or (a is not None and ka < kb):
                record("only_a", a)
                count_a += 1
                a = next(rows_a, None)
                ka = key_of(a) if a is not None else None
            elif a is None or kb < ka:
                record("only_b", b)
                count_b += 1
                b = next(rows_b, None)
                kb = key_of(b) if b is not None else None
            else:
                if not same_row(a, b):
                    for i, c in enumerate(common):
                        if not values_equal(a[i], b[i]):
                            record("column", a, c, a[i], b[i])
                count_a += 1
                count_b += 1
                a = next(rows_a, None)
                b = next(rows_b, None)
                ka = key_of(a) if a is not None else None
                kb = key_of(b) if b is not None else None
    finally:
        rows_a.close()  # drains an unfinished unbuffered result before the session is reset
        rows_b.close()
    res.rows_a, res.rows_b = count_a, count_b
    return res


def compare_databases(
    conn_a, db_a: str, conn_b, db_b: str,
    tables: Optional[Sequence[str]] = None,
    max_diffs: int = 10,
    *,
    table_map: Optional[Mapping[str, str]] = None,
    column_map: Optional[Mapping[str, Mapping[str, str]]] = None,
    label_a: str = "source",
    label_b: str = "target",
) -> CompareResult:
    """Compare the base tables of ``db_a`` (on ``conn_a``) and ``db_b`` (on ``conn_b``).

    ``tables``: side-A table names to compare (default: every base table of both sides).
    ``table_map``: side-A table name -> side-B table name; ``column_map``: side-A table
    name -> {side-A column: side-B column}. ``max_diffs`` limits the differences *kept*
    per table (all are counted). Views are not compared. A database missing on either
    side raises ``LookupError`` (comparing nothing with nothing is not "equal").
    """
    if conn_a is conn_b:
        raise ValueError("compare needs two separate connections: both sides stream at the same time")
    table_map = dict(table_map or {})
    column_map = column_map or {}
    result = CompareResult(db_a, db_b, label_a=label_a, label_b=label_b)
    with _Session(conn_a), _Session(conn_b):
        for conn, db, label in ((conn_a, db_a, label_a), (conn_b, db_b, label_b)):
            if not _database_exists(conn, db):
                # Never "equal" by comparing nothing with nothing.
                raise LookupError(f"database {db} does not exist in {label}")
        present_a = _base_tables(conn_a, db_a)
        present_b = set(_base_tables(conn_b, db_b))
        names_a = list(tables) if tables is not None else present_a
        set_a = set(present_a)
        mapped_b = set()
        for name in names_a:
            name_b = table_map.get(name, name)
            mapped_b.add(name_b)
            if name not in set_a:
                if name_b in present_b:
                    result.only_in_b.append(name_b)
                else:
                    raise LookupError(f"table {name} exists in neither {label_a} {db_a} nor {label_b} {db_b}")
                continue
            if name_b not in present_b:
                result.only_in_a.append(name)
                continue
            result.tables.append(_compare_table(conn_a, db_a, name, conn_b, db_b, name_b, max_diffs,
                                                column_map.get(name, {}), label_a, label_b))
        if tables is None:
            result.only_in_b.extend(sorted(present_b - mapped_b))
    return result


__all__ = [
    "CompareResult",
    "Difference",
    "TableComparison",
    "compare_databases",
    "compare_table",
    "values_equal",
]
