"""The byte budget of one process: Drainer bytes routed to its shards and not applied yet.

Why: the reader is much faster than the target. Without a bound it reads ahead as far as the
Kafka backlog goes, and everything read waits as Python objects in the shards (the peak RSS
grew with the backlog: 201 MiB at 250k rows, 454 MiB at 1M). With it, the reader of a
process stops polling Kafka while its shards hold ``limit`` bytes or more (measured in the
messages' wire size; the decoded objects are a small multiple of it), and librdkafka's own
prefetch queue is bounded too (``READER_CLIENT`` below). Peak memory is then bounded by the
budget, the prefetch queue and one large message, whatever the backlog.

Accounting: the reader charges each routed chunk its share of its message's bytes
(:func:`charge`); the shard that receives the chunk settles that share when the changes are
applied (flush), skipped as replays, parked, or dropped. Shards and the reader of a process
run on different worker threads, hence the lock. A restored shard re-registers the bytes of
the pending changes it restores. Deadlock-free with the DDL barrier: a barrier reaches all of
a reader's shards in one batch, so a paused reader never holds back an acknowledgement.
"""

from __future__ import annotations

import threading

from tidb2mysql.replication.change import ShardChunk

# librdkafka settings of the flow's reader: fetch sizes are soft limits (a larger message is
# still returned whole), so they bound the prefetch without refusing Drainer's large messages.
#
# Why one partition fetch is a quarter of the queue and the backoff 20 ms: once the queue is
# over ``queued.max.messages.kbytes``, librdkafka postpones the partition's next fetch by
# ``fetch.queue.backoff.ms`` (1,000 ms by default; the setting exists since librdkafka 2.3,
# pyproject.toml pins 2.16). With 16 MiB fetches into a 16 MiB queue, every fetch crossed
# the threshold, the next one came a second later, and a
# reader faster than ~16 MiB/s emptied the queue first and waited: the flow ran in phases of
# ~70k and ~50k rows/s (inserts, -w 1, rows/s sampled each second), CPU idle in the slow ones.
# With 1 MiB fetches (then; 4 MiB now, below) the queue refilled in steps, at most 20 ms after it drained
# below the threshold: flat 66-70k rows/s (A/B, 1M inserts: -w 1 60,687 -> 68,039, -p 2
# 59,669 -> 68,289; docs/performance.md). A backoff of 0 makes librdkafka re-fetch in a loop
# while the queue is full (the flow's process used 1.4 cores instead of 0.9, no faster).
#
# Why 4 MiB and not 1 MiB: a fetch ends inside a record batch (the producer's, up to 1 MB by
# librdkafka's default batch.size), the broker sends that batch's head anyway and the client
# throws it away and fetches the batch again. At 1 MiB that re-sent 76 % more bytes than the
# topic holds (300k-row topic of 95.7 MB: 168.3 MB received in 163 requests; at 4 MiB 104.3
# MB in 37, librdkafka statistics), and the broker spent 0.9-1.3 us of CPU per row at ``-p 2``
# (two readers of the partition), 0.4 at 4 MiB - the same as the bench ceiling's readers with
# librdkafka's large default fetches (the broker's JVM idles at ~0.2 us per row of a run).
# On two cores shared with the target and the broker that CPU is the flow's. A/B, same
# minutes: 300k inserts ``-p 2`` 101,893 / 107,738 -> 112,720 / 115,463 rows/s; 1M inserts
# (where the broker's excess was 0.3 us per row, not 1) 90,798 / 92,174 -> 94,430 / 92,073:
# a small gain, within run-to-run noise at 1M. ``-w 1`` unchanged (a core is idle there);
# 8 MiB no better than 4 (docs/performance.md).
# Peak prefetch: the queue bound plus one fetch (20 MiB) instead of 32 MiB.
READER_CLIENT = {
    "queued.max.messages.kbytes": 16 * 1024,
    "fetch.max.bytes": 16 << 20,
    "max.partition.fetch.bytes": 4 << 20,
    "fetch.queue.backoff.ms": 20,
}


class Backlog:
    def __init__(self, limit: int):
        self.limit = limit
        self._bytes = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        if n:
            with self._lock:
                self._bytes += n

    def settle(self, n: int) -> None:
        if n:
            with self._lock:
                self._bytes = max(0, self._bytes - n)

    @property
    def bytes(self) -> int:
        return self._bytes

    @property
    def full(self) -> bool:
        return self._bytes >= self.limit


def charge(items: list, sizes: dict[int, int], backlog: Backlog) -> None:
    """Give each routed chunk its share of its message's wire size (``sizes``: offset -> bytes,
    for the messages or slices routed in this batch) and add it to the backlog."""
    counts: dict[int, int] = {}
    for _key, (_shard, it) in items:
        if isinstance(it, ShardChunk):
            counts[it.offset] = counts.get(it.offset, 0) + len(it.changes)
    total = 0
    for _key, (_shard, it) in items:
        if isinstance(it, ShardChunk):
            size = sizes.get(it.offset, 0)
            n = counts[it.offset]
            it.nbytes = size * len(it.changes) // n if n else 0
            total += it.nbytes
    backlog.add(total)
