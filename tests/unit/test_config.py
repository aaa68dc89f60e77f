"""The configuration loader (tidb2mysql/config/): files, secrets, overrides, errors. Pure.

Secret *hygiene* and the Kafka/TLS settings are in test_config_security.py; the keys against
their documentation in test_config_docs.py.
"""

from __future__ import annotations

import json

import pytest

from tidb2mysql import config
from tidb2mysql.config import ConfigError, parse


def write(tmp_path, text: str):
    p = tmp_path / "t2m.toml"
    p.write_text(text)
    return p


def test_every_section_has_a_typed_default():
    cfg = parse({})
    assert set(config.SECTIONS) == {f for f in ("source", "target", "kafka", "drainer", "job", "incremental",
                                                "full_load", "selection", "metrics", "verify", "ddl", "input")}
    for name, cls in config.SECTIONS.items():
        assert isinstance(getattr(cfg, name), cls)
    assert cfg.incremental.shards == 8 and cfg.full_load.method == "load_data" and cfg.verify.hash == "crc32"


def test_password_from_env_is_resolved_when_asked(monkeypatch):
    monkeypatch.setenv("T2M_TEST_PW", "s3cret")
    cfg = parse({"target": {"password_env": "T2M_TEST_PW"}})
    assert cfg.target.resolved_password() == "s3cret"
    monkeypatch.setenv("T2M_TEST_PW", "rotated")
    assert cfg.target.resolved_password() == "rotated"


def test_password_from_file_first_line_and_rotation(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("first\nignored\n")
    cfg = parse({"source": {"password_file": str(pw)}})
    assert cfg.source.resolved_password() == "first"
    pw.write_text("second\n")
    assert cfg.source.resolved_password() == "second"


def test_unset_password_env_is_reported_at_load_time_naming_section_and_key(monkeypatch):
    monkeypatch.delenv("T2M_TEST_NOT_SET", raising=False)
    with pytest.raises(ConfigError, match=r"\[target\] password_env: names 'T2M_TEST_NOT_SET'"):
        parse({"target": {"password_env": "T2M_TEST_NOT_SET"}})


def test_load_reads_the_file_and_merges_overrides_then_the_argument(tmp_path, monkeypatch):
    p = write(tmp_path, '[job]\nname = "j1"\n[incremental]\nshards = 4\nbatch_rows = 10\n')
    monkeypatch.setenv(config.OVERRIDES_ENV_VAR, json.dumps({"incremental": {"shards": 6, "stop_at_end": True}}))
    cfg = config.load(p, {"incremental": {"shards": 2}})
    assert cfg.job.name == "j1"
    assert cfg.incremental.batch_rows == 10  # from the file
    assert cfg.incremental.stop_at_end is True  # from $TIDB2MYSQL_OVERRIDES
    assert cfg.incremental.shards == 2  # the argument wins over both


def test_config_path_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(config.ENV_VAR, str(write(tmp_path, '[job]\nname = "from_env"\n')))
    monkeypatch.delenv(config.OVERRIDES_ENV_VAR, raising=False)
    assert config.load().job.name == "from_env"


@pytest.mark.parametrize("data, message", [
    ({"incremnetal": {}}, r"unknown section\(s\) incremnetal; known: .*incremental"),
    ({"incremental": {"shard": 4}}, r"\[incremental\] unknown key\(s\) shard; known: .*shards"),
    ({"incremental": {"shards": True}}, r"\[incremental\] shards: expected an integer, got True"),
    ({"incremental": {"shards": "4"}}, r"\[incremental\] shards: expected int, got '4'"),
    ({"incremental": {"shards": 0}}, r"\[incremental\] shards must be between 1 and 1024"),
    ({"full_load": {"snapshot": "oracle"}}, r"\[full_load\] snapshot must be one of auto, tidb, mariadb"),
    ({"metrics": {"port": 70000}}, r"\[metrics\] port must be between 0 and 65535"),
    ({"selection": {"include": ["a.b.c"]}}, r"\[selection\]"),
    ({"kafka": {"partition": 1}}, r"\[kafka\] partition: Drainer writes only partition 0"),
    ({"drainer": {"time_zone": "Mars/Olympus"}}, r"\[drainer\] time_zone: 'Mars/Olympus' is not an IANA zone"),
    ({"job": {"meta_schema": "bad-name"}}, r"\[job\] meta_schema"),
    ({"incremental": []}, r"\[incremental\] must be a table of keys"),
    ({"incremental": {"routing": "key-runs"}}, r"\[incremental\] routing: 'key-runs' is not one of hash, key-runs-1024"),
])
def test_errors_name_the_section_and_key(data, message):
    with pytest.raises(ConfigError, match=message):
        parse(data)


def test_an_integer_is_accepted_where_a_float_is_declared():
    cfg = parse({"incremental": {"retry_seconds": 5}})
    assert cfg.incremental.retry_seconds == 5.0 and isinstance(cfg.incremental.retry_seconds, float)


@pytest.mark.parametrize("text, env, message", [
    (None, None, r"no configuration file"),
    ("[job\n", None, r"is not valid TOML"),
    ('[job]\nname = "x"\n', "{not json", r"\$TIDB2MYSQL_OVERRIDES is not valid JSON"),
    ('[job]\nname = "x"\n', '{"incremental": 3}', r"override for \[incremental\] must be a table of keys"),
])
def test_load_errors(tmp_path, monkeypatch, text, env, message):
    monkeypatch.delenv(config.ENV_VAR, raising=False)
    if env is None:
        monkeypatch.delenv(config.OVERRIDES_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(config.OVERRIDES_ENV_VAR, env)
    with pytest.raises(ConfigError, match=message):
        config.load(write(tmp_path, text) if text is not None else None)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"does not exist"):
        config.load(tmp_path / "nope.toml")
