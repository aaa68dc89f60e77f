"""A job keeps the routing rule it was created with (replication/route.py, checkpoint.py).

Per-shard checkpoints mean something only under the rule that placed the rows: if an upgrade
changed where a row goes while the shards stand at different positions, a row could move from
a shard that is behind to one that is ahead, and be skipped. These tests run the real flow on
the real broker and target: a new job routes by ``key-runs-1024``, an upgraded (``hash``) job
keeps hashing whole keys, and an upgraded job whose shards stand at different positions (as a
crash leaves them) loses nothing; ``[incremental] routing`` chooses the rule of new jobs only. ~20 s.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tidb2mysql.events import Op, RowChange, TableChanges, Txn
from tidb2mysql.mysql import meta
from tidb2mysql.mysql.db import connect
from tidb2mysql.replication.checkpoint import Checkpoints, RoutingMismatch
from tidb2mysql.replication.route import HASH, KEY_RUNS, MAX_SEQ, SPREAD_UNIQUE, Router
from tests.support import flowrun
from tests.support.drainer_stream import q, schema, stream_env

pytestmark = pytest.mark.integration

SHARDS = 4
TXNS, ROWS = 60, 50  # sequential keys 0..2999: ~3 runs of 1,024, every one of 3,000 keys on its own under hash


@pytest.fixture
def setup(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "routing") as env_:
        yield env_


def _publish(s, dbn):
    """A table and TXNS transactions of ROWS sequential inserts; returns (schema, txns)."""
    st = schema(dbn)
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "t", "create table t (id bigint primary key, v varchar(20))")
    txns = []
    for i in range(TXNS):
        txn = Txn(s.next_ts(), [TableChanges(st, [RowChange(Op.INSERT, (i * ROWS + j, f"v{i}"), None)
                                                  for j in range(ROWS)])])
        s.txn(*txn.tables, ts=txn.commit_ts)
        txns.append(txn)
    s.flush()
    return st, txns


def _rows_per_shard(txns, routing) -> dict[int, int]:
    r = Router(SHARDS, routing=routing)
    c = Counter()
    for t in txns:
        for _key, (shard, chunk) in r.route_txn(t):
            c[shard] += len(chunk.changes)
    return {s: c[s] for s in range(SHARDS)}


def _applied(conn, job) -> dict[int, int]:
    return dict(q(conn, "SELECT shard, rows_applied FROM tidb2mysql.checkpoint WHERE job=%s", job))


def _run(s, job, tmp, processes=2, **incremental):
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job,
                               incremental={"shards": SHARDS, **incremental})
    log = tmp / f"{job}.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 1, processes), log, timeout=180)
    assert rc == 0, flowrun.tail(log)


def _create_job(stack_config, job, routing, start_ts=0):
    """The job's checkpoint rows as a release of that rule left them (``hash``: any before)."""
    conn = connect(stack_config.target, autocommit=True)
    try:
        meta.ensure_meta(conn, "tidb2mysql", meta.REPLICATION)
        assert Checkpoints("tidb2mysql", job).ensure_shards(conn, SHARDS, (start_ts, MAX_SEQ), routing) == routing
    finally:
        conn.close()


def test_a_new_job_routes_by_key_runs_and_every_shard_applies_exactly_its_rows(setup):
    """A new job gets ``key-runs-1024-spread-unique``: for a table without a secondary unique
    key (this one) it places rows exactly as ``key-runs-1024``."""
    s, dbn, job, conn, tmp = setup
    _st, txns = _publish(s, dbn)
    expected = _rows_per_shard(txns, KEY_RUNS)
    assert expected == _rows_per_shard(txns, SPREAD_UNIQUE)
    assert expected != _rows_per_shard(txns, HASH)  # the check below tells the rules apart
    _run(s, job, tmp)
    assert q(conn, "SELECT DISTINCT routing FROM tidb2mysql.checkpoint WHERE job=%s", job) == [(SPREAD_UNIQUE,)]
    assert _applied(conn, job) == expected
    assert q(conn, f"SELECT COUNT(*), MIN(id), MAX(id) FROM `{dbn}`.t") == [(TXNS * ROWS, 0, TXNS * ROWS - 1)]


def test_a_new_job_configured_for_hash_hashes_whole_keys(setup):
    s, dbn, job, conn, tmp = setup
    _st, txns = _publish(s, dbn)
    _run(s, job, tmp, routing=HASH)
    assert q(conn, "SELECT DISTINCT routing FROM tidb2mysql.checkpoint WHERE job=%s", job) == [(HASH,)]
    assert _applied(conn, job) == _rows_per_shard(txns, HASH)
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(TXNS * ROWS,)]


def test_an_existing_job_keeps_its_rule_whatever_the_setting_says(setup, stack_config):
    """The setting is for new jobs: a job created under key runs, run with routing = "hash",
    keeps routing by key runs (and says so), or its per-shard checkpoints would mean nothing."""
    s, dbn, job, conn, tmp = setup
    _st, txns = _publish(s, dbn)
    _create_job(stack_config, job, KEY_RUNS)
    _run(s, job, tmp, routing=HASH)
    assert f"job {job!r} routes row changes by {KEY_RUNS!r}, the rule it was created with" in (tmp / f"{job}.log").read_text()
    assert q(conn, "SELECT DISTINCT routing FROM tidb2mysql.checkpoint WHERE job=%s", job) == [(KEY_RUNS,)]
    assert _applied(conn, job) == _rows_per_shard(txns, KEY_RUNS)
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(TXNS * ROWS,)]


def test_an_upgraded_job_keeps_hashing_whole_keys(setup, stack_config):
    s, dbn, job, conn, tmp = setup
    _st, txns = _publish(s, dbn)
    _create_job(stack_config, job, HASH)
    _run(s, job, tmp)
    assert q(conn, "SELECT DISTINCT routing FROM tidb2mysql.checkpoint WHERE job=%s", job) == [(HASH,)]
    assert _applied(conn, job) == _rows_per_shard(txns, HASH)
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(TXNS * ROWS,)]


def test_an_upgraded_job_with_a_shard_behind_the_others_loses_no_row(setup, stack_config):
    """The state a crash leaves: one shard's checkpoint (and its rows) behind the others'.
    Resumed under the job's own rule, the shard applies its rows again; under another rule
    some of them would belong to shards already past them, and be skipped."""
    s, dbn, job, conn, tmp = setup
    st, txns = _publish(s, dbn)
    _create_job(stack_config, job, HASH)
    _run(s, job, tmp)
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(TXNS * ROWS,)]
    # Shard `behind` lost everything after transaction TXNS // 3: its checkpoint back there,
    # its rows after it gone from the target (never applied, as far as the target knows).
    behind, back_to = 1, txns[TXNS // 3].commit_ts
    r = Router(SHARDS, routing=HASH)
    lost = [c.new[0] for t in txns[TXNS // 3 + 1:] for _k, (shard, ch) in r.route_txn(t) if shard == behind
            for c in ch.changes]
    moved = Router(SHARDS, routing=KEY_RUNS)
    wrong = {c.new[0]: shard for t in txns for _k, (shard, ch) in moved.route_txn(t) for c in ch.changes}
    assert sum(wrong[k] != behind for k in lost) > 100  # another rule would send these to shards ahead
    with conn.cursor() as cur:
        cur.execute(f"DELETE FROM `{dbn}`.t WHERE id IN ({','.join(map(str, lost))})")
        cur.execute("UPDATE tidb2mysql.checkpoint SET commit_ts=%s, seq=%s WHERE job=%s AND shard=%s",
                    (back_to, MAX_SEQ, job, behind))
    conn.commit()
    _run(s, job, tmp)
    assert q(conn, f"SELECT COUNT(*), MIN(id), MAX(id) FROM `{dbn}`.t") == [(TXNS * ROWS, 0, TXNS * ROWS - 1)]
    assert q(conn, "SELECT DISTINCT routing FROM tidb2mysql.checkpoint WHERE job=%s", job) == [(HASH,)]


def test_missing_shard_rows_of_an_existing_job_get_its_rule_and_a_mixed_job_is_refused(stack_config, request):
    job = f"job_routing_{request.node.name[-20:]}"
    conn = connect(stack_config.target, autocommit=True)
    cps = Checkpoints("tidb2mysql", job)
    try:
        meta.ensure_meta(conn, "tidb2mysql", meta.REPLICATION)
        with pytest.raises(RoutingMismatch, match="no checkpoint rows"):
            cps.routing(conn)
        cps.ensure_shards(conn, SHARDS, (0, MAX_SEQ), HASH)
        with conn.cursor() as cur:
            cur.execute("DELETE FROM tidb2mysql.checkpoint WHERE job=%s AND shard=2", (job,))
        assert cps.ensure_shards(conn, SHARDS, (0, MAX_SEQ)) == HASH  # asks for the new rule: keeps the job's
        assert q(conn, "SELECT COUNT(*), MIN(routing), MAX(routing) FROM tidb2mysql.checkpoint WHERE job=%s",
                 job) == [(SHARDS, HASH, HASH)]
        with conn.cursor() as cur:
            cur.execute("UPDATE tidb2mysql.checkpoint SET routing=%s WHERE job=%s AND shard=0", (KEY_RUNS, job))
        with pytest.raises(RoutingMismatch, match="several routing rules"):
            cps.routing(conn)
        with conn.cursor() as cur:
            cur.execute("UPDATE tidb2mysql.checkpoint SET routing='hash-v9' WHERE job=%s", (job,))
        with pytest.raises(RoutingMismatch, match="unknown routing rule 'hash-v9'"):
            cps.routing(conn)
    finally:
        cps.delete_job(conn)
        conn.close()
