"""Throughput: 1,000,000 rows at -w 1 and -p 2, next to ``mariadb-dump | mariadb`` in the same run.

Prints rows/s for each (run with ``-s`` to see them; docs/full-load.md records a run). Our
loads must produce a target equal to the source; the dump's result is reported, not asserted
(mariadb-dump prints FLOAT with ~6 significant digits, so its copy is not exact).
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from tests.integration.test_full_load import (
    assert_equal,
    copy_structure,
    drop_job,
    full_load_cmd,
    make_source_tables,
    write_config,
)
from tests.support import flowrun, stack
from tidb2mysql.compare import compare_databases

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _fresh_target(stack_config, source_conn, db):
    stack.drop_database(stack_config.target, db)
    with stack.connect(stack_config.target) as tgt:
        with tgt.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{db}`")
        copy_structure(source_conn, db, tgt, db)


def test_throughput_against_mariadb_dump(stack_config, source_conn, source_db, tmp_path):
    assert shutil.which("mariadb-dump") and shutil.which("mariadb"), "mariadb client tools are needed"
    n = make_source_tables(source_conn, source_db)
    lines = []
    try:
        for label, workers, processes in (("-w 1", 1, 1), ("-p 2 -w 1", 1, 2)):
            _fresh_target(stack_config, source_conn, source_db)
            drop_job(stack_config, source_db)
            cfg = write_config(tmp_path, source_db)
            log = tmp_path / f"{processes}x{workers}.log"
            t0 = time.monotonic()
            assert flowrun.run(full_load_cmd(cfg, source_db, workers, processes), log, timeout=240) == 0, \
                flowrun.tail(log)
            secs = time.monotonic() - t0
            assert_equal(stack_config, source_db)
            lines.append(f"tidb2mysql full-load {label}: {secs:.1f}s, {n / secs:,.0f} rows/s (equal)")
        _fresh_target(stack_config, source_conn, source_db)
        src, tgt = stack_config.source, stack_config.target
        auth = f"-h{src.host} -u{src.user} -p{src.resolved_password()}"
        tauth = f"-h{tgt.host} -u{tgt.user} -p{tgt.resolved_password()}"
        cmd = (f"mariadb-dump {auth} -P{src.port} --single-transaction --no-create-info --skip-triggers --tz-utc "
               f"{source_db} | mariadb {tauth} -P{tgt.port} {source_db}")
        t0 = time.monotonic()
        subprocess.run(["bash", "-o", "pipefail", "-c", cmd], check=True)
        secs = time.monotonic() - t0
        with stack.connect(src) as a, stack.connect(tgt) as b:
            res = compare_databases(a, source_db, b, source_db)
        verdict = "equal" if res.equal else "NOT equal: " + ", ".join(t.name for t in res.different_tables)
        lines.append(f"mariadb-dump | mariadb: {secs:.1f}s, {n / secs:,.0f} rows/s ({verdict})")
    finally:
        drop_job(stack_config, source_db)
        stack.drop_database(stack_config.target, source_db)
    print("\n" + "\n".join(lines))
