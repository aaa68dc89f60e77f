"""The per-process byte budget: charging routed chunks, settling, the pause threshold."""

from __future__ import annotations

import threading

from tidb2mysql.events import Op, TableSchema
from tidb2mysql.replication.backlog import READER_CLIENT, Backlog, charge
from tidb2mysql.replication.change import Barrier, Change, ShardChunk, Watermark

T = TableSchema("d", "t", ("id",), ("bigint",), pk=(0,))


def chunk(offset, n):
    return ShardChunk(1, [Change(1, 2 * i, T, Op.INSERT, (i,), None) for i in range(n)], offset)


def test_chunks_get_their_share_of_the_message_and_the_backlog_the_sum():
    b = Backlog(1000)
    a1, a2, c = chunk(7, 3), chunk(7, 1), chunk(8, 2)
    items = [("k0", (0, a1)), ("k1", (1, a2)), ("k0", (0, c)), ("k2", (2, Watermark(5))), ("k3", (3, Barrier(None)))]
    charge(items, {7: 400, 8: 50}, b)
    assert (a1.nbytes, a2.nbytes, c.nbytes) == (300, 100, 50)
    assert b.bytes == 450 and not b.full
    b.settle(300)
    b.settle(10_000)  # never below zero (a restored shard may settle what a new process never charged)
    assert b.bytes == 0


def test_full_at_the_limit():
    b = Backlog(100)
    b.add(99)
    assert not b.full
    b.add(1)
    assert b.full


def test_concurrent_add_and_settle_balance():
    b = Backlog(1 << 40)

    def work():
        for _ in range(10_000):
            b.add(3)
            b.settle(3)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert b.bytes == 0


def test_reader_prefetch_is_bounded_but_large_messages_still_fit():
    # fetch sizes are soft limits in Kafka (KIP-74): a larger first batch is still returned
    assert READER_CLIENT["queued.max.messages.kbytes"] * 1024 <= 64 << 20
    assert READER_CLIENT["max.partition.fetch.bytes"] <= READER_CLIENT["fetch.max.bytes"]


def test_reader_queue_refills_in_small_steps_soon_after_it_drains():
    # a fetch as large as the queue bound crosses it every time, and librdkafka then waits
    # fetch.queue.backoff.ms (1 s by default) before the next fetch: the reader starved
    # (backlog.py). One partition fetch is at most a quarter of the queue, but not 1 MiB:
    # a fetch ending inside a producer batch makes the broker send that batch twice.
    assert READER_CLIENT["max.partition.fetch.bytes"] >= 4 << 20
    queue = READER_CLIENT["queued.max.messages.kbytes"] * 1024
    assert READER_CLIENT["max.partition.fetch.bytes"] * 4 <= queue
    assert 0 < READER_CLIENT["fetch.queue.backoff.ms"] <= 50
