"""tidb2mysql's own tables in the target: shard checkpoints, DDL history, dead letters.

They live in the meta schema (``[job] meta_schema``, default ``tidb2mysql``) of the
*target*, so progress survives the loss of Bytewax's recovery directory, and ``status``
can read it from anywhere.

A checkpoint row ``(job, shard) -> (commit_ts, seq)`` means: every change routed to that
shard at or before that stream position is applied. It is written in the same target
transaction as the batch it covers. Special positions:

* ``(ts, -1)``: the shard reached the DDL barrier at ``ts`` (all its changes before it applied);
* ``(ts, MAX_SEQ)``: all of transaction ``ts`` (and everything before) is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Optional

from tidb2mysql.replication.route import MAX_SEQ

Position = tuple[int, int]


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# ddl_history columns of the crash-safe barrier (tidb2mysql/replication/barrier.py). Declared once:
# part of CREATE TABLE, and added to a meta schema created by an older version by ensure_meta.
DDL_HISTORY_UPGRADE = {
    # statements completed so far (the intent row's progress)
    "step": "INT NOT NULL DEFAULT 0",
    # fingerprint of the target schema taken before statement `step` was first sent: decides,
    # after a crash or a lost connection, whether that statement took effect
    "step_fingerprint": "VARCHAR(64) NULL",
    "attempts": "INT NOT NULL DEFAULT 0",
    # a transient error keeps the DDL waiting (lock wait, lost connection): since when, and why
    "blocked_since": "TIMESTAMP(3) NULL",
    # an operator's decision (tidb2mysql ddl resolve), with its time and previous state
    "resolution": "TEXT NULL",
}


def meta_ddl(meta: str) -> list[str]:
    m = _q(meta)
    history_extra = "\n".join(f"  `{c}` {d}," for c, d in DDL_HISTORY_UPGRADE.items())
    return [
        f"CREATE DATABASE IF NOT EXISTS {m}",
        f"""CREATE TABLE IF NOT EXISTS {m}.`checkpoint` (
  job VARCHAR(128) NOT NULL,
  shard INT NOT NULL,
  shard_count INT NOT NULL,
  commit_ts BIGINT NOT NULL,
  seq BIGINT NOT NULL,
  kafka_offset BIGINT NOT NULL DEFAULT -1,
  rows_applied BIGINT NOT NULL DEFAULT 0,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (job, shard)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
        f"""CREATE TABLE IF NOT EXISTS {m}.`ddl_history` (
  job VARCHAR(128) NOT NULL,
  commit_ts BIGINT NOT NULL,
  schema_name VARCHAR(256) NOT NULL,
  table_name VARCHAR(256) NOT NULL,
  query LONGTEXT NOT NULL,
  statements LONGTEXT NOT NULL,
  decisions LONGTEXT NOT NULL,
  status VARCHAR(16) NOT NULL,
  error TEXT NULL,
  kafka_offset BIGINT NOT NULL DEFAULT -1,
  applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
{history_extra}
  PRIMARY KEY (job, commit_ts)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
        f"""CREATE TABLE IF NOT EXISTS {m}.`quarantine` (
  job VARCHAR(128) NOT NULL,
  schema_name VARCHAR(256) NOT NULL,
  table_name VARCHAR(256) NOT NULL,
  commit_ts BIGINT NOT NULL,
  reason TEXT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (job, schema_name, table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
        f"""CREATE TABLE IF NOT EXISTS {m}.`dead_letter` (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  job VARCHAR(128) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  topic VARCHAR(249) NOT NULL DEFAULT '',
  kafka_partition INT NOT NULL DEFAULT -1,
  kafka_offset BIGINT NOT NULL DEFAULT -1,
  commit_ts BIGINT NOT NULL DEFAULT 0,
  seq BIGINT NOT NULL DEFAULT -1,
  schema_name VARCHAR(256) NOT NULL DEFAULT '',
  table_name VARCHAR(256) NOT NULL DEFAULT '',
  payload LONGBLOB NULL,
  error TEXT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uk_origin (job, kind, kafka_offset, commit_ts, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
    ]


def ensure_meta(conn, meta: str) -> None:
    with conn.cursor() as cur:
        for stmt in meta_ddl(meta):
            cur.execute(stmt)
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema=%s AND table_name=%s",
                    (meta, "ddl_history"))
        have = {r[0].lower() for r in cur.fetchall()}
        for col, decl in DDL_HISTORY_UPGRADE.items():
            if col not in have:
                cur.execute(f"ALTER TABLE {_q(meta)}.`ddl_history` ADD COLUMN `{col}` {decl}")
    conn.commit()


class ShardCountMismatch(RuntimeError):
    pass


@dataclass(frozen=True)
class ShardCheckpoint:
    shard: int
    commit_ts: int
    seq: int
    kafka_offset: int
    rows_applied: int

    @property
    def position(self) -> Position:
        return (self.commit_ts, self.seq)


class Checkpoints:
    """Reads and writes the checkpoint rows of one job."""

    def __init__(self, meta: str, job: str):
        self.meta = meta
        self.job = job
        self.table = f"{_q(meta)}.`checkpoint`"

    # -- reads (each caller passes an autocommit connection or commits itself) -------------

    def load_all(self, conn) -> list[ShardCheckpoint]:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT shard, shard_count, commit_ts, seq, kafka_offset, rows_applied FROM {self.table}"
                " WHERE job=%s ORDER BY shard",
                (self.job,),
            )
            rows = cur.fetchall()
        return [ShardCheckpoint(r[0], r[2], r[3], r[4], r[5]) for r in rows]

    def stored_shard_count(self, conn) -> Optional[int]:
        with conn.cursor() as cur:
            cur.execute(f"SELECT MAX(shard_count), COUNT(*) FROM {self.table} WHERE job=%s", (self.job,))
            mx, n = cur.fetchone()
        return int(mx) if n else None

    def load(self, conn, shard: int) -> Optional[Position]:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT commit_ts, seq FROM {self.table} WHERE job=%s AND shard=%s", (self.job, shard)
            )
            row = cur.fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def min_position(self, conn, shard_count: int, shards: Optional[Collection[int]] = None) -> Optional[Position]:
        """Lowest position over all shards (or over ``shards``); None unless all those rows exist."""
        cps = self.load_all(conn)
        if shards is not None:
            cps = [c for c in cps if c.shard in shards]
        if len(cps) < (shard_count if shards is None else len(shards)):
            return None
        return min(c.position for c in cps)

    def count_at_or_after(self, conn, position: Position, shards: Optional[Collection[int]] = None) -> int:
        """How many shards (of all, or of ``shards``) are at or after ``position``."""
        ts, seq = position
        only = ""
        if shards is not None:
            if not shards:
                return 0
            only = " AND shard IN (" + ",".join(str(int(s)) for s in shards) + ")"
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT COUNT(*) FROM {self.table} WHERE job=%s AND (commit_ts > %s OR (commit_ts = %s AND seq >= %s))"
                + only,
                (self.job, ts, ts, seq),
            )
            return int(cur.fetchone()[0])

    # -- writes -----------------------------------------------------------------------------

    def ensure_shards(self, conn, shard_count: int, initial: Position) -> None:
        """Create the job's shard rows at ``initial`` (no-op for existing rows).

        Refuses a different shard count than the one stored: routing depends on it, and the
        per-shard checkpoints mean nothing under another one.
        """
        stored = self.stored_shard_count(conn)
        if stored is not None and stored != shard_count:
            raise ShardCountMismatch(
                f"job {self.job!r} was started with {stored} shards; this run asks for {shard_count}."
                " The shard count of a job cannot change (per-shard checkpoints depend on it):"
                " use the stored count, or start a new job name."
            )
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT IGNORE INTO {self.table} (job, shard, shard_count, commit_ts, seq) VALUES (%s,%s,%s,%s,%s)",
                [(self.job, s, shard_count, initial[0], initial[1]) for s in range(shard_count)],
            )
        conn.commit()

    def update_sql(self, shard: int, position: Position, offset: int = -1, rows: int = 0) -> str:
        """The statement a batch transaction runs to move its shard's checkpoint forward."""
        ts, seq = position
        return (
            f"UPDATE {self.table} SET commit_ts={int(ts)}, seq={int(seq)},"
            f" kafka_offset=GREATEST(kafka_offset,{int(offset)}), rows_applied=rows_applied+{int(rows)}"
            f" WHERE job={_lit(self.job)} AND shard={int(shard)}"
        )

    def delete_job(self, conn) -> None:
        with conn.cursor() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE job=%s", (self.job,))
        conn.commit()


def _lit(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


__all__ = ["Checkpoints", "MAX_SEQ", "ShardCheckpoint", "ShardCountMismatch", "ensure_meta", "meta_ddl"]
