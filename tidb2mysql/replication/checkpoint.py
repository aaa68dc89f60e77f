"""Shard checkpoints in the target's meta schema (table ``checkpoint``, defined with the
other meta tables in :mod:`tidb2mysql.mysql.meta`).

A checkpoint row ``(job, shard) -> (commit_ts, seq)`` means: every change routed to that
shard at or before that stream position is applied. It is written in the same target
transaction as the batch it covers. Special positions:

* ``(ts, -1)``: the shard reached the DDL barrier at ``ts`` (all its changes before it applied);
* ``(ts, MAX_SEQ)``: all of transaction ``ts`` (and everything before) is applied.

The rows also fix, for the life of the job, what the positions are relative to: the shard
count and the routing rule (replication/route.py) the job was created with. Under another
count or rule a change could move from a shard that is behind to one that is ahead, and be
skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Optional

from tidb2mysql.mysql.sql import literal, quote_ident
from tidb2mysql.replication.route import MAX_SEQ, NEW_JOB_ROUTING, check_routing
from tidb2mysql.replication.change import StreamPos
from tidb2mysql.errors import ConfigurationError



class ShardCountMismatch(ConfigurationError, RuntimeError):
    pass


class RoutingMismatch(ConfigurationError, RuntimeError):
    """The job's checkpoint rows do not name exactly one routing rule this version knows."""


@dataclass(frozen=True)
class ShardCheckpoint:
    shard: int
    commit_ts: int
    seq: int
    kafka_offset: int
    rows_applied: int

    @property
    def position(self) -> StreamPos:
        return (self.commit_ts, self.seq)


class Checkpoints:
    """Reads and writes the checkpoint rows of one job."""

    def __init__(self, meta: str, job: str):
        self.meta = meta
        self.job = job
        self.table = f"{quote_ident(meta)}.`checkpoint`"

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

    def routing(self, conn) -> str:
        """The job's routing rule, as its checkpoint rows (created by :meth:`ensure_shards`) say.

        Raises if the rows are missing (the caller must not guess: under the wrong rule rows
        would be skipped), name different rules, or a rule this version does not know."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT DISTINCT routing FROM {self.table} WHERE job=%s", (self.job,))
            rules = sorted(str(r[0]) for r in cur.fetchall())
        if len(rules) != 1:
            raise RoutingMismatch(
                f"job {self.job!r}: " + (f"its checkpoint rows name several routing rules {rules}" if rules
                                         else "no checkpoint rows to read the routing rule from")
                + f" (table {self.table}); the job's shards cannot be placed safely.")
        try:
            return check_routing(rules[0])
        except ValueError as e:
            raise RoutingMismatch(f"job {self.job!r}: {e} (a newer tidb2mysql created the job?)") from None

    def load(self, conn, shard: int) -> Optional[StreamPos]:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT commit_ts, seq FROM {self.table} WHERE job=%s AND shard=%s", (self.job, shard)
            )
            row = cur.fetchone()
        return (int(row[0]), int(row[1])) if row else None

    def min_position(self, conn, shard_count: int, shards: Optional[Collection[int]] = None) -> Optional[StreamPos]:
        """Lowest position over all shards (or over ``shards``); None unless all those rows exist."""
        cps = self.load_all(conn)
        if shards is not None:
            cps = [c for c in cps if c.shard in shards]
        if len(cps) < (shard_count if shards is None else len(shards)):
            return None
        return min(c.position for c in cps)

    def count_at_or_after(self, conn, position: StreamPos, shards: Optional[Collection[int]] = None) -> int:
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

    def ensure_shards(self, conn, shard_count: int, initial: StreamPos, routing: str = NEW_JOB_ROUTING) -> str:
        """Create the job's shard rows at ``initial`` under ``routing`` (no-op for existing
        rows); returns the job's routing rule: ``routing`` for a new job, the stored one for
        an existing job (a job keeps the rule it was created with).

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
        if stored is not None:  # an existing job keeps its rule (missing rows get it too)
            routing = self.routing(conn)
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT IGNORE INTO {self.table} (job, shard, shard_count, commit_ts, seq, routing)"
                " VALUES (%s,%s,%s,%s,%s,%s)",
                [(self.job, s, shard_count, initial[0], initial[1], check_routing(routing)) for s in range(shard_count)],
            )
        conn.commit()
        # A new job: read back, so two first starts racing with different rules are refused.
        return routing if stored is not None else self.routing(conn)

    def update_sql(self, shard: int, position: StreamPos, offset: int = -1, rows: int = 0) -> str:
        """The statement a batch transaction runs to move its shard's checkpoint forward."""
        ts, seq = position
        return (
            f"UPDATE {self.table} SET commit_ts={int(ts)}, seq={int(seq)},"
            f" kafka_offset=GREATEST(kafka_offset,{int(offset)}), rows_applied=rows_applied+{int(rows)}"
            f" WHERE job={literal(self.job)} AND shard={int(shard)}"
        )

    def delete_job(self, conn) -> None:
        """Forget the job: its checkpoint rows and the unique-key handoffs its shards owe
        (replication/unique_handoff.py; a meta schema of an older release has no such table)."""
        with conn.cursor() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE job=%s", (self.job,))
            cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s"
                        " AND TABLE_NAME='unique_handoff'", (self.meta,))
            if cur.fetchone()[0]:
                cur.execute(f"DELETE FROM {quote_ident(self.meta)}.`unique_handoff` WHERE job=%s", (self.job,))
        conn.commit()


__all__ = ["Checkpoints", "MAX_SEQ", "RoutingMismatch", "ShardCheckpoint", "ShardCountMismatch"]
