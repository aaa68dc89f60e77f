"""Character-set and collation rules: TiDB's defaults, and collations a target lacks.

TiDB's default collation for a character set is the *binary* one (utf8mb4 -> utf8mb4_bin),
while MySQL/MariaDB default to case-insensitive ones: a charset written without a collation
means different comparison and uniqueness rules on the two sides, so the translator always
writes the collation TiDB used (sources: ddl.md 1.2 / 2.3, TiDB SHOW COLLATION).
"""

from __future__ import annotations

from typing import Optional

from tidb2mysql.mysql.dialect import Dialect

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


def map_collation(collation: str, target: Dialect) -> tuple[str, Optional[str]]:
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


# TiDB does not check that text in a latin1 column is latin1: it stores the client's UTF-8
# bytes as they are and returns them as UTF-8 (issue 20: a latin1 column holding Chinese text;
# MySQL rejects it with 1366). With ``[ddl] latin1 = "utf8mb4"`` such columns become utf8mb4
# on the target, with the collation that compares alike.
LATIN1_TO_UTF8MB4 = {
    "latin1_bin": "utf8mb4_bin",
    "latin1_general_cs": "utf8mb4_bin",
    "latin1_swedish_ci": "utf8mb4_general_ci",
    "latin1_general_ci": "utf8mb4_general_ci",
    "latin1_danish_ci": "utf8mb4_danish_ci",
    "latin1_german1_ci": "utf8mb4_general_ci",
    "latin1_german2_ci": "utf8mb4_german2_ci",
    "latin1_spanish_ci": "utf8mb4_spanish_ci",
}


def latin1_as_utf8mb4(name: str, collation: bool) -> Optional[str]:
    """The utf8mb4 replacement of a latin1 charset or collation name, else None."""
    n = name.lower()
    if not collation:
        return "utf8mb4" if n == "latin1" else None
    if not n.startswith("latin1_"):
        return None
    return LATIN1_TO_UTF8MB4.get(n, "utf8mb4_general_ci")


def map_charset(charset: str, target: Dialect) -> tuple[str, Optional[str]]:
    """(character set to use on the target, warning or None)."""
    if charset.lower() == "gb18030" and not target.has_gb18030:
        return "utf8mb4", (f"character set gb18030 does not exist on {target}; using utf8mb4 (every gb18030 "
                           "character has a Unicode code point, so values survive; byte lengths differ)")
    return charset, None


# Bytes per character at most (SHOW CHARACTER SET Maxlen; the same on TiDB, MySQL, MariaDB).
MAX_BYTES_PER_CHAR = {
    "utf8mb4": 4, "utf8": 3, "utf8mb3": 3, "latin1": 1, "ascii": 1, "binary": 1, "gbk": 2, "gb18030": 4,
    "big5": 2, "cp1250": 1, "cp1251": 1, "cp1256": 1, "cp1257": 1, "cp850": 1, "cp852": 1, "cp866": 1,
    "dec8": 1, "eucjpms": 3, "euckr": 2, "gb2312": 2, "geostd8": 1, "greek": 1, "hebrew": 1, "hp8": 1,
    "keybcs2": 1, "koi8r": 1, "koi8u": 1, "latin2": 1, "latin5": 1, "latin7": 1, "macce": 1, "macroman": 1,
    "sjis": 2, "swe7": 1, "tis620": 1, "ucs2": 2, "ujis": 3, "utf16": 4, "utf16le": 4, "utf32": 4, "armscii8": 1,
    "cp932": 2,
}


def max_bytes(charset: Optional[str]) -> int:
    """Bytes per character at most; 4 (utf8mb4's, the worst case) for an unknown name."""
    return MAX_BYTES_PER_CHAR.get((charset or "utf8mb4").lower(), 4)


def charset_of_collation(collation: str) -> str:
    """utf8mb4_bin -> utf8mb4; utf8_general_ci -> utf8; binary -> binary."""
    c = collation.lower()
    if c == "binary":
        return "binary"
    for name in sorted(MAX_BYTES_PER_CHAR, key=len, reverse=True):
        if c.startswith(name + "_"):
            return name
    return c.split("_", 1)[0]
