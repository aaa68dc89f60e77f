"""The objects schema migration moves and what it decided about each of them.

A ``SourceObject`` is one SHOW CREATE output (database, table or view) as the source printed
it. A ``Step`` is what happens to one object on the target: the translated statements, the
action taken and every decision with its reason. Decisions reuse the translator's
``Decision`` so a reader sees one vocabulary (level info/warning/error, action
unchanged/changed/skipped) whether the translator or the planner decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from tidb2mysql.ddl.model import LEVELS, Decision

KINDS = ("database", "table", "view")


@dataclass
class SourceObject:
    kind: str                      # database | table | view
    database: str
    name: str                      # == database for kind "database"
    create_sql: str                # SHOW CREATE output, verbatim
    origin: str = ""               # where the text came from (server, or a recorded file)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"object kind must be one of {KINDS}, not {self.kind!r}")

    @property
    def qualified(self) -> str:
        return self.database if self.kind == "database" else f"{self.database}.{self.name}"


@dataclass
class Catalog:
    """Everything read from the source, in the source's listing order."""

    databases: list[SourceObject] = field(default_factory=list)
    tables: list[SourceObject] = field(default_factory=list)
    views: list[SourceObject] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (qualified name, reason)


# What a step does on the target.
CREATE, SKIP, CHECK, FAIL, KEEP = "create", "skip", "check", "fail", "keep"


@dataclass
class Step:
    obj: SourceObject
    target_database: str
    action: str                                   # create | skip | check | fail | keep
    statements: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    status: str = "planned"                       # planned | done | failed | dry-run
    error: Optional[str] = None
    target_table: str = ""                        # set when [selection] renames the object

    @property
    def target_name(self) -> str:
        if self.obj.kind == "database":
            return self.target_database
        return f"{self.target_database}.{self.target_table or self.obj.name}"

    @property
    def level(self) -> str:
        levels = [d.level for d in self.decisions] or ["info"]
        if self.status == "failed":
            levels.append("error")
        return max(levels, key=LEVELS.index)

    def decide(self, level: str, action: str, reason: str) -> None:
        self.decisions.append(Decision(level, action, reason))

    def as_dict(self) -> dict:
        return {
            "kind": self.obj.kind,
            "source": self.obj.qualified,
            "target": self.target_name,
            "origin": self.obj.origin,
            "action": self.action,
            "status": self.status,
            "level": self.level,
            "statements": list(self.statements),
            "decisions": [d.as_dict() for d in self.decisions],
            "error": self.error,
        }
