"""``LOAD DATA LOCAL INFILE`` from memory: the statement, the wire hook, and rows as its text.

Two writers use it. The full load sends pages the *source* server rendered as text
(fullload/tsv.py). The replication writer (replication/writer.py) sends the new rows of a
flush: :class:`RowText` renders native row values (events.py) as the same text.

Why the replication writer loads instead of inserting: for the same rows, the target spends
less CPU on a load than on a multi-row ``INSERT ... ON DUPLICATE KEY UPDATE`` (bench table,
200k rows in 2,000-row transactions on the stack's MariaDB: 4.2-4.7 instead of 5.9-6.7 us of
server CPU per row), and on a small machine the target's CPU is the flow's limit once several
processes apply (docs/performance.md).

The text, per value (``FIELDS TERMINATED BY TAB, ESCAPED BY '\\'``, no enclosing quotes,
``LINES TERMINATED BY LF``; the bytes are UTF-8, ``CHARACTER SET utf8mb4``):

==============================  =====================================  =====================
native value (events.py)        text                                   loaded as
==============================  =====================================  =====================
None                            ``\\N``                                 NULL
int (integers)                  decimal digits                         the column
int (BIT, ENUM index, SET       decimal digits                         ``@v``, ``SET c =
mask, YEAR)                                                            CAST(@v AS UNSIGNED)``
                                                                       (a number, as in an
                                                                       INSERT: text would
                                                                       name an ENUM member,
                                                                       fill BIT's bytes, or
                                                                       read YEAR '0' as 2000)
float                           ``repr`` (shortest exact text)         the column
Decimal                         plain digits (never exponent form)    the column
str (text, JSON, zero dates)    the string; ``\\``, TAB, LF, NUL        the column
                                escaped
bytes (binary columns)          hex digits                             ``@v``, ``SET c =
                                                                       UNHEX(@v)``
datetime / date / time /        MySQL's text form (sql.py's literals,  the column
timedelta                       without quotes)
==============================  =====================================  =====================

A field is read as a *quoted string* would be, so every value whose INSERT literal is a
string (text, temporal values) reads the same either way; numbers are where the two could
differ, hence the CAST for the types above (found by tests/integration/test_writer.py, which
writes every type both ways: YEAR 0 came back as 2000).

A value this table has no exact text for (NaN, infinity, a str that is not valid UTF-8,
bytes in a column not declared binary, any other type) makes :meth:`RowText.encode` return
None: the caller writes those rows with ``INSERT`` statements, which fail or succeed
exactly as before. With LOCAL the server applies IGNORE semantics (a duplicate key or a bad
value is only a warning), so the caller must treat a short count or any warning as "not
loaded as given" (replication/writer.py falls back to the statements for those rows).
"""

from __future__ import annotations

import datetime as _dt
import decimal
from typing import Any, Callable, Optional, Sequence

import pymysql.connections

from tidb2mysql.events import Row

try:  # the C rendering of the same text (setup.py builds it); without it, the Python path below
    from tidb2mysql.mysql._rowtext import encode as _encode
except ImportError:  # pragma: no cover - a build without a C compiler
    _encode = None  # type: ignore[assignment]

# -- the statement -------------------------------------------------------------------------

TOKEN_PREFIX = "tidb2mysql-memory:"
SEND_CHUNK = 1 << 20  # bytes per wire packet (the server accepts up to its max_allowed_packet)

HEX, NUMBER, PLAIN = "hex", "number", "plain"  # how a column's field is assigned (load_statement)


def load_statement(table_ref: str, names: Sequence[str], kinds: Sequence[str], replace: bool, token: str) -> str:
    """``LOAD DATA LOCAL INFILE`` of tab-separated lines into ``table_ref``.

    ``names``: quoted column names; ``kinds[i]``: :data:`PLAIN` (the field is the value),
    :data:`HEX` (``UNHEX`` of the field) or :data:`NUMBER` (the field as an unsigned number).
    ``replace``: rows whose key exists are replaced; without it, LOCAL means IGNORE
    semantics. Separators are hex literals: independent of the session's NO_BACKSLASH_ESCAPES.
    """
    cols, sets = [], []
    for i, (c, kind) in enumerate(zip(names, kinds)):
        if kind == HEX:
            cols.append(f"@`_v{i}`")
            sets.append(f"{c} = UNHEX(@`_v{i}`)")
        elif kind == NUMBER:
            cols.append(f"@`_v{i}`")
            sets.append(f"{c} = CAST(@`_v{i}` AS UNSIGNED)")
        else:
            cols.append(c)
    sql = (f"LOAD DATA LOCAL INFILE '{token}' {'REPLACE ' if replace else ''}INTO TABLE {table_ref}"
           f" CHARACTER SET utf8mb4 FIELDS TERMINATED BY X'09' ENCLOSED BY '' ESCAPED BY X'5C'"
           f" LINES TERMINATED BY X'0A' STARTING BY '' ({', '.join(cols)})")
    if sets:
        sql += " SET " + ", ".join(sets)
    return sql


# Server errors that refuse LOAD DATA LOCAL itself (local_infile turned OFF after a writer
# checked it): 1148 ER_NOT_ALLOWED_COMMAND (MySQL 5.7, older MariaDB), 3948
# ER_CLIENT_LOCAL_FILES_DISABLED (MySQL 8.0), 4166 ER_LOAD_INFILE_CAPABILITY_DISABLED (MariaDB
# 10.11, the stack's: found by tests/integration/test_writer.py).
LOCAL_INFILE_REFUSED = frozenset({1148, 3948, 4166})

# -- feeding LOAD DATA LOCAL from memory ------------------------------------------------------

_installed = False


def install_memory_infile() -> None:
    """Let a PyMySQL connection answer LOAD DATA LOCAL from bytes in memory.

    PyMySQL answers the server's file request with ``open(filename)`` in the module function
    ``pymysql.connections._send_local_file`` (16 KiB packets). Wrapped here: a connection
    with ``_t2m_infile = (token, data)`` answers the request for ``token`` from ``data`` in
    1 MiB packets; a connection with ``_t2m_infile = None`` (between loads) and any request
    for another name are refused (a server can ask for any file; ours only ever gets the
    rows being loaded). Connections without the attribute keep PyMySQL's behaviour."""
    global _installed
    if _installed:
        return
    original = pymysql.connections._send_local_file  # type: ignore[attr-defined]

    def send_local(filename: Any, conn: Any) -> Any:
        if not hasattr(conn, "_t2m_infile"):
            return original(filename, conn)
        if isinstance(filename, (bytes, bytearray)):
            filename = filename.decode("utf-8", "replace")
        infile = conn._t2m_infile
        if infile is None or filename != infile[0]:
            raise pymysql.err.OperationalError(
                2000, f"LOAD DATA LOCAL: the server asked for {filename!r}, not the rows being loaded")
        data = infile[1]
        size = max(16384, min(SEND_CHUNK, int(getattr(conn, "max_allowed_packet", SEND_CHUNK)) - 1024))
        mv = memoryview(data)
        for i in range(0, len(mv), size):
            conn.write_packet(mv[i:i + size])

    pymysql.connections._send_local_file = send_local  # type: ignore[attr-defined]
    _installed = True


def send_from_memory(cur: Any, sql: str, token: str, data: bytes) -> int:
    """Run the LOAD DATA LOCAL statement ``sql`` (naming ``token``) with ``data`` as its file;
    the affected row count. The connection must be opened with ``local_infile=True``."""
    install_memory_infile()
    conn = cur.connection
    conn._t2m_infile = (token, data)
    try:
        return int(cur.execute(sql))
    finally:
        conn._t2m_infile = None


# -- native rows as LOAD DATA text ------------------------------------------------------------

class NoText(Exception):
    """A value without exact LOAD DATA text here (the rows are written with INSERT instead)."""


def _t_str(v: str) -> str:
    # memchr-speed tests first: nearly no value needs escaping
    if "\\" in v or "\t" in v or "\n" in v or "\0" in v:
        return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\0", "\\0")
    return v


def _t_float(v: float) -> str:
    r = repr(v)
    if r[-1] in "fn":  # inf, -inf, nan: no MySQL value
        raise NoText(r)
    return r


def _t_decimal(v: decimal.Decimal) -> str:
    if not v.is_finite():
        raise NoText(str(v))
    s = str(v)
    return format(v, "f") if "E" in s else s


def _t_datetime(v: _dt.datetime) -> str:
    if v.tzinfo is not None:  # as sql.py: an aware value is converted to the session's UTC
        v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return v.isoformat(" ")


def _t_timedelta(v: _dt.timedelta) -> str:
    us = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
    sign = ""
    if us < 0:
        sign, us = "-", -us
    secs, frac = divmod(us, 1_000_000)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    return f"{sign}{h:02d}:{m:02d}:{s:02d}.{frac:06d}" if frac else f"{sign}{h:02d}:{m:02d}:{s:02d}"


def _null(v: None) -> str:
    return "\\N"


# Exact-type dispatch (subclasses such as IntEnum are not on the fast path: NoText, INSERT).
_PLAIN_TEXT: dict[type, Callable[[Any], str]] = {
    int: int.__repr__,
    str: _t_str,
    type(None): _null,
    float: _t_float,
    decimal.Decimal: _t_decimal,
    _dt.datetime: _t_datetime,
    _dt.date: _dt.date.isoformat,
    _dt.timedelta: _t_timedelta,
    _dt.time: lambda v: v.replace(tzinfo=None).isoformat(),
}
_HEX_TEXT: dict[type, Callable[[Any], str]] = {bytes: bytes.hex, type(None): _null}
_NUMBER_TEXT: dict[type, Callable[[Any], str]] = {int: int.__repr__, type(None): _null}
# Column types by name (a target's information_schema DATA_TYPE; Drainer's mysql_type uses the
# same names for these) whose fields are not assigned as text.
BINARY_TYPES = frozenset({"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"})
NUMBER_TYPES = frozenset({"bit", "enum", "set", "year"})


def column_kind(type_name: str) -> str:
    """How a column of type ``type_name`` is loaded (see :func:`load_statement`): what the
    target column is decides it (text into BIT fills its bytes; into ENUM, names a member)."""
    t = type_name.lower()
    if t in BINARY_TYPES:
        return HEX
    if t in NUMBER_TYPES:
        return NUMBER
    return PLAIN


_C_KINDS = {PLAIN: "p", HEX: "h", NUMBER: "n"}
_C_TABLES = (_PLAIN_TEXT, _HEX_TEXT, _NUMBER_TEXT)


class RowText:
    """Rows of native values (the written columns, in order) as LOAD DATA lines.

    Rendered by the C module ``_rowtext`` when it is built (the same text: it renders None,
    int, str, float, naive datetime, plain Decimal and hex bytes itself and calls the functions above for
    every other value; ``encode_python`` is the specification, tests/unit/test_load_data.py
    compares the two). Why: this was the largest CPU cost of the writer threads, ~2 us per
    10-column row in Python (docs/performance.md, twenty-third session)."""

    def __init__(self, kinds: Sequence[str]):
        self.kinds = tuple(kinds)
        tables = {HEX: _HEX_TEXT, NUMBER: _NUMBER_TEXT, PLAIN: _PLAIN_TEXT}
        self._tables = [tables[k] for k in self.kinds]
        # one dict for every column when all are plain (the common table): one lookup per value
        self._uniform = all(k == PLAIN for k in self.kinds)
        self._c_kinds = "".join([_C_KINDS[k] for k in self.kinds]).encode("ascii")

    def encode(self, rows: Sequence[Sequence[Any]]) -> Optional[bytes]:
        """The lines of ``rows`` (each the written columns' values), or None when a value has
        no exact text (:class:`NoText`, an unexpected type, text that is not UTF-8)."""
        if _encode is not None:
            return _encode(rows if rows.__class__ is list else list(rows), self._c_kinds, _C_TABLES, NoText)
        return self.encode_python(rows)

    def encode_python(self, rows: Sequence[Sequence[Any]]) -> Optional[bytes]:
        """:meth:`encode` in Python."""
        try:
            if self._uniform:
                T = _PLAIN_TEXT
                text = "".join(["\t".join([T[v.__class__](v) for v in r]) + "\n" for r in rows])
            else:
                ts = self._tables
                text = "".join(["\t".join([t[v.__class__](v) for t, v in zip(ts, r)]) + "\n" for r in rows])
            return text.encode("utf-8")
        except (KeyError, NoText, UnicodeEncodeError):
            return None


def rows_text(text: RowText, rows: Sequence[Row], pick: Callable[[Row], Sequence[Any]]) -> Optional[bytes]:
    """:meth:`RowText.encode` of the written columns (``pick``) of ``rows``."""
    return text.encode([pick(r) for r in rows])


__all__ = ["BINARY_TYPES", "HEX", "LOCAL_INFILE_REFUSED", "NUMBER_TYPES", "NUMBER", "PLAIN", "NoText", "RowText", "SEND_CHUNK", "TOKEN_PREFIX", "column_kind",
           "install_memory_infile", "load_statement", "rows_text", "send_from_memory"]
