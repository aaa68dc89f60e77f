"""Typed change events: the contract between decoding, routing, batching and applying.

A Drainer Kafka message becomes exactly one event:

* :class:`Txn` - one upstream transaction (all tables, all rows), or
* :class:`DDL` - one DDL job.

Row images are tuples of *native* Python values, positionally matching
``TableSchema.columns``:

==========================  =======================================================
Drainer ``mysql_type``      Python value
==========================  =======================================================
tinyint .. bigint           ``int`` (signed or unsigned, exact)
float, double               ``float`` (FLOAT arrives as a float32 widened to double)
decimal                     ``decimal.Decimal`` (exact text from TiDB)
bit                         ``int`` (big-endian bytes -> unsigned integer)
date                        ``datetime.date``
datetime                    ``datetime.datetime`` (naive, microseconds = fsp digits)
timestamp                   ``datetime.datetime`` naive **UTC** (converted from the
                            Drainer process's zone, see ``drainer.time_zone``)
time                        ``datetime.timedelta`` (may be negative or > 24 h)
year                        ``int`` (0 for the zero year)
char, varchar, *text        ``str``
binary, varbinary, *blob    ``bytes``
enum                        ``int`` 1-based index (0 = the empty/invalid value)
set                         ``int`` bitmask (bit 0 = first member)
json                        ``str`` (JSON text as TiDB rendered it)
NULL                        ``None``
==========================  =======================================================

Dates MySQL allows but Python cannot represent (``0000-00-00``, ``2020-00-00``,
``0000-00-00 00:00:00``) stay ``str`` in MySQL's own text form, which every MySQL
accepts back under a sql_mode without NO_ZERO_DATE/NO_ZERO_IN_DATE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Collection, Optional

from tidb2mysql.errors import InputDataError

Row = tuple[Any, ...]  # a row image: tuple of native values, positional to TableSchema.columns


class Op(IntEnum):
    """Kind of row change. Numbers equal Drainer's ``MutationType``."""

    INSERT = 0
    UPDATE = 1
    DELETE = 2


@dataclass(frozen=True, slots=True)
class TableSchema:
    """The table structure a message carries (``Table.column_info`` + ``unique_keys``).

    Drainer fills ``column_info`` from its *latest* known structure of the table, so
    build SQL from each message's own schema, never from a cached one.
    """

    schema: str
    table: str
    columns: tuple[str, ...]
    types: tuple[str, ...]  # lower-case mysql_type per column, as Drainer reports it
    flen: tuple[int, ...] = ()
    decimal: tuple[int, ...] = ()
    pk: tuple[int, ...] = ()  # indexes of primary-key columns (ColumnInfo.is_primary_key)
    # (key name, column indexes); "PRIMARY" first when the table has a primary key.
    unique_keys: tuple[tuple[str, tuple[int, ...]], ...] = ()
    # Indexes of UNSIGNED integer columns. Drainer does not carry signedness (only which
    # of int64_value/uint64_value is set), so the decoder leaves this empty; the
    # simulator knows it and the encoder needs it to pick uint64_value vs int64_value.
    unsigned: tuple[int, ...] = ()
    # Derived once (read for every row change by routing and merging): see the property.
    _secondary_uk: bool = field(init=False, repr=False, compare=False, default=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_secondary_uk", _secondary_unique_key(self.unique_keys))

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"

    def column_specs(self) -> list[tuple[str, int, int, bool]]:
        """(type, flen, decimal, unsigned) per column, for encoders (flen/decimal 0 when absent)."""
        n = len(self.columns)
        flen = self.flen or (0,) * n
        dec = self.decimal or (0,) * n
        if len(self.types) != n or len(flen) != n or len(dec) != n:
            raise ValueError(f"table {self.qualified}: columns, types, flen and decimal differ in length")
        unsigned = set(self.unsigned)
        return [(self.types[i], flen[i], dec[i], i in unsigned) for i in range(n)]

    @property
    def has_secondary_unique_key(self) -> bool:
        try:
            return self._secondary_uk
        except AttributeError:  # unpickled from a snapshot written before the field existed
            return _secondary_unique_key(self.unique_keys)


def _secondary_unique_key(unique_keys: tuple[tuple[str, tuple[int, ...]], ...]) -> bool:
    return any(name != "PRIMARY" for name, _ in unique_keys)


@dataclass(slots=True)
class RowChange:
    """One row change.

    * INSERT: ``new`` is the inserted row, ``old`` is None.
    * UPDATE: ``new`` is the after image, ``old`` the before image (Drainer's
      ``row`` / ``change_row``).
    * DELETE: ``old`` is the deleted row, ``new`` is None.
    """

    op: Op
    new: Optional[Row]
    old: Optional[Row]


@dataclass(slots=True)
class TableChanges:
    """All changes of one transaction to one table, in statement order.

    ``rows`` is a list, or (a table none of whose rows a scaled-out reader applies) the
    not-walked :class:`~tidb2mysql.drainer.decode.UnwalkedRows`: sized and iterable only."""

    schema: TableSchema
    rows: Collection[RowChange]


@dataclass(slots=True)
class KafkaPosition:
    """Where an event came from: Kafka coordinates of its message."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"topic {self.topic!r} partition {self.partition} offset {self.offset}"


@dataclass(slots=True)
class Txn:
    """One upstream transaction (one Drainer DML message)."""

    commit_ts: int
    tables: list[TableChanges]
    position: Optional[KafkaPosition] = None

    @property
    def row_count(self) -> int:
        return sum(len(t.rows) for t in self.tables)


@dataclass(slots=True)
class DDL:
    """One DDL job (one Drainer DDL message).

    ``schema``/``table`` are Drainer's: for RENAME TABLE the *new* names, for
    CREATE/DROP DATABASE the database and an empty table. ``query`` is TiDB's
    original statement text and may hold TiDB-only syntax.
    """

    commit_ts: int
    schema: str
    table: str
    query: str
    position: Optional[KafkaPosition] = None


Event = Txn | DDL


class InputDecodeError(InputDataError, ValueError):
    """A Kafka message that cannot be decoded, in any input format.

    Names where it came from (topic, partition, offset) and why, and carries the position
    and payload size so the caller can dead-letter it. Each format's decoder raises its own
    subclass (``DrainerDecodeError``, ``TiCDCDecodeError``), so callers catch this one.
    """

    def __init__(self, position: KafkaPosition, payload_size: int, reason: str, what: str = "message"):
        self.position = position
        self.payload_size = payload_size
        self.reason = reason
        super().__init__(f"cannot decode {what} at {position} ({payload_size} bytes): {reason}")


def tso_physical_ms(commit_ts: int) -> int:
    """Physical wall-clock milliseconds of a TiDB TSO (``commit_ts >> 18``)."""
    return commit_ts >> 18


def make_tso(physical_ms: int, logical: int = 0) -> int:
    """Compose a TiDB TSO from physical milliseconds and an 18-bit logical counter."""
    if not 0 <= logical < (1 << 18):
        raise ValueError(f"logical part {logical} out of range 0..{(1 << 18) - 1}")
    return (physical_ms << 18) | logical


__all__ = [
    "DDL",
    "Event",
    "InputDecodeError",
    "Op",
    "KafkaPosition",
    "Row",
    "RowChange",
    "TableChanges",
    "TableSchema",
    "Txn",
    "make_tso",
    "tso_physical_ms",
]
