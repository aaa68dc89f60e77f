"""Why a full-load flow stopped, in one line, and whether running it again can help.

The flow runs in child processes (``python -m bytewax.run``). Bytewax re-raises a worker's
exception as a Rust panic, so what reaches the terminal is the Python traceback, the panic
message and (with ``RUST_BACKTRACE`` set) a Rust backtrace: about 90 lines, with the one line
that matters in the middle. So:

* the flow's wiring (``flows/full_load.py``) hands every exception to :func:`record` before
  re-raising it; it stores ONE line (table, chunk, key, server error) and whether the error
  is *permanent* in ``<meta>.full_load_errors``;
* the coordinator sends the children's output to a log file (``launch.start(log_path=...)``)
  and echoes only tidb2mysql's own log lines (one line each), never a traceback;
* when a child fails, the coordinator prints the recorded line and, by :func:`advice`,
  either "run again to resume" (a lost connection, a server restart: a re-run continues
  where the committed pages end) or what to change first (the same data would fail the
  same way again).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Optional

from tidb2mysql.mysql.errors import error_code, error_message, is_transient

log = logging.getLogger("tidb2mysql.full_load")

# Target errors for data the source accepted but the target refuses, with what to do.
FIXES = {
    1292: ("the source holds a date the target refuses (TiDB stores e.g. '2020-02-30' under ALLOW_INVALID_DATES): "
           "keep [full_load] invalid_dates = \"copy\" (the default: writer sessions add ALLOW_INVALID_DATES), or "
           "correct the rows in the source; `tidb2mysql precheck` lists the tables"),
    1366: ("a text value does not fit the target column's character set (TiDB stores any UTF-8 text in latin1 "
           "columns): set [ddl] latin1 = \"utf8mb4\" and create the table again (or ALTER the target column to "
           "utf8mb4), then restart the load; `tidb2mysql precheck` lists the tables"),
    1406: "a value is longer than the target column: compare the column definitions (tidb2mysql schema --dry-run)",
    1264: "a value is out of the target column's range: compare the column definitions (tidb2mysql schema --dry-run)",
    1265: "a value was truncated by the target column: compare the column definitions (tidb2mysql schema --dry-run)",
    1048: "the target column is NOT NULL but the source holds NULL: compare the column definitions",
    9006: ("TiDB garbage-collected the snapshot's versions (GC life time shorter than the load): the recorded "
           "snapshot cannot be read any more; raise tidb_gc_life_time (or keep [full_load] gc_life_time set) and "
           "restart the load with --restart after emptying the target tables"),
}


@dataclass(frozen=True)
class Failure:
    message: str  # one line
    permanent: bool  # a re-run would fail the same way
    fix: str = ""


def _root(exc: BaseException) -> BaseException:
    """The innermost cause (PageWriteError wraps the server error)."""
    seen = set()
    while exc.__cause__ is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc = exc.__cause__
    return exc


def _code_in(text: str) -> Optional[int]:
    m = re.search(r"\((\d{4,5})\)", text)
    return int(m.group(1)) if m else None


def describe(exc: BaseException) -> Failure:
    """One line for ``exc`` and whether a re-run can help."""
    root = _root(exc)
    text = " ".join(str(exc).split()) or type(exc).__name__
    if root is not exc and error_message(root) not in text:
        text += f": ({error_code(root)}) {error_message(root)}"
    code = error_code(root)
    if code < 0:
        code = _code_in(text) or -1
    if "GC life time is shorter than transaction duration" in text or "GC life time" in text:
        code = 9006
    transient = is_transient(root) and code != 9006
    return Failure(text[:1000], permanent=not transient, fix=FIXES.get(code, ""))


def advice(f: Failure) -> str:
    if not f.permanent:
        return "this looks transient (lost connection / server restart): run the same command again to resume"
    if f.fix:
        return f"running again would fail the same way; fix: {f.fix}"
    return "running again would fail the same way until the cause above is fixed"


_TRACE_START = re.compile(r"^(Traceback \(most recent call last\)|thread '.*' panicked at|stack backtrace:)")
_OUR_LOG = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (WARNING|ERROR|CRITICAL|INFO) tidb2mysql[.\w]*: ")


def console_line(line: str) -> bool:
    """Which child output lines the coordinator echoes: tidb2mysql's own log lines only.

    Tracebacks, Rust panics and backtraces, and Bytewax's cluster chatter (e.g. a process
    retrying ``Connection refused`` while the others start) go to the log file only."""
    return bool(_OUR_LOG.match(line))


def last_error_line(lines: list[str]) -> str:
    """The last exception line of a child's output (fallback when nothing was recorded)."""
    pat = re.compile(r"^\s*([A-Za-z_][\w.]*(Error|Exception|Panic\w*)): (.+)$")
    for line in reversed(lines):
        m = pat.match(line)
        if m and not _TRACE_START.match(line):
            return f"{m.group(1).rsplit('.', 1)[-1]}: {m.group(3).strip()}"
    return ""


def record(store, connect, run: int, exc: BaseException) -> Failure:
    """Store the failure for the coordinator (best effort: the target may be what failed)."""
    f = describe(exc)
    try:
        conn = connect()
        try:
            store.ensure(conn)
            store.record_failure(conn, run, f.permanent, f.message)
        finally:
            conn.close()
    except Exception as e:  # noqa: BLE001 - the coordinator falls back to the log file
        log.error("could not record the failure in the target (%s): %s", e, f.message)
    return f
