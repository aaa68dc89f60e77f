"""The ``[verify]`` section of the configuration file (keys explained in docs/verify.md)."""

from __future__ import annotations

from dataclasses import dataclass

from tidb2mysql.config.full_load import SNAPSHOT_KINDS, check_table_patterns
from tidb2mysql.config.keys import setting


@dataclass(frozen=True)
class VerifyConfig:
    tables: list[str] = setting(help='Tables to verify: "db.table" / "db.*" source patterns. Empty = what the full load would copy ([full_load] tables, else every non-system database). --tables overrides.', factory=list)
    chunk_rows: int = setting(50_000, 'Source rows per chunk (one checksum query per side). Smaller chunks localize a difference faster; larger ones cost fewer round trips.')
    leaf_rows: int = setting(2_000, 'A mismatching range is halved until it holds at most this many rows; then per-row hashes of both sides are compared by key.')
    lanes: int = setting(2, 'Parallel lanes (threads, each with one source and one target connection).')
    rate: float = setting(0.0, 'Rows per second over all lanes (0 = unlimited); --rate overrides.')
    recheck_rounds: int = setting(6, 'How often a suspected row is re-read after the flow moved on before it is reported as unsettled (it kept changing) rather than as a difference.')
    recheck_interval: float = setting(1.0, 'Seconds between re-check rounds.')
    snapshot_refresh: float = setting(10.0, 'Seconds a lane keeps one source snapshot before opening a newer one.')
    hold_seconds: float = setting(2.0, "Seconds a re-check or repair may hold suspected target rows locked while the flow catches up to the source snapshot (the flow's writes to those rows wait meanwhile).")
    wait_timeout: float = setting(300.0, "Seconds to wait for the target to apply a snapshot's commit_ts before failing.")
    snapshot: str = setting("auto", 'How the source snapshot is taken: "tidb", "mariadb" (the test stack\'s stand-in), "auto".')
    max_diffs: int = setting(100_000, 'Differences kept per table in the report / state (all are counted and repaired).')
    hash: str = setting("crc32", 'Row hash inside the checksums: "crc32" (fast) or "md5" (64 bits of MD5; costlier on the servers).')
    progress_interval: float = setting(5.0, 'Seconds between plain progress lines.')

    def validate(self) -> None:
        if self.chunk_rows < 1 or self.leaf_rows < 1:
            raise ValueError("chunk_rows and leaf_rows must be >= 1")
        if self.lanes < 1:
            raise ValueError("lanes must be >= 1")
        if self.rate < 0:
            raise ValueError("rate must be >= 0")
        if self.recheck_rounds < 1:
            raise ValueError("recheck_rounds must be >= 1")
        if self.hash not in ("crc32", "md5"):
            raise ValueError("hash must be 'crc32' or 'md5'")
        if self.snapshot not in SNAPSHOT_KINDS:
            raise ValueError(f"snapshot must be one of {', '.join(SNAPSHOT_KINDS)}")
        check_table_patterns(self.tables)

