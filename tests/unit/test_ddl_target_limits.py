"""Issue 19 rules, one small case each, for every target flavour: unique keys vs partitioning
(GLOBAL indexes), VARCHAR byte length and row size, rebuild-only ALTERs and temporary tables,
the decision-level policy, INTERVAL partition maintenance from a catalog, and shadow
validation with injected rejections (pure: a fake connection stands for the server)."""

from __future__ import annotations

import pymysql
import pytest

from tidb2mysql.ddl import translate
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.ddl.catalog import Column, Partition, StaticCatalog, TableInfo, expression_columns
from tidb2mysql.ddl.shadow import MAX_ATTEMPTS, Shadow, fallback, validate
from tidb2mysql.ddl.translate import _row_bytes, interval_plan

MARIADB = Dialect.parse("mariadb:10.11")
MYSQL8 = Dialect.parse("mysql:8.0")
MYSQL57 = Dialect.parse("mysql:5.7")
ALL = [MARIADB, MYSQL8, MYSQL57]


def stmt(sql, target=MARIADB, **kw) -> str:
    tr = translate(sql, target, **kw)
    assert len([x for x in tr.statements if not x.startswith("USE ")]) == 1, [str(d) for d in tr.decisions]
    return tr.statements[-1]


def levels(tr) -> list[str]:
    return [d.level for d in tr.decisions]


# --- 1. unique keys vs partitioning (CREATE TABLE) -----------------------------------------

NOT_COVERED = [
    "CREATE TABLE t (a int, b int, UNIQUE KEY uk (a) GLOBAL) PARTITION BY HASH (b) PARTITIONS 4",
    "CREATE TABLE t (a int, b int, UNIQUE KEY uk (a) /*T![global_index] GLOBAL */) PARTITION BY HASH (b) PARTITIONS 4",
    "CREATE TABLE t (a int, b int, UNIQUE KEY uk (a)) PARTITION BY HASH (b) PARTITIONS 4",
    "CREATE TABLE t (a int, b int, UNIQUE (a)) PARTITION BY LINEAR HASH (b) PARTITIONS 4",
    "CREATE TABLE t (a int, b int, CONSTRAINT c UNIQUE (a)) PARTITION BY HASH (b) PARTITIONS 2",
    "CREATE TABLE t (a int PRIMARY KEY, b int) PARTITION BY HASH (b) PARTITIONS 2",
    "CREATE TABLE t (a int UNIQUE, b int) PARTITION BY HASH (b) PARTITIONS 2",
    "CREATE TABLE t (a int, b int, PRIMARY KEY (a) NONCLUSTERED GLOBAL) PARTITION BY HASH (b) PARTITIONS 2",
    "CREATE TABLE t (a int, b date, UNIQUE KEY (a)) PARTITION BY RANGE (YEAR(b)) (PARTITION p0 VALUES LESS THAN (2000))",
    "CREATE TABLE t (a int, b varchar(9), UNIQUE KEY (a)) PARTITION BY RANGE COLUMNS (b) (PARTITION p0 VALUES LESS THAN ('m'))",
    "CREATE TABLE t (a int, b int, c int, UNIQUE KEY (a, b)) PARTITION BY LIST COLUMNS (a, c) (PARTITION p0 VALUES IN ((1, 1)))",
    "CREATE TABLE t (a int, b int, UNIQUE KEY (a, b(3))) PARTITION BY KEY (b) PARTITIONS 2",
    "CREATE TABLE t (id int PRIMARY KEY, e varchar(9), UNIQUE KEY (e)) PARTITION BY KEY () PARTITIONS 2",
    "CREATE TABLE t (a int, b int, UNIQUE KEY uk ((a + 1))) PARTITION BY HASH (b) PARTITIONS 2",
]
COVERED = [
    "CREATE TABLE t (a int, b int, UNIQUE KEY uk (a, b) GLOBAL) PARTITION BY HASH (b) PARTITIONS 4",
    "CREATE TABLE t (a int, b int, UNIQUE KEY uk (b, a)) PARTITION BY HASH (b) PARTITIONS 4",
    "CREATE TABLE t (a int, b int, KEY k (a) GLOBAL) PARTITION BY HASH (b) PARTITIONS 4",
    "CREATE TABLE t (a int, b int, KEY k (a)) PARTITION BY HASH (b) PARTITIONS 4",
    "CREATE TABLE t (a int, b date, PRIMARY KEY (a, b)) PARTITION BY RANGE (YEAR(b)) (PARTITION p0 VALUES LESS THAN (2000))",
    "CREATE TABLE t (`year` int, d date, UNIQUE KEY (`year`, d)) PARTITION BY RANGE (year(d)) (PARTITION p0 VALUES LESS THAN (2000))",
    "CREATE TABLE t (id int PRIMARY KEY, e varchar(9), UNIQUE KEY (e, id)) PARTITION BY KEY () PARTITIONS 2",
    "CREATE TABLE t (a int, b int, UNIQUE KEY (a)) PARTITION BY HASH (a) PARTITIONS 2",
    "CREATE TABLE t (a int, b int, UNIQUE KEY (a))",
]


@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("sql", NOT_COVERED)
def test_non_covering_unique_key_drops_partitioning(sql, target):
    tr = translate(sql, target)
    out = tr.statements[0]
    assert "PARTITION BY" not in out.upper() and "GLOBAL" not in out.upper()
    assert any(d.level == "warning" and "error 1503" in d.reason for d in tr.decisions)


@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("sql", COVERED)
def test_covering_keys_keep_partitioning(sql, target):
    tr = translate(sql, target)
    out = tr.statements[0]
    assert ("PARTITION BY" in out.upper()) == ("PARTITION BY" in sql.upper())
    assert "GLOBAL" not in out.upper()
    assert not any("1503" in d.reason for d in tr.decisions)


def test_global_removal_is_a_warning_even_when_covered():
    tr = translate(COVERED[0], MARIADB)
    assert any(d.level == "warning" and "GLOBAL" in d.reason for d in tr.decisions)


def test_global_comment_on_primary_key_next_to_nonclustered():
    sql = ("CREATE TABLE `t` (`a` int(11) NOT NULL, `b` varchar(255) DEFAULT NULL, PRIMARY KEY (`a`) "
           "/*T![clustered_index] NONCLUSTERED */ /*T![global_index] GLOBAL */) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 "
           "COLLATE=utf8mb4_bin PARTITION BY RANGE COLUMNS(`b`) (PARTITION `p0` VALUES LESS THAN ('m'))")
    out = stmt(sql)
    assert out.endswith("PRIMARY KEY (`a`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")


# --- 2. ADD UNIQUE on partitioned tables ------------------------------------------------------

def part_table(**kw) -> TableInfo:
    base = dict(charset="utf8mb4", columns=(Column("a", "int"), Column("b", "int"), Column("c", "varchar", 10, 40)),
                partition_method="HASH", partition_expression="`b`", partitions=(Partition("p0", None),))
    base.update(kw)
    return TableInfo(**base)


PARTITIONED = StaticCatalog({("db", "t"): part_table()})
PLAIN = StaticCatalog({("db", "t"): TableInfo(charset="latin1", columns=(Column("a", "int"), Column("b", "int")))})


@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("sql,expected", [
    ("ALTER TABLE t ADD UNIQUE INDEX uk (a) GLOBAL", "ALTER TABLE t ADD INDEX uk (a)"),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a) GLOBAL", "ALTER TABLE t ADD KEY uk (a)"),
    ("ALTER TABLE t ADD UNIQUE uk (a) GLOBAL", "ALTER TABLE t ADD INDEX uk (a)"),
    ("ALTER TABLE t ADD UNIQUE INDEX (a) /*T![global_index] GLOBAL */", "ALTER TABLE t ADD INDEX (a)"),
    ("ALTER TABLE t ADD CONSTRAINT c UNIQUE (a) GLOBAL", "ALTER TABLE t ADD INDEX c (a)"),
    ("ALTER TABLE t ADD CONSTRAINT c UNIQUE KEY uk (a) GLOBAL", "ALTER TABLE t ADD INDEX uk (a)"),
    ("CREATE UNIQUE INDEX uk ON t (a) GLOBAL", "CREATE INDEX uk ON t (a)"),
])
def test_global_unique_without_catalog_becomes_plain_index(sql, expected, target):
    tr = translate(sql, target)
    assert tr.statements == [expected]
    assert any(d.level == "warning" and "plain index" in d.reason for d in tr.decisions)


@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("sql,catalog,unique_kept", [
    ("ALTER TABLE t ADD UNIQUE KEY uk (a)", PARTITIONED, False),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a) GLOBAL", PARTITIONED, False),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a, b)", PARTITIONED, True),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a, b) GLOBAL", PARTITIONED, True),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a, c(3), b)", PARTITIONED, True),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a, b(3))", PARTITIONED, False),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a) GLOBAL", PLAIN, True),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a)", PLAIN, True),
    ("ALTER TABLE t ADD COLUMN d int, ADD UNIQUE KEY uk (a)", PARTITIONED, False),
    ("CREATE UNIQUE INDEX uk ON t (a)", PARTITIONED, False),
    ("CREATE UNIQUE INDEX uk ON db.t (a)", PARTITIONED, False),
    ("CREATE UNIQUE INDEX uk ON t (a, b)", PARTITIONED, True),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a)", StaticCatalog({}), True),
])
def test_added_unique_checked_against_the_target_catalog(sql, catalog, unique_kept, target):
    tr = translate(sql, target, schema="db", catalog=catalog)
    out = tr.statements[-1]
    assert ("UNIQUE" in out) == unique_kept, out
    assert "GLOBAL" not in out


def test_added_primary_key_is_never_demoted():
    out = stmt("ALTER TABLE t ADD PRIMARY KEY (a)", schema=None, catalog=StaticCatalog({(None, "t"): part_table()}))
    assert out == "ALTER TABLE t ADD PRIMARY KEY (a)"


def test_repartitioning_alter_checks_the_existing_unique_keys():
    cat = StaticCatalog({("db", "t"): TableInfo(columns=(Column("a", "int"), Column("b", "int")),
                                                unique_keys={"PRIMARY": ("a",)}, primary_key=("a",))})
    tr = translate("ALTER TABLE t PARTITION BY HASH (b) PARTITIONS 4", MARIADB, schema="db", catalog=cat)
    assert tr.skipped and any("1503" in d.reason for d in tr.decisions)
    tr = translate("ALTER TABLE t PARTITION BY HASH (a) PARTITIONS 4", MARIADB, schema="db", catalog=cat)
    assert tr.statements[-1] == "ALTER TABLE t PARTITION BY HASH (a) PARTITIONS 4"


# --- catalog helpers ---------------------------------------------------------------------------

@pytest.mark.parametrize("expr,cols", [
    ("`b`", ("b",)), ("year(`d`)", ("d",)), ("`a`,`b`", ("a", "b")), ("a + b * 2", ("a", "b")),
    ("year(year)", ("year",)), ("UNIX_TIMESTAMP(`ts`)", ("ts",)), ("", ()), ("to_days(missing)", ()),
])
def test_expression_columns(expr, cols):
    names = {n: n for n in ("a", "b", "d", "ts", "year")}
    assert expression_columns(expr, names) == cols


def test_partition_columns_of_key_partitioning_is_the_primary_key():
    info = TableInfo(columns=(Column("id", "int"),), partition_method="KEY", partition_expression="",
                     primary_key=("id",))
    assert info.partition_columns == ("id",)
    assert TableInfo().partition_columns == ()


# --- 3. VARCHAR byte length and row size --------------------------------------------------------

@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("sql,expected", [
    ("CREATE TABLE t (a varchar(20000))", "a MEDIUMTEXT"),
    ("CREATE TABLE t (a varchar(16384))", "a MEDIUMTEXT"),
    ("CREATE TABLE t (a varchar(16383))", "a varchar(16383)"),
    ("CREATE TABLE t (a varchar(21845)) character set utf8", "a TEXT"),
    ("CREATE TABLE t (a varchar(21846)) character set utf8", "a MEDIUMTEXT"),
    ("CREATE TABLE t (a varchar(60000)) DEFAULT CHARSET=latin1", "a varchar(60000)"),
    ("CREATE TABLE t (a varchar(20000) CHARACTER SET latin1)", "a varchar(20000) CHARACTER SET latin1"),
    ("CREATE TABLE t (a varchar(20000) COLLATE latin1_bin)", "a varchar(20000) COLLATE latin1_bin"),
    ("CREATE TABLE t (a varchar(20000) COLLATE utf8mb4_general_ci) DEFAULT CHARSET=latin1", "a MEDIUMTEXT"),
    ("CREATE TABLE t (a varchar(30000) CHARACTER SET gbk)", "a varchar(30000)"),
    ("CREATE TABLE t (a varchar(40000) CHARACTER SET gbk)", "a MEDIUMTEXT"),
    ("CREATE TABLE t (a varchar(10000), b varchar(10000))", "a TEXT, b varchar(10000)"),
    ("CREATE TABLE t (a varchar(10000), b varchar(12000))", "a varchar(10000), b TEXT"),
    ("CREATE TABLE t (a varbinary(40000), b varbinary(40000))", "a BLOB, b varbinary(40000)"),
    ("CREATE TABLE t (a char(255), b varchar(16000))", "a char(255), b varchar(16000)"),
    ("CREATE TABLE t (a char(255), b varchar(16200))", "a char(255), b TEXT"),
    ("CREATE TABLE t (a text, b varchar(16000))", "a text, b varchar(16000)"),
    ("CREATE TABLE t (id bigint, a varchar(16382))", "id bigint, a TEXT"),
    ("CREATE TABLE t (a varchar(100), b varchar(100))", "a varchar(100), b varchar(100)"),
])
def test_varchar_and_row_size(sql, expected, target):
    assert expected in stmt(sql, target)


def test_widening_is_a_warning_with_the_byte_count():
    tr = translate("CREATE TABLE t (a varchar(20000))", MARIADB)
    assert any(d.level == "warning" and "80000 bytes" in d.reason for d in tr.decisions)


@pytest.mark.parametrize("target,expected", [
    (MARIADB, "b TEXT DEFAULT 'x'"), (MYSQL8, "b TEXT DEFAULT ('x')"), (MYSQL57, "b TEXT)"),
])
def test_widened_column_default_per_target(target, expected):
    out = stmt("CREATE TABLE t (a varchar(9000), b varchar(12000) DEFAULT 'x')", target)
    assert expected in out


def test_widened_column_keeps_null_default_everywhere():
    for target in ALL:
        assert "b TEXT DEFAULT NULL" in stmt("CREATE TABLE t (a varchar(9000), b varchar(12000) DEFAULT NULL)", target)


def test_unprefixed_key_column_is_widened_last():
    out = stmt("CREATE TABLE t (a varchar(12000), b varchar(9000), KEY k (a))")
    assert "a varchar(12000)" in out and "b TEXT" in out


@pytest.mark.parametrize("sql,catalog,expected", [
    ("ALTER TABLE t ADD COLUMN c varchar(20000)", None, "c varchar(20000)"),
    ("ALTER TABLE t ADD COLUMN c varchar(20000)", PARTITIONED, "c MEDIUMTEXT"),
    ("ALTER TABLE t ADD COLUMN c varchar(20000)", PLAIN, "c varchar(20000)"),
    ("ALTER TABLE t ADD COLUMN c varchar(20000) CHARACTER SET utf8mb4", None, "c MEDIUMTEXT CHARACTER SET utf8mb4"),
    ("ALTER TABLE t MODIFY c varchar(30000)", PARTITIONED, "c MEDIUMTEXT"),
    ("ALTER TABLE t CHANGE c d varchar(30000)", PARTITIONED, "d MEDIUMTEXT"),
    ("ALTER TABLE t ADD (c varchar(20000), d int)", PARTITIONED, "c MEDIUMTEXT, d int"),
])
def test_alter_column_bytes_need_the_table_charset(sql, catalog, expected):
    assert expected in stmt(sql, schema="db", catalog=catalog)


def test_row_bytes_model():
    col = lambda t, n=None, cs=None, null=True: {"type": t, "length": n, "charset": cs, "nullable": null, "widened": False}  # noqa: E731
    assert _row_bytes([col("VARCHAR", 16383)], "utf8mb4") == 65532 + 2 + 1
    assert _row_bytes([col("VARCHAR", 10, null=False)], "latin1") == 11
    assert _row_bytes([col("INT", null=False), col("BIGINT", null=False)], "utf8mb4") == 12
    assert _row_bytes([col("TEXT")], "utf8mb4") == 13
    assert _row_bytes([col("CHAR", 10, "utf8")], "latin1") == 31


# --- 4. rebuild-only statements and temporary tables ---------------------------------------------

@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("sql", [
    "ALTER TABLE t ENGINE=InnoDB", "ALTER TABLE t ENGINE = InnoDB", "alter table t engine innodb",
    "ALTER TABLE t ENGINE=MyISAM", "ALTER TABLE t ROW_FORMAT=DYNAMIC", "ALTER TABLE t ROW_FORMAT=FIXED",
    "ALTER TABLE t KEY_BLOCK_SIZE=8", "ALTER TABLE t FORCE", "ALTER TABLE db.t FORCE",
    "ALTER TABLE t ENGINE=InnoDB ROW_FORMAT=COMPRESSED", "ALTER TABLE t ENGINE=InnoDB, ALGORITHM=INPLACE",
    "ALTER TABLE t FORCE, LOCK=NONE", "ALTER TABLE `t` ENGINE='InnoDB'",
    "OPTIMIZE TABLE t", "OPTIMIZE NO_WRITE_TO_BINLOG TABLE t, u",
])
def test_rebuild_only_statements_are_skipped_with_a_warning(sql, target):
    tr = translate(sql, target)
    assert tr.skipped and tr.statements == [] and tr.level == "warning"
    assert "rebuild" in " ".join(d.reason for d in tr.decisions)


@pytest.mark.parametrize("sql,expected", [
    ("ALTER TABLE t ADD COLUMN c int, ENGINE=InnoDB", "ALTER TABLE t ADD COLUMN c int"),
    ("ALTER TABLE t ENGINE=InnoDB, ADD COLUMN c int", "ALTER TABLE t ADD COLUMN c int"),
    ("ALTER TABLE t FORCE, ADD INDEX i (a)", "ALTER TABLE t ADD INDEX i (a)"),
    ("ALTER TABLE t FORCE AUTO_INCREMENT = 5", "ALTER TABLE t AUTO_INCREMENT = 5"),
    ("ALTER TABLE t COMMENT = 'x'", "ALTER TABLE t COMMENT = 'x'"),
    ("ALTER TABLE t AUTO_INCREMENT = 10", "ALTER TABLE t AUTO_INCREMENT = 10"),
])
def test_rebuild_clauses_removed_next_to_real_changes(sql, expected):
    assert stmt(sql) == expected


@pytest.mark.parametrize("sql,level", [
    ("CREATE TEMPORARY TABLE t (a int)", "warning"),
    ("create temporary table if not exists t (a int) engine=memory", "warning"),
    ("CREATE TEMPORARY TABLE t2 LIKE t", "warning"),
    ("CREATE TEMPORARY TABLE t2 AS SELECT * FROM t", "warning"),
    ("DROP TEMPORARY TABLE t", "info"),
    ("DROP TEMPORARY TABLE IF EXISTS t, u", "info"),
])
def test_temporary_tables_are_skipped(sql, level):
    for target in ALL:
        tr = translate(sql, target)
        assert tr.skipped and tr.level == level, [str(d) for d in tr.decisions]


# --- 5. one level policy ---------------------------------------------------------------------------

@pytest.mark.parametrize("sql,level", [
    ("ALTER TABLE t SET TIFLASH REPLICA 1", "warning"),
    ("ALTER TABLE t SET TIFLASH REPLICA 0", "info"),
    ("ALTER DATABASE d SET TIFLASH REPLICA 2", "warning"),
    ("ALTER DATABASE d SET TIFLASH REPLICA 0", "info"),
    ("ALTER TABLE t AUTO_ID_CACHE = 1", "warning"),
    ("ALTER TABLE t AUTO_RANDOM_BASE = 100", "warning"),
    ("ALTER TABLE t SHARD_ROW_ID_BITS = 4", "warning"),
    ("ALTER TABLE t PRE_SPLIT_REGIONS = 4", "warning"),
    ("ALTER TABLE t CACHE", "warning"),
    ("ALTER TABLE t NOCACHE", "info"),
    ("ALTER TABLE t PLACEMENT POLICY = p1", "warning"),
    ("ALTER TABLE t PLACEMENT POLICY = DEFAULT", "info"),
    ("ALTER TABLE t PARTITION p0 PLACEMENT POLICY = p1", "warning"),
    ("ALTER DATABASE d PLACEMENT POLICY = p1", "warning"),
    ("ALTER TABLE t TTL = c + INTERVAL 1 DAY", "warning"),
    ("ALTER TABLE t TTL_ENABLE = 'ON'", "warning"),
    ("ALTER TABLE t TTL_ENABLE = 'OFF'", "info"),
    ("ALTER TABLE t TTL_JOB_INTERVAL = '1h'", "warning"),
    ("ALTER TABLE t REMOVE TTL", "info"),
    ("ALTER TABLE t COMPACT TIFLASH REPLICA", "info"),
    ("ALTER TABLE t ATTRIBUTES = 'merge_option=deny'", "warning"),
    ("ALTER TABLE t ATTRIBUTES = DEFAULT", "info"),
    ("ALTER TABLE t STATS_BUCKETS = 10", "warning"),
    ("CREATE PLACEMENT POLICY p PRIMARY_REGION='r1' REGIONS='r1'", "warning"),
    ("ALTER PLACEMENT POLICY p FOLLOWERS=4", "warning"),
    ("CREATE RESOURCE GROUP rg RU_PER_SEC = 500", "warning"),
])
def test_skipped_tidb_only_levels(sql, level):
    tr = translate(sql, MARIADB)
    assert tr.skipped and tr.level == level, [str(d) for d in tr.decisions]


@pytest.mark.parametrize("comment,level", [
    ("/*T![clustered_index] CLUSTERED */", "info"),
    ("/*T![clustered_index] NONCLUSTERED */", "info"),
    ("/*T![auto_id_cache] AUTO_ID_CACHE=1 */", "warning"),
    ("/*T! SHARD_ROW_ID_BITS=4 */", "warning"),
    ("/*T! SHARD_ROW_ID_BITS=4 PRE_SPLIT_REGIONS=2 */", "warning"),
    ("/*T![placement] PLACEMENT POLICY=`p1` */", "warning"),
    ("/*T![ttl] TTL=`c` + INTERVAL 1 DAY */", "warning"),
    ("/*T![auto_rand_base] AUTO_RANDOM_BASE=100 */", "warning"),
    ("/*!90000 SHARD_ROW_ID_BITS=4 */", "warning"),
])
def test_removed_comment_level_follows_its_content(comment, level):
    tr = translate(f"CREATE TABLE t (c datetime, PRIMARY KEY (c)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin {comment}", MARIADB)
    assert [d.level for d in tr.decisions if "comment" in d.reason] == [level]


@pytest.mark.parametrize("sql", ["ALTER TABLE t SET TIFLASH REPLICA 1", "ALTER TABLE t AUTO_ID_CACHE = 1",
                                 "CREATE TEMPORARY TABLE t (a int)", "ALTER TABLE t ENGINE=InnoDB"])
def test_levels_are_the_same_on_every_target(sql):
    assert len({translate(sql, t).level for t in ALL}) == 1


# --- 6. INTERVAL partition maintenance ---------------------------------------------------------------

def ranges(*bounds, method="RANGE", nul=False) -> TableInfo:
    parts = [Partition("P_NULL", "-9223372036854775808")] if nul else []
    for b in bounds:
        shown = str(b).strip("'")
        parts.append(Partition("P_MAXVALUE" if b == "MAXVALUE" else f"P_LT_{shown}", str(b)))
    return TableInfo(columns=(Column("id", "int"),), partition_method=method, partition_expression="`id`",
                     partitions=tuple(parts))


@pytest.mark.parametrize("info,which,bound,expected", [
    (ranges(100, 200, 300), "LAST", "500", "ADD PARTITION (PARTITION `P_LT_400` VALUES LESS THAN (400), "
                                            "PARTITION `P_LT_500` VALUES LESS THAN (500))"),
    (ranges(100, 200, 300), "LAST", "400", "ADD PARTITION (PARTITION `P_LT_400` VALUES LESS THAN (400))"),
    (ranges(100, 200, 300), "LAST", "300", ""),
    (ranges(-20, -10, 0), "LAST", "10", "ADD PARTITION (PARTITION `P_LT_10` VALUES LESS THAN (10))"),
    (ranges(100, 200, 300), "FIRST", "300", "DROP PARTITION `P_LT_100`, `P_LT_200`"),
    (ranges(100, 200, 300), "FIRST", "100", ""),
    (ranges(10, 20, 30, nul=True), "FIRST", "20", "DROP PARTITION `P_LT_10`"),
    (ranges(10, 20, 30, "MAXVALUE"), "FIRST", "30", "DROP PARTITION `P_LT_10`, `P_LT_20`"),
    (ranges("'2024-11-01'", "'2024-12-01'", "'2025-01-01'", method="RANGE COLUMNS"), "LAST", "'2025-03-01'",
     "ADD PARTITION (PARTITION `P_LT_2025-02-01` VALUES LESS THAN ('2025-02-01'), "
     "PARTITION `P_LT_2025-03-01` VALUES LESS THAN ('2025-03-01'))"),
    (ranges("'2024-01-01'", "'2025-01-01'", method="RANGE COLUMNS"), "LAST", "'2026-01-01'",
     "ADD PARTITION (PARTITION `P_LT_2026-01-01` VALUES LESS THAN ('2026-01-01'))"),
    (ranges("'2025-02-19 18:00:00'", "'2025-02-19 18:10:00'", method="RANGE COLUMNS"), "LAST", '"2025-02-19 18:20:00"',
     "ADD PARTITION (PARTITION `P_LT_2025-02-19 18:20:00` VALUES LESS THAN ('2025-02-19 18:20:00'))"),
    (ranges("'2025-01-01'", "'2025-01-08'", method="RANGE COLUMNS"), "FIRST", "'2025-01-08'",
     "DROP PARTITION `P_LT_2025-01-01`"),
])
def test_interval_plan(info, which, bound, expected):
    assert interval_plan(info, which, bound) == expected


@pytest.mark.parametrize("info,which,bound,why", [
    (ranges(100, 200, "MAXVALUE"), "LAST", "400", "MAXVALUE"),
    (ranges(100, 200, 300), "LAST", "450", "interval"),
    (ranges(100, 150, 300), "LAST", "400", "equally"),
    (ranges(100), "LAST", "300", "fewer than two"),
    (ranges(100, 200, 300), "FIRST", "250", "no partition"),
    (ranges(100, 200, method="HASH"), "LAST", "300", "not RANGE"),
    (ranges(100, 200), "LAST", "'2024-01-01'", "type"),
    (ranges(100, 200), "LAST", "MAXVALUE", "MAXVALUE"),
])
def test_interval_plan_refuses_what_tidb_refuses(info, which, bound, why):
    with pytest.raises(ValueError, match=why):
        interval_plan(info, which, bound)


@pytest.mark.parametrize("target", ALL, ids=str)
def test_interval_maintenance_with_catalog(target):
    cat = StaticCatalog({("db", "employees"): ranges(100, 200, 300)})
    tr = translate("ALTER TABLE employees LAST PARTITION LESS THAN (400)", target, schema="db", catalog=cat)
    assert tr.statements == ["USE `db`", "ALTER TABLE employees ADD PARTITION (PARTITION `P_LT_400` VALUES LESS THAN (400))"]
    assert tr.level == "info" and not tr.needs_recopy and not tr.untranslatable
    tr = translate("ALTER TABLE employees FIRST PARTITION LESS THAN (300)", target, schema="db", catalog=cat)
    assert tr.statements[-1] == "ALTER TABLE employees DROP PARTITION `P_LT_100`, `P_LT_200`"
    assert not tr.needs_recopy


@pytest.mark.parametrize("sql,catalog,recopy", [
    ("ALTER TABLE t LAST PARTITION LESS THAN (400)", None, False),
    ("ALTER TABLE t FIRST PARTITION LESS THAN (400)", None, True),
    ("ALTER TABLE t LAST PARTITION LESS THAN (400)", StaticCatalog({}), False),
    ("ALTER TABLE t LAST PARTITION LESS THAN (400)", StaticCatalog({("db", "t"): ranges(100, 200, "MAXVALUE")}), False),
    ("ALTER TABLE t LAST PARTITION LESS THAN (400)", StaticCatalog({("db", "t"): TableInfo()}), False),
])
def test_interval_maintenance_that_cannot_be_derived_is_untranslatable(sql, catalog, recopy):
    tr = translate(sql, MARIADB, schema="db", catalog=catalog)
    assert tr.untranslatable and tr.statements == [] and tr.level == "error"
    assert tr.needs_recopy == recopy


def test_already_present_partitions_are_an_info_skip():
    cat = StaticCatalog({("db", "t"): ranges(100, 200, 300)})
    tr = translate("ALTER TABLE t LAST PARTITION LESS THAN (300)", MARIADB, schema="db", catalog=cat)
    assert tr.skipped and tr.level == "info" and not tr.untranslatable


def test_catalog_failure_is_a_warning_not_a_crash():
    class Broken:
        def table(self, schema, name):
            raise RuntimeError("gone")
    tr = translate("ALTER TABLE t ADD UNIQUE KEY uk (a)", MARIADB, schema="db", catalog=Broken())
    assert tr.statements[-1] == "ALTER TABLE t ADD UNIQUE KEY uk (a)"
    assert any(d.level == "warning" and "gone" in d.reason for d in tr.decisions)


# --- shadow validation: text fallbacks ------------------------------------------------------------

@pytest.mark.parametrize("sql,code,msg,expected", [
    ("CREATE TABLE t (a int, b int, UNIQUE KEY (a)) PARTITION BY HASH (b) PARTITIONS 2", 1503, "",
     "CREATE TABLE t (a int, b int, UNIQUE KEY (a))"),
    ("ALTER TABLE t ADD UNIQUE KEY uk (a)", 1503, "", "ALTER TABLE t ADD KEY uk (a)"),
    ("ALTER TABLE t ADD UNIQUE uk (a)", 1503, "", "ALTER TABLE t ADD INDEX uk (a)"),
    ("ALTER TABLE t ADD CONSTRAINT c UNIQUE (a)", 1503, "", "ALTER TABLE t ADD INDEX c (a)"),
    ("CREATE UNIQUE INDEX uk ON t (a)", 1503, "", "CREATE INDEX uk ON t (a)"),
    ("ALTER TABLE t PARTITION BY HASH (b) PARTITIONS 2", 1503, "", ""),
    ("CREATE TABLE t (a varchar(20000))", 1074, "Column length too big for column 'a' (max = 16383); use BLOB",
     "CREATE TABLE t (a MEDIUMTEXT)"),
    ("CREATE TABLE t (a varchar(20000), b varchar(30000))", 1074, "Column length too big for column 'a' (max = 21845)",
     "CREATE TABLE t (a TEXT, b varchar(30000))"),
    ("CREATE TABLE t (a varchar(9000), b varchar(10000))", 1118, "Row size too large",
     "CREATE TABLE t (a varchar(9000), b TEXT)"),
    ("ALTER TABLE t ADD COLUMN c varchar(9000)", 1118, "Row size too large", "ALTER TABLE t ADD COLUMN c TEXT"),
    ("ALTER TABLE t ADD COLUMN c varchar(30000) CHARACTER SET latin1", 1118, "Row size too large",
     "ALTER TABLE t ADD COLUMN c TEXT CHARACTER SET latin1"),
    ("ALTER TABLE t ADD COLUMN c varbinary(30000)", 1118, "Row size too large", "ALTER TABLE t ADD COLUMN c BLOB"),
])
def test_fallbacks(sql, code, msg, expected):
    new, what = fallback(sql, code, msg)
    assert new == expected and what


@pytest.mark.parametrize("sql,code", [
    ("ALTER TABLE t ADD PRIMARY KEY (a)", 1503),
    ("ALTER TABLE t ADD COLUMN c int", 1118),
    ("CREATE TABLE t (a int)", 1064),
    ("CREATE TABLE t (a varchar(900), KEY (a))", 1071),
    ("CREATE TABLE t (a int)", None),
])
def test_no_fallback(sql, code):
    assert fallback(sql, code, "x") == (None, "")


# --- shadow validation: the path, on a fake server that rejects on cue ------------------------------

class FakeServer:
    """Records every statement; ``reject(sql)`` returns (code, message) to raise, or None."""

    def __init__(self, reject=lambda sql: None, tables=("t",)):
        self.log: list[str] = []
        self.reject = reject
        self.tables = set(tables)

    def cursor(self):
        return FakeCursor(self)


class FakeCursor:
    def __init__(self, server):
        self.server = server
        self.rows = ()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def execute(self, sql, args=None):
        self.server.log.append(sql)
        if sql.startswith("SELECT @@SESSION.foreign_key_checks"):
            self.rows = ((1,),)
        elif sql.startswith("SELECT 1 FROM information_schema.TABLES"):
            self.rows = ((1,),) if args[1] in self.server.tables else ()
        elif sql.startswith("SELECT DATABASE()"):
            self.rows = (("db",),)
        else:
            self.rows = ()
            if "_tidb2mysql_shadow_" in sql and not sql.startswith(("CREATE DATABASE", "DROP ", "CREATE TABLE `_tidb2mysql_shadow")) \
                    or sql.startswith("CREATE TABLE `_tidb2mysql_shadow") and " LIKE " not in sql:
                err = self.server.reject(sql)
                if err:
                    raise pymysql.err.OperationalError(*err)

    def fetchall(self):
        return self.rows


def run_shadow(sql, reject, tables=("t",), target=MARIADB):
    server = FakeServer(reject, tables)
    tr = translate(sql, target, schema="db")
    return validate(server, tr, "db"), server


def test_accepted_statement_passes_unchanged():
    tr, server = run_shadow("ALTER TABLE t ADD COLUMN c int", lambda s: None)
    assert tr.statements == ["USE `db`", "ALTER TABLE t ADD COLUMN c int"]
    shadow_runs = [s for s in server.log if "ADD COLUMN" in s]
    assert shadow_runs and all("_tidb2mysql_shadow_" in s for s in shadow_runs)   # the real table is never touched
    assert any(s.startswith("CREATE TABLE `_tidb2mysql_shadow") and "LIKE `db`.`t`" in s for s in server.log)
    assert server.log[-1].startswith("DROP DATABASE IF EXISTS `_tidb2mysql_shadow")
    assert "SET SESSION foreign_key_checks = 1" in server.log


def test_rejected_unique_key_falls_back_to_plain_index():
    tr, server = run_shadow("ALTER TABLE t ADD UNIQUE KEY uk (a)",
                            lambda s: (1503, "A UNIQUE INDEX must include all columns") if "UNIQUE" in s else None)
    assert tr.statements == ["USE `db`", "ALTER TABLE t ADD KEY uk (a)"]
    assert not tr.untranslatable and tr.level == "warning"
    assert any("shadow validation" in d.reason and "1503" in d.reason for d in tr.decisions)
    assert not any(d.reason == "runs on the target as written" for d in tr.decisions)


def test_rejected_partitioned_create_falls_back_to_unpartitioned():
    tr, _ = run_shadow("CREATE TABLE n (a int, b int, KEY (a)) PARTITION BY HASH (b) PARTITIONS 2",
                       lambda s: (1503, "x") if "PARTITION BY" in s else None, tables=())
    assert "PARTITION" not in tr.statements[-1] and tr.level == "warning"


def test_two_fallbacks_in_a_row():
    def reject(s):
        if "varchar(30000)" in s:
            return (1074, "Column length too big for column 'b' (max = 16383)")
        if "varchar(20000)" in s:
            return (1074, "Column length too big for column 'a' (max = 16383)")
    tr, _ = run_shadow("CREATE TABLE n (a varchar(20000) CHARACTER SET latin1, b varchar(30000) CHARACTER SET latin1)",
                       reject, tables=())
    assert "a MEDIUMTEXT" in tr.statements[-1] and "b MEDIUMTEXT" in tr.statements[-1]
    assert sum("shadow validation" in d.reason for d in tr.decisions) == 2


def test_rejection_without_fallback_stops_before_the_real_table():
    tr, server = run_shadow("ALTER TABLE t ADD PRIMARY KEY (a)", lambda s: (1503, "A PRIMARY KEY must include all"))
    assert tr.untranslatable and tr.statements == [] and tr.level == "error"
    assert "operator must decide" in tr.decisions[-1].reason and "1503" in tr.decisions[-1].reason
    assert not any("ADD PRIMARY KEY" in s and "_tidb2mysql_shadow_" not in s for s in server.log)


def test_a_fallback_that_keeps_failing_stops_after_the_limit():
    tr, _ = run_shadow("CREATE TABLE n (" + ", ".join(f"c{i} varchar(9000)" for i in range(MAX_ATTEMPTS + 2)) + ")",
                       lambda s: (1118, "Row size too large"), tables=())
    assert tr.untranslatable and tr.statements == []


def test_statements_without_a_table_subject_are_not_shadowed():
    for sql in ("DROP TABLE t", "RENAME TABLE t TO u", "TRUNCATE TABLE t", "CREATE VIEW v AS SELECT 1"):
        tr, server = run_shadow(sql, lambda s: (1064, "nope"))
        assert not tr.untranslatable and tr.statements[-1].lower().startswith(sql.split()[0].lower()), sql


def test_alter_of_a_table_missing_on_the_target_is_not_shadowed():
    tr, server = run_shadow("ALTER TABLE gone ADD COLUMN c int", lambda s: (1064, "nope"), tables=())
    assert tr.statements[-1] == "ALTER TABLE gone ADD COLUMN c int" and not tr.untranslatable
    assert not any(" LIKE " in s for s in server.log)


def test_skipped_translation_needs_no_server():
    tr = translate("ALTER TABLE t SET TIFLASH REPLICA 1", MARIADB, schema="db")
    assert validate(None, tr, "db") is tr


def test_shadow_reuses_one_scratch_database():
    server = FakeServer()
    with Shadow(server) as sh:
        for _ in range(3):
            sh.check(["ALTER TABLE t ADD COLUMN c int"], "db")
    assert sum(s.startswith("CREATE DATABASE") for s in server.log) == 1
    assert sum(s.startswith("DROP DATABASE") for s in server.log) == 1


def test_qualified_names_are_shadowed_in_their_schema():
    server = FakeServer()
    Shadow(server).check(["ALTER TABLE `other`.`t` ADD COLUMN c int"])
    assert any("LIKE `other`.`t`" in s for s in server.log)
    assert any(s.startswith("ALTER TABLE `_tidb2mysql_shadow") for s in server.log)


# --- index key length (InnoDB: 3,072 bytes; TiDB's max-index-length may be up to 12,288) ----------

@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("sql,expected", [
    ("CREATE TABLE t (a varchar(1000), KEY k (a))", "KEY k (a(768))"),
    ("CREATE TABLE t (a varchar(768), KEY k (a))", "KEY k (a))"),
    ("CREATE TABLE t (a varchar(1000), KEY k (a(900)))", "KEY k (a(768))"),
    ("CREATE TABLE t (a varchar(1000), KEY k (a(500)))", "KEY k (a(500))"),
    ("CREATE TABLE t (a varchar(1000), b varchar(1000), KEY k (a, b))", "KEY k (a(384), b(384))"),
    ("CREATE TABLE t (a varchar(100), b varchar(1000), KEY k (a, b))", "KEY k (a, b(668))"),
    ("CREATE TABLE t (a varchar(1000), b bigint, KEY k (a, b))", "KEY k (a(766), b)"),
    ("CREATE TABLE t (a varchar(4000), KEY k (a)) DEFAULT CHARSET=latin1", "KEY k (a(3072))"),
    ("CREATE TABLE t (a varchar(3000), KEY k (a)) DEFAULT CHARSET=latin1", "KEY k (a))"),
    ("CREATE TABLE t (a varbinary(4000), KEY k (a))", "KEY k (a(3072))"),
    ("CREATE TABLE t (a varchar(1000), FULLTEXT KEY f (a))", "FULLTEXT KEY f (a))"),
])
def test_plain_index_too_long_gets_prefixes(sql, expected, target):
    assert expected in stmt(sql, target)


def test_unique_key_too_long_per_target():
    sql = "CREATE TABLE t (a varchar(1000), UNIQUE KEY u (a))"
    tr = translate(sql, MARIADB)
    assert "UNIQUE KEY u (a))" in tr.statements[0] and tr.level == "warning" and "HASH" in tr.decisions[-1].reason
    for target in (MYSQL8, MYSQL57):
        tr = translate(sql, target)
        assert tr.untranslatable and tr.statements == [] and tr.level == "error"
    pk = translate("CREATE TABLE t (a varchar(1000), PRIMARY KEY (a))", MARIADB)
    assert pk.untranslatable


def test_index_length_with_the_target_catalog():
    cat = StaticCatalog({("db", "t"): TableInfo(charset="utf8mb4", columns=(
        Column("a", "varchar", 1000, 4000, "utf8mb4"), Column("b", "varchar", 1000, 1000, "latin1")))})
    assert stmt("ALTER TABLE t ADD INDEX k (a)", schema="db", catalog=cat) == "ALTER TABLE t ADD INDEX k (a(768))"
    assert stmt("ALTER TABLE t ADD INDEX k (b)", schema="db", catalog=cat) == "ALTER TABLE t ADD INDEX k (b)"
    assert stmt("CREATE INDEX k ON t (a, b)", schema="db", catalog=cat) == "CREATE INDEX k ON t (a(518), b)"
    assert stmt("ALTER TABLE t ADD INDEX k (a)", schema="db") == "ALTER TABLE t ADD INDEX k (a)"


@pytest.mark.parametrize("sql", [
    "ALTER TABLE t RENAME TO u", "ALTER TABLE t RENAME u", "ALTER TABLE t ADD COLUMN c int, RENAME TO other.u",
    "ALTER TABLE t EXCHANGE PARTITION p0 WITH TABLE u", "ALTER TABLE t DISCARD TABLESPACE",
    "ALTER TABLE t IMPORT TABLESPACE", "CREATE TABLE n AS SELECT * FROM t", "CREATE TABLE n (a int) SELECT a FROM t",
])
def test_statements_reaching_beyond_the_copy_are_never_shadowed(sql):
    server = FakeServer(lambda s: (1064, "must not run"))
    out = Shadow(server).check([sql], "db")
    assert out.statements == [sql] and out.shadowed == 0
    assert not any("_tidb2mysql_shadow_" in s and not s.startswith(("CREATE DATABASE", "DROP")) for s in server.log)


@pytest.mark.parametrize("sql", ["ALTER TABLE t RENAME COLUMN a TO b", "ALTER TABLE t RENAME INDEX a TO b",
                                 "ALTER TABLE t RENAME KEY a TO b"])
def test_renaming_inside_the_table_is_shadowed(sql):
    server = FakeServer()
    assert Shadow(server).check([sql], "db").shadowed == 1


def test_a_shadow_that_cannot_be_prepared_lets_the_statement_run_with_a_warning():
    class NoLike(FakeServer):
        pass
    server = NoLike()
    orig = FakeCursor.execute

    def execute(self, sql, args=None):
        if " LIKE " in sql:
            raise pymysql.err.OperationalError(1142, "CREATE command denied")
        return orig(self, sql, args)
    FakeCursor.execute = execute
    try:
        out = Shadow(server).check(["ALTER TABLE t ADD COLUMN c int"], "db")
    finally:
        FakeCursor.execute = orig
    assert out.statements == ["ALTER TABLE t ADD COLUMN c int"] and not out.untranslatable
    assert out.decisions[0].level == "warning" and "unvalidated" in out.decisions[0].reason


@pytest.mark.parametrize("target", ALL, ids=str)
@pytest.mark.parametrize("sql,expected", [
    ("ALTER TABLE t PARTITION BY HASH (a) PARTITIONS 3 UPDATE INDEXES (uk LOCAL, k GLOBAL)",
     "ALTER TABLE t PARTITION BY HASH (a) PARTITIONS 3"),
    ("ALTER TABLE t REMOVE PARTITIONING UPDATE INDEXES (k GLOBAL)", "ALTER TABLE t REMOVE PARTITIONING"),
    ("ALTER TABLE t PARTITION BY KEY (a) PARTITIONS 2 update indexes (`k` local)",
     "ALTER TABLE t PARTITION BY KEY (a) PARTITIONS 2"),
])
def test_update_indexes_clause_removed(sql, expected, target):
    tr = translate(sql, target)
    assert tr.statements == [expected]
    assert any(d.level == "warning" and "UPDATE INDEXES" in d.reason.upper() for d in tr.decisions)


def test_repartitioning_with_a_global_unique_key_is_skipped_with_the_catalog():
    cat = StaticCatalog({("db", "t"): TableInfo(columns=(Column("a", "int"), Column("c", "int")),
                                                unique_keys={"uk": ("c",)})})
    tr = translate("ALTER TABLE t PARTITION BY HASH (a) PARTITIONS 3 UPDATE INDEXES (uk GLOBAL)", MARIADB,
                   schema="db", catalog=cat)
    assert tr.skipped and tr.level == "warning" and any("1503" in d.reason for d in tr.decisions)
