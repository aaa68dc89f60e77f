"""The lossless tokenizer: every comment and quoting form, exact round trip."""

from __future__ import annotations

import pytest

from tidb2mysql.ddl.tokenizer import (
    COMMENT, EXEC_COMMENT, NUMBER, OP, QIDENT, STRING, TIDB_COMMENT, WORD, WS, TokenizeError,
    split_statements, tokenize,
)


def kinds(sql, **kw):
    return [(t.kind, t.text) for t in tokenize(sql, **kw) if t.kind != WS]


@pytest.mark.parametrize("sql", [
    "", " ", "a", "-- x", "--x", "#", "/**/", "/*!*/", "'\\''", "`a``b`", "select 1;;", "a--b",
    "CREATE TABLE `t` (\n  `a` int /*T![auto_rand] AUTO_RANDOM(3) */\n) /*!90000 X=1 */ -- end\n",
    "x = 'it''s' \"dq\"\"x\" `b``q` 0x1F 0b101 1e-3 .5 a.b 1abc @v @@global.x :=",
])
def test_round_trip(sql):
    assert "".join(t.text for t in tokenize(sql)) == sql


def test_line_comments():
    assert kinds("a -- c\nb") == [(WORD, "a"), (COMMENT, "-- c"), (WORD, "b")]
    assert kinds("a # c\nb") == [(WORD, "a"), (COMMENT, "# c"), (WORD, "b")]
    # "--" not followed by whitespace is two minus operators (MySQL rule)
    assert kinds("1--2") == [(NUMBER, "1"), (OP, "-"), (OP, "-"), (NUMBER, "2")]
    assert kinds("a --") == [(WORD, "a"), (COMMENT, "--")]


def test_block_and_executable_comments():
    t = tokenize("/*!40100 DEFAULT CHARACTER SET utf8mb4 */")[0]
    assert (t.kind, t.version, t.flavour, t.body) == (EXEC_COMMENT, 40100, "mysql", " DEFAULT CHARACTER SET utf8mb4 ")
    t = tokenize("/*! STRAIGHT_JOIN */")[0]
    assert (t.kind, t.version) == (EXEC_COMMENT, None)
    t = tokenize("/*M!100100 x */")[0]
    assert (t.kind, t.version, t.flavour) == (EXEC_COMMENT, 100100, "mariadb")
    t = tokenize("/*T![auto_rand] AUTO_RANDOM(3) */")[0]
    assert (t.kind, t.feature, t.body) == (TIDB_COMMENT, "auto_rand", " AUTO_RANDOM(3) ")
    t = tokenize("/*T! SHARD_ROW_ID_BITS=4 */")[0]
    assert (t.kind, t.feature) == (TIDB_COMMENT, None)
    assert tokenize("/*+ HINT */")[0].kind == COMMENT
    assert tokenize("/* plain ; 'x */")[0].kind == COMMENT


def test_strings_and_identifiers():
    assert kinds("'a\\'b' 'c''d'") == [(STRING, "'a\\'b'"), (STRING, "'c''d'")]
    assert kinds('"a""b"') == [(STRING, '"a""b"')]
    assert kinds('"a""b"', ansi_quotes=True) == [(QIDENT, '"a""b"')]
    assert tokenize('"a""b"', ansi_quotes=True)[0].name == 'a"b'
    assert tokenize("`a``b`")[0].name == "a`b"
    # with NO_BACKSLASH_ESCAPES a backslash is an ordinary character
    assert kinds("'a\\' 'b'", backslash_escapes=False) == [(STRING, "'a\\'"), (STRING, "'b'")]


def test_numbers_words_operators():
    assert kinds("1.5e3 .5 0x1F 0b1 1abc t1.c") == [
        (NUMBER, "1.5e3"), (NUMBER, ".5"), (NUMBER, "0x1F"), (NUMBER, "0b1"), (WORD, "1abc"),
        (WORD, "t1"), (OP, "."), (WORD, "c")]
    assert [t.text for t in tokenize("a<=>b->>'$'!=c") if t.kind == OP] == ["<=>", "->>", "!="]


@pytest.mark.parametrize("sql", ["'abc", "`abc", "/* abc", '"abc'])
def test_unterminated_is_a_clear_error(sql):
    with pytest.raises(TokenizeError, match="offset 0"):
        tokenize(sql)


def test_split_statements():
    sql = "create table a (x varchar(3) default ';'); /* ; */ drop table b -- ;\n;\n;"
    assert split_statements(sql) == ["create table a (x varchar(3) default ';')", "/* ; */ drop table b -- ;"]
    assert split_statements(";;") == []
