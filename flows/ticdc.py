"""Bytewax wiring of the incremental flow for TiCDC input (``[input] format = ticdc-*``).

Only wiring; the logic is in ``tidb2mysql/replication/ticdc.py`` and ``resolved.py``:

    TiCDCPartitions: one Bytewax input partition per Kafka partition of the topic (its next
      offset and redelivery filter in the snapshot), spread over all workers: decode, drop
      redeliveries, select, route rows to shards; DDLs and resolved ts to every shard.
      -> "apply"  stateful_batch keyed by shard: the resolved-ts gate, then the usual applier
                  (merge, flush with checkpoint, DDL barrier)
      -> "progress" as for Drainer input
"""

from __future__ import annotations

import pickle
from typing import Optional

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.operators import StatefulBatchLogic

from tidb2mysql.input.codec import codec_for
from tidb2mysql.replication.runtime import Services, reported_start, reporting
from tidb2mysql.replication.ticdc import PartitionSource, ReaderServices, TiCDCShard


class _Partition(PartitionSource, StatefulSourcePartition):
    """One Kafka partition (logic: replication/ticdc.py)."""

    @reporting(lambda self: f"the reader of partition {self.partition} stopped the flow")
    def next_batch(self):
        return PartitionSource.next_batch(self)

    def snapshot(self):
        return pickle.dumps(PartitionSource.snapshot(self), protocol=pickle.HIGHEST_PROTOCOL)


class TiCDCPartitions(FixedPartitionedSource):
    def __init__(self, cfg, partitions: int, readers: ReaderServices):
        self.cfg = cfg
        self.partitions = partitions
        self.readers = readers  # shared by the partitions this process reads

    def list_parts(self):
        return [str(p) for p in range(self.partitions)]

    def build_part(self, step_id, for_part, resume_state):
        resume = pickle.loads(resume_state) if resume_state is not None else None
        with reported_start(f"the reader of {self.cfg.kafka.topic!r} partition {for_part}"):
            return _Partition(self.cfg, int(for_part), codec_for(self.cfg), self.readers, resume)


def _shard_stopped(logic) -> str:
    shard = logic.shard
    return f"shard {shard.applier.shard if shard is not None else '?'}: applying stopped the flow"


class TiCDCShardLogic(StatefulBatchLogic):
    """Thin Bytewax adapter around :class:`TiCDCShard`."""

    def __init__(self, services: Services, partitions: int, resume: Optional[bytes]):
        self.services = services
        self.partitions = partitions
        self.shard: Optional[TiCDCShard] = None
        if resume is not None:
            gate, state = pickle.loads(resume)
            self.shard = TiCDCShard(services.shard_context(), state.shard, partitions, (gate, state))

    @reporting(_shard_stopped)
    def on_batch(self, values):
        if self.shard is None:
            self.shard = TiCDCShard(self.services.shard_context(), values[0][0], self.partitions)
        return self.shard.on_batch(values), StatefulBatchLogic.RETAIN

    @reporting(_shard_stopped)
    def on_notify(self):
        return (self.shard.on_notify() if self.shard else []), StatefulBatchLogic.RETAIN

    @reporting(_shard_stopped)
    def on_eof(self):
        return (self.shard.on_eof() if self.shard else []), StatefulBatchLogic.RETAIN

    def notify_at(self):
        return self.shard.notify_at() if self.shard else None

    def snapshot(self):
        return pickle.dumps(self.shard.snapshot(), protocol=pickle.HIGHEST_PROTOCOL) if self.shard else None


def build(cfg, services: Services, progress_sink, partitions: int) -> Dataflow:
    """``partitions``: the topic's partition count (flows/incremental.py read it at the start)."""
    flow = Dataflow("tidb2mysql_incremental")
    routed = op.input("ticdc", flow, TiCDCPartitions(cfg, partitions, ReaderServices(cfg, services.backlog)))
    applied = op.stateful_batch("apply", routed, lambda resume: TiCDCShardLogic(services, partitions, resume))
    reports = op.flat_map("reports", applied, lambda kv: [kv[1]] if kv[1] is not None else [])
    op.output("progress", op.key_on("by_shard", reports, lambda r: str(r.shard)), progress_sink)
    return flow
