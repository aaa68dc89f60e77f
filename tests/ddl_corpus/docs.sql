-- Statements from the TiDB documentation (pingcap/docs, published at docs.pingcap.com).
-- Checks are for a MariaDB 10.11 target.

-- === docs_ttl_create
-- source: https://docs.pingcap.com/tidb/stable/time-to-live (pingcap/docs time-to-live.md)
-- expect: run
-- check: column t1.created_at type=timestamp null=YES default=NULL extra=
-- check: index t1.PRIMARY columns=id unique=yes
-- check: decision warning TTL
CREATE TABLE t1 (
    id int PRIMARY KEY,
    created_at TIMESTAMP
) TTL = `created_at` + INTERVAL 3 MONTH;

-- === docs_ttl_create_enable_off
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: run
-- check: column t1.created_at null=YES default=NULL
-- check: output-lacks TTL_ENABLE
CREATE TABLE t1 (
    id int PRIMARY KEY,
    created_at TIMESTAMP
) TTL = `created_at` + INTERVAL 3 MONTH TTL_ENABLE = 'OFF';

-- === docs_ttl_comment_form
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: run
-- check: column t1.created_at null=YES default=NULL
-- check: output-lacks /*T!
CREATE TABLE t1 (
    id int PRIMARY KEY,
    created_at TIMESTAMP
) /*T![ttl] TTL = `created_at` + INTERVAL 3 MONTH TTL_ENABLE = 'OFF'*/;

-- === docs_ttl_alter
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: skip:warning
-- check: decision warning TTL
ALTER TABLE t1 TTL = `created_at` + INTERVAL 1 MONTH;

-- === docs_ttl_alter_enable
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: skip:info
ALTER TABLE t1 TTL_ENABLE = 'OFF';

-- === docs_ttl_remove
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: skip:info
ALTER TABLE t1 REMOVE TTL;

-- === docs_ttl_default_current_timestamp
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: run
-- check: column t1.created_at type=timestamp null=YES default=current_timestamp() extra=
CREATE TABLE t1 (
    id int PRIMARY KEY,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
) TTL = `created_at` + INTERVAL 3 MONTH;

-- === docs_ttl_on_update
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: run
-- check: column t1.created_at null=YES default=current_timestamp() extra=on update current_timestamp()
CREATE TABLE t1 (
    id int PRIMARY KEY,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
) TTL = `created_at` + INTERVAL 3 MONTH;

-- === docs_ttl_generated
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: run
-- check: column message.expire_at type=timestamp extra=VIRTUAL GENERATED
-- check: column message.created_at null=YES default=current_timestamp()
CREATE TABLE message (
    id int PRIMARY KEY,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    image bool,
    expire_at TIMESTAMP AS (IF(image,
            created_at + INTERVAL 5 DAY,
            created_at + INTERVAL 30 DAY
    ))
) TTL = `expire_at` + INTERVAL 0 DAY;

-- === docs_ttl_json
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: run
-- check: column orders.order_info type=longtext
-- check: column orders.created_at type=date extra=VIRTUAL GENERATED
CREATE TABLE orders (
    id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_info JSON,
    created_at DATE AS (JSON_EXTRACT(order_info, '$.created_at')) VIRTUAL
) TTL = `created_at` + INTERVAL 3 month;

-- === docs_ttl_job_interval
-- source: https://docs.pingcap.com/tidb/stable/time-to-live
-- expect: skip:warning
ALTER TABLE orders TTL_JOB_INTERVAL = '24h';

-- === docs_placement_create_policy
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:warning
-- check: decision warning placement
CREATE PLACEMENT POLICY myplacementpolicy PRIMARY_REGION="us-east-1" REGIONS="us-east-1,us-west-1";

-- === docs_placement_table
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: run
-- check: column t1.a type=int(11)
-- check: output-lacks PLACEMENT
CREATE TABLE t1 (a INT) PLACEMENT POLICY=myplacementpolicy;

-- === docs_placement_alter_table
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:warning
ALTER TABLE t2 PLACEMENT POLICY=myplacementpolicy;

-- === docs_placement_alter_policy
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:warning
ALTER PLACEMENT POLICY myplacementpolicy FOLLOWERS=4;

-- === docs_placement_drop_policy
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:info
DROP PLACEMENT POLICY myplacementpolicy;

-- === docs_placement_alter_range
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:warning
ALTER RANGE global PLACEMENT POLICY five_replicas;

-- === docs_placement_alter_database
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:warning
ALTER DATABASE test PLACEMENT POLICY=p2;

-- === docs_placement_reset_default
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:info
ALTER TABLE t PLACEMENT POLICY=default;

-- === docs_placement_partitioned_global_index
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: run
-- check: index t1.idx columns=id unique=yes
-- check: partitions t1 0
-- check: output-lacks PLACEMENT
-- check: decision warning PARTITION BY
CREATE TABLE t1 (id INT, name VARCHAR(50), purchased DATE, UNIQUE INDEX idx(id) GLOBAL)
PLACEMENT POLICY=companystandardpolicy
PARTITION BY RANGE( YEAR(purchased) ) (
  PARTITION p0 VALUES LESS THAN (2000) PLACEMENT POLICY=storageforhistorydata,
  PARTITION p1 VALUES LESS THAN (2005),
  PARTITION p2 VALUES LESS THAN (2010),
  PARTITION p3 VALUES LESS THAN (2015),
  PARTITION p4 VALUES LESS THAN MAXVALUE PLACEMENT POLICY=storagefornewdata
);

-- === docs_placement_partition_alter
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:warning
ALTER TABLE t1 PARTITION p1 PLACEMENT POLICY=storageforhistorydata;

-- === docs_placement_survival
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql
-- expect: skip:warning
CREATE PLACEMENT POLICY singleaz CONSTRAINTS="[+region=us-east-1]" SURVIVAL_PREFERENCES="[zone]";

-- === docs_interval_partitioning
-- source: https://docs.pingcap.com/tidb/stable/partitioned-table (Range INTERVAL partitioning)
-- expect: run
-- check: partitions employees 101
-- check: decision info INTERVAL
CREATE TABLE employees (
    id int unsigned NOT NULL,
    fname varchar(30),
    lname varchar(30),
    hired date NOT NULL DEFAULT '1970-01-01',
    separated date DEFAULT '9999-12-31',
    job_code int,
    store_id int NOT NULL
) PARTITION BY RANGE (id)
INTERVAL (100) FIRST PARTITION LESS THAN (100) LAST PARTITION LESS THAN (10000) MAXVALUE PARTITION

-- === docs_tiflash_replica
-- source: https://docs.pingcap.com/tidb/stable/create-tiflash-replicas
-- expect: skip:warning
ALTER TABLE `tpch50`.`lineitem` SET TIFLASH REPLICA 2 LOCATION LABELS "zone";

-- === docs_tiflash_database
-- source: https://docs.pingcap.com/tidb/stable/create-tiflash-replicas
-- expect: skip:warning
ALTER DATABASE tpch50 SET TIFLASH REPLICA 2;

-- === docs_compact
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-alter-table-compact
-- expect: skip:info
ALTER TABLE employees COMPACT PARTITION pNorth, pEast TIFLASH REPLICA;

-- === docs_cached_table
-- source: https://docs.pingcap.com/tidb/stable/cached-tables
-- expect: skip:warning
ALTER TABLE users CACHE;

-- === docs_flashback_table
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-flashback-table
-- expect: skip:error
-- recopy: yes
FLASHBACK TABLE t TO t1;

-- === docs_flashback_database
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-flashback-database
-- expect: skip:error
-- recopy: yes
FLASHBACK DATABASE test TO test1;

-- === docs_recover_table_by_job
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-recover-table
-- expect: skip:error
-- recopy: yes
RECOVER TABLE BY JOB 53;

-- === docs_flashback_cluster
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-flashback-cluster
-- expect: skip:error
-- recopy: yes
FLASHBACK CLUSTER TO TIMESTAMP '2022-09-21 16:02:50';

-- === docs_create_sequence
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-create-sequence
-- expect: skip:warning
CREATE SEQUENCE seq2 start 3 increment 2 minvalue 1 maxvalue 10 cache 3;

-- === docs_alter_sequence
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-alter-sequence
-- expect: skip:warning
ALTER SEQUENCE s1 INCREMENT=2;

-- === docs_drop_sequence
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-drop-sequence
-- expect: skip:info
DROP SEQUENCE seq, seq2;

-- === docs_resource_group_create
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-create-resource-group
-- expect: skip:warning
CREATE RESOURCE GROUP IF NOT EXISTS rg1 RU_PER_SEC = 100 BURSTABLE;

-- === docs_resource_group_alter
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-alter-resource-group
-- expect: skip:warning
ALTER RESOURCE GROUP rg1 RU_PER_SEC = 200 PRIORITY = LOW;

-- === docs_resource_group_drop
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-drop-resource-group
-- expect: skip:info
DROP RESOURCE GROUP IF EXISTS rg1;

-- === docs_admin_check
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-admin-check-table-index
-- expect: skip:warning
ADMIN CHECK TABLE tbl_name;

-- === docs_split_table
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-split-region
-- expect: skip:warning
SPLIT TABLE t BETWEEN (-9223372036854775808) AND (9223372036854775807) REGIONS 16;

-- === docs_vector_table
-- source: https://docs.pingcap.com/tidb/stable/vector-search-index
-- expect: run
-- check: column foo.embedding type=longtext
-- check: noindex foo.idx_embedding
-- check: decision warning LONGTEXT
CREATE TABLE foo (
  id INT PRIMARY KEY,
  embedding VECTOR(3),
  VECTOR INDEX idx_embedding ((VEC_COSINE_DISTANCE(embedding)))
);

-- === docs_vector_create_index
-- source: https://docs.pingcap.com/tidb/stable/vector-search-index
-- expect: skip:warning
CREATE VECTOR INDEX idx_embedding ON foo ((VEC_COSINE_DISTANCE(embedding))) USING HNSW;

-- === docs_vector_alter_add_index
-- source: https://docs.pingcap.com/tidb/stable/vector-search-index
-- expect: skip:warning
ALTER TABLE foo ADD VECTOR INDEX idx_embedding ((VEC_COSINE_DISTANCE(embedding))) USING HNSW;

-- === docs_vector_auto_random
-- source: https://docs.pingcap.com/tidb/stable/vector-search-index
-- expect: run
-- check: column foo.id type=bigint(20) null=NO extra=auto_increment
-- check: column foo.embedding type=longtext
CREATE TABLE foo (
  id BIGINT PRIMARY KEY AUTO_RANDOM,
  embedding VECTOR(1536),
  VECTOR INDEX idx_embedding ((VEC_COSINE_DISTANCE(embedding)))
);

-- === docs_auto_random_doc
-- source: https://docs.pingcap.com/tidb/stable/auto-random
-- expect: run
-- check: column t.a type=bigint(20) null=NO extra=auto_increment
CREATE TABLE t (a BIGINT PRIMARY KEY AUTO_RANDOM(5, 54), b VARCHAR(255));

-- === docs_clustered_nonclustered
-- source: https://docs.pingcap.com/tidb/stable/clustered-indexes
-- expect: run
-- check: index t.PRIMARY columns=a,b unique=yes
-- check: output-lacks NONCLUSTERED
CREATE TABLE t (a BIGINT, b VARCHAR(255), PRIMARY KEY(a, b) NONCLUSTERED);

-- === docs_clustered_column
-- source: https://docs.pingcap.com/tidb/stable/clustered-indexes
-- expect: run
-- check: index t.PRIMARY columns=a unique=yes
CREATE TABLE t (a BIGINT PRIMARY KEY CLUSTERED, b VARCHAR(255));

-- === docs_clustered_comment
-- source: https://docs.pingcap.com/tidb/stable/clustered-indexes
-- expect: run
-- check: index t.PRIMARY columns=a unique=yes
CREATE TABLE t (a BIGINT PRIMARY KEY /*T![clustered_index] CLUSTERED */, b VARCHAR(255));

-- === docs_clustered_add_pk
-- source: https://docs.pingcap.com/tidb/stable/clustered-indexes
-- expect: run
-- setup: CREATE TABLE t (a BIGINT NOT NULL, b VARCHAR(255) NOT NULL)
-- check: index t.PRIMARY columns=b,a unique=yes
ALTER TABLE t ADD PRIMARY KEY(b, a) NONCLUSTERED;

-- === docs_add_column_if_not_exists
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-add-column
-- expect: run
-- setup: CREATE TABLE t1 (id INT NOT NULL PRIMARY KEY AUTO_INCREMENT, c1 INT NOT NULL)
-- check: column t1.c2 type=int(11) null=NO
-- check: output-has IF NOT EXISTS
ALTER TABLE t1 ADD COLUMN IF NOT EXISTS c2 INT NOT NULL;

-- === docs_create_index_if_not_exists
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-create-index
-- expect: run
-- setup: CREATE TABLE t1 (id INT NOT NULL PRIMARY KEY AUTO_RANDOM, c1 INT NOT NULL)
-- execute: no: its setup statement is itself TiDB syntax (AUTO_RANDOM on the target)
-- check: output-has IF NOT EXISTS
CREATE INDEX IF NOT EXISTS c1 ON t1 (c1);

-- === docs_drop_index_if_exists
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-drop-index
-- expect: run
-- setup: CREATE TABLE t1 (id INT NOT NULL PRIMARY KEY, c1 INT NOT NULL, INDEX c1 (c1))
-- check: noindex t1.c1
DROP INDEX IF EXISTS c1 ON t1;

-- === docs_drop_column_if_exists
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-drop-column
-- expect: run
-- setup: CREATE TABLE t1 (id INT NOT NULL PRIMARY KEY, col1 INT, col2 INT)
-- check: nocolumn t1.col2
ALTER TABLE t1 DROP COLUMN IF EXISTS col2;

-- === docs_add_index_invisible
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-alter-index
-- expect: run
-- setup: CREATE TABLE t1 (c1 INT, c2 INT, UNIQUE(c2))
-- check: index t1.c1 columns=c1 unique=no
-- check: output-has IGNORED
CREATE INDEX c1 ON t1 (c1) INVISIBLE;

-- === docs_alter_index_invisible
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-alter-index
-- expect: run
-- setup: CREATE TABLE t1 (c1 INT, c2 INT, UNIQUE(c2))
-- check: output-has ALTER INDEX c2 IGNORED
ALTER TABLE t1 ALTER INDEX c2 INVISIBLE;

-- === docs_create_database_charset
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-create-database
-- expect: run
-- database: mynewdatabase
-- check: database charset=utf8mb4 collation=utf8mb4_bin
CREATE DATABASE mynewdatabase;

-- === docs_show_create_database_placement
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql (SHOW CREATE DATABASE output form)
-- expect: run
-- database: test
-- check: database charset=utf8mb4 collation=utf8mb4_bin
CREATE DATABASE `test` /*!40100 DEFAULT CHARACTER SET utf8mb4 */ /*T![placement] PLACEMENT POLICY=`p2` */

-- === docs_drop_database
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-drop-database
-- expect: run
-- database: test
-- setup: CREATE DATABASE test
-- check: output-has IF EXISTS
DROP DATABASE test;

-- === docs_0900_collation
-- source: constructed; feature documented at https://docs.pingcap.com/tidb/stable/character-set-and-collation (utf8mb4_0900_ai_ci, TiDB 7.4+)
-- expect: run
-- check: column t.a collation=utf8mb4_unicode_520_ci
-- check: table t collation=utf8mb4_unicode_520_ci
-- check: decision warning utf8mb4_0900_ai_ci
CREATE TABLE t (a VARCHAR(10) COLLATE utf8mb4_0900_ai_ci) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;

-- === docs_0900_bin
-- source: constructed; feature documented at https://docs.pingcap.com/tidb/stable/character-set-and-collation (utf8mb4_0900_bin)
-- expect: run
-- check: column t.a collation=utf8mb4_bin
CREATE TABLE t (a VARCHAR(10) COLLATE utf8mb4_0900_bin);

-- === docs_list_default_partition
-- source: constructed; feature documented at https://docs.pingcap.com/tidb/stable/partitioned-table (LIST DEFAULT partition, pingcap/tidb#20679)
-- expect: run
-- check: partitions t 3
CREATE TABLE t (
  a INT,
  b INT
)
PARTITION BY LIST (a) (
  PARTITION p0 VALUES IN (1, 2, 3),
  PARTITION p1 VALUES IN (4, 5, 6),
  PARTITION pDef DEFAULT
);

-- === docs_multi_schema_change
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-alter-table (multi-schema change)
-- expect: run
-- setup: CREATE TABLE t (a INT, c INT)
-- check: column t.b type=int(11)
-- check: column t.c type=char(5)
-- check: index t.idx columns=a unique=no
ALTER TABLE t ADD COLUMN b INT, MODIFY COLUMN c CHAR(5), ADD INDEX idx(a), COMMENT = 'some comment';

-- === docs_multi_clause_tiflash_mixed
-- source: constructed; multi-schema change (https://docs.pingcap.com/tidb/stable/sql-statement-alter-table) mixing a TiDB-only option
-- expect: run
-- setup: CREATE TABLE t (a INT)
-- check: column t.b type=int(11)
-- check: output-lacks TIFLASH
-- check: output-lacks AUTO_ID_CACHE
ALTER TABLE t ADD COLUMN b INT, AUTO_ID_CACHE = 1;

-- === docs_check_not_enforced
-- source: https://docs.pingcap.com/tidb/stable/constraints (CHECK constraints)
-- expect: run
-- check: column t.a type=int(11)
-- check: output-lacks ENFORCED
-- check: output-lacks CHECK
-- check: decision warning tidb_enable_check_constraint
CREATE TABLE t(a INT CHECK(a > 10) NOT ENFORCED, b INT, c INT, CONSTRAINT c1 CHECK (b > c));

-- === docs_auto_increment_global_unique
-- source: https://docs.pingcap.com/tidb/stable/global-indexes
-- expect: run
-- check: index t1.uidx12 columns=col1,col2 unique=yes
-- check: partitions t1 0
CREATE TABLE t1 (
    col1 INT NOT NULL,
    col2 DATE NOT NULL,
    col3 INT NOT NULL,
    col4 INT NOT NULL,
    UNIQUE KEY uidx12(col1, col2) GLOBAL,
    UNIQUE KEY uidx3(col3),
    KEY idx1(col1)
)
PARTITION BY HASH(col3)
PARTITIONS 4;

-- === docs_add_global_index
-- source: https://docs.pingcap.com/tidb/stable/global-indexes
-- expect: run
-- setup: CREATE TABLE t1 (col1 INT NOT NULL, col2 DATE NOT NULL, col3 INT NOT NULL)
-- check: index t1.uidx3 columns=col3 unique=yes
-- check: output-lacks GLOBAL
ALTER TABLE t1 ADD UNIQUE INDEX uidx3(col3) GLOBAL;

-- === docs_rename_table
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-rename-table
-- expect: run
-- setup: CREATE TABLE t1 (a int)
-- check: column t2.a type=int(11)
RENAME TABLE t1 TO t2;

-- === docs_truncate_table
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-truncate
-- expect: run
-- setup: CREATE TABLE t1 (a int)
-- check: column t1.a type=int(11)
TRUNCATE TABLE t1;

-- === docs_create_table_like
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-create-table-like
-- expect: run
-- setup: CREATE TABLE t1 (a INT NOT NULL)
-- check: column t2.a type=int(11) null=NO
CREATE TABLE t2 LIKE t1;

-- === docs_modify_column_charset
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-modify-column
-- expect: run
-- setup: CREATE TABLE t1 (id INT NOT NULL PRIMARY KEY, col1 VARCHAR(10))
-- check: column t1.col1 type=varchar(20) collation=utf8mb4_bin
ALTER TABLE t1 MODIFY col1 VARCHAR(20) CHARACTER SET utf8mb4;

-- === docs_convert_to_charset
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-alter-table
-- expect: run
-- setup: CREATE TABLE t1 (id INT NOT NULL PRIMARY KEY, col1 VARCHAR(10)) CHARSET=latin1
-- check: column t1.col1 collation=utf8mb4_bin
-- check: table t1 collation=utf8mb4_bin
ALTER TABLE t1 CONVERT TO CHARACTER SET utf8mb4;

-- === docs_add_column_timestamp
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-add-column
-- expect: run
-- setup: CREATE TABLE t1 (id INT NOT NULL PRIMARY KEY)
-- check: column t1.ts type=timestamp null=YES default=NULL extra=
ALTER TABLE t1 ADD COLUMN ts TIMESTAMP;

-- === docs_drop_view
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-drop-view
-- expect: run
-- setup: CREATE VIEW v1 AS SELECT 1
-- check: output-has IF EXISTS
DROP VIEW v1;

-- === docs_drop_table_if_exists
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-drop-table
-- expect: run
-- check: output-has DROP TABLE IF EXISTS t1
DROP TABLE IF EXISTS t1;

-- === docs_lock_stats
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-lock-stats
-- expect: skip:warning
LOCK STATS t;

-- === docs_analyze
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-analyze-table
-- expect: skip:warning
ANALYZE TABLE t;

-- === docs_create_binding
-- source: https://docs.pingcap.com/tidb/stable/sql-statement-create-binding
-- expect: skip:warning
CREATE GLOBAL BINDING FOR SELECT * FROM t1 WHERE b = 123 USING SELECT * FROM t1 IGNORE INDEX (b) WHERE b = 123;

-- === docs_attributes
-- source: https://docs.pingcap.com/tidb/stable/table-attributes
-- expect: skip:warning
ALTER TABLE t ATTRIBUTES 'merge_option=deny';

-- === docs_cached_nocache
-- source: https://docs.pingcap.com/tidb/stable/cached-tables
-- expect: skip:info
ALTER TABLE users NOCACHE;

-- === docs_reorganize_partition
-- source: https://docs.pingcap.com/tidb/stable/partitioned-table (REORGANIZE PARTITION)
-- expect: run
-- setup: CREATE TABLE members (id int, fname varchar(255), lname varchar(255), dob date, data json) PARTITION BY RANGE (YEAR(dob)) (PARTITION pBefore1950 VALUES LESS THAN (1950), PARTITION p1950 VALUES LESS THAN (1960), PARTITION p1960 VALUES LESS THAN (1970), PARTITION p1970 VALUES LESS THAN (1980), PARTITION p1980 VALUES LESS THAN (1990), PARTITION p1990 VALUES LESS THAN (2000))
-- check: partitions members 5
ALTER TABLE members REORGANIZE PARTITION p1950,p1960 INTO (PARTITION p1950 VALUES LESS THAN (1970));
