#!/usr/bin/env python3
"""Entrypoint of one incremental-flow process in the Kubernetes StatefulSet (k8s/README.md).

    tidb2mysql-k8s incremental      prepare this pod's recovery partitions, then exec
                                    python -m bytewax.run flows.incremental -w W -i ORD -a ADDRS -r DIR -s S -b 0
    tidb2mysql-k8s print-command    print (JSON) the argv and environment `incremental` would exec; starts nothing

Every pod of the StatefulSet runs the same template; what differs is derived here:

* **process id** = the pod's ordinal, the number after the last ``-`` of ``$POD_NAME``
  (downward API ``metadata.name``: ``tidb2mysql-incremental-1`` -> 1);
* **peer addresses** = one per pod, ``<statefulset>-<i>.<peer service>.<namespace>.svc.<domain>:<port>``
  for i in 0..N-1 (the headless Service gives every pod that DNS name), the same list on every pod;
  N = ``$T2M_REPLICAS``, which must equal the StatefulSet's ``replicas`` (tests/unit/test_k8s_manifests.py
  checks the rendered manifests). ``$T2M_PEER_ADDRESSES`` ("a:p;b:p") replaces the list (local tests);
* **recovery partitions**: each pod has its own volume, and Bytewax needs the cluster *as a whole*
  to hold every partition exactly once (a partition present on two pods with different contents
  could be read from the stale copy). So the partitions are created once per layout and split by
  ordinal: pod i keeps ``part-k`` for k % N == i. ``tidb2mysql-layout.json`` in the directory records
  the layout (partitions, N, workers, ordinal, ``$T2M_RECOVERY_GENERATION``). A different layout (N or
  workers changed - docs/operations.md asks for the same process and worker count across restarts -,
  partitions changed, generation bumped) discards this pod's Bytewax snapshots and creates the new
  share: the flow then resumes from the target checkpoints, which is exact (docs/operations.md,
  "Auto-resume"); every pod runs the same template, so all pods switch together;
* **metrics port**: flows/incremental.py listens on ``[metrics] port + process id`` (for several
  *local* processes). In a pod the port must be the same for every ordinal (probes, Service), so
  ``$TIDB2MYSQL_OVERRIDES`` gets ``port = $T2M_METRICS_PORT - ordinal``;
* **start position**: with ``[incremental] start_commit_ts`` unset, the incremental flow must start
  right after the full load's snapshot. This reads ``<meta>.full_load_job`` for the job and passes
  its ``snapshot_ts``; if the full load has not finished, it exits 75 (EX_TEMPFAIL) with a message and
  Kubernetes restarts the pod later (``T2M_START_AFTER_FULL_LOAD=false`` turns this off, for a
  target loaded by other means).

Then it ``exec``s Bytewax, which becomes PID 1 and gets SIGTERM directly: the flow's graceful stop
(drain, checkpoints, exit 0; docs/operations.md) runs within terminationGracePeriodSeconds.
Passwords never pass through here: the configuration names files (``password_file``) mounted from
Secrets, and nothing secret is in argv or the environment.

Standard library only (plus the tidb2mysql package for the full-load lookup), so the unit tests
can import it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

LAYOUT_FILE = "tidb2mysql-layout.json"
EX_CONFIG = 2  # like tidb2mysql's configuration errors
EX_TEMPFAIL = 75  # the full load has not finished yet: try again later

DEFAULTS = {
    "T2M_WORKERS": "1",
    "T2M_PEER_PORT": "9999",
    "T2M_CLUSTER_DOMAIN": "cluster.local",
    "T2M_RECOVERY_DIR": "/var/lib/tidb2mysql/recovery",
    "T2M_RECOVERY_PARTS": "8",
    "T2M_RECOVERY_GENERATION": "1",
    "T2M_SNAPSHOT_SECONDS": "5",
    "T2M_METRICS_PORT": "9464",
    "T2M_METRICS_BIND": "0.0.0.0",
    "T2M_START_AFTER_FULL_LOAD": "true",
    "T2M_DNS_WAIT_SECONDS": "300",
}


class EntrypointError(Exception):
    """A setting is missing or inconsistent: exit 2 with the message."""


@dataclass
class Plan:
    statefulset: str
    ordinal: int
    replicas: int
    workers: int
    addresses: list[str]
    recovery_dir: str
    recovery_parts: int
    generation: str
    snapshot_seconds: int
    metrics_port: int
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # variables set or changed for the flow


def _get(env: Mapping[str, str], key: str) -> str:
    v = env.get(key, "")
    return v if v != "" else DEFAULTS.get(key, "")


def _int(env: Mapping[str, str], key: str, minimum: int = 0) -> int:
    raw = _get(env, key)
    try:
        v = int(raw)
    except ValueError:
        raise EntrypointError(f"${key} must be an integer, not {raw!r}") from None
    if v < minimum:
        raise EntrypointError(f"${key} must be >= {minimum}, not {v}")
    return v


def pod_identity(pod_name: str) -> tuple[str, int]:
    """``tidb2mysql-incremental-1`` -> (``tidb2mysql-incremental``, 1)."""
    m = re.fullmatch(r"(.+)-(\d+)", pod_name or "")
    if not m:
        raise EntrypointError(f"pod name {pod_name!r} does not end in -<ordinal>: is this a StatefulSet pod"
                              " with POD_NAME from the downward API (metadata.name)?")
    return m.group(1), int(m.group(2))


def peer_addresses(env: Mapping[str, str], statefulset: str, replicas: int) -> list[str]:
    """One ``host:port`` per process, index = ordinal; identical on every pod."""
    explicit = _get(env, "T2M_PEER_ADDRESSES")
    if explicit:
        addrs = [a.strip() for a in explicit.split(";") if a.strip()]
        if len(addrs) != replicas:
            raise EntrypointError(f"$T2M_PEER_ADDRESSES has {len(addrs)} addresses, $T2M_REPLICAS is {replicas}")
        return addrs
    service = _get(env, "T2M_PEER_SERVICE")
    namespace = _get(env, "POD_NAMESPACE")
    if not service or not namespace:
        raise EntrypointError("$T2M_PEER_SERVICE (the headless Service) and $POD_NAMESPACE must be set")
    port = _int(env, "T2M_PEER_PORT", 1)
    domain = _get(env, "T2M_CLUSTER_DOMAIN").strip(".")
    return [f"{statefulset}-{i}.{service}.{namespace}.svc.{domain}:{port}" for i in range(replicas)]


def recovery_share(parts: int, replicas: int, ordinal: int) -> list[int]:
    """The recovery partitions pod ``ordinal`` holds: every partition exactly once in the cluster."""
    return [k for k in range(parts) if k % replicas == ordinal]


def make_plan(env: Mapping[str, str], python: str = sys.executable) -> Plan:
    statefulset, ordinal = pod_identity(_get(env, "POD_NAME") or _get(env, "HOSTNAME"))
    replicas = _int(env, "T2M_REPLICAS", 1)
    if ordinal >= replicas:
        raise EntrypointError(f"pod ordinal {ordinal} but $T2M_REPLICAS is {replicas}: set T2M_REPLICAS to the"
                              " StatefulSet's replicas (the same N on every pod)")
    workers = _int(env, "T2M_WORKERS", 1)
    addrs = peer_addresses(env, statefulset, replicas)
    # Bytewax: at least one partition per worker is recommended; fixed once created.
    parts = max(_int(env, "T2M_RECOVERY_PARTS", 1), replicas * workers)
    plan = Plan(
        statefulset=statefulset, ordinal=ordinal, replicas=replicas, workers=workers, addresses=addrs,
        recovery_dir=_get(env, "T2M_RECOVERY_DIR"), recovery_parts=parts,
        generation=_get(env, "T2M_RECOVERY_GENERATION"), snapshot_seconds=_int(env, "T2M_SNAPSHOT_SECONDS", 1),
        metrics_port=_int(env, "T2M_METRICS_PORT", 0),
    )
    plan.argv = [python, "-m", "bytewax.run", "flows.incremental", "-w", str(workers)]
    if replicas > 1:
        plan.argv += ["-i", str(ordinal), "-a", ";".join(addrs)]
    plan.argv += ["-r", plan.recovery_dir, "-s", str(plan.snapshot_seconds), "-b", "0"]

    overrides = json.loads(env.get("TIDB2MYSQL_OVERRIDES") or "{}")
    if plan.metrics_port:
        if plan.metrics_port - ordinal < 1:
            raise EntrypointError(f"$T2M_METRICS_PORT {plan.metrics_port} is too small for ordinal {ordinal}")
        # flows/incremental.py adds the process id (-i) to the configured port.
        port = plan.metrics_port - ordinal if replicas > 1 else plan.metrics_port
        overrides.setdefault("metrics", {}).update({"port": port, "bind": _get(env, "T2M_METRICS_BIND")})
    if overrides:
        plan.env["TIDB2MYSQL_OVERRIDES"] = json.dumps(overrides, sort_keys=True)
    if not env.get("TIDB2MYSQL_CONFIG"):
        raise EntrypointError("$TIDB2MYSQL_CONFIG must name the configuration file (the ConfigMap mount)")
    return plan


# --- recovery partitions ------------------------------------------------------------------------

def _layout(plan: Plan) -> dict:
    return {"format": 1, "parts": plan.recovery_parts, "replicas": plan.replicas, "workers": plan.workers,
            "ordinal": plan.ordinal, "generation": plan.generation, "holds": recovery_share(plan.recovery_parts, plan.replicas, plan.ordinal)}


def _part_files(d: Path) -> list[Path]:
    return sorted(p for p in d.glob("part-*.sqlite3*") if p.is_file())


def prepare_recovery(plan: Plan, init_db_dir=None, log=print) -> str:
    """Make this pod's recovery directory hold its share of the current layout.

    Returns ``"kept"`` (same layout: Bytewax resumes from its snapshots), ``"created"`` (empty
    directory) or ``"reset"`` (another layout or unknown files: snapshots discarded; the flow
    resumes from the target checkpoints).
    """
    if init_db_dir is None:
        from bytewax.recovery import init_db_dir
    d = Path(plan.recovery_dir)
    d.mkdir(parents=True, exist_ok=True)
    want = _layout(plan)
    marker = d / LAYOUT_FILE
    have = None
    if marker.exists():
        try:
            have = json.loads(marker.read_text())
        except ValueError:
            have = {"unreadable": True}
    files = _part_files(d)
    if have == want and all((d / f"part-{k}.sqlite3").exists() for k in want["holds"]):
        log(f"recovery: keeping partitions {want['holds']} of {want['parts']} in {d}"
            f" (layout for {want['replicas']} processes, generation {want['generation']})")
        return "kept"
    action = "created" if have is None and not files else "reset"
    if action == "reset":
        why = ("no layout file" if have is None else
               ", ".join(f"{k} {have.get(k)!r} -> {want[k]!r}" for k in ("parts", "replicas", "workers", "ordinal", "generation")
                         if have.get(k) != want[k]) or "partition files missing")
        log(f"recovery: layout changed ({why}): discarding this pod's Bytewax snapshots; the flow"
            " resumes from the target checkpoints (exact)")
        marker.unlink(missing_ok=True)
        for f in files:
            f.unlink()
    tmp = d / ".tidb2mysql-init"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    init_db_dir(tmp, want["parts"])
    for k in want["holds"]:
        os.replace(tmp / f"part-{k}.sqlite3", d / f"part-{k}.sqlite3")
    shutil.rmtree(tmp, ignore_errors=True)
    new = marker.with_suffix(".tmp")
    new.write_text(json.dumps(want, sort_keys=True) + "\n")
    os.replace(new, marker)
    log(f"recovery: {action} partitions {want['holds']} of {want['parts']} in {d}"
        f" (layout for {want['replicas']} processes, generation {want['generation']})")
    return action


# --- start position -------------------------------------------------------------------------------

def full_load_start(env: Mapping[str, str], log=print) -> Optional[int]:
    """``start_commit_ts`` for the flow: the finished full load's snapshot TSO.

    None when nothing needs to be passed (the configuration sets start_commit_ts, or the check is
    off). Raises SystemExit(75) while the full load has not finished.
    """
    if _get(env, "T2M_START_AFTER_FULL_LOAD").lower() in ("false", "0", "no", "off"):
        return None
    from tidb2mysql import config as config_mod
    from tidb2mysql.mysql import db

    try:
        cfg = config_mod.load(env.get("TIDB2MYSQL_CONFIG"))
    except config_mod.ConfigError as e:
        raise EntrypointError(f"configuration error: {e}") from None
    if cfg.incremental.start_commit_ts:
        return None
    meta, job = cfg.job.meta_schema, cfg.job.name
    conn = db.connect(cfg.target, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA=%s AND TABLE_NAME=%s",
                        (meta, "full_load_job"))
            row = None
            if cur.fetchone()[0]:
                cur.execute(f"SELECT stage, snapshot_ts FROM `{meta.replace('`', '``')}`.full_load_job WHERE job=%s",
                            (job,))
                row = cur.fetchone()
    finally:
        conn.close()
    stage, ts = (row[0], row[1]) if row else (None, None)
    if stage == "loaded" and ts:
        log(f"start: job {job!r}: full load finished at snapshot TSO {ts}; replicating from after it")
        return int(ts)
    if stage == "incremental":
        log(f"start: job {job!r} is at stage 'incremental' of `tidb2mysql migrate`: a migrate Job replicates it."
            " Do not run both; to move it to this StatefulSet, stop the migrate Job first and set"
            " T2M_START_AFTER_FULL_LOAD=false")
        raise SystemExit(EX_CONFIG)
    log(f"start: job {job!r}: the full load has not finished (stage {stage or 'not started'!r}); run the"
        f" full-load Job first. Exiting {EX_TEMPFAIL}: Kubernetes restarts this pod and it checks again."
        " (T2M_START_AFTER_FULL_LOAD=false or [incremental] start_commit_ts skip this check.)")
    raise SystemExit(EX_TEMPFAIL)


def wait_for_own_address(plan: Plan, seconds: float, log=print) -> None:
    """Bytewax binds this process's own address: wait until its DNS name resolves."""
    if plan.replicas == 1:
        return  # a single process has no peers and binds nothing
    host = plan.addresses[plan.ordinal].rsplit(":", 1)[0]
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.getaddrinfo(host, None)
            return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise EntrypointError(f"{host} does not resolve after {seconds:.0f} s ({e}): is the headless"
                                      " Service there, with publishNotReadyAddresses: true?") from None
            log(f"waiting for {host} to resolve ({e})")
            time.sleep(2)


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else ""
    env = dict(os.environ)

    def log(msg: str) -> None:
        print(f"tidb2mysql-k8s: {msg}", file=sys.stderr, flush=True)

    try:
        plan = make_plan(env)
        if cmd == "print-command":
            print(json.dumps({"argv": plan.argv, "env": plan.env, "ordinal": plan.ordinal,
                              "recovery_holds": recovery_share(plan.recovery_parts, plan.replicas, plan.ordinal)},
                             indent=2))
            return 0
        if cmd != "incremental":
            log(f"usage: {Path(argv[0]).name} incremental | print-command")
            return EX_CONFIG
        ts = full_load_start(env, log)
        if ts is not None:
            overrides = json.loads(plan.env.get("TIDB2MYSQL_OVERRIDES", "{}"))
            overrides.setdefault("incremental", {})["start_commit_ts"] = ts
            plan.env["TIDB2MYSQL_OVERRIDES"] = json.dumps(overrides, sort_keys=True)
        prepare_recovery(plan, log=log)
        wait_for_own_address(plan, float(_int(env, "T2M_DNS_WAIT_SECONDS")), log)
    except EntrypointError as e:
        log(str(e))
        return EX_CONFIG
    env.update(plan.env)
    log(f"process {plan.ordinal} of {plan.replicas} ({plan.workers} worker(s) each): exec {' '.join(plan.argv)}")
    log(f"TIDB2MYSQL_OVERRIDES={plan.env.get('TIDB2MYSQL_OVERRIDES', '')}")
    os.execvpe(plan.argv[0], plan.argv, env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
