"""The ``[incremental]`` section of the configuration file (help text of each key: docs/configuration.md has the long form)."""

from __future__ import annotations

from dataclasses import dataclass

from tidb2mysql.config.keys import setting

# Routing rules (replication/route.py hashes by them; a job keeps its rule for life).
ROUTING_KEY_RUNS, ROUTING_HASH = "key-runs-1024", "hash"
ROUTING_SPREAD_UNIQUE = "key-runs-1024-spread-unique"
ROUTING_RULES = (ROUTING_HASH, ROUTING_KEY_RUNS, ROUTING_SPREAD_UNIQUE)


@dataclass(frozen=True)
class IncrementalConfig:
    shards: int = setting(8, 'Number of shards (Bytewax state keys) the row changes are spread over. Fixed for the life of a job: per-shard checkpoints depend on it. Each shard holds one target connection, and every concurrent apply connection costs CPU per row in the flow and in the target: about 1-2 per worker, and no more than the target has cores to spare, costs least (on 2 cores, 1M inserts at -w 1: 2 shards cost the flow 20 % less CPU per row than 8; docs/performance.md).', flag='--shards')
    batch_rows: int = setting(2000, 'A shard flushes when it holds this many merged rows ...')
    batch_ms: int = setting(20, '... or when its oldest pending change is this old (a flush starts only once the shard\'s previous one has committed, and changes collect behind a flush in flight, so under load batches grow toward batch_rows by themselves: this bounds the wait of a change when the writer is free; mix at half load, 2 shards: delay p50 175-192 -> 50-54 ms and p99 344-417 -> 242-316 ms from 200 to 20, throughput unchanged; docs/performance.md) ...')
    idle_ms: int = setting(20, '... or when no input reached it for this long.')
    poll_ms: int = setting(20, 'How often a shard waiting at a DDL barrier polls the target.')
    ddl_lock_wait_seconds: int = setting(60, 'A replicated DDL waiting longer than this (seconds) for a metadata lock on the target (a long transaction on the table) gives up and is retried with backoff, so the worker stays responsive and `status` can say the DDL is blocked and why.')
    checkpoint_interval_ms: int = setting(500, 'How often an idle shard persists a watermark-advanced checkpoint.')
    watermark_interval_ms: int = setting(200, 'How often the router sends watermarks to all shards.')
    start_commit_ts: int = setting(0, 'Start after this commit_ts when the target has no checkpoint (the full load hands it over).', flag='--start-commit-ts')
    source_batch: int = setting(500, 'Kafka messages per poll of the source: at most this many are read and decoded at a time (fewer when fewer are waiting, so it adds no delay). A step reads one poll; a process that applies only part of the rows (-p 2) reads up to 4 while the step holds fewer of its own row changes than its first poll held rows (replication/runtime.py step_wants_more; -p 2 inserts 4-7 % faster, -w 1 unchanged). 2000 for every process was measured: the mix at -w 1 7 % slower (docs/performance.md).')
    slice_bytes: int = setting(8 << 20, 'A message larger than this (bytes) is a large transaction: it is parsed once and decoded in slices of slice_rows row changes, so memory stays bounded by the message size plus one slice, not by the number of rows as Python objects.')
    slice_rows: int = setting(5000, 'Row changes per slice of a large transaction (see slice_bytes).')
    backlog_bytes: int = setting(16 << 20, 'A process stops reading Kafka while its shards hold this many bytes (Drainer wire size) read but not applied yet: memory stays bounded whatever the backlog (replication/backlog.py).')
    stop_at_end: bool = setting(False, 'Stop (exit 0) once the end of the topic is reached and everything before it is applied.', flag='--stop-at-end')
    stop_at_ts: int = setting(0, 'Stop once every change at or below this commit_ts is applied (0 = never).', flag='--stop-at-ts')
    strict: bool = setting(False, 'Stop the flow instead of dead-lettering bad input or failing changes.')
    apply_attempts: int = setting(3, 'Attempts for a batch that fails with a non-transient error before it is split and the failing changes are dead-lettered. Transient errors (lost connection, deadlock) retry with backoff for up to retry_seconds (0 = forever).')
    retry_seconds: float = setting(0.0, 'Seconds to keep retrying transient errors (lost connection, deadlock) before giving up; 0 = forever.')
    force: bool = setting(False, "Write even though the job was finished by a cut-over (target job_control row says 'finished'); without it such a flow refuses to start (see tidb2mysql/ops/fencing.py).", flag='--force')
    control_poll_seconds: float = setting(1.0, 'Seconds between polls of the job_control row (cut-over requests).')
    routing: str = setting(ROUTING_SPREAD_UNIQUE, 'How a NEW job spreads row changes over shards; an existing job keeps the rule it was created with (stored in its checkpoint rows; a different setting is logged and ignored). key-runs-1024-spread-unique: as key-runs-1024, and a table with an integer primary key and a secondary unique key is spread over the shards by primary key too (not applied whole by one shard); a unique value that moves between rows of different shards is handed over through the target (replication/unique_handoff.py). key-runs-1024: the key\'s last column, when an integer, by runs of 1,024 consecutive values, so sequential (AUTO_INCREMENT) keys do not make the shards\' writers fill the same target pages (1M inserts at -p 2: 17 instead of 44 InnoDB pages per 1,000 rows, 288 instead of 630 KB of redo); a table with a secondary unique key is applied whole by one shard. hash: every key hashed on its own, which spreads a hot set of recent keys (rows updated soon after their insert) over every shard; unique-key tables as key-runs-1024 (docs/performance.md).')
    load_rows: int = setting(50, 'Rows expected new (first change in the flush an INSERT, or every row of a table with a secondary unique key, whose keys are deleted first, but for rows born in the flush) are written with LOAD DATA LOCAL INFILE from memory when a table has at least this many in a flush, instead of a multi-row INSERT: the target spends ~30 % less CPU on them (docs/performance.md). A row the load does not insert as given (its key exists, a warning) is written by the usual upsert in the same transaction. Needs local_infile = ON on the target (MySQL 8.0 defaults to OFF; then INSERT is used and a warning logged). 0 = never.')
    overlap_apply: bool = setting(True, "A shard's flush runs on its own writer thread while the worker decodes and merges the next batch (one flush in flight per shard: order and the checkpoint-in-the-same-transaction rule are unchanged). false = flush on the worker thread (replication/shard.py).")

    def validate(self) -> None:
        if self.shards < 1 or self.shards > 1024:
            raise ValueError("shards must be between 1 and 1024")
        for name in ("batch_rows", "batch_ms", "idle_ms", "poll_ms", "ddl_lock_wait_seconds", "source_batch", "apply_attempts", "slice_bytes", "slice_rows", "backlog_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.load_rows < 0:
            raise ValueError("load_rows must be >= 0 (0 = never load)")
        if self.routing not in ROUTING_RULES:
            raise ValueError(f"routing: {self.routing!r} is not one of {', '.join(ROUTING_RULES)}")
        if self.start_commit_ts < 0 or self.stop_at_ts < 0:
            raise ValueError("commit_ts values must be >= 0")

