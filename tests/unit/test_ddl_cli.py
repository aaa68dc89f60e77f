"""``tidb2mysql ddl translate``: text and JSON output, targets, input sources, exit status."""

from __future__ import annotations

import io
import json

from tidb2mysql.cli import main


def test_text_output_per_statement(capsys):
    rc = main(["ddl", "translate", "--target", "mysql:5.7",
               "ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT, SET TIFLASH REPLICA 1; ALTER TABLE t CACHE"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "-- [1] ALTER TABLE t ADD COLUMN IF NOT EXISTS c INT, SET TIFLASH REPLICA 1" in out
    assert "\nALTER TABLE t ADD COLUMN c INT;\n" in out
    assert "WARNING changed: removed IF NOT EXISTS" in out
    assert "-- [2] ALTER TABLE t CACHE" in out and "(skipped: nothing to run on the target)" in out


def test_json_output_from_file_with_schema(tmp_path, capsys):
    f = tmp_path / "ddl.sql"
    f.write_text("create table t (a bigint primary key auto_random);\nrecover table t;\n")
    rc = main(["ddl", "translate", "--json", "--schema", "db1", "--file", str(f)])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1  # an error-level decision (RECOVER TABLE needs a re-copy)
    assert doc["target"].startswith("mariadb:10.11")
    first, second = doc["statements"]
    assert first["statements"][0] == "USE `db1`"
    assert "auto_random" not in first["statements"][1].lower()
    assert second["skipped"] and second["needs_recopy"] and second["recopy_objects"] == ["t"]
    assert {"level", "action", "reason"} == set(second["decisions"][0])


def test_stdin_and_config_accepted(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("drop table a, b"))
    rc = main(["ddl", "--config", "/nonexistent.toml", "translate", "--config", "/also/unused.toml"])
    assert rc == 0
    assert "drop table IF EXISTS a, b;" in capsys.readouterr().out


def test_bad_target_and_bad_sql(capsys):
    assert main(["ddl", "translate", "--target", "oracle:19", "select 1"]) == 2
    assert main(["ddl", "translate", "select 'unterminated"]) == 2
    assert "offset" in capsys.readouterr().err
