"""The secured local stack (``make up SECURE=1``) for the security tests.

Why a second stack instead of securing the default one: the default stack stays plaintext
and fast for the rest of the suite, and the secured one must *refuse* what the default one
accepts (plaintext, wrong CA, no password). It runs beside it on other ports, with its own
state dir (.stack-secure/), written by scripts/stack.sh.

Integration tests never skip: if the secured stack is not up, :func:`ensure_up` starts it
(about 15 s the first time, about 1 s when it already runs), under a file lock so that
several pytest sessions sharing this checkout do not start it twice.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tidb2mysql import config as config_mod
from tidb2mysql.config import Config

REPO = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("T2M_SECURE_STACK_DIR", REPO / ".stack-secure"))


@dataclass(frozen=True)
class SecureStack:
    state: Path
    info: dict  # stack.json: ports, users, CA and secret file paths

    @property
    def app_config_path(self) -> Path:
        """Least-privilege MySQL users over TLS (verify_identity), Kafka SASL_SSL SCRAM-SHA-256."""
        return self.state / "tidb2mysql.toml"

    @property
    def sasl_plaintext_config_path(self) -> Path:
        return self.state / "tidb2mysql-sasl-plaintext.toml"

    @property
    def admin_config_path(self) -> Path:
        """All-privileges MySQL admin (plays TiDB's applications: simulator, fixtures)."""
        return self.state / "admin.toml"

    def load(self, path: Path) -> Config:
        return config_mod.load(path)

    def secrets(self) -> dict[str, str]:
        """name -> password, for the tests that grep outputs for them."""
        return {k: Path(p).read_text().strip() for k, p in self.info["secrets"].items()}


def _reachable(state: Path) -> bool:
    if not (state / "stack.json").exists() or not (state / "tidb2mysql.toml").exists():
        return False
    env = dict(os.environ, T2M_SECURE="1", T2M_STACK_DIR=str(state), PYTHON=sys.executable)
    r = subprocess.run([str(REPO / "scripts" / "stack.sh"), "status"], env=env, cwd=REPO,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    return r.returncode == 0


def ensure_up(state: Path = STATE) -> SecureStack:
    """The running secured stack; starts it (scripts/stack.sh up, T2M_SECURE=1) if needed."""
    state.parent.mkdir(parents=True, exist_ok=True)
    lock_path = state.parent / f"{state.name}.lock"  # beside the state dir, which may not exist yet
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _reachable(state):
            env = dict(os.environ, T2M_SECURE="1", T2M_STACK_DIR=str(state), PYTHON=sys.executable)
            t0 = time.monotonic()
            r = subprocess.run([str(REPO / "scripts" / "stack.sh"), "up"], env=env, cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
            if r.returncode != 0:
                raise RuntimeError(f"starting the secured stack failed (T2M_SECURE=1 scripts/stack.sh up):\n{r.stdout[-4000:]}")
            print(f"secured stack started in {time.monotonic() - t0:.1f}s", file=sys.stderr)
    return SecureStack(state, json.loads((state / "stack.json").read_text()))
