"""What the simulated TiDB knows about its tables: read from the source's information_schema.

Drainer describes every table in every message (``column_info``, ``unique_keys``) with TiDB's
lower-case type names. The simulator builds the same :class:`~tidb2mysql.events.TableSchema`
from the MariaDB source, plus what it needs to turn PyMySQL's values into the native values of
:mod:`tidb2mysql.events` (ENUM/SET members, BIT, generated columns, nullability).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tidb2mysql.events import TableSchema

_MEMBERS = re.compile(r"'((?:[^']|'')*)'")


@dataclass
class ColumnMeta:
    name: str
    mysql_type: str  # Drainer's name (json for MariaDB's longtext + json_valid check)
    column_type: str  # full MariaDB COLUMN_TYPE, e.g. "int(10) unsigned"
    nullable: bool
    unsigned: bool
    generated: bool
    flen: int
    decimal: int
    members: tuple[str, ...] = ()  # ENUM / SET members in order


@dataclass
class TableMeta:
    database: str
    name: str
    columns: list[ColumnMeta]
    pk: tuple[int, ...]
    unique_keys: tuple[tuple[str, tuple[int, ...]], ...]
    schema: TableSchema = field(init=False)

    def __post_init__(self) -> None:
        self.schema = TableSchema(
            schema=self.database,
            table=self.name,
            columns=tuple(c.name for c in self.columns),
            types=tuple(c.mysql_type for c in self.columns),
            flen=tuple(c.flen for c in self.columns),
            decimal=tuple(c.decimal for c in self.columns),
            pk=self.pk,
            unique_keys=self.unique_keys,
            unsigned=tuple(i for i, c in enumerate(self.columns) if c.unsigned),
        )

    @property
    def writable(self) -> list[ColumnMeta]:
        return [c for c in self.columns if not c.generated]


def _flen_decimal(row: dict[str, Any], mysql_type: str) -> tuple[int, int]:
    """TiDB's FieldType.Flen / Decimal for a column (-1 where unspecified)."""
    if mysql_type in ("char", "varchar", "binary", "varbinary"):
        return int(row["CHARACTER_MAXIMUM_LENGTH"] or 0), -1
    if mysql_type == "decimal":
        return int(row["NUMERIC_PRECISION"]), int(row["NUMERIC_SCALE"])
    if mysql_type == "bit":
        return int(row["NUMERIC_PRECISION"]), 0
    if mysql_type in ("datetime", "timestamp", "time"):
        fsp = int(row["DATETIME_PRECISION"] or 0)
        base = {"datetime": 19, "timestamp": 19, "time": 10}[mysql_type]
        return base + (fsp + 1 if fsp else 0), fsp
    if mysql_type in ("float", "double"):
        return -1, -1
    if mysql_type in ("tinyint", "smallint", "mediumint", "int", "bigint"):
        m = re.search(r"\((\d+)\)", row["COLUMN_TYPE"])
        return (int(m.group(1)) if m else int(row["NUMERIC_PRECISION"] or 0)), 0
    if mysql_type == "year":
        return 4, 0
    return -1, -1


def column_from_row(row: dict[str, Any], json_columns: set[str]) -> ColumnMeta:
    data_type = row["DATA_TYPE"].lower()
    mysql_type = "json" if row["COLUMN_NAME"] in json_columns and data_type == "longtext" else data_type
    column_type = row["COLUMN_TYPE"]
    members: tuple[str, ...] = ()
    if mysql_type in ("enum", "set"):
        members = tuple(m.replace("''", "'") for m in _MEMBERS.findall(column_type))
    flen, dec = _flen_decimal(row, mysql_type)
    extra = (row["EXTRA"] or "").upper()
    return ColumnMeta(
        name=row["COLUMN_NAME"],
        mysql_type=mysql_type,
        column_type=column_type,
        nullable=row["IS_NULLABLE"] == "YES",
        unsigned="unsigned" in column_type.lower(),
        generated="VIRTUAL" in extra or "STORED" in extra or "PERSISTENT" in extra or "GENERATED" in extra,
        flen=flen,
        decimal=dec,
        members=members,
    )


def read_table(conn, database: str, table: str) -> TableMeta:
    import pymysql

    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, EXTRA, CHARACTER_MAXIMUM_LENGTH,"
            " NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION FROM information_schema.COLUMNS"
            " WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s ORDER BY ORDINAL_POSITION",
            (database, table),
        )
        rows = list(cur.fetchall())
        if not rows:
            raise LookupError(f"table {database}.{table} does not exist on the source")
        json_columns = set()
        try:  # MariaDB's JSON is a LONGTEXT with a json_valid() check; TiDB's is a type of its own
            cur.execute(
                "SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
                " WHERE CONSTRAINT_SCHEMA=%s AND TABLE_NAME=%s",
                (database, table),
            )
            checks = cur.fetchall()
        except pymysql.MySQLError as e:
            if e.args[0] != 1146:  # TiDB 7.0 has no CHECK_CONSTRAINTS table
                raise
            checks = ()
        for r in checks:
            m = re.fullmatch(r"\s*json_valid\(`((?:[^`]|``)+)`\)\s*", r["CHECK_CLAUSE"] or "")
            if m:
                json_columns.add(m.group(1).replace("``", "`"))
        cur.execute(
            "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS"
            " WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s AND NON_UNIQUE=0 ORDER BY INDEX_NAME, SEQ_IN_INDEX",
            (database, table),
        )
        keys: dict[str, list[str]] = {}
        for r in cur.fetchall():
            keys.setdefault(r["INDEX_NAME"], []).append(r["COLUMN_NAME"])
    columns = [column_from_row(r, json_columns) for r in rows]
    index = {c.name: i for i, c in enumerate(columns)}
    pk = tuple(index[c] for c in keys.get("PRIMARY", ()))
    uks = sorted(keys.items(), key=lambda kv: (kv[0] != "PRIMARY", kv[0]))
    return TableMeta(database, table, columns, pk, tuple((n, tuple(index[c] for c in cols)) for n, cols in uks))
