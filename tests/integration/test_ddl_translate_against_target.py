"""``tidb2mysql ddl translate --config F --against-target`` on the real target (MariaDB).

The command translates as the incremental flow's DDL barrier does: the detected target
version, the target's tables as catalog, shadow validation in a scratch database. Checked
here: the decisions only the target's tables make possible are there and marked, a statement
the target rejects without a fallback is an error (exit 1), nothing real changes, and the
scratch database is gone afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import flowrun, stack

pytestmark = pytest.mark.integration

TABLES = [
    "CREATE TABLE p (id int, a int, b varchar(10), PRIMARY KEY (id, a)) PARTITION BY HASH(a) PARTITIONS 4",
    "CREATE TABLE w (a int) DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE r (a varchar(10000)) DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE k (a int, b int, PRIMARY KEY (a))",
]
DDL = """
ALTER TABLE p ADD UNIQUE KEY uk (b);
ALTER TABLE w ADD COLUMN c VARCHAR(20000);
ALTER TABLE r ADD COLUMN b VARCHAR(10000);
ALTER TABLE k ADD KEY kk (b, b);
ALTER TABLE k ADD COLUMN c INT;
"""


def cli(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "tidb2mysql.cli", "ddl", "translate", *args], cwd=flowrun.REPO,
                          input=stdin, capture_output=True, text=True, timeout=120)


def structure(conn, db: str) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s", (db,))
        names = sorted(r[0] for r in cur.fetchall())
        out = {}
        for n in names:
            cur.execute(f"SHOW CREATE TABLE `{db}`.`{n}`")
            out[n] = cur.fetchone()[1]
    return out


def databases(conn) -> set:
    with conn.cursor() as cur:
        cur.execute("SHOW DATABASES")
        return {r[0] for r in cur.fetchall()}


def test_translate_against_the_target_uses_catalog_and_shadow(target_conn, target_db):
    with target_conn.cursor() as cur:
        for sql in TABLES:
            cur.execute(sql)
    before = structure(target_conn, target_db)
    config = str(stack.config_path())

    plain = cli("--json", "--schema", target_db, stdin=DDL)
    assert plain.returncode == 0, plain.stderr  # from the text alone every statement "runs as written"
    r = cli("--config", config, "--against-target", "--json", "--schema", target_db, stdin=DDL)
    assert r.returncode == 1, r.stderr  # the duplicate key column: an error, as the flow would park it
    doc = json.loads(r.stdout)
    with target_conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = cur.fetchone()[0]
    assert doc["target"].startswith("mariadb:") and doc["target"].split(":")[1] in version
    assert doc["against_target"]["endpoint"].endswith("@127.0.0.1:13306")
    p, w, rr, k, k2 = doc["statements"]

    # catalog: the table on the target is partitioned by a, which the UNIQUE key misses
    assert p["statements"][-1] == "ALTER TABLE p ADD KEY uk (b)"
    assert any("partitioning column" in d["reason"] for d in p["target_decisions"]), p
    # catalog: the table's utf8mb4 makes VARCHAR(20000) too long in bytes
    assert w["statements"][-1] == "ALTER TABLE w ADD COLUMN c MEDIUMTEXT", w
    assert w["target_decisions"] and all(d["level"] == "warning" for d in w["target_decisions"])
    # shadow: each column fits, the row does not (error 1118): the documented fallback
    assert "VARCHAR(10000)" not in rr["statements"][-1].upper(), rr
    assert any("shadow validation" in d["reason"] and "1118" in d["reason"] for d in rr["target_decisions"]), rr
    # shadow: rejected without a fallback -> nothing to run, an error naming the server's reason
    assert k["statements"] == [] and k["untranslatable"], k
    assert any(d["level"] == "error" and "1060" in d["reason"] for d in k["target_decisions"]), k
    # the target changes nothing about a plain statement
    assert k2["statements"][-1] == "ALTER TABLE k ADD COLUMN c INT" and k2["target_decisions"] == []

    text = cli("--config", config, "--against-target", "--schema", target_db, stdin=DDL)
    assert text.returncode == 1
    assert "-- against tidb2mysql@127.0.0.1:13306" in text.stdout
    assert "WARNING changed [target]: ALTER TABLE p: UNIQUE key uk made a plain index" in text.stdout
    assert "ERROR skipped [target]: ALTER TABLE k: the target rejects" in text.stdout

    # nothing real changed; the scratch databases are gone
    assert structure(target_conn, target_db) == before
    assert doc["against_target"]["shadow_database"].startswith("_tidb2mysql_shadow_")
    assert doc["against_target"]["shadow_database"] not in databases(target_conn)


def test_against_target_needs_a_config_and_names_a_connect_failure(tmp_path, monkeypatch):
    monkeypatch.delenv("TIDB2MYSQL_CONFIG", raising=False)
    r = cli("--against-target", "ALTER TABLE t ADD COLUMN c INT")
    assert r.returncode == 2 and "--against-target needs --config" in r.stderr, r.stderr
    bad = flowrun.write_config(tmp_path / "bad.toml", topic="unused", job="unused",
                               target={"password": "wrong-password-for-test"})
    r = cli("--config", str(bad), "--against-target", "ALTER TABLE t ADD COLUMN c INT")
    assert r.returncode == 2 and "cannot connect" in r.stderr and "127.0.0.1" in r.stderr, r.stderr
    assert "wrong-password-for-test" not in r.stdout + r.stderr
