"""The ``[selection]`` config section: which objects move, under which names, with which columns.

Why one small model: schema migration, the full load, incremental replication and replicated
DDL must all agree on what "selected" and "renamed" mean, so they all read the same validated
rules (this module) through the same engine (``selection/engine.py``).

Format (docs/selection.md has the full reference)::

    [selection]
    include = ["shop.*", "crm.customers"]   # db or db.table patterns; * and ? wildcards
    exclude = ["shop.tmp_*", "`shop`.`a*b`"]  # backquoted parts are literal names
    databases = { shop = "shop_prod" }      # database renames (exact source names)
    allow_merge = false                     # two source tables -> one target table is an error
    warn_after_messages = 100000            # incremental: warn about rules that never matched

    [[selection.tables]]                    # per-table mapping (exact source names)
    name = "shop.users"
    to = "customers"                        # or "otherdb.customers"
    columns = ["id", "name", "email"]       # column include list (the key must be in it)
    rename_columns = { email = "mail" }

An include/exclude rule may also be an inline table ``{ database = "a*b", table = "t",
literal = true }``. Names compare case-insensitively, as TiDB compares them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from tidb2mysql.config.keys import setting
from typing import Any, Optional



def split_qualified(text: str) -> list[tuple[str, bool]]:
    """``db.table`` text -> [(part, literal)]; a backquoted part is literal (`` `` `` escapes)."""
    parts: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == "`":
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise ValueError(f"{text!r}: unterminated backquote")
                if text[j] == "`":
                    if j + 1 < n and text[j + 1] == "`":
                        buf.append("`")
                        j += 2
                        continue
                    break
                buf.append(text[j])
                j += 1
            parts.append(("".join(buf), True))
            i = j + 1
        else:
            j = text.find(".", i)
            j = n if j < 0 else j
            part = text[i:j].strip()
            if not part:
                raise ValueError(f"{text!r}: empty name part")
            parts.append((part, False))
            i = j
        if i >= n:
            return parts
        if text[i] != ".":
            raise ValueError(f"{text!r}: expected '.' after a backquoted name")
        i += 1


@dataclass(frozen=True)
class Pattern:
    """One include/exclude rule: a database pattern and a table pattern (``*`` = every table)."""

    text: str  # as written in the config, for messages
    database: str
    table: str = "*"
    literal_database: bool = False
    literal_table: bool = False

    @property
    def whole_database(self) -> bool:
        return self.table == "*" and not self.literal_table

    @staticmethod
    def _match(pattern: str, literal: bool, name: str) -> bool:
        if literal:
            return pattern.lower() == name.lower()
        return fnmatch.fnmatchcase(name.lower(), pattern.lower().replace("[", "[[]"))

    def matches_database(self, db: str) -> bool:
        return self._match(self.database, self.literal_database, db)

    def matches(self, db: str, table: str) -> bool:
        return self.matches_database(db) and self._match(self.table, self.literal_table, table)

    @classmethod
    def parse(cls, rule: Any, where: str) -> "Pattern":
        if isinstance(rule, str):
            parts = split_qualified(rule)
            if len(parts) > 2:
                raise ValueError(f"{where}: {rule!r} has more than database.table")
            (db, ldb), (tb, ltb) = parts[0], (parts[1] if len(parts) == 2 else ("*", False))
            return cls(rule, db, tb, ldb, ltb)
        if isinstance(rule, dict):
            unknown = set(rule) - {"database", "table", "literal"}
            if unknown or not isinstance(rule.get("database"), str) or not rule["database"]:
                raise ValueError(f"{where}: {rule!r} needs database (and optional table, literal); "
                                 f"unknown keys: {sorted(unknown)}")
            lit = bool(rule.get("literal", False))
            table = rule.get("table", "*")
            if not isinstance(table, str) or not table:
                raise ValueError(f"{where}: table must be a non-empty string in {rule!r}")
            text = f"{rule['database']}.{table}" + (" (literal)" if lit else "")
            return cls(text, rule["database"], table, lit, lit and "table" in rule)
        raise ValueError(f"{where}: a rule is a 'db.table' string or a table, not {rule!r}")


@dataclass(frozen=True)
class TableMap:
    """Per-table mapping: exact source name -> target name, column subset and column renames."""

    database: str
    table: str
    to_database: Optional[str] = None  # None: the (renamed) source database
    to_table: Optional[str] = None
    columns: tuple[str, ...] = ()  # include list; () = every column
    rename_columns: tuple[tuple[str, str], ...] = ()

    @property
    def text(self) -> str:
        return f"{self.database}.{self.table}"

    @classmethod
    def parse(cls, entry: Any, where: str) -> "TableMap":
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a table with name, to, columns, rename_columns")
        unknown = set(entry) - {"name", "to", "columns", "rename_columns"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        name = entry.get("name")
        if not isinstance(name, str):
            raise ValueError(f"{where}: name = 'db.table' is required")
        parts = split_qualified(name)
        if len(parts) != 2:
            raise ValueError(f"{where}: name {name!r} must be database.table (exact names, no wildcards)")
        to_db = to_table = None
        if "to" in entry:
            if not isinstance(entry["to"], str):
                raise ValueError(f"{where}: to must be 'table' or 'db.table'")
            to = [p for p, _ in split_qualified(entry["to"])]
            if len(to) > 2:
                raise ValueError(f"{where}: to {entry['to']!r} must be table or database.table")
            to_db, to_table = (to[0], to[1]) if len(to) == 2 else (None, to[0])
        cols = entry.get("columns", [])
        if not isinstance(cols, list) or not all(isinstance(c, str) and c for c in cols):
            raise ValueError(f"{where}: columns must be a list of column names")
        if len({c.lower() for c in cols}) != len(cols):
            raise ValueError(f"{where}: columns lists a column twice")
        ren = entry.get("rename_columns", {})
        if not isinstance(ren, dict) or not all(isinstance(v, str) and v for v in ren.values()):
            raise ValueError(f"{where}: rename_columns must be a table of source = target column names")
        if cols:
            lower = {c.lower() for c in cols}
            missing = [c for c in ren if c.lower() not in lower]
            if missing:
                raise ValueError(f"{where}: rename_columns names {', '.join(missing)}, not in columns")
        targets = [v.lower() for v in ren.values()]
        kept = [c.lower() for c in cols if c not in ren]
        if len(set(targets)) != len(targets) or set(targets) & set(kept):
            raise ValueError(f"{where}: rename_columns maps two columns to the same name")
        return cls(parts[0][0], parts[1][0], to_db, to_table, tuple(cols), tuple(ren.items()))


@dataclass(frozen=True)
class SelectionConfig:
    include: list[Any] = setting(help='"db" / "db.table" patterns, or { database, table, literal } tables; none = everything', factory=list)
    exclude: list[Any] = setting(help="same form as include; wins over include", factory=list)
    databases: dict[str, str] = setting(help="database renames: source database -> target database", factory=dict)
    tables: list[Any] = setting(help="per-table mappings (TableMap as inline tables: name, to, columns, rename_columns)", factory=list)
    allow_merge: bool = setting(False, "allow two source tables mapped onto one target table")
    warn_after_messages: int = setting(100_000, "the incremental flow warns about rules that matched nothing after this many messages")

    def validate(self) -> None:
        self.parsed()
        if self.warn_after_messages < 1:
            raise ValueError("warn_after_messages must be >= 1")

    def parsed(self) -> tuple[list[Pattern], list[Pattern], dict[str, str], list[TableMap]]:
        inc = [Pattern.parse(r, f"include[{i}]") for i, r in enumerate(self.include)]
        exc = [Pattern.parse(r, f"exclude[{i}]") for i, r in enumerate(self.exclude)]
        dbs: dict[str, str] = {}
        for k, v in self.databases.items():
            if not isinstance(v, str) or not v or not k:
                raise ValueError(f"databases: {k!r} = {v!r} must map a database name to a database name")
            if k.lower() in dbs:
                raise ValueError(f"databases: {k!r} is renamed twice")
            dbs[k.lower()] = v
        maps = [TableMap.parse(t, f"tables[{i}]") for i, t in enumerate(self.tables)]
        seen: dict[tuple[str, str], str] = {}
        for m in maps:
            key = (m.database.lower(), m.table.lower())
            if key in seen:
                raise ValueError(f"tables: {m.text} is mapped twice")
            seen[key] = m.text
        return inc, exc, dbs, maps

