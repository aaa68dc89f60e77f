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
# Why the queue backoff is 20 ms and one partition fetch a quarter of the queue: once the
# queue is over ``queued.max.messages.kbytes``, librdkafka postpones the partition's next
# fetch by ``fetch.queue.backoff.ms`` (1,000 ms by default; since librdkafka 2.3, pyproject.toml
# pins 2.16). With 16 MiB fetches into a 16 MiB queue every fetch crossed the threshold and a
# fast reader emptied the queue and waited a second: the flow ran in phases of ~70k and ~50k
# rows/s. Smaller fetches refill the queue in steps, at most 20 ms after it drains (A/B, 1M
# inserts: -w 1 60,687 -> 68,039 rows/s). A backoff of 0 makes librdkafka re-fetch in a loop
# while the queue is full (1.4 cores instead of 0.9, no faster).
#
# Why 4 MiB and not smaller: a fetch that ends inside a producer record batch (up to 1 MB)
# still carries the batch's head, which the client drops and fetches again. At 1 MiB the
# broker sent 1.76x the topic's bytes (168.3 MB for 95.7 MB, librdkafka statistics; 1.09x at
# 4 MiB) and spent 0.9-1.3 us of CPU per row serving two readers at ``-p 2``, CPU the flow
# needs on two cores (A/B and the 1M-row caveat: docs/performance.md, "Fifteenth session").
# Peak prefetch: the queue bound plus one fetch (20 MiB).
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
