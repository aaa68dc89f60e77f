"""The target server's flavour (mysql | mariadb) and version, and every rule that depends on it.

Decided once per connection (:meth:`Dialect.detect`, or :func:`tidb2mysql.mysql.session.server_facts`
together with ``max_allowed_packet``) and passed to whoever writes SQL for that server, so a
"does the target support X" question has one answer in one place:

* DDL (``ddl/translate.py``, ``ddl/charsets.py``): collations, index kinds, ``IF EXISTS`` on
  columns, versioned comments, expression defaults, ... (the properties below);
* DML (``mysql/sql.py``): the upsert spelling (:attr:`Dialect.upsert_row_alias`: MySQL 8.0.20
  deprecates ``VALUES(col)`` in ``ON DUPLICATE KEY UPDATE`` for a row alias; MariaDB has only
  ``VALUES()``);
* introspection (``mysql/target_schema.py``): how ``information_schema.COLUMNS.EXTRA`` spells
  a generated column (:func:`is_generated_extra`, every flavour's spelling).

Error codes (transient, "already done", "not applied") are classified in
``mysql/errors.py``: errors are classified where no connection is at hand, and the four
flavours we support (MariaDB 10.x+, MySQL 5.7, 8.0, 8.4) do not give one code two meanings
there, so each code is listed once with the flavour that sends it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class Dialect:
    flavour: str                  # "mysql" | "mariadb"
    version: tuple[int, int, int]

    def __post_init__(self) -> None:
        if self.flavour not in ("mysql", "mariadb"):
            raise ValueError(f"target flavour must be 'mysql' or 'mariadb', not {self.flavour!r}")
        v = tuple(self.version) + (0, 0, 0)
        object.__setattr__(self, "version", tuple(int(x) for x in v[:3]))

    @classmethod
    def parse(cls, spec: str) -> "Dialect":
        """``mariadb:10.11``, ``mysql:8.0.36``, ``mysql:5.7``.

        Without a patch level the newest one is meant (``mysql:8.0`` has functional
        indexes, which arrived in 8.0.13), so a missing patch reads as 99.
        """
        flavour, _, ver = spec.partition(":")
        m = _VERSION.fullmatch(ver.strip())
        if not m:
            raise ValueError(f"target must look like mariadb:10.11 or mysql:8.0, not {spec!r}")
        major, minor, patch = m.groups()
        return cls(flavour.strip().lower(), (int(major), int(minor), int(patch) if patch else 99))

    @classmethod
    def from_version_string(cls, text: str) -> "Dialect":
        """From ``SELECT VERSION()``: '10.11.6-MariaDB-1:10.11.6+maria~deb12', '8.0.36', ..."""
        m = _VERSION.search(text)
        if not m:
            raise ValueError(f"cannot read a server version from {text!r}")
        flavour = "mariadb" if "mariadb" in text.lower() else "mysql"
        major, minor, patch = (int(x or 0) for x in m.groups())
        return cls(flavour, (major, minor, patch))

    @classmethod
    def detect(cls, conn: Any) -> "Dialect":
        """Ask a live server (PyMySQL connection) what it is."""
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            row = cur.fetchone()
        value = row[0] if isinstance(row, (tuple, list)) else next(iter(row.values()))
        return cls.from_version_string(str(value))

    def __str__(self) -> str:
        return f"{self.flavour}:{'.'.join(map(str, self.version))}"

    @property
    def is_mariadb(self) -> bool:
        return self.flavour == "mariadb"

    def at_least(self, *version: int) -> bool:
        return self.version >= tuple(version)

    def executes_versioned_comment(self, number: int | None, flavour: str = "mysql") -> bool:
        """Whether ``/*!NNNNN ... */`` (flavour mysql) or ``/*M!NNNNN ... */`` runs here.

        MySQL: when its version >= NNNNN. MariaDB: likewise, except that numbers
        50700..99999 (MySQL 5.7+ features) are always ignored (MariaDB sql/sql_lex.cc).
        ``/*M!`` is a plain comment on MySQL.
        """
        if flavour == "mariadb" and not self.is_mariadb:
            return False
        if number is None:
            return True
        if self.is_mariadb and 50700 <= number <= 99999:
            return False
        # 5 digits (80000 = 8.0.0) and MariaDB's 6 digits (100100 = 10.1.0) read the same way
        needed = (number // 10000, number // 100 % 100, number % 100)
        return self.version >= needed

    # --- feature questions -------------------------------------------------------------
    @property
    def has_0900_collations(self) -> bool:
        return not self.is_mariadb and self.at_least(8, 0)

    @property
    def has_gb18030(self) -> bool:
        """MySQL 5.7+ has gb18030; MariaDB does not (verified on 10.11)."""
        return not self.is_mariadb

    @property
    def if_exists_on_columns_indexes(self) -> bool:
        """ADD COLUMN IF NOT EXISTS, DROP INDEX IF EXISTS, CREATE INDEX IF NOT EXISTS, ..."""
        return self.is_mariadb and self.at_least(10, 0, 2)

    @property
    def invisible_indexes(self) -> bool:
        return not self.is_mariadb and self.at_least(8, 0)

    @property
    def ignored_indexes(self) -> bool:
        """MariaDB's name for invisible indexes (10.6+)."""
        return self.is_mariadb and self.at_least(10, 6)

    @property
    def functional_indexes(self) -> bool:
        return not self.is_mariadb and self.at_least(8, 0, 13)

    @property
    def expression_defaults(self) -> bool:
        return self.at_least(10, 2) if self.is_mariadb else self.at_least(8, 0, 13)

    @property
    def null_on_generated_columns(self) -> bool:
        """MariaDB rejects NULL / NOT NULL on generated columns (error 1064)."""
        return not self.is_mariadb

    @property
    def list_default_partition(self) -> bool:
        return self.is_mariadb

    @property
    def enforced_keyword(self) -> bool:
        """CHECK (...) [NOT] ENFORCED is MySQL 8.0.16+ syntax."""
        return not self.is_mariadb and self.at_least(8, 0, 16)

    @property
    def rename_column(self) -> bool:
        return self.at_least(10, 5, 2) if self.is_mariadb else self.at_least(8, 0)

    @property
    def vector_type(self) -> bool:
        return self.at_least(11, 7) if self.is_mariadb else self.at_least(9, 0)

    # --- DML -------------------------------------------------------------------------------
    @property
    def upsert_row_alias(self) -> bool:
        """``INSERT ... VALUES (..) AS new ON DUPLICATE KEY UPDATE c=new.c`` instead of
        ``c=VALUES(c)``: MySQL 8.0.19 added row aliases and 8.0.20 deprecated ``VALUES()``
        there (a warning per statement, removal announced). MariaDB has no row alias."""
        return not self.is_mariadb and self.at_least(8, 0, 20)


# MySQL: EXTRA = 'VIRTUAL GENERATED' / 'STORED GENERATED' ('DEFAULT_GENERATED' is an ordinary
# column with an expression default!). MariaDB: 'VIRTUAL GENERATED' / 'STORED GENERATED', older
# versions 'VIRTUAL' / 'PERSISTENT'. Matched as whole words so DEFAULT_GENERATED is not.
_GENERATED_WORDS = frozenset({"VIRTUAL", "STORED", "PERSISTENT", "GENERATED"})


def is_generated_extra(extra: Optional[str]) -> bool:
    """Whether an ``information_schema.COLUMNS.EXTRA`` value marks a generated column (any flavour)."""
    if not extra:
        return False
    return not _GENERATED_WORDS.isdisjoint(extra.upper().replace(",", " ").split())


__all__ = ["Dialect", "is_generated_extra"]
