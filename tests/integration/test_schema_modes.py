"""``tidb2mysql schema`` behaviours around the edges: --dry-run touches nothing, the
--existing modes, --tables selection, and clear errors (unreachable source, typos)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support import stack
from tidb2mysql import cli

pytestmark = pytest.mark.integration

SOURCE = [
    "CREATE TABLE parent (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)",
    "CREATE TABLE child (id INT PRIMARY KEY, pid INT, CONSTRAINT fk_cp FOREIGN KEY (pid) REFERENCES parent (id))",
    "CREATE TABLE other (id BIGINT PRIMARY KEY, v DECIMAL(8,2) DEFAULT 1.00)",
    "CREATE VIEW v_parent AS SELECT id, name FROM parent",
    "CREATE VIEW v_top AS SELECT name FROM v_parent",
]


def query(conn, sql, args=None):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return [tuple(r) for r in cur.fetchall()]


def objects(conn, db):
    return sorted(query(conn, "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s",
                        (db,)))


def run(capsys, *args, config=None):
    code = cli.main(["schema", "--config", str(config or stack.config_path()), *args])
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def run_json(capsys, *args):
    code, out, err = run(capsys, *args, "--json")
    return code, json.loads(out)


@pytest.fixture
def source(source_conn, source_db):
    for s in SOURCE:
        query(source_conn, s)
    return source_db


def everything():
    return [("child", "BASE TABLE"), ("other", "BASE TABLE"), ("parent", "BASE TABLE"),
            ("v_parent", "VIEW"), ("v_top", "VIEW")]


def test_dry_run_touches_nothing(capsys, source, target_conn, target_db):
    fresh = f"{target_db[:40]}_dry_{uuid.uuid4().hex[:6]}"
    code, out, _ = run(capsys, "--databases", source, "--target-database", fresh, "--dry-run")
    assert code == 0, out
    assert "dry run: nothing is changed" in out
    assert f"CREATE DATABASE `{fresh}`" in out and "CREATE TABLE `child`" in out
    assert "removed DEFINER=" in out                               # decisions are printed with reasons
    assert query(target_conn, "SHOW DATABASES LIKE %s", (fresh,)) == []
    # into the (empty) fixture database, as JSON: planned creates, nothing created
    code, rep = run_json(capsys, "--databases", source, "--target-database", target_db, "--dry-run")
    assert code == 0 and rep["dry_run"] is True
    assert {o["status"] for o in rep["objects"]} == {"dry-run"}
    assert [o["action"] for o in rep["objects"]] == ["keep", "create", "create", "create", "create", "create"]
    assert all(o["statements"] for o in rep["objects"][1:])
    assert objects(target_conn, target_db) == []


def test_existing_fail_skip_check(capsys, source, target_conn, target_db):
    args = ("--databases", source, "--target-database", target_db)
    code, rep = run_json(capsys, *args)
    assert code == 0
    assert objects(target_conn, target_db) == everything()

    # fail (default): error names every existing object, and nothing is changed at all
    query(target_conn, "DROP TABLE other")
    code, out, _ = run(capsys, *args)
    assert code == 1
    assert f"table {target_db}.parent already exists on the target (--existing fail)" in out
    assert f"view {target_db}.v_top already exists on the target" in out
    assert ("other", "BASE TABLE") not in objects(target_conn, target_db)     # not created: blocked

    # skip: existing objects kept, the missing one created
    code, rep = run_json(capsys, *args, "--existing", "skip")
    assert code == 0
    actions = {o["source"].split(".")[-1]: (o["action"], o["status"]) for o in rep["objects"]}
    assert actions["parent"] == ("skip", "done") and actions["other"] == ("create", "done")
    assert objects(target_conn, target_db) == everything()

    # check: compatible tables pass ...
    code, rep = run_json(capsys, *args, "--existing", "check")
    assert code == 0, rep
    checked = [o for o in rep["objects"] if o["action"] == "check"]
    assert len(checked) == 3 and all("matches the source" in o["decisions"][-1]["reason"] for o in checked)
    # ... and differences are reported one by one, exit 1, nothing touched
    query(target_conn, "ALTER TABLE parent MODIFY name VARCHAR(30) NULL, ADD COLUMN extra INT, ADD KEY k_name (name)")
    query(target_conn, "ALTER TABLE other DROP PRIMARY KEY")
    code, rep = run_json(capsys, *args, "--existing", "check")
    assert code == 1
    by = {o["source"].split(".")[-1]: o for o in rep["objects"]}
    reasons = [d["reason"] for d in by["parent"]["decisions"] if d["level"] == "error"]
    assert f"existing table {target_db}.parent differs: column extra is not in the source table" in reasons
    assert f"existing table {target_db}.parent differs: column name: COLUMN_TYPE is 'varchar(30)' on the target, " \
           "'varchar(20)' from the source" in reasons
    assert f"existing table {target_db}.parent differs: column name: IS_NULLABLE is 'YES' on the target, " \
           "'NO' from the source" in reasons
    assert f"existing table {target_db}.parent differs: key k_name is not in the source table" in reasons
    assert by["parent"]["status"] == "failed"
    assert any("key PRIMARY (unique id) is missing" in d["reason"] for d in by["other"]["decisions"])
    assert by["child"]["status"] == "done" and by["child"]["level"] == "info"
    assert [r[0] for r in query(target_conn, "SHOW DATABASES LIKE '\\_tidb2mysql\\_check\\_%%'")] == []


def test_tables_selection_and_missing_names(capsys, source, target_conn, target_db):
    code, rep = run_json(capsys, "--tables", f"{source}.other,{source}.v_parent,{source}.parent",
                         "--target-database", target_db)
    assert code == 0
    assert objects(target_conn, target_db) == [("other", "BASE TABLE"), ("parent", "BASE TABLE"),
                                                ("v_parent", "VIEW")]
    code, out, err = run(capsys, "--tables", f"{source}.nope", "--target-database", target_db)
    assert code == 2 and f"selected but not found on the source: {source}.nope" in err
    code, out, err = run(capsys, "--databases", f"{source},no_such_db_{uuid.uuid4().hex[:6]}")
    assert code == 2 and "selected but not found on the source: no_such_db_" in err


def test_unreachable_source_is_a_clear_error(capsys, tmp_path, target_db):
    cfg = stack.config_path().read_text().replace("port = 14000", "port = 1")
    assert "port = 1\n" in cfg
    path = tmp_path / "bad.toml"
    path.write_text(cfg)
    code, out, err = run(capsys, "--databases", "x", "--target-database", target_db, config=path)
    assert code == 2
    assert "tidb2mysql schema: cannot connect to the source tidb2mysql@127.0.0.1:1:" in err
    assert out == ""


def test_view_order_fallback_retries_until_created(capsys, source_conn, source_db, target_conn, target_db):
    # `z` has a column named `a`, which looks like a use of view `a`; `a` really uses `z`.
    # The apparent cycle falls back to name order (a before z): `a` fails, is retried after
    # `z` and created on pass 1, and both steps say so.
    query(source_conn, "CREATE VIEW z AS SELECT 1 AS a")
    query(source_conn, "CREATE VIEW a AS SELECT a + 1 AS b FROM z")
    code, rep = run_json(capsys, "--databases", source_db, "--target-database", target_db)
    assert code == 0, rep
    assert rep["not_migrated"][0]["level"] == "warning" and "depend on each other" in rep["not_migrated"][0]["reason"]
    by = {o["source"].split(".")[-1]: o for o in rep["objects"]}
    assert by["a"]["status"] == "done"
    assert any("created on retry pass 1" in d["reason"] for d in by["a"]["decisions"])
    assert query(target_conn, "SELECT * FROM a") == [(2,)]


def test_view_that_cannot_be_created_fails_naming_it(capsys, source_conn, source_db, target_conn, target_db):
    query(source_conn, "CREATE TABLE base (x INT)")
    query(source_conn, "CREATE VIEW broken AS SELECT x FROM base")
    code, rep = run_json(capsys, "--tables", f"{source_db}.broken", "--target-database", target_db)
    assert code == 1
    step = rep["objects"][-1]
    assert step["status"] == "failed" and step["level"] == "error"
    assert step["error"].startswith(f"view {target_db}.broken: ") and "base" in step["error"]
