"""TiCDC column values <-> the native values of :mod:`tidb2mysql.events`, per column type.

TiCDC's mounter (``cdc/entry/mounter.go`` ``formatColVal``) turns every TiKV datum into a Go
value before any codec sees it; both Kafka codecs then print that Go value (docs/ticdc.md):

=====================  ==========================  ===================================
column type            Go value (mounter)          native value (tidb2mysql.events)
=====================  ==========================  ===================================
tinyint .. bigint      int64 / uint64 (unsigned)   int
year                   int64                       int
float                  float32                     float (the float32, widened)
double                 float64                     float
decimal                string (exact text)         Decimal
bit                    uint64                      int
enum                   uint64 (1-based index)      int index
set                    uint64 (bitmask)            int bitmask
date/datetime          string (fsp digits)         date / naive datetime (zero dates: str)
timestamp              string, changefeed tz       naive UTC datetime (zero: str)
time                   string (Duration text)      timedelta
char .. longtext       []byte (UTF-8)              str
binary .. longblob     []byte                      bytes
json                   string (TiDB's text)        str
=====================  ==========================  ===================================

Nothing here loses information: ENUM and SET travel as their index / bitmask (not as member
text), BIT as an integer, DECIMAL as exact text; FLOAT texts are rounded to float32 exactly
(:func:`float32_from_text`). The two codecs differ only in how they print the Go value
(canal-json: every value a JSON string; open protocol: JSON numbers, base64 for blobs, Go
quoting for binary strings) - see ``canal_json.py`` and ``open_protocol.py``.

This module holds the per-type parts both codecs share: the type vocabulary, the text
parsers (from :mod:`tidb2mysql.drainer.values`, so TiDB's text is read in one place) and the
"Go value text" renderer the encoders and the index-value dispatcher need.
"""

from __future__ import annotations

import re
import struct
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable

from tidb2mysql.drainer import values as dv

INT_TYPES = dv.INT_TYPES
TEXT_TYPES = dv.TEXT_TYPES
BINARY_TYPES = dv.BINARY_TYPES

_INT_RE = re.compile(r"-?\d{1,20}")
_UINT_RE = re.compile(r"\d{1,20}")
_FLOAT_RE = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

# TiDB's binary-charset spellings of the string types (types.TypeToStr with charset binary).
BINARY_OF_TEXT = {"char": "binary", "varchar": "varbinary", "var_string": "varbinary", "tinytext": "tinyblob",
                  "text": "blob", "mediumtext": "mediumblob", "longtext": "longblob"}


# ---------------------------------------------------------------- the decoders' shared state


class TableCache:
    """Per-codec memory of table structures: one TableSchema object (and its value readers)
    per distinct structure seen, so later messages of that structure share them (the router
    caches by schema identity) and readers are built once. Bounded: structures change with DDL."""

    LIMIT = 10_000

    def __init__(self, time_zone: str):
        self.time_zone = time_zone
        self._zone = dv.zone_for(time_zone)
        self._tables: dict[tuple, tuple[Any, list]] = {}

    def _cached(self, key: tuple) -> tuple[Any, list] | None:
        return self._tables.get(key)

    def _remember(self, key: tuple, entry: tuple[Any, list]) -> tuple[Any, list]:
        if len(self._tables) > self.LIMIT:
            self._tables.clear()
        self._tables[key] = entry
        return entry


# ---------------------------------------------------------------- float32, exactly


def _f32(d: float) -> float:
    return struct.unpack("<f", struct.pack("<f", d))[0]


def _f32_neighbours(f: float) -> list[float]:
    """The finite float32 values next to float32 ``f`` (bit patterns +-1; 0 has +-tiny)."""
    if f == 0:
        tiny = struct.unpack("<f", struct.pack("<I", 1))[0]
        return [-tiny, tiny]
    bits = struct.unpack("<I", struct.pack("<f", f))[0]
    out = []
    for b in (bits - 1, bits + 1):
        c = struct.unpack("<f", struct.pack("<I", b & 0xFFFFFFFF))[0]
        if c == c and c not in (float("inf"), float("-inf")):
            out.append(c)
    return out


def float32_from_text(s: str) -> float:
    """The float32 nearest to the decimal ``s`` (ties to even), widened to a Python float.

    Go parses a FLOAT text straight to float32 (``strconv.ParseFloat(s, 32)``). Going
    through the nearest double first can round twice; that only matters when the double lands
    exactly halfway between two float32s (or in the float32 subnormal range), so only then is
    the exact rational compared.
    """
    d = float(s)
    if d != d or d in (float("inf"), float("-inf")):
        raise ValueError(f"FLOAT text {s!r} is not finite")
    try:
        f = _f32(d)
    except OverflowError:
        raise ValueError(f"FLOAT text {s!r} out of the float32 range") from None
    bits = struct.unpack("<Q", struct.pack("<d", d))[0]
    if (bits & 0x1FFFFFFF) != 0x10000000 and not (0 < abs(d) < 1.2e-38):
        return f
    x = Fraction(s)
    best = f
    for c in (f, *_f32_neighbours(f)):
        dc, db = abs(Fraction(c) - x), abs(Fraction(best) - x)
        if dc < db or dc == db and struct.unpack("<I", struct.pack("<f", c))[0] % 2 == 0:
            best = c
    return best


def _fixed(s: str) -> str:
    """A float's shortest digits in Go's 'f' notation (no exponent, no trailing zeros)."""
    return format(Decimal(s).normalize(), "f")


def float32_text(v: float) -> str:
    """Go's ``strconv.FormatFloat(float64(v), 'f', -1, 32)`` of a float32 value."""
    for p in range(1, 10):
        s = f"{v:.{p}g}"
        try:
            if float32_from_text(s) == v:
                return _fixed(s)
        except ValueError:  # rounded past the float32 range: needs more digits
            continue
    return _fixed(repr(v))  # pragma: no cover - 9 digits always round-trip a float32


def float64_text(v: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'f', -1, 64)``."""
    return _fixed(repr(v))


# ---------------------------------------------------------------- text -> native


def parse_int_text(s: str, unsigned: bool) -> int:
    if (_UINT_RE if unsigned else _INT_RE).fullmatch(s) is None:
        raise ValueError(f"invalid {'unsigned ' if unsigned else ''}integer text {s!r}")
    return dv.check_int(int(s), unsigned)


def check_float_text(s: str) -> str:
    if _FLOAT_RE.fullmatch(s) is None:
        raise ValueError(f"invalid floating-point text {s!r}")
    return s


def text_parser(base: str, unsigned: bool, zone: Any) -> Callable[[str], Any]:
    """Parser of one column's value from TiCDC's *text* of the Go value (canal-json prints
    every value as a string; the open protocol prints dates, times, DECIMAL and JSON as text).

    ``base`` is TiDB's lower-case type name (binary spellings included); binary types are
    handled by the caller (their text encoding differs per codec).
    """
    if base in INT_TYPES:
        return lambda s: parse_int_text(s, unsigned)
    if base == "year":
        return lambda s: dv.check_year(parse_int_text(s, False))
    if base in ("bit", "enum", "set"):
        return lambda s: parse_int_text(s, True)
    if base == "float":
        return lambda s: float32_from_text(check_float_text(s))
    if base == "double":
        def dbl(s: str) -> float:
            return dv.check_double(float(check_float_text(s)))
        return dbl
    if base == "decimal":
        return dv.parse_decimal
    if base == "date":
        return dv.parse_date
    if base == "datetime":
        return dv.parse_datetime
    if base == "timestamp":
        return lambda s: dv.timestamp_to_utc(dv.parse_datetime(s, "TIMESTAMP"), zone)
    if base == "time":
        return dv.parse_time
    return _str  # text types, json, and types we do not know (vector, geometry): the text


def _str(s: str) -> str:
    return s


# ---------------------------------------------------------------- native -> Go value text


def go_text_renderer(base: str, flen: int, decimal: int, unsigned: bool, zone: Any) -> Callable[[Any], Any]:
    """Native value -> the Go value TiCDC's mounter holds, printed as TiCDC prints it
    (``canal_entry.go`` ``formatValue``, ``model.ColumnValueString``): ``str`` for every type,
    except ``bytes`` for the binary string types (each codec encodes those its own way).

    Rejects native values TiDB could not have produced for the column (as the Drainer
    encoder does), so the simulator never publishes something a real TiCDC could not.
    """
    if base in INT_TYPES:
        return lambda v: str(dv.check_int(v, unsigned))
    if base == "year":
        return lambda v: str(dv.check_year(v))
    if base == "bit":
        return lambda v: str(dv.check_bit(v, flen))
    if base in ("enum", "set"):
        return lambda v: str(dv.check_enum_set(v))
    if base == "float":
        return lambda v: float32_text(dv.check_float32(v))
    if base == "double":
        return lambda v: float64_text(dv.check_double(v))
    if base == "decimal":
        return dv.decimal_text_renderer(decimal)
    if base == "date":
        return dv.date_text
    fsp = max(decimal, 0)
    if base == "datetime":
        return lambda v: dv.datetime_text(v, fsp)
    if base == "timestamp":
        return lambda v: dv.timestamp_text(v, fsp, zone)
    if base == "time":
        return lambda v: dv.time_text(v, fsp)
    if base in BINARY_TYPES:
        return dv.check_bytes
    if base == "json":
        return lambda v: dv.check_text(v, "JSON")
    return dv.check_text


def go_text_renderers(schema: Any, zone: Any) -> list[Callable[[Any], Any]]:
    """:func:`go_text_renderer` for every column of a ``TableSchema``."""
    return [go_text_renderer(t, flen, dec, uns, zone) for t, flen, dec, uns in schema.column_specs()]


__all__ = [
    "BINARY_OF_TEXT",
    "TableCache",
    "float32_from_text",
    "float32_text",
    "float64_text",
    "go_text_renderer",
    "go_text_renderers",
    "parse_int_text",
    "text_parser",
]
