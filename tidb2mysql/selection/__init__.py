"""Object selection and name mapping (the ``[selection]`` section), one engine for every stage.

``rules`` (config model + validation), ``engine`` (what is selected and under which names),
``events`` (applying it to Txn events in the incremental flow), ``ddl`` (rewriting or
skipping replicated DDL and schema-migration CREATE text). See docs/selection.md.
"""
