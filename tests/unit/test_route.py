"""Routing: per-row shards, whole-table shards, PK changes, barriers, key placement."""

import pickle
import zlib

import pytest

from tidb2mysql.events import DDL, Op, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.replication.change import Barrier, Change, ShardChunk, ShardChunks, Watermark
from tidb2mysql.config.incremental import IncrementalConfig
from tidb2mysql.replication.route import (
    HASH, KEY_RUNS, NEW_JOB_ROUTING, ROUTING_RULES, SPREAD_UNIQUE, Router, _key_hash, _key_text, _run_hash_one, _table_seed,
    bytewax_worker_for_key,
    check_routing, coalesce, shard_index_of_key, shard_key_names, shard_of_key, spreads_unique_table,
)

PK_ONLY = TableSchema("db", "t", ("id", "v"), ("bigint", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
WITH_UK = TableSchema("db", "u", ("id", "email"), ("bigint", "varchar"), pk=(0,),
                      unique_keys=(("PRIMARY", (0,)), ("uk_email", (1,))))
NO_KEY = TableSchema("db", "n", ("a", "b"), ("int", "int"))


def ins(row):
    return RowChange(Op.INSERT, row, None)


def upd(old, new):
    return RowChange(Op.UPDATE, new, old)


def dele(row):
    return RowChange(Op.DELETE, None, row)


def chunks(router, txn):
    return {k: v for k, v in router.route_txn(txn)}


def all_changes(routed):
    out = []
    for _key, (shard, chunk) in routed.items():
        assert isinstance(chunk, ShardChunk)
        out.extend((shard, c) for c in chunk.changes)
    return out


@pytest.mark.parametrize("routing", ROUTING_RULES)
def test_same_row_always_same_shard_and_order_kept(routing):
    r = Router(16, routing=routing)
    txns = [Txn(100 + i, [TableChanges(PK_ONLY, [ins((k * 997, f"v{i}")) for k in range(50)])]) for i in range(3)]
    shard_of = {}
    for t in txns:
        for shard, c in all_changes(chunks(r, t)):
            shard_of.setdefault(c.new[0], set()).add(shard)
    assert all(len(s) == 1 for s in shard_of.values())
    assert len({next(iter(s)) for s in shard_of.values()}) > 4  # rows spread over shards


def test_positions_strictly_increase_within_a_message():
    r = Router(4)
    t = Txn(7, [TableChanges(PK_ONLY, [ins((k, "a")) for k in range(20)] + [dele((3, "a"))])])
    per_shard = {}
    for shard, c in all_changes(chunks(r, t)):
        per_shard.setdefault(shard, []).append(c.position)
    for positions in per_shard.values():
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
    seqs = sorted(p[1] for ps in per_shard.values() for p in ps)
    assert seqs == list(range(0, 42, 2))


def test_pk_change_splits_into_delete_and_insert():
    r = Router(64)
    t = Txn(9, [TableChanges(PK_ONLY, [upd((1, "x"), (2, "y"))])])
    got = sorted(((c.op, c.seq) for _s, c in all_changes(chunks(r, t))), key=lambda x: x[1])
    assert got == [(Op.DELETE, 0), (Op.INSERT, 1)]
    d = [c for _s, c in all_changes(chunks(r, t)) if c.op == Op.DELETE][0]
    assert d.old == (1, "x") and d.new is None


def test_update_without_pk_change_stays_update():
    r = Router(8)
    t = Txn(9, [TableChanges(PK_ONLY, [upd((1, "x"), (1, "y"))])])
    (shard, c), = all_changes(chunks(r, t))
    assert c.op == Op.UPDATE and c.old == (1, "x") and c.new == (1, "y")


@pytest.mark.parametrize("schema,routing", [(WITH_UK, KEY_RUNS), (WITH_UK, HASH), (NO_KEY, SPREAD_UNIQUE),
                                            (NO_KEY, KEY_RUNS)])
def test_unique_key_and_keyless_tables_use_one_shard(schema, routing):
    r = Router(16, routing=routing)
    rows = [ins((k, k * 2)) for k in range(100)]
    routed = chunks(r, Txn(1, [TableChanges(schema, rows)]))
    assert len(routed) == 1
    (shard, chunk), = routed.values()
    assert shard == zlib.crc32(f"{schema.schema}.{schema.table}".encode()) % 16
    assert [c.new for c in chunk.changes] == [x.new for x in rows]


def test_barrier_and_watermark_reach_every_shard():
    r = Router(5)
    ddl = DDL(10, "db", "t", "alter table t add column c int")
    got = list(r.route_ddl(ddl, offset=3))
    assert [s for _k, (s, _b) in got] == [0, 1, 2, 3, 4]
    assert all(isinstance(b, Barrier) and b.ddl is ddl and b.offset == 3 for _k, (_s, b) in got)
    wm = list(r.watermark(11, 4, force=True))
    assert len(wm) == 5 and all(isinstance(w, Watermark) and w.force for _k, (_s, w) in wm)


def test_shard_keys_are_stable_and_parse_back():
    names = shard_key_names(16)
    assert names == shard_key_names(16)
    assert [shard_index_of_key(n) for n in names] == list(range(16))
    for workers in (1, 2, 4, 8):
        per_worker = [0] * workers
        for n in names:
            per_worker[bytewax_worker_for_key(n, workers)] += 1
        assert max(per_worker) - min(per_worker) == 0


def test_routed_items_pickle():
    r = Router(4)
    t = Txn(5, [TableChanges(PK_ONLY, [ins((1, "a"))])])
    for _k, item in r.route_txn(t):
        assert pickle.loads(pickle.dumps(item)) == item


def test_shard_key_placement_matches_bytewax():
    """The Python SipHash predicts the worker Bytewax really uses for each shard key."""
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, cluster_main

    names = shard_key_names(8)
    seen = []
    flow = Dataflow("placement")
    s = op.input("in", flow, TestingSource([(n, 1) for n in names]))
    counted = op.stateful_map("count", s, lambda st, v: ((st or 0) + v, v))
    op.inspect_debug("where", counted, lambda step, item, epoch, worker: seen.append((item[0], worker)))
    op.output("out", counted, TestingSink([]))
    cluster_main(flow, [], 0, worker_count_per_proc=4)
    assert dict(seen) == {n: bytewax_worker_for_key(n, 4) for n in names}


# -- the shard function never changes (checkpoints are per shard) ------------------------


def test_row_shards_are_those_of_every_earlier_version():
    """Pinned shards of the ``hash`` rule, computed by the code before the one-column fast path
    (79fc0a0): a job's checkpoints are per shard, so a row routed elsewhere after an upgrade
    could be skipped."""
    from decimal import Decimal

    r = Router(64, routing=HASH)
    one = TableSchema("db", "t", ("id", "v"), ("bigint", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
    two = TableSchema("db", "t2", ("a", "b", "v"), ("varchar", "decimal", "int"), pk=(0, 1),
                      unique_keys=(("PRIMARY", (0, 1)),))

    def shard(schema, row):
        return next(iter(dict(r.route_txn(Txn(1, [TableChanges(schema, [ins(row)])]))).values()))[0]

    assert [shard(one, (k, "v")) for k in (1, -7, 2**63 - 1, "x", "caf\u00e9", "\udc80")] == [38, 45, 63, 49, 20, 35]
    assert [shard(two, (a, b, 1)) for a, b in (("a", Decimal("1.50")), ("", Decimal("-0")), ("z\x1f", Decimal("9")))] \
        == [36, 10, 29]


def test_key_runs_shards_are_pinned():
    """Pinned shards of the ``key-runs-1024`` rule (computed when it was introduced): the same
    reason as above, for the jobs created under it."""
    from decimal import Decimal

    r = Router(64, routing=KEY_RUNS)
    one = TableSchema("db", "t", ("id", "v"), ("bigint", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))
    two = TableSchema("db", "t2", ("a", "b", "v"), ("varchar", "bigint", "int"), pk=(0, 1),
                      unique_keys=(("PRIMARY", (0, 1)),))
    dec = TableSchema("db", "t3", ("a", "b", "v"), ("bigint", "decimal", "int"), pk=(0, 1),
                      unique_keys=(("PRIMARY", (0, 1)),))

    def shard(schema, row):
        return next(iter(dict(r.route_txn(Txn(1, [TableChanges(schema, [ins(row)])]))).values()))[0]

    # 1 and 1023 share run 0, 1024 is run 1 (hashed like the old rule hashed the key 1), -1
    # and -1024 share run -1; strings keep the old rule's shards
    assert [shard(one, (k, "v")) for k in (1, 1023, 1024, -1, -1024, -1025, 2**63 - 1, "x", "\udc80")] \
        == [48, 48, 38, 24, 24, 34, 33, 49, 35]
    # a composite key: its last column by run, the others as they are
    assert [shard(two, (a, b, 1)) for a, b in (("a", 5), ("a", 1000), ("a", 1024), ("", -3), ("z\x1f", 2**64 - 1))] \
        == [53, 53, 35, 27, 8]
    # the last column not an integer: the key is hashed as it is
    assert [shard(dec, (a, b, 1)) for a, b in ((1, Decimal("1.50")), (1024, Decimal("1.50")), (5, Decimal("-0")))] \
        == [48, 14, 38]


def test_key_runs_keep_runs_of_1024_integer_values_together_and_spread_the_runs():
    """Why the rule exists (route.py): consecutive integer keys land in one shard for 1,024
    values, so the shards do not fill the same target pages; the runs spread over shards."""
    r = Router(8, routing=KEY_RUNS)

    def shard(k):
        return next(iter(dict(r.route_txn(Txn(1, [TableChanges(PK_ONLY, [ins((k, "v"))])]))).values()))[0]

    for run in range(-3, 40):
        assert len({shard(k) for k in range(run * 1024, (run + 1) * 1024, 97)} | {shard(run * 1024 + 1023)}) == 1
    assert len({shard(run * 1024) for run in range(40)}) == 8  # every shard gets runs
    hashed = Router(8, routing=HASH)
    assert len({next(iter(dict(hashed.route_txn(Txn(1, [TableChanges(PK_ONLY, [ins((k, "v"))])]))).values()))[0]
                for k in range(16)}) > 4  # the old rule: every key on its own


@pytest.mark.parametrize("value", [True, 1.0, "5", b"5", None])
def test_key_runs_hash_other_types_as_they_are(value):
    """Only a plain ``int`` is taken by its run (not a bool, float, string, bytes or NULL)."""
    schema = TableSchema("db", "t", ("id", "v"), ("bigint", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))

    def shard(routing):
        r = Router(64, routing=routing)
        return next(iter(dict(r.route_txn(Txn(1, [TableChanges(schema, [ins((value, "v"))])]))).values()))[0]

    assert shard(KEY_RUNS) == shard(HASH)


UK_TEXT_PK = TableSchema("db", "v", ("code", "email"), ("varchar", "varchar"), pk=(0,),
                         unique_keys=(("PRIMARY", (0,)), ("uk_email", (1,))))
UK_TWO_INT_PK = TableSchema("db", "w", ("a", "b", "email"), ("int", "bigint", "varchar"), pk=(0, 1),
                            unique_keys=(("PRIMARY", (0, 1)), ("uk_email", (2,))))


def test_spread_unique_routes_an_integer_keyed_unique_key_table_by_primary_key():
    """key-runs-1024-spread-unique: a unique-key table with an integer primary key goes by row,
    to the shard :func:`shard_of_key` names (the handoff computes a holder's shard with it);
    one with a text key stays whole (its key read back from the target may hash otherwise)."""
    assert spreads_unique_table(SPREAD_UNIQUE, WITH_UK) and spreads_unique_table(SPREAD_UNIQUE, UK_TWO_INT_PK)
    assert not spreads_unique_table(SPREAD_UNIQUE, UK_TEXT_PK) and not spreads_unique_table(KEY_RUNS, WITH_UK)
    assert not spreads_unique_table(SPREAD_UNIQUE, PK_ONLY) and not spreads_unique_table(SPREAD_UNIQUE, NO_KEY)
    r = Router(16, routing=SPREAD_UNIQUE)
    for schema, rows in ((WITH_UK, [ins((k << 10, f"e{k}")) for k in range(64)]),
                         (UK_TWO_INT_PK, [ins((k, -k, f"e{k}")) for k in range(64)])):
        routed = chunks(r, Txn(1, [TableChanges(schema, rows)]))
        assert len(routed) > 4  # spread, not one shard
        for shard, chunk in routed.values():
            for c in chunk.changes:
                assert shard_of_key(SPREAD_UNIQUE, 16, schema, tuple(c.new[i] for i in schema.pk)) == shard
    (shard, _chunk), = chunks(r, Txn(1, [TableChanges(UK_TEXT_PK, [ins((f"k{k}", f"e{k}")) for k in range(50)])])).values()
    assert shard == zlib.crc32(b"db.v") % 16


def test_routing_rules_are_checked_and_new_jobs_get_spread_unique():
    assert NEW_JOB_ROUTING == SPREAD_UNIQUE and check_routing(HASH) == HASH
    assert IncrementalConfig().routing == NEW_JOB_ROUTING  # the setting's default is the new jobs' rule
    for rule in ROUTING_RULES:  # every rule the configuration accepts has its hash functions
        routed = dict(Router(4, routing=rule).route_txn(Txn(1, [TableChanges(PK_ONLY, [ins((1, "v"))])])))
        assert check_routing(rule) == rule and [shard for shard, _chunk in routed.values()][0] in range(4)
    with pytest.raises(ValueError, match="unknown routing rule 'hash-v9'"):
        Router(4, routing="hash-v9")


@pytest.mark.parametrize("key", [
    (0,), (-1,), (2**64 - 1,), ("",), ("\x1f",), ("\udcff",), (b"\x00\xff",), (1.5,), (None,),
    (1, 2), ("a", None, b"b"), ("a\x1fb",), ("a", "\x1fb"),
])
def test_key_hash_is_crc32_of_table_prefix_and_key_text(key):
    seed = _table_seed(PK_ONLY)
    assert _key_hash(seed, key) == zlib.crc32(b"db.t\x1e" + _key_text(key))


# -- one Bytewax item per shard and source batch ---------------------------------------------


def _chunk(ts, shard_rows, offset):
    return ShardChunk(ts, [Change(ts, 2 * i, PK_ONLY, Op.INSERT, (k, "v"), None) for i, k in enumerate(shard_rows)], offset)


def test_coalesce_keeps_each_shards_order_and_ends_a_run_at_a_barrier_or_watermark():
    a1, a2, a3, b1 = _chunk(1, [1], 10), _chunk(2, [2], 11), _chunk(4, [3], 13), _chunk(1, [9], 10)
    bar = Barrier(DDL(3, "db", "t", "ALTER TABLE t ADD c INT"), 12)
    wm = Watermark(4, 13)
    items = [("k0", (0, a1)), ("k1", (1, b1)), ("k0", (0, a2)), ("k0", (0, bar)), ("k1", (1, bar)),
             ("k0", (0, a3)), ("k1", (1, wm))]
    out = coalesce(items)
    assert out == [("k0", (0, ShardChunks([a1, a2]))), ("k1", (1, b1)), ("k0", (0, bar)), ("k1", (1, bar)),
                   ("k0", (0, a3)), ("k1", (1, wm))]

    def per_shard(its):
        seen: dict = {}
        for _k, (s, it) in its:
            seen.setdefault(s, []).extend(it.chunks if isinstance(it, ShardChunks) else [it])
        return seen

    assert per_shard(out) == per_shard(items)  # every item, in its shard's order
    assert coalesce([]) == []
    assert pickle.loads(pickle.dumps(out)) == out  # Bytewax snapshots hold items behind a barrier


def test_coalesced_batch_of_a_real_route_has_one_item_per_shard():
    r = Router(8)
    items = []
    for i in range(50):
        items += list(r.route_txn(Txn(100 + i, [TableChanges(PK_ONLY, [ins((10 * i + k, "v")) for k in range(10)])]), i))
    out = coalesce(items)
    assert len({k for k, _ in out}) == len(out) <= 8
    for _k, (s, it) in out:
        chunks_ = it.chunks if isinstance(it, ShardChunks) else [it]
        positions = [c.position for ch in chunks_ for c in ch.changes]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert sum(len(c.changes) for _k, (_s, it) in out for c in (it.chunks if isinstance(it, ShardChunks) else [it])) == 500


def test_remembered_runs_give_the_same_shards_as_hashing_every_key():
    """Key runs remember the last run's answer (``_run_shards``, used by the interest and ``route_txn``): whatever the
    order of values, runs revisited, bools (never a run), negative and non-integer keys."""
    import random

    rnd = random.Random(5)
    values = [rnd.choice([rnd.randrange(-5000, 50_000), rnd.randrange(1 << 63), True, False, 1, 0, None, "7", 1.0])
              for _ in range(3000)]
    values += list(range(0, 10_000, 97)) + [1023, 1024, 1023, -1, -1024, -1025, -1]
    seed = _table_seed(PK_ONLY)
    for owned in ({1, 3}, {0}, {2, 4, 5, 6, 7}):
        owns_one = Router(8, owned, KEY_RUNS).interest(PK_ONLY).owns_one
        assert [owns_one(v) for v in values] == [_run_hash_one(seed, v) % 8 in owned for v in values]
    r = Router(8, routing=KEY_RUNS)
    keys = [v for v in values if v is not None]
    txn = Txn(1, [TableChanges(PK_ONLY, [ins((k, "v")) for k in keys])])
    routed = {c.new[0].__class__.__name__ + repr(c.new[0]): shard for _key, (shard, chunk) in r.route_txn(txn)
              for c in chunk.changes}
    assert routed == {k.__class__.__name__ + repr(k): _run_hash_one(seed, k) % 8 for k in keys}
