"""``tidb2mysql schema`` end to end: a 24-table, 4-view source on the MariaDB stand-in into a
fresh target database, compared column by column with explicit expectations.

The source is what a TiDB user would create (every column type family, composite keys,
all partitioning methods, generated columns, foreign keys incl. a cycle and a
self-reference, views on views), written so MariaDB accepts it. Tables are checked twice:
every table's COLUMNS / STATISTICS / PARTITIONS must equal the source's (names, order and
every compared attribute), and the attributes below are spelled out literally, so a
translation that changed both sides the same way (or nothing at all) cannot pass.
"""

from __future__ import annotations

import json

import pytest

from tests.support import stack
from tidb2mysql import cli

pytestmark = pytest.mark.integration

SOURCE_DDL = [
    # --- every column type family -----------------------------------------------------
    """CREATE TABLE t_ints (
        id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
        ti TINYINT, tiu TINYINT UNSIGNED NOT NULL DEFAULT 0, si SMALLINT, mi MEDIUMINT,
        i INT NOT NULL DEFAULT -1, bi BIGINT, b1 BIT(1), b64 BIT(64), flag BOOL DEFAULT 1)""",
    """CREATE TABLE t_decimals (
        id INT PRIMARY KEY, d DECIMAL(10,2) NOT NULL DEFAULT 0.00, dmax DECIMAL(65,30),
        f FLOAT, fd FLOAT(7,3), dbl DOUBLE, du DECIMAL(5,0) UNSIGNED)""",
    """CREATE TABLE t_strings (
        id INT PRIMARY KEY, c CHAR(10) NOT NULL DEFAULT '', vc VARCHAR(255), bn BINARY(4), vb VARBINARY(16),
        tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT, tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB,
        l1 VARCHAR(20) CHARACTER SET latin1, ci VARCHAR(20) COLLATE utf8mb4_general_ci,
        uni VARCHAR(30) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT 'x y')""",
    """CREATE TABLE t_temporal (
        id INT PRIMARY KEY, d DATE, t TIME, t3 TIME(3), dt DATETIME, dt6 DATETIME(6) DEFAULT '2020-01-02 03:04:05.000006',
        ts TIMESTAMP NULL DEFAULT NULL,
        ts3 TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        y YEAR, dz DATE NOT NULL DEFAULT '0000-00-00')""",
    """CREATE TABLE t_enum_set_json (
        id INT PRIMARY KEY, e ENUM('small','medium','large') NOT NULL DEFAULT 'medium', s SET('a','b','c'),
        j JSON)""",
    """CREATE TABLE t_defaults (
        id INT PRIMARY KEY AUTO_INCREMENT, n INT DEFAULT (1 + 1), s VARCHAR(10) DEFAULT 'it''s',
        created DATETIME DEFAULT CURRENT_TIMESTAMP, neg DECIMAL(6,2) DEFAULT -1.50) AUTO_INCREMENT=1000""",
    # --- keys ------------------------------------------------------------------------
    """CREATE TABLE t_composite (
        a INT NOT NULL, b VARCHAR(20) NOT NULL, c INT, d INT, s VARCHAR(100),
        PRIMARY KEY (a, b), UNIQUE KEY uk_cd (c, d), KEY idx_prefix (s(10)), KEY idx_bc (b, c))""",
    """CREATE TABLE t_nokey (a INT, b VARCHAR(10))""",
    """CREATE TABLE t_uniq_only (a INT NOT NULL, b INT, UNIQUE KEY (a))""",
    """CREATE TABLE t_fulltext (id INT PRIMARY KEY, body TEXT, FULLTEXT KEY ft_body (body))""",
    """CREATE TABLE t_comments (id INT PRIMARY KEY COMMENT 'the id', v VARCHAR(5) COMMENT 'a value')
       COMMENT='table with comments'""",
    # --- generated columns -------------------------------------------------------------
    """CREATE TABLE t_generated (
        id INT PRIMARY KEY, price DECIMAL(10,2), qty INT,
        total DECIMAL(20,2) AS (price * qty) STORED, label VARCHAR(40) AS (CONCAT('q', qty)) VIRTUAL,
        KEY idx_label (label))""",
    # --- partitions ----------------------------------------------------------------------
    """CREATE TABLE t_part_range (id INT NOT NULL, y INT NOT NULL, PRIMARY KEY (id, y))
       PARTITION BY RANGE (y) (PARTITION p2020 VALUES LESS THAN (2021), PARTITION p2021 VALUES LESS THAN (2022),
       PARTITION pmax VALUES LESS THAN MAXVALUE)""",
    """CREATE TABLE t_part_list (id INT NOT NULL, region INT NOT NULL, PRIMARY KEY (id, region))
       PARTITION BY LIST (region) (PARTITION east VALUES IN (1, 2), PARTITION west VALUES IN (3, 4))""",
    """CREATE TABLE t_part_hash (id INT NOT NULL PRIMARY KEY) PARTITION BY HASH (id) PARTITIONS 4""",
    """CREATE TABLE t_part_key (id INT NOT NULL PRIMARY KEY, v INT) PARTITION BY KEY (id) PARTITIONS 3""",
    """CREATE TABLE t_part_range_cols (a INT NOT NULL, d DATE NOT NULL, PRIMARY KEY (a, d))
       PARTITION BY RANGE COLUMNS (d) (PARTITION p0 VALUES LESS THAN ('2024-01-01'),
       PARTITION p1 VALUES LESS THAN (MAXVALUE))""",
    # --- foreign keys (child before parent in name order on purpose) -------------------
    """CREATE TABLE fk_parent (id INT PRIMARY KEY, code VARCHAR(10) NOT NULL, UNIQUE KEY uk_code (code))""",
    """CREATE TABLE fk_child (id INT PRIMARY KEY, parent_id INT NOT NULL, parent_code VARCHAR(10),
        CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES fk_parent (id) ON DELETE CASCADE,
        CONSTRAINT fk_child_code FOREIGN KEY (parent_code) REFERENCES fk_parent (code) ON UPDATE SET NULL)""",
    """CREATE TABLE fk_a_grandchild (id INT PRIMARY KEY, child_id INT,
        CONSTRAINT fk_gc_child FOREIGN KEY (child_id) REFERENCES fk_child (id))""",
    """CREATE TABLE fk_self (id INT PRIMARY KEY, manager_id INT,
        CONSTRAINT fk_self_mgr FOREIGN KEY (manager_id) REFERENCES fk_self (id))""",
    """CREATE TABLE fk_cycle_a (id INT PRIMARY KEY, b_id INT)""",
    """CREATE TABLE fk_cycle_b (id INT PRIMARY KEY, a_id INT,
        CONSTRAINT fk_b_a FOREIGN KEY (a_id) REFERENCES fk_cycle_a (id))""",
    """ALTER TABLE fk_cycle_a ADD CONSTRAINT fk_a_b FOREIGN KEY (b_id) REFERENCES fk_cycle_b (id)""",
    """CREATE TABLE t_latin1 (id INT PRIMARY KEY, name VARCHAR(30)) DEFAULT CHARSET=latin1""",
    # --- rows for the views ---------------------------------------------------------------
    """INSERT INTO t_ints (id, ti, tiu, i, bi) VALUES (1, -1, 1, 10, 100), (2, 2, 2, 20, 200), (3, 3, 3, 30, 300)""",
    """INSERT INTO fk_parent VALUES (1, 'one'), (2, 'two')""",
    """INSERT INTO fk_child VALUES (10, 1, 'one'), (11, 1, NULL), (12, 2, 'two')""",
    # --- views on views: names sort against dependency order on purpose --------------------
    """CREATE VIEW z_base AS SELECT id, i, bi FROM t_ints WHERE i >= 20""",
    """CREATE VIEW m_mid AS SELECT z.id, z.i * 2 AS i2, p.code FROM z_base z JOIN fk_parent p ON p.id = z.id - 1""",
    """CREATE VIEW a_top AS SELECT code, SUM(i2) AS total FROM m_mid GROUP BY code""",
    """CREATE VIEW c_children AS SELECT p.code, COUNT(*) AS n FROM fk_parent p JOIN fk_child c
       ON c.parent_id = p.id GROUP BY p.code""",
]
TABLES = sorted({s.split()[2] for s in SOURCE_DDL if s.startswith("CREATE TABLE")})
VIEWS = ["a_top", "c_children", "m_mid", "z_base"]

# Explicit expectations: (COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME).
# The fixture databases are utf8mb4 (the stack's server default) and every table is created
# without a charset unless it says so, so text columns are utf8mb4 in the default collation.
EXPECTED_COLUMNS = {
    "t_ints": [
        ("id", "bigint(20) unsigned", "NO", None, "", None, None),
        ("ti", "tinyint(4)", "YES", "NULL", "", None, None),
        ("tiu", "tinyint(3) unsigned", "NO", "0", "", None, None),
        ("si", "smallint(6)", "YES", "NULL", "", None, None),
        ("mi", "mediumint(9)", "YES", "NULL", "", None, None),
        ("i", "int(11)", "NO", "-1", "", None, None),
        ("bi", "bigint(20)", "YES", "NULL", "", None, None),
        ("b1", "bit(1)", "YES", "NULL", "", None, None),
        ("b64", "bit(64)", "YES", "NULL", "", None, None),
        ("flag", "tinyint(1)", "YES", "1", "", None, None),
    ],
    "t_decimals": [
        ("id", "int(11)", "NO", None, "", None, None),
        ("d", "decimal(10,2)", "NO", "0.00", "", None, None),
        ("dmax", "decimal(65,30)", "YES", "NULL", "", None, None),
        ("f", "float", "YES", "NULL", "", None, None),
        ("fd", "float(7,3)", "YES", "NULL", "", None, None),
        ("dbl", "double", "YES", "NULL", "", None, None),
        ("du", "decimal(5,0) unsigned", "YES", "NULL", "", None, None),
    ],
    "t_temporal": [
        ("id", "int(11)", "NO", None, "", None, None),
        ("d", "date", "YES", "NULL", "", None, None),
        ("t", "time", "YES", "NULL", "", None, None),
        ("t3", "time(3)", "YES", "NULL", "", None, None),
        ("dt", "datetime", "YES", "NULL", "", None, None),
        ("dt6", "datetime(6)", "YES", "'2020-01-02 03:04:05.000006'", "", None, None),
        ("ts", "timestamp", "YES", "NULL", "", None, None),
        ("ts3", "timestamp(3)", "NO", "current_timestamp(3)", "on update current_timestamp(3)", None, None),
        ("y", "year(4)", "YES", "NULL", "", None, None),
        ("dz", "date", "NO", "'0000-00-00'", "", None, None),
    ],
    "t_enum_set_json": [
        ("id", "int(11)", "NO", None, "", None, None),
        ("e", "enum('small','medium','large')", "NO", "'medium'", "", "utf8mb4", "DEFAULT"),
        ("s", "set('a','b','c')", "YES", "NULL", "", "utf8mb4", "DEFAULT"),
        ("j", "longtext", "YES", "NULL", "", "utf8mb4", "utf8mb4_bin"),
    ],
    "t_defaults": [
        ("id", "int(11)", "NO", None, "auto_increment", None, None),
        ("n", "int(11)", "YES", "(1 + 1)", "", None, None),
        ("s", "varchar(10)", "YES", "'it''s'", "", "utf8mb4", "DEFAULT"),
        ("created", "datetime", "YES", "current_timestamp()", "", None, None),
        ("neg", "decimal(6,2)", "YES", "-1.50", "", None, None),
    ],
    "t_generated": [
        ("id", "int(11)", "NO", None, "", None, None),
        ("price", "decimal(10,2)", "YES", "NULL", "", None, None),
        ("qty", "int(11)", "YES", "NULL", "", None, None),
        ("total", "decimal(20,2)", "YES", "NULL", "STORED GENERATED", None, None),
        ("label", "varchar(40)", "YES", "NULL", "VIRTUAL GENERATED", "utf8mb4", "DEFAULT"),
    ],
    "t_strings": [
        ("id", "int(11)", "NO", None, "", None, None),
        ("c", "char(10)", "NO", "''", "", "utf8mb4", "DEFAULT"),
        ("vc", "varchar(255)", "YES", "NULL", "", "utf8mb4", "DEFAULT"),
        ("bn", "binary(4)", "YES", "NULL", "", None, None),
        ("vb", "varbinary(16)", "YES", "NULL", "", None, None),
        ("tt", "tinytext", "YES", "NULL", "", "utf8mb4", "DEFAULT"),
        ("tx", "text", "YES", "NULL", "", "utf8mb4", "DEFAULT"),
        ("mt", "mediumtext", "YES", "NULL", "", "utf8mb4", "DEFAULT"),
        ("lt", "longtext", "YES", "NULL", "", "utf8mb4", "DEFAULT"),
        ("tb", "tinyblob", "YES", "NULL", "", None, None),
        ("bl", "blob", "YES", "NULL", "", None, None),
        ("mb", "mediumblob", "YES", "NULL", "", None, None),
        ("lb", "longblob", "YES", "NULL", "", None, None),
        ("l1", "varchar(20)", "YES", "NULL", "", "latin1", "latin1_swedish_ci"),
        ("ci", "varchar(20)", "YES", "NULL", "", "utf8mb4", "utf8mb4_general_ci"),
        ("uni", "varchar(30)", "YES", "'x y'", "", "utf8mb4", "utf8mb4_unicode_ci"),
    ],
}
EXPECTED_KEYS = {   # index -> (unique, columns with prefix lengths)
    "t_composite": {"PRIMARY": (True, ["a", "b"]), "uk_cd": (True, ["c", "d"]), "idx_prefix": (False, ["s(10)"]),
                    "idx_bc": (False, ["b", "c"])},
    "t_nokey": {},
    "t_uniq_only": {"a": (True, ["a"])},
    "t_fulltext": {"PRIMARY": (True, ["id"]), "ft_body": (False, ["body"])},
    "t_generated": {"PRIMARY": (True, ["id"]), "idx_label": (False, ["label"])},
    "fk_child": {"PRIMARY": (True, ["id"]), "fk_child_parent": (False, ["parent_id"]),
                 "fk_child_code": (False, ["parent_code"])},
}
EXPECTED_PARTITIONS = {   # (method, expression, [names])
    "t_part_range": ("RANGE", "`y`", ["p2020", "p2021", "pmax"]),
    "t_part_list": ("LIST", "`region`", ["east", "west"]),
    "t_part_hash": ("HASH", "`id`", ["p0", "p1", "p2", "p3"]),
    "t_part_key": ("KEY", "`id`", ["p0", "p1", "p2"]),
    "t_part_range_cols": ("RANGE COLUMNS", "`d`", ["p0", "p1"]),
}
EXPECTED_FKS = {   # constraint -> (table, referenced table, delete rule, update rule)
    "fk_child_parent": ("fk_child", "fk_parent", "CASCADE", "RESTRICT"),
    "fk_child_code": ("fk_child", "fk_parent", "RESTRICT", "SET NULL"),
    "fk_gc_child": ("fk_a_grandchild", "fk_child", "RESTRICT", "RESTRICT"),
    "fk_self_mgr": ("fk_self", "fk_self", "RESTRICT", "RESTRICT"),
    "fk_a_b": ("fk_cycle_a", "fk_cycle_b", "RESTRICT", "RESTRICT"),
    "fk_b_a": ("fk_cycle_b", "fk_cycle_a", "RESTRICT", "RESTRICT"),
}
EXPECTED_VIEW_ROWS = {
    "z_base": [(2, 20, 200), (3, 30, 300)],
    "m_mid": [(2, 40, "one"), (3, 60, "two")],
    "a_top": [("one", 40), ("two", 60)],
    "c_children": [("one", 2), ("two", 1)],
}


def query(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return [tuple(r) for r in cur.fetchall()]


def columns(conn, db, table):
    return query(conn, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, "
                 "COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s "
                 "ORDER BY ORDINAL_POSITION", (db, table))


def keys(conn, db, table):
    out = {}
    for name, non_unique, col, sub in query(
            conn, "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s ORDER BY INDEX_NAME, SEQ_IN_INDEX", (db, table)):
        out.setdefault(name, (not non_unique, []))[1].append(f"{col}({sub})" if sub else col)
    return out


def partitions(conn, db, table):
    rows = query(conn, "SELECT PARTITION_METHOD, PARTITION_EXPRESSION, PARTITION_NAME FROM "
                 "information_schema.PARTITIONS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s AND PARTITION_NAME IS NOT "
                 "NULL ORDER BY PARTITION_ORDINAL_POSITION", (db, table))
    return (rows[0][0], rows[0][1], [r[2] for r in rows]) if rows else None


def foreign_keys(conn, db):
    return {r[0]: tuple(r[1:]) for r in query(
        conn, "SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME, DELETE_RULE, UPDATE_RULE FROM "
        "information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA=%s", (db,))}


def db_collation(conn, db):
    return query(conn, "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME=%s", (db,))[0][0]


def run_schema(capsys, *args):
    code = cli.main(["schema", "--config", str(stack.config_path()), *args])
    out = capsys.readouterr().out
    return code, out


def build_source(conn):
    for stmt in SOURCE_DDL:
        query(conn, stmt)


def expand_default(expected, collation):
    return [tuple(collation if v == "DEFAULT" else v for v in row) for row in expected]


def test_schema_migration_matches_source_and_expectations(capsys, source_conn, source_db, target_conn, target_db):
    build_source(source_conn)
    assert len(TABLES) >= 20
    code, out = run_schema(capsys, "--databases", source_db, "--target-database", target_db, "--json")
    report = json.loads(out)
    assert code == 0, out
    by_target = {o["target"]: o for o in report["objects"]}
    for t in TABLES:
        assert by_target[f"{target_db}.{t}"]["status"] == "done"
    # dependencies first (rounds of ready views, each in name order)
    assert [o["source"].split(".")[1] for o in report["objects"] if o["kind"] == "view"] == \
        ["c_children", "z_base", "m_mid", "a_top"]
    assert all(o["status"] == "done" for o in report["objects"] if o["kind"] == "view")
    assert not any("retry" in d["reason"] for o in report["objects"] for d in o["decisions"])
    # the JSON check constraint MariaDB adds is dropped, and said so
    j = by_target[f"{target_db}.t_enum_set_json"]
    assert any(d["level"] == "warning" and "CHECK" in d["reason"] for d in j["decisions"]), j["decisions"]

    # 1. the same tables, and per table the same columns/keys/partitions as the source
    target_tables = {r[0] for r in query(target_conn, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE "
                                         "TABLE_SCHEMA=%s AND TABLE_TYPE='BASE TABLE'", (target_db,))}
    assert target_tables == set(TABLES)
    for t in TABLES:
        assert columns(target_conn, target_db, t) == columns(source_conn, source_db, t), t
        assert keys(target_conn, target_db, t) == keys(source_conn, source_db, t), t
        assert partitions(target_conn, target_db, t) == partitions(source_conn, source_db, t), t

    # 2. explicit expectations
    coll = db_collation(source_conn, source_db)
    for t, expected in EXPECTED_COLUMNS.items():
        assert columns(target_conn, target_db, t) == expand_default(expected, coll), t
    generation = query(target_conn, "SELECT COLUMN_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS "
                       "WHERE TABLE_SCHEMA=%s AND TABLE_NAME='t_generated' AND GENERATION_EXPRESSION IS NOT NULL "
                       "ORDER BY ORDINAL_POSITION", (target_db,))
    assert generation == [("total", "`price` * `qty`"), ("label", "concat('q',`qty`)")]
    assert columns(target_conn, target_db, "t_latin1")[1][5:] == ("latin1", "latin1_swedish_ci")
    for t, expected in EXPECTED_KEYS.items():
        got = {k: (u, c) for k, (u, c) in keys(target_conn, target_db, t).items()}
        assert got == expected, t
    for t in TABLES:
        assert partitions(target_conn, target_db, t) == EXPECTED_PARTITIONS.get(t), t
    assert foreign_keys(target_conn, target_db) == EXPECTED_FKS
    comments = query(target_conn, "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND "
                     "TABLE_NAME='t_comments'", (target_db,))
    assert comments == [("table with comments",)]
    assert query(target_conn, "SELECT AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND "
                 "TABLE_NAME='t_defaults'", (target_db,)) == [(1000,)]

    # 3. views resolve in the target database and select the same rows as on the source
    target_views = sorted(r[0] for r in query(target_conn, "SELECT TABLE_NAME FROM information_schema.VIEWS "
                                              "WHERE TABLE_SCHEMA=%s", (target_db,)))
    assert target_views == sorted(VIEWS)
    for r in query(target_conn, "SELECT VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA=%s",
                   (target_db,)):
        assert f"`{source_db}`" not in r[0]          # nothing still points at the source database
    for tname in ("t_ints", "fk_parent", "fk_child"):
        rows = query(source_conn, f"SELECT * FROM `{tname}`")
        with target_conn.cursor() as cur:
            cur.executemany(f"INSERT INTO `{tname}` VALUES ({', '.join(['%s'] * len(rows[0]))})", rows)
    for v, expected in EXPECTED_VIEW_ROWS.items():
        src = query(source_conn, f"SELECT * FROM `{v}` ORDER BY 1")
        dst = query(target_conn, f"SELECT * FROM `{v}` ORDER BY 1")
        assert [tuple(int(x) if hasattr(x, "as_integer_ratio") and not isinstance(x, float) else x for x in r)
                for r in dst] == expected, v
        assert dst == src, v
