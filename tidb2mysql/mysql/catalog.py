"""What does a database look like?  Its structure, read from information_schema.

``describe_database(conn, schema)`` returns, per table and view of ``schema``, a frozen
:class:`TableDescription`: columns (type, nullability, default, charset/collation, extra,
generation expression), indexes (name, uniqueness, columns with prefix lengths, type), the
table's collation, its partition names and, for a view, its definition. ``to_jsonable`` turns
any of these into plain, canonically ordered data, so two snapshots can be serialized (e.g.
with orjson) and compared for equality, or stored and compared later.

Why it is shaped this way:

* **One query per information_schema table per database** (TABLES, COLUMNS, STATISTICS,
  VIEWS, PARTITIONS), never one per table: with hundreds of tables a per-table loop costs
  hundreds of round trips, and information_schema queries are slow on MySQL 5.7.
* **Raw values, no interpretation.** What the server says is kept as it says it (e.g.
  ``COLUMN_DEFAULT``: MariaDB renders ``'abc'`` quoted and an explicit NULL default as the
  string ``NULL``, MySQL renders ``abc`` bare and NULL as SQL NULL). A snapshot of one server
  compared with a later snapshot of the same server needs no normalization, and any
  cross-flavour normalization belongs to the comparison (``tidb2mysql/compare.py``), which
  knows both flavours and why they differ.
* **Nothing that changes with the data**: no AUTO_INCREMENT counter, row counts, data/index
  lengths, update times or index cardinality, so equal structures give equal descriptions
  whatever the rows.
* **Flavour-proof reading.** Columns are selected by name with explicit aliases and read by
  position (MySQL 8 returns information_schema column names in upper case); STATISTICS is
  read with ``SELECT *`` and picked by upper-cased name, because only MySQL 8.0.13+ has the
  ``EXPRESSION`` column (functional index parts, whose ``COLUMN_NAME`` is NULL) and naming a
  missing column would fail on the others.
* **Broken views are described, not refused.** A view whose tables are gone (or that the
  account may not read through) has its definition in VIEWS but no rows in COLUMNS (the
  server reports it as a warning); it is described with ``columns=()``, so it still exists
  for a comparison, and the caller can tell it apart. A view whose DEFINER does not exist
  here (TiDB's accounts are not migrated) also only causes a warning.
* **Never silently partial.** information_schema skips a table it cannot open in time
  (behind another session's metadata lock) with only a warning; the table would then look
  like it has no columns. Every query's warnings are checked and such a skip raises
  :class:`CatalogIncomplete` (transient: describe again). Only a broken view's warning is
  expected (see above).
* **Self-contained.** PyMySQL only, nothing from tidb2mysql: it is a leaf that the barrier,
  the comparison and the tests can all use without import cycles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, Iterable, Optional

import pymysql
from tidb2mysql.errors import TargetTransientError

# Never migrated by any stage: the server-internal schemas of TiDB, MySQL and MariaDB.
SYSTEM_DATABASES = frozenset({
    "mysql", "information_schema", "performance_schema", "sys", "metrics_schema", "inspection_schema",
})
# TiDB bootstraps an empty `test` database: migrated only when it holds tables or views
# (schema/reader.py skips it when empty, with a note).
BOOTSTRAP_TEST_DATABASE = "test"

# information_schema warnings that do not make a description partial, because they report
# lasting states of a view, not a skipped table: 1356, its tables or columns are gone or
# unreadable (it is described with no columns); 1449, its DEFINER account does not exist on
# this server (common on a target or a test server: TiDB's users are not migrated).
_BENIGN_WARNINGS = frozenset({1356, 1449})


class CatalogIncomplete(TargetTransientError, pymysql.err.OperationalError):
    """information_schema skipped something and said so only in a warning: typically a table
    it could not open within lock_wait_timeout (another session holds its metadata lock, e.g.
    a running CREATE ... SELECT or ALTER), which would otherwise be described with no columns
    or indexes. The error number is 1205 (lock wait timeout), so retry helpers treat it as
    transient: describe again later rather than decide on a partial picture."""


@dataclass(frozen=True)
class ColumnDescription:
    """One column as information_schema.COLUMNS shows it (raw text, see the module docstring).

    ``default`` is COLUMN_DEFAULT unchanged (None = SQL NULL); ``charset``/``collation`` are
    None for non-character columns; ``extra`` is EXTRA (``auto_increment``, ``on update ...``,
    ``VIRTUAL GENERATED``, ...); ``generation_expression`` is GENERATION_EXPRESSION, None or
    '' when the column is not generated (MariaDB says NULL, MySQL says '').
    """

    name: str
    position: int
    column_type: str
    nullable: bool
    default: Optional[str]
    charset: Optional[str]
    collation: Optional[str]
    extra: str
    generation_expression: Optional[str]


@dataclass(frozen=True)
class IndexDescription:
    """One index. ``columns`` are ``(column, sub_part)`` pairs in index order; ``sub_part`` is
    the prefix length or None for the whole column. A functional key part (MySQL 8) appears as
    ``("(expression)", None)``."""

    name: str
    unique: bool
    columns: tuple[tuple[str, Optional[int]], ...]
    index_type: str


@dataclass(frozen=True)
class TableDescription:
    """A base table (``kind="table"``) or a view (``kind="view"``).

    ``indexes`` are sorted by name; ``partitions`` are partition names in definition order
    (``()`` when not partitioned). For a view, ``collation`` is None and ``view_definition``
    is the server's VIEW_DEFINITION (it qualifies names with the view's schema),
    ``view_check_option`` is CHECK_OPTION and ``view_security`` is SECURITY_TYPE. The DEFINER
    is deliberately not described: it names an account, which differs between servers and
    which the DDL translation rewrites.
    """

    name: str
    kind: str
    columns: tuple[ColumnDescription, ...]
    indexes: tuple[IndexDescription, ...]
    collation: Optional[str]
    partitions: tuple[str, ...]
    view_definition: Optional[str]
    view_check_option: Optional[str] = None
    view_security: Optional[str] = None

    def column(self, name: str) -> Optional[ColumnDescription]:
        """The column called ``name`` (case-insensitive, as the servers treat column names)."""
        low = name.lower()
        for c in self.columns:
            if c.name.lower() == low:
                return c
        return None

    def index(self, name: str) -> Optional[IndexDescription]:
        """The index called ``name`` (case-insensitive, as the servers treat index names)."""
        low = name.lower()
        for i in self.indexes:
            if i.name.lower() == low:
                return i
        return None


def _text(value: Any) -> Any:
    """information_schema text as ``str``: some MySQL 8 columns arrive as bytes (binary
    collations of the data dictionary)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "surrogateescape")
    return value


def _filter(tables: Optional[list[str]]) -> tuple[str, tuple[str, ...]]:
    """SQL fragment and parameters restricting TABLE_NAME to ``tables`` (None = all)."""
    if tables is None:
        return "", ()
    return " AND TABLE_NAME IN (" + ", ".join(["%s"] * len(tables)) + ")", tuple(tables)


def _check_warnings(cur: Any, sql: str) -> None:
    """Raise CatalogIncomplete when the last information_schema query warned (see there)."""
    if getattr(cur, "warning_count", None) == 0:
        return
    cur.execute("SHOW WARNINGS")
    bad = [w for w in cur.fetchall() if int(w[1]) not in _BENIGN_WARNINGS]
    if bad:
        table = sql.split("information_schema.", 1)[-1].split()[0]
        raise CatalogIncomplete(1205, f"information_schema.{table} is incomplete: {bad[0][2]} (warning {bad[0][1]})")


def _query(conn: Any, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:  # a plain tuple cursor: values read by position
        cur.execute(sql, args)
        rows = [tuple(_text(v) for v in row) for row in cur.fetchall()]
        _check_warnings(cur, sql)
        return rows


def _query_named(conn: Any, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    """Rows as {UPPER-CASE column name: value}, whatever case the server reports."""
    with conn.cursor() as cur:
        cur.execute(sql, args)
        names = [d[0].upper() for d in cur.description]
        rows = [dict(zip(names, (_text(v) for v in row))) for row in cur.fetchall()]
        _check_warnings(cur, sql)
        return rows


def describe_database(conn: Any, schema: str, tables: Optional[Iterable[str]] = None) -> dict[str, TableDescription]:
    """Tables and views of ``schema`` (only those named in ``tables`` when given), by name.

    A name in ``tables`` that does not exist is simply absent from the result; a schema that
    does not exist gives ``{}`` (the caller decides whether that is an error).
    """
    names = None if tables is None else list(dict.fromkeys(tables))
    if names is not None and not names:
        return {}
    where, targs = _filter(names)
    args = (schema,) + targs

    kinds: dict[str, tuple[str, Optional[str]]] = {}
    for name, ttype, collation in _query(
            conn,
            "SELECT TABLE_NAME AS table_name, TABLE_TYPE AS table_type, TABLE_COLLATION AS table_collation "
            "FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s" + where, args):
        # MariaDB's SYSTEM VERSIONED and SEQUENCE are tables as far as structure goes.
        kinds[name] = ("view" if str(ttype).upper() == "VIEW" else "table", collation)
    if not kinds:
        return {}

    columns: dict[str, list[ColumnDescription]] = {n: [] for n in kinds}
    for (table, name, pos, ctype, nullable, default, charset, collation, extra, gen) in _query(
            conn,
            "SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, ORDINAL_POSITION AS ordinal_position, "
            "COLUMN_TYPE AS column_type, IS_NULLABLE AS is_nullable, COLUMN_DEFAULT AS column_default, "
            "CHARACTER_SET_NAME AS character_set_name, COLLATION_NAME AS collation_name, EXTRA AS extra, "
            "GENERATION_EXPRESSION AS generation_expression "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s" + where, args):
        if table in columns:
            columns[table].append(ColumnDescription(
                name=name, position=int(pos), column_type=ctype, nullable=str(nullable).upper() == "YES",
                default=default, charset=charset, collation=collation, extra=extra or "",
                generation_expression=gen))

    parts: dict[tuple[str, str], list[tuple[int, str, Optional[int]]]] = {}
    index_meta: dict[tuple[str, str], tuple[bool, str]] = {}
    for row in _query_named(conn, "SELECT * FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s" + where,
                            args):
        key = (row["TABLE_NAME"], row["INDEX_NAME"])
        column = row.get("COLUMN_NAME")
        if column is None:  # a functional key part (MySQL 8.0.13+)
            column = f"({row.get('EXPRESSION') or ''})"
        sub = row.get("SUB_PART")
        parts.setdefault(key, []).append((int(row["SEQ_IN_INDEX"]), column, None if sub is None else int(sub)))
        index_meta[key] = (int(row["NON_UNIQUE"]) == 0, str(row.get("INDEX_TYPE") or ""))
    indexes: dict[str, list[IndexDescription]] = {n: [] for n in kinds}
    for (table, iname), cols in parts.items():
        if table in indexes:
            unique, itype = index_meta[(table, iname)]
            indexes[table].append(IndexDescription(
                name=iname, unique=unique, columns=tuple((c, s) for _, c, s in sorted(cols)), index_type=itype))

    views: dict[str, tuple[Optional[str], Optional[str], Optional[str]]] = {}
    for table, definition, check, security in _query(
            conn,
            "SELECT TABLE_NAME AS table_name, VIEW_DEFINITION AS view_definition, CHECK_OPTION AS check_option, "
            "SECURITY_TYPE AS security_type FROM information_schema.VIEWS WHERE TABLE_SCHEMA = %s" + where, args):
        views[table] = (definition, check, security)

    partitions: dict[str, list[tuple[int, int, str]]] = {}
    for table, pname, ppos, spos in _query(
            conn,
            "SELECT TABLE_NAME AS table_name, PARTITION_NAME AS partition_name, "
            "PARTITION_ORDINAL_POSITION AS partition_ordinal_position, "
            "SUBPARTITION_ORDINAL_POSITION AS subpartition_ordinal_position "
            "FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = %s AND PARTITION_NAME IS NOT NULL" + where,
            args):
        partitions.setdefault(table, []).append((int(ppos or 0), int(spos or 0), pname))

    _mark_auto_random(conn, schema, kinds, columns)
    result: dict[str, TableDescription] = {}
    for name in sorted(kinds):
        kind, collation = kinds[name]
        definition, check, security = views.get(name, (None, None, None))
        pnames = list(dict.fromkeys(p for _, _, p in sorted(partitions.get(name, ()))))
        result[name] = TableDescription(
            name=name,
            kind=kind,
            columns=tuple(sorted(columns[name], key=lambda c: c.position)),
            indexes=tuple(sorted(indexes[name], key=lambda i: i.name)),
            collation=collation if kind == "table" else None,
            partitions=tuple(pnames),
            view_definition=definition if kind == "view" else None,
            view_check_option=check if kind == "view" else None,
            view_security=security if kind == "view" else None,
        )
    return result


_AUTO_RANDOM_COLUMN = re.compile(r"^\s*`((?:[^`]|``)+)`.*\bAUTO_RANDOM\b", re.I | re.M)


def _mark_auto_random(conn: Any, schema: str, kinds: dict[str, tuple[str, Optional[str]]],
                      columns: dict[str, list[ColumnDescription]]) -> None:
    """TiDB: add ``auto_random`` to the EXTRA of AUTO_RANDOM columns.

    TiDB v7.0's information_schema.COLUMNS leaves EXTRA empty for them (and
    TIDB_ROW_ID_SHARDING_INFO names them only for a one-column primary key), so a comparison
    could not tell them from a plain BIGINT; SHOW CREATE TABLE prints ``/*T![auto_rand]
    AUTO_RANDOM(n) */`` on the column's line. Other servers (told by the handshake's server
    version): no query at all."""
    if "tidb" not in str(_text(getattr(conn, "server_version", "") or "")).lower():
        return
    with conn.cursor() as cur:
        for name, (kind, _) in kinds.items():
            if kind != "table":
                continue
            cur.execute(f"SHOW CREATE TABLE `{schema.replace('`', '``')}`.`{name.replace('`', '``')}`")
            marked = {m.group(1).replace("``", "`") for m in _AUTO_RANDOM_COLUMN.finditer(_text(cur.fetchone()[1]))}
            for i, col in enumerate(columns.get(name, [])):
                if col.name in marked and "auto_random" not in col.extra.lower():
                    columns[name][i] = replace(col, extra=(col.extra + " auto_random").strip())


def to_jsonable(desc: Any) -> Any:
    """Canonical plain data for a description, a mapping or sequence of them.

    Dataclasses become dicts with sorted keys, tuples and lists become lists (in their
    order, which ``describe_database`` already made canonical), mappings get sorted keys.
    Equal descriptions give equal output, so ``orjson.dumps(to_jsonable(d))`` is a
    deterministic fingerprint of a database's structure.
    """
    if is_dataclass(desc) and not isinstance(desc, type):
        return {f.name: to_jsonable(getattr(desc, f.name)) for f in sorted(fields(desc), key=lambda f: f.name)}
    if isinstance(desc, dict):
        return {str(k): to_jsonable(desc[k]) for k in sorted(desc, key=str)}
    if isinstance(desc, (list, tuple)):
        return [to_jsonable(v) for v in desc]
    if desc is None or isinstance(desc, (str, int, float, bool)):
        return desc
    raise TypeError(f"to_jsonable: unexpected {type(desc).__name__} value {desc!r}")


__all__ = [
    "CatalogIncomplete",
    "ColumnDescription",
    "IndexDescription",
    "TableDescription",
    "describe_database",
    "to_jsonable",
]
