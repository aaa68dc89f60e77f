"""The pure half of applying a flush: merged table batches -> the ordered statements to run.

No connection, no I/O: everything here is decided from the batches and each table's
:class:`~tidb2mysql.mysql.sql.TableSQL` (which already holds the target's structure), so every
decision is unit-tested without a server (tests/unit/test_dml_plan.py). The executor,
:class:`tidb2mysql.replication.writer.BatchWriter`, runs what this returns in one transaction
and does the checks that need the server's answers (rows matched, keys found).

Decisions made here:

* **Effective mode per table.** The merger picks the mode from the message; the target can
  make ``upsert`` unsafe: ``ON DUPLICATE KEY UPDATE`` fires on *any* unique key, so unless the
  target's only unique key is the message's row key (compared as sets: Drainer lists key
  columns in column order, the target in key order), the batch is written as
  ``replace_by_key``: every key of its rows is deleted too, then the rows are plainly inserted.
* **A message column the target lacks** is an error for the whole table (never a silently
  dropped value); columns left out on purpose were removed by ``[selection]`` before routing.
* **Statement order** (:func:`plan_flush`): the deletes of every keyed table first (so no final
  image collides with a row the window deletes or re-keys; different tables are independent,
  foreign-key checks are off), then the existence checks of rows updated in the window, then
  the upserts / inserts, then the ordered (key-less or ordered-mode) tables change by change.
* **Born rows that are loaded are not deleted first.** A ``replace_by_key`` table deletes the
  key of every row it writes, except a row born in the window (its first change an INSERT)
  that goes to a LOAD step: its key was absent at the window's start, and the checkpoint
  commits with the rows, so the target does not hold it unless it differs from the source.
  Then the load skips the row with a warning, and the executor's fallback
  (``BatchWriter._load``) deletes every key of the load before it inserts the load's rows,
  as the first delete would have. Only when a unique key of the target is the row key (else
  the load would add a second copy without a warning: every key is deleted first); rows
  written by INSERT keep the delete too (a plain INSERT cannot repair). Why: such a DELETE
  finds nothing and still costs the target a probe per key: the unique-key workload's
  target spends 1.0-1.9 us less per row without them (docs/performance.md, "Twenty-first
  session").
* **Salvage** (:func:`salvage_units`): the same order, one row per unit, each unit's SQL built
  lazily so a value without a literal fails that change only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator, Optional, Sequence

from tidb2mysql.mysql.sql import LiteralError, TableSQL
from tidb2mysql.replication.change import Change
from tidb2mysql.replication.merge import ORDERED, REPLACE_BY_KEY, UPSERT, TableBatch, key_getter
from tidb2mysql.errors import InputDataError

# Step operations, in the order plan_flush emits them.
DELETE = "delete"  # a multi-row DELETE by key; `check`: every key must exist (upsert mode)
CHECK_EXISTING = "check_existing"  # COUNT(*) of keys that must be in the target
WRITE = "write"  # a multi-row upsert or insert
LOAD = "load"  # rows expected new, as one LOAD DATA LOCAL (`data`); `rows`: what to write instead
ORDERED_CHANGE = "ordered"  # one change of an ordered table

ORDERED_KINDS = {0: "insert_one", 1: "update_one", 2: "delete_one"}


class PlanningError(InputDataError):
    """A batch cannot be written as it is: names the table, statement kind and row key.
    The cause (``LiteralError``, ``ValueError``) is chained."""

    def __init__(self, table: str, kind: str, key: Any, message: str, code: int = -1):
        super().__init__(message)
        self.table, self.kind, self.key, self.message, self.code = table, kind, key, message, code


@dataclass
class TablePlan:
    """One table's part of a flush: the effective mode and what to delete first."""

    batch: TableBatch
    sql: TableSQL
    mode: str  # effective mode (may be stricter than batch.mode, see module docstring)
    delete_keys: list[tuple[Any, ...]]  # keys to delete first
    delete_sources: list[Change]  # parallel to delete_keys
    upgraded: bool = False  # upsert -> replace_by_key because of the target's keys
    # A unique key of the target is the message's row key: a load then warns on a row whose
    # key the target holds (without it, a load would add a second copy silently).
    key_unique: bool = False

    @property
    def table(self) -> str:
        return self.batch.qualified


@dataclass(slots=True)  # one per statement (per change for ordered tables): cheap to build
class Step:
    """One statement of the flush, with what the executor needs to run, count and report it."""

    op: str  # DELETE | CHECK_EXISTING | WRITE | ORDERED_CHANGE
    plan: TablePlan
    kind: str  # statement kind (upsert, insert, delete, count, insert_one, update_one, delete_one)
    sql: str
    key: Any  # key of the statement's first row / the change's row key (error messages)
    first: int = 0  # DELETE / WRITE: slice [first, first+count) of the keys / rows it covers
    count: int = 0
    check: bool = False  # DELETE: every key must exist (upsert mode; a missing one is a divergence);
    #                      CHECK_EXISTING: the table's last count statement (compare the total now)
    change: Optional[Change] = None  # ORDERED_CHANGE
    keys: tuple[tuple[tuple[Any, ...], Change], ...] = ()  # CHECK_EXISTING: (key, source change) pairs
    rows: Sequence[Any] = ()  # LOAD: the rows loaded (written by `fallback()` when not loaded as given)
    data: bytes = b""  # LOAD: their text (mysql/load_data.py)

    def fallback(self) -> list[Any]:
        """LOAD: the statements that write the same rows (the upsert or insert of the table's
        mode), for when the load met an existing key or warned (IGNORE semantics)."""
        return self.plan.sql.upsert(self.rows) if self.kind == "upsert" else self.plan.sql.insert(self.rows)


def plan_table(batch: TableBatch, sql: TableSQL) -> TablePlan:
    """The effective mode and delete list of ``batch`` for the target described by ``sql``."""
    if sql.plan.dropped_missing:
        raise PlanningError(batch.qualified, "metadata", first_key(batch),
                            f"message column(s) {', '.join(sql.plan.dropped_missing)} missing in the target table")
    mode = batch.mode
    upgraded = False
    t = sql.target  # None only without target knowledge (tests): the message's mode stands
    msg_key = {batch.schema.columns[i].lower() for i in batch.schema.pk}
    key_unique = t is not None and any({c.lower() for c in cols} == msg_key for _name, cols in t.unique_keys)
    if mode == UPSERT and t is not None and not (key_unique and len(t.unique_keys) == 1):
        mode, upgraded = REPLACE_BY_KEY, True
    delete_keys, delete_sources = batch.delete_keys, batch.delete_sources
    if upgraded and batch.rows:
        get = key_getter(batch.schema.pk)
        delete_keys = delete_keys + [get(r) for r in batch.rows]
        delete_sources = delete_sources + batch.row_sources
    return TablePlan(batch, sql, mode, delete_keys, delete_sources, upgraded, key_unique)


def _located(e: LiteralError, table: str, kind: str, items: Sequence[Any],
             key_of: Callable[[Any], Any]) -> PlanningError:
    key = key_of(items[e.index]) if isinstance(e.index, int) else None
    err = PlanningError(table, kind, key, str(e))
    err.__cause__ = e
    return err


def plan_flush(plans: Sequence[TablePlan], load_rows: int = 0) -> list[Step]:
    """Every statement of one flush transaction, in execution order (see module docstring).

    ``load_rows`` (0 = never): a table's rows expected to be new - every row of a
    ``replace_by_key`` table (its keys are deleted first), the rows of an ``upsert`` table
    whose first change in the window was an INSERT - are one LOAD step when there are at
    least this many and each value has LOAD DATA text (:meth:`TableSQL.load`); the rest
    are upserts / inserts as before. Why: the target spends less CPU per row on a load
    (mysql/load_data.py); the executor writes a LOAD's rows with the usual statement when
    the load did not insert every row exactly (:meth:`Step.fallback`).

    :class:`PlanningError` when a value has no SQL literal, naming the table, the statement
    kind and the row's key.
    """
    steps: list[Step] = []
    # Loads first (emitted after the deletes and checks): what a replace-mode table loads
    # decides which of its keys the deletes leave out (module docstring).
    loads: dict[int, tuple[Step, list[Any]]] = {}
    if load_rows:
        for p in plans:
            if p.mode != ORDERED and p.batch.rows:
                load = _load_step(p, "upsert" if p.mode == UPSERT else "insert", load_rows)
                if load is not None:
                    loads[id(p)] = load
    for p in plans:
        keys = p.delete_keys
        if p.mode == REPLACE_BY_KEY and p.key_unique and id(p) in loads and keys:
            # only here may the deletes name fewer keys; these are never checked, so a checked
            # (upsert-mode) DELETE's first / count still index p.delete_keys
            keys = _without_born(p, keys)
        if p.mode == ORDERED or not keys:
            continue
        try:
            statements = p.sql.delete(keys)
        except LiteralError as e:
            raise _located(e, p.table, "delete", keys, _same) from e
        check = p.mode == UPSERT
        steps.extend(Step(DELETE, p, st.kind, st.sql, keys[st.first], st.first, st.count, check)
                     for st in statements)
    for p in plans:
        if p.mode == UPSERT and p.batch.must_exist:
            pairs = existence_checks(p)
            if pairs:
                counts = p.sql.count_keys([k for k, _ in pairs])
                steps.extend(Step(CHECK_EXISTING, p, st.kind, st.sql, None, st.first, st.count,
                                  check=i == len(counts) - 1, keys=pairs)
                             for i, st in enumerate(counts))
    for p in plans:
        if p.mode == ORDERED or not p.batch.rows:
            continue
        rows, batch = p.batch.rows, p.batch
        kind = "upsert" if p.mode == UPSERT else "insert"
        load = loads.get(id(p))
        if load is not None:
            steps.append(load[0])
            rows = load[1]
            if not rows:
                continue
        try:
            statements = p.sql.upsert(rows) if kind == "upsert" else p.sql.insert(rows)
        except LiteralError as e:
            raise _located(e, p.table, kind, rows, lambda r: row_key(batch, r)) from e
        steps.extend(Step(WRITE, p, st.kind, st.sql, row_key(batch, rows[st.first]), st.first, st.count)
                     for st in statements)
    for p in plans:
        if p.mode != ORDERED:
            continue
        for ch in p.batch.ordered:
            try:
                kind, sql = ordered_statement(p.sql, ch)
            except LiteralError as e:
                raise _located(e, p.table, ORDERED_KINDS[int(ch.op)], [ch], change_key) from e
            steps.append(Step(ORDERED_CHANGE, p, kind, sql, change_key(ch), change=ch))
    return steps


def _load_step(p: TablePlan, kind: str, load_rows: int) -> Optional[tuple[Step, list[Any]]]:
    """The LOAD step of ``p``'s rows expected new (see :func:`plan_flush`) and the rows left
    to upsert or insert; None when they are too few or a value has no LOAD DATA text."""
    rows = p.batch.rows
    if kind == "upsert" and p.batch.must_exist:
        old = set(p.batch.must_exist)
        new = [r for i, r in enumerate(rows) if i not in old]
        rest = [rows[i] for i in p.batch.must_exist]
    else:
        new, rest = rows, []
    if len(new) < load_rows:
        return None
    loaded = p.sql.load(new)
    if loaded is None:
        return None
    return Step(LOAD, p, kind, loaded[0], row_key(p.batch, new[0]), 0, len(new), rows=new, data=loaded[1]), rest


def _without_born(p: TablePlan, keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``keys`` without those of ``p``'s rows born in the window (a replace-mode table whose
    rows are all loaded; module docstring)."""
    b = p.batch
    if len(b.must_exist) == len(b.rows):
        return keys
    get = key_getter(b.schema.pk)
    existed = set(b.must_exist)
    born = {get(r) for i, r in enumerate(b.rows) if i not in existed}
    return [k for k in keys if k not in born]


def existence_checks(p: TablePlan) -> tuple[tuple[tuple[Any, ...], Change], ...]:
    """(key, change) of rows updated in the window that existed before it and are not deleted
    earlier in this flush: each must be in the target (``INSERT ... ON DUPLICATE KEY UPDATE``
    would silently insert a missing one, hiding a divergence)."""
    b = p.batch
    get = key_getter(b.schema.pk)
    pairs = [(get(b.rows[i]), b.row_sources[i]) for i in b.must_exist]
    if p.delete_keys:  # a DELETE..INSERT..UPDATE row was deleted first: not to be found then
        gone = set(p.delete_keys)
        pairs = [kc for kc in pairs if kc[0] not in gone]
    return tuple(pairs)


@dataclass(frozen=True)
class Unit:
    """One change of the row-by-row salvage path; ``build()`` makes its SQL (may raise
    ``LiteralError``, which fails this change only)."""

    plan: TablePlan
    kind: str  # delete_key_one | upsert_one | insert_one | insert_one/update_one/delete_one (ordered)
    key: Any
    build: Callable[[], str]
    change: Change
    counts_attr: str  # the TableCounts field a success adds to
    skip_if_key_failed: bool = False  # a row whose key's delete failed is not written
    row: Any = None  # upsert_one / insert_one of a keyed table: the row image it writes


def salvage_units(plans: Sequence[TablePlan]) -> Iterator[Unit]:
    """The flush as single-row units, in the same order as :func:`plan_flush`."""
    for p in plans:
        if p.mode == ORDERED:
            continue
        q = p.sql
        for key, ch in zip(p.delete_keys, p.delete_sources):
            yield Unit(p, "delete_key_one", key, partial(q.delete_key_one, key), ch, "deleted")
        get = key_getter(p.batch.schema.pk)
        for row, ch in zip(p.batch.rows, p.batch.row_sources):
            if p.mode == UPSERT:
                yield Unit(p, "upsert_one", get(row), partial(q.upsert_one, row), ch, "upserted", True, row)
            else:
                yield Unit(p, "insert_one", get(row), partial(q.insert_one, row), ch, "inserted", True, row)
    for p in plans:
        if p.mode != ORDERED:
            continue
        q = p.sql
        for ch in p.batch.ordered:
            yield Unit(p, ORDERED_KINDS[int(ch.op)], change_key(ch), partial(_ordered_sql, q, ch),
                       ch, "inserted")


def ordered_statement(q: TableSQL, ch: Change) -> tuple[str, str]:
    """(kind, SQL) of one change of an ordered table: the row is found by all its values."""
    op = int(ch.op)
    if op == 0:
        assert ch.new is not None
        return "insert_one", q.insert_one(ch.new)
    assert ch.old is not None
    if op == 2:
        return "delete_one", q.delete_one(ch.old)
    assert ch.new is not None
    return "update_one", q.update_one(ch.old, ch.new)


def _ordered_sql(q: TableSQL, ch: Change) -> str:
    return ordered_statement(q, ch)[1]


def row_key(batch: TableBatch, row: Any) -> tuple[Any, ...]:
    return tuple(key_getter(batch.schema.pk)(row)) if batch.schema.pk else tuple(row)


def change_key(ch: Change) -> tuple[Any, ...]:
    row = ch.old if ch.old is not None else ch.new
    if row is None:
        return ()
    if ch.schema.pk:
        return tuple(key_getter(ch.schema.pk)(row))
    return tuple(row)


def first_key(batch: TableBatch) -> Optional[tuple[Any, ...]]:
    if batch.delete_keys:
        return batch.delete_keys[0]
    if batch.rows:
        return row_key(batch, batch.rows[0])
    if batch.ordered:
        return change_key(batch.ordered[0])
    return None


def _same(x: Any) -> Any:
    return x


__all__ = [
    "CHECK_EXISTING",
    "DELETE",
    "LOAD",
    "ORDERED_CHANGE",
    "WRITE",
    "PlanningError",
    "Step",
    "TablePlan",
    "Unit",
    "existence_checks",
    "first_key",
    "plan_flush",
    "plan_table",
    "salvage_units",
]
