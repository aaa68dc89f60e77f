"""The security keys of the configuration: validated at load time, errors name section and key,
secrets never in repr() or in errors. (The connections themselves: tests/integration/test_security.py.)"""

from __future__ import annotations

import ssl

import pytest

from tidb2mysql import config as config_mod
from tidb2mysql.config import ConfigError
from tidb2mysql.config import security_settings
from tidb2mysql.kafka_settings import consumer_config, producer_config


def parse(**sections):
    return config_mod.parse(sections)


@pytest.fixture
def ca(tmp_path):
    p = tmp_path / "ca.pem"
    p.write_text("not checked at load time, only that it is readable\n")
    return str(p)


@pytest.fixture
def pwfile(tmp_path):
    p = tmp_path / "kafka.pw"
    p.write_text("s3cret-from-file\nignored second line\n")
    return str(p)


def test_defaults_are_backward_compatible():
    cfg = parse()
    assert cfg.source.tls == "preferred" and cfg.kafka.security == "plaintext"
    assert security_settings(cfg.kafka) == {}
    kw = cfg.target.pymysql_kwargs()
    assert "ssl" not in kw and "ssl_disabled" not in kw  # PyMySQL's own "preferred"


@pytest.mark.parametrize("section,values,expected", [
    ("target", {"tls": "on"}, "[target] tls: 'on' is not one of off, preferred, required, verify_ca, verify_identity"),
    ("source", {"tls": "verify_ca", "ca_file": "/nonexistent/ca.pem"}, "[source] ca_file: '/nonexistent/ca.pem' does not exist"),
    ("target", {"tls": "verify_identity", "cert_file": "/x.pem"}, "[target] cert_file and key_file: set both"),
    ("target", {"tls": "required", "ca_file": "CA"}, "[target] ca_file: set, but tls = 'required' does not verify"),
    ("source", {"tls": "off", "ca_file": "CA"}, "[source] ca_file/cert_file: set, but tls = \"off\""),
    ("target", {"password": "a", "password_env": "B"}, "[target] password, password_env and password_file: set only one"),
    ("target", {"password_env": "T2M_SURELY_UNSET_VAR"}, "[target] password_env: names 'T2M_SURELY_UNSET_VAR', which is not set"),
    ("kafka", {"security": "sasl"}, "[kafka] security: 'sasl' is not one of plaintext, ssl, sasl_plaintext, sasl_ssl"),
    ("kafka", {"security": "sasl_ssl", "password_env": "HOME"}, "[kafka] username: required with security = 'sasl_ssl'"),
    ("kafka", {"security": "sasl_ssl", "username": "u"}, "[kafka] password_env or password_file: required"),
    ("kafka", {"security": "sasl_ssl", "username": "u", "password_env": "HOME", "mechanism": "GSSAPI"},
     "[kafka] mechanism: 'GSSAPI' is not one of SCRAM-SHA-256, SCRAM-SHA-512, PLAIN"),
    ("kafka", {"username": "u", "password_env": "HOME"}, "[kafka] username/password: set, but security = 'plaintext'"),
    ("kafka", {"security": "sasl_plaintext", "username": "u", "password_env": "HOME", "ca_file": "CA"},
     "[kafka] ca_file/cert_file/key_file: set, but security = 'sasl_plaintext' has no TLS"),
    ("kafka", {"security": "sasl_ssl", "username": "u", "password_env": "HOME", "client": {"sasl.username": "v"}},
     "[kafka] client: sasl.username conflict(s) with security = 'sasl_ssl'"),
])
def test_invalid_security_settings_name_section_and_key(section, values, expected, ca):
    values = {k: (ca if v == "CA" else v) for k, v in values.items()}
    with pytest.raises(ConfigError) as ei:
        parse(**{section: values})
    assert expected in str(ei.value)


def test_kafka_scram_settings_and_secret_hygiene(pwfile, ca, monkeypatch):
    cfg = parse(kafka={"security": "sasl_ssl", "username": "mig", "password_file": pwfile, "ca_file": ca,
                       "client": {"ssl.key.password": "keypw", "linger.ms": 5}})
    conf = consumer_config(cfg.kafka)
    assert conf["security.protocol"] == "SASL_SSL" and conf["sasl.mechanism"] == "SCRAM-SHA-256"
    assert conf["sasl.username"] == "mig" and conf["sasl.password"] == "s3cret-from-file"
    assert conf["ssl.ca.location"] == ca and conf["ssl.endpoint.identification.algorithm"] == "https"
    assert producer_config(cfg.kafka)["sasl.password"] == "s3cret-from-file"
    text = repr(cfg) + str(cfg.kafka) + cfg.kafka.describe()
    assert "s3cret" not in text and "keypw" not in text
    assert "mig@" in cfg.kafka.describe() and "SCRAM-SHA-256" in cfg.kafka.describe()


def test_kafka_password_from_env_resolved_at_connect_time(monkeypatch):
    monkeypatch.setenv("T2M_UNIT_KAFKA_PW", "first")
    cfg = parse(kafka={"security": "sasl_plaintext", "username": "u", "password_env": "T2M_UNIT_KAFKA_PW"})
    monkeypatch.setenv("T2M_UNIT_KAFKA_PW", "rotated")
    assert security_settings(cfg.kafka)["sasl.password"] == "rotated"
    monkeypatch.delenv("T2M_UNIT_KAFKA_PW")
    with pytest.raises(ConfigError, match=r"^\[kafka\] password_env: names 'T2M_UNIT_KAFKA_PW'"):
        security_settings(cfg.kafka)


def test_endpoint_secret_errors_name_the_section(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("x\n")
    cfg = parse(target={"password_file": str(pw)})
    pw.unlink()
    with pytest.raises(ConfigError, match=r"^\[target\] password_file: cannot read"):
        cfg.target.pymysql_kwargs()


@pytest.mark.parametrize("mode,verify,hostname", [
    ("required", ssl.CERT_NONE, False), ("verify_ca", ssl.CERT_REQUIRED, False), ("verify_identity", ssl.CERT_REQUIRED, True)])
def test_tls_modes_map_to_an_explicit_context(mode, verify, hostname):
    cfg = parse(target={"tls": mode, "password": "inline-pw"})
    kw = cfg.target.pymysql_kwargs()
    ctx = kw["ssl"]
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == verify and ctx.check_hostname is hostname
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert "inline-pw" not in repr(cfg)


def test_tls_off_disables_tls():
    assert parse(source={"tls": "off"}).source.pymysql_kwargs()["ssl_disabled"] is True


def test_metrics_endpoint_binds_to_loopback_unless_told_otherwise():

    assert parse().metrics.bind == "127.0.0.1"
    assert parse(metrics={"bind": "0.0.0.0", "port": 9464}).metrics.bind == "0.0.0.0"


def test_security_through_the_raw_client_table_is_still_described_truthfully():
    """Older configs set SASL through [kafka] client; messages must not call that plaintext."""
    cfg = parse(kafka={"client": {"security.protocol": "SASL_SSL", "sasl.mechanisms": "SCRAM-SHA-256",
                                  "sasl.username": "old", "sasl.password": "old-secret"}})
    assert cfg.kafka.effective_security() == "sasl_ssl"
    assert cfg.kafka.describe() == "old@127.0.0.1:9092 (sasl_ssl, SCRAM-SHA-256)"
    assert "old-secret" not in repr(cfg)
    assert consumer_config(cfg.kafka)["sasl.password"] == "old-secret"
