"""Pages as LOAD DATA text, built by the source server; fed to the target from memory.

The bulk path of the full load (``[full_load] method = "load_data"``, the default):

* **Read.** One statement per keyset page returns the whole page as ONE value: the source
  server renders every row as a tab-separated line in ``LOAD DATA``'s default escaping and
  joins the page with ``GROUP_CONCAT`` (``page_text_sql``). The client reads one row per
  page instead of parsing ~10 fields per row in pure Python (PyMySQL): about 0.3 us of
  client CPU per row instead of ~7.
* **Write.** ``LOAD DATA LOCAL INFILE`` of those bytes (``load_sql``), sent from memory
  through :func:`install_memory_infile` (no file is ever written or opened).

Per column (by the source's ``information_schema`` DATA_TYPE):

==========================  =====================================  ==========================
source type                 text in the line                        loaded as
==========================  =====================================  ==========================
FLOAT                       ``col + 0E0`` (the exact float32 value  the column (the server
                            as a DOUBLE, printed round-trip exact)  rounds the double text to
                                                                    the same float32)
BINARY/VARBINARY/BLOB, BIT  ``HEX(col)``                            ``@v``, ``SET c=UNHEX(@v)``
CHAR/VARCHAR/TEXT, ENUM,    ``CONVERT(col USING utf8mb4)``,         the column (CHARACTER SET
SET, JSON                   then ``\\`` ``TAB`` ``LF`` escaped      utf8mb4: converted to the
                                                                    column's own charset)
everything else (integers,  the column's own text (what the text    the column
DECIMAL, DOUBLE, dates,     protocol sends; TIMESTAMP in the
TIME, YEAR)                 session time zone, +00:00)
NULL                        ``\\N``                                 NULL
==========================  =====================================  ==========================

Escapes are written with hex literals (``X'5C'``...), so they do not depend on the source's
``sql_mode`` (NO_BACKSLASH_ESCAPES). Hex literals make the line a binary string: no
collation mixing between columns, and the bytes are exactly the utf8mb4 text, because
every text column was converted to utf8mb4 first. Binary data never reaches LOAD DATA's
parser raw (hex), so a byte sequence that looks like a multi-byte character cannot swallow a
separator.

A page whose text would not fit the source's ``group_concat_max_len`` (set to its
``max_allowed_packet``) is detected (lines != rows) and re-read row by row
(``row_text_sql``); keyless chunks are always read row by row (unbuffered cursor).
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from tidb2mysql.mysql import load_data
from tidb2mysql.mysql.sql import literal, quote_ident

HEX_TYPES = load_data.BINARY_TYPES | {"bit"}  # read as HEX(col) from the source
TEXT_TYPES = frozenset({"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json"})
PLAIN_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
                         "double", "real", "date", "datetime", "timestamp", "time", "year"})
NUMBER_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric",
                          "double", "real", "float", "year"})

NULL = b"\\N"


def column_expr(col: str, dtype: str) -> str:
    """SQL for one column's field text (binary string), ``\\N`` for NULL."""
    q = quote_ident(col)
    if dtype == "float":
        e = f"({q} + 0E0)"
    elif dtype in HEX_TYPES:
        e = f"HEX({q})"
    elif dtype in PLAIN_TYPES:
        e = q
    else:  # text, ENUM, SET, JSON, and anything unknown: escaped utf8mb4 text
        e = (f"REPLACE(REPLACE(REPLACE(CONVERT({q} USING utf8mb4), X'5C', X'5C5C'), X'09', X'5C74'),"
             f" X'0A', X'5C6E')")
    return f"IFNULL({e}, X'5C4E')"


def line_expr(columns: Sequence[str], types: Sequence[str]) -> str:
    """SQL for a whole row as one tab-separated line (no terminator)."""
    parts = [column_expr(c, t) for c, t in zip(columns, types)]
    if len(parts) == 1:
        return f"CONCAT({parts[0]})"
    return "CONCAT(" + ", X'09', ".join(parts) + ")"


def page_text_sql(tp, rows_sql_where: str, limit: int) -> str:
    """One keyset page as ``(row count, the page's lines joined by LF, in key order)``.

    ``rows_sql_where`` is the page's ``FROM ... WHERE ...`` (without ORDER BY / LIMIT)."""
    keys = [quote_ident(k) for k in tp.key]
    inner_keys = ", ".join(f"{k} AS `_k{i}`" for i, k in enumerate(keys))
    order = ", ".join(f"`_k{i}`" for i in range(len(keys)))
    inner = (f"SELECT {inner_keys}, {line_expr(tp.columns, tp.types)} AS `_l` {rows_sql_where}"
             f" ORDER BY {', '.join(keys)} LIMIT {int(limit)}")
    # a hidden key (TiDB's _tidb_rowid) is not in the lines: the page's last key comes as a third value
    last = ", MAX(`_k0`)" if getattr(tp, "hidden_key", False) else ""
    # SEPARATOR takes a string literal on TiDB (its parser refuses X'0A' there, error 1064; MySQL and
    # MariaDB take either): a quoted raw LF byte, which means LF whatever NO_BACKSLASH_ESCAPES says.
    return (f"SELECT COUNT(*), GROUP_CONCAT(`_l` ORDER BY {order} SEPARATOR '\n'){last}"
            f" FROM ({inner}) AS `_p`")


def row_text_sql(tp, rows_sql_where: str, limit: Optional[int]) -> str:
    """The same lines one row each (fallback for a page too large for GROUP_CONCAT; keyless)."""
    hidden = f", {quote_ident(tp.key[0])}" if getattr(tp, "hidden_key", False) else ""  # the key, 2nd value
    sql = f"SELECT {line_expr(tp.columns, tp.types)}{hidden} {rows_sql_where}"
    if tp.key:
        sql += " ORDER BY " + ", ".join(quote_ident(k) for k in tp.key)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql


_UNESCAPE = re.compile(rb"\\(.)", re.S)
_UNESC = {b"n": b"\n", b"t": b"\t", b"\\": b"\\", b"0": b"\0", b"r": b"\r", b"b": b"\b", b"Z": b"\x1a"}


def unescape(field: bytes) -> bytes:
    if b"\\" not in field:
        return field
    return _UNESCAPE.sub(lambda m: _UNESC.get(m.group(1), m.group(1)), field)


def field_literal(field: bytes, dtype: str) -> str:
    """The SQL literal of one field of a line (used for the keyset position after a page)."""
    if field == NULL:
        return "NULL"
    if dtype == "bit":
        return str(int(field.decode("ascii") or "0", 16))
    if dtype in HEX_TYPES:
        return literal(bytes.fromhex(field.decode("ascii")))
    if dtype in NUMBER_TYPES:
        return field.decode("ascii")
    return literal(unescape(field).decode("utf-8"))


def last_line(data: bytes) -> bytes:
    i = data.rfind(b"\n")
    return data if i < 0 else data[i + 1:]


def key_literals(tp, line: bytes) -> list:
    """The key of the row ``line`` holds, as SQL literals (like ``literal()`` of the native values)."""
    fields = line.split(b"\t")
    return [field_literal(fields[i], tp.types[i]) for i in tp.key_positions()]


def row_key_text(tp, data: bytes, row: int = 1) -> str:
    """The key (or, keyless, the values) of the ``row``-th line (1-based) for error messages,
    written like a Python tuple of literals: ``(6,)``, ``('a', 3)``."""
    start = 0
    for _ in range(row - 1):
        i = data.find(b"\n", start)
        if i < 0:
            return "?"
        start = i + 1
    end = data.find(b"\n", start)
    line = data[start:] if end < 0 else data[start:end]
    fields = line.split(b"\t")
    pos = tp.key_positions() if tp.key and not getattr(tp, "hidden_key", False) else range(len(fields))
    vals = [field_literal(fields[p], tp.types[p]) for p in pos if p < len(fields)]
    return "(" + ", ".join(vals) + ("," if len(vals) == 1 else "") + ")"


def first_key_text(tp, data: bytes) -> str:
    return row_key_text(tp, data, 1)


# -- the LOAD DATA statement ---------------------------------------------------------------


def load_sql(table_ref: str, target_columns: Sequence[str], source_types: Sequence[str], replace: bool,
             token: str) -> str:
    """``LOAD DATA LOCAL INFILE`` of one page's lines into ``table_ref`` (mysql/load_data.py).

    ``replace``: rows whose key exists are replaced (the upsert of a resumed chunk). Without
    it, LOCAL means IGNORE semantics (a duplicate key or a bad value is only a warning), so
    the writer treats every warning as an error."""
    kinds = [load_data.HEX if t in HEX_TYPES else load_data.PLAIN for t in source_types]
    return load_data.load_statement(table_ref, [quote_ident(c) for c in target_columns], kinds, replace, token)


# feeding LOAD DATA LOCAL from memory: one implementation, in the target layer
TOKEN_PREFIX, SEND_CHUNK = load_data.TOKEN_PREFIX, load_data.SEND_CHUNK
install_memory_infile = load_data.install_memory_infile
