"""TiDB DDL -> MySQL/MariaDB DDL translation.

    from tidb2mysql.ddl import translate
    from tidb2mysql.mysql.dialect import Dialect
    target = Dialect.detect(conn)                 # or Dialect("mariadb", (10, 11, 0)), Dialect.parse("mysql:8.0")
    tr = translate("ALTER TABLE t ADD COLUMN c INT, SET TIFLASH REPLICA 1", target, schema="db1")
    tr.statements    # ['USE `db1`', 'ALTER TABLE t ADD COLUMN c INT']
    tr.decisions     # [Decision(level='info', action='changed', reason='... SET TIFLASH REPLICA ...')]
    tr.skipped       # False: something runs;  tr.needs_recopy: data must be copied again

Policy (every decision is reported with its reason):

* TiDB comments ``/*T! */`` are dropped (``TranslateOptions.keep_tidb_comments`` keeps them);
  ``/*!NNNNN */`` comments holding TiDB options are removed (MySQL 9 would run
  ``/*!90000 SHARD_ROW_ID_BITS=4 */``); other versioned comments the target executes are
  inlined so their content is translated too, the rest stay as they are.
* Bare TiDB syntax is removed: AUTO_RANDOM (no AUTO_INCREMENT is added: replicated rows carry
  the values), [NON]CLUSTERED, GLOBAL, table options (AUTO_RANDOM_BASE, AUTO_ID_CACHE,
  SHARD_ROW_ID_BITS, PRE_SPLIT_REGIONS, TTL*, PLACEMENT POLICY, placement options), clauses
  (SET TIFLASH REPLICA, CACHE/NOCACHE, COMPACT, ATTRIBUTES, REMOVE TTL, vector indexes). A
  multi-clause ALTER keeps its other clauses; with none left the statement is skipped.
* TiDB-only statements are skipped: placement policies, resource groups, sequences, ADMIN,
  SPLIT, ANALYZE, bindings, global and local temporary tables (warning); FLASHBACK / RECOVER /
  EXECUTE are errors with ``needs_recopy`` (rows changed without row events), and so is INTERVAL
  FIRST PARTITION when no catalog gives the target's partitions (with one: exact DROP PARTITION).
* Semantics made explicit: TiDB's default collation wherever a charset has none, and
  utf8mb4/utf8mb4_bin on CREATE TABLE/DATABASE without any (``TranslateOptions.default_charset``);
  0900 collations and gb18030 mapped where the target lacks them; nullable TIMESTAMP columns
  get ``NULL DEFAULT NULL`` (correct under explicit_defaults_for_timestamp OFF or ON).
* Target gaps: VECTOR -> LONGTEXT; expression/multi-valued indexes, LIST DEFAULT partitions,
  NOT NULL on generated columns, expression defaults, IF [NOT] EXISTS on columns/indexes,
  invisible indexes (MariaDB: IGNORED) handled per target; INTERVAL partitioning expanded.
* CHECK constraints are dropped unless ``TranslateOptions.keep_checks`` (TiDB enforced them only with
  tidb_enable_check_constraint=ON); view DEFINER dropped unless ``TranslateOptions.keep_definer``.
* Replays: ``DROP TABLE/VIEW/DATABASE`` get IF EXISTS (TiDB logs ``DROP TABLE a, b`` once per table).
* Schema: with ``schema`` given, table-level statements are preceded by an explicit
  ``USE `schema``` (names in the text are not rewritten); database-level ones are not.
* Incomplete or unexpected text never raises: it is an error-level skip naming the statement.
* Target limits (issue 19): unique keys vs partitioning columns (GLOBAL indexes), VARCHAR byte
  length and the 65,535-byte row, rebuild-only ALTERs (skipped), temporary tables (skipped);
  with a ``catalog`` (``ddl.catalog``) ADD UNIQUE and INTERVAL FIRST/LAST PARTITION use the
  target table's current shape. ``ddl.shadow`` then runs the result on an empty copy of the
  table on the target, with fallbacks per error class, before anything real is touched.
* Levels: INFO only when a change has no effect at all on the target; WARNING when a TiDB
  behaviour is lost or the statement is changed to be accepted; ERROR = ``untranslatable``
  (no statements; the operator decides). Table: docs/schema-migration.md.

Modules: ``tokenizer`` (lossless MySQL-family tokens), ``edit`` (token buffer with edits),
``target`` (server flavour/version and what it supports), ``charsets`` (TiDB default
collations, mappings, bytes per character), ``model`` (Decision, Translation), ``translate``
(the rules), ``catalog`` (the target table's current shape), ``shadow`` (validation on the
target before a real table is touched).
"""

from tidb2mysql.ddl.model import Decision, Translation
from tidb2mysql.ddl.translate import TranslateOptions, translate

__all__ = ["Decision", "TranslateOptions", "Translation", "translate"]
