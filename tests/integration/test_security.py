"""Secure connections as users deploy them, against real secured servers (issue 14).

The secured stack (tests/support/secure_stack.py, ``make up SECURE=1``): Kafka with SASL_SSL
and SASL_PLAINTEXT listeners (SCRAM-SHA-256/512), MariaDB source and target with TLS, a
least-privilege migration user that REQUIRE SSL, a test CA, and an unrelated "rogue" CA.

What is proven here, with no mocks:
* the whole migration path (simulator -> Kafka -> incremental flow -> target) works over
  SASL_SSL and over SASL_PLAINTEXT, with TLS to both databases, as the least-privilege user;
* each misconfiguration users make (wrong password, unknown user, untrusted CA, host name
  mismatch, plaintext against a REQUIRE SSL user or a SASL listener) fails fast, names the
  endpoint, says how to fix it, in precheck and in the flow, and applies nothing;
* no password appears in any log line, ``--json`` output, the metrics page, an exception
  message or a process command line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pymysql
import pytest

from tests.support import flowrun
from tests.support.secure_stack import SecureStack, ensure_up
from tests.support.stack import unique_name
from tidb2mysql import config as config_mod
from tidb2mysql.mysql import db
from tidb2mysql.compare import compare_databases
from tidb2mysql.kafka_settings import KafkaConnectError, check_connection

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sec() -> SecureStack:
    return ensure_up()


@pytest.fixture(scope="module")
def app(sec):
    return sec.load(sec.app_config_path)


@pytest.fixture(scope="module")
def secrets(sec) -> dict[str, str]:
    s = sec.secrets()
    assert all(len(v) >= 16 for v in s.values())
    return s


def assert_no_secret(text: str, secrets: dict[str, str], what: str) -> None:
    leaked = [name for name, value in secrets.items() if value in text]
    assert not leaked, f"{what} contains the password(s) of {leaked}"


def _one(conn, sql, *args):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchone()


def cli(*args, env=None, timeout=180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tidb2mysql.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def write_toml(path: Path, base: Path, **sections) -> Path:
    data = tomllib.loads(base.read_text())
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
        for k, v in list(data[name].items()):
            if v is None:
                del data[name][k]
    path.write_text(flowrun.dump_toml(data))
    return path


# -- MySQL over TLS ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["source", "target"])
@pytest.mark.parametrize("mode", ["verify_identity", "verify_ca", "required", "preferred"])
def test_mysql_tls_modes_connect_encrypted(app, role, mode):
    """Every mode encrypts against a server with TLS; "preferred" too (db.py's shared
    preferred-mode context must still negotiate TLS, not fall back to plaintext)."""
    ep = getattr(app, role)
    ep = dataclasses.replace(ep, tls=mode, ca_file=ep.ca_file if mode in ("verify_identity", "verify_ca") else "")
    with db.connect(ep) as conn:
        version, cipher = _one(conn, "SELECT VARIABLE_VALUE, (SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS"
                                     " WHERE VARIABLE_NAME='SSL_CIPHER') FROM information_schema.SESSION_STATUS"
                                     " WHERE VARIABLE_NAME='SSL_VERSION'")
        assert version.startswith("TLSv1."), version
        assert cipher


def test_mysql_client_certificate_for_a_require_x509_user(app, sec):
    """cert_file/key_file: a user that REQUIRE X509 gets in with the stack CA's client
    certificate and is refused without it."""
    adm = sec.load(sec.admin_config_path)
    user = unique_name("x509", prefix="t2m")[:32]
    pw = os.urandom(12).hex()
    with db.connect(adm.target) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY %s REQUIRE X509", (pw,))
    try:
        base = dataclasses.replace(app.target, user=user, password_file="", password=pw)
        with db.connect(dataclasses.replace(base, cert_file=sec.info["client_cert_file"],
                                            key_file=sec.info["client_key_file"])) as conn:
            assert _one(conn, "SELECT CURRENT_USER()")[0].startswith(user)
        with pytest.raises(pymysql.err.OperationalError) as ei:
            db.connect(base)
        assert ei.value.args[0] == 1045 and pw not in str(ei.value)
    finally:
        with db.connect(adm.target) as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'127.0.0.1'")


def test_migration_user_has_least_privileges(app):
    for role, expected in (("source", {"SELECT", "SHOW VIEW", "RELOAD"}),
                           ("target", {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "INDEX",
                                       "CREATE VIEW", "SHOW VIEW", "REFERENCES"})):
        with db.connect(getattr(app, role)) as conn, conn.cursor() as cur:
            cur.execute("SHOW GRANTS")
            grants = " ".join(r[0] for r in cur.fetchall())
        assert "REQUIRE SSL" in grants, grants
        assert "ALL PRIVILEGES" not in grants and "SUPER" not in grants and "GRANT OPTION" not in grants, grants
        granted = {p.strip() for p in grants.split(" ON ")[0].removeprefix("GRANT ").split(",")}
        assert granted == expected, (role, granted)


def test_mysql_wrong_password_names_endpoint_without_secret(app, secrets):
    ep = dataclasses.replace(app.target, password_file="", password="not-the-password")
    with pytest.raises(pymysql.err.OperationalError) as ei:
        db.connect(ep)
    msg = str(ei.value)
    assert ei.value.args[0] == 1045
    assert f"tidb2mysql@127.0.0.1:{app.target.port}" in msg and "tls=verify_identity" in msg, msg
    assert "not-the-password" not in msg
    assert_no_secret(msg, secrets, "the error")


def test_mysql_untrusted_ca_fails_fast_and_is_not_retried(app, sec, secrets):
    from tidb2mysql.mysql.errors import is_transient

    ep = dataclasses.replace(app.source, ca_file=sec.info["rogue_ca_file"])
    t0 = time.monotonic()
    with pytest.raises(db.TLSConnectError) as ei:
        db.connect(ep)
    assert time.monotonic() - t0 < 5
    msg = str(ei.value)
    assert f"127.0.0.1:{app.source.port}" in msg and "not signed by a CA in ca_file" in msg, msg
    assert not is_transient(ei.value), "a certificate problem must stop the flows, not be retried forever"
    assert_no_secret(msg, secrets, "the error")


def test_mysql_hostname_mismatch(app):
    # The server certificate names IP:127.0.0.1 only; "localhost" is the same server under
    # a name the certificate does not list.
    ep = dataclasses.replace(app.target, host="localhost")
    with pytest.raises(db.TLSConnectError) as ei:
        db.connect(ep)
    msg = ei.value.args[1]
    assert "Hostname mismatch" in msg and "does not name 'localhost'" in msg and 'tls = "verify_ca"' in msg, msg
    with db.connect(dataclasses.replace(ep, tls="verify_ca")) as conn:  # CA still checked
        assert _one(conn, "SELECT 1")[0] == 1


def test_mysql_expired_server_certificate(sec, app, secrets):
    """The target presents an expired certificate (swapped in and reloaded with FLUSH SSL, then
    restored): the connection fails at once, naming the endpoint and saying it expired."""
    import shutil

    adm = sec.load(sec.admin_config_path)
    cert = Path(sec.info["target_server_cert_file"])
    with db.connect(adm.target) as admin_conn, admin_conn.cursor() as cur:
        try:
            shutil.copyfile(sec.info["expired_server_cert_file"], cert)
            cur.execute("FLUSH SSL")
            with pytest.raises(db.TLSConnectError) as ei:
                db.connect(app.target)
            msg = ei.value.args[1]
            assert f"127.0.0.1:{app.target.port}" in msg and "expired" in msg, msg
            assert_no_secret(msg, secrets, "the error")
        finally:
            shutil.copyfile(sec.info["server_cert_file"], cert)
            cur.execute("FLUSH SSL")
    with db.connect(app.target) as conn:
        assert _one(conn, "SELECT 1")[0] == 1


def test_mysql_plaintext_against_require_ssl_user(app, secrets):
    ep = dataclasses.replace(app.target, tls="off", ca_file="")
    with pytest.raises(pymysql.err.OperationalError) as ei:
        db.connect(ep)
    assert ei.value.args[0] == 1045 and "REQUIRE SSL" in str(ei.value) and "tls=off" in str(ei.value)
    assert_no_secret(str(ei.value), secrets, "the error")


def test_tls_required_against_a_server_without_tls_fails():
    # The default stack's servers have no TLS: "required" must refuse, never fall back.
    from tests.support.stack import load_config

    plain = load_config().target
    with pytest.raises(db.TLSConnectError, match="server has no TLS"):
        db.connect(dataclasses.replace(plain, tls="required"))


# -- Kafka SASL/SCRAM -------------------------------------------------------------------


@pytest.mark.parametrize("listener", ["sasl_ssl", "sasl_plaintext"])
@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_kafka_scram_connects(sec, app, listener, mechanism):
    k = sec.load(sec.app_config_path if listener == "sasl_ssl" else sec.sasl_plaintext_config_path).kafka
    k = dataclasses.replace(k, mechanism=mechanism)
    _admin, md = check_connection(k, timeout=10)
    assert md.brokers and app.kafka.topic in md.topics


def test_kafka_migration_user_reads_but_cannot_write_or_create(app):
    """Least privilege on Kafka: the ACLs of docs/operations.md, and no more, suffice for the
    flow (the end-to-end tests); writing and creating topics are refused."""
    from confluent_kafka import KafkaError, KafkaException, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    from tidb2mysql.kafka_settings import admin_config, producer_config

    results = []
    p = Producer(producer_config(app.kafka, **{"message.timeout.ms": 10000}))
    p.produce(app.kafka.topic, b"x", on_delivery=lambda err, msg: results.append(err))
    p.flush(15)
    assert results and results[0] is not None and results[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, results
    admin = AdminClient(admin_config(app.kafka))
    fut = admin.create_topics([NewTopic(unique_name("acl"), 1, 1)], operation_timeout=10)
    with pytest.raises(KafkaException) as ei:
        next(iter(fut.values())).result(15)
    assert ei.value.args[0].code() in (KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.CLUSTER_AUTHORIZATION_FAILED)


def _kafka_failure(k, secrets) -> str:
    t0 = time.monotonic()
    with pytest.raises(KafkaConnectError) as ei:
        check_connection(k, timeout=8)
    elapsed = time.monotonic() - t0
    msg = str(ei.value)
    assert k.brokers in msg, msg
    assert_no_secret(msg, secrets, "the error")
    return msg, elapsed


def test_kafka_wrong_password(app, secrets):
    msg, elapsed = _kafka_failure(dataclasses.replace(app.kafka, password_file="", password="nope-nope"), secrets)
    assert "SCRAM-SHA-256 authentication failed for user 'tidb2mysql'" in msg and "nope-nope" not in msg, msg
    assert elapsed < 5, f"an authentication failure must be reported at once, took {elapsed:.1f}s"


def test_kafka_unknown_user(app, secrets):
    msg, _ = _kafka_failure(dataclasses.replace(app.kafka, username="nobody"), secrets)
    assert "authentication failed for user 'nobody'" in msg, msg


def test_kafka_untrusted_ca(app, sec, secrets):
    msg, elapsed = _kafka_failure(dataclasses.replace(app.kafka, ca_file=sec.info["rogue_ca_file"]), secrets)
    assert "TLS handshake failed" in msg and "not signed by a CA in ca_file" in msg, msg
    assert elapsed < 5


def test_kafka_hostname_mismatch(app, secrets):
    port = app.kafka.brokers.rsplit(":", 1)[1]
    msg, _ = _kafka_failure(dataclasses.replace(app.kafka, brokers=f"localhost:{port}"), secrets)
    assert "Hostname mismatch" in msg and "verify_hostname" in msg, msg


def test_kafka_plaintext_against_sasl_listeners(sec, secrets):
    ssl_msg, _ = _kafka_failure(config_mod.KafkaConfig(brokers=sec.info["kafka_sasl_ssl"]), secrets)
    assert "expects TLS" in ssl_msg, ssl_msg
    sasl_msg, _ = _kafka_failure(config_mod.KafkaConfig(brokers=sec.info["kafka_sasl_plaintext"]), secrets)
    assert "requires SASL" in sasl_msg, sasl_msg


# -- precheck ---------------------------------------------------------------------------


def test_precheck_secured_stack_passes_connectivity_and_tls(sec, secrets):
    r = cli("precheck", "--config", str(sec.app_config_path), "--json")
    assert_no_secret(r.stdout + r.stderr, secrets, "precheck --json output")
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    for name in ("source.connect", "target.connect", "kafka.connect", "source.tls", "target.tls", "kafka.security",
                 "target.privileges"):
        assert checks[name]["status"] == "pass", checks[name]
    assert "verified" in checks["target.tls"]["detail"]


def test_precheck_reports_each_misconfiguration_with_its_fix(sec, tmp_path, secrets):
    bad = write_toml(tmp_path / "bad.toml", sec.app_config_path,
                     source={"tls": "off", "ca_file": None},
                     target={"ca_file": sec.info["rogue_ca_file"]},
                     kafka={"password_file": None, "password_env": "T2M_TEST_WRONG_KAFKA_PW"})
    t0 = time.monotonic()
    r = cli("precheck", "--config", str(bad), "--json", env={"T2M_TEST_WRONG_KAFKA_PW": "wrong-kafka-pw"})
    elapsed = time.monotonic() - t0
    assert r.returncode != 0
    assert_no_secret(r.stdout + r.stderr, {**secrets, "wrong": "wrong-kafka-pw"}, "precheck --json output")
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    src, tgt, kafka = checks["source.connect"], checks["target.connect"], checks["kafka.connect"]
    assert src["status"] == "fail" and "only over TLS" in src["detail"] and "tls = \"verify_identity\"" in src["fix"]
    assert f"127.0.0.1:{sec.info['source_port']}" in src["detail"]
    assert tgt["status"] == "fail" and "TLS handshake failed" in tgt["detail"] and "ca_file" in tgt["fix"], tgt
    assert f"127.0.0.1:{sec.info['target_port']}" in tgt["detail"]
    assert kafka["status"] == "fail" and "authentication failed" in kafka["detail"] and "password" in kafka["fix"]
    assert sec.info["kafka_sasl_ssl"] in kafka["detail"]
    assert elapsed < 60, f"precheck took {elapsed:.0f}s"


def test_precheck_names_missing_privileges(sec, tmp_path):
    """The least-privilege target user cannot do what the admin can: precheck says what to grant."""
    adm = sec.load(sec.admin_config_path)
    user = unique_name("nopriv", prefix="t2m")[:32]
    pw = os.urandom(12).hex()
    with db.connect(adm.target) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY %s REQUIRE SSL", (pw,))
        cur.execute(f"GRANT SELECT, INSERT ON *.* TO '{user}'@'127.0.0.1'")
    try:
        cfg = write_toml(tmp_path / "nopriv.toml", sec.app_config_path,
                         target={"user": user, "password_file": None, "password_env": "T2M_TEST_NOPRIV_PW"})
        r = cli("precheck", "--config", str(cfg), "--json", env={"T2M_TEST_NOPRIV_PW": pw})
        assert pw not in r.stdout + r.stderr
        checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
        tp = checks["target.privileges"]
        assert tp["status"] == "fail" and "CREATE (database) failed" in tp["detail"], tp
        assert "docs/operations.md" in tp["fix"]
    finally:
        with db.connect(adm.target) as conn, conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{user}'@'127.0.0.1'")


# -- the whole path, secured ------------------------------------------------------------


def _metrics_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command_lines() -> str:
    out = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                out.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                pass
    return "\n".join(out)


@pytest.mark.parametrize("listener", ["sasl_ssl", "sasl_plaintext"])
def test_secured_migration_end_to_end(sec, secrets, tmp_path, listener):
    """`make demo` over SCRAM-SHA-256 (SASL_SSL or SASL_PLAINTEXT) and TLS to both databases.

    The simulator plays TiDB with the admin user; the flow runs as the least-privilege
    migration user. Every output, the metrics page and every command line are grepped for
    the passwords.
    """
    run_id = unique_name(listener, prefix="sec")[-8:]
    topic, job = f"sec_{listener}_{run_id}", f"sec_{listener}_{run_id}"
    dbs = [f"sec_{run_id}_a", f"sec_{run_id}_b"]
    base = sec.app_config_path if listener == "sasl_ssl" else sec.sasl_plaintext_config_path
    app_cfg = write_toml(tmp_path / "app.toml", base, kafka={"topic": topic}, job={"name": job})
    adm_cfg = write_toml(tmp_path / "admin.toml", sec.admin_config_path, kafka={"topic": topic})
    adm = config_mod.load(adm_cfg)
    outputs: list[tuple[str, str]] = []
    try:
        sim = cli("simulate", "--config", str(adm_cfg), "--txns", "150", "--databases", ",".join(dbs), "--tables", "2",
                  "--ddl-every", "40", "--redeliver", "0.01", "--seed", "14", "--json")
        outputs.append(("simulate --json", sim.stdout + sim.stderr))
        assert sim.returncode == 0, sim.stderr[-3000:]
        last_ts = json.loads(sim.stdout)["last_commit_ts"]

        pre = cli("precheck", "--config", str(app_cfg), "--json")
        outputs.append(("precheck --json", pre.stdout + pre.stderr))
        checks = {c["name"]: c for c in json.loads(pre.stdout)["checks"]}
        for name in ("source.connect", "target.connect", "kafka.connect", "source.privileges", "target.privileges",
                     "kafka.topic", "kafka.limits"):
            assert checks[name]["status"] in ("pass", "warn"), checks[name]

        port = _metrics_port()
        log = tmp_path / "flow.log"
        flow = flowrun.start(flowrun.incremental_cmd(app_cfg, 1, 1, stop_at_end=False,
                                                     extra=("--metrics-port", str(port))), log)
        metrics_page, ps_lines = "", ""
        try:
            cfg = config_mod.load(app_cfg)
            from tidb2mysql.replication.checkpoint import Checkpoints

            cps = Checkpoints(cfg.job.meta_schema, job)
            deadline = time.monotonic() + 180
            with db.connect(adm.target) as tconn:
                while True:
                    assert flow.poll() is None, f"the flow stopped:\n{flowrun.tail(log)}"
                    assert time.monotonic() < deadline, f"not caught up in time:\n{flowrun.tail(log)}"
                    try:
                        rows = cps.load_all(tconn)
                    except pymysql.MySQLError:
                        rows = []
                    if rows and min(c.commit_ts for c in rows) >= last_ts:
                        break
                    time.sleep(0.5)
            ps_lines = _command_lines()
            metrics_page = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            assert "tidb2mysql" in metrics_page
            st = cli("status", "--config", str(app_cfg), "--json", "--sample-seconds", "0.2")
            outputs.append(("status --json", st.stdout + st.stderr))
            assert st.returncode in (0, 1), st.stderr[-2000:]
            if listener == "sasl_ssl":
                # Cut-over as the least-privilege user: the running flow acknowledges and stops.
                co = cli("cutover", "--config", str(app_cfg), "--max-wait", "90")
                outputs.append(("cutover", co.stdout + co.stderr))
                assert co.returncode == 0, (co.stdout + co.stderr)[-3000:]
                flow.wait(timeout=60)
        finally:
            if flow.poll() is None:
                os.killpg(flow.pid, signal.SIGTERM)
                try:
                    flow.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    flowrun.kill(flow)
        outputs += [("flow log", log.read_text()), ("metrics page", metrics_page), ("ps command lines", ps_lines)]
        for what, text in outputs:
            assert_no_secret(text, secrets, what)

        with db.connect(adm.source) as sconn, db.connect(adm.target) as tconn:
            for d in dbs:
                res = compare_databases(sconn, d, tconn, d)
                assert res.equal, str(res)
            with tconn.cursor() as cur:
                cur.execute(f"SELECT COUNT(*) FROM `{cfg.job.meta_schema}`.dead_letter WHERE job=%s", (job,))
                assert cur.fetchone()[0] == 0
    finally:
        with db.connect(adm.source) as sconn, db.connect(adm.target) as tconn:
            for conn in (sconn, tconn):
                with conn.cursor() as cur:
                    for d in dbs:
                        cur.execute(f"DROP DATABASE IF EXISTS `{d}`")
        from tests.support.stack import delete_topic

        delete_topic(adm.kafka, topic)


@pytest.mark.parametrize("broken", ["kafka_password", "target_ca", "target_unknown_user"])
def test_flow_fails_fast_and_applies_nothing(sec, secrets, tmp_path, broken):
    meta = f"t2m_meta_{unique_name(broken, prefix='x')[-8:]}"
    if broken == "target_unknown_user":
        cfg = write_toml(tmp_path / "c.toml", sec.app_config_path, job={"name": "ff", "meta_schema": meta},
                         target={"user": "nobody_here", "password_file": None, "password_env": "T2M_TEST_BAD_PW"})
        expect = "Access denied for user 'nobody_here'"
    elif broken == "kafka_password":
        cfg = write_toml(tmp_path / "c.toml", sec.app_config_path, job={"name": "ff", "meta_schema": meta},
                         kafka={"password_file": None, "password_env": "T2M_TEST_BAD_PW"})
        expect = "authentication failed for user 'tidb2mysql'"
    else:
        cfg = write_toml(tmp_path / "c.toml", sec.app_config_path, job={"name": "ff", "meta_schema": meta},
                         target={"ca_file": sec.info["rogue_ca_file"]})
        expect = "TLS handshake failed"
    log = tmp_path / "flow.log"
    t0 = time.monotonic()
    rc = flowrun.run(flowrun.incremental_cmd(cfg, 1, 1), log, timeout=120, env={"T2M_TEST_BAD_PW": "bad-password-x"})
    elapsed = time.monotonic() - t0
    text = log.read_text()
    assert rc == 2, text[-3000:]  # a configuration problem, not a crash
    assert "cannot start: " in text and expect in text and "Traceback" not in text, text[-3000:]
    assert "127.0.0.1:" in text
    assert_no_secret(text, {**secrets, "bad": "bad-password-x"}, "the flow log")
    assert elapsed < 60, f"took {elapsed:.0f}s to fail"
    adm = sec.load(sec.admin_config_path)
    with db.connect(adm.target) as conn:
        assert _one(conn, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME=%s", meta)[0] == 0, \
            "the failing flow created its meta schema: something was applied"


def test_repr_and_config_errors_never_show_secrets(sec, secrets):
    cfg = sec.load(sec.app_config_path)
    text = repr(cfg) + str(cfg)
    from tidb2mysql.kafka_settings import consumer_config

    conf = consumer_config(cfg.kafka)
    assert conf["sasl.password"] == secrets["kafka_client"]  # resolved only into the client config
    assert_no_secret(text, secrets, "repr(Config)")


def test_secured_migrate_schema_full_load_incremental(sec, secrets, tmp_path):
    """`tidb2mysql migrate` (schema, full load from a snapshot, incremental) as the
    least-privilege user, TLS to both databases, SASL_SSL to Kafka: the grants documented in
    docs/operations.md are enough for every stage."""
    run_id = unique_name("migrate", prefix="sec")[-8:]
    topic = job = d = f"secm_{run_id}"
    app_cfg = write_toml(tmp_path / "app.toml", sec.app_config_path, kafka={"topic": topic}, job={"name": job})
    adm_cfg = write_toml(tmp_path / "admin.toml", sec.admin_config_path, kafka={"topic": topic})
    adm = config_mod.load(adm_cfg)
    try:
        sim = cli("simulate", "--config", str(adm_cfg), "--txns", "100", "--databases", d, "--tables", "2",
                  "--ddl-every", "30", "--seed", "7")
        assert sim.returncode == 0, sim.stderr[-3000:]
        log = tmp_path / "migrate.log"
        cmd = [sys.executable, "-m", "tidb2mysql.cli", "migrate", "--config", str(app_cfg), "-w", "1",
               "--tables", f"{d}.*", "--stop-at-end"]
        assert flowrun.run(cmd, log, timeout=240) == 0, flowrun.tail(log)
        text = log.read_text()
        assert "full load of job" in text and "incremental replication from after commit_ts" in text, text[-3000:]
        assert_no_secret(text + sim.stdout + sim.stderr, secrets, "the migrate/simulate output")
        with db.connect(adm.source) as sconn, db.connect(adm.target) as tconn:
            res = compare_databases(sconn, d, tconn, d)
            assert res.equal, str(res)
    finally:
        with db.connect(adm.source) as sconn, db.connect(adm.target) as tconn:
            for conn in (sconn, tconn):
                with conn.cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS `{d}`")
        from tests.support.stack import delete_topic

        delete_topic(adm.kafka, topic)
