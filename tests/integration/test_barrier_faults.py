"""The DDL barrier attacked at each of its weakest moments, on the real stack.

Every named failpoint (``tidb2mysql/failpoints.py``) x every DDL kind of
``tests/support/ddl_scenario.build_ddl_kinds`` x every layout (-w 1, -w 4, 2 processes x
2 workers). One failpoint is armed per test, with a once-directory: the flow dies (SIGKILL
semantics) the first time it reaches that moment for each DDL under test, is restarted with
the same recovery directory and environment, dies at the next DDL, and so on until a run
reaches the end of the topic. Then the target must equal the source, schema included, every
``ddl_history`` row must be ``applied``, and there must be no dead letter. The test also
checks that the failpoint really fired once for every DDL under test: a matrix cell whose
moment is never reached tests nothing and fails.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tidb2mysql import failpoints
from tidb2mysql.mysql import db
from tidb2mysql.compare import compare_databases
from tidb2mysql.replication import deadletter
from tests.support import flowrun
from tests.support.ddl_scenario import Scenario, build_ddl_kinds
from tests.support.drainer_stream import q, stream_env

pytestmark = [pytest.mark.integration]

LAYOUTS = [(1, 1), (4, 1), (2, 2)]
LAYOUT_IDS = ["w1", "w4", "p2w2"]
# The incremental flow's moments around a DDL and a flush (apply.commit, a COMMIT whose reply is
# lost, is attacked by tests/integration/test_*commit* with ``drop``; as a kill it is the same
# moment as apply.after_commit; page.commit belongs to the full load).
KILL_POINTS = ["apply.after_commit", "apply.before_commit", "barrier.after_ack", "barrier.after_execute",
               "barrier.after_intent", "barrier.after_record", "barrier.before_ack"]


def fired(once: Path, point: str) -> set[int]:
    return {int(f.name.split("@", 1)[1]) for f in once.iterdir() if f.name.startswith(point + "@")}


def run_until_done(cmd, log: Path, env: dict, once: Path, max_runs: int, timeout: float = 120) -> int:
    """Start the flow again after every failpoint kill; the number of kills."""
    kills = 0
    for _ in range(max_runs):
        before = len(list(once.iterdir()))
        p = flowrun.start(cmd, log, env)
        deadline = time.monotonic() + timeout
        while True:
            rc = p.poll()
            if rc is not None:
                break
            if len(list(once.iterdir())) > before:
                # The armed moment was reached: the process is gone or going; take the whole
                # cluster down at once, as a machine loss would.
                time.sleep(0.05)
                flowrun.kill(p)
                rc = None
                break
            if time.monotonic() > deadline:
                flowrun.kill(p)
                raise AssertionError(f"flow neither finished nor hit the failpoint in {timeout}s:\n"
                                     + flowrun.tail(log))
            time.sleep(0.02)
        if rc is None:
            kills += 1
            continue
        assert rc == 0, f"flow exited {rc}:\n{flowrun.tail(log)}"
        return kills
    raise AssertionError(f"flow did not finish after {max_runs} runs:\n{flowrun.tail(log)}")


@pytest.fixture
def env(stack_config, kafka_topic, tmp_path):
    with stream_env(stack_config, kafka_topic, tmp_path, "fault") as env_:
        src = db.connect(stack_config.source)
        try:
            yield (*env_, src, stack_config)
        finally:
            with src.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{env_[1]}`")
            src.close()


def check_exact(stack_config, sc: Scenario, conn, job: str) -> None:
    dst = db.connect(stack_config.target)
    try:
        res = compare_databases(sc.source, sc.db, dst, sc.db)
    finally:
        dst.close()
    assert res.equal, f"target differs from source:\n{res}"
    statuses = q(conn, "SELECT commit_ts, status, error FROM tidb2mysql.ddl_history WHERE job=%s", job)
    assert len(statuses) == len(sc.setup_ts) + len(sc.tested)
    assert all(s == "applied" for _, s, _ in statuses), statuses
    assert deadletter.count(conn, "tidb2mysql", job) == 0, q(
        conn, "SELECT kind, schema_name, table_name, error FROM tidb2mysql.dead_letter WHERE job=%s", job)


def prepare(env, point: str):
    s, dbn, job, conn, tmp, src, stack_config = env
    sc = Scenario(s, src, dbn)
    build_ddl_kinds(sc)
    s.flush()
    once = tmp / "once"
    once.mkdir()
    # Only the DDL under test are attacked: the setup DDL (and flushes before any DDL, key 0)
    # are marked as already fired.
    for ts in [0, *sc.setup_ts]:
        (once / f"{point}@{ts}").touch()
    return sc, once


@pytest.mark.parametrize("workers,processes", LAYOUTS, ids=LAYOUT_IDS)
@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_at_failpoint(env, point, workers, processes):
    s, dbn, job, conn, tmp, src, stack_config = env
    sc, once = prepare(env, point)
    cfg = flowrun.write_config(tmp / "t2m.toml", topic=s.topic, job=job)
    cmd = flowrun.incremental_cmd(cfg, workers, processes, recovery_dir=tmp / "recovery")
    fp_env = {failpoints.ENV: f"{point}=kill", failpoints.ONCE_DIR_ENV: str(once)}
    t0 = time.monotonic()
    kills = run_until_done(cmd, tmp / "flow.log", fp_env, once, max_runs=len(sc.tested) + 4)
    assert fired(once, point) >= set(sc.tested), (
        f"{point} was not reached for DDL {sorted(set(sc.tested) - fired(once, point))}")
    assert kills >= len(sc.tested)
    check_exact(stack_config, sc, conn, job)
    print(f"{point} x {workers}w{processes}p: {kills} kills, {time.monotonic() - t0:.1f}s")


DROP_POINTS = ["barrier.after_intent", "barrier.after_execute", "barrier.after_record", "apply.before_commit"]


@pytest.mark.parametrize("workers,processes", [(4, 1), (2, 2)], ids=["w4", "p2w2"])
@pytest.mark.parametrize("point", DROP_POINTS)
def test_dropped_connection_at_failpoint(env, point, workers, processes):
    """The target connection is cut (socket shut down) at the moment; the flow carries on."""
    s, dbn, job, conn, tmp, src, stack_config = env
    sc, once = prepare(env, point)
    cfg = flowrun.write_config(tmp / "t2m.toml", topic=s.topic, job=job)
    log = tmp / "flow.log"
    rc = flowrun.run(flowrun.incremental_cmd(cfg, workers, processes), log, timeout=180,
                     env={failpoints.ENV: f"{point}=drop", failpoints.ONCE_DIR_ENV: str(once)})
    assert rc == 0, flowrun.tail(log)
    assert fired(once, point) >= set(sc.tested)
    check_exact(stack_config, sc, conn, job)
