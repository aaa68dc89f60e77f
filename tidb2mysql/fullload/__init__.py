"""Full load: copy every selected table from one consistent source snapshot into the target.

See ``docs/full-load.md``. Modules: ``settings`` (the ``[full_load]`` section), ``snapshot``
(TiDB ``tidb_snapshot`` / MariaDB stand-in), ``chunking`` (tables, keys, chunk plan, key
predicates), ``jobstore`` (the job, chunk and lane rows in the target), ``reader`` (one lane:
keyset pages under the snapshot), ``page_writer`` (pages -> idempotent upserts),
``coordinator`` (plan, snapshot lock protocol, launching the flow), ``progress``.
"""
