"""The selection in the full load: which tables are copied, which columns are read, target names.

The lanes read only the selected columns (``TablePlan.columns`` is narrowed, so the keyset
``SELECT`` lists just those) and the page writer writes them under the target names
(``TablePlan.target_*``). The key must stay selected: keyset paging and the target's
upserts depend on it.
"""

from __future__ import annotations

from tidb2mysql.selection.engine import Selection, SelectionError


def select_source_tables(sel: Selection, tables: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The selected ones among the source tables the full load would copy (rules checked, warned)."""
    if sel.is_identity:
        return tables
    sel.check_source(tables, sorted({s for s, _ in tables}))
    return [(s, t) for s, t in tables if sel.table_selected(s, t)]


def map_plan(sel: Selection, plan) -> None:
    """Narrow every ``TablePlan`` to its selected columns and set its target names."""
    if sel.is_identity:
        return
    for tp in plan.tables:
        cp = sel.column_plan(tp.schema, tp.table, tp.columns)
        lost = [k for k in (tp.unique_key if tp.hidden_key else tp.key) if k not in [tp.columns[i] for i in cp.keep]]
        if lost:
            raise SelectionError(f"table {tp.qualified}: the column selection leaves out key column(s) "
                                 f"{', '.join(lost)}, which the full load and replication need")
        tdb, tt = sel.map_table(tp.schema, tp.table)
        if not cp.identity:
            tp.columns = [tp.columns[i] for i in cp.keep]
            tp.types = [tp.types[i] for i in cp.keep]
            tp.target_columns = list(cp.names)
        if (tdb, tt) != (tp.schema, tp.table):
            tp.target_schema, tp.target_table = tdb, tt
