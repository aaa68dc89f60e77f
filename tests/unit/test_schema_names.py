"""Token-level name handling for schema migration: database renames, view references, FKs."""

import pytest

from tidb2mysql.schema.names import (
    foreign_key_targets, referenced_names, rename_created_database, rename_qualifiers,
)

TIDB_VIEW = ("CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v1` (`a`, `b`) AS "
             "SELECT `executor__show`.`t1`.`a` AS `a`,`executor__show`.`t1`.`b` AS `b` FROM `executor__show`.`t1`")


def test_rename_qualifiers_in_a_tidb_view():
    out, n = rename_qualifiers(TIDB_VIEW, {"executor__show": "shop"})
    assert n == 3
    assert out == TIDB_VIEW.replace("`executor__show`", "`shop`")


def test_rename_leaves_non_qualifiers_and_strings_alone():
    sql = "CREATE VIEW `db` AS SELECT 'db.t' AS `db`, db.t.x FROM db.t"
    out, n = rename_qualifiers(sql, {"db": "n"})
    assert (out, n) == ("CREATE VIEW `db` AS SELECT 'db.t' AS `db`, `n`.t.x FROM `n`.t", 2)
    assert rename_qualifiers(sql, {}) == (sql, 0)


def test_rename_quotes_names_that_need_it():
    assert rename_qualifiers("SELECT * FROM a.t", {"a": "we`ird"})[0] == "SELECT * FROM `we``ird`.t"


@pytest.mark.parametrize("sql, expected", [
    ("CREATE DATABASE `old` /*!40100 DEFAULT CHARACTER SET utf8mb4 */",
     "CREATE DATABASE `new` /*!40100 DEFAULT CHARACTER SET utf8mb4 */"),
    ("CREATE DATABASE IF NOT EXISTS old DEFAULT CHARACTER SET utf8mb4", "CREATE DATABASE IF NOT EXISTS `new` DEFAULT CHARACTER SET utf8mb4"),
    ("CREATE SCHEMA `old`", "CREATE SCHEMA `new`"),
])
def test_rename_created_database(sql, expected):
    assert rename_created_database(sql, "new") == expected


def test_rename_created_database_rejects_other_statements():
    with pytest.raises(ValueError, match="not a CREATE DATABASE"):
        rename_created_database("CREATE TABLE t (a int)", "x")


def test_referenced_names_sees_qualified_and_bare_names():
    refs = referenced_names("CREATE VIEW v2 AS SELECT `v1`.`a` FROM `v1` JOIN other.t3", "db")
    assert {("db", "v1"), ("other", "t3"), ("db", "v2")} <= refs
    assert ("db", "t3") in refs          # over-approximation by design (callers intersect)


def test_foreign_key_targets():
    sql = ("CREATE TABLE c (a int, b int, CONSTRAINT f1 FOREIGN KEY (a) REFERENCES `p` (`id`), "
           "FOREIGN KEY (b) REFERENCES other.`q` (id) ON DELETE CASCADE)")
    assert foreign_key_targets(sql, "db") == [("db", "p"), ("other", "q")]
    assert foreign_key_targets("CREATE TABLE t (references_count int)", "db") == []
