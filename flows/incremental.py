"""Incremental replication: Drainer binlogs in Kafka -> MySQL.

Run:  TIDB2MYSQL_CONFIG=tidb2mysql.toml python -m bytewax.run flows.incremental [-w N] \
          [-r RECOVERY_DIR -s SNAPSHOT_SECONDS -b 0]
or:   tidb2mysql incremental --config tidb2mysql.toml --workers N --processes P ...

Only Bytewax wiring lives here; the logic is in ``tidb2mysql/replication/``:

    DrainerReaders: one reader per process (on its first worker), each reading the whole
      Drainer partition, decoding it and routing only to the shards that live on this
      process's workers (replication/runtime.py SourceLoop + pipeline.py: decode,
      redeliveries, selection, route, watermarks). Start: the target checkpoints.
      -> "apply"     stateful_batch keyed by shard: replication/shard.py (merge, flush,
                     checkpoint, DDL barrier); items never leave their process
      -> "progress"  sink: replication/progress.py (logs, delay)
"""

from __future__ import annotations

import logging
import pickle
import sys
from typing import Optional

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.inputs import DynamicSource, StatelessSourcePartition
from bytewax.operators import StatefulBatchLogic
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from tidb2mysql import config as config_mod
from tidb2mysql import kafka_settings
from tidb2mysql.mysql import db
from tidb2mysql.errors import Tidb2MysqlError, exit_code, message
from tidb2mysql.ops import fencing, shutdown
from tidb2mysql.ops.metrics import record_flush
from tidb2mysql.ops.metrics import serve as serve_metrics
from tidb2mysql.mysql.meta import REPLICATION, ensure_meta
from tidb2mysql.mysql.retry import retry_transient
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.progress import ProgressLog
from tidb2mysql.replication.route import MAX_SEQ, shards_of_process
from tidb2mysql.replication.runtime import Services, SourceLoop, reported_start, reporting, tune_gc
from tidb2mysql.replication.shard import ShardApplier, ShardState

log = logging.getLogger("tidb2mysql.incremental")


class DrainerPartition(SourceLoop, StatelessSourcePartition):
    """The reader of one process (logic: replication/runtime.py)."""

    @reporting(lambda self: f"process {self.process}: the reader stopped the flow")
    def next_batch(self):
        return SourceLoop.next_batch(self)


class _NoInput(StatelessSourcePartition):
    """The other workers of a process read nothing themselves."""

    def next_batch(self):
        raise StopIteration()


class DrainerReaders(DynamicSource):
    def __init__(self, cfg, workers_per_process: int, services: Services):
        self.cfg = cfg
        self.wpp = workers_per_process
        self.services = services

    def build(self, step_id, worker_index, worker_count):
        if worker_index % self.wpp:
            return _NoInput()
        process, processes = worker_index // self.wpp, worker_count // self.wpp
        owned = shards_of_process(self.cfg.incremental.shards, process, self.wpp, processes)
        if not owned:
            return _NoInput()
        with reported_start(f"process {process}: the reader of {self.cfg.kafka.topic!r} partition {self.cfg.kafka.partition}"):
            return DrainerPartition(self.cfg, owned, process, self.services.backlog)


def _shard_stopped(logic) -> str:
    applier = logic.applier
    return f"shard {applier.shard if applier is not None else '?'}: applying stopped the flow"


class ShardLogic(StatefulBatchLogic):
    """Thin Bytewax adapter around :class:`ShardApplier`."""

    def __init__(self, services: Services, resume: Optional[bytes]):
        self.services = services
        self.applier: Optional[ShardApplier] = None
        if resume is not None:
            self.applier = ShardApplier(services.shard_context(), pickle.loads(resume))

    def _ensure(self, shard: int) -> ShardApplier:
        if self.applier is None:
            self.applier = ShardApplier(self.services.shard_context(), ShardState(shard))
        return self.applier

    @reporting(_shard_stopped)
    def on_batch(self, values):
        a = self._ensure(values[0][0])
        return a.on_batch([v[1] for v in values]), StatefulBatchLogic.RETAIN

    @reporting(_shard_stopped)
    def on_notify(self):
        return (self.applier.on_notify() if self.applier else []), StatefulBatchLogic.RETAIN

    @reporting(_shard_stopped)
    def on_eof(self):
        return (self.applier.on_eof() if self.applier else []), StatefulBatchLogic.RETAIN

    def notify_at(self):
        return self.applier.notify_at() if self.applier else None

    def snapshot(self):
        # Frozen now, as bytes: the state keeps changing after this call, and Bytewax may
        # serialize the snapshot later.
        return pickle.dumps(self.applier.snapshot(), protocol=pickle.HIGHEST_PROTOCOL) if self.applier else None


class _ProgressPartition(StatelessSinkPartition):
    def __init__(self, worker_index: int):
        self.progress = ProgressLog(worker_index)

    def write_batch(self, items):
        for _key, report in items:
            self.progress.add(report)
            record_flush(report)
        self.progress.maybe_log()

    def close(self):
        self.progress.maybe_log(force=True)


class ProgressSink(DynamicSink):
    def build(self, step_id, worker_index, worker_count):
        return _ProgressPartition(worker_index)


def _prepare_target(cfg, s) -> None:
    """Fencing check, meta tables, the job's shard rows (idempotent: safe to run again)."""
    conn = db.connect(cfg.target, autocommit=True)
    try:
        forced = fencing.check_may_write(conn, cfg.job.meta_schema, cfg.job.name, s.force)  # JobFenced
        if forced:
            log.warning("%s", forced)
        ensure_meta(conn, cfg.job.meta_schema, REPLICATION)
        fencing.JobControl(cfg.job.meta_schema, cfg.job.name).ensure(conn)
        initial = (s.start_commit_ts, MAX_SEQ)
        rule = Checkpoints(cfg.job.meta_schema, cfg.job.name).ensure_shards(conn, s.shards, initial, s.routing)
        if rule != s.routing:
            log.warning("job %r routes row changes by %r, the rule it was created with ([incremental] routing = %r"
                        " applies to new jobs only: a job's rule cannot change)", cfg.job.name, rule, s.routing)
    finally:
        conn.close()


def build_flow(cfg) -> Dataflow:
    s = cfg.incremental
    # A wrong Kafka password or an untrusted broker certificate would otherwise look like a
    # flow waiting for messages forever (librdkafka retries quietly): stop here instead, with
    # the brokers, the user and the fix in the message (KafkaConnectError). So would a missing
    # topic or partition, from inside the Bytewax build (KafkaTopicMissing).
    _admin, md = kafka_settings.check_connection(cfg.kafka)
    partitions = kafka_settings.require_topic(md, cfg.kafka, None if _is_ticdc(cfg) else cfg.kafka.partition)
    # A target restarting while the flow starts costs time, not the start (the same transient
    # retry as every other target connection of the flow; [incremental] retry_seconds bounds it).
    retry_transient(lambda: _prepare_target(cfg, s), "preparing the target's meta schema",
                    retry_seconds=s.retry_seconds)
    services = Services(cfg)
    tune_gc()
    if _is_ticdc(cfg):  # TiCDC input: one Bytewax input partition per Kafka partition (flows/ticdc.py)
        from flows import ticdc

        return ticdc.build(cfg, services, ProgressSink(), partitions)
    flow = Dataflow("tidb2mysql_incremental")
    routed = op.input("drainer", flow, DrainerReaders(cfg, _workers_per_process(sys.argv), services))
    applied = op.stateful_batch("apply", routed, lambda resume: ShardLogic(services, resume))
    reports = op.flat_map("reports", applied, lambda kv: [kv[1]] if kv[1] is not None else [])
    op.output("progress", op.key_on("by_shard", reports, lambda r: str(r.shard)), ProgressSink())
    return flow


def _is_ticdc(cfg) -> bool:
    return cfg.input.is_ticdc


def _option(argv: list[str], short: str, long: str, default: int) -> int:
    """An integer option of ``python -m bytewax.run`` (this module is imported by it)."""
    for i, a in enumerate(argv):
        if a in (short, long) and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith(long + "="):
            return int(a.split("=", 1)[1])
    return default


def _process_index(argv: list[str]) -> int:
    """This process's Bytewax ``-i``/``--process-id`` (0 when run alone)."""
    return _option(argv, "-i", "--process-id", 0)


def _workers_per_process(argv: list[str]) -> int:
    """Bytewax's ``-w``/``--workers-per-process``: workers ``p*W .. p*W+W-1`` are process p's."""
    return _option(argv, "-w", "--workers-per-process", 1)


def _flow_from_env() -> Dataflow:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = config_mod.load()
    try:
        built = build_flow(cfg)
    except Tidb2MysqlError as e:
        # A fenced job, wrong credentials, an untrusted certificate, a changed shard count:
        # configuration, not a crash. One line naming what to fix, and the exit code of
        # tidb2mysql/errors.py (fenced 3, other configuration errors 2).
        if e.headline is None:
            raise
        if isinstance(e, fencing.JobFenced):
            log.error("%s", e)
        else:
            log.error("cannot start: %s", message(e))
        sys.exit(exit_code(e))
    shutdown.install()  # SIGTERM/SIGINT -> drain and exit 0 (the source polls the flag)
    ms = cfg.metrics
    if ms.port:
        serve_metrics(ms.bind, ms.port + _process_index(sys.argv))
    return built


def __getattr__(name: str) -> Dataflow:
    """``flow`` is built on first access, which is what ``python -m bytewax.run flows.incremental``
    does. Building connects to the target, checks fencing, creates the meta tables and shard
    rows, installs the signal handlers and starts the metrics endpoint; importing this module
    (tests, tools) does none of that."""
    if name == "flow":
        built = _flow_from_env()
        globals()["flow"] = built  # later accesses find it without coming here
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
