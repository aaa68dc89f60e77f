"""How big each measurement is in each mode.

* ``smoke``: tiny, < 60 s in total; proves every section runs and yields numbers (CI).
* ``default`` (``make bench``): 200k rows for the OLTP workloads, 30 s of delay, full load
  of 250k rows - about 10-15 minutes on the 2-core machine.
* ``full`` (``make bench BENCH_ARGS=--full``): the issue's sizes - 1,000,000 rows for inserts
  and the mix, 3 minutes of delay, 1,000,000 rows of full load - about 40-60 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    rows: dict  # workload -> row changes
    flows: tuple  # (workers, processes) per flow run
    flows_small: tuple  # flow runs for the workloads other than "insert" (smoke keeps them few)
    ceiling_procs: tuple
    ceiling_load_procs: tuple  # the ceiling that loads new rows as the flow does (bench/ceiling.py)
    raw_rows: int
    delay_seconds: float
    full_load_scale: float
    memory_small_rows: int  # inserts at this size vs rows["insert"]: memory must not follow
    bigtxn_rows: int
    timeout: float
    # Rounds of the incremental section: every flow and ceiling configuration runs once per
    # round, rounds one after another (alternating), and each reports its best round. Why:
    # this machine's speed drifts 10-20 % within minutes; one sample per configuration let a
    # slow minute decide a goal (docs/performance.md, ninth session).
    rounds: int = 1


SMOKE = Sizes(
    rows={"insert": 3000, "mix": 3000, "tables16": 2000, "uk": 2000},
    flows=((1, 1), (1, 2)), flows_small=((1, 1),), ceiling_procs=(1, 2), ceiling_load_procs=(1, 2),
    raw_rows=5000, delay_seconds=4, full_load_scale=0.004, memory_small_rows=1000,
    bigtxn_rows=12_000, timeout=120,
)
DEFAULT = Sizes(
    rows={"insert": 200_000, "mix": 200_000, "tables16": 100_000, "uk": 100_000},
    flows=((1, 1), (1, 2)), flows_small=((1, 1), (1, 2)), ceiling_procs=(1, 2, 4), ceiling_load_procs=(1, 2),
    raw_rows=200_000, delay_seconds=30, full_load_scale=0.25, memory_small_rows=50_000,
    bigtxn_rows=200_000, timeout=900,
)
FULL = Sizes(
    rows={"insert": 1_000_000, "mix": 1_000_000, "tables16": 300_000, "uk": 300_000},
    flows=((1, 1), (1, 2)), flows_small=((1, 1), (1, 2)), ceiling_procs=(1, 2, 4), ceiling_load_procs=(1, 2),
    raw_rows=1_000_000, delay_seconds=180, full_load_scale=1.0, memory_small_rows=250_000,
    bigtxn_rows=1_000_000, timeout=3600, rounds=2,
)
MODES = {"smoke": SMOKE, "default": DEFAULT, "full": FULL}
