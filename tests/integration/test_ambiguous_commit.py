"""A COMMIT whose reply is lost (it took effect, the client saw error 2013) never duplicates rows.

Why: key-less tables are written with plain INSERTs, so re-sending a transaction that did
commit would double its rows, silently. The ``*.commit`` failpoints (``drop``) let the real
COMMIT complete on the real target and then cut the connection, which is exactly the
ambiguous case; the writer must resolve it by reading back the progress/checkpoint row it
wrote in the same transaction (issue 12).
"""

from __future__ import annotations

import uuid

import pymysql
import pytest

from tidb2mysql import failpoints
from tidb2mysql.events import Op, RowChange, TableChanges, TableSchema
from tidb2mysql.fullload.chunking import TablePlan
from tidb2mysql.fullload.jobstore import JobStore
from tidb2mysql.fullload.page_writer import PageWriter
from tidb2mysql.fullload.reader import Page
from tests.support import flowrun
from tests.support.drainer_stream import q, stream_env

pytestmark = pytest.mark.integration


@pytest.fixture
def disarm():
    yield
    failpoints.configure("")


def run(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


@pytest.fixture
def job(admin):
    name = f"amb_{uuid.uuid4().hex[:8]}"
    store = JobStore("tidb2mysql", name)
    store.ensure(admin)
    yield store
    store.delete(admin)


def _chunk(admin, store, chunk, dbn, table):
    run(admin, "INSERT INTO tidb2mysql.full_load_chunks (job, chunk, tbl, lane, schema_name, table_name)"
               " VALUES (%s,%s,%s,0,%s,%s)", (store.job, chunk, chunk, dbn, table))


def test_full_load_pages_lost_commit_reply_is_resolved_from_the_chunk_row(
        stack_config, target_db, admin, job, tmp_path, disarm):
    run(admin, f"CREATE TABLE `{target_db}`.`k` (a VARCHAR(10), b INT)")
    run(admin, f"CREATE TABLE `{target_db}`.`p` (id INT PRIMARY KEY, b INT)")
    _chunk(admin, job, 0, target_db, "k")
    _chunk(admin, job, 1, target_db, "p")
    tables = [TablePlan(target_db, "k", ["a", "b"], ["varchar", "int"], [], "none"),
              TablePlan(target_db, "p", ["id", "b"], ["int", "int"], ["id"], "primary")]
    w = PageWriter(tables, job, lambda: pymysql.connect(**stack_config.target.pymysql_kwargs()))
    failpoints.configure("page.commit=drop", str(tmp_path))
    try:
        # key-less: the first page (empties the table, so its retry is harmless), then two more
        w.write(Page(0, 0, [("x", 1), ("x", 1)], 2, None, False, reset=True))
        w.write(Page(0, 0, [("x ", 1)], 3, None, False))
        w.write(Page(0, 0, [("X", 1)], 4, None, True))
        # keyed: progress compared with its key too
        w.write(Page(1, 1, [(1, 1), (2, 2)], 2, ["2"], False))
        w.write(Page(1, 1, [(3, 3)], 3, ["3"], True))
    finally:
        w.close()
    assert len(list(tmp_path.iterdir())) == 5  # every COMMIT lost its reply once
    assert sorted(run(admin, f"SELECT HEX(a), b FROM `{target_db}`.`k`")) == sorted(
        [("78", 1), ("78", 1), ("7820", 1), ("58", 1)])
    assert run(admin, f"SELECT id FROM `{target_db}`.`p` ORDER BY id") == ((1,), (2,), (3,))
    assert run(admin, "SELECT chunk, rows_done, done FROM tidb2mysql.full_load_chunks WHERE job=%s ORDER BY chunk",
               (job.job,)) == ((0, 4, 1), (1, 3, 1))


def test_a_page_whose_commit_failed_is_written_again(stack_config, target_db, admin, job, disarm):
    """The read-back must not take a rolled-back page for a committed one."""
    run(admin, f"CREATE TABLE `{target_db}`.`k` (a VARCHAR(10))")
    _chunk(admin, job, 0, target_db, "k")
    tables = [TablePlan(target_db, "k", ["a"], ["varchar"], [], "none")]
    w = PageWriter(tables, job, lambda: pymysql.connect(**stack_config.target.pymysql_kwargs()))
    try:
        w.write(Page(0, 0, [("a",)], 1, None, False, reset=True))
        failpoints.configure("apply.before_commit=drop")  # not a page point: nothing changes
        w.write(Page(0, 0, [("b",)], 2, None, False))
        # A lost connection BEFORE the COMMIT: the server rolls back; the retry must write it.
        conn = w._conn()
        conn._sock.close()  # the next statement of the page fails as a lost connection
        w.write(Page(0, 0, [("c",)], 3, None, True))
    finally:
        w.close()
    assert sorted(run(admin, f"SELECT a FROM `{target_db}`.`k`")) == [("a",), ("b",), ("c",)]


# -- the incremental salvage path through the real flow ---------------------------------


@pytest.fixture
def setup(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "amb") as env_:
        yield env_


def test_salvage_path_lost_commit_reply_does_not_duplicate_keyless_rows(setup):
    """A batch that keeps failing (one change has a value the target rejects) is applied
    change by change; that transaction's COMMIT loses its reply; the retry must read the
    checkpoint and not insert the key-less rows again."""
    s, dbn, job, conn, tmp = setup
    ks = TableSchema(dbn, "k", ("a", "b"), ("varchar", "int"))
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "k", "create table k (a varchar(3), b int)")
    s.txn(TableChanges(ks, [RowChange(Op.INSERT, ("x", 1), None), RowChange(Op.INSERT, ("x", 1), None),
                            RowChange(Op.INSERT, ("x ", 2), None),
                            RowChange(Op.INSERT, ("toolong", 3), None),  # fails: dead letter
                            RowChange(Op.INSERT, ("y", 4), None)]))
    s.flush()
    once = tmp / "once"
    once.mkdir()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job,
                               incremental={"shards": 2, "apply_attempts": 2})
    log = tmp / "flow.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg), log, timeout=180,
                     env={"TIDB2MYSQL_FAILPOINTS": "apply.salvage_commit=drop",
                          "TIDB2MYSQL_FAILPOINT_ONCE_DIR": str(once)})
    assert rc == 0, flowrun.tail(log)
    assert sorted(q(conn, f"SELECT HEX(a), b FROM `{dbn}`.k")) == sorted([("78", 1), ("78", 1), ("7820", 2), ("79", 4)])
    text = log.read_text()
    assert "failpoint apply.salvage_commit" in text and "was committed before the connection was lost" in text
    dl = q(conn, "SELECT kind, table_name FROM tidb2mysql.dead_letter WHERE job=%s", job)
    assert dl == [("apply", "k")]


def test_batch_path_lost_commit_reply_does_not_duplicate_keyless_rows(setup):
    s, dbn, job, conn, tmp = setup
    ks = TableSchema(dbn, "k", ("a", "b"), ("varchar", "int"))
    s.ddl(dbn, "", f"CREATE DATABASE `{dbn}`")
    s.ddl(dbn, "k", "create table k (a varchar(3), b int)")
    for i in range(3):
        s.txn(TableChanges(ks, [RowChange(Op.INSERT, ("x", i), None), RowChange(Op.INSERT, ("x", i), None)]))
    s.flush()
    once = tmp / "once"
    once.mkdir()
    cfg = flowrun.write_config(tmp / f"{job}.toml", topic=s.topic, job=job, incremental={"shards": 2})
    log = tmp / "flow.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg), log, timeout=180,
                     env={"TIDB2MYSQL_FAILPOINTS": "apply.commit=drop", "TIDB2MYSQL_FAILPOINT_ONCE_DIR": str(once)})
    assert rc == 0, flowrun.tail(log)
    assert sorted(q(conn, f"SELECT a, b FROM `{dbn}`.k")) == sorted([("x", i) for i in range(3)] * 2)
    assert "was committed before the connection was lost" in log.read_text()
