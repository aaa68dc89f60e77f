"""Names inside SHOW CREATE text, at the token level: database renames and view references.

Database renames are minimal on purpose (general object-name mapping is a later issue): a
source database can be created under another name (``--target-database`` /
``--map-database``), and every *qualifier* naming a renamed database, i.e. an identifier
directly followed by ``.``, is rewritten. That covers what servers print: TiDB and MySQL
qualify every column and table in a view body (``select `db`.`t`.`a` ... from `db`.`t```)
and a foreign key to another database (``REFERENCES `db2`.`p```). A table *alias* that
happens to equal a renamed database name would be rewritten too; servers print no
aliases that way, but hand-written text could (the plan reports every rename it made).
"""

from __future__ import annotations

from tidb2mysql.ddl.tokenizer import QIDENT, WORD, Token, render, tokenize
from tidb2mysql.mysql.sql import quote_ident



def _significant(tokens: list[Token]) -> list[int]:
    return [i for i, t in enumerate(tokens) if t.significant]


def rename_qualifiers(sql: str, mapping: dict[str, str]) -> tuple[str, int]:
    """``sql`` with ``old.`` qualifiers replaced by ``new.``; also returns how many were replaced."""
    if not mapping:
        return sql, 0
    tokens = tokenize(sql)
    sig = _significant(tokens)
    count = 0
    for n, i in enumerate(sig[:-1]):
        t = tokens[i]
        if t.kind in (QIDENT, WORD) and tokens[sig[n + 1]].is_op(".") and t.name in mapping:
            # A word qualifier that is a keyword cannot be followed by "." anyway.
            tokens[i] = Token(QIDENT, quote_ident(mapping[t.name]))
            count += 1
    return render(tokens), count


def rename_created_database(sql: str, new_name: str) -> str:
    """``CREATE DATABASE [IF NOT EXISTS] name ...`` with the name replaced."""
    tokens = tokenize(sql)
    sig = _significant(tokens)
    for n, i in enumerate(sig):
        if tokens[i].is_word("DATABASE", "SCHEMA"):
            k = n + 1
            if k + 2 < len(sig) and tokens[sig[k]].is_word("IF"):
                k += 3       # IF NOT EXISTS
            tokens[sig[k]] = Token(QIDENT, quote_ident(new_name))
            return render(tokens)
    raise ValueError(f"not a CREATE DATABASE statement: {sql[:80]!r}")


def referenced_names(sql: str, default_db: str) -> set[tuple[str, str]]:
    """Every ``(database, name)`` the text could refer to: ``a.b`` pairs and bare identifiers.

    An over-approximation (column names and aliases come along too); callers intersect it
    with the set of objects they know, which is all view ordering needs.
    """
    tokens = tokenize(sql)
    sig = [tokens[i] for i in _significant(tokens)]
    out: set[tuple[str, str]] = set()
    for n, t in enumerate(sig):
        if t.kind not in (QIDENT, WORD):
            continue
        if n + 2 < len(sig) and sig[n + 1].is_op(".") and sig[n + 2].kind in (QIDENT, WORD):
            out.add((t.name, sig[n + 2].name))
        out.add((default_db, t.name))
    return out


def foreign_key_targets(sql: str, default_db: str) -> list[tuple[str, str]]:
    """The ``(database, table)`` every ``REFERENCES`` clause of a CREATE TABLE points at."""
    tokens = tokenize(sql)
    sig = [tokens[i] for i in _significant(tokens)]
    out: list[tuple[str, str]] = []
    for n, t in enumerate(sig[:-1]):
        if not t.is_word("REFERENCES") or sig[n + 1].kind not in (QIDENT, WORD):
            continue
        if n + 3 < len(sig) and sig[n + 2].is_op(".") and sig[n + 3].kind in (QIDENT, WORD):
            out.append((sig[n + 1].name, sig[n + 3].name))
        else:
            out.append((default_db, sig[n + 1].name))
    return out
