"""One line for a failed full load, and whether running it again can help (pure)."""

import pymysql

from tidb2mysql.fullload import failure
from tidb2mysql.fullload.page_writer import LoadWarning, PageWriteError


def _page_error(cause: BaseException) -> PageWriteError:
    try:
        try:
            raise cause
        except Exception as e:
            raise PageWriteError("table db.t, chunk 3: writing 2 rows failed (first row key (1,)): "
                                 f"({cause.args[0]}) {cause.args[1]}") from e
    except PageWriteError as pe:
        return pe


def test_invalid_date_is_permanent_with_the_dates_fix():
    e = _page_error(pymysql.err.DataError(1292, "Incorrect date value: '2020-02-30' for column `d` at row 1"))
    f = failure.describe(e)
    assert f.permanent
    assert "db.t" in f.message and "2020-02-30" in f.message and "\n" not in f.message
    assert "invalid_dates" in f.fix
    assert "fail the same way" in failure.advice(f) and "resume" not in failure.advice(f)


def test_charset_error_points_at_the_latin1_mapping():
    e = _page_error(LoadWarning([("Warning", 1366, "Incorrect string value: '\\xE4\\xB8\\xAD' for column `v` at row 1")]))
    f = failure.describe(e)
    assert f.permanent and "[ddl] latin1" in f.fix


def test_lost_connection_is_transient_and_says_resume():
    e = _page_error(pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query"))
    f = failure.describe(e)
    assert not f.permanent
    assert "run the same command again to resume" in failure.advice(f)


def test_gc_expired_snapshot_is_permanent():
    f = failure.describe(pymysql.err.OperationalError(
        9006, "GC life time is shorter than transaction duration, transaction starts at 2026-12-02 ..."))
    assert f.permanent and "--restart" in f.fix


def test_recorded_text_keeps_its_code():
    f = failure.describe(RuntimeError("table db.t, chunk 0: writing 5 rows failed: (1292) Incorrect date value"))
    assert "invalid_dates" in f.fix


def test_console_shows_our_warnings_not_tracebacks_or_cluster_chatter():
    assert failure.console_line("2026-12-02 01:02:03,456 WARNING tidb2mysql.full_load: table x not empty\n")
    assert failure.console_line("2026-12-02 01:02:03,456 ERROR tidb2mysql.full_load: could not record\n")
    assert failure.console_line("2026-12-02 01:02:03,456 INFO tidb2mysql.full_load: lane 0 opened\n")
    assert not failure.console_line("2026-12-02 01:02:03,456 ERROR root: something else\n")
    assert not failure.console_line("Traceback (most recent call last):\n")
    assert not failure.console_line("thread 'timely:work-0' panicked at src/run.rs:120:17:\n")
    assert not failure.console_line("Connection refused (os error 111); retrying\n")
    assert not failure.console_line("  File \"/x/flows/full_load.py\", line 3, in write_batch\n")


def test_last_error_line_from_a_panic_output():
    out = ["Traceback (most recent call last):", '  File "x.py", line 1, in <module>',
           "tidb2mysql.fullload.page_writer.PageWriteError: table db.t, chunk 0: (1292) Incorrect date value",
           "thread 'timely:work-0' panicked at src/worker.rs:1:1:", "stack backtrace:",
           "   0: rust_begin_unwind"]
    assert failure.last_error_line(out) == "PageWriteError: table db.t, chunk 0: (1292) Incorrect date value"
