"""The exact handoff: writes continue during the full load; incremental starts after its TSO.

A writer thread plays TiDB + Drainer on the real source and Kafka: each transaction changes
rows of ``h`` and upserts ``_tidb2mysql_sim.tso`` (topic -> commit_ts) in the SAME source
transaction, and once committed its Drainer message (encoded by tidb2mysql.drainer.encode)
is produced to the topic. It writes while the full load runs (so the snapshot lands in
the middle of the stream) and stops after it. Then incremental replication runs from the
recorded snapshot TSO to the end of the topic; the target must equal the source, and both
sides of the handoff must be non-empty (transactions inside the snapshot and after it).

(The project's simulator does the same with a richer workload; this writer keeps the test
independent of it.)
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from confluent_kafka import Producer

from tests.integration.test_full_load import assert_equal, drop_job, job_row, same_db_fixture
from tests.support import flowrun, stack
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema, Txn, make_tso
from tidb2mysql.kafka_settings import producer_config

pytestmark = pytest.mark.integration

INITIAL_ROWS = 30_000
FINAL_MARK = 10 ** 6  # the writer's last transaction has commit_ts = ts0 + FINAL_MARK


class Writer(threading.Thread):
    """Seeded random single-row-set transactions on ``db.h``, each recorded in the tso row."""

    def __init__(self, cfg, db: str, topic: str, seed: int, ts0: int):
        super().__init__(daemon=True)
        self.cfg, self.db, self.topic = cfg, db, topic
        self.rng = random.Random(seed)
        self.ts = ts0
        self.ts0 = ts0
        self.rows = {i: (i, f"v{i}", i * 7) for i in range(1, INITIAL_ROWS + 1)}
        self.next_id = INITIAL_ROWS + 1
        self.stop_after = threading.Event()
        self.committed: list[int] = []
        self.log: list[tuple[int, list[RowChange]]] = []  # (commit_ts, changes) in commit order
        self.error = None
        self.schema = TableSchema(db, "h", ("id", "v", "n"), ("int", "varchar", "bigint"), pk=(0,),
                                  unique_keys=(("PRIMARY", (0,)),))

    def state_at(self, ts: int) -> dict:
        """The table's rows after every transaction with commit_ts <= ``ts`` (the model)."""
        rows = {i: (i, f"v{i}", i * 7) for i in range(1, INITIAL_ROWS + 1)}
        for t, changes in self.log:
            if t > ts:
                break
            for c in changes:
                if c.op == Op.DELETE:
                    del rows[c.old[0]]
                else:
                    rows[c.new[0]] = c.new
        return rows

    def _change(self):
        r = self.rng.random()
        if r < 0.4 or not self.rows:
            i = self.next_id
            self.next_id += 1
            row = (i, f"new{i}-{self.rng.randrange(10**6)}", self.rng.randrange(-10**12, 10**12))
            self.rows[i] = row
            return RowChange(Op.INSERT, row, None), ("INSERT INTO h VALUES (%s,%s,%s)", row)
        i = self.rng.choice(list(self.rows)) if len(self.rows) < 1000 else self.rng.randrange(1, self.next_id)
        while i not in self.rows:
            i = self.rng.randrange(1, self.next_id)
        old = self.rows[i]
        if r < 0.8:
            new = (i, old[1] + "+", old[2] + 1)
            self.rows[i] = new
            return RowChange(Op.UPDATE, new, old), ("UPDATE h SET v = %s, n = %s WHERE id = %s", (new[1], new[2], i))
        del self.rows[i]
        return RowChange(Op.DELETE, None, old), ("DELETE FROM h WHERE id = %s", (i,))

    def run(self):
        try:
            conn = stack.connect(self.cfg.source, self.db)
            producer = Producer(producer_config(self.cfg.kafka))
            final = False
            while not final:
                final = self.stop_after.is_set()
                self.ts = self.ts0 + FINAL_MARK if final else self.ts + 1
                changes = [self._change() for _ in range(self.rng.randint(1, 3))]
                with conn.cursor() as cur:
                    cur.execute("BEGIN")
                    for _, (sql, args) in changes:
                        cur.execute(sql, args)
                    cur.execute("INSERT INTO _tidb2mysql_sim.tso VALUES (%s, %s) "
                                "ON DUPLICATE KEY UPDATE commit_ts = VALUES(commit_ts)", (self.topic, self.ts))
                    cur.execute("COMMIT")
                txn = Txn(self.ts, [TableChanges(self.schema, [c for c, _ in changes])])
                producer.produce(self.topic, encode_txn(txn, "UTC"), partition=0)
                producer.poll(0)
                self.committed.append(self.ts)
                self.log.append((self.ts, [c for c, _ in changes]))
                time.sleep(0.002)
            assert producer.flush(30) == 0
            conn.close()
        except BaseException as e:  # surfaced by the test
            self.error = e


@pytest.fixture
def handoff(stack_config, source_db, kafka_topic, tmp_path):
    same_db_fixture(stack_config, source_db)
    with stack.connect(stack_config.source, source_db) as s, stack.connect(stack_config.target, source_db) as t:
        with s.cursor() as cur:
            cur.execute("CREATE TABLE h (id INT PRIMARY KEY, v VARCHAR(40), n BIGINT)")
            cur.execute(f"INSERT INTO h SELECT seq, CONCAT('v', seq), seq * 7 FROM seq_1_to_{INITIAL_ROWS}")
            cur.execute("CREATE DATABASE IF NOT EXISTS _tidb2mysql_sim")
            cur.execute("CREATE TABLE IF NOT EXISTS _tidb2mysql_sim.tso "
                        "(topic VARCHAR(249) PRIMARY KEY, commit_ts BIGINT NOT NULL)")
            ts0 = make_tso(int(time.time() * 1000))
            cur.execute("REPLACE INTO _tidb2mysql_sim.tso VALUES (%s, %s)", (kafka_topic, ts0))
            cur.execute("SHOW CREATE TABLE h")
            ddl = cur.fetchone()[1]
        with t.cursor() as cur:
            cur.execute(ddl)
    job = source_db
    cfg = flowrun.write_config(tmp_path / "t2m.toml", topic=kafka_topic, job=job,
                               full_load={"chunk_rows": 5_000, "page_rows": 500, "progress_interval": 1.0})
    yield cfg, job, ts0
    drop_job(stack_config, job)
    with stack.connect(stack_config.source) as s, s.cursor() as cur:
        cur.execute("DELETE FROM _tidb2mysql_sim.tso WHERE topic = %s", (kafka_topic,))
    with stack.connect(stack_config.target) as t, t.cursor() as cur:
        for table in ("checkpoint", "ddl_history", "dead_letter"):
            cur.execute(f"DELETE FROM tidb2mysql.{table} WHERE job = %s", (job,))
    stack.drop_database(stack_config.target, source_db)


def _run_writer_during(stack_config, source_db, kafka_topic, seed, ts0, start_load, job):
    w = Writer(stack_config, source_db, kafka_topic, seed, ts0)
    w.start()
    try:
        flowrun.wait_until(lambda: len(w.committed) >= 50 or w.error, timeout=30, what="writer warm-up")
        proc = start_load()
        flowrun.wait_until(lambda: (job_row(stack_config, job) or ("",))[0] in ("loaded", "incremental")
                           or proc.poll() is not None, timeout=120, interval=0.05, what="full load done")
        time.sleep(0.2)  # a few more transactions after the load
    finally:
        w.stop_after.set()
        w.join(30)
    assert w.error is None, w.error
    return w, proc


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_handoff_full_load_then_incremental(stack_config, source_db, kafka_topic, handoff, tmp_path, seed):
    cfg, job, ts0 = handoff
    log1 = tmp_path / "full_load.log"
    cmd = [*flowrun.incremental_cmd(cfg)[:3], "full-load", "--config", str(cfg), "-w", "2",
           "--tables", f"{source_db}.*"]
    w, proc = _run_writer_during(stack_config, source_db, kafka_topic, seed, ts0,
                                 lambda: flowrun.start(cmd, log1), job)
    assert proc.wait(60) == 0, flowrun.tail(log1)
    stage, snap_ts, lock_ms, _ = job_row(stack_config, job)
    assert stage == "loaded"
    inside = [t for t in w.committed if t <= snap_ts]
    after = [t for t in w.committed if t > snap_ts]
    assert inside and after, (len(inside), len(after))  # the snapshot fell inside the stream
    assert snap_ts in w.committed  # the TSO is exactly a committed transaction's
    # The copy is exactly the source as of the snapshot TSO: every transaction <= TSO, none after.
    with stack.connect(stack_config.target, source_db) as t, t.cursor() as cur:
        cur.execute("SELECT id, v, n FROM h")
        copied = {r[0]: tuple(r) for r in cur.fetchall()}
    expected = w.state_at(snap_ts)
    assert copied == expected, (len(copied), len(expected))
    assert copied != w.state_at(after[0])  # and the model can tell the neighbouring TSO apart
    log2 = tmp_path / "incremental.log"
    inc = flowrun.incremental_cmd(cfg, workers=2, extra=("--start-commit-ts", str(snap_ts)))
    assert flowrun.run(inc, log2, timeout=180) == 0, flowrun.tail(log2)
    assert_equal(stack_config, source_db)


def test_handoff_with_migrate(stack_config, source_db, kafka_topic, handoff, tmp_path):
    cfg, job, ts0 = handoff
    with stack.connect(stack_config.target, source_db) as t, t.cursor() as cur:
        cur.execute("DROP TABLE h")  # migrate's schema stage creates it
    log = tmp_path / "migrate.log"
    cmd = [*flowrun.incremental_cmd(cfg)[:3], "migrate", "--config", str(cfg), "-w", "2",
           "--tables", f"{source_db}.*", "--stop-at-ts", str(ts0 + FINAL_MARK)]
    w, proc = _run_writer_during(stack_config, source_db, kafka_topic, 4, ts0, lambda: flowrun.start(cmd, log), job)
    try:
        assert proc.wait(180) == 0, flowrun.tail(log)
    finally:
        if proc.poll() is None:
            flowrun.kill(proc)
    stage, snap_ts, _, _ = job_row(stack_config, job)
    assert stage == "incremental"
    assert [t for t in w.committed if t <= snap_ts] and [t for t in w.committed if t > snap_ts]
    text = log.read_text()
    assert "tables_create=1" in text  # the schema stage created the target table
    assert f"incremental replication from after commit_ts {snap_ts}" in text
    assert_equal(stack_config, source_db)
