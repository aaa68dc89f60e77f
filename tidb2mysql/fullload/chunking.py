"""Which tables to copy, by which key, in which chunks - and the SQL of a key range.

A *chunk* is a half-open key range ``[lo, hi)`` of one table (``lo``/``hi`` = None: open
end). The first and last chunk of a table are open-ended, so rows with keys outside the
min..max seen while planning are still covered: the plan may be made outside the snapshot
(it only has to cover the key space, not to match the data).

How a table is split:

* **Single integer key** (primary key, or else a NOT NULL unique key): ``MIN``..``MAX``
  cut into ``ceil(rows / chunk_rows)`` equal ranges (sparse keys make uneven chunks; the
  lanes' keyset pages keep each read cheap anyway).
* **Composite or non-integer key**: boundaries sampled by walking the key in order
  (index-only scan, unbuffered) and taking every ``chunk_rows``-th key.
* **No usable key** (no primary key, no NOT NULL unique key): ONE chunk streaming the
  whole table. It cannot resume in the middle: on (re)start its target table is emptied
  first (``DELETE`` in the first page's transaction), so a re-run never duplicates rows.

Chunk bounds and resume keys are stored as lists of SQL literals (the one literal encoder,
``mysql/sql.py``), so they round-trip through the target's job tables exactly for
every key type (bytes, DECIMAL, dates, floats).

Key comparisons are written out (``a > x OR (a = x AND b > y)``) rather than as row
constructors ``(a,b) > (x,y)``, which some MariaDB versions do not turn into index ranges.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence

import pymysql.cursors

from tidb2mysql.mysql.sql import literal, quote_ident, table_ref
from tidb2mysql.mysql.dialect import is_generated_extra
from tidb2mysql.mysql.target_schema import as_text
from tidb2mysql.errors import ConfigurationError

SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys", "metrics_schema",
                            "_tidb2mysql_sim"})
_INTEGER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint"})


class LoadPlanError(ConfigurationError, ValueError):
    """The selection or a table cannot be planned (names the table)."""


@dataclass
class TablePlan:
    schema: str
    table: str
    columns: list  # copied (non-generated) columns, in table order
    types: list  # information_schema DATA_TYPE per copied column
    key: list  # key column names (PK, or a NOT NULL unique key); [] = no usable key
    key_kind: str  # "primary" | "unique" | "none"
    est_rows: int = 0
    # Target names when [selection] maps them (tidb2mysql/selection/fullload.py); empty = same.
    target_schema: str = ""
    target_table: str = ""
    target_columns: list = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    def target_names(self) -> tuple[str, str, list]:
        """(database, table, columns) on the target: the mapped names, else the source's."""
        return (self.target_schema or self.schema, self.target_table or self.table,
                list(self.target_columns) or list(self.columns))

    @property
    def ref(self) -> str:
        return table_ref(self.schema, self.table)

    def select_list(self) -> str:
        """Copied columns; FLOAT read as ``col + 0E0`` (a DOUBLE holding the exact float32 value):
        the text protocol prints FLOAT with ~6 significant digits, which would lose precision."""
        return ",".join(f"({quote_ident(c)} + 0E0)" if t == "float" else quote_ident(c)
                        for c, t in zip(self.columns, self.types))

    def key_positions(self) -> list[int]:
        return [self.columns.index(k) for k in self.key]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "TablePlan":
        return cls(**d)


@dataclass
class Chunk:
    chunk: int  # id, unique within the job
    table: int  # index into the plan's table list
    lo: Optional[list] = None  # SQL literals of the inclusive lower bound; None = open
    hi: Optional[list] = None  # SQL literals of the exclusive upper bound; None = open
    est_rows: int = 0
    lane: int = 0


@dataclass
class LoadPlan:
    tables: list = field(default_factory=list)  # [TablePlan]
    chunks: list = field(default_factory=list)  # [Chunk]


# -- selection -----------------------------------------------------------------------------


def select_tables(conn, patterns: Sequence[str], exclude_schemas: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Base tables matching ``db.table`` / ``db.*`` patterns (shell wildcards), or every
    non-system table when ``patterns`` is empty. A pattern matching nothing is an error."""
    skip = SYSTEM_SCHEMAS | set(exclude_schemas)
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
                    "WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME")
        every = [(as_text(s), as_text(t)) for s, t in cur.fetchall()]
    if not patterns:
        return [(s, t) for s, t in every if s.lower() not in skip]
    out: list[tuple[str, str]] = []
    for p in patterns:
        ps, pt = p.split(".", 1)
        hits = [(s, t) for s, t in every if fnmatch.fnmatchcase(s, ps) and fnmatch.fnmatchcase(t, pt)]
        if not hits:
            raise LoadPlanError(f"table selection {p!r} matches no base table in the source")
        out += [h for h in hits if h not in out]
    return out


# -- one table -----------------------------------------------------------------------------


def describe_table(conn, schema: str, table: str) -> TablePlan:
    """Columns (generated ones are not copied: the target computes them) and the key."""
    with conn.cursor() as cur:
        cur.execute("SELECT COLUMN_NAME, DATA_TYPE, EXTRA, IS_NULLABLE FROM information_schema.COLUMNS "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION", (schema, table))
        cols = [(as_text(n), as_text(t).lower(), as_text(e), as_text(nl)) for n, t, e, nl in cur.fetchall()]
        if not cols:
            raise LoadPlanError(f"table {schema}.{table} does not exist in the source")
        cur.execute("SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS "
                    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND NON_UNIQUE = 0 "
                    "ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX", (schema, table))
        idx: dict[str, list] = {}
        for name, col in cur.fetchall():
            idx.setdefault(as_text(name), []).append(as_text(col) if col is not None else None)
        cur.execute("SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                    (schema, table))
        row = cur.fetchone()
    copied = [(n, t) for n, t, e, _ in cols if not is_generated_extra(e)]
    names = [n for n, _ in copied]
    nullable = {n for n, _, _, nl in cols if nl == "YES"}
    generated = {n for n, _, e, _ in cols if is_generated_extra(e)}
    key, kind = [], "none"
    for name, parts in idx.items():
        if None in parts or any(p in generated for p in parts):
            continue  # functional index parts / generated key columns: not usable for ranges
        if name == "PRIMARY":
            key, kind = parts, "primary"
            break
        if not any(p in nullable for p in parts):
            key, kind = parts, "unique"
            break
    est = int(row[0]) if row and row[0] is not None else 0
    return TablePlan(schema, table, names, [t for _, t in copied], key, kind, est)


def count_rows(conn, tp: TablePlan) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {tp.ref}")
        return int(cur.fetchone()[0])


def split_table(conn, tp: TablePlan, chunk_rows: int) -> list[tuple[Optional[list], Optional[list], int]]:
    """``[(lo, hi, est_rows)]`` covering the whole key space of ``tp``."""
    if not tp.key or tp.est_rows <= chunk_rows:
        return [(None, None, tp.est_rows)]
    n = math.ceil(tp.est_rows / chunk_rows)
    kt = tp.types[tp.columns.index(tp.key[0])] if tp.key else ""
    if len(tp.key) == 1 and kt in _INTEGER_TYPES:
        return _split_integer(conn, tp, n)
    return _split_sampled(conn, tp, chunk_rows)


def _split_integer(conn, tp: TablePlan, n: int):
    k = quote_ident(tp.key[0])
    with conn.cursor() as cur:
        cur.execute(f"SELECT MIN({k}), MAX({k}) FROM {tp.ref}")
        lo, hi = cur.fetchone()
    if lo is None:
        return [(None, None, 0)]
    return integer_ranges(int(lo), int(hi), n, tp.est_rows)


def integer_ranges(lo: int, hi: int, n: int, est_rows: int):
    """Cut ``lo..hi`` into at most ``n`` ranges; the first and last are open-ended."""
    width = hi - lo + 1
    n = max(1, min(n, width))
    step = -(-width // n)  # integer ceil: keys may be near 2**64, beyond float precision
    bounds = [lo + i * step for i in range(1, n) if lo + i * step <= hi]
    per = est_rows // (len(bounds) + 1)
    edges: list = [None] + [[str(b)] for b in bounds] + [None]
    return [(edges[i], edges[i + 1], per) for i in range(len(edges) - 1)]


def _split_sampled(conn, tp: TablePlan, chunk_rows: int):
    """Every ``chunk_rows``-th key in key order becomes a boundary (one index-only scan)."""
    keys = ",".join(quote_ident(k) for k in tp.key)
    types = [tp.types[tp.columns.index(k)] for k in tp.key]
    select = ",".join(f"({quote_ident(k)} + 0E0)" if t == "float" else quote_ident(k) for k, t in zip(tp.key, types))
    bounds: list[list] = []
    cur = conn.cursor(pymysql.cursors.SSCursor)
    try:
        cur.execute(f"SELECT {select} FROM {tp.ref} ORDER BY {keys}")
        seen = 0
        while True:
            rows = cur.fetchmany(10_000)
            if not rows:
                break
            for r in rows:
                if seen and seen % chunk_rows == 0:
                    bounds.append([literal(v) for v in r])
                seen += 1
    finally:
        cur.close()
    per = seen // (len(bounds) + 1) if seen else 0
    edges: list = [None] + bounds + [None]
    return [(edges[i], edges[i + 1], per) for i in range(len(edges) - 1)]


# -- lanes ---------------------------------------------------------------------------------


def assign_lanes(chunks: list[Chunk], lanes: int) -> None:
    """Largest chunk first to the least-loaded lane (static: Bytewax has no work stealing)."""
    load = [0] * lanes
    for c in sorted(chunks, key=lambda c: (-c.est_rows, c.chunk)):
        i = min(range(lanes), key=lambda j: (load[j], j))
        c.lane = i
        load[i] += max(c.est_rows, 1)


def make_plan(conn, tables: list[tuple[str, str]], chunk_rows: int, lanes: int, exact_counts: bool = False) -> LoadPlan:
    plan = LoadPlan()
    for schema, table in tables:
        tp = describe_table(conn, schema, table)
        if exact_counts:
            tp.est_rows = count_rows(conn, tp)
        ti = len(plan.tables)
        plan.tables.append(tp)
        for lo, hi, est in split_table(conn, tp, chunk_rows):
            plan.chunks.append(Chunk(len(plan.chunks), ti, lo, hi, est))
    assign_lanes(plan.chunks, max(1, lanes))
    return plan


# -- key predicates ------------------------------------------------------------------------


def key_compare(key: Sequence[str], values: Sequence[str], op: str) -> str:
    """SQL for ``(key...) op (values...)`` written out per column; ``values`` are literals.

    ``op`` is one of ``>``, ``>=``, ``<``. For ``(a,b) > (x,y)``:
    ``(a > x OR (a = x AND b > y))``.
    """
    if len(key) != len(values):
        raise ValueError("key and values differ in length")
    strict = op[0]  # '>' or '<'
    names = [quote_ident(k) for k in key]
    terms = []
    for i in range(len(names)):
        eqs = [f"{names[j]} = {values[j]}" for j in range(i)]
        last_op = op if (i == len(names) - 1) else strict
        terms.append(" AND ".join(eqs + [f"{names[i]} {last_op} {values[i]}"]))
    if len(terms) == 1:
        return terms[0]
    return "(" + " OR ".join(f"({t})" if " AND " in t else t for t in terms) + ")"


def page_from(tp: TablePlan, lo: Optional[list], hi: Optional[list], after: Optional[list]) -> str:
    """``FROM table [WHERE ...]`` of a keyset page: rows of the chunk ``[lo, hi)`` with key > ``after``."""
    where = []
    if after is not None:
        where.append(key_compare(tp.key, after, ">"))
    elif lo is not None:
        where.append(key_compare(tp.key, lo, ">="))
    if hi is not None:
        where.append(key_compare(tp.key, hi, "<"))
    sql = f"FROM {tp.ref}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql


def page_sql(tp: TablePlan, lo: Optional[list], hi: Optional[list], after: Optional[list], limit: int) -> str:
    """One keyset page: rows of the chunk ``[lo, hi)`` with key > ``after`` (if given), in key order."""
    sql = f"SELECT {tp.select_list()} " + page_from(tp, lo, hi, after)
    keys = ",".join(quote_ident(k) for k in tp.key)
    return sql + f" ORDER BY {keys} LIMIT {int(limit)}"
