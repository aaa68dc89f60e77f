"""The ceiling: a minimal hand-written consume -> decode -> upsert loop, run as N processes.

It reads the same topic as the flow, decodes with the same :class:`Decoder`, and applies the
same rows through the same driver (PyMySQL) with the project's own SQL text builder
(:class:`tidb2mysql.mysql.sql.TableSQL`: multi-row ``INSERT ... ON DUPLICATE KEY
UPDATE`` and ``DELETE ... WHERE pk IN (...)``), one transaction per 1000 merged rows.
It gives *no* guarantee the flow gives: no transaction or cross-table order, no checkpoint,
no DDL, no redelivery handling, no dead letters, no recovery; the unique-key table is
upserted like any other (unsafe in general; safe here because every generated unique value
is new).

Process ``i`` of ``N`` applies the rows with ``pk % N == i`` (disjoint keys, so the
processes never wait on each other's row locks). Every process reads and decodes the whole
topic - Kafka reads are nearly free, decoding is not: this is the simplest split that keeps
per-key order, and it is the same "one reader decodes" cost the flow pays once. The best of
1, 2 and 4 processes is the ceiling.

Timing matches :mod:`bench.incremental`: from the first committed batch (any process) to
the last commit (all processes).

``load=True`` (reported beside it, not instead): the rows of INSERT changes are written the way
the flow writes rows expected new, one ``LOAD DATA LOCAL`` per table and flush
(:meth:`TableSQL.load`; a load that does not insert them all is followed by their upsert).
Why: the flow loads new rows since the fourteenth session (mysql/load_data.py); against a
ceiling that only upserts, part of its ratio would come from the cheaper statement, so the
report shows the ratio to both.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time

import pymysql
from confluent_kafka import Consumer, TopicPartition

from bench.procmem import PeakRSS
from tidb2mysql.mysql import db
from tidb2mysql.drainer.decode import Decoder
from tidb2mysql.events import Op, KafkaPosition, Txn
from tidb2mysql.kafka_settings import consumer_config, watermark_offsets
from tidb2mysql.mysql import load_data
from tidb2mysql.mysql.sql import LOAD_TOKEN, TableSQL
from tidb2mysql.mysql.session import prepare_session


BATCH = 1000


def _worker(cfg, topic: str, index: int, count: int, out, load: bool = False) -> None:
    try:
        out.put(_apply_share(cfg, topic, index, count, load))
    except BaseException as e:  # report, never hang the parent
        out.put({"error": f"ceiling process {index}/{count}: {type(e).__name__}: {e}"})


def _apply_share(cfg, topic: str, index: int, count: int, load: bool = False) -> dict:
    consumer = Consumer(consumer_config(cfg.kafka, **{"group.id": f"bench-ceiling-{index}"}))
    low, high = watermark_offsets(consumer, TopicPartition(topic, 0))  # as the flow's reader asks
    consumer.assign([TopicPartition(topic, 0, low)])
    conn = db.connect(cfg.target, autocommit=False, local_infile=load)
    prepare_session(conn)
    dec = Decoder("UTC")
    sqls: dict = {}
    pending: dict = {}  # (schema, table) -> {pk: row or None (delete)}
    inserted: dict = {}  # (schema, table) -> pks whose pending row is an INSERT's (load=True)
    npend = 0
    rows = 0
    first = None
    cur = conn.cursor()

    def flush():
        nonlocal first
        stmts: list = []  # SQL text, or (TableSQL, LOAD statement, its text, its rows)
        for key, changes in pending.items():
            q = sqls[key]
            dels = [(k,) for k, r in changes.items() if r is None]
            new = inserted.get(key, ())
            ups = [r for k, r in changes.items() if r is not None and k not in new]
            if dels:
                stmts += [st.sql for st in q.delete(dels)]
            if new:
                rows_new = [changes[k] for k in new]
                loaded = q.load(rows_new)
                if loaded is None:
                    ups += rows_new
                else:
                    stmts.append((q, loaded[0], loaded[1], rows_new))
            if ups:
                stmts += [st.sql for st in q.upsert(ups)]
        for attempt in range(20):
            try:
                for sql in stmts:
                    if isinstance(sql, tuple):
                        q, lsql, data, rows_new = sql
                        n = load_data.send_from_memory(cur, lsql, LOAD_TOKEN, data)
                        if n != len(rows_new) or cur.warning_count:  # not all inserted as given
                            for st in q.upsert(rows_new):
                                cur.execute(st.sql)
                        continue
                    cur.execute(sql)
                conn.commit()
                break
            except pymysql.err.OperationalError as e:
                # 1213 deadlock / 1205 lock wait: the unique-key table's secondary index takes
                # gap locks that disjoint primary keys do not avoid; retry like any client.
                if e.args[0] not in (1205, 1213) or attempt == 19:
                    raise
                conn.rollback()
        pending.clear()
        inserted.clear()
        if first is None:
            first = time.time()

    pos = low
    while pos < high:
        for m in consumer.consume(500, 1.0):
            if m.error():
                raise RuntimeError(f"kafka: {m.error()}")
            pos = m.offset() + 1
            ev = dec.decode(m.value(), KafkaPosition(topic, 0, m.offset()))
            if not isinstance(ev, Txn):
                continue
            for tc in ev.tables:
                s = tc.schema
                key = (s.schema, s.table)
                if key not in sqls or sqls[key].schema != s:
                    if key in pending:
                        flush()
                        npend = 0
                    sqls[key] = TableSQL(s)
                bucket = pending.setdefault(key, {})
                born = inserted.setdefault(key, {}) if load else None
                for rc in tc.rows:
                    if rc.op == Op.DELETE:
                        pk = rc.old[0]
                        if pk % count == index:
                            bucket[pk] = None
                            if born is not None:
                                born.pop(pk, None)
                            rows += 1
                            npend += 1
                    else:
                        pk = rc.new[0]
                        if pk % count == index:
                            if born is not None and rc.op == Op.INSERT and pk not in bucket:
                                born[pk] = True  # new to the target (unless a crash replays: not here)
                            bucket[pk] = rc.new
                            rows += 1
                            npend += 1
            if npend >= BATCH:
                flush()
                npend = 0
    if pending:
        flush()
    done = time.time()
    conn.close()
    consumer.close()
    return {"rows": rows, "first": first or done, "done": done}


def run_ceiling(cfg, topic: str, rows: int, processes: int, timeout: float = 1800, load: bool = False) -> dict:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(cfg, topic, i, processes, out, load), daemon=True)
             for i in range(processes)]
    for p in procs:
        p.start()
    results = []
    busy = PeakRSS(os.getpid(), clock=time.time)  # the workers time their window with time.time()
    try:
        for _ in procs:
            results.append(out.get(timeout=timeout))
    finally:
        busy.stop()
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise RuntimeError("; ".join(errors))
    applied = sum(r["rows"] for r in results)
    if applied != rows:
        raise RuntimeError(f"ceiling applied {applied} row changes, the topic holds {rows}")
    first, done = min(r["first"] for r in results), max(r["done"] for r in results)
    secs = done - first
    return {"processes": processes, "rows": rows, "seconds": round(secs, 3), "rows_per_s": round(rows / max(secs, 1e-9)),
            "machine_cores_busy": busy.cores(first, done)}
