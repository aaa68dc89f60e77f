"""Progress lines, bars and the summary table (pure)."""

from __future__ import annotations

import datetime as dt
import io

from tidb2mysql.fullload.progress import ProgressView, TableProgress, summary, table_progress


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def tables(rows_a, rows_b, done_b=False):
    return [TableProgress("db.a", 1000, rows_a, 2, 1, None), TableProgress("db.b", 500, rows_b, 1, int(done_b), None)]


def test_plain_lines_periodic_with_rate_and_eta():
    out, clock = io.StringIO(), Clock()
    v = ProgressView(out, interval=10, tty=False, clock=clock)
    v.start_rows = 0
    clock.t += 5
    v.update(tables(100, 0))  # before the interval: nothing
    assert out.getvalue() == ""
    clock.t += 5
    v.update(tables(500, 250))  # 750 rows in 10 s, 750 left
    text = out.getvalue()
    assert "750/1,500 rows (50%), 75 rows/s, ETA 0:10, tables 0/2 done" in text
    assert "db.a: 500/1,000 rows (50%), chunks 1/2" in text


def test_force_prints_and_done_table_counts_its_real_rows():
    out, clock = io.StringIO(), Clock()
    v = ProgressView(out, interval=10, tty=False, clock=clock)
    v.start_rows = 0
    clock.t += 2
    v.update(tables(1000, 600, done_b=True), force=True)
    assert "tables 1/2 done" in out.getvalue()


def test_tty_bars_redraw_in_place():
    out = io.StringIO()
    v = ProgressView(out, interval=10, tty=True, clock=Clock())
    v.update(tables(500, 0))
    v.update(tables(600, 0))
    text = out.getvalue()
    assert "[############............]  50.0%" in text
    assert "\x1b[3F" in text  # moved up over the 2 bars + total line


def test_summary_table():
    ts = [TableProgress("db.a", 10, 1000, 1, 1, 2.0), TableProgress("db.bb", 10, 0, 1, 1, None)]
    text = summary(ts, 4.0)
    assert text.splitlines()[0].split() == ["table", "rows", "time", "rows/s"]
    assert "db.a         1,000      0:02        500" in text
    assert text.splitlines()[-2].split() == ["TOTAL", "1,000", "0:04", "250"]
    assert text.splitlines()[-1].startswith("(rows/s '-'")


def test_summary_gives_no_rate_for_a_table_copied_in_a_blink():
    """Issue 20: a 5k-row table showed 1,132,805 rows/s (its time is first page -> last page)."""
    ts = [TableProgress("db.small", 5000, 5000, 1, 1, 0.0044), TableProgress("db.big", 10, 100_000, 2, 2, 10.0)]
    lines = summary(ts, 11.0).splitlines()
    assert lines[1].split() == ["db.small", "5,000", "0:00", "-"]
    assert lines[2].split() == ["db.big", "100,000", "0:10", "10,000"]
    assert "too short" in lines[-1]
    ts = [TableProgress("db.big", 10, 100_000, 2, 2, 10.0)]
    assert summary(ts, 11.0).splitlines()[-1].startswith("TOTAL")  # no footnote when every rate is real


def test_table_progress_from_rows():
    t0 = dt.datetime(2020, 1, 1)
    rows = [("db", "a", 10, 10, 1, 1, t0, t0 + dt.timedelta(seconds=3)), ("db", "b", 5, 1, 2, 0, t0, None)]
    a, b = table_progress(rows)
    assert a.done and a.seconds == 3.0 and a.name == "db.a"
    assert not b.done and b.seconds is None
