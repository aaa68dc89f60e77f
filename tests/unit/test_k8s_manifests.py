"""The Kubernetes manifests (k8s/) and their entrypoint (k8s/entrypoint.py), without a cluster.

Reads the committed renders in k8s/rendered/ (written by `make k8s-check`, which also validates
them against the Kubernetes schemas with kubeconform) and checks what matters for a working,
safe deployment: one Bytewax cluster whose process ids and peer lists come from the pod
ordinals, recovery partitions on the per-pod volume and split without overlap, passwords only
from Secret files, probes on the real metrics endpoint, a grace period for the drain, a
NetworkPolicy with exactly the needed ports, memory sized from the measured peaks. A render
gone stale after a source change is caught by `make k8s-check` (kustomize + kubeconform).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "k8s"
RENDERS = {
    "example.yaml": "overlays/example",
    "example-jobs.yaml": "overlays/example/jobs",
    "example-prometheus-operator.yaml": "overlays/example-prometheus-operator",
}


def _load_entrypoint():
    spec = importlib.util.spec_from_file_location("t2m_k8s_entrypoint", K8S / "entrypoint.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look the module up while the class is created
    spec.loader.exec_module(mod)
    return mod


ep = _load_entrypoint()


def docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((K8S / "rendered" / name).read_text()) if d]


def one(objs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def objs() -> list[dict]:
    return docs("example.yaml")


@pytest.fixture(scope="module")
def jobs() -> list[dict]:
    return [o for o in docs("example-jobs.yaml") if o["kind"] == "Job"]


@pytest.fixture(scope="module")
def sts(objs) -> dict:
    return one(objs, "StatefulSet")


def container(workload: dict) -> dict:
    (c,) = workload["spec"]["template"]["spec"]["containers"]
    return c


def env_of(c: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}


def port_of(c: dict, name: str) -> int:
    (p,) = [p["containerPort"] for p in c["ports"] if p["name"] == name]
    return p


def pod_env(sts: dict, ordinal: int) -> dict[str, str]:
    """The environment the kubelet gives pod ``ordinal`` (downward API fields resolved)."""
    c = container(sts)
    env = env_of(c)
    fields = {"metadata.name": f"{sts['metadata']['name']}-{ordinal}", "metadata.namespace": sts["metadata"]["namespace"]}
    for e in c["env"]:
        if "valueFrom" in e:
            env[e["name"]] = fields[e["valueFrom"]["fieldRef"]["fieldPath"]]
    return env


def config_of(objs: list[dict], workload: dict) -> tuple[dict, str]:
    """The parsed TOML the workload reads (through $TIDB2MYSQL_CONFIG or --config) and its path."""
    c = container(workload)
    path = env_of(c)["TIDB2MYSQL_CONFIG"]
    mount = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    (vol,) = [v for v in workload["spec"]["template"]["spec"]["volumes"]
              if "configMap" in v and path.startswith(mount[v["name"]] + "/")]
    cm = one(objs, "ConfigMap", vol["configMap"]["name"])
    key = path[len(mount[vol["name"]]) + 1:]
    assert key in cm["data"], f"{path}: the ConfigMap has no key {key!r}"
    return tomllib.loads(cm["data"][key]), path


# --- one Bytewax cluster from one template ------------------------------------------------------

def test_every_pod_derives_its_process_id_from_its_ordinal_and_the_same_peer_list(sts, objs):
    c = container(sts)
    assert c["command"] == ["tidb2mysql-k8s", "incremental"]
    n = sts["spec"]["replicas"]
    assert n >= 2, "the example runs a real multi-process cluster"
    assert int(env_of(c)["T2M_REPLICAS"]) == n, "T2M_REPLICAS must equal spec.replicas"
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    assert sts["spec"]["updateStrategy"]["type"] == "OnDelete"

    peers = one(objs, "Service", sts["spec"]["serviceName"])
    assert peers["spec"]["clusterIP"] == "None" and peers["spec"]["publishNotReadyAddresses"] is True
    assert peers["spec"]["selector"].items() <= sts["spec"]["template"]["metadata"]["labels"].items()
    peer_port = port_of(c, "peer")
    assert [p["port"] for p in peers["spec"]["ports"]] == [peer_port]

    plans = [ep.make_plan(pod_env(sts, i), python="python") for i in range(n)]
    ns = sts["metadata"]["namespace"]
    expected = [f"{sts['metadata']['name']}-{i}.{peers['metadata']['name']}.{ns}.svc.cluster.local:{peer_port}"
                for i in range(n)]
    for i, plan in enumerate(plans):
        argv = plan.argv
        assert argv[:4] == ["python", "-m", "bytewax.run", "flows.incremental"]
        assert argv[argv.index("-i") + 1] == str(i)
        assert argv[argv.index("-a") + 1].split(";") == expected  # exactly N, the same on every pod
        assert argv[argv.index("-w") + 1] == env_of(c)["T2M_WORKERS"]


def test_metrics_port_is_the_same_on_every_pod_although_the_flow_adds_the_process_id(sts, objs):
    c = container(sts)
    metrics = port_of(c, "metrics")
    cfg, _ = config_of(objs, sts)
    assert cfg["metrics"]["bind"] == "0.0.0.0"
    for i in range(sts["spec"]["replicas"]):
        plan = ep.make_plan(pod_env(sts, i), python="python")
        over = json.loads(plan.env["TIDB2MYSQL_OVERRIDES"])["metrics"]
        # flows/incremental.py listens on [metrics] port + the -i process id.
        assert over["port"] + int(plan.argv[plan.argv.index("-i") + 1]) == metrics
        assert over["bind"] == "0.0.0.0"


def test_recovery_dir_is_the_per_pod_volume_and_partitions_are_split_without_overlap(sts):
    c = container(sts)
    env = env_of(c)
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == env["T2M_RECOVERY_DIR"]
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    n = sts["spec"]["replicas"]
    held = []
    for i in range(n):
        plan = ep.make_plan(pod_env(sts, i), python="python")
        argv = plan.argv
        assert argv[argv.index("-r") + 1] == env["T2M_RECOVERY_DIR"]
        assert argv[argv.index("-s") + 1] == env["T2M_SNAPSHOT_SECONDS"] and argv[argv.index("-b") + 1] == "0"
        assert plan.recovery_parts >= n * int(env["T2M_WORKERS"])
        held.append(ep.recovery_share(plan.recovery_parts, n, i))
    flat = sorted(k for h in held for k in h)
    assert flat == list(range(plan.recovery_parts)), "every partition on exactly one pod"


# --- secrets -----------------------------------------------------------------------------------

PASSWORD_KEYS = ("password", "password_env", "password_file")


def test_every_password_is_a_secret_file_named_by_password_file(objs, jobs, sts):
    for w in [sts, *jobs]:
        cfg, _ = config_of(objs, w)
        c = container(w)
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        secret_files = {}
        for v in w["spec"]["template"]["spec"]["volumes"]:
            if "secret" in v:
                assert v["secret"]["defaultMode"] & 0o007 == 0, "secret files not world-readable"
                for item in v["secret"]["items"]:
                    secret_files[f"{mounts[v['name']]}/{item['path']}"] = (v["secret"]["secretName"], item["key"])
        with_password = [s for s, body in cfg.items() if isinstance(body, dict) and
                         any(body.get(k) for k in PASSWORD_KEYS)]
        assert {"source", "target"} <= set(with_password)
        for section in with_password:
            body = cfg[section]
            assert not body.get("password") and not body.get("password_env"), f"[{section}]: inline/env password"
            assert body["password_file"] in secret_files, f"[{section}] password_file is not a mounted Secret item"
        for e in c.get("env", []):
            assert "secretKeyRef" not in e.get("valueFrom", {}), "passwords as files, not environment variables"


def test_example_configuration_is_valid_for_tidb2mysql(tmp_path, objs):
    """Every key and type of the ConfigMap's TOML passes tidb2mysql's own validation."""
    from tidb2mysql import config as config_mod

    text = one(objs, "ConfigMap", "tidb2mysql-config")["data"]["tidb2mysql.toml"]
    assert text.count("/etc/tidb2mysql/secrets/") >= 2
    secrets = tmp_path / "secrets"  # validation checks that password files exist: stand-ins
    secrets.mkdir()
    for name in ("source-password", "target-password", "kafka-password"):
        (secrets / name).write_text("x\n")
    p = tmp_path / "tidb2mysql.toml"
    p.write_text(text.replace("/etc/tidb2mysql/secrets/", f"{secrets}/"))
    cfg = config_mod.load(str(p))
    assert cfg.source.password_file == f"{secrets}/source-password"


# --- probes, grace period, resources -------------------------------------------------------------

def test_probes_hit_the_metrics_endpoint_which_answers_on_that_path(sts):
    from tidb2mysql.ops.metrics import Registry, serve

    c = container(sts)
    server = serve("127.0.0.1", 0, Registry())
    try:
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = c[probe]["httpGet"]
            assert get["port"] == "metrics" and port_of(c, "metrics") == int(env_of(c)["T2M_METRICS_PORT"])
            url = f"http://127.0.0.1:{server.server_address[1]}{get['path']}"
            with urllib.request.urlopen(url, timeout=5) as r:
                assert r.status == 200
    finally:
        server.shutdown()
    assert c["startupProbe"]["periodSeconds"] * c["startupProbe"]["failureThreshold"] >= 120


def test_grace_period_covers_the_graceful_drain(sts, jobs):
    # SIGTERM drains what was read (about one epoch, T2M_SNAPSHOT_SECONDS) and records every
    # shard's checkpoint; allow an order of magnitude more than an epoch, and at least a minute.
    snap = int(env_of(container(sts))["T2M_SNAPSHOT_SECONDS"])
    assert sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= max(60, 10 * snap)
    migrate = [j for j in jobs if j["metadata"]["name"].endswith("migrate")][0]
    assert migrate["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60


def _mib(q: str) -> float:
    m = re.fullmatch(r"(\d+)(Mi|Gi)", q)
    assert m, q
    return int(m.group(1)) * (1024 if m.group(2) == "Gi" else 1)


def test_memory_request_covers_the_measured_peak_of_the_incremental_flow(sts):
    # docs/performance.md, "Memory": peak RSS of the incremental flow's process tree.
    perf = (REPO / "docs" / "performance.md").read_text()
    peaks = [int(x) for line in perf.splitlines() if line.startswith("| incremental")
             for x in re.findall(r"(\d+) MiB", line)]
    assert peaks, "docs/performance.md has no incremental memory figures to size the pods from"
    res = container(sts)["resources"]
    assert _mib(res["requests"]["memory"]) >= max(peaks)
    assert _mib(res["limits"]["memory"]) >= 1.5 * max(peaks)


# --- network policy --------------------------------------------------------------------------------

def _ports(rules: list[dict]) -> set[tuple[int, str]]:
    return {(p["port"], p.get("protocol", "TCP")) for r in rules for p in r.get("ports", [])}


def test_network_policy_allows_peers_metrics_kafka_databases_and_dns_only(objs, sts, jobs):
    np = one(objs, "NetworkPolicy")
    sel = np["spec"]["podSelector"]["matchLabels"].items()
    for w in [sts, *jobs]:
        assert sel <= w["spec"]["template"]["metadata"]["labels"].items(), f"{w['metadata']['name']} not covered"
    assert set(np["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    c = container(sts)
    peer, metrics = port_of(c, "peer"), port_of(c, "metrics")
    ingress = np["spec"]["ingress"]
    assert _ports(ingress) == {(peer, "TCP"), (metrics, "TCP")}
    peer_rules = [r for r in ingress if _ports([r]) == {(peer, "TCP")}]
    assert peer_rules and all(r.get("from") for r in peer_rules), "the peer port only from the flow's pods"

    cfg, _ = config_of(objs, sts)
    kafka = {int(b.rsplit(":", 1)[1]) for b in cfg["kafka"]["brokers"].split(",")}
    needed = {(53, "UDP"), (53, "TCP"), (peer, "TCP"), (cfg["source"]["port"], "TCP"), (cfg["target"]["port"], "TCP")}
    needed |= {(p, "TCP") for p in kafka}
    assert _ports(np["spec"]["egress"]) == needed
    assert all(r.get("ports") for r in np["spec"]["egress"]), "no egress rule without ports"


# --- services, scraping, jobs, image ---------------------------------------------------------------

def test_metrics_service_annotations_and_service_monitor_point_at_the_metrics_port(objs, sts):
    svc = one(objs, "Service", "tidb2mysql-metrics")
    metrics = port_of(container(sts), "metrics")
    assert svc["spec"]["selector"].items() <= sts["spec"]["template"]["metadata"]["labels"].items()
    assert svc["metadata"]["annotations"]["prometheus.io/port"] == str(metrics)
    assert svc["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    (port,) = svc["spec"]["ports"]
    assert port["targetPort"] == "metrics" and port["port"] == metrics
    mon = one(docs("example-prometheus-operator.yaml"), "ServiceMonitor")
    assert mon["metadata"]["namespace"] == svc["metadata"]["namespace"]
    assert mon["spec"]["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert [e["port"] for e in mon["spec"]["endpoints"]] == [port["name"]]
    assert "ServiceMonitor" not in {o["kind"] for o in objs}, "the plain example must apply without the CRD"


def test_jobs_run_real_tidb2mysql_commands_with_the_mounted_config(objs, jobs):
    from tidb2mysql.cli import build_parser

    parser = build_parser()
    names = set()
    for j in jobs:
        c = container(j)
        _, path = config_of(objs, j)
        assert c["command"][0] == "tidb2mysql"
        args = parser.parse_args(c["command"][1:])
        assert args.config == path
        names.add(args.command)
        spec = j["spec"]
        assert spec["template"]["spec"]["restartPolicy"] == "Never"
        codes = spec["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"]
        assert 2 in codes  # a configuration error is not retried
        if args.command == "migrate":
            assert 3 in codes  # nor a job fenced by a cut-over
            cfg, _ = config_of(objs, j)  # scraped by its pod annotations, on the configured port
            ann = j["spec"]["template"]["metadata"]["annotations"]
            assert ann["prometheus.io/port"] == str(cfg["metrics"]["port"]) == str(port_of(c, "metrics"))
    assert names == {"precheck", "schema", "full-load", "migrate", "cutover"}


def test_image_runs_as_the_pods_user_and_ships_the_entrypoint(sts, jobs):
    dockerfile = (REPO / "Dockerfile").read_text()
    user = re.findall(r"^USER (\d+):(\d+)", dockerfile, re.M)
    assert user, "Dockerfile sets a numeric non-root USER"
    for w in [sts, *jobs]:
        sc = w["spec"]["template"]["spec"]["securityContext"]
        assert (str(sc["runAsUser"]), str(sc["runAsGroup"])) == user[-1] and sc["runAsNonRoot"] is True
    assert "COPY k8s/entrypoint.py /opt/tidb2mysql/bin/tidb2mysql-k8s" in dockerfile
    assert "!k8s/entrypoint.py" in (REPO / ".dockerignore").read_text()


# --- the entrypoint's own logic ------------------------------------------------------------------------

BASE_ENV = {"POD_NAME": "t2m-1", "POD_NAMESPACE": "ns", "T2M_REPLICAS": "3", "T2M_PEER_SERVICE": "peers",
            "TIDB2MYSQL_CONFIG": "/c.toml"}


def test_entrypoint_rejects_inconsistent_settings():
    with pytest.raises(ep.EntrypointError, match="ordinal 3"):
        ep.make_plan({**BASE_ENV, "POD_NAME": "t2m-3"})
    with pytest.raises(ep.EntrypointError, match="2 addresses"):
        ep.make_plan({**BASE_ENV, "T2M_PEER_ADDRESSES": "127.0.0.1:1;127.0.0.1:2"})
    with pytest.raises(ep.EntrypointError, match="does not end in"):
        ep.make_plan({**BASE_ENV, "POD_NAME": "t2m"})
    plan = ep.make_plan({**BASE_ENV, "T2M_PEER_ADDRESSES": "127.0.0.1:1;127.0.0.1:2;127.0.0.1:3"})
    assert plan.argv[plan.argv.index("-a") + 1] == "127.0.0.1:1;127.0.0.1:2;127.0.0.1:3"
    single = ep.make_plan({**BASE_ENV, "POD_NAME": "t2m-0", "T2M_REPLICAS": "1"})
    assert "-i" not in single.argv and json.loads(single.env["TIDB2MYSQL_OVERRIDES"])["metrics"]["port"] == 9464


def test_recovery_share_is_kept_then_reset_when_the_number_of_processes_changes(tmp_path):
    from bytewax.recovery import init_db_dir

    d = tmp_path / "recovery"
    logs: list[str] = []
    env = {**BASE_ENV, "T2M_RECOVERY_DIR": str(d), "T2M_RECOVERY_PARTS": "8"}
    plan = ep.make_plan(env)
    assert ep.prepare_recovery(plan, init_db_dir, logs.append) == "created"
    assert sorted(p.name for p in d.glob("part-*")) == ["part-1.sqlite3", "part-4.sqlite3", "part-7.sqlite3"]
    (d / "part-4.sqlite3").write_bytes((d / "part-4.sqlite3").read_bytes())  # snapshots would live here
    assert ep.prepare_recovery(plan, init_db_dir, logs.append) == "kept"

    plan2 = ep.make_plan({**env, "T2M_REPLICAS": "2"})  # N 3 -> 2: pod 1 now holds the odd partitions
    assert ep.prepare_recovery(plan2, init_db_dir, logs.append) == "reset"
    assert sorted(p.name for p in d.glob("part-*")) == [f"part-{k}.sqlite3" for k in (1, 3, 5, 7)]
    assert any("replicas 3 -> 2" in m for m in logs)
    plan_w = ep.make_plan({**env, "T2M_REPLICAS": "2", "T2M_WORKERS": "2"})  # workers too (same parts: 8 >= 2x2)
    assert plan_w.recovery_parts == 8 and ep.prepare_recovery(plan_w, init_db_dir, logs.append) == "reset"

    plan3 = ep.make_plan({**env, "T2M_REPLICAS": "2", "T2M_RECOVERY_GENERATION": "2"})
    assert ep.prepare_recovery(plan3, init_db_dir, logs.append) == "reset"
    assert ep.prepare_recovery(plan3, init_db_dir, logs.append) == "kept"
