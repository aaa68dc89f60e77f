"""The canonical row rendering and the SQL that checksums, splits and reads key ranges.

Why a rendering at all: a chunk is compared by one aggregate query per side, so both servers
must turn the same row into the same bytes, whatever their flavour (TiDB, MySQL, MariaDB),
column collation or session. Each column becomes a text that is either the value's bytes in
hex or a number/date text, ``N`` for NULL, joined by ``,``:

* **character types** (CHAR, VARCHAR, TEXT, ENUM, SET, JSON): ``HEX(CONVERT(c USING
  utf8mb4))`` - the bytes, so a case-insensitive or PAD SPACE collation cannot make 'a' equal
  'A' or 'x' equal 'x ', and a latin1 column equals its utf8mb4 copy. HEX output has no ``,``
  and no ``N``, so the joined text is unambiguous; ``''`` (empty hex) is not ``N`` (NULL).
* **binary types**: ``HEX(c)``.
* **FLOAT**: ``c + 0E0``, a DOUBLE holding the exact float32 value: the text protocol prints
  FLOAT with 6 significant digits, so 0.1 and 0.1000001 would look equal. DOUBLE prints in
  full (shortest round-trip text) on every flavour.
* **BIT**: ``c + 0`` (the integer; HEX of a BIT differs between flavours).
* **TIMESTAMP** and other temporal types: their text, in a session with ``time_zone =
  '+00:00'`` on both sides (:data:`SESSION_SETUP`).
* numbers (integers, DECIMAL, YEAR): their text (DECIMAL keeps its scale: 1.0 vs 1.00 differ).

A row's hash is CRC32 of that text (``[verify] hash = "md5"``: the first 64 bits of MD5); a
range's checksum is ``COUNT(*)``, ``SUM(h)`` (exact DECIMAL) and ``BIT_XOR(h)``. The sum keeps
duplicate rows of key-less tables from cancelling out under XOR, and two different rows would
have to collide in both aggregates to hide each other.

**The checksum is only a filter.** A range whose checksums agree is taken as equal; one whose
checksums differ is narrowed down to rows, and the rows are then read with the driver and
compared value by value (``compare.values_equal``, JSON by its parsed value). So a rendering
that differs between two flavours for equal values (possible for DOUBLE exponent notation or
JSON text between TiDB and MySQL, which the test stack cannot show) only costs time: more
ranges are narrowed down, no difference is invented. The reverse - equal checksums over
different rows - needs a hash collision in both the XOR and the SUM of the range (CRC32: a
difference in a single row is always caught when it spans at most 32 bits of its text, else
with probability 1 - 2^-32; MD5 where that is not enough).

TiDB specifics: none of the expressions above is TiDB-only; the TiDB-only SQL (``tidb_snapshot``,
``@@tidb_current_ts``) lives in :mod:`tidb2mysql.verify.snapshot`.
"""

from __future__ import annotations

from typing import Optional, Sequence

from tidb2mysql.fullload.chunking import key_compare
from tidb2mysql.mysql.sql import quote_ident, table_ref

CHAR_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json"})
BINARY_TYPES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob",
                          "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                          "multipolygon", "geometrycollection"})

# Both sides of every verify session: TIMESTAMP rendered in UTC, long values sortable.
SESSION_SETUP = ("SET SESSION time_zone = '+00:00', net_write_timeout = 3600, "
                 "max_sort_length = 8388608, group_concat_max_len = 1073741824")


def column_expr(column: str, data_type: str) -> str:
    """The canonical text of one column (never NULL: ``N`` stands for NULL)."""
    c = quote_ident(column)
    t = data_type.lower()
    if t in CHAR_TYPES:
        e = f"HEX(CONVERT({c} USING utf8mb4))"
    elif t in BINARY_TYPES:
        e = f"HEX({c})"
    elif t == "float":
        e = f"({c} + 0E0)"
    elif t == "bit":
        e = f"({c} + 0)"
    else:
        e = c
    return f"IFNULL({e},'N')"


def row_text(columns: Sequence[str], types: Sequence[str]) -> str:
    return "CONCAT_WS(','," + ",".join(column_expr(c, t) for c, t in zip(columns, types)) + ")"


HASHES = ("crc32", "md5")
HASH = "crc32"  # set from [verify] hash by the runner (one process, one verify)


def row_hash(columns: Sequence[str], types: Sequence[str], kind: str = "") -> str:
    """An unsigned hash of the canonical row text: CRC32 (default: 2-4x cheaper on the servers
    than MD5, and it detects every difference confined to 32 consecutive bits of one row's
    text, such as a FLOAT's last bit) or the first 64 bits of MD5."""
    kind = kind or HASH
    if kind == "md5":
        return f"CAST(CONV(LEFT(MD5({row_text(columns, types)}),16),16,10) AS UNSIGNED)"
    return f"CRC32({row_text(columns, types)})"


def range_where(key: Sequence[str], lo: Optional[list], hi: Optional[list]) -> str:
    """``[lo, hi)`` over ``key`` (SQL literals; None = open), or '' for the whole table."""
    parts = []
    if lo is not None:
        parts.append(key_compare(key, lo, ">="))
    if hi is not None:
        parts.append(key_compare(key, hi, "<"))
    return " AND ".join(parts)


def checksum_sql(schema: str, table: str, columns, types, key, lo, hi) -> str:
    """``COUNT(*), SUM(h), BIT_XOR(h)`` over ``[lo, hi)`` (NULL sums for an empty range)."""
    where = range_where(key, lo, hi)
    return (f"SELECT COUNT(*), SUM(h), BIT_XOR(h) FROM (SELECT {row_hash(columns, types)} AS h "
            f"FROM {table_ref(schema, table)}{' WHERE ' + where if where else ''}) verify_rows")


def key_select(key: Sequence[str], types_of_key: Sequence[str]) -> str:
    """Key columns as the driver should read them (FLOAT widened to its exact DOUBLE)."""
    return ",".join(f"({quote_ident(k)} + 0E0)" if t == "float" else quote_ident(k) for k, t in zip(key, types_of_key))


def split_point_sql(schema: str, table: str, key, key_types, lo, hi, offset: int) -> str:
    """The key at ``offset`` rows into ``[lo, hi)`` (the bisection's cut)."""
    where = range_where(key, lo, hi)
    order = ",".join(quote_ident(k) for k in key)
    return (f"SELECT {key_select(key, key_types)} FROM {table_ref(schema, table)}"
            f"{' WHERE ' + where if where else ''} ORDER BY {order} LIMIT 1 OFFSET {int(offset)}")


def row_hashes_sql(schema: str, table: str, columns, types, key, key_types, lo, hi) -> str:
    """Per row: the key, then the row hash, over ``[lo, hi)``."""
    where = range_where(key, lo, hi)
    return (f"SELECT {key_select(key, key_types)},{row_hash(columns, types)} FROM {table_ref(schema, table)}"
            f"{' WHERE ' + where if where else ''}")


def select_list(columns: Sequence[str], types: Sequence[str]) -> str:
    return ",".join(f"({quote_ident(c)} + 0E0)" if t == "float" else quote_ident(c) for c, t in zip(columns, types))


def rows_by_keys_sql(schema: str, table: str, columns, types, key, keys_literals: Sequence[Sequence[str]],
                     lock: bool = False) -> str:
    """Whole rows whose key is one of ``keys_literals`` (lists of SQL literals)."""
    if len(key) == 1:
        where = f"{quote_ident(key[0])} IN ({','.join(k[0] for k in keys_literals)})"
    else:
        where = " OR ".join("(" + " AND ".join(f"{quote_ident(c)} = {v}" for c, v in zip(key, k)) + ")"
                            for k in keys_literals)
    return (f"SELECT {select_list(columns, types)} FROM {table_ref(schema, table)} WHERE {where}"
            + (" FOR UPDATE" if lock else ""))


def hash_counts_sql(schema: str, table: str, columns, types) -> str:
    """Key-less tables: how many rows have each row hash."""
    return (f"SELECT h, COUNT(*) FROM (SELECT {row_hash(columns, types)} AS h FROM {table_ref(schema, table)}) "
            f"verify_rows GROUP BY h")


def rows_by_hash_sql(schema: str, table: str, columns, types, hashes: Sequence[int], lock: bool = False) -> str:
    """Key-less tables: every row whose hash is one of ``hashes``, with its hash last."""
    h = row_hash(columns, types)
    return (f"SELECT {select_list(columns, types)},{h} FROM {table_ref(schema, table)} "
            f"WHERE {h} IN ({','.join(str(int(x)) for x in hashes)})" + (" FOR UPDATE" if lock else ""))


def row_match(columns: Sequence[str], literals: Sequence[str], types: Sequence[str]) -> str:
    """A full-row match for a key-less row: NULL-safe, FLOAT compared as its exact DOUBLE,
    character columns by their bytes (a case-insensitive collation must not match 'A' for 'a')."""
    parts = []
    for c, v, t in zip(columns, literals, types):
        q = quote_ident(c)
        if v == "NULL":
            parts.append(f"{q} IS NULL")
        elif t == "float":
            parts.append(f"({q} + 0E0) = {v}")
        elif t.lower() in CHAR_TYPES:
            parts.append(f"CAST(CONVERT({q} USING utf8mb4) AS BINARY) = CAST(CONVERT({v} USING utf8mb4) AS BINARY)")
        else:
            parts.append(f"{q} = {v}")
    return " AND ".join(parts) if parts else "1=1"
