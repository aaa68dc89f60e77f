"""Where the incremental flow gets its DDL translation from (one function, one place).

The DDL barrier calls the returned function for each replicated DDL. It uses the same
translator as schema migration (``tidb2mysql.ddl``), for the flavour and version detected
from the target server, and hands back the statements and every decision, which the barrier
records in ``ddl_history``.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from tidb2mysql.ddl import Target, translate
from tidb2mysql.ddl.catalog import TargetCatalog
from tidb2mysql.ddl.shadow import validate
from tidb2mysql.events import DDL
from tidb2mysql.replication.barrier import Translation

log = logging.getLogger(__name__)


def make_translator(cfg, connect: Callable) -> Callable[..., Translation]:
    """The DDL translator the barrier uses for this job's target (detected on first use)."""
    from tidb2mysql.ddl.settings import translate_options

    lock = threading.Lock()
    target: Optional[Target] = None
    options = translate_options(cfg)

    def detect() -> Target:
        nonlocal target
        with lock:
            if target is None:
                conn = connect(autocommit=True)
                try:
                    target = Target.detect(conn)
                finally:
                    conn.close()
                log.info("DDL translation for target %s", target)
            return target

    def translate_ddl(ddl: DDL, conn=None) -> Translation:
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
        return Translation(list(tr.statements), [d.as_dict() for d in tr.decisions], tr.skipped,
                           tr.needs_recopy, tr.untranslatable)

    return translate_ddl
