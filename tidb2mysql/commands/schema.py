"""``tidb2mysql schema``: create the selected source databases, tables and views on the target.

Reads the source (``--recorded DIR`` reads saved SHOW CREATE outputs instead, see
``tidb2mysql.schema.reader``), translates every statement for the target server it detects,
and creates what is missing. ``--dry-run`` only prints the plan. Exit status: 0 when
everything was created/kept, 1 when anything failed or an error-level decision was taken,
2 when the source or target cannot be reached or the request is invalid.
"""

from __future__ import annotations

import logging
import os
import sys

from tidb2mysql import config as config_mod


NAME = "schema"
HELP = "Create the source's databases, tables and views on the target (DDL translated)."


log = logging.getLogger("tidb2mysql.schema")


def add_arguments(p) -> None:
    p.add_argument("--dry-run", action="store_true", help="print the plan with every decision; change nothing")
    p.add_argument("--databases", help="comma-separated source databases (default: all non-system ones)")
    p.add_argument("--tables", help="comma-separated db.name tables or views (added to --databases)")
    p.add_argument("--existing", choices=("fail", "skip", "check"), default="fail",
                   help="an object already on the target: fail (default, nothing is changed), skip it, or "
                        "check that it is compatible")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--target-database", help="create the (single) selected database under this name")
    p.add_argument("--map-database", help="rename databases: src=dst,src2=dst2")
    p.add_argument("--recorded", metavar="DIR",
                   help="read the schema from recorded SHOW CREATE outputs (DIR/index.json) instead of [source]")


def _fail(msg: str) -> int:
    print(f"tidb2mysql schema: {msg}", file=sys.stderr)
    return 2


def run(args) -> int:
    return run_schema(args.config or os.environ.get(config_mod.ENV_VAR), dry_run=args.dry_run,
                      databases=args.databases, tables=args.tables, existing=args.existing, as_json=args.json,
                      target_database=args.target_database, map_database=args.map_database,
                      recorded=args.recorded)


def run_schema(cfg_path: str | None, *, dry_run: bool = False, databases: str | None = None,
               tables: str | None = None, existing: str = "fail", as_json: bool = False,
               target_database: str | None = None, map_database: str | None = None,
               recorded: str | None = None) -> int:
    """The schema stage as a function (the ``schema`` command and ``migrate`` call it); the
    exit status of the module docstring."""
    import pymysql

    from tidb2mysql.mysql.db import connect
    from tidb2mysql.mysql.dialect import Dialect
    from tidb2mysql.schema import render
    from tidb2mysql.schema.apply import apply_plan, exit_status
    from tidb2mysql.schema.plan import SchemaPlanError, TargetState, build_plan, database_map, parse_mapping
    from tidb2mysql.schema.reader import LiveSource, RecordedSource, SchemaReadError, Selection as ReadSelection
    from tidb2mysql.selection.engine import Selection, SelectionError
    from tidb2mysql.schema.selection import filter_catalog

    cfg = config_mod.load(cfg_path)
    meta = getattr(getattr(cfg, "job", None), "meta_schema", "tidb2mysql")
    try:
        selection = ReadSelection.parse(databases, tables, exclude=[meta])
        mapping = parse_mapping(map_database)
    except (SchemaReadError, SchemaPlanError) as e:
        return _fail(str(e))

    source_conn = None
    try:
        if recorded:
            source = RecordedSource(recorded)
        else:
            try:
                source_conn = connect(cfg.source)
            except pymysql.MySQLError as e:
                return _fail(f"cannot connect to the source {cfg.source.describe()}: {e}")
            source = LiveSource(source_conn, f"source {cfg.source.describe()}")
        try:
            catalog = source.read(selection)
        except SchemaReadError as e:
            return _fail(str(e))
        except pymysql.MySQLError as e:
            return _fail(f"cannot read the schema from {source.description}: {e}")
    finally:
        if source_conn is not None:
            source_conn.close()

    try:
        target_conn = connect(cfg.target)
    except pymysql.MySQLError as e:
        return _fail(f"cannot connect to the target {cfg.target.describe()}: {e}")
    try:
        target = Dialect.detect(target_conn)
        try:
            dbmap = database_map([o.database for o in catalog.databases], target_database, mapping)
            # One rule engine: [selection] plus the command line's database renames.
            sel = Selection.from_config(cfg, dbmap)
            catalog, notes = filter_catalog(sel, catalog) if not sel.is_identity else (catalog, [])
            dbmap = {o.database: sel.map_database(o.database) for o in catalog.databases}
        except (SchemaPlanError, SelectionError) as e:
            return _fail(str(e))
        state = TargetState.read(target_conn, sorted(set(dbmap.values())))
        from tidb2mysql.ddl.settings import translate_options

        plan = build_plan(catalog, state, target, existing=existing, dbmap=dbmap, selection=sel,
                          options=translate_options(cfg))
        plan.notes.extend(notes)
        log.info("schema: %d database(s), %d table(s), %d view(s) from %s for %s%s", len(catalog.databases),
                 len(catalog.tables), len(catalog.views), source.description, target,
                 " (dry run)" if dry_run else "")
        apply_plan(plan, target_conn, dry_run=dry_run)
    finally:
        target_conn.close()
    print(render.to_json(plan, dry_run, source.description) if as_json
          else render.to_text(plan, dry_run, source.description))
    return exit_status(plan)
