"""Shared pytest fixtures: the local stack (``make up``) as fresh databases and topics.

Integration tests never skip: if the stack is down they FAIL, with a message saying to run
``make up``, because a skipped integration test would look like a pass. Every database and
topic is uniquely named and removed afterwards, since several people share one stack.
The helpers behind these fixtures live in ``tests/support/stack.py``.
"""

from __future__ import annotations

import pytest

from tests.support import stack


def _config_or_fail(load):
    """``load()``'s Config, or the test FAILS with its StackUnavailable message (never skips)."""
    problem = None
    try:
        cfg = load()
    except stack.StackUnavailable as e:
        problem = str(e)
    if problem:  # failed outside the except block: no chained traceback around the message
        pytest.fail(problem, pytrace=False)
    return cfg


def _stack_config():
    cfg = stack.load_config()
    stack.check_reachable(cfg)
    return cfg


@pytest.fixture(scope="session")
def stack_config():
    """The tidb2mysql Config of the local stack ($TIDB2MYSQL_CONFIG or .stack/tidb2mysql.toml)."""
    return _config_or_fail(_stack_config)


def _db_fixture(request, endpoint):
    name = stack.create_database(endpoint, request.node.name)
    try:
        yield name
    finally:
        stack.drop_database(endpoint, name)


@pytest.fixture
def source_db(request, stack_config):
    """A fresh, uniquely named database on the source server (dropped after the test)."""
    yield from _db_fixture(request, stack_config.source)


@pytest.fixture
def target_db(request, stack_config):
    """A fresh, uniquely named database on the target server (dropped after the test)."""
    yield from _db_fixture(request, stack_config.target)


def _conn_fixture(endpoint, db_name):
    conn = stack.connect(endpoint, db_name)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def source_conn(stack_config, source_db):
    """Autocommit utf8mb4 PyMySQL connection to the source, ``source_db`` selected."""
    yield from _conn_fixture(stack_config.source, source_db)


@pytest.fixture
def target_conn(stack_config, target_db):
    """Autocommit utf8mb4 PyMySQL connection to the target, ``target_db`` selected."""
    yield from _conn_fixture(stack_config.target, target_db)


@pytest.fixture
def admin(stack_config):
    """An autocommit connection to the target server (no database selected), for DDL and for
    reading results back in tests that drive the writer directly."""
    import pymysql

    c = pymysql.connect(**stack_config.target.pymysql_kwargs(), autocommit=True)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def kafka_topic(request, stack_config):
    """A fresh single-partition topic (unique name), deleted after the test."""
    name = stack.create_topic(stack_config.kafka, label=request.node.name)
    try:
        yield name
    finally:
        stack.delete_topic(stack_config.kafka, name)


# -- a real TiDB as the source (``make up-tidb``; tests marked ``tidb``) ------------------------

@pytest.fixture(scope="session")
def tidb_config():
    """The tidb2mysql Config with the real TiDB as its source (tests/support/tidb.py): the
    stack's target and Kafka. FAILS (never skips) when TiDB or the stack does not answer."""
    from tests.support import tidb

    return _config_or_fail(tidb.ready_config)


@pytest.fixture
def tidb_db(request, tidb_config):
    """A fresh, uniquely named database on TiDB (dropped after the test)."""
    yield from _db_fixture(request, tidb_config.source)


@pytest.fixture
def tidb_conn(tidb_config, tidb_db):
    """Autocommit utf8mb4 PyMySQL connection to TiDB, ``tidb_db`` selected."""
    yield from _conn_fixture(tidb_config.source, tidb_db)
