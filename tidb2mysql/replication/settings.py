"""The ``[incremental]`` section of the configuration file."""

from __future__ import annotations

from dataclasses import dataclass

from tidb2mysql.config import register_section


@dataclass(frozen=True)
class IncrementalConfig:
    # Number of shards (Bytewax state keys) the row changes are spread over. Fixed for the
    # life of a job: per-shard checkpoints depend on it. More shards than workers balances
    # better; each shard holds one target connection.
    shards: int = 8
    # A shard flushes when it holds this many merged rows ...
    batch_rows: int = 2000
    # ... or when its oldest pending change is this old ...
    batch_ms: int = 200
    # ... or when no input reached it for this long.
    idle_ms: int = 20
    # How often a shard waiting at a DDL barrier polls the target.
    poll_ms: int = 20
    # A replicated DDL waiting longer than this (seconds) for a metadata lock on the target
    # (a long transaction on the table) gives up and is retried with backoff, so the worker
    # stays responsive and `status` can say the DDL is blocked and why.
    ddl_lock_wait_seconds: int = 60
    # How often an idle shard persists a watermark-advanced checkpoint.
    checkpoint_interval_ms: int = 500
    # How often the router sends watermarks to all shards.
    watermark_interval_ms: int = 200
    # Start after this commit_ts when the target has no checkpoint (the full load hands it over).
    start_commit_ts: int = 0
    # Kafka messages per source batch.
    source_batch: int = 500
    # A message larger than this (bytes) is a large transaction: it is parsed once and
    # decoded in slices of slice_rows row changes, so memory stays bounded by the message
    # size plus one slice, not by the number of rows as Python objects.
    slice_bytes: int = 8 << 20
    slice_rows: int = 5000
    # A process stops reading Kafka while its shards hold this many bytes (Drainer wire size)
    # read but not applied yet: memory stays bounded whatever the backlog (replication/backlog.py).
    backlog_bytes: int = 16 << 20
    # Stop (exit 0) once the end of the topic is reached and everything before it is applied.
    stop_at_end: bool = False
    # Stop once every change at or below this commit_ts is applied (0 = never).
    stop_at_ts: int = 0
    # Stop the flow instead of dead-lettering bad input or failing changes.
    strict: bool = False
    # Attempts for a batch that fails with a non-transient error before it is split and the
    # failing changes are dead-lettered. Transient errors (lost connection, deadlock) retry
    # with backoff for up to retry_seconds (0 = forever).
    apply_attempts: int = 3
    retry_seconds: float = 0.0
    # Write even though the job was finished by a cut-over (target job_control row says
    # 'finished'); without it such a flow refuses to start (see tidb2mysql/ops/fencing.py).
    force: bool = False
    # Seconds between polls of the job_control row (cut-over requests).
    control_poll_seconds: float = 1.0
    # A shard's flush runs on its own writer thread while the worker decodes and merges the
    # next batch (one flush in flight per shard: order and the checkpoint-in-the-same-
    # transaction rule are unchanged). false = flush on the worker thread (replication/shard.py).
    overlap_apply: bool = True

    def validate(self) -> None:
        if self.shards < 1 or self.shards > 1024:
            raise ValueError("shards must be between 1 and 1024")
        for name in ("batch_rows", "batch_ms", "idle_ms", "poll_ms", "ddl_lock_wait_seconds", "source_batch", "apply_attempts", "slice_bytes", "slice_rows", "backlog_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.start_commit_ts < 0 or self.stop_at_ts < 0:
            raise ValueError("commit_ts values must be >= 0")


register_section("incremental", IncrementalConfig)


def incremental_settings(cfg) -> IncrementalConfig:
    return cfg.extra.get("incremental") or IncrementalConfig()
