"""The ``[ddl]`` section: choices for translating TiDB DDL, the same for the schema stage and
for DDL replicated by the incremental flow (one translator, one set of choices; keys explained
in docs/configuration.md)."""

from __future__ import annotations

from dataclasses import dataclass

from tidb2mysql.config.keys import setting

LATIN1_POLICIES = ("keep", "utf8mb4")
AUTO_RANDOM_POLICIES = ("auto_increment", "none")


@dataclass(frozen=True)
class DDLConfig:
    latin1: str = setting("keep", 'latin1 columns and tables: "keep" them latin1, or create them "utf8mb4". TiDB accepts any UTF-8 text in a latin1 column (it never checks); MySQL\'s latin1 refuses characters outside latin1 (error 1366), so such data stops the load. `tidb2mysql precheck` finds it.')
    auto_random: str = setting("auto_increment", 'Keys TiDB generates without AUTO_INCREMENT (AUTO_RANDOM, DEFAULT NEXT VALUE FOR a sequence): "auto_increment" makes the column AUTO_INCREMENT on the target where MySQL allows it (ids above the largest copied one for the application\'s inserts after cut-over), "none" leaves it without a default (inserts must give ids).')
    keep_definer: bool = setting(False, 'Keep DEFINER= on views (needs SUPER / SET_USER_ID on the target and the account).')

    def validate(self) -> None:
        if self.latin1 not in LATIN1_POLICIES:
            raise ValueError(f"latin1 must be one of {', '.join(LATIN1_POLICIES)}")
        if self.auto_random not in AUTO_RANDOM_POLICIES:
            raise ValueError(f"auto_random must be one of {', '.join(AUTO_RANDOM_POLICIES)}")
