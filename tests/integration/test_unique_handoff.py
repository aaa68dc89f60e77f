"""The unique-key handoff (replication/unique_handoff.py) against the real MariaDB target.

Two shards of one job write a table with a secondary unique key through their own
connections, in the orders that make the target's unique index collide: the shard that
inserts a value flushes before the shard that releases it (the holder is stale: stolen), and
after the holder's shard already wrote a later image that holds it again (the holder is
ahead: skipped). Each test reads back what the server committed: the final rows, the
handoff rows and the dead letters. Every scenario runs with multi-row INSERT and with LOAD
DATA (whose duplicate rows are only warnings, then written again by the INSERT path).
"""

from __future__ import annotations

import pymysql
import pytest

from tidb2mysql.events import Op, TableSchema
from tidb2mysql.mysql import meta as meta_schema
from tidb2mysql.mysql.session import prepare_session
from tidb2mysql.mysql.target_schema import TargetTables
from tidb2mysql.replication import deadletter
from tidb2mysql.replication.change import Change
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.replication.merge import RowMerger
from tidb2mysql.replication.route import MAX_SEQ, SPREAD_UNIQUE, shard_of_key
from tidb2mysql.replication.unique_handoff import HandoffScope, UniqueHandoffs
from tidb2mysql.replication.writer import BatchWriter, WriteError

from tests.support.stack import run

pytestmark = pytest.mark.integration

JOB = "handoff"
SHARDS = 2


@pytest.fixture(params=["insert", "load"])
def setup(request, target_db, stack_config, admin):
    """A job of 2 shards under ``key-runs-1024-spread-unique`` (meta tables in the test's
    database), the table ``u`` and one writer connection per shard."""
    load = request.param == "load"
    meta_schema.ensure_meta(admin, target_db, meta_schema.REPLICATION)
    cps = Checkpoints(target_db, JOB)
    cps.ensure_shards(admin, SHARDS, (10, MAX_SEQ), routing=SPREAD_UNIQUE)
    run(admin, f"CREATE TABLE `{target_db}`.`u` (id BIGINT PRIMARY KEY, email VARCHAR(50) NOT NULL,"
               " v INT NOT NULL, UNIQUE KEY uk_email (email)) COLLATE utf8mb4_bin")
    schema = TableSchema(target_db, "u", ("id", "email", "v"), ("bigint", "varchar", "int"), pk=(0,),
                         unique_keys=(("PRIMARY", (0,)), ("uk_email", (1,))))
    # one id per shard (runs of 1,024 ids share a shard under key-runs)
    ids: dict[int, int] = {}
    for k in range(64):
        ids.setdefault(shard_of_key(SPREAD_UNIQUE, SHARDS, schema, (k << 10,)), k << 10)
    conns = []
    writers = {}
    for s in range(SHARDS):
        c = pymysql.connect(**stack_config.target.pymysql_kwargs(), local_infile=load)
        prepare_session(c)
        conns.append(c)
        writers[s] = BatchWriter(c, TargetTables(lambda: admin), load_rows=1 if load else 0)
    yield target_db, schema, ids, writers, cps
    for c in conns:
        c.close()


def flush(setup, shard: int, changes: list, end_ts: int, expect_dead: int = 0) -> HandoffScope:
    """One flush of ``shard``: the changes merged, written with its checkpoint moving to
    (end_ts, MAX_SEQ) in the same transaction, as replication/shard.py does."""
    db, _schema, _ids, writers, cps = setup
    m = RowMerger()
    for c in changes:
        m.add(c)
    scope = HandoffScope(UniqueHandoffs(db, JOB, SPREAD_UNIQUE, SHARDS), shard, (end_ts, MAX_SEQ))
    writers[shard].write(m.drain(), [cps.update_sql(shard, (end_ts, MAX_SEQ))], handoff=scope)
    assert scope.counts.dead == expect_dead
    return scope


def same(expected):
    return tuple(sorted(expected))


def rows(admin, db):
    return run(admin, f"SELECT id, email, v FROM `{db}`.`u` ORDER BY id")


def handoffs(admin, db):
    return run(admin, f"SELECT shard, key_text, until_ts, reason, by_shard FROM `{db}`.`unique_handoff` ORDER BY id")


def test_a_value_released_by_a_shard_that_is_behind_is_stolen_and_handed_back(setup, admin):
    db, s, ids, _w, _cps = setup
    h, b = ids[0], ids[1]
    run(admin, f"INSERT INTO `{db}`.`u` VALUES ({h}, 'x', 1)")
    # source: ts 20 h: x -> y (shard 0); ts 30 b inserts x (shard 1). Shard 1 flushes first.
    scope = flush(setup, 1, [Change(30, 0, s, Op.INSERT, (b, "x", 2), None)], 30)
    assert (scope.counts.stolen, scope.counts.skipped) == (1, 0)
    assert rows(admin, db) == same(((b, "x", 2),))  # h is gone until shard 0 writes it
    assert handoffs(admin, db) == ((0, str(h), 30, "stolen", 1),)
    scope = flush(setup, 0, [Change(20, 0, s, Op.UPDATE, (h, "y", 1), (h, "x", 1))], 20)
    assert scope.counts.settled == 1
    assert rows(admin, db) == same(((h, "y", 1), (b, "x", 2)))
    assert handoffs(admin, db) == ()
    assert deadletter.count(admin, db, JOB) == 0


def test_a_value_held_by_a_later_image_of_a_shard_ahead_is_skipped_and_written_later(setup, admin):
    db, s, ids, _w, _cps = setup
    h, b = ids[0], ids[1]
    run(admin, f"INSERT INTO `{db}`.`u` VALUES ({b}, 'x', 1)")
    # source: ts 20 b: x -> z (shard 1); ts 30 h inserts x (shard 0); ts 40 h: x -> w;
    # ts 50 b: z -> x. Shard 1 applies 20 and 50 first; shard 0 then flushes ts 30 alone.
    flush(setup, 1, [Change(20, 0, s, Op.UPDATE, (b, "z", 1), (b, "x", 1)),
                     Change(50, 0, s, Op.UPDATE, (b, "x", 3), (b, "z", 1))], 50)
    scope = flush(setup, 0, [Change(30, 0, s, Op.INSERT, (h, "x", 2), None)], 30)
    assert (scope.counts.stolen, scope.counts.skipped) == (0, 1)
    assert rows(admin, db) == same(((b, "x", 3),))  # b's later image stays; h waits for its own later change
    assert handoffs(admin, db) == ((0, str(h), 50, "skipped", 0),)
    scope = flush(setup, 0, [Change(40, 0, s, Op.UPDATE, (h, "w", 2), (h, "x", 2))], 40)
    assert scope.counts.settled == 1
    assert rows(admin, db) == same(((h, "w", 2), (b, "x", 3)))
    assert handoffs(admin, db) == ()


def test_a_swap_across_shards_in_one_transaction_resolves_in_either_order(setup, admin):
    """Source ts 20 swaps the values of h and b through a temporary one; each shard holds
    one row's final image, and each insert collides with the other's old image."""
    db, s, ids, _w, _cps = setup
    h, b = ids[0], ids[1]
    run(admin, f"INSERT INTO `{db}`.`u` VALUES ({h}, 'p', 1), ({b}, 'q', 2)")
    flush(setup, 0, [Change(20, 0, s, Op.UPDATE, (h, "tmp", 1), (h, "p", 1)),
                     Change(20, 4, s, Op.UPDATE, (h, "q", 1), (h, "tmp", 1))], 20)
    assert rows(admin, db) == same(((h, "q", 1),))  # b's old image was stolen
    flush(setup, 1, [Change(20, 2, s, Op.UPDATE, (b, "p", 2), (b, "q", 2))], 20)
    assert rows(admin, db) == same(((h, "q", 1), (b, "p", 2)))
    assert handoffs(admin, db) == ()


def test_a_stolen_row_its_shard_skips_again_carries_its_debt_to_the_new_handoff(setup, admin):
    """The owner of a stolen row applies its change by the position, but that image collides
    with a holder that is ahead: the insert is skipped again. The steal's handoff is paid by
    the change being applied, and the skip's new handoff carries the debt until the row's
    later change writes it (found in a -w 1 simulator run as two false dead letters)."""
    db, s, ids, _w, _cps = setup
    h, b = ids[0], ids[1]
    g = b + 1  # shard 1 as well
    run(admin, f"INSERT INTO `{db}`.`u` VALUES ({h}, 'a', 1), ({b}, 'c', 2)")
    # source: t20 b: c -> d; t30 h: a -> c; t40 g inserts a; t50 h: c -> e; t60 b: d -> c
    scope = flush(setup, 1, [Change(20, 0, s, Op.UPDATE, (b, "d", 2), (b, "c", 2)),
                             Change(40, 0, s, Op.INSERT, (g, "a", 3), None)], 40)
    assert scope.counts.stolen == 1  # h held 'a' (shard 0 is behind)
    flush(setup, 1, [Change(60, 0, s, Op.UPDATE, (b, "c", 2), (b, "d", 2))], 60)
    scope = flush(setup, 0, [Change(30, 0, s, Op.UPDATE, (h, "c", 1), (h, "a", 1))], 40)
    assert (scope.counts.skipped, scope.counts.settled, scope.counts.dead) == (1, 1, 0)
    assert handoffs(admin, db) == ((0, str(h), 60, "skipped", 0),)
    scope = flush(setup, 0, [Change(50, 0, s, Op.UPDATE, (h, "e", 1), (h, "c", 1))], 60)
    assert scope.counts.settled == 1
    assert rows(admin, db) == same(((h, "e", 1), (b, "c", 2), (g, "a", 3)))
    assert handoffs(admin, db) == () and deadletter.count(admin, db, JOB) == 0


def test_a_handoff_that_is_never_paid_becomes_a_dead_letter(setup, admin):
    """The target's collation is coarser than the source's ('X' and 'x' are one value to
    it): the source holds both, the proofs' premise fails, and the stolen row is not written
    again. When its shard passes the position, the row is a dead letter whose payload puts
    it back; nothing is silently lost."""
    db, s, ids, _w, _cps = setup
    run(admin, f"ALTER TABLE `{db}`.`u` MODIFY email VARCHAR(50) COLLATE utf8mb4_general_ci NOT NULL")
    h, b = ids[0], ids[1]
    run(admin, f"INSERT INTO `{db}`.`u` VALUES ({h}, 'x', 1)")
    flush(setup, 1, [Change(30, 0, s, Op.INSERT, (b, "X", 2), None)], 30)
    assert rows(admin, db) == same(((b, "X", 2),))
    flush(setup, 0, [Change(40, 0, s, Op.INSERT, (h + 1, "other", 5), None)], 40, expect_dead=1)
    assert handoffs(admin, db) == ()
    (kind, table, payload, error), = run(admin, f"SELECT kind, table_name, payload, error FROM `{db}`.`dead_letter`")
    assert (kind, table) == ("unique", "u") and "handoff not paid" in error
    assert payload.decode() == f"INSERT INTO `{db}`.`u` (`id`,`email`,`v`) VALUES ({h},'x',1)"


def test_the_change_by_change_salvage_resolves_a_held_value_too(setup, admin):
    """A batch that keeps failing for another reason (a value the target refuses) is applied
    change by change; a row whose value a stale row of another shard holds is still written
    (the holder stolen and handed off), and only the refused change is dead-lettered."""
    db, s, ids, writers, cps = setup
    h, b = ids[0], ids[1]
    run(admin, f"INSERT INTO `{db}`.`u` VALUES ({h}, 'x', 1)")
    m = RowMerger()
    m.add(Change(30, 0, s, Op.INSERT, (b, "x", 2), None))
    m.add(Change(30, 2, s, Op.INSERT, (b + 1, "y" * 60, 3), None))  # email is VARCHAR(50): refused
    batches = m.drain()
    scope = HandoffScope(UniqueHandoffs(db, JOB, SPREAD_UNIQUE, SHARDS), 1, (30, MAX_SEQ))
    with pytest.raises(WriteError):
        writers[1].write(batches, [cps.update_sql(1, (30, MAX_SEQ))], handoff=scope)
    scope = HandoffScope(UniqueHandoffs(db, JOB, SPREAD_UNIQUE, SHARDS), 1, (30, MAX_SEQ))
    stats, failures = writers[1].write_one_by_one(batches, [cps.update_sql(1, (30, MAX_SEQ))], handoff=scope)
    assert [ch.new[0] for ch, _err in failures] == [b + 1] and failures[0][1].code == 1406
    assert scope.counts.stolen == 1
    assert rows(admin, db) == same(((b, "x", 2),))
    assert handoffs(admin, db) == ((0, str(h), 30, "stolen", 1),)


def test_a_holder_in_the_flushing_shard_itself_is_the_original_error(setup, admin):
    """A row of the same shard holding the value cannot be explained by shard pace (its
    changes are all applied): the target differs from the source, and the batch fails with
    the server's duplicate-key error as without the handoff."""
    db, s, ids, _w, _cps = setup
    h = ids[0]
    run(admin, f"INSERT INTO `{db}`.`u` VALUES ({h}, 'x', 1)")
    with pytest.raises(WriteError) as e:
        flush(setup, 0, [Change(30, 0, s, Op.INSERT, (h + 1, "x", 2), None)], 30)
    assert e.value.code == 1062
    assert rows(admin, db) == same(((h, "x", 1),)) and handoffs(admin, db) == ()
