"""Online data verification and repair (``tidb2mysql verify``; docs/verify.md).

| module | what |
|---|---|
| ``settings.py`` | the ``[verify]`` config section |
| ``render.py`` | the canonical row rendering and the checksum / row SQL (pure, unit-tested) |
| ``snapshot.py`` | source snapshots ordered against what the target has applied (TiDB / stand-in) |
| ``store.py`` | runs, chunks and differences in the target's meta schema (resume) |
| ``engine.py`` | one chunk: checksums, bisection, row comparison; confirming and repairing rows |
| ``runner.py`` | plan, lanes, rate limit, progress, metrics, report, repair file |
"""
