"""tidb2mysql/fullload/tsv.py: the page text's SQL, keys parsed back from it, the LOAD statement."""

from __future__ import annotations

import pymysql.connections
import pytest

from tidb2mysql.fullload import tsv
from tidb2mysql.fullload.chunking import TablePlan
from tidb2mysql.mysql.sql import literal


def plan(cols, types, key):
    return TablePlan("db", "t", cols, types, key, "primary" if key else "none")


def test_column_rendering_per_type():
    assert tsv.column_expr("f", "float") == "IFNULL((`f` + 0E0), X'5C4E')"
    assert tsv.column_expr("b", "blob") == "IFNULL(HEX(`b`), X'5C4E')"
    assert tsv.column_expr("b", "bit") == "IFNULL(HEX(`b`), X'5C4E')"
    assert tsv.column_expr("n", "decimal") == "IFNULL(`n`, X'5C4E')"
    assert tsv.column_expr("v", "varchar") == ("IFNULL(REPLACE(REPLACE(REPLACE(CONVERT(`v` USING utf8mb4), X'5C', "
                                               "X'5C5C'), X'09', X'5C74'), X'0A', X'5C6E'), X'5C4E')")
    assert "CONVERT(`g` USING utf8mb4)" in tsv.column_expr("g", "geometry")  # unknown: escaped text
    assert tsv.line_expr(["a", "b"], ["int", "int"]) == "CONCAT(IFNULL(`a`, X'5C4E'), X'09', IFNULL(`b`, X'5C4E'))"


def test_page_sql_orders_the_group_by_the_key():
    tp = plan(["k", "n", "v"], ["varchar", "int", "text"], ["k", "n"])
    sql = tsv.page_text_sql(tp, "FROM `db`.`t` WHERE `k` > 'a'", 100)
    # a string literal holding a raw LF: TiDB refuses a hex literal as SEPARATOR
    assert sql.startswith("SELECT COUNT(*), GROUP_CONCAT(`_l` ORDER BY `_k0`, `_k1` SEPARATOR '\n') FROM (")
    assert "`k` AS `_k0`, `n` AS `_k1`" in sql
    assert sql.endswith("FROM `db`.`t` WHERE `k` > 'a' ORDER BY `k`, `n` LIMIT 100) AS `_p`")


@pytest.mark.parametrize("field,dtype,lit", [
    (b"18446744073709551615", "bigint", "18446744073709551615"),
    (b"-0.000000000000000000000000000001", "decimal", "-0.000000000000000000000000000001"),
    (b"1e308", "double", "1e308"),
    (b"0.10000000149011612", "float", "0.10000000149011612"),
    (b"0000-00-00 00:00:00.000000", "datetime", "'0000-00-00 00:00:00.000000'"),
    (b"-838:59:59.000000", "time", "'-838:59:59.000000'"),
    (b"a\\tb\\nc\\\\d'e", "varchar", literal("a\tb\nc\\d'e")),
    (b"\\\\N", "varchar", literal("\\N")),
    (b"", "varchar", "''"),
    (b"00FF5C09", "varbinary", "X'00ff5c09'"),
    (b"A", "bit", "10"),
    (b"\\N", "int", "NULL"),
])
def test_field_literal(field, dtype, lit):
    assert tsv.field_literal(field, dtype) == lit


def test_key_of_the_last_line_and_error_key():
    tp = plan(["v", "k", "n"], ["text", "varchar", "int"], ["k", "n"])
    data = b"x\tfirst\t1\nhas\\ttab\tz\\tz\t-2\n"
    assert tsv.last_line(data.rstrip(b"\n")) == b"has\\ttab\tz\\tz\t-2"
    assert tsv.key_literals(tp, tsv.last_line(data.rstrip(b"\n"))) == [literal("z\tz"), "-2"]
    assert tsv.row_key_text(tp, data, 1) == "('first', 1)"
    assert tsv.row_key_text(tp, data, 2) == f"({literal('z' + chr(9) + 'z')}, -2)"
    assert tsv.row_key_text(tp, data, 9) == "?"
    one = plan(["id"], ["int"], ["id"])
    assert tsv.first_key_text(one, b"6\n7\n") == "(6,)"


def test_unescape():
    assert tsv.unescape(b"a\\\\b\\tc\\nd\\0") == b"a\\b\tc\nd\0"
    assert tsv.unescape(b"plain") == b"plain"


def test_load_sql():
    sql = tsv.load_sql("`db`.`t`", ["id", "b", "v"], ["int", "blob", "text"], False, "tok")
    assert sql == ("LOAD DATA LOCAL INFILE 'tok' INTO TABLE `db`.`t` CHARACTER SET utf8mb4 FIELDS TERMINATED BY "
                   "X'09' ENCLOSED BY '' ESCAPED BY X'5C' LINES TERMINATED BY X'0A' STARTING BY '' "
                   "(`id`, @`_v1`, `v`) SET `b` = UNHEX(@`_v1`)")
    assert "'tok' REPLACE INTO TABLE" in tsv.load_sql("`db`.`t`", ["id"], ["int"], True, "tok")


class _Conn:
    max_allowed_packet = 16 * 1024 * 1024

    def __init__(self):
        self.packets = []

    def write_packet(self, p):
        self.packets.append(bytes(p))


def test_memory_infile_sends_the_page_and_refuses_other_names():
    tsv.install_memory_infile()
    send = pymysql.connections._send_local_file
    c = _Conn()
    data = b"x" * (tsv.SEND_CHUNK * 2 + 5)
    c._t2m_infile = ("tidb2mysql-memory:page", data)
    send(b"tidb2mysql-memory:page", c)
    assert b"".join(c.packets) == data and len(c.packets) == 3
    with pytest.raises(pymysql.err.OperationalError, match="/etc/passwd"):
        send(b"/etc/passwd", c)
    tsv.install_memory_infile()  # idempotent
    assert pymysql.connections._send_local_file is send
