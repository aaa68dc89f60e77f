"""Chunk planning and key-range SQL (pure)."""

from __future__ import annotations

import pytest

from tidb2mysql.fullload.chunking import (
    Chunk,
    TablePlan,
    assign_lanes,
    integer_ranges,
    key_compare,
    page_sql,
)


def tp(key=("id",), columns=("id", "f", "v"), types=("int", "float", "varchar")):
    return TablePlan("db", "t", list(columns), list(types), list(key), "primary" if key else "none", 100)


def test_key_compare_single_column():
    assert key_compare(["id"], ["5"], ">") == "`id` > 5"
    assert key_compare(["id"], ["5"], ">=") == "`id` >= 5"
    assert key_compare(["id"], ["5"], "<") == "`id` < 5"


def test_key_compare_composite_is_written_out():
    assert key_compare(["a", "b"], ["'x'", "2"], ">") == "(`a` > 'x' OR (`a` = 'x' AND `b` > 2))"
    assert key_compare(["a", "b"], ["'x'", "2"], ">=") == "(`a` > 'x' OR (`a` = 'x' AND `b` >= 2))"
    assert key_compare(["a", "b", "c"], ["1", "2", "3"], "<") == (
        "(`a` < 1 OR (`a` = 1 AND `b` < 2) OR (`a` = 1 AND `b` = 2 AND `c` < 3))")


def test_key_compare_quotes_identifiers_and_checks_arity():
    assert key_compare(["we`ird"], ["1"], ">") == "`we``ird` > 1"
    with pytest.raises(ValueError):
        key_compare(["a", "b"], ["1"], ">")


@pytest.mark.parametrize("lo,hi,after,where", [
    (None, None, None, ""),
    (["10"], None, None, " WHERE `id` >= 10"),
    (None, ["20"], None, " WHERE `id` < 20"),
    (["10"], ["20"], None, " WHERE `id` >= 10 AND `id` < 20"),
    (["10"], ["20"], ["15"], " WHERE `id` > 15 AND `id` < 20"),  # resume key replaces the lower bound
])
def test_page_sql(lo, hi, after, where):
    sql = page_sql(tp(), lo, hi, after, 500)
    assert sql == f"SELECT `id`,(`f` + 0E0),`v` FROM `db`.`t`{where} ORDER BY `id` LIMIT 500"


def test_float_columns_are_read_widened():
    # the text protocol prints FLOAT with ~6 digits; + 0E0 returns the exact float32 as a DOUBLE
    assert tp().select_list() == "`id`,(`f` + 0E0),`v`"


def test_integer_ranges_cover_everything_with_open_ends():
    ranges = integer_ranges(1, 100, 4, 100)
    assert [r[:2] for r in ranges] == [(None, ["26"]), (["26"], ["51"]), (["51"], ["76"]), (["76"], None)]
    assert all(r[2] == 25 for r in ranges)


def test_integer_ranges_never_more_chunks_than_keys():
    assert [r[:2] for r in integer_ranges(5, 6, 10, 2)] == [(None, ["6"]), (["6"], None)]
    assert [r[:2] for r in integer_ranges(7, 7, 3, 1)] == [(None, None)]


def test_integer_ranges_negative_and_huge_keys():
    ranges = integer_ranges(-(2 ** 63), 2 ** 64 - 1, 3, 9)
    bounds = [r[1] for r in ranges[:-1]]
    assert [int(b[0]) for b in bounds] == sorted(int(b[0]) for b in bounds)
    assert ranges[0][0] is None and ranges[-1][1] is None


def test_assign_lanes_balances_largest_first():
    chunks = [Chunk(i, 0, est_rows=r) for i, r in enumerate([100, 10, 60, 50, 40])]
    assign_lanes(chunks, 2)
    load = [0, 0]
    for c in chunks:
        load[c.lane] += c.est_rows
    assert sorted(load) == [120, 140]  # LPT: 100+40 | 60+50+10


def test_assign_lanes_more_lanes_than_chunks():
    chunks = [Chunk(0, 0, est_rows=5)]
    assign_lanes(chunks, 4)
    assert chunks[0].lane == 0


def test_key_positions_and_json_round_trip():
    t = tp(key=("v", "id"))
    assert t.key_positions() == [2, 0]
    assert TablePlan.from_json(t.to_json()) == t


def test_integer_ranges_exact_near_2_to_64():
    ranges = integer_ranges(2 ** 64 - 10, 2 ** 64 - 1, 2, 10)
    assert [r[:2] for r in ranges] == [(None, [str(2 ** 64 - 5)]), ([str(2 ** 64 - 5)], None)]


def test_global_temporary_tables_are_recognised_by_their_create_text():
    """Issue 20: information_schema.TABLES lists a GLOBAL TEMPORARY table as BASE TABLE; the schema
    stage skipped it, the full load then failed on the missing target table."""
    from tidb2mysql.fullload.chunking import is_temporary_create

    assert is_temporary_create("CREATE GLOBAL TEMPORARY TABLE `g` (\n  `id` int NOT NULL\n) ENGINE=memory DEFAULT "
                               "CHARSET=utf8mb4 COLLATE=utf8mb4_bin ON COMMIT DELETE ROWS")
    assert is_temporary_create("CREATE TABLE `g` (`id` int) ON COMMIT DELETE ROWS")
    assert not is_temporary_create("CREATE TABLE `t` (`global_temporary` int, `c` varchar(9) DEFAULT 'ON COMMIT')")
