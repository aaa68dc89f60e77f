"""Execute every corpus entry's translation on the real MariaDB 10.11 target and check the
objects it created through information_schema (types, nullability, defaults, keys,
charset/collation, partitions), not just "no error". Entries that must be skipped are
checked for the right level in tests/unit/test_ddl_corpus.py (they run nothing here).

Translation happens as in the replication path: with the target's catalog
(``TargetCatalog``) and shadow validation (``ddl.shadow.validate``) before anything real is
touched. ``expect: stop`` entries must end untranslatable with nothing changed."""

from __future__ import annotations

import re
import time

import pymysql
import pytest

from tests.ddl_corpus.corpus import Entry, load
from tidb2mysql.ddl import translate
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.ddl.catalog import TargetCatalog
from tidb2mysql.ddl.shadow import validate
from tidb2mysql.ddl.tokenizer import QIDENT, WORD, tokenize

pytestmark = pytest.mark.integration

# entries that run (or stop) on the target, and skips that only the target's catalog reveals
ENTRIES = [e for e in load() if e.execute and (e.expect in ("run", "stop") or (e.static and e.skip_level))]
_PAIRS = re.compile(r"(\w+)=(.*?)(?=\s+\w+=|$)")


def _rename(sql: str, names: dict[str, str]) -> str:
    """Replace identifiers (bare or backquoted) by new names: environment-specific schemas."""
    out = []
    for t in tokenize(sql):
        new = names.get(t.name.lower()) if t.kind in (WORD, QIDENT) else None
        out.append(f"`{new}`" if new else t.text)
    return "".join(out)


def _rows(conn, sql: str, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _check(conn, db: str, entry: Entry, check: str, newdb: str | None) -> None:
    kind, _, arg = check.partition(" ")
    where = f"{entry.id}: {check}"
    if kind == "column":
        target, _, rest = arg.partition(" ")
        table, col = target.split(".")
        rows = _rows(conn, "SELECT COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, COLLATION_NAME, EXTRA "
                     "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s AND COLUMN_NAME=%s",
                     db, table, col)
        assert rows, f"{where}: column missing"
        ctype, nullable, default, collation, extra = rows[0]
        actual = {"type": ctype, "null": nullable, "default": "none" if default is None else default,
                  "collation": collation or "", "extra": extra or ""}
        for key, want in _PAIRS.findall(rest):
            assert str(actual[key]).lower() == want.lower(), f"{where}: {key} is {actual[key]!r}"
    elif kind == "nocolumn":
        table, col = arg.split(".")
        assert not _rows(conn, "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s "
                         "AND COLUMN_NAME=%s", db, table, col), where
    elif kind == "table":
        table, _, rest = arg.partition(" ")
        rows = _rows(conn, "SELECT TABLE_COLLATION, ENGINE FROM information_schema.TABLES "
                     "WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s", db, table)
        assert rows, f"{where}: table missing"
        actual = {"collation": rows[0][0], "engine": rows[0][1]}
        for key, want in _PAIRS.findall(rest):
            assert str(actual[key]).lower() == want.lower(), f"{where}: {key} is {actual[key]!r}"
    elif kind in ("index", "noindex"):
        target, _, rest = arg.partition(" ")
        table, name = target.split(".")
        rows = _rows(conn, "SELECT COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=%s "
                     "AND TABLE_NAME=%s AND INDEX_NAME=%s ORDER BY SEQ_IN_INDEX", db, table, name)
        if kind == "noindex":
            assert not rows, f"{where}: index exists"
            return
        assert rows, f"{where}: index missing"
        actual = {"columns": ",".join(r[0] for r in rows), "unique": "no" if rows[0][1] else "yes"}
        for key, want in _PAIRS.findall(rest):
            assert actual[key].lower() == want.lower(), f"{where}: {key} is {actual[key]!r}"
    elif kind == "partitions":
        table, count = arg.split()
        rows = _rows(conn, "SELECT COUNT(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA=%s "
                     "AND TABLE_NAME=%s AND PARTITION_NAME IS NOT NULL", db, table)
        assert rows[0][0] == int(count), f"{where}: {rows[0][0]} partitions"
    elif kind == "database":
        rows = _rows(conn, "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA "
                     "WHERE SCHEMA_NAME=%s", newdb)
        assert rows, f"{where}: database missing"
        actual = {"charset": rows[0][0], "collation": rows[0][1]}
        for key, want in _PAIRS.findall(arg):
            assert actual[key].lower() == want.lower(), f"{where}: {key} is {actual[key]!r}"
    elif kind == "view":
        assert _rows(conn, "SELECT 1 FROM information_schema.VIEWS WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s",
                     db, arg), f"{where}: view missing"
    elif kind in ("decision", "output-has", "output-lacks", "shadow-decision"):
        pass  # translation-level checks: tests/unit/test_ddl_corpus.py
    else:
        raise AssertionError(f"{where}: unknown check kind {kind!r}")


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_corpus_entry_runs_on_mariadb(entry, target_conn, target_db, ddl_shadow_costs):
    target = Dialect.detect(target_conn)
    assert target.is_mariadb and target.version[:2] == (10, 11), f"stack target is {target}"
    names = {n.lower(): target_db for n in entry.rename}
    newdb = None
    if entry.database:
        newdb = f"{target_db}_d"
        names[entry.database.lower()] = newdb
    # The harsher setting (MySQL 5.7's default): the translation must make TIMESTAMP
    # nullability and defaults explicit, so OFF must not change what gets created.
    _rows(target_conn, "SET SESSION explicit_defaults_for_timestamp = OFF")
    try:
        for stmt in entry.setup:
            _rows(target_conn, _rename(stmt, names))
        tr = translate(_rename(entry.sql, names), target, schema=target_db, catalog=TargetCatalog(target_conn))
        started = time.perf_counter()
        tr = validate(target_conn, tr, target_db)
        ddl_shadow_costs.append((entry.id, time.perf_counter() - started))
        for check in entry.checks:
            kind, _, arg = check.partition(" ")
            if kind == "shadow-decision":
                level, _, words = arg.partition(" ")
                assert any(d.level == level and words.lower() in d.reason.lower() for d in tr.decisions), \
                    f"{entry.id}: no {level} decision about {words!r}: {[str(d) for d in tr.decisions]}"
        if entry.expect == "stop":
            assert tr.untranslatable and not tr.statements and tr.level == "error", [str(d) for d in tr.decisions]
        elif entry.skip_level:
            assert tr.skipped and not tr.statements and tr.level == entry.skip_level, [str(d) for d in tr.decisions]
        else:
            assert not tr.skipped and tr.statements, [str(d) for d in tr.decisions]
            assert not tr.untranslatable, [str(d) for d in tr.decisions]
        if not entry.database and tr.statements:
            assert tr.statements[0] == f"USE `{target_db}`"
        for stmt in tr.statements:
            try:
                _rows(target_conn, stmt)
            except pymysql.MySQLError as e:
                raise AssertionError(f"{entry.id}: target rejected {stmt!r}: {e}") from e
        for check in entry.checks:
            _check(target_conn, target_db, entry, check, newdb)
    finally:
        if newdb:
            _rows(target_conn, f"DROP DATABASE IF EXISTS `{newdb}`")


_COSTS: list = []


@pytest.fixture
def ddl_shadow_costs():
    return _COSTS
