"""Progress of a full load: live bars on a terminal, plain periodic lines otherwise, a summary.

The numbers come from the target's chunk rows (``jobstore.JobStore.progress``), which the
writers update in the same transaction as the rows, so they are exact for copied rows and
aggregate every process of the cluster. Row totals are the plan's estimates
(``information_schema.TABLES.TABLE_ROWS``, or exact ``COUNT(*)`` with
``[full_load] row_totals = "count"``); percentages are capped at 99% until a table is done.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional, TextIO


@dataclass
class TableProgress:
    name: str
    est_rows: int
    rows: int
    chunks: int
    chunks_done: int
    seconds: Optional[float]  # first page to last chunk done (None while running)

    @property
    def done(self) -> bool:
        return self.chunks_done == self.chunks


def table_progress(rows: list[tuple]) -> list[TableProgress]:
    out = []
    for schema, table, est, done_rows, n, nd, started, finished in rows:
        secs = (finished - started).total_seconds() if (started is not None and finished is not None) else None
        out.append(TableProgress(f"{schema}.{table}", est, done_rows, n, nd, secs))
    return out


def _fmt_secs(s: Optional[float]) -> str:
    if s is None:
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def _pct(rows: int, est: int, done: bool) -> float:
    if done:
        return 100.0
    if est <= 0:
        return 0.0
    return min(99.0, 100.0 * rows / est)


class ProgressView:
    """Call :meth:`update` often; it redraws bars (TTY) or prints a line every ``interval`` s."""

    def __init__(self, out: TextIO, interval: float, tty: Optional[bool] = None,
                 clock: Callable[[], float] = time.monotonic):
        self.out = out
        self.tty = out.isatty() if tty is None else tty
        self.interval = interval
        self.clock = clock
        self.start = clock()
        self.start_rows: Optional[int] = None
        self.last_print = self.start
        self._drawn = 0

    def overall(self, tables: list[TableProgress]) -> tuple[int, int, float, Optional[float]]:
        """(rows, estimated total, rows/s this run, ETA seconds)."""
        rows = sum(t.rows for t in tables)
        total = sum(max(t.est_rows, t.rows) if not t.done else t.rows for t in tables)
        if self.start_rows is None:
            self.start_rows = rows
        elapsed = max(1e-6, self.clock() - self.start)
        rate = (rows - self.start_rows) / elapsed
        eta = (total - rows) / rate if rate > 0 and total > rows else (0.0 if total <= rows else None)
        return rows, total, rate, eta

    def line(self, tables: list[TableProgress]) -> str:
        rows, total, rate, eta = self.overall(tables)
        done = sum(1 for t in tables if t.done)
        pct = 100.0 * rows / total if total else 100.0
        return (f"full load: {rows:,}/{total:,} rows ({min(pct, 100.0):.0f}%), {rate:,.0f} rows/s, "
                f"ETA {_fmt_secs(eta)}, tables {done}/{len(tables)} done")

    def update(self, tables: list[TableProgress], force: bool = False) -> None:
        now = self.clock()
        if self.tty:
            self._draw(tables)
        elif force or now - self.last_print >= self.interval:
            self.last_print = now
            print(self.line(tables), file=self.out, flush=True)
            for t in tables:
                if not t.done and t.rows:
                    print(f"  {t.name}: {t.rows:,}/{t.est_rows:,} rows ({_pct(t.rows, t.est_rows, False):.0f}%), "
                          f"chunks {t.chunks_done}/{t.chunks}", file=self.out, flush=True)

    def _draw(self, tables: list[TableProgress]) -> None:
        width = 24
        lines = []
        for t in tables:
            p = _pct(t.rows, t.est_rows, t.done)
            fill = int(width * p / 100)
            lines.append(f"{t.name[:40]:<40} [{'#' * fill}{'.' * (width - fill)}] {p:5.1f}% {t.rows:>12,} rows")
        lines.append(self.line(tables))
        if self._drawn:
            self.out.write(f"\x1b[{self._drawn}F")
        self.out.write("".join(f"\x1b[2K{ln}\n" for ln in lines))
        self.out.flush()
        self._drawn = len(lines)


MIN_RATE_SECONDS = 2.0  # per-table rates below this duration are noise (see summary)


def summary(tables: list[TableProgress], wall_seconds: float) -> str:
    """A table of rows, time and rate per table, and the total."""
    name_w = max([len("table")] + [len(t.name) for t in tables])
    out = [f"{'table':<{name_w}} {'rows':>12} {'time':>9} {'rows/s':>10}"]
    short = False
    for t in tables:
        # A table's time runs from its first committed page to its last chunk done, so a table
        # of one or two pages shows ~0 s and a rate of millions of rows/s: say nothing instead.
        measurable = t.seconds is not None and t.seconds >= MIN_RATE_SECONDS
        short = short or not measurable
        rate = f"{t.rows / t.seconds:,.0f}" if measurable else "-"
        out.append(f"{t.name:<{name_w}} {t.rows:>12,} {_fmt_secs(t.seconds):>9} {rate:>10}")
    total = sum(t.rows for t in tables)
    rate = f"{total / wall_seconds:,.0f}" if wall_seconds > 0 else "-"
    out.append(f"{'TOTAL':<{name_w}} {total:>12,} {_fmt_secs(wall_seconds):>9} {rate:>10}")
    if short:
        out.append(f"(rows/s '-': copied in under {MIN_RATE_SECONDS:g} s, too short to measure a rate)")
    return "\n".join(out)
