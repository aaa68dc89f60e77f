"""Windowed merge of one shard's pending row changes.

A shard collects changes for a short window and applies them in one target transaction.
Inside the window only the *final state* of each row matters, so changes are merged per row
identity ``(schema, table, primary-key values)``:

==============================  ==============================================
changes of one row in a window  what is applied
==============================  ==============================================
INSERT, UPDATE*                 upsert of the final image
UPDATE+                         upsert of the final image
INSERT ... DELETE               nothing (the row did not exist before the window)
(anything else) ... DELETE      delete by key
DELETE ... INSERT (UPDATE*)     upsert of the final image
==============================  ==============================================

"Nothing" needs the *first* change of the row in the window to be an INSERT: only then did
the row not exist before. ``DELETE, INSERT, DELETE`` therefore still deletes.

How the final states are written depends on the table (its **mode**, from the change's
:class:`~tidb2mysql.events.TableSchema`):

* ``upsert`` - a primary key and no other unique key: ``DELETE`` the finally deleted keys,
  ``INSERT ... ON DUPLICATE KEY UPDATE`` the final images.
* ``replace_by_key`` - a primary key and a secondary unique key: ``DELETE`` every primary
  key the window touched, then plain ``INSERT`` of the final images, in one transaction.
  ``ON DUPLICATE KEY UPDATE`` matches *any* unique index and could overwrite the wrong row;
  deleting first also lets a unique-key swap between two rows apply without a duplicate.
* ``ordered`` - no primary key: rows have no identity, so nothing is merged; every change is
  kept in order and applied one by one with full-row matching.

A table whose only key is a unique key arrives from the router as two streams (see
``route.py``): changes with a non-NULL key carry a schema naming that key as primary key
(merged like any keyed table), changes with a NULL in it carry the key-less schema
(``ordered``). They are kept as two pending tables so the mode check below does not take
them for messages that disagree about the table's keys.

This runs once per row change on the hot path, so :meth:`RowMerger.add` is a few dict
operations. The state is plain dicts, lists and dataclasses so Bytewax can pickle it; the
per-schema lookup caches are rebuilt after unpickling.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Callable, Optional

from tidb2mysql.events import Op, Row, TableSchema
from tidb2mysql.replication.change import Change, StreamPos

UPSERT = "upsert"
REPLACE_BY_KEY = "replace_by_key"
ORDERED = "ordered"


_INSERT = Op.INSERT
_DELETE = Op.DELETE


def table_mode(schema: TableSchema) -> str:
    """The apply mode of a table, from the structure its message carries."""
    if not schema.pk:
        return ORDERED
    if schema.has_secondary_unique_key:
        return REPLACE_BY_KEY
    return UPSERT


def key_getter(pk: tuple[int, ...]) -> Callable[[Row], tuple]:
    """A fast function ``row -> primary-key tuple`` for the given column indexes."""
    if len(pk) == 1:
        i = pk[0]
        return lambda row: (row[i],)
    return itemgetter(*pk)


@dataclass
class TableBatch:
    """What one table needs written, in one column layout (``schema.columns``).

    * ``upsert``: delete ``delete_keys``, then upsert ``rows``.
    * ``replace_by_key``: delete ``delete_keys`` (every key touched), then insert ``rows``.
    * ``ordered``: apply ``ordered`` change by change, in order.

    ``delete_sources`` / ``row_sources`` are parallel to ``delete_keys`` / ``rows``: the last
    change of each row, so a failing row can be applied alone and dead-lettered with its
    origin (commit_ts, seq, images).
    """

    schema: TableSchema
    mode: str
    delete_keys: list[tuple] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    ordered: list[Change] = field(default_factory=list)
    first_position: StreamPos = (0, 0)
    last_position: StreamPos = (0, 0)
    delete_sources: list[Change] = field(default_factory=list)
    row_sources: list[Change] = field(default_factory=list)
    # indexes into ``rows`` of rows that existed before the window (their first change was
    # an UPDATE or DELETE): the writer checks they are in the target (divergence otherwise)
    must_exist: list[int] = field(default_factory=list)

    @property
    def qualified(self) -> str:
        return self.schema.qualified

    @property
    def change_count(self) -> int:
        """Statements-worth of work: keys deleted + rows written + ordered changes."""
        return len(self.delete_keys) + len(self.rows) + len(self.ordered)


@dataclass(slots=True)
class _Entry:
    """Merged state of one row: was its first change an INSERT, where it started, its last change."""

    born: bool
    first: StreamPos
    last: Change


@dataclass
class _Table:
    """Pending changes of one table (keyed rows, or the ordered list)."""

    schema: str
    table: str
    mode: str
    rows: dict = field(default_factory=dict)  # pk tuple -> _Entry, first-seen order
    ordered: list = field(default_factory=list)  # ORDERED mode: every change, in order


@dataclass
class RowMerger:
    """The pending changes of ONE shard, merged per row. See the module docstring."""

    tables: dict = field(default_factory=dict)  # (schema, table) -> _Table, first-seen order
    pending_rows: int = 0  # distinct pending entries (rows, or ordered changes)
    changes_added: int = 0
    last_position: Optional[StreamPos] = None
    first_added_at: Optional[float] = None  # time.monotonic() of the first pending change
    # id(TableSchema) -> (TableSchema, _Table, key getter); not pickled (ids change).
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_empty(self) -> bool:
        return self.changes_added == 0

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _lookup(self, schema: TableSchema):
        mode = table_mode(schema)
        tkey = (schema.schema, schema.table)
        if mode == ORDERED and len(schema.unique_keys) == 1 and schema.unique_keys[0][1]:
            # A unique-key-only table's changes whose key holds a NULL (route.py): applied in
            # order next to the same table's keyed changes, which carry the key as "pk".
            tkey = (schema.schema, schema.table, "null key")
        t = self.tables.get(tkey)
        if t is None:
            t = self.tables[tkey] = _Table(schema.schema, schema.table, mode)
        elif t.mode != mode:
            if {t.mode, mode} == {UPSERT, REPLACE_BY_KEY}:
                # A message that knows about a secondary unique key wins: its way of
                # applying is correct for both (deleting before inserting is never wrong).
                t.mode = REPLACE_BY_KEY
            else:
                raise ValueError(
                    f"table {schema.qualified}: messages disagree on whether it has a primary key "
                    f"({t.mode} vs {mode}) inside one batch window; a DDL barrier must separate them"
                )
        hit = (schema, t, key_getter(schema.pk) if schema.pk else None)
        self._cache[id(schema)] = hit
        return hit

    def add(self, change: Change) -> None:
        schema = change.schema
        hit = self._cache.get(id(schema))
        if hit is None or hit[0] is not schema:
            hit = self._lookup(schema)
        t = hit[1]
        getter = hit[2]
        op = change.op
        pos = (change.commit_ts, change.seq)
        if getter is None:
            if (op != _DELETE and change.new is None) or (op != _INSERT and change.old is None):
                raise _missing_image(change)
            t.ordered.append(change)
            self.pending_rows += 1
        else:
            try:
                key = getter(change.old if op == _DELETE else change.new)
            except (TypeError, IndexError):
                raise _missing_image(change) from None
            rows = t.rows
            e = rows.get(key)
            if e is None:
                rows[key] = _Entry(op == _INSERT, pos, change)
                self.pending_rows += 1
            else:
                e.last = change
        if self.changes_added == 0:
            self.first_added_at = time.monotonic()
        self.changes_added += 1
        self.last_position = pos

    def drain(self) -> list[TableBatch]:
        """Return the merged batches (tables in first-seen order) and empty the merger."""
        out: list[TableBatch] = []
        for t in self.tables.values():
            if t.mode == ORDERED:
                out.extend(_ordered_batches(t))
            else:
                out.extend(_keyed_batches(t))
        self.tables = {}
        self._cache = {}
        self.pending_rows = 0
        self.changes_added = 0
        self.last_position = None
        self.first_added_at = None
        return out


def _missing_image(change: Change) -> ValueError:
    s = change.schema
    op = Op(change.op)
    need = "old" if op == _DELETE or (op != _INSERT and change.old is None) else "new"
    return ValueError(
        f"table {s.qualified}: {op.name} change at commit_ts {change.commit_ts} seq {change.seq} "
        f"has no usable {need} row image (columns {', '.join(s.columns)})"
    )


def _ordered_batches(t: _Table) -> list[TableBatch]:
    """Consecutive runs of changes with the same column layout, order kept."""
    out: list[TableBatch] = []
    cur: Optional[TableBatch] = None
    for ch in t.ordered:
        if cur is None or (ch.schema is not cur.schema and ch.schema.columns != cur.schema.columns):
            cur = TableBatch(ch.schema, ORDERED, first_position=ch.position)
            out.append(cur)
        cur.ordered.append(ch)
        cur.last_position = ch.position
    return out


def _keyed_batches(t: _Table) -> list[TableBatch]:
    """Final states of the table's rows, grouped by column layout (first-seen order)."""
    replace = t.mode == REPLACE_BY_KEY
    by_schema: dict[int, TableBatch] = {}
    by_columns: dict[tuple, TableBatch] = {}
    out: list[TableBatch] = []
    for key, e in t.rows.items():
        last = e.last
        s = last.schema
        b = by_schema.get(id(s))
        if b is None:
            b = by_columns.get(s.columns)
            if b is None:
                b = by_columns[s.columns] = TableBatch(s, t.mode, first_position=e.first,
                                                        last_position=last.position)
                out.append(b)
            by_schema[id(s)] = b
        if e.first < b.first_position:
            b.first_position = e.first
        if last.position > b.last_position:
            b.last_position = last.position
        if last.op == _DELETE:
            if e.born and not replace:
                continue  # inserted and deleted inside the window: nothing to do
            b.delete_keys.append(key)
            b.delete_sources.append(last)
        else:
            if replace:
                b.delete_keys.append(key)
                b.delete_sources.append(last)
            if not e.born:
                b.must_exist.append(len(b.rows))
            b.rows.append(last.new)
            b.row_sources.append(last)
    return [b for b in out if b.delete_keys or b.rows]


__all__ = ["ORDERED", "REPLACE_BY_KEY", "UPSERT", "RowMerger", "TableBatch", "key_getter", "table_mode"]
