"""Simulator values: seeded generation is reproducible and in range; PyMySQL -> native values;
TiDB-flavoured DDL text and its MariaDB-executable form."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from tests.unit.test_simulator_catalog import JSON_COLUMNS, RECORDED, _KEYS
from tidb2mysql.simulator.catalog import column_from_row
from tidb2mysql.simulator.values import _INT_RANGES, bogus_generated_value, random_value, to_native
from tidb2mysql.simulator.source import executable_text
from tidb2mysql.simulator.workload import _create_table_text

COLS = [column_from_row(dict(zip(_KEYS, r)), JSON_COLUMNS) for r in RECORDED]
BY_NAME = {c.name: c for c in COLS}


def _stream(seed: int, n: int = 200, edge: float = 0.3) -> list:
    rng = random.Random(seed)
    return [[random_value(c, rng, edge, 50) for c in COLS if not c.generated] for _ in range(n)]


def test_same_seed_same_values_other_seed_other_values():
    assert _stream(7) == _stream(7)
    assert _stream(7) != _stream(8)


def test_create_table_text_reproducible_by_seed():
    def texts(seed):
        rng = random.Random(seed)
        return [_create_table_text(f"t{i}", "a int, b int", "" if i % 2 else "a", "", rng) for i in range(20)]

    assert texts(3) == texts(3)


def test_values_stay_inside_their_types():
    rows = _stream(11, n=400, edge=0.5)
    writable = [c for c in COLS if not c.generated]
    for row in rows:
        for c, v in zip(writable, row):
            if v is None:
                assert c.nullable, c.name
                continue
            t = c.mysql_type
            if t in _INT_RANGES:
                lo, hi, uhi = _INT_RANGES[t]
                assert (0 <= v <= uhi) if c.unsigned else (lo <= v <= hi), (c.name, v)
            elif t == "decimal":
                digits = v.as_tuple()
                assert -digits.exponent <= c.decimal and len(digits.digits) + digits.exponent <= c.flen - c.decimal \
                    or v == 0, (c.name, v)
            elif t == "bit":
                assert 0 <= v < 1 << c.flen
            elif t in ("char", "varchar"):
                assert len(v) <= c.flen
            elif t == "binary":
                assert len(v) == c.flen
            elif t == "varbinary":
                assert len(v) <= c.flen
            elif t in ("datetime", "timestamp") and isinstance(v, datetime):
                assert v.microsecond % 10 ** (6 - c.decimal) == 0, (c.name, v)  # no rounding by the server
            elif t == "time":
                assert abs(v) <= timedelta(hours=838, minutes=59, seconds=59, microseconds=999999)
            elif t == "enum":
                assert v in BY_NAME[c.name].members
            elif t == "set":
                assert all(m in c.members for m in v.split(",") if m)


def test_edge_values_cover_the_extremes():
    seen: dict[str, set] = {}
    writable = [c for c in COLS if not c.generated]
    for row in _stream(5, n=600, edge=1.0):
        for c, v in zip(writable, row):
            seen.setdefault(c.name, set()).add(v if not isinstance(v, (bytes, str)) or len(v) < 40 else ("long", type(v)))
    assert {-(1 << 63), (1 << 63) - 1} <= seen["bi"]
    assert (1 << 64) - 1 in seen["biu"] and 255 in seen["tiu"]
    assert Decimal("9" * 35 + "." + "9" * 30) in seen["dec65"]
    assert Decimal("-" + "9" * 10 + ".99") in seen["dec12"]
    assert "0000-00-00" in seen["dt"] and date(9999, 12, 31) in seen["dt"]
    assert datetime(9999, 12, 31, 23, 59, 59, 999000) in seen["dt3"]
    assert "0000-00-00 00:00:00" in seen["dt0"]
    assert -timedelta(hours=838, minutes=59, seconds=59, microseconds=999999) in seen["tm6"]
    assert b"" in seen["vb"] and b"\x00\x00x\x00" in seen["vb"] and b"\x00" * 8 in seen["bn"]
    assert "" in seen["vc"] and None in seen["vc"]
    assert ("long", str) in seen["j"]
    assert {0, (1 << 64) - 1} <= seen["b64"]


def test_to_native_converts_pymysql_values():
    c = BY_NAME
    assert to_native(c["b64"], b"\xff" * 8) == (1 << 64) - 1
    assert to_native(c["b1"], b"\x01") == 1
    assert to_native(c["e"], "b") == 2 and to_native(c["e"], "") == 0
    assert to_native(c["q"], "b,c") == 2  # a member containing a comma is one ENUM member
    assert to_native(c["s"], "x,z") == 0b101 and to_native(c["s"], "") == 0
    assert to_native(c["j"], b'{"a": 1}') == '{"a": 1}'
    assert to_native(c["dt"], "0000-00-00") == "0000-00-00"  # zero dates stay text
    assert to_native(c["vc"], None) is None
    assert to_native(c["bl"], b"\x00a") == b"\x00a"


def test_bogus_generated_value_is_the_types_default():
    g = BY_NAME["g"]
    assert bogus_generated_value(g) is None  # nullable -> NULL
    not_null = column_from_row(dict(zip(_KEYS, ('g2', 'decimal', 'decimal(10,2)', 'NO', 'VIRTUAL GENERATED',
                                                 None, 10, 2, None))), set())
    assert bogus_generated_value(not_null) == Decimal("0.00")


def test_published_text_is_tidb_flavoured_executed_text_is_mariadb_valid():
    rng = random.Random(1)
    with_pk = _create_table_text("t", "id int not null", "id", "", rng)
    assert "primary key (id) /*T![clustered_index] CLUSTERED */" in with_pk
    assert with_pk.startswith("create table `t`") and "COLLATE=utf8mb4_bin" in with_pk
    texts = {_create_table_text("n", "a int", "", "", rng) for _ in range(50)}
    shard = [t for t in texts if "/*!90000" in t]
    assert shard and any("/*T! SHARD_ROW_ID_BITS=4 */" in t for t in texts)
    for t in shard:
        assert "SHARD_ROW_ID_BITS" not in executable_text(t)
        assert executable_text(t).endswith("COLLATE=utf8mb4_bin")
    assert executable_text(with_pk) == with_pk  # /*T! */ is a plain comment for MariaDB
