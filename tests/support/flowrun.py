"""Running the real incremental flow from tests: config files and processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any, Optional

REPO = Path(__file__).resolve().parents[2]
STACK_CONFIG = Path(os.environ.get("TIDB2MYSQL_CONFIG", REPO / ".stack" / "tidb2mysql.toml"))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(x)}' for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


def dump_toml(data: dict[str, dict[str, Any]]) -> str:
    lines = []
    for section, values in data.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


def write_config(path: Path, *, topic: str, job: str, base: Optional[Path] = None, meta_schema: Optional[str] = None,
                 **sections: dict[str, Any]) -> Path:
    """A config file for the stack (or the config file ``base``, e.g. the TiDB one), with this
    test's topic, job name (and meta schema) and extra sections."""
    data = tomllib.loads(Path(base or STACK_CONFIG).read_text())
    data.setdefault("kafka", {})["topic"] = topic
    data.setdefault("job", {})["name"] = job
    if meta_schema is not None:
        data["job"]["meta_schema"] = meta_schema
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path.write_text(dump_toml(data))
    return path


def incremental_cmd(config: Path, workers: int = 1, processes: int = 1, recovery_dir: Optional[Path] = None,
                    stop_at_end: bool = True, extra: tuple = ()) -> list[str]:
    cmd = [sys.executable, "-m", "tidb2mysql.cli", "incremental", "--config", str(config),
           "-w", str(workers), "-p", str(processes)]
    if recovery_dir is not None:
        cmd += ["-r", str(recovery_dir), "-s", "1"]
    if stop_at_end:
        cmd.append("--stop-at-end")
    return cmd + list(extra)


def start(cmd: list[str], log_path: Path, env: Optional[dict] = None) -> subprocess.Popen:
    """Start ``cmd`` in its own process group; ``env`` adds variables (e.g. failpoints)."""
    log = open(log_path, "ab")
    full_env = {**os.environ, **env} if env else None
    return subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=full_env)


def run(cmd: list[str], log_path: Path, timeout: float = 300, env: Optional[dict] = None) -> int:
    p = start(cmd, log_path, env)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        raise AssertionError(f"flow did not finish within {timeout}s; log: {log_path}\n{tail(log_path)}")


def kill(p: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Kill the whole process group (the launcher and its Bytewax processes)."""
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass
    p.wait(timeout=30)


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_until(pred, timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
