"""The full load's LOAD DATA path against the real servers: every type family's edge values,
keys parsed back from the page text, resumed chunks (REPLACE), a lost COMMIT reply.

Pages are rendered by the source (``tidb2mysql/fullload/tsv.py``: one GROUP_CONCAT value per
page) and sent with ``LOAD DATA LOCAL INFILE`` from memory (``page_writer.py``). Equality is
``compare_databases`` (every value, byte-exact strings, FLOAT/DOUBLE bit-exact).
"""

from __future__ import annotations

import uuid

import pymysql
import pytest

from tests.integration.test_full_load import (  # noqa: F401 - fixtures
    assert_equal, copy_structure, full_load_cmd, job, mirror_db, write_config)
from tests.support import flowrun, stack
from tidb2mysql import failpoints
from tidb2mysql.fullload.chunking import Chunk, describe_table
from tidb2mysql.fullload.jobstore import ChunkState, JobStore
from tidb2mysql.fullload.page_writer import PageWriter
from tidb2mysql.fullload.reader import LaneReader, Page

pytestmark = pytest.mark.integration

ALL_BYTES = "X'" + bytes(range(256)).hex() + "'"

# (table, DDL body, INSERT values) - edge values of every type family, NULL beside ''.
EDGE_TABLES = [
    ("e_int", "(id BIGINT UNSIGNED PRIMARY KEY, t TINYINT, s SMALLINT UNSIGNED, m MEDIUMINT, i INT, b BIGINT)",
     "(0, -128, 0, -8388608, -2147483648, -9223372036854775808), "
     "(18446744073709551615, 127, 65535, 8388607, 2147483647, 9223372036854775807), (5, NULL, NULL, NULL, NULL, NULL)"),
    ("e_float", "(id INT PRIMARY KEY, f FLOAT, d DOUBLE, fu FLOAT UNSIGNED)",
     "(1, 3.4028234663852886e38, 1.7976931348623157e308, 0), (2, -1.1754943508222875e-38, 4.9e-324, 1.401298464324817e-45), "
     "(3, 0.1, 0.1, 0.30000001192092896), (4, 1.0000001, 2.2250738585072014e-308, 16777217), "
     "(5, NULL, NULL, NULL), (6, -123456.7890625, -1e-300, 3.4e38), (7, 1e-45, 123456789012345680, 7.006492321624085e-45)"),
    ("e_decimal", "(id INT PRIMARY KEY, a DECIMAL(65,30), b DECIMAL(65,0), c DECIMAL(5,5) NULL)",
     "(1, 99999999999999999999999999999999999.999999999999999999999999999999, "
     "99999999999999999999999999999999999999999999999999999999999999999, 0.99999), "
     "(2, -99999999999999999999999999999999999.999999999999999999999999999999, "
     "-99999999999999999999999999999999999999999999999999999999999999999, -0.00001), "
     "(3, 0.000000000000000000000000000001, 0, NULL), (4, 0, -1, 0)"),
    ("e_time", "(id INT PRIMARY KEY, d DATE, dt DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), y YEAR, dt0 DATETIME)",
     "(1, '0000-00-00', '0000-00-00 00:00:00', '1970-01-01 00:00:01', '-838:59:59', 0, '2020-00-00 00:00:00'), "
     "(2, '2020-00-00', '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.999999', '838:59:59', 1901, NULL), "
     "(3, '9999-12-31', '1000-01-01 00:00:00.000001', NULL, '-00:00:00.000001', 2155, '2020-02-00 10:00:00'), "
     "(4, NULL, NULL, '2001-02-03 04:05:06.123456', '-25:00:00.5', NULL, '0000-01-01 00:00:00'), "
     "(5, '1000-01-01', '2024-02-29 12:00:00', '2024-02-29 12:00:00', '100:00:00', 2000, '2024-02-29 12:00:00')"),
    ("e_str", "(id INT PRIMARY KEY, v VARCHAR(100), t TEXT, c CHAR(5), l VARCHAR(20) CHARACTER SET latin1, "
              "e ENUM('a','b c','\\t\\\\'), s SET('x','y','z'), j JSON) DEFAULT CHARSET=utf8mb4",
     "(1, NULL, '', NULL, NULL, NULL, NULL, NULL), (2, '', NULL, '', '', 'a', '', '{}'), "
     "(3, '\\\\N', 'NULL', '\\\\', 'ñ€', 'b c', 'x,y,z', '{\"k\": \"\\\\t\\\\n\\\\\\\\ \\\\\"q\\\\\" ü😀\"}'), "
     "(4, 'tab\\there', 'line1\\nline2\\r\\n', 'a\\tb', 'tab\\t', '\\t\\\\', 'y', '[1, 2.50, null, \"x\"]'), "
     "(5, 'back\\\\slash\\\\', CONCAT('nul', CHAR(0), 'x'), 'a  ', 'sp  ', 'a', 'x,z', 'null'), "
     "(6, '😀 ü é \\'q\\' \"d\"', REPEAT('long\\t\\n\\\\é', 10000), '😀', '\\\\N', NULL, '', '\"\\\\\\\\N\"')"),
    ("e_bin", "(id INT PRIMARY KEY, b BINARY(4), vb VARBINARY(300), bl BLOB, lb LONGBLOB)",
     f"(1, X'00000000', {ALL_BYTES}, {ALL_BYTES}, REPEAT({ALL_BYTES}, 300)), "
     "(2, X'5C4E0000', X'5C4E', X'C309C30AC35C', X'F0'), (3, NULL, '', '', NULL), (4, X'09', X'0A', X'5C', X'00'), "
     "(5, X'E2', X'E209', X'F09F98', X'C3')"),
    ("e_bit", "(id INT PRIMARY KEY, b1 BIT(1), b7 BIT(7), b64 BIT(64))",
     "(1, 0, 0, 0), (2, 1, 127, 18446744073709551615), (3, NULL, 9, 10), (4, 1, 92, 9223372036854775808), "
     "(5, 0, 10, NULL)"),
    # keys of every kind, read back from the page text (page_rows = 2 below)
    ("k_comp", "(s VARCHAR(20) COLLATE utf8mb4_bin NOT NULL, n INT NOT NULL, v INT, PRIMARY KEY (s, n))",
     "('', 1, 1), ('\\t', 1, 2), ('\\n', 1, 3), ('\\\\', 1, 4), ('\\\\N', 1, 5), ('a\\'b', -1, 6), "
     "('a\\'b', 2, 7), ('😀', 1, 8), ('ü', 3, 9), ('z\\tz', 1, 10), ('z\\tz', 2, 11)"),
    ("k_bin", "(k VARBINARY(8) PRIMARY KEY, v INT)",
     "(X'', 0), (X'00', 1), (X'09', 2), (X'0A', 3), (X'5C', 4), (X'5C4E', 5), (X'FF', 6), (X'FF00', 7)"),
    ("k_dt", "(k DATETIME(6) PRIMARY KEY, v INT)",
     "('0000-00-00 00:00:00', 0), ('2020-00-00 00:00:00', 1), ('1000-01-01 00:00:00.000001', 2), "
     "('2024-02-29 12:00:00.5', 3), ('9999-12-31 23:59:59.999999', 4)"),
    ("k_dec", "(k DECIMAL(65,30) PRIMARY KEY, v INT)",
     "(-99999999999999999999999999999999999.999999999999999999999999999999, 0), "
     "(-0.000000000000000000000000000001, 1), (0, 2), (0.5, 3), (1.000000000000000000000000000001, 4)"),
    ("k_time", "(k TIME(6) NOT NULL, v INT, UNIQUE KEY (k))",
     "('-838:59:59', 0), ('-25:00:00', 1), ('-00:00:00.000001', 2), ('00:00:00', 3), ('838:59:59', 4)"),
    ("k_float", "(k DOUBLE PRIMARY KEY, v INT)",
     "(-1.7976931348623157e308, 0), (-4.9e-324, 1), (0, 2), (0.1, 3), (0.30000000000000004, 4), (1e308, 5)"),
    ("nokey", "(a INT, b VARCHAR(10), c DOUBLE)",
     "(1, 'x', 0.1), (1, 'x', 0.1), (NULL, NULL, NULL), (NULL, '', NULL), (2, '\\t', 1e-300)"),
]


def make_edge_tables(conn) -> None:
    with conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', SESSION time_zone = '+00:00'")
        for name, body, values in EDGE_TABLES:
            cur.execute(f"CREATE TABLE `{name}` {body}")
            cur.execute(f"INSERT INTO `{name}` VALUES {values}")


def com_load(stack_config) -> int:
    with stack.connect(stack_config.target) as c, c.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Com_load'")
        return int(cur.fetchone()[1])


@pytest.mark.parametrize("method", ["load_data", "insert"])
def test_every_type_family_is_exact(stack_config, source_conn, source_db, mirror_db, job, tmp_path, method):
    make_edge_tables(source_conn)
    with stack.connect(stack_config.target) as tgt:
        copy_structure(source_conn, source_db, tgt, source_db)
    loads = com_load(stack_config)
    cfg = write_config(tmp_path, job, page_rows=2, chunk_rows=4, method=method)
    log = tmp_path / "a.log"
    assert flowrun.run(full_load_cmd(cfg, source_db, workers=2), log, timeout=180) == 0, flowrun.tail(log)
    result = assert_equal(stack_config, source_db)
    assert len(result.tables) == len(EDGE_TABLES)
    if method == "load_data":
        assert com_load(stack_config) - loads >= 40  # every non-empty page was a LOAD DATA
    # FLOAT bit-exact: the target's float32 values equal the source's (compare checks them too)
    with stack.connect(stack_config.target, source_db) as tgt, tgt.cursor() as cur:
        cur.execute("SELECT HEX(vb), LENGTH(lb) FROM e_bin WHERE id = 1")
        assert cur.fetchone() == (bytes(range(256)).hex().upper(), 256 * 300)
        cur.execute("SELECT id FROM e_str WHERE v IS NULL")
        assert cur.fetchall() == ((1,),)
        cur.execute("SELECT COUNT(*) FROM e_str WHERE v = ''")
        assert cur.fetchone() == (1,)


# -- component level: reader + writer on the real servers -----------------------------------


class _NoSnapshot:
    needs_global_lock = False


@pytest.fixture
def store(stack_config):
    s = JobStore("tidb2mysql", f"ld_{uuid.uuid4().hex[:8]}")
    with stack.connect(stack_config.target) as c:
        s.ensure(c)
    yield s
    with stack.connect(stack_config.target) as c:
        s.delete(c)


def _setup_chunk(stack_config, source_conn, source_db, store, rows=50):
    with source_conn.cursor() as cur:
        cur.execute("CREATE TABLE p (id INT PRIMARY KEY, v VARCHAR(20), b VARBINARY(4))")
        cur.execute(f"INSERT INTO p SELECT seq, CONCAT('v\\t', seq), UNHEX(HEX(seq)) FROM seq_1_to_{rows}")
    with stack.connect(stack_config.target) as tgt:
        copy_structure(source_conn, source_db, tgt, source_db)
        with tgt.cursor() as cur:
            cur.execute("INSERT INTO tidb2mysql.full_load_chunks (job, chunk, tbl, lane, schema_name, table_name)"
                        " VALUES (%s, 0, 0, 0, %s, 'p')", (store.job, source_db))
    return describe_table(source_conn, source_db, "p")


def _reader(stack_config, tp, store, cs: ChunkState, page_rows=10, prefetch=True):
    src = stack.connect(stack_config.source)
    with src.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
    tgt = stack.connect(stack_config.target)
    r = LaneReader(0, 2 if cs.rows_done else 1, [tp], [cs], store, _NoSnapshot(), src, tgt, page_rows,
                   text=True, prefetch=prefetch)
    r.opened = True
    with src.cursor() as cur:  # what try_open does for the text path
        cur.execute("SET SESSION group_concat_max_len = 1000000")
    return r, src, tgt


def _writer(stack_config, tp, store):
    return PageWriter([tp], store, lambda: pymysql.connect(**stack_config.target.pymysql_kwargs(),
                                                           local_infile=True))


def _target_rows(stack_config, db):
    with stack.connect(stack_config.target, db) as c, c.cursor() as cur:
        cur.execute("SELECT id, v, HEX(b) FROM p ORDER BY id")
        return cur.fetchall()


def _source_rows(source_conn):
    with source_conn.cursor() as cur:
        cur.execute("SELECT id, v, HEX(b) FROM p ORDER BY id")
        return cur.fetchall()


def _chunk_row(stack_config, store):
    with stack.connect(stack_config.target) as c, c.cursor() as cur:
        cur.execute("SELECT rows_done, after_key, done FROM tidb2mysql.full_load_chunks WHERE job = %s", (store.job,))
        return cur.fetchone()


def _run(reader, writer, pages=None):
    n = 0
    while not reader.finished and (pages is None or n < pages):
        writer.write(reader.next_page())
        n += 1


def test_resumed_chunk_is_loaded_with_replace(stack_config, source_conn, source_db, mirror_db, store, caplog):
    """A chunk that may hold rows of an earlier attempt is loaded with REPLACE: rows that are
    already there (also ones the earlier attempt left beyond the recorded position, or that
    differ) end up exactly as in the source, no duplicate-key warning stops the load."""
    tp = _setup_chunk(stack_config, source_conn, source_db, store)
    chunk = Chunk(0, 0, None, None, 50, 0)
    r, src, tgt = _reader(stack_config, tp, store, ChunkState(chunk, 0, None, False))
    w = _writer(stack_config, tp, store)
    try:
        _run(r, w, pages=3)  # fresh chunk: plain LOAD DATA, 30 rows
        assert _chunk_row(stack_config, store)[:2] == (30, '["30"]')
    finally:
        r.close()
        src.close()
        tgt.close()
    assert len(_target_rows(stack_config, source_db)) == 30
    # an earlier attempt left rows the progress row does not cover, one of them different
    with stack.connect(stack_config.target, source_db) as c, c.cursor() as cur:
        cur.execute("UPDATE p SET v = 'stale' WHERE id IN (12, 25)")
        cur.execute("UPDATE tidb2mysql.full_load_chunks SET rows_done = 10, after_key = '[\"10\"]' WHERE job = %s",
                    (store.job,))
    r, src, tgt = _reader(stack_config, tp, store, ChunkState(chunk, 10, ["10"], False))
    assert r.resumed == {0}
    try:
        pages = []
        while not r.finished:
            p = r.next_page()
            pages.append(p)
            w.write(p)
    finally:
        r.close()
        src.close()
        tgt.close()
        w.close()
    assert all(p.upsert for p in pages) and pages[-1].last
    assert w.replaced_pages == 0  # resumed pages are REPLACE from the start: no duplicate warnings
    assert _target_rows(stack_config, source_db) == _source_rows(source_conn)
    assert _chunk_row(stack_config, store) == (50, '["50"]', 1)


def test_fresh_page_meeting_existing_rows_is_reloaded_with_replace(stack_config, source_conn, source_db, mirror_db,
                                                                   store, caplog):
    """A target table that was not empty (docs: rows are upserted): a plain LOAD that meets
    existing keys gets duplicate-key warnings (LOCAL = IGNORE), is rolled back and loaded again
    with REPLACE; the result is exactly the source's rows."""
    tp = _setup_chunk(stack_config, source_conn, source_db, store, rows=30)
    with stack.connect(stack_config.target, source_db) as c, c.cursor() as cur:
        cur.execute("INSERT INTO p VALUES (15, 'old', X'00'), (99, 'not in source', NULL)")
    r, src, tgt = _reader(stack_config, tp, store, ChunkState(Chunk(0, 0, None, None, 30, 0), 0, None, False))
    w = _writer(stack_config, tp, store)
    try:
        _run(r, w)
    finally:
        r.close()
        src.close()
        tgt.close()
        w.close()
    assert w.replaced_pages == 1
    assert "met existing keys; loading it again with REPLACE" in caplog.text
    assert _target_rows(stack_config, source_db) == _source_rows(source_conn) + ((99, "not in source", None),)


def test_a_bad_value_stops_the_page_naming_the_row(stack_config, source_conn, source_db, mirror_db, store):
    """LOCAL turns conversion errors into warnings; the writer makes them errors (nothing committed)."""
    tp = _setup_chunk(stack_config, source_conn, source_db, store, rows=20)
    with stack.connect(stack_config.target, source_db) as c, c.cursor() as cur:
        cur.execute("ALTER TABLE p MODIFY v VARCHAR(2)")
    r, src, tgt = _reader(stack_config, tp, store, ChunkState(Chunk(0, 0, None, None, 20, 0), 0, None, False))
    w = _writer(stack_config, tp, store)
    try:
        with pytest.raises(Exception) as e:
            _run(r, w)
    finally:
        r.close()
        src.close()
        tgt.close()
        w.close()
    assert "chunk 0: writing 10 rows failed (first row key (1,)): (1265) Data truncated for column 'v' at row 1" \
        in str(e.value)
    assert _target_rows(stack_config, source_db) == ()


@pytest.fixture
def disarm():
    yield
    failpoints.configure("")


def test_lost_commit_reply_of_load_pages_never_duplicates(stack_config, target_db, store, tmp_path, disarm):
    """``page.commit=drop``: every COMMIT takes effect and then the connection is cut. The
    writer reads the chunk row back and does not LOAD the page again (key-less: it would
    duplicate rows; keyed: a plain LOAD would meet its own rows)."""
    from tidb2mysql.fullload.chunking import TablePlan
    with stack.connect(stack_config.target) as c, c.cursor() as cur:
        cur.execute(f"CREATE TABLE `{target_db}`.`k` (a VARCHAR(10), b INT)")
        cur.execute(f"CREATE TABLE `{target_db}`.`p` (id INT PRIMARY KEY, b INT)")
        for chunk, t in ((0, "k"), (1, "p")):
            cur.execute("INSERT INTO tidb2mysql.full_load_chunks (job, chunk, tbl, lane, schema_name, table_name)"
                        " VALUES (%s,%s,%s,0,%s,%s)", (store.job, chunk, chunk, target_db, t))
    tables = [TablePlan(target_db, "k", ["a", "b"], ["varchar", "int"], [], "none"),
              TablePlan(target_db, "p", ["id", "b"], ["int", "int"], ["id"], "primary")]
    w = PageWriter(tables, store, lambda: pymysql.connect(**stack_config.target.pymysql_kwargs(), local_infile=True))
    failpoints.configure("page.commit=drop", str(tmp_path))
    try:
        w.write(Page(0, 0, [], 2, None, False, reset=True, data=b"x\t1\nx\t1\n", count=2))
        w.write(Page(0, 0, [], 3, None, False, data=b"x \t1\n", count=1))
        w.write(Page(0, 0, [], 4, None, True, data=b"X\t\\N\n", count=1))
        w.write(Page(1, 1, [], 2, ["2"], False, data=b"1\t1\n2\t2\n", count=2))
        w.write(Page(1, 1, [], 3, ["3"], True, data=b"3\t3\n", count=1))
    finally:
        w.close()
    assert len(list(tmp_path.iterdir())) == 5  # every COMMIT lost its reply once
    assert w.replaced_pages == 0
    with stack.connect(stack_config.target, target_db) as c, c.cursor() as cur:
        cur.execute("SELECT HEX(a), b FROM k")
        assert sorted(cur.fetchall(), key=repr) == sorted([("78", 1), ("78", 1), ("7820", 1), ("58", None)], key=repr)
        cur.execute("SELECT id, b FROM p ORDER BY id")
        assert cur.fetchall() == ((1, 1), (2, 2), (3, 3))
        cur.execute("SELECT chunk, rows_done, done FROM tidb2mysql.full_load_chunks WHERE job=%s ORDER BY chunk",
                    (store.job,))
        assert cur.fetchall() == ((0, 4, 1), (1, 3, 1))
