"""Replicated DDL and CREATE text under the selection: skip, or rewrite names, at the token level.

Why tokens: the statement must reach the DDL translator byte for byte except for the names
we map (same reason as ``tidb2mysql/ddl``: comments and TiDB syntax carry meaning). So the
text is tokenized losslessly and only identifier tokens (and whole clauses of unselected
columns) are edited.

What is rewritten, for a statement on a selected table with a mapping:

* table names: ``CREATE TABLE``, ``ALTER TABLE`` (incl. ``RENAME TO``), ``DROP TABLE a, b``,
  ``TRUNCATE``, ``RENAME TABLE a TO b, ...``, ``CREATE/DROP INDEX ... ON t``, ``CREATE TABLE
  ... LIKE t``, ``REFERENCES t``; qualified names get the mapped database; an unqualified
  name stays unqualified when its target database is the statement's (mapped) default one;
* column names: column definitions and index column lists of ``CREATE TABLE``; ``ALTER
  TABLE`` ``ADD/DROP/CHANGE/MODIFY/ALTER/RENAME COLUMN`` and ``ADD INDEX/KEY/...``;
  ``CREATE INDEX`` column lists. A clause or definition on a column outside the table's
  column include list is removed (an index on it too), with a decision;
* database statements: ``CREATE/ALTER/DROP DATABASE`` of a renamed database.

Skipped (``skipped = True`` with the reason, recorded in ``ddl_history`` as ``skipped``):
any DDL on an unselected table or database. ``RENAME TABLE`` across the selection border:
*out of* the selection keeps the target table as it is (a warning: no data is deleted, it is
just no longer replicated); *into* the selection is an error-level decision with
``needs_recopy`` (the rows were never replicated; copy the table with the full load).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from tidb2mysql.ddl.edit import Edit
from tidb2mysql.ddl.tokenizer import QIDENT, WORD, TokenizeError, tokenize
from tidb2mysql.selection.engine import Selection
from tidb2mysql.mysql.sql import quote_ident



@dataclass
class DDLRewrite:
    """The selection's verdict on one DDL text."""

    query: str
    schema: str  # the statement's default database on the target
    decisions: list[dict] = field(default_factory=list)
    skipped: bool = False
    needs_recopy: bool = False

    def decide(self, level: str, action: str, reason: str) -> None:
        self.decisions.append({"level": level, "action": action, "reason": reason})


_INDEX_WORDS = ("PRIMARY", "KEY", "INDEX", "UNIQUE", "FULLTEXT", "SPATIAL", "CONSTRAINT", "FOREIGN", "CHECK")


class _Stmt:
    def __init__(self, sel: Selection, schema: str, query: str, rw: DDLRewrite):
        self.sel, self.schema, self.rw = sel, schema, rw
        self.e = Edit(tokenize(query))
        self.tschema = sel.map_database(schema) if schema else schema

    def ident(self, k: int) -> bool:
        t = self.e.tok(k)
        return t is not None and t.kind in (QIDENT, WORD)

    def name_at(self, k: int) -> tuple[Optional[str], str, int]:
        """(database or None, name, next position) of a possibly qualified name at k."""
        e = self.e
        if self.ident(k) and e.is_op(k + 1, ".") and self.ident(k + 2):
            return e.tok(k).name, e.tok(k + 2).name, k + 3
        if not self.ident(k):
            raise ValueError(f"expected a name at {e.tok(k).text if e.tok(k) else 'the end'!r}")
        return None, e.tok(k).name, k + 1

    def full(self, db: Optional[str]) -> str:
        return db or self.schema

    def rename_table_at(self, k: int) -> int:
        """Rewrite the table name at k to its target name; returns the next position."""
        db, name, nxt = self.name_at(k)
        tdb, tt = self.sel.map_table(self.full(db), name)
        if db is not None:
            if (tdb, tt) != (db, name):
                self.e.replace_range(k, k + 2, f"{quote_ident(tdb)}.{quote_ident(tt)}")
        elif tdb.lower() != (self.tschema or "").lower():
            self.e.replace(k, f"{quote_ident(tdb)}.{quote_ident(tt)}")
        elif tt != name:
            self.e.replace(k, quote_ident(tt))
        return nxt

    def column(self, table: tuple[str, str], k: int) -> Optional[str]:
        """Rewrite the column name at k; None when the column is not selected."""
        t = self.e.tok(k)
        new = self.sel.map_column(table[0], table[1], t.name)
        if new is not None and new != t.name:
            self.e.replace(k, quote_ident(new))
        return new

    def column_list(self, table: tuple[str, str], open_k: int) -> list[str]:
        """Rewrite ``(a, b(10) DESC, ...)`` at open_k; returns the unselected column names."""
        e = self.e
        lost = []
        for x, _y in e.split(open_k + 1, e.close_of(open_k) - 1):
            if self.ident(x) and self.column(table, x) is None:
                lost.append(e.tok(x).name)
        return lost

    def drop_item(self, parts: list[tuple[int, int]], i: int) -> None:
        x, y = parts[i]
        if any(self.e.alive(a, b) for a, b in parts[:i]):
            self.e.delete(parts[i - 1][1] + 1, y)  # with the comma before it
        elif i + 1 < len(parts):
            self.e.delete(x, parts[i + 1][0] - 1)  # with the comma after it
        else:
            self.e.delete(x if i == 0 else parts[i - 1][1] + 1, y)


def rewrite_ddl(sel: Selection, schema: str, table: str, query: str) -> DDLRewrite:
    """Skip or rewrite one replicated DDL (``schema``/``table`` are Drainer's, may be empty)."""
    rw = DDLRewrite(query, sel.map_database(schema) if schema else schema)
    if sel.is_identity:
        return rw
    try:
        st = _Stmt(sel, schema, query, rw)
    except TokenizeError as e:
        rw.decide("error", "skipped", f"selection cannot read the statement: {e}")
        rw.skipped = True
        return rw
    e = st.e
    words = [e.word(i) for i in range(min(len(e), 12))]
    try:
        kind = _classify(words)
        if kind == "database":
            _database(st, words)
        elif kind == "other":
            _other(st, schema, table)
        else:
            globals()[f"_{kind}"](st)
    except (ValueError, IndexError) as ex:
        rw.decide("error", "skipped", f"selection cannot rewrite this statement ({ex}); it was not run")
        rw.skipped = True
        return rw
    if not rw.skipped:
        rw.query = e.render()
        if not e.alive(0, len(e) - 1):
            rw.skipped = True
    return rw


def _classify(w: list[str]) -> str:
    i = 1
    if w[0] in ("CREATE", "DROP", "ALTER"):
        if w[1] in ("DATABASE", "SCHEMA"):
            return "database"
        if w[0] == "CREATE":
            while w[i] in ("OR", "REPLACE", "TEMPORARY", "GLOBAL", "UNIQUE", "FULLTEXT", "SPATIAL"):
                i += 1
            if w[i] == "TABLE":
                return "create_table"
            if w[i] == "INDEX":
                return "index"
            return "other"
        if w[0] == "ALTER":
            while w[i] in ("ONLINE", "OFFLINE", "IGNORE"):
                i += 1
            return "alter_table" if w[i] == "TABLE" else "other"
        if w[0] == "DROP":
            if w[1] == "TEMPORARY" or w[1] == "TABLE":
                return "drop_table"
            if w[1] == "INDEX":
                return "index"
            return "other"
    if w[0] == "TRUNCATE":
        return "truncate"
    if w[0] == "RENAME" and w[1] == "TABLE":
        return "rename_table"
    return "other"


def _after(st: _Stmt, k: int, *words: str) -> int:
    while st.e.word(k) in words:
        k += 1
    return k


def _skip_if_not_exists(st: _Stmt, k: int) -> int:
    if st.e.word(k) == "IF":
        k += 2 if st.e.word(k + 1) == "EXISTS" else 3
    return k


def _excluded(st: _Stmt, db: Optional[str], name: str) -> Optional[str]:
    why = st.sel.exclusion(st.full(db), name)
    if why:
        st.rw.skipped = True
        st.rw.decide("info", "skipped", f"table {st.full(db)}.{name}: {why}")
    return why


def _database(st: _Stmt, w: list[str]) -> None:
    k = _skip_if_not_exists(st, 2)
    if st.ident(k) and st.e.word(k) not in ("CHARACTER", "CHARSET", "COLLATE", "DEFAULT", "ENCRYPTION",
                                            "READ", "PLACEMENT", "SET"):
        db = st.e.tok(k).name
    else:
        db, k = st.schema, None
    if not st.sel.database_selected(db):
        st.rw.skipped = True
        st.rw.decide("info", "skipped", f"database {db} is not selected")
        return
    new = st.sel.map_database(db)
    if new != db:
        if k is not None:
            st.e.replace(k, quote_ident(new))
        st.rw.decide("info", "changed", f"database {db} -> {new} (selection)")


def _create_table(st: _Stmt) -> None:
    e = st.e
    k = _after(st, 1, "OR", "REPLACE", "TEMPORARY", "GLOBAL") + 1
    k = _skip_if_not_exists(st, k)
    db, name, nxt = st.name_at(k)
    if _excluded(st, db, name):
        return
    table = (st.full(db), name)
    st.sel.check_target(*table)
    st.rename_table_at(k)
    if e.word(nxt) == "LIKE" or (e.is_op(nxt, "(") and e.word(nxt + 1) == "LIKE"):
        j = nxt + (1 if e.word(nxt) == "LIKE" else 2)
        ldb, lname, _ = st.name_at(j)
        if st.sel.exclusion(st.full(ldb), lname):
            st.rw.decide("warning", "unchanged", f"CREATE TABLE ... LIKE {st.full(ldb)}.{lname}: that table is not "
                         "selected, so it may not exist on the target")
        st.rename_table_at(j)
        return
    if not e.is_op(nxt, "("):
        return
    close = e.close_of(nxt)
    _definitions(st, table, nxt, close)
    _references(st, close + 1, len(e) - 1)


def _definitions(st: _Stmt, table: tuple[str, str], open_k: int, close_k: int) -> None:
    e = st.e
    parts = e.split(open_k + 1, close_k - 1)
    for i, (x, y) in enumerate(parts):
        if e.word(x) in _INDEX_WORDS and not (e.tok(x).kind == WORD and e.is_op(x + 1, ".")):
            j = next((j for j in range(x, y + 1) if e.is_op(j, "(")), None)
            lost = st.column_list(table, j) if j is not None and e.word(x) != "CHECK" else []
            if lost:
                st.drop_item(parts, i)
                st.rw.decide("warning", "changed", f"{e.source(x, min(y, x + 3))} ...: removed, it uses "
                             f"unselected column(s) {', '.join(lost)}")
            else:
                _references(st, x, y)
        elif st.ident(x):
            old = e.tok(x).name
            new = st.column(table, x)
            if new is None:
                st.drop_item(parts, i)
                st.rw.decide("info", "changed", f"column {old} is not selected: not created")
            elif new != old:
                st.rw.decide("info", "changed", f"column {old} -> {new} (selection)")


def _references(st: _Stmt, a: int, b: int) -> None:
    e = st.e
    k = a
    while k <= b:
        if e.word(k) == "REFERENCES" and st.ident(k + 1):
            db, name, nxt = st.name_at(k + 1)
            ref = (st.full(db), name)
            st.rename_table_at(k + 1)
            if e.is_op(nxt, "("):
                lost = st.column_list(ref, nxt)
                if lost:
                    st.rw.decide("warning", "unchanged", f"foreign key references unselected column(s) "
                                 f"{', '.join(lost)} of {ref[0]}.{ref[1]}")
            k = nxt
        k += 1


def _alter_table(st: _Stmt) -> None:
    e = st.e
    k = _after(st, 1, "ONLINE", "OFFLINE", "IGNORE") + 1
    db, name, nxt = st.name_at(k)
    table = (st.full(db), name)
    rename_to = _alter_rename_target(st, nxt)
    if st.sel.exclusion(*table):
        if rename_to and not st.sel.exclusion(*rename_to):
            _into_selection(st, table, rename_to)
            return
        _excluded(st, db, name)
        return
    if rename_to and st.sel.exclusion(*rename_to):
        _out_of_selection(st, table, rename_to)
        st.rw.skipped = True
        return
    st.rename_table_at(k)
    parts = e.split(nxt, len(e) - 1)
    for i, (x, y) in enumerate(parts):
        _alter_clause(st, table, parts, i, x, y)
    if parts and not any(e.alive(x, y) for x, y in parts):
        st.rw.skipped = True


def _alter_rename_target(st: _Stmt, nxt: int) -> Optional[tuple[str, str]]:
    e = st.e
    for x, y in e.split(nxt, len(e) - 1):
        if e.word(x) == "RENAME" and e.word(x + 1) not in ("COLUMN", "INDEX", "KEY"):
            j = x + 2 if e.word(x + 1) in ("TO", "AS") else x + 1
            db, name, _ = st.name_at(j)
            return (st.full(db), name)
    return None


def _alter_clause(st: _Stmt, table, parts, i, x, y) -> None:
    e = st.e
    w0 = e.word(x)
    lost: list[str] = []
    if w0 == "RENAME":
        w1 = e.word(x + 1)
        if w1 == "COLUMN":
            for j in (x + 2, x + 4):
                if st.column(table, j) is None:
                    lost.append(e.tok(j).name)
        elif w1 not in ("INDEX", "KEY"):
            st.sel.check_target(*_alter_rename_target(st, x))
            st.rename_table_at(x + 2 if w1 in ("TO", "AS") else x + 1)
    elif w0 == "ADD":
        j = x + 1
        if e.word(j) in _INDEX_WORDS:
            p = next((p for p in range(j, y + 1) if e.is_op(p, "(")), None)
            if p is not None and e.word(j) != "CHECK":
                lost = st.column_list(table, p)
                _references(st, p, y)
        else:
            j = _skip_if_not_exists(st, j + 1 if e.word(j) == "COLUMN" else j)
            if e.is_op(j, "("):
                raise ValueError("ADD COLUMN (...) lists are not mapped")
            if st.column(table, j) is None:
                lost.append(e.tok(j).name)
    elif w0 in ("DROP", "MODIFY", "CHANGE", "ALTER"):
        j = x + 1
        if e.word(j) in ("INDEX", "KEY", "PRIMARY", "FOREIGN", "CHECK", "CONSTRAINT", "PARTITION"):
            return
        j = _skip_if_not_exists(st, j + 1 if e.word(j) == "COLUMN" else j)
        if not st.ident(j):
            return
        old = e.tok(j).name
        if st.column(table, j) is None:
            lost.append(old)
        if w0 == "CHANGE":
            new_src = e.tok(j + 1).name
            if (st.sel.map_column(*table, old) is None) != (st.sel.map_column(*table, new_src) is None):
                st.rw.needs_recopy = True
                st.rw.decide("error", "changed", f"CHANGE {old} {new_src} moves a column across the column "
                             f"selection of {table[0]}.{table[1]}: copy the table again")
            st.column(table, j + 1)
    if lost:
        st.drop_item(parts, i)
        st.rw.decide("info", "changed", f"{e.source(x, min(y, x + 2))} ...: removed, column(s) "
                     f"{', '.join(lost)} not selected")


def _into_selection(st: _Stmt, old: tuple[str, str], new: tuple[str, str]) -> None:
    st.rw.skipped = True
    st.rw.needs_recopy = True
    st.rw.decide("error", "skipped", f"table {old[0]}.{old[1]} is renamed into the selection as {new[0]}.{new[1]}: "
                 "its rows were never replicated (needs copy: create it and run the full load for it)")


def _out_of_selection(st: _Stmt, old: tuple[str, str], new: tuple[str, str]) -> None:
    tdb, tt = st.sel.map_table(*old)
    st.rw.decide("warning", "skipped", f"table {old[0]}.{old[1]} is renamed out of the selection (to "
                 f"{new[0]}.{new[1]}): the target table {tdb}.{tt} is kept as it is and no longer replicated")


def _drop_table(st: _Stmt) -> None:
    e = st.e
    k = _skip_if_not_exists(st, _after(st, 1, "TEMPORARY") + 1)
    end = len(e) - 1
    while e.word(end) in ("RESTRICT", "CASCADE"):
        end -= 1
    parts = e.split(k, end)
    for i, (x, _y) in enumerate(parts):
        db, name, _ = st.name_at(x)
        why = st.sel.exclusion(st.full(db), name)
        if why:
            st.drop_item(parts, i)
            st.rw.decide("info", "skipped", f"table {st.full(db)}.{name}: {why}")
        else:
            st.rename_table_at(x)
    if not e.alive(k, end):
        st.rw.skipped = True


def _truncate(st: _Stmt) -> None:
    k = 2 if st.e.word(1) == "TABLE" else 1
    db, name, _ = st.name_at(k)
    if not _excluded(st, db, name):
        st.rename_table_at(k)


def _rename_table(st: _Stmt) -> None:
    e = st.e
    parts = e.split(2, len(e) - 1)
    for i, (x, y) in enumerate(parts):
        odb, oname, nxt = st.name_at(x)
        if e.word(nxt) != "TO":
            raise ValueError("RENAME TABLE pair without TO")
        ndb, nname, _ = st.name_at(nxt + 1)
        old, new = (st.full(odb), oname), (st.full(ndb), nname)
        out_old, out_new = st.sel.exclusion(*old), st.sel.exclusion(*new)
        if out_old and out_new:
            st.drop_item(parts, i)
            st.rw.decide("info", "skipped", f"table {old[0]}.{old[1]} -> {new[0]}.{new[1]}: {out_old}")
        elif out_new:
            st.drop_item(parts, i)
            _out_of_selection(st, old, new)
        elif out_old:
            st.drop_item(parts, i)
            _into_selection(st, old, new)
            st.rw.skipped = False
        else:
            st.sel.check_target(*new)
            st.rename_table_at(x)
            st.rename_table_at(nxt + 1)
    if not e.alive(2, len(e) - 1):
        st.rw.skipped = True


def _index(st: _Stmt) -> None:
    e = st.e
    on = next(k for k in range(len(e)) if e.word(k) == "ON")
    db, name, nxt = st.name_at(on + 1)
    if _excluded(st, db, name):
        return
    table = (st.full(db), name)
    st.rename_table_at(on + 1)
    if e.word(0) == "CREATE" and e.is_op(nxt, "("):
        lost = st.column_list(table, nxt)
        if lost:
            st.rw.skipped = True
            st.rw.decide("info", "skipped", f"index on unselected column(s) {', '.join(lost)} of "
                         f"{table[0]}.{table[1]}: not created")


def _other(st: _Stmt, schema: str, table: str) -> None:
    """Views and anything else: skip by Drainer's table; rename qualified ``db.t`` pairs."""
    if table and st.sel.exclusion(schema, table):
        _excluded(st, schema, table)
        return
    e = st.e
    k = 0
    while k < len(e):
        if st.ident(k) and e.is_op(k + 1, ".") and st.ident(k + 2) and not (k > 0 and e.is_op(k - 1, ".")):
            db, name = e.tok(k).name, e.tok(k + 2).name
            tdb, tt = st.sel.map_table(db, name)
            if (tdb, tt) != (db, name):
                e.replace_range(k, k + 2, f"{quote_ident(tdb)}.{quote_ident(tt)}")
            if st.sel.exclusion(db, name):
                st.rw.decide("warning", "unchanged", f"the statement references {db}.{name}, which is not selected")
            k += 3
            continue
        k += 1
