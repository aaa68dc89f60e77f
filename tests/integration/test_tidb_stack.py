"""The real TiDB of the stack (``make up-tidb``): what the other TiDB tests rely on.

A TiDB built from deploy/tidb/ with its embedded storage: VERSION() names the pinned release,
``@@tidb_snapshot`` reads work (the stack inserts the GC safe point the embedded storage
lacks), ``@@tidb_last_txn_info`` gives a commit's commit_ts, and a fresh TSO comes from a
transaction's start_ts (``@@tidb_current_ts`` is 0 outside one). Plus the fixture's promise:
without TiDB, a TiDB test fails with the command that starts it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.support import stack, tidb

pytestmark = [pytest.mark.integration, pytest.mark.tidb]


def test_version_names_the_pinned_release(tidb_config):
    version = tidb.server_version(tidb_config.source)
    assert version.startswith("5.7.25-TiDB-v7.0.0"), version
    with stack.connect(tidb_config.source) as conn:
        text = stack.run(conn, "SELECT tidb_version()")[0][0]
    assert "Store: unistore" in text and "Release Version: v7.0.0" in text, text


def test_snapshot_read_and_commit_ts(tidb_conn):
    stack.run(tidb_conn, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
    assert stack.run(tidb_conn, "SELECT @@tidb_current_ts")[0][0] in (0, "0")  # outside a transaction
    before = tidb.tso_now(tidb_conn)
    stack.run(tidb_conn, "INSERT INTO t VALUES (1, 10)")
    info = json.loads(stack.run(tidb_conn, "SELECT @@tidb_last_txn_info")[0][0])
    assert info["commit_ts"] > info["start_ts"] > before
    stack.run(tidb_conn, "UPDATE t SET v = 11 WHERE id = 1")
    stack.run(tidb_conn, f"SET @@tidb_snapshot = '{before}'")
    try:
        assert stack.run(tidb_conn, "SELECT COUNT(*) FROM t")[0][0] == 0
        stack.run(tidb_conn, f"SET @@tidb_snapshot = '{info['commit_ts']}'")
        assert stack.run(tidb_conn, "SELECT v FROM t")[0][0] == 10
    finally:
        stack.run(tidb_conn, "SET @@tidb_snapshot = ''")
    assert stack.run(tidb_conn, "SELECT v FROM t")[0][0] == 11


def test_a_tidb_test_fails_with_how_to_start_it(tmp_path):
    """No TiDB where the config says: the fixture fails (not skips) and names `make up-tidb`."""
    conf = tmp_path / "nowhere.toml"
    conf.write_text(textwrap.dedent("""\
        [source]
        host = "127.0.0.1"
        port = 9
        user = "x"
        password = "x"
        """))
    probe = tmp_path / "test_probe.py"
    probe.write_text("def test_probe(tidb_config):\n    pass\n")
    env = dict(os.environ, T2M_TIDB_CONFIG=str(conf))
    # the probe lives outside tests/: load the suite's fixtures as a plugin
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                        str(probe), "--basetemp", str(tmp_path / "bt")],
                       cwd=stack.REPO, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stdout[-2000:]
    assert "1 error" in p.stdout and "skipped" not in p.stdout, p.stdout[-2000:]
    assert "make up-tidb" in p.stdout, p.stdout[-2000:]
