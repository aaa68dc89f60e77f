"""``python -m bench`` (``make bench``): throughput, delay and memory of every flow, each
measured beside this machine's ceiling *in the same run*.

Why "same run": the 2-core VM drifts 10-40 % between periods (research/perf-limits.md), so a
ratio is only meaningful when its numerator and denominator were measured minutes apart.
See docs/performance.md for how to run and read it. One module per measurement:

* :mod:`bench.oltp`          the benchmark tables and workload generators (Drainer messages)
* :mod:`bench.incremental`   the real incremental flow, end to end
* :mod:`bench.ceiling`       a minimal hand-written consume/decode/upsert loop (the ceiling)
* :mod:`bench.apply_ceiling` raw apply (pre-decoded rows) and LOAD DATA LOCAL INFILE
* :mod:`bench.delay`         delay at a fixed offered rate
* :mod:`bench.fullload`      full load vs ``mariadb-dump | mariadb``
* :mod:`bench.procmem`       peak RSS of a process tree from /proc
* :mod:`bench.report`        results.json and results.md
"""
