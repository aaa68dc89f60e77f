-- DDL as users type it: the text TiDB Binlog Drainer carries (job.Query), bare TiDB keywords
-- and all. Sources: pingcap/tidb tests (binlog comment test, SHOW test inputs), TiDB docs,
-- and issue reports cited per entry. Checks are for a MariaDB 10.11 target.

-- === binlog_shard_row_id_bits
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go (TestFormatAndAddTiDBSpecificComment)
-- expect: run
-- check: column t1.id type=int(11)
-- check: output-lacks shard_row_id_bits
create table t1 (id int ) shard_row_id_bits=2;

-- === binlog_shard_pre_split
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: output-lacks pre_split_regions
-- check: table t1 collation=utf8mb4_bin
create table t1 (id int ) shard_row_id_bits=2     pre_split_regions=2;

-- === binlog_shard_engine_between
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: table t1 engine=InnoDB collation=utf8mb4_bin
-- check: output-has engine=innodb
create table t1 (id int ) shard_row_id_bits=2 engine=innodb pre_split_regions=2;

-- === binlog_shard_repeated
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: column t6.id type=int(11)
create table t6 (id int ) shard_row_id_bits=2 shard_row_id_bits=3 pre_split_regions=2;

-- === binlog_auto_random_n
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: column t1.id type=int(11) null=NO extra=auto_increment
-- check: index t1.PRIMARY columns=id unique=yes
-- check: decision warning AUTO_RANDOM
create table t1 (id int primary key auto_random(2));

-- === binlog_auto_random_bare
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: column t1.id null=NO extra=auto_increment
create table t1 (id int primary key auto_random);

-- === binlog_auto_random_spaced
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: index t1.PRIMARY columns=id unique=yes
-- check: output-lacks auto_random
create table t1 (id int  auto_random  (   4    ) primary key);

-- === binlog_auto_random_base_bare
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: index t1.PRIMARY columns=id unique=yes
-- check: output-lacks auto_random_base
create table t1 (id int auto_random ( 3 ) primary key) auto_random_base = 100;

-- === binlog_auto_id_cache_bare
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: column t1.id extra=auto_increment
-- check: index t1.PRIMARY columns=id unique=yes
create table t1 (id int auto_increment key) auto_id_cache 100;

-- === binlog_auto_id_cache_unique
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: index t1.id columns=id unique=yes
create table t1 (id int auto_increment unique) auto_id_cache 10;

-- === binlog_auto_id_cache_eq
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: column t1.id type=int(11)
create table t1 (id int) auto_id_cache=5;

-- === binlog_auto_id_cache_comment
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: output-lacks auto_id_cache
create table t1 (id int) /*T![auto_id_cache] auto_id_cache=5 */ ;

-- === binlog_clustered_composite
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- execute: no: TiDB's parser test names a key column b that the table lacks
-- check: output-lacks clustered
-- check: output-has primary key (a, b))
create table t1 (id int, a varchar(255), primary key (a, b) clustered);

-- === binlog_clustered_table_level
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- execute: no: TiDB's parser test names a key column a that the table lacks
-- check: output-has primary key(a))
-- check: decision info CLUSTERED
create table t1(id int, v int, primary key(a) clustered);

-- === binlog_clustered_column
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: index t1.PRIMARY columns=id unique=yes
-- check: column t1.v type=int(11)
create table t1(id int primary key clustered, v int);

-- === binlog_add_pk_clustered
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- setup: CREATE TABLE t (a int NOT NULL, b int)
-- check: index t.PRIMARY columns=a unique=yes
alter table t add primary key(a) clustered;

-- === binlog_nonclustered_comment
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- execute: no: TiDB's parser test names a key column b that the table lacks
-- check: output-lacks nonclustered
create table t1 (id int, a varchar(255), primary key (a, b) /*T![clustered_index] nonclustered */);

-- === binlog_table_named_clustered_test
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: column clustered_test.id type=int(11)
create table clustered_test(id int)

-- === binlog_table_named_clustered
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: column clustered.id type=int(11)
create table clustered (id int)

-- === binlog_key_clustered
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- check: index t1.PRIMARY columns=a unique=yes
create table t1 (id int, a varchar(255) key clustered);

-- === binlog_force_auto_increment
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: run
-- setup: CREATE TABLE t (id int auto_increment primary key)
-- check: output-lacks force
-- check: decision info FORCE
alter table t force auto_increment = 12;

-- === binlog_versioned_shard_row_id_bits
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go (case from pingcap/tiflow#3755)
-- expect: run
-- check: column cdc_test.id type=varchar(10) null=NO collation=utf8mb4_bin
-- check: output-lacks SHARD_ROW_ID_BITS
-- check: output-lacks /*!90000
create table cdc_test (id varchar(10) primary key ,c1 varchar(10)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin/*!90000  SHARD_ROW_ID_BITS=4 PRE_SPLIT_REGIONS=3 */

-- === binlog_alter_cache
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: skip:warning
-- setup: CREATE TABLE t (id int)
-- check: decision warning CACHE
alter table t cache

-- === binlog_alter_nocache
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go
-- expect: skip:info
-- check: decision info NOCACHE
alter table t nocache

-- === binlog_global_temporary
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go (TestTempTableBinlog)
-- expect: skip:warning
create global temporary table temp_table(id int) on commit delete rows

-- === binlog_partition_to_days
-- source: pingcap/tidb pkg/sessionctx/binloginfo/binloginfo_test.go (TestIssue28292)
-- expect: run
-- check: partitions xxx 5
-- check: index xxx.stat_data_index1 columns=machine_id,date,code unique=no
CREATE TABLE xxx (
machine_id int(11) DEFAULT NULL,
date datetime DEFAULT NULL,
code int(11) DEFAULT NULL,
value decimal(20,3) DEFAULT NULL,
KEY stat_data_index1 (machine_id,date,code)
) PARTITION BY RANGE ( TO_DAYS(date) ) (
PARTITION p0 VALUES LESS THAN (TO_DAYS('2021-09-04')),
PARTITION p1 VALUES LESS THAN (TO_DAYS('2021-09-19')),
PARTITION p2 VALUES LESS THAN (TO_DAYS('2021-10-04')),
PARTITION p3 VALUES LESS THAN (TO_DAYS('2021-10-19')),
PARTITION p4 VALUES LESS THAN (TO_DAYS('2021-11-04')))

-- === show_input_auto_random_key
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column auto_random_tbl2.a type=bigint(20) null=NO extra=auto_increment
create table auto_random_tbl2 (a bigint auto_random primary key, b char);

-- === show_input_auto_random_comment
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: index auto_random_tbl3.PRIMARY columns=a unique=yes
create table auto_random_tbl3 (a bigint /*T![auto_rand] auto_random */ primary key);

-- === show_input_auto_random_base_space
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column auto_random_tbl5.b type=char(1)
create table auto_random_tbl5 (a bigint auto_random primary key, b char) auto_random_base 50;

-- === show_input_ttl
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column t.created_at type=datetime
-- check: decision warning TTL
create table t(created_at datetime) ttl = `created_at` + INTERVAL 100 YEAR;

-- === show_input_ttl_enable
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: output-lacks ttl_enable
create table t(created_at datetime) ttl = `created_at` + INTERVAL 100 YEAR ttl_enable = 'OFF';

-- === show_input_ttl_decimal
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: output-lacks HOUR_MINUTE
create table t (created_at datetime) TTL = created_at + INTERVAL 3.14159 HOUR_MINUTE;

-- === show_input_ttl_string_interval
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: output-lacks HOUR_MINUTE
create table t (created_at datetime) TTL = created_at + INTERVAL "15:20" HOUR_MINUTE;

-- === show_input_ttl_job_interval
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: output-lacks TTL_JOB_INTERVAL
create table t (created_at datetime) TTL = created_at + INTERVAL 100 YEAR TTL_JOB_INTERVAL = '1d';

-- === show_input_view_definer
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- setup: CREATE TABLE t1 (a int, b int)
-- check: view v1
-- check: output-lacks definer
create or replace definer=`root`@`127.0.0.1` view v1 as select * from t1;

-- === show_input_timestamp
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column t.a type=timestamp null=NO default=current_timestamp()
-- check: column t.b type=timestamp(3) null=YES default=current_timestamp(3)
-- check: column t.g null=YES extra=on update current_timestamp(2)
create table `t` (
`a` timestamp not null default current_timestamp,
`b` timestamp(3) default current_timestamp(3),
`c` datetime default current_timestamp,
`d` datetime(4) default current_timestamp(4),
`e` varchar(20) default 'cUrrent_tImestamp',
`f` datetime(2) default current_timestamp(2) on update current_timestamp(2),
`g` timestamp(2) default current_timestamp(2) on update current_timestamp(2),
`h` date default current_date );

-- === show_input_shard_bits
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column t.b type=int(11)
create table t (a int, b int) shard_row_id_bits = 4 pre_split_regions=3;

-- === show_input_nonclustered_partitioned
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: partitions log 12
-- check: index log.PRIMARY columns=LOG_ID,END_TIME unique=yes
-- check: output-lacks NONCLUSTERED
CREATE TABLE `log` (`LOG_ID` bigint(20) UNSIGNED NOT NULL AUTO_INCREMENT,`ROUND_ID` bigint(20) UNSIGNED NOT NULL,`USER_ID` int(10) UNSIGNED NOT NULL,`USER_IP` int(10) UNSIGNED DEFAULT NULL,`END_TIME` datetime NOT NULL,`USER_TYPE` int(11) DEFAULT NULL,`APP_ID` int(11) DEFAULT NULL,PRIMARY KEY (`LOG_ID`,`END_TIME`) NONCLUSTERED,KEY `IDX_EndTime` (`END_TIME`),KEY `IDX_RoundId` (`ROUND_ID`),KEY `IDX_UserId_EndTime` (`USER_ID`,`END_TIME`)) ENGINE=InnoDB DEFAULT CHARSET=utf8 COLLATE=utf8_bin AUTO_INCREMENT=505488 PARTITION BY RANGE ( month(`end_time`) ) (PARTITION `p1` VALUES LESS THAN (2),PARTITION `p2` VALUES LESS THAN (3),PARTITION `p3` VALUES LESS THAN (4),PARTITION `p4` VALUES LESS THAN (5),PARTITION `p5` VALUES LESS THAN (6),PARTITION `p6` VALUES LESS THAN (7),PARTITION `p7` VALUES LESS THAN (8),PARTITION `p8` VALUES LESS THAN (9),PARTITION `p9` VALUES LESS THAN (10),PARTITION `p10` VALUES LESS THAN (11),PARTITION `p11` VALUES LESS THAN (12),PARTITION `p12` VALUES LESS THAN (MAXVALUE));

-- === show_input_collate_only_table
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column ttt4.a collation=utf8mb4_unicode_ci
create table ttt4(a varchar(123) default null collate utf8mb4_unicode_ci)engine=innodb default charset=utf8mb4 collate=utf8mb4_unicode_ci;

-- === show_input_charset_no_collate
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column different_charset.ch1 collation=utf8mb3_bin
-- check: column different_charset.ch2 type=varbinary(10)
-- check: decision info COLLATE utf8_bin
create table different_charset(ch1 varchar(10) charset utf8, ch2 varchar(10) charset binary);

-- === show_input_default_collate_binary
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column binary_collate.a type=varbinary(10)
create table binary_collate(a varchar(10)) default collate=binary;

-- === show_input_default_sequence
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column default_sequence.a default=NULL
-- check: output-lacks nextval
create table default_sequence(a int default nextval(seq));

-- === show_input_fk_cross_schema
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- rename: test1
-- setup: CREATE TABLE t1 (id int key, b int, index(b))
-- check: index t2.fk columns=b unique=no
create table t2 (id int key, b int, foreign key fk(b) references test1.t1(id));

-- === show_input_list_partition_null
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: partitions t 4
create table t (id int, name varchar(10), unique index idx (id)) partition by list  (id) (
partition p0 values in (3,5,6,9,17),
partition p1 values in (1,2,10,11,19,20),
partition p2 values in (4,12,13,14,18),
partition p3 values in (7,8,15,16,null)
);

-- === show_input_index_comment_escape
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: index t.idx_v columns=v unique=no
create table t (id int primary key, v varchar(255) not null, key idx_v (v) comment 'foo\'bar');

-- === show_input_hash_partition_dq
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: partitions thash 2
CREATE TABLE `thash` (
`id` bigint unsigned NOT NULL,
`data` varchar(255) DEFAULT NULL,
PRIMARY KEY (`id`)
)
PARTITION BY HASH (`id`)
(PARTITION pEven COMMENT = "Even ids",
PARTITION pOdd COMMENT = "Odd ids");

-- === show_input_set_enum_charset
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column t.b collation=ascii_bin
create table t(a set('a', 'b') charset binary,b enum('a', 'b') charset ascii);

-- === show_input_expression_index
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: skip:warning
-- setup: CREATE TABLE t (a int, b real)
-- check: decision warning expression index
alter table t add index expr_idx((a*b+1));

-- === show_input_if_not_exists_table
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column show_errors.a type=int(11)
create table if not exists show_errors (a int);

-- === show_input_generated_not_null
-- source: pingcap/tidb tests/integrationtest/r/executor/show.result (input statement)
-- expect: run
-- check: column t.b extra=VIRTUAL GENERATED
-- check: decision warning generated column
create table t(c int, b int as (c + 1) not null)ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- === tidb_binlog_523_timestamp_default_null
-- source: https://github.com/pingcap/tidb-binlog/issues/523
-- expect: run
-- check: column t.c1 type=timestamp null=YES default=NULL extra=
create table t (id int, c1 timestamp default null)

-- === tiflow_1519_rename_column
-- source: https://github.com/pingcap/tiflow/issues/1519
-- expect: run
-- setup: CREATE TABLE t6 (a int, b int)
-- check: column t6.d type=int(11)
-- check: nocolumn t6.a
alter table t6 rename column a to d

-- === tidb_11410_drop_two_tables
-- source: https://github.com/pingcap/tidb/issues/11410 (DROP TABLE a, b arrives once per table)
-- expect: run
-- setup: CREATE TABLE a (id int)
-- setup: CREATE TABLE b (id int)
-- check: output-has IF EXISTS
-- check: nocolumn a.id
-- check: nocolumn b.id
drop table a, b

-- === tidb_binlog_992_recover_table
-- source: https://github.com/pingcap/tidb-binlog/pull/992 (log excerpt)
-- expect: skip:error
-- recopy: yes
recover table a

-- === tidb_17401_execute_stmt
-- source: https://github.com/pingcap/tidb/issues/17401
-- expect: skip:error
-- recopy: yes
execute stmt
