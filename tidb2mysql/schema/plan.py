"""Ordering and decisions: from a source ``Catalog`` and the target's state to a ``SchemaPlan``.

Nothing here talks to a server, so every decision is unit-testable. Order:

1. databases (created when missing on the target, kept when present);
2. tables, in source order. Foreign keys need no ordering: the applier creates tables with
   ``foreign_key_checks = 0``, which also allows cycles and keys to tables created later;
3. views, dependencies first (a view on a view), found by intersecting the names the view
   text mentions with the selected views (``names.referenced_names``). A cycle cannot exist
   on a real server, but a false edge from a column named like a view can: the remaining
   views are then appended in name order, reported, and the applier's bounded retry sorts
   them out.

Existing target tables/views follow ``existing``: ``fail`` (default: nothing is changed and
an error names every conflicting object), ``skip`` (kept as is, reported), ``check``
(compared with what we would create; see ``compat``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from tidb2mysql.ddl import TranslateOptions, translate
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.schema.model import CHECK, CREATE, FAIL, KEEP, SKIP, Catalog, SourceObject, Step
from tidb2mysql.schema.names import foreign_key_targets, referenced_names, rename_created_database, rename_qualifiers
from tidb2mysql.schema.selection import create_text, view_warnings
from tidb2mysql.errors import ConfigurationError

EXISTING_MODES = ("fail", "skip", "check")


class SchemaPlanError(ConfigurationError, ValueError):
    """The request itself is inconsistent (e.g. a rename for several databases)."""


@dataclass
class TargetState:
    """What already exists on the target: database names and (database, name) -> TABLE_TYPE."""

    databases: set[str] = field(default_factory=set)
    objects: dict[tuple[str, str], str] = field(default_factory=dict)

    @classmethod
    def read(cls, conn, databases: list[str]) -> "TargetState":
        with conn.cursor() as cur:
            cur.execute("SHOW DATABASES")
            dbs = {r[0] for r in cur.fetchall()}
            objects: dict[tuple[str, str], str] = {}
            wanted = [d for d in databases if d in dbs]
            if wanted:
                cur.execute("SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
                            f"WHERE TABLE_SCHEMA IN ({', '.join(['%s'] * len(wanted))})", wanted)
                objects = {(s, n): t for s, n, t in cur.fetchall()}
        return cls(dbs, objects)


@dataclass
class SchemaPlan:
    target: Dialect
    steps: list[Step] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)      # objects not migrated, with why
    database_map: dict[str, str] = field(default_factory=dict)
    existing: str = "fail"

    @property
    def blocked(self) -> bool:
        """``existing = fail`` met an existing object: nothing may be changed."""
        return any(s.action == FAIL for s in self.steps)

    def of_kind(self, kind: str) -> list[Step]:
        return [s for s in self.steps if s.obj.kind == kind]


def database_map(source_dbs: list[str], target_database: Optional[str], mapping: dict[str, str]) -> dict[str, str]:
    """Source database -> target database; identity unless renamed."""
    if target_database:
        if len(source_dbs) != 1:
            raise SchemaPlanError(f"--target-database renames one database, but {len(source_dbs)} are selected "
                            f"({', '.join(source_dbs) or 'none'}); use --map-database src=dst,...")
        if mapping:
            raise SchemaPlanError("give either --target-database or --map-database, not both")
        return {source_dbs[0]: target_database}
    unknown = sorted(set(mapping) - set(source_dbs))
    if unknown:
        raise SchemaPlanError(f"--map-database names database(s) that are not selected: {', '.join(unknown)}")
    return {d: mapping.get(d, d) for d in source_dbs}


def parse_mapping(text: Optional[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        src, sep, dst = part.partition("=")
        if not sep or not src.strip() or not dst.strip():
            raise SchemaPlanError(f"--map-database entry {part.strip()!r} must be source=target")
        out[src.strip()] = dst.strip()
    return out


def build_plan(catalog: Catalog, state: TargetState, target: Dialect, existing: str = "fail",
               dbmap: Optional[dict[str, str]] = None, options: Optional[TranslateOptions] = None,
               selection=None) -> SchemaPlan:
    """``selection`` (a ``tidb2mysql.selection.engine.Selection``, already applied to the
    catalog by ``schema.selection.filter_catalog``) renames tables and columns and drops
    unselected columns; database renames come from ``dbmap`` (which it also folds in)."""
    if existing not in EXISTING_MODES:
        raise SchemaPlanError(f"existing must be one of {EXISTING_MODES}, not {existing!r}")
    dbmap = dbmap if dbmap is not None else {o.database: o.database for o in catalog.databases}
    renames = {s: d for s, d in dbmap.items() if s != d}
    plan = SchemaPlan(target, database_map=dict(dbmap), existing=existing)
    for name, reason in catalog.skipped:
        plan.notes.append({"source": name, "level": "warning", "action": "skipped", "reason": reason})
    for obj in catalog.databases:
        plan.steps.append(_database_step(obj, dbmap[obj.database], state, target, options))
    maps = selection is not None and bool(selection.maps)
    names = {(o.database, o.name): (selection.map_table(o.database, o.name) if maps else (dbmap[o.database], o.name))
             for o in catalog.tables + catalog.views}
    migrated = {names[(o.database, o.name)] for o in catalog.tables}
    for obj in catalog.tables:
        step = _object_step(obj, names[(obj.database, obj.name)], state, target, existing, renames, options,
                            selection if maps else None)
        _check_foreign_keys(step, migrated, state)
        plan.steps.append(step)
    sources = {(o.database, o.name) for o in catalog.tables}
    for obj in order_views(catalog.views, plan.notes):
        step = _object_step(obj, names[(obj.database, obj.name)], state, target, existing, renames, options,
                            selection if maps else None)
        if selection is not None:
            for w in view_warnings(selection, obj.database, obj.create_sql, sources):
                step.decide("warning", "unchanged", f"view {obj.qualified} {w}")
        plan.steps.append(step)
    return plan


def _database_step(obj: SourceObject, tdb: str, state: TargetState, target: Dialect,
                   options: Optional[TranslateOptions]) -> Step:
    step = Step(obj, tdb, CREATE)
    if tdb != obj.database:
        step.decide("info", "changed", f"database {obj.database} is created as {tdb} (database rename)")
    if tdb in state.databases:
        step.action = KEEP
        step.decide("info", "unchanged", f"database {tdb} already exists on the target; kept as it is "
                    "(its default character set and collation are not changed)")
        return step
    tr = translate(obj.create_sql, target, options=options)
    step.decisions.extend(tr.decisions)
    if tr.skipped:
        step.action = SKIP
        return step
    step.statements = [rename_created_database(s, tdb) if tdb != obj.database else s for s in tr.statements]
    if not tr.decisions:
        step.decide("info", "unchanged", "translated unchanged")
    return step


def _object_step(obj: SourceObject, tname: tuple[str, str], state: TargetState, target: Dialect, existing: str,
                 renames: dict[str, str], options: Optional[TranslateOptions], selection=None) -> Step:
    tdb = tname[0]
    step = Step(obj, tdb, CREATE, target_table=tname[1] if tname[1] != obj.name else "")
    tr = translate(obj.create_sql, target, options=options)
    step.decisions.extend(tr.decisions)
    statements = []
    renamed = 0
    for s in tr.statements:
        if selection is not None:
            s, decisions = create_text(selection, obj.database, obj.name, s)
            for d in decisions:
                step.decide(d["level"], d["action"], d["reason"])
        else:
            s, n = rename_qualifiers(s, renames)
            renamed += n
        statements.append(s)
    step.statements = statements
    if renamed:
        step.decide("info", "changed", f"{renamed} database qualifier(s) renamed "
                    f"({', '.join(f'{a} -> {b}' for a, b in sorted(renames.items()))})")
    if tr.skipped:
        step.action = SKIP
        step.statements = []
        return step
    if not tr.decisions:
        step.decide("info", "unchanged", "translated unchanged")
    found = state.objects.get((tdb, tname[1]))
    if found is None:
        return step
    wanted = "BASE TABLE" if obj.kind == "table" else "VIEW"
    if found != wanted:
        step.action = FAIL
        step.decide("error", "skipped", f"{step.target_name} exists on the target as {found}, not as {wanted}; "
                    "drop or rename it first")
    elif existing == "fail":
        step.action = FAIL
        step.decide("error", "skipped", f"{obj.kind} {step.target_name} already exists on the target "
                    "(--existing fail); nothing was changed. Use --existing skip or check")
    elif existing == "skip":
        step.action = SKIP
        step.decide("info", "skipped", f"{obj.kind} {step.target_name} already exists on the target; "
                    "kept as it is without comparing (--existing skip)")
    elif obj.kind == "view":
        step.action = SKIP
        step.decide("warning", "skipped", f"view {step.target_name} already exists on the target; kept, "
                    "views are not compared (--existing check compares tables)")
    else:
        step.action = CHECK
    return step


def _check_foreign_keys(step: Step, migrated: set[tuple[str, str]], state: TargetState) -> None:
    """Warn about a foreign key to a table that will exist neither by migration nor already.

    The table is still created (foreign_key_checks=0 allows it), but every insert into it
    fails until the referenced table exists, so the user has to know now.
    """
    for statement in step.statements:
        for ref in foreign_key_targets(statement, step.target_database):
            if ref not in migrated and ref not in state.objects:
                step.decide("warning", "unchanged", f"foreign key references {ref[0]}.{ref[1]}, which is not "
                            "selected and not on the target; inserts into this table fail until it exists")


def order_views(views: list[SourceObject], notes: Optional[list[dict]] = None) -> list[SourceObject]:
    """Views with every selected view they mention placed before them (Kahn, name order)."""
    by_key = {(v.database, v.name): v for v in views}
    deps = {}
    for v in views:
        refs = referenced_names(v.create_sql, v.database) & set(by_key)
        refs.discard((v.database, v.name))
        deps[(v.database, v.name)] = refs
    done: list[SourceObject] = []
    placed: set[tuple[str, str]] = set()
    pending = sorted(by_key)
    while pending:
        ready = [k for k in pending if deps[k] <= placed]
        if not ready:
            if notes is not None:
                notes.append({"source": ", ".join(f"{d}.{n}" for d, n in pending), "level": "warning",
                              "action": "changed", "reason": "these views seem to depend on each other (a "
                              "column or alias named like a view); they are created in name order, retrying "
                              "the ones whose dependencies are not there yet"})
            ready = pending
        for k in ready:
            done.append(by_key[k])
            placed.add(k)
        pending = [k for k in pending if k not in placed]
    return done
