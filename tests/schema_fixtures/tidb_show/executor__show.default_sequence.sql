CREATE TABLE `default_sequence` (
  `a` int(11) DEFAULT (nextval(`executor__show`.`seq`))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
