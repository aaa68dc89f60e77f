"""The snapshot seam's SQL, driven with a recording fake connection (pure)."""

from __future__ import annotations

import pytest

from tidb2mysql.fullload.snapshot import GC_NOTE, GCHold, MariaDBSnapshot, SnapshotError, TiDBSnapshot, make_snapshot


def fake_conn(results=None, errors=None):
    """Answers a statement with the row of the first ``results`` prefix it starts with;
    ``errors``: statement -> exception to raise."""
    from tests.support import fake_db

    def answer(sql, args):
        err = (errors or {}).get(sql)
        if err is not None:
            raise err
        return next(([row] for prefix, row in (results or {}).items() if sql.startswith(prefix)), [])

    return fake_db.FakeConn(answer)


def test_tidb_records_start_ts_of_a_transaction():
    conn = fake_conn({"SELECT @@tidb_current_ts": (449572927891341313,), "SELECT @@tidb_gc_life_time": ("10m0s",)})
    assert TiDBSnapshot().record_ts(conn) == 449572927891341313
    assert conn.log == ["BEGIN", "SELECT @@tidb_current_ts", "COMMIT"]  # GC: GCHold (below), not a warning


class FakeStore:
    def __init__(self):
        self.notes = {}

    def note(self, conn, name):
        return self.notes.get(name)

    def set_note(self, conn, name, value):
        if value is None:
            self.notes.pop(name, None)
        else:
            self.notes[name] = value


def test_gc_hold_raises_a_short_life_time_and_restores_it():
    src, store = fake_conn({"SELECT @@global.tidb_gc_life_time": ("10m0s",)}), FakeStore()
    hold = GCHold("72h", store)
    assert "raised from 10m0s to 72h" in hold.acquire(src, None)
    assert src.log[-1] == "SET GLOBAL tidb_gc_life_time = '72h'" and hold.raised
    assert store.notes == {GC_NOTE: "10m0s"}  # written before raising: a crash leaves the original behind
    assert hold.release(src, None) == "tidb_gc_life_time restored to 10m0s"
    assert src.log[-1] == "SET GLOBAL tidb_gc_life_time = '10m0s'" and store.notes == {}


def test_gc_hold_leaves_a_long_life_time_alone():
    src, store = fake_conn({"SELECT @@global.tidb_gc_life_time": ("100h",)}), FakeStore()
    assert "left as it is" in GCHold("72h", store).acquire(src, None)
    assert not any(str(x).startswith("SET GLOBAL") for x in src.log)
    assert GCHold("72h", store).release(src, None) is None


def test_gc_hold_after_a_crashed_run_restores_the_value_found_before_that_run():
    # the crashed run raised it to 72h and recorded 10m0s: the new run must not take 72h as the original
    src, store = fake_conn({"SELECT @@global.tidb_gc_life_time": ("72h",)}), FakeStore()
    store.notes[GC_NOTE] = "10m0s"
    hold = GCHold("72h", store)
    assert "raised from 10m0s to 72h" in hold.acquire(src, None)
    hold.release(src, None)
    assert src.log[-1] == "SET GLOBAL tidb_gc_life_time = '10m0s'"


def test_gc_hold_without_privilege_warns_with_the_fix_and_records_nothing():
    err = Exception(1227, "Access denied; you need (at least one of) the SUPER or SYSTEM_VARIABLES_ADMIN privilege(s)")
    src = fake_conn({"SELECT @@global.tidb_gc_life_time": ("10m0s",)}, {"SET GLOBAL tidb_gc_life_time = '72h'": err})
    store = FakeStore()
    msg = GCHold("72h", store).acquire(src, None)
    assert "could not raise tidb_gc_life_time (10m0s)" in msg and "SYSTEM_VARIABLES_ADMIN" in msg
    assert store.notes == {}


def test_gc_hold_disabled():
    src = fake_conn()
    assert GCHold("", FakeStore()).acquire(src, None) is None and src.log == []


def test_tidb_reader_sets_tidb_snapshot():
    conn = fake_conn()
    TiDBSnapshot().open_reader(conn, 449572927891341313)
    TiDBSnapshot().reopen_reader(conn, 449572927891341313)
    assert conn.log == ["SET @@tidb_snapshot = '449572927891341313'"] * 2


def test_tidb_without_ts_is_an_error():
    with pytest.raises(SnapshotError, match="no @@tidb_current_ts"):
        TiDBSnapshot().record_ts(fake_conn({"SELECT @@tidb_current_ts": (None,)}))


def test_tidb_gc_warning(caplog):
    TiDBSnapshot().warn_gc(fake_conn({"SELECT @@tidb_gc_life_time": ("10m0s",)}))
    assert "tidb_gc_life_time (now 10m0s) must exceed" in caplog.text


def test_mariadb_lock_and_tso_sql():
    s = MariaDBSnapshot("_tidb2mysql_sim.tso", "topic1")
    conn = fake_conn({"SELECT commit_ts": (77,)})
    s.lock(conn)
    assert s.record_ts(conn) == 77
    s.unlock(conn)
    assert conn.log == [
        "SET SESSION lock_wait_timeout = 30",
        "FLUSH TABLES WITH READ LOCK",
        ("SELECT commit_ts FROM `_tidb2mysql_sim`.`tso` WHERE topic = %s", ("topic1",)),
        "UNLOCK TABLES",
    ]


def test_mariadb_reader_opens_consistent_snapshot_and_checks_tso():
    s = MariaDBSnapshot("_tidb2mysql_sim.tso", "t")
    conn = fake_conn({"SELECT commit_ts": (77,)})
    s.open_reader(conn, 77)
    assert conn.log[0] == "START TRANSACTION WITH CONSISTENT SNAPSHOT"
    with pytest.raises(SnapshotError, match="sees commit_ts 77 .* snapshot is 76"):
        s.open_reader(fake_conn({"SELECT commit_ts": (77,)}), 76)


def test_mariadb_resume_after_source_changed_says_restart():
    s = MariaDBSnapshot("_tidb2mysql_sim.tso", "t")
    with pytest.raises(SnapshotError, match="cannot resume the full load.*recorded TSO 5.*restart"):
        s.reopen_reader(fake_conn({"SELECT commit_ts": (6,)}), 5)


def test_mariadb_without_tso_table_is_ts_zero():
    import pymysql

    sql = "SELECT commit_ts FROM `_tidb2mysql_sim`.`tso` WHERE topic = %s"
    conn = fake_conn(errors={sql: pymysql.err.ProgrammingError(1146, "Table doesn't exist")})
    assert MariaDBSnapshot("_tidb2mysql_sim.tso", "t").record_ts(conn) == 0


def test_make_snapshot():
    assert isinstance(make_snapshot("tidb", "a.b", "t"), TiDBSnapshot)
    assert isinstance(make_snapshot("mariadb", "a.b", "t"), MariaDBSnapshot)
    with pytest.raises(ValueError):
        make_snapshot("oracle", "a.b", "t")


def test_mariadb_lock_wait_timeout_is_a_clear_error():
    import pymysql

    conn = fake_conn(errors={"FLUSH TABLES WITH READ LOCK": pymysql.err.OperationalError(1205, "Lock wait timeout")})
    with pytest.raises(SnapshotError, match="within 7s: a long-running query"):
        MariaDBSnapshot("a.b", "t", lock_wait_seconds=7).lock(conn)
    assert conn.log[0] == "SET SESSION lock_wait_timeout = 7"
