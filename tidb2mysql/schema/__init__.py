"""Schema migration: read databases, tables and views from the source, create them on the target.

    source = LiveSource(conn)  or  RecordedSource(directory)      # reader.py (the seam)
    catalog = source.read(Selection(...))                          # SourceObject per object
    plan = build_plan(catalog, target_state, target, options)      # plan.py: order + decisions
    report = apply_plan(plan, target_conn)                         # apply.py (skipped on --dry-run)

Modules: ``model`` (SourceObject, Step, Report), ``reader`` (where SHOW CREATE text comes from),
``names`` (database renames, view references: token level), ``plan`` (order and decisions),
``compat`` (comparing an existing target table with what we would create), ``apply``
(running the plan), ``render`` (human table / JSON).
"""
