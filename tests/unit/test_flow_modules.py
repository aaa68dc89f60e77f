"""Importing a flow module has no side effects; ``flow`` is built on first access.

Run in a fresh interpreter without any configuration: before, the import itself loaded the
configuration (and connected, fenced, installed signal handlers, started the metrics server).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import signal, sys, threading
import {module} as m
assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, "a signal handler was installed at import"
assert threading.active_count() == 1, "a thread (metrics server?) was started at import"
assert "flow" not in vars(m), "the flow was built at import"
try:
    m.flow
except Exception as e:  # building needs the configuration, which this process does not have
    print(type(e).__name__, e)
    sys.exit(0)
sys.exit("building the flow without a configuration did not fail")
"""


@pytest.mark.parametrize("module", ["flows.incremental", "flows.full_load"])
def test_import_builds_nothing_and_access_builds_the_flow(module):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIDB2MYSQL_")}
    r = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ConfigError no configuration file"), r.stdout


def test_other_attributes_are_still_missing():
    import flows.incremental

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        flows.incremental.nope


def test_tune_gc_freezes_start_up_objects_and_raises_the_first_threshold():
    probe = ("import gc\nfrom tidb2mysql.replication.runtime import tune_gc\n"
             "assert gc.get_threshold()[0] == 700 and gc.get_freeze_count() == 0\n"
             "tune_gc()\n"
             "assert gc.get_threshold() == (50_000, 20, 20), gc.get_threshold()\n"
             "assert gc.get_freeze_count() > 1000, gc.get_freeze_count()\n")
    r = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
