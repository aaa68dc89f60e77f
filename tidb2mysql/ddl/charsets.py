"""Character-set and collation rules: TiDB's defaults, and collations a target lacks.

TiDB's default collation for a character set is the *binary* one (utf8mb4 -> utf8mb4_bin),
while MySQL/MariaDB default to case-insensitive ones: a charset written without a collation
means different comparison and uniqueness rules on the two sides, so the translator always
writes the collation TiDB used (sources: ddl.md 1.2 / 2.3, TiDB SHOW COLLATION).
"""

from __future__ import annotations

from typing import Optional

from tidb2mysql.ddl.target import Target

TIDB_DEFAULT_COLLATION = {
    "utf8mb4": "utf8mb4_bin",
    "utf8": "utf8_bin",
    "utf8mb3": "utf8_bin",
    "latin1": "latin1_bin",
    "ascii": "ascii_bin",
    "binary": "binary",
    "gbk": "gbk_chinese_ci",
    "gb18030": "gb18030_chinese_ci",
}


def default_collation(charset: str) -> Optional[str]:
    return TIDB_DEFAULT_COLLATION.get(charset.lower())


def map_collation(collation: str, target: Target) -> tuple[str, Optional[str]]:
    """(collation to use on the target, warning or None)."""
    c = collation.lower()
    if c.startswith("gb18030") and not target.has_gb18030:
        new = "utf8mb4_bin" if c.endswith("_bin") else "utf8mb4_unicode_520_ci"
        return new, f"collation {collation} does not exist on {target} (no gb18030 character set); using {new}"
    if "_0900_" in c and not target.has_0900_collations:
        if c.endswith("_bin") or c.endswith("_as_cs"):
            new = "utf8mb4_bin"
        else:
            new = "utf8mb4_unicode_520_ci"
        return new, (f"collation {collation} does not exist on {target}; using {new}, the nearest "
                     f"equivalent (PAD SPACE instead of NO PAD: trailing spaces compare equal)")
    return collation, None


def map_charset(charset: str, target: Target) -> tuple[str, Optional[str]]:
    """(character set to use on the target, warning or None)."""
    if charset.lower() == "gb18030" and not target.has_gb18030:
        return "utf8mb4", (f"character set gb18030 does not exist on {target}; using utf8mb4 (every gb18030 "
                           "character has a Unicode code point, so values survive; byte lengths differ)")
    return charset, None
