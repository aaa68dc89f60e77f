"""The source's stop condition after a restart, and the per-process readers.

``--stop-at-end`` / ``--stop-at-ts`` / a graceful stop / a cut-over end the input only when
every shard the reader routes to has its checkpoint in the target at the last message this
run must apply (issue 11: a source restored at the topic end used to stop at once, "applied
everything through commit_ts 0"). A reader starts from the target checkpoints of its shards,
so whatever an earlier run read but did not apply is read again.

These drive :class:`SourceLoop` directly against real Kafka and the real target; the shards
are played by the test, which advances the checkpoint rows the way shards would.
"""

from __future__ import annotations

import pickle
import sqlite3
import time
import uuid
from pathlib import Path

import pytest

from tidb2mysql import config as config_mod
from tidb2mysql.mysql import db
from tidb2mysql.events import Op, RowChange, TableChanges
from tidb2mysql.ops import fencing, shutdown
from tidb2mysql.mysql.meta import REPLICATION, ensure_meta
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.change import ShardChunk, ShardChunks, Watermark
from tidb2mysql.replication.route import MAX_SEQ, RUN_BITS
from tidb2mysql.replication.runtime import SourceLoop
from tests.support import flowrun, stack
from tests.support.drainer_stream import Stream, q, schema, stream_env

pytestmark = pytest.mark.integration

SHARDS = 4


class Env:
    def __init__(self, stack_config, topic):
        self.topic = topic
        self.meta = f"t2m_meta_{uuid.uuid4().hex[:8]}"
        self.job = "stop"
        self.conn = db.connect(stack_config.target, autocommit=True)
        ensure_meta(self.conn, self.meta, REPLICATION)
        fencing.JobControl(self.meta, self.job).ensure(self.conn)
        self.cps = Checkpoints(self.meta, self.job)
        self.cps.ensure_shards(self.conn, SHARDS, (0, MAX_SEQ))
        self.stream = Stream(stack_config, topic)
        self.ts: list[int] = []  # commit_ts by offset (None for undecodable messages)
        self.loops: list[SourceLoop] = []

    def produce(self, n: int, garbage_last: bool = False) -> None:
        s1 = schema("d")
        for i in range(n):
            s = self.stream
            # one key per run of 1,024 (route.py's key-runs rule): the rows spread over the shards
            s.txn(TableChanges(s1, [RowChange(Op.INSERT, (len(self.ts) << RUN_BITS, "v"), None)]))
            self.ts.append(s.ts)
        if garbage_last:
            self.stream.send(b"not a binlog at all")  # undecodable: dead-lettered, no commit_ts
            self.ts.append(None)
        self.stream.flush()

    def cfg(self, **incremental):
        return config_mod.load(stack.config_path(), overrides={
            "kafka": {"topic": self.topic}, "job": {"name": self.job, "meta_schema": self.meta},
            "incremental": {"shards": SHARDS, "control_poll_seconds": 0.05, **incremental},
        })

    def loop(self, owned=tuple(range(SHARDS)), **incremental) -> SourceLoop:
        lp = SourceLoop(self.cfg(**incremental), list(owned))
        self.loops.append(lp)
        return lp

    def set_checkpoint(self, shard: int, pos: tuple[int, int]) -> None:
        with self.conn.cursor() as cur:
            cur.execute(f"UPDATE `{self.meta}`.checkpoint SET commit_ts=%s, seq=%s WHERE job=%s AND shard=%s",
                        (pos[0], pos[1], self.job, shard))

    def close(self):
        for lp in self.loops:
            lp.close()
        with self.conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{self.meta}`")
        self.conn.close()


@pytest.fixture
def env(stack_config, kafka_topic):
    e = Env(stack_config, kafka_topic)
    try:
        yield e
    finally:
        shutdown.STOP.clear()
        e.close()


def pump(lp: SourceLoop, until, timeout: float = 20.0) -> list:
    """Call next_batch as Bytewax does (next_awake cadence) until ``until(items)``; all items."""
    items: list = []
    deadline = time.monotonic() + timeout
    while not until(items):
        if time.monotonic() > deadline:
            raise AssertionError(f"source did not get there within {timeout}s; items: {items!r}")
        got = lp.next_batch()
        items += got
        if not got:
            time.sleep(0.005)  # the 5 ms idle cadence of SourceLoop.next_awake
    return items


def end_of_input(items):
    """The forced watermark the end of input sends to every owned shard (its commit_ts), or None."""
    forced = {it[1][1].commit_ts for it in items if isinstance(it[1][1], Watermark) and it[1][1].force}
    assert len(forced) <= 1
    return next(iter(forced), None)


def chunks_of(items) -> list[ShardChunk]:
    """The row chunks in routed items (a shard's chunks of one batch travel as one ShardChunks)."""
    out = []
    for _key, (_shard, it) in items:
        if isinstance(it, ShardChunks):
            out.extend(it.chunks)
        elif isinstance(it, ShardChunk):
            out.append(it)
    return out


def offsets_read(items) -> list[int]:
    return sorted({c.offset for c in chunks_of(items)})


def apply_everything(env: Env, upto: int) -> None:
    for shard in range(SHARDS):
        env.set_checkpoint(shard, (env.ts[upto], MAX_SEQ))


def assert_drains_exactly_at(env: Env, lp: SourceLoop, target: int, shards=tuple(range(SHARDS))) -> None:
    """next_batch keeps returning [] until every owned shard's checkpoint reaches (target, MAX_SEQ)."""
    *first, last = shards
    for shard in first:
        env.set_checkpoint(shard, (target, MAX_SEQ))
        assert lp.next_batch() == []
    env.set_checkpoint(last, (target, -1))  # a barrier acknowledgement is not "all of target"
    assert lp.next_batch() == []
    env.set_checkpoint(last, (target - 1, MAX_SEQ))
    assert lp.next_batch() == []
    env.set_checkpoint(last, (target, MAX_SEQ))
    with pytest.raises(StopIteration):
        lp.next_batch()


def test_stop_at_end_with_nothing_applied_reads_and_waits_for_every_shard(env):
    env.produce(6)
    lp = env.loop(stop_at_end=True)
    items = pump(lp, end_of_input)
    assert offsets_read(items) == list(range(6))
    assert end_of_input(items) == env.ts[-1]
    assert_drains_exactly_at(env, lp, env.ts[-1])


def test_restart_reads_again_from_the_lowest_checkpoint_of_its_shards(env):
    """What an earlier run read but did not apply (pending in shards, lost) is read again."""
    env.produce(6)
    apply_everything(env, 5)
    env.set_checkpoint(SHARDS - 1, (env.ts[2], MAX_SEQ))  # the last shard is behind: offsets 3.. again
    lp = env.loop(stop_at_end=True)
    items = pump(lp, end_of_input)
    assert offsets_read(items) and min(offsets_read(items)) <= 3
    assert end_of_input(items) == env.ts[-1]
    assert_drains_exactly_at(env, lp, env.ts[-1])


def test_everything_applied_ends_at_once(env):
    env.produce(4)
    apply_everything(env, 3)
    lp = env.loop(stop_at_end=True)
    items = pump(lp, end_of_input)
    assert end_of_input(items) == env.ts[-1]
    with pytest.raises(StopIteration):
        pump(lp, lambda items: False, timeout=5)


def test_an_undecodable_last_message_counts_as_read(env):
    env.produce(4, garbage_last=True)
    lp = env.loop(stop_at_end=True)
    items = pump(lp, end_of_input)
    assert end_of_input(items) == env.ts[-2]
    assert_drains_exactly_at(env, lp, env.ts[-2])


def test_garbage_that_looks_like_a_future_tso_does_not_move_the_stop_target(env):
    """An undecodable message whose first bytes read as a far-future commit_ts (fuzzing found
    it): counting it would send a forced watermark there and checkpoints past every later
    real message."""
    env.produce(3)
    future = env.ts[-1] + (1 << 40)
    varint = bytearray()
    v = future
    while True:
        b, v = v & 0x7F, v >> 7
        varint.append(b | (0x80 if v else 0))
        if not v:
            break
    env.stream.send(bytes([0x08, 0x00, 0x10]) + bytes(varint) + b"\xff\xff not a binlog")
    env.ts.append(None)
    env.stream.flush()
    lp = env.loop(stop_at_end=True)
    items = pump(lp, end_of_input)
    assert end_of_input(items) == env.ts[-2]
    assert_drains_exactly_at(env, lp, env.ts[-2])


def test_stop_at_ts_below_the_applied_position(env):
    env.produce(6)
    apply_everything(env, 4)
    lp = env.loop(stop_at_ts=env.ts[2])
    items = pump(lp, end_of_input)
    assert offsets_read(items) == []  # nothing read: everything through stop_at_ts is applied
    assert end_of_input(items) >= env.ts[2]  # (what the shards have is routed: it may say more)
    with pytest.raises(StopIteration):
        pump(lp, lambda items: False, timeout=5)


def test_stop_at_ts_reads_on_to_it(env):
    env.produce(3)
    apply_everything(env, 2)
    env.produce(4)
    lp = env.loop(stop_at_ts=env.ts[5])
    items = pump(lp, end_of_input)
    assert offsets_read(items)[-1] == 5 and 6 not in offsets_read(items)
    assert end_of_input(items) == env.ts[5]
    assert_drains_exactly_at(env, lp, env.ts[5])


def test_stop_at_ts_beyond_what_was_read_waits_for_it(env):
    env.produce(3)
    stop_ts = env.ts[-1] + 3
    lp = env.loop(stop_at_ts=stop_ts)
    pump(lp, lambda items: lp.reader.at_end)
    deadline = time.monotonic() + 0.5  # a negative: watch the loop for a while
    while time.monotonic() < deadline:
        assert end_of_input(lp.next_batch()) is None
        time.sleep(0.005)
    env.produce(4)  # ts[-1]+1 .. ts[-1]+4: the last one is beyond stop_ts
    items = pump(lp, end_of_input)
    assert offsets_read(items) == [3, 4, 5]
    assert end_of_input(items) == stop_ts
    assert_drains_exactly_at(env, lp, stop_ts)


def test_graceful_stop_drains_what_was_read(env):
    env.produce(5)
    lp = env.loop()  # unbounded run
    pump(lp, lambda items: lp.reader.at_end)
    shutdown.STOP.set()
    items = pump(lp, end_of_input)
    assert end_of_input(items) == env.ts[-1]
    assert_drains_exactly_at(env, lp, env.ts[-1])


def test_a_reader_routes_only_to_its_own_shards(env):
    env.produce(40)
    lp = env.loop(owned=(0, 2), stop_at_end=True)
    items = pump(lp, end_of_input)
    assert {it[1][0] for it in items} == {0, 2}
    assert len(offsets_read(items)) < 40  # the other shards' rows were not routed here
    assert_drains_exactly_at(env, lp, env.ts[-1], shards=(0, 2))


def test_cutover_marks_stopped_only_when_every_process_drained(env):
    """Two readers (two processes): the first one to drain its shards does not declare the job
    stopped while the other process's shards are behind; whoever sees all of them at the end does."""
    env.produce(5)
    a, b = env.loop(owned=(0, 1)), env.loop(owned=(2, 3))
    pump(a, lambda items: a.reader.at_end)
    pump(b, lambda items: b.reader.at_end)
    control = fencing.JobControl(env.meta, env.job)
    control.request_cutover(env.conn, "test")
    assert end_of_input(pump(a, end_of_input)) == env.ts[-1]
    assert end_of_input(pump(b, end_of_input)) == env.ts[-1]
    for shard in (0, 1):
        env.set_checkpoint(shard, (env.ts[-1], MAX_SEQ))
    for _ in range(5):  # its own shards are done, process b's are not: nothing but watermarks
        assert all(isinstance(it[1][1], Watermark) and not it[1][1].force for it in a.next_batch())
    state = q(env.conn, f"SELECT state FROM `{env.meta}`.job_control WHERE job=%s", env.job)
    assert state != [(fencing.STOPPED,)]
    for shard in (2, 3):
        env.set_checkpoint(shard, (env.ts[-1], MAX_SEQ))
    with pytest.raises(StopIteration):
        a.next_batch()
    with pytest.raises(StopIteration):
        b.next_batch()
    assert q(env.conn, f"SELECT state, detail FROM `{env.meta}`.job_control WHERE job=%s", env.job) == [
        (fencing.STOPPED, f"drained through commit_ts {env.ts[-1]}")]


def test_a_reader_at_the_end_asks_the_watermarks_without_waiting_behind_its_fetch(env):
    """The cause of a flaky cut-over test: a reader at the end of its partition has a fetch parked
    at the broker for ``fetch.wait.max.ms`` (500 ms), and a watermark query sent on the same
    connection waited behind it (~0.5 s each; in 0.1 s attempts it timed out in flight until
    librdkafka stopped answering for 10 s). Asked on the reader's own idle client it is not."""
    env.produce(3)
    lp = env.loop()
    pump(lp, lambda items: lp.reader.at_end)
    for _ in range(3):  # fetches are parked now: nothing more to read
        assert lp.reader.poll_batch(10, 0.2) == []
    t0 = time.monotonic()
    for _ in range(20):
        assert lp.reader.watermarks()[1] == 3
        lp.reader.poll_batch(10, 0.0)  # the reader goes on fetching between the queries
    took = time.monotonic() - t0
    assert took < 3.0, f"20 watermark queries took {took:.2f}s: they wait behind the reader's fetch"


def test_cutover_reader_reads_on_when_the_topic_grows_after_it_drained(env):
    env.produce(3)
    lp = env.loop()
    pump(lp, lambda items: lp.reader.at_end)
    fencing.JobControl(env.meta, env.job).request_cutover(env.conn, "test")
    assert end_of_input(pump(lp, end_of_input)) == env.ts[-1]
    apply_everything(env, 2)
    env.produce(2)  # written after the reader decided where the end was
    items = pump(lp, lambda items: end_of_input(items) == env.ts[-1])
    assert offsets_read(items) == [3, 4]
    assert_drains_exactly_at(env, lp, env.ts[-1])


def test_a_large_message_is_routed_again_in_full_after_a_restart(env):
    """A restart re-reads a large message from its first slice; shards skip what they have."""
    env.produce(2)
    big = TableChanges(schema("d"), [RowChange(Op.INSERT, (1000 + i, "x" * 50), None) for i in range(40)])
    env.stream.txn(big)
    env.ts.append(env.stream.ts)
    env.stream.flush()
    apply_everything(env, 1)
    lp = env.loop(stop_at_end=True, slice_bytes=1000, slice_rows=10)
    items = pump(lp, end_of_input)
    rows = sum(len(c.changes) for c in chunks_of(items) if c.offset == 2)
    assert rows == 40
    assert end_of_input(items) == env.ts[2]
    assert_drains_exactly_at(env, lp, env.ts[2])


# -- the real flow: killed while everything it read is pending in snapshotted shards ---------


def snapshotted_shard_states(rdir) -> int:
    """How many shard states a restart with ``rdir`` would restore (0: no usable snapshot yet).

    Bytewax resumes every step from its latest snapshot before the resume epoch, the lowest
    frontier of the workers of the last execution (tables ``fronts`` and ``snaps`` of the
    recovery partitions).
    """
    fronts: dict[int, list[int]] = {}
    snaps: list[tuple[int, bytes]] = []
    for f in sorted(Path(rdir).glob("part-*.sqlite3")):
        c = sqlite3.connect(f"file:{f}?mode=ro", uri=True)
        try:
            for ex, front in c.execute("SELECT ex_num, worker_frontier FROM fronts"):
                fronts.setdefault(ex, []).append(front)
            snaps += c.execute("SELECT state_key, snap_epoch, ser_change FROM snaps WHERE step_id LIKE '%apply'"
                               ).fetchall()
        except sqlite3.OperationalError:  # locked while being written: ask again
            return 0
        finally:
            c.close()
    if not fronts or not snaps:
        return 0
    resume_epoch = min(fronts[max(fronts)])
    latest: dict[str, bytes] = {}
    for key, epoch, ser in sorted(snaps, key=lambda r: r[1]):
        if epoch < resume_epoch:
            latest[key] = ser
    total = 0
    for ser in latest.values():
        if ser is not None:
            state = pickle.loads(pickle.loads(ser))  # Bytewax's pickle of our frozen bytes
            total += state.merger.pending_rows
    return total


@pytest.fixture
def flow_env(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "restore") as env_:
        yield env_


NEVER = 3_600_000  # ms: nothing flushes or checkpoints on its own, only the end of input does
HOLD = {"batch_ms": NEVER, "idle_ms": NEVER, "batch_rows": 1_000_000, "checkpoint_interval_ms": NEVER, "shards": 4}


def read_all_then_kill(s, dbn, job, conn, tmp, rows: int):
    """Run 1: read the whole topic (rows pending in the shards), wait until a recovery snapshot
    holds them all, SIGKILL. Returns (config, recovery dir, log, commit_ts of each row)."""
    s1 = schema(dbn)
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "t", "create table t (id bigint primary key, v varchar(20))")
    stamps = []
    for i in range(rows):
        s.txn(TableChanges(s1, [RowChange(Op.INSERT, (i, f"v{i}"), None)]))
        stamps.append(s.ts)
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job, incremental=HOLD)
    rdir, log = tmp / "recovery", tmp / f"{job}.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg, 2, 1, recovery_dir=rdir, stop_at_end=False), log)
    try:
        flowrun.wait_until(lambda: snapshotted_shard_states(rdir) == rows, 90, what="a snapshot of every pending row")
    finally:
        flowrun.kill(p)
    assert p.returncode != 0
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t") == [(0,)]  # all pending in the shards' snapshots
    assert {ts for ts, _seq in checkpoints(conn, job)} != {s.ts}
    return cfg, rdir, log, stamps


def checkpoints(conn, job):
    return q(conn, "SELECT commit_ts, seq FROM tidb2mysql.checkpoint WHERE job=%s ORDER BY shard", job)


def test_flow_restored_at_the_topic_end_stops_only_when_everything_is_applied(flow_env):
    s, dbn, job, conn, tmp = flow_env
    cfg, rdir, log, _stamps = read_all_then_kill(s, dbn, job, conn, tmp, 30)
    mark = len(log.read_text())
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 2, 1, recovery_dir=rdir), log, 120)
    assert rc == 0, flowrun.tail(log)
    assert f"applied everything through commit_ts {s.ts}; stopping" in log.read_text()[mark:]
    assert q(conn, f"SELECT COUNT(*), COUNT(DISTINCT v) FROM `{dbn}`.t") == [(30, 30)]
    assert set(checkpoints(conn, job)) == {(s.ts, MAX_SEQ)}


def test_flow_restored_beyond_stop_at_ts_stops_once_it_is_applied(flow_env):
    s, dbn, job, conn, tmp = flow_env
    cfg, rdir, log, stamps = read_all_then_kill(s, dbn, job, conn, tmp, 10)
    mark = len(log.read_text())
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 2, 1, recovery_dir=rdir, stop_at_end=False,
                                             extra=("--stop-at-ts", str(stamps[4]))), log, 120)
    assert rc == 0, flowrun.tail(log)
    assert f"applied everything through commit_ts {stamps[4]}; stopping" in log.read_text()[mark:]
    # Everything the restored run had read (also beyond stop_at_ts) was pending in the shards'
    # snapshots: the forced end flushes it all; every checkpoint covers stop_at_ts.
    assert all(cp >= (stamps[4], MAX_SEQ) for cp in checkpoints(conn, job))
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t WHERE id <= 4") == [(5,)]


def test_reads_again_at_once_while_messages_come_and_every_5_ms_when_idle(env):
    """Bytewax calls next_batch again at next_awake. While the topic has messages the source
    must be read again at once: waiting 5 ms after every batch capped the flow (mix workload,
    -p 2: 11.8k -> 16.8k rows/s without the wait, docs/performance.md)."""
    from datetime import datetime, timezone

    env.produce(6)
    lp = env.loop(source_batch=2)
    items: list = []
    deadline = time.monotonic() + 20
    while not offsets_read(items) and time.monotonic() < deadline:
        items += lp.next_batch()
        if not offsets_read(items):
            assert lp.next_awake() is not None  # nothing read yet: the idle cadence
            time.sleep(0.005)
    assert offsets_read(items), "nothing was read"
    assert lp.next_awake() is None  # messages came: read again at once
    while len(offsets_read(items)) < 6 and time.monotonic() < deadline:
        items += lp.next_batch()
    assert offsets_read(items) == list(range(6))
    assert not chunks_of(lp.next_batch())  # the end of the topic
    wake = lp.next_awake()
    assert wake is not None and 0 < (wake - datetime.now(timezone.utc)).total_seconds() <= 0.05


def test_a_step_of_a_process_owning_part_of_the_rows_reads_on_until_it_carries_a_poll_of_its_own(env):
    """A process that applies a quarter of the rows (one of 4 shards) reads more polls per step,
    up to MAX_POLLS_PER_STEP, until the step holds as many of its own row changes as its first
    poll held rows in all; one that applies every row reads one poll per step, as before
    (runtime.step_wants_more; docs/performance.md: -p 2 inserts 6-7 % faster)."""
    from tidb2mysql.replication.runtime import MAX_POLLS_PER_STEP

    n, batch = 96, 4
    env.produce(n)
    every = env.loop(source_batch=batch)
    part = env.loop(owned=[0], source_batch=batch)
    time.sleep(2.0)  # both consumers' queues hold the whole (tiny) topic: every poll comes back full

    def steps(lp):
        out = []  # (messages read, own row changes, a watermark ended it) per step
        deadline = time.monotonic() + 20
        while lp.pipeline.messages < n and time.monotonic() < deadline:
            before = lp.pipeline.messages
            got = lp.next_batch()
            if lp.pipeline.messages > before:
                out.append((lp.pipeline.messages - before, sum(len(c.changes) for c in chunks_of(got)),
                            any(isinstance(it, Watermark) for _k, (_s, it) in got)))
        assert lp.pipeline.messages == n, "not everything was read"
        return out

    assert [m for m, _, _ in steps(every)] == [batch] * (n // batch)
    got = steps(part)
    assert sum(m for m, _, _ in got) == n
    for i, (m, own, watermark) in enumerate(got):
        assert m % batch == 0 and batch <= m <= batch * MAX_POLLS_PER_STEP
        if i < len(got) - 1:  # every step but the topic's last ended for a reason: enough own
            # rows, the cap, or a watermark (the pipeline's, every watermark_interval_ms)
            assert own >= batch or m == batch * MAX_POLLS_PER_STEP or watermark, got
    assert max(m for m, _, _ in got) > batch, got  # it did read on
