"""Starting a Bytewax flow as P local processes x W workers: one place for both flows.

``python -m bytewax.run flows.<name>`` with ``-w``; for P > 1 the processes join one cluster
with ``-i``/``-a`` on free loopback ports; with a recovery directory, ``-r/-s/-b`` and the
directory's partitions created once (their number is fixed forever, so it is at least the
total worker count). The configuration reaches the flow through ``$TIDB2MYSQL_CONFIG`` and
command-line overrides through ``$TIDB2MYSQL_OVERRIDES``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from tidb2mysql import config as config_mod

REPO = Path(__file__).resolve().parents[1]


@dataclass
class LaunchOptions:
    workers: int = 1
    processes: int = 1
    recovery_dir: Optional[str] = None
    snapshot_interval: int = 1
    recovery_parts: int = 8


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def flow_commands(module: str, opts: LaunchOptions) -> list[list[str]]:
    """One command line per process for ``python -m bytewax.run <module>``."""
    base = [sys.executable, "-m", "bytewax.run", module, "-w", str(opts.workers)]
    if opts.recovery_dir:
        base += ["-r", str(opts.recovery_dir), "-s", str(opts.snapshot_interval), "-b", "0"]
    if opts.processes == 1:
        return [base]
    addrs = ";".join(f"127.0.0.1:{p}" for p in free_ports(opts.processes))
    return [base + ["-i", str(i), "-a", addrs] for i in range(opts.processes)]


def init_recovery(directory: Path, parts: int) -> None:
    """Create Bytewax's recovery partitions once; their number is fixed forever."""
    if (directory / "part-0.sqlite3").exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "bytewax.recovery", str(directory), str(parts)], check=True)


def flow_env(config_path: str, overrides: Optional[dict] = None) -> dict[str, str]:
    env = dict(os.environ)
    env[config_mod.ENV_VAR] = str(Path(config_path).resolve())
    if overrides:
        env[config_mod.OVERRIDES_ENV_VAR] = json.dumps(overrides)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def start(module: str, opts: LaunchOptions, config_path: str, overrides: Optional[dict] = None
          ) -> "ProcessGroup":
    """Start the flow's processes (recovery directory prepared first)."""
    if opts.recovery_dir:
        init_recovery(Path(opts.recovery_dir), max(opts.recovery_parts, opts.workers * opts.processes))
    env = flow_env(config_path, overrides)
    return ProcessGroup([subprocess.Popen(c, env=env, cwd=REPO) for c in flow_commands(module, opts)])


class ProcessGroup:
    """The processes of one flow, supervised together: they form one Bytewax cluster, so one
    process down takes the others down (a restart restarts them all). The one supervisor of
    both flows (``commands/incremental.py``, ``fullload/coordinator.py``)."""

    def __init__(self, procs: list[subprocess.Popen]):
        self.procs = procs

    def poll(self) -> Optional[int]:
        """None while all run; else the first non-zero status, or 0 once all exited cleanly."""
        rcs = [p.poll() for p in self.procs]
        bad = [r for r in rcs if r not in (None, 0)]
        if bad:
            return bad[0]
        if all(r == 0 for r in rcs):
            return 0
        return None

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the running ones; kill what has not exited after ``timeout`` seconds."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()

    def forward_signals(self) -> None:
        """SIGTERM / SIGINT to this process go to every running flow process (they drain)."""
        def forward(signum: int, _frame: object) -> None:
            for p in self.procs:
                if p.poll() is None:
                    p.send_signal(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)

    def wait(self, interval: float = 0.1) -> int:
        """Until all exited: the first non-zero status (the others are terminated then), or 0."""
        running, rc = list(self.procs), 0
        while running:
            for p in list(running):
                r = p.poll()
                if r is None:
                    continue
                running.remove(p)
                if r != 0:
                    rc = rc or r
                    for q in running:  # one process down takes the cluster down
                        q.terminate()
            time.sleep(interval)
        return rc


def add_arguments(p, recovery_help: str, snapshot_default: int) -> None:
    """The command-line options every flow-starting command shares."""
    p.add_argument("-w", "--workers", type=int, default=1, help="worker threads per process")
    p.add_argument("-p", "--processes", type=int, default=1, help="local processes (one Bytewax cluster)")
    p.add_argument("-r", "--recovery-dir", help=recovery_help)
    p.add_argument("-s", "--snapshot-interval", type=int, default=snapshot_default,
                   help="seconds between recovery snapshots")
    p.add_argument("--recovery-parts", type=int, default=8, help="recovery partitions when creating the directory")


def options_from_args(args, recovery_dir: Optional[str] = None) -> LaunchOptions:
    """LaunchOptions from those options (``recovery_dir`` overrides ``--recovery-dir``).

    The recovery directory is made absolute here, against the caller's working directory:
    the flow processes run in the repository directory (``start``), where a relative path
    would name another directory.
    """
    rdir = recovery_dir or args.recovery_dir
    return LaunchOptions(args.workers, args.processes, str(Path(rdir).expanduser().resolve()) if rdir else None,
                         args.snapshot_interval, args.recovery_parts)
