"""The resolved-ts gate and the per-partition redelivery filter of TiCDC input (pure logic)."""

from __future__ import annotations

import random

from tidb2mysql.events import DDL, Op, TableSchema
from tidb2mysql.replication.backlog import Backlog
from tidb2mysql.replication.change import Barrier, Change, ShardChunk, Watermark
from tidb2mysql.replication.resolved import GateState, PartitionFilter, PartitionResolved, ReadGate, ResolvedGate

T = TableSchema("db", "t", ("id", "v"), ("int", "int"), pk=(0,))


def chunk(ts: int, *ids: int, offset: int = 0, nbytes: int = 0) -> ShardChunk:
    return ShardChunk(ts, [Change(ts, 2 * i, T, Op.INSERT, (k, ts), None) for i, k in enumerate(ids)], offset, nbytes)


def ddl(ts: int) -> Barrier:
    return Barrier(DDL(ts, "db", "t", "alter table t add column w int"))


def rows_of(out) -> list[tuple[int, list[int]]]:
    return [(c.commit_ts, [ch.new[0] for ch in c.changes]) for c in out if isinstance(c, ShardChunk)]


def test_rows_wait_for_every_partition_then_come_as_one_chunk_per_transaction():
    g = ResolvedGate(GateState(3))
    assert g.add(0, chunk(10, 1)) == []
    assert g.add(2, chunk(10, 3)) == []
    assert g.add(1, chunk(10, 2)) == []
    assert g.add(1, chunk(12, 5)) == []
    assert g.add(0, PartitionResolved(11)) == []
    assert g.add(1, PartitionResolved(20)) == []
    out = g.add(2, PartitionResolved(15))  # global resolved = min(11, 20, 15) = 11
    assert rows_of(out) == [(10, [1, 2, 3])]  # partition order, one unit
    assert [c.seq for c in out[0].changes] == [0, 1, 2]
    assert isinstance(out[-1], Watermark) and out[-1].commit_ts == 11
    out = g.add(0, PartitionResolved(30))  # now min = 15
    assert rows_of(out) == [(12, [5])] and out[-1].commit_ts == 15


def test_arrival_order_across_partitions_does_not_change_the_unit():
    def run(order):
        g = ResolvedGate(GateState(3))
        items = {0: chunk(7, 1, 2, offset=4), 1: chunk(7, 3, offset=9), 2: chunk(7, 4, 5, offset=1)}
        for p in order:
            g.add(p, items[p])
        out = []
        for p in range(3):
            out += g.add(p, PartitionResolved(7))
        return [(ch.seq, ch.new) for c in out if isinstance(c, ShardChunk) for ch in c.changes]

    assert run([0, 1, 2]) == run([2, 0, 1]) == run([1, 2, 0])


def test_a_transaction_is_handed_over_deletes_first_whatever_partition_brought_them():
    g = ResolvedGate(GateState(2))
    g.add(0, ShardChunk(5, [Change(5, 0, T, Op.INSERT, (1, 20), None)]))
    g.add(1, ShardChunk(5, [Change(5, 0, T, Op.DELETE, None, (2, 20)), Change(5, 2, T, Op.UPDATE, (3, 1), (3, 0))]))
    g.add(0, PartitionResolved(5))
    out = g.add(1, PartitionResolved(5))
    assert [(c.op, c.seq) for c in out[0].changes] == [(Op.DELETE, 0), (Op.UPDATE, 1), (Op.INSERT, 2)]


def test_commit_ts_order_over_partitions():
    g = ResolvedGate(GateState(2))
    g.add(1, chunk(30, 3))
    g.add(0, chunk(20, 2))
    g.add(1, chunk(10, 1))
    g.add(0, PartitionResolved(40))
    out = g.add(1, PartitionResolved(40))
    assert [ts for ts, _ in rows_of(out)] == [10, 20, 30]


def ddl_q(ts: int, q: str) -> Barrier:
    return Barrier(DDL(ts, "db", "t", q))


def test_ddl_from_partition_zero_runs_once_resolved_everywhere_between_the_rows():
    g = ResolvedGate(GateState(3))
    g.add(0, chunk(10, 1))
    g.add(1, chunk(10, 2))
    assert g.add(1, ddl(20)) == []  # a broadcast copy (open protocol): partition 0's counts
    assert g.add(0, ddl(20)) == []
    g.add(2, chunk(25, 9))  # after the DDL
    g.add(0, PartitionResolved(30))
    g.add(1, PartitionResolved(30))
    out = g.add(2, PartitionResolved(19))
    assert rows_of(out) == [(10, [1, 2])] and not any(isinstance(x, Barrier) for x in out)
    assert out[-1].commit_ts == 19
    out = g.add(2, PartitionResolved(30))
    assert [type(x).__name__ for x in out] == ["Barrier", "ShardChunk", "Watermark"]
    assert rows_of(out) == [(25, [9])] and out[-1].commit_ts == 30


def test_several_ddls_of_one_commit_ts_become_one_barrier_in_order():
    g = ResolvedGate(GateState(1))
    g.add(0, ddl_q(20, "rename table a to b"))
    g.add(0, ddl_q(20, "rename table c to d"))
    g.add(0, ddl_q(20, "rename table a to b"))  # a redelivery
    out = g.add(0, PartitionResolved(20))
    assert [x.ddl.query for x in out if isinstance(x, Barrier)] == ["rename table a to b;\nrename table c to d"]


def test_redelivered_ddl_and_rows_below_what_was_handed_over_are_dropped():
    backlog = Backlog(1000)
    g = ResolvedGate(GateState(1), backlog)
    g.add(0, chunk(5, 1, nbytes=10))
    assert backlog.bytes == 10
    out = g.add(0, PartitionResolved(6))
    assert rows_of(out) == [(5, [1])]
    assert backlog.bytes == 10  # the applier settles it when applied
    backlog.settle(10)
    assert g.add(0, chunk(5, 1, nbytes=10)) == []  # TiCDC re-sent it
    assert backlog.bytes == 0
    assert g.add(0, ddl(8)) == []
    out = g.add(0, PartitionResolved(8))
    assert isinstance(out[0], Barrier)
    assert g.add(0, ddl(8)) == []  # re-sent after it was handed over


def test_start_after_the_target_checkpoint_drops_held_rows_and_their_bytes():
    backlog = Backlog(1000)
    g = ResolvedGate(GateState(2), backlog)
    g.add(0, chunk(5, 1, nbytes=7))
    g.add(0, chunk(9, 2, nbytes=3))
    g.start_after(6)
    assert backlog.bytes == 3 and g.st.held_bytes == 3
    g.add(0, PartitionResolved(9))
    out = g.add(1, PartitionResolved(9))
    assert rows_of(out) == [(9, [2])]


def test_restored_gate_counts_its_held_bytes_again():
    st = GateState(1)
    ResolvedGate(st, Backlog(100)).add(0, chunk(5, 1, nbytes=40))
    fresh = Backlog(100)
    ResolvedGate(st, fresh, restored=True)
    assert fresh.bytes == 40


def test_partition_filter_follows_ticdc_consumer_rules():
    f = PartitionFilter()
    assert not f.row_is_old("db", "t", 10)
    assert not f.row_is_old("db", "t", 10)  # more rows of the same transaction
    assert not f.row_is_old("db", "u", 8)  # another table may be behind
    assert f.row_is_old("db", "t", 9)  # table went back: a redelivery
    assert f.advance(12) and not f.advance(12) and not f.advance(11)
    assert f.row_is_old("db", "u", 12)  # at or below the partition's resolved ts
    assert not f.row_is_old("db", "u", 13)
    assert not f.ddl_is_old(14, "a") and f.ddl_is_old(14, "a") and f.ddl_is_old(3, "x")
    assert not f.ddl_is_old(14, "b")  # a second DDL of the same commit_ts


def test_read_gate_pauses_only_partitions_ahead_while_the_budget_is_full():
    b = Backlog(10)
    rg = ReadGate(b)
    for p in range(3):
        rg.register(p)
    rg.note(0, 50)
    rg.note(1, 20)
    rg.note(2, 70)
    assert all(rg.may_read(p) for p in range(3))
    b.add(10)
    assert [rg.may_read(p) for p in range(3)] == [False, True, False]
    b.settle(5)
    assert all(rg.may_read(p) for p in range(3))


def test_random_interleavings_release_whole_transactions_in_order():
    rnd = random.Random(7)
    for trial in range(200):
        n = rnd.randint(1, 5)
        txns = sorted(rnd.sample(range(10, 400), rnd.randint(1, 25)))
        ddls = set(rnd.sample(txns, min(len(txns), rnd.randint(0, 2))))
        # per partition: its stream, commit_ts order, a resolved event now and then
        streams: list[list] = [[] for _ in range(n)]
        expected = {}
        key = 0
        for ts in txns:
            if ts in ddls:
                for p in range(n) if rnd.random() < 0.5 else [0]:  # broadcast or partition 0 only
                    streams[p].append(ddl(ts))
                continue
            ids = []
            for p in rnd.sample(range(n), rnd.randint(1, n)):
                k = [key, key + 1]
                key += 2
                ids += k
                streams[p].append(chunk(ts, *k))
            expected[ts] = sorted(ids)
            for p in range(n):
                if rnd.random() < 0.3:
                    streams[p].append(PartitionResolved(ts))
        for p in range(n):
            streams[p].append(PartitionResolved(1000))
        g = ResolvedGate(GateState(n))
        out = []
        pos = [0] * n
        while any(pos[p] < len(streams[p]) for p in range(n)):
            p = rnd.choice([p for p in range(n) if pos[p] < len(streams[p])])
            out += g.add(p, streams[p][pos[p]])
            pos[p] += 1
        seen = [(x.commit_ts, sorted(ch.new[0] for ch in x.changes)) if isinstance(x, ShardChunk)
                else ("ddl", x.ddl.commit_ts) if isinstance(x, Barrier) else None for x in out]
        seen = [s for s in seen if s is not None]
        want = [("ddl", ts) if ts in ddls else (ts, expected[ts]) for ts in txns]
        assert seen == want, trial
        marks = [x.commit_ts for x in out if isinstance(x, Watermark)]
        assert marks == sorted(marks) and marks[-1] == 1000


def test_keys_at_apply_completes_placeholder_tables_from_the_target():
    from tidb2mysql.replication.ticdc import UNKNOWN_KEYS, KeysAtApply

    reads = []

    def read_keys(db_name, table):
        reads.append(table)
        return {"pkuk": (("PRIMARY", ("id",)), ("uk", ("u",))), "ukonly": (("uk", ("u",)),)}.get(table)

    k = KeysAtApply(read_keys)
    pkuk = TableSchema("db", "pkuk", ("id", "u"), ("int", "int"), pk=(0,),
                       unique_keys=(("PRIMARY", (0,)), (UNKNOWN_KEYS, (0,))))
    ukonly = TableSchema("db", "ukonly", ("u", "v"), ("int", "int"), unique_keys=((UNKNOWN_KEYS, ()),))
    missing = TableSchema("db", "gone", ("a",), ("int",), unique_keys=((UNKNOWN_KEYS, ()),))
    plain = TableSchema("db", "t", ("id",), ("int",), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
    c = ShardChunk(5, [Change(5, 0, pkuk, Op.INSERT, (1, 2), None), Change(5, 1, ukonly, Op.INSERT, (7, 1), None),
                       Change(5, 2, ukonly, Op.DELETE, None, (None, 1)), Change(5, 3, missing, Op.INSERT, (1,), None),
                       Change(5, 4, plain, Op.INSERT, (1,), None)])
    k.complete(c)
    s = [ch.schema for ch in c.changes]
    assert s[0].pk == (0,) and s[0].unique_keys == (("PRIMARY", (0,)), ("uk", (1,)))  # one shard, delete+insert
    assert s[1].pk == (0,) and s[1].unique_keys == (("PRIMARY", (0,)),)  # merged by its unique key
    assert s[2].pk == () and s[2].unique_keys == (("uk", (0,)),)  # NULL key: applied in order, whole row
    assert s[3] is missing and s[4] is plain
    assert [ch.seq for ch in c.changes] == [0, 1, 2, 3, 4]
    k.complete(ShardChunk(6, [Change(6, 0, pkuk, Op.DELETE, None, (1, 2))]))
    assert reads.count("pkuk") == 1  # cached until a DDL clears it
    k.clear()
    k.complete(ShardChunk(7, [Change(7, 0, pkuk, Op.DELETE, None, (1, 2))]))
    assert reads.count("pkuk") == 2
