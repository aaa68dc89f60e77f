"""Drainer ``Column`` <-> native Python value, per ``mysql_type``: the one place that knows.

Drainer (``drainer/translator/kafka.go`` ``DatumToColumn``) dispatches on the column's
``mysql_type`` string and fills exactly one value field of ``Column`` (see
docs in /work/shared/research/drainer.md section 1.3). The native values are the ones
documented in :mod:`tidb2mysql.events`.

Decoding is the replication hot path, so it is organised as *converters*: for each
``Table`` of a message, :func:`decoders_for` returns one callable per column (chosen once
from ``column_info``) and the decoder applies them to every row. A converter receives a
non-NULL ``Column`` (the caller tests ``c.is_null``) and returns the native value. Each
converter is a column type's *plan* (:func:`column_plan`: the value field read as a base
value, then a function of it); the C conversion (drainer/_rowscan.c) applies the same plans
to the wire bytes of the rows a process applies, and gives way to these converters whenever
a column is not in the plain form.

Converters read the expected field directly (``c.string_value``) and only fall back to
the slower presence checks (``HasField``/``ListFields``) when the value read is the
zero/empty default, because only then can "the field is set to zero" and "another field
is set" be confused. A non-default value in the expected field is accepted as is.
Anything that cannot belong to the column's type raises :class:`ValueError`; the decoder
turns that into a ``DrainerDecodeError`` that names the message position and column.

Encoding (:func:`encoders_for`) is the reverse and is used by the simulator and tests; it
writes exactly what Drainer writes and rejects native values MySQL cannot hold (NaN and
infinities, out-of-range integers, more fractional digits than the column keeps) with a
clear error instead of writing something different.

TIMESTAMP and time zones: Drainer renders TIMESTAMP values in its process's local zone
(``[drainer] time_zone``); the native value is naive UTC. Local wall times in a DST
*fold* (the repeated hour when clocks go back) are ambiguous in Drainer's text: the
information is lost upstream. We read them as the *first* occurrence (``fold=0``, the
earlier instant, still on summer time), so a value from the second occurrence comes back
one hour early; this is an upstream limitation, not fixable from the message. Wall times
in a DST *gap* never come out of Drainer (Go formats real instants); if one arrives we
apply ``fold=0`` as well (zoneinfo: the offset before the transition). Zero timestamps
(``0000-00-00 00:00:00``) are not zone-converted, as in Drainer.
"""

from __future__ import annotations

import logging
import re
import struct
from datetime import date, datetime, timedelta, timezone
from decimal import Context, Decimal, InvalidOperation
from typing import Any, Callable
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)

ColumnDecoder = Callable[[Any], Any]  # non-NULL Column -> native value
Encoder = Callable[[Any, Any], None]  # (native value, Column to fill) -> None

INT_TYPES = frozenset({"tinyint", "smallint", "mediumint", "int", "bigint"})
FLOAT_TYPES = frozenset({"float", "double"})
TEXT_TYPES = frozenset(
    {"char", "varchar", "var_string", "tinytext", "text", "mediumtext", "longtext"}
)
BINARY_TYPES = frozenset(
    {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
)

INT64_MIN, INT64_MAX, UINT64_MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2}) \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?")
_TIME_RE = re.compile(r"(-?)(\d{1,3}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?")
_YEAR_RE = re.compile(r"\d{1,4}")
_UTC = timezone.utc
_DEC_CTX = Context(prec=200)  # DECIMAL(65,30) needs more than the default 28 digits


def _set_fields(c: Any) -> str:
    names = [f.name for f, _ in c.ListFields() if f.name != "is_null"]
    return ", ".join(names) if names else "no value field"


def _wrong(c: Any, expected: str) -> ValueError:
    return ValueError(f"expected {expected}, got {_set_fields(c)}")


# ---------------------------------------------------------------- decode converters


def _dec_int(c: Any) -> int:
    v = c.int64_value or c.uint64_value
    if v:
        return v
    if c.HasField("int64_value") or c.HasField("uint64_value"):
        return 0
    raise _wrong(c, "int64_value or uint64_value")


def _dec_uint(c: Any) -> int:
    v = c.uint64_value
    if v or c.HasField("uint64_value"):
        return v
    raise _wrong(c, "uint64_value")


def _dec_double(c: Any) -> float:
    v = c.double_value
    if v or c.HasField("double_value"):
        return v
    raise _wrong(c, "double_value")


def _string(c: Any) -> str:
    """The string_value; an absent value field reads as '' (Go's GetStringValue).

    Invalid UTF-8 is an error: protobuf's proto2 parser hands such a ``string`` field over
    as ``bytes`` instead of failing, and bytes must never reach a text column silently."""
    v = c.string_value
    if v.__class__ is str:
        if v or c.HasField("string_value"):
            return v
    else:
        raise ValueError(f"string_value is not valid UTF-8: {bytes(v)[:40]!r}")
    if _set_fields(c) != "no value field":
        raise _wrong(c, "string_value")
    return v


def _bytes(c: Any) -> bytes:
    """The bytes_value; an absent value field reads as b'' (gogo omits nil slices)."""
    v = c.bytes_value
    if v or c.HasField("bytes_value"):
        return v
    if _set_fields(c) != "no value field":
        raise _wrong(c, "bytes_value")
    return v


def parse_decimal(s: str) -> Decimal:
    """TiDB's DECIMAL text -> Decimal (finite only)."""
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"invalid DECIMAL text {s!r}") from None
    if not d.is_finite():
        raise ValueError(f"invalid DECIMAL text {s!r}")
    return d


def bit_value(b: bytes) -> int:
    """BIT(n): Drainer's big-endian bytes -> int."""
    return int.from_bytes(b, "big")


def _zero_part_date(s: str) -> bool:
    return s[0:4] == "0000" or s[5:7] == "00" or s[8:10] == "00"


def parse_date(s: str) -> date | str:
    """``YYYY-MM-DD`` -> date; zero and partial-zero dates stay str."""
    if _DATE_RE.fullmatch(s) is None:
        raise ValueError(f"invalid DATE text {s!r}")
    try:
        return date.fromisoformat(s)
    except ValueError:
        if _zero_part_date(s):
            return s
        raise ValueError(f"invalid DATE text {s!r}") from None


def parse_datetime(s: str, kind: str = "DATETIME") -> datetime | str:
    """``YYYY-MM-DD hh:mm:ss[.ffffff]`` -> naive datetime; zero dates stay str.

    Fast path (one per DATETIME/TIMESTAMP value of every row): the separators at their fixed
    places, ASCII, 0 or 1-6 fraction digits, then ``fromisoformat`` (~50 ns) with a naive
    result. Those together admit exactly what the pattern admits (the digit fields are
    checked by ``fromisoformat``; an offset or ``Z`` suffix fits the length only after a
    fraction and makes the result aware); anything else - zero dates, bad text - takes the
    exact path below. The pattern alone was ~290 ns (tests/unit/test_drainer_values.py
    compares the two paths)."""
    n = len(s)
    if ((n == 19 or (21 <= n <= 26 and s[19] == ".")) and s[4] == "-" and s[7] == "-" and s[10] == " "
            and s[13] == ":" and s[16] == ":" and s.isascii()):
        try:
            v = datetime.fromisoformat(s)
        except ValueError:
            pass
        else:
            if v.tzinfo is None:
                return v
    return _parse_datetime_exact(s, kind)


def _parse_datetime_exact(s: str, kind: str = "DATETIME") -> datetime | str:
    if _DATETIME_RE.fullmatch(s) is None:
        raise ValueError(f"invalid {kind} text {s!r}")
    try:
        return datetime.fromisoformat(s)
    except ValueError:
        if _zero_part_date(s):
            return s
        raise ValueError(f"invalid {kind} text {s!r}") from None


def _timestamp_text(zone: ZoneInfo | None) -> Callable[[str], datetime | str]:
    """TIMESTAMP text as Drainer renders it in ``zone`` -> naive UTC."""
    if zone is None:  # Drainer runs in UTC: nothing to convert
        def ts(s: str) -> datetime | str:
            return parse_datetime(s, "TIMESTAMP")
        return ts

    def ts_zoned(s: str) -> datetime | str:
        return timestamp_to_utc(parse_datetime(s, "TIMESTAMP"), zone)

    return ts_zoned


def timestamp_to_utc(v: datetime | str, zone: ZoneInfo | None) -> datetime | str:
    """A TIMESTAMP read as wall time in ``zone`` -> naive UTC (zero timestamps unchanged)."""
    if zone is None or type(v) is str:
        return v  # zero timestamps are not zone-converted
    return v.replace(tzinfo=zone).astimezone(_UTC).replace(tzinfo=None)


def parse_time(s: str) -> timedelta:
    """``[-]hh:mm:ss[.ffffff]`` (TiDB's Duration text) -> timedelta."""
    m = _TIME_RE.fullmatch(s)
    if m is None:
        raise ValueError(f"invalid TIME text {s!r}")
    sign, h, mi, se, frac = m.groups()
    if int(mi) > 59 or int(se) > 59 or int(h) > 838:
        raise ValueError(f"invalid TIME text {s!r}")
    us = int(frac.ljust(6, "0")) if frac else 0
    td = timedelta(hours=int(h), minutes=int(mi), seconds=int(se), microseconds=us)
    return -td if sign else td


def parse_year(s: str) -> int:
    if _YEAR_RE.fullmatch(s) is None:
        raise ValueError(f"invalid YEAR text {s!r}")
    return int(s)


def json_text(b: bytes) -> str:
    """JSON: Drainer's bytes_value holds the document's UTF-8 text."""
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"JSON value is not valid UTF-8: {e}") from None


# How each column type is converted: the value field it reads, as a base value (the kind:
# "i" int64_value or uint64_value, "u" uint64_value, "d" double_value, "s" string_value, "b"
# bytes_value; "N" and "T" are string_value too, and tell the C conversion that the function is
# DECIMAL's or DATETIME's, whose common text it converts itself, equal to the function's
# result, calling the function for the rest), and a function of that value (None: the base
# value is the native one). The
# Python converters below and the C conversion of drainer/_rowscan.c are both built from it,
# so they cannot disagree on which field a type reads or what becomes of it.
_BASES: dict[str, ColumnDecoder] = {"i": _dec_int, "u": _dec_uint, "d": _dec_double, "s": _string, "b": _bytes,
                                     "N": _string, "T": _string}
_FIXED_PLANS: dict[str, tuple[str, Any]] = {
    "decimal": ("N", parse_decimal),
    "bit": ("b", bit_value),
    "date": ("s", parse_date),
    "datetime": ("T", parse_datetime),
    "time": ("s", parse_time),
    "year": ("s", parse_year),
    "enum": ("u", None),
    "set": ("u", None),
    "json": ("b", json_text),
}
for _t in INT_TYPES:
    _FIXED_PLANS[_t] = ("i", None)
for _t in FLOAT_TYPES:
    _FIXED_PLANS[_t] = ("d", None)
for _t in TEXT_TYPES:
    _FIXED_PLANS[_t] = ("s", None)
for _t in BINARY_TYPES:
    _FIXED_PLANS[_t] = ("b", None)
_warned_types: set[str] = set()


def column_plan(mysql_type: str, zone: ZoneInfo | None) -> tuple[str, Any]:
    """(kind, function or None) of a Drainer ``mysql_type`` (lower-cased here); see above."""
    t = mysql_type.lower()
    if t == "timestamp":
        return "T" if zone is None else "s", _timestamp_text(zone)
    plan = _FIXED_PLANS.get(t)
    if plan is not None:
        return plan
    if t not in _warned_types:
        _warned_types.add(t)
        log.warning("unknown Drainer mysql_type %r: decoding its string_value as text", t)
    return "s", None


def _composed(base: ColumnDecoder, post: Callable[[Any], Any]) -> ColumnDecoder:
    def dec(c: Any) -> Any:
        return post(base(c))
    return dec


def zone_for(time_zone: str) -> ZoneInfo | None:
    """The ZoneInfo for a Drainer time zone name; None when it is UTC (no conversion)."""
    if time_zone in ("UTC", "Etc/UTC", "UCT", "Etc/UCT", "Zulu", "Etc/Zulu"):
        return None
    return ZoneInfo(time_zone)


def decoder_for(mysql_type: str, zone: ZoneInfo | None) -> ColumnDecoder:
    """The converter for one column of Drainer type ``mysql_type`` (its plan, applied to a
    protobuf ``Column``)."""
    kind, post = column_plan(mysql_type, zone)
    return _BASES[kind] if post is None else _composed(_BASES[kind], post)


def decoders_for(types: tuple[str, ...], zone: ZoneInfo | None) -> list[ColumnDecoder]:
    """One converter per column, built once per ``Table`` and applied to each row."""
    return [decoder_for(t, zone) for t in types]


def column_plans(types: tuple[str, ...], zone: ZoneInfo | None) -> tuple[bytes, tuple]:
    """The plans of a table's columns as the C conversion takes them: (kinds, functions)."""
    plans = [column_plan(t, zone) for t in types]
    return "".join([k for k, _ in plans]).encode("ascii"), tuple([f for _, f in plans])


# ---------------------------------------------------------------- encoders


def _check_type(v: Any, types: tuple[type, ...], what: str) -> None:
    if not isinstance(v, types) or isinstance(v, bool) and bool not in types:
        raise ValueError(f"{what} value must be {'/'.join(t.__name__ for t in types)}, got {v!r}")


def check_int(v: Any, unsigned: bool = False) -> int:
    """An integer column's value: an int in the int64 (or uint64) range."""
    if unsigned:
        _check_type(v, (int,), "unsigned integer")
        if not 0 <= v <= UINT64_MAX:
            raise ValueError(f"unsigned integer {v} out of the uint64 range")
        return v
    _check_type(v, (int,), "integer")
    if not INT64_MIN <= v <= INT64_MAX:
        raise ValueError(f"signed integer {v} out of the int64 range")
    return v


def _enc_int(v: Any, c: Any) -> None:
    c.int64_value = check_int(v)


def _enc_uint(v: Any, c: Any) -> None:
    c.uint64_value = check_int(v, True)


def _finite(v: Any, what: str) -> float:
    _check_type(v, (float, int), what)
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError(f"{what} value {v!r}: MySQL has no NaN or infinity")
    return v


def check_double(v: Any) -> float:
    return _finite(v, "DOUBLE")


def check_float32(v: Any) -> float:
    """A FLOAT column's value: finite, rounded to float32 and widened like TiDB."""
    v = _finite(v, "FLOAT")
    try:
        return struct.unpack("<f", struct.pack("<f", v))[0]
    except OverflowError:
        raise ValueError(f"FLOAT value {v!r} out of the float32 range") from None


def _enc_double(v: Any, c: Any) -> None:
    c.double_value = check_double(v)


def _enc_float(v: Any, c: Any) -> None:
    c.double_value = check_float32(v)


def decimal_text_renderer(scale: int) -> Callable[[Any], str]:
    """Native DECIMAL -> TiDB's text for a column of ``scale`` fractional digits."""
    quantum = Decimal(1).scaleb(-scale) if scale >= 0 else None

    def text(v: Any) -> str:
        _check_type(v, (Decimal, int), "DECIMAL")
        d = Decimal(v)
        if not d.is_finite():
            raise ValueError(f"DECIMAL value {v!r}: MySQL has no NaN or infinity")
        if quantum is not None:
            q = d.quantize(quantum, context=_DEC_CTX)
            if q != d:
                raise ValueError(f"DECIMAL value {v} has more than {scale} fractional digits")
            d = q
        if d.is_zero():
            d = abs(d)  # TiDB never prints a negative zero
        return format(d, "f")

    return text


def _decimal_encoder(scale: int) -> Encoder:
    text = decimal_text_renderer(scale)

    def enc(v: Any, c: Any) -> None:
        c.string_value = text(v)

    return enc


def check_bit(v: Any, flen: int) -> int:
    """A BIT(flen) value: an int that fits the column's bytes (flen 0 = unknown: 64 bits)."""
    nbytes = (flen + 7) // 8 if flen > 0 else 8
    _check_type(v, (int,), "BIT")
    if not 0 <= v < (1 << (nbytes * 8)):
        raise ValueError(f"BIT value {v} does not fit BIT({flen})")
    return v


def _bit_encoder(flen: int) -> Encoder:
    nbytes = (flen + 7) // 8 if flen > 0 else 8

    def enc(v: Any, c: Any) -> None:
        c.bytes_value = check_bit(v, flen).to_bytes(nbytes, "big")

    return enc


def _frac(us: int, fsp: int, what: str, v: Any) -> str:
    if fsp <= 0:
        if us:
            raise ValueError(f"{what} value {v!r} has fractional seconds but the column keeps none")
        return ""
    digits = f"{us:06d}"
    if digits[fsp:].strip("0"):
        raise ValueError(f"{what} value {v!r} has more than {fsp} fractional digits")
    return "." + digits[:fsp]


def date_text(v: Any) -> str:
    if isinstance(v, str):
        return _zero_date_text(v, _DATE_RE, "DATE")
    if isinstance(v, datetime) or not isinstance(v, date):
        raise ValueError(f"DATE value must be datetime.date or a zero-date str, got {v!r}")
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"


def _enc_date(v: Any, c: Any) -> None:
    c.string_value = date_text(v)


def _zero_date_text(v: str, pattern: re.Pattern, what: str) -> str:
    if pattern.fullmatch(v) is None or not _zero_part_date(v):
        raise ValueError(f"{what} str value must be a zero or partial-zero date, got {v!r}")
    return v


def _datetime_text(v: datetime, fsp: int, what: str) -> str:
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d} {v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        + _frac(v.microsecond, fsp, what, v)
    )


def datetime_text(v: Any, fsp: int) -> str:
    """Native DATETIME -> TiDB's text with ``fsp`` fractional digits."""
    if isinstance(v, str):
        return _zero_date_text(v, _DATETIME_RE, "DATETIME")
    if not isinstance(v, datetime) or v.tzinfo is not None:
        raise ValueError(f"DATETIME value must be a naive datetime, got {v!r}")
    return _datetime_text(v, fsp, "DATETIME")


def timestamp_text(v: Any, fsp: int, zone: ZoneInfo | None) -> str:
    """Native TIMESTAMP (naive UTC) -> TiDB's text as wall time in ``zone``."""
    if isinstance(v, str):
        return _zero_date_text(v, _DATETIME_RE, "TIMESTAMP")
    if not isinstance(v, datetime) or v.tzinfo is not None:
        raise ValueError(f"TIMESTAMP value must be a naive UTC datetime, got {v!r}")
    if zone is not None:
        v = v.replace(tzinfo=_UTC).astimezone(zone).replace(tzinfo=None)
    return _datetime_text(v, fsp, "TIMESTAMP")


def _datetime_encoder(fsp: int) -> Encoder:
    def enc(v: Any, c: Any) -> None:
        c.string_value = datetime_text(v, fsp)

    return enc


def _timestamp_encoder(fsp: int, zone: ZoneInfo | None) -> Encoder:
    def enc(v: Any, c: Any) -> None:
        c.string_value = timestamp_text(v, fsp, zone)

    return enc


def _time_encoder(fsp: int) -> Encoder:
    def enc(v: Any, c: Any) -> None:
        c.string_value = time_text(v, fsp)

    return enc


def time_text(v: Any, fsp: int) -> str:
    """Native TIME (timedelta) -> TiDB's Duration text with ``fsp`` fractional digits."""
    if not isinstance(v, timedelta):
        raise ValueError(f"TIME value must be datetime.timedelta, got {v!r}")
    us = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
    sign = "-" if us < 0 else ""
    us = abs(us)
    secs, frac = divmod(us, 1_000_000)
    h, rest = divmod(secs, 3600)
    m, s = divmod(rest, 60)
    if h > 838:
        raise ValueError(f"TIME value {v!r} outside -838:59:59..838:59:59")
    return f"{sign}{h:02d}:{m:02d}:{s:02d}" + _frac(frac, fsp, "TIME", v)


def check_year(v: Any) -> int:
    _check_type(v, (int,), "YEAR")
    if not (v == 0 or 1901 <= v <= 2155):
        raise ValueError(f"YEAR value {v} outside 0 and 1901..2155")
    return v


def _enc_year(v: Any, c: Any) -> None:
    c.string_value = str(check_year(v))


def check_text(v: Any, what: str = "text") -> str:
    _check_type(v, (str,), what)
    return v


def check_bytes(v: Any) -> bytes:
    _check_type(v, (bytes,), "binary")
    return v


def _enc_text(v: Any, c: Any) -> None:
    c.string_value = check_text(v)


def _enc_bytes(v: Any, c: Any) -> None:
    c.bytes_value = check_bytes(v)


def _enc_json(v: Any, c: Any) -> None:
    c.bytes_value = check_text(v, "JSON").encode("utf-8")


def check_enum_set(v: Any) -> int:
    _check_type(v, (int,), "ENUM/SET")
    if not 0 <= v <= UINT64_MAX:
        raise ValueError(f"ENUM/SET value {v} out of range")
    return v


def _enc_enum_set(v: Any, c: Any) -> None:
    c.uint64_value = check_enum_set(v)


def encoder_for(mysql_type: str, flen: int, decimal: int, unsigned: bool, zone: ZoneInfo | None) -> Encoder:
    """The writer of one column's non-NULL values, exactly as Drainer fills ``Column``."""
    t = mysql_type.lower()
    if t in INT_TYPES:
        return _enc_uint if unsigned else _enc_int
    if t == "float":
        return _enc_float
    if t == "double":
        return _enc_double
    if t == "decimal":
        return _decimal_encoder(decimal)
    if t == "bit":
        return _bit_encoder(flen)
    if t == "date":
        return _enc_date
    if t == "datetime":
        return _datetime_encoder(decimal)
    if t == "timestamp":
        return _timestamp_encoder(decimal, zone)
    if t == "time":
        return _time_encoder(decimal)
    if t == "year":
        return _enc_year
    if t in TEXT_TYPES:
        return _enc_text
    if t in BINARY_TYPES:
        return _enc_bytes
    if t == "json":
        return _enc_json
    if t in ("enum", "set"):
        return _enc_enum_set
    return _enc_text  # unknown types: Drainer writes Go %v text to string_value


__all__ = [
    "BINARY_TYPES",
    "check_bit",
    "check_bytes",
    "check_double",
    "check_enum_set",
    "check_float32",
    "check_int",
    "check_text",
    "check_year",
    "date_text",
    "datetime_text",
    "decimal_text_renderer",
    "parse_date",
    "parse_datetime",
    "parse_decimal",
    "parse_time",
    "parse_year",
    "time_text",
    "timestamp_text",
    "timestamp_to_utc",
    "FLOAT_TYPES",
    "INT_TYPES",
    "TEXT_TYPES",
    "decoder_for",
    "decoders_for",
    "encoder_for",
    "zone_for",
]
