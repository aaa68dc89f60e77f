"""What the DDL barrier does when a DDL cannot simply run: a permanent failure (strict: the
flow stops and stays stopped until `tidb2mysql ddl resolve`; non-strict: the table is
quarantined), a DDL blocked behind a long target transaction, and the target connection cut
while a DDL statement executes. All on the real stack, through the real flow."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tidb2mysql import config as config_mod
from tidb2mysql.mysql import db
from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema
from tidb2mysql.replication import deadletter
from tests.support import flowrun
from tests.support.drainer_stream import q, schema, stream_env

pytestmark = [pytest.mark.integration]


@pytest.fixture
def env(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "ddlout") as env_:
        yield env_


def cli(*args, cfg) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tidb2mysql.cli", *args, "--config", str(cfg)],
                          cwd=flowrun.REPO, capture_output=True, text=True, timeout=60)


def history(conn, job):
    return q(conn, "SELECT commit_ts, status, error, decisions, attempts, blocked_since FROM tidb2mysql.ddl_history"
                   " WHERE job=%s ORDER BY commit_ts", job)


def base_stream(s, dbn):
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "t", "create table t (id bigint primary key, v varchar(20))")
    s.ddl(dbn, "u", "create table u (id bigint primary key, v varchar(20))")
    s.txn(TableChanges(schema(dbn), [RowChange(Op.INSERT, (i, f"v{i}"), None) for i in range(10)]))


def wide(dbn):
    return TableSchema(dbn, "t", ("id", "v", "w"), ("bigint", "varchar", "int"), pk=(0,),
                       unique_keys=(("PRIMARY", (0,)),))


def u_schema(dbn):
    return TableSchema(dbn, "u", ("id", "v"), ("bigint", "varchar"), pk=(0,), unique_keys=(("PRIMARY", (0,)),))


def run_flow(cfg, tmp, name, timeout=120, **kw):
    log = tmp / f"{name}.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 2, 1, **kw), log, timeout=timeout)
    return rc, log


def test_strict_failure_then_resolve(env):
    s, dbn, job, conn, tmp = env
    base_stream(s, dbn)
    s.flush()
    cfg = flowrun.write_config(tmp / "t2m.toml", topic=s.topic, job=job, incremental={"strict": True})
    rc, log = run_flow(cfg, tmp, "setup")
    assert rc == 0, flowrun.tail(log)
    with conn.cursor() as cur:  # a hand-made change on the target that the replicated DDL collides with
        cur.execute(f"ALTER TABLE `{dbn}`.t ADD COLUMN w INT")
    s.ddl(dbn, "t", "alter table t add column w int")
    ddl_ts = s.ts
    s.txn(TableChanges(wide(dbn), [RowChange(Op.INSERT, (100, "after", 5), None)]))
    s.flush()
    for attempt in ("first", "restart"):
        rc, log = run_flow(cfg, tmp, attempt)
        assert rc != 0, f"{attempt}: the flow must stop at the failed DDL\n" + flowrun.tail(log)
        text = log.read_text()
        assert "ddl resolve" in text and str(ddl_ts) in text
        (ts, status, error, *_), = [h for h in history(conn, job) if h[0] == ddl_ts]
        assert status == "failed" and "1060" in error
        assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t WHERE id=100") == [(0,)], "a row after the DDL was applied"
    st = cli("status", "--no-kafka", cfg=cfg)
    assert "STOPPED at DDL" in st.stdout and f"--commit-ts {ddl_ts}" in st.stdout, st.stdout
    bad = cli("ddl", "resolve", "--commit-ts", "12345", "--skip", cfg=cfg)
    assert bad.returncode == 2 and "no DDL at commit_ts 12345" in bad.stderr
    ok = cli("ddl", "resolve", "--commit-ts", str(ddl_ts), "--applied-by-hand", cfg=cfg)
    assert ok.returncode == 0, ok.stderr
    rc, log = run_flow(cfg, tmp, "resolved")
    assert rc == 0, flowrun.tail(log)
    (ts, status, error, decisions, *_), = [h for h in history(conn, job) if h[0] == ddl_ts]
    assert status == "manual-applied"
    assert q(conn, f"SELECT id, v, w FROM `{dbn}`.t WHERE id=100") == [(100, "after", 5)]
    assert deadletter.count(conn, "tidb2mysql", job) == 1  # the failed DDL, parked when it failed


def test_non_strict_failure_quarantines_the_table(env):
    s, dbn, job, conn, tmp = env
    base_stream(s, dbn)
    s.flush()
    cfg = flowrun.write_config(tmp / "t2m.toml", topic=s.topic, job=job)
    rc, log = run_flow(cfg, tmp, "setup")
    assert rc == 0, flowrun.tail(log)
    with conn.cursor() as cur:
        cur.execute(f"ALTER TABLE `{dbn}`.t ADD COLUMN w INT")
    s.ddl(dbn, "t", "alter table t add column w int")
    ddl_ts = s.ts
    s.txn(TableChanges(wide(dbn), [RowChange(Op.INSERT, (100 + i, "after", i), None) for i in range(5)]),
          TableChanges(u_schema(dbn), [RowChange(Op.INSERT, (i, "u"), None) for i in range(5)]))
    s.flush()
    rc, log = run_flow(cfg, tmp, "quarantine")
    assert rc == 0, flowrun.tail(log)
    (ts, status, error, *_), = [h for h in history(conn, job) if h[0] == ddl_ts]
    assert status == "quarantined" and "1060" in error
    assert q(conn, "SELECT schema_name, table_name FROM tidb2mysql.quarantine WHERE job=%s", job) == [(dbn, "t")]
    kinds = q(conn, "SELECT kind, COUNT(*) FROM tidb2mysql.dead_letter WHERE job=%s GROUP BY kind ORDER BY kind", job)
    assert kinds == [("ddl", 1), ("quarantine", 5)]
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t WHERE id >= 100") == [(0,)]
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.u") == [(5,)], "other tables carry on"
    st = cli("status", "--no-kafka", cfg=cfg)
    assert f"quarantined      {dbn}.t" in st.stdout, st.stdout
    # A replay of the whole topic parks nothing twice.
    rc, log = run_flow(cfg, tmp, "replay")
    assert deadletter.count(conn, "tidb2mysql", job) == 6


def test_ddl_blocked_by_a_long_target_transaction(env):
    """A DDL behind a transaction holding a metadata lock longer than ddl_lock_wait_seconds:
    blocked (status says so), retried, applied exactly once when the transaction ends."""
    s, dbn, job, conn, tmp = env
    base_stream(s, dbn)
    s.flush()
    cfg = flowrun.write_config(tmp / "t2m.toml", topic=s.topic, job=job,
                               incremental={"ddl_lock_wait_seconds": 1})
    rc, log = run_flow(cfg, tmp, "setup")
    assert rc == 0, flowrun.tail(log)
    s.ddl(dbn, "t", "alter table t add column w int")
    ddl_ts = s.ts
    s.txn(TableChanges(wide(dbn), [RowChange(Op.INSERT, (100, "after", 5), None)]))
    s.flush()
    holder = db.connect(config_mod.load(str(cfg)).target, autocommit=False)
    with holder.cursor() as cur:
        cur.execute("START TRANSACTION")
        cur.execute(f"SELECT COUNT(*) FROM `{dbn}`.t")  # holds a shared metadata lock until COMMIT
    log = tmp / "blocked.log"
    p = flowrun.start(flowrun.incremental_cmd(cfg, 2, 1), log)
    try:
        flowrun.wait_until(lambda: any(h[0] == ddl_ts and h[5] is not None for h in history(conn, job)), 60,
                           what="the DDL recorded as blocked")
        time.sleep(3)  # several lock-wait timeouts and retries
        assert p.poll() is None, flowrun.tail(log)
        (ts, status, error, decisions, attempts, since), = [h for h in history(conn, job) if h[0] == ddl_ts]
        assert status == "running" and "1205" in error and attempts >= 2, (status, error, attempts)
        st = cli("status", "--no-kafka", cfg=cfg)
        assert "DDL blocked since" in st.stdout and "1205" in st.stdout, st.stdout
        assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.t WHERE id=100") == [(0,)]
    finally:
        holder.commit()
        holder.close()
    assert p.wait(timeout=120) == 0, flowrun.tail(log)
    (ts, status, error, decisions, attempts, since), = [h for h in history(conn, job) if h[0] == ddl_ts]
    assert status == "applied" and since is None and "tolerated" not in decisions
    assert q(conn, f"SELECT id, v, w FROM `{dbn}`.t WHERE id=100") == [(100, "after", 5)]
    assert deadletter.count(conn, "tidb2mysql", job) == 0


def test_live_connection_cut_while_a_ddl_statement_runs(env, stack_config):
    """The TCP proxy closes the executor's established connection while a slow ALTER runs on
    the server. The statement finishes there; the next executor (after re-taking the lock,
    which the old session holds until then) must see from the schema that it took effect."""
    from tests.support.tcp_proxy import TcpProxy

    s, dbn, job, conn, tmp = env
    with conn.cursor() as cur:  # a table large enough for a copying ALTER to take a while
        cur.execute(f"CREATE DATABASE `{dbn}`")
        cur.execute(f"CREATE TABLE `{dbn}`.big (id BIGINT PRIMARY KEY, n INT) DEFAULT CHARSET=utf8mb4"
                    " COLLATE=utf8mb4_bin")
        cur.execute(f"USE `{dbn}`")
        cur.execute("INSERT INTO big SELECT seq, seq % 1000 FROM seq_1_to_400000")
    big = TableSchema(dbn, "big", ("id", "n", "z"), ("bigint", "bigint", "int"), pk=(0,),
                      unique_keys=(("PRIMARY", (0,)),))
    # MODIFY forces a copy (slow); a second run would fail on the ADD COLUMN with 1060.
    s.ddl(dbn, "big", "alter table big modify n bigint, add column z int not null default 7")
    ddl_ts = s.ts
    s.txn(TableChanges(big, [RowChange(Op.INSERT, (500000 + i, i, 1), None) for i in range(10)]))
    s.flush()
    proxy = TcpProxy(stack_config.target.host, stack_config.target.port)
    try:
        cfg = flowrun.write_config(tmp / "t2m.toml", topic=s.topic, job=job,
                                   target={"port": proxy.port, "host": "127.0.0.1"})
        log = tmp / "cut.log"
        p = flowrun.start(flowrun.incremental_cmd(cfg, 2, 1), log)
        flowrun.wait_until(lambda: q(conn, "SELECT COUNT(*) FROM information_schema.processlist"
                                           " WHERE info LIKE 'alter table big modify%%'")[0][0] > 0, 90,
                           interval=0.05, what="the ALTER running on the server")
        proxy.outage(0.5)
        rc = p.wait(timeout=180)
        assert rc == 0, flowrun.tail(log)
    finally:
        proxy.close()
    (ts, status, error, decisions, attempts, since), = [h for h in history(conn, job) if h[0] == ddl_ts]
    assert status == "applied" and attempts >= 2, (status, attempts, decisions)
    assert "tolerated" not in decisions, decisions  # never sent twice
    cols = q(conn, "SELECT column_name, column_type FROM information_schema.columns WHERE table_schema=%s"
                   " AND table_name='big' ORDER BY ordinal_position", dbn)
    assert cols == [("id", "bigint(20)"), ("n", "bigint(20)"), ("z", "int(11)")]
    assert q(conn, f"SELECT COUNT(*), SUM(z) FROM `{dbn}`.big") == [(400010, 400000 * 7 + 10)]
    assert deadletter.count(conn, "tidb2mysql", job) == 0


def test_an_untranslatable_ddl_is_parked_and_stops_strict_mode(env):
    """RECOVER TABLE restores rows without row events: the target cannot follow by DDL. Never a
    silent skip: non-strict parks it (dead letter, table quarantined, status needs-recopy);
    strict stops the flow at it."""
    s, dbn, job, conn, tmp = env
    base_stream(s, dbn)
    s.ddl(dbn, "t", "recover table t")
    ddl_ts = s.ts
    s.txn(TableChanges(schema(dbn), [RowChange(Op.INSERT, (100, "after"), None)]),
          TableChanges(u_schema(dbn), [RowChange(Op.INSERT, (1, "u"), None)]))
    s.flush()
    cfg = flowrun.write_config(tmp / "t2m.toml", topic=s.topic, job=job)
    rc, log = run_flow(cfg, tmp, "lenient")
    assert rc == 0, flowrun.tail(log)
    (ts, status, error, *_), = [h for h in history(conn, job) if h[0] == ddl_ts]
    assert status == "needs-recopy" and "copy the table again" in error
    kinds = q(conn, "SELECT kind, COUNT(*) FROM tidb2mysql.dead_letter WHERE job=%s GROUP BY kind ORDER BY kind", job)
    assert kinds == [("ddl", 1), ("quarantine", 1)]
    assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.u") == [(1,)]

    strict_job = job + "_strict"
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE `{dbn}`")
    cfg2 = flowrun.write_config(tmp / "strict.toml", topic=s.topic, job=strict_job, incremental={"strict": True})
    try:
        rc, log = run_flow(cfg2, tmp, "strict")
        assert rc != 0 and "ddl resolve" in log.read_text()
        (ts, status, error, *_), = [h for h in history(conn, strict_job) if h[0] == ddl_ts]
        assert status == "failed"
        assert q(conn, f"SELECT COUNT(*) FROM `{dbn}`.u") == [(0,)], "nothing after the DDL is applied"
    finally:
        with conn.cursor() as cur:
            for t in ("checkpoint", "ddl_history", "dead_letter", "job_control", "quarantine"):
                cur.execute(f"DELETE FROM tidb2mysql.{t} WHERE job=%s", (strict_job,))
