"""A lossless tokenizer for MySQL-family SQL (MySQL, MariaDB, TiDB).

Why a tokenizer and not a SQL parser: the DDL translator must change *only* the TiDB-only
pieces of a statement and reproduce everything else byte for byte (a general AST
regenerates the text and silently changes meaning, see docs on sqlglot in the research
notes). So every token keeps its exact source text, and ``"".join(t.text for t in
tokenize(s)) == s`` holds for every input that tokenizes.

What it knows:

* comments: ``-- `` (dash dash + whitespace/control/end), ``#``, ``/* */``; executable
  comments ``/*! */`` and ``/*!NNNNN */`` (MySQL; MariaDB also ``/*M! */``) and TiDB's
  ``/*T! */`` / ``/*T![feature] */``; optimizer hints ``/*+ */`` are plain comments;
* quoting: ``'...'`` and ``"..."`` strings with backslash escapes and doubled quotes,
  backtick identifiers with doubled backticks; with ``ansi_quotes`` ``"..."`` is an
  identifier (the session sql_mode of the statement decides that, so it is an option);
* numbers (decimal, exponent, ``0x``/``0b``), words (identifiers and keywords, which MySQL
  lets start with a digit), operators (multi-character ones such as ``<=>``, ``->>``).
"""

from __future__ import annotations

import re
from tidb2mysql.errors import InputDataError
from dataclasses import dataclass, field
from typing import Optional

WS = "ws"
COMMENT = "comment"              # -- , #, /* */, /*+ hint */
EXEC_COMMENT = "exec_comment"    # /*! */, /*!NNNNN */, /*M! */
TIDB_COMMENT = "tidb_comment"    # /*T! */, /*T![feature] */
WORD = "word"
QIDENT = "qident"                # `x` (or "x" under ANSI_QUOTES)
STRING = "string"
NUMBER = "number"
OP = "op"

INSIGNIFICANT = frozenset({WS, COMMENT, EXEC_COMMENT, TIDB_COMMENT})


class TokenizeError(InputDataError, ValueError):
    """The text is not valid SQL at the lexical level (unterminated quote or comment)."""

    def __init__(self, message: str, pos: int, sql: str):
        line = sql.count("\n", 0, pos) + 1
        super().__init__(f"{message} at offset {pos} (line {line}): {sql[pos:pos + 40]!r}")
        self.pos = pos


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int = 0
    # exec comments: the version number (None for bare /*! */), the flavour that runs it
    # ("mysql" for /*!, "mariadb" for /*M!); TiDB comments: the feature id; both: the body.
    version: Optional[int] = None
    flavour: Optional[str] = None
    feature: Optional[str] = None
    body: Optional[str] = field(default=None, compare=False)

    @property
    def upper(self) -> str:
        """Keyword comparison form (words only; other tokens give their text)."""
        return self.text.upper() if self.kind == WORD else self.text

    @property
    def significant(self) -> bool:
        return self.kind not in INSIGNIFICANT

    @property
    def name(self) -> str:
        """The identifier a word or quoted identifier denotes (quotes removed)."""
        if self.kind == QIDENT:
            q = self.text[0]
            return self.text[1:-1].replace(q + q, q)
        return self.text

    def is_word(self, *words: str) -> bool:
        return self.kind == WORD and self.text.upper() in words

    def is_op(self, *ops: str) -> bool:
        return self.kind == OP and self.text in ops


_WS = re.compile(r"[ \t\r\n\f\v]+")
_WORD = re.compile(r"[A-Za-z0-9_$\u0080-\U0010ffff]+")
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F]+(?![A-Za-z0-9_$])|0[bB][01]+(?![A-Za-z0-9_$])"
    r"|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?![A-Za-z_$\u0080-\U0010ffff])"
)
_OPS = ("<=>", "->>", "<=", ">=", "<>", "!=", ":=", "||", "&&", "->", "<<", ">>")
_EXEC = re.compile(r"/\*(M?)!(\d{5,6})?")
_TIDB = re.compile(r"/\*T!(?:\[([^\]]*)\])?")


def _quoted(sql: str, i: int, q: str, backslash: bool) -> int:
    """End offset (exclusive) of the quoted run starting at ``sql[i] == q``."""
    j = i + 1
    n = len(sql)
    while j < n:
        c = sql[j]
        if backslash and c == "\\":
            j += 2
            continue
        if c == q:
            if j + 1 < n and sql[j + 1] == q:
                j += 2
                continue
            return j + 1
        j += 1
    raise TokenizeError(f"unterminated {q}quoted{q} text", i, sql)


def tokenize(sql: str, ansi_quotes: bool = False, backslash_escapes: bool = True) -> list[Token]:
    """Split ``sql`` into tokens whose texts concatenate back to ``sql`` exactly."""
    out: list[Token] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        m = _WS.match(sql, i)
        if m:
            out.append(Token(WS, m.group(), i))
            i = m.end()
            continue
        if c == "#" or (sql.startswith("--", i) and (i + 2 == n or sql[i + 2] in " \t\r\n\f\v" or ord(sql[i + 2]) < 32)):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(Token(COMMENT, sql[i:j], i))
            i = j
            continue
        if sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            if j < 0:
                raise TokenizeError("unterminated /* comment", i, sql)
            text = sql[i:j + 2]
            m = _TIDB.match(text)
            if m:
                out.append(Token(TIDB_COMMENT, text, i, feature=m.group(1), body=text[m.end():-2]))
            else:
                m = _EXEC.match(text)
                if m:
                    out.append(Token(EXEC_COMMENT, text, i, version=int(m.group(2)) if m.group(2) else None,
                                     flavour="mariadb" if m.group(1) else "mysql", body=text[m.end():-2]))
                else:
                    out.append(Token(COMMENT, text, i))
            i = j + 2
            continue
        if c == "`" or (c == '"' and ansi_quotes):
            j = _quoted(sql, i, c, backslash=False)
            out.append(Token(QIDENT, sql[i:j], i))
            i = j
            continue
        if c in "'\"":
            j = _quoted(sql, i, c, backslash=backslash_escapes)
            out.append(Token(STRING, sql[i:j], i))
            i = j
            continue
        m = _NUMBER.match(sql, i)
        if m and not (c == "." and out and out[-1].kind in (WORD, QIDENT)):
            out.append(Token(NUMBER, m.group(), i))
            i = m.end()
            continue
        m = _WORD.match(sql, i)
        if m:
            out.append(Token(WORD, m.group(), i))
            i = m.end()
            continue
        for op in _OPS:
            if sql.startswith(op, i):
                out.append(Token(OP, op, i))
                i += len(op)
                break
        else:
            out.append(Token(OP, c, i))
            i += 1
    return out


def split_statements(sql: str, ansi_quotes: bool = False) -> list[str]:
    """The statements of a script, split at top-level ``;`` (not inside quotes/comments).

    Each piece keeps its own text (without the ``;``); pieces with no SQL are dropped.
    """
    parts: list[str] = []
    cur: list[Token] = []
    for t in tokenize(sql, ansi_quotes=ansi_quotes) + [Token(OP, ";", len(sql))]:
        if t.is_op(";"):
            if any(x.significant or x.kind == EXEC_COMMENT for x in cur):
                parts.append("".join(x.text for x in cur).strip())
            cur = []
        else:
            cur.append(t)
    return parts


def render(tokens: list[Token]) -> str:
    return "".join(t.text for t in tokens)
