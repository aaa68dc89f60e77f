"""Unique-key-only tables through the real flow at -w 4: spread over shards, equal to the source.

Why: a table whose only key is a (NOT NULL) unique key identifies its rows as exactly as a
primary key does; the flow must shard, merge and upsert it like one (issue 12), including
key changes and key swaps inside one transaction (the DELETE and the INSERT of one key
value always meet in the same shard). A nullable unique key with NULL rows (no identity)
must still come out exact.
"""

from __future__ import annotations

import random

import pytest

from tidb2mysql.mysql import db
from tidb2mysql.compare import compare_databases
from tidb2mysql.events import TableSchema
from tests.support import flowrun
from tests.support.drainer_stream import q, stream_env
from tests.support.source_mirror import Source

pytestmark = pytest.mark.integration


@pytest.fixture
def env(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "uk") as e:
        src = db.connect(stack_config.source, autocommit=True)
        try:
            yield (*e, src)
        finally:
            with src.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{e[1]}`")
            src.close()


def test_unique_key_only_tables_are_sharded_and_equal(env):
    s, dbn, job, tgt, tmp, src = env
    for conn in (src, tgt):
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{dbn}`")
            cur.execute(f"CREATE TABLE `{dbn}`.u (code VARCHAR(20) NOT NULL, v INT, UNIQUE KEY uk_code (code))")
            cur.execute(f"CREATE TABLE `{dbn}`.n (code VARCHAR(20) NULL, v INT, UNIQUE KEY uk_n (code))")
    us = TableSchema(dbn, "u", ("code", "v"), ("varchar", "int"), unique_keys=(("uk_code", (0,)),))
    ns = TableSchema(dbn, "n", ("code", "v"), ("varchar", "int"), unique_keys=(("uk_n", (0,)),))
    rnd = random.Random(12)
    u, n = Source(src, us), Source(src, ns)
    live_u: dict = {}
    live_n: list = []  # rows of n, NULL codes included
    for t in range(60):
        for _ in range(8):
            p = rnd.random()
            if p < 0.5 or len(live_u) < 5:
                k = f"k{rnd.randrange(400)}"
                if k not in live_u:
                    live_u[k] = rnd.randrange(1000)
                    u.insert((k, live_u[k]))
            elif p < 0.75:
                k = rnd.choice(sorted(live_u))
                u.update((k, live_u[k]), (k, live_u[k] + 1))
                live_u[k] += 1
            elif p < 0.9:  # key change
                k = rnd.choice(sorted(live_u))
                k2 = f"k{rnd.randrange(400)}"
                if k2 not in live_u:
                    u.update((k, live_u[k]), (k2, live_u[k]))
                    live_u[k2] = live_u.pop(k)
            else:
                k = rnd.choice(sorted(live_u))
                u.delete((k, live_u.pop(k)))
        if t % 7 == 3 and len(live_u) >= 2:  # swap two keys inside one transaction
            a, b = rnd.sample(sorted(live_u), 2)
            u.update((a, live_u[a]), ("tmp", live_u[a]))
            u.update((b, live_u[b]), (a, live_u[b]))
            u.update(("tmp", live_u[a]), (b, live_u[a]))
            live_u[a], live_u[b] = live_u[b], live_u[a]
        u.commit(s)
        # the nullable key: NULL rows (duplicates allowed), rows getting and losing a key
        code = None if rnd.random() < 0.5 else f"n{rnd.randrange(50)}"
        if code is None or all(r[0] != code for r in live_n):
            row = (code, rnd.randrange(3))
            n.insert(row)
            live_n.append(row)
        if live_n and rnd.random() < 0.4:
            old = rnd.choice(live_n)
            code = None if rnd.random() < 0.5 else f"n{rnd.randrange(50)}"
            new = (code, old[1])
            if new != old and (code is None or all(r[0] != code for r in live_n)):
                n.update(old, new)
                live_n[live_n.index(old)] = new
        if live_n and rnd.random() < 0.2:
            old = rnd.choice(live_n)
            n.delete(old)
            live_n.remove(old)
        n.commit(s)
    s.flush()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job, incremental={"shards": 8})
    log = tmp / "flow.log"
    assert flowrun.run(flowrun.incremental_cmd(cfg, 4), log, timeout=300) == 0, flowrun.tail(log)
    res = compare_databases(src, dbn, tgt, dbn, schema=False)  # the servers' default collations differ
    assert res.equal, str(res)
    assert q(tgt, "SELECT COUNT(*) FROM tidb2mysql.dead_letter WHERE job=%s", job) == [(0,)]
    assert sum(1 for r in live_n if r[0] is None) > 3  # NULL-keyed rows were really exercised
    shards_used = q(tgt, "SELECT COUNT(*) FROM tidb2mysql.checkpoint WHERE job=%s AND rows_applied > 0", job)
    assert shards_used[0][0] >= 6, "a unique-key-only table must be spread over the shards"
