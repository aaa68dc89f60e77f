"""The verify's SQL: canonical rendering, range SQL, and the TiDB-only snapshot statements.

The TiDB statements cannot run on the test stack (no TiDB), so they are pinned here against a
recording connection; the stand-in's are exercised for real in tests/integration/test_verify*.py.
"""

from __future__ import annotations

import pytest

from tidb2mysql.replication.route import MAX_SEQ
from tidb2mysql.verify import render
from tidb2mysql.verify.engine import RateLimiter, row_equal
from tidb2mysql.verify.snapshot import StandInSnapshots, TiDBSnapshots, VerifyError, applied_range


class FakeCursor:
    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, args=None):
        self.conn.log.append(sql)
        self.conn.last = sql

    def _result(self):
        for prefix, rows in self.conn.results.items():
            if self.conn.last.startswith(prefix):
                return rows
        return []

    def fetchone(self):
        rows = self._result()
        return rows[0] if rows else None

    def fetchall(self):
        return self._result()


class FakeConn:
    def __init__(self, results=None):
        self.log: list = []
        self.last = ""
        self.results = results or {}

    def cursor(self):
        return FakeCursor(self)


CHECKPOINTS = "SELECT commit_ts, seq FROM `tidb2mysql`.`checkpoint`"


# -- rendering ------------------------------------------------------------------------------

@pytest.mark.parametrize("data_type, expr", [
    ("varchar", "IFNULL(HEX(CONVERT(`c` USING utf8mb4)),'N')"),  # bytes: case, trailing spaces count
    ("json", "IFNULL(HEX(CONVERT(`c` USING utf8mb4)),'N')"),
    ("set", "IFNULL(HEX(CONVERT(`c` USING utf8mb4)),'N')"),  # a SET's text has commas: hex it
    ("varbinary", "IFNULL(HEX(`c`),'N')"),
    ("float", "IFNULL((`c` + 0E0),'N')"),  # the exact float32 value, not 6 digits
    ("bit", "IFNULL((`c` + 0),'N')"),
    ("double", "IFNULL(`c`,'N')"),
    ("timestamp", "IFNULL(`c`,'N')"),  # rendered in the session zone, which SESSION_SETUP fixes
    ("decimal", "IFNULL(`c`,'N')"),
])
def test_column_rendering(data_type, expr):
    assert render.column_expr("c", data_type) == expr


def test_session_renders_timestamps_in_utc():
    assert "time_zone = '+00:00'" in render.SESSION_SETUP


def test_checksum_sql_over_a_composite_range():
    sql = render.checksum_sql("d", "t", ["a", "b", "v"], ["int", "varchar", "float"], ["a", "b"], ["1", "'x'"], ["5", "'y'"])
    assert sql.startswith("SELECT COUNT(*), SUM(h), BIT_XOR(h) FROM (SELECT CRC32(CONCAT_WS(',',")
    assert "MD5(CONCAT_WS" in render.row_hash(["a"], ["int"], "md5")
    assert "FROM `d`.`t` WHERE (`a` > 1 OR (`a` = 1 AND `b` >= 'x')) AND (`a` < 5 OR (`a` = 5 AND `b` < 'y'))" in sql
    assert render.checksum_sql("d", "t", ["a"], ["int"], [], None, None).endswith("FROM `d`.`t`) verify_rows")


def test_rows_by_keys_single_and_composite():
    assert render.rows_by_keys_sql("d", "t", ["id", "f"], ["int", "float"], ["id"], [["1"], ["2"]]) == \
        "SELECT `id`,(`f` + 0E0) FROM `d`.`t` WHERE `id` IN (1,2)"
    sql = render.rows_by_keys_sql("d", "t", ["a", "b"], ["int", "int"], ["a", "b"], [["1", "2"], ["3", "4"]], lock=True)
    assert sql.endswith("WHERE (`a` = 1 AND `b` = 2) OR (`a` = 3 AND `b` = 4) FOR UPDATE")


def test_keyless_row_match_is_null_safe_exact_and_byte_wise():
    m = render.row_match(["a", "f", "s"], ["NULL", "0.10000000149011612", "'x'"], ["int", "float", "varchar"])
    assert m == ("`a` IS NULL AND (`f` + 0E0) = 0.10000000149011612 AND CAST(CONVERT(`s` USING utf8mb4) AS BINARY)"
                 " = CAST(CONVERT('x' USING utf8mb4) AS BINARY)")


def test_row_equality_is_exact_but_json_by_value():
    from decimal import Decimal

    assert not row_equal((Decimal("1.0"),), (Decimal("1.00"),), ["decimal"])
    assert not row_equal(("a",), ("a ",), ["varchar"])
    assert not row_equal((None,), ("",), ["varchar"])
    assert not row_equal((0.1,), (0.10000000000000002,), ["double"])
    assert row_equal(('{"a": 1, "b": [1, 2]}',), ('{"b":[1,2],"a":1}',), ["json"])
    assert not row_equal(('{"a": 1}',), ('{"a": 2}',), ["json"])
    assert row_equal(None, None, []) and not row_equal(None, (1,), ["int"])


# -- snapshots: TiDB (SQL only) -------------------------------------------------------------

def test_applied_range_counts_a_partly_applied_transaction_as_not_applied():
    tgt = FakeConn({CHECKPOINTS: [(100, MAX_SEQ), (120, 4), (90, -1)]})
    # shard 2 acknowledged a DDL barrier at 90 (everything before 90 applied), shard 1 is inside 120
    assert applied_range(tgt, "tidb2mysql", "j") == (89, 120)
    assert applied_range(FakeConn({CHECKPOINTS: []}), "tidb2mysql", "j") is None


def test_tidb_before_reads_history_at_the_targets_applied_position():
    src, tgt = FakeConn(), FakeConn({CHECKPOINTS: [(449572927891341313, MAX_SEQ), (449572927891341400, MAX_SEQ)]})
    snaps = TiDBSnapshots("tidb2mysql", "j")
    assert snaps.before(src, tgt) == 449572927891341313
    assert src.log == ["SET @@tidb_snapshot = '449572927891341313'"]
    snaps.close(src)
    assert src.log[-1] == "SET @@tidb_snapshot = ''"


def test_tidb_after_reads_at_the_newest_applied_commit_ts():
    # not @@tidb_current_ts: an idle TiDB sends no binlog, so the flow would never get there
    src = FakeConn({"SELECT @@tidb_current_ts": [(449572927891349999,)]})
    tgt = FakeConn({CHECKPOINTS: [(449572927891341313, MAX_SEQ), (449572927891341400, 3)]})
    assert TiDBSnapshots("tidb2mysql", "j").after(src, tgt) == 449572927891341400
    assert src.log == ["SET @@tidb_snapshot = '449572927891341400'"]
    # without replication: the current TSO
    assert TiDBSnapshots("tidb2mysql", "j").after(src, FakeConn({CHECKPOINTS: []})) == 449572927891349999
    assert src.log[1:] == ["SET @@tidb_snapshot = ''", "BEGIN", "SELECT @@tidb_current_ts", "COMMIT",
                           "SET @@tidb_snapshot = '449572927891349999'"]


def test_tidb_without_replication_reads_the_current_snapshot():
    src = FakeConn({"SELECT @@tidb_current_ts": [(5,)]})
    assert TiDBSnapshots("tidb2mysql", "j").before(src, FakeConn({CHECKPOINTS: []})) == 5


def test_tidb_that_is_not_tidb_says_so():
    with pytest.raises(VerifyError, match="is the source really TiDB"):
        TiDBSnapshots("tidb2mysql", "j").after(FakeConn(), FakeConn({CHECKPOINTS: []}))


# -- snapshots: the stand-in's wait ---------------------------------------------------------

def test_stand_in_waits_for_the_target_and_names_the_job_when_it_never_catches_up():
    src = FakeConn({"SELECT commit_ts FROM `_tidb2mysql_sim`.`tso`": [(500,)]})
    tgt = FakeConn({CHECKPOINTS: [(400, MAX_SEQ)]})
    snaps = StandInSnapshots("_tidb2mysql_sim.tso", "topic", "tidb2mysql", "jobx", wait_timeout=0.2)
    with pytest.raises(VerifyError, match=r"table d.t chunk 3: the target has applied commit_ts 400 of job 'jobx'"):
        snaps.before(src, tgt, "table d.t chunk 3")
    assert src.log[:2] == ["ROLLBACK", "START TRANSACTION WITH CONSISTENT SNAPSHOT"]
    tgt.results[CHECKPOINTS] = [(500, MAX_SEQ)]
    assert snaps.before(src, tgt) == 500


def test_rate_limiter_spreads_rows_over_time():
    import time

    lim = RateLimiter(10_000)
    t0 = time.monotonic()
    for _ in range(5):
        lim.consume(1_000)  # 5,000 rows at 10,000/s: the 2nd..5th wait 0.1 s each
    assert 0.35 <= time.monotonic() - t0 < 1.0
