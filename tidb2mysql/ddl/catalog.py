"""What the translator may know about a table as it exists on the *target* right now.

A replicated ``ALTER TABLE`` carries only the change, not the table: whether a new UNIQUE
key covers the partitioning columns, which character set a new VARCHAR gets, or which
partitions TiDB's ``LAST PARTITION LESS THAN (n)`` adds cannot be known from the text. When
``translate(..., catalog=...)`` is given a catalog, those rules use it; without one they
fall back to what the text alone allows (documented per rule, and in
docs/schema-migration.md).

* ``TargetCatalog(conn)`` reads ``information_schema`` of a live target (one query per
  question, nothing cached: every DDL changes the answer).
* ``StaticCatalog({("db", "t"): TableInfo(...)})`` for tests and recorded schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Protocol

from tidb2mysql.ddl.tokenizer import QIDENT, WORD, tokenize


@dataclass(frozen=True)
class Partition:
    name: str
    description: Optional[str]     # information_schema PARTITION_DESCRIPTION: '100', 'MAXVALUE', "'2024-01-01'"


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str                 # lower-case DATA_TYPE: varchar, int, text, ...
    char_length: Optional[int] = None
    octet_length: Optional[int] = None
    charset: Optional[str] = None
    nullable: bool = True


@dataclass(frozen=True)
class TableInfo:
    charset: Optional[str] = None                   # the table's default character set
    columns: tuple[Column, ...] = ()
    partition_method: Optional[str] = None          # RANGE, RANGE COLUMNS, LIST, HASH, KEY, ... (None: not partitioned)
    partition_expression: Optional[str] = None
    partitions: tuple[Partition, ...] = ()
    primary_key: tuple[str, ...] = ()
    unique_keys: dict = field(default_factory=dict)  # name -> tuple of columns (incl. PRIMARY)

    @property
    def partitioned(self) -> bool:
        return bool(self.partition_method)

    @property
    def partition_columns(self) -> tuple[str, ...]:
        """Columns the partitioning function uses (KEY() without columns: the primary key)."""
        if not self.partitioned:
            return ()
        names = {c.name.lower(): c.name for c in self.columns}
        used = expression_columns(self.partition_expression or "", names)
        if not used and (self.partition_method or "").upper().endswith("KEY"):
            return tuple(self.primary_key)
        return used

    def column(self, name: str) -> Optional[Column]:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)


def expression_columns(expr: str, names: dict[str, str]) -> tuple[str, ...]:
    """The column names (from ``names``: lower -> spelling) an expression mentions, in order.

    A function name spelled like a column (``year(year)``) is told apart by the ``(`` after it."""
    out: list[str] = []
    toks = [t for t in tokenize(expr) if t.significant]
    for i, t in enumerate(toks):
        if t.kind not in (WORD, QIDENT):
            continue
        if t.kind == WORD and i + 1 < len(toks) and toks[i + 1].is_op("("):
            continue
        col = names.get(t.name.lower())
        if col and col not in out:
            out.append(col)
    return tuple(out)


class Catalog(Protocol):
    def table(self, schema: Optional[str], name: str) -> Optional[TableInfo]:
        """The table as it is on the target, or None when unknown/absent."""


class StaticCatalog:
    def __init__(self, tables: Optional[dict] = None):
        self.tables = {(s.lower() if s else None, n.lower()): t for (s, n), t in (tables or {}).items()}

    def table(self, schema: Optional[str], name: str) -> Optional[TableInfo]:
        return self.tables.get((schema.lower() if schema else None, name.lower()))


class TargetCatalog:
    """Reads the target's information_schema through a PyMySQL connection."""

    def __init__(self, conn):
        self.conn = conn

    def _rows(self, sql: str, *args):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall()

    def table(self, schema: Optional[str], name: str) -> Optional[TableInfo]:
        if schema is None:
            row = self._rows("SELECT DATABASE()")
            schema = row[0][0] if row else None
            if schema is None:
                return None
        t = self._rows("SELECT c.CHARACTER_SET_NAME FROM information_schema.TABLES t LEFT JOIN "
                       "information_schema.COLLATIONS c ON c.COLLATION_NAME = t.TABLE_COLLATION "
                       "WHERE t.TABLE_SCHEMA=%s AND t.TABLE_NAME=%s", schema, name)
        if not t:
            return None
        cols = tuple(Column(r[0], (r[1] or "").lower(), r[2], r[3], r[4], r[5] == "YES") for r in self._rows(
            "SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, CHARACTER_OCTET_LENGTH, CHARACTER_SET_NAME, "
            "IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s "
            "ORDER BY ORDINAL_POSITION", schema, name))
        keys: dict[str, list[str]] = {}
        for idx, col in self._rows("SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE "
                                   "TABLE_SCHEMA=%s AND TABLE_NAME=%s AND NON_UNIQUE=0 ORDER BY INDEX_NAME, "
                                   "SEQ_IN_INDEX", schema, name):
            keys.setdefault(idx, []).append(col)
        parts = self._rows("SELECT PARTITION_NAME, PARTITION_METHOD, PARTITION_EXPRESSION, PARTITION_DESCRIPTION "
                           "FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s AND "
                           "PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION", schema, name)
        return TableInfo(
            charset=t[0][0], columns=cols,
            partition_method=parts[0][1] if parts else None,
            partition_expression=parts[0][2] if parts else None,
            partitions=tuple(Partition(p[0], p[3]) for p in parts),
            primary_key=tuple(keys.get("PRIMARY", ())),
            unique_keys={k: tuple(v) for k, v in keys.items()})
