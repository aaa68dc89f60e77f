"""The source's stop condition when its position comes from a Bytewax recovery snapshot.

``--stop-at-end`` / ``--stop-at-ts`` / a graceful stop / a cut-over end the input only when
every shard's checkpoint in the target covers the last message this run must apply, also
when that message was read by an earlier run whose position was restored (issue 11: a source
restored at the topic end used to stop at once, "applied everything through commit_ts 0").

These drive :class:`SourceLoop` directly against real Kafka and the real target; the shards
are played by the test, which advances the checkpoint rows the way shards would.
"""

from __future__ import annotations

import pickle
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Optional

import pytest

from tidb2mysql import config as config_mod
from tidb2mysql import db
from tidb2mysql.events import Op, RowChange, TableChanges
from tidb2mysql.ops import fencing, shutdown
from tidb2mysql.replication.checkpoint import Checkpoints, ensure_meta
from tidb2mysql.replication.pipeline import EndOfInput
from tidb2mysql.replication.route import MAX_SEQ
from tidb2mysql.replication.runtime import SourceLoop
from tidb2mysql.replication.source import RawMessage, TxnSlice
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
        ensure_meta(self.conn, self.meta)
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
            s.txn(TableChanges(s1, [RowChange(Op.INSERT, (len(self.ts), "v"), None)]))
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

    def loop(self, resume, **incremental) -> SourceLoop:
        lp = SourceLoop(self.cfg(**incremental), resume)
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
    return next((it for it in items if isinstance(it, EndOfInput)), None)


def read_everything(env: Env, **incremental) -> object:
    """A first run that reads the whole topic; returns its snapshot (the restored position)."""
    lp = env.loop(None, **incremental)
    pump(lp, lambda items: sum(isinstance(it, RawMessage) for it in items) == len(env.ts))
    snap = lp.snapshot()
    lp.close()
    env.loops.remove(lp)
    return snap


def assert_drains_exactly_at(env: Env, lp: SourceLoop, target: int) -> None:
    """next_batch keeps returning [] until every shard's checkpoint reaches (target, MAX_SEQ)."""
    for shard in range(SHARDS - 1):
        env.set_checkpoint(shard, (target, MAX_SEQ))
        assert lp.next_batch() == []
    env.set_checkpoint(SHARDS - 1, (target, -1))  # a barrier acknowledgement is not "all of target"
    assert lp.next_batch() == []
    env.set_checkpoint(SHARDS - 1, (target - 1, MAX_SEQ))
    assert lp.next_batch() == []
    env.set_checkpoint(SHARDS - 1, (target, MAX_SEQ))
    with pytest.raises(StopIteration):
        lp.next_batch()


@pytest.mark.parametrize("snapshot_kind", ["this_version", "plain_offset"])
def test_stop_at_end_restored_at_the_topic_end_waits_for_the_shards(env, snapshot_kind):
    env.produce(6)
    snap = read_everything(env)
    if snapshot_kind == "plain_offset":
        snap = len(env.ts)  # what earlier versions stored: the next offset only
    lp = env.loop(snap, stop_at_end=True)
    items = pump(lp, end_of_input)
    assert not any(isinstance(it, RawMessage) for it in items)  # nothing new to read
    assert end_of_input(items).last_commit_ts == env.ts[-1]
    assert_drains_exactly_at(env, lp, env.ts[-1])


def test_stop_at_end_restored_mid_topic_counts_both_runs(env):
    env.produce(3)
    snap = read_everything(env)
    env.produce(3)
    lp = env.loop(snap, stop_at_end=True)
    items = pump(lp, end_of_input)
    assert [it.offset for it in items if isinstance(it, RawMessage)] == [3, 4, 5]
    assert end_of_input(items).last_commit_ts == env.ts[-1]
    assert_drains_exactly_at(env, lp, env.ts[-1])


def test_an_undecodable_last_message_counts_as_read(env):
    """The restored position is after a message without commit_ts: the one before it is the target."""
    env.produce(4, garbage_last=True)
    lp = env.loop(len(env.ts), stop_at_end=True)  # plain offset: the source must look back
    items = pump(lp, end_of_input)
    assert end_of_input(items).last_commit_ts == env.ts[-2]
    assert_drains_exactly_at(env, lp, env.ts[-2])


def test_messages_before_the_restored_offset_deleted_by_retention(env, stack_config, caplog):
    """Offset-only snapshot and nothing left before it to read: the most advanced shard's
    checkpoint is the least every shard must reach."""
    from confluent_kafka import TopicPartition

    env.produce(5)
    admin = stack.admin_client(stack_config.kafka)
    admin.delete_records([TopicPartition(env.topic, 0, 5)])[TopicPartition(env.topic, 0, 5)].result(30)
    env.set_checkpoint(2, (env.ts[3], MAX_SEQ))
    lp = env.loop(5, stop_at_end=True)
    items = pump(lp, end_of_input)
    assert end_of_input(items).last_commit_ts == env.ts[3]
    assert "no readable message before it" in caplog.text
    assert_drains_exactly_at(env, lp, env.ts[3])


def test_stop_at_ts_below_the_restored_position(env):
    env.produce(6)
    snap = read_everything(env)
    lp = env.loop(snap, stop_at_ts=env.ts[2])
    items = pump(lp, end_of_input)
    assert end_of_input(items).last_commit_ts == env.ts[2]
    assert_drains_exactly_at(env, lp, env.ts[2])


def test_stop_at_ts_after_a_restore_reads_on_to_it(env):
    env.produce(3)
    snap = read_everything(env)
    env.produce(4)
    lp = env.loop(snap, stop_at_ts=env.ts[5])
    items = pump(lp, end_of_input)
    assert [it.offset for it in items if isinstance(it, RawMessage)] == [3, 4, 5]
    assert end_of_input(items).last_commit_ts == env.ts[5]
    assert_drains_exactly_at(env, lp, env.ts[5])


def test_stop_at_ts_beyond_what_was_read_waits_for_it(env):
    """Restored at the end, stop_at_ts not reached yet: the run waits for more messages."""
    env.produce(3)
    snap = read_everything(env)
    stop_ts = env.ts[-1] + 3
    lp = env.loop(snap, stop_at_ts=stop_ts)
    pump(lp, lambda items: lp.reader.at_end)
    deadline = time.monotonic() + 0.5  # a negative: watch the loop for a while
    while time.monotonic() < deadline:
        assert not any(isinstance(it, EndOfInput) for it in lp.next_batch())
        time.sleep(0.005)
    env.produce(4)  # ts[-1]+1 .. ts[-1]+4: the last one is beyond stop_ts
    items = pump(lp, end_of_input)
    assert [it.offset for it in items if isinstance(it, RawMessage)] == [3, 4, 5]
    assert end_of_input(items).last_commit_ts == stop_ts
    assert_drains_exactly_at(env, lp, stop_ts)


def test_graceful_stop_after_a_restore_drains_what_earlier_runs_read(env):
    env.produce(5)
    snap = read_everything(env)
    lp = env.loop(snap)  # unbounded run
    pump(lp, lambda items: lp.reader.at_end)
    shutdown.STOP.set()
    items = pump(lp, end_of_input)
    assert end_of_input(items).last_commit_ts == env.ts[-1]
    assert_drains_exactly_at(env, lp, env.ts[-1])


def test_cutover_after_a_restore_drains_what_earlier_runs_read(env):
    env.produce(5)
    snap = read_everything(env)
    lp = env.loop(snap)
    pump(lp, lambda items: lp.reader.at_end)
    control = fencing.JobControl(env.meta, env.job)
    control.request_cutover(env.conn, "test")
    items = pump(lp, end_of_input)
    assert end_of_input(items).last_commit_ts == env.ts[-1]
    assert_drains_exactly_at(env, lp, env.ts[-1])
    assert q(env.conn, f"SELECT state, detail FROM `{env.meta}`.job_control WHERE job=%s", env.job) == [
        (fencing.STOPPED, f"drained through commit_ts {env.ts[-1]}")]


def test_a_snapshot_taken_while_slicing_does_not_count_the_half_routed_message(env):
    """Resume re-reads a large message from its first slice; until it is routed completely
    again, a stop must not claim its commit_ts (shards would checkpoint past unrouted rows)."""
    env.produce(2)
    big = TableChanges(schema("d"), [RowChange(Op.INSERT, (1000 + i, "x" * 50), None) for i in range(40)])
    env.stream.txn(big)
    env.ts.append(env.stream.ts)
    env.stream.flush()
    knobs = {"slice_bytes": 1000, "slice_rows": 10}
    lp = env.loop(None, **knobs)
    items = pump(lp, lambda items: any(isinstance(it, TxnSlice) for it in items))
    assert lp.snapshot() == (2, env.ts[1])  # mid-slicing: the large message does not count yet
    items += pump(lp, lambda items: any(isinstance(it, TxnSlice) and it.last for it in items))
    assert lp.snapshot() == (3, env.ts[2])
    lp = env.loop((2, env.ts[1]), stop_at_end=True, **knobs)
    items = pump(lp, end_of_input)
    assert sum(isinstance(it, TxnSlice) for it in items) == 4  # all of it again
    assert end_of_input(items).last_commit_ts == env.ts[2]
    assert_drains_exactly_at(env, lp, env.ts[2])


# -- the real flow: killed after its snapshot recorded the topic end, restarted with -r ----------


def committed_source_offset(rdir) -> Optional[int]:
    """The Drainer offset a restart with ``rdir`` would resume from (None: no snapshot yet).

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
            snaps += c.execute("SELECT snap_epoch, ser_change FROM snaps WHERE step_id LIKE '%drainer'").fetchall()
        except sqlite3.OperationalError:  # locked while being written: ask again
            return None
        finally:
            c.close()
    if not fronts or not snaps:
        return None
    resume_epoch = min(fronts[max(fronts)])
    usable = [(epoch, ser) for epoch, ser in snaps if epoch < resume_epoch and ser is not None]
    if not usable:
        return None
    state = pickle.loads(max(usable)[1])
    return state[0] if isinstance(state, tuple) else state


@pytest.fixture
def flow_env(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "restore") as env_:
        yield env_


NEVER = 3_600_000  # ms: nothing flushes or checkpoints on its own, only the end of input does
HOLD = {"batch_ms": NEVER, "idle_ms": NEVER, "batch_rows": 1_000_000, "checkpoint_interval_ms": NEVER, "shards": 4}


def read_all_then_kill(s, dbn, job, conn, tmp, rows: int):
    """Run 1: read the whole topic (rows pending in the shards), wait until a recovery snapshot
    holds the topic end, SIGKILL. Returns (config, recovery dir, log, commit_ts of each row)."""
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
        flowrun.wait_until(lambda: committed_source_offset(rdir) == s.offset, 90, what="a snapshot at the topic end")
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
    assert f"all shards applied everything through commit_ts {s.ts}; stopping" in log.read_text()[mark:]
    assert q(conn, f"SELECT COUNT(*), COUNT(DISTINCT v) FROM `{dbn}`.t") == [(30, 30)]
    assert set(checkpoints(conn, job)) == {(s.ts, MAX_SEQ)}


def test_flow_restored_beyond_stop_at_ts_stops_once_it_is_applied(flow_env):
    s, dbn, job, conn, tmp = flow_env
    cfg, rdir, log, stamps = read_all_then_kill(s, dbn, job, conn, tmp, 10)
    mark = len(log.read_text())
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 2, 1, recovery_dir=rdir, stop_at_end=False,
                                             extra=("--stop-at-ts", str(stamps[4]))), log, 120)
    assert rc == 0, flowrun.tail(log)
    assert f"all shards applied everything through commit_ts {stamps[4]}; stopping" in log.read_text()[mark:]
    # Everything the restored run had read (also beyond stop_at_ts) was pending in the shards'
    # snapshots: the forced end flushes it all; every checkpoint covers stop_at_ts.
    assert all(cp >= (stamps[4], MAX_SEQ) for cp in checkpoints(conn, job))
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t WHERE id <= 4") == [(5,)]
