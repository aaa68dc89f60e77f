"""The benchmark tables and workloads, published as real Drainer messages.

The OLTP table is the issue's typical table (the simulator's ``oltp_N`` shape): BIGINT PK,
INT, BIGINT, VARCHAR(64), VARCHAR(255), DECIMAL(12,2), DATETIME(6), DOUBLE, TEXT, TINYINT,
about 250 bytes of payload per row. Transactions are encoded with
:func:`tidb2mysql.drainer.encode.encode_txn` (byte-for-byte what Drainer writes) and
produced straight to a fresh topic: that is the fastest honest way to pre-fill millions of
rows, because the flow and the ceiling then read exactly what they would read from Drainer.

Workloads (each a deterministic function of its seed):

* ``insert``  inserts only, 10 rows per transaction, one OLTP table;
* ``mix``     60 % insert / 30 % update / 10 % delete, 10 rows per transaction;
* ``tables16`` the same mix over 16 OLTP tables, transactions of 1 to 20 rows;
* ``uk``      the mix on a table with a secondary unique key (the flow applies DELETE + INSERT,
              never ON DUPLICATE KEY UPDATE; under the default routing its rows spread over the
              shards by primary key, under ``key-runs-1024`` the whole table goes to one shard).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Iterator

from confluent_kafka import Producer

from bench import env

from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema, Txn, make_tso
from tidb2mysql.kafka_settings import producer_config

COLUMNS = ("id", "k", "c_big", "name", "title", "amount", "updated", "score", "body", "flag")
TYPES = ("bigint", "int", "bigint", "varchar", "varchar", "decimal", "datetime", "double", "text", "tinyint")
FLEN = (20, 11, 20, 64, 255, 12, 26, 22, 65535, 4)
DEC = (0, 0, 0, 0, 0, 2, 6, -1, 0, 0)
BODY = """CREATE TABLE `{name}` (
  id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, c_big BIGINT, name VARCHAR(64), title VARCHAR(255),
  amount DECIMAL(12,2), updated DATETIME(6), score DOUBLE, body TEXT, flag TINYINT{extra}
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""


def oltp_schema(db: str, name: str, unique_key: bool = False) -> TableSchema:
    if unique_key:
        return TableSchema(db, name, COLUMNS + ("uk",), TYPES + ("bigint",), FLEN + (20,), DEC + (0,),
                           pk=(0,), unique_keys=(("PRIMARY", (0,)), ("uk_uk", (10,))))
    return TableSchema(db, name, COLUMNS, TYPES, FLEN, DEC, pk=(0,), unique_keys=(("PRIMARY", (0,)),))


def create_sql(schema: TableSchema) -> str:
    extra = ", uk BIGINT NOT NULL, UNIQUE KEY uk_uk (uk)" if len(schema.columns) == 11 else ""
    return BODY.format(name=schema.table, extra=extra)


_TITLE = "some title for a benchmark row, about eighty characters long, number "
_BODY = ("lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " * 2)[:100]
_QUOTED = "it's a title with a quote and a backslash \\ in it, about eighty characters, row "


def row(pk: int, version: int, unique_key: bool = False) -> tuple:
    """One row image; ``version`` changes every non-key column (a real update). Every 50th
    title has a quote and a backslash, so the escaping slow path is exercised."""
    v = pk * 31 + version * 7
    r = (
        pk, v % 2_000_000, pk * 1_000_003 + version, f"name-{pk}-{version}",
        (_QUOTED if pk % 50 == 0 else _TITLE) + str(v),
        Decimal(f"{v % 9_999_999}.{v % 100:02d}"), datetime(2024, 5, 6, 7, v % 60, v % 60, v % 1_000_000),
        v / 7.0, _BODY, v % 128,
    )
    if unique_key:
        return r + (pk * 100_000 + version,)  # unique across every image ever generated
    return r


@dataclass
class Workload:
    name: str
    describe: str
    tables: list[TableSchema]
    rows: int  # row changes in the stream
    txn_rows: int = 10  # rows per transaction (tables16: random 1-20)
    txns: int = 0  # filled by publish()


def make_workload(name: str, db: str, rows: int) -> Workload:
    if name == "insert":
        return Workload(name, "inserts only, 10 rows/txn, OLTP table", [oltp_schema(db, "oltp")], rows)
    if name == "mix":
        return Workload(name, "60% insert / 30% update / 10% delete, 10 rows/txn, OLTP table",
                        [oltp_schema(db, "oltp")], rows)
    if name == "tables16":
        return Workload(name, "16 OLTP tables, 60/30/10 mix, txns of 1-20 rows",
                        [oltp_schema(db, f"oltp_{i}") for i in range(16)], rows)
    if name == "uk":
        return Workload(name, "OLTP table + secondary UNIQUE KEY, 60/30/10 mix, 10 rows/txn",
                        [oltp_schema(db, "oltp_uk", unique_key=True)], rows)
    if name == "insert_bigtxn":
        return Workload(name, "inserts only, 50,000 rows/txn (sliced large messages), OLTP table",
                        [oltp_schema(db, "oltp")], rows, txn_rows=50_000)
    raise ValueError(f"unknown workload {name!r}")


WORKLOADS = ("insert", "mix", "tables16", "uk")


class _Keys:
    """Live primary keys of one table, for picking update/delete victims in O(1)."""

    def __init__(self):
        self.live: list[int] = []
        self.version: dict[int, int] = {}
        self.next_pk = 1


def transactions(w: Workload, seed: int = 1, start_ms: int | None = None) -> Iterator[Txn]:
    """The workload's transactions, commit_ts strictly increasing (logical part counts up)."""
    rnd = random.Random(seed)
    keys = [_Keys() for _ in w.tables]
    physical = start_ms if start_ms is not None else int(time.time() * 1000) - 3_600_000
    logical = 0
    left = w.rows
    mixed = not w.name.startswith("insert")
    while left > 0:
        n = min(left, rnd.randint(1, 20) if w.name == "tables16" else w.txn_rows)
        ti = rnd.randrange(len(w.tables)) if len(w.tables) > 1 else 0
        schema, k = w.tables[ti], keys[ti]
        uk = len(schema.columns) == 11
        changes = []
        touched: set[int] = set()
        for _ in range(n):
            p = rnd.random() if mixed else 0.0
            if p < 0.6 or len(k.live) < 100:
                pk = k.next_pk
                k.next_pk += 1
                k.live.append(pk)
                k.version[pk] = 0
                changes.append(RowChange(Op.INSERT, row(pk, 0, uk), None))
                touched.add(pk)
                continue
            i = rnd.randrange(len(k.live))
            pk = k.live[i]
            if pk in touched:  # keep each transaction's images simple: one change per key
                pk = k.next_pk
                k.next_pk += 1
                k.live.append(pk)
                k.version[pk] = 0
                changes.append(RowChange(Op.INSERT, row(pk, 0, uk), None))
                touched.add(pk)
                continue
            touched.add(pk)
            ver = k.version[pk]
            if p < 0.9:
                k.version[pk] = ver + 1
                changes.append(RowChange(Op.UPDATE, row(pk, ver + 1, uk), row(pk, ver, uk)))
            else:
                k.live[i] = k.live[-1]
                k.live.pop()
                del k.version[pk]
                changes.append(RowChange(Op.DELETE, None, row(pk, ver, uk)))
        logical += 1
        if logical >= (1 << 18):
            physical, logical = physical + 1, 0
        yield Txn(make_tso(physical, logical), [TableChanges(schema, changes)])
        left -= n


def producer(cfg) -> Producer:
    """The bench's producer. Idempotent, like the simulator's: a retried request must not put
    a later message of the partition before an earlier one (librdkafka's default allows up to
    1,000,000 requests in flight, so a retry can reorder), and the stream must be exactly the
    one the generator produced, as Drainer's and TiCDC's ordered producers deliver it."""
    return Producer(producer_config(cfg.kafka, **{"linger.ms": 20, "batch.size": 4_000_000,
                                                   "queue.buffering.max.messages": 1_000_000,
                                                   "enable.idempotence": True}))


def publish(cfg, topic: str, w: Workload, seed: int = 1) -> tuple[int, int]:
    """Encode and produce the whole workload; returns (last commit_ts, messages)."""
    p = producer(cfg)
    errors: list = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(err)

    last = 0
    n = 0
    for txn in transactions(w, seed):
        value = encode_txn(txn, "UTC")
        while True:
            try:
                p.produce(topic, value, partition=0, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
        last = txn.commit_ts
        n += 1
    if p.flush(120) != 0 or errors:
        raise RuntimeError(f"bench: producing {w.name} to {topic} failed: {errors[:3]}")
    w.txns = n
    return last, n


def create_tables(conn, w: Workload) -> None:
    with conn.cursor() as cur:
        for s in w.tables:
            cur.execute(f"DROP TABLE IF EXISTS `{s.schema}`.`{s.table}`")
            cur.execute(f"USE `{s.schema}`")
            cur.execute(create_sql(s))


def checksum(cfg, w: Workload) -> tuple:
    """CHECKSUM TABLE of the workload's tables and their total row count (target equality)."""
    conn = env.target(cfg)
    try:
        with conn.cursor() as cur:
            cur.execute("CHECKSUM TABLE " + ", ".join(f"`{s.schema}`.`{s.table}`" for s in w.tables))
            sums = tuple(r[1] for r in cur.fetchall())
            counts = []
            for s in w.tables:
                cur.execute(f"SELECT COUNT(*) FROM `{s.schema}`.`{s.table}`")
                counts.append(cur.fetchone()[0])
        return sums + (sum(counts),)
    finally:
        conn.close()


def expected_names(w: Workload, seed: int = 1) -> list[dict[int, str]]:
    """The oracle: per table, primary key -> ``name`` of its final image (the name carries the
    row's version, so a stale row shows), from the generator itself, not from any flow."""
    out: list[dict[int, str]] = [{} for _ in w.tables]
    index = {(s.schema, s.table): i for i, s in enumerate(w.tables)}
    for txn in transactions(w, seed):
        for tc in txn.tables:
            rows = out[index[(tc.schema.schema, tc.schema.table)]]
            for rc in tc.rows:
                if rc.new is None:
                    rows.pop(rc.old[0], None)
                else:
                    rows[rc.new[0]] = rc.new[3]
    return out


def divergence(cfg, w: Workload, want: list[dict[int, str]], limit: int = 10) -> dict:
    """How the target's tables differ from the oracle ``want`` (:func:`expected_names`): per
    table that differs, the counts and the first ``limit`` missing, extra and stale primary
    keys; {} when equal. Checked after every run, so a report says which run lost what."""
    out: dict = {}
    conn = env.target(cfg)
    try:
        with conn.cursor() as cur:
            for s, exp in zip(w.tables, want):
                cur.execute(f"SELECT id, name FROM `{s.schema}`.`{s.table}`")
                got = dict(cur.fetchall())
                missing = sorted(set(exp) - set(got))
                extra = sorted(set(got) - set(exp))
                stale = sorted(k for k in set(exp) & set(got) if got[k] != exp[k])
                if missing or extra or stale:
                    out[s.table] = {"missing": len(missing), "extra": len(extra), "stale": len(stale),
                                    "first_missing": missing[:limit], "first_extra": extra[:limit],
                                    "first_stale": [(k, got[k], exp[k]) for k in stale[:limit]]}
    finally:
        conn.close()
    return out


def check_run(cfg, w: Workload, want: list[dict[int, str]], run: str, out: dict, log) -> None:
    """After one run of a workload: its target's checksum under ``out["checksums"][run]`` and,
    if it differs from the oracle ``want``, how (:func:`divergence`) under
    ``out["divergence"][run]``; :func:`runs_equal` then says whether every run was right."""
    out.setdefault("checksums", {})[run] = checksum(cfg, w)
    d = divergence(cfg, w, want)
    if d:
        out.setdefault("divergence", {})[run] = d
        log(f"{w.name} {run}: the target differs from the generator's final state: {d}")


def runs_equal(out: dict) -> bool:
    """Every run checked by :func:`check_run` left the same tables, the generator's final state."""
    return len(set(out.get("checksums", {}).values())) == 1 and not out.get("divergence")


def fresh_tables(cfg, w: Workload) -> None:
    """(Re)create the workload's tables, empty, in the target."""
    conn = env.target(cfg)
    try:
        create_tables(conn, w)
    finally:
        conn.close()
