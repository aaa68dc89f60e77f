"""The full load's coordinator: plan the job, take the snapshot, launch the flow, watch it.

It runs in the ``tidb2mysql full-load`` process (never inside the Bytewax cluster, whose
processes all have to see one plan before they start):

1. **Plan** (first run only): select the tables, describe their keys, cut chunks, assign
   them to lanes and store it all in the target (``jobstore``). A later run reuses the
   stored plan, so Bytewax partitions and recovery state keep matching.
2. **Launch** ``python -m bytewax.run flows.full_load`` (P processes x W workers, with a
   recovery directory when asked). Every lane connects and says so.
3. **Snapshot handshake.** TiDB: the TSO was read before the launch, lanes open
   ``tidb_snapshot`` on their own. MariaDB stand-in: once every lane is connected, take
   ``FLUSH TABLES WITH READ LOCK``, read (first run) or verify (resume) the TSO, let the
   lanes open their consistent snapshots, and release the lock as soon as all did; the lock
   window is logged and stored (``full_load_job.lock_ms``).
4. **Watch**: progress from the target until the processes exit; on success check every
   chunk is done, record stage ``loaded`` and print the summary and the snapshot TSO,
   which incremental replication starts after.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from tidb2mysql import launch
from tidb2mysql.fullload import failure
from tidb2mysql.mysql import db
from tidb2mysql.fullload.chunking import make_plan, select_tables
from tidb2mysql.selection.engine import Selection, SelectionError
from tidb2mysql.selection.fullload import map_plan, select_source_tables
from tidb2mysql.fullload.jobstore import Job, JobStore
from tidb2mysql.fullload.progress import ProgressView, summary, table_progress
from tidb2mysql.fullload.snapshot import GC_NOTE, GCHold, SnapshotError, detect_kind, make_snapshot
from tidb2mysql.mysql.target_schema import UnknownTableError, read_target_table
from tidb2mysql.errors import InternalError

log = logging.getLogger("tidb2mysql.full_load")


class FullLoadError(InternalError, RuntimeError):
    """The load cannot start or did not complete (the message says why and what to do)."""


@dataclass
class LoadResult:
    job: str
    snapshot_ts: int
    rows: int
    seconds: float
    lock_ms: Optional[float]
    already_loaded: bool = False


class Coordinator:
    def __init__(self, cfg, config_path: str, opts: launch.LaunchOptions, tables: Sequence[str] = (),
                 out=None):
        self.cfg = cfg
        self.config_path = str(Path(config_path).resolve())
        self.opts = opts
        self.s = cfg.full_load
        self.tables = list(tables) or list(self.s.tables)
        self.store = JobStore(cfg.job.meta_schema, cfg.job.name)
        self.out = out or sys.stderr
        self.procs: Optional[launch.ProcessGroup] = None

    # -- planning ------------------------------------------------------------------------

    def prepare(self, tgt, src, restart: bool = False) -> Job:
        self.store.ensure(tgt)
        if restart:
            log.warning("--restart: forgetting job %r (its target tables are not emptied)", self.cfg.job.name)
            self.store.delete(tgt)
        job = self.store.load(tgt)
        if job is not None:
            chunks = self.store.chunks(tgt)
            log.info("resuming job %r: %d lanes, snapshot %s, %d/%d chunks done", job.job, job.lanes,
                     job.snapshot_ts, sum(1 for c in chunks if c.done), len(chunks))
            return job
        kind = self.s.snapshot if self.s.snapshot != "auto" else detect_kind(src)
        selected = select_tables(src, self.tables, exclude_schemas=[self.cfg.job.meta_schema])
        sel = Selection.from_config(self.cfg)
        try:
            selected = select_source_tables(sel, selected)
        except SelectionError as e:
            raise FullLoadError(str(e)) from None
        if not selected:
            raise FullLoadError("no tables selected for the full load")
        self._check_targets(tgt, [sel.map_table(s, t) for s, t in selected])
        lanes = self.s.lanes or self.opts.workers * self.opts.processes
        plan = make_plan(src, selected, self.s.chunk_rows, lanes, exact_counts=self.s.row_totals == "count")
        try:
            map_plan(sel, plan)
        except SelectionError as e:
            raise FullLoadError(str(e)) from None
        self._empty_keyless_targets(tgt, plan)
        self.store.create(tgt, kind, plan, lanes)
        log.info("planned job %r: %d tables, %d chunks, %d lanes, snapshot via %s", self.cfg.job.name,
                 len(plan.tables), len(plan.chunks), lanes, kind)
        return self.store.load(tgt)

    def _empty_keyless_targets(self, tgt, plan) -> None:
        """Key-less tables chunked by TiDB's _tidb_rowid: their pages are plain INSERTs (written
        once each, resumed after the committed row id), so rows already in the target table
        would stay as duplicates that no key can tell apart. A NEW job empties such a target
        table first (what the one-chunk key-less copy does in its first page); a resumed job
        never does."""
        for tp in plan.tables:
            if not (tp.hidden_key and not tp.unique_key):
                continue
            tdb, ttable, _ = tp.target_names()
            ref = f"`{tdb.replace('`', '``')}`.`{ttable.replace('`', '``')}`"
            with tgt.cursor() as cur:
                cur.execute(f"SELECT 1 FROM {ref} LIMIT 1")
                if cur.fetchone() is not None:
                    log.warning("target table %s.%s has no key and is not empty: emptied before the load (its rows "
                                "could not be told apart from the copied ones)", tdb, ttable)
                    cur.execute(f"DELETE FROM {ref}")

    def _check_targets(self, tgt, selected) -> None:
        missing = []
        for schema, table in selected:
            try:
                read_target_table(tgt, schema, table)
            except UnknownTableError:
                missing.append(f"{schema}.{table}")
                continue
            with tgt.cursor() as cur:
                cur.execute(f"SELECT 1 FROM `{schema.replace('`', '``')}`.`{table.replace('`', '``')}` LIMIT 1")
                if cur.fetchone() is not None:
                    log.warning("target table %s.%s is not empty: the load upserts into it; rows that are not "
                                "in the source stay", schema, table)
        if missing:
            raise FullLoadError(f"target table(s) missing: {', '.join(missing)}. The full load needs the target "
                                f"tables to exist: run the schema migration first (or create them).")

    # -- launching -----------------------------------------------------------------------

    def log_path(self) -> Path:
        """Where the flow processes' output goes (tracebacks included); only tidb2mysql's own
        log lines are echoed to the terminal (fullload/failure.py)."""
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.cfg.job.name)
        return Path(tempfile.gettempdir()) / f"tidb2mysql-full-load-{safe}.log"

    def _launch(self) -> None:
        self.procs = launch.start("flows.full_load", self.opts, self.config_path, log_path=str(self.log_path()),
                                  echo=failure.console_line, console=self.out)

    def _failed(self, tgt, run: int, rc: int, what: str = "") -> FullLoadError:
        """ONE line saying why the flow stopped and whether running again helps."""
        launch.wait_output(self.procs)
        try:
            recorded = self.store.failures(tgt, run)
        except Exception:  # noqa: BLE001 - the target itself may be what failed
            recorded = []
        if recorded:
            permanent, message = recorded[0]
            f = failure.describe(RuntimeError(message))
            f = failure.Failure(message, permanent, f.fix)
        else:
            try:
                lines = self.log_path().read_text(encoding="utf-8", errors="replace").splitlines()[-400:]
            except OSError:
                lines = []
            last = failure.last_error_line([ln.split("] ", 1)[-1] for ln in lines])
            f = failure.describe(RuntimeError(last or f"the full-load flow exited with status {rc}"))
        return FullLoadError(f"{f.message}{f' ({what})' if what else ''}. {failure.advice(f)}. "
                             f"(flow output: {self.log_path()})")

    def _poll_procs(self) -> Optional[int]:
        """None while all run; else the first non-zero rc, or 0 once all exited cleanly."""
        return self.procs.poll() if self.procs is not None else 0

    def _stop_procs(self) -> None:
        if self.procs is not None:
            self.procs.stop()

    def _wait_lanes(self, tgt, run: int, states: set, lanes: int, what: str) -> None:
        deadline = time.monotonic() + self.s.lane_timeout
        while True:
            counts = self.store.lane_counts(tgt, run)
            if sum(n for s, n in counts.items() if s in states) >= lanes:
                return
            rc = self._poll_procs()
            if rc not in (None, 0):
                raise self._failed(tgt, run, rc, what)
            if time.monotonic() > deadline:
                raise FullLoadError(f"timed out after {self.s.lane_timeout:.0f}s {what} (lanes: {counts})")
            time.sleep(0.01)

    def _handshake(self, tgt, src, job: Job, snapshot, run: int) -> Optional[float]:
        self._wait_lanes(tgt, run, {"connected", "idle"}, job.lanes, "waiting for the lanes to connect")
        snapshot.lock(src)
        t0 = time.monotonic()
        try:
            ts = snapshot.record_ts(src)
            if job.snapshot_ts is not None and ts != job.snapshot_ts:
                self.store.set(tgt, lock_state="failed")
                raise SnapshotError(
                    f"cannot resume the full load of job {job.job!r}: the MariaDB stand-in cannot re-open the "
                    f"recorded snapshot (TSO {job.snapshot_ts}) and the source has changed since (TSO now {ts}). "
                    f"Restart the load: `tidb2mysql full-load --restart` after emptying the target tables.")
            self.store.set(tgt, snapshot_ts=ts, lock_state="locked")
            self._wait_lanes(tgt, run, {"opened", "idle"}, job.lanes, "waiting for the lanes to open the snapshot")
        finally:
            snapshot.unlock(src)
        lock_ms = (time.monotonic() - t0) * 1000
        self.store.set(tgt, lock_state="released", lock_ms=lock_ms)
        log.info("snapshot TSO %d taken; source read lock held for %.0f ms", ts, lock_ms)
        self._say_tso(ts, resumed=job.snapshot_ts is not None)
        return lock_ms

    def _say_tso(self, ts: int, resumed: bool) -> None:
        """The TSO at the start, not only at the end: an operator can set up Drainer / check
        binlog retention while the copy runs."""
        print(f"full load of job {self.cfg.job.name!r}: {'resuming at' if resumed else 'reading at'} snapshot "
              f"TSO {ts}; incremental replication starts after it", file=self.out, flush=True)

    # -- the whole run -------------------------------------------------------------------

    def run(self, restart: bool = False) -> LoadResult:
        tgt = db.connect(self.cfg.target, autocommit=True)
        src = db.connect(self.cfg.source, autocommit=True)
        try:
            job = self.prepare(tgt, src, restart)
            if job.stage != "loading":
                print(f"full load of job {job.job!r} already complete; snapshot TSO {job.snapshot_ts}",
                      file=self.out)
                return LoadResult(job.job, job.snapshot_ts or 0, 0, 0.0, job.lock_ms, already_loaded=True)
            snapshot = make_snapshot(job.snapshot_kind, self.s.tso_table, self.cfg.kafka.topic,
                                     self.s.lock_wait_seconds)
            run = job.run + 1
            gc = GCHold(self.s.gc_life_time, self.store) if job.snapshot_kind == "tidb" else None
            if gc is not None:
                self._say(gc.acquire(src, tgt))  # before the TSO is read: its versions are protected from the start
            try:
                return self._run(tgt, src, job, snapshot, run, gc)
            finally:
                if gc is not None:
                    self._release_gc(gc, src, tgt)
        finally:
            tgt.close()
            src.close()

    def _say(self, line: Optional[str]) -> None:
        if line:
            print(f"full load: {line}", file=self.out, flush=True)

    def _release_gc(self, gc: GCHold, src, tgt) -> None:
        try:
            self._say(gc.release(src, tgt))
        except Exception:  # noqa: BLE001 - the old connection may be gone: one more try on a new one
            try:
                src2 = db.connect(self.cfg.source, autocommit=True)
                try:
                    self._say(gc.release(src2, tgt))
                finally:
                    src2.close()
            except Exception as e:  # noqa: BLE001
                log.warning("could not restore tidb_gc_life_time (%s); the next full-load run restores it, or "
                            "SET GLOBAL tidb_gc_life_time = '%s' by hand", e, self.store.note(tgt, GC_NOTE))

    def _run(self, tgt, src, job: Job, snapshot, run: int, gc: Optional[GCHold]) -> LoadResult:
        if snapshot.needs_global_lock:
            self.store.set(tgt, run=run, lock_state="waiting")
        else:
            ts = job.snapshot_ts if job.snapshot_ts is not None else snapshot.record_ts(src)
            if job.snapshot_ts is not None and (gc is None or not gc.raised):
                snapshot.warn_gc(src)
            self.store.set(tgt, run=run, snapshot_ts=ts, lock_state="locked")
            self._say_tso(ts, resumed=job.snapshot_ts is not None)
        started = time.monotonic()
        view = ProgressView(self.out, self.s.progress_interval)
        view.start_rows = sum(t.rows for t in table_progress(self.store.progress(tgt)))
        self._launch()
        try:
            lock_ms = self._handshake(tgt, src, job, snapshot, run) if snapshot.needs_global_lock else None
            rc = self._watch(tgt, view)
        except BaseException:
            self._stop_procs()
            raise
        if rc != 0:
            failed = self._failed(tgt, run, rc)
            self._stop_procs()  # the other processes of the cluster (-p N) may still be running
            raise failed
        return self._finish(tgt, started, lock_ms)

    def _watch(self, tgt, view: ProgressView) -> int:
        while True:
            rc = self._poll_procs()
            if rc is not None:
                view.update(table_progress(self.store.progress(tgt)), force=True)
                return rc
            view.update(table_progress(self.store.progress(tgt)))
            time.sleep(0.5 if view.tty else 0.2)

    def _finish(self, tgt, started: float, lock_ms: Optional[float]) -> LoadResult:
        chunks = self.store.chunks(tgt)
        open_chunks = [c.chunk.chunk for c in chunks if not c.done]
        if open_chunks:
            raise FullLoadError(f"the flow exited but chunks {open_chunks[:20]} are not done; run again to resume")
        self.store.set_stage(tgt, "loaded")
        job = self.store.load(tgt)
        wall = time.monotonic() - started
        tables = table_progress(self.store.progress(tgt))
        print(summary(tables, wall), file=self.out)
        print(f"full load of job {job.job!r} complete: snapshot TSO {job.snapshot_ts}. Start incremental "
              f"replication after it: tidb2mysql incremental --start-commit-ts {job.snapshot_ts}",
              file=self.out, flush=True)
        return LoadResult(job.job, job.snapshot_ts or 0, sum(t.rows for t in tables), wall, lock_ms)


def result_json(r: LoadResult) -> str:
    return json.dumps(r.__dict__)
