"""Verify throughput on the full load's 1,000,000 rows of every column kind (``pytest -s`` prints it).

Both servers get the same rows from the same deterministic INSERT ... SELECT (the full load's
bench tables, tests/integration/test_full_load.py), so the first verify must be clean; then one
value is changed in the target and the verify must find exactly it (the cost of narrowing one
chunk down to its row is in the second number). ``T2M_VERIFY_BENCH_SCALE`` scales the rows.
"""

from __future__ import annotations

import os
import time

import pytest

from bench.verify import run_verify
from tests.integration.test_full_load import make_source_tables
from tests.integration.test_verify import cleanup_job, config
from tests.support import stack
from tidb2mysql.verify.runner import VerifyOptions, verify

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_verify_throughput_on_a_million_rows(stack_config, source_db, tmp_path):
    scale = float(os.environ.get("T2M_VERIFY_BENCH_SCALE", "1.0"))
    with stack.connect(stack_config.target) as t, t.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{source_db}`")
        cur.execute(f"CREATE DATABASE `{source_db}`")
    try:
        t0 = time.monotonic()
        with stack.connect(stack_config.source) as s:
            rows = make_source_tables(s, source_db, scale)
        with stack.connect(stack_config.target) as t:
            assert make_source_tables(t, source_db, scale) == rows
        print(f"\n{rows:,} rows made on both servers in {time.monotonic() - t0:.1f}s")
        for lanes in (1, 2):
            r = run_verify(stack_config, source_db, rows, tmp_path, lanes)
            print(f"verify --lanes {lanes}: {r}")
            assert r["equal"] and r["rows"] == rows
        job = f"vrate_{source_db[-10:]}"
        t0 = time.monotonic()
        limited = verify(config(stack_config, job, chunk_rows=50_000, lanes=2),
                         VerifyOptions(tables=[f"{source_db}.*"], rate=40_000))
        took = time.monotonic() - t0
        cleanup_job(stack_config, job)
        print(f"verify --rate 40000 --lanes 2: {took:.1f}s = {rows / took:,.0f} rows/s")
        assert limited.clean and rows / took <= 40_000 * 1.02
        with stack.connect(stack_config.target, source_db) as t, t.cursor() as cur:
            cur.execute("UPDATE t_float SET f = f * 1.0000001 WHERE id = 77777")  # about the float32 last bit
        job = f"vbench_{source_db[-10:]}"
        t0 = time.monotonic()
        rep = verify(config(stack_config, job, chunk_rows=50_000, leaf_rows=2000, lanes=2),
                     VerifyOptions(tables=[f"{source_db}.*"], repair_sql=str(tmp_path / "r.sql")))
        took = time.monotonic() - t0
        cleanup_job(stack_config, job)
        print(f"verify with one FLOAT changed: {took:.1f}s, {rep.chunks} chunks, {rep.ranges} ranges; "
              f"{[str(d) for d in rep.differences]}")
        assert [(d.table, d.key, [c for c, _, _ in d.columns]) for d in rep.differences] == [
            (f"{source_db}.t_float", {"id": 77777}, ["f"])]
    finally:
        stack.drop_database(stack_config.target, source_db)
