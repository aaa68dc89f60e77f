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
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, TextIO

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


def start(module: str, opts: LaunchOptions, config_path: str, overrides: Optional[dict] = None,
          log_path: Optional[str] = None, echo: Optional[Callable[[str], bool]] = None,
          console: Optional[TextIO] = None) -> "ProcessGroup":
    """Start the flow's processes (recovery directory prepared first).

    With ``log_path`` every line the processes print goes to that file (appended), and only
    lines for which ``echo(line)`` is true also go to ``console`` (default stderr): a
    failing worker's traceback and Rust panic stay in the file (fullload/failure.py)."""
    if opts.recovery_dir:
        init_recovery(Path(opts.recovery_dir), max(opts.recovery_parts, opts.workers * opts.processes))
    env = flow_env(config_path, overrides)
    logf = lock = None
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        logf = open(log_path, "a", encoding="utf-8", errors="replace")
        lock = threading.Lock()
    commands = flow_commands(module, opts)
    procs = []
    for i, c in enumerate(commands):
        if i > 0:
            # Process i connects to processes 0..i-1 (timely's mesh); started before they listen,
            # it prints "error connecting to worker 0: Connection refused (os error 111); retrying"
            # on every -p N start (issue 20). So each one starts once the previous one listens.
            _wait_listening(procs[-1], _address(commands[i - 1]))
        if logf is None:
            procs.append(subprocess.Popen(c, env=env, cwd=REPO))
            continue
        p = subprocess.Popen(c, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, errors="replace", bufsize=1)
        t = threading.Thread(target=_pump, args=(p, i, logf, lock, echo, console or sys.stderr), daemon=True)
        t.start()
        p._t2m_pump = t  # type: ignore[attr-defined] - joined by wait_output()
        procs.append(p)
    return ProcessGroup(procs)



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


def _address(cmd: list[str]) -> Optional[tuple[str, int]]:
    """The cluster address process ``-i`` of ``cmd`` listens on (from ``-a``), if any."""
    if "-a" not in cmd or "-i" not in cmd:
        return None
    addrs = cmd[cmd.index("-a") + 1].split(";")
    host, port = addrs[int(cmd[cmd.index("-i") + 1])].rsplit(":", 1)
    return host, int(port)


def _listening(port: int) -> Optional[bool]:
    """Is a TCP socket in LISTEN state on ``port``? None when /proc/net/tcp is not there.

    Read from the kernel's table, never by connecting: timely reads a handshake from every
    connection it accepts, and a probe that connects and leaves would break the cluster."""
    seen = None
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        seen = False
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                return True
    return seen


def _wait_listening(p: subprocess.Popen, addr: Optional[tuple[str, int]], timeout: float = 30.0) -> None:
    """Until ``addr``'s port is listening, ``p`` exited, or ``timeout`` (then go on: the next
    process retries on its own, as before)."""
    if addr is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        state = _listening(addr[1])
        if state is None or state:
            return
        time.sleep(0.05)


def _pump(p: subprocess.Popen, index: int, logf, lock, echo, console) -> None:
    for line in p.stdout:  # type: ignore[union-attr]
        with lock:
            logf.write(f"[process {index}] {line}")
            logf.flush()
        if echo is not None and echo(line):
            console.write(line)
            console.flush()


def wait_output(group: Optional["ProcessGroup"], timeout: float = 5.0) -> None:
    """Wait until the output of exited processes is in the log file."""
    for p in group.procs if group is not None else ():
        t = getattr(p, "_t2m_pump", None)
        if t is not None:
            t.join(timeout)


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
