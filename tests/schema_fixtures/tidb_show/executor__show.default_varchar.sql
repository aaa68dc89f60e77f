CREATE TABLE `default_varchar` (
  `a` varchar(10) DEFAULT 'haha'
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
