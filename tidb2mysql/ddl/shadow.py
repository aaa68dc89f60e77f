"""Shadow validation: run translated DDL on an empty copy of its table first, on the same target.

The static rules in ``translate`` know the documented limits; the target server is the only
authority on what it accepts. Before a translated statement touches a real table it runs
against a shadow in a scratch database on the same server:

* ``CREATE TABLE t ...``         -> ``CREATE TABLE scratch.t ...`` (the same text, renamed)
* ``ALTER TABLE t ...``          -> ``CREATE TABLE scratch.t LIKE db.t`` (empty: instant), then the
  ALTER on ``scratch.t`` (partitioning, keys, charsets come with LIKE)
* ``CREATE [UNIQUE] INDEX i ON t`` -> the same, on ``scratch.t``

Other statements (DROP, RENAME, TRUNCATE, views, databases) are not shadowed: they cannot
fail for the reasons this net catches. Neither are ALTERs that would reach beyond the copy
(``RENAME TO``, ``EXCHANGE PARTITION ... WITH TABLE``, ``DISCARD/IMPORT TABLESPACE``) nor
``CREATE TABLE ... SELECT`` (it would read real rows). An ALTER whose table does not exist on the target is
not shadowed either (the real statement will fail the same way, and the caller handles that).

When the target rejects the shadow statement, a documented fallback for that error class is
applied to the statement and the shadow runs again (at most ``MAX_ATTEMPTS`` times):

===========  ==========================================  ====================================
error        meaning                                     fallback (WARNING decision)
===========  ==========================================  ====================================
1503         a UNIQUE/PRIMARY key misses a partitioning  CREATE TABLE / ALTER ... PARTITION BY:
             column                                      drop the PARTITION BY clause;
                                                         ADD UNIQUE / CREATE UNIQUE INDEX:
                                                         make the key a plain index
1074         VARCHAR longer in bytes than 65,535         that column -> smallest TEXT/BLOB type
1118         row larger than the server allows           widest VARCHAR/VARBINARY -> TEXT/BLOB
===========  ==========================================  ====================================

Anything else (and 1503 on a PRIMARY KEY) has no fallback: the result is
``untranslatable`` with an ERROR decision and no statements, so the real table is never
touched and the operator decides. Shadow tables are dropped right after each check; the
scratch database is dropped by ``close()``.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Optional

from tidb2mysql.ddl import charsets
from tidb2mysql.ddl.edit import Edit
from tidb2mysql.ddl.model import Decision, Translation
from tidb2mysql.ddl.tokenizer import tokenize
from tidb2mysql.mysql.sql import quote_ident

MAX_ATTEMPTS = 6



@dataclass
class ShadowOutcome:
    statements: list[str]
    decisions: list[Decision] = field(default_factory=list)
    untranslatable: bool = False
    shadowed: int = 0            # statements actually run on a shadow table
    seconds: float = 0.0


class _Stop(Exception):
    pass


class Shadow:
    """A scratch database on the target and the checks that use it (one connection)."""

    def __init__(self, conn, scratch: Optional[str] = None):
        self.conn = conn
        self.scratch = scratch or f"_tidb2mysql_shadow_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self._made = False

    # --- plumbing --------------------------------------------------------------------------
    def _exec(self, sql: str, *args):
        with self.conn.cursor() as cur:
            cur.execute(sql, args or None)
            return cur.fetchall()

    def _ensure(self) -> None:
        if not self._made:
            self._exec(f"CREATE DATABASE IF NOT EXISTS {quote_ident(self.scratch)}")
            self._made = True

    def close(self) -> None:
        if self._made:
            try:
                self._exec(f"DROP DATABASE IF EXISTS {quote_ident(self.scratch)}")
            finally:
                self._made = False

    def __enter__(self) -> "Shadow":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _exists(self, schema: Optional[str], name: str) -> bool:
        if schema is None:
            rows = self._exec("SELECT DATABASE()")
            schema = rows[0][0] if rows else None
            if schema is None:
                return False
        return bool(self._exec("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s",
                               schema, name))

    # --- the check -----------------------------------------------------------------------------
    def check(self, statements: list[str], schema: Optional[str] = None) -> ShadowOutcome:
        """Shadow-run ``statements`` (as the caller would run them, USE included); returns the
        statements to run for real (fallbacks applied) and the decisions taken."""
        import pymysql

        start = time.perf_counter()
        out = ShadowOutcome([])
        fk = self._exec("SELECT @@SESSION.foreign_key_checks")[0][0]
        self._exec("SET SESSION foreign_key_checks = 0")
        try:
            current = schema
            try:
                if schema:
                    self._exec(f"USE {quote_ident(schema)}")
                for stmt in statements:
                    if stmt.startswith("USE "):
                        self._exec(stmt)
            except pymysql.err.OperationalError as e:
                if e.args and e.args[0] == 1049:
                    # The database does not exist yet (replication: this DDL is the CREATE
                    # DATABASE, or the table is created in it right after): nothing to copy
                    # or check against; the statements run as translated.
                    out.statements = list(statements)
                    return out
                raise
            if schema:
                self._exec(f"USE {quote_ident(schema)}")
            for stmt in statements:
                if stmt.startswith("USE "):
                    self._exec(stmt)
                    used = [t for t in tokenize(stmt) if t.significant]
                    current = used[1].name if len(used) > 1 else current
                    out.statements.append(stmt)
                    continue
                try:
                    fixed = self._one(stmt, out, pymysql, current)
                except _Stop as e:
                    out.untranslatable = True
                    out.statements = []
                    out.decisions.append(Decision("error", "skipped", str(e)))
                    break
                if fixed is not None:
                    out.statements.append(fixed)
        finally:
            self._exec(f"SET SESSION foreign_key_checks = {int(fk)}")
            out.seconds = time.perf_counter() - start
        if not any(not s.startswith("USE ") for s in out.statements):
            out.statements = []
        return out

    def _one(self, stmt: str, out: ShadowOutcome, pymysql, current: Optional[str] = None) -> Optional[str]:
        subject = _subject(stmt)
        if subject is None:
            return stmt
        kind, pos, schema, name = subject
        schema = schema or current
        if kind != "create" and not self._exists(schema, name):
            return stmt          # nothing to copy: the real statement fails (or not) on its own
        shadow = f"{quote_ident(self.scratch)}.{quote_ident(name)}"
        current = stmt
        for attempt in range(MAX_ATTEMPTS):
            try:
                # the shadow itself (scratch database, empty copy): a failure here says nothing
                # about the statement, so it runs unvalidated, with a warning
                self._ensure()
                self._exec(f"DROP TABLE IF EXISTS {shadow}")
                if kind != "create":
                    self._exec(f"CREATE TABLE {shadow} LIKE {(quote_ident(schema) + '.') if schema else ''}{quote_ident(name)}")
            except pymysql.MySQLError as e:
                out.decisions.append(Decision("warning", "unchanged", f"{name}: shadow validation could not prepare "
                                              f"the copy ({e}); the statement runs unvalidated"))
                return current
            try:
                self._exec(_rename(current, pos, self.scratch, name))
                out.shadowed += 1
                return current
            except pymysql.MySQLError as e:
                code = e.args[0] if e.args else None
                msg = e.args[1] if len(e.args) > 1 else str(e)
                fixed, what = fallback(current, code, msg)
                where = {"create": "CREATE TABLE", "alter": "ALTER TABLE", "index": "CREATE INDEX on"}[kind] + f" {name}"
                if fixed is None:
                    raise _Stop(f"{where}: the target rejects the translated statement (error {code}: {msg}) "
                                f"and no fallback applies{' after ' + str(attempt) + ' fallback(s)' if attempt else ''}; "
                                "nothing was run and the real table was not touched. The operator must decide "
                                f"(statement: {_clip(current)})") from None
                out.decisions.append(Decision("warning", "changed", f"{where}: shadow validation: the target rejected "
                                              f"the statement (error {code}: {msg}); fallback: {what}"))
                if fixed == "":
                    return None
                current = fixed
            finally:
                try:
                    self._exec(f"DROP TABLE IF EXISTS {shadow}")
                except pymysql.MySQLError:
                    pass    # the scratch database is dropped by close() anyway
        raise _Stop(f"{name}: the target still rejects the statement after {MAX_ATTEMPTS} fallbacks; nothing was run "
                    f"(statement: {_clip(current)})")


def validate(conn, tr: Translation, schema: Optional[str] = None, shadow: Optional[Shadow] = None) -> Translation:
    """``tr`` after shadow validation on ``conn``'s server (see the module docstring). The
    statements are those to run for real; new decisions are appended; when no fallback helps,
    the result is untranslatable with no statements."""
    if not tr.statements:
        return tr
    own = shadow is None
    sh = shadow or Shadow(conn)
    try:
        res = sh.check(list(tr.statements), schema)
    finally:
        if own:
            sh.close()
    before = list(tr.decisions)
    if res.decisions:   # "runs as written" is no longer true once a fallback changed the text
        before = [d for d in before if not (d.action == "unchanged" and d.reason == "runs on the target as written")]
    new = replace(tr, statements=res.statements, decisions=before + res.decisions,
                  recopy_objects=list(tr.recopy_objects))
    if res.untranslatable:
        new.untranslatable = True
    if not new.statements and not new.untranslatable:
        new.skipped = True
    return new


# --- statement shapes -----------------------------------------------------------------------

def _clip(text: str, n: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "..."


def _subject(stmt: str):
    """(kind, (first, last) sig positions of the table name, schema, name) or None."""
    e = Edit(tokenize(stmt))
    w = e.words(0, 3)
    k = None
    kind = None
    if w[0] == "CREATE" and w[1] == "TABLE":
        k, kind = 2, "create"
        if e.words(2, 3) == ("IF", "NOT", "EXISTS"):
            k = 5
    elif w[0] == "ALTER" and w[1] == "TABLE":
        k, kind = 2, "alter"
        while e.word(k) in ("ONLINE", "OFFLINE", "IGNORE"):
            k += 1
    elif w[0] == "CREATE":
        j = 1
        while e.word(j) in ("UNIQUE", "FULLTEXT", "SPATIAL", "ONLINE", "OFFLINE"):
            j += 1
        if e.word(j) == "INDEX":
            on = next((x for x in range(j, len(e)) if e.word(x) == "ON"), None)
            if on is not None:
                k, kind = on + 1, "index"
    if k is None or e.tok(k) is None or e.tok(k).kind not in ("word", "qident"):
        return None
    depth = _depth(e)
    for j in range(k + 1, len(e)):
        if depth[j] != 0:
            continue
        w = e.word(j)
        # never shadow what would reach beyond the copy: a RENAME would move the shadow into a
        # real database, EXCHANGE PARTITION would swap a real table's rows into it, a
        # tablespace clause touches files; CREATE ... SELECT would read real rows
        if (w == "RENAME" and e.word(j + 1) not in ("COLUMN", "INDEX", "KEY")) or \
                w in ("EXCHANGE", "DISCARD", "IMPORT", "SELECT"):
            return None
    if e.is_op(k + 1, ".") and e.tok(k + 2) is not None:
        return kind, (k, k + 2), e.tok(k).name, e.tok(k + 2).name
    return kind, (k, k), None, e.tok(k).name


def _rename(stmt: str, pos: tuple[int, int], scratch: str, name: str) -> str:
    e = Edit(tokenize(stmt))
    e.replace_range(pos[0], pos[1], f"{quote_ident(scratch)}.{quote_ident(name)}")
    return e.render()


def _depth(e: Edit) -> list[int]:
    d, out = 0, []
    for k in range(len(e)):
        if e.is_op(k, ")"):
            d -= 1
        out.append(d)
        if e.is_op(k, "("):
            d += 1
    return out


_TOO_BIG = re.compile(r"column '([^']+)' \(max = (\d+)\)", re.I)


def fallback(stmt: str, code: Optional[int], msg: str) -> tuple[Optional[str], str]:
    """(new statement, what was done) for a rejected statement; (None, '') when none applies.
    An empty new statement means: nothing is left to run."""
    e = Edit(tokenize(stmt))
    depth = _depth(e)
    if code == 1503:
        p = next((k for k in range(len(e)) if depth[k] == 0 and e.words(k, 2) == ("PARTITION", "BY")), None)
        if p is not None:
            e.delete(p, len(e) - 1)
            text = e.render().strip().rstrip(",").strip()
            rest = Edit(tokenize(text))
            if rest.words(0, 2) == ("ALTER", "TABLE") and len(rest) <= 4 and _subject(text) is not None:
                return "", ("removed the PARTITION BY clause (a unique key does not include every partitioning "
                            "column); the table stays unpartitioned and nothing else was in the statement")
            return text, ("removed the PARTITION BY clause: a unique key does not include every partitioning column; "
                          "the table is created unpartitioned with the same rows and keys")
        u = next((k for k in range(len(e)) if depth[k] == 0 and e.word(k) == "UNIQUE"), None)
        if u is None:
            return None, ""
        if e.word(u - 1) == "ADD" or e.word(0) == "CREATE":
            if e.word(u + 1) in ("INDEX", "KEY") or e.word(0) == "CREATE":
                e.delete(u, u)
            else:
                e.replace(u, "INDEX")
        elif e.word(u - 2) == "CONSTRAINT" or e.word(u - 1) == "CONSTRAINT":
            a = u - 2 if e.word(u - 2) == "CONSTRAINT" else u - 1
            sym = e.tok(a + 1) if a + 1 < u else None
            after = e.word(u + 1) in ("INDEX", "KEY")
            named = not e.is_op(u + 1 + after, "(")
            e.replace_range(a, u + after, "INDEX" + (f" {sym.text}" if sym is not None and not named else ""))
        else:
            return None, ""
        return e.render(), ("made the UNIQUE key a plain index (it does not include every partitioning column of the "
                            "table on the target); the target does not enforce that uniqueness, TiDB did")
    if code in (1074, 1118):
        cols = []
        for k in range(len(e)):
            if depth[k] > 1 and e.word(0) == "CREATE":
                continue
            t = e.tok(k)
            if e.word(k + 1) in ("VARCHAR", "VARBINARY") and e.is_op(k + 2, "(") and t.kind in ("word", "qident") \
                    and e.tok(k + 3) is not None and e.tok(k + 3).kind == "number" and e.is_op(k + 4, ")"):
                cols.append((int(e.tok(k + 3).text), k))
        if not cols:
            return None, ""
        maxlen = 4
        m = _TOO_BIG.search(msg or "")
        if code == 1074 and m:
            cols = [c for c in cols if e.tok(c[1]).name.lower() == m.group(1).lower()] or cols
            maxlen = max(1, 65535 // max(1, int(m.group(2))))
        n, k = max(cols)
        binary = e.word(k + 1) == "VARBINARY"
        j = k + 5
        while j < len(e) and not (depth[j] <= depth[k] and e.is_op(j, ",", ")")):
            w = e.word(j)
            if w in ("CHARSET", "CHARACTER", "COLLATE") and not (code == 1074 and m):
                v = j + (2 if w == "CHARACTER" else 1)
                name = e.tok(v).name if e.tok(v) is not None else ""
                maxlen = charsets.max_bytes(charsets.charset_of_collation(name) if w == "COLLATE" else name)
                break
            j += 1
        size = n if binary else n * maxlen
        new = ("BLOB" if size <= 65535 else "MEDIUMBLOB") if binary else ("TEXT" if size <= 65535 else "MEDIUMTEXT")
        old = e.source(k + 1, k + 4)
        e.replace_range(k + 1, k + 4, new)
        return e.render(), (f"column {e.tok(k).name} {old} -> {new} "
                            + ("(longer in bytes than a VARCHAR may be)" if code == 1074 else
                               "(the row is larger than the target allows; TEXT/BLOB values are stored outside it)"))
    return None, ""
