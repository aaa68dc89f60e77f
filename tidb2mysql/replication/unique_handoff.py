"""A unique value that moves between rows applied by different shards: the handoff.

Under the routing rule ``key-runs-1024-spread-unique`` (replication/route.py
:func:`~tidb2mysql.replication.route.spreads_unique_table`) a table with an integer primary
key and a secondary unique key is spread over the shards by primary key, like any other
keyed table, instead of being applied whole by one shard. Each shard applies its own rows in
stream order (a batch deletes every key it touches, then plainly INSERTs the final images),
but the shards run at their own pace. So when the value X of a unique key moves from row H
(shard a) to row B (shard b), the target may still hold H's old image with X when shard b
inserts B (a is behind), or shard a may already hold a *later* image of H that has X again
while shard b writes an older image of B (a is ahead).

**The target's unique index is the detector.** The INSERT of B fails with ER_DUP_ENTRY
exactly when some other row holds one of B's values; nothing is tracked while values do not
move (no cost per row: the bench's unique-key workload never pays anything here). On that
error, in b's flush transaction, every holder H of one of B's values is locked
(``SELECT ... FOR UPDATE``) and its shard's checkpoint read after the lock; P is the end
position of b's batch (B's image is its state at P):

* **H's shard is behind P** (checkpoint < P): H is *stale*. Proof: the source's unique index
  holds at P, where B holds X; H's image in the target (its state at that checkpoint) holds X;
  so H changed between that checkpoint and P, and its shard will write H's image then (a
  delete, or delete + insert of its new image). So b deletes H now (it "steals" the value):
  the locks keep shard a from writing H in between, and a's later write of H finds it gone,
  which the replace path does not check.
* **H's shard is at or past P**: H is *ahead*. Proof: if H's last applied change were at or
  before P, H would hold X at P too; so H took X after P, and B released X between P and
  then, which is a later change of B, in b's own stream. So b skips B's insert now (B's old
  image was deleted with the batch's keys) and writes B at that later change.
* **H's shard is b**: cannot happen when the target equals the source (H's earlier changes
  are applied; a change of H in this batch deleted it first): the original error stands, and
  the batch goes the usual way (attempts, then change by change into the dead-letter table).

Every decision is made inside b's transaction, with the batch and b's checkpoint: a crash or
a lost connection anywhere rolls back all of it, and the replay decides again. Nothing is
waited for, so two shards can never wait for each other (InnoDB may pick one of two
transactions that lock each other's rows as a deadlock victim: a transient error, retried).

**Why nothing is silently lost when the proofs' premise fails.** The premise is that the
source enforced the target's unique keys in the target's collation at every position (a
target collation coarser than the source's, or a target changed by hand, break it). Then a
stolen or skipped row could be one that is never written again. So each steal and skip
records a *handoff* in ``<meta>.unique_handoff``, in the same transaction: the shard that
owes the row (a for a steal, b for a skip), the position by which it must write it (P for a
steal, a's checkpoint for a skip), and the statement that restores the row. The owing shard
deletes the handoff in the flush that writes the row; when its checkpoint passes the
position and the row was not written, the handoff becomes a dead letter (kind ``unique``,
payload: the restore statement), counted and reported like any other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

import pymysql

from tidb2mysql import failpoints
from tidb2mysql.mysql.errors import error_code
from tidb2mysql.mysql.sql import quote_ident
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.change import StreamPos
from tidb2mysql.replication.merge import REPLACE_BY_KEY
from tidb2mysql.replication.route import shard_of_key, spreads_unique_table

log = logging.getLogger(__name__)

ER_DUP_ENTRY = 1062
STOLEN, SKIPPED = "stolen", "skipped"
DEAD_LETTER_KIND = "unique"


class Unresolvable(Exception):
    """The conflict is not one the handoff resolves (the target differs from the source, or
    the table cannot be looked up): the caller re-raises the original error."""


@dataclass
class Verdict:
    """What one look at the holders of some rows' unique values found and did."""

    stolen: int = 0  # stale holders deleted (handed off to their shard)
    ahead: list = field(default_factory=list)  # checkpoints of the shards of holders that are ahead


@dataclass
class HandoffCounts:
    stolen: int = 0
    skipped: int = 0
    settled: int = 0  # handoffs this shard paid (it wrote the row)
    dead: int = 0  # handoffs whose position passed without the row: dead letters
    created: set = field(default_factory=set)  # ids of the handoffs this flush recorded (not settled by it)


def decide(holder_shard: int, holder_checkpoint: StreamPos, own_shard: int, end: StreamPos) -> str:
    """``"steal"``, ``"skip"`` or ``"foreign"`` for a holder of one of a batch's unique
    values (module docstring); pure, so every case is unit-tested."""
    if holder_shard == own_shard:
        return "foreign"
    return "steal" if holder_checkpoint < end else "skip"


class UniqueHandoffs:
    """The handoff of one job: resolves a flush's unique-key conflicts and settles the
    handoffs a shard owes. One per shard; stateless between flushes (all state is in the
    target, written in the flush's own transaction)."""

    def __init__(self, meta: str, job: str, routing: str, shard_count: int):
        self.meta, self.job = meta, job
        self.routing, self.shard_count = routing, shard_count
        self.table = f"{quote_ident(meta)}.`unique_handoff`"
        self.checkpoint_table = f"{quote_ident(meta)}.`checkpoint`"

    def applies(self, plan) -> bool:
        """Whether ``plan``'s inserts are resolved here: a replace-mode table the job spreads
        by primary key (a table whose unique key only the target has keeps the old rule: the
        source never enforced it, so the proofs do not hold)."""
        return (plan.mode == REPLACE_BY_KEY and not plan.upgraded
                and spreads_unique_table(self.routing, plan.batch.schema))

    # -- resolving ---------------------------------------------------------------------

    def insert(self, cur, plan, sql: str, rows: Sequence[Any], own: int, end: StreamPos,
               execute: Callable[[str], int], counts: HandoffCounts, failpoint_key=None) -> None:
        """Run the multi-row INSERT ``sql`` of ``rows``; on ER_DUP_ENTRY resolve and finish.

        First every stale holder of the statement's values is stolen and the statement run
        again (the common case: a value moved away from a row of a shard that is behind);
        when a holder is ahead, or the statement still collides, the rows go one by one."""
        first = _collision(execute, sql)
        if first is None:
            return
        try:
            v = self._resolve(cur, plan, rows, own, end, counts)
            if failpoints.ENABLED:
                failpoints.hit("unique.resolved", failpoint_key, cur.connection)
            if not v.ahead and _collision(execute, sql) is None:
                return
            q = plan.sql
            for row in rows:
                self._insert_one(cur, plan, q.insert_one(row), row, own, end, execute, counts)
        except Unresolvable:
            raise first from None

    def _insert_one(self, cur, plan, sql: str, row, own: int, end: StreamPos,
                    execute: Callable[[str], int], counts: HandoffCounts) -> None:
        for _ in range(4):  # a holder another shard committed meanwhile: look again
            if _collision(execute, sql) is None:
                return
            v = self._resolve(cur, plan, [row], own, end, counts)
            if v.ahead:
                # B is written again by its own later change, before the holder's shard's
                # checkpoint (the earliest, when several holders are ahead).
                self._record(cur, own, plan, plan.sql.key_text(_key(plan, row)), min(v.ahead),
                             plan.sql.insert_one(row), SKIPPED, own, counts)
                counts.skipped += 1
                return
        raise Unresolvable()

    def _resolve(self, cur, plan, rows: Sequence[Any], own: int, end: StreamPos,
                 counts: HandoffCounts) -> Verdict:
        q = plan.sql
        target = q.target
        keys = [cols for _, cols in target.secondary_unique_keys] if target is not None else []
        lookup = q.unique_holders(rows, keys) if keys else None
        if lookup is None:
            raise Unresolvable()
        cur.execute(lookup)
        names = [d[0] for d in cur.description]
        holders = cur.fetchall()
        v = Verdict()
        if not holders:
            return v  # the holder went away meanwhile (its shard wrote it): try again
        lower = [n.lower() for n in names]
        schema = plan.batch.schema
        try:
            pk_at = [lower.index(schema.columns[i].lower()) for i in schema.pk]
        except ValueError:
            raise Unresolvable() from None
        placed = []
        for h in holders:
            key = tuple(h[i] for i in pk_at)
            if not all(k.__class__ is int for k in key):
                raise Unresolvable()
            placed.append((h, key, shard_of_key(self.routing, self.shard_count, schema, key)))
        checkpoints = self._checkpoints(cur, {s for _, _, s in placed})
        for h, key, s in placed:
            cp = checkpoints.get(s)
            if cp is None:
                raise Unresolvable()
            verdict = decide(s, cp, own, end)
            if verdict == "foreign":
                raise Unresolvable()
            if verdict == "skip":
                v.ahead.append(cp)
                continue
            key_text = q.key_text(key)
            cur.execute(q.delete_key_one(key))
            self._record(cur, s, plan, key_text, end, q.insert_target_row(names, h), STOLEN, own, counts)
            v.stolen += 1
            counts.stolen += 1
        return v

    def _checkpoints(self, cur, shards) -> dict[int, StreamPos]:
        """The checkpoints of ``shards``, read *after* the holders were locked, as committed
        now. Under READ COMMITTED (the apply sessions' level, mysql/session.py) a plain
        SELECT reads exactly that. Under REPEATABLE READ it would read the transaction's
        snapshot, so there it is a locking read, which also holds those shards' next commit
        until this flush commits (and two flushes that each lock the other's checkpoint
        deadlock: a transient error, retried)."""
        lock = "" if getattr(cur.connection, "_t2m_isolation", "") == "READ COMMITTED" else " LOCK IN SHARE MODE"
        cur.execute(f"SELECT shard, commit_ts, seq FROM {self.checkpoint_table} WHERE job=%s AND shard IN ("
                    + ",".join(str(int(s)) for s in sorted(shards)) + ")" + lock, (self.job,))
        return {int(s): (int(ts), int(seq)) for s, ts, seq in cur.fetchall()}

    def _record(self, cur, owner: int, plan, key_text: str, until: StreamPos, restore: str, reason: str,
                by: int, counts: HandoffCounts) -> None:
        cur.execute(
            f"INSERT INTO {self.table} (job, shard, table_name, key_text, until_ts, until_seq, restore_sql, reason,"
            " by_shard) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            (self.job, owner, plan.table, key_text, until[0], until[1], restore, reason, by))
        counts.created.add(cur.lastrowid)
        log.debug("table %s: row %s %s by shard %d, owed by shard %d by %s", plan.table, key_text, reason, by, owner, until)

    # -- settling ------------------------------------------------------------------------

    def settle(self, cur, plans: Sequence[Any], own: int, end: StreamPos, counts: HandoffCounts) -> None:
        """The handoffs shard ``own`` owes: paid when this flush writes the row (any change
        of its key, in ``plans``), dead letters when ``end`` passed their position without it.
        Runs after the flush's row statements (a steal committed meanwhile is seen: writing
        its row waited for the stealing transaction's lock) and before its checkpoint."""
        cur.execute(
            f"SELECT id, table_name, key_text, until_ts, until_seq, restore_sql, reason, by_shard FROM {self.table}"
            " WHERE job=%s AND shard=%s", (self.job, own))
        owed = cur.fetchall()
        if not owed:
            return
        touched: dict[str, set] = {}
        for p in plans:
            if p.mode == REPLACE_BY_KEY and p.delete_keys:
                touched.setdefault(p.table, set()).update(p.sql.key_text(k) for k in p.delete_keys)
        insert = deadletter.insert_sql(self.meta)
        for hid, table, key_text, until_ts, until_seq, restore, reason, by in owed:
            if hid in counts.created:
                continue  # recorded by this flush (a skip: its row is written by a later one)
            if key_text in touched.get(table, ()):
                # Written here, or applied here and skipped again (then the skip's own handoff,
                # recorded by this flush, carries the debt on).
                counts.settled += 1
            elif (int(until_ts), int(until_seq)) <= end:
                schema_name, _, table_name = str(table).partition(".")
                err = (f"table {table}: unique-key handoff not paid: row {key_text} was {reason} by shard {by}"
                       f" (a value of a unique key moved between rows), and shard {own} passed"
                       f" commit_ts {until_ts} without writing it again. The target's unique keys or"
                       " collations differ from the source's, or the target was changed; the payload is"
                       " the statement that puts the row back")
                restore_b = restore.encode("utf-8", "surrogatepass") if isinstance(restore, str) else restore
                cur.execute(insert, deadletter.params(self.job, deadletter.DeadLetter(
                    DEAD_LETTER_KIND, err, restore_b, offset=int(hid), commit_ts=int(until_ts), seq=int(until_seq),
                    schema=schema_name, table=table_name)))
                log.error("dead letter (%s) %s", DEAD_LETTER_KIND, err)
                counts.dead += 1
            else:
                continue
            cur.execute(f"DELETE FROM {self.table} WHERE id=%s", (hid,))

    def owed(self, conn, own: int) -> int:
        """How many handoffs shard ``own`` owes (a cheap look before a checkpoint-only write)."""
        with conn.cursor() as cur:
            cur.execute(f"SELECT COUNT(*) FROM {self.table} WHERE job=%s AND shard=%s", (self.job, own))
            return int(cur.fetchone()[0])


@dataclass
class HandoffScope:
    """The handoff as one flush of one shard sees it: the writer's single entry point."""

    handoffs: UniqueHandoffs
    own: int  # the flushing shard
    end: StreamPos  # the position its checkpoint moves to with this flush
    counts: HandoffCounts = field(default_factory=HandoffCounts)

    def applies(self, plan) -> bool:
        return self.handoffs.applies(plan)

    def insert(self, cur, plan, sql: str, rows: Sequence[Any], execute: Callable[[str], int]) -> None:
        # failpoint key: the flush's end commit_ts, so a test walks through successive flushes
        self.handoffs.insert(cur, plan, sql, rows, self.own, self.end, execute, self.counts, self.end[0])

    def settle(self, cur, plans: Sequence[Any]) -> None:
        self.handoffs.settle(cur, plans, self.own, self.end, self.counts)


def _collision(execute: Callable[[str], int], sql: str) -> Optional[Exception]:
    """Run ``sql``: None when it ran, its ER_DUP_ENTRY error when a unique value collided
    (InnoDB undid that statement only); any other error is raised."""
    try:
        execute(sql)
        return None
    except pymysql.err.IntegrityError as e:
        if error_code(e) != ER_DUP_ENTRY:
            raise
        return e


def _key(plan, row) -> tuple:
    return tuple(row[i] for i in plan.batch.schema.pk)


__all__ = ["DEAD_LETTER_KIND", "HandoffCounts", "HandoffScope", "UniqueHandoffs", "Unresolvable", "decide"]
