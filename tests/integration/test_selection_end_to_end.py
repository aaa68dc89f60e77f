"""Acceptance: [selection] across schema migration, full load, incremental replication and DDL.

Real servers and Kafka: the source database gets tables, a view and rows; `tidb2mysql schema`
and `tidb2mysql full-load` run with include/exclude/rename/column-subset rules; then a
hand-made Drainer stream (the same changes are made on the source, so the source stays the
oracle) goes through the real incremental flow: DML on selected/excluded tables, ALTER TABLE
on a renamed column, a column outside the subset added, CREATE TABLE matching the include
rule, CREATE/DROP of an excluded table, RENAME TABLE out of and into the selection. The
target must equal the mapped projection of the source, and ddl_history must say why.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from confluent_kafka import Producer

from tests.support import flowrun, stack
from tidb2mysql.compare import compare_databases
from tidb2mysql.drainer.encode import encode_ddl, encode_txn
from tidb2mysql.events import DDL, Op, RowChange, TableChanges, TableSchema, Txn, make_tso
from tidb2mysql.kafka_settings import producer_config

pytestmark = pytest.mark.integration


def q(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


def cli(*args, timeout=240):
    p = subprocess.run([sys.executable, "-m", "tidb2mysql.cli", *args], cwd=flowrun.REPO, capture_output=True,
                       text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def ts_schema(db, table, cols, types):
    return TableSchema(db, table, tuple(cols), tuple(types), pk=(0,), unique_keys=(("PRIMARY", (0,)),))


@pytest.fixture
def env(stack_config, source_db, target_db, source_conn, target_conn, kafka_topic, tmp_path):
    job = f"sel_{source_db[-20:]}"
    cfg = flowrun.write_config(tmp_path / "t2m.toml", topic=kafka_topic, job=job,
                               full_load={"chunk_rows": 1000, "page_rows": 100})
    S, T = source_db, target_db
    cfg.write_text(cfg.read_text() + f"""
[selection]
include = ["{S}.*"]
exclude = ["{S}.tmp_*"]
databases = {{ "{S}" = "{T}" }}

[[selection.tables]]
name = "{S}.users"
to = "customers"
columns = ["id", "name", "email"]
rename_columns = {{ email = "mail" }}
""")
    yield cfg, job
    with stack.connect(stack_config.target) as conn, conn.cursor() as cur:
        for t in ("checkpoint", "ddl_history", "dead_letter", "full_load_job", "full_load_chunks",
                  "full_load_lanes", "quarantine"):
            cur.execute(f"DELETE FROM tidb2mysql.{t} WHERE job=%s", (job,))


@pytest.mark.parametrize("workers,processes", [(1, 1), (2, 2)], ids=["w1", "p2w2"])
def test_selection_schema_full_load_incremental_and_ddl(stack_config, env, source_db, target_db, source_conn,
                                                         target_conn, kafka_topic, workers, processes):
    cfg, job = env
    S, T = source_db, target_db
    for sql in (
        "CREATE TABLE users (id int PRIMARY KEY, name varchar(20), secret varchar(20), email varchar(40),"
        " KEY k_secret (secret), UNIQUE KEY u_email (email))",
        "CREATE TABLE orders (id int PRIMARY KEY, amount int)",
        "CREATE TABLE tmp_log (id int PRIMARY KEY, x int)",
        "CREATE TABLE keep_me (id int PRIMARY KEY)",
        "CREATE VIEW v_users AS SELECT id, name FROM users",
        "CREATE VIEW v_log AS SELECT id FROM tmp_log",
    ):
        q(source_conn, sql)
    for i in range(1, 251):
        q(source_conn, "INSERT INTO users VALUES (%s, %s, %s, %s)", i, f"n{i}", f"s{i}", f"e{i}@x")
        q(source_conn, "INSERT INTO orders VALUES (%s, %s)", i, i * 3)
        q(source_conn, "INSERT INTO tmp_log VALUES (%s, %s)", i, i)
    q(source_conn, "INSERT INTO keep_me VALUES (1), (2)")

    # --- schema migration: dry run shows the view warning; then create without the broken view
    rc, out = cli("schema", "--config", str(cfg), "--databases", S, "--dry-run", "--json")
    assert "{" in out, out
    plan = json.JSONDecoder().raw_decode(out[out.index("{"):])[0]
    objs = {o["source"]: o for o in plan["objects"]}
    assert objs[f"{S}.users"]["target"] == f"{T}.customers"
    assert f"{S}.tmp_log" not in objs
    assert any("not selected" in d["reason"] for d in objs[f"{S}.v_log"]["decisions"] if d["level"] == "warning")
    assert any(n["source"] == f"{S}.tmp_log" for n in plan["not_migrated"])
    q(source_conn, "DROP VIEW v_log")
    rc, out = cli("schema", "--config", str(cfg), "--databases", S)
    assert rc == 0, out
    cols = q(target_conn, "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s AND "
             "TABLE_NAME='customers' ORDER BY ORDINAL_POSITION", T)
    assert cols == [("id",), ("name",), ("mail",)]
    assert sorted(r[0] for r in q(target_conn, f"SHOW FULL TABLES FROM `{T}`")) == \
        ["customers", "keep_me", "orders", "v_users"]
    assert q(target_conn, "SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA=%s AND "
             "TABLE_NAME='customers' AND COLUMN_NAME='mail'", T) == [("u_email",)]

    # --- full load: selected columns read, written under the target names
    rc, out = cli("full-load", "--config", str(cfg), "--tables", f"{S}.*", "-w", str(workers), "-p", str(processes))
    assert rc == 0, out
    assert q(target_conn, "SELECT COUNT(*), SUM(mail = CONCAT('e', id, '@x')) FROM customers") == [(250, 250)]

    # --- incremental: the same changes on the source and as Drainer messages
    p = Producer(producer_config(stack_config.kafka))
    ts = [make_tso(int(time.time() * 1000))]

    def nts():
        ts[0] += 1
        return ts[0]

    def ddl(table, sql):
        q(source_conn, sql)
        p.produce(kafka_topic, encode_ddl(DDL(nts(), S, table, sql)), partition=0)

    def txn(*tables):
        p.produce(kafka_topic, encode_txn(Txn(nts(), list(tables)), "UTC"), partition=0)

    u4 = ts_schema(S, "users", ("id", "name", "secret", "email"), ("int", "varchar", "varchar", "varchar"))
    u5 = ts_schema(S, "users", ("id", "name", "secret", "email", "note"), ("int", "varchar", "varchar", "varchar", "int"))
    orders = ts_schema(S, "orders", ("id", "amount"), ("int", "int"))
    tmp_log = ts_schema(S, "tmp_log", ("id", "x"), ("int", "int"))
    q(source_conn, "INSERT INTO users VALUES (300, 'n300', 's300', 'e300@x')")
    q(source_conn, "INSERT INTO tmp_log VALUES (300, 1)")
    q(source_conn, "UPDATE orders SET amount = 0 WHERE id = 5")
    txn(TableChanges(u4, [RowChange(Op.INSERT, (300, "n300", "s300", "e300@x"), None)]),
        TableChanges(tmp_log, [RowChange(Op.INSERT, (300, 1), None)]),
        TableChanges(orders, [RowChange(Op.UPDATE, (5, 0), (5, 15))]))
    ddl("users", "ALTER TABLE users CHANGE email email varchar(64)")  # a renamed column
    q(source_conn, "UPDATE users SET email = 'long-address-for-300@example.org' WHERE id = 300")
    txn(TableChanges(u4, [RowChange(Op.UPDATE, (300, "n300", "s300", "long-address-for-300@example.org"),
                                    (300, "n300", "s300", "e300@x"))]))
    ddl("users", "ALTER TABLE users ADD COLUMN note int")  # outside the column subset: skipped
    q(source_conn, "INSERT INTO users VALUES (301, 'n301', 's301', 'e301@x', 7)")
    q(source_conn, "DELETE FROM users WHERE id = 2")
    txn(TableChanges(u5, [RowChange(Op.INSERT, (301, "n301", "s301", "e301@x", 7), None),
                          RowChange(Op.DELETE, None, (2, "n2", "s2", "e2@x", None))]))
    ddl("newt", "CREATE TABLE newt (id int PRIMARY KEY, v varchar(10))")  # matches the include rule
    q(source_conn, "INSERT INTO newt VALUES (1, 'a'), (2, 'b')")
    newt = ts_schema(S, "newt", ("id", "v"), ("int", "varchar"))
    txn(TableChanges(newt, [RowChange(Op.INSERT, (1, "a"), None), RowChange(Op.INSERT, (2, "b"), None)]))
    ddl("tmp_new", "CREATE TABLE tmp_new (id int PRIMARY KEY)")  # excluded
    ddl("tmp_keep", "RENAME TABLE keep_me TO tmp_keep")  # out of the selection
    q(source_conn, "INSERT INTO tmp_keep VALUES (3)")
    txn(TableChanges(ts_schema(S, "tmp_keep", ("id",), ("int",)), [RowChange(Op.INSERT, (3,), None)]))
    ddl("log2", "RENAME TABLE tmp_log TO log2")  # into the selection: needs copy
    q(source_conn, "INSERT INTO log2 VALUES (301, 2)")
    txn(TableChanges(ts_schema(S, "log2", ("id", "x"), ("int", "int")), [RowChange(Op.INSERT, (301, 2), None)]))
    ddl("tmp_new", "DROP TABLE tmp_new")
    assert p.flush(30) == 0

    log = cfg.parent / "inc.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, workers, processes), log, timeout=180)
    assert rc == 0, flowrun.tail(log)
    text = log.read_text()
    assert "selection rule: table" in text
    assert f"selection: dropping row changes of {S}.tmp_log (excluded by selection rule" in text
    assert f"selection: dropping row changes of {S}.tmp_keep" in text

    # --- the target equals the mapped projection of the source
    src_users = q(source_conn, "SELECT id, name, email FROM users ORDER BY id")
    assert q(target_conn, "SELECT id, name, mail FROM customers ORDER BY id") == src_users
    assert len(src_users) == 251 and (300, "n300", "long-address-for-300@example.org") in src_users
    a, b = stack.connect(stack_config.source), stack.connect(stack_config.target)
    try:
        result = compare_databases(a, S, b, T, tables=["orders", "newt"])
    finally:
        a.close()
        b.close()
    assert result.equal, str(result)
    assert q(target_conn, "SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA=%s "
             "AND TABLE_NAME='customers' AND COLUMN_NAME='mail'", T) == [(64,)]
    assert sorted(r[0] for r in q(target_conn, f"SHOW FULL TABLES FROM `{T}`")) == \
        ["customers", "keep_me", "newt", "orders", "v_users"]
    assert q(target_conn, "SELECT id FROM keep_me ORDER BY id") == [(1,), (2,)]  # kept, no longer replicated

    hist = {r[0]: (r[1], json.loads(r[2])) for r in q(
        target_conn, "SELECT query, status, decisions FROM tidb2mysql.ddl_history WHERE job=%s", job)}
    assert len(hist) == 7
    assert hist["ALTER TABLE users CHANGE email email varchar(64)"][0] == "applied"
    assert hist["CREATE TABLE newt (id int PRIMARY KEY, v varchar(10))"][0] == "applied"
    for qtext, why in [("ALTER TABLE users ADD COLUMN note int", "note not selected"),
                       ("CREATE TABLE tmp_new (id int PRIMARY KEY)", "excluded by selection"),
                       ("DROP TABLE tmp_new", "excluded by selection"),
                       ("RENAME TABLE keep_me TO tmp_keep", "renamed out of the selection")]:
        status, decisions = hist[qtext]
        assert status == "skipped" and any(why in d["reason"] for d in decisions), (qtext, hist[qtext])
    status, decisions = hist["RENAME TABLE tmp_log TO log2"]
    assert status == "needs-recopy" and any("needs copy" in d["reason"] for d in decisions)
    # log2's rows are not on the target: the RENAME is parked for the operator (dead letter),
    # log2 is quarantined and its change is dead-lettered, never silently lost.
    dl = q(target_conn, "SELECT kind, table_name FROM tidb2mysql.dead_letter WHERE job=%s ORDER BY kind", job)
    assert dl == [("ddl", "log2"), ("quarantine", "log2")], dl
