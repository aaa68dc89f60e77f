"""Applying the selection to incremental events: the ``Selector`` of the pipeline.

Row changes of tables that are not selected are dropped before routing (counted; the count
is logged periodically). Selected tables get their target names and only their selected
columns: the ``TableSchema`` (columns, types, keys) and every row image are projected.
A projection is computed once per distinct ``TableSchema`` (Drainer sends the same structure
with every message, so this is a dictionary lookup per table per message).

DDL events pass through unchanged: the DDL barrier must see every DDL so that one on an
excluded table is recorded as skipped in ``ddl_history`` (``selection/ddl.py`` decides).
"""

from __future__ import annotations

import logging
import time
from typing import Callable, Optional

from tidb2mysql.events import DDL, Event, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.selection.engine import Selection, SelectionError

log = logging.getLogger("tidb2mysql.selection")


class _Projection:
    __slots__ = ("schema", "keep", "identity")

    def __init__(self, schema: TableSchema, keep: Optional[tuple[int, ...]], identity: bool):
        self.schema = schema
        self.keep = keep
        self.identity = identity


def project_schema(sel: Selection, ts: TableSchema) -> tuple[TableSchema, tuple[int, ...], bool]:
    """Target ``TableSchema`` for a selected source table, the kept column indexes, identity?"""
    tdb, ttable = sel.check_target(ts.schema, ts.table)
    cp = sel.column_plan(ts.schema, ts.table, ts.columns)
    if cp.identity and (tdb, ttable) == (ts.schema, ts.table):
        return ts, cp.keep, True
    pos = {old: new for new, old in enumerate(cp.keep)}
    lost = [ts.columns[i] for i in ts.pk if i not in pos]
    if lost:
        raise SelectionError(f"table {ts.qualified}: the column selection leaves out primary key column(s) "
                             f"{', '.join(lost)}; rows could not be matched on the target")

    def pick(values: tuple) -> tuple:
        return tuple(values[i] for i in cp.keep) if values else values

    keys = tuple((name, tuple(pos[i] for i in cols)) for name, cols in ts.unique_keys if all(i in pos for i in cols))
    new = TableSchema(tdb, ttable, cp.names, pick(ts.types), pick(ts.flen), pick(ts.decimal),
                      tuple(pos[i] for i in ts.pk), keys, tuple(pos[i] for i in ts.unsigned if i in pos))
    return new, cp.keep, cp.identity


class EventSelector:
    """``Selector`` for ``replication.pipeline.Pipeline``: ``__call__(event) -> event | None``."""

    def __init__(self, selection: Selection, log_interval: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.sel = selection
        self.cache: dict[TableSchema, Optional[_Projection]] = {}
        self.dropped_rows = 0
        self.dropped_tables: dict[str, int] = {}
        self.messages = 0
        self.log_interval = log_interval
        self.clock = clock
        self._next_log = clock() + log_interval
        self._warned_unmatched = False
        for r in selection.rule_texts():
            log.info("selection rule: %s", r)

    def __call__(self, ev: Event) -> Optional[Event]:
        self.messages += 1
        if self.messages == self.sel.config.warn_after_messages and not self._warned_unmatched:
            self._warned_unmatched = True
            for r in self.sel.unmatched():
                log.warning("selection rule %s matched nothing in the first %d messages", r, self.messages)
        if self.clock() >= self._next_log:
            self.log_counts()
        if isinstance(ev, DDL):
            return ev
        return self.select_txn(ev)

    def select_txn(self, txn: Txn) -> Optional[Txn]:
        out: list[TableChanges] = []
        changed = False
        for tc in txn.tables:
            p = self._projection(tc.schema)
            if p is None:
                changed = True
                self.dropped_rows += len(tc.rows)
                q = tc.schema.qualified
                self.dropped_tables[q] = self.dropped_tables.get(q, 0) + len(tc.rows)
                continue
            if p.identity and p.schema is tc.schema:
                out.append(tc)
                continue
            changed = True
            keep = p.keep
            if p.identity:
                rows = tc.rows
            else:
                rows = [RowChange(r.op, tuple(r.new[i] for i in keep) if r.new is not None else None,
                                  tuple(r.old[i] for i in keep) if r.old is not None else None) for r in tc.rows]
            out.append(TableChanges(p.schema, rows))
        if not changed:
            return txn
        if not out:
            return None
        return Txn(txn.commit_ts, out, txn.position)

    def project(self, ts: TableSchema) -> Optional[tuple[TableSchema, tuple[int, ...]]]:
        """The target schema of ``ts``'s rows and the source positions of its columns, or
        None when the table is not selected (what :meth:`select_txn` does to its rows)."""
        p = self._projection(ts)
        return None if p is None else (p.schema, p.keep)

    def _projection(self, ts: TableSchema) -> Optional[_Projection]:
        try:
            return self.cache[ts]
        except KeyError:
            pass
        why = self.sel.exclusion(ts.schema, ts.table)
        if why:
            p = None
            if ts.qualified not in self.dropped_tables:
                log.info("selection: dropping row changes of %s (%s); counts are logged every %.0f s",
                         ts.qualified, why, self.log_interval)
        else:
            try:
                new, keep, identity = project_schema(self.sel, ts)
            except SelectionError as e:
                raise SelectionError(f"{e} (incremental replication)") from None
            p = _Projection(new, keep, identity)
        self.cache[ts] = p
        return p

    def log_counts(self) -> None:
        self._next_log = self.clock() + self.log_interval
        if self.dropped_rows:
            top = sorted(self.dropped_tables.items(), key=lambda kv: -kv[1])[:5]
            log.info("selection: dropped %d row changes of unselected tables so far (%s)", self.dropped_rows,
                     ", ".join(f"{t}: {n}" for t, n in top))
