"""``python -m bench.table_shapes [--changes N] [--workers W]``: the incremental flow's
throughput per table shape (primary key, unique-key-only, key-less), same workload each.

Why: issue 12 made unique-key-only tables keyed (sharded, merged, upserted) and key-less
matching byte-exact; this shows what each shape costs next to a primary-key table. Each
shape gets its own topic and database: N row changes in transactions of 10 (60 % inserts,
25 % updates, 15 % deletes of live rows), applied by ``tidb2mysql incremental --stop-at-end``;
rows/s = N / wall time of the flow process (startup included, so use N >= 20,000).
"""

from __future__ import annotations

import argparse
import random
import time
import uuid

from tests.support import flowrun
from tests.support.drainer_stream import Stream
from tests.support.stack import admin_client, load_config
from tidb2mysql.mysql import db
from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema

SHAPES = {
    "pk": ("create table t (id bigint primary key, v varchar(40), n int)",
           dict(pk=(0,), unique_keys=(("PRIMARY", (0,)),))),
    "unique_key_only": ("create table t (id bigint not null, v varchar(40), n int, unique key uk (id))",
                        dict(unique_keys=(("uk", (0,)),))),
    "keyless": ("create table t (id bigint, v varchar(40), n int)", {}),
}


def _produce(s: Stream, schema: TableSchema, changes: int, rnd: random.Random) -> None:
    live: dict = {}
    next_id = 0
    done = 0
    while done < changes:
        rows = []
        for _ in range(10):
            p = rnd.random()
            if p < 0.6 or len(live) < 20:
                next_id += 1
                live[next_id] = (next_id, f"value-{next_id}", 0)
                rows.append(RowChange(Op.INSERT, live[next_id], None))
            elif p < 0.85:
                k = rnd.choice(list(live)) if len(live) < 1000 else rnd.randrange(1, next_id + 1)
                if k not in live:
                    continue
                old = live[k]
                live[k] = (k, old[1], old[2] + 1)
                rows.append(RowChange(Op.UPDATE, live[k], old))
            else:
                k = rnd.randrange(1, next_id + 1)
                if k in live:
                    rows.append(RowChange(Op.DELETE, None, live.pop(k)))
        if rows:
            s.txn(TableChanges(schema, rows))
            done += len(rows)
    s.flush()


def run_shapes(cfg, changes: int, workers: int, log=print) -> dict:
    """shape -> {rows_per_s, seconds, rows_in_table} (the ``make bench`` section "shapes")."""
    import tempfile
    from pathlib import Path

    from confluent_kafka.admin import NewTopic

    conn = db.connect(cfg.target, autocommit=True)
    admin = admin_client(cfg.kafka)
    results = {}
    try:
        for shape, (ddl, keys) in SHAPES.items():
            tag = uuid.uuid4().hex[:6]
            topic, dbn, job = f"bench_shape_{shape}_{tag}", f"bench_{shape}_{tag}", f"bench_{shape}_{tag}"
            admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
            try:
                s = Stream(cfg, topic)
                s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
                s.ddl(dbn, "t", ddl)
                schema = TableSchema(dbn, "t", ("id", "v", "n"), ("bigint", "varchar", "int"), **keys)
                _produce(s, schema, changes, random.Random(7))
                with tempfile.TemporaryDirectory() as tmp:
                    cfg_path = flowrun.write_config(Path(tmp) / "c.toml", topic=topic, job=job)
                    t0 = time.monotonic()
                    rc = flowrun.run(flowrun.incremental_cmd(cfg_path, workers), Path(tmp) / "log", timeout=3600)
                    secs = time.monotonic() - t0
                    if rc != 0:
                        raise RuntimeError(f"{shape}: flow failed\n{flowrun.tail(Path(tmp) / 'log')}")
                with conn.cursor() as cur:
                    cur.execute(f"SELECT COUNT(*) FROM `{dbn}`.t")
                    rows = cur.fetchone()[0]
                results[shape] = {"rows_per_s": round(changes / secs), "seconds": round(secs, 1),
                                  "changes": changes, "workers": workers, "rows_in_table": rows}
                log(f"{shape:>16}: {changes} changes in {secs:.1f}s = {changes / secs:,.0f} rows/s"
                    f" (-w {workers}; {rows} rows in the table)")
            finally:
                with conn.cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS `{dbn}`")
                    for t in ("checkpoint", "ddl_history", "dead_letter"):
                        cur.execute(f"DELETE FROM tidb2mysql.{t} WHERE job=%s", (job,))
                admin.delete_topics([topic])
    finally:
        conn.close()
    return results


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--changes", type=int, default=20_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    run_shapes(load_config(), args.changes, args.workers, log=lambda m: print(m, flush=True))


if __name__ == "__main__":
    main()
