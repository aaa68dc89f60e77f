"""Routed row changes: what a shard receives.

The router turns each decoded :class:`~tidb2mysql.events.Txn` into :class:`Change` objects,
one per row change, and groups them per shard into a :class:`ShardChunk` (one Bytewax item
per message and shard, so Bytewax pays per message, not per row).

A primary-key-changing UPDATE is split by the router into ``DELETE(old key)`` and
``INSERT(new image)``, because the two keys may live in different shards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tidb2mysql.events import DDL, Op, Row, TableSchema


# A position in the replication stream: (commit_ts, seq). Not a Kafka coordinate
# (that is events.KafkaPosition): see Change.seq for what seq counts.
StreamPos = tuple[int, int]


@dataclass(slots=True)
class Change:
    """One row change routed to a shard.

    ``(commit_ts, seq)`` is the change's position in the replication stream: ``seq`` is the
    index of the change inside its transaction (0-based, over all tables of the message).
    Positions strictly increase along one shard's stream, which is what checkpoints record.
    """

    commit_ts: int
    seq: int  # 2*i for the i-th row change of the transaction; +1 for the INSERT half of a PK change
    schema: TableSchema
    op: Op  # INSERT, UPDATE (same primary key), DELETE
    new: Optional[Row]  # INSERT/UPDATE: the after image
    old: Optional[Row]  # UPDATE: before image; DELETE: the deleted row

    @property
    def position(self) -> StreamPos:
        return (self.commit_ts, self.seq)


@dataclass(slots=True)
class ShardChunk:
    """All changes of one transaction that belong to one shard, in order."""

    commit_ts: int
    changes: list[Change]
    offset: int = -1  # Kafka offset of the message, for logs and dead letters
    nbytes: int = 0  # its share of the message's wire size (the process's byte budget, backlog.py)


@dataclass(slots=True)
class ShardChunks:
    """Consecutive chunks of one shard from one source batch, handed to Bytewax as ONE item.

    Why: Bytewax pays per item (key extraction, routing to the worker, progress), and with
    10-row transactions a reader made ~one item per shard per message. Processing is exactly
    that of the chunks one after the other (each keeps its offset and byte share)."""

    chunks: list[ShardChunk]


@dataclass(slots=True)
class Barrier:
    """A DDL, copied to every shard; see ``replication/barrier.py`` for the protocol."""

    ddl: DDL
    offset: int = -1


@dataclass(slots=True)
class Watermark:
    """Everything up to ``commit_ts`` has been routed; lets idle shards advance their checkpoint.

    ``force``: flush and write the checkpoint now (end of input, stop-at-ts, shutdown).
    """

    commit_ts: int
    offset: int = -1
    force: bool = False
