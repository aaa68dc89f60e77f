"""The ``[full_load]`` section of the configuration file."""

from __future__ import annotations

from dataclasses import dataclass, field

from tidb2mysql.config import register_section

SNAPSHOT_KINDS = ("auto", "tidb", "mariadb")


@dataclass(frozen=True)
class FullLoadConfig:
    # Tables to copy: "db.table" or "db.*" patterns. Empty = every non-system database
    # (except tidb2mysql's own meta schema and the simulator's _tidb2mysql_sim).
    tables: list = field(default_factory=list)
    # Target rows per chunk (a primary-key range read by one lane in keyset pages).
    chunk_rows: int = 100_000
    # Rows per keyset page = rows per target transaction (one multi-row upsert).
    page_rows: int = 5_000
    # Lanes (Bytewax source partitions, each one source connection holding the snapshot).
    # 0 = workers x processes of the first run. Fixed for the life of a job.
    lanes: int = 0
    # How the consistent snapshot is taken: "tidb" (SET @@tidb_snapshot), "mariadb" (the
    # FLUSH TABLES WITH READ LOCK + consistent-snapshot stand-in used by the test stack), or
    # "auto" (tidb when the source's VERSION() says TiDB).
    snapshot: str = "auto"
    # MariaDB stand-in: table holding the commit_ts of the last committed transaction
    # (written by the simulator inside every transaction), row keyed by the Kafka topic.
    tso_table: str = "_tidb2mysql_sim.tso"
    # Row totals for progress: "estimate" (information_schema.TABLES) or "count" (COUNT(*)).
    row_totals: str = "estimate"
    # Seconds between plain progress lines when stderr is not a terminal.
    progress_interval: float = 10.0
    # SET sql_log_bin = 0 on target writer sessions. Off by default: it needs SUPER /
    # BINLOG ADMIN and hides the load from the target's own replicas.
    disable_target_binlog: bool = False
    # "load_data": pages rendered as LOAD DATA text by the source and sent with LOAD DATA LOCAL
    # INFILE from memory (fullload/tsv.py); "insert": native rows, multi-row upserts (TableSQL)
    method: str = "load_data"
    # Each lane reads its next keyset page (in a thread) while the current one is written, so
    # the source and the target work at the same time. A lane then holds two pages in memory.
    read_ahead: bool = True
    # MariaDB stand-in: seconds FLUSH TABLES WITH READ LOCK may wait for running statements
    # (writers queue behind it meanwhile) before the load gives up.
    lock_wait_seconds: int = 30
    # Seconds the coordinator waits for all lanes to connect / open their snapshot.
    lane_timeout: float = 300.0
    # Dates TiDB stores but MySQL's strict mode refuses ('2020-02-30', kept by TiDB under
    # ALLOW_INVALID_DATES): "copy" them as they are (writer sessions add ALLOW_INVALID_DATES, as
    # the incremental writer always does), or "fail" the load at the first one.
    invalid_dates: str = "copy"
    # TiDB: tidb_gc_life_time while the load reads its snapshot (raised if shorter, restored
    # afterwards; fullload/snapshot.py GCHold). "" = never touch it (then it must outlast the load).
    gc_life_time: str = "72h"

    def validate(self) -> None:
        if self.chunk_rows < 1 or self.page_rows < 1:
            raise ValueError("chunk_rows and page_rows must be >= 1")
        if self.lock_wait_seconds < 1:
            raise ValueError("lock_wait_seconds must be >= 1")
        if self.lanes < 0:
            raise ValueError("lanes must be >= 0")
        if self.snapshot not in SNAPSHOT_KINDS:
            raise ValueError(f"snapshot must be one of {', '.join(SNAPSHOT_KINDS)}")
        if self.gc_life_time:
            from tidb2mysql.fullload.snapshot import parse_go_duration

            if parse_go_duration(self.gc_life_time) is None:
                raise ValueError(f"gc_life_time {self.gc_life_time!r} is not a duration like '72h' or '90m'")
        if self.invalid_dates not in ("copy", "fail"):
            raise ValueError("invalid_dates must be 'copy' or 'fail'")
        if self.row_totals not in ("estimate", "count"):
            raise ValueError("row_totals must be 'estimate' or 'count'")
        if self.tso_table.count(".") != 1:
            raise ValueError("tso_table must be 'schema.table'")
        for t in self.tables:
            if not isinstance(t, str) or t.count(".") != 1:
                raise ValueError(f"tables: {t!r} is not 'db.table' or 'db.*'")


register_section("full_load", FullLoadConfig)


def full_load_settings(cfg) -> FullLoadConfig:
    return cfg.extra.get("full_load") or FullLoadConfig()
