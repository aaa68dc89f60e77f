"""Each rewrite rule of the DDL translator, per target (pure; the corpus tests cover real
statements, these pin the rules and the target differences)."""

from __future__ import annotations

import pytest

from tidb2mysql.ddl import Decision, TranslateOptions, Translation, translate
from tidb2mysql.mysql.dialect import Dialect

MARIADB = Dialect.parse("mariadb:10.11")
MYSQL8 = Dialect.parse("mysql:8.0")
MYSQL57 = Dialect.parse("mysql:5.7")
ALL = [MARIADB, MYSQL8, MYSQL57]


def one(sql, target=MARIADB, **kw) -> str:
    tr = translate(sql, target, **kw)
    assert len(tr.statements) == 1, tr
    return tr.statements[0]


def reasons(tr: Translation) -> str:
    return " | ".join(f"{d.level}:{d.reason}" for d in tr.decisions)


# --- target model ---------------------------------------------------------------------

def test_target_parsing_and_detection_strings():
    assert Dialect.parse("mysql:8.0.36").version == (8, 0, 36)
    assert Dialect.parse("mysql:8.0").version == (8, 0, 99)
    assert Dialect.from_version_string("10.11.19-MariaDB-0+deb12u1") == Dialect("mariadb", (10, 11, 19))
    assert Dialect.from_version_string("8.0.36-commercial") == Dialect("mysql", (8, 0, 36))
    with pytest.raises(ValueError):
        Dialect.parse("oracle:19")
    with pytest.raises(ValueError):
        Dialect.parse("mysql")


@pytest.mark.parametrize("target,number,runs", [
    (MYSQL8, 80000, True), (MYSQL57, 80000, False), (MYSQL8, 90000, False), (Dialect("mysql", (9, 1, 0)), 90000, True),
    (MARIADB, 40100, True), (MARIADB, 80000, False), (MARIADB, 90000, False), (MARIADB, 50699, True),
    (MARIADB, 100100, True), (MARIADB, None, True),
])
def test_versioned_comment_rule(target, number, runs):
    assert target.executes_versioned_comment(number) is runs


def test_mariadb_only_comment_is_plain_on_mysql():
    assert MARIADB.executes_versioned_comment(None, "mariadb")
    assert not MYSQL8.executes_versioned_comment(None, "mariadb")


def test_decision_validates_level_and_action():
    with pytest.raises(ValueError):
        Decision("fatal", "changed", "x")
    with pytest.raises(ValueError):
        Decision("info", "dropped", "x")


# --- comments ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", ALL)
def test_tidb_comments_dropped(target):
    out = one("CREATE TABLE t (a bigint NOT NULL /*T![auto_rand] AUTO_RANDOM(3) */, "
              "PRIMARY KEY (a) /*T![clustered_index] CLUSTERED */) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin "
              "/*T! SHARD_ROW_ID_BITS=4 */", target)
    # AUTO_RANDOM becomes AUTO_INCREMENT ([ddl] auto_random default; test_auto_random_* below)
    assert out == ("CREATE TABLE t (a bigint NOT NULL AUTO_INCREMENT, PRIMARY KEY (a)) DEFAULT CHARSET=utf8mb4 "
                   "COLLATE=utf8mb4_bin")


def test_tidb_comments_kept_as_option():
    tr = translate("CREATE TABLE t (a int) /*T! SHARD_ROW_ID_BITS=4 */ DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
                   MARIADB, options=TranslateOptions(keep_tidb_comments=True))
    assert "/*T! SHARD_ROW_ID_BITS=4 */" in tr.statements[0]


@pytest.mark.parametrize("target", ALL)
def test_versioned_comment_with_tidb_options_removed(target):
    out = one("CREATE TABLE t (a int) COLLATE=utf8mb4_bin/*!90000 SHARD_ROW_ID_BITS=4 PRE_SPLIT_REGIONS=3 */", target)
    assert "90000" not in out and "SHARD" not in out


def test_versioned_comment_inlined_only_where_executed():
    sql = "CREATE TABLE t (a int, KEY k (a) /*!80000 INVISIBLE */) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    assert "KEY k (a) INVISIBLE)" in one(sql, MYSQL8)
    assert "/*!80000 INVISIBLE */" in one(sql, MYSQL57)
    assert "KEY k (a) IGNORED)" in one(sql, MARIADB)


def test_cached_table_marker_removed():
    assert "CACHED" not in one("CREATE TABLE t (a int) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /* CACHED ON */")


def test_untouched_statement_is_byte_identical():
    sql = "ALTER TABLE `t`  ADD   COLUMN `c` varchar(3) /* keep */ DEFAULT 'x;y' -- tail"
    tr = translate(sql, MARIADB)
    assert tr.statements == [sql]
    assert [d.action for d in tr.decisions] == ["unchanged"]


# --- bare TiDB keywords -----------------------------------------------------------------

@pytest.mark.parametrize("col", ["a BIGINT PRIMARY KEY AUTO_RANDOM(5, 54)", "a BIGINT AUTO_RANDOM PRIMARY KEY",
                                 "a bigint auto_random ( 4 ) primary key"])
def test_auto_random_becomes_auto_increment(col):
    """Issue 20: after cut-over the application's inserts failed with 1364 (no default for id)."""
    tr = translate(f"CREATE TABLE t ({col})", MARIADB)
    out = tr.statements[0]
    assert "auto_random" not in out.lower() and "auto_increment" in out.lower()
    assert any(d.level == "warning" and "AUTO_RANDOM -> AUTO_INCREMENT" in d.reason for d in tr.decisions)


@pytest.mark.parametrize("col", ["a BIGINT PRIMARY KEY AUTO_RANDOM(5, 54)", "a bigint auto_random ( 4 ) primary key"])
def test_auto_random_none_policy_removes_it_and_says_what_breaks(col):
    tr = translate(f"CREATE TABLE t ({col})", MARIADB, options=TranslateOptions(auto_random="none"))
    out = tr.statements[0]
    assert "auto_random" not in out.lower() and "auto_increment" not in out.lower()
    assert any(d.level == "warning" and "1364" in d.reason and "[ddl] auto_random" in d.reason for d in tr.decisions)


def test_auto_random_in_a_tidb_comment_follows_the_policy():
    sql = ("CREATE TABLE t (id bigint NOT NULL /*T![auto_rand] AUTO_RANDOM(5) */, v int, PRIMARY KEY (id) "
           "/*T![clustered_index] CLUSTERED */) /*T![auto_rand_base] AUTO_RANDOM_BASE=39456621 */")
    assert "id bigint NOT NULL AUTO_INCREMENT, v int" in translate(sql, MARIADB).statements[0]
    assert "AUTO_INCREMENT" not in translate(sql, MARIADB, options=TranslateOptions(auto_random="none")).statements[0]


def test_sequence_default_becomes_auto_increment_only_where_mysql_allows_it():
    ok = translate("CREATE TABLE s (id int NOT NULL DEFAULT nextval(`db`.`seq`), v int, PRIMARY KEY (id))", MARIADB)
    assert "id int AUTO_INCREMENT NOT NULL" in ok.statements[0] and "nextval" not in ok.statements[0]
    assert any(d.level == "warning" and "-> AUTO_INCREMENT" in d.reason for d in ok.decisions)
    # not first in any key: MySQL refuses AUTO_INCREMENT there; the warning says what inserts must do
    no = translate("CREATE TABLE s (id int NOT NULL DEFAULT nextval(`db`.`seq`), v int)", MARIADB)
    assert "AUTO_INCREMENT" not in no.statements[0] and "nextval" not in no.statements[0]
    assert any(d.level == "warning" and "must give this column a value" in d.reason for d in no.decisions)
    # a second AUTO_INCREMENT column is not allowed
    two = translate("CREATE TABLE s (id int NOT NULL AUTO_INCREMENT, n int NOT NULL DEFAULT nextval(`seq`), "
                    "PRIMARY KEY (id), KEY (n))", MARIADB)
    assert two.statements[0].count("AUTO_INCREMENT") == 1


def test_latin1_policy_maps_columns_and_table_to_utf8mb4():
    sql = ("CREATE TABLE t (id int PRIMARY KEY, v varchar(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci, "
           "w text CHARACTER SET latin1) DEFAULT CHARSET=latin1 COLLATE=latin1_bin")
    kept = translate(sql, MARIADB).statements[0]
    assert "utf8mb4" not in kept and "latin1_swedish_ci" in kept
    tr = translate(sql, MARIADB, options=TranslateOptions(latin1="utf8mb4"))
    out = tr.statements[0]
    assert "latin1" not in out
    assert "v varchar(10) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci" in out
    assert "w text CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" in out
    assert out.endswith("DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
    assert any(d.level == "warning" and "latin1 -> utf8mb4" in d.reason for d in tr.decisions)


def test_ttl_removal_says_what_to_do():
    tr = translate("CREATE TABLE t (c datetime) /*T![ttl] TTL=`c` + INTERVAL 1 DAY */ /*T![ttl] TTL_ENABLE='ON' */",
                   MARIADB)
    assert any(d.level == "warning" and "EVENT" in d.reason for d in tr.decisions)


@pytest.mark.parametrize("sql,expected", [
    ("CREATE TABLE t (a int, PRIMARY KEY (a) NONCLUSTERED)", "PRIMARY KEY (a))"),
    ("CREATE TABLE t (a int PRIMARY KEY CLUSTERED)", "a int PRIMARY KEY)"),
    ("ALTER TABLE t ADD PRIMARY KEY (a) CLUSTERED", "ALTER TABLE t ADD PRIMARY KEY (a)"),
])
def test_clustered_keywords_removed(sql, expected):
    assert expected in one(sql)


def test_table_named_clustered_untouched():
    assert one("create table clustered (id int)").startswith("create table clustered (id int)")


@pytest.mark.parametrize("option", ["AUTO_RANDOM_BASE = 100", "auto_random_base 50", "AUTO_ID_CACHE=1",
                                    "SHARD_ROW_ID_BITS = 4", "PRE_SPLIT_REGIONS=3", "PLACEMENT POLICY=p1",
                                    "PLACEMENT POLICY = `p1`", "TTL = `c` + INTERVAL 1 DAY", "TTL_ENABLE = 'OFF'",
                                    "TTL_JOB_INTERVAL='1h'"])
def test_table_options_removed_in_create(option):
    out = one(f"CREATE TABLE t (c datetime) ENGINE=InnoDB {option} DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
    assert out == "CREATE TABLE t (c datetime) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"


@pytest.mark.parametrize("sql", [
    "ALTER TABLE t AUTO_RANDOM_BASE = 0", "ALTER TABLE t AUTO_ID_CACHE = 1", "ALTER TABLE t SHARD_ROW_ID_BITS = 4",
    "ALTER TABLE t PLACEMENT POLICY = p1", "ALTER TABLE t TTL = created_at + INTERVAL 3 MONTH TTL_ENABLE = 'OFF'",
    "ALTER TABLE t REMOVE TTL", "ALTER TABLE t CACHE", "ALTER TABLE t NOCACHE", "ALTER TABLE t SET TIFLASH REPLICA 1",
    "ALTER TABLE t SET TIFLASH REPLICA 2 LOCATION LABELS 'zone', 'rack'", "ALTER TABLE t COMPACT TIFLASH REPLICA",
    "ALTER TABLE t ATTRIBUTES 'merge_option=deny'", "ALTER TABLE t PARTITION p0 PLACEMENT POLICY = p1",
    "ALTER DATABASE d PLACEMENT POLICY = p1", "ALTER DATABASE d SET TIFLASH REPLICA 1",
    "ALTER TABLE t SET TIFLASH REPLICA 1, CACHE",
])
def test_alter_with_only_tidb_clauses_is_skipped(sql):
    tr = translate(sql, MARIADB)
    assert tr.skipped and tr.statements == [] and not tr.needs_recopy
    assert tr.level in ("info", "warning")


def test_multi_clause_alter_keeps_the_rest():
    tr = translate("ALTER TABLE t ADD COLUMN b INT, SET TIFLASH REPLICA 1, AUTO_ID_CACHE = 1, ADD INDEX i (b)", MARIADB)
    assert tr.statements == ["ALTER TABLE t ADD COLUMN b INT, ADD INDEX i (b)"]
    tr = translate("ALTER TABLE t CACHE, ADD COLUMN b INT", MARIADB)
    assert tr.statements == ["ALTER TABLE t ADD COLUMN b INT"]


def test_force_auto_increment():
    assert one("alter table t force auto_increment = 12") == "alter table t auto_increment = 12"
    tr = translate("alter table t force", MARIADB)
    assert tr.skipped and tr.level == "warning" and "rebuild" in reasons(tr)


def test_global_index():
    tr = translate("CREATE TABLE t (a int, b int, UNIQUE KEY u (a) GLOBAL, KEY k (b) GLOBAL) "
                   "PARTITION BY HASH (b) PARTITIONS 4", MARIADB)
    out = tr.statements[0]
    assert "GLOBAL" not in out and "PARTITION" not in out and "UNIQUE KEY u (a)" in out
    assert any("PARTITION BY" in d.reason and d.level == "warning" for d in tr.decisions)
    # a non-unique global index keeps the partitioning
    assert "PARTITIONS 4" in one("CREATE TABLE t (a int, b int, KEY k (a) GLOBAL) PARTITION BY HASH (b) PARTITIONS 4")


@pytest.mark.parametrize("target", [MARIADB, MYSQL8, Dialect("mysql", (9, 0, 1)), Dialect("mariadb", (11, 8, 0))])
def test_vector_type(target):
    out = one("CREATE TABLE t (id int, v VECTOR(3), w vector, VECTOR INDEX vi ((VEC_COSINE_DISTANCE(v))))", target)
    assert "v LONGTEXT" in out and "w LONGTEXT" in out and "VECTOR INDEX" not in out


@pytest.mark.parametrize("sql,recopy", [("ALTER TABLE t FIRST PARTITION LESS THAN (200)", True),
                                        ("ALTER TABLE t LAST PARTITION LESS THAN (500)", False)])
def test_interval_partition_maintenance_is_an_error(sql, recopy):
    tr = translate(sql, MARIADB)
    assert tr.skipped and tr.level == "error" and tr.needs_recopy is recopy


def test_vector_index_statements_skipped():
    assert translate("CREATE VECTOR INDEX i ON t ((VEC_L2_DISTANCE(v))) USING HNSW", MARIADB).skipped
    assert translate("ALTER TABLE t ADD VECTOR INDEX i ((VEC_L2_DISTANCE(v))) USING HNSW", MARIADB).skipped


@pytest.mark.parametrize("sql,mariadb,mysql", [
    ("ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT", "ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT", "ALTER TABLE t ADD COLUMN c INT"),
    ("ALTER TABLE t DROP COLUMN IF EXISTS c", "ALTER TABLE t DROP COLUMN IF EXISTS c", "ALTER TABLE t DROP COLUMN c"),
    ("ALTER TABLE t ADD INDEX IF NOT EXISTS i (c)", "ALTER TABLE t ADD INDEX IF NOT EXISTS i (c)", "ALTER TABLE t ADD INDEX i (c)"),
    ("ALTER TABLE t DROP INDEX IF EXISTS i", "ALTER TABLE t DROP INDEX IF EXISTS i", "ALTER TABLE t DROP INDEX i"),
    ("CREATE INDEX IF NOT EXISTS i ON t (c)", "CREATE INDEX IF NOT EXISTS i ON t (c)", "CREATE INDEX i ON t (c)"),
    ("DROP INDEX IF EXISTS i ON t", "DROP INDEX IF EXISTS i ON t", "DROP INDEX i ON t"),
    ("ALTER TABLE t MODIFY COLUMN IF EXISTS c BIGINT", "ALTER TABLE t MODIFY COLUMN IF EXISTS c BIGINT", "ALTER TABLE t MODIFY COLUMN c BIGINT"),
])
def test_if_exists_on_columns_and_indexes(sql, mariadb, mysql):
    assert one(sql, MARIADB) == mariadb
    tr = translate(sql, MYSQL8)
    assert tr.statements == [mysql]
    assert any(d.level == "warning" and "EXISTS" in d.reason for d in tr.decisions)


# --- TiDB-only statements -----------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "CREATE PLACEMENT POLICY p1 FOLLOWERS=4", "ALTER PLACEMENT POLICY p1 FOLLOWERS=2",
    "CREATE RESOURCE GROUP rg1 RU_PER_SEC = 100", "CREATE SEQUENCE s",
    "ALTER SEQUENCE s RESTART", "ADMIN CHECK TABLE t", "SPLIT TABLE t BETWEEN (0) AND (100) REGIONS 4",
    "CREATE GLOBAL TEMPORARY TABLE t (a int) ON COMMIT DELETE ROWS",
])
def test_tidb_only_statements_skipped_with_warning(sql):
    tr = translate(sql, MARIADB)
    assert tr.skipped and tr.level == "warning" and not tr.needs_recopy


@pytest.mark.parametrize("sql", ["DROP PLACEMENT POLICY p1", "DROP PLACEMENT POLICY IF EXISTS p1",
                                 "DROP RESOURCE GROUP rg1", "DROP SEQUENCE s"])
def test_dropping_a_tidb_only_object_is_info(sql):
    """It was never created on the target: the drop changes nothing there (level policy)."""
    tr = translate(sql, MARIADB)
    assert tr.skipped and tr.level == "info" and not tr.needs_recopy


@pytest.mark.parametrize("sql,objects", [
    ("FLASHBACK TABLE t", ["t"]), ("FLASHBACK TABLE t TO t2", ["t", "t2 (new name)"]), ("RECOVER TABLE db.t", ["db.t"]),
    ("RECOVER TABLE BY JOB 53", ["(job 53)"]), ("FLASHBACK DATABASE d", ["d"]), ("FLASHBACK CLUSTER TO TSO 1", ["*"]),
])
def test_flashback_and_recover_need_recopy(sql, objects):
    tr = translate(sql, MARIADB)
    assert tr.skipped and tr.needs_recopy and tr.level == "error"
    assert tr.recopy_objects == objects


# --- semantics made explicit ----------------------------------------------------------------

@pytest.mark.parametrize("sql,expected", [
    ("CREATE TABLE t (a int)", "CREATE TABLE t (a int) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"),
    ("CREATE TABLE t (a int) CHARSET=latin1", "CREATE TABLE t (a int) CHARSET=latin1 COLLATE=latin1_bin"),
    ("CREATE TABLE t (a int) DEFAULT CHARACTER SET utf8", "CREATE TABLE t (a int) DEFAULT CHARACTER SET utf8 COLLATE utf8_bin"),
    ("CREATE TABLE t (a int) COLLATE=utf8mb4_general_ci", "CREATE TABLE t (a int) COLLATE=utf8mb4_general_ci"),
    ("CREATE TABLE t (a varchar(3) CHARSET gbk)", "CREATE TABLE t (a varchar(3) CHARSET gbk COLLATE gbk_chinese_ci) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"),
    ("CREATE DATABASE d", "CREATE DATABASE d DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
    ("CREATE DATABASE IF NOT EXISTS d CHARACTER SET utf8mb4", "CREATE DATABASE IF NOT EXISTS d CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
    ("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4", "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"),
    ("ALTER DATABASE d CHARACTER SET = utf8mb4", "ALTER DATABASE d CHARACTER SET = utf8mb4 COLLATE=utf8mb4_bin"),
])
def test_charset_collation_explicit(sql, expected):
    assert one(sql) == expected


def test_default_charset_option():
    out = one("CREATE TABLE t (a int)", options=TranslateOptions(default_charset="latin1", default_collation="latin1_bin"))
    assert out.endswith("DEFAULT CHARSET=latin1 COLLATE=latin1_bin")


@pytest.mark.parametrize("target,collation", [(MARIADB, "utf8mb4_unicode_520_ci"), (MYSQL57, "utf8mb4_unicode_520_ci"),
                                              (MYSQL8, "utf8mb4_0900_ai_ci")])
def test_0900_collation_mapping(target, collation):
    tr = translate("CREATE TABLE t (a text COLLATE utf8mb4_0900_ai_ci) COLLATE=utf8mb4_0900_bin", target)
    out = tr.statements[0]
    assert f"COLLATE {collation}" in out
    assert ("COLLATE=utf8mb4_bin" in out) is (not target.has_0900_collations)
    assert any(d.level == "warning" for d in tr.decisions) is (not target.has_0900_collations)


@pytest.mark.parametrize("col,expected", [
    ("c timestamp", "c timestamp NULL DEFAULT NULL"),
    ("c timestamp default null", "c timestamp NULL default null"),
    ("c timestamp(3) DEFAULT CURRENT_TIMESTAMP(3)", "c timestamp(3) NULL DEFAULT CURRENT_TIMESTAMP(3)"),
    ("c timestamp NULL", "c timestamp NULL DEFAULT NULL"),
    ("c timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP", "c timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP"),
    ("c timestamp PRIMARY KEY", "c timestamp PRIMARY KEY"),
    ("c datetime", "c datetime"),
])
def test_timestamp_nullability_explicit(col, expected):
    assert one(f"CREATE TABLE t ({col}) COLLATE=utf8mb4_bin") == f"CREATE TABLE t ({expected}) COLLATE=utf8mb4_bin"


def test_generated_column_null_dropped_only_on_mariadb():
    sql = "CREATE TABLE t (a int, b int AS (a + 1) VIRTUAL NOT NULL) COLLATE=utf8mb4_bin"
    assert "VIRTUAL NOT NULL" not in one(sql, MARIADB)
    assert "VIRTUAL NOT NULL" in one(sql, MYSQL8)


def test_expression_index_by_target():
    sql = "CREATE TABLE t (a int, KEY e ((a * 2)), KEY k (a)) COLLATE=utf8mb4_bin"
    assert "KEY e" not in one(sql, MARIADB) and "KEY k (a)" in one(sql, MARIADB)
    assert "KEY e ((a * 2))" in one(sql, MYSQL8)


def test_nextval_default_dropped():
    tr = translate("CREATE TABLE t (a int DEFAULT nextval(seq), b int DEFAULT (NEXTVAL(`d`.`s`)))", MARIADB)
    assert "nextval" not in tr.statements[0].lower()
    assert sum("sequence" in d.reason for d in tr.decisions) == 2


def test_check_constraints_dropped_by_default():
    tr = translate("CREATE TABLE t (a INT CHECK (a > 10) NOT ENFORCED, b INT CONSTRAINT cb CHECK (b < 5), "
                   "c INT, CONSTRAINT c1 CHECK (c > 0) ENFORCED, CHECK (c < 9)) COLLATE=utf8mb4_bin", MARIADB)
    assert tr.statements == ["CREATE TABLE t (a INT, b INT, c INT) COLLATE=utf8mb4_bin"]
    assert sum(d.level == "warning" and "tidb_enable_check_constraint" in d.reason for d in tr.decisions) == 3
    assert translate("ALTER TABLE t ADD CONSTRAINT c1 CHECK (c > 0)", MARIADB).skipped


def test_check_constraints_kept_on_request():
    keep = TranslateOptions(keep_checks=True)
    sql = "CREATE TABLE t (a INT CHECK (a > 10) NOT ENFORCED, b INT, CONSTRAINT c1 CHECK (b > 0) ENFORCED) COLLATE=utf8mb4_bin"
    assert one(sql, MARIADB, options=keep) == "CREATE TABLE t (a INT, b INT, CONSTRAINT c1 CHECK (b > 0)) COLLATE=utf8mb4_bin"
    assert "CHECK (b > 0) ENFORCED" in one(sql, MYSQL8, options=keep)


def test_expression_default_on_57():
    sql = "CREATE TABLE t (h date DEFAULT (CURRENT_DATE), a bit DEFAULT (rand())) COLLATE=utf8mb4_bin"
    assert one(sql, MYSQL57) == "CREATE TABLE t (h date, a bit) COLLATE=utf8mb4_bin"
    assert one(sql, MARIADB) == sql


def test_engine_and_row_format():
    tr = translate("CREATE TABLE t (a int) ENGINE=MyISAM ROW_FORMAT=FIXED COLLATE=utf8mb4_bin", MARIADB)
    assert tr.statements == ["CREATE TABLE t (a int) ENGINE=InnoDB COLLATE=utf8mb4_bin"]


# --- views, drops, schema ---------------------------------------------------------------------

VIEW = "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW `v` AS SELECT 1"


def test_view_definer_dropped_by_default_and_kept_on_request():
    assert one(VIEW) == "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS SELECT 1"
    assert one(VIEW, options=TranslateOptions(keep_definer=True)) == VIEW
    assert one("create definer=root@localhost view v as select 1") == "create view v as select 1"
    assert one("create definer=CURRENT_USER() view v as select 1") == "create view v as select 1"


@pytest.mark.parametrize("sql,expected", [
    ("drop table a, b", "drop table IF EXISTS a, b"),
    ("DROP TABLE IF EXISTS a", "DROP TABLE IF EXISTS a"),
    ("DROP VIEW v", "DROP VIEW IF EXISTS v"),
    ("DROP DATABASE d", "DROP DATABASE IF EXISTS d"),
])
def test_drops_are_idempotent(sql, expected):
    assert one(sql) == expected


def test_schema_gives_explicit_use_except_database_level():
    tr = translate("ALTER TABLE t ADD c INT", MARIADB, schema="my`db")
    assert tr.statements == ["USE `my``db`", "ALTER TABLE t ADD c INT"]
    assert translate("CREATE DATABASE d", MARIADB, schema="x").statements[0].startswith("CREATE DATABASE d")
    assert translate("ALTER TABLE t CACHE", MARIADB, schema="x").statements == []


def test_several_statements_share_one_use():
    tr = translate("CREATE TABLE a (x int) COLLATE=utf8mb4_bin; CREATE TABLE b (x int) COLLATE=utf8mb4_bin", MARIADB, schema="s")
    assert tr.statements == ["USE `s`", "CREATE TABLE a (x int) COLLATE=utf8mb4_bin", "CREATE TABLE b (x int) COLLATE=utf8mb4_bin"]


def test_interval_partitioning_expanded():
    out = one("CREATE TABLE t (id int) PARTITION BY RANGE (id) INTERVAL (10) FIRST PARTITION LESS THAN (10) "
              "LAST PARTITION LESS THAN (30) NULL PARTITION MAXVALUE PARTITION")
    assert out.endswith("PARTITION BY RANGE (id) (PARTITION `P_NULL` VALUES LESS THAN (-9223372036854775808), "
                        "PARTITION `P_LT_10` VALUES LESS THAN (10), PARTITION `P_LT_20` VALUES LESS THAN (20), "
                        "PARTITION `P_LT_30` VALUES LESS THAN (30), PARTITION `P_MAXVALUE` VALUES LESS THAN (MAXVALUE))")


def test_list_default_partition_by_target():
    sql = "CREATE TABLE t (a int) PARTITION BY LIST (a) (PARTITION p0 VALUES IN (1), PARTITION pd DEFAULT)"
    assert "PARTITION pd DEFAULT" in one(sql, MARIADB)
    assert "PARTITION" not in one(sql, MYSQL8)


def test_invisible_index_by_target():
    sql = "ALTER TABLE t ALTER INDEX i INVISIBLE"
    assert one(sql, MARIADB) == "ALTER TABLE t ALTER INDEX i IGNORED"
    assert one(sql, MYSQL8) == sql
    assert translate(sql, MYSQL57).skipped
    assert one("ALTER TABLE t ALTER INDEX i VISIBLE", MARIADB) == "ALTER TABLE t ALTER INDEX i NOT IGNORED"


def test_rename_column_on_57_is_an_error():
    tr = translate("alter table t6 rename column a to d", MYSQL57)
    assert tr.level == "error" and tr.untranslatable and tr.statements == []
    assert translate("alter table t6 rename column a to d", MARIADB).level == "info"


def test_bad_text_is_a_clear_error():
    tr = translate("CREATE TABLE t (a varchar(3) DEFAULT 'x)", MARIADB)
    assert tr.skipped and tr.level == "error" and "offset" in tr.decisions[0].reason


def test_empty_and_comment_only_input():
    assert translate("", MARIADB).skipped
    assert translate("/*T! SHARD_ROW_ID_BITS=4 */", MARIADB).skipped


def test_ansi_quotes_option():
    tr = translate('CREATE TABLE "t" ("c" timestamp) COLLATE=utf8mb4_bin', MARIADB, options=TranslateOptions(ansi_quotes=True))
    assert tr.statements == ['CREATE TABLE `t` (`c` timestamp NULL DEFAULT NULL) COLLATE=utf8mb4_bin']


def test_truncated_statements_never_raise():
    """Every token prefix of every corpus statement either translates or is an error-level
    skip naming the statement; no exception escapes to the replication flow."""
    from tests.ddl_corpus.corpus import load
    from tidb2mysql.ddl.tokenizer import tokenize

    checked = 0
    for entry in load():
        toks = [t.text for t in tokenize(entry.sql)]
        for n in range(1, len(toks), max(1, len(toks) // 25)):
            prefix = "".join(toks[:n])
            for target in (MARIADB, MYSQL57):
                tr = translate(prefix, target)
                if tr.skipped and tr.level == "error" and "cannot translate" in tr.decisions[-1].reason:
                    assert repr(" ".join(prefix.split())[:40])[1:-1] in tr.decisions[-1].reason
                checked += 1
    assert checked > 3000


def test_gb18030_on_mariadb():
    sql = "CREATE TABLE t (a varchar(3) CHARSET gb18030, b text CHARACTER SET gb18030 COLLATE gb18030_bin) CHARSET=gb18030"
    tr = translate(sql, MARIADB)
    assert tr.statements == ["CREATE TABLE t (a varchar(3) CHARSET utf8mb4 COLLATE utf8mb4_unicode_520_ci, b text "
                             "CHARACTER SET utf8mb4 COLLATE utf8mb4_bin) CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_520_ci"]
    assert one(sql, MYSQL8).endswith("CHARSET=gb18030 COLLATE=gb18030_chinese_ci")


def test_column_named_vector():
    assert one("CREATE TABLE t (vector VECTOR(3), columnar int) COLLATE=utf8mb4_bin") == \
        "CREATE TABLE t (vector LONGTEXT, columnar int) COLLATE=utf8mb4_bin"


def test_multi_valued_index_by_target():
    sql = "CREATE TABLE t (j json, INDEX zips ((CAST(j->'$.zipcode' AS UNSIGNED ARRAY)))) COLLATE=utf8mb4_bin"
    assert "zips" not in one(sql, MARIADB)
    assert "zips" not in one(sql, Dialect.parse("mysql:8.0.16"))
    assert "zips" in one(sql, Dialect.parse("mysql:8.0.17"))
