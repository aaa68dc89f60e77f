"""Random column values (with edge values), and PyMySQL values -> native event values."""

from __future__ import annotations

import random
import string
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tidb2mysql.simulator.catalog import ColumnMeta

_INT_RANGES = {
    "tinyint": (-(1 << 7), (1 << 7) - 1, (1 << 8) - 1),
    "smallint": (-(1 << 15), (1 << 15) - 1, (1 << 16) - 1),
    "mediumint": (-(1 << 23), (1 << 23) - 1, (1 << 24) - 1),
    "int": (-(1 << 31), (1 << 31) - 1, (1 << 32) - 1),
    "bigint": (-(1 << 63), (1 << 63) - 1, (1 << 64) - 1),
}
_TEXT_CAP = {"tinytext": 255, "text": 2000, "mediumtext": 4000, "longtext": 4000,
             "tinyblob": 255, "blob": 2000, "mediumblob": 4000, "longblob": 4000}
_EMOJI = "😀🐍🚀中文Ωß"


def _text(rng: random.Random, n: int, unicode_ok: bool = True) -> str:
    if n <= 0:
        return ""
    chars = string.ascii_letters + string.digits + " '\"\\%_,;"
    s = "".join(rng.choice(chars) for _ in range(n))
    if unicode_ok and n >= 2 and rng.random() < 0.3:
        i = rng.randrange(n)
        s = s[:i] + rng.choice(_EMOJI) + s[i + 1:]
    return s[:n]


def _decimal(rng: random.Random, precision: int, scale: int, edge: bool) -> Decimal:
    whole = precision - scale
    if edge:
        nines = "9" * whole + ("." + "9" * scale if scale else "")
        return Decimal(rng.choice([nines, "-" + nines, "0", "-0." + "0" * max(scale - 1, 0) + "1" if scale else "-1"]))
    w = str(rng.randrange(10 ** min(whole, 18)))
    f = "".join(rng.choice(string.digits) for _ in range(scale))
    sign = "-" if rng.random() < 0.3 else ""
    return Decimal(f"{sign}{w}.{f}" if scale else f"{sign}{w}")


def random_value(c: ColumnMeta, rng: random.Random, edge_p: float, width: int = 100) -> Any:
    """A value MariaDB stores exactly for column ``c`` (NULLs included when nullable)."""
    t = c.mysql_type
    edge = rng.random() < edge_p
    if c.nullable and rng.random() < (0.3 if edge else 0.05):
        return None
    if t in _INT_RANGES:
        lo, hi, uhi = _INT_RANGES[t]
        if c.unsigned:
            return rng.choice([0, uhi, 1]) if edge else rng.randrange(0, min(uhi, 1 << 40))
        return rng.choice([lo, hi, 0, -1]) if edge else rng.randrange(max(lo, -(1 << 40)), min(hi, 1 << 40))
    if t == "float":
        return rng.choice([0.0, -1.5, 3.4e38, -3.4e38, 1.17549e-38, 0.1]) if edge else round(rng.uniform(-1e6, 1e6), 3)
    if t == "double":
        return rng.choice([0.0, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324, 0.1, 1 / 3]) if edge \
            else rng.uniform(-1e12, 1e12)
    if t == "decimal":
        return _decimal(rng, c.flen, c.decimal, edge)
    if t == "bit":
        return rng.choice([0, (1 << c.flen) - 1]) if edge else rng.randrange(0, 1 << c.flen)
    if t == "date":
        if edge:
            return rng.choice([date(1000, 1, 1), date(9999, 12, 31), "0000-00-00"])
        return date(1970, 1, 1) + timedelta(days=rng.randrange(0, 60000))
    if t == "datetime":
        fsp = c.decimal
        if edge:
            return rng.choice([datetime(1000, 1, 1), datetime(9999, 12, 31, 23, 59, 59, _max_us(fsp)),
                               "0000-00-00 00:00:00"])
        return datetime(1990, 1, 1) + timedelta(seconds=rng.randrange(0, 10**9), microseconds=_us(rng, fsp))
    if t == "timestamp":
        fsp = c.decimal
        if edge:
            return rng.choice([datetime(1970, 1, 1, 0, 0, 1), datetime(2038, 1, 19, 3, 14, 7, _max_us(fsp))])
        return datetime(2000, 1, 1) + timedelta(seconds=rng.randrange(0, 10**9), microseconds=_us(rng, fsp))
    if t == "time":
        fsp = c.decimal
        if edge:
            m = timedelta(hours=838, minutes=59, seconds=59, microseconds=_max_us(fsp))
            return rng.choice([m, -m, timedelta(0)])
        return timedelta(seconds=rng.randrange(-3_000_000, 3_000_000), microseconds=_us(rng, fsp))
    if t == "year":
        return rng.choice([0, 1901, 2155]) if edge else rng.randrange(1901, 2156)
    if t in ("char", "varchar"):
        n = c.flen
        return rng.choice(["", _text(rng, n), "a"]) if edge else _text(rng, rng.randrange(0, min(n, width) + 1))
    if t in ("tinytext", "text", "mediumtext", "longtext"):
        return rng.choice(["", _text(rng, _TEXT_CAP[t])]) if edge else _text(rng, rng.randrange(0, width + 1))
    if t in ("binary", "varbinary"):
        n = c.flen if t == "binary" else rng.randrange(0, c.flen + 1)
        if t == "binary":  # BINARY pads with NUL; store exactly n bytes so the value reads back equal
            return bytes(rng.randrange(256) for _ in range(n)) if not edge else b"\x00" * n
        return bytes(rng.randrange(256) for _ in range(n)) if not edge else rng.choice([b"", b"\x00\x00x\x00"])
    if t in ("tinyblob", "blob", "mediumblob", "longblob"):
        n = _TEXT_CAP[t] if edge else rng.randrange(0, width + 1)
        return bytes(rng.randrange(256) for _ in range(n))
    if t == "enum":
        return rng.choice(c.members)
    if t == "set":
        return ",".join(m for m in c.members if rng.random() < 0.5)
    if t == "json":
        if edge:
            return '{"big": [' + ",".join(str(i) for i in range(2000)) + '], "s": "\\u00e9\\ud83d\\ude00"}'
        return '{"k": %d, "s": "%s", "a": [1, 2.5, null, true]}' % (rng.randrange(10**6), _text(rng, 8, False).replace('"', "").replace("\\", ""))
    raise ValueError(f"simulator has no generator for type {t}")


def _us(rng: random.Random, fsp: int) -> int:
    if fsp == 0:
        return 0
    unit = 10 ** (6 - fsp)
    return rng.randrange(0, 10**fsp) * unit


def _max_us(fsp: int) -> int:
    return (10**fsp - 1) * 10 ** (6 - fsp) if fsp else 0


def to_native(c: ColumnMeta, v: Any) -> Any:
    """A value as PyMySQL read it from the source -> the native event value."""
    if v is None:
        return None
    t = c.mysql_type
    if t == "bit":
        return int.from_bytes(v, "big")
    if t == "enum":
        return c.members.index(v) + 1 if v != "" else 0
    if t == "set":
        if v == "" or v is None:
            return 0
        names = v.split(",") if isinstance(v, str) else list(v)
        return sum(1 << c.members.index(n) for n in names if n != "")
    if t == "json" and isinstance(v, bytes):
        return v.decode("utf-8")
    if t in ("date", "datetime", "timestamp") and isinstance(v, bytes):
        return v.decode()
    if t in ("char", "varchar", "tinytext", "text", "mediumtext", "longtext") and isinstance(v, bytes):
        return v.decode("utf-8")
    return v


def bogus_generated_value(c: ColumnMeta) -> Any:
    """What Drainer puts in a generated column on INSERT: the default, i.e. NULL or zero."""
    if c.nullable:
        return None
    t = c.mysql_type
    if t in _INT_RANGES or t in ("bit", "year"):
        return 0
    if t in ("float", "double"):
        return 0.0
    if t == "decimal":
        return Decimal(0).scaleb(-c.decimal) if c.decimal > 0 else Decimal(0)
    if t in ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"):
        return b""
    return ""
