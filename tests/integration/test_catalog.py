"""tidb2mysql.mysql.catalog.describe_database against the real target MariaDB of the local stack.

Each test builds objects with real DDL and checks that the description says exactly what the
server has: column attributes, indexes with prefix lengths and order, collation, partitions,
views; that data changes do not change it; and that it costs one query per
information_schema table, not one per table.
"""

from __future__ import annotations

import threading
import time

import orjson
import pytest

from tests.support import stack
from tidb2mysql.mysql.catalog import CatalogIncomplete, ColumnDescription, IndexDescription, describe_database, to_jsonable

pytestmark = pytest.mark.integration


def run(conn, *statements):
    with conn.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def test_columns_indexes_collation_of_a_table(target_conn, target_db):
    run(target_conn, """CREATE TABLE t (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        name VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT 'x y',
        note TEXT CHARACTER SET latin1 COLLATE latin1_swedish_ci,
        n INT DEFAULT NULL,
        d DECIMAL(10,2) DEFAULT 1.50,
        changed DATETIME DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
        twice BIGINT AS (n * 2) STORED,
        PRIMARY KEY (id),
        UNIQUE KEY u_name_n (name, n),
        KEY k_prefix (note(10), d),
        FULLTEXT KEY ft (name)
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""")
    desc = describe_database(target_conn, target_db)
    assert list(desc) == ["t"]
    t = desc["t"]
    assert (t.kind, t.collation, t.partitions, t.view_definition) == ("table", "utf8mb4_unicode_ci", (), None)
    assert [c.name for c in t.columns] == ["id", "name", "note", "n", "d", "changed", "twice"]
    assert [c.position for c in t.columns] == [1, 2, 3, 4, 5, 6, 7]
    assert t.column("id") == ColumnDescription("id", 1, "bigint(20) unsigned", False, None, None, None,
                                               "auto_increment", None)
    # MariaDB's raw rendering (quoted literal) is kept: normalizing is the comparison's job
    assert t.column("NAME") == ColumnDescription("name", 2, "varchar(40)", False, "'x y'", "utf8mb4", "utf8mb4_bin",
                                                 "", None)
    note = t.column("note")
    assert (note.charset, note.collation, note.nullable, note.column_type) == (
        "latin1", "latin1_swedish_ci", True, "text")
    assert t.column("n").default == "NULL"  # MariaDB: an explicit DEFAULT NULL is the string NULL
    assert t.column("d").default == "1.50"
    changed = t.column("changed")
    assert changed.default.lower().startswith("current_timestamp")
    assert "on update current_timestamp" in changed.extra.lower()
    twice = t.column("twice")
    assert "STORED GENERATED" in twice.extra.upper() and "`n` * 2" in twice.generation_expression
    assert t.indexes == (
        IndexDescription("PRIMARY", True, (("id", None),), "BTREE"),
        IndexDescription("ft", False, (("name", None),), "FULLTEXT"),
        IndexDescription("k_prefix", False, (("note", 10), ("d", None)), "BTREE"),
        IndexDescription("u_name_n", True, (("name", None), ("n", None)), "BTREE"),
    )
    assert t.index("U_NAME_N") is t.indexes[3] and t.index("missing") is None


def test_views_partitions_and_table_filter(target_conn, target_db):
    run(target_conn,
        "CREATE TABLE base (id INT PRIMARY KEY, v INT) COLLATE utf8mb4_bin",
        "CREATE TABLE parts (id INT NOT NULL, PRIMARY KEY (id)) PARTITION BY RANGE (id) "
        "(PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (20), PARTITION pmax VALUES LESS THAN MAXVALUE)",
        "CREATE SQL SECURITY INVOKER VIEW vw AS SELECT id, v + 1 AS w FROM base WHERE v > 0 WITH CHECK OPTION")
    desc = describe_database(target_conn, target_db)
    assert sorted(desc) == ["base", "parts", "vw"]
    assert desc["parts"].partitions == ("p0", "p1", "pmax")
    assert desc["base"].partitions == ()
    vw = desc["vw"]
    assert (vw.kind, vw.collation, vw.indexes, vw.partitions) == ("view", None, (), ())
    assert [c.name for c in vw.columns] == ["id", "w"]
    # the server's canonical text: names qualified with the view's own schema
    assert f"`{target_db}`.`base`" in vw.view_definition and "`v` > 0" in vw.view_definition
    assert (vw.view_check_option, vw.view_security) == ("CASCADED", "INVOKER")
    assert desc["base"].view_definition is None and desc["base"].view_check_option is None

    only = describe_database(target_conn, target_db, ["vw", "parts", "no_such_table", "vw"])
    assert sorted(only) == ["parts", "vw"] and only["vw"] == vw and only["parts"] == desc["parts"]
    assert describe_database(target_conn, target_db, []) == {}
    assert describe_database(target_conn, target_db + "_missing") == {}


def test_data_changes_do_not_change_the_description(target_conn, target_db):
    """AUTO_INCREMENT counters, row counts, cardinality and update times are not described,
    so a snapshot taken before and after writes is identical (byte for byte once serialized)."""
    run(target_conn, "CREATE TABLE t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10), KEY kv (v))")
    before = orjson.dumps(to_jsonable(describe_database(target_conn, target_db)))
    run(target_conn, "INSERT INTO t (v) VALUES " + ", ".join(f"('v{i % 7}')" for i in range(500)),
        "ANALYZE TABLE t", "DELETE FROM t WHERE id < 100")
    after = orjson.dumps(to_jsonable(describe_database(target_conn, target_db)))
    assert after == before
    run(target_conn, "ALTER TABLE t ADD INDEX kv2 (v, id)")  # a structural change does show
    assert orjson.dumps(to_jsonable(describe_database(target_conn, target_db))) != before


def test_one_query_per_information_schema_table(target_conn, target_db):
    """The cost does not grow with the number of tables: 5 SELECTs for 40 tables and a view."""
    run(target_conn, *[f"CREATE TABLE t{i} (id INT PRIMARY KEY, v INT, KEY kv (v))" for i in range(40)],
        "CREATE VIEW v0 AS SELECT id FROM t0")

    def selects():
        with target_conn.cursor() as cur:
            cur.execute("SHOW SESSION STATUS LIKE 'Com_select'")
            return int(cur.fetchone()[1])

    start = selects()
    desc = describe_database(target_conn, target_db)
    assert selects() - start == 5
    assert len(desc) == 41 and all(len(desc[f"t{i}"].indexes) == 2 for i in range(40))


def test_view_over_a_dropped_table_is_still_described(target_conn, target_db):
    """A view whose table is gone stays a view (its definition is kept); the server cannot
    resolve its columns, so it has none. The comparison then still sees it exist."""
    run(target_conn, "CREATE TABLE t (id INT PRIMARY KEY)", "CREATE VIEW v AS SELECT id FROM t", "DROP TABLE t")
    desc = describe_database(target_conn, target_db)
    assert list(desc) == ["v"]
    v = desc["v"]
    assert v.kind == "view" and v.columns == () and f"`{target_db}`.`t`" in v.view_definition


def test_view_with_a_missing_definer_is_still_described(target_conn, target_db):
    """TiDB's accounts are not migrated, so a view may name a DEFINER the server does not
    know (the simulator's views say root@'%'): a lasting state, not a partial read."""
    run(target_conn, "CREATE TABLE t (id INT PRIMARY KEY)",
        "CREATE DEFINER=`nobody_t2m`@`%` SQL SECURITY DEFINER VIEW v AS SELECT id FROM t")
    desc = describe_database(target_conn, target_db)
    assert sorted(desc) == ["t", "v"] and desc["v"].kind == "view" and desc["v"].view_security == "DEFINER"
    assert [c.name for c in desc["t"].columns] == ["id"]


def test_table_behind_a_metadata_lock_raises_instead_of_a_partial_description(stack_config, target_conn, target_db):
    """While another session creates a table with CREATE ... SELECT (holding its exclusive
    metadata lock), information_schema lists the table but cannot open it: after
    lock_wait_timeout it returns it without its details and with only a warning (1205). The
    description must not pretend the table has no collation, columns or indexes."""
    run(target_conn, "CREATE TABLE t (id INT PRIMARY KEY)", "SET SESSION lock_wait_timeout = 1")
    other = stack.connect(stack_config.target, target_db)
    creating = threading.Thread(target=run, args=(other, "CREATE TABLE slow ENGINE=InnoDB AS SELECT SLEEP(6) AS x"))
    try:
        creating.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # until it sleeps: the table exists, its lock held until the end
            with target_conn.cursor() as cur:
                cur.execute("SELECT STATE FROM information_schema.PROCESSLIST WHERE ID = %s", (other.thread_id(),))
                row = cur.fetchone()
            if row and row[0] == "User sleep":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the CREATE ... SELECT SLEEP never started sleeping")
        with pytest.raises(CatalogIncomplete, match="Lock wait timeout") as info:
            describe_database(target_conn, target_db)
        assert info.value.args[0] == 1205  # transient for retry helpers
    finally:
        creating.join()
        other.close()
    desc = describe_database(target_conn, target_db)  # the lock is gone: complete again
    assert sorted(desc) == ["slow", "t"] and [c.name for c in desc["slow"].columns] == ["x"]
