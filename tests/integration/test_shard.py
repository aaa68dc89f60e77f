"""The shard applier against the real target: flushes, checkpoints, replays, the DDL barrier.

These drive ShardApplier directly (no Kafka, no Bytewax) with routed events, so each
mechanism is checked on its own; tests/integration/test_incremental.py runs the whole flow.
"""

from __future__ import annotations

import pickle
import uuid

import pytest

from tidb2mysql.mysql import db
from tidb2mysql.events import DDL, Op, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.replication.barrier import DDLCoordinator
from tidb2mysql.mysql.meta import REPLICATION, ensure_meta
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.ddl_seam import make_translator
from tidb2mysql.replication.change import ShardChunks
from tidb2mysql.replication.route import HASH, MAX_SEQ, Router, coalesce
from tidb2mysql.config.incremental import IncrementalConfig
from tidb2mysql.replication.shard import ShardApplier, ShardContext, ShardState

pytestmark = pytest.mark.integration

SHARDS = 4
# The routers below hash every key on its own (the rule of jobs created before key runs): these
# tests are about shards, and their few small keys then reach every shard.


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture(params=[False], ids=["sync"])
def overlap(request):
    """Most tests drive the callbacks by hand and read reports synchronously (overlap off);
    the first test runs with the flow's default too (a flush on the writer thread)."""
    return request.param


@pytest.fixture
def env(stack_config, target_db, overlap):
    cfg = stack_config
    meta = f"t2m_meta_{uuid.uuid4().hex[:8]}"
    job = "test"
    conn = db.connect(cfg.target, autocommit=True)
    ensure_meta(conn, meta, REPLICATION)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE `{target_db}`.t (id BIGINT PRIMARY KEY, v VARCHAR(20))")
        cur.execute(f"CREATE TABLE `{target_db}`.u (id BIGINT PRIMARY KEY, email VARCHAR(20), UNIQUE KEY uk(email))")
    cps = Checkpoints(meta, job)
    cps.ensure_shards(conn, SHARDS, (0, MAX_SEQ))
    settings = IncrementalConfig(shards=SHARDS, batch_rows=1000, batch_ms=50, idle_ms=10, poll_ms=1, overlap_apply=overlap)
    clock = Clock()
    ctx = ShardContext(settings, cps, DDLCoordinator(cps, SHARDS, make_translator(cfg, lambda autocommit=True, **kw: db.connect(cfg.target, autocommit=autocommit, **kw))), lambda autocommit=True, **kw: db.connect(cfg.target, autocommit=autocommit, **kw), clock)
    yield cfg, conn, target_db, ctx, clock
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{meta}`")
    conn.close()


def schema_t(dbname, cols=("id", "v")):
    return TableSchema(dbname, "t", cols, ("bigint", "varchar") + ("int",) * (len(cols) - 2), pk=(0,),
                       unique_keys=(("PRIMARY", (0,)),))


def rows(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return list(cur.fetchall())


def deliver(appliers, routed):
    out = []
    for _key, (shard, item) in routed:
        out += appliers[shard].on_batch([item])
    return out


@pytest.mark.parametrize("overlap", [False, True], ids=["sync", "overlap"], indirect=True)
def test_flush_writes_rows_and_checkpoint_atomically(env, overlap):
    cfg, conn, dbname, ctx, clock = env
    router = Router(SHARDS, routing=HASH)
    appliers = [ShardApplier(ctx, ShardState(s)) for s in range(SHARDS)]
    s = schema_t(dbname)
    t1 = Txn(100, [TableChanges(s, [RowChange(Op.INSERT, (i, f"a{i}"), None) for i in range(20)])])
    t2 = Txn(101, [TableChanges(s, [RowChange(Op.UPDATE, (i, f"b{i}"), (i, f"a{i}")) for i in range(10)]
                                 + [RowChange(Op.DELETE, None, (i, f"a{i}")) for i in range(15, 20)])])
    deliver(appliers, router.route_txn(t1))
    deliver(appliers, router.route_txn(t2))
    assert rows(conn, f"SELECT COUNT(*) FROM `{dbname}`.t") == [(0,)]  # nothing flushed yet
    clock.t += 1
    reports = [r for a in appliers for r in a.on_notify()]
    if overlap:  # the flushes ran on the writer threads; a snapshot waits for them
        assert sum(r.rows for r in reports) == 0  # handed out by a later callback, not this one
        for a in appliers:
            a.snapshot()
        reports += [r for a in appliers for r in a.on_notify()]
    assert sum(r.rows for r in reports) == 35
    got = rows(conn, f"SELECT id, v FROM `{dbname}`.t ORDER BY id")
    assert got == [(i, f"b{i}") for i in range(10)] + [(i, f"a{i}") for i in range(10, 15)]
    for a in appliers:
        if a.cp != (0, MAX_SEQ):
            assert a.cp[0] == 101
    assert ctx.checkpoints.load(conn, 0)[0] in (0, 101)


def test_replay_after_restore_is_skipped_and_never_regresses(env):
    cfg, conn, dbname, ctx, clock = env
    router = Router(1)
    ctx.checkpoints.delete_job(conn)
    ctx.checkpoints.ensure_shards(conn, 1, (0, MAX_SEQ))
    a = ShardApplier(ctx, ShardState(0))
    s = schema_t(dbname)
    v1 = Txn(200, [TableChanges(s, [RowChange(Op.INSERT, (1, "v1"), None)])])
    v2 = Txn(201, [TableChanges(s, [RowChange(Op.UPDATE, (1, "v2"), (1, "v1"))])])
    a.on_batch([item for _k, (_s, item) in router.route_txn(v1)])
    snap = pickle.loads(pickle.dumps(a.snapshot()))  # Bytewax snapshot with v1 pending
    clock.t += 1
    a.on_notify()  # flush v1
    a.on_batch([item for _k, (_s, item) in router.route_txn(v2)])
    clock.t += 1
    a.on_notify()  # flush v2
    assert rows(conn, f"SELECT v FROM `{dbname}`.t WHERE id=1") == [("v2",)]
    # crash; Bytewax restores the old snapshot (v1 pending) and replays v1, v2 from the source
    b = ShardApplier(ctx, snap)
    assert b.st.merger.is_empty  # already applied according to the target checkpoint
    b.on_batch([item for _k, (_s, item) in router.route_txn(v1)])
    b.on_batch([item for _k, (_s, item) in router.route_txn(v2)])
    clock.t += 1
    b.on_notify()
    b.on_eof()
    assert rows(conn, f"SELECT v FROM `{dbname}`.t WHERE id=1") == [("v2",)]
    assert ctx.checkpoints.load(conn, 0)[0] == 201


def test_a_chunk_replayed_in_part_applies_only_the_changes_after_the_checkpoint(env):
    """A checkpoint inside a transaction (a large one is applied in slices): a chunk of that
    transaction that arrives again applies only its changes after the checkpoint, and a
    chunk entirely after it is taken whole."""
    cfg, conn, dbname, ctx, clock = env
    router = Router(1)
    ctx.checkpoints.delete_job(conn)
    ctx.checkpoints.ensure_shards(conn, 1, (300, 2))  # changes seq 0 and 2 of ts 300 applied
    a = ShardApplier(ctx, ShardState(0))
    s = schema_t(dbname)
    t300 = Txn(300, [TableChanges(s, [RowChange(Op.INSERT, (i, f"a{i}"), None) for i in range(3)])])
    t301 = Txn(301, [TableChanges(s, [RowChange(Op.INSERT, (i, f"b{i}"), None) for i in range(3, 5)])])
    a.on_batch([item for _k, (_s, item) in router.route_txn(t300)])
    a.on_batch([item for _k, (_s, item) in router.route_txn(t301)])
    assert a.skipped == 2 and a.st.merger.pending_rows == 3
    clock.t += 1
    a.on_notify()
    a.on_eof()
    assert rows(conn, f"SELECT id, v FROM `{dbname}`.t ORDER BY id") == [(2, "a2"), (3, "b3"), (4, "b4")]
    assert ctx.checkpoints.load(conn, 0) == (301, 2)


def _ncols(conn, dbname):
    return rows(conn, f"SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='{dbname}' AND TABLE_NAME='t'")[0][0]


@pytest.mark.parametrize("batched", [False, True], ids=["item-per-message", "coalesced"])
def test_ddl_barrier_orders_ddl_between_changes_across_shards(env, batched):
    """``coalesced``: the reader's batch as it reaches Bytewax (route.coalesce): each shard's
    chunks before and after the barrier as one ShardChunks item each, the later one held."""
    cfg, conn, dbname, ctx, clock = env
    router = Router(SHARDS, routing=HASH)
    appliers = [ShardApplier(ctx, ShardState(s)) for s in range(SHARDS)]
    s1 = schema_t(dbname)
    s2 = schema_t(dbname, ("id", "v", "w"))
    before = Txn(300, [TableChanges(s1, [RowChange(Op.INSERT, (i, f"x{i}"), None) for i in range(40)])])
    ddl = DDL(301, dbname, "t", "alter table t add column w int /*T! SHARD_ROW_ID_BITS=4 */")
    after = Txn(302, [TableChanges(s2, [RowChange(Op.UPDATE, (i, f"y{i}", i), (i, f"x{i}", None)) for i in range(40)])])
    # Per-shard streams in stream order: before, barrier, after.
    streams = {s: [] for s in range(SHARDS)}
    routed = list(router.route_txn(before)) + list(router.route_ddl(ddl)) + list(router.route_txn(after))
    if batched:
        more = Txn(299, [TableChanges(s1, [RowChange(Op.INSERT, (i, f"x{i}"), None) for i in range(40, 60)])])
        later = Txn(303, [TableChanges(s2, [RowChange(Op.INSERT, (i, f"z{i}", i), None) for i in range(60, 80)])])
        routed = coalesce(list(router.route_txn(more)) + routed + list(router.route_txn(later)))
        assert sum(isinstance(it, ShardChunks) for _k, (_s, it) in routed) >= 2 * SHARDS - 1  # before and after
    for _k, (shard, item) in routed:
        streams[shard].append(item)
    # Shards 0 and 1 receive their whole stream; 2 and 3 only what precedes the barrier.
    for shard in (0, 1):
        appliers[shard].on_batch(streams[shard])
        assert appliers[shard].st.waiting is not None  # acknowledged, holding later input
        assert appliers[shard].st.held  # the `after` changes wait
    for shard in (2, 3):
        n = next(i for i, it in enumerate(streams[shard]) if type(it).__name__ == "Barrier")
        appliers[shard].on_batch(streams[shard][:n])
        streams[shard] = streams[shard][n:]
    clock.t += 1
    for a in appliers:
        a.on_notify()
    assert _ncols(conn, dbname) == 2  # DDL must not run: shards 2 and 3 have not reached it
    assert rows(conn, f"SELECT COUNT(*) FROM `{dbname}`.t WHERE v LIKE 'y%'") == [(0,)]
    for shard in (2, 3):
        appliers[shard].on_batch(streams[shard])
    for _ in range(3):
        clock.t += 1
        for a in appliers:
            a.on_notify()
    assert all(a.st.waiting is None and not a.st.held for a in appliers)
    assert _ncols(conn, dbname) == 3
    got = rows(conn, f"SELECT id, v, w FROM `{dbname}`.t ORDER BY id")
    assert got == [(i, f"y{i}", i) for i in range(40)] + ([(i, f"x{i}", None) for i in range(40, 60)]
                                                          + [(i, f"z{i}", i) for i in range(60, 80)] if batched else [])
    hist = ctx.coordinator.history_rows(conn)
    assert [(h["commit_ts"], h["status"]) for h in hist] == [(301, "applied")]
    assert "SHARD_ROW_ID_BITS" not in hist[0]["statements"]
    # The same DDL delivered again (Drainer redelivery after a restart) is not executed twice.
    fresh = [ShardApplier(ctx, ShardState(s)) for s in range(SHARDS)]
    for _k, (shard, item) in router.route_ddl(ddl):
        fresh[shard].on_batch([item])
    assert all(a.st.waiting is None for a in fresh)
    assert len(ctx.coordinator.history_rows(conn)) == 1


def test_unique_key_swap_in_one_transaction(env):
    cfg, conn, dbname, ctx, clock = env
    router = Router(SHARDS, routing=HASH)
    appliers = [ShardApplier(ctx, ShardState(s)) for s in range(SHARDS)]
    su = TableSchema(dbname, "u", ("id", "email"), ("bigint", "varchar"), pk=(0,),
                     unique_keys=(("PRIMARY", (0,)), ("uk", (1,))))
    t1 = Txn(400, [TableChanges(su, [RowChange(Op.INSERT, (1, "a"), None), RowChange(Op.INSERT, (2, "b"), None)])])
    swap = Txn(401, [TableChanges(su, [
        RowChange(Op.UPDATE, (1, "tmp"), (1, "a")),
        RowChange(Op.UPDATE, (2, "a"), (2, "b")),
        RowChange(Op.UPDATE, (1, "b"), (1, "tmp")),
    ])])
    deliver(appliers, router.route_txn(t1))
    clock.t += 1
    for a in appliers:
        a.on_notify()
    deliver(appliers, router.route_txn(swap))
    clock.t += 1
    for a in appliers:
        a.on_notify()
    assert rows(conn, f"SELECT id, email FROM `{dbname}`.u ORDER BY id") == [(1, "b"), (2, "a")]


def test_change_that_keeps_failing_is_dead_lettered_with_the_rest_applied(env):
    cfg, conn, dbname, ctx, clock = env
    router = Router(1)
    ctx.checkpoints.delete_job(conn)
    ctx.checkpoints.ensure_shards(conn, 1, (0, MAX_SEQ))
    a = ShardApplier(ctx, ShardState(0))
    s = schema_t(dbname)
    too_long = "x" * 50  # VARCHAR(20) in the target: STRICT_TRANS_TABLES refuses it
    t = Txn(500, [TableChanges(s, [RowChange(Op.INSERT, (1, "ok1"), None),
                                    RowChange(Op.INSERT, (2, too_long), None),
                                    RowChange(Op.INSERT, (3, "ok3"), None)])])
    a.on_batch([item for _k, (_s, item) in router.route_txn(t)])
    clock.t += 1
    reports = a.on_notify()
    assert [r.dead_letters for r in reports] == [1]
    assert rows(conn, f"SELECT id, v FROM `{dbname}`.t ORDER BY id") == [(1, "ok1"), (3, "ok3")]
    dl = rows(conn, f"SELECT kind, commit_ts, schema_name, table_name, payload, error FROM `{ctx.checkpoints.meta}`.dead_letter")
    assert len(dl) == 1
    kind, ts, sch, tbl, payload, error = dl[0]
    assert (kind, ts, sch, tbl) == ("apply", 500, dbname, "t")
    assert too_long.encode() in payload and "1406" in error
    assert ctx.checkpoints.load(conn, 0)[0] == 500


@pytest.mark.parametrize("overlap", [True], ids=["overlap"], indirect=True)
def test_timers_never_wait_for_a_flush_in_flight(env, overlap):
    """A due flush or checkpoint-only write of a shard whose previous flush is still on its
    writer thread must not block the worker (it decodes for every shard): the next flush starts
    once that one committed, and no checkpoint-only write runs meanwhile (the flush writes a
    newer one). Before: the worker waited for the flush on every timer tick, a quarter of its
    time at -p 2 (docs/performance.md)."""
    import threading
    import time

    cfg, conn, dbname, ctx, clock = env
    router = Router(SHARDS, routing=HASH)
    a = ShardApplier(ctx, ShardState(0))
    gate, entered = threading.Event(), threading.Event()
    real_write = a._write

    def slow_write(*args):  # the target is slow to commit this shard's first flush
        entered.set()
        assert gate.wait(30)
        return real_write(*args)

    a._write = slow_write
    s = schema_t(dbname)
    first = Txn(100, [TableChanges(s, [RowChange(Op.INSERT, (i, "a"), None) for i in range(40)])])
    second = Txn(101, [TableChanges(s, [RowChange(Op.INSERT, (i, "b"), None) for i in range(40, 80)])])
    expected = 0

    def feed(routed):
        nonlocal expected
        for _k, (shard, item) in routed:
            if shard == 0:  # this test drives shard 0 only
                expected += len(getattr(item, "changes", ()))
                a.on_batch([item])

    feed(router.route_txn(first))
    assert expected > 0
    clock.t += 1
    a.on_notify()  # the first flush goes to the writer thread, which now blocks
    assert entered.wait(10)
    feed(router.watermark(100, 0))  # nothing pending: a checkpoint-only write becomes due
    assert a.cp_dirty and a.st.merger.is_empty
    clock.t += 10  # past checkpoint_interval_ms
    t0 = time.monotonic()
    for _ in range(5):
        assert a.on_notify() == []
    assert time.monotonic() - t0 < 1.0, "on_notify waited for the flush in flight (checkpoint-only write)"
    assert ctx.checkpoints.load(conn, 0) == (0, MAX_SEQ)  # no checkpoint-only write meanwhile
    in_first = expected
    feed(router.route_txn(second))
    assert expected > in_first
    clock.t += 10  # past batch_ms
    t0 = time.monotonic()
    for _ in range(5):
        assert a.on_notify() == []
    assert time.monotonic() - t0 < 1.0, "on_notify waited for the flush in flight (due flush)"
    assert a._inflight is not None and not a.st.merger.is_empty  # the second flush waits its turn
    assert ctx.checkpoints.load(conn, 0) == (0, MAX_SEQ)
    gate.set()
    reports = []
    deadline = time.monotonic() + 20
    while sum(r.rows for r in reports) < expected and time.monotonic() < deadline:
        reports += a.on_notify()
        time.sleep(0.01)
    a.snapshot()
    reports += a.on_notify()
    assert sum(r.rows for r in reports) == expected
    assert rows(conn, f"SELECT COUNT(*) FROM `{dbname}`.t") == [(expected,)]
    assert ctx.checkpoints.load(conn, 0)[0] >= 101
    a.close()


@pytest.mark.parametrize("overlap", [True], ids=["overlap"], indirect=True)
def test_a_full_batch_waits_for_the_flush_in_flight_only_when_a_second_one_is_full(env, overlap):
    """While a shard's flush is on its writer thread, one more full batch collects without
    blocking the worker (it decodes for every shard meanwhile) and starts as soon as that
    flush committed; only when a second full batch has filled up behind it does on_batch wait
    (the backpressure). Every row is applied, in one flush after the other."""
    import dataclasses
    import threading
    import time

    cfg, conn, dbname, ctx, clock = env
    batch = 10
    ctx = dataclasses.replace(ctx, settings=dataclasses.replace(ctx.settings, batch_rows=batch, batch_ms=10**6,
                                                                 idle_ms=10**6))
    router = Router(SHARDS, routing=HASH)
    a = ShardApplier(ctx, ShardState(0))
    gate, entered = threading.Event(), threading.Event()
    real_write = a._write
    writes = []

    def slow_write(*args):  # the target is slow to commit this shard's first flush
        writes.append(args[2])  # rows of the flush
        entered.set()
        assert gate.wait(30)
        return real_write(*args)

    a._write = slow_write
    s = schema_t(dbname)
    ids = iter(range(10**6))
    ts = iter(range(100, 10**6))
    expected = 0

    reports = []

    def feed_until(pending: int) -> float:
        """Feeds shard 0's rows one transaction at a time until this many are pending or a
        flush started; returns the longest on_batch call."""
        nonlocal expected
        longest = 0.0
        started = a._inflight
        while a.st.merger.pending_rows < pending and a._inflight is started:
            # one row per transaction, so the pending count steps by one and stops exactly at
            # ``pending`` (with more, the database name - part of the shard hash - decided
            # whether a step jumped past 2 * batch - 1 straight into the wait)
            txn = Txn(next(ts), [TableChanges(s, [RowChange(Op.INSERT, (next(ids), "x"), None)])])
            for _k, (shard, item) in router.route_txn(txn):
                if shard == 0:
                    expected += len(getattr(item, "changes", ()))
                    t0 = time.monotonic()
                    reports.extend(a.on_batch([item]))
                    longest = max(longest, time.monotonic() - t0)
        return longest

    feed_until(batch)  # the first full batch: flushed at once, its writer blocks
    assert entered.wait(10) and a._inflight is not None
    longest = feed_until(2 * batch - 1)  # a second batch fills up behind it
    assert longest < 0.5, "on_batch waited for the flush in flight with only one full batch behind it"
    assert a.st.merger.pending_rows >= batch and writes == [writes[0]]
    waiter = threading.Thread(target=feed_until, args=(2 * batch,), daemon=True)
    waiter.start()  # the batch that makes two full ones waits for the first flush
    waiter.join(0.5)
    assert waiter.is_alive(), "on_batch did not wait with two full batches behind the flush in flight"
    gate.set()
    waiter.join(20)
    assert not waiter.is_alive()
    deadline = time.monotonic() + 20
    while sum(r.rows for r in reports) < expected and time.monotonic() < deadline:
        clock.t += 1
        reports += a.on_notify()
        time.sleep(0.01)
    a.snapshot()
    reports += a.on_notify()
    assert sum(r.rows for r in reports) == expected == sum(writes), (writes, [r.rows for r in reports])
    assert len(writes) == 2 and writes[0] >= batch and writes[1] >= 2 * batch  # the two behind went together
    assert rows(conn, f"SELECT COUNT(*) FROM `{dbname}`.t") == [(expected,)]
    a.close()
