"""``tidb2mysql precheck`` against the real source, target and Kafka: one real failing condition each.

Restricted users are created with CREATE USER / GRANT on the servers and dropped afterwards;
topics and databases are unique per test (the stack is shared).
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from dataclasses import replace

import pytest

from tidb2mysql import config as config_mod
from tidb2mysql.mysql import db
from tidb2mysql.drainer.encode import encode_txn
from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema, Txn
from tidb2mysql.ops.precheck import FAIL, PASS, WARN, PrecheckOptions, run_precheck
from tests.support.drainer_stream import Stream
from tests.support import flowrun

pytestmark = pytest.mark.integration


def by_name(checks):
    return {c.name: c for c in checks}


def write_cfg(tmp_path, topic, source_db, **sections):
    path = flowrun.write_config(tmp_path / f"pc_{uuid.uuid4().hex[:6]}.toml", topic=topic, job="precheck", **sections)
    path.write_text(path.read_text() + f'\n[full_load]\ntables = ["{source_db}.*"]\n')  # flowrun writes no lists
    return path, config_mod.load(path)


@pytest.fixture
def keyed(source_conn, source_db, stack_config, kafka_topic):
    with source_conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(20))")
        cur.execute("CREATE VIEW vt AS SELECT id FROM t")
    s = Stream(stack_config, kafka_topic)
    s.txn(TableChanges(TableSchema(source_db, "t", ("id", "v"), ("bigint", "varchar"), pk=(0,)),
                       [RowChange(Op.INSERT, (1, "a"), None)]))
    s.flush()
    return s


@pytest.fixture
def restricted_user(request):
    """Create a user on a server with only some privileges; dropped afterwards."""
    made = []

    def make(endpoint, grants):
        name = f"pc_{uuid.uuid4().hex[:8]}"
        conn = db.connect(endpoint)
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER '{name}'@'%' IDENTIFIED BY 'pw'")
            for g in grants:
                cur.execute(f"GRANT {g} TO '{name}'@'%'")
        made.append((endpoint, name))
        conn.close()
        return replace(endpoint, user=name, password="pw")

    yield make
    for endpoint, name in made:
        conn = db.connect(endpoint)
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{name}'@'%'")
        conn.close()


def test_everything_passes_and_the_cli_exits_0(keyed, source_db, tmp_path):
    path, cfg = write_cfg(tmp_path, keyed.topic, source_db)
    checks = by_name(run_precheck(cfg))
    assert [c for c in checks.values() if c.status == FAIL] == []
    assert checks["source.privileges"].status == PASS and checks["target.privileges"].status == PASS
    assert checks["target.isolation"].status == PASS and "READ COMMITTED" in checks["target.isolation"].detail
    assert checks["target.local_infile"].status == PASS  # the stack's target accepts LOAD DATA LOCAL
    assert checks["kafka.topic"].status == PASS and "1 messages" in checks["kafka.topic"].detail
    assert checks["source.keys"].status == PASS
    assert checks["space"].status == WARN and "unknown" in checks["space"].detail  # honest: not observable
    assert checks["source.tidb_gc"].detail.startswith("not applicable")
    r = subprocess.run([sys.executable, "-m", "tidb2mysql.cli", "precheck", "--config", str(path), "--json"],
                       cwd=flowrun.REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["ok"] is True


def test_source_user_without_show_view(keyed, source_db, tmp_path, restricted_user):
    path, cfg = write_cfg(tmp_path, keyed.topic, source_db)
    cfg = replace(cfg, source=restricted_user(cfg.source, [f"SELECT ON `{source_db}`.*"]))
    c = by_name(run_precheck(cfg))["source.privileges"]
    assert c.status == FAIL and f"SHOW VIEW on {source_db}.vt" in c.detail and "GRANT SELECT, SHOW VIEW" in c.fix


def test_source_user_who_cannot_see_the_tables(keyed, source_db, tmp_path, restricted_user):
    path, cfg = write_cfg(tmp_path, keyed.topic, source_db)
    cfg = replace(cfg, source=restricted_user(cfg.source, ["PROCESS ON *.*"]))
    c = by_name(run_precheck(cfg))["source.selection"]
    assert c.status == FAIL and f"{source_db}.*" in c.detail


def test_target_user_without_alter(keyed, source_db, tmp_path, restricted_user):
    path, cfg = write_cfg(tmp_path, keyed.topic, source_db)
    cfg = replace(cfg, target=restricted_user(cfg.target, ["SELECT, INSERT, UPDATE, DELETE, CREATE, DROP ON *.*"]))
    c = by_name(run_precheck(cfg))["target.privileges"]
    assert c.status == FAIL and "ALTER failed" in c.detail and "command denied" in c.detail
    tgt = db.connect(cfg.target.__class__(**{**cfg.target.__dict__, "user": "tidb2mysql", "password": "tidb2mysql"}))
    with tgt.cursor() as cur:  # the scratch schema was removed again
        cur.execute("SHOW DATABASES LIKE '\\_tidb2mysql\\_precheck\\_%'")
        assert cur.fetchall() == ()
    tgt.close()


def test_missing_topic_and_unreachable_source(keyed, source_db, tmp_path):
    path, cfg = write_cfg(tmp_path, f"no_such_topic_{uuid.uuid4().hex[:8]}", source_db, source={"port": 1})
    checks = by_name(run_precheck(cfg))
    assert checks["kafka.topic"].status == FAIL and "does not exist" in checks["kafka.topic"].detail
    assert checks["source.connect"].status == FAIL and "127.0.0.1:1" in checks["source.connect"].detail
    assert "source.privileges" not in checks  # depends on the connection: not run, root cause reported
    r = subprocess.run([sys.executable, "-m", "tidb2mysql.cli", "precheck", "--config", str(path)],
                       cwd=flowrun.REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "FAIL  kafka.topic" in r.stdout and "fix:" in r.stdout


def test_table_without_key_warns_or_fails_by_policy(keyed, source_conn, source_db, tmp_path):
    with source_conn.cursor() as cur:
        cur.execute("CREATE TABLE nokey (a INT, b INT)")
        cur.execute("CREATE TABLE nullable_uk (a INT NULL, UNIQUE KEY (a))")  # NULLs repeat: not a key
    path, cfg = write_cfg(tmp_path, keyed.topic, source_db)
    c = by_name(run_precheck(cfg))["source.keys"]
    assert c.status == WARN and f"{source_db}.nokey" in c.detail and f"{source_db}.nullable_uk" in c.detail
    assert f"{source_db}.t" not in c.detail.replace(f"{source_db}.t,", "")
    c = by_name(run_precheck(cfg, PrecheckOptions(keyless=FAIL)))["source.keys"]
    assert c.status == FAIL


def test_consumer_limit_smaller_than_a_message(source_db, source_conn, stack_config, kafka_topic, tmp_path):
    s = Stream(stack_config, kafka_topic)
    big = "x" * 2_000_000
    s.send(encode_txn(Txn(s.next_ts(), [TableChanges(TableSchema(source_db, "t", ("id", "v"), ("bigint", "text"), pk=(0,)),
                                                    [RowChange(Op.INSERT, (1, big), None)])]), "UTC"))
    s.flush()
    with source_conn.cursor() as cur:
        cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, v LONGTEXT)")
    limits = {"fetch.max.bytes": 1_000_000, "max.partition.fetch.bytes": 1_000_000, "receive.message.max.bytes": 1_100_000}
    path, cfg = write_cfg(tmp_path, kafka_topic, source_db, kafka={"client": limits})
    checks = by_name(run_precheck(cfg, PrecheckOptions(sample_timeout=5)))
    assert checks["kafka.topic"].status == FAIL, checks["kafka.topic"]
    assert "receive.message.max.bytes" in checks["kafka.topic"].fix
    assert "Invalid response size 2000" in checks["kafka.topic"].detail  # librdkafka's reason, collected
    assert checks["kafka.limits"].status in (WARN, FAIL) and "receive.message.max.bytes 1100000" in checks["kafka.limits"].detail
    # The job's default limits read it.
    path, cfg = write_cfg(tmp_path, kafka_topic, source_db)
    checks = by_name(run_precheck(cfg))
    assert checks["kafka.topic"].status == PASS and "2000" in checks["kafka.topic"].detail


def test_topic_whose_message_limit_is_below_drainers(source_db, source_conn, stack_config, tmp_path):
    from tests.support import stack
    from confluent_kafka.admin import AdminClient, NewTopic
    from tidb2mysql.kafka_settings import admin_config

    name = f"t2m_small_{uuid.uuid4().hex[:8]}"
    admin = AdminClient(admin_config(stack_config.kafka))
    admin.create_topics([NewTopic(name, 1, 1, config={"max.message.bytes": "1000000"})])[name].result(30)
    try:
        with source_conn.cursor() as cur:
            cur.execute("CREATE TABLE t (id BIGINT PRIMARY KEY)")
        path, cfg = write_cfg(tmp_path, name, source_db)
        c = by_name(run_precheck(cfg))["kafka.limits"]
        assert c.status == WARN and "message limit 1000000 < Drainer's 1 GiB" in c.detail
    finally:
        stack.delete_topic(stack_config.kafka, name)


def test_drainer_time_zone_differs_from_the_source(keyed, source_db, tmp_path):
    path, cfg = write_cfg(tmp_path, keyed.topic, source_db, drainer={"time_zone": "Asia/Shanghai"})
    c = by_name(run_precheck(cfg))["drainer.time_zone"]
    assert c.status == WARN and "Asia/Shanghai" in c.detail and "UTC+08:00" in c.detail and "UTC+00:00" in c.detail


def test_a_target_with_local_infile_off_is_a_warning_with_the_fix(keyed, source_db, tmp_path):
    path, cfg = write_cfg(tmp_path, keyed.topic, source_db)
    conn = db.connect(cfg.target)
    with conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.local_infile")
        (was,) = cur.fetchone()
        cur.execute("SET GLOBAL local_infile = 0")
    try:
        c = by_name(run_precheck(cfg))["target.local_infile"]
    finally:
        with conn.cursor() as cur:
            cur.execute(f"SET GLOBAL local_infile = {int(was)}")
        conn.close()
    assert c.status == WARN and "local_infile = OFF" in c.detail and "SET GLOBAL local_infile = 1" in c.fix
