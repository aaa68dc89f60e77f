"""The one rule engine: is an object selected, what is its target name, which columns move.

Every stage asks the same questions of the same object (schema migration, full load,
incremental rows, replicated DDL), so a table can never be created by one stage and
dropped by another. Decisions are by rule, not by a fixed list of tables: a table created
later (CREATE TABLE in the stream) is selected as soon as its name matches.

Semantics:

* a table is selected when it matches an include rule (or there are none) and no exclude
  rule; a database is selected when some include rule could select tables in it (or there
  are none) and no whole-database exclude rule (``db`` or ``db.*``) matches it;
* names compare case-insensitively (TiDB's rule); target names keep the configured case;
* a table's target database is its ``[[selection.tables]] to`` database, else its source
  database renamed by ``databases``, else unchanged.

Every rule counts its matches, so stages can warn about rules that never matched.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Optional

from tidb2mysql.config.selection import SelectionConfig, TableMap
from tidb2mysql.errors import ConfigurationError

log = logging.getLogger("tidb2mysql.selection")


class SelectionError(ConfigurationError, ValueError):
    """The selection cannot be applied (names the object): e.g. two tables merged into one."""


@dataclass(frozen=True)
class ColumnPlan:
    """Which source columns move (indexes into the source column list) and their target names."""

    keep: tuple[int, ...]
    names: tuple[str, ...]
    identity: bool


class Selection:
    def __init__(self, config: Optional[SelectionConfig] = None, extra_database_map: Optional[dict] = None):
        self.config = config or SelectionConfig()
        self.include, self.exclude, dbs, maps = self.config.parsed()
        for src, dst in (extra_database_map or {}).items():
            if src != dst:
                if src.lower() in dbs and dbs[src.lower()] != dst:
                    raise SelectionError(f"database {src} is renamed to {dbs[src.lower()]} by [selection] "
                                         f"databases and to {dst} on the command line")
                dbs[src.lower()] = dst
        self.database_renames = dbs
        self.maps: dict[tuple[str, str], TableMap] = {(m.database.lower(), m.table.lower()): m for m in maps}
        self.allow_merge = self.config.allow_merge
        self.hits: Counter = Counter()  # rule text -> matches
        self._targets: dict[tuple[str, str], tuple[str, str]] = {}  # target (lower) -> source

    @classmethod
    def from_config(cls, cfg, extra_database_map: Optional[dict] = None) -> "Selection":

        return cls(cfg.selection, extra_database_map)

    # -- what is selected --------------------------------------------------------------

    @property
    def is_identity(self) -> bool:
        """No rule at all: every stage behaves exactly as without selection."""
        return not (self.include or self.exclude or self.database_renames or self.maps)

    @property
    def filters(self) -> bool:
        return bool(self.include or self.exclude)

    def database_selected(self, db: str) -> bool:
        for p in self.exclude:
            if p.whole_database and p.matches_database(db):
                self.hits[p.text] += 1
                return False
        if not self.include:
            return True
        for p in self.include:
            if p.matches_database(db):
                self.hits[p.text] += 1
                return True
        return False

    def table_selected(self, db: str, table: str) -> bool:
        return self.exclusion(db, table) is None

    def exclusion(self, db: str, table: str) -> Optional[str]:
        """None when ``db.table`` is selected, else why not (names the rule)."""
        for p in self.exclude:
            if p.matches(db, table):
                self.hits[p.text] += 1
                return f"excluded by selection rule exclude {p.text!r}"
        if not self.include:
            return None
        for p in self.include:
            if p.matches(db, table):
                self.hits[p.text] += 1
                return None
        return "not matched by any selection include rule"

    # -- names -------------------------------------------------------------------------

    def map_database(self, db: str) -> str:
        new = self.database_renames.get(db.lower())
        if new is not None:
            self.hits[f"databases.{db.lower()}"] += 1
            return new
        return db

    def table_map(self, db: str, table: str) -> Optional[TableMap]:
        m = self.maps.get((db.lower(), table.lower()))
        if m is not None:
            self.hits[f"tables.{m.text}"] += 1
        return m

    def map_table(self, db: str, table: str) -> tuple[str, str]:
        m = self.table_map(db, table)
        tdb = (m.to_database if m and m.to_database else None) or self.map_database(db)
        return tdb, (m.to_table if m and m.to_table else table)

    def map_column(self, db: str, table: str, column: str) -> Optional[str]:
        """The target name of a column, or None when the column is not selected."""
        m = self.table_map(db, table)
        if m is None:
            return column
        if m.columns and column.lower() not in {c.lower() for c in m.columns}:
            return None
        for src, dst in m.rename_columns:
            if src.lower() == column.lower():
                return dst
        return column

    def column_plan(self, db: str, table: str, columns: Iterable[str]) -> ColumnPlan:
        columns = list(columns)
        keep, names = [], []
        for i, c in enumerate(columns):
            new = self.map_column(db, table, c)
            if new is not None:
                keep.append(i)
                names.append(new)
        identity = len(keep) == len(columns) and all(a == b for a, b in zip(names, columns))
        return ColumnPlan(tuple(keep), tuple(names), identity)

    def check_target(self, db: str, table: str) -> tuple[str, str]:
        """``map_table`` plus the merge check: two source tables onto one target is an error.

        Remembers every source it saw, so the incremental flow checks as tables appear.
        """
        tdb, ttable = self.map_table(db, table)
        key = (tdb.lower(), ttable.lower())
        src = (db, table)
        seen = self._targets.setdefault(key, src)
        if (seen[0].lower(), seen[1].lower()) != (db.lower(), table.lower()) and not self.allow_merge:
            raise SelectionError(f"tables {seen[0]}.{seen[1]} and {db}.{table} are both mapped to {tdb}.{ttable}; "
                                 "set [selection] allow_merge = true if that is intended")
        return tdb, ttable

    # -- reporting ---------------------------------------------------------------------

    def rule_texts(self) -> list[str]:
        out = [f"include {p.text!r}" for p in self.include] + [f"exclude {p.text!r}" for p in self.exclude]
        out += [f"database {s} -> {d}" for s, d in self.database_renames.items()]
        for m in self.maps.values():
            bits = [f"table {m.text}"]
            if m.to_database or m.to_table:
                bits.append(f"-> {m.to_database + '.' if m.to_database else ''}{m.to_table or m.table}")
            if m.columns:
                bits.append(f"columns {list(m.columns)}")
            if m.rename_columns:
                bits.append(f"rename columns {dict(m.rename_columns)}")
            out.append(" ".join(bits))
        return out

    def unmatched(self) -> list[str]:
        """Rules that matched nothing so far (for the warning 'rule matches nothing')."""
        out = [f"include {p.text!r}" for p in self.include if not self.hits[p.text]]
        out += [f"exclude {p.text!r}" for p in self.exclude if not self.hits[p.text]]
        out += [f"databases {s!r}" for s in self.database_renames if not self.hits[f"databases.{s}"]]
        out += [f"tables {m.text!r}" for m in self.maps.values() if not self.hits[f"tables.{m.text}"]]
        return out

    def check_source(self, tables: Iterable[tuple[str, str]], databases: Iterable[str] = ()) -> list[str]:
        """For stages that see the source: match every rule against it; merge errors raise.

        Returns warnings (rules matching nothing), already logged.
        """
        for db in databases:
            self.database_selected(db)
            self.map_database(db)
        for db, table in tables:
            if self.table_selected(db, table):
                self.check_target(db, table)
        warnings = [f"selection rule {r} matches nothing in the source" for r in self.unmatched()]
        for w in warnings:
            log.warning("%s", w)
        return warnings
