"""One table's comparison work: chunk checksums, bisection to rows, confirming and repairing.

The three steps, and why each exists:

1. **Chunk** (:meth:`Lane.check_chunk`): one checksum query per side over the chunk's key
   range (``render.checksum_sql``), the source read in a snapshot the target has applied
   (``snapshot.before``). Equal: done - the usual case costs two aggregate queries per chunk,
   and no row leaves either server. Different: the range is halved at the median key (of
   the side with more rows) until it holds at most ``leaf_rows`` rows; a leaf's rows are read
   as ``(key, row hash)`` from both sides and the keys whose hash differs or that one side
   lacks become *suspects*. A key-less table is one chunk; its suspects are row hashes whose
   number of rows differs.
2. **Confirm** (:meth:`Checker.confirm`): a suspect may just be a row the flow had not reached
   when the chunk was read, or one it had already moved past. In a target transaction its
   rows are read ``FOR UPDATE``; then a source snapshot at least as new as anything the target
   holds is opened, and the flow is given a few seconds (``hold_seconds``) to apply everything
   up to that snapshot. It cannot change the locked rows meanwhile, so if it gets there, the
   locked target rows must equal the source rows at that snapshot *exactly*, and a difference
   is real; it is then compared value by value (``compare.values_equal``; JSON by its parsed
   value). If the flow does not get there (it needed one of the locked rows), the locks are
   released and the row is re-checked in the next round; a row that never holds still is
   reported as *unsettled*, never as a difference. Before that, a cheap unlocked pass sorts
   most suspects out: source rows at ``before`` and at ``after`` an unlocked target read; all
   three equal = lag; the source changed in between = in flux, next round. That pass alone
   cannot *confirm* a difference: a row changed and changed back in between (common for the
   identical rows of key-less tables) would look like one - the locked check decides.
3. **Repair** (:meth:`Checker.repair`): the same locked reads; then the statements (DELETE by
   key first, then REPLACE; key-less: DELETE ... LIMIT n / INSERT, to exact counts) in the same
   transaction, the rows re-read and compared again (rolled back, with the table and key
   named, if they do not match), COMMIT. Changes the flow applies afterwards are newer than
   the snapshot and overwrite the repaired rows whole (upserts of full images, deletes by key;
   key-less changes match one full row), which is exactly right.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Optional

from tidb2mysql.compare import values_equal
from tidb2mysql.mysql.sql import literal, quote_ident, table_ref
from tidb2mysql.mysql.session import SESSION_SQL_MODE
from tidb2mysql.verify import render
from tidb2mysql.verify.snapshot import VerifyError

log = logging.getLogger("tidb2mysql.verify")

BATCH = 200  # keys per confirm / repair round trip
_RETRY_CODES = (1213, 1205)  # deadlock, lock wait timeout: the flow holds the rows; try again


@dataclass
class TableSpec:
    """One verified table: source names, target names, key, types (from the full-load plan)."""

    schema: str
    table: str
    columns: list
    types: list
    key: list
    target_schema: str
    target_table: str
    target_columns: list
    # False when a key column's collation differs between the servers: key ranges then select
    # different rows on each side, so a mismatching chunk is not cut (see check_chunk).
    ordered: bool = True

    @classmethod
    def from_plan(cls, tp) -> "TableSpec":
        tdb, tt, tcols = tp.target_names()
        return cls(tp.schema, tp.table, list(tp.columns), list(tp.types), list(tp.key), tdb, tt, list(tcols))

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def target_name(self) -> str:
        return f"{self.target_schema}.{self.target_table}"

    @property
    def target_key(self) -> list:
        return [self.target_columns[self.columns.index(k)] for k in self.key]

    @property
    def key_types(self) -> list:
        return [self.types[self.columns.index(k)] for k in self.key]

    @property
    def key_positions(self) -> list:
        return [self.columns.index(k) for k in self.key]

    def side(self, target: bool) -> tuple[str, str, list, list]:
        """(schema, table, columns, key) on one side."""
        if target:
            return self.target_schema, self.target_table, self.target_columns, self.target_key
        return self.schema, self.table, self.columns, self.key


@dataclass
class ChunkOutcome:
    rows_source: int = 0
    rows_target: int = 0
    ranges: int = 0
    suspects: list = field(default_factory=list)  # keyed: [[literal, ...]]; key-less: [hash, ...]
    snapshot_ts: int = 0


@dataclass
class Difference:
    """A confirmed difference. ``kind``: missing (only in source), extra (only in target),
    different (same key, ``columns`` [(name, source value, target value)]); key-less rows:
    ``count_source`` / ``count_target`` of identical rows."""

    table: str
    kind: str
    key: dict
    columns: list = field(default_factory=list)
    source_row: Optional[tuple] = None
    target_row: Optional[tuple] = None
    count_source: int = 0
    count_target: int = 0
    hashes: list = field(default_factory=list)  # key-less: the row hashes this row was found by

    def key_text(self) -> str:
        return "(" + ", ".join(f"{k}={_show(v)}" for k, v in self.key.items()) + ")"

    def __str__(self) -> str:
        if self.kind == "different":
            cols = "; ".join(f"{c}: {_show(a)} vs {_show(b)}" for c, a, b in self.columns)
            return f"{self.table} {self.key_text()}: different: {cols}"
        if self.count_source or self.count_target:
            return (f"{self.table} row {self.key_text()}: {self.count_source} in source, "
                    f"{self.count_target} in target")
        return f"{self.table} {self.key_text()}: {'missing in target' if self.kind == 'missing' else 'extra in target'}"

    def to_json(self) -> dict:
        d = {"table": self.table, "kind": self.kind, "key": {k: _show(v) for k, v in self.key.items()}}
        if self.columns:
            d["columns"] = [{"column": c, "source": _show(a), "target": _show(b)} for c, a, b in self.columns]
        if self.count_source or self.count_target:
            d["count_source"], d["count_target"] = self.count_source, self.count_target
        return d


def _show(v: Any) -> str:
    t = repr(v)
    return t if len(t) <= 80 else t[:77] + "..."


def setup_session(conn, writer: bool = False) -> None:
    """Both sides: UTC TIMESTAMPs, long sorts; a repair session also gets the apply path's
    sql_mode (zero dates allowed) and no foreign key checks, like the flow's writer."""
    with conn.cursor() as cur:
        cur.execute(render.SESSION_SETUP)
        if writer:
            cur.execute(f"SET SESSION sql_mode = '{SESSION_SQL_MODE}', foreign_key_checks = 0")


def _rows(conn, sql: str) -> list:
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def _json_equal(a, b) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except (TypeError, ValueError):
        return False


def row_equal(a: Optional[tuple], b: Optional[tuple], types: list) -> bool:
    """Exact equality of two rows as the driver returned them (None = no row)."""
    if a is None or b is None:
        return a is b
    for va, vb, t in zip(a, b, types):
        if not values_equal(va, vb) and not (t == "json" and isinstance(va, str) and isinstance(vb, str)
                                             and _json_equal(va, vb)):
            return False
    return True


def _row_key(row: tuple) -> tuple:
    """A hashable identity of a whole row for counting (Decimal by its exact text)."""
    return tuple((type(v).__name__, str(v)) if isinstance(v, Decimal) else (type(v).__name__, v) for v in row)


class RateLimiter:
    """Rows per second over all lanes: each lane pays for the rows it just read before its next
    query, so the average never exceeds ``rate`` by more than one range."""

    def __init__(self, rate: float):
        import threading

        self.rate = rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def consume(self, rows: int) -> None:
        if self.rate <= 0 or rows <= 0:
            return
        with self.lock:
            now = time.monotonic()
            start = max(self.next, now)
            self.next = start + rows / self.rate
            wait = start - now
        if wait > 0:
            time.sleep(wait)


class Lane:
    """One source and one target connection checking chunks; the source stays in one snapshot
    for ``refresh`` seconds (re-opened after that, so the target never lags far behind it)."""

    def __init__(self, src, tgt, snaps, limiter: RateLimiter, leaf_rows: int, refresh: float):
        self.src, self.tgt, self.snaps = src, tgt, snaps
        self.limiter, self.leaf_rows, self.refresh = limiter, leaf_rows, refresh
        self.ts: Optional[int] = None
        self.opened = 0.0
        setup_session(src)
        setup_session(tgt)

    def _snapshot(self, what: str) -> int:
        if self.ts is None or time.monotonic() - self.opened > self.refresh:
            if self.ts is not None:
                self.snaps.close(self.src)
            self.ts = self.snaps.before(self.src, self.tgt, what)
            self.opened = time.monotonic()
        return self.ts

    def close(self) -> None:
        if self.ts is not None:
            try:
                self.snaps.close(self.src)
            except Exception:  # noqa: BLE001 - closing after an error
                pass
            self.ts = None

    def _checksum(self, spec: TableSpec, target: bool, lo, hi) -> tuple:
        schema, table, cols, key = spec.side(target)
        sql = render.checksum_sql(schema, table, cols, spec.types, key, lo, hi)
        r = _rows(self.tgt if target else self.src, sql)[0]
        return int(r[0]), (Decimal(r[1]) if r[1] is not None else None), (int(r[2]) if r[2] is not None else None)

    def check_chunk(self, spec: TableSpec, chunk_id: int, lo, hi) -> ChunkOutcome:
        what = f"table {spec.name} chunk {chunk_id}"
        try:
            out = ChunkOutcome(snapshot_ts=self._snapshot(what))
            if not spec.key:
                return self._keyless(spec, out)
            if not spec.ordered:
                # Different key collations: ranges cut by the source's order need not cover the
                # target's rows (a bound pair can be reversed there). The first chunk compares the
                # whole table, row by row if needed; the table's other chunks have nothing to do.
                if lo is not None:
                    return out
                hi = None
            stack = [(lo, hi, None, 0)]
            while stack:
                a, b, parent, depth = stack.pop()
                cs, ct = self._checksum(spec, False, a, b), self._checksum(spec, True, a, b)
                out.ranges += 1
                self.limiter.consume(max(cs[0], ct[0]))
                if parent is None:
                    out.rows_source, out.rows_target = cs[0], ct[0]
                    max_depth = 2 * max(1, math.ceil(math.log2(max(2, max(cs[0], ct[0]) / self.leaf_rows)))) + 2
                if cs == ct:
                    continue
                n = max(cs[0], ct[0])
                # Halve while that makes progress. With the same collation on both servers the
                # halves nest and each is smaller. With different key collations (a binary TiDB
                # key, a case-insensitive target) a cut evaluates differently on the two servers:
                # halves need not nest, a half can even hold more target rows than its parent.
                # So a half that holds all of its parent's rows, or a depth beyond what halving
                # needs, ends the cutting: the range's rows are read and matched by exact key.
                if spec.ordered and n > self.leaf_rows and (cs[0], ct[0]) != parent and depth < max_depth:
                    mid = self._split(spec, cs[0] < ct[0], a, b, n // 2)
                    if mid is not None and mid != a:
                        stack += [(a, mid, (cs[0], ct[0]), depth + 1), (mid, b, (cs[0], ct[0]), depth + 1)]
                        continue
                out.suspects += self._leaf(spec, a, b)
            return out
        except VerifyError:
            raise
        except Exception as e:
            raise VerifyError(f"{what} ({spec.name} -> {spec.target_name}): {type(e).__name__}: {e}") from e

    def _split(self, spec, target: bool, lo, hi, offset: int) -> Optional[list]:
        schema, table, _, key = spec.side(target)
        rows = _rows(self.tgt if target else self.src,
                     render.split_point_sql(schema, table, key, spec.key_types, lo, hi, offset))
        return [literal(v) for v in rows[0]] if rows else None

    def _leaf(self, spec: TableSpec, lo, hi) -> list:
        nk = len(spec.key)
        hashes = []
        for target in (False, True):
            schema, table, cols, key = spec.side(target)
            sql = render.row_hashes_sql(schema, table, cols, spec.types, key, spec.key_types, lo, hi)
            hashes.append({tuple(r[:nk]): r[nk] for r in _rows(self.tgt if target else self.src, sql)})
        hs, ht = hashes
        bad = [k for k in hs.keys() | ht.keys() if hs.get(k) != ht.get(k)]
        return [[literal(v) for v in k] for k in bad]

    def _keyless(self, spec: TableSpec, out: ChunkOutcome) -> ChunkOutcome:
        cs, ct = self._checksum(spec, False, None, None), self._checksum(spec, True, None, None)
        out.ranges, out.rows_source, out.rows_target = 1, cs[0], ct[0]
        self.limiter.consume(max(cs[0], ct[0]))
        if cs == ct:
            return out
        counts = []
        for target in (False, True):
            schema, table, cols, _ = spec.side(target)
            counts.append(dict(_rows(self.tgt if target else self.src,
                                     render.hash_counts_sql(schema, table, cols, spec.types))))
        s, t = counts
        out.suspects = sorted(int(h) for h in s.keys() | t.keys() if s.get(h) != t.get(h))
        return out


@dataclass
class Verdict:
    confirmed: list = field(default_factory=list)  # [Difference]
    unsettled: list = field(default_factory=list)  # suspects that kept changing
    resolved: int = 0  # suspects that were lag


class Checker:
    """Confirms suspects and repairs confirmed differences (own connections: the source, the
    target session that locks and writes, and an autocommit target session that polls the
    flow's checkpoints - the locking session's read view would never see them move)."""

    def __init__(self, src, tgt, poll, snaps, hold_seconds: float = 5.0):
        self.src, self.tgt, self.poll, self.snaps = src, tgt, poll, snaps
        self.hold = hold_seconds
        self._images: dict = {}
        setup_session(src)
        setup_session(tgt, writer=True)

    # -- reading rows ------------------------------------------------------------------------

    def _fetch_keyed(self, spec: TableSpec, target: bool, keys: list, lock: bool = False) -> dict:
        schema, table, cols, key = spec.side(target)
        rows = _rows(self.tgt if target else self.src,
                     render.rows_by_keys_sql(schema, table, cols, spec.types, key, keys, lock))
        pos = spec.key_positions
        return {tuple(r[i] for i in pos): tuple(r) for r in rows}

    def _fetch_keyless(self, spec: TableSpec, target: bool, hashes: list, lock: bool = False) -> Counter:
        schema, table, cols, _ = spec.side(target)
        rows = _rows(self.tgt if target else self.src,
                     render.rows_by_hash_sql(schema, table, cols, spec.types, hashes, lock))
        c: Counter = Counter()
        for r in rows:
            k = _row_key(tuple(r[:-1]))
            c[k] += 1
            self._images[k] = tuple(r[:-1])
        return c

    def _locked_reads(self, spec: TableSpec, batch: list, fetch):
        """(target rows, source rows) that must be equal, or None when the flow was in the way.

        Inside a target transaction left open for the caller: the target rows are read ``FOR
        UPDATE`` (key-less: every row of the table, since a full-row match uses no index), then
        a source snapshot at least as new as anything the target holds is opened and the flow
        is given ``hold_seconds`` to apply everything up to it. It cannot touch the locked rows,
        so when it gets there they hold exactly what the source rows are at that snapshot; when
        it does not (it wanted one of them), the transaction is rolled back and None returned.
        """
        what = f"table {spec.name}"
        self.snaps.before(self.src, self.poll, what)  # first let the flow come close, holding nothing
        self.snaps.close(self.src)
        with self.tgt.cursor() as cur:
            cur.execute("BEGIN")
        try:
            timg = fetch(spec, True, batch, True)
            ts = self.snaps.after(self.src, self.poll)
            try:
                if not self.snaps.reached(self.poll, ts, self.hold):
                    self._rollback()
                    return None
                img = fetch(spec, False, batch)
            finally:
                self.snaps.close(self.src)
            return timg, img
        except BaseException:
            self._rollback()
            raise

    # -- confirming ----------------------------------------------------------------------------

    def _three_reads(self, spec: TableSpec, batch: list, fetch):
        """Unlocked: source at ``before``, the target, source at ``after`` (cheap first sort)."""
        self.snaps.before(self.src, self.poll, f"table {spec.name}")
        try:
            img1 = fetch(spec, False, batch)
        finally:
            self.snaps.close(self.src)
        timg = fetch(spec, True, batch)
        self.snaps.after(self.src, self.poll)
        try:
            img2 = fetch(spec, False, batch)
        finally:
            self.snaps.close(self.src)
        return img1, timg, img2

    def confirm(self, spec: TableSpec, suspects: list) -> Verdict:
        """Sort suspects cheaply first, without locks: a target row equal to the source's at
        ``before`` and at ``after`` was lag; a source row that changed in between is in flux
        (next round). Only the rest - the source held still and the target differs - gets the
        locked check that decides it (a change and its undo in between would fool the cheap one)."""
        v = Verdict()
        for i in range(0, len(suspects), BATCH):
            batch = suspects[i:i + BATCH]
            try:
                if spec.key:
                    img1, timg, img2 = self._three_reads(spec, batch, self._fetch_keyed)
                    todo = []
                    for k in img1.keys() | timg.keys() | img2.keys():
                        s1, t, s2 = img1.get(k), timg.get(k), img2.get(k)
                        if not row_equal(s1, s2, spec.types):
                            v.unsettled.append([literal(x) for x in k])
                        elif row_equal(s1, t, spec.types):
                            v.resolved += 1
                        else:
                            todo.append([literal(x) for x in k])
                    v.resolved += max(0, len(batch) - len(img1.keys() | timg.keys() | img2.keys()))
                else:
                    c1, ct, c2 = self._three_reads(spec, batch, self._fetch_keyless)
                    keys = c1.keys() | ct.keys() | c2.keys()
                    if any(c1[k] != c2[k] for k in keys):
                        v.unsettled += batch
                        continue
                    if all(c1[k] == ct[k] for k in keys):
                        v.resolved += len(batch)
                        continue
                    todo = batch
                if not todo:
                    continue
                reads = self._locked_reads(spec, todo, self._fetch_keyed if spec.key else self._fetch_keyless)
                self._rollback()  # release the rows at once
                if reads is None:
                    v.unsettled += todo
                elif spec.key:
                    self._judge_keyed(spec, todo, *reads, v)
                else:
                    self._judge_keyless(spec, todo, *reads, v)
            except VerifyError:
                raise
            except Exception as e:
                raise VerifyError(f"table {spec.name}: re-checking {len(batch)} suspected row(s): "
                                  f"{type(e).__name__}: {e}") from e
        return v

    def _judge_keyed(self, spec: TableSpec, batch: list, timg: dict, img: dict, v: Verdict) -> None:
        keys = timg.keys() | img.keys()
        for k in keys:
            s, t = img.get(k), timg.get(k)
            if row_equal(s, t, spec.types):
                v.resolved += 1
            else:
                v.confirmed.append(self._difference(spec, k, s, t))
        v.resolved += max(0, len(batch) - len(keys))  # no row on either side any more: lag

    def _difference(self, spec: TableSpec, k: tuple, s: Optional[tuple], t: Optional[tuple]) -> Difference:
        key = dict(zip(spec.key, k))
        if t is None:
            return Difference(spec.name, "missing", key, source_row=s)
        if s is None:
            return Difference(spec.name, "extra", key, target_row=t)
        cols = [(c, a, b) for c, a, b, ty in zip(spec.columns, s, t, spec.types)
                if not row_equal((a,), (b,), [ty])]
        return Difference(spec.name, "different", key, cols, s, t)

    def _judge_keyless(self, spec: TableSpec, batch: list, ct: Counter, cs: Counter, v: Verdict) -> None:
        bad = [rk for rk in cs.keys() | ct.keys() if cs[rk] != ct[rk]]
        for rk in bad:
            row = self._images[rk]
            v.confirmed.append(Difference(spec.name, "missing" if cs[rk] > ct[rk] else "extra",
                                          dict(zip(spec.columns, row)), source_row=row, target_row=row,
                                          count_source=cs[rk], count_target=ct[rk], hashes=list(batch)))
        if not bad:
            v.resolved += len(batch)

    # -- repair statements ---------------------------------------------------------------------

    @staticmethod
    def statements(spec: TableSpec, diffs: list) -> list[str]:
        """Exact statements making the target rows of ``diffs`` equal to the source images:
        DELETEs by key first (a case-insensitive target key must not delete a row a REPLACE
        just wrote), then REPLACEs; key-less rows: DELETE ... LIMIT n / INSERT, to exact counts."""
        ref = table_ref(spec.target_schema, spec.target_table)
        cols = ",".join(quote_ident(c) for c in spec.target_columns)
        dels, puts = [], []
        for d in diffs:
            if not spec.key:
                if d.count_target > d.count_source:
                    match = render.row_match(spec.target_columns, [literal(x) for x in d.target_row], spec.types)
                    dels.append(f"DELETE FROM {ref} WHERE {match} LIMIT {d.count_target - d.count_source}")
                else:
                    vals = "(" + ",".join(literal(x) for x in d.source_row) + ")"
                    puts += [f"INSERT INTO {ref} ({cols}) VALUES {vals}"] * (d.count_source - d.count_target)
                continue
            if d.kind == "extra":
                where = " AND ".join(f"{quote_ident(c)} = {literal(d.key[k])}"
                                     for c, k in zip(spec.target_key, spec.key))
                dels.append(f"DELETE FROM {ref} WHERE {where}")
            else:
                puts.append(f"REPLACE INTO {ref} ({cols}) VALUES ("
                            + ",".join(literal(x) for x in d.source_row) + ")")
        return dels + puts

    # -- repairing -----------------------------------------------------------------------------

    def repair(self, spec: TableSpec, diffs: list, attempts: int = 20) -> tuple[int, list]:
        """Apply the statements for ``diffs`` in transactions that re-verify; returns (rows
        repaired, differences left alone because the row changed meanwhile)."""
        repaired, skipped = 0, []
        for i in range(0, len(diffs), BATCH):
            batch = diffs[i:i + BATCH]
            for attempt in range(attempts):
                try:
                    n, left = self._repair_batch(spec, batch)
                    repaired += n
                    skipped += left
                    break
                except Exception as e:
                    self._rollback()
                    if getattr(e, "args", (None,))[0] in _RETRY_CODES and attempt + 1 < attempts:
                        time.sleep(0.05 * (attempt + 1))
                        continue
                    if isinstance(e, VerifyError):
                        raise
                    raise VerifyError(f"table {spec.target_name}: repair failed: {type(e).__name__}: {e}") from e
        return repaired, skipped

    def _rollback(self) -> None:
        try:
            with self.tgt.cursor() as cur:
                cur.execute("ROLLBACK")
        except Exception:  # noqa: BLE001
            pass

    def _repair_batch(self, spec: TableSpec, batch: list) -> tuple[int, list]:
        """One transaction: the locked reads, the statements, the re-read, COMMIT."""
        if spec.key:
            lits = [[literal(d.key[k]) for k in spec.key] for d in batch]
            reads = self._locked_reads(spec, lits, self._fetch_keyed)
            if reads is None:
                return 0, list(batch)
            timg, img = reads
            todo = []
            for d in batch:
                k = tuple(d.key[c] for c in spec.key)
                if not row_equal(img.get(k), timg.get(k), spec.types):
                    todo.append(self._difference(spec, k, img.get(k), timg.get(k)))
            with self.tgt.cursor() as cur:
                for s in self.statements(spec, todo):
                    cur.execute(s)
            after = self._fetch_keyed(spec, True, lits, lock=True) if todo else {}
            for d in todo:
                k = tuple(d.key[c] for c in spec.key)
                want = d.source_row if d.kind != "extra" else None
                if not row_equal(want, after.get(k), spec.types):
                    raise VerifyError(
                        f"table {spec.target_name} key {d.key_text()}: the repaired row does not read back as the "
                        f"source row (target column definitions differ?): {_show(after.get(k))} vs {_show(want)}; "
                        f"rolled back")
        else:
            hashes = sorted({h for d in batch for h in d.hashes})
            reads = self._locked_reads(spec, hashes, self._fetch_keyless)
            if reads is None:
                return 0, list(batch)
            ct, cs = reads
            wanted = {_row_key(d.source_row) for d in batch}
            todo = []
            for rk in wanted:
                if cs[rk] != ct[rk]:
                    row = self._images[rk]
                    todo.append(Difference(spec.name, "missing" if cs[rk] > ct[rk] else "extra", {},
                                           source_row=row, target_row=row, count_source=cs[rk], count_target=ct[rk]))
            with self.tgt.cursor() as cur:
                for s in self.statements(spec, todo):
                    cur.execute(s)
                for d in todo:
                    match = render.row_match(spec.target_columns, [literal(x) for x in d.source_row], spec.types)
                    cur.execute(f"SELECT COUNT(*) FROM {table_ref(spec.target_schema, spec.target_table)} "
                                f"WHERE {match} FOR UPDATE")
                    got = int(cur.fetchone()[0])
                    if got != d.count_source:
                        raise VerifyError(f"table {spec.target_name} row {_show(d.source_row)}: {got} copies after "
                                          f"the repair, the source has {d.count_source}; rolled back")
        with self.tgt.cursor() as cur:
            cur.execute("COMMIT")
        return len(todo), []
