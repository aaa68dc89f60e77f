"""mysql/load_data.py: rows of native values as LOAD DATA text, the statement, the memory infile.

What the server makes of the text is tested against the real target in
tests/integration/test_writer.py (every type written with INSERT and with LOAD DATA).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pymysql
import pytest

from tidb2mysql.mysql import load_data
from tidb2mysql.mysql.load_data import HEX, NUMBER, PLAIN, RowText, column_kind, load_statement


def test_plain_values_as_text():
    t = RowText([PLAIN] * 9)
    row = (-5, "a\\b\tc\nd\0e", None, 0.1, Decimal("1E+3"), dt.datetime(2024, 1, 2, 3, 4, 5, 6),
           dt.date(2024, 1, 2), -dt.timedelta(hours=838, microseconds=1), dt.time(1, 2, 3))
    assert t.encode([row]) == ("-5\ta\\\\b\\tc\\nd\\0e\t\\N\t0.1\t1000\t2024-01-02 03:04:05.000006\t2024-01-02\t"
                               "-838:00:00.000001\t01:02:03\n").encode()


def test_text_is_utf8_and_the_null_marker_is_escaped_when_it_is_a_value():
    t = RowText([PLAIN, PLAIN])
    assert t.encode([("\\N", "é😀"), ("", None)]) == "\\\\N\té😀\n\t\\N\n".encode()


def test_hex_and_number_columns():
    t = RowText([HEX, NUMBER, HEX])
    assert t.encode([(b"\x00\xff", 7, None)]) == b"00ff\t7\t\\N\n"


def test_aware_datetimes_are_written_in_utc():
    v = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert RowText([PLAIN]).encode([(v,)]) == b"2024-01-01 10:00:00\n"


@pytest.mark.parametrize("kinds,row", [
    ([PLAIN], (float("nan"),)), ([PLAIN], (float("inf"),)), ([PLAIN], (Decimal("NaN"),)),
    ([PLAIN], (b"x",)),  # bytes only in a binary column
    ([HEX], ("x",)), ([NUMBER], ("a",)), ([NUMBER], (1.5,)),
    ([PLAIN], (True,)),  # a subclass of int: not on the exact-type fast path
    ([PLAIN], ("\ud800",)),  # not encodable as UTF-8
    ([PLAIN], (object(),)),
], ids=["nan", "inf", "decimal-nan", "bytes-in-text", "str-in-binary", "str-in-number", "float-in-number",
        "bool", "surrogate", "object"])
def test_a_value_without_exact_text_gives_none(kinds, row):
    assert RowText(kinds).encode([row]) is None


def test_the_c_rendering_is_built():
    # Optional in the build (no C compiler: the Python path); the test environment must have
    # it, or the comparisons below would compare the Python path with itself.
    assert load_data._encode is not None


class _MyStr(str):
    pass


class _MyInt(int):
    pass


class _MyDecimal(Decimal):
    pass


_ODD_VALUES = [
    None, 0, -1, 1 << 63, -(1 << 63) - 1, 10 ** 40, -(10 ** 40), True, False, _MyInt(3),
    "", "plain", "\\N", "a\tb\nc\0d\\e", "é😀", "\ud800", "x" * 5000, _MyStr("sub"),
    0.0, -0.0, 0.1, 1e300, 5e-324, 1e16, 123456789.0, float("nan"), float("inf"), float("-inf"),
    Decimal("1E+3"), Decimal("-0.00"), Decimal("NaN"), Decimal("12345678901234567890.123456789"),
    Decimal("1.5"), Decimal("-0"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"), Decimal("0E-10"),
    Decimal("-1e-7"), Decimal("1" * 80), _MyDecimal("2.5"),
    dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    dt.datetime(2024, 1, 2, 3, 4, 5, 600000), dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc), dt.datetime(2024, 11, 3, 1, 30, fold=1),
    dt.date(2024, 2, 29), dt.timedelta(hours=-838), dt.timedelta(microseconds=1), dt.time(1, 2, 3, 4),
    b"", b"\x00\xff", bytearray(b"x"), object(), [1], (2,),
]


@pytest.mark.parametrize("kinds", [[PLAIN], [HEX], [NUMBER], [PLAIN, HEX, NUMBER], [NUMBER, PLAIN]])
def test_the_c_rendering_gives_the_python_paths_text_for_every_value(kinds):
    import random

    t = RowText(kinds)
    for v in _ODD_VALUES:  # each value alone, in every column
        for i in range(len(kinds)):
            row = tuple(v if j == i else None for j in range(len(kinds)))
            assert t.encode([row]) == t.encode_python([row]), (kinds, v)
    rng = random.Random(len(kinds))
    for _ in range(3000):  # rows of random values, and several rows at once
        rows = [tuple(rng.choice(_ODD_VALUES) for _ in kinds) for _ in range(rng.randint(0, 4))]
        assert t.encode(rows) == t.encode_python(rows), rows
    # a row longer or shorter than the columns: as the Python path (all values when every
    # column is plain, as zip() otherwise)
    for row in [(1, 2, 3, 4, 5), (1,), ()]:
        assert t.encode([row]) == t.encode_python([row])


def test_the_c_rendering_decides_plain_rows_itself():
    # The comparison above would pass if C called the Python functions for everything: the
    # values it renders itself are rendered without them.
    t = RowText([PLAIN, PLAIN, PLAIN, PLAIN, HEX, NUMBER])
    saved = dict(load_data._PLAIN_TEXT), dict(load_data._HEX_TEXT), dict(load_data._NUMBER_TEXT)
    try:
        for table in (load_data._PLAIN_TEXT, load_data._HEX_TEXT, load_data._NUMBER_TEXT):
            table.clear()
        assert t.encode([(1, "a\tb", 0.5, dt.datetime(2024, 1, 2, 3, 4, 5), b"\x01", 7),
                         (None, None, None, None, None, None)]) == (
            b"1\ta\\tb\t0.5\t2024-01-02 03:04:05\t01\t7\n\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n")
        assert t.encode([(1, "a", 0.5, dt.date(2024, 1, 2), b"", 7)]) is None  # a date: the tables' function
        # a Decimal whose text is plain is rendered here; one with an exponent is the function's
        assert t.encode([(Decimal("-12.50"), None, None, None, None, None)]) == b"-12.50\t\\N\t\\N\t\\N\t\\N\t\\N\n"
        assert t.encode([(Decimal("1E+3"), None, None, None, None, None)]) is None
    finally:
        for table, old in zip((load_data._PLAIN_TEXT, load_data._HEX_TEXT, load_data._NUMBER_TEXT), saved):
            table.clear()
            table.update(old)


def test_column_kinds_follow_the_column_type():
    assert [column_kind(t) for t in ("VARBINARY", "blob", "bit", "enum", "set", "year", "int", "varchar", "json")] == [
        HEX, HEX, NUMBER, NUMBER, NUMBER, NUMBER, PLAIN, PLAIN, PLAIN]


def test_load_statement_assigns_hex_and_number_fields_through_variables():
    sql = load_statement("`d`.`t`", ["`a`", "`b`", "`c`"], [PLAIN, HEX, NUMBER], False, "tok")
    assert sql.startswith("LOAD DATA LOCAL INFILE 'tok' INTO TABLE `d`.`t` CHARACTER SET utf8mb4")
    assert sql.endswith("(`a`, @`_v1`, @`_v2`) SET `b` = UNHEX(@`_v1`), `c` = CAST(@`_v2` AS UNSIGNED)")
    assert " REPLACE INTO " in load_statement("`d`.`t`", ["`a`"], [PLAIN], True, "tok")


class _Conn:
    max_allowed_packet = 16 * 1024 * 1024

    def __init__(self):
        self.packets = []

    def write_packet(self, p):
        self.packets.append(bytes(p))


def test_a_connection_between_loads_refuses_every_file_the_server_asks_for():
    load_data.install_memory_infile()
    send = pymysql.connections._send_local_file
    c = _Conn()
    c._t2m_infile = None  # what BatchWriter sets on its connection, and what a load leaves
    with pytest.raises(pymysql.err.OperationalError, match="/etc/passwd"):
        send(b"/etc/passwd", c)
    c._t2m_infile = ("tidb2mysql-memory:rows", b"1\n")
    send(b"tidb2mysql-memory:rows", c)
    assert c.packets == [b"1\n"]


class _Cursor:
    def __init__(self, conn):
        self.connection = conn
        self.seen = None

    def execute(self, sql):
        self.seen = (sql, self.connection._t2m_infile)
        return 3


def test_send_from_memory_sets_the_data_only_for_its_statement():
    cur = _Cursor(_Conn())
    assert load_data.send_from_memory(cur, "LOAD ...", "tok", b"x") == 3
    assert cur.seen == ("LOAD ...", ("tok", b"x")) and cur.connection._t2m_infile is None
