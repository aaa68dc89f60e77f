"""tidb2mysql: move a live TiDB database into MySQL with no downtime."""

__version__ = "0.1.0"
