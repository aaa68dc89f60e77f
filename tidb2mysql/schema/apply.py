"""Running a ``SchemaPlan`` on the target: databases, then tables, then views.

Session: ``foreign_key_checks = 0`` (tables referencing each other, in any order or in a
cycle, can all be created; the keys are enforced again for later sessions) and a
``sql_mode`` without NO_ZERO_DATE / NO_ZERO_IN_DATE, because TiDB accepts zero-date
defaults the target's strict mode would reject at CREATE time.

Views whose creation fails because an object they use is not there yet are retried after
the others, pass after pass, until a pass creates nothing (bounded by the number of views);
each retry is reported. A plan blocked by ``--existing fail`` changes nothing at all, so a
migration never stops half-way because of a conflict known up front. Any other failure is
recorded on its step (naming the object and the statement) and the rest goes on.

``dry_run`` executes nothing, except that ``--existing check`` still compares tables
through a scratch database (created and dropped; see ``compat``).

Before a table is created, its translated CREATE TABLE runs on an empty shadow in a scratch
database of the same target (``tidb2mysql.ddl.shadow``): a statement the target rejects gets
the documented fallback for its error class (a WARNING on the step) or, when none applies,
fails its step with the target's error before anything real is created.
"""

from __future__ import annotations

import logging

import pymysql

from tidb2mysql.ddl.shadow import Shadow
from tidb2mysql.schema.compat import compare_with_existing
from tidb2mysql.schema.model import CHECK, CREATE, FAIL, Step
from tidb2mysql.mysql.session import prepare_schema_session
from tidb2mysql.mysql.sql import quote_ident
from tidb2mysql.schema.plan import SchemaPlan

log = logging.getLogger("tidb2mysql.schema")

# "Table doesn't exist" (1146) and "unknown column" (1054) can mean: another view first.
_RETRYABLE_VIEW_ERRORS = {1146, 1054, 1356}


def _run(conn, step: Step) -> None:
    with conn.cursor() as cur:
        if step.obj.kind != "database":
            cur.execute(f"USE {quote_ident(step.target_database)}")
        for s in step.statements:
            cur.execute(s)


def _fail(step: Step, e: object) -> None:
    step.status = "failed"
    step.error = f"{step.obj.kind} {step.target_name}: {e}"
    log.error("schema: %s failed: %s", step.target_name, e)


def _check(conn, step: Step, dry_run: bool) -> None:
    try:
        diffs = compare_with_existing(conn, step.statements, step.target_database,
                                      step.target_table or step.obj.name)
    except pymysql.MySQLError as e:
        _fail(step, e)
        return
    if diffs:
        for d in diffs:
            step.decide("error", "skipped", f"existing table {step.target_name} differs: {d}")
        step.status = "failed"
        step.error = f"table {step.target_name} exists and is not compatible ({len(diffs)} difference(s))"
    else:
        step.decide("info", "skipped", f"table {step.target_name} already exists and matches the source "
                    "(columns, types, nullability, defaults, charsets, keys, partitions); kept")
        step.status = "dry-run" if dry_run else "done"


def apply_plan(plan: SchemaPlan, conn, dry_run: bool = False) -> SchemaPlan:
    """Carry out ``plan`` on ``conn`` (the target); statuses and errors land on the steps."""
    for step in plan.steps:
        for d in step.decisions:
            log.info("schema: %s %s: %s", step.obj.kind, step.target_name, d)
    for n in plan.notes:
        log.log(logging.WARNING if n["level"] != "info" else logging.INFO, "schema: not migrated %s: %s",
                n["source"], n["reason"])
    if plan.blocked:
        for s in plan.steps:
            s.status = "failed" if s.action == FAIL else "not run"
        for s in plan.steps:
            if s.action == FAIL:
                s.error = s.decisions[-1].reason
                log.error("schema: %s", s.error)
        return plan
    prepare_schema_session(conn)
    retry: list[Step] = []
    shadow = Shadow(conn)
    try:
        _create_steps(plan, conn, dry_run, shadow, retry)
    finally:
        shadow.close()
    _retry_views(conn, retry)
    return plan


def _shadow_check(shadow: Shadow, step: Step) -> bool:
    """Shadow-validate a table step; False when the target rejects it beyond any fallback."""
    res = shadow.check(step.statements, step.target_database)
    for d in res.decisions:
        step.decide(d.level, d.action, d.reason)
    if res.untranslatable:
        _fail(step, res.decisions[-1].reason)
        return False
    step.statements = [s for s in res.statements if not s.startswith("USE ")]
    log.debug("schema: %s shadow-validated in %.1f ms", step.target_name, res.seconds * 1000)
    return True


def _create_steps(plan: SchemaPlan, conn, dry_run: bool, shadow: Shadow, retry: list[Step]) -> None:
    for step in plan.steps:
        if step.action == CHECK:
            _check(conn, step, dry_run)
            continue
        if step.action != CREATE:
            step.status = "dry-run" if dry_run else "done"
            continue
        if dry_run:
            step.status = "dry-run"
            continue
        if step.obj.kind == "table" and step.statements:
            try:
                if not _shadow_check(shadow, step):
                    continue
            except pymysql.MySQLError as e:
                step.decide("warning", "unchanged", f"shadow validation could not run ({e}); created without it")
        try:
            _run(conn, step)
            step.status = "done"
        except pymysql.MySQLError as e:
            if step.obj.kind == "view" and e.args and e.args[0] in _RETRYABLE_VIEW_ERRORS:
                step.error = str(e)
                retry.append(step)
            else:
                _fail(step, e)


def _retry_views(conn, retry: list[Step]) -> None:
    passes = 0
    while retry:
        passes += 1
        still: list[Step] = []
        for step in retry:
            try:
                _run(conn, step)
                step.status = "done"
                step.error = None
                step.decide("info", "changed", f"created on retry pass {passes}: an object it uses did not exist "
                            "yet when it was first tried")
            except pymysql.MySQLError as e:
                step.error = str(e)
                still.append(step)
        if len(still) == len(retry):
            for step in still:
                _fail(step, step.error)
            break
        retry = still


def exit_status(plan: SchemaPlan) -> int:
    """1 when any step failed or carries an error-level decision (or a note does), else 0."""
    bad = any(s.status == "failed" or s.level == "error" for s in plan.steps)
    bad |= any(n["level"] == "error" for n in plan.notes)
    return 1 if bad else 0
