"""Hand-made Drainer streams for tests: encode transactions and DDL exactly as Drainer does
and produce them to a topic on the real broker."""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

from confluent_kafka import Producer

from tidb2mysql.mysql import db
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.events import DDL, TableSchema, Txn, make_tso
from tidb2mysql.kafka_settings import producer_config


class Stream:
    def __init__(self, cfg, topic):
        self.cfg, self.topic = cfg, topic
        self.p = Producer(producer_config(cfg.kafka))
        self.ts = make_tso(int(time.time() * 1000))
        self.offset = 0

    def next_ts(self):
        self.ts += 1
        return self.ts

    def send(self, value: bytes) -> int:
        self.p.produce(self.topic, value, partition=0)
        self.offset += 1
        return self.offset - 1

    def ddl(self, schema, table, query):
        return self.send(encode_ddl(DDL(self.next_ts(), schema, table, query)))

    def txn(self, *tables, ts=None):
        return self.send(encode_txn(Txn(ts or self.next_ts(), list(tables)), "UTC"))

    def flush(self):
        assert self.p.flush(30) == 0


def q(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def schema(dbn, cols=("id", "v"), types=("bigint", "varchar")):
    return TableSchema(dbn, "t", cols, types, pk=(0,), unique_keys=(("PRIMARY", (0,)),))


# Job-scoped rows tidb2mysql keeps in the target's meta schema (deleted after each test).
META_TABLES = ("checkpoint", "ddl_history", "dead_letter", "job_control", "full_load_job", "full_load_chunks",
               "quarantine")


@contextmanager
def stream_env(stack_config, topic: str, tmp_path, prefix: str):
    """(stream, database name, job name, target connection, tmp dir) for one test; cleans up."""
    dbn = f"{prefix}_{uuid.uuid4().hex[:8]}"
    job = f"job_{dbn}"
    conn = db.connect(stack_config.target)
    try:
        yield Stream(stack_config, topic), dbn, job, conn, tmp_path
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{dbn}`")
            for t in META_TABLES:
                cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='tidb2mysql'"
                            " AND TABLE_NAME=%s", (t,))
                if cur.fetchone()[0]:
                    cur.execute(f"DELETE FROM tidb2mysql.{t} WHERE job=%s", (job,))
        conn.close()
