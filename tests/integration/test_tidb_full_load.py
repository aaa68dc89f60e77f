"""Full load from the real TiDB: every column kind, exact, at one TSO.

The full-load tables of test_full_load.py (every column kind: DECIMAL(65,30), FLOAT/DOUBLE
limits, BIT(64), zero dates, negative TIME, JSON, latin1, generated columns, key-less and
unique-key-only tables) generated on TiDB (``make up-tidb``), target tables from ``tidb2mysql
schema``, then ``tidb2mysql full-load -p 2`` (TiDB snapshot: ``tidb_snapshot`` at one TSO).
The copy must equal TiDB at that TSO - compared with the source read at the recorded TSO, after
rows were changed on TiDB behind the load's back - and the recorded TSO must lie between a
TSO taken before the load and one taken after it.
"""

from __future__ import annotations

import pytest

from tests.integration.test_full_load import drop_job, full_load_cmd, job_row, make_source_tables, write_config
from tests.support import flowrun, stack, tidb
from tidb2mysql.compare import compare_databases

pytestmark = [pytest.mark.integration, pytest.mark.tidb]


def test_every_type_exact_at_the_snapshot_tso(tidb_config, tidb_conn, tidb_db, tmp_path):
    rows = make_source_tables(tidb_conn, tidb_db, 0.01, tidb=True)
    conf = write_config(tmp_path, tidb_db, base=tidb.config_path(), chunk_rows=400, page_rows=100)
    schema_log = tmp_path / "schema.log"
    assert flowrun.run([*flowrun.incremental_cmd(conf)[:3], "schema", "--config", str(conf), "--databases", tidb_db],
                       schema_log, timeout=300) == 0, flowrun.tail(schema_log)
    try:
        before = tidb.tso_now(tidb_conn)
        log = tmp_path / "full_load.log"
        assert flowrun.run(full_load_cmd(conf, tidb_db, 1, 2), log, timeout=600) == 0, flowrun.tail(log)
        after = tidb.tso_now(tidb_conn)
        stage, snap_ts, _, _ = job_row(tidb_config, tidb_db)
        assert stage == "loaded" and before < snap_ts < after, (before, snap_ts, after)
        # changes after the load: the copy must still equal TiDB *at the snapshot TSO*
        stack.run(tidb_conn, "UPDATE t_int SET a = a + 1 WHERE id % 2 = 0")
        stack.run(tidb_conn, "DELETE FROM t_nokey WHERE a < 10")
        with stack.connect(tidb_config.source) as src, stack.connect(tidb_config.target) as tgt:
            assert not compare_databases(src, tidb_db, tgt, tidb_db).equal  # the comparison can tell
            stack.run(src, f"SET @@tidb_snapshot = '{snap_ts}'")
            result = compare_databases(src, tidb_db, tgt, tidb_db)
        assert result.equal, str(result)
        assert sum(t.rows_a for t in result.tables) == rows
    finally:
        drop_job(tidb_config, tidb_db)
        stack.drop_database(tidb_config.target, tidb_db)
