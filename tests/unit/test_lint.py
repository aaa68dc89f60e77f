"""ruff and mypy, as configured in pyproject.toml, run in `make test` (and `make lint`).

Not skipped when a tool is missing: `make setup` installs both (pyproject's dev extras), so a
missing tool is a broken environment and fails here. ~15 s on a loaded machine (mypy's cache
in .mypy_cache makes later runs faster).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff():
    r = _run("ruff", "check", "--no-cache", ".")
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_on_the_target_layer_and_the_config():
    r = _run("mypy")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues found" in r.stdout
