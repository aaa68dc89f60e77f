"""Where the schema comes from: the ``SchemaSource`` seam.

Two implementations give the same ``Catalog``:

* ``LiveSource`` reads a MySQL-protocol server (TiDB, or the MariaDB stand-in of the test
  stack): ``information_schema.TABLES`` lists objects, ``SHOW CREATE DATABASE/TABLE/VIEW``
  gives their text exactly as the server prints it.
* ``RecordedSource`` reads SHOW CREATE outputs saved in files, so real TiDB output (which the
  MariaDB stand-in cannot print) goes through the very same planner and applier in tests.
  Layout: a directory with ``index.json``::

      {"objects": [
        {"kind": "database", "database": "shop", "file": "shop.sql"},      # optional
        {"kind": "table", "database": "shop", "name": "t", "file": "shop.t.sql",
         "origin": "pingcap/tidb tests/integrationtest/r/executor/show.result"},
        {"kind": "view",  "database": "shop", "name": "v", "file": "shop.v.sql"}]}

  A database without its own entry gets a plain ``CREATE DATABASE`` (the translator then
  makes TiDB's default charset explicit).

Selection (``Selection``): ``databases`` and ``tables`` (``db.name``, tables or views) are
unioned; with neither, every non-system database. A named database or object that does not
exist is an error naming it: a typo must not silently migrate nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol

from tidb2mysql.schema.model import Catalog, SourceObject
from tidb2mysql.errors import InternalError

from tidb2mysql.mysql.catalog import BOOTSTRAP_TEST_DATABASE, SYSTEM_DATABASES  # one list for every stage


class SchemaReadError(InternalError, RuntimeError):
    """The source could not be read, or the selection names something that is not there."""


@dataclass(frozen=True)
class Selection:
    databases: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()           # "db.name"
    exclude_databases: tuple[str, ...] = field(default=())   # e.g. the job's meta schema

    @classmethod
    def parse(cls, databases: str | None, tables: str | None, exclude: Iterable[str] = ()) -> "Selection":
        dbs = tuple(d.strip() for d in (databases or "").split(",") if d.strip())
        tbls = tuple(t.strip() for t in (tables or "").split(",") if t.strip())
        for t in tbls:
            if "." not in t or t.startswith(".") or t.endswith("."):
                raise SchemaReadError(f"--tables entry {t!r} must be database.name")
        return cls(dbs, tbls, tuple(exclude))

    @property
    def everything(self) -> bool:
        return not self.databases and not self.tables

    def table_pairs(self) -> list[tuple[str, str]]:
        return [tuple(t.split(".", 1)) for t in self.tables]  # type: ignore[misc]

    def wants_database(self, db: str) -> bool:
        if self.everything:
            return db.lower() not in SYSTEM_DATABASES and db not in self.exclude_databases
        return db in self.databases or any(d == db for d, _ in self.table_pairs())

    def wants_object(self, db: str, name: str) -> bool:
        return self.everything and self.wants_database(db) or db in self.databases or (db, name) in self.table_pairs()


class SchemaSource(Protocol):
    """Anything that can produce the selected part of a source schema."""

    description: str

    def read(self, selection: Selection) -> Catalog: ...


def _check_found(selection: Selection, catalog: Catalog, all_dbs: set[str]) -> None:
    missing = [d for d in selection.databases if d not in all_dbs]
    have = {(o.database, o.name) for o in catalog.tables + catalog.views}
    have |= {tuple(q.split(".", 1)) for q, _ in catalog.skipped if "." in q}
    missing += [f"{d}.{n}" for d, n in selection.table_pairs() if (d, n) not in have]
    if missing:
        raise SchemaReadError(f"selected but not found on the source: {', '.join(missing)}")


def _qi(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class LiveSource:
    """A live MySQL-protocol server (PyMySQL connection); read-only."""

    def __init__(self, conn, description: str = "source server"):
        self.conn = conn
        self.description = description

    def _rows(self, sql: str, args=None) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def read(self, selection: Selection) -> Catalog:
        cat = Catalog()
        all_dbs = [r[0] for r in self._rows("SHOW DATABASES")]
        for db in all_dbs:
            if not selection.wants_database(db):
                continue
            listing = self._rows(
                "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s "
                "ORDER BY TABLE_NAME", (db,))
            if db == BOOTSTRAP_TEST_DATABASE and not listing and selection.everything:
                cat.skipped.append((db, "the empty `test` database TiDB creates at bootstrap is not migrated (it is "
                                    "once it holds tables or views; name it with --databases test to create it)"))
                continue
            create = self._rows(f"SHOW CREATE DATABASE {_qi(db)}")[0][1]
            cat.databases.append(SourceObject("database", db, db, create, self.description))
            for name, ttype in listing:
                if not selection.wants_object(db, name):
                    continue
                if ttype == "BASE TABLE":
                    text = self._rows(f"SHOW CREATE TABLE {_qi(db)}.{_qi(name)}")[0][1]
                    cat.tables.append(SourceObject("table", db, name, text, self.description))
                elif ttype == "VIEW":
                    text = self._rows(f"SHOW CREATE VIEW {_qi(db)}.{_qi(name)}")[0][1]
                    cat.views.append(SourceObject("view", db, name, text, self.description))
                else:
                    cat.skipped.append((f"{db}.{name}", f"{ttype} objects are not migrated (TiDB sequences "
                                        "and system views have no MySQL counterpart here)"))
        _check_found(selection, cat, set(all_dbs))
        return cat


class RecordedSource:
    """SHOW CREATE outputs saved in a directory with an ``index.json`` (see module docstring)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.description = f"recorded schema {self.directory}"

    def _load(self) -> list[dict]:
        index = self.directory / "index.json"
        try:
            data = json.loads(index.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise SchemaReadError(f"cannot read {index}: {e}") from None
        objects = data.get("objects")
        if not isinstance(objects, list):
            raise SchemaReadError(f"{index}: 'objects' must be a list")
        for i, o in enumerate(objects):
            kind = o.get("kind")
            if kind not in ("database", "table", "view") or not o.get("database") or \
                    (kind != "database" and not o.get("name")) or not o.get("file"):
                raise SchemaReadError(f"{index}: objects[{i}] needs kind (database|table|view), database, "
                                      f"name (tables/views) and file: {o!r}")
        return objects

    def _text(self, entry: dict) -> str:
        path = self.directory / entry["file"]
        try:
            return path.read_text(encoding="utf-8").strip().rstrip(";").strip()
        except OSError as e:
            raise SchemaReadError(f"cannot read the recorded SHOW CREATE output {path}: {e}") from None

    def read(self, selection: Selection) -> Catalog:
        cat = Catalog()
        objects = self._load()
        all_dbs: list[str] = []
        for o in objects:
            if o["database"] not in all_dbs:
                all_dbs.append(o["database"])
        db_entries = {o["database"]: o for o in objects if o["kind"] == "database"}
        for db in all_dbs:
            if not selection.wants_database(db):
                continue
            if db in db_entries:
                e = db_entries[db]
                cat.databases.append(SourceObject("database", db, db, self._text(e),
                                                  e.get("origin") or str(self.directory / e["file"])))
            else:
                cat.databases.append(SourceObject("database", db, db, f"CREATE DATABASE {_qi(db)}",
                                                  f"{self.directory} (no recorded CREATE DATABASE)"))
            for o in objects:
                if o["database"] != db or o["kind"] == "database" or not selection.wants_object(db, o["name"]):
                    continue
                obj = SourceObject(o["kind"], db, o["name"], self._text(o),
                                   o.get("origin") or str(self.directory / o["file"]))
                (cat.tables if o["kind"] == "table" else cat.views).append(obj)
        _check_found(selection, cat, set(all_dbs))
        return cat
