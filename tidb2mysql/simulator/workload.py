"""The simulated TiDB workload: run it on the source, publish Drainer messages for it (or, with
``output``, TiCDC's canal-json / open-protocol messages: ``simulator/ticdc.py``).

Row images are read back from the source inside each transaction (``SELECT ... FOR UPDATE``
before a change, ``SELECT`` after it), so a message always describes what the source holds,
whatever the server did to the value (rounding a FLOAT, trimming a CHAR, clipping a
TIMESTAMP, an AUTO_RANDOM key TiDB chose). Commit TSOs and DDL jobs come from the source
(``simulator/source.py``): on a real TiDB, the commit_ts TiDB assigned and the DDL jobs TiDB
recorded; on the MariaDB stand-in, our own TSO clock, recorded in ``_tidb2mysql_sim.tso``
inside each transaction (never published) so a consistent snapshot knows which commit_ts it
contains - the stand-in's full-load hand-over.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tidb2mysql.mysql import db
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.events import DDL, Op, RowChange, TableChanges, Txn
from tidb2mysql.kafka_settings import admin_config, producer_config
from tidb2mysql.mysql.sql import literal, quote_ident
from tidb2mysql.simulator.catalog import TableMeta, read_table
from tidb2mysql.simulator.source import DDLJob, make_source
from tidb2mysql.simulator.ticdc import TiCDCOptions, TiCDCPublisher
from tidb2mysql.simulator.values import bogus_generated_value, random_value, to_native

log = logging.getLogger(__name__)

SESSION_SQL_MODE = "NO_ENGINE_SUBSTITUTION"  # zero dates allowed, as TiDB allows them without strict mode
TIDB_TABLE_SUFFIX = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"


@dataclass
class SimulatorOptions:
    seed: int = 1
    txns: int = 1000  # DML transactions; 0 = run for duration_s
    duration_s: float = 0.0
    rate: float = 0.0  # transactions per second; 0 = as fast as possible
    databases: list = field(default_factory=list)  # default: ["sim_<seed>"]
    tables: int = 4  # generic OLTP tables per database (plus the special tables)
    row_width: int = 100  # bytes of TEXT payload
    txn_rows: tuple = (1, 8)
    mix: dict = field(default_factory=lambda: {"insert": 5.0, "update": 3.0, "delete": 1.0,
                                               "pk_update": 0.5, "uk_swap": 0.5})
    ddl_every: int = 0  # about one DDL per N transactions; 0 = none
    edge_values: float = 0.05  # probability of an edge value per column
    redeliver: float = 0.0  # per message: probability of a "Drainer restart" re-sending 1..20 messages
    drop_existing: bool = True
    setup_only: bool = False
    special_tables: bool = True  # all_types, composite, uniq, nokey, ukonly, gen (+ autorand on TiDB)
    # "tidb": a real TiDB gives commit TSOs and DDL jobs; "mariadb": the stand-in; "auto": by VERSION()
    source: str = "auto"
    # Called before each transaction; True ends the run early (a test stops the workload once
    # what it waits for has happened, instead of guessing a duration).
    should_stop: Optional[Callable[[], bool]] = None
    # What to publish: "drainer", "ticdc-canal-json", "ticdc-open-protocol"; "" = the config's
    # [input] format (so the flow reading the same config reads what is published).
    output: str = ""
    # TiCDC only (simulator/ticdc.py): partitions of a topic the simulator creates (an
    # existing topic keeps its count, as TiCDC does), the partition dispatcher, a watermark on
    # every partition after every N transactions and/or every M ms, open-protocol batch size.
    partitions: int = 1
    dispatcher: str = "table"
    watermark_every: int = 1
    watermark_ms: float = 0.0
    batch_size: int = 16


@dataclass
class SimulationSummary:
    first_commit_ts: int = 0
    last_commit_ts: int = 0
    messages: int = 0  # published, including redeliveries
    txns: int = 0
    ddls: int = 0
    rows: int = 0
    redelivered: int = 0
    databases: list = field(default_factory=list)
    tables: list = field(default_factory=list)  # qualified names existing at the end
    seconds: float = 0.0
    output: str = "drainer"  # the message format published


OLTP_COLUMNS = (
    "id bigint not null, c1 int, c2 bigint, c3 varchar(64), c4 varchar(255), c5 decimal(12,2),"
    " c6 datetime(6), c7 double, c8 text, c9 tinyint"
)
ALL_TYPES_COLUMNS = (
    "id int not null, ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned,"
    " mi mediumint, miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,"
    " f float, d double, dec65 decimal(65,30), dec12 decimal(12,2), b1 bit(1), b64 bit(64),"
    " dt date, dt0 datetime, dt1 datetime(1), dt2 datetime(2), dt3 datetime(3), dt4 datetime(4),"
    " dt5 datetime(5), dt6 datetime(6), ts0 timestamp null default null, ts6 timestamp(6) null default null,"
    " tm0 time, tm6 time(6), y year, ch char(10), vc varchar(100), tt tinytext, tx text, mt mediumtext,"
    " lt longtext, bn binary(8), vb varbinary(64), tb tinyblob, bl blob, mb mediumblob, lb longblob,"
    " e enum('a','b','c'), s set('x','y','z'), j json"
)


def _create_table_text(name: str, columns: str, pk: str, extra: str, rng: random.Random) -> str:
    """TiDB-flavoured CREATE TABLE, as a user typed it and TiDB's binlog recorded it."""
    pk_clause = f", primary key ({pk}) /*T![clustered_index] CLUSTERED */" if pk else ""
    tidb = rng.choice(["", " /*T! SHARD_ROW_ID_BITS=4 */", " /*!90000 SHARD_ROW_ID_BITS=4 PRE_SPLIT_REGIONS=2 */"])
    if pk:
        tidb = ""  # SHARD_ROW_ID_BITS needs a table without a clustered integer key in TiDB
    return f"create table {quote_ident(name)} ({columns}{pk_clause}{extra}){TIDB_TABLE_SUFFIX}{tidb}"


# Values of the key-less table's text column: duplicates, and pairs a collation calls equal
# whose bytes differ (the source's utf8mb4_bin is PAD SPACE).
NOKEY_TEXTS = ("p", "p ", "P", "q", "", "e", "é")


def _nokey_where(row: tuple) -> str:
    """Exactly the rows byte-equal to ``row`` (TiDB deletes one row by its _tidb_rowid; a
    collation-equal match such as ``b = 'p '`` could hit 'p' instead)."""
    a, b = row
    return f"a <=> {literal(a)} AND CAST(b AS BINARY) = X'{b.encode('utf-8').hex()}'"


class _Table:
    """A table of the workload: catalog + the keys (or key-less rows) it holds now."""

    def __init__(self, meta: TableMeta, kind: str):
        self.meta = meta
        self.kind = kind  # oltp, all_types, composite, uniq, nokey, ukonly, gen, extra
        self.keys: list[tuple] = []
        self.key_pos: dict[tuple, int] = {}
        self.rows: list[tuple] = []  # nokey: current rows (multiset); ukonly: (code, v) rows

    def add_key(self, k: tuple) -> None:
        self.key_pos[k] = len(self.keys)
        self.keys.append(k)

    def remove_key(self, k: tuple) -> None:
        i = self.key_pos.pop(k)
        last = self.keys.pop()
        if i < len(self.keys):
            self.keys[i] = last
            self.key_pos[last] = i

    def clear(self) -> None:
        self.keys, self.key_pos, self.rows = [], {}, []


class Simulator:
    def __init__(self, cfg, opts: SimulatorOptions):
        self.cfg = cfg
        self.opts = opts
        self.rng = random.Random(opts.seed)
        self.topic = cfg.kafka.topic
        self.time_zone = cfg.drainer.time_zone
        self.output = opts.output or cfg.input.format
        self.databases = list(opts.databases) or [f"sim_{opts.seed}"]
        self.conn = db.connect(cfg.source, autocommit=False)
        with self.conn.cursor() as cur:
            cur.execute(f"SET SESSION time_zone = '+00:00', SESSION sql_mode = '{SESSION_SQL_MODE}'")
        self.summary = SimulationSummary(databases=list(self.databases), output=self.output)
        self.tables: dict[tuple[str, str], _Table] = {}
        self.views: list[tuple[str, str]] = []
        self.extra_dbs: list[str] = []
        self.counter = 0
        self.sent: list[bytes] = []
        self.errors: list[str] = []
        self.partitions = self._ensure_topic()
        self.ticdc: Optional[TiCDCPublisher] = None
        if self.output != "drainer":
            self.time_zone = cfg.input.time_zone  # the changefeed's zone renders TIMESTAMPs
            self.ticdc = TiCDCPublisher(TiCDCOptions(self.output, self.partitions, opts.dispatcher,
                                                     opts.batch_size), self.time_zone)
        # per partition: (key, value, is a watermark) of the last messages, for redeliveries
        self.sent_by_partition: dict[int, list[tuple[Optional[bytes], bytes, bool]]] = {}
        self._since_watermark = 0
        self._watermark_at = time.monotonic()
        self._last_ts = 0
        self._watermarked_ts = 0
        self.producer = Producer(producer_config(cfg.kafka, **{"enable.idempotence": True, "linger.ms": 5}))
        self.source = make_source(opts.source, self.conn, self.topic)

    # -- infrastructure ------------------------------------------------------------------

    def _ensure_topic(self) -> int:
        """Create the topic if missing; returns its partition count (TiCDC uses what exists)."""
        admin = AdminClient(admin_config(self.cfg.kafka))
        md = admin.list_topics(timeout=30)
        if self.topic in md.topics and not md.topics[self.topic].error:
            return len(md.topics[self.topic].partitions)
        n = 1 if self.output == "drainer" else self.opts.partitions
        futures = admin.create_topics([NewTopic(self.topic, num_partitions=n, replication_factor=1)])
        try:
            futures[self.topic].result(30)
        except KafkaException as e:
            if "TOPIC_ALREADY_EXISTS" not in str(e):
                raise
            md = admin.list_topics(self.topic, timeout=30)
            return len(md.topics[self.topic].partitions)
        return n

    def _on_delivery(self, err, msg) -> None:
        if err is not None:
            self.errors.append(str(err))

    def _publish(self, value: bytes, ts: int) -> None:
        self.producer.produce(self.topic, value, partition=0, on_delivery=self._on_delivery)
        self.producer.poll(0)
        s = self.summary
        s.messages += 1
        s.first_commit_ts = s.first_commit_ts or ts
        s.last_commit_ts = ts
        self.sent.append(value)
        if len(self.sent) > 20:
            del self.sent[0]
        if self.opts.redeliver and self.rng.random() < self.opts.redeliver:
            k = self.rng.randint(1, len(self.sent))
            for v in self.sent[-k:]:  # a Drainer restart re-sends from its last savepoint
                self.producer.produce(self.topic, v, partition=0, on_delivery=self._on_delivery)
            s.messages += k
            s.redelivered += k
        if self.errors:
            raise RuntimeError(f"Kafka delivery failed: {self.errors[0]}")

    # -- what TiCDC publishes (simulator/ticdc.py) ---------------------------------------------

    def _publish_txn(self, txn: Txn) -> int:
        """Publish one transaction in the output format; returns the bytes published."""
        if self.ticdc is None:
            value = encode_txn(txn, self.time_zone)
            self._publish(value, txn.commit_ts)
            return len(value)
        size = self._emit(self.ticdc.txn(txn), txn.commit_ts)
        self._since_watermark += 1
        every, ms = self.opts.watermark_every, self.opts.watermark_ms
        if (every and self._since_watermark >= every) or (ms and (time.monotonic() - self._watermark_at) * 1000 >= ms):
            self._watermark()
        return size

    def _publish_ddl(self, ddl: DDL) -> None:
        if self.ticdc is None:
            self._publish(encode_ddl(ddl), ddl.commit_ts)
        else:
            self._emit(self.ticdc.ddl(ddl), ddl.commit_ts)

    def _watermark(self) -> None:
        """TiCDC's resolved ts on every partition: everything up to the last commit_ts is out."""
        if self.ticdc is not None and self._last_ts > self._watermarked_ts:
            self._emit(self.ticdc.watermark(self._last_ts), self._last_ts, watermark=True)
            self._watermarked_ts = self._last_ts
        self._since_watermark = 0
        self._watermark_at = time.monotonic()

    def _emit(self, messages: list, ts: int, watermark: bool = False) -> int:
        size = 0
        for partition, key, value in messages:
            self.producer.produce(self.topic, value, key=key, partition=partition, on_delivery=self._on_delivery)
            buf = self.sent_by_partition.setdefault(partition, [])
            buf.append((key, value, watermark))
            if len(buf) > 200:
                del buf[0]
            size += len(value) + (len(key) if key else 0)
        self.producer.poll(0)
        s = self.summary
        s.messages += len(messages)
        if not watermark:
            s.first_commit_ts = s.first_commit_ts or ts
            s.last_commit_ts = ts
            self._last_ts = ts
        if self.opts.redeliver and self.rng.random() < self.opts.redeliver:
            self._redeliver()
        if self.errors:
            raise RuntimeError(f"Kafka delivery failed: {self.errors[0]}")
        return size

    def _redeliver(self) -> None:
        """A TiCDC restart: it resumes from an earlier checkpoint, so every partition gets
        again everything from one of its last watermarks on (that watermark included, then
        rows, DDL and watermarks after it). TiCDC is at-least-once; docs/ticdc.md."""
        back = self.rng.randint(1, 3)
        s = self.summary
        for partition, buf in self.sent_by_partition.items():
            marks = [i for i, (_k, _v, wm) in enumerate(buf) if wm]
            if not marks:
                continue
            start = marks[-min(back, len(marks))]
            for key, value, _wm in buf[start:]:
                self.producer.produce(self.topic, value, key=key, partition=partition, on_delivery=self._on_delivery)
            s.messages += len(buf) - start
            s.redelivered += len(buf) - start

    def close(self) -> None:
        self._watermark()  # TiCDC's checkpoint reaches the last commit_ts
        remaining = self.producer.flush(120)
        if remaining or self.errors:
            raise RuntimeError(f"Kafka delivery failed ({remaining} undelivered): {self.errors[:1]}")
        self.conn.close()

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    # -- DDL ---------------------------------------------------------------------------------

    def ddl(self, schema: str, table: str, query: str, refresh: Optional[tuple[str, str, str]] = None,
            tables: Optional[list[str]] = None) -> None:
        """Run a DDL on the source and publish it (Drainer: one message per DDL job; ``tables``
        names the tables of a multi-table statement, one job each)."""
        jobs: list[DDLJob] = self.source.run_ddl(schema, table, query, tables)
        if refresh:
            db_, name, kind = refresh
            self.tables[(db_, name)] = self._load(db_, name, kind, self.tables.get((db_, name)))
        for job in jobs:
            self._publish_ddl(DDL(job.commit_ts, job.schema, job.table, job.query))
            self.summary.ddls += 1

    def _load(self, database: str, name: str, kind: str, old: Optional[_Table]) -> _Table:
        t = _Table(read_table(self.conn, database, name), kind)
        self.conn.commit()
        if old is not None:
            t.keys, t.key_pos, t.rows = old.keys, old.key_pos, old.rows
        return t

    def setup(self) -> None:
        for d in self.databases:
            if self.opts.drop_existing:  # also the databases an earlier run's CREATE DATABASE DDL made
                with self.conn.cursor() as cur:
                    cur.execute("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s"
                                " OR SCHEMA_NAME LIKE %s", (d, d.replace("_", "\\_") + "\\_x%"))
                    for (name,) in cur.fetchall():
                        cur.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
                self.conn.commit()
            self.ddl(d, "", f"create database {quote_ident(d)}")
            for i in range(self.opts.tables):
                self._create(d, f"oltp_{i}", OLTP_COLUMNS, "id", "", "oltp")
            if self.opts.special_tables:
                self._create(d, "all_types", ALL_TYPES_COLUMNS, "id", "", "all_types")
                self._create(d, "composite", "a int not null, b varchar(20) not null, v int", "a, b", "", "composite")
                self._create(d, "uniq", "id bigint not null, email varchar(64) not null, v int", "id",
                             ", unique key uk_email (email)", "uniq")
                self._create(d, "nokey", "a int, b varchar(20)", "", "", "nokey")
                # keyed by its only unique key (no primary key): sharded per key by the flow
                self._create(d, "ukonly", "code varchar(20) not null, v int", "", ", unique key uk_code (code)",
                             "ukonly")
                self._create(d, "gen", "id int not null, x int, y int generated always as (x * 2) virtual", "id", "", "gen")
                if self.source.kind == "tidb":  # keys TiDB chooses (random shard bits): read back, never ours
                    self._create(d, "autorand", "id bigint not null auto_random(5), v int", "id", "", "autorand")

    def _create(self, database: str, name: str, columns: str, pk: str, extra: str, kind: str) -> None:
        self.ddl(database, name, _create_table_text(name, columns, pk, extra, self.rng), (database, name, kind))

    def random_ddl(self) -> None:
        rng = self.rng
        d = rng.choice(self.databases)
        mine = [t for (db_, _n), t in self.tables.items() if db_ == d]
        oltp = [t for t in mine if t.kind in ("oltp", "extra")]
        extras = [t for t in mine if t.kind == "extra"]
        choices = ["add_column", "create_table", "add_index", "create_view", "modify_column"]
        if any(c.name.startswith("x") for t in oltp for c in t.meta.columns):
            choices += ["drop_column", "rename_column"]
        if extras:
            choices += ["rename_table", "truncate_table", "drop_table"]
        if len(extras) < 2:  # keep a supply of droppable tables, so DROP TABLE a, b happens
            choices.append("create_table")
        else:
            choices += ["drop_two_tables", "drop_two_tables"]
        if self.views:
            choices.append("drop_view")
        choices.append("drop_database" if self.extra_dbs else "create_database")
        kind = rng.choice(choices)
        n = self._next()
        if kind == "add_column" and oltp:
            t = rng.choice(oltp)
            coltype = rng.choice(["int default 7", "varchar(32) default 'x'", "decimal(10,3) default 1.5"])
            self.ddl(d, t.meta.name, f"alter table {quote_ident(t.meta.name)} add column x{n} {coltype}",
                     (d, t.meta.name, t.kind))
        elif kind == "drop_column":
            t = rng.choice([t for t in oltp if any(c.name.startswith("x") for c in t.meta.columns)])
            col = rng.choice([c.name for c in t.meta.columns if c.name.startswith("x")])
            self.ddl(d, t.meta.name, f"alter table {quote_ident(t.meta.name)} drop column {col}", (d, t.meta.name, t.kind))
        elif kind == "rename_column":
            t = rng.choice([t for t in oltp if any(c.name.startswith("x") for c in t.meta.columns)])
            c = rng.choice([c for c in t.meta.columns if c.name.startswith("x")])
            self.ddl(d, t.meta.name, f"alter table {quote_ident(t.meta.name)} rename column {c.name} to x{n}",
                     (d, t.meta.name, t.kind))
        elif kind == "modify_column" and oltp:
            t = rng.choice(oltp)
            cur_len = next(c.flen for c in t.meta.columns if c.name == "c3")
            if cur_len >= 1024:  # stay far below the row-size limit (TiDB is strict about it)
                return self.random_ddl()
            self.ddl(d, t.meta.name, f"alter table {quote_ident(t.meta.name)} modify column c3"
                                     f" varchar({cur_len + self.rng.randint(1, 64)})", (d, t.meta.name, t.kind))
        elif kind == "add_index" and oltp:
            t = rng.choice(oltp)
            self.ddl(d, t.meta.name, f"alter table {quote_ident(t.meta.name)} add index idx_{n} (c1, c2)",
                     (d, t.meta.name, t.kind))
        elif kind == "create_table":
            self._create(d, f"extra_{n}", OLTP_COLUMNS, "id", "", "extra")
        elif kind == "rename_table":
            t = rng.choice(extras)
            new = f"extra_{n}"
            self.ddl(d, new, f"rename table {quote_ident(t.meta.name)} to {quote_ident(new)}")
            del self.tables[(d, t.meta.name)]
            self.tables[(d, new)] = self._load(d, new, "extra", t)
        elif kind == "truncate_table":
            t = rng.choice(extras)
            self.ddl(d, t.meta.name, f"truncate table {quote_ident(t.meta.name)}")
            t.clear()
        elif kind == "drop_table":
            t = rng.choice(extras)
            self.ddl(d, t.meta.name, f"drop table {quote_ident(t.meta.name)}")
            del self.tables[(d, t.meta.name)]
        elif kind == "drop_two_tables":
            a, b = rng.sample(extras, 2)
            q = f"drop table {quote_ident(a.meta.name)}, {quote_ident(b.meta.name)}"
            self.ddl(d, a.meta.name, q, tables=[a.meta.name, b.meta.name])  # TiDB: one job per table
            del self.tables[(d, a.meta.name)], self.tables[(d, b.meta.name)]
        elif kind == "create_view":
            base = rng.choice(oltp) if oltp else None
            if base is None:
                return
            name = f"v_{n}"
            self.ddl(d, name, f"create definer=`root`@`%` sql security definer view {quote_ident(name)}"
                              f" as select id, c1, c3 from {quote_ident(base.meta.name)} where c1 > 0")
            self.views.append((d, name))
        elif kind == "drop_view":
            vd, name = self.views.pop(rng.randrange(len(self.views)))
            self.ddl(vd, name, f"drop view {quote_ident(name)}")
        elif kind == "create_database":
            name = f"{self.databases[0]}_x{n}"[:64]
            with self.conn.cursor() as cur:  # a name left by an earlier run (--no-drop) is taken
                cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s", (name,))
                taken = cur.fetchone() is not None
            self.conn.commit()
            if taken:
                return
            self.ddl(name, "", f"create database {quote_ident(name)}")
            self.extra_dbs.append(name)
        elif kind == "drop_database":
            name = self.extra_dbs.pop()
            self.ddl(name, "", f"drop database {quote_ident(name)}")

    # -- DML ---------------------------------------------------------------------------------

    def _values_sql(self, t: _Table, values: dict[str, Any]) -> tuple[str, str]:
        cols = ", ".join(quote_ident(c) for c in values)
        return cols, "(" + ", ".join(literal(v) for v in values.values()) + ")"

    def _where_key(self, t: _Table, key: tuple) -> str:
        names = [t.meta.columns[i].name for i in t.meta.pk]
        return " AND ".join(f"{quote_ident(n)} = {literal(v)}" for n, v in zip(names, key))

    def _read(self, t: _Table, key: tuple, lock: bool = False) -> tuple:
        # The text protocol prints FLOAT with 6 significant digits; `+ 0E0` widens it to a
        # DOUBLE holding the exact float32 value.
        cols = ", ".join(f"{quote_ident(c.name)} + 0E0" if c.mysql_type == "float" else quote_ident(c.name)
                         for c in t.meta.columns)
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {cols} FROM {quote_ident(t.meta.database)}.{quote_ident(t.meta.name)}"
                        f" WHERE {self._where_key(t, key)}" + (" FOR UPDATE" if lock else ""))
            row = cur.fetchone()
        if row is None:
            raise RuntimeError(f"simulator lost track of {t.meta.database}.{t.meta.name} key {key}")
        return tuple(to_native(c, v) for c, v in zip(t.meta.columns, row))

    def _image(self, t: _Table, row: tuple, op: str) -> tuple:
        """Drainer's generated-column trap: bogus on insert, NULL on update, real on delete.
        (TiCDC sends a stored generated column's real value: no trap.)"""
        if t.kind != "gen" or self.ticdc is not None:
            return row
        out = list(row)
        for i, c in enumerate(t.meta.columns):
            if c.generated:
                out[i] = bogus_generated_value(c) if op == "insert" else (None if op == "update" else row[i])
        return tuple(out)

    def _new_row(self, t: _Table) -> dict[str, Any]:
        vals: dict[str, Any] = {}
        rng, edge, width = self.rng, self.opts.edge_values, self.opts.row_width
        for c in t.meta.writable:
            vals[c.name] = random_value(c, rng, edge if t.kind == "all_types" else edge / 5, width)
        if t.kind == "composite":
            vals["a"], vals["b"] = self._next(), f"k{self.rng.randrange(1000)}"
        elif t.kind == "autorand":
            vals.pop("id", None)  # TiDB assigns it
        elif t.meta.pk:
            vals[t.meta.columns[t.meta.pk[0]].name] = self._next()
        if t.kind == "uniq":
            vals["email"] = f"e{self._next()}@example.com"
        if t.kind == "nokey":
            # duplicates on purpose, and values a collation calls equal but whose bytes differ
            # ('p' / 'p ' under PAD SPACE, 'p' / 'P' and 'e' / 'é' under *_ci collations)
            vals = {"a": rng.randrange(5), "b": rng.choice(NOKEY_TEXTS)}
        if t.kind == "ukonly":
            vals = {"code": f"u{self._next()}", "v": rng.randrange(1000)}
        if t.kind == "gen" and vals.get("x") is not None:
            vals["x"] = rng.randrange(-(1 << 30), 1 << 30)  # y = x * 2 must fit an INT (TiDB is strict)
        return vals

    def insert(self, t: _Table, n: int, out: list[RowChange]) -> None:
        if t.kind == "autorand":
            return self._insert_auto_random(t, n, out)
        rows = [self._new_row(t) for _ in range(n)]
        cols, _ = self._values_sql(t, rows[0])
        values = ", ".join(self._values_sql(t, r)[1] for r in rows)
        with self.conn.cursor() as cur:
            cur.execute(f"INSERT INTO {quote_ident(t.meta.database)}.{quote_ident(t.meta.name)} ({cols}) VALUES {values}")
        if t.kind in ("nokey", "ukonly"):
            for r in rows:
                img = tuple(r.values())
                t.rows.append(img)
                out.append(RowChange(Op.INSERT, img, None))
            return
        names = [t.meta.columns[i].name for i in t.meta.pk]
        for r in rows:
            key = tuple(r[nm] for nm in names)
            t.add_key(key)
            out.append(RowChange(Op.INSERT, self._image(t, self._read(t, key), "insert"), None))

    def _insert_auto_random(self, t: _Table, n: int, out: list[RowChange]) -> None:
        """One row per statement: LAST_INSERT_ID() is then exactly the key TiDB chose."""
        ref = f"{quote_ident(t.meta.database)}.{quote_ident(t.meta.name)}"
        for _ in range(n):
            cols, values = self._values_sql(t, self._new_row(t))
            with self.conn.cursor() as cur:
                cur.execute(f"INSERT INTO {ref} ({cols}) VALUES {values}")
                cur.execute("SELECT LAST_INSERT_ID()")
                key = (int(cur.fetchone()[0]),)
            t.add_key(key)
            out.append(RowChange(Op.INSERT, self._read(t, key), None))

    def _ukonly_change(self, t: _Table, out: list[RowChange], op: str) -> None:
        """ukonly: change the value (update), the key itself (key), or delete a row."""
        if not t.rows:
            return self.insert(t, 1, out)
        old = self.rng.choice(t.rows)
        ref = f"{quote_ident(t.meta.database)}.ukonly"
        with self.conn.cursor() as cur:
            if op == "delete":
                cur.execute(f"DELETE FROM {ref} WHERE code = {literal(old[0])}")
                t.rows.remove(old)
                out.append(RowChange(Op.DELETE, None, old))
                return
            new = (f"u{self._next()}", old[1]) if op == "key" else (old[0], old[1] + 1)
            cur.execute(f"UPDATE {ref} SET code = {literal(new[0])}, v = {literal(new[1])} WHERE code = {literal(old[0])}")
        t.rows[t.rows.index(old)] = new
        out.append(RowChange(Op.UPDATE, new, old))  # a unique key is no handle: one Update, as TiDB writes it

    def update(self, t: _Table, out: list[RowChange]) -> None:
        if t.kind == "ukonly":
            return self._ukonly_change(t, out, "update")
        if t.kind == "nokey":
            if not t.rows:
                return self.insert(t, 1, out)
            old = self.rng.choice(t.rows)
            new = (self.rng.randrange(5), self.rng.choice(NOKEY_TEXTS))
            if new == old:
                return
            with self.conn.cursor() as cur:
                cur.execute(f"UPDATE {quote_ident(t.meta.database)}.nokey SET a={literal(new[0])}, b={literal(new[1])}"
                            f" WHERE {_nokey_where(old)} LIMIT 1")
            t.rows.remove(old)
            t.rows.append(new)
            out.append(RowChange(Op.UPDATE, new, old))
            return
        if not t.keys:
            return self.insert(t, 1, out)
        key = self.rng.choice(t.keys)
        before = self._read(t, key, lock=True)
        fresh = self._new_row(t)
        skip = {t.meta.columns[i].name for i in t.meta.pk}
        cols = [c.name for c in t.meta.writable if c.name not in skip and self.rng.random() < 0.6] or \
            [c.name for c in t.meta.writable if c.name not in skip][:1]
        if not cols:
            return
        sets = ", ".join(f"{quote_ident(c)} = {literal(fresh[c])}" for c in cols)
        with self.conn.cursor() as cur:
            cur.execute(f"UPDATE {quote_ident(t.meta.database)}.{quote_ident(t.meta.name)} SET {sets}"
                        f" WHERE {self._where_key(t, key)}")
        after = self._read(t, key)
        out.append(RowChange(Op.UPDATE, self._image(t, after, "update"), self._image(t, before, "update")))

    def delete(self, t: _Table, out: list[RowChange]) -> None:
        if t.kind == "ukonly":
            return self._ukonly_change(t, out, "delete")
        if t.kind == "nokey":
            if not t.rows:
                return
            old = self.rng.choice(t.rows)
            with self.conn.cursor() as cur:
                cur.execute(f"DELETE FROM {quote_ident(t.meta.database)}.nokey WHERE {_nokey_where(old)} LIMIT 1")
            t.rows.remove(old)
            out.append(RowChange(Op.DELETE, None, old))
            return
        if not t.keys:
            return
        key = self.rng.choice(t.keys)
        before = self._read(t, key, lock=True)
        with self.conn.cursor() as cur:
            cur.execute(f"DELETE FROM {quote_ident(t.meta.database)}.{quote_ident(t.meta.name)} WHERE {self._where_key(t, key)}")
        t.remove_key(key)
        out.append(RowChange(Op.DELETE, None, self._image(t, before, "delete")))

    def pk_update(self, t: _Table, out: list[RowChange]) -> None:
        if t.kind == "ukonly":
            return self._ukonly_change(t, out, "key")
        if not t.keys or len(t.meta.pk) != 1 or t.kind in ("nokey", "autorand"):
            return self.update(t, out)
        key = self.rng.choice(t.keys)
        new_key = (self._next(),)
        before = self._read(t, key, lock=True)
        pkname = t.meta.columns[t.meta.pk[0]].name
        with self.conn.cursor() as cur:
            cur.execute(f"UPDATE {quote_ident(t.meta.database)}.{quote_ident(t.meta.name)} SET {quote_ident(pkname)} ="
                        f" {literal(new_key[0])} WHERE {self._where_key(t, key)}")
        t.remove_key(key)
        t.add_key(new_key)
        after = self._read(t, new_key)
        out.append(RowChange(Op.UPDATE, self._image(t, after, "update"), self._image(t, before, "update")))

    def uk_swap(self, t: _Table, out: list[RowChange]) -> None:
        """Swap two rows' unique emails in one transaction, via a temporary value (3 statements)."""
        if len(t.keys) < 2:
            return self.insert(t, 2, out)
        a, b = self.rng.sample(t.keys, 2)
        tmp = f"tmp{self._next()}"
        ea, eb = self._read(t, a, lock=True)[1], self._read(t, b, lock=True)[1]
        for key, value in ((a, tmp), (b, ea), (a, eb)):
            before = self._read(t, key)
            with self.conn.cursor() as cur:
                cur.execute(f"UPDATE {quote_ident(t.meta.database)}.uniq SET email = {literal(value)} WHERE {self._where_key(t, key)}")
            out.append(RowChange(Op.UPDATE, self._read(t, key), before))

    def transaction(self) -> None:
        rng, opts = self.rng, self.opts
        dml_tables = list(self.tables.values())
        budget = rng.randint(*opts.txn_rows)
        per_table: dict[tuple[str, str], list[RowChange]] = {}
        order: list[_Table] = []
        kinds, weights = zip(*opts.mix.items())
        while budget > 0:
            t = rng.choice(dml_tables)
            out = per_table.get((t.meta.database, t.meta.name))
            if out is None:
                out = per_table[(t.meta.database, t.meta.name)] = []
                order.append(t)
            kind = rng.choices(kinds, weights)[0]
            if kind == "insert":
                n = min(budget, rng.randint(1, 4))
                self.insert(t, n, out)
                budget -= n
                continue
            if kind == "uk_swap":
                uniq = [x for x in dml_tables if x.kind == "uniq"]
                if uniq:
                    u = rng.choice(uniq)
                    out = per_table.get((u.meta.database, u.meta.name))
                    if out is None:
                        out = per_table[(u.meta.database, u.meta.name)] = []
                        order.append(u)
                    self.uk_swap(u, out)
                budget -= 3
                continue
            getattr(self, kind)(t, out)
            budget -= 1
        tables = [TableChanges(t.meta.schema, per_table[(t.meta.database, t.meta.name)])
                  for t in order if per_table[(t.meta.database, t.meta.name)]]
        if not tables:
            self.conn.rollback()
            return
        ts = self.source.commit()
        self._publish_txn(Txn(ts, tables))
        self.summary.txns += 1
        self.summary.rows += sum(len(tc.rows) for tc in tables)

    def run(self) -> SimulationSummary:
        t0 = time.monotonic()
        self.setup()
        opts = self.opts
        if not opts.setup_only:
            # --duration and --rate are about the transactions: they start after the set-up (a
            # slow set-up on a loaded machine used to eat into the duration: 17 of ~30 txns).
            started = time.monotonic()
            deadline = started + opts.duration_s if opts.txns == 0 else None
            next_ddl = self._ddl_gap()
            while (self.summary.txns < opts.txns) if deadline is None else (time.monotonic() < deadline):
                if opts.should_stop is not None and opts.should_stop():
                    break
                if opts.rate:
                    due = started + self.summary.txns / opts.rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                self.transaction()
                if next_ddl is not None:
                    next_ddl -= 1
                    if next_ddl <= 0:
                        self.random_ddl()
                        next_ddl = self._ddl_gap()
        self.close()
        s = self.summary
        s.tables = sorted(f"{d}.{n}" for d, n in self.tables)
        s.databases = list(self.databases)
        s.seconds = time.monotonic() - t0
        return s

    def _ddl_gap(self) -> Optional[int]:
        if not self.opts.ddl_every:
            return None
        e = self.opts.ddl_every
        return self.rng.randint(max(1, e // 2), e + e // 2)


def run_simulation(cfg, opts: SimulatorOptions) -> SimulationSummary:
    """Run the workload on cfg.source and publish its Drainer messages to cfg.kafka.topic."""
    return Simulator(cfg, opts).run()


def publish_big_transaction(cfg, database: str, rows: int, payload_bytes: int, table: str = "big",
                            seed: int = 1) -> tuple[int, int]:
    """One transaction inserting ``rows`` rows of ``payload_bytes`` random bytes each.

    Creates ``database``.``table`` (publishing the DDL) when missing. Returns
    ``(commit_ts, message bytes)``. Used for the 16 MB BLOB and the 100 MB transaction cases.
    """
    sim = Simulator(cfg, SimulatorOptions(seed=seed, databases=[database], tables=0, special_tables=False,
                                          drop_existing=False))
    with sim.conn.cursor() as cur:
        cur.execute("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME=%s", (database,))
        has_db = cur.fetchone() is not None
        cur.execute("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s", (database, table))
        has_table = cur.fetchone() is not None
    sim.conn.commit()
    if not has_db:
        sim.ddl(database, "", f"create database {quote_ident(database)}")
    if not has_table:
        sim._create(database, table, "id bigint not null, payload longblob", "id", "", "big")
    else:
        sim.tables[(database, table)] = sim._load(database, table, "big", None)
    t = sim.tables[(database, table)]
    rng = random.Random(seed)
    changes: list[RowChange] = []
    with sim.conn.cursor() as cur:
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {quote_ident(database)}.{quote_ident(table)}")
        base = int(cur.fetchone()[0])
        batch = []
        for i in range(rows):
            payload = rng.randbytes(payload_bytes)
            batch.append((base + i + 1, payload))
            changes.append(RowChange(Op.INSERT, (base + i + 1, payload), None))
            if sum(len(p) for _k, p in batch) > 32 << 20 or i == rows - 1:
                cur.execute(f"INSERT INTO {quote_ident(database)}.{quote_ident(table)} (id, payload) VALUES "
                            + ", ".join(f"({k}, {literal(p)})" for k, p in batch))
                batch = []
    ts = sim.source.commit()
    size = sim._publish_txn(Txn(ts, [TableChanges(t.meta.schema, changes)]))
    sim.close()
    return ts, size
