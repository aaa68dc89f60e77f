"""The Kubernetes StatefulSet's pods, run as local processes against the stack.

Takes the rendered StatefulSet (k8s/rendered/example.yaml), derives for each of its N=2 pods the
exact command and environment the kubelet would give it (downward-API fields resolved), rewrites
only what differs on one host - peer addresses and metrics ports to free loopback ports, each
pod's recovery volume to a directory, the configuration to this test's - and runs
k8s/entrypoint.py (the image's `tidb2mysql-k8s`) for every pod. Checks that:

* without a finished full load the entrypoint refuses to start (exit 75) and says why;
* with one, the two processes form ONE Bytewax cluster (both serve metrics, both apply shards)
  starting right after the full load's snapshot TSO, and replicate a simulator run exactly;
* after SIGKILL of both pods in the middle of the run (a node failure), the restarted pods keep
  their own share of the recovery partitions and resume from them, and the target still equals
  the source exactly;
* SIGTERM to every pod (what `kubectl delete pod` / scaling to 0 does) drains and exits 0;
* when one pod loses its volume, the cluster refuses to start (no resume from a mix), and a new
  T2M_RECOVERY_GENERATION gets it going again from the target checkpoints (k8s/README.md).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml

from tidb2mysql.mysql import db
from tidb2mysql.compare import compare_databases
from tidb2mysql.fullload.jobstore import JobStore
from tidb2mysql.replication.checkpoint import Checkpoints
from tidb2mysql.simulator import SimulatorOptions, run_simulation
from tests.support import flowrun
from tests.support.stack import create_topic, delete_topic

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
META = "tidb2mysql"


def free_ports(n: int) -> list[int]:
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def statefulset() -> dict:
    objs = [d for d in yaml.safe_load_all((REPO / "k8s" / "rendered" / "example.yaml").read_text()) if d]
    (sts,) = [o for o in objs if o["kind"] == "StatefulSet"]
    return sts


def pod_specs(sts: dict, tmp: Path, config: Path) -> list[tuple[list[str], dict[str, str], int]]:
    """(argv, environment, metrics port) of every pod, rewritten for one host."""
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    n = sts["spec"]["replicas"]
    peers = free_ports(n)
    metrics = free_ports(n)
    out = []
    for i in range(n):
        env = {e["name"]: e["value"] for e in c["env"] if "value" in e}
        fields = {"metadata.name": f"{sts['metadata']['name']}-{i}", "metadata.namespace": sts["metadata"]["namespace"]}
        for e in c["env"]:
            if "valueFrom" in e:
                env[e["name"]] = fields[e["valueFrom"]["fieldRef"]["fieldPath"]]
        env.update({
            "T2M_PEER_ADDRESSES": ";".join(f"127.0.0.1:{p}" for p in peers),  # instead of the pods' DNS names
            "T2M_METRICS_PORT": str(metrics[i]),  # one host: a port per pod
            "T2M_METRICS_BIND": "127.0.0.1",
            "T2M_RECOVERY_DIR": str(tmp / f"recovery-{i}"),  # the pod's volume
            "TIDB2MYSQL_CONFIG": str(config),
            "T2M_DNS_WAIT_SECONDS": "5",
            "T2M_SNAPSHOT_SECONDS": "1",  # snapshots every second, so the kill below has some to resume from
        })
        # The image's command is `tidb2mysql-k8s incremental` = k8s/entrypoint.py (Dockerfile).
        assert c["command"][0] == "tidb2mysql-k8s"
        argv = [sys.executable, str(REPO / "k8s" / "entrypoint.py"), *c["command"][1:]]
        out.append((argv, env, metrics[i]))
    return out


def start_pod(argv, env, log: Path) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if k not in ("TIDB2MYSQL_OVERRIDES",)}
    full.update(env)
    return subprocess.Popen(argv, cwd=REPO, env=full, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def scrape(port: int) -> dict[str, float]:
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def flushes(m: dict) -> float:
    return sum(v for k, v in m.items() if k.startswith("tidb2mysql_flushes_total"))


@pytest.fixture
def sim(stack_config):
    topic = f"t2m_k8s_{uuid.uuid4().hex[:8]}"
    create_topic(stack_config.kafka, topic)
    cfg = dataclasses.replace(stack_config, kafka=dataclasses.replace(stack_config.kafka, topic=topic))
    summary = run_simulation(cfg, SimulatorOptions(
        seed=1515, txns=800, databases=[f"k8s_{uuid.uuid4().hex[:6]}"], tables=3, ddl_every=100, redeliver=0.002))
    try:
        yield cfg, topic, summary
    finally:
        for conn_cfg in (stack_config.source, stack_config.target):
            conn = db.connect(conn_cfg)
            with conn.cursor() as cur:
                for d in summary.databases:
                    cur.execute(f"DROP DATABASE IF EXISTS `{d}`")
            conn.close()
        delete_topic(stack_config.kafka, topic)


def test_statefulset_pods_form_one_cluster_and_replicate_exactly(sim, tmp_path):
    cfg, topic, summary = sim
    job = f"k8s_{uuid.uuid4().hex[:6]}"
    # Small batches: the run lasts long enough for snapshots and a kill in the middle.
    config = flowrun.write_config(tmp_path / "tidb2mysql.toml", topic=topic, job=job,
                                  incremental={"source_batch": 5, "batch_rows": 5})
    sts = statefulset()
    pods = pod_specs(sts, tmp_path, config)
    assert len(pods) == 2
    target = db.connect(cfg.target, autocommit=True)
    logs = [tmp_path / f"pod-{i}.log" for i in range(len(pods))]
    procs: list[subprocess.Popen] = []
    try:
        # 1. No full load yet: the pod refuses to start and says why (Kubernetes retries later).
        argv, env, _ = pods[0]
        p = start_pod(argv, env, logs[0])
        assert p.wait(timeout=60) == 75, flowrun.tail(logs[0])
        assert "the full load has not finished" in logs[0].read_text()

        # 2. The full load "finished" just before the simulated stream: start after its TSO.
        store = JobStore(META, job)
        store.ensure(target)
        with target.cursor() as cur:
            cur.execute(f"INSERT INTO `{META}`.full_load_job (job, stage, snapshot_kind, snapshot_ts, lanes, plan,"
                        " created_at) VALUES (%s, 'loaded', 'test', %s, 1, '[]', NOW(6))",
                        (job, summary.first_commit_ts - 1))
        procs = [start_pod(argv, env, log) for (argv, env, _), log in zip(pods, logs)]

        def wait_for(pred, timeout: float, what: str) -> None:
            try:
                flowrun.wait_until(pred, timeout, what=what)
            except AssertionError as e:
                raise AssertionError(f"{e}\n" + "\n".join(f"--- pod {i}:\n{flowrun.tail(log, 30)}"
                                                         for i, log in enumerate(logs))) from None

        grace = sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]

        def stop_all(ps: list[subprocess.Popen]) -> list[int]:
            """SIGTERM to every pod at once, as the kubelet does; the exit codes within the grace period."""
            for p in ps:
                os.killpg(p.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            for p in ps:
                try:
                    p.wait(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    for q in ps:
                        flowrun.kill(q)
                    raise AssertionError(f"not stopped within the grace period ({grace} s)\n" + "\n".join(
                        f"--- pod {i}:\n{flowrun.tail(log, 30)}" for i, log in enumerate(logs))) from None
            return [p.returncode for p in ps]

        def applied() -> tuple[int, int]:
            with target.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s"
                            " AND TABLE_NAME='checkpoint'", (META,))
                if not cur.fetchone()[0]:
                    return 0, 0
                cur.execute(f"SELECT COALESCE(MIN(commit_ts), 0), COUNT(*) FROM `{META}`.checkpoint WHERE job=%s",
                            (job,))
                lo, n = cur.fetchone()
            return int(lo), int(n)

        def caught_up() -> bool:
            for i, p in enumerate(procs):
                assert p.poll() is None, f"pod {i} exited early:\n{flowrun.tail(logs[i])}"
            lo, n = applied()
            return n > 0 and lo >= summary.last_commit_ts

        # 3. A node failure in the middle of the run: SIGKILL both pods (no drain), then start
        #    them again on the same "volumes": each resumes from its own share of the snapshots.
        quarter = summary.first_commit_ts + (summary.last_commit_ts - summary.first_commit_ts) // 4
        wait_for(lambda: applied()[0] > quarter, 180, "a quarter of the stream applied")
        assert not caught_up(), "the run finished before the kill: slow it down"
        for p in procs:
            flowrun.kill(p)
        partial = applied()[0]
        procs = [start_pod(argv, env, log) for (argv, env, _), log in zip(pods, logs)]
        seen = [0.0] * len(pods)
        deadline = time.monotonic() + 240
        while not caught_up():
            assert time.monotonic() < deadline, "\n".join(flowrun.tail(log) for log in logs)
            for i, (_, _, port) in enumerate(pods):
                seen[i] = max(seen[i], flushes(scrape(port)))
            time.sleep(0.3)
        for i, (_, _, port) in enumerate(pods):
            seen[i] = max(seen[i], flushes(scrape(port)))
        # One cluster: every pod's metrics endpoint answers on its port, and each applied shards.
        assert all(seen), f"flushes per pod {seen}: not every process hosts shards"

        # 4. Graceful stop, as the kubelet does it: SIGTERM to every pod at once.
        assert stop_all(procs) == [0] * len(procs), "\n".join(flowrun.tail(log) for log in logs)
        text = logs[0].read_text()
        assert f"full load finished at snapshot TSO {summary.first_commit_ts - 1}" in text
        assert "-i 0 -a 127.0.0.1:" in text and "-i 1 -a 127.0.0.1:" in logs[1].read_text()

        src = db.connect(cfg.source)  # exact after the kill and the resume
        try:
            for d in summary.databases:
                res = compare_databases(src, d, target, d)
                assert res.equal, f"database {d} differs:\n{res}"
        finally:
            src.close()

        for i, log in enumerate(logs):  # the restart after the kill kept each pod's partitions ...
            holds = json.loads((tmp_path / f"recovery-{i}" / "tidb2mysql-layout.json").read_text())["holds"]
            assert f"recovery: keeping partitions {holds}" in log.read_text()
        # ... and each pod (one Bytewax process) ran its own reader in both runs, the restarted
        # one from its shards' target checkpoints (the shards' pending state came back from the
        # snapshots spread over the two "volumes"; the source keeps no snapshot).
        starts = [line for log in logs for line in log.read_text().splitlines() if "partition 0 from offset" in line]
        assert len(starts) == 4, starts
        assert sorted(line.split("process ", 1)[1][0] for line in starts) == ["0", "0", "1", "1"], starts
        assert sum("target checkpoint" in line for line in starts) >= 2, starts
        print(f"killed at applied commit_ts {partial} of {summary.first_commit_ts}..{summary.last_commit_ts}")

        # 5. Pod 1 loses its volume. Bytewax refuses to resume from a mix of snapshots and empty
        #    partitions (it panics, on every start: the pods crash-loop and write nothing); the
        #    documented remedy, a new T2M_RECOVERY_GENERATION, resets every pod's share and the
        #    flow resumes from the target checkpoints.
        shutil.rmtree(tmp_path / "recovery-1")
        with target.cursor() as cur:
            cur.execute(f"SELECT SUM(rows_applied) FROM `{META}`.checkpoint WHERE job=%s", (job,))
            rows_before = cur.fetchone()[0]
        procs = [start_pod(argv, env, log) for (argv, env, _), log in zip(pods, logs)]
        # The process that finds the mix fails; its peer may fail too or keep waiting for it.
        wait_for(lambda: any(p.poll() not in (None, 0) for p in procs), 120, "a pod refusing the mix")
        time.sleep(2)
        for p in procs:
            if p.poll() is None:
                flowrun.kill(p)
        assert all(p.returncode != 0 for p in procs), "resumed from a mix of snapshots and empty partitions"
        with target.cursor() as cur:
            cur.execute(f"SELECT SUM(rows_applied) FROM `{META}`.checkpoint WHERE job=%s", (job,))
            assert cur.fetchone()[0] == rows_before, "nothing is written while the pods refuse to start"
        for _, env, _ in pods:
            env["T2M_RECOVERY_GENERATION"] = str(int(env["T2M_RECOVERY_GENERATION"]) + 1)
        before = [len(log.read_text().splitlines()) for log in logs]
        procs = [start_pod(argv, env, log) for (argv, env, _), log in zip(pods, logs)]

        def new_lines() -> list[str]:
            return [line for log, n in zip(logs, before) for line in log.read_text().splitlines()[n:]]

        wait_for(lambda: any("partition 0 from offset" in line for line in new_lines()), 120,
                 "the source started after the reset")
        assert stop_all(procs) == [0] * len(procs), "\n".join(new_lines()[-40:])
        lines = new_lines()
        assert sum("recovery: reset partitions" in line for line in lines) == 2
        assert any("from offset" in line and "target checkpoint" in line for line in lines)
    finally:
        for p in procs:
            if p.poll() is None:
                flowrun.kill(p)
        try:
            Checkpoints(META, job).delete_job(target)
            with target.cursor() as cur:
                cur.execute(f"DELETE FROM `{META}`.full_load_job WHERE job=%s", (job,))
        finally:
            target.close()
