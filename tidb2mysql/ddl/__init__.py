"""TiDB DDL -> MySQL/MariaDB DDL translation.

    from tidb2mysql.ddl import Target, translate
    tr = translate("ALTER TABLE t ADD COLUMN c INT, SET TIFLASH REPLICA 1", Target("mariadb", (10, 11, 0)))
    tr.statements   # ['ALTER TABLE t ADD COLUMN c INT']
    tr.decisions    # [Decision(level='info', action='changed', reason='... SET TIFLASH REPLICA ...')]

Modules: ``tokenizer`` (lossless MySQL-family tokens), ``edit`` (token buffer with edits),
``target`` (server flavour/version and what it supports), ``charsets`` (TiDB default
collations, collation mapping), ``model`` (Decision, Translation), ``translate`` (the rules).
"""

from tidb2mysql.ddl.model import Decision, Translation
from tidb2mysql.ddl.target import Target
from tidb2mysql.ddl.translate import Options, translate

__all__ = ["Decision", "Options", "Target", "Translation", "translate"]
