"""BatchWriter against the real MariaDB target of the local stack (`make up`).

Every test works in its own fresh database (``target_db`` fixture) and reads the result back
through a separate connection, so what is asserted is what the server committed.
"""

from __future__ import annotations

import datetime as dt
import struct
from decimal import Decimal

import pymysql
import pytest

from tidb2mysql.events import Op, TableSchema
from tidb2mysql.replication.change import Change
from tidb2mysql.replication.merge import ORDERED, REPLACE_BY_KEY, UPSERT, RowMerger, TableBatch
from tidb2mysql.mysql.target_schema import TargetTables, UnknownTableError
from tidb2mysql.replication.writer import BatchWriter, WriteError
from tidb2mysql.mysql.session import prepare_session

from tests.support.stack import run

pytestmark = pytest.mark.integration


@pytest.fixture(params=["insert", "load"])
def writer(request, stack_config, admin):
    """Every test runs twice: rows expected new written with multi-row INSERT, and with LOAD DATA
    LOCAL (load_rows=1: every such row), which must give the same outcome in every case."""
    load = request.param == "load"
    c = pymysql.connect(**stack_config.target.pymysql_kwargs(), local_infile=load)
    prepare_session(c)
    w = BatchWriter(c, TargetTables(lambda: admin), load_rows=1 if load else 0)
    yield w
    c.close()


_seq = iter(range(1, 10**9))


def ch(schema, op, new=None, old=None):
    return Change(1000, next(_seq), schema, op, new, old)


def merged(*changes):
    m = RowMerger()
    for c in changes:
        m.add(c)
    return m.drain()


def f32(x: float) -> float:
    return struct.unpack("f", struct.pack("f", x))[0]


# -- literal encoder through the server ------------------------------------------------

COLUMNS = [
    # name, DDL type, Drainer mysql_type, read-back expression
    ("i8", "TINYINT", "tinyint", None),
    ("i64", "BIGINT", "bigint", None),
    ("u64", "BIGINT UNSIGNED", "bigint", None),
    ("dbl", "DOUBLE", "double", None),
    ("flt", "FLOAT", "float", None),
    ("dec", "DECIMAL(65,30)", "decimal", None),
    ("bits", "BIT(64)", "bit", "`bits`+0"),
    ("d", "DATE", "date", None),
    ("dt6", "DATETIME(6)", "datetime", None),
    ("ts6", "TIMESTAMP(6) NULL", "timestamp", None),
    ("tm", "TIME(6)", "time", None),
    ("yr", "YEAR", "year", None),
    ("vc", "VARCHAR(255)", "varchar", None),
    ("txt", "LONGTEXT", "longtext", None),
    ("vb", "VARBINARY(255)", "varbinary", None),
    ("blb", "LONGBLOB", "longblob", None),
    ("en", "ENUM('a','b','c')", "enum", "`en`+0"),
    ("st", "SET('x','y','z')", "set", "`st`+0"),
    ("js", "JSON", "json", None),
]

ROWS = [
    (1, -128, -9223372036854775808, 18446744073709551615, 0.1, f32(0.1),
     Decimal("-99999999999999999999999999999999999.999999999999999999999999999999"),
     18446744073709551615, dt.date(1000, 1, 1), dt.datetime(2024, 2, 29, 23, 59, 59, 999999),
     dt.datetime(2038, 1, 19, 3, 14, 7, 499999), -dt.timedelta(hours=838, minutes=59, seconds=59),
     2155, "it's a \\ \0 \n \r \x1a \"test\" 😀𝄞中文", "", b"\x00'\\\xff\n", b"", 1, 7, '{"a": [1, 2.5, "x😀"]}'),
    (2, 127, 9223372036854775807, 0, 1e308, f32(3.4e38), Decimal("0.000000000000000000000000000001"), 0,
     dt.date(9999, 12, 31), dt.datetime(1000, 1, 1, 0, 0, 0, 1), dt.datetime(1970, 1, 1, 0, 0, 1),
     dt.timedelta(hours=838, minutes=59, seconds=59, microseconds=0), 0, "", "x" * 70000, b"", b"\x00" * 1000, 3,
     0, "null"),
    (3, 0, 0, 1, 5e-324, -0.0, Decimal("12345.678900000000000000000000000000"), 1, dt.date(2024, 1, 1),
     dt.datetime(2024, 1, 1), None, dt.timedelta(days=2, microseconds=1), 1901, None, None, None, None, None,
     None, None),
    # zero dates stay text, as Drainer renders them (fsp digits included)
    (4, None, None, None, 0.30000000000000004, None, None, None, "0000-00-00", "0000-00-00 00:00:00.000000",
     None, -dt.timedelta(microseconds=1), None, "emoji only 🎉", None, None, None, 2, 5, "[]"),
    (5, 1, 1, 1, 1.0, 1.0, Decimal("1"), 1, "2020-00-00", "2020-01-00 10:00:00.500000", None,
     dt.timedelta(0), 2000, "'", "\\", b"\\", b"'", 1, 0, '"\\u00e9"'),
]


def test_every_native_value_reads_back_exactly(target_db, admin, writer):
    cols = ", ".join(f"`{n}` {t}" for n, t, _, _ in COLUMNS)
    run(admin, f"CREATE TABLE `{target_db}`.`v` (id INT PRIMARY KEY, {cols})")
    schema = TableSchema(target_db, "v", ("id",) + tuple(c[0] for c in COLUMNS),
                         ("int",) + tuple(c[2] for c in COLUMNS), pk=(0,))
    stats = writer.write(merged(*[ch(schema, Op.INSERT, r) for r in ROWS]))
    assert stats.table(f"{target_db}.v").upserted == len(ROWS)
    exprs = ", ".join(e or f"`{n}`" for n, _, _, e in COLUMNS)
    got = run(admin, f"SELECT id, {exprs} FROM `{target_db}`.`v` ORDER BY id")
    assert len(got) == len(ROWS)
    for want, have in zip(ROWS, got):
        assert len(want) == len(have) == len(COLUMNS) + 1
        for (name, *_), w, h in zip([("id",)] + COLUMNS, want, have):
            if name == "flt" and w is not None:
                h = f32(h)  # the server prints FLOAT with float32 precision
            if name == "dbl" and w == -0.0:
                assert str(h) in ("0.0", "-0.0")
                continue
            assert h == w, f"row {want[0]} column {name}: wrote {w!r}, read {h!r}"
            if isinstance(w, float) and w != 0:
                assert type(h) is float


def test_enum_index_zero_is_rejected_not_truncated(target_db, admin, writer):
    """ENUM index 0 (TiDB's invalid value) cannot be stored under STRICT_TRANS_TABLES: the
    batch fails loudly (the caller dead-letters it) instead of writing something else."""
    run(admin, f"CREATE TABLE `{target_db}`.`e` (id INT PRIMARY KEY, en ENUM('a','b'))")
    schema = TableSchema(target_db, "e", ("id", "en"), ("int", "enum"), pk=(0,))
    with pytest.raises(WriteError) as ei:
        writer.write(merged(ch(schema, Op.INSERT, (1, 0))))
    assert ei.value.code == 1265 and ei.value.table == f"{target_db}.e"


def test_time_zone_is_utc_for_timestamps(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`z` (id INT PRIMARY KEY, ts TIMESTAMP(6) NULL)")
    schema = TableSchema(target_db, "z", ("id", "ts"), ("int", "timestamp"), pk=(0,))
    writer.write(merged(ch(schema, Op.INSERT, (1, dt.datetime(2024, 6, 1, 12, 0, 0, 5)))))
    (epoch,) = run(admin, f"SELECT UNIX_TIMESTAMP(ts) FROM `{target_db}`.`z`")[0]
    assert Decimal(epoch) == Decimal(dt.datetime(2024, 6, 1, 12, 0, 0, 5, tzinfo=dt.timezone.utc).timestamp()).quantize(
        Decimal("0.000001"))


# -- modes --------------------------------------------------------------------------------


def test_upsert_twice_equals_once(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`t` (id INT PRIMARY KEY, v VARCHAR(20), n INT)")
    run(admin, f"INSERT INTO `{target_db}`.`t` VALUES (1, 'old', 1), (2, 'keep', 2), (3, 'gone', 3)")
    schema = TableSchema(target_db, "t", ("id", "v", "n"), ("int", "varchar", "int"), pk=(0,))
    changes = [ch(schema, Op.UPDATE, (1, "new", 10), (1, "old", 1)), ch(schema, Op.INSERT, (4, "ins", 4)),
               ch(schema, Op.DELETE, old=(3, "gone", 3))]
    batches = merged(*changes)
    assert [b.mode for b in batches] == [UPSERT]
    writer.write(batches)
    once = run(admin, f"SELECT * FROM `{target_db}`.`t` ORDER BY id")
    writer.write(merged(*changes))
    assert run(admin, f"SELECT * FROM `{target_db}`.`t` ORDER BY id") == once == (
        (1, "new", 10), (2, "keep", 2), (4, "ins", 4))


def test_rows_expected_new_that_exist_get_the_upsert_outcome(target_db, admin, writer):
    """A replay after a crash: rows whose first change in the flush is an INSERT are already
    in the target, some with other values. The load (IGNORE semantics: existing keys are only
    warnings) is followed by the upsert of its rows, so the target ends with the images."""
    run(admin, f"CREATE TABLE `{target_db}`.`t` (id INT PRIMARY KEY, v VARCHAR(20), n INT)")
    run(admin, f"INSERT INTO `{target_db}`.`t` VALUES (1, 'stale', 0), (3, 'c', 3)")
    schema = TableSchema(target_db, "t", ("id", "v", "n"), ("int", "varchar", "int"), pk=(0,))
    rows = [(i, "abcde"[i - 1], i) for i in range(1, 6)]
    stats = writer.write(merged(*[ch(schema, Op.INSERT, r) for r in rows]))
    assert run(admin, f"SELECT * FROM `{target_db}`.`t` ORDER BY id") == tuple(rows)
    assert stats.table(f"{target_db}.t").upserted == 5
    assert (stats.loaded, stats.load_fallbacks) == ((0, 1) if writer.load_rows else (0, 0))
    # fresh keys: loaded as given, no fallback
    stats = writer.write(merged(*[ch(schema, Op.INSERT, (i, "new", i)) for i in range(6, 9)]))
    assert (stats.loaded, stats.load_fallbacks) == ((3, 0) if writer.load_rows else (0, 0))
    assert run(admin, f"SELECT COUNT(*) FROM `{target_db}`.`t`") == ((8,),)


def test_only_rows_whose_first_change_is_an_insert_are_loaded(target_db, admin, writer):
    """An updated row existed before the flush: it keeps the existence check and the upsert
    (a load would insert a row the target lost, hiding the divergence)."""
    run(admin, f"CREATE TABLE `{target_db}`.`t` (id INT PRIMARY KEY, v VARCHAR(20))")
    run(admin, f"INSERT INTO `{target_db}`.`t` VALUES (1, 'a')")
    schema = TableSchema(target_db, "t", ("id", "v"), ("int", "varchar"), pk=(0,))
    stats = writer.write(merged(ch(schema, Op.UPDATE, (1, "a2"), (1, "a")), ch(schema, Op.INSERT, (2, "b")),
                                ch(schema, Op.UPDATE, (5, "gone"), (5, "x"))))
    assert run(admin, f"SELECT * FROM `{target_db}`.`t` ORDER BY id") == ((1, "a2"), (2, "b"), (5, "gone"))
    assert stats.loaded == (1 if writer.load_rows else 0)
    assert [ch.new for ch, _kind in stats.divergent] == [(5, "gone")]  # found missing, as without loads


def test_replace_by_key_applies_unique_key_swap(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`u` (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE, n INT)")
    run(admin, f"INSERT INTO `{target_db}`.`u` VALUES (1,'a@x',1),(2,'b@x',2),(3,'c@x',3)")
    schema = TableSchema(target_db, "u", ("id", "email", "n"), ("int", "varchar", "int"), pk=(0,),
                         unique_keys=(("PRIMARY", (0,)), ("email", (1,))))
    # Upstream, in one transaction: 1 and 2 swap emails (through a temporary value), 4 takes
    # a freed email... every intermediate step was valid upstream.
    batches = merged(
        ch(schema, Op.UPDATE, (1, "tmp", 1), (1, "a@x", 1)),
        ch(schema, Op.UPDATE, (2, "a@x", 20), (2, "b@x", 2)),
        ch(schema, Op.UPDATE, (1, "b@x", 10), (1, "tmp", 1)),
    )
    assert [b.mode for b in batches] == [REPLACE_BY_KEY]
    stats = writer.write(batches)
    assert run(admin, f"SELECT * FROM `{target_db}`.`u` ORDER BY id") == (
        (1, "b@x", 10), (2, "a@x", 20), (3, "c@x", 3))
    c = stats.table(f"{target_db}.u")
    assert (c.deleted, c.inserted, c.upserted) == (2, 2, 0)


def test_replace_by_key_rows_born_in_the_flush_overwrite_what_the_target_holds_under_their_keys(
        target_db, admin, writer):
    """Rows born in the flush (first change an INSERT) of a table with a secondary unique key
    are loaded without deleting their keys first (dml_plan): the target should not hold them.
    When it does (a changed target, or a replay), the load skips them with a warning and the
    fallback deletes every key of the load before inserting: the target ends with the images,
    one row per key, also where a held row keeps a unique value another born row needs."""
    run(admin, f"CREATE TABLE `{target_db}`.`u` (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE, n INT)")
    run(admin, f"INSERT INTO `{target_db}`.`u` VALUES (1,'stale@x',0),(3,'b@x',0),(9,'keep@x',9)")
    schema = TableSchema(target_db, "u", ("id", "email", "n"), ("int", "varchar", "int"), pk=(0,),
                         unique_keys=(("PRIMARY", (0,)), ("email", (1,))))
    rows = [(1, "a@x", 1), (2, "b@x", 2), (3, "c@x", 3), (4, "d@x", 4)]
    changes = [ch(schema, Op.INSERT, r) for r in rows]
    stats = writer.write(merged(*changes))
    assert run(admin, f"SELECT * FROM `{target_db}`.`u` ORDER BY id") == (*rows, (9, "keep@x", 9))
    assert (stats.loaded, stats.load_fallbacks) == ((0, 1) if writer.load_rows else (0, 0))
    # a replay of the same flush: the load inserts none of its rows; the same rows, nothing added
    stats = writer.write(merged(*changes))
    assert run(admin, f"SELECT * FROM `{target_db}`.`u` ORDER BY id") == (*rows, (9, "keep@x", 9))
    assert (stats.loaded, stats.load_fallbacks) == ((0, 1) if writer.load_rows else (0, 0))
    # fresh keys and an update: only the updated row's key is deleted when loading
    changes = [ch(schema, Op.INSERT, (5, "e@x", 5)), ch(schema, Op.UPDATE, (9, "nine@x", 10), (9, "keep@x", 9))]
    stats = writer.write(merged(*changes))
    assert (stats.loaded, stats.load_fallbacks) == ((2, 0) if writer.load_rows else (0, 0))
    assert stats.table(f"{target_db}.u").deleted == (1 if writer.load_rows else 2)
    assert run(admin, f"SELECT * FROM `{target_db}`.`u` WHERE id >= 5 ORDER BY id") == ((5, "e@x", 5), (9, "nine@x", 10))


def test_upsert_batch_becomes_replace_when_target_has_secondary_unique_key(target_db, admin, writer):
    # Old Drainer (< 3.0.9) sends no unique_keys: the message looks like a plain PK table.
    run(admin, f"CREATE TABLE `{target_db}`.`u` (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE)")
    run(admin, f"INSERT INTO `{target_db}`.`u` VALUES (1,'a@x'),(2,'b@x')")
    schema = TableSchema(target_db, "u", ("id", "email"), ("int", "varchar"), pk=(0,))
    batches = merged(ch(schema, Op.UPDATE, (1, "b@x"), (1, "a@x")), ch(schema, Op.UPDATE, (2, "a@x"), (2, "b@x")))
    assert [b.mode for b in batches] == [UPSERT]
    writer.write(batches)
    # ON DUPLICATE KEY UPDATE would have matched row 2 by email and clobbered it.
    assert run(admin, f"SELECT * FROM `{target_db}`.`u` ORDER BY id") == ((1, "b@x"), (2, "a@x"))


def test_target_key_shape_decides_between_upsert_and_delete_insert(target_db, admin, writer):
    # Same key, declared in another column order: stays an upsert.
    run(admin, f"CREATE TABLE `{target_db}`.`k` (a INT, b INT, v INT, PRIMARY KEY (b, a))")
    sk = TableSchema(target_db, "k", ("a", "b", "v"), ("int",) * 3, pk=(0, 1))
    c = writer.write(merged(ch(sk, Op.INSERT, (1, 2, 3)))).table(f"{target_db}.k")
    assert (c.upserted, c.inserted, c.deleted) == (1, 0, 0)
    # No key at all in the target: ON DUPLICATE KEY would never fire (a replay would duplicate
    # the row), so it is written as delete-by-key + insert, and replaying is harmless.
    run(admin, f"CREATE TABLE `{target_db}`.`nk` (id INT, v INT)")
    snk = TableSchema(target_db, "nk", ("id", "v"), ("int", "int"), pk=(0,))
    for _ in range(2):
        c = writer.write(merged(ch(snk, Op.INSERT, (1, 1)))).table(f"{target_db}.nk")
        assert (c.upserted, c.inserted, c.deleted) == (0, 1, 1)
    assert run(admin, f"SELECT * FROM `{target_db}`.`nk`") == ((1, 1),)


def test_ordered_table_with_duplicate_rows_deletes_exactly_one(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`n` (a INT, b VARCHAR(10), c DOUBLE)")
    run(admin, f"INSERT INTO `{target_db}`.`n` VALUES (1,'x',0.1),(1,'x',0.1),(1,'x',0.1),(2,NULL,NULL)")
    schema = TableSchema(target_db, "n", ("a", "b", "c"), ("int", "varchar", "double"))
    batches = merged(
        ch(schema, Op.DELETE, old=(1, "x", 0.1)),
        ch(schema, Op.UPDATE, (1, "y", 0.1), (1, "x", 0.1)),
        ch(schema, Op.DELETE, old=(2, None, None)),  # NULL-safe match
        ch(schema, Op.INSERT, (3, "z", 1e308)),
        ch(schema, Op.DELETE, old=(9, "none", 0.0)),  # no such row: counted, not an error
    )
    assert [b.mode for b in batches] == [ORDERED]
    stats = writer.write(batches)
    assert sorted(run(admin, f"SELECT a, b, c FROM `{target_db}`.`n`")) == [(1, "x", 0.1), (1, "y", 0.1), (3, "z", 1e308)]
    c = stats.table(f"{target_db}.n")
    assert (c.deleted, c.updated, c.inserted, c.unmatched) == (2, 1, 1, 1)


def test_ordered_full_row_match_on_every_type(target_db, admin, writer):
    """Full-row ``<=>`` matching must find rows whose values went through the encoder,
    including a FLOAT as Drainer sends it (float32 widened to double)."""
    cols = ", ".join(f"`{n}` {t}" for n, t, _, _ in COLUMNS)
    run(admin, f"CREATE TABLE `{target_db}`.`o` (id INT, {cols})")
    schema = TableSchema(target_db, "o", ("id",) + tuple(c[0] for c in COLUMNS),
                         ("int",) + tuple(c[2] for c in COLUMNS))
    writer.write(merged(*[ch(schema, Op.INSERT, r) for r in ROWS]))
    stats = writer.write(merged(
        ch(schema, Op.UPDATE, (ROWS[0][0] + 100,) + ROWS[0][1:], ROWS[0]),
        *[ch(schema, Op.DELETE, old=r) for r in ROWS[1:]],
    ))
    c = stats.table(f"{target_db}.o")
    assert (c.updated, c.deleted, c.unmatched) == (1, len(ROWS) - 1, 0)
    assert run(admin, f"SELECT id FROM `{target_db}`.`o`") == ((101,),)


# -- target structure --------------------------------------------------------------------


def test_generated_columns_are_not_written(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`g` (id INT PRIMARY KEY, price INT, qty INT,"
               " total INT AS (price * qty) VIRTUAL, total_s INT AS (price + qty) STORED)")
    # Drainer sends the generated columns with bogus values.
    schema = TableSchema(target_db, "g", ("id", "price", "qty", "total", "total_s"), ("int",) * 5, pk=(0,))
    writer.write(merged(ch(schema, Op.INSERT, (1, 3, 4, 0, None)), ch(schema, Op.INSERT, (2, 5, 6, None, 0))))
    assert run(admin, f"SELECT * FROM `{target_db}`.`g` ORDER BY id") == ((1, 3, 4, 12, 7), (2, 5, 6, 30, 11))
    # ordered mode (no PK) matches only on written columns
    run(admin, f"CREATE TABLE `{target_db}`.`gn` (a INT, b INT AS (a * 2) VIRTUAL)")
    run(admin, f"INSERT INTO `{target_db}`.`gn` (a) VALUES (1), (1)")
    ns = TableSchema(target_db, "gn", ("a", "b"), ("int", "int"))
    writer.write(merged(ch(ns, Op.DELETE, old=(1, None))))
    assert run(admin, f"SELECT a, b FROM `{target_db}`.`gn`") == ((1, 2),)


def test_a_message_column_missing_in_the_target_fails_the_batch(target_db, admin, writer):
    """A lost ADD COLUMN must not turn into silently dropped values: the batch fails (the shard
    then parks the changes as dead letters) and nothing of it is written."""
    run(admin, f"CREATE TABLE `{target_db}`.`m` (id INT PRIMARY KEY, v INT)")
    schema = TableSchema(target_db, "m", ("id", "v", "added_upstream"), ("int",) * 3, pk=(0,))
    with pytest.raises(WriteError, match="added_upstream.*missing in the target"):
        writer.write(merged(ch(schema, Op.INSERT, (1, 2, 3))))
    assert run(admin, f"SELECT * FROM `{target_db}`.`m`") == ()


def test_target_tables_reads_keys_and_generated_columns(target_db, admin):
    run(admin, f"CREATE TABLE `{target_db}`.`k` (a INT, b VARCHAR(5), c INT AS (a+1) PERSISTENT, d INT,"
               " PRIMARY KEY (b, a), UNIQUE KEY ud (d), KEY plain (c))")
    tt = TargetTables(lambda: admin)
    t = tt.get(target_db, "k")
    assert [c.name for c in t.columns] == ["a", "b", "c", "d"]
    assert [c.generated for c in t.columns] == [False, False, True, False]
    assert t.column("B").data_type == "varchar"
    assert t.primary_key == ("b", "a")
    assert t.unique_keys == (("PRIMARY", ("b", "a")), ("ud", ("d",)))
    assert tt.get(target_db, "k") is t  # cached
    run(admin, f"ALTER TABLE `{target_db}`.`k` ADD COLUMN e INT")
    assert tt.get(target_db, "k") is t
    tt.invalidate(target_db, "k")
    assert [c.name for c in tt.get(target_db, "k").columns][-1] == "e"
    with pytest.raises(UnknownTableError, match=f"`{target_db}`.`nope`"):
        tt.get(target_db, "nope")


# -- failures ----------------------------------------------------------------------------


def _checkpoint_table(admin, db):
    run(admin, f"CREATE TABLE `{db}`.`cp` (shard INT PRIMARY KEY, pos BIGINT)")
    run(admin, f"INSERT INTO `{db}`.`cp` VALUES (0, 0)")
    return f"UPDATE `{db}`.`cp` SET pos = 42 WHERE shard = 0"


def test_failing_statement_rolls_back_everything_and_names_the_table(target_db, admin, writer):
    extra = _checkpoint_table(admin, target_db)
    run(admin, f"CREATE TABLE `{target_db}`.`a` (id INT PRIMARY KEY, v INT)")
    run(admin, f"CREATE TABLE `{target_db}`.`b` (id INT PRIMARY KEY, v VARCHAR(3))")
    run(admin, f"INSERT INTO `{target_db}`.`a` VALUES (9, 9)")
    sa = TableSchema(target_db, "a", ("id", "v"), ("int", "int"), pk=(0,))
    sb = TableSchema(target_db, "b", ("id", "v"), ("int", "varchar"), pk=(0,))
    batches = merged(ch(sa, Op.INSERT, (1, 1)), ch(sa, Op.DELETE, old=(9, 9)),
                     ch(sb, Op.INSERT, (5, "way too long")))  # STRICT: no silent truncation
    with pytest.raises(WriteError) as ei:
        writer.write(batches, [extra])
    e = ei.value
    assert e.table == f"{target_db}.b" and e.kind == "upsert" and e.key == (5,)
    assert e.code == 1406  # ER_DATA_TOO_LONG
    assert f"{target_db}.b" in str(e) and "upsert" in str(e)
    assert isinstance(e.__cause__, pymysql.err.MySQLError) and not e.transient
    assert run(admin, f"SELECT * FROM `{target_db}`.`a`") == ((9, 9),)
    assert run(admin, f"SELECT * FROM `{target_db}`.`b`") == ()
    assert run(admin, f"SELECT pos FROM `{target_db}`.`cp`") == ((0,),)
    # the connection is usable afterwards
    writer.write(merged(ch(sa, Op.INSERT, (2, 2))), [extra])
    assert run(admin, f"SELECT pos FROM `{target_db}`.`cp`") == ((42,),)


def test_unknown_table_is_a_write_error(target_db, writer):
    s = TableSchema(target_db, "missing", ("id",), ("int",), pk=(0,))
    with pytest.raises(WriteError) as ei:
        writer.write(merged(ch(s, Op.INSERT, (1,))))
    assert ei.value.kind == "metadata" and ei.value.code == 1146 and "missing" in str(ei.value)


def test_write_one_by_one_applies_the_good_rows_and_reports_the_bad(target_db, admin, writer):
    extra = _checkpoint_table(admin, target_db)
    run(admin, f"CREATE TABLE `{target_db}`.`a` (id INT PRIMARY KEY, v VARCHAR(3))")
    run(admin, f"CREATE TABLE `{target_db}`.`n` (v VARCHAR(3))")
    sa = TableSchema(target_db, "a", ("id", "v"), ("int", "varchar"), pk=(0,))
    sn = TableSchema(target_db, "n", ("v",), ("varchar",))
    gone = TableSchema(target_db, "gone", ("id",), ("int",), pk=(0,))
    bad_a = ch(sa, Op.INSERT, (2, "toolong"))
    bad_n = ch(sn, Op.INSERT, ("toolong",))
    bad_gone = ch(gone, Op.INSERT, (1,))
    batches = merged(ch(sa, Op.INSERT, (1, "ok")), bad_a, ch(sa, Op.INSERT, (3, "ok3")),
                     ch(sn, Op.INSERT, ("n1",)), bad_n, ch(sn, Op.INSERT, ("n2",)), bad_gone)
    with pytest.raises(WriteError):
        writer.write(batches, [extra])
    stats, failures = writer.write_one_by_one(batches, [extra])
    assert [(c is bad_a, c is bad_n, c is bad_gone) for c, _ in failures] == [
        (False, False, True), (True, False, False), (False, True, False)]
    errs = {c.schema.table: e for c, e in failures}
    assert errs["a"].code == 1406 and errs["a"].key == (2,) and errs["a"].table == f"{target_db}.a"
    assert errs["gone"].code == 1146
    assert stats.failed == 3
    assert run(admin, f"SELECT * FROM `{target_db}`.`a` ORDER BY id") == ((1, "ok"), (3, "ok3"))
    assert run(admin, f"SELECT v FROM `{target_db}`.`n`") == (("n1",), ("n2",))
    assert run(admin, f"SELECT pos FROM `{target_db}`.`cp`") == ((42,),)


def test_budget_splits_into_several_statements(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`t` (id INT PRIMARY KEY, v VARCHAR(100))")
    schema = TableSchema(target_db, "t", ("id", "v"), ("int", "varchar"), pk=(0,))
    writer.budget = 2000
    rows = [(i, "é" * 50) for i in range(300)]
    stats = writer.write(merged(*[ch(schema, Op.INSERT, r) for r in rows]))
    if writer.load_rows:  # a load streams its text in packets: the statement budget does not bound it
        assert (stats.statements, stats.loaded) == (1, 300) and stats.bytes > 2000
    else:
        assert stats.statements > 10
        assert stats.bytes <= 2000 * stats.statements
    assert run(admin, f"SELECT COUNT(*), SUM(CHAR_LENGTH(v)) FROM `{target_db}`.`t`") == ((300, 15000),)
    stats = writer.write(merged(*[ch(schema, Op.DELETE, old=r) for r in rows]))
    assert stats.table(f"{target_db}.t").deleted == 300
    assert run(admin, f"SELECT COUNT(*) FROM `{target_db}`.`t`") == ((0,),)


def test_session_settings(writer):
    with writer.conn.cursor() as cur:
        cur.execute("SELECT @@session.time_zone, @@session.foreign_key_checks, @@session.unique_checks,"
                    " @@session.sql_mode, @@session.autocommit, @@session.character_set_client")
        tz, fk, uc, mode, ac, cs = cur.fetchone()
    assert (tz, fk, uc, ac, cs) == ("+00:00", 0, 1, 0, "utf8mb4")
    assert "STRICT_TRANS_TABLES" in mode and "NO_ZERO_DATE" not in mode and "NO_BACKSLASH_ESCAPES" not in mode


def test_batch_dataclass_roundtrip_used_directly(target_db, admin, writer):
    """A hand-built TableBatch (what the lead's flow passes) is accepted as is."""
    run(admin, f"CREATE TABLE `{target_db}`.`t` (id INT PRIMARY KEY, v INT)")
    schema = TableSchema(target_db, "t", ("id", "v"), ("int", "int"), pk=(0,))
    b = TableBatch(schema, UPSERT, rows=[(1, 1), (2, 2)], row_sources=[ch(schema, Op.INSERT, (1, 1))] * 2)
    writer.write([b])
    assert run(admin, f"SELECT * FROM `{target_db}`.`t` ORDER BY id") == ((1, 1), (2, 2))


def test_value_without_literal_fails_only_its_change(target_db, admin, writer):
    run(admin, f"CREATE TABLE `{target_db}`.`f` (id INT PRIMARY KEY, x DOUBLE)")
    run(admin, f"CREATE TABLE `{target_db}`.`fn` (x DOUBLE)")
    s = TableSchema(target_db, "f", ("id", "x"), ("int", "double"), pk=(0,))
    sn = TableSchema(target_db, "fn", ("x",), ("double",))
    bad, bad_n = ch(s, Op.INSERT, (2, float("nan"))), ch(sn, Op.INSERT, (float("inf"),))
    batches = merged(ch(s, Op.INSERT, (1, 1.5)), bad, ch(sn, Op.INSERT, (2.5,)), bad_n)
    with pytest.raises(WriteError) as ei:
        writer.write(batches)
    assert ei.value.table == f"{target_db}.f" and ei.value.key == (2,) and "column 'x'" in str(ei.value)
    stats, failures = writer.write_one_by_one(batches)
    assert [c for c, _ in failures] == [bad, bad_n]
    assert run(admin, f"SELECT * FROM `{target_db}`.`f`") == ((1, 1.5),)
    assert run(admin, f"SELECT * FROM `{target_db}`.`fn`") == ((2.5,),)


# -- sessions of different shards ------------------------------------------------------------


def _session(stack_config, prepared: bool):
    c = pymysql.connect(**stack_config.target.pymysql_kwargs())
    if prepared:
        prepare_session(c)
    with c.cursor() as cur:
        if not prepared:  # the default of MySQL and MariaDB
            cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            c.autocommit(False)
        cur.execute("SET SESSION innodb_lock_wait_timeout = 1")
    return c


@pytest.mark.parametrize("prepared", [True, False], ids=["apply-session", "repeatable-read"])
def test_a_shard_never_waits_on_another_shards_gap_lock(stack_config, target_db, admin, prepared):
    """Two shards write disjoint keys of one table. Shard A deletes a row that is not there
    (a replayed delete) and has not committed yet; shard B inserts a key in the same gap.
    In an apply session B goes ahead; under REPEATABLE READ (the servers' default) it waits for
    A's gap lock (shown by the second case, so the first one means something)."""
    run(admin, f"CREATE TABLE `{target_db}`.`t` (id INT PRIMARY KEY, v INT)")
    run(admin, f"INSERT INTO `{target_db}`.`t` VALUES (5, 0), (20, 0)")
    a, b = _session(stack_config, prepared), _session(stack_config, prepared)
    try:
        with a.cursor() as cur:
            cur.execute(f"DELETE FROM `{target_db}`.`t` WHERE id = 10")  # no such row: a gap lock under RR
        with b.cursor() as cur:
            if prepared:
                cur.execute(f"INSERT INTO `{target_db}`.`t` VALUES (11, 1)")
                b.commit()
            else:
                with pytest.raises(pymysql.err.OperationalError) as e:
                    cur.execute(f"INSERT INTO `{target_db}`.`t` VALUES (11, 1)")
                assert e.value.args[0] == 1205  # lock wait timeout
        a.commit()
    finally:
        a.close()
        b.close()
    expected = ((5, 0), (11, 1), (20, 0)) if prepared else ((5, 0), (20, 0))
    assert run(admin, f"SELECT * FROM `{target_db}`.`t` ORDER BY id") == expected


def test_a_target_with_local_infile_off_gets_inserts(stack_config, target_db, admin):
    """MySQL 8.0 ships with local_infile = OFF: the writer sees it once and inserts instead."""
    (was,), = run(admin, "SELECT @@GLOBAL.local_infile")
    run(admin, f"CREATE TABLE `{target_db}`.`t` (id INT PRIMARY KEY, v VARCHAR(20))")
    schema = TableSchema(target_db, "t", ("id", "v"), ("int", "varchar"), pk=(0,))
    run(admin, "SET GLOBAL local_infile = 0")
    try:
        c = pymysql.connect(**stack_config.target.pymysql_kwargs(), local_infile=True)
        prepare_session(c)
        w = BatchWriter(c, TargetTables(lambda: admin), load_rows=1)
        stats = w.write(merged(*[ch(schema, Op.INSERT, (i, "v")) for i in range(3)]))
        c.close()
    finally:
        run(admin, f"SET GLOBAL local_infile = {int(was)}")
    assert (stats.loaded, w.load_rows, stats.table(f"{target_db}.t").upserted) == (0, 0, 3)
    assert run(admin, f"SELECT COUNT(*) FROM `{target_db}`.`t`") == ((3,),)


def test_local_infile_turned_off_while_writing_gets_inserts_from_then_on(stack_config, target_db, admin):
    """The server refuses the load itself (MariaDB 10.11: error 4166): the rows are inserted in the same
    transaction, and the writer stops loading."""
    (was,), = run(admin, "SELECT @@GLOBAL.local_infile")
    run(admin, f"CREATE TABLE `{target_db}`.`t` (id INT PRIMARY KEY, v VARCHAR(20))")
    schema = TableSchema(target_db, "t", ("id", "v"), ("int", "varchar"), pk=(0,))
    c = pymysql.connect(**stack_config.target.pymysql_kwargs(), local_infile=True)
    prepare_session(c)
    w = BatchWriter(c, TargetTables(lambda: admin), load_rows=1)
    assert w.write(merged(ch(schema, Op.INSERT, (1, "a")))).loaded == 1
    run(admin, "SET GLOBAL local_infile = 0")
    try:
        stats = w.write(merged(ch(schema, Op.INSERT, (2, "b")), ch(schema, Op.INSERT, (3, "c"))))
    finally:
        run(admin, f"SET GLOBAL local_infile = {int(was)}")
        c.close()
    assert (stats.loaded, stats.load_fallbacks, w.load_rows) == (0, 1, 0)
    assert run(admin, f"SELECT * FROM `{target_db}`.`t` ORDER BY id") == ((1, "a"), (2, "b"), (3, "c"))


def test_a_connection_without_local_infile_never_loads(stack_config, target_db, admin):
    c = pymysql.connect(**stack_config.target.pymysql_kwargs())
    w = BatchWriter(c, TargetTables(lambda: admin), load_rows=1)
    assert w.load_rows == 0 and not hasattr(c, "_t2m_infile")
    c.close()
