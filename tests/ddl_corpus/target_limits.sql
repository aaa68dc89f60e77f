-- Issue 19: statements TiDB accepts that a MySQL/MariaDB target rejects or runs at a cost,
-- grouped by category. Statement shapes follow TiDB's own test expectations and docs (cited per
-- entry); table and column names are ours. `static:` is what the translation alone gives (no
-- target catalog); the integration test translates with the target's catalog and runs shadow
-- validation first, as the replication path does.

-- === gi_docs_unique_not_covering
-- source: docs.pingcap.com/tidb/stable/global-indexes (CREATE TABLE with UNIQUE ... GLOBAL, v8.3+ syntax)
-- expect: run
-- check: partitions orders 0
-- check: index orders.uidx_order_no columns=order_no,created unique=yes
-- check: index orders.uidx_store unique=yes columns=store_id
-- check: index orders.idx_order_no columns=order_no unique=no
-- check: decision warning error 1503
-- check: output-lacks global
CREATE TABLE orders (
    order_no INT NOT NULL,
    created DATE NOT NULL,
    store_id INT NOT NULL,
    amount INT NOT NULL,
    UNIQUE KEY uidx_order_no (order_no, created) GLOBAL,
    UNIQUE KEY uidx_store (store_id),
    INDEX idx_order_no (order_no) GLOBAL
) PARTITION BY HASH (store_id) PARTITIONS 4;

-- === gi_show_create_pk_nonclustered_global
-- source: pingcap/tidb pkg/ddl tests, SHOW CREATE TABLE expectation `PRIMARY KEY (a) /*T![clustered_index] NONCLUSTERED */ /*T![global_index] GLOBAL */` with RANGE COLUMNS(b)
-- expect: run
-- check: partitions t 0
-- check: index t.PRIMARY columns=a unique=yes
-- check: decision warning GLOBAL
CREATE TABLE `t` (
  `a` int(11) NOT NULL,
  `b` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`a`) /*T![clustered_index] NONCLUSTERED */ /*T![global_index] GLOBAL */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY RANGE COLUMNS(`b`)
(PARTITION `p0` VALUES LESS THAN ('m'),
 PARTITION `p1` VALUES LESS THAN (MAXVALUE))

-- === gi_show_create_mixed_keys
-- source: pingcap/tidb pkg/ddl tests, SHOW CREATE TABLE expectation with `UNIQUE KEY b (b) /*T![global_index] GLOBAL */` next to a covering `UNIQUE KEY b_3 (b, a)`
-- expect: run
-- check: partitions t 0
-- check: index t.b columns=b unique=yes
-- check: index t.b_3 columns=b,a unique=yes
-- check: column t.b type=varchar(255)
CREATE TABLE `t` (
  `a` int(11) NOT NULL,
  `b` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`a`) /*T![clustered_index] CLUSTERED */,
  UNIQUE KEY `b` (`b`) /*T![global_index] GLOBAL */,
  UNIQUE KEY `b_3` (`b`,`a`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY RANGE (`a`)
(PARTITION `p0` VALUES LESS THAN (100),
 PARTITION `p1` VALUES LESS THAN (MAXVALUE))

-- === gi_global_unique_covering_keeps_partitions
-- source: pingcap/tidb pkg/ddl tests, SHOW CREATE TABLE expectation `UNIQUE KEY idx_11 (col_22, col_21) /*T![global_index] GLOBAL */` with RANGE COLUMNS(col_22): the key covers the partitioning column
-- expect: run
-- check: partitions t 2
-- check: index t.idx_11 columns=name,at unique=yes
-- check: output-lacks global
CREATE TABLE `t` (
  `at` time NOT NULL DEFAULT '01:08:07',
  `name` char(153) COLLATE utf8mb4_unicode_ci NOT NULL DEFAULT '-',
  UNIQUE KEY `idx_11` (`name`,`at`) /*T![global_index] GLOBAL */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY RANGE COLUMNS(`name`)
(PARTITION `p0` VALUES LESS THAN ('m'),
 PARTITION `p1` VALUES LESS THAN (MAXVALUE))

-- === gi_docs_expression_partition
-- source: docs.pingcap.com/tidb/stable/global-indexes (SHOW CREATE of a table partitioned by UNIX_TIMESTAMP(ts) with `UNIQUE KEY id (id) /*T![global_index] GLOBAL */`)
-- expect: run
-- check: partitions t 0
-- check: index t.id columns=id unique=yes
-- check: index t.PRIMARY columns=id,ts unique=yes
CREATE TABLE `t` (
  `id` int NOT NULL,
  `ts` timestamp NOT NULL,
  `data` varchar(100) DEFAULT NULL,
  PRIMARY KEY (`id`, `ts`) /*T![clustered_index] CLUSTERED */,
  UNIQUE KEY `id` (`id`) /*T![global_index] GLOBAL */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY RANGE (UNIX_TIMESTAMP(`ts`))
(PARTITION `p0` VALUES LESS THAN (1735660800),
 PARTITION `p1` VALUES LESS THAN (1738339200))

-- === gi_nonunique_global_keeps_partitions
-- source: docs.pingcap.com/tidb/stable/global-indexes (non-unique global index, v9.0 syntax `INDEX idx (col) GLOBAL`)
-- expect: run
-- check: partitions t 3
-- check: index t.idx_b columns=b unique=no
-- check: decision warning GLOBAL
CREATE TABLE t (a INT, b INT, INDEX idx_b (b) GLOBAL) PARTITION BY RANGE (a) (
  PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (20), PARTITION p2 VALUES LESS THAN (MAXVALUE))

-- === gi_key_partition_pk
-- source: docs.pingcap.com/tidb/stable/partitioned-table (KEY() partitioning uses the primary key) with a global unique key
-- expect: run
-- check: partitions users 0
-- check: index users.uk_email columns=email unique=yes
CREATE TABLE users (
  id BIGINT NOT NULL PRIMARY KEY,
  email VARCHAR(190) NOT NULL,
  UNIQUE KEY uk_email (email) GLOBAL
) PARTITION BY KEY() PARTITIONS 4

-- === gi_key_partition_pk_covered
-- source: docs.pingcap.com/tidb/stable/partitioned-table (KEY() partitioning uses the primary key); every unique key covers it
-- expect: run
-- check: partitions users 4
-- check: index users.uk_email columns=email,id unique=yes
CREATE TABLE users (
  id BIGINT NOT NULL PRIMARY KEY,
  email VARCHAR(190) NOT NULL,
  UNIQUE KEY uk_email (email, id)
) PARTITION BY KEY() PARTITIONS 4

-- === gi_inline_unique_column
-- source: pingcap/tidb issue reports on global index (unique column attribute on a HASH-partitioned table, tidb_enable_global_index=ON before v8.3)
-- expect: run
-- check: partitions t 0
-- check: index t.code columns=code unique=yes
CREATE TABLE t (id INT NOT NULL, code VARCHAR(32) UNIQUE, region INT NOT NULL) PARTITION BY HASH (region) PARTITIONS 8

-- === au_add_unique_global
-- source: pingcap/tidb pkg/parser tests (`ALTER TABLE t ADD UNIQUE INDEX (a) /*T![global_index] GLOBAL */`), docs global-indexes (ALTER TABLE ... ADD UNIQUE INDEX ... GLOBAL)
-- expect: run
-- setup: CREATE TABLE t (a INT, b INT, KEY kb (b)) PARTITION BY HASH (b) PARTITIONS 4
-- check: index t.uk_a columns=a unique=no
-- check: partitions t 4
-- check: decision warning plain index
ALTER TABLE t ADD UNIQUE INDEX uk_a (a) GLOBAL

-- === au_add_unique_global_comment
-- source: pingcap/tidb pkg/parser tests: `ALTER TABLE t ADD UNIQUE INDEX (a) /*T![global_index] GLOBAL */`
-- expect: run
-- setup: CREATE TABLE t (a INT, b INT) PARTITION BY HASH (b) PARTITIONS 4
-- check: index t.a columns=a unique=no
-- check: partitions t 4
ALTER TABLE t ADD UNIQUE INDEX (a) /*T![global_index] GLOBAL */

-- === au_create_unique_index_global
-- source: docs.pingcap.com/tidb/stable/global-indexes (CREATE UNIQUE INDEX ... GLOBAL)
-- expect: run
-- setup: CREATE TABLE t (a INT, b INT, c INT) PARTITION BY RANGE (c) (PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN MAXVALUE)
-- check: index t.uidx_ab columns=a,b unique=no
-- check: partitions t 2
CREATE UNIQUE INDEX uidx_ab ON t (a, b) GLOBAL

-- === au_add_unique_no_global_keyword
-- source: TiDB before v8.3 with enable-global-index=true accepted a non-covering UNIQUE without a keyword (pingcap/tidb global index tests); the catalog shows the table is partitioned
-- expect: run
-- static: run
-- setup: CREATE TABLE t (a INT, b INT) PARTITION BY HASH (b) PARTITIONS 4
-- check: index t.uk_a columns=a unique=no
-- check: shadow-decision warning plain index
ALTER TABLE t ADD UNIQUE KEY uk_a (a)

-- === au_add_constraint_unique
-- source: MySQL-family syntax TiDB accepts: ADD CONSTRAINT c UNIQUE (...) (pingcap/tidb pkg/parser tests), on a partitioned table with the global-index setting
-- expect: run
-- setup: CREATE TABLE t (a INT, b INT) PARTITION BY HASH (b) PARTITIONS 4
-- check: index t.uq_a columns=a unique=no
ALTER TABLE t ADD CONSTRAINT uq_a UNIQUE (a)

-- === au_add_unique_covering
-- source: docs.pingcap.com/tidb/stable/partitioned-table (unique keys that include every partitioning column)
-- expect: run
-- setup: CREATE TABLE t (a INT, b INT) PARTITION BY HASH (b) PARTITIONS 4
-- check: index t.uk_ab columns=a,b unique=yes
-- check: partitions t 4
ALTER TABLE t ADD UNIQUE KEY uk_ab (a, b)

-- === au_add_unique_unpartitioned
-- source: plain ADD UNIQUE INDEX (pingcap/tidb pkg/parser tests); the table is not partitioned on the target, so uniqueness stays
-- expect: run
-- setup: CREATE TABLE t (a INT, b INT)
-- check: index t.uk_a columns=a unique=yes
ALTER TABLE t ADD UNIQUE INDEX uk_a (a)

-- === au_add_primary_key_stop
-- source: pingcap/tidb global index tests (a NONCLUSTERED PRIMARY KEY that is GLOBAL); MariaDB rejects it (1503) and no fallback keeps a primary key
-- expect: stop
-- static: run
-- setup: CREATE TABLE t (a INT NOT NULL, b INT) PARTITION BY HASH (b) PARTITIONS 4
-- check: noindex t.PRIMARY
-- check: partitions t 4
ALTER TABLE t ADD PRIMARY KEY (a) /*T![clustered_index] NONCLUSTERED */

-- === vc_tidb_24728_utf8
-- source: pingcap/tidb#24728 (`CREATE TABLE t(a varchar(21845)) character set utf8` accepted by TiDB, rejected by MySQL)
-- expect: run
-- check: column t.a type=text
-- check: decision warning 65,535
CREATE TABLE t(a varchar(21845)) character set utf8

-- === vc_utf8mb4_single_column
-- source: pingcap/tidb#24728 (same shape with utf8mb4, TiDB's default: 20000 characters = 80000 bytes)
-- expect: run
-- check: column posts.body type=mediumtext collation=utf8mb4_bin
-- check: column posts.id type=bigint(20)
CREATE TABLE posts (id BIGINT PRIMARY KEY, body VARCHAR(20000) NOT NULL)

-- === vc_two_columns_row
-- source: pingcap/tidb#24728 (TiDB has no 65,535-byte row limit: two VARCHAR(10000) utf8mb4)
-- expect: run
-- check: column a.title type=text
-- check: column a.summary type=varchar(10000)
CREATE TABLE a (id INT PRIMARY KEY, title VARCHAR(10000), summary VARCHAR(10000) DEFAULT '')

-- === vc_latin1_fits
-- source: pingcap/tidb#24728 (the limit is in bytes: latin1 VARCHARs of the same length fit)
-- expect: run
-- check: column t.a type=varchar(30000)
-- check: column t.b type=varchar(30000)
CREATE TABLE t (a VARCHAR(30000), b VARCHAR(30000)) DEFAULT CHARSET=latin1

-- === vc_column_charset
-- source: pingcap/tidb#24728 (column-level character set decides the byte length)
-- expect: run
-- check: column t.a type=varchar(60000)
-- check: column t.b type=mediumtext
CREATE TABLE t (a VARCHAR(60000) CHARACTER SET latin1, b VARCHAR(20000) CHARACTER SET utf8mb4) DEFAULT CHARSET=latin1

-- === vc_varbinary_row
-- source: pingcap/tidb#24728 (row size with VARBINARY)
-- expect: run
-- check: column t.a type=blob
-- check: column t.b type=varbinary(40000)
CREATE TABLE t (a VARBINARY(40000), b VARBINARY(40000))

-- === vc_prefix_keyed_column
-- source: pingcap/tidb#24728 (row size; a column indexed by a prefix can move out of the row, its prefix index stays)
-- expect: run
-- check: column t.code type=text
-- check: column t.note type=varchar(9000)
-- check: index t.k_code columns=code unique=no
CREATE TABLE t (code VARCHAR(12000), note VARCHAR(9000), KEY k_code (code(100))) DEFAULT CHARSET=utf8mb4

-- === vc_alter_add_column_catalog
-- source: pingcap/tidb#24728 (ALTER TABLE ADD COLUMN with a long VARCHAR; the table's character set comes from the target)
-- expect: run
-- static: run
-- setup: CREATE TABLE t (id INT PRIMARY KEY) DEFAULT CHARSET=utf8mb4
-- check: column t.c type=mediumtext
ALTER TABLE t ADD COLUMN c VARCHAR(20000)

-- === vc_alter_modify_column_catalog
-- source: pingcap/tidb#24728 (MODIFY COLUMN to a longer VARCHAR)
-- expect: run
-- setup: CREATE TABLE t (id INT PRIMARY KEY, c VARCHAR(100)) DEFAULT CHARSET=utf8mb4
-- check: column t.c type=mediumtext
ALTER TABLE t MODIFY COLUMN c VARCHAR(30000) CHARACTER SET utf8mb4

-- === vc_alter_row_size_shadow
-- source: pingcap/tidb#24728 (the row limit reached by an added column: only the target knows the other columns)
-- expect: run
-- setup: CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10000)) DEFAULT CHARSET=utf8mb4
-- check: column t.b type=text
-- check: column t.a type=varchar(10000)
-- check: shadow-decision warning 1118
ALTER TABLE t ADD COLUMN b VARCHAR(9000)

-- === rb_engine_innodb
-- source: docs.pingcap.com/tidb/stable/sql-statement-alter-table (ENGINE is parsed and ignored by TiDB); research ddl.md: `ALTER TABLE t ENGINE=InnoDB` alone rebuilds on MySQL
-- expect: skip:warning
-- check: decision warning rebuild
ALTER TABLE t ENGINE = InnoDB

-- === rb_engine_row_format
-- source: TiDB Binlog docs (ROW_FORMAT parsed and ignored by TiDB, cited as a Drainer failure); same statement shape
-- expect: skip:warning
ALTER TABLE t ENGINE=InnoDB ROW_FORMAT=DYNAMIC

-- === rb_force
-- source: docs.pingcap.com/tidb/stable/sql-statement-alter-table (FORCE accepted for MySQL compatibility)
-- expect: skip:warning
alter table t force

-- === rb_row_format_compressed
-- source: TiDB Binlog docs (ROW_FORMAT is ignored by TiDB)
-- expect: skip:warning
ALTER TABLE t ROW_FORMAT = COMPRESSED

-- === rb_engine_with_real_change
-- source: pingcap/tidb pkg/parser tests (ALTER TABLE with several specs); the ENGINE clause would turn an instant ADD COLUMN into a copy
-- expect: run
-- setup: CREATE TABLE t (id INT PRIMARY KEY)
-- check: column t.c type=int(11)
-- check: output-lacks engine
-- check: decision warning rebuild
ALTER TABLE t ADD COLUMN c INT, ENGINE = InnoDB

-- === rb_optimize_table
-- source: docs.pingcap.com/tidb/stable/mysql-compatibility (OPTIMIZE TABLE accepted for compatibility); on InnoDB it rebuilds
-- expect: skip:warning
OPTIMIZE TABLE t

-- === tmp_create_temporary
-- source: docs.pingcap.com/tidb/stable/temporary-tables (local temporary table)
-- expect: skip:warning
-- check: decision warning temporary
CREATE TEMPORARY TABLE users (id BIGINT, name VARCHAR(100), city VARCHAR(50), PRIMARY KEY(id))

-- === tmp_create_temporary_like
-- source: docs.pingcap.com/tidb/stable/temporary-tables (CREATE TEMPORARY TABLE ... LIKE)
-- expect: skip:warning
CREATE TEMPORARY TABLE t2 LIKE users

-- === tmp_drop_temporary
-- source: docs.pingcap.com/tidb/stable/temporary-tables (DROP TEMPORARY TABLE)
-- expect: skip:info
DROP TEMPORARY TABLE users

-- === lv_tiflash_replica_zero
-- source: docs.pingcap.com/tidb/stable/create-tiflash-replicas (`ALTER TABLE t SET TIFLASH REPLICA 0` removes the replica)
-- expect: skip:info
ALTER TABLE t SET TIFLASH REPLICA 0

-- === lv_auto_id_cache
-- source: docs.pingcap.com/tidb/stable/auto-increment (AUTO_ID_CACHE changes ID allocation)
-- expect: skip:warning
-- check: decision warning AUTO_ID_CACHE
ALTER TABLE t AUTO_ID_CACHE = 1

-- === lv_shard_row_id_bits_alter
-- source: docs.pingcap.com/tidb/stable/shard-row-id-bits (`ALTER TABLE t SHARD_ROW_ID_BITS = 4`)
-- expect: skip:warning
ALTER TABLE t SHARD_ROW_ID_BITS = 4

-- === lv_placement_default
-- source: docs.pingcap.com/tidb/stable/placement-rules-in-sql (`ALTER TABLE t PLACEMENT POLICY=default` removes the policy)
-- expect: skip:info
ALTER TABLE t PLACEMENT POLICY=default

-- === lv_ttl_enable_off
-- source: docs.pingcap.com/tidb/stable/time-to-live (`ALTER TABLE t TTL_ENABLE = 'OFF'`)
-- expect: skip:info
ALTER TABLE t TTL_ENABLE = 'OFF'

-- === lv_clustered_comment_info
-- source: pingcap/tidb SHOW CREATE TABLE expectations (`PRIMARY KEY (id) /*T![clustered_index] CLUSTERED */`)
-- expect: run
-- check: decision info clustered_index
-- check: index t.PRIMARY columns=id unique=yes
CREATE TABLE `t` (`id` bigint(20) NOT NULL, PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === lv_auto_id_cache_comment_warning
-- source: pingcap/tidb SHOW CREATE TABLE expectations (`/*T![auto_id_cache] AUTO_ID_CACHE=1 */`)
-- expect: run
-- check: decision warning AUTO_ID_CACHE
-- check: column t.id type=int(11)
CREATE TABLE `t` (`id` int(11) NOT NULL AUTO_INCREMENT, PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T![auto_id_cache] AUTO_ID_CACHE=1 */

-- === lv_placement_comment_warning
-- source: pingcap/tidb SHOW CREATE TABLE expectations (`/*T![placement] PLACEMENT POLICY=`p1` */`)
-- expect: run
-- check: decision warning placement
CREATE TABLE `t` (`a` int(11) DEFAULT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T![placement] PLACEMENT POLICY=`p1` */

-- === iv_last_partition_int
-- source: docs.pingcap.com/tidb/stable/partitioned-table ("ALTER INTERVAL partitioned tables": LAST PARTITION LESS THAN adds partitions with the current interval)
-- expect: run
-- static: skip:error
-- setup: CREATE TABLE employees (id INT UNSIGNED NOT NULL, fname VARCHAR(30)) PARTITION BY RANGE (id) (PARTITION P_LT_100 VALUES LESS THAN (100), PARTITION P_LT_200 VALUES LESS THAN (200), PARTITION P_LT_300 VALUES LESS THAN (300))
-- check: partitions employees 5
-- check: shadow-decision info P_LT_500
ALTER TABLE employees LAST PARTITION LESS THAN (500)

-- === iv_first_partition_int
-- source: docs.pingcap.com/tidb/stable/partitioned-table (FIRST PARTITION LESS THAN drops the partitions below the bound)
-- expect: run
-- static: skip:error
-- recopy: yes
-- setup: CREATE TABLE employees (id INT UNSIGNED NOT NULL) PARTITION BY RANGE (id) (PARTITION P_LT_100 VALUES LESS THAN (100), PARTITION P_LT_200 VALUES LESS THAN (200), PARTITION P_LT_300 VALUES LESS THAN (300), PARTITION P_LT_400 VALUES LESS THAN (400))
-- check: partitions employees 2
ALTER TABLE employees FIRST PARTITION LESS THAN (300)

-- === iv_first_partition_keeps_null
-- source: docs.pingcap.com/tidb/stable/partitioned-table (FIRST PARTITION "does not affect a NULL PARTITION"; NULL PARTITION is P_NULL)
-- expect: run
-- static: skip:error
-- recopy: yes
-- setup: CREATE TABLE t (id BIGINT NOT NULL) PARTITION BY RANGE (id) (PARTITION P_NULL VALUES LESS THAN (-9223372036854775808), PARTITION P_LT_10 VALUES LESS THAN (10), PARTITION P_LT_20 VALUES LESS THAN (20), PARTITION P_LT_30 VALUES LESS THAN (30))
-- check: partitions t 3
ALTER TABLE t FIRST PARTITION LESS THAN (20)

-- === iv_last_partition_month
-- source: docs.pingcap.com/tidb/stable/partitioned-table (RANGE COLUMNS INTERVAL (1 MONTH), partitions named P_LT_<date>)
-- expect: run
-- static: skip:error
-- setup: CREATE TABLE monthly_report_status (report_id INT NOT NULL, report_date DATE NOT NULL) PARTITION BY RANGE COLUMNS (report_date) (PARTITION `P_LT_2024-11-01` VALUES LESS THAN ('2024-11-01'), PARTITION `P_LT_2024-12-01` VALUES LESS THAN ('2024-12-01'), PARTITION `P_LT_2025-01-01` VALUES LESS THAN ('2025-01-01'))
-- check: partitions monthly_report_status 6
-- check: shadow-decision info P_LT_2025-04-01
ALTER TABLE monthly_report_status LAST PARTITION LESS THAN ('2025-04-01')

-- === iv_first_partition_datetime
-- source: docs.pingcap.com/tidb/stable/partitioned-table best practices (`ALTER TABLE ad_cache FIRST PARTITION LESS THAN ("${nextTimestamp}")` on a 10 MINUTE INTERVAL table)
-- expect: run
-- static: skip:error
-- recopy: yes
-- setup: CREATE TABLE ad_cache (session_id VARCHAR(64) NOT NULL, create_time DATETIME NOT NULL) PARTITION BY RANGE COLUMNS (create_time) (PARTITION `P_LT_2025-02-19 18:00:00` VALUES LESS THAN ('2025-02-19 18:00:00'), PARTITION `P_LT_2025-02-19 18:10:00` VALUES LESS THAN ('2025-02-19 18:10:00'), PARTITION `P_LT_2025-02-19 18:20:00` VALUES LESS THAN ('2025-02-19 18:20:00'))
-- check: partitions ad_cache 2
ALTER TABLE ad_cache FIRST PARTITION LESS THAN ("2025-02-19 18:10:00")

-- === iv_last_partition_datetime
-- source: docs.pingcap.com/tidb/stable/partitioned-table best practices (`ALTER TABLE ad_cache LAST PARTITION LESS THAN ("${nextTimestamp}")`)
-- expect: run
-- static: skip:error
-- setup: CREATE TABLE ad_cache (session_id VARCHAR(64) NOT NULL, create_time DATETIME NOT NULL) PARTITION BY RANGE COLUMNS (create_time) (PARTITION `P_LT_2025-02-19 18:00:00` VALUES LESS THAN ('2025-02-19 18:00:00'), PARTITION `P_LT_2025-02-19 18:10:00` VALUES LESS THAN ('2025-02-19 18:10:00'))
-- check: partitions ad_cache 4
ALTER TABLE ad_cache LAST PARTITION LESS THAN ("2025-02-19 18:30:00")

-- === iv_last_partition_maxvalue_stop
-- source: docs.pingcap.com/tidb/stable/partitioned-table (LAST PARTITION "does not work if a MAXVALUE PARTITION exists"): the target's table cannot follow, the operator decides
-- expect: stop
-- static: skip:error
-- setup: CREATE TABLE t (id INT NOT NULL) PARTITION BY RANGE (id) (PARTITION P_LT_100 VALUES LESS THAN (100), PARTITION P_LT_200 VALUES LESS THAN (200), PARTITION P_MAXVALUE VALUES LESS THAN MAXVALUE)
-- check: partitions t 3
ALTER TABLE t LAST PARTITION LESS THAN (400)

-- === ix_plain_index_prefix
-- source: research ddl.md row-size notes: TiDB `max-index-length` may be raised to 12288 bytes (TiDB config docs), MySQL/MariaDB InnoDB allow 3072 (error 1071)
-- expect: run
-- check: index t.k_title columns=title unique=no
-- check: output-has k_title (title(768))
-- check: decision warning 3072
CREATE TABLE t (id BIGINT PRIMARY KEY, title VARCHAR(1000) NOT NULL, KEY k_title (title))

-- === ix_two_column_prefix
-- source: TiDB config docs (max-index-length up to 12288): a composite index over two long columns
-- expect: run
-- check: index t.k_ab columns=a,b unique=no
-- check: output-has k_ab (a(384), b(384))
CREATE TABLE t (a VARCHAR(1000), b VARCHAR(1000), KEY k_ab (a, b))

-- === ix_unique_hash_mariadb
-- source: TiDB config docs (max-index-length up to 12288): a unique key over a long column; MariaDB enforces it with USING HASH
-- expect: run
-- check: index t.uk_url columns=url unique=yes
-- check: decision warning HASH
CREATE TABLE t (id INT PRIMARY KEY, url VARCHAR(2000) NOT NULL, UNIQUE KEY uk_url (url))

-- === ix_alter_add_index_catalog
-- source: TiDB config docs (max-index-length up to 12288): ADD INDEX on an existing long column; the length comes from the target catalog
-- expect: run
-- static: run
-- setup: CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(2000)) DEFAULT CHARSET=utf8mb4
-- check: index t.k_note columns=note unique=no
-- check: shadow-decision warning 3072
ALTER TABLE t ADD INDEX k_note (note)

-- === gi_repartition_update_indexes_covering
-- source: docs.pingcap.com/tidb/stable/global-indexes (`ALTER TABLE ... PARTITION BY ... UPDATE INDEXES (idx LOCAL, uidx GLOBAL)`, v8.3+)
-- expect: run
-- setup: CREATE TABLE t1 (col1 INT NOT NULL, col2 INT NOT NULL, col3 INT NOT NULL, UNIQUE KEY uidx12 (col1, col2), KEY idx3 (col3))
-- check: partitions t1 3
-- check: index t1.uidx12 columns=col1,col2 unique=yes
-- check: output-lacks UPDATE INDEXES
-- check: decision warning UPDATE INDEXES
ALTER TABLE t1 PARTITION BY HASH (col1) PARTITIONS 3 UPDATE INDEXES (uidx12 LOCAL, idx3 LOCAL)

-- === gi_repartition_update_indexes_global_unique
-- source: docs.pingcap.com/tidb/stable/global-indexes (repartitioning with `UPDATE INDEXES (uidx3 GLOBAL)`: the unique key does not include the new partitioning column); the target's keys come from its catalog
-- expect: skip:warning
-- static: run
-- setup: CREATE TABLE t1 (col1 INT NOT NULL, col2 INT NOT NULL, col3 INT NOT NULL, UNIQUE KEY uidx3 (col3))
-- check: partitions t1 0
-- check: index t1.uidx3 columns=col3 unique=yes
-- check: output-lacks UPDATE INDEXES
ALTER TABLE t1 PARTITION BY HASH (col1) PARTITIONS 3 UPDATE INDEXES (uidx3 GLOBAL)

-- === gi_remove_partitioning_update_indexes
-- source: docs.pingcap.com/tidb/stable/global-indexes (`ALTER TABLE ... REMOVE PARTITIONING` with UPDATE INDEXES)
-- expect: run
-- setup: CREATE TABLE t1 (col1 INT NOT NULL, col2 INT NOT NULL, KEY k2 (col2)) PARTITION BY HASH (col1) PARTITIONS 4
-- check: partitions t1 0
-- check: index t1.k2 columns=col2 unique=no
ALTER TABLE t1 REMOVE PARTITIONING UPDATE INDEXES (k2 LOCAL)
