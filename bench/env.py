"""The benchmark's connection to the local stack: config, fresh target databases and topics.

Everything a run creates carries a unique name (several engineers share one stack) and is
removed at the end, also when a measurement fails.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Iterator

from tests.support import flowrun, stack
from tidb2mysql.mysql import db
from tidb2mysql.config import Config

REPO = Path(__file__).resolve().parents[1]


def load_config() -> Config:
    path = stack.config_path()
    if not path.exists():
        raise SystemExit(f"bench: {path} does not exist; start the local stack first (make up)")
    return stack.load_config()


def target(cfg: Config, database: str | None = None, autocommit: bool = True):
    return db.connect(cfg.target, database=database, autocommit=autocommit)


@contextlib.contextmanager
def target_database(cfg: Config, label: str) -> Iterator[str]:
    name = stack.create_database(cfg.target, "bench_" + label)
    try:
        yield name
    finally:
        stack.drop_database(cfg.target, name)


@contextlib.contextmanager
def topic(cfg: Config, label: str) -> Iterator[str]:
    name = stack.create_topic(cfg.kafka, label="bench_" + label)
    try:
        yield name
    finally:
        stack.delete_topic(cfg.kafka, name)


def unique(label: str) -> str:
    return stack.unique_name(label, prefix="bench")


def delete_job(cfg: Config, job: str, meta: str = "tidb2mysql") -> None:
    """Forget a flow job's checkpoints (the bench uses a fresh job name per run)."""
    conn = target(cfg)
    try:
        with conn.cursor() as cur:
            for t in ("checkpoint", "ddl_history", "dead_letter"):
                with contextlib.suppress(Exception):
                    cur.execute(f"DELETE FROM `{meta}`.`{t}` WHERE job = %s", (job,))
    finally:
        conn.close()


def wait(pred, timeout: float, what: str, interval: float = 0.05) -> float:
    """Poll ``pred`` until true; returns the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return time.monotonic()
        time.sleep(interval)
    raise TimeoutError(f"bench: timed out after {timeout:.0f}s waiting for {what}")


__all__ = ["REPO", "delete_job", "flowrun", "load_config", "target", "target_database", "topic", "unique", "wait"]
