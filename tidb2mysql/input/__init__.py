"""Input formats: Kafka message bytes -> events (:mod:`tidb2mysql.input.codec`).

A lower layer beside :mod:`tidb2mysql.drainer`: imports only ``tidb2mysql.events``,
``tidb2mysql.drainer``, ``tidb2mysql.config`` and the standard library (plus orjson); never
``replication/``, ``flows/`` or ``ops/``.
"""
