"""Cross-flavour schema normalization in tidb2mysql.compare (no server needed).

The stack has two MariaDB 10.11 servers, so the integration tests only see one renderer.
These tests feed the comparison what MySQL 8.0 / TiDB render for the same definitions
(values as information_schema shows them on those servers) and check that only the
rendering is evened out, never a real difference.
"""

from __future__ import annotations

from tidb2mysql.mysql.catalog import ColumnDescription as Col
from tidb2mysql.mysql.catalog import IndexDescription, TableDescription
from tidb2mysql.compare import _column_signature, _compare_view, _loose, _Side, _table_schema_notes, _view_text

MARIA = _Side("src", "source", "mariadb", "10.11.19-MariaDB-0+deb12u1")
MARIA2 = _Side("dst", "target", "mariadb", "10.11.19-MariaDB-0+deb12u1")
MYSQL = _Side("dst", "target", "mysql", "8.0.36")
TIDB = _Side("src", "source", "tidb", "8.0.11-TiDB-v7.5.1")

# (MariaDB 10.11 rendering, MySQL 8.0 rendering) of the same column definition
SAME = [
    ("id int NOT NULL AUTO_INCREMENT",
     Col("id", 1, "int(11)", False, None, None, None, "auto_increment", None),
     Col("id", 1, "int", False, None, None, None, "auto_increment", None)),
    ("b varchar(20) DEFAULT 'x'",
     Col("b", 2, "varchar(20)", True, "'x'", "utf8mb4", "utf8mb4_bin", "", None),
     Col("b", 2, "varchar(20)", True, "x", "utf8mb4", "utf8mb4_bin", "", None)),
    ("s varchar(10) DEFAULT 'it''s'",
     Col("s", 2, "varchar(10)", True, "'it''s'", "utf8mb4", "utf8mb4_bin", "", None),
     Col("s", 2, "varchar(10)", True, "it's", "utf8mb4", "utf8mb4_bin", "", None)),
    ("n int DEFAULT NULL",
     Col("n", 3, "int(11)", True, "NULL", None, None, "", None),
     Col("n", 3, "int", True, None, None, None, "", None)),
    ("d decimal(6,2) DEFAULT -1.50",
     Col("d", 4, "decimal(6,2)", True, "-1.50", None, None, "", None),
     Col("d", 4, "decimal(6,2)", True, "-1.50", None, None, "", None)),
    ("c datetime DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
     Col("c", 5, "datetime", True, "current_timestamp()", None, None, "on update current_timestamp()", None),
     Col("c", 5, "datetime", True, "CURRENT_TIMESTAMP", None, None,
         "DEFAULT_GENERATED on update CURRENT_TIMESTAMP", None)),
    ("e int DEFAULT (1 + 1)",
     Col("e", 6, "int(11)", True, "(1 + 1)", None, None, "", None),
     Col("e", 6, "int", True, "(1 + 1)", None, None, "DEFAULT_GENERATED", None)),
    ("g int AS (a + 1) VIRTUAL",
     Col("g", 7, "int(11)", True, "NULL", None, None, "VIRTUAL GENERATED", "`a` + 1"),
     Col("g", 7, "int", True, None, None, None, "VIRTUAL GENERATED", "(`a` + 1)")),
    ("j json",
     Col("j", 8, "longtext", True, "NULL", "utf8mb4", "utf8mb4_bin", "", None),
     Col("j", 8, "json", True, None, None, None, "", None)),
    ("u varchar(5) CHARACTER SET utf8",
     Col("u", 9, "varchar(5)", True, "NULL", "utf8mb3", "utf8mb3_general_ci", "", None),
     Col("u", 9, "varchar(5)", True, None, "utf8", "utf8_general_ci", "", None)),
]


def sig(col, side, other, other_col):
    return _column_signature(col, side, other, other_col)


def test_same_definition_rendered_by_mariadb_and_mysql_compares_equal():
    for what, maria, mysql in SAME:
        assert sig(maria, MARIA, MYSQL, mysql) == sig(mysql, MYSQL, MARIA, maria), what


def test_real_differences_survive_the_normalization():
    base = Col("b", 2, "varchar(20)", True, "'x'", "utf8mb4", "utf8mb4_bin", "", None)
    for other in (
        Col("b", 2, "varchar(20)", True, "y", "utf8mb4", "utf8mb4_bin", "", None),          # default
        Col("b", 2, "varchar(20)", True, None, "utf8mb4", "utf8mb4_bin", "", None),         # no default
        Col("b", 2, "varchar(21)", True, "x", "utf8mb4", "utf8mb4_bin", "", None),          # length
        Col("b", 2, "varchar(20)", False, "x", "utf8mb4", "utf8mb4_bin", "", None),         # NOT NULL
        Col("b", 2, "varchar(20)", True, "x", "utf8mb4", "utf8mb4_0900_ai_ci", "", None),   # collation
    ):
        assert sig(base, MARIA, MYSQL, other) != sig(other, MYSQL, MARIA, base), other
    # a string default 'CURRENT_TIMESTAMP' is not the function
    lit = Col("c", 1, "varchar(20)", True, "'current_timestamp()'", "utf8mb4", "utf8mb4_bin", "", None)
    fun = Col("c", 1, "datetime", True, "CURRENT_TIMESTAMP", None, None, "DEFAULT_GENERATED", None)
    assert sig(lit, MARIA, MYSQL, fun)["default"] != sig(fun, MYSQL, MARIA, lit)["default"]
    # a longtext that is not JSON stays a longtext
    text = Col("t", 1, "longtext", True, "NULL", "utf8mb4", "utf8mb4_general_ci", "", None)
    js = Col("t", 1, "json", True, None, None, None, "", None)
    assert sig(text, MARIA, MYSQL, js) != sig(js, MYSQL, MARIA, text)


def test_same_server_version_compares_raw_values():
    """Two servers of the same version render alike: nothing is normalized away there."""
    a = Col("g", 1, "int(11)", True, "NULL", None, None, "VIRTUAL GENERATED", "`a` + 1")
    b = Col("g", 1, "int(11)", True, "NULL", None, None, "VIRTUAL GENERATED", "(`a` + 1)")
    assert sig(a, MARIA, MARIA2, b) != sig(b, MARIA2, MARIA, a)
    assert sig(a, MARIA, MYSQL, b)["generated"] == sig(b, MYSQL, MARIA, a)["generated"]


def test_view_definitions_across_flavours_and_database_names():
    maria = ("select `src`.`t`.`id` AS `id`,`src`.`t`.`a` + 1 AS `w` from `src`.`t` "
             "where `src`.`t`.`a` > 1")
    mysql = ("select `dst`.`t`.`id` AS `id`,(`dst`.`t`.`a` + 1) AS `w` from `dst`.`t` "
             "where (`dst`.`t`.`a` > 1)")
    ta, tb = _view_text(maria, MARIA, {}, {}), _view_text(mysql, MYSQL, {}, {})
    assert ta != tb and _loose(ta) == _loose(tb)
    assert _loose(ta) != _loose(_view_text(mysql.replace("> 1", "> 2"), MYSQL, {}, {}))
    # mapped names: side A's table and column become side B's
    renamed = _view_text("select `src`.`users`.`email` AS `email` from `src`.`users`", MARIA,
                         {"users": "customers"}, {"users": {"email": "mail"}})
    assert renamed == "select `customers`.`mail` AS `email` from `customers`"


def view(definition, cols=("id",)):
    return TableDescription("v", "view", tuple(Col(c, i + 1, "int", True, None, None, None, "", None)
                                               for i, c in enumerate(cols)),
                            (), None, (), definition, "NONE", "DEFINER")


def test_tidb_view_text_is_not_compared_but_columns_are():
    """TiDB keeps the user's SELECT text; MySQL stores a canonical rewrite: text is not comparable."""
    src = view("SELECT id FROM t")
    dst = view("select `dst`.`t`.`id` AS `id` from `dst`.`t`")
    assert _compare_view(src, dst, TIDB, MYSQL, {}, {}).equal
    assert _compare_view(view("SELECT id, a FROM t", ("id", "a")), dst, TIDB, MYSQL, {}, {}).notes == [
        "columns (id, a) vs (id)"]
    assert not _compare_view(src, dst, MARIA, MYSQL, {}, {}).equal


def test_index_and_collation_notes_across_flavours():
    cols = (Col("id", 1, "int(11)", False, None, None, None, "", None),)
    cols8 = (Col("id", 1, "int", False, None, None, None, "", None),)
    pk = IndexDescription("PRIMARY", True, (("id", None),), "BTREE")
    a = TableDescription("t", "table", cols, (pk,), "utf8_bin", (), None)
    b = TableDescription("t", "table", cols8, (pk,), "utf8mb3_bin", (), None)
    assert _table_schema_notes(a, b, TIDB, MYSQL, {}, False) == []
    assert _table_schema_notes(a, b, MARIA, MARIA2, {}, False) == [
        "table collation utf8_bin vs utf8mb3_bin", "column id type int(11) vs int"]
    c = TableDescription("t", "table", cols8, (), "utf8mb4_bin", (), None)
    assert _table_schema_notes(a, c, TIDB, MYSQL, {}, False) == [
        "table collation utf8_bin vs utf8mb4_bin", "index PRIMARY only in source"]


def test_tidb_auto_random_is_not_a_difference_but_auto_increment_is():
    """The translation removes AUTO_RANDOM (TiDB-only) on purpose; a lost AUTO_INCREMENT is real."""
    tidb = Col("id", 1, "bigint(20)", False, None, None, None, "auto_random(5)", None)
    mysql = Col("id", 1, "bigint", False, None, None, None, "", None)
    assert sig(tidb, TIDB, MYSQL, mysql) == sig(mysql, MYSQL, TIDB, tidb)
    tidb_ai = Col("id", 1, "bigint(20)", False, None, None, None, "auto_increment", None)
    assert sig(tidb_ai, TIDB, MYSQL, mysql) != sig(mysql, MYSQL, TIDB, tidb_ai)
    # [ddl] auto_random = "auto_increment" (the default): the target's AUTO_INCREMENT replaces it
    mysql_ai = Col("id", 1, "bigint", False, None, None, None, "auto_increment", None)
    assert sig(tidb, TIDB, MYSQL, mysql_ai) == sig(mysql_ai, MYSQL, TIDB, tidb)
    assert sig(mysql, MYSQL, MYSQL, mysql_ai) != sig(mysql_ai, MYSQL, MYSQL, mysql)  # elsewhere it still counts


def test_tidb_numeric_default_as_typed_equals_the_scaled_rendering():
    """Seen on TiDB v7.0: DECIMAL(10,3) DEFAULT 1.5 is shown as '1.5'; MariaDB/MySQL say 1.500."""
    tidb = Col("x", 1, "decimal(10,3)", True, "1.5", None, None, "", None)
    maria = Col("x", 1, "decimal(10,3)", True, "1.500", None, None, "", None)
    assert sig(tidb, TIDB, MARIA2, maria) == sig(maria, MARIA2, TIDB, tidb)
    other = Col("x", 1, "decimal(10,3)", True, "1.501", None, None, "", None)
    assert sig(tidb, TIDB, MARIA2, other) != sig(other, MARIA2, TIDB, tidb)
    # a string column keeps its text: '1.5' and '1.500' are different strings
    s_tidb = Col("s", 2, "varchar(9)", True, "1.5", "utf8mb4", "utf8mb4_bin", "", None)
    s_maria = Col("s", 2, "varchar(9)", True, "'1.500'", "utf8mb4", "utf8mb4_bin", "", None)
    assert sig(s_tidb, TIDB, MARIA2, s_maria) != sig(s_maria, MARIA2, TIDB, s_tidb)
