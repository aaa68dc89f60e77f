"""``tidb2mysql verify``: plan, lanes, rate limit, progress, re-check rounds, repair, report.

The plan is the full load's (``fullload/chunking.py``: selection, key choice, chunk ranges;
``selection/fullload.py``: column selection and target names), made with exact row counts so
chunks are even. It is stored with the run (``store.py``); a run that did not finish is
resumed by the next ``verify`` of the same job (``--restart`` starts a new one), skipping the
chunks it finished and re-checking their suspects. Lanes are threads, each with its own
source and target connection (the work is two aggregate queries per chunk on the servers; the
threads only wait), pulling chunks from one queue, so a slow table does not hold others up.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from tidb2mysql.mysql import db
from tidb2mysql.fullload.chunking import Chunk, LoadPlanError, TablePlan, make_plan, select_tables
from tidb2mysql.fullload.progress import ProgressView, TableProgress
from tidb2mysql.fullload.snapshot import detect_kind
from tidb2mysql.ops.metrics import METRICS
from tidb2mysql.selection.engine import Selection, SelectionError
from tidb2mysql.selection.fullload import map_plan, select_source_tables
from tidb2mysql.verify.engine import Checker, Difference, Lane, RateLimiter, TableSpec
from tidb2mysql.verify.snapshot import VerifyError, make_snapshots
from tidb2mysql.verify.store import VerifyStore

log = logging.getLogger("tidb2mysql.verify")


@dataclass
class VerifyOptions:
    tables: Sequence[str] = ()
    fix: bool = False
    rate: Optional[float] = None
    lanes: Optional[int] = None
    restart: bool = False
    repair_sql: Optional[str] = None
    chunk_rows: Optional[int] = None


@dataclass
class Report:
    job: str
    run_id: int
    snapshot: str
    tables: list = field(default_factory=list)  # [{table, target, rows_source, rows_target, chunks, differences}]
    rows: int = 0
    chunks: int = 0
    chunks_resumed: int = 0
    ranges: int = 0
    differences: list = field(default_factory=list)  # [Difference] (kept up to max_diffs per table)
    difference_count: int = 0
    by_kind: dict = field(default_factory=dict)
    unsettled: list = field(default_factory=list)  # [(table, key literals / hash)]
    lag_rechecked: int = 0
    rounds: int = 0
    repaired: Optional[int] = None
    repair_sql: Optional[str] = None
    first_ts: int = 0
    last_ts: int = 0
    waited_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return self.difference_count == 0 and not self.unsettled

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict:
        d = asdict(self)
        d["differences"] = [x.to_json() for x in self.differences]
        d["unsettled"] = [{"table": t, "key": k} for t, k in self.unsettled]
        d["clean"] = self.clean
        d["rows_per_second"] = round(self.rows_per_second, 1)
        return d

    def text(self) -> str:
        lines = [f"verify of job {self.job!r} (run {self.run_id}, {self.snapshot} snapshots at commit_ts "
                 f"{self.first_ts}..{self.last_ts}): {len(self.tables)} table(s), {self.rows:,} source rows, "
                 f"{self.chunks} chunks ({self.chunks_resumed} from an earlier attempt), {self.ranges} ranges "
                 f"checksummed, {self.seconds:.1f}s, {self.rows_per_second:,.0f} rows/s"]
        for t in self.tables:
            lines.append(f"  {t['table']}" + (f" -> {t['target']}" if t['target'] != t['table'] else "")
                         + f": {t['rows_source']:,} rows in source, {t['rows_target']:,} in target, "
                           f"{t['chunks']} chunk(s), {t['differences']} difference(s)")
        lines.append(f"  suspected rows re-checked after the flow moved on: {self.lag_rechecked} were lag "
                     f"({self.rounds} round(s), {self.waited_seconds:.1f}s waiting for the target)")
        for d in self.differences:
            lines.append(f"  DIFFERENCE {d}")
        hidden = self.difference_count - len(self.differences)
        if hidden > 0:
            lines.append(f"  ... and {hidden} more difference(s)")
        for t, k in self.unsettled[:50]:
            lines.append(f"  UNSETTLED {t} {k}: kept changing; verify again")
        if self.repaired is not None:
            lines.append(f"  repaired {self.repaired} row(s) in the target (each re-verified in its transaction)")
        if self.repair_sql:
            lines.append(f"  repair statements: {self.repair_sql}")
        kinds = ", ".join(f"{v} {k}" for k, v in sorted(self.by_kind.items())) or "none"
        state = "CLEAN" if self.clean else ("REPAIRED" if self.repaired is not None and not self.unsettled
                                            and self.repaired >= self.difference_count else "DIFFERENT")
        lines.append(f"RESULT: {state}: {self.difference_count} difference(s) ({kinds}), "
                     f"{len(self.unsettled)} unsettled")
        return "\n".join(lines)


class _View(ProgressView):
    """The full load's progress (bars on a terminal, lines otherwise), worded for verify."""

    def line(self, tables) -> str:
        return "verify" + super().line(tables)[len("full load"):]


class Verifier:
    def __init__(self, cfg, opts: VerifyOptions, out=None):
        self.cfg, self.opts = cfg, opts
        self.s = cfg.verify
        self.out = out or sys.stderr
        self.meta, self.job = cfg.job.meta_schema, cfg.job.name
        self.store = VerifyStore(self.meta, self.job)
        self.rate = self.s.rate if opts.rate is None else opts.rate
        self.lanes = opts.lanes or self.s.lanes

    # -- plan ----------------------------------------------------------------------------------

    def _plan(self, src) -> tuple[str, list, list]:
        patterns = list(self.opts.tables) or list(self.s.tables) or list(self.cfg.full_load.tables)
        try:
            selected = select_tables(src, patterns, exclude_schemas=[self.meta])
            sel = Selection.from_config(self.cfg)
            selected = select_source_tables(sel, selected)
            if not selected:
                raise VerifyError("no tables selected for the verify")
            # row_ids=False: chunks are compared on the target too, which has no _tidb_rowid
            plan = make_plan(src, selected, self.opts.chunk_rows or self.s.chunk_rows, 1, exact_counts=True,
                             row_ids=False)
            map_plan(sel, plan)
        except (LoadPlanError, SelectionError) as e:
            raise VerifyError(str(e)) from None
        kind = self.s.snapshot if self.s.snapshot != "auto" else detect_kind(src)
        return kind, plan.tables, plan.chunks

    def _check_target(self, src, tgt, specs: list[TableSpec]) -> None:
        """Every target table and column exists; note tables whose key collations differ."""
        problems = []
        for sp in specs:
            with tgt.cursor() as cur:
                cur.execute("SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE "
                            "TABLE_SCHEMA = %s AND TABLE_NAME = %s", (sp.target_schema, sp.target_table))
                tcoll = {r[0]: r[1] for r in cur.fetchall()}
            with src.cursor() as cur:
                cur.execute("SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE "
                            "TABLE_SCHEMA = %s AND TABLE_NAME = %s", (sp.schema, sp.table))
                scoll = {r[0]: r[1] for r in cur.fetchall()}
            have = set(tcoll)
            if have and any(scoll.get(k) != tcoll.get(tk) for k, tk in zip(sp.key, sp.target_key)):
                sp.ordered = False
                log.warning("table %s: key collation differs in the target %s (%s vs %s): key ranges select "
                            "different rows on the two servers, so mismatching chunks are compared row by row "
                            "(slower, still exact)", sp.name, sp.target_name,
                            ", ".join(str(scoll.get(k)) for k in sp.key),
                            ", ".join(str(tcoll.get(k)) for k in sp.target_key))
            if not have:
                problems.append(f"table {sp.target_name} (of source {sp.name}) does not exist in the target")
                continue
            missing = [c for c in sp.target_columns if c not in have]
            if missing:
                problems.append(f"table {sp.target_name}: column(s) {', '.join(missing)} missing in the target")
        if problems:
            raise VerifyError("; ".join(problems))

    # -- run -----------------------------------------------------------------------------------

    def run(self) -> Report:
        t0 = time.monotonic()
        from tidb2mysql.verify import render

        render.HASH = self.s.hash
        tgt = db.connect(self.cfg.target)
        src = db.connect(self.cfg.source)
        try:
            self.store.ensure(tgt)
            prev = self.store.latest(tgt)
            if prev is not None and prev.state == "running" and not self.opts.restart:
                if self.opts.tables and list(self.opts.tables) != prev.plan.get("patterns"):
                    raise VerifyError(f"run {prev.run_id} of job {self.job!r} did not finish and verified "
                                      f"{prev.plan.get('patterns') or 'the default selection'}; resume it without "
                                      f"--tables, or start over with --restart")
                run_id, plan = prev.run_id, prev.plan
                log.info("resuming verify run %d of job %r", run_id, self.job)
            else:
                kind, tables, chunks = self._plan(src)
                plan = {"kind": kind, "patterns": list(self.opts.tables),
                        "tables": [t.to_json() for t in tables], "chunks": [asdict(c) for c in chunks]}
                run_id = self.store.create(tgt, plan, len(chunks))
            specs = [TableSpec.from_plan(TablePlan.from_json(t)) for t in plan["tables"]]
            chunks = [Chunk(**c) for c in plan["chunks"]]
            self._check_target(src, tgt, specs)
            fl = self.cfg.full_load
            snaps = make_snapshots(plan["kind"], fl.tso_table, self.cfg.kafka.topic, self.meta, self.job,
                                   self.s.wait_timeout)
            if snaps.applied(tgt) is None:
                log.warning("no incremental checkpoints for job %r: the target is compared as it is (nothing "
                            "is waited for)", self.job)
            rep = Report(self.job, run_id, snaps.kind)
            done = self.store.done_chunks(tgt, run_id)
            rep.chunks_resumed = len(done)
            try:
                self._check_chunks(specs, chunks, done, snaps, run_id, rep)
                self._recheck(specs, chunks, done, snaps, rep)
                state = "done"
            except BaseException:
                try:  # stays resumable; the error itself is what the user needs to see
                    self.store.finish(tgt, run_id, "running", 0, 0, 0, None, {})
                except Exception:  # noqa: BLE001
                    pass
                raise
            rep.seconds = time.monotonic() - t0
            rep.waited_seconds = snaps.waited
            self.store.finish(tgt, run_id, state, rep.rows, rep.difference_count, len(rep.unsettled),
                              rep.repaired, rep.to_json())
            return rep
        finally:
            src.close()
            tgt.close()

    def _check_chunks(self, specs, chunks, done: dict, snaps, run_id: int, rep: Report) -> None:
        todo: queue.Queue = queue.Queue()
        for c in sorted(chunks, key=lambda c: (-c.est_rows, c.chunk)):
            if c.chunk not in done:
                todo.put(c)
        METRICS.set("verify_chunks_planned", len(chunks))
        limiter = RateLimiter(self.rate)
        errors: list = []
        lock = threading.Lock()
        counters = {"rows": sum(d["rows_source"] for d in done.values()), "chunks": len(done)}
        start_rows = counters["rows"]

        def lane_main(i: int) -> None:
            src = tgt = lane = None
            try:
                src, tgt = db.connect(self.cfg.source), db.connect(self.cfg.target)
                lane = Lane(src, tgt, snaps, limiter, self.s.leaf_rows, self.s.snapshot_refresh)
                while not errors:
                    try:
                        c = todo.get_nowait()
                    except queue.Empty:
                        return
                    sp = specs[c.table]
                    o = lane.check_chunk(sp, c.chunk, c.lo, c.hi)
                    self.store.chunk_done(tgt, run_id, c.chunk, o.rows_source, o.rows_target, o.snapshot_ts,
                                          o.ranges, o.suspects)
                    with lock:
                        done[c.chunk] = {"rows_source": o.rows_source, "rows_target": o.rows_target,
                                         "snapshot_ts": o.snapshot_ts, "ranges": o.ranges, "suspects": o.suspects}
                        counters["rows"] += o.rows_source
                        counters["chunks"] += 1
                    METRICS.inc("verify_rows_total", o.rows_source)
                    METRICS.inc("verify_chunks_total", 1, result="equal" if not o.suspects else "suspect")
                    log.debug("lane %d: %s chunk %d: %d rows, %d ranges, %d suspects", i, sp.name, c.chunk,
                              o.rows_source, o.ranges, len(o.suspects))
            except BaseException as e:  # noqa: BLE001 - reported by the main thread
                errors.append(e)
            finally:
                if lane is not None:
                    lane.close()
                for conn in (src, tgt):
                    if conn is not None:
                        conn.close()

        threads = [threading.Thread(target=lane_main, args=(i,), name=f"verify-lane-{i}", daemon=True)
                   for i in range(min(self.lanes, max(1, todo.qsize())))]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        view = _View(self.out, self.s.progress_interval)

        def tables_now() -> list[TableProgress]:
            with lock:
                return [TableProgress(sp.name, sum(c.est_rows for c in chunks if c.table == i),
                                      sum(done[c.chunk]["rows_source"] for c in chunks if c.table == i and c.chunk in done),
                                      sum(1 for c in chunks if c.table == i),
                                      sum(1 for c in chunks if c.table == i and c.chunk in done), None)
                        for i, sp in enumerate(specs)]

        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(0.2)
            view.update(tables_now())
            with lock:
                rows = counters["rows"]
            METRICS.set("verify_rows_per_second", (rows - start_rows) / max(1e-9, time.monotonic() - t0))
        if errors:
            raise errors[0]
        for sp_i, sp in enumerate(specs):
            mine = [done[c.chunk] for c in chunks if c.table == sp_i]
            rep.tables.append({"table": sp.name, "target": sp.target_name,
                               "rows_source": sum(d["rows_source"] for d in mine),
                               "rows_target": sum(d["rows_target"] for d in mine), "chunks": len(mine),
                               "differences": 0})
        rep.rows = sum(t["rows_source"] for t in rep.tables)
        rep.chunks = len(chunks)
        rep.ranges = sum(d["ranges"] for d in done.values())
        tss = [d["snapshot_ts"] for d in done.values()]
        rep.first_ts, rep.last_ts = (min(tss), max(tss)) if tss else (0, 0)

    def _recheck(self, specs, chunks, done: dict, snaps, rep: Report) -> None:
        """Rounds of confirmation (lag re-checks), then the repair or the repair file."""
        pending: dict[int, list] = {}
        for c in chunks:
            pending.setdefault(c.table, []).extend(done[c.chunk]["suspects"])
        # Once each: ranges of different chunks can overlap when the key collations of the two
        # servers differ (the same row is then suspected by several ranges).
        pending = {ti: [list(k) if isinstance(k, tuple) else k for k in
                        dict.fromkeys(tuple(x) if isinstance(x, list) else x for x in sus)]
                   for ti, sus in pending.items()}
        confirmed: dict[int, list] = {}
        src, tgt, poll = db.connect(self.cfg.source), db.connect(self.cfg.target), db.connect(self.cfg.target)
        try:
            checker = Checker(src, tgt, poll, snaps, self.s.hold_seconds)
            for rnd in range(self.s.recheck_rounds):
                if not any(pending.values()):
                    break
                if rnd:
                    time.sleep(self.s.recheck_interval)
                rep.rounds += 1
                nxt: dict[int, list] = {}
                for ti, sus in pending.items():
                    if not sus:
                        continue
                    v = checker.confirm(specs[ti], sus)
                    have = confirmed.setdefault(ti, [])
                    seen = {(d.kind, tuple(d.key.items()), d.count_source, d.count_target) for d in have}
                    for d in v.confirmed:  # the same row can be found via two suspects (key collations)
                        ident = (d.kind, tuple(d.key.items()), d.count_source, d.count_target)
                        if ident not in seen:
                            seen.add(ident)
                            have.append(d)
                    rep.lag_rechecked += v.resolved
                    if v.unsettled:
                        nxt[ti] = v.unsettled
                pending = nxt
            rep.unsettled = [(specs[ti].name, k) for ti, sus in pending.items() for k in sus]
            for ti, diffs in confirmed.items():
                rep.tables[ti]["differences"] = len(diffs)
                rep.difference_count += len(diffs)
                rep.differences += diffs[: self.s.max_diffs]
                for d in diffs:
                    rep.by_kind[d.kind] = rep.by_kind.get(d.kind, 0) + 1
            for kind in ("missing", "extra", "different"):
                METRICS.set("verify_differences", rep.by_kind.get(kind, 0), kind=kind)
            METRICS.set("verify_unsettled", len(rep.unsettled))
            if rep.difference_count and (self.opts.repair_sql or not self.opts.fix):
                rep.repair_sql = self._write_repair_file(specs, confirmed, rep)
            if self.opts.fix and rep.difference_count:
                rep.repaired = 0
                for ti, diffs in confirmed.items():
                    left = diffs
                    for attempt in range(self.s.recheck_rounds):
                        if attempt:
                            time.sleep(self.s.recheck_interval)
                        n, left = checker.repair(specs[ti], left)
                        rep.repaired += n
                        if not left:
                            break
                    if left:
                        log.warning("table %s: %d row(s) kept changing while being repaired; not repaired, verify "
                                    "again", specs[ti].name, len(left))
                        rep.unsettled += [(specs[ti].name, d.key_text()) for d in left]
                METRICS.inc("verify_repaired_total", rep.repaired)
        finally:
            src.close()
            tgt.close()
            poll.close()

    def _write_repair_file(self, specs, confirmed: dict, rep: Report) -> str:
        path = Path(self.opts.repair_sql or f"tidb2mysql-verify-{self.job}-{rep.run_id}.sql")
        with open(path, "w", encoding="utf-8") as f:
            f.write(f"-- tidb2mysql verify, job {self.job!r}, run {rep.run_id}: {rep.difference_count} difference(s)\n"
                    f"-- Source images as of commit_ts {rep.first_ts}..{rep.last_ts} (each row re-read at two\n"
                    f"-- snapshots and unchanged between them). Apply only while the incremental flow of this job\n"
                    f"-- is at or past those commit_ts and none of these rows changes meanwhile, e.g. with the\n"
                    f"-- flow stopped after it caught up; `tidb2mysql verify --fix` does the same safely online\n"
                    f"-- (locks each row, re-reads the source, re-verifies in the transaction).\n"
                    f"SET NAMES utf8mb4;\nSET SESSION time_zone = '+00:00';\nSET SESSION foreign_key_checks = 0;\n")
            for ti, diffs in confirmed.items():
                if not diffs:
                    continue
                f.write(f"\n-- {specs[ti].name} -> {specs[ti].target_name}: {len(diffs)} difference(s)\nBEGIN;\n")
                for s in Checker.statements(specs[ti], diffs):
                    f.write(s + ";\n")
                f.write("COMMIT;\n")
        os.chmod(path, 0o600)  # row data
        return str(path)


def verify(cfg, opts: VerifyOptions, out=None) -> Report:
    return Verifier(cfg, opts, out).run()


__all__ = ["Difference", "VerifyOptions", "Report", "VerifyError", "Verifier", "verify"]
