"""Where the incremental flow gets its DDL translation from (one place), with the selection applied first.

The DDL barrier calls the returned function for each replicated DDL. It uses the same
translator as schema migration (``tidb2mysql.ddl``), for the flavour and version detected
from the target server, and hands back the statements and every decision, which the barrier
records in ``ddl_history``.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from tidb2mysql.ddl import translate
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.ddl.catalog import TargetCatalog
from tidb2mysql.ddl.shadow import validate
from tidb2mysql.events import DDL
from tidb2mysql.replication.barrier import BarrierTranslation
from tidb2mysql.selection.ddl import rewrite_ddl
from tidb2mysql.selection.engine import Selection

log = logging.getLogger(__name__)


def make_translator(cfg, connect: Callable) -> Callable[..., BarrierTranslation]:
    """The DDL translator the barrier uses for this job's target (detected on first use)."""
    from tidb2mysql.ddl.settings import translate_options

    lock = threading.Lock()
    target: Optional[Dialect] = None
    options = translate_options(cfg)

    def detect() -> Dialect:
        nonlocal target
        with lock:
            if target is None:
                conn = connect(autocommit=True)
                try:
                    target = Dialect.detect(conn)
                finally:
                    conn.close()
                log.info("DDL translation for target %s", target)
            return target

    def translate_ddl(ddl: DDL, conn=None) -> BarrierTranslation:
        """With the barrier's connection (``conn``), the translation sees the target's current
        tables (catalog) and is validated on an empty copy of the table first (shadow), so a
        statement the target would reject never reaches the real table."""
        schema = ddl.schema or None
        if conn is None:
            tr = translate(ddl.query, detect(), schema=schema, options=options)
        else:
            tr = validate(conn, translate(ddl.query, detect(), schema=schema, options=options,
                                          catalog=TargetCatalog(conn)), schema)
        for d in tr.decisions:
            if d.level != "info":
                log.warning("DDL at commit_ts %d: %s", ddl.commit_ts, d)
        return BarrierTranslation(list(tr.statements), [d.as_dict() for d in tr.decisions], tr.skipped,
                           tr.needs_recopy, tr.untranslatable)

    return translate_ddl


def selecting_translator(sel: Selection, translate: Callable[..., BarrierTranslation]) -> Callable[..., BarrierTranslation]:
    """Wrap the barrier's DDL translator: selection first (skip or rewrite), then translation.

    A DDL skipped by the selection still passes the barrier and is recorded in
    ``ddl_history`` as ``skipped`` with the reason, so every DDL of the stream is accounted for.
    """
    def translate_selected(ddl: DDL, conn=None) -> BarrierTranslation:
        rw = rewrite_ddl(sel, ddl.schema, ddl.table, ddl.query)
        if rw.skipped:
            return BarrierTranslation([], rw.decisions, skipped=True, needs_recopy=rw.needs_recopy)
        inner = translate(DDL(ddl.commit_ts, rw.schema, ddl.table, rw.query, ddl.position), conn)
        return BarrierTranslation(list(inner.statements), rw.decisions + list(inner.decisions), inner.skipped,
                           inner.needs_recopy or rw.needs_recopy, inner.untranslatable)

    return translate_selected
