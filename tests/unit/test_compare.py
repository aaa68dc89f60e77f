"""Pure parts of tidb2mysql.compare: exact value equality, merge keys, readable reports."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from tidb2mysql.compare import (
    CompareResult,
    Difference,
    TableComparison,
    _key_getter,
    values_equal,
)


@pytest.mark.parametrize("a, b", [
    (1, 1), (None, None), (0.1, 0.1), ("x", "x"), (b"\x00", b"\x00"),
    (Decimal("1.50"), Decimal("1.50")),
    (datetime.datetime(2020, 1, 1, 0, 0, 0, 5), datetime.datetime(2020, 1, 1, 0, 0, 0, 5)),
    ("0000-00-00", "0000-00-00"),
])
def test_values_equal(a, b):
    assert values_equal(a, b)


@pytest.mark.parametrize("a, b", [
    (0.1, 0.1000001),           # floats compare exactly
    (None, ""),                  # NULL is not the empty string
    ("", None),
    (None, 0),
    ("abc", "ABC"),              # no collation in Python
    ("x", "x "),                 # trailing space matters
    (1, 1.0),                    # a type change is a difference
    (1, True),
    (Decimal("1.0"), Decimal("1.00")),  # exact decimal text
    ("1", b"1"),
    (datetime.date(2020, 1, 1), datetime.datetime(2020, 1, 1)),
])
def test_values_differ(a, b):
    assert not values_equal(a, b)


def test_key_getter_nullable_sorts_null_first_without_comparing_none():
    key = _key_getter([0, 1], nullable=True)
    rows = [(2, b"a"), (None, b"b"), (1, None), (1, b"a"), (None, None)]
    ordered = sorted(rows, key=key)
    assert ordered == [(None, None), (None, b"b"), (1, None), (1, b"a"), (2, b"a")]
    assert key((None, None)) == key((None, None))


def test_key_getter_single_and_multi():
    assert _key_getter([1], nullable=False)(("x", 7)) == (7,)
    assert _key_getter([2, 0], nullable=False)((1, 2, 3)) == (3, 1)


def test_difference_text():
    only_a = Difference("t", {"id": 5}, "only_a")
    only_b = Difference("t", {"id": 6}, "only_b", label_a="src", label_b="dst")
    col = Difference("t", {"id": 1, "k": "x"}, "column", "c", "x", "y")
    assert str(only_a) == "t (id=5): only in source"
    assert str(only_b) == "t (id=6): only in dst"
    assert str(col) == "t (id=1, k='x'): column c differs: 'x' vs 'y'"


def test_long_values_are_cut():
    text = str(Difference("t", {"id": 1}, "column", "c", "a" * 500, "b"))
    assert len(text) < 200 and "..." in text


def test_table_and_result_reports():
    t = TableComparison("t", "t", ("id", "c"), ("id",), key=("id",), rows_a=3, rows_b=2,
                        diff_count=12, schema_notes=["column(s) only in source: c"])
    t.differences = [Difference("t", {"id": 3}, "only_a")]
    assert not t.equal
    text = str(t)
    assert "t: DIFFERENT, 3 rows in source, 2 rows in target" in text
    assert "column(s) only in source: c" in text
    assert "t (id=3): only in source" in text
    assert "... and 11 more difference(s)" in text

    ok = TableComparison("u", "u", ("id",), ("id",), key=("id",), rows_a=2, rows_b=2)
    assert ok.equal
    r = CompareResult("a", "b", tables=[t, ok], only_in_b=["extra"])
    assert not r.equal and r.different_tables == [t]
    report = str(r)
    assert report.startswith("source a vs target b: DIFFERENT (2 table(s) compared, 5 rows in source)")
    assert "table extra: only in target" in report
    assert "u:" not in report  # equal tables are not listed
    assert CompareResult("a", "b", tables=[ok]).equal
    assert "EQUAL" in str(CompareResult("a", "b", tables=[ok]))


def test_keyless_table_report_says_multiset():
    t = TableComparison("k", "k", ("a",), ("a",), key=(), rows_a=1, rows_b=1)
    assert "compared as multisets" in str(t)
