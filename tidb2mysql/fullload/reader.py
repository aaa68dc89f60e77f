"""One lane: a source connection holding the snapshot, reading its chunks in keyset pages.

A lane is one Bytewax source partition (``flows/full_load.py``). It owns a fixed list of
chunks (``chunking.assign_lanes``) and ONE source connection, so the number of open
snapshot connections is the number of lanes, not of chunks.

Life of a lane:

1. ``connected``: built at flow start; it records itself in ``full_load_lanes``.
2. It waits (polling the job row, never blocking the worker) until the coordinator says the
   snapshot may be opened (``lock_state = 'locked'`` for this run), opens it
   (:mod:`tidb2mysql.fullload.snapshot`) and records ``opened``. The coordinator releases
   the MariaDB read lock once every lane did.
3. It reads each unfinished chunk in pages of ``page_rows`` rows in key order
   (``WHERE key > last ORDER BY key LIMIT n``: bounded memory, and the resume position is
   just the last key). Keyless tables are streamed with an unbuffered cursor instead.
4. After the last chunk it ends its snapshot and stops (``StopIteration``).

Its Bytewax snapshot state is ``{"chunk", "after", "rows"}``: the chunk in progress and the
key after which to continue. Chunks the target already records as done are skipped with a
log line. An unfinished chunk continues from the Bytewax state or from the position the
target recorded (written in the same transaction as the rows, so it is exact), whichever
is further on: the target is often ahead, since it is updated every page and Bytewax only
every snapshot interval. Either position is safe, because pages are idempotent upserts.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Optional

import pymysql.cursors

from tidb2mysql.fullload import tsv
from tidb2mysql.fullload.chunking import TablePlan, page_from, page_sql
from tidb2mysql.fullload.jobstore import ChunkState, JobStore
from tidb2mysql.fullload.snapshot import SnapshotError
from tidb2mysql.mysql.sql import literal

log = logging.getLogger("tidb2mysql.full_load")


def _pos(cs: ChunkState) -> tuple:
    return (cs.chunk.chunk, cs.rows_done, tuple(cs.after_key) if cs.after_key is not None else None)


@dataclass
class Page:
    """Rows of one chunk read in one page, and where the chunk stands after them."""

    chunk: int
    table: int  # index into the plan's tables
    rows: list
    rows_done: int  # rows of the chunk copied once this page is written
    after: Optional[list]  # key (SQL literals) of the page's last row; None for keyless chunks
    last: bool  # the chunk is complete with this page
    reset: bool = False  # keyless chunk (re)starting: empty the target table first
    # LOAD DATA pages (tidb2mysql/fullload/tsv.py): the rows as LOAD DATA text, ``rows`` empty
    data: Optional[bytes] = None
    count: int = 0  # rows in ``data``
    upsert: bool = False  # the chunk may hold rows of an earlier attempt: LOAD DATA ... REPLACE

    @property
    def size(self) -> int:
        return self.count if self.data is not None else len(self.rows)


class LaneReader:
    """Plain-Python lane logic; ``flows/full_load.py`` wraps it in a Bytewax partition."""

    def __init__(self, lane: int, run: int, tables: list[TablePlan], chunks: list[ChunkState],
                 store: JobStore, snapshot, source_conn, target_conn, page_rows: int,
                 resume: Optional[dict] = None, timeout: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, text: bool = False, prefetch: bool = False):
        self.lane = lane
        self.run = run
        self.tables = tables
        self.store = store
        self.snapshot = snapshot
        self.src = source_conn
        self.tgt = target_conn  # autocommit; job/lane rows only
        self.page_rows = page_rows
        self.timeout = timeout
        self.clock = clock
        self.todo: list[ChunkState] = []
        self.text = text  # pages as LOAD DATA text built by the source (tsv.py)
        self.resumed: set = set()  # chunks continued mid-way: their pages are upserts (REPLACE)
        for cs in chunks:
            if cs.done:
                tp = tables[cs.chunk.table]
                log.info("lane %d: chunk %d of %s already done (%d rows), skipping", lane, cs.chunk.chunk,
                         tp.qualified, cs.rows_done)
                continue
            tp = tables[cs.chunk.table]
            if resume is not None and resume.get("chunk") == cs.chunk.chunk and resume["rows"] >= cs.rows_done:
                # Both positions are safe (pages are idempotent); take the one further on.
                cs = ChunkState(cs.chunk, resume["rows"], resume["after"], False)
                where = "the Bytewax snapshot"
            else:
                where = "the target's chunk record"
            if cs.rows_done and tp.key:
                self.resumed.add(cs.chunk.chunk)
                log.info("lane %d: chunk %d of %s resumes after %d rows (key %s, from %s)", lane, cs.chunk.chunk,
                         tp.qualified, cs.rows_done, ",".join(cs.after_key or []), where)
            elif cs.rows_done:
                log.info("lane %d: chunk %d of %s (no key) restarts from its first row", lane, cs.chunk.chunk,
                         tp.qualified)
            elif run > 1:  # a resumed job: this chunk had no page written before the restart
                log.info("lane %d: chunk %d of %s restarts from its first row (nothing of it was written before)",
                         lane, cs.chunk.chunk, tp.qualified)
            self.todo.append(cs)
        self.prefetch = prefetch
        self._ahead = None  # (position, Future) of the next page being read
        self._pool = None
        self.opened = False
        self._started = clock()
        self._cursor = None  # unbuffered cursor of a keyless chunk in progress
        self._chunk_started: Optional[float] = None
        store.lane_state(target_conn, lane, run, "connected" if self.todo else "idle")

    # -- state -------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return not self.todo

    def state(self) -> Optional[dict]:
        if not self.todo:
            return {"chunk": None, "after": None, "rows": 0}
        cs = self.todo[0]
        return {"chunk": cs.chunk.chunk, "after": cs.after_key, "rows": cs.rows_done}

    # -- snapshot handshake ------------------------------------------------------------

    def try_open(self) -> bool:
        """Open the snapshot once the coordinator allows it; False while still waiting."""
        info = self.store.lock_info(self.tgt)
        if info is None:
            raise SnapshotError(f"full-load job {self.store.job!r} disappeared from the target")
        run, lock_state, ts = info
        if lock_state == "failed":
            raise SnapshotError(f"full-load job {self.store.job!r}: the coordinator failed to take the snapshot")
        if run != self.run or lock_state != "locked":
            if self.clock() - self._started > self.timeout:
                raise SnapshotError(f"lane {self.lane}: no snapshot after {self.timeout:.0f}s "
                                    f"(job run {run}, state {lock_state!r}); is the coordinator running?")
            return False
        with self.src.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00', SESSION net_write_timeout = 3600")
            if self.text:  # a whole page in one GROUP_CONCAT value (tsv.py); larger pages fall back
                cur.execute("SELECT @@max_allowed_packet")
                cur.execute(f"SET SESSION group_concat_max_len = {max(1024, int(cur.fetchone()[0]) - 4096)}")
            if self.snapshot.needs_global_lock:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if self.run > 1:
            self.snapshot.reopen_reader(self.src, ts)
        else:
            self.snapshot.open_reader(self.src, ts)
        self.store.lane_state(self.tgt, self.lane, self.run, "opened")
        self.opened = True
        return True

    # -- reading -----------------------------------------------------------------------

    def next_page(self) -> Optional[Page]:
        """The next page of the current chunk; None when the lane is finished."""
        if not self.todo:
            return None
        cs = self.todo[0]
        tp = self.tables[cs.chunk.table]
        if self._chunk_started is None:
            self._chunk_started = self.clock()
        if not tp.key:
            self._settle_prefetch()
            page = self._keyless_page(cs, tp)
        else:
            page = self._take_prefetched(cs)
            if page is None:
                page = self._keyset_page(cs, tp)
        if page.last:
            secs = self.clock() - self._chunk_started
            log.info("lane %d: chunk %d of %s read: %d rows in %.1fs", self.lane, cs.chunk.chunk, tp.qualified,
                     page.rows_done, secs)
            self.todo.pop(0)
            self._chunk_started = None
        else:
            self.todo[0] = ChunkState(cs.chunk, page.rows_done, page.after, False)
        self._start_prefetch()
        return page

    # -- read-ahead: the next page is read while this one is written -------------------

    def _start_prefetch(self) -> None:
        """Read the next keyset page in a thread while the worker writes this one.

        The source builds the next page (and PyMySQL waits on the socket, GIL released) while
        the target loads the current one: the two servers work at the same time instead of
        taking turns. One page ahead, so a lane holds at most two pages. Only keyset pages
        (a keyless chunk's unbuffered cursor stays on the worker thread); the lane's position
        (``todo``, the Bytewax state) moves only when a page is handed out."""
        if not self.prefetch or not self.todo or self._ahead is not None:
            return
        cs = self.todo[0]
        tp = self.tables[cs.chunk.table]
        if not tp.key:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"lane{self.lane}-read")
        self._ahead = (_pos(cs), self._pool.submit(self._keyset_page, cs, tp))

    def _take_prefetched(self, cs: ChunkState) -> Optional[Page]:
        if self._ahead is None:
            return None
        pos, fut = self._ahead
        self._ahead = None
        page = fut.result()  # a read error surfaces here, on the worker thread
        return page if pos == _pos(cs) else None

    def _settle_prefetch(self) -> None:
        """Wait for a read-ahead (the source connection is used by one thread at a time)."""
        if self._ahead is not None:
            _, fut = self._ahead
            self._ahead = None
            try:
                fut.result()
            except Exception:  # noqa: BLE001 - the page is not used; the next read reports any real problem
                pass

    def _raw(self, sql: str, one: bool):
        """Run ``sql`` on the source with every value as raw bytes (no decoding)."""
        conn = self.src
        use_unicode, decoders = conn.use_unicode, conn.decoders
        conn.use_unicode, conn.decoders = False, {}
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchone() if one else cur.fetchall()
        finally:
            conn.use_unicode, conn.decoders = use_unicode, decoders

    def _text_page(self, cs: ChunkState, tp: TablePlan) -> Page:
        where = page_from(tp, cs.chunk.lo, cs.chunk.hi, cs.after_key)
        got = self._raw(tsv.page_text_sql(tp, where, self.page_rows), one=True)
        count, data, hidden_last = int(got[0]), got[1], (got[2] if tp.hidden_key else None)
        if count and data.count(b"\n") + 1 != count:  # longer than group_concat_max_len: row by row
            log.info("lane %d: chunk %d of %s: page text over group_concat_max_len, reading it row by row",
                     self.lane, cs.chunk.chunk, tp.qualified)
            rows = self._raw(tsv.row_text_sql(tp, where, self.page_rows), one=False)
            lines = [r[0] for r in rows]
            count, data = len(lines), b"\n".join(lines)
            hidden_last = rows[-1][1] if rows and tp.hidden_key else hidden_last
        last = count < self.page_rows
        after = cs.after_key
        if count:
            after = ([hidden_last.decode("ascii") if isinstance(hidden_last, bytes) else str(hidden_last)]
                     if tp.hidden_key else tsv.key_literals(tp, tsv.last_line(data)))
            data += b"\n"
        return Page(cs.chunk.chunk, cs.chunk.table, [], cs.rows_done + count, after, last,
                    data=data if count else None, count=count, upsert=cs.chunk.chunk in self.resumed)

    def _keyset_page(self, cs: ChunkState, tp: TablePlan) -> Page:
        if self.text:
            return self._text_page(cs, tp)
        sql = page_sql(tp, cs.chunk.lo, cs.chunk.hi, cs.after_key, self.page_rows)
        with self.src.cursor() as cur:
            cur.execute(sql)
            rows = list(cur.fetchall())
        last = len(rows) < self.page_rows
        after = cs.after_key
        if rows and tp.hidden_key:  # _tidb_rowid came as an extra last value
            after = [literal(rows[-1][-1])]
            rows = [r[:-1] for r in rows]
        elif rows:
            kp = tp.key_positions()
            after = [literal(rows[-1][i]) for i in kp]
        return Page(cs.chunk.chunk, cs.chunk.table, rows, cs.rows_done + len(rows), after, last)

    def _keyless_page(self, cs: ChunkState, tp: TablePlan) -> Page:
        reset = False
        if self._cursor is None:
            # No key: no resume position; restart the chunk from scratch, emptying the target first.
            reset = True
            cs = ChunkState(cs.chunk, 0, None, False)
            self._cursor = self.src.cursor(pymysql.cursors.SSCursor)
            if self.text:
                saved = self.src.use_unicode, self.src.decoders
                self.src.use_unicode, self.src.decoders = False, {}  # raw bytes; fixed once the result starts
                try:
                    self._cursor.execute(tsv.row_text_sql(tp, f"FROM {tp.ref}", None))
                finally:
                    self.src.use_unicode, self.src.decoders = saved
            else:
                self._cursor.execute(f"SELECT {tp.select_list()} FROM {tp.ref}")
        rows = list(self._cursor.fetchmany(self.page_rows))
        last = len(rows) < self.page_rows
        if last:
            self._cursor.close()
            self._cursor = None
        if self.text:
            data = b"".join([r[0] + b"\n" for r in rows]) if rows else None
            return Page(cs.chunk.chunk, cs.chunk.table, [], cs.rows_done + len(rows), None, last, reset,
                        data=data, count=len(rows))
        return Page(cs.chunk.chunk, cs.chunk.table, rows, cs.rows_done + len(rows), None, last, reset)

    def close(self) -> None:
        self._settle_prefetch()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        try:
            if self._cursor is not None:
                self._cursor.close()
            if self.opened and self.snapshot.needs_global_lock:
                with self.src.cursor() as cur:
                    cur.execute("ROLLBACK")  # read-only snapshot transaction
        except Exception:  # noqa: BLE001 - closing after an error: the connection may be gone already
            pass
