-- TiDB SHOW CREATE TABLE / VIEW / SEQUENCE outputs (how TiDB prints its own schema).
-- Most are from pingcap/tidb tests/integrationtest/r/executor/show.result (the expected
-- output file of TiDB's SHOW integration test); checks are for a MariaDB 10.11 target.

-- === show_auto_random_3
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column auto_random_tbl1.a type=bigint(20) null=NO extra=auto_increment
-- check: index auto_random_tbl1.PRIMARY columns=a unique=yes
-- check: table auto_random_tbl1 collation=utf8mb4_bin
-- check: output-lacks AUTO_RANDOM(3)
-- check: output-lacks CLUSTERED
CREATE TABLE `auto_random_tbl1` (
  `a` bigint(20) NOT NULL /*T![auto_rand] AUTO_RANDOM(3) */,
  `b` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`a`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_auto_random_base
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column auto_random_tbl4.a type=bigint(20) null=NO
-- check: column auto_random_tbl4.b type=varchar(255) null=YES default=NULL collation=utf8mb4_bin
-- check: output-lacks AUTO_RANDOM_BASE
CREATE TABLE `auto_random_tbl4` (
  `a` bigint(20) NOT NULL /*T![auto_rand] AUTO_RANDOM(5) */,
  `b` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`a`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T![auto_rand_base] AUTO_RANDOM_BASE=100 */

-- === show_auto_random_range_bits
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column auto_random_tbl7.a type=bigint(20) null=NO extra=auto_increment
CREATE TABLE `auto_random_tbl7` (
  `a` bigint(20) NOT NULL /*T![auto_rand] AUTO_RANDOM(4, 32) */,
  `b` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`a`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_auto_id_cache
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.a type=int(11) null=NO extra=auto_increment
-- check: index t.PRIMARY columns=a unique=yes
-- check: output-lacks AUTO_ID_CACHE
CREATE TABLE `t` (
  `a` int(11) NOT NULL AUTO_INCREMENT,
  PRIMARY KEY (`a`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T![auto_id_cache] AUTO_ID_CACHE=10 */

-- === show_auto_id_cache_unique
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: index t.a columns=a unique=yes
-- check: index t.PRIMARY columns=b unique=yes
CREATE TABLE `t` (
  `a` int(11) NOT NULL AUTO_INCREMENT,
  `b` int(11) NOT NULL,
  PRIMARY KEY (`b`) /*T![clustered_index] CLUSTERED */,
  UNIQUE KEY `a` (`a`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T![auto_id_cache] AUTO_ID_CACHE=100 */

-- === show_utf8_table
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: table test1 collation=utf8mb3_bin
-- check: column test1.id type=int(11) null=NO default=none
CREATE TABLE `test1` (`id` int(0) NOT NULL,`num` int(0) DEFAULT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_bin

-- === show_ttl_default_options
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.created_at type=datetime null=YES default=NULL
-- check: output-lacks TTL
-- check: decision warning TTL
CREATE TABLE `t` (
  `created_at` datetime DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T![ttl] TTL=`created_at` + INTERVAL 100 YEAR */ /*T![ttl] TTL_ENABLE='ON' */ /*T![ttl] TTL_JOB_INTERVAL='1h' */

-- === show_ttl_hour_minute_string
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.created_at type=datetime
-- check: output-lacks HOUR_MINUTE
CREATE TABLE `t` (
  `created_at` datetime DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T![ttl] TTL=`created_at` + INTERVAL _utf8mb4'15:20' HOUR_MINUTE */ /*T![ttl] TTL_ENABLE='ON' */ /*T![ttl] TTL_JOB_INTERVAL='1h' */

-- === show_view_definer
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- rename: executor__show
-- setup: CREATE TABLE t1 (a int, b int)
-- check: view v1
-- check: output-lacks DEFINER=
-- check: output-has SQL SECURITY DEFINER
-- check: decision warning DEFINER
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v1` (`a`, `b`) AS SELECT `executor__show`.`t1`.`a` AS `a`,`executor__show`.`t1`.`b` AS `b` FROM `executor__show`.`t1`

-- === show_view_introducer
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: view v
-- check: output-has JSON_MERGE(_UTF8MB4'{}', _UTF8MB4'{}')
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v` (`col`) AS SELECT JSON_MERGE(_UTF8MB4'{}', _UTF8MB4'{}') AS `col`

-- === show_view_group_by
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- rename: executor__show
-- setup: CREATE TABLE t1 (a int, b int)
-- check: view v1
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`127.0.0.1` SQL SECURITY DEFINER VIEW `v1` (`avg(a)`, `a`, `b`) AS SELECT AVG(`a`) AS `avg(a)`,`executor__show`.`t1`.`a` AS `a`,`executor__show`.`t1`.`b` AS `b` FROM `executor__show`.`t1` GROUP BY `a`

-- === show_view_select_1
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: view v1
CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW `v1` (`1`) AS SELECT 1 AS `1`

-- === show_generated_virtual
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.b type=int(11) extra=VIRTUAL GENERATED
CREATE TABLE `t` (
  `c` int(11) DEFAULT NULL,
  `b` int(11) GENERATED ALWAYS AS (`c` + 1) VIRTUAL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_generated_not_null
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.b type=int(11) extra=VIRTUAL GENERATED
-- check: decision warning generated column
CREATE TABLE `t` (
  `c` int(11) DEFAULT NULL,
  `b` int(11) GENERATED ALWAYS AS (`c` + 1) VIRTUAL NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_column_charset_utf8
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.a type=char(10) collation=utf8mb3_bin
-- check: column t.b extra=VIRTUAL GENERATED
CREATE TABLE `t` (
  `a` char(10) CHARACTER SET utf8 COLLATE utf8_bin DEFAULT NULL,
  `b` char(10) GENERATED ALWAYS AS (rtrim(`a`)) VIRTUAL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_different_charset
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column different_charset.ch1 type=varchar(10) collation=utf8mb3_bin
-- check: column different_charset.ch2 type=varbinary(10)
CREATE TABLE `different_charset` (
  `ch1` varchar(10) CHARACTER SET utf8 COLLATE utf8_bin DEFAULT NULL,
  `ch2` varbinary(10) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_timestamp_defaults
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.a type=timestamp null=NO default=current_timestamp() extra=
-- check: column t.b type=timestamp(3) null=YES default=current_timestamp(3) extra=
-- check: column t.g type=timestamp(2) null=YES extra=on update current_timestamp(2)
-- check: column t.h type=date default=curdate()
-- check: decision info TIMESTAMP made explicitly NULL
CREATE TABLE `t` (
  `a` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `b` timestamp(3) DEFAULT CURRENT_TIMESTAMP(3),
  `c` datetime DEFAULT CURRENT_TIMESTAMP,
  `d` datetime(4) DEFAULT CURRENT_TIMESTAMP(4),
  `e` varchar(20) DEFAULT 'cUrrent_tImestamp',
  `f` datetime(2) DEFAULT CURRENT_TIMESTAMP(2) ON UPDATE CURRENT_TIMESTAMP(2),
  `g` timestamp(2) DEFAULT CURRENT_TIMESTAMP(2) ON UPDATE CURRENT_TIMESTAMP(2),
  `h` date DEFAULT (CURRENT_DATE)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_shard_row_id_bits
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.a type=int(11)
-- check: output-lacks SHARD_ROW_ID_BITS
CREATE TABLE `t` (
  `a` int(11) DEFAULT NULL,
  `b` int(11) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T! SHARD_ROW_ID_BITS=4 PRE_SPLIT_REGIONS=3 */

-- === show_unsigned_default
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t1.c type=int(10) unsigned default=0
CREATE TABLE `t1` (
  `c` int(10) unsigned DEFAULT '0'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_nonclustered_partitioned
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: index log.PRIMARY columns=LOG_ID,END_TIME unique=yes
-- check: partitions log 12
-- check: table log collation=utf8mb3_bin
-- check: output-lacks NONCLUSTERED
CREATE TABLE `log` (
  `LOG_ID` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `ROUND_ID` bigint(20) unsigned NOT NULL,
  `USER_ID` int(10) unsigned NOT NULL,
  `USER_IP` int(10) unsigned DEFAULT NULL,
  `END_TIME` datetime NOT NULL,
  `USER_TYPE` int(11) DEFAULT NULL,
  `APP_ID` int(11) DEFAULT NULL,
  PRIMARY KEY (`LOG_ID`,`END_TIME`) /*T![clustered_index] NONCLUSTERED */,
  KEY `IDX_EndTime` (`END_TIME`),
  KEY `IDX_RoundId` (`ROUND_ID`),
  KEY `IDX_UserId_EndTime` (`USER_ID`,`END_TIME`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_bin AUTO_INCREMENT=505488
PARTITION BY RANGE (MONTH(`end_time`))
(PARTITION `p1` VALUES LESS THAN (2),
 PARTITION `p2` VALUES LESS THAN (3),
 PARTITION `p3` VALUES LESS THAN (4),
 PARTITION `p4` VALUES LESS THAN (5),
 PARTITION `p5` VALUES LESS THAN (6),
 PARTITION `p6` VALUES LESS THAN (7),
 PARTITION `p7` VALUES LESS THAN (8),
 PARTITION `p8` VALUES LESS THAN (9),
 PARTITION `p9` VALUES LESS THAN (10),
 PARTITION `p10` VALUES LESS THAN (11),
 PARTITION `p11` VALUES LESS THAN (12),
 PARTITION `p12` VALUES LESS THAN (MAXVALUE))

-- === show_unicode_ci
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column ttt4.a collation=utf8mb4_unicode_ci
-- check: table ttt4 collation=utf8mb4_unicode_ci
CREATE TABLE `ttt4` (
  `a` varchar(123) COLLATE utf8mb4_unicode_ci DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci

-- === show_expression_index
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: noindex t.expr_idx
-- check: column t.b type=double
-- check: decision warning expression index
CREATE TABLE `t` (
  `a` int(11) DEFAULT NULL,
  `b` double DEFAULT NULL,
  KEY `expr_idx` ((`a` * `b` + 1))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_sequence
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: skip:warning
-- check: decision warning sequences
CREATE SEQUENCE `seq` start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 cache 1000 nocycle ENGINE=InnoDB

-- === show_binary_charset
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column binary_collate.a type=varbinary(10)
-- check: table binary_collate collation=binary
CREATE TABLE `binary_collate` (
  `a` varbinary(10) DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=binary

-- === show_default_varchar
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column default_varchar.a default='haha'
CREATE TABLE `default_varchar` (
  `a` varchar(10) DEFAULT 'haha'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_default_nextval
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column default_sequence.a type=int(11) default=NULL
-- check: decision warning DEFAULT
-- check: output-lacks nextval
CREATE TABLE `default_sequence` (
  `a` int(11) DEFAULT (nextval(`executor__show`.`seq`))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_foreign_key
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- setup: CREATE TABLE parent ( id INT NOT NULL PRIMARY KEY auto_increment )
-- check: index child.par_ind columns=parent_id unique=no
-- check: column child.id extra=auto_increment
CREATE TABLE `child` (
  `id` int(11) NOT NULL AUTO_INCREMENT,
  `parent_id` int(11) NOT NULL,
  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */,
  KEY `par_ind` (`parent_id`),
  CONSTRAINT `child_ibfk_1` FOREIGN KEY (`parent_id`) REFERENCES `parent` (`id`) ON DELETE RESTRICT ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_generated_introducer
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.b type=char(10) extra=VIRTUAL GENERATED
CREATE TABLE `t` (
  `a` int(11) DEFAULT NULL,
  `b` char(10) GENERATED ALWAYS AS (_utf8mb4'a') VIRTUAL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_list_partition
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: partitions t 4
-- check: index t.idx columns=id unique=yes
CREATE TABLE `t` (
  `id` int(11) DEFAULT NULL,
  `name` varchar(10) DEFAULT NULL,
  UNIQUE KEY `idx` (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY LIST (`id`)
(PARTITION `p0` VALUES IN (3,5,6,9,17),
 PARTITION `p1` VALUES IN (1,2,10,11,19,20),
 PARTITION `p2` VALUES IN (4,12,13,14,18),
 PARTITION `p3` VALUES IN (7,8,15,16,NULL))

-- === show_list_columns_tuples
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: partitions t 2
-- check: index t.idx columns=id,name unique=yes
CREATE TABLE `t` (
  `id` int(11) DEFAULT NULL,
  `name` varchar(10) DEFAULT NULL,
  UNIQUE KEY `idx` (`id`,`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY LIST COLUMNS(`id`,`name`)
(PARTITION `p0` VALUES IN ((3,'1'),(5,'5')),
 PARTITION `p1` VALUES IN ((1,'1')))

-- === show_index_comment_quote
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: index t.idx_v columns=v unique=no
-- check: output-has COMMENT 'foo''bar'
CREATE TABLE `t` (
  `id` int(11) NOT NULL,
  `v` varchar(255) NOT NULL,
  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */,
  KEY `idx_v` (`v`) COMMENT 'foo''bar'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_hash_partition_comments
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: partitions thash 2
-- check: column thash.id type=bigint(20) unsigned null=NO
CREATE TABLE `thash` (
  `id` bigint(20) unsigned NOT NULL,
  `data` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY HASH (`id`)
(PARTITION `pEven` COMMENT 'Even ids',
 PARTITION `pOdd` COMMENT 'Odd ids')

-- === show_hash_partitions_1
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: partitions thash 1
CREATE TABLE `thash` (
  `id` bigint(20) unsigned NOT NULL,
  `data` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY HASH (`id`) PARTITIONS 1

-- === show_backslash_default
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.b default='\\'
CREATE TABLE `t` (
  `a` int(11) NOT NULL,
  `b` varchar(20) DEFAULT '\\',
  PRIMARY KEY (`a`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_set_enum_charset
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.b type=enum('a','b') collation=ascii_bin
-- check: column t.a type=set('a','b')
CREATE TABLE `t` (
  `a` set('a','b') CHARACTER SET binary COLLATE binary DEFAULT NULL,
  `b` enum('a','b') CHARACTER SET ascii COLLATE ascii_bin DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_bit_rand_default
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: column t.a type=bit(1) default=rand()
CREATE TABLE `t` (
  `a` bit(1) DEFAULT (rand())
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin

-- === show_range_columns_hex
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: run
-- check: partitions t 1
-- check: column t.a collation=ascii_bin
CREATE TABLE `t` (
  `a` varchar(255) CHARACTER SET ascii COLLATE ascii_bin DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
PARTITION BY RANGE COLUMNS(`a`)
(PARTITION `p` VALUES LESS THAN (0x7f))

-- === show_global_temporary
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result
-- expect: skip:warning
-- check: decision warning GLOBAL TEMPORARY
CREATE GLOBAL TEMPORARY TABLE `t3` (
  `i` int(11) NOT NULL,
  `j` int(11) DEFAULT NULL,
  PRIMARY KEY (`i`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin ON COMMIT DELETE ROWS

-- === show_placement_table
-- source: https://docs.pingcap.com/tidb/stable/placement-rules-in-sql (pingcap/docs placement-rules-in-sql.md, SHOW CREATE TABLE t1)
-- expect: run
-- check: column t1.a type=int(11)
-- check: output-lacks PLACEMENT
CREATE TABLE `t1` (
  `a` int DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin /*T![placement] PLACEMENT POLICY=`myplacementpolicy` */

-- === show_interval_expanded
-- source: https://docs.pingcap.com/tidb/stable/partitioned-table (pingcap/docs partitioned-table.md, the table INTERVAL partitioning creates; middle partitions elided there, first three kept)
-- expect: run
-- check: partitions employees 4
-- check: column employees.hired type=date null=NO default='1970-01-01'
CREATE TABLE `employees` (
  `id` int unsigned NOT NULL,
  `fname` varchar(30) DEFAULT NULL,
  `lname` varchar(30) DEFAULT NULL,
  `hired` date NOT NULL DEFAULT '1970-01-01',
  `separated` date DEFAULT '9999-12-31',
  `job_code` int DEFAULT NULL,
  `store_id` int NOT NULL
)
PARTITION BY RANGE (`id`)
(PARTITION `P_LT_100` VALUES LESS THAN (100),
 PARTITION `P_LT_200` VALUES LESS THAN (200),
 PARTITION `P_LT_10000` VALUES LESS THAN (10000),
 PARTITION `P_MAXVALUE` VALUES LESS THAN (MAXVALUE))
