"""The oracle is self-consistent: simulator messages, replayed plainly, rebuild the source.

The whole project is judged by "after replication the target equals the source". That only
means something if the simulator's Drainer messages describe exactly what it did to the
source. So: run the simulator (DML + interleaved DDL, redeliveries, edge values), read the
topic from the beginning, decode every message, drop redeliveries (commit_ts not above the
last one seen, as Drainer's at-least-once delivery requires), apply the rest one by one with
the deliberately simple reference applier to EMPTY databases of the same names on the
target server, and compare source and target with ``tidb2mysql.compare``: they must be equal.
A last step breaks one target row and checks that the comparison notices, so a comparison
that always says "equal" cannot pass this test.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import time
from decimal import Decimal

import pytest

from tidb2mysql.compare import compare_databases
from tidb2mysql.events import DDL, Op, KafkaPosition, RowChange, TableChanges, TableSchema, Txn
from tests.support import stack
from tests.support.reference_applier import ReferenceApplyError, apply_events

pytestmark = pytest.mark.integration

TXNS = 500


def read_topic(cfg, topic: str, decoder) -> list[Txn | DDL]:
    """Every message of partition 0 from the beginning to the current end, decoded."""
    return [decoder.decode(m.value(), KafkaPosition(topic, 0, m.offset()))
            for m in stack.read_partition(cfg.kafka, topic, 0)]


def drop_redeliveries(events: list[Txn | DDL]) -> tuple[list[Txn | DDL], int]:
    kept, last, dropped = [], -1, 0
    for e in events:
        if e.commit_ts <= last:
            dropped += 1
            continue
        last = e.commit_ts
        kept.append(e)
    return kept, dropped


DATABASE_DDL = re.compile(r"^\s*(create|drop)\s+(database|schema)\b", re.IGNORECASE)


def database_exists(conn, name: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
        return cur.fetchone() is not None


def drop_databases(endpoint, names) -> None:
    with stack.connect(endpoint) as conn, conn.cursor() as cur:
        for name in names:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.mark.parametrize("seed", [101, 202, 303])
def test_reference_replay_rebuilds_the_source(stack_config, kafka_topic, seed):
    # Imported here so that the reference-applier tests below do not depend on them.
    from tidb2mysql.drainer.decode import Decoder
    from tidb2mysql.simulator import SimulatorOptions, run_simulation

    cfg = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=kafka_topic))
    databases = [stack.unique_name(f"oracle_{seed}_{i}") for i in range(2)]
    cleanup = set(databases)
    drop_databases(cfg.target, databases)
    try:
        t0 = time.monotonic()
        summary = run_simulation(cfg, SimulatorOptions(
            seed=seed, txns=TXNS, databases=databases, tables=3, ddl_every=25,
            redeliver=0.02, edge_values=0.2,
        ))
        cleanup.update(summary.databases)
        t_sim = time.monotonic() - t0
        assert summary.txns == TXNS and summary.ddls >= TXNS // 25 // 2, summary

        events = read_topic(cfg, kafka_topic, Decoder(cfg.drainer.time_zone))
        assert len(events) == summary.messages
        events, dropped = drop_redeliveries(events)
        assert dropped == summary.redelivered
        assert len(events) == summary.txns + summary.ddls
        assert sum(isinstance(e, DDL) for e in events) == summary.ddls

        # The stream recreates the databases itself (CREATE DATABASE messages).
        drop_databases(cfg.target, cleanup)
        t1 = time.monotonic()
        target = stack.connect(cfg.target)
        source = stack.connect(cfg.source)
        try:
            assert apply_events(target, events) == len(events)
            t_apply = time.monotonic() - t1
            t2 = time.monotonic()
            # Every database the run touched: its own, and any its DDL created or dropped.
            touched = set(summary.databases) | {
                e.schema for e in events if isinstance(e, DDL) and DATABASE_DDL.match(e.query)}
            cleanup.update(touched)
            compared_rows, compared_tables = 0, set()
            for name in sorted(touched):
                exists = (database_exists(source, name), database_exists(target, name))
                assert exists[0] == exists[1], f"seed {seed}: database {name} exists in source/target: {exists}"
                if not exists[0]:
                    continue
                result = compare_databases(source, name, target, name)
                assert result.equal, f"seed {seed}, database {name}:\n{result}"
                compared_rows += sum(t.rows_a for t in result.tables)
                compared_tables.update(t.table_a for t in result.tables if t.rows_a)
            t_cmp = time.monotonic() - t2
            # the special tables (every type, no key, generated column, ...) held rows
            assert {"all_types", "nokey", "ukonly", "gen", "uniq", "composite"} <= compared_tables, compared_tables
            print(f"\nseed {seed}: {summary.messages} messages ({summary.txns} txns, {summary.ddls} DDL, "
                  f"{summary.redelivered} redelivered), {summary.rows} row changes; simulate {t_sim:.1f}s, "
                  f"apply {t_apply:.1f}s, compare {compared_rows} rows in {len(compared_tables)} non-empty tables "
                  f"{t_cmp:.2f}s")

            # Negative control: one changed target row must make the comparison fail.
            name, table = next((d, t.table_a) for d in summary.databases
                               for t in compare_databases(source, d, target, d).tables if t.rows_b)
            with target.cursor() as cur:
                cur.execute(f"DELETE FROM `{name}`.`{table}` LIMIT 1")
            broken = compare_databases(source, name, target, name)
            assert not broken.equal and "only in source" in str(broken)
        finally:
            target.close()
            source.close()
    finally:
        drop_databases(cfg.target, cleanup)
        drop_databases(cfg.source, cleanup)


# ----------------------------------------------------------------------------- the applier itself
# The oracle test above trusts the reference applier; these pin down what it does with
# hand-made events on the real target, independent of the simulator.


def _schema(db, table, columns, types, pk=()):
    return TableSchema(db, table, tuple(columns), tuple(types), pk=tuple(pk))


def _rows(conn, sql):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


def test_reference_applier_rows_and_ddl(target_conn, target_db):
    db = target_db
    cols = ("id", "e", "st", "b", "tm", "dt", "d", "g")
    typ = ("int", "enum", "set", "bit", "time", "datetime", "decimal", "int")
    s = _schema(db, "t", cols, typ, pk=[0])
    k = _schema(db, "k", ("a", "s"), ("int", "varchar"))
    events = [
        DDL(1, db, "t", "create table t (id int primary key /*T![clustered_index] CLUSTERED */, "
            "e enum('x','y','z'), st set('p','q','r'), b bit(10), tm time(6), dt datetime, "
            "d decimal(10,2), g int as (id * 10) virtual) /*T! SHARD_ROW_ID_BITS=4 */ "
            "/*!90000 SHARD_ROW_ID_BITS=4 PRE_SPLIT_REGIONS=2 */"),
        DDL(2, db, "k", "CREATE TABLE k (a int, s varchar(10))"),
        DDL(3, db, "gone1", "CREATE TABLE gone1 (a int)"),
        DDL(4, db, "gone2", "CREATE TABLE gone2 (a int)"),
        Txn(5, [TableChanges(s, [
            # generated column g carries a bogus value (Drainer's insert trap): never written
            RowChange(Op.INSERT, (1, 2, 0b101, 1023, datetime.timedelta(seconds=-1),
                                  "0000-00-00 00:00:00", Decimal("1.50"), 0), None),
            RowChange(Op.INSERT, (2, 0, 0, 0, datetime.timedelta(hours=838), None, None, 0), None),
        ]), TableChanges(k, [
            RowChange(Op.INSERT, (1, "a"), None), RowChange(Op.INSERT, (1, "a"), None),
            RowChange(Op.INSERT, (None, None), None),
        ])]),
        Txn(6, [TableChanges(s, [
            # update matched by primary key from the old image; also changes the key
            RowChange(Op.UPDATE, (3, 3, 0b110, 1, datetime.timedelta(microseconds=5),
                                  datetime.datetime(2024, 1, 2, 3, 4, 5), Decimal("-2.25"), None),
                      (1, 2, 0b101, 1023, datetime.timedelta(seconds=-1), "0000-00-00 00:00:00",
                       Decimal("1.50"), None)),
            RowChange(Op.DELETE, None, (2, 0, 0, 0, datetime.timedelta(hours=838), None, None, 20)),
        ]), TableChanges(k, [
            # key-less: one of two identical rows, matched with <=> (NULLs too)
            RowChange(Op.UPDATE, (1, "b"), (1, "a")),
            RowChange(Op.DELETE, None, (None, None)),
        ])]),
        # Drainer sends `DROP TABLE a, b` once per table, both with the full text
        DDL(7, db, "gone1", "drop table gone1, gone2"),
        DDL(8, db, "gone2", "drop table gone1, gone2"),
    ]
    assert apply_events(target_conn, events) == len(events)
    assert _rows(target_conn, f"SELECT id, e, st, b, tm, dt, d, g FROM `{db}`.t") == (
        (3, "z", "q,r", b"\x00\x01", datetime.timedelta(microseconds=5),
         datetime.datetime(2024, 1, 2, 3, 4, 5), Decimal("-2.25"), 30),)
    assert sorted(_rows(target_conn, f"SELECT a, s FROM `{db}`.k")) == [(1, "a"), (1, "b")]
    assert _rows(target_conn, f"SHOW TABLES FROM `{db}`") == (("k",), ("t",))


def test_reference_applier_zero_date_negative_time_enum_zero(target_conn, target_db):
    db = target_db
    s = _schema(db, "z", ("id", "da", "tm", "e"), ("int", "date", "time", "enum"), pk=[0])
    apply_events(target_conn, [
        DDL(1, db, "z", "CREATE TABLE z (id int primary key, da date, tm time(6), e enum('a','b'))"),
        Txn(2, [TableChanges(s, [RowChange(Op.INSERT, (1, "2020-00-00", datetime.timedelta(seconds=-1.5), 0), None)])]),
    ])
    assert _rows(target_conn, f"SELECT CAST(da AS CHAR), CAST(tm AS CHAR), e + 0, e FROM `{db}`.z") == (
        ("2020-00-00", "-00:00:01.500000", 0, ""),)


def test_reference_applier_refuses_a_change_that_matches_nothing(target_conn, target_db):
    db = target_db
    s = _schema(db, "t", ("id", "v"), ("int", "int"), pk=[0])
    apply_events(target_conn, [DDL(1, db, "t", "CREATE TABLE t (id int primary key, v int)"),
                               Txn(2, [TableChanges(s, [RowChange(Op.INSERT, (1, 1), None)])])])
    missing_update = Txn(3, [TableChanges(s, [
        RowChange(Op.UPDATE, (1, 5), (1, 1)),          # applied, then rolled back
        RowChange(Op.UPDATE, (9, 9), (8, 8)),          # no row 8
    ])], position=KafkaPosition("topic_x", 0, 42))
    with pytest.raises(ReferenceApplyError, match=r"commit_ts 3 at topic 'topic_x' partition 0 offset 42.*"
                                                  r"t.*change #1 \(UPDATE\): no row matches.*'id': 8"):
        apply_events(target_conn, [missing_update])
    assert _rows(target_conn, f"SELECT id, v FROM `{db}`.t") == ((1, 1),)  # whole txn rolled back
    with pytest.raises(ReferenceApplyError, match="DELETE"):
        apply_events(target_conn, [Txn(4, [TableChanges(s, [RowChange(Op.DELETE, None, (7, 7))])])])
    # not strict, but a server warning (out of range) is an error and rolls back
    with pytest.raises(ReferenceApplyError, match="change #0 \\(UPDATE\\): the server warned: 1264"):
        apply_events(target_conn, [Txn(6, [TableChanges(s, [RowChange(Op.UPDATE, (1, 2**40), (1, 1))])])])
    assert _rows(target_conn, f"SELECT id, v FROM `{db}`.t") == ((1, 1),)
    with pytest.raises(ReferenceApplyError, match="DDL commit_ts 5"):
        apply_events(target_conn, [DDL(5, db, "t", "ALTER TABLE nope ADD COLUMN x int")])
