"""Launch options: the recovery directory reaches the flow processes as an absolute path."""

from __future__ import annotations

import argparse
from pathlib import Path

from tidb2mysql import launch


def parse(argv):
    p = argparse.ArgumentParser()
    launch.add_arguments(p, "recovery directory", snapshot_default=5)
    return p.parse_args(argv)


def test_a_relative_recovery_dir_is_made_absolute_against_the_callers_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opts = launch.options_from_args(parse(["-r", "state/recovery", "-w", "2"]))
    assert opts.recovery_dir == str(tmp_path.resolve() / "state" / "recovery")
    assert opts.workers == 2 and opts.snapshot_interval == 5
    # The flow processes run in the repository directory; they get the absolute path.
    cmd = launch.flow_commands("flows.incremental", opts)[0]
    assert cmd[cmd.index("-r") + 1] == opts.recovery_dir
    assert Path(opts.recovery_dir).is_absolute()


def test_the_override_is_made_absolute_too_and_no_directory_stays_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert launch.options_from_args(parse([]), "rec/full_load").recovery_dir == str(tmp_path.resolve() / "rec" / "full_load")
    assert launch.options_from_args(parse([])).recovery_dir is None
    absolute = str(tmp_path / "abs")
    assert launch.options_from_args(parse(["--recovery-dir", absolute])).recovery_dir == str(Path(absolute).resolve())


def test_init_recovery_creates_the_directory_that_the_flow_is_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opts = launch.options_from_args(parse(["-r", "rel"]))
    launch.init_recovery(Path(opts.recovery_dir), 2)
    assert (tmp_path / "rel" / "part-0.sqlite3").exists() and (tmp_path / "rel" / "part-1.sqlite3").exists()


def test_listening_reads_the_kernel_table_without_connecting():
    import socket

    from tidb2mysql.launch import _address, _listening

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    assert _listening(port) is False  # bound, not listening yet
    s.listen()
    assert _listening(port) is True
    s.close()
    assert _address(["x", "-i", "1", "-a", "127.0.0.1:5;127.0.0.1:6"]) == ("127.0.0.1", 6)
    assert _address(["x", "-w", "1"]) is None
