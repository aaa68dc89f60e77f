"""Whole-row matching of key-less tables is byte-exact on the real target, whatever the collation.

Why these cases: a key-less table can hold rows that its column collation calls equal but
that differ in bytes ('x' and 'x ' under PAD SPACE ``utf8mb4_bin``; 'x', 'X' and 'é'/'e'
under ``utf8mb4_general_ci``). A replicated DELETE/UPDATE of one of them must touch exactly
that one, or the target silently diverges from the source (issue 12). Every test writes
through the real :class:`BatchWriter` into a fresh database of the stack's target and reads
the bytes back with ``HEX()``, so what is asserted is what the server stored.
"""

from __future__ import annotations

import struct

import pymysql
import pytest

from tidb2mysql.events import Op, TableSchema
from tidb2mysql.replication.change import Change
from tidb2mysql.replication.merge import RowMerger
from tidb2mysql.replication.target_schema import TargetTables
from tidb2mysql.replication.writer import BatchWriter, prepare_session

pytestmark = pytest.mark.integration


@pytest.fixture
def admin(stack_config):
    c = pymysql.connect(**stack_config.target.pymysql_kwargs(), autocommit=True)
    yield c
    c.close()


@pytest.fixture
def writer(stack_config, admin):
    c = pymysql.connect(**stack_config.target.pymysql_kwargs(), client_flag=pymysql.constants.CLIENT.FOUND_ROWS)
    prepare_session(c)
    w = BatchWriter(c, TargetTables(lambda: admin))
    yield w
    c.close()


def run(admin, sql, args=None):
    with admin.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


_seq = iter(range(1, 10**9))


def apply(writer, *changes):
    m = RowMerger()
    for c in changes:
        m.add(Change(1000, next(_seq), c[0], c[1], c[2], c[3]))
    return writer.write(m.drain())


def ins(s, row):
    return (s, Op.INSERT, row, None)


def dele(s, row):
    return (s, Op.DELETE, None, row)


def upd(s, old, new):
    return (s, Op.UPDATE, new, old)


def hex_rows(admin, dbn, table, cols="a, b"):
    exprs = ", ".join(f"HEX({c.strip()})" for c in cols.split(","))
    return sorted(run(admin, f"SELECT {exprs} FROM `{dbn}`.`{table}`"))


def h(s: str) -> str:
    return s.encode("utf-8").hex().upper()


@pytest.mark.parametrize("collation", ["utf8mb4_bin", "utf8mb4_general_ci", "utf8mb4_unicode_ci"])
def test_trailing_space_case_and_accent_rows_are_told_apart(target_db, admin, writer, collation):
    run(admin, f"CREATE TABLE `{target_db}`.`k` (a VARCHAR(20) COLLATE {collation}, b INT)")
    s = TableSchema(target_db, "k", ("a", "b"), ("varchar", "int"))
    values = ["x", "x ", "X", "x  ", "é", "e", "E"]
    apply(writer, *[ins(s, (v, 1)) for v in values])
    # The reproduction: delete ('x ',1) must leave ('x',1); then the others.
    stats = apply(writer, dele(s, ("x ", 1)), upd(s, ("X", 1), ("X", 2)), dele(s, ("é", 1)),
                  upd(s, ("e", 1), ("e ", 1)))
    c = stats.table(f"{target_db}.k")
    assert (c.deleted, c.updated, c.unmatched) == (2, 2, 0)
    assert hex_rows(admin, target_db, "k") == sorted(
        [(h("x"), "1"), (h("X"), "2"), (h("x  "), "1"), (h("e "), "1"), (h("E"), "1")])


def test_duplicate_rows_lose_exactly_one_per_delete(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`d` (a VARCHAR(20) COLLATE utf8mb4_general_ci, b INT)")
    s = TableSchema(target_db, "d", ("a", "b"), ("varchar", "int"))
    apply(writer, ins(s, ("a", 1)), ins(s, ("a", 1)), ins(s, ("A", 1)), ins(s, ("a ", 1)))
    apply(writer, dele(s, ("a", 1)), dele(s, ("A", 1)))
    assert hex_rows(admin, target_db, "d") == sorted([(h("a"), "1"), (h("a "), "1")])


def test_latin1_and_char_columns(target_db, admin, writer):
    """A latin1 column is converted to UTF-8 before the byte test; a CHAR column stores (and
    TiDB sends) values without trailing spaces."""
    run(admin, f"CREATE TABLE `{target_db}`.`l` (a VARCHAR(10) CHARACTER SET latin1 COLLATE latin1_swedish_ci,"
               " b CHAR(5) COLLATE utf8mb4_general_ci)")
    s = TableSchema(target_db, "l", ("a", "b"), ("varchar", "char"))
    apply(writer, ins(s, ("é", "Q")), ins(s, ("e", "q")), ins(s, ("É", "q")))
    stats = apply(writer, dele(s, ("e", "q")), upd(s, ("É", "q"), ("É", "q2")))
    assert (stats.table(f"{target_db}.l").deleted, stats.table(f"{target_db}.l").updated) == (1, 1)
    assert sorted(run(admin, f"SELECT a, b FROM `{target_db}`.`l`")) == sorted([("é", "Q"), ("É", "q2")])


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


def test_float_double_json_bit_null_match_exactly(target_db, admin, writer):
    """Values of every awkward type find their row, and only their row."""
    run(admin, f"CREATE TABLE `{target_db}`.`t` (f FLOAT, d DOUBLE, j JSON, b BIT(10), n INT, "
               "e ENUM('a','b'), st SET('x','y'), vb VARBINARY(8))")
    s = TableSchema(target_db, "t", ("f", "d", "j", "b", "n", "e", "st", "vb"),
                    ("float", "double", "json", "bit", "int", "enum", "set", "varbinary"))
    r1 = (f32(0.1), 0.1, '{"k": [1, "é"]}', 5, None, 1, 3, b"a")
    r2 = (f32(0.1), 0.30000000000000004, '{"k": [1, "e"]}', 5, None, 1, 3, b"a ")
    r3 = (f32(3.4e38), 5e-324, '{"k": [1, "é"]}', 1023, 7, 2, 0, b"a\x00")
    apply(writer, ins(s, r1), ins(s, r2), ins(s, r3), ins(s, r1))
    stats = apply(writer, dele(s, r2), dele(s, r3), dele(s, r1))
    assert (stats.table(f"{target_db}.t").deleted, stats.table(f"{target_db}.t").unmatched) == (3, 0)
    assert run(admin, f"SELECT COUNT(*), HEX(MIN(vb)), MIN(d) FROM `{target_db}`.`t`") == ((1, "61", 0.1),)
