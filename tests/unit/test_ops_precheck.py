"""Pure parts of the precheck: time zone offsets, SHOW GRANTS parsing, Go durations, rendering."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tidb2mysql.ops.precheck import FAIL, PASS, WARN, Check, grants_cover, parse_go_duration, render, utc_offset

WINTER = datetime(2026, 1, 15, tzinfo=timezone.utc)
SUMMER = datetime(2026, 7, 15, tzinfo=timezone.utc)


def test_utc_offset_of_mysql_time_zone_values():
    assert utc_offset("+08:00") == timedelta(hours=8)
    assert utc_offset("-03:30") == -timedelta(hours=3, minutes=30)
    assert utc_offset("Asia/Shanghai", at=WINTER) == timedelta(hours=8)
    assert utc_offset("SYSTEM", "UTC") == timedelta(0)
    assert utc_offset("SYSTEM", "utc") == timedelta(0)
    assert utc_offset("Europe/Berlin", at=WINTER) == timedelta(hours=1)
    assert utc_offset("Europe/Berlin", at=SUMMER) == timedelta(hours=2)
    assert utc_offset("SYSTEM", "Not/AZone") is None


def test_grants_cover_global_database_and_all_privileges():
    g = ["GRANT USAGE ON *.* TO `u`@`%`", "GRANT SELECT, SHOW VIEW ON `shop`.* TO `u`@`%`"]
    assert grants_cover(g, "shop", "SHOW VIEW") and grants_cover(g, "shop", "SELECT")
    assert not grants_cover(g, "crm", "SELECT")
    assert not grants_cover(g, "shop", "VIEW")  # whole privilege names only
    assert grants_cover(["GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION"], "any", "SHOW VIEW")
    assert not grants_cover(["GRANT SELECT ON `shop`.`t` TO `u`@`%`"], "shop", "SELECT")  # table level only


def test_go_durations():
    assert parse_go_duration("10m0s") == 600
    assert parse_go_duration("1h30m") == 5400
    assert parse_go_duration("24h") == 86400
    assert parse_go_duration("500ms") == 0.5
    assert parse_go_duration("ten minutes") is None
    assert parse_go_duration("10m junk") is None


def test_render_lists_fixes_only_for_problems_and_counts():
    text = render([Check("a.ok", PASS, "fine", "never shown"), Check("b.meh", WARN, "hmm", "do x"),
                   Check("c.bad", FAIL, "broken", "do y")])
    lines = text.splitlines()
    assert lines[0].startswith("PASS  a.ok") and "never shown" not in text
    assert "fix: do x" in lines[2] and "fix: do y" in lines[4]
    assert lines[-1] == "1 passed, 1 warning(s), 1 failed"


def test_gc_life_time_against_the_estimated_full_load():
    from tidb2mysql.ops.precheck import gc_verdict

    status, detail, fix = gc_verdict("10m0s", 1024.0, "20 GiB at an assumed 20 MiB/s")
    assert status == FAIL and "600s < 1.5 x estimated full load 1024s" in detail and "tidb_gc_life_time = '2648s'" in fix
    assert gc_verdict("24h", 1024.0, "x")[0] == PASS
    assert gc_verdict(None, 1024.0, "x")[0] == WARN


def test_gc_life_time_with_the_load_raising_it():
    from tidb2mysql.ops.precheck import gc_verdict

    status, detail, _ = gc_verdict("10m0s", 1024.0, "1,000,000 rows at 977 rows/s measured", "72h")
    assert status == PASS and "raises it to 72h" in detail and "measured" in detail
    status, detail, fix = gc_verdict("10m0s", 200_000.0, "x", "24h")  # a 2.3-day load
    assert status == FAIL and "gc_life_time = '400600s'" in fix


def test_binlog_verdict():
    from tidb2mysql.ops.precheck import binlog_verdict

    status, detail, fix = binlog_verdict("0", [], [])
    assert status == FAIL and "binlog is off" in detail and "binlog.enable" in fix
    up = [("pump-1", "online", 5)]
    assert binlog_verdict("1", up, [("drainer-1", "online", 5)])[0] == PASS
    status, detail, _ = binlog_verdict("ON", up, [("drainer-1", "paused", 5)])
    assert status == FAIL and "no Drainer is online (drainer-1: paused)" in detail
    status, detail, _ = binlog_verdict("1", "SHOW PUMP STATUS failed: no PD", [])
    assert status == FAIL and "no PD" in detail and "none registered" in detail


def test_binlog_is_not_checked_for_ticdc_input():
    from tidb2mysql.config import parse
    from tidb2mysql.ops.precheck import Precheck

    p = Precheck(parse({"input": {"format": "ticdc-canal-json"}}))
    p.src_version = "8.0.11-TiDB-v7.0.0"
    p.check_binlog()  # no source connection needed: nothing is asked
    assert p.checks[-1].status == PASS and "TiCDC" in p.checks[-1].detail


def test_isolation_verdict():
    from tidb2mysql.ops.precheck import WARN, isolation_verdict

    status, detail, fix = isolation_verdict("ROW", "1")
    assert status == PASS and "READ COMMITTED" in detail and fix == ""
    assert isolation_verdict("STATEMENT", "0")[0] == PASS  # no binary log: nothing refuses RC
    status, detail, fix = isolation_verdict("STATEMENT", "1")
    assert status == WARN and "REPEATABLE READ" in detail and "binlog_format = 'ROW'" in fix
