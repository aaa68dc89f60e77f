"""Do two databases hold the same rows and the same schema?  The oracle's judge.

``compare_databases(conn_a, db_a, conn_b, db_b)`` compares every table and view of two
databases (usually the TiDB source and the MySQL target, on two servers) and returns a
:class:`CompareResult`: per table the row counts on both sides, whether it is equal, the
first differences in readable form ("only in source", "only in target", "column c differs:
'x' vs 'y'"), schema differences ("index idx_a only in source", "column c type int(11) vs
bigint(20)"), per view its differences, and the tables and views present on one side only.
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
maps, per side-A table name, a side-A column name to its side-B name, or to None for a
column the selection leaves out of side B (then neither it nor an index using it is
expected there, as the selection's DDL rewriting drops both). Unmapped names are the same
on both sides. Column *lists* are compared too (names and order): a missing, extra or
reordered column makes the table unequal, and the rows are then compared on the columns
both sides have.

The schema, and what is deliberately evened out (``schema=False`` skips all of it):

* **What is compared.** Read with :mod:`tidb2mysql.mysql.catalog` (five information_schema
  queries per side, whatever the number of tables). Per column: type, nullability,
  default, charset/collation, EXTRA (auto_increment, ON UPDATE, generated kind) and
  generation expression. Per index, matched by name: uniqueness, columns in order with
  prefix lengths, type (BTREE/FULLTEXT/...). Per table: collation and partition names.
  Per view: column names, definition, CHECK OPTION, SQL SECURITY. A lost ADD INDEX,
  MODIFY COLUMN or CREATE VIEW therefore makes the databases unequal even when every row
  agrees.
* **Same server version on both sides** (the test stack: two MariaDB 10.11): raw values,
  one renderer, nothing to normalize, except MariaDB's ``NULL`` (a string) as the default
  of a nullable column without one, which is SQL NULL for a NOT NULL column: both mean "no
  default value" and nullability is compared on its own.
* **Different flavours or versions** (TiDB source, MySQL or MariaDB target): only what the
  renderers disagree on for the same definition. Integer display widths (MySQL 8.0.19+
  omits them); MariaDB's JSON, which is LONGTEXT utf8mb4_bin; ``utf8`` = ``utf8mb3``;
  defaults (MariaDB quotes literals and renders expressions as ``current_timestamp()``,
  MySQL/TiDB leave literals bare and mark expressions DEFAULT_GENERATED), the case and
  ``()`` of CURRENT_TIMESTAMP in EXTRA; whitespace, parentheses and backticks in
  generation expressions and view text. TiDB's AUTO_RANDOM in EXTRA (and the target's
  AUTO_INCREMENT that replaces it, [ddl] auto_random) is ignored: the DDL
  translation removes it on purpose (MySQL has no such attribute; rows carry the values).
* **Views.** MySQL and MariaDB store a view's query rewritten and fully qualified with the
  view's own database; that database name is removed from both texts and, for side A,
  ``table_map``/``column_map`` applied to the qualified names, because schema migration
  renames the database qualifiers (and the selection the tables) when it creates the view
  on the target. The DEFINER is not compared: the DDL translation removes it so the view
  belongs to the replicating account (``ddl/translate.py``). ALGORITHM is not compared
  (a hint about how the server runs the view, not what it returns). When a side is TiDB, the definition text
  is not compared at all: TiDB keeps the user's text, not a canonical rewrite, so the
  columns, check option and security are what can be compared.
* **Not compared**: the engine, ROW_FORMAT and other storage options, comments, the
  AUTO_INCREMENT counter, foreign keys, CHECK constraints (the translation drops them on
  purpose, see ``Options.keep_checks``), index visibility and DESC key parts (TiDB parses
  and ignores DESC).
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional, Sequence

import pymysql
import pymysql.cursors

from tidb2mysql.mysql.catalog import ColumnDescription, IndexDescription, TableDescription, describe_database
from tidb2mysql.mysql.sql import quote_ident

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
    schema_notes: list[str] = field(default_factory=list)  # column list, key, column/index/table definitions
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
class ViewComparison:
    """The comparison of one view (``view_a`` on side A with ``view_b`` on side B): its
    definition, check option, SQL SECURITY and column names (``notes``; empty = equal)."""

    view_a: str
    view_b: str
    notes: list[str] = field(default_factory=list)
    label_a: str = "source"
    label_b: str = "target"

    @property
    def equal(self) -> bool:
        return not self.notes

    @property
    def name(self) -> str:
        return self.view_a if self.view_a == self.view_b else f"{self.view_a} -> {self.view_b}"

    def __str__(self) -> str:
        lines = [f"view {self.name}: {'equal' if self.equal else 'DIFFERENT'}"]
        lines += [f"  {note}" for note in self.notes]
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
    views: list[ViewComparison] = field(default_factory=list)  # views present on both sides
    views_only_in_a: list[str] = field(default_factory=list)  # side-A view names missing on B
    views_only_in_b: list[str] = field(default_factory=list)  # side-B view names missing on A

    @property
    def equal(self) -> bool:
        return (not self.only_in_a and not self.only_in_b and all(t.equal for t in self.tables)
                and not self.views_only_in_a and not self.views_only_in_b and all(v.equal for v in self.views))

    @property
    def different_tables(self) -> list[TableComparison]:
        return [t for t in self.tables if not t.equal]

    def __str__(self) -> str:
        state = "EQUAL" if self.equal else "DIFFERENT"
        rows = sum(t.rows_a for t in self.tables)
        views = f", {len(self.views)} view(s)" if self.views else ""
        lines = [f"{self.label_a} {self.db_a} vs {self.label_b} {self.db_b}: {state} "
                 f"({len(self.tables)} table(s){views} compared, {rows} rows in {self.label_a})"]
        for name in self.only_in_a:
            lines.append(f"  table {name}: only in {self.label_a}")
        for name in self.only_in_b:
            lines.append(f"  table {name}: only in {self.label_b}")
        for name in self.views_only_in_a:
            lines.append(f"  view {name}: only in {self.label_a}")
        for name in self.views_only_in_b:
            lines.append(f"  view {name}: only in {self.label_b}")
        for t in self.tables:
            if not t.equal:
                lines.append("  " + str(t).replace("\n", "\n  "))
        for v in self.views:
            if not v.equal:
                lines.append("  " + str(v).replace("\n", "\n  "))
        return "\n".join(lines)


# ----------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class _TableInfo:
    columns: tuple[str, ...]
    types: dict[str, str]  # column -> data type (lower case, e.g. "int", "varchar")
    primary_key: tuple[str, ...]


def _data_type(column_type: str) -> str:
    """information_schema DATA_TYPE from COLUMN_TYPE: its first word ("bigint(20) unsigned" -> "bigint")."""
    return re.split(r"[\s(]", column_type.strip().lower(), maxsplit=1)[0]


def _table_info(desc: TableDescription) -> _TableInfo:
    primary = desc.index("PRIMARY")
    return _TableInfo(
        columns=tuple(c.name for c in desc.columns),
        types={c.name: _data_type(c.column_type) for c in desc.columns},
        primary_key=tuple(c for c, _ in primary.columns) if primary is not None else (),
    )


def _database_exists(conn, db: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (db,))
        return cur.fetchone() is not None


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
    select = [f"({quote_ident(c)} + 0E0)" if c in widen else quote_ident(c) for c in columns]
    order_by = []
    for col, how in order:
        if how == "native":
            order_by.append(quote_ident(col))
        else:
            expr = f"CONVERT({quote_ident(col)} USING utf8mb4)" if how == "text" else quote_ident(col)
            expr = f"CAST({expr} AS BINARY)"
            select.append(expr)
            order_by.append(expr)
    sql = f"SELECT {', '.join(select)} FROM {quote_ident(db)}.{quote_ident(table)}"
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


# ----------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class _Side:
    """How one side renders information_schema: ``flavour`` ("mariadb", "mysql", "tidb") and
    its VERSION() (same version = same renderer, so no normalization is needed)."""

    db: str
    label: str
    flavour: str
    version: str


def _side(conn, db: str, label: str) -> _Side:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])
    low = version.lower()
    flavour = "mariadb" if "mariadb" in low else "tidb" if "tidb" in low else "mysql"
    return _Side(db, label, flavour, version)


_INT_WIDTH = re.compile(r"\b(tinyint|smallint|mediumint|int|bigint)\(\d+\)")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_EMPTY_CALL = re.compile(r"\b(current_timestamp|localtime|localtimestamp|now)\(\)")
_CURRENT_TS = re.compile(r"(current_timestamp|localtime|localtimestamp|now)(\(\d*\))?", re.I)
# SQL text split into `identifiers`, 'strings' (with '' and \ escapes), "strings", and the rest.
_INTRODUCER = re.compile(r"_(utf8mb4|utf8mb3|utf8|latin1|binary|ascii)$")
_SQL_TOKEN = re.compile(r"`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|[^`'\"]+|.", re.S)


def _loose(expr: Optional[str]) -> str:
    """An SQL expression/query text with what renderers disagree on removed: whitespace,
    parentheses, backticks, ``_charset`` introducers before strings, the case of keywords and
    function names. Quoted strings are kept as they are."""
    toks = _SQL_TOKEN.findall(expr or "")
    out = []
    for k, tok in enumerate(toks):
        if tok[0] == "`":
            out.append(tok[1:-1].replace("``", "`"))
        elif tok[0] in "'\"":
            out.append(tok)
        else:
            text = tok.lower()
            if k + 1 < len(toks) and toks[k + 1][:1] == "'":
                text = _INTRODUCER.sub("", text)
            out.append(re.sub(r"[\s()]+", "", text))
    return "".join(out)


def _norm_charset(name: Optional[str]) -> Optional[str]:
    """utf8 is utf8mb3 (MySQL < 8.0.30 and TiDB say utf8, MariaDB 10.6+ and MySQL 8.0.30+ utf8mb3)."""
    if name is None:
        return None
    low = name.lower()
    return "utf8mb3" + low[4:] if low == "utf8" or low.startswith("utf8_") else low


def _is_mariadb_json(col: ColumnDescription, side: _Side) -> bool:
    return side.flavour == "mariadb" and col.column_type.lower() == "longtext" and col.collation == "utf8mb4_bin"


def _column_signature(col: ColumnDescription, side: _Side, other: _Side, other_col: ColumnDescription) -> dict:
    """The attributes of a column that must agree, in a form comparable across the two sides.

    Same server version on both sides: the raw values (one renderer, nothing to normalize).
    Different flavours or versions, only what renderers legitimately disagree on is evened out:
    integer display widths (MySQL 8.0.19+ omits them), MariaDB's JSON being LONGTEXT
    utf8mb4_bin, utf8 vs utf8mb3, the rendering of defaults (MariaDB quotes literals and says
    'NULL' for a NULL default; MySQL does neither and marks expressions DEFAULT_GENERATED),
    the case and ``()`` of CURRENT_TIMESTAMP in defaults and ON UPDATE, and the spacing and
    parentheses of generation expressions.
    """
    if side.version == other.version:
        # MariaDB says NULL (a string) for a nullable column's NULL default, and SQL NULL for no
        # default on a NOT NULL column: both mean "no value", and nullability is compared anyway.
        default = None if side.flavour == "mariadb" and col.default == "NULL" else col.default
        return {"type": col.column_type, "nullable": col.nullable, "default": default,
                "collation": (col.charset, col.collation), "extra": col.extra,
                "generated": col.generation_expression or None}
    ctype = _INT_WIDTH.sub(r"\1", col.column_type.lower())
    collation = (_norm_charset(col.charset), _norm_charset(col.collation))
    if _is_mariadb_json(col, side) and other_col.column_type.lower() == "json":
        ctype, collation = "json", (None, None)  # MariaDB's JSON is an alias of LONGTEXT utf8mb4_bin
    elif ctype == "json" and _is_mariadb_json(other_col, other):
        collation = (None, None)
    # DEFAULT_GENERATED is MySQL's marker of an expression default (compared in "default");
    # AUTO_RANDOM (TiDB) becomes AUTO_INCREMENT, or is removed, by the DDL translation on purpose
    # ([ddl] auto_random, ddl/translate.py): neither side's marker counts for such a column.
    random_key = other.flavour == "tidb" and "auto_random" in other_col.extra.lower()
    extra = " ".join(w for w in _EMPTY_CALL.sub(r"\1", col.extra.lower()).split()
                     if w != "default_generated" and not (side.flavour == "tidb" and w.startswith("auto_random"))
                     and not (random_key and w == "auto_increment"))
    return {"type": ctype, "nullable": col.nullable, "default": _default(col, side.flavour),
            "collation": collation, "extra": extra, "generated": _loose(col.generation_expression) or None}


def _default(col: ColumnDescription, flavour: str) -> tuple[str, Optional[str]]:
    """COLUMN_DEFAULT as ("none" | "literal" | "expression", text), whatever the flavour."""
    raw = col.default
    if raw is None:
        return ("none", None)
    if flavour == "mariadb":
        if raw == "NULL":  # MariaDB's rendering of a NULL default; a 'NULL' string is quoted
            return ("none", None)
        if len(raw) >= 2 and raw[0] == raw[-1] == "'":
            return ("literal", _numeric_literal(col, raw[1:-1].replace("''", "'")))
        if _NUMBER.fullmatch(raw):
            return ("literal", _numeric_literal(col, raw))
        return ("expression", _loose(raw))
    if "default_generated" in col.extra.lower() or _CURRENT_TS.fullmatch(raw):
        return ("expression", _loose(raw))
    return ("literal", _numeric_literal(col, raw))


_NUMERIC_TYPE = re.compile(r"(tiny|small|medium|big)?int|integer|decimal|numeric|float|double|real", re.I)


def _numeric_literal(col: ColumnDescription, text: str) -> str:
    """A numeric column's literal default by value: TiDB keeps it as typed (``1.5`` for a
    DECIMAL(10,3)), MySQL and MariaDB render it at the column's scale (``1.500``)."""
    if not (_NUMERIC_TYPE.match(col.column_type) and _NUMBER.fullmatch(text)):
        return text
    return str(decimal.Decimal(text).normalize())


def _index_text(ix: IndexDescription, names: Mapping[str, Optional[str]]) -> str:
    """``UNIQUE (a, b(10))`` under side-B column names, plus the type when it is not BTREE."""
    cols = ", ".join(f"{names.get(c, c)}" + (f"({sub})" if sub is not None else "") for c, sub in ix.columns)
    kind = "" if ix.index_type.upper() in ("BTREE", "") else f" {ix.index_type.upper()}"
    return ("UNIQUE " if ix.unique else "") + f"({cols})" + kind


def _show_attr(col: ColumnDescription, attr: str) -> str:
    if attr == "type":
        return col.column_type
    if attr == "nullable":
        return "NULL" if col.nullable else "NOT NULL"
    if attr == "default":
        return "none" if col.default is None else col.default
    if attr == "collation":
        return col.collation or col.charset or "none"
    if attr == "extra":
        return repr(col.extra)
    return f"({col.generation_expression})" if col.generation_expression else "not generated"


_ATTR_WORD = {"type": "type", "nullable": "nullability", "default": "default", "collation": "collation",
              "extra": "extra", "generated": "generated as"}


def _table_schema_notes(da: TableDescription, db: TableDescription, a: _Side, b: _Side,
                        to_b: Mapping[str, Optional[str]], primary_noted: bool) -> list[str]:
    """Differences of column definitions, indexes, collation and partitions of one table.

    ``to_b`` maps side-A column names to side-B names (None: not expected on side B, so its
    indexes are not expected either). Missing/extra/reordered columns and a different primary
    key column list are reported by the caller; ``primary_noted`` avoids saying it twice.
    """
    notes: list[str] = []
    if da.collation != db.collation and (a.version == b.version
                                         or _norm_charset(da.collation) != _norm_charset(db.collation)):
        notes.append(f"table collation {da.collation} vs {db.collation}")
    for ca in da.columns:
        name_b = to_b.get(ca.name, ca.name)
        cb = db.column(name_b) if name_b is not None else None
        if cb is None or cb.name != name_b:
            continue  # not on side B: the column list note says so
        sa, sb = _column_signature(ca, a, b, cb), _column_signature(cb, b, a, ca)
        for attr in ("type", "nullable", "default", "collation", "extra", "generated"):
            if sa[attr] != sb[attr]:
                notes.append(f"column {name_b} {_ATTR_WORD[attr]} {_show_attr(ca, attr)} vs {_show_attr(cb, attr)}")
    index_b = {i.name.lower(): i for i in db.indexes}
    expected = set()
    for ia in da.indexes:
        if any(to_b.get(c, c) is None for c, _ in ia.columns):
            continue  # on a column not selected for side B: not created there (selection rule)
        key = ia.name.lower()
        expected.add(key)
        if primary_noted and key == "primary":
            continue  # the caller already reported the primary key
        ib = index_b.get(key)
        if ib is None:
            notes.append(f"index {ia.name} only in {a.label}")
            continue
        text_a, text_b = _index_text(ia, to_b), _index_text(ib, {})
        if text_a != text_b:
            notes.append(f"index {ib.name} differs: {a.label} {text_a} vs {b.label} {text_b}")
    for ib in db.indexes:
        key = ib.name.lower()
        if key not in expected and not (primary_noted and key == "primary"):
            notes.append(f"index {ib.name} only in {b.label}")
    if da.partitions != db.partitions:
        notes.append(f"partitions ({', '.join(da.partitions) or 'none'}) vs ({', '.join(db.partitions) or 'none'})")
    return notes


def _view_text(definition: Optional[str], side: _Side, table_map: Mapping[str, str],
               column_map: Mapping[str, Mapping[str, Optional[str]]]) -> str:
    """A view definition with the view's own schema qualifier removed and, for side A, table
    and column names mapped to side B's (``db``.``t``.``c`` -> ``t2``.``c2``), so the same view
    on two databases of different names compares equal. MySQL and MariaDB store the query
    fully qualified (``db``.``t``.``c`` for columns, ``db``.``t`` for tables), which is what
    makes this mapping reliable; names in other schemas are left as they are."""
    toks = _SQL_TOKEN.findall(definition or "")
    out: list[str] = []
    i = 0
    while i < len(toks):
        if not toks[i].startswith("`"):
            # whitespace runs count as one space, except inside string literals
            out.append(toks[i] if toks[i][0] in "'\"" else re.sub(r"\s+", " ", toks[i]))
            i += 1
            continue
        chain = [toks[i][1:-1].replace("``", "`")]
        j = i + 1
        while j + 1 < len(toks) and toks[j] == "." and toks[j + 1].startswith("`"):
            chain.append(toks[j + 1][1:-1].replace("``", "`"))
            j += 2
        if len(chain) >= 2 and chain[0] == side.db:
            chain = chain[1:]  # `db`.`t` or `db`.`t`.`c` of the view's own schema
            if len(chain) == 1:
                chain[0] = table_map.get(chain[0], chain[0])
        if len(chain) == 2:  # `t`.`c`
            chain[1] = column_map.get(chain[0], {}).get(chain[1], chain[1]) or chain[1]
            chain[0] = table_map.get(chain[0], chain[0])
        out.append(".".join("`" + c.replace("`", "``") + "`" for c in chain))
        i = j
    return "".join(out).strip()


def _compare_view(va: TableDescription, vb: TableDescription, a: _Side, b: _Side,
                  table_map: Mapping[str, str], column_map: Mapping[str, Mapping[str, Optional[str]]]
                  ) -> ViewComparison:
    """Definition (normalized as in ``_view_text``; across server versions also ``_loose``;
    not compared when a side is TiDB, which keeps the user's text where MySQL/MariaDB store a
    canonical rewrite), CHECK OPTION, SQL SECURITY and column names of one view. The DEFINER
    is not compared: the DDL translation replaces it with the replicating account."""
    res = ViewComparison(va.name, vb.name, label_a=a.label, label_b=b.label)
    cols_a, cols_b = [c.name for c in va.columns], [c.name for c in vb.columns]
    if cols_a != cols_b:
        res.notes.append(f"columns ({', '.join(cols_a)}) vs ({', '.join(cols_b)})")
    if "tidb" not in (a.flavour, b.flavour):
        ta = _view_text(va.view_definition, a, table_map, column_map)
        tb = _view_text(vb.view_definition, b, {}, {})
        if (ta != tb) if a.version == b.version else (_loose(ta) != _loose(tb)):
            res.notes.append(f"definition differs: {_diff_window(ta, tb)}")
    if (va.view_check_option or "NONE").upper() != (vb.view_check_option or "NONE").upper():
        res.notes.append(f"check option {va.view_check_option} vs {vb.view_check_option}")
    if (va.view_security or "").upper() != (vb.view_security or "").upper():
        res.notes.append(f"SQL SECURITY {va.view_security} vs {vb.view_security}")
    return res


def _diff_window(a: str, b: str, width: int = 60) -> str:
    """Both texts around their first difference, e.g. ``...where `t`.`v` > 0 vs ...where `t`.`v` > 1``."""
    k = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, k - width // 2)

    def cut(s: str) -> str:
        part = s[start:start + width]
        return ("..." if start else "") + part + ("..." if start + width < len(s) else "")
    return f"{cut(a)!r} vs {cut(b)!r}"


# ----------------------------------------------------------------------------- comparing


def compare_table(
    conn_a, db_a: str, table_a: str,
    conn_b, db_b: str, table_b: Optional[str] = None,
    *,
    max_diffs: int = 10,
    column_map: Optional[Mapping[str, Optional[str]]] = None,
    label_a: str = "source",
    label_b: str = "target",
    schema: bool = True,
) -> TableComparison:
    """Compare one table on side A with one on side B (same name unless ``table_b``).

    ``column_map`` maps side-A column names to side-B names for this table (None: the
    column is not expected on side B). ``schema=False`` compares the rows and the column
    lists only, not the column/index/table definitions. The two connections must be
    different connections (each side streams at the same time). Raises ``LookupError``
    naming the table when it does not exist on a side.
    """
    if conn_a is conn_b:
        raise ValueError("compare needs two separate connections: both sides stream at the same time")
    table_b = table_b or table_a
    with _Session(conn_a), _Session(conn_b):
        side_a, side_b = _side(conn_a, db_a, label_a), _side(conn_b, db_b, label_b)
        descs = []
        for conn, db, table, label in ((conn_a, db_a, table_a, label_a), (conn_b, db_b, table_b, label_b)):
            desc = describe_database(conn, db, [table]).get(table)
            if desc is None or desc.kind != "table":
                raise LookupError(f"table {db}.{table} does not exist in {label}")
            descs.append(desc)
        return _compare_table(conn_a, side_a, descs[0], conn_b, side_b, descs[1],
                              max_diffs, column_map or {}, schema)


def _compare_table(conn_a, side_a: _Side, desc_a: TableDescription, conn_b, side_b: _Side,
                   desc_b: TableDescription, max_diffs: int, column_map: Mapping[str, Optional[str]],
                   schema: bool) -> TableComparison:
    db_a, table_a, label_a = side_a.db, desc_a.name, side_a.label
    db_b, table_b, label_b = side_b.db, desc_b.name, side_b.label
    info_a, info_b = _table_info(desc_a), _table_info(desc_b)
    to_b = {c: column_map.get(c, c) for c in info_a.columns}
    cols_a = tuple(to_b[c] for c in info_a.columns if to_b[c] is not None)  # side-A columns under side-B names
    from_b = {v: k for k, v in to_b.items() if v is not None}
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
    pk_a = tuple(to_b[c] or f"{c} (not expected in {label_b})" for c in info_a.primary_key)
    pk_b = info_b.primary_key
    common = [c for c in cols_a if c in info_b.columns]  # side-B names, side-A order
    if not common:
        res.schema_notes.append("no columns in common: rows not compared")
    elif pk_a != pk_b:
        res.schema_notes.append(
            f"primary key differs: {label_a} ({', '.join(pk_a) or 'none'}) vs "
            f"{label_b} ({', '.join(pk_b) or 'none'})")
    if schema:
        res.schema_notes.extend(_table_schema_notes(desc_a, desc_b, side_a, side_b, to_b, pk_a != pk_b))
    if not common:
        return res

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
    column_map: Optional[Mapping[str, Mapping[str, Optional[str]]]] = None,
    label_a: str = "source",
    label_b: str = "target",
    schema: bool = True,
) -> CompareResult:
    """Compare the tables and views of ``db_a`` (on ``conn_a``) and ``db_b`` (on ``conn_b``).

    ``tables``: side-A table or view names to compare (default: every table and view of
    both sides). ``table_map``: side-A table/view name -> side-B name; ``column_map``:
    side-A table name -> {side-A column: side-B column, or None when the column is not
    expected on side B (a column subset: the column and the indexes using it are then not
    looked for)}. ``max_diffs`` limits the row differences *kept* per table (all are
    counted). ``schema=False`` compares rows and column lists only: no column, index,
    table or view definitions, and views are ignored. A database missing on either side
    raises ``LookupError`` (comparing nothing with nothing is not "equal");
    ``tidb2mysql.mysql.catalog.CatalogIncomplete`` (transient) means information_schema could not
    open a table in time (another session's metadata lock): compare again later.
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
        side_a, side_b = _side(conn_a, db_a, label_a), _side(conn_b, db_b, label_b)
        names = None if tables is None else list(dict.fromkeys(tables))
        desc_a = describe_database(conn_a, db_a, names)
        desc_b = describe_database(conn_b, db_b, None if names is None else [table_map.get(n, n) for n in names])
        if not schema:  # views are structure only: not looked at
            desc_a = {n: d for n, d in desc_a.items() if d.kind == "table"}
            desc_b = {n: d for n, d in desc_b.items() if d.kind == "table"}
        names_a = names if names is not None else sorted(desc_a)

        def only(side: str, d: TableDescription) -> None:
            if side == "a":
                (result.only_in_a if d.kind == "table" else result.views_only_in_a).append(d.name)
            else:
                (result.only_in_b if d.kind == "table" else result.views_only_in_b).append(d.name)

        mapped_b = set()
        for name in names_a:
            name_b = table_map.get(name, name)
            mapped_b.add(name_b)
            da, dbb = desc_a.get(name), desc_b.get(name_b)
            if da is None and dbb is None:
                raise LookupError(f"table {name} exists in neither {label_a} {db_a} nor {label_b} {db_b}")
            if da is None or dbb is None or da.kind != dbb.kind:  # missing, or a table on one side, a view on the other
                for side, d in (("a", da), ("b", dbb)):
                    if d is not None:
                        only(side, d)
            elif da.kind == "table":
                result.tables.append(_compare_table(conn_a, side_a, da, conn_b, side_b, dbb, max_diffs,
                                                    column_map.get(name, {}), schema))
            else:
                result.views.append(_compare_view(da, dbb, side_a, side_b, table_map, column_map))
        if names is None:
            for name_b in sorted(set(desc_b) - mapped_b):
                only("b", desc_b[name_b])
    return result


__all__ = [
    "CompareResult",
    "Difference",
    "TableComparison",
    "ViewComparison",
    "compare_databases",
    "compare_table",
    "values_equal",
]
