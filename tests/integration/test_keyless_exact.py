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
from tidb2mysql.mysql.target_schema import TargetTables
from tidb2mysql.replication.writer import BatchWriter, DivergenceError
from tidb2mysql.mysql.session import prepare_session

from tests.support.stack import run

pytestmark = pytest.mark.integration


@pytest.fixture
def writer(stack_config, admin):
    c = pymysql.connect(**stack_config.target.pymysql_kwargs(), client_flag=pymysql.constants.CLIENT.FOUND_ROWS)
    prepare_session(c)
    w = BatchWriter(c, TargetTables(lambda: admin))
    yield w
    c.close()


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


# -- divergence: a DELETE/UPDATE that matches nothing is recorded, or stops (strict) ------


def _recorder(admin, dbn):
    """on_divergence hook writing into a table of the test database (same transaction)."""
    run(admin, f"CREATE TABLE `{dbn}`.`div` (seq BIGINT, kind VARCHAR(20))")

    def hook(divergent):
        return [(f"INSERT INTO `{dbn}`.`div` VALUES (%s, %s)", (ch.seq, kind)) for ch, kind in divergent]
    return hook


def test_unmatched_keyless_delete_and_update_are_recorded_in_the_same_transaction(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`k` (a VARCHAR(20), b INT)")
    s = TableSchema(target_db, "k", ("a", "b"), ("varchar", "int"))
    hook = _recorder(admin, target_db)
    m = RowMerger()
    changes = [Change(2000, 2, s, Op.INSERT, ("x", 1), None),
               Change(2000, 4, s, Op.DELETE, None, ("x ", 1)),  # only 'x' exists: diverged
               Change(2000, 6, s, Op.UPDATE, ("y", 2), ("y", 1)),  # no such row: diverged
               Change(2000, 8, s, Op.DELETE, None, ("x", 1))]
    for c in changes:
        m.add(c)
    stats = writer.write(m.drain(), on_divergence=hook)
    assert [(ch.seq, kind) for ch, kind in stats.divergent] == [(4, "delete_one"), (6, "update_one")]
    assert stats.table(f"{target_db}.k").unmatched == 2
    assert run(admin, f"SELECT seq, kind FROM `{target_db}`.`div` ORDER BY seq") == ((4, "delete_one"), (6, "update_one"))
    assert run(admin, f"SELECT COUNT(*) FROM `{target_db}`.`k`") == ((0,),)


def test_strict_mode_stops_at_the_first_divergence_and_commits_nothing(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`k` (a VARCHAR(20), b INT)")
    s = TableSchema(target_db, "k", ("a", "b"), ("varchar", "int"))
    hook = _recorder(admin, target_db)
    m = RowMerger()
    m.add(Change(3000, 2, s, Op.INSERT, ("x", 1), None))
    m.add(Change(3000, 4, s, Op.DELETE, None, ("X", 1)))
    with pytest.raises(DivergenceError, match=r"k: DELETE matched no row.*commit_ts 3000, seq 4"):
        writer.write(m.drain(), extra=[f"INSERT INTO `{target_db}`.`div` VALUES (-1, 'checkpoint')"],
                     on_divergence=hook, strict=True)
    assert run(admin, f"SELECT COUNT(*) FROM `{target_db}`.`k`") == ((0,),)
    assert run(admin, f"SELECT COUNT(*) FROM `{target_db}`.`div`") == ((0,),)


def test_keyed_delete_of_a_missing_row_is_found_among_the_others(target_db, admin, writer):
    """A multi-row DELETE by primary key that removes fewer rows than it names: exactly the
    missing keys are reported, and every other key is still deleted."""
    run(admin, f"CREATE TABLE `{target_db}`.`p` (id INT PRIMARY KEY, v INT)")
    run(admin, f"INSERT INTO `{target_db}`.`p` VALUES (1,1),(2,2),(4,4),(5,5)")
    s = TableSchema(target_db, "p", ("id", "v"), ("int", "int"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
    hook = _recorder(admin, target_db)
    m = RowMerger()
    for i, k in enumerate([1, 2, 3, 4, 6]):
        m.add(Change(4000, 2 * i, s, Op.DELETE, None, (k, k)))
    m.add(Change(4000, 20, s, Op.UPDATE, (5, 50), (5, 5)))
    stats = writer.write(m.drain(), on_divergence=hook)
    assert sorted(ch.old[0] for ch, _ in stats.divergent) == [3, 6]
    assert run(admin, f"SELECT id, v FROM `{target_db}`.`p`") == ((5, 50),)
    assert run(admin, f"SELECT seq FROM `{target_db}`.`div` ORDER BY seq") == ((4,), (8,))
    # the salvage path finds the same
    run(admin, f"INSERT INTO `{target_db}`.`p` VALUES (7,7)")
    m = RowMerger()
    m.add(Change(4001, 0, s, Op.DELETE, None, (7, 7)))
    m.add(Change(4001, 2, s, Op.DELETE, None, (8, 8)))
    stats, failures = writer.write_one_by_one(m.drain(), on_divergence=hook)
    assert failures == [] and [ch.old[0] for ch, _ in stats.divergent] == [8]
    assert run(admin, f"SELECT id FROM `{target_db}`.`p`") == ((5,),)


def test_keyed_update_of_a_missing_row_is_a_divergence_and_the_row_is_written(target_db, admin, writer):
    """ON DUPLICATE KEY UPDATE would insert the missing row silently; it must be reported."""
    run(admin, f"CREATE TABLE `{target_db}`.`p` (id INT PRIMARY KEY, v INT)")
    run(admin, f"INSERT INTO `{target_db}`.`p` VALUES (1,1),(2,2)")
    s = TableSchema(target_db, "p", ("id", "v"), ("int", "int"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
    hook = _recorder(admin, target_db)
    m = RowMerger()
    m.add(Change(5000, 0, s, Op.UPDATE, (1, 10), (1, 1)))
    m.add(Change(5000, 2, s, Op.UPDATE, (3, 30), (3, 3)))  # not in the target
    m.add(Change(5000, 4, s, Op.INSERT, (4, 4), None))  # new: nothing to check
    m.add(Change(5000, 6, s, Op.UPDATE, (4, 40), (4, 4)))
    m.add(Change(5000, 8, s, Op.DELETE, None, (2, 2)))
    m.add(Change(5000, 10, s, Op.INSERT, (2, 20), None))  # deleted then inserted: existed, fine
    stats = writer.write(m.drain(), on_divergence=hook)
    assert [(ch.seq, kind) for ch, kind in stats.divergent] == [(2, "update_key")]
    assert run(admin, f"SELECT id, v FROM `{target_db}`.`p` ORDER BY id") == ((1, 10), (2, 20), (3, 30), (4, 40))
    assert run(admin, f"SELECT seq, kind FROM `{target_db}`.`div`") == ((2, "update_key"),)
