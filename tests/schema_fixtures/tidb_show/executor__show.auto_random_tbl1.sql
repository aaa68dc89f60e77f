CREATE TABLE `auto_random_tbl1` (
  `a` bigint(20) NOT NULL /*T![auto_rand] AUTO_RANDOM(3) */,
  `b` varchar(255) DEFAULT NULL,
  PRIMARY KEY (`a`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
