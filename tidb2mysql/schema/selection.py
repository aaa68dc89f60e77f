"""The selection in schema migration: which source objects are created, under which names.

``filter_catalog`` drops unselected databases, tables and views from what was read (each one
reported as a note, so the plan shows why it is not migrated) and matches every rule against
the source (a rule matching nothing is a warning; two tables mapped onto one is an error).
``create_text`` rewrites one translated CREATE TABLE with the same DDL rewriter the
incremental flow uses for replicated DDL. ``view_warnings`` are the DTS-style warnings for
views whose tables are excluded, renamed or column-mapped.
"""

from __future__ import annotations

from tidb2mysql.schema.model import Catalog
from tidb2mysql.schema.names import referenced_names
from tidb2mysql.selection.ddl import rewrite_ddl
from tidb2mysql.selection.engine import Selection


def filter_catalog(sel: Selection, catalog: Catalog) -> tuple[Catalog, list[dict]]:
    """The selected part of ``catalog`` and notes (one per object left out, plus rule warnings)."""
    notes: list[dict] = []
    out = Catalog(skipped=list(catalog.skipped))
    sel.check_source([(o.database, o.name) for o in catalog.tables + catalog.views],
                     [o.database for o in catalog.databases])
    for o in catalog.databases:
        if sel.database_selected(o.database):
            out.databases.append(o)
        else:
            notes.append({"source": o.database, "level": "info", "action": "skipped",
                          "reason": "database not selected ([selection])"})
    for kind, src, dst in (("table", catalog.tables, out.tables), ("view", catalog.views, out.views)):
        for o in src:
            why = sel.exclusion(o.database, o.name) if sel.database_selected(o.database) else "database not selected"
            if why:
                notes.append({"source": o.qualified, "level": "info", "action": "skipped", "reason": f"{kind}: {why}"})
            else:
                dst.append(o)
    for w in sel.unmatched():
        notes.append({"source": "[selection]", "level": "warning", "action": "unchanged",
                      "reason": f"selection rule {w} matches nothing in the source"})
    return out, notes


def create_text(sel: Selection, database: str, name: str, statement: str) -> tuple[str, list[dict]]:
    """A translated CREATE TABLE/VIEW with target names (tables, columns, references)."""
    rw = rewrite_ddl(sel, database, name, statement)
    return rw.query, rw.decisions


def view_warnings(sel: Selection, view_db: str, sql: str, source_tables: set[tuple[str, str]]) -> list[str]:
    """Why a view may break under the mapping: it uses an excluded, renamed or column-mapped table."""
    out = []
    for db, name in sorted(referenced_names(sql, view_db) & source_tables):
        if sel.exclusion(db, name):
            out.append(f"uses {db}.{name}, which is not selected: the view fails on the target until it exists")
            continue
        m = sel.table_map(db, name)
        if m is not None and (m.columns or m.rename_columns):
            out.append(f"uses {db}.{name}, whose columns are selected/renamed: column references in the view "
                       "are not rewritten; check the view")
        elif m is not None and (m.to_table or m.to_database):
            tdb, tt = sel.map_table(db, name)
            out.append(f"uses {db}.{name}, renamed to {tdb}.{tt}: qualified references were rewritten; "
                       "check unqualified ones")
    return out
