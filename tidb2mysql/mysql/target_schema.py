"""What the TARGET's tables look like, read from its ``information_schema``.

Drainer's ``column_info`` does not say which columns are generated, and a message may carry
columns the target does not have (Drainer's own loader reads the downstream structure for
the same reasons: ``pkg/loader/util.go getColsOfTbl``). So before writing a table we look
up, in the target:

* its columns in order, with their ``DATA_TYPE`` (``json`` on MySQL needs ``CAST`` when
  compared; on MariaDB JSON is ``longtext`` and compares as text);
* which columns are generated (never written: Drainer sends bogus values for them);
* its primary key and unique keys (``STATISTICS``), PRIMARY first.

Results are cached per table; the DDL barrier calls :meth:`TargetTables.invalidate_all`
after a DDL ran, so the next write reads the new structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from tidb2mysql.mysql.dialect import is_generated_extra
from tidb2mysql.errors import TargetPermanentError

class UnknownTableError(TargetPermanentError, LookupError):
    """The target has no such table (dropped downstream, or never created)."""

    code = 1146  # ER_NO_SUCH_TABLE, so callers can treat it like the server's own error

    def __init__(self, schema: str, table: str):
        super().__init__(f"target table `{schema}`.`{table}` does not exist in the target database")
        self.schema = schema
        self.table = table


@dataclass(frozen=True)
class TargetColumn:
    name: str
    data_type: str  # information_schema DATA_TYPE, lower case (int, varchar, json, longtext, ...)
    generated: bool = False


@dataclass(frozen=True)
class TargetTable:
    schema: str
    table: str
    columns: tuple[TargetColumn, ...]  # ORDINAL_POSITION order
    primary_key: tuple[str, ...] = ()
    # (index name, column names), PRIMARY first; only indexes whose parts are all columns.
    unique_keys: tuple[tuple[str, tuple[str, ...]], ...] = ()
    _by_name: dict[str, TargetColumn] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Column names are case-insensitive in MySQL.
        self._by_name.update({c.name.lower(): c for c in self.columns})

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    def column(self, name: str) -> Optional[TargetColumn]:
        return self._by_name.get(name.lower())

    @property
    def secondary_unique_keys(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple(k for k in self.unique_keys if k[0] != "PRIMARY")


_COLUMNS_SQL = (
    "SELECT COLUMN_NAME, DATA_TYPE, EXTRA FROM information_schema.COLUMNS"
    " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION"
)
_KEYS_SQL = (
    "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS"
    " WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s AND NON_UNIQUE = 0"
    " ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX"
)


def read_target_table(conn: Any, schema: str, table: str) -> TargetTable:
    """Read one table's structure from the target; :class:`UnknownTableError` if absent."""
    with conn.cursor() as cur:
        cur.execute(_COLUMNS_SQL, (schema, table))
        cols = cur.fetchall()
        if not cols:
            raise UnknownTableError(schema, table)
        cur.execute(_KEYS_SQL, (schema, table))
        key_rows = cur.fetchall()
    columns = tuple(
        TargetColumn(as_text(name), as_text(dtype).lower(), is_generated_extra(as_text(extra)))
        for name, dtype, extra in cols
    )
    keys: dict[str, list[Optional[str]]] = {}
    for index_name, column_name in key_rows:
        keys.setdefault(as_text(index_name), []).append(as_text(column_name) if column_name is not None else None)
    unique = tuple(
        (name, tuple(p for p in parts if p is not None))
        for name, parts in keys.items() if None not in parts  # skip functional indexes
    )
    pk = next((parts for name, parts in unique if name == "PRIMARY"), ())
    return TargetTable(schema, table, columns, pk, unique)


def as_text(v: Any) -> str:
    """A server value that is text in meaning as ``str`` (information_schema columns and
    variables arrive as ``bytes`` under binary collations, e.g. MySQL 8's data dictionary)."""
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8")
    return "" if v is None else str(v)


class TargetTables:
    """Cached target table structures. ``conn_factory()`` returns a (reused) connection."""

    def __init__(self, conn_factory: Callable[[], Any]):
        self._conn_factory = conn_factory
        self._cache: dict[tuple[str, str], TargetTable] = {}
        self.generation = 0  # bumped on every invalidation, so dependent caches can notice

    def get(self, schema: str, table: str) -> TargetTable:
        key = (schema, table)
        t = self._cache.get(key)
        if t is None:
            t = self._cache[key] = read_target_table(self._conn_factory(), schema, table)
        return t

    def invalidate(self, schema: str, table: str) -> None:
        self._cache.pop((schema, table), None)
        self.generation += 1

    def invalidate_all(self) -> None:
        self._cache.clear()
        self.generation += 1


__all__ = [
    "as_text",
    "TargetColumn",
    "TargetTable",
    "TargetTables",
    "UnknownTableError",
    "read_target_table",
]
