"""compare_databases against the real source and target MariaDB servers of the local stack.

Every test builds tables on both servers (fresh databases from the fixtures), changes one
thing, and checks that exactly that difference is found and reported readably; and that
equal data in a different server-side order or collation still compares equal.
"""

from __future__ import annotations

import re
import time

import pytest

from tidb2mysql.compare import compare_databases, compare_table

pytestmark = pytest.mark.integration

ALL_TYPES = """CREATE TABLE types (
    id INT PRIMARY KEY,
    i BIGINT UNSIGNED, d DECIMAL(20,6), f FLOAT, g DOUBLE, b BIT(10), y YEAR,
    dt DATETIME(6), da DATE, ts TIMESTAMP(3) NULL, tm TIME(6),
    s VARCHAR(50) COLLATE utf8mb4_general_ci, c CHAR(5), tx TEXT, bl BLOB, vb VARBINARY(10),
    e ENUM('x','y','z'), st SET('p','q','r'), j JSON,
    gen INT AS (id * 2) VIRTUAL, gs VARCHAR(60) AS (CONCAT(s, '!')) STORED
)"""
ALL_TYPES_ROWS = """INSERT INTO types (id,i,d,f,g,b,y,dt,da,ts,tm,s,c,tx,bl,vb,e,st,j) VALUES
    (1, 18446744073709551615, -12345678901234.123456, 0.1, 0.1, b'1010101010', 2024,
     '2024-02-29 23:59:59.999999', '2024-02-29', '2038-01-19 03:14:07.999', '-838:59:59',
     'Héllo 😀', 'ab', REPEAT('t', 3000), x'00ff00', x'', 'y', 'p,r', '{"a": [1, 2.5, null]}'),
    (2, 0, 0, -0.5, 1e308, b'0', 0, '0000-00-00 00:00:00', '0000-00-00', NULL, '00:00:00.000001',
     '', NULL, '', NULL, x'00', '', '', 'null'),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL)"""


def run(conn, *statements):
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def both(source_conn, target_conn, *statements):
    run(source_conn, *statements)
    run(target_conn, *statements)


@pytest.fixture(autouse=True)
def same_default_collation(source_conn, source_db, target_conn, target_db):
    """The target database gets the source's default collation before each test.

    The two stack servers have different defaults (the source plays TiDB: utf8mb4_bin; the
    target has MariaDB's utf8mb4_general_ci). tidb2mysql never relies on a default (its DDL
    translation writes TiDB's collation explicitly), but these tests create tables by running
    one statement on both sides, which must give the same structure on both; the tests that
    want a collation difference write it out.
    """
    with source_conn.cursor() as cur:
        cur.execute("SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
                    (source_db,))
        collation = cur.fetchone()[0]
    run(target_conn, f"ALTER DATABASE `{target_db}` COLLATE {collation}")


def compare(source_conn, source_db, target_conn, target_db, **kw):
    return compare_databases(source_conn, source_db, target_conn, target_db, **kw)


def only_table(result):
    assert len(result.tables) == 1, str(result)
    return result.tables[0]


def test_equal_databases_compare_equal(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn,
         "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION'",
         ALL_TYPES, ALL_TYPES_ROWS,
         # key-less table with duplicates, NULLs and zero / partial-zero dates
         "CREATE TABLE keyless (a INT, s VARCHAR(10) COLLATE utf8mb4_general_ci, dt DATETIME)",
         "INSERT INTO keyless VALUES (1,'a',NULL),(1,'a',NULL),(NULL,'B','2020-00-00 00:00:00'),"
         "(NULL,'a','0000-00-00 00:00:00'),(2,NULL,'2019-12-31 10:00:00'),(2,'b','2020-01-01 00:00:00')",
         "CREATE TABLE empty_t (id INT PRIMARY KEY)")
    # a ci string key whose collation order (a, B, c) is not its binary order (B, a, c),
    # binary on one side and ci on the other: still equal
    run(source_conn, "CREATE TABLE skey (k VARCHAR(10) COLLATE utf8mb4_bin, n INT, PRIMARY KEY (k, n))")
    run(target_conn, "CREATE TABLE skey (k VARCHAR(10) COLLATE utf8mb4_general_ci, n INT, PRIMARY KEY (k, n))")
    both(source_conn, target_conn, "INSERT INTO skey VALUES ('a',1),('B',1),('c',1),('é',1),('Z',2),('a',0)")

    # latin1 bytes order '€' (0x80) before 'é' (0xE9); utf8mb4 bytes the other way round
    run(source_conn, "CREATE TABLE cs (k VARCHAR(5) CHARACTER SET latin1 COLLATE latin1_bin PRIMARY KEY)")
    run(target_conn, "CREATE TABLE cs (k VARCHAR(5) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY)")
    both(source_conn, target_conn, "INSERT INTO cs VALUES ('€'), ('é'), ('a'), ('z')")

    # rows only: skey and cs differ in collation/charset on purpose (see below)
    result = compare(source_conn, source_db, target_conn, target_db, schema=False)
    assert result.equal, str(result)
    counts = {t.table_a: (t.rows_a, t.rows_b) for t in result.tables}
    assert counts == {"types": (3, 3), "keyless": (6, 6), "empty_t": (0, 0), "skey": (6, 6), "cs": (4, 4)}
    assert "EQUAL" in str(result)
    keys = {t.table_a: t.key for t in result.tables}
    assert keys["types"] == ("id",) and keys["keyless"] == () and keys["skey"] == ("k", "n")
    # with the schema, exactly those two deliberate differences are found
    full = compare(source_conn, source_db, target_conn, target_db)
    assert {t.table_a: t.schema_notes for t in full.different_tables} == {
        "skey": ["column k collation utf8mb4_bin vs utf8mb4_general_ci"],
        "cs": ["column k collation latin1_bin vs utf8mb4_bin"],
    }, str(full)
    assert all(t.diff_count == 0 for t in full.tables)


def test_missing_and_extra_rows(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
         "INSERT INTO t VALUES (1,'a'),(2,'b'),(3,'c'),(5,'e')")
    run(source_conn, "INSERT INTO t VALUES (4, 'd')")          # missing in target
    run(target_conn, "INSERT INTO t VALUES (6, 'f'), (0, 'z')")  # extra in target
    t = only_table(compare(source_conn, source_db, target_conn, target_db))
    assert not t.equal
    assert (t.rows_a, t.rows_b) == (5, 6)
    assert [str(d) for d in t.differences] == [
        "t (id=0): only in target",
        "t (id=4): only in source",
        "t (id=6): only in target",
    ]


@pytest.mark.parametrize("column_type, source_value, target_value, shown", [
    ("INT", "7", "8", "column v differs: 7 vs 8"),
    ("BIGINT UNSIGNED", "18446744073709551615", "18446744073709551614",
     "column v differs: 18446744073709551615 vs 18446744073709551614"),
    ("DECIMAL(10,3)", "1.5", "1.501", "column v differs: Decimal('1.500') vs Decimal('1.501')"),
    ("DOUBLE", "0.1", "0.1000001", "column v differs: 0.1 vs 0.1000001"),
    ("FLOAT", "0.1", "0.1000001", "column v differs: 0.10000000149011612 vs 0.10000009834766388"),
    ("DATETIME(6)", "'2024-01-01 00:00:00.000001'", "'2024-01-01 00:00:00.000002'",
     "column v differs: datetime.datetime(2024, 1, 1, 0, 0, 0, 1) vs datetime.datetime(2024, 1, 1, 0, 0, 0, 2)"),
    ("DATE", "'0000-00-00'", "'2024-01-01'", "column v differs: '0000-00-00' vs datetime.date(2024, 1, 1)"),
    ("TIMESTAMP NULL", "'2024-01-01 00:00:00'", "'2024-01-01 00:00:01'",
     "column v differs: datetime.datetime(2024, 1, 1, 0, 0) vs datetime.datetime(2024, 1, 1, 0, 0, 1)"),
    ("TIME", "'-00:00:01'", "'00:00:01'",
     "column v differs: datetime.timedelta(days=-1, seconds=86399) vs datetime.timedelta(seconds=1)"),
    ("VARCHAR(10)", "NULL", "''", "column v differs: None vs ''"),
    ("BLOB", "x'00'", "x'0000'", r"column v differs: b'\x00' vs b'\x00\x00'"),
    ("JSON", "'{\"a\":1}'", "'{\"a\": 1}'", """column v differs: '{"a":1}' vs '{"a": 1}'"""),
    ("ENUM('x','y')", "'x'", "'y'", "column v differs: 'x' vs 'y'"),
    # a ci collation calls these equal; the comparison must not
    ("VARCHAR(10) COLLATE utf8mb4_general_ci", "'abc'", "'ABC'", "column v differs: 'abc' vs 'ABC'"),
    ("VARCHAR(10) COLLATE utf8mb4_general_ci", "'x'", "'x '", "column v differs: 'x' vs 'x '"),
])
def test_changed_value_is_reported(source_conn, source_db, target_conn, target_db,
                                   column_type, source_value, target_value, shown):
    both(source_conn, target_conn, "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', time_zone = '+00:00'",
         f"CREATE TABLE t (id INT PRIMARY KEY, v {column_type})",
         "INSERT INTO t (id) VALUES (1), (3)")
    run(source_conn, f"INSERT INTO t VALUES (2, {source_value})")
    run(target_conn, f"INSERT INTO t VALUES (2, {target_value})")
    result = compare(source_conn, source_db, target_conn, target_db)
    t = only_table(result)
    assert not t.equal and not result.equal
    assert (t.rows_a, t.rows_b, t.diff_count) == (3, 3, 1)
    assert [str(d) for d in t.differences] == [f"t (id=2): {shown}"]
    assert f"t (id=2): {shown}" in str(result)


def test_ci_key_differing_in_case_or_trailing_space(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn,
         "CREATE TABLE t (k VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, n INT)")
    run(source_conn, "INSERT INTO t VALUES ('abc', 1), ('m', 2), ('x', 3)")
    run(target_conn, "INSERT INTO t VALUES ('ABC', 1), ('m', 2), ('x ', 3)")
    t = only_table(compare(source_conn, source_db, target_conn, target_db))
    assert sorted(str(d) for d in t.differences) == sorted([
        "t (k='abc'): only in source", "t (k='ABC'): only in target",
        "t (k='x'): only in source", "t (k='x '): only in target",
    ])


def test_keyless_tables_compare_as_multisets(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn, "CREATE TABLE k (a INT, s VARCHAR(5))")
    run(source_conn, "INSERT INTO k VALUES (1,'a'),(1,'a'),(2,'b'),(NULL,NULL)")
    run(target_conn, "INSERT INTO k VALUES (1,'a'),(2,'b'),(2,'b'),(NULL,NULL)")
    t = only_table(compare(source_conn, source_db, target_conn, target_db))
    assert t.key == () and (t.rows_a, t.rows_b) == (4, 4)
    assert [str(d) for d in t.differences] == ["k (a=1, s='a'): only in source",
                                               "k (a=2, s='b'): only in target"]


def test_table_missing_on_either_side(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn, "CREATE TABLE same (id INT PRIMARY KEY)")
    run(source_conn, "CREATE TABLE src_only (id INT PRIMARY KEY)", "CREATE VIEW v AS SELECT 1 AS one")
    run(target_conn, "CREATE TABLE dst_only (id INT PRIMARY KEY)")
    result = compare(source_conn, source_db, target_conn, target_db)
    assert not result.equal
    assert result.only_in_a == ["src_only"] and result.only_in_b == ["dst_only"]
    assert [t.table_a for t in result.tables] == ["same"]
    text = str(result)
    assert "table src_only: only in source" in text and "table dst_only: only in target" in text
    # selecting tables: only those are looked at
    assert compare(source_conn, source_db, target_conn, target_db, tables=["same"]).equal
    sel = compare(source_conn, source_db, target_conn, target_db, tables=["same", "src_only", "dst_only"])
    assert sel.only_in_a == ["src_only"] and sel.only_in_b == ["dst_only"]
    with pytest.raises(LookupError, match="nowhere"):
        compare(source_conn, source_db, target_conn, target_db, tables=["nowhere"])
    with pytest.raises(LookupError, match="database no_such_db_x does not exist in target"):
        compare(source_conn, source_db, target_conn, "no_such_db_x")
    with pytest.raises(LookupError, match="dst_only.*source"):
        compare_table(source_conn, source_db, "dst_only", target_conn, target_db)


def test_column_missing_extra_or_reordered(source_conn, source_db, target_conn, target_db):
    run(source_conn, "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT)",
        "CREATE TABLE r (id INT PRIMARY KEY, a INT, b INT)")
    run(target_conn, "CREATE TABLE t (id INT PRIMARY KEY, a INT, c INT)",
        "CREATE TABLE r (id INT PRIMARY KEY, b INT, a INT)")
    both(source_conn, target_conn, "INSERT INTO t (id, a) VALUES (1, 10), (2, 20)",
         "INSERT INTO r (id, a, b) VALUES (1, 1, 2)")
    result = compare(source_conn, source_db, target_conn, target_db)
    tables = {t.table_a: t for t in result.tables}
    t, r = tables["t"], tables["r"]
    assert not t.equal and t.diff_count == 0  # rows agree on the common columns
    assert t.schema_notes == ["column(s) only in source: b", "column(s) only in target: c"]
    assert r.schema_notes == ["column order differs: source (id, a, b) vs target (id, b, a)"]
    assert r.diff_count == 0  # values matched by name, not position
    assert "column(s) only in source: b" in str(result)


def test_primary_key_difference_falls_back_to_multiset(source_conn, source_db, target_conn, target_db):
    run(source_conn, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    run(target_conn, "CREATE TABLE t (id INT, v INT)")
    both(source_conn, target_conn, "INSERT INTO t VALUES (1, 1), (2, 2)")
    t = only_table(compare(source_conn, source_db, target_conn, target_db))
    assert t.key == () and t.diff_count == 0
    # the key's implicit NOT NULL is lost too
    assert t.schema_notes == ["primary key differs: source (id) vs target (none)",
                              "column id nullability NOT NULL vs NULL"]


def test_generated_column_computed_differently(source_conn, source_db, target_conn, target_db):
    run(source_conn, "CREATE TABLE t (id INT PRIMARY KEY, a INT, g INT AS (a + 1) VIRTUAL)")
    run(target_conn, "CREATE TABLE t (id INT PRIMARY KEY, a INT, g INT AS (a + 2) VIRTUAL)")
    both(source_conn, target_conn, "INSERT INTO t (id, a) VALUES (1, 1)")
    t = only_table(compare(source_conn, source_db, target_conn, target_db))
    assert [str(d) for d in t.differences] == ["t (id=1): column g differs: 2 vs 3"]


def test_table_and_column_name_mapping(source_conn, source_db, target_conn, target_db):
    run(source_conn, "CREATE TABLE orders (id INT PRIMARY KEY, amount INT)")
    run(target_conn, "CREATE TABLE orders_v2 (order_id INT PRIMARY KEY, amount INT)")
    run(source_conn, "INSERT INTO orders VALUES (1, 5), (2, 6)")
    run(target_conn, "INSERT INTO orders_v2 VALUES (1, 5), (2, 7)")
    result = compare(source_conn, source_db, target_conn, target_db,
                     table_map={"orders": "orders_v2"}, column_map={"orders": {"id": "order_id"}})
    assert not result.only_in_a and not result.only_in_b
    t = only_table(result)
    assert t.schema_notes == [] and t.key == ("order_id",)
    assert [str(d) for d in t.differences] == ["orders/orders_v2 (order_id=2): column amount differs: 6 vs 7"]


def test_max_diffs_keeps_first_and_counts_all(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn, "CREATE TABLE t (id INT PRIMARY KEY)")
    run(source_conn, "INSERT INTO t SELECT seq FROM seq_1_to_50")
    t = only_table(compare(source_conn, source_db, target_conn, target_db, max_diffs=3))
    assert t.diff_count == 50 and len(t.differences) == 3
    assert "... and 47 more difference(s)" in str(t)


def test_needs_two_connections_and_restores_session(source_conn, source_db, target_conn, target_db):
    with pytest.raises(ValueError, match="two separate connections"):
        compare_databases(source_conn, source_db, source_conn, source_db)
    run(source_conn, "SET SESSION time_zone = '+05:00'")
    compare(source_conn, source_db, target_conn, target_db)
    with source_conn.cursor() as cur:
        cur.execute("SELECT @@session.time_zone")
        assert cur.fetchone()[0] == "+05:00"


ROWS = 200_000


def test_large_table_speed_and_bounded_memory(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn,
         "CREATE TABLE big (id BIGINT PRIMARY KEY, a INT, s VARCHAR(40), d DECIMAL(12,2), t DATETIME)",
         f"INSERT INTO big SELECT seq, seq % 1000, CONCAT('row-', seq), seq / 7, "
         f"'2024-01-01' + INTERVAL seq SECOND FROM seq_1_to_{ROWS}")
    run(target_conn, f"UPDATE big SET s = 'changed' WHERE id = {ROWS // 2}")

    start = time.perf_counter()
    result = compare(source_conn, source_db, target_conn, target_db)
    elapsed = time.perf_counter() - start
    t = only_table(result)
    assert (t.rows_a, t.rows_b) == (ROWS, ROWS)
    assert [str(d) for d in t.differences] == [f"big (id={ROWS // 2}): column s differs: 'row-{ROWS // 2}' vs 'changed'"]
    print(f"\ncompare {ROWS} rows x2: {elapsed:.2f} s, {ROWS / elapsed:,.0f} rows/s per side")
    assert elapsed < 10, f"{ROWS} rows took {elapsed:.1f} s"

    # Bounded memory: the process's peak RSS (VmHWM, reset through /proc/self/clear_refs)
    # may grow by a few MB, not by the table: one side of these 200k rows read with a
    # buffered cursor grows it by ~75 MB.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    base = _proc_status("VmRSS")
    compare(source_conn, source_db, target_conn, target_db)
    growth = _proc_status("VmHWM") - base
    print(f"peak RSS growth during compare: {growth / 1e6:.1f} MB")
    assert growth < 20e6, f"peak RSS grew by {growth / 1e6:.1f} MB"


def _proc_status(field: str) -> int:
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024


# ----------------------------------------------------------------------------- schema

SCHEMA_BASE = (
    "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, a INT NOT NULL DEFAULT 0, b VARCHAR(20) DEFAULT 'x', "
    "c INT, s VARCHAR(30), g INT AS (a + 1) VIRTUAL, KEY k_ab (a, b(5)))",
    "INSERT INTO t (a, b, c, s) VALUES (1, 'one', 10, 's1'), (2, 'two', 20, 's2')",
    "CREATE TABLE p (id INT NOT NULL, PRIMARY KEY (id)) PARTITION BY RANGE (id) "
    "(PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN (200))",
    "CREATE VIEW v AS SELECT t.id, t.a + t.c AS total FROM t WHERE t.s <> 'hidden'",
)


def test_identical_schemas_compare_equal(source_conn, source_db, target_conn, target_db):
    """The same DDL on two databases of different names (view text qualified with each
    database's own name) compares equal, tables and views."""
    both(source_conn, target_conn, *SCHEMA_BASE,
         "CREATE SQL SECURITY INVOKER VIEW v2 AS SELECT id FROM p WITH CHECK OPTION")
    result = compare(source_conn, source_db, target_conn, target_db)
    assert result.equal, str(result)
    assert [t.table_a for t in result.tables] == ["p", "t"] and [v.view_a for v in result.views] == ["v", "v2"]
    assert "2 table(s), 2 view(s) compared" in str(result)


@pytest.mark.parametrize("lost_ddl, note", [
    ("ALTER TABLE t ADD INDEX idx_c (c)", "index idx_c only in source"),
    ("ALTER TABLE t ADD UNIQUE INDEX u_s (s)", "index u_s only in source"),
    ("ALTER TABLE t MODIFY c BIGINT", "column c type bigint(20) vs int(11)"),
    ("ALTER TABLE t MODIFY c INT NOT NULL", "column c nullability NOT NULL vs NULL"),
    ("ALTER TABLE t ALTER b SET DEFAULT 'y'", "column b default 'y' vs 'x'"),
    ("ALTER TABLE t ALTER a DROP DEFAULT", "column a default none vs 0"),
    ("ALTER TABLE t MODIFY s VARCHAR(30) COLLATE utf8mb4_unicode_ci",
     "column s collation utf8mb4_unicode_ci vs utf8mb4_bin"),
    ("ALTER TABLE t MODIFY s VARCHAR(30) CHARACTER SET latin1", "column s collation latin1_swedish_ci vs utf8mb4_bin"),
    ("ALTER TABLE t MODIFY id INT", "column id extra '' vs 'auto_increment'"),
    ("ALTER TABLE t DROP INDEX k_ab, ADD INDEX k_ab (a, b(6))", "index k_ab differs: source (a, b(6)) vs target (a, b(5))"),
    ("ALTER TABLE t DROP INDEX k_ab, ADD INDEX k_ab (b(5), a)", "index k_ab differs: source (b(5), a) vs target (a, b(5))"),
    ("ALTER TABLE t DROP INDEX k_ab, ADD UNIQUE INDEX k_ab (a, b(5))",
     "index k_ab differs: source UNIQUE (a, b(5)) vs target (a, b(5))"),
    ("ALTER TABLE t ADD FULLTEXT INDEX ft (s)", "index ft only in source"),
    ("ALTER TABLE t DEFAULT COLLATE utf8mb4_unicode_ci", "table collation utf8mb4_unicode_ci vs utf8mb4_bin"),
    ("ALTER TABLE p ADD PARTITION (PARTITION p2 VALUES LESS THAN (300))", "partitions (p0, p1, p2) vs (p0, p1)"),
])
def test_lost_ddl_makes_the_comparison_fail(source_conn, source_db, target_conn, target_db, lost_ddl, note):
    """A DDL that ran on the source but never reached the target: the rows still agree, the
    structure does not, so the databases are not equal."""
    both(source_conn, target_conn, *SCHEMA_BASE)
    run(source_conn, lost_ddl)
    result = compare(source_conn, source_db, target_conn, target_db)
    assert not result.equal
    notes = [n for t in result.tables for n in t.schema_notes]
    assert notes == [note], str(result)
    assert all(t.diff_count == 0 for t in result.tables)
    assert note in str(result)
    # rows and column lists alone still agree: it is the schema that differs
    assert compare(source_conn, source_db, target_conn, target_db, schema=False).equal


def test_index_on_target_only(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn, *SCHEMA_BASE)
    run(target_conn, "CREATE INDEX extra_idx ON t (s)")
    t = {t.table_a: t for t in compare(source_conn, source_db, target_conn, target_db).tables}["t"]
    assert t.schema_notes == ["index extra_idx only in target"]


def test_generated_column_expression_differs(source_conn, source_db, target_conn, target_db):
    run(source_conn, "CREATE TABLE t (id INT PRIMARY KEY, a INT, g INT AS (a + 1) VIRTUAL)")
    run(target_conn, "CREATE TABLE t (id INT PRIMARY KEY, a INT, g INT AS (a + 2) VIRTUAL)")
    t = only_table(compare(source_conn, source_db, target_conn, target_db))
    assert t.schema_notes == ["column g generated as (`a` + 1) vs (`a` + 2)"]


def test_lost_or_different_views(source_conn, source_db, target_conn, target_db):
    both(source_conn, target_conn, *SCHEMA_BASE[:3])
    run(source_conn, "CREATE VIEW v AS SELECT id, a FROM t WHERE s <> 'hidden'",  # lost CREATE VIEW
        "CREATE VIEW w AS SELECT id FROM t WHERE a > 1",
        "CREATE VIEW x AS SELECT id FROM t WITH CHECK OPTION",
        "CREATE VIEW y AS SELECT id, a FROM t")
    run(target_conn, "CREATE VIEW w AS SELECT id FROM t WHERE a > 2",  # a different definition
        "CREATE SQL SECURITY INVOKER VIEW x AS SELECT id FROM t",
        "CREATE VIEW y AS SELECT id, a AS b FROM t",
        "CREATE VIEW z AS SELECT 1 AS one")  # a view only in the target
    result = compare(source_conn, source_db, target_conn, target_db)
    assert not result.equal and all(t.equal for t in result.tables) and not result.only_in_a
    assert result.views_only_in_a == ["v"] and result.views_only_in_b == ["z"]
    notes = {v.view_a: v.notes for v in result.views}
    assert notes["w"] == ["definition differs: '...`id` from `t` where `t`.`a` > 1' vs '...`id` from `t` where `t`.`a` > 2'"]
    assert notes["x"] == ["check option CASCADED vs NONE", "SQL SECURITY DEFINER vs INVOKER"]
    assert notes["y"] == ["columns (id, a) vs (id, b)", "definition differs: '... `t`.`id` AS `id`,`t`.`a` AS `a` "
                          "from `t`' vs '... `t`.`id` AS `id`,`t`.`a` AS `b` from `t`'"]
    text = str(result)
    assert "view v: only in source" in text and "view z: only in target" in text
    # selecting names: a view can be named like a table; schema=False ignores views
    assert compare(source_conn, source_db, target_conn, target_db, tables=["t", "v"]).views_only_in_a == ["v"]
    assert compare(source_conn, source_db, target_conn, target_db, schema=False).equal


def test_schema_under_table_and_column_mapping_and_column_subset(source_conn, source_db, target_conn, target_db):
    """Renamed table and column, a column left out of the target on purpose (mapped to None,
    with its index), and a view over the renamed table: equal when they agree, and a lost
    index on a renamed column is reported under the target's column name."""
    run(source_conn,
        "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(40), secret VARCHAR(20), "
        "KEY k_email (email), KEY k_secret (secret), KEY k_both (email, secret))",
        "CREATE VIEW v_users AS SELECT id, email FROM users WHERE email LIKE '%@x'")
    run(target_conn,
        "CREATE TABLE customers (id INT PRIMARY KEY, mail VARCHAR(40), KEY k_email (mail))",
        "CREATE VIEW v_users AS SELECT id, mail AS email FROM customers WHERE mail LIKE '%@x'")
    run(source_conn, "INSERT INTO users VALUES (1, 'a@x', 's')")
    run(target_conn, "INSERT INTO customers VALUES (1, 'a@x')")
    maps = dict(table_map={"users": "customers"},
                column_map={"users": {"email": "mail", "secret": None}})
    result = compare(source_conn, source_db, target_conn, target_db, **maps)
    assert result.equal, str(result)
    assert [t.table_b for t in result.tables] == ["customers"] and [v.view_b for v in result.views] == ["v_users"]
    assert result.tables[0].columns_a == ("id", "mail")

    run(target_conn, "ALTER TABLE customers DROP INDEX k_email")
    result = compare(source_conn, source_db, target_conn, target_db, **maps)
    assert [n for t in result.tables for n in t.schema_notes] == ["index k_email only in source"]
    # without saying the column is left out, its absence is a difference
    plain = compare(source_conn, source_db, target_conn, target_db, table_map={"users": "customers"},
                    column_map={"users": {"email": "mail"}})
    assert "column(s) only in source: secret" in plain.tables[0].schema_notes
