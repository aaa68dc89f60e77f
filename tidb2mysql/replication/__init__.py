"""Incremental replication: route, merge, build SQL, apply, checkpoint, DDL barrier.

Plain Python, driven by the thin Bytewax wiring in ``flows/incremental.py``.
"""
