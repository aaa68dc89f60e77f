"""The ``[full_load]`` section of the configuration file (keys explained in docs/full-load.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from tidb2mysql.config.keys import setting

SNAPSHOT_KINDS = ("auto", "tidb", "mariadb")


def parse_go_duration(text: str) -> Optional[float]:
    """'10m0s', '1h30m', '600s' -> seconds (TiDB's tidb_gc_life_time format); None if not one."""
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", text.strip())
    if not parts or "".join(a + b for a, b in parts) != text.strip():
        return None
    mult = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(a) * mult[b] for a, b in parts)


@dataclass(frozen=True)
class FullLoadConfig:
    tables: list[str] = setting(help='Tables to copy: "db.table" or "db.*" patterns. Empty = every non-system database (except tidb2mysql\'s own meta schema and the simulator\'s _tidb2mysql_sim).', factory=list)
    chunk_rows: int = setting(100_000, 'Target rows per chunk (a primary-key range read by one lane in keyset pages).')
    page_rows: int = setting(5_000, 'Rows per keyset page = rows per target transaction (one multi-row upsert).')
    lanes: int = setting(0, 'Lanes (Bytewax source partitions, each one source connection holding the snapshot). 0 = workers x processes of the first run. Fixed for the life of a job.')
    snapshot: str = setting("auto", 'How the consistent snapshot is taken: "tidb" (SET @@tidb_snapshot), "mariadb" (the FLUSH TABLES WITH READ LOCK + consistent-snapshot stand-in used by the test stack), or "auto" (tidb when the source\'s VERSION() says TiDB).')
    tso_table: str = setting("_tidb2mysql_sim.tso", 'MariaDB stand-in: table holding the commit_ts of the last committed transaction (written by the simulator inside every transaction), row keyed by the Kafka topic.')
    row_totals: str = setting("estimate", 'Row totals for progress: "estimate" (information_schema.TABLES) or "count" (COUNT(*)).')
    progress_interval: float = setting(10.0, 'Seconds between plain progress lines when stderr is not a terminal.')
    disable_target_binlog: bool = setting(False, "SET sql_log_bin = 0 on target writer sessions. Off by default: it needs SUPER / BINLOG ADMIN and hides the load from the target's own replicas.")
    method: str = setting("load_data", '"load_data": pages rendered as LOAD DATA text by the source and sent with LOAD DATA LOCAL INFILE from memory (fullload/tsv.py); "insert": native rows, multi-row upserts (TableSQL)')
    read_ahead: bool = setting(True, 'Each lane reads its next keyset page (in a thread) while the current one is written, so the source and the target work at the same time. A lane then holds two pages in memory.')
    lock_wait_seconds: int = setting(30, 'MariaDB stand-in: seconds FLUSH TABLES WITH READ LOCK may wait for running statements (writers queue behind it meanwhile) before the load gives up.')
    lane_timeout: float = setting(300.0, 'Seconds the coordinator waits for all lanes to connect / open their snapshot.')
    invalid_dates: str = setting("copy", 'Dates TiDB stores but strict MySQL refuses (\'2020-02-30\', kept by TiDB under ALLOW_INVALID_DATES): "copy" them as they are (writer sessions add ALLOW_INVALID_DATES, as the incremental writer always does), or "fail" the load at the first one.')
    gc_life_time: str = setting("72h", 'TiDB: tidb_gc_life_time while the load reads its snapshot (raised if shorter, restored afterwards; fullload/snapshot.py GCHold). "" = never touch it (then it must outlast the load).')

    def validate(self) -> None:
        if self.chunk_rows < 1 or self.page_rows < 1:
            raise ValueError("chunk_rows and page_rows must be >= 1")
        if self.lock_wait_seconds < 1:
            raise ValueError("lock_wait_seconds must be >= 1")
        if self.lanes < 0:
            raise ValueError("lanes must be >= 0")
        if self.snapshot not in SNAPSHOT_KINDS:
            raise ValueError(f"snapshot must be one of {', '.join(SNAPSHOT_KINDS)}")
        if self.invalid_dates not in ("copy", "fail"):
            raise ValueError("invalid_dates must be 'copy' or 'fail'")
        if self.gc_life_time and parse_go_duration(self.gc_life_time) is None:
            raise ValueError(f"gc_life_time {self.gc_life_time!r} is not a duration like '72h' or '90m'")
        if self.row_totals not in ("estimate", "count"):
            raise ValueError("row_totals must be 'estimate' or 'count'")
        if self.tso_table.count(".") != 1:
            raise ValueError("tso_table must be 'schema.table'")
        check_table_patterns(self.tables)


def check_table_patterns(tables: list[str]) -> None:
    """``tables`` of [full_load] and [verify]: each a 'db.table' or 'db.*' pattern."""
    for t in tables:
        if not isinstance(t, str) or t.count(".") != 1:
            raise ValueError(f"tables: {t!r} is not 'db.table' or 'db.*'")
