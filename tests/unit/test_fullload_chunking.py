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


def _conn(answer):
    from tests.support.fake_db import FakeConn

    return FakeConn(lambda sql, args: answer(sql))


def _composite(est=1000):
    from tidb2mysql.fullload.chunking import TablePlan

    return TablePlan("db", "t", ["a", "b", "v"], ["varchar", "int", "text"], ["a", "b"], "primary", est)


def test_composite_key_boundaries_are_probed_not_read_key_by_key():
    """Issue 20 item 7: planning read every key (480k) of a composite-key table."""
    from tidb2mysql.fullload.chunking import split_table

    keys = [("k%03d" % i, i) for i in range(1000)]

    def answer(sql):
        if sql.startswith("SELECT VERSION()"):
            return [("10.11.6-MariaDB",)]
        assert "OFFSET 250" in sql and "LIMIT 1" in sql, sql  # one key per probe, never the whole index
        start = 0
        if "WHERE" in sql:
            a = sql.split("`a` > '")[1].split("'")[0]
            start = next(i for i, k in enumerate(keys) if k[0] == a)
        i = start + 250
        return [keys[i]] if i < len(keys) else []

    conn = _conn(answer)
    chunks = split_table(conn, _composite(), 250)
    assert [c[0] for c in chunks] == [None, ["'k250'", "250"], ["'k500'", "500"], ["'k750'", "750"]]
    assert chunks[-1][1] is None
    assert sum(1 for q in conn.log if "OFFSET" in q) == 3


def test_tidb_takes_region_starts_when_there_are_enough():
    from tidb2mysql.fullload.chunking import split_table

    def answer(sql):
        if sql.startswith("SELECT VERSION()"):
            return [("8.0.11-TiDB-v7.0.0",)]
        assert "TABLESAMPLE REGIONS()" in sql
        return [("k%03d" % i, i) for i in range(0, 1000, 125)]  # 8 regions

    chunks = split_table(_conn(answer), _composite(), 250)  # 4 chunks wanted
    assert [c[0] for c in chunks][1:] == [["'k250'", "250"], ["'k500'", "500"], ["'k750'", "750"]]


def test_tidb_nonclustered_tables_are_keyed_by_tidb_rowid():
    from tidb2mysql.fullload import tsv
    from tidb2mysql.fullload.chunking import describe_table, page_sql, split_table

    def answer(sql):
        if "information_schema.COLUMNS" in sql:
            return [("id", "varchar", "", "NO"), ("v", "int", "", "YES")]
        if "information_schema.STATISTICS" in sql:
            return [("PRIMARY", "id")]
        if "TIDB_PK_TYPE" in sql:
            return [("NONCLUSTERED", "")]
        if "TABLE_ROWS" in sql:
            return [(25,)]
        if "MIN(`_tidb_rowid`)" in sql:
            return [(1, 100)]
        raise AssertionError(sql)

    conn = _conn(answer)
    tp = describe_table(conn, "db", "t", tidb=True)
    assert tp.key == ["_tidb_rowid"] and tp.hidden_key and tp.unique_key == ["id"] and tp.key_positions() == []
    assert len(split_table(conn, tp, 10)) == 3  # integer ranges of _tidb_rowid, not sampled string keys
    assert page_sql(tp, None, None, ["7"], 5) == ("SELECT `id`,`v`, `_tidb_rowid` FROM `db`.`t` WHERE `_tidb_rowid` > 7"
                                                  " ORDER BY `_tidb_rowid` LIMIT 5")
    assert tsv.page_text_sql(tp, "FROM `db`.`t`", 5).endswith(", MAX(`_k0`) FROM (" + tsv.page_text_sql(
        tp, "FROM `db`.`t`", 5).split(" FROM (", 1)[1])
    assert tsv.row_text_sql(tp, "FROM `db`.`t`", 5).startswith("SELECT CONCAT(")
    assert ", `_tidb_rowid` FROM `db`.`t` ORDER BY `_tidb_rowid` LIMIT 5" in tsv.row_text_sql(tp, "FROM `db`.`t`", 5)
    # a partitioned table keeps its own key (row ids need not be unique across partitions)
    answer_p = lambda sql: [("NONCLUSTERED", "partitioned")] if "TIDB_PK_TYPE" in sql else answer(sql)  # noqa: E731
    assert describe_table(_conn(answer_p), "db", "t", tidb=True).key == ["id"]
