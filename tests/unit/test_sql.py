"""SQL text building: literals of every native type, statement shapes, byte-budget splitting."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import pytest

from tidb2mysql.events import TableSchema
from tidb2mysql.mysql.sql import (
    LiteralError,
    TableSQL,
    encode_values,
    literal,
    plan_columns,
    quote_ident,
    split_statements,
)
from tidb2mysql.mysql.target_schema import TargetColumn, TargetTable

# -- identifiers ---------------------------------------------------------------------------


def test_quote_ident():
    assert quote_ident("t") == "`t`"
    assert quote_ident("we`ird") == "`we``ird`"
    assert quote_ident("数据") == "`数据`"


# -- literals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "NULL"),
        (0, "0"),
        (-9223372036854775808, "-9223372036854775808"),
        (18446744073709551615, "18446744073709551615"),
        (True, "1"),
        (False, "0"),
        ("", "''"),
        ("plain", "'plain'"),
        ("it's", "'it\\'s'"),
        ("back\\slash", "'back\\\\slash'"),
        ("nul\0byte", "'nul\\0byte'"),
        ("line\nfeed\rcr", "'line\\nfeed\\rcr'"),
        ("ctrl-z\x1a", "'ctrl-z\\Z'"),
        ('dq"tab\t', "'dq\"tab\t'"),  # double quote and tab need no escaping inside '...'
        ("\\'", "'\\\\\\''"),  # backslash escaped before the quote: no double escaping
        ("emoji 😀 𝄞 中文", "'emoji 😀 𝄞 中文'"),
        ("0000-00-00", "'0000-00-00'"),  # zero date kept as text
        ("0000-00-00 00:00:00", "'0000-00-00 00:00:00'"),
        (b"", "X''"),
        (b"\x00\x01'\\\xff", "X'0001275cff'"),
        (bytearray(b"ab"), "X'6162'"),
        (Decimal("123.45"), "123.45"),
        (Decimal("-0.50"), "-0.50"),
        (Decimal("0E-30"), "0.000000000000000000000000000000"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("1E+5"), "100000"),
        (
            Decimal("-99999999999999999999999999999999999.999999999999999999999999999999"),
            "-99999999999999999999999999999999999.999999999999999999999999999999",
        ),  # DECIMAL(65,30)
        (dt.date(2024, 2, 29), "'2024-02-29'"),
        (dt.date(1, 1, 1), "'0001-01-01'"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "'2024-01-02 03:04:05'"),
        (dt.datetime(2024, 1, 2, 3, 4, 5, 120), "'2024-01-02 03:04:05.000120'"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, 999999), "'9999-12-31 23:59:59.999999'"),
        (dt.datetime(2024, 1, 2, 5, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))), "'2024-01-02 03:04:05'"),
        (dt.timedelta(0), "'00:00:00'"),
        (dt.timedelta(hours=1, minutes=2, seconds=3), "'01:02:03'"),
        (dt.timedelta(hours=838, minutes=59, seconds=59), "'838:59:59'"),
        (-dt.timedelta(hours=838, minutes=59, seconds=59), "'-838:59:59'"),
        (dt.timedelta(days=1, hours=1), "'25:00:00'"),
        (-dt.timedelta(seconds=1), "'-00:00:01'"),
        (-dt.timedelta(microseconds=1), "'-00:00:00.000001'"),
        (dt.timedelta(hours=-1, microseconds=500000), "'-00:59:59.500000'"),
        (dt.time(12, 30, 0, 5), "'12:30:00.000005'"),
        (0.1, "0.1"),
        (1e308, "1e+308"),
        (5e-324, "5e-324"),
        (-0.0, "-0.0"),
        (0.30000000000000004, "0.30000000000000004"),
        (0.10000000149011612, "0.10000000149011612"),  # FLOAT 0.1 widened to double
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_literal(value, text):
    assert literal(value) == text


def test_float_literals_round_trip_exactly():
    for v in (0.1, 1e308, 5e-324, 2.2250738585072014e-308, 123456789.123456789, -1.5e-10, 1 / 3):
        assert float(literal(v)) == v


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), Decimal("NaN"), Decimal("Infinity")])
def test_non_finite_numbers_are_rejected(bad):
    with pytest.raises(LiteralError, match="no SQL literal"):
        literal(bad)


def test_unknown_type_is_a_clear_error():
    with pytest.raises(LiteralError, match="type object"):
        literal(object())
    with pytest.raises(LiteralError, match="list"):
        encode_values([1, [2]])


def test_subclasses_encode_as_their_plain_value():
    class Color(enum.IntEnum):
        RED = 3

    class Name(str, enum.Enum):
        A = "it's"

    assert literal(Color.RED) == "3"
    assert literal(Name.A) == "'it\\'s'"
    assert encode_values((Color.RED, Name.A, None)) == "(3,'it\\'s',NULL)"


def test_empty_string_and_null_differ():
    assert encode_values(("", None, b"")) == "('',NULL,X'')"


# -- statements --------------------------------------------------------------------------

T = TableSchema("db", "t", ("id", "name", "score"), ("bigint", "varchar", "double"), pk=(0,),
                unique_keys=(("PRIMARY", (0,)),))
T2 = TableSchema("db", "c", ("a", "b", "v"), ("int", "varchar", "int"), pk=(0, 1))
TN = TableSchema("db", "n", ("a", "j"), ("int", "json"))


def target(name, *cols, pk=()):
    return TargetTable("db", name, tuple(TargetColumn(n, dt_, gen) for n, dt_, gen in cols), tuple(pk), ())


def test_upsert_text():
    [st] = TableSQL(T).upsert([(1, "a", 1.5), (2, "it's", None)])
    assert st.sql == (
        "INSERT INTO `db`.`t` (`id`,`name`,`score`) VALUES (1,'a',1.5),(2,'it\\'s',NULL)"
        " ON DUPLICATE KEY UPDATE `name`=VALUES(`name`),`score`=VALUES(`score`)"
    )
    assert (st.kind, st.first, st.count) == ("upsert", 0, 2)


def test_upsert_of_key_only_table_still_valid():
    k = TableSchema("db", "k", ("a", "b"), ("int", "int"), pk=(0, 1))
    [st] = TableSQL(k).upsert([(1, 2)])
    assert st.sql.endswith("VALUES (1,2) ON DUPLICATE KEY UPDATE `a`=VALUES(`a`)")


def test_plain_insert_text():
    [st] = TableSQL(T).insert([(1, "a", 0.1)])
    assert st.sql == "INSERT INTO `db`.`t` (`id`,`name`,`score`) VALUES (1,'a',0.1)"
    assert st.kind == "insert"


def test_delete_by_keys_text():
    [st] = TableSQL(T).delete([(1,), (2,)])
    assert st.sql == "DELETE FROM `db`.`t` WHERE `id` IN (1,2)"
    [st] = TableSQL(T2).delete([(1, "x"), (2, "y'")])
    assert st.sql == "DELETE FROM `db`.`c` WHERE (`a`,`b`) IN ((1,'x'),(2,'y\\''))"


def test_ordered_statements_text():
    q = TableSQL(TN)
    assert q.insert_one((1, None)) == "INSERT INTO `db`.`n` (`a`,`j`) VALUES (1,NULL)"
    assert q.delete_one((1, None)) == "DELETE FROM `db`.`n` WHERE `a` <=> 1 AND `j` IS NULL LIMIT 1"
    assert q.update_one((1, '{"k": 1}'), (2, "[]")) == (
        "UPDATE `db`.`n` SET `a`=2,`j`='[]' WHERE `a` <=> 1 AND `j` <=> '{\"k\": 1}' LIMIT 1"
    )


def test_json_compared_with_cast_when_target_type_is_json():
    q = TableSQL(TN, target("n", ("a", "int", False), ("j", "json", False)))
    assert q.delete_one((1, "[1]")) == "DELETE FROM `db`.`n` WHERE `a` <=> 1 AND `j` <=> CAST('[1]' AS JSON) LIMIT 1"


def test_column_names_with_braces_and_backticks():
    w = TableSchema("db", "w", ("{x}", "a`b"), ("int", "int"))
    assert TableSQL(w).delete_one((1, 2)) == "DELETE FROM `db`.`w` WHERE `{x}` <=> 1 AND `a``b` <=> 2 LIMIT 1"


# -- column planning against the target --------------------------------------------------


def test_generated_and_missing_columns_are_not_written():
    msg = TableSchema("db", "t", ("id", "full", "extra", "Name"), ("int", "varchar", "int", "varchar"), pk=(0,))
    tgt = target("t", ("id", "int", False), ("full", "varchar", True), ("name", "varchar", False))
    plan = plan_columns(msg, tgt)
    assert plan.write == (0, 3)  # column names match case-insensitively
    assert plan.skipped_generated == ("full",)
    assert plan.dropped_missing == ("extra",)
    q = TableSQL(msg, tgt)
    [st] = q.upsert([(1, "bogus", 99, "n")])
    assert st.sql == "INSERT INTO `db`.`t` (`id`,`Name`) VALUES (1,'n') ON DUPLICATE KEY UPDATE `Name`=VALUES(`Name`)"
    assert q.delete_one((1, "bogus", 99, "n")) == (
        "DELETE FROM `db`.`t` WHERE `id` <=> 1 AND `Name` = 'n' AND CAST(CONVERT(`Name` USING utf8mb4) AS BINARY) = X'6e'"
        " LIMIT 1")


def test_text_match_is_collation_then_bytes():
    """Why: under PAD SPACE or *_ci collations 'x' = 'x ' = 'X'; the byte test tells them apart
    while the collation test keeps an index usable. CHAR values lose trailing spaces as stored."""
    s = TableSchema("db", "k", ("a", "c", "b"), ("varchar", "char", "varbinary"))
    q = TableSQL(s)
    assert q.delete_one(("x ", "y ", b"z ")) == (
        "DELETE FROM `db`.`k` WHERE `a` = 'x ' AND CAST(CONVERT(`a` USING utf8mb4) AS BINARY) = X'7820'"
        " AND `c` = 'y' AND CAST(CONVERT(`c` USING utf8mb4) AS BINARY) = X'79' AND `b` <=> X'7a20' LIMIT 1")
    with pytest.raises(LiteralError, match="`a`.*UTF-8"):
        q.delete_one(("\udc80", "", b""))


def test_single_written_column():
    msg = TableSchema("db", "t", ("id", "gone"), ("int", "int"), pk=(0,))
    q = TableSQL(msg, target("t", ("id", "int", False)))
    assert q.insert_one((5, 6)) == "INSERT INTO `db`.`t` (`id`) VALUES (5)"


def test_missing_primary_key_column_in_target_is_a_clear_error():
    msg = TableSchema("db", "t", ("id", "v"), ("int", "int"), pk=(0,))
    with pytest.raises(ValueError, match=r"db\.t.*'id'.*missing"):
        TableSQL(msg, target("t", ("v", "int", False)))


def test_no_common_column_is_a_clear_error():
    msg = TableSchema("db", "t", ("x",), ("int",))
    with pytest.raises(ValueError, match=r"db\.t.*no message column"):
        TableSQL(msg, target("t", ("v", "int", False)))


# -- byte budget -------------------------------------------------------------------------


def test_split_statements_respects_budget_and_covers_every_part():
    parts = [f"({i})" for i in range(100)]
    sts = split_statements("HEAD ", parts, " TAIL", "insert", budget=60)
    assert all(len(s.sql.encode()) <= 60 for s in sts)
    assert [s.first for s in sts] == [sum(x.count for x in sts[:i]) for i in range(len(sts))]
    assert sum(s.count for s in sts) == 100
    joined = ",".join(s.sql[len("HEAD "):-len(" TAIL")] for s in sts)
    assert joined == ",".join(parts)


def test_split_counts_utf8_bytes_not_characters():
    parts = ["('😀😀😀😀')"] * 10  # 20 bytes each, 12 characters
    sts = split_statements("H", parts, "", "insert", budget=70)
    assert all(len(s.sql.encode()) <= 70 for s in sts)
    assert [s.count for s in sts] == [3, 3, 3, 1]


def test_oversized_row_goes_alone():
    parts = ["(1)", "('" + "x" * 500 + "')", "(3)"]
    sts = split_statements("H ", parts, "", "insert", budget=100)
    assert [(s.first, s.count) for s in sts] == [(0, 1), (1, 1), (2, 1)]


def test_table_sql_splits_multi_row_statements():
    q = TableSQL(T, budget=300)
    rows = [(i, "n" * 20, float(i)) for i in range(50)]
    sts = q.upsert(rows)
    assert len(sts) > 1
    assert all(len(s.sql) <= 300 for s in sts)
    assert sum(s.count for s in sts) == 50
    dels = q.delete([(i,) for i in range(200)])
    assert len(dels) > 1 and all(len(s.sql) <= 300 for s in dels)
    assert sum(s.count for s in dels) == 200
    assert all(s.sql.startswith("DELETE FROM `db`.`t` WHERE `id` IN (") and s.sql.endswith(")") for s in dels)


@pytest.mark.parametrize(
    "extra, generated",
    [
        ("VIRTUAL GENERATED", True),
        ("STORED GENERATED", True),
        ("PERSISTENT", True),
        ("VIRTUAL", True),
        ("DEFAULT_GENERATED", False),  # MySQL 8: an expression default, an ordinary column
        ("DEFAULT_GENERATED on update CURRENT_TIMESTAMP", False),
        ("auto_increment", False),
        ("", False),
        (None, False),
    ],
)
def test_generated_column_detection(extra, generated):
    from tidb2mysql.mysql.dialect import is_generated_extra

    assert is_generated_extra(extra) is generated


def test_builder_names_table_column_and_row_of_a_value_without_literal():
    q = TableSQL(T)
    with pytest.raises(LiteralError, match=r"table db\.t, column 'score': float nan") as ei:
        q.upsert([(1, "a", 1.0), (2, "b", float("nan"))])
    assert ei.value.index == 1
    with pytest.raises(LiteralError, match=r"table db\.t, column 'id'") as ei:
        q.delete([(1,), (float("inf"),)])
    assert ei.value.index == 1


# -- the C rendering of VALUES tuples (mysql/_rowtext.c) against sql.encode_values ---------------

def _odd_sql_values():
    import datetime as dt
    import enum
    from decimal import Decimal

    from tests.unit.test_load_data import _ODD_VALUES

    class Color(enum.IntEnum):
        RED = 1

    class Name(str, enum.Enum):
        A = "a'b"

    return [v for v in _ODD_VALUES if not isinstance(v, (list, tuple))] + [
        "it's", "back\\slash", "\r\n\x1a\0", "'", "\\", "名前'\\", Color.RED, Name.A,
        dt.datetime(2024, 1, 2, 3, 4, 5, 600000), Decimal("-0.000"), float("-0.0"), 2 ** 64, -(2 ** 70)]


def _python_rows(rows):
    from tidb2mysql.mysql import sql as sql_mod

    out = []
    for r in rows:
        try:
            out.append(sql_mod.encode_values(r))
        except Exception as e:  # the C path must raise the same
            return type(e), str(e)
    return out


def _c_rows(rows):
    from tidb2mysql.mysql import sql as sql_mod

    try:
        return sql_mod.encode_rows(rows)
    except Exception as e:
        return type(e), str(e)


def test_the_c_values_give_the_python_text_or_error_for_every_value():
    import random

    from tidb2mysql.mysql import sql as sql_mod

    assert sql_mod._values_c is not None  # built here (setup.py); else this compares Python with itself
    vals = _odd_sql_values()
    for v in vals:  # each value alone, and between others
        for row in ([v], [1, v, "x"]):
            assert _c_rows([row]) == _python_rows([row]), v
    rng = random.Random(5)
    for _ in range(3000):
        rows = [tuple(rng.choice(vals) for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(0, 4))]
        assert _c_rows(rows) == _python_rows(rows), rows


def test_the_c_values_render_plain_values_themselves():
    # The comparison above would pass if C always gave way: with no function to call, the values
    # it renders itself still come out, and a value it leaves to the functions makes it give way.
    import datetime as dt
    from decimal import Decimal

    from tidb2mysql.mysql import sql as sql_mod

    row = (None, 7, "it's\\", 0.5, Decimal("-1.50"), b"\x01\xff", dt.datetime(2024, 1, 2, 3, 4, 5))
    assert sql_mod._values_c([row], {}) == ["(NULL,7,'it\\'s\\\\',0.5,-1.50,X'01ff','2024-01-02 03:04:05')"]
    assert sql_mod._values_c([(1, dt.date(2024, 1, 2))], {}) is None
    assert sql_mod._values_c([(1, "\ud800")], sql_mod._ENCODERS) is None  # not UTF-8: the Python path
