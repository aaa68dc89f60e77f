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
def topic(cfg: Config, label: str, partitions: int = 1) -> Iterator[str]:
    name = stack.create_topic(cfg.kafka, label="bench_" + label, partitions=partitions)
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


def dead_letters(conn, job: str, meta: str = "tidb2mysql") -> dict[str, int]:
    """The job's dead letters by kind ({} when none): a bench run that parked rows did not
    apply them, and its numbers say so."""
    with contextlib.suppress(Exception), conn.cursor() as cur:
        cur.execute(f"SELECT kind, COUNT(*) FROM `{meta}`.`dead_letter` WHERE job = %s GROUP BY kind", (job,))
        return {k: int(n) for k, n in cur.fetchall()}
    return {"(unreadable)": -1}


def wait(pred, timeout: float, what: str, interval: float = 0.05) -> float:
    """Poll ``pred`` until true; returns the monotonic time it became true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return time.monotonic()
        time.sleep(interval)
    raise TimeoutError(f"bench: timed out after {timeout:.0f}s waiting for {what}")


_STATE = ("Innodb_buffer_pool_pages_dirty", "Innodb_buffer_pool_pages_total", "Innodb_checkpoint_age",
          "Innodb_checkpoint_max_age", "Innodb_history_list_length")


def target_state(cfg: Config) -> dict[str, int]:
    """The target's InnoDB background work in progress: dirty pages, redo checkpoint age, purge."""
    conn = target(cfg)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN (%s)" % ", ".join(["%s"] * len(_STATE)), _STATE)
            return {k.lower(): int(v) for k, v in cur.fetchall()}
    finally:
        conn.close()


def _settled(st: dict[str, int]) -> bool:
    return (st.get("innodb_buffer_pool_pages_dirty", 0) <= st.get("innodb_buffer_pool_pages_total", 0) // 100
            and st.get("innodb_checkpoint_age", 0) <= st.get("innodb_checkpoint_max_age", 1) // 10
            and st.get("innodb_history_list_length", 0) <= 1000)


def settle_target(cfg: Config, timeout: float = 180.0) -> dict:
    """Let the target finish the background work earlier sections left before a latency run.

    Why: in ``--full`` the delay section follows sections that write and drop 1M-row tables;
    on 780908c its first minute was slow throughout (p50 by thirds 687 / 299 / 249 ms) while
    the same section run alone had no stall. InnoDB then still flushes dirty pages and
    advances its redo checkpoint, on the same 2 cores. Here the page cleaner is asked to
    flush everything (``innodb_max_dirty_pages_pct = 0``, restored after) until at most 1 %
    of the pool is dirty, the checkpoint age is at most 10 % of its maximum and purge is done,
    or ``timeout``. Returns the state before and after and the seconds waited (reported)."""
    before = target_state(cfg)
    t0 = time.monotonic()
    conn = target(cfg)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT @@GLOBAL.innodb_max_dirty_pages_pct")
            pct = cur.fetchone()[0]
            cur.execute("SET GLOBAL innodb_max_dirty_pages_pct = 0")
        try:
            after = before
            while not _settled(after) and time.monotonic() - t0 < timeout:
                time.sleep(1.0)
                after = target_state(cfg)
        finally:
            with conn.cursor() as cur:
                cur.execute("SET GLOBAL innodb_max_dirty_pages_pct = %s", (pct,))
    finally:
        conn.close()
    return {"waited_s": round(time.monotonic() - t0, 1), "settled": _settled(after), "before": before, "after": after}


__all__ = ["REPO", "delete_job", "flowrun", "load_config", "settle_target", "target", "target_database",
           "target_state", "topic", "unique", "wait"]


def ratio(a: float, b: float) -> float:
    """``a / b`` to 3 significant digits (1.24, 0.998, 0.00429): every ratio the bench reports.
    Why not a fixed number of decimals: 2 made 0.998 read as 1.0 (a full-load goal reported
    met, run on 142ea6d) and made a smoke run's 0.0043 (a ceiling applying 2,000 rows in 2 ms)
    0.0, which test_bench_smoke rejected."""
    return float(f"{a / b:.3g}")
