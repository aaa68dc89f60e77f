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
import logging
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Optional, Sequence


from tidb2mysql.mysql.catalog import SYSTEM_DATABASES
from tidb2mysql.mysql.sql import literal, quote_ident, table_ref
from tidb2mysql.mysql.dialect import is_generated_extra
from tidb2mysql.mysql.target_schema import as_text
from tidb2mysql.errors import ConfigurationError

SYSTEM_SCHEMAS = SYSTEM_DATABASES | {"_tidb2mysql_sim"}
_TEMPORARY = re.compile(r"\bGLOBAL\s+TEMPORARY\b|\bON\s+COMMIT\s+DELETE\s+ROWS\b", re.I)
_INTEGER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint"})


log = logging.getLogger("tidb2mysql.full_load")


class LoadPlanError(ConfigurationError, ValueError):
    """The selection or a table cannot be planned (names the table)."""


@dataclass
class TablePlan:
    schema: str
    table: str
    columns: list  # copied (non-generated) columns, in table order
    types: list  # information_schema DATA_TYPE per copied column
    key: list  # key column names (PK, or a NOT NULL unique key; or ["_tidb_rowid"]); [] = no usable key
    key_kind: str  # "primary" | "unique" | "rowid" | "none"
    est_rows: int = 0
    # The key is TiDB's hidden row id (_tidb_rowid), not a copied column: tables without a
    # clustered index (no primary key, or a NONCLUSTERED one) are stored in _tidb_rowid order,
    # so ranges and keyset pages on it are cheap. ``unique_key``: the table's own PK / NOT NULL
    # unique key, if any ([] = truly key-less: the target cannot tell a row twice).
    hidden_key: bool = False
    unique_key: list = field(default_factory=list)
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
        """Positions of the key among the copied columns ([] for the hidden _tidb_rowid)."""
        return [] if self.hidden_key else [self.columns.index(k) for k in self.key]

    def key_types(self) -> list[str]:
        return ["bigint"] if self.hidden_key else [self.types[self.columns.index(k)] for k in self.key]

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
        out = [(s, t) for s, t in every if s.lower() not in skip]
    else:
        out = []
        for p in patterns:
            ps, pt = p.split(".", 1)
            hits = [(s, t) for s, t in every if fnmatch.fnmatchcase(s, ps) and fnmatch.fnmatchcase(t, pt)]
            if not hits:
                raise LoadPlanError(f"table selection {p!r} matches no base table in the source")
            out += [h for h in hits if h not in out]
    temporary = temporary_tables(conn, out)
    if temporary:
        log.warning("not copied: %d GLOBAL TEMPORARY table(s) %s (TiDB-only; their rows are private to each "
                    "transaction, never replicated, and the schema stage does not create them)", len(temporary),
                    ", ".join(f"{s}.{t}" for s, t in temporary[:10]))
    return [x for x in out if x not in temporary]


def is_temporary_create(create_sql: str) -> bool:
    """SHOW CREATE TABLE text of a TiDB GLOBAL TEMPORARY table (information_schema.TABLES lists
    it as a plain BASE TABLE; only its CREATE text tells)."""
    return bool(_TEMPORARY.search(create_sql))


def temporary_tables(conn, tables: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Which of ``tables`` are GLOBAL TEMPORARY (TiDB only: one SHOW CREATE TABLE each)."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        if "tidb" not in as_text(cur.fetchone()[0]).lower():
            return []
        out = []
        for s, t in tables:
            cur.execute(f"SHOW CREATE TABLE {table_ref(s, t)}")
            if is_temporary_create(as_text(cur.fetchone()[1])):
                out.append((s, t))
    return out


# -- one table -----------------------------------------------------------------------------


ROWID = "_tidb_rowid"


def describe_table(conn, schema: str, table: str, tidb: bool = False) -> TablePlan:
    """Columns (generated ones are not copied: the target computes them) and the key.

    ``tidb``: a table without a clustered index (TIDB_PK_TYPE NONCLUSTERED: no primary key, or
    a NONCLUSTERED one) is keyed by its hidden ``_tidb_rowid`` (the order TiDB stores it in),
    except a partitioned one (row ids are allocated per table, but after EXCHANGE PARTITION they
    need not be unique across partitions)."""
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
    tp = TablePlan(schema, table, names, [t for _, t in copied], key, kind, est, unique_key=list(key))
    if tidb:
        with conn.cursor() as cur:
            cur.execute("SELECT TIDB_PK_TYPE, CREATE_OPTIONS FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
                        " AND TABLE_NAME = %s", (schema, table))
            pk_type, options = (as_text(v) for v in (cur.fetchone() or ("", "")))
        if pk_type.upper() == "NONCLUSTERED" and "partitioned" not in options.lower():
            tp.key, tp.key_kind, tp.hidden_key = [ROWID], "rowid", True
    return tp


def count_rows(conn, tp: TablePlan) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {tp.ref}")
        return int(cur.fetchone()[0])


def split_table(conn, tp: TablePlan, chunk_rows: int) -> list[tuple[Optional[list], Optional[list], int]]:
    """``[(lo, hi, est_rows)]`` covering the whole key space of ``tp``."""
    if not tp.key or tp.est_rows <= chunk_rows:
        return [(None, None, tp.est_rows)]
    n = math.ceil(tp.est_rows / chunk_rows)
    if len(tp.key) == 1 and tp.key_types()[0] in _INTEGER_TYPES:
        return _split_integer(conn, tp, n)
    return _split_sampled(conn, tp, chunk_rows, n)


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


def _key_select(tp: TablePlan) -> str:
    return ",".join(f"({quote_ident(k)} + 0E0)" if t == "float" else quote_ident(k)
                    for k, t in zip(tp.key, tp.key_types()))


def _split_sampled(conn, tp: TablePlan, chunk_rows: int, n: int):
    """Boundaries for a composite or non-integer key, without reading every key.

    TiDB: the first row of every region (``TABLESAMPLE REGIONS()``, read from region
    metadata and one row per region), thinned to about ``n`` chunks. Where that gives too few
    (a small cluster keeps a big table in one region) and on MySQL/MariaDB: ``n - 1`` probes
    ``WHERE key >= previous ORDER BY key LIMIT 1 OFFSET chunk_rows``, each skipping
    ``chunk_rows`` index entries on the server and returning ONE key (before: every key was
    sent to the client, 480k for one table)."""
    bounds = _region_starts(conn, tp)
    if len(bounds) + 1 >= max(2, n // 2):
        step = max(1, len(bounds) // max(1, n - 1))
        bounds = bounds[step - 1::step][:max(0, n - 1)] if step > 1 else bounds
    else:
        bounds = _probed_bounds(conn, tp, chunk_rows, n)
    per = tp.est_rows // (len(bounds) + 1) if tp.est_rows else 0
    edges: list = [None] + bounds + [None]
    return [(edges[i], edges[i + 1], per) for i in range(len(edges) - 1)]


def _region_starts(conn, tp: TablePlan) -> list[list]:
    """TiDB: the key of the first row of each region but the first, in key order; [] elsewhere."""
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        if "tidb" not in as_text(cur.fetchone()[0]).lower():
            return []
        try:
            cur.execute(f"SELECT {_key_select(tp)} FROM {tp.ref} TABLESAMPLE REGIONS() ORDER BY "
                        + ",".join(quote_ident(k) for k in tp.key))
            rows = cur.fetchall()
        except Exception as e:  # noqa: BLE001 - older TiDB without TABLESAMPLE: probe instead
            log.info("TABLESAMPLE REGIONS() on %s failed (%s); probing boundaries", tp.qualified, e)
            return []
    keys = [[literal(v) for v in r] for r in rows]
    return keys[1:]


def _probed_bounds(conn, tp: TablePlan, chunk_rows: int, n: int) -> list[list]:
    keys = ",".join(quote_ident(k) for k in tp.key)
    bounds: list[list] = []
    with conn.cursor() as cur:
        for _ in range(max(0, n - 1)):
            where = f" WHERE {key_compare(tp.key, bounds[-1], '>=')}" if bounds else ""
            cur.execute(f"SELECT {_key_select(tp)} FROM {tp.ref}{where} ORDER BY {keys} LIMIT 1 OFFSET {int(chunk_rows)}")
            row = cur.fetchone()
            if row is None:
                break
            key = [literal(v) for v in row]
            if bounds and key == bounds[-1]:
                break
            bounds.append(key)
    return bounds


# -- lanes ---------------------------------------------------------------------------------


def assign_lanes(chunks: list[Chunk], lanes: int) -> None:
    """Largest chunk first to the least-loaded lane (static: Bytewax has no work stealing)."""
    load = [0] * lanes
    for c in sorted(chunks, key=lambda c: (-c.est_rows, c.chunk)):
        i = min(range(lanes), key=lambda j: (load[j], j))
        c.lane = i
        load[i] += max(c.est_rows, 1)


def make_plan(conn, tables: list[tuple[str, str]], chunk_rows: int, lanes: int, exact_counts: bool = False,
              row_ids: bool = True) -> LoadPlan:
    """``row_ids``: key TiDB tables without a clustered index by ``_tidb_rowid`` (the full load);
    False where the key must exist on the target too (verify compares key ranges on both sides)."""
    plan = LoadPlan()
    tidb = False
    if row_ids:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            tidb = "tidb" in as_text(cur.fetchone()[0]).lower()
    for schema, table in tables:
        tp = describe_table(conn, schema, table, tidb=tidb)
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
    """One keyset page: rows of the chunk ``[lo, hi)`` with key > ``after`` (if given), in key order.
    A hidden key (``_tidb_rowid``) is read as an extra last value (the reader strips it)."""
    extra = f", {quote_ident(ROWID)}" if tp.hidden_key else ""
    sql = f"SELECT {tp.select_list()}{extra} " + page_from(tp, lo, hi, after)
    keys = ",".join(quote_ident(k) for k in tp.key)
    return sql + f" ORDER BY {keys} LIMIT {int(limit)}"
