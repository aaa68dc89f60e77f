"""tidb2mysql.mysql.meta against the real target: version rows, the forward migration of a
``ddl_history`` created by an older release, and refusal of a newer meta schema. ~1 s."""

from __future__ import annotations

import pytest

from tidb2mysql.mysql import meta
from tests.support.stack import run, unique_name

pytestmark = pytest.mark.integration


def old_table(schema: str, table: str, added: dict) -> str:
    """``table`` as releases before a migration created it: today's definition without the
    columns the migration adds (``ddl_history``: before the crash-safe barrier;
    ``checkpoint``: before the routing rule)."""
    [stmt] = [s for s in meta.create_statements(schema, meta.REPLICATION) if f"`{table}`" in s]
    lines = [ln for ln in stmt.split("\n") if not any(ln.startswith(f"  `{c}` ") for c in added)]
    assert len(lines) == len(stmt.split("\n")) - len(added)
    return "\n".join(lines)


def old_ddl_history(schema: str) -> str:
    return old_table(schema, "ddl_history", meta.DDL_HISTORY_UPGRADE)


@pytest.fixture
def meta_schema(admin, request):
    name = unique_name(request.node.name, prefix="t2m_meta")
    yield name
    run(admin, f"DROP DATABASE IF EXISTS `{name}`")


def _columns(admin, schema, table):
    return {r[0].lower() for r in run(admin, "SELECT column_name FROM information_schema.columns"
                                             " WHERE table_schema=%s AND table_name=%s", (schema, table))}


def _versions(admin, schema):
    return dict(run(admin, f"SELECT component, version FROM `{schema}`.`schema_version`"))


def test_fresh_meta_schema_gets_tables_and_version_rows(admin, meta_schema):
    for component in (meta.REPLICATION, meta.FENCING, meta.FULL_LOAD, meta.VERIFY):
        meta.ensure_meta(admin, meta_schema, component)
        meta.ensure_meta(admin, meta_schema, component)  # idempotent
    tables = {r[0] for r in run(admin, "SELECT table_name FROM information_schema.tables WHERE table_schema=%s",
                                (meta_schema,))}
    assert tables == {"schema_version", "checkpoint", "ddl_history", "quarantine", "dead_letter", "unique_handoff",
                      "job_control",
                      "full_load_job", "full_load_chunks", "full_load_lanes", "full_load_errors", "full_load_notes",
                      "verify_run", "verify_chunk"}
    assert _versions(admin, meta_schema) == {c: meta.COMPONENTS[c].version for c in meta.COMPONENTS}
    assert set(meta.DDL_HISTORY_UPGRADE) <= _columns(admin, meta_schema, "ddl_history")


def test_ddl_history_of_an_older_release_is_migrated_forward(admin, meta_schema):
    run(admin, f"CREATE DATABASE `{meta_schema}`")
    run(admin, old_ddl_history(meta_schema))
    run(admin, f"INSERT INTO `{meta_schema}`.`ddl_history` (job, commit_ts, schema_name, table_name, query,"
               " statements, decisions, status) VALUES ('j', 7, 'd', 't', 'q', '[]', '[]', 'applied')")
    assert not set(meta.DDL_HISTORY_UPGRADE) & _columns(admin, meta_schema, "ddl_history")

    meta.ensure_meta(admin, meta_schema, meta.REPLICATION)

    assert set(meta.DDL_HISTORY_UPGRADE) <= _columns(admin, meta_schema, "ddl_history")
    assert run(admin, f"SELECT job, commit_ts, step, attempts FROM `{meta_schema}`.`ddl_history`") == (("j", 7, 0, 0),)
    assert _versions(admin, meta_schema) == {meta.REPLICATION: meta.COMPONENTS[meta.REPLICATION].version}


def test_checkpoint_of_an_older_release_is_migrated_forward_and_its_jobs_keep_hashing(admin, meta_schema):
    """Jobs created before the routing rule was recorded placed rows by whole-key hashes: the
    migration must say so (``hash``), or they would resume under the new rule and could skip
    rows (tests/integration/test_routing_rule.py)."""
    from tidb2mysql.replication.checkpoint import Checkpoints
    from tidb2mysql.replication.route import HASH, SPREAD_UNIQUE

    run(admin, f"CREATE DATABASE `{meta_schema}`")
    run(admin, old_table(meta_schema, "checkpoint", meta.CHECKPOINT_UPGRADE))
    run(admin, f"CREATE TABLE `{meta_schema}`.`schema_version` (component VARCHAR(32) NOT NULL PRIMARY KEY,"
               " version INT NOT NULL)")
    run(admin, f"INSERT INTO `{meta_schema}`.`schema_version` VALUES (%s, 1)", (meta.REPLICATION,))
    run(admin, f"INSERT INTO `{meta_schema}`.`checkpoint` (job, shard, shard_count, commit_ts, seq)"
               " VALUES ('old', 0, 2, 5, 0), ('old', 1, 2, 7, 0)")
    assert not set(meta.CHECKPOINT_UPGRADE) & _columns(admin, meta_schema, "checkpoint")

    meta.ensure_meta(admin, meta_schema, meta.REPLICATION)

    assert set(meta.CHECKPOINT_UPGRADE) <= _columns(admin, meta_schema, "checkpoint")
    assert Checkpoints(meta_schema, "old").routing(admin) == HASH
    assert Checkpoints(meta_schema, "old").ensure_shards(admin, 2, (0, 0)) == HASH
    assert Checkpoints(meta_schema, "new").ensure_shards(admin, 2, (0, 0)) == SPREAD_UNIQUE
    assert _versions(admin, meta_schema)[meta.REPLICATION] == meta.COMPONENTS[meta.REPLICATION].version == 2


def test_meta_schema_of_a_newer_release_is_refused(admin, meta_schema):
    meta.ensure_meta(admin, meta_schema, meta.REPLICATION)
    run(admin, f"UPDATE `{meta_schema}`.`schema_version` SET version = version + 1 WHERE component = %s",
        (meta.REPLICATION,))
    with pytest.raises(meta.MetaVersionError, match="newer tidb2mysql"):
        meta.ensure_meta(admin, meta_schema, meta.REPLICATION)
    meta.ensure_meta(admin, meta_schema, meta.FENCING)  # other components are versioned on their own
