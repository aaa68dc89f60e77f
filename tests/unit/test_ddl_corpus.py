"""Every corpus entry (tests/ddl_corpus/*.sql): lossless tokens and the expected translation
for a MariaDB 10.11 target (skipped or not, level, re-copy, decisions, output text).
The same entries are executed against a real MariaDB in tests/integration/test_ddl_corpus.py."""

from __future__ import annotations

import pytest

from tests.ddl_corpus.corpus import load
from tidb2mysql.ddl import translate
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.ddl.tokenizer import tokenize

ENTRIES = load()
MARIADB = Dialect("mariadb", (10, 11, 0))


def test_corpus_is_big_and_sourced():
    real = [e for e in ENTRIES if not e.source.startswith("constructed")]
    assert len(real) >= 100
    assert all(e.source for e in ENTRIES)
    kinds = {e.expect for e in ENTRIES}
    assert {"run", "skip:info", "skip:warning", "skip:error"} <= kinds


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_tokens_round_trip(entry):
    assert "".join(t.text for t in tokenize(entry.sql)) == entry.sql


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_translation_matches_expectation(entry):
    tr = translate(entry.sql, MARIADB)
    text = "\n".join(tr.statements)
    if entry.static_skip_level:
        assert tr.skipped, f"{entry.id}: expected skipped, got {tr.statements}"
        assert tr.statements == []
        assert tr.level == entry.static_skip_level, [str(d) for d in tr.decisions]
        assert tr.untranslatable == (entry.static_skip_level == "error"), [str(d) for d in tr.decisions]
    else:
        assert not tr.skipped and tr.statements, [str(d) for d in tr.decisions]
    assert tr.needs_recopy == entry.recopy
    assert tr.decisions, "every translation reports at least one decision"
    for check in entry.checks:
        kind, _, arg = check.partition(" ")
        if kind == "output-has":
            assert arg.lower() in text.lower(), f"{entry.id}: {arg!r} not in {text!r}"
        elif kind == "output-lacks":
            assert arg.lower() not in text.lower(), f"{entry.id}: {arg!r} still in {text!r}"
        elif kind == "decision":
            level, _, words = arg.partition(" ")
            assert any(d.level == level and words.lower() in d.reason.lower() for d in tr.decisions), \
                f"{entry.id}: no {level} decision about {words!r}: {[str(d) for d in tr.decisions]}"
    for stmt in tr.statements:  # every output statement is lexically whole and balanced
        toks = tokenize(stmt)
        assert sum(t.is_op("(") for t in toks) == sum(t.is_op(")") for t in toks)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_translation_is_stable(entry):
    """Translating the output again changes nothing TiDB-specific: no rule fires twice."""
    tr = translate(entry.sql, MARIADB)
    for stmt in tr.statements:
        again = translate(stmt, MARIADB)
        assert again.statements == [stmt], [str(d) for d in again.decisions]
