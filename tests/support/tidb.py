"""Helpers for the tests that need a real TiDB as the source (``make up-tidb``).

``scripts/stack.sh up-tidb`` builds tidb-server once (deploy/tidb/, cached) and starts it with
its embedded storage beside the stack, and writes ``tidb2mysql-tidb.toml`` next to the stack's
own config: TiDB as ``[source]``, the stack's MariaDB target and Kafka. The fixtures in
``tests/conftest.py`` (``tidb_config``, ``tidb_db``, ``tidb_conn``) wrap these. A test that
needs TiDB FAILS when it does not answer (never skips), naming the command that starts it.

Why a second config and not a different stack: the MariaDB source stays the second source
flavour (and the only one with the MariaDB snapshot stand-in); TiDB runs beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pymysql

from tests.support import stack
from tidb2mysql import config as config_mod
from tidb2mysql.config import Config, Endpoint
from tidb2mysql.fullload.snapshot import tidb_current_ts

ENV_VAR = "T2M_TIDB_CONFIG"
FILE_NAME = "tidb2mysql-tidb.toml"
HOW_TO_START = "start it with `make up-tidb` (builds TiDB the first time, minutes; then seconds)"


class TiDBUnavailable(stack.StackUnavailable):
    """No TiDB answers where the TiDB config says; the message says how to start it."""


def config_path() -> Path:
    """``$T2M_TIDB_CONFIG``, else ``tidb2mysql-tidb.toml`` beside the stack's config file."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    return stack.config_path().parent / FILE_NAME


def load_config() -> Config:
    path = config_path()
    if not path.exists():
        raise TiDBUnavailable(f"no TiDB config at {path}: {HOW_TO_START} (or set ${ENV_VAR})")
    return config_mod.load(path)


def server_version(endpoint: Endpoint, timeout: int = 5) -> str:
    with stack.connect(endpoint, connect_timeout=timeout) as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        return cur.fetchone()[0]


def check_tidb(cfg: Config) -> str:
    """The source's VERSION() if it is a TiDB that answers; TiDBUnavailable otherwise."""
    try:
        version = server_version(cfg.source)
    except pymysql.MySQLError as e:
        raise TiDBUnavailable(f"TiDB at {cfg.source.describe()} does not answer ({e}): {HOW_TO_START}") from None
    if "tidb" not in version.lower():
        raise TiDBUnavailable(f"the source at {cfg.source.describe()} is not TiDB (VERSION() = {version!r});"
                              f" {HOW_TO_START}")
    return version


def ready_config() -> Config:
    """The TiDB config, once TiDB, the target and Kafka all answer (else TiDBUnavailable /
    StackUnavailable, naming what to start)."""
    cfg = load_config()
    check_tidb(cfg)
    stack.check_reachable(cfg)
    return cfg


def assert_source_equals_target(cfg: Config, prefix: str) -> list[str]:
    """Every source database named ``prefix``* (a workload's CREATE DATABASE DDL included)
    equals the target database of the same name; returns their names."""
    from tidb2mysql.compare import compare_databases

    with stack.connect(cfg.source) as a, stack.connect(cfg.target) as b:
        names = [r[0] for r in stack.run(a, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA"
                                            " WHERE SCHEMA_NAME LIKE %s", (prefix.replace("_", "\\_") + "%",))]
        for name in names:
            result = compare_databases(a, name, b, name)
            assert result.equal, str(result)
    return names


def tso_now(conn) -> int:
    """A fresh TSO from TiDB (``@@tidb_current_ts`` is 0 outside a transaction): the full
    load's own helper."""
    return tidb_current_ts(conn)
