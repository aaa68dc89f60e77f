"""The configuration tree against its documentation and the example file (pure).

Every key of every section (tidb2mysql/config/) has a row in its section's table in the docs,
with the same default, and the docs name no key the tree does not have; every generated
command-line flag is described; examples/tidb2mysql.toml loads. Adding a key without its
docs row, or changing a default in one place only, fails here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from tidb2mysql import config
from tidb2mysql.config.keys import flagged

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tidb2mysql.toml"

# section -> (document, heading of the section's key table)
WHERE = {
    "source": ("configuration.md", "### `[source]` and `[target]`"),
    "target": ("configuration.md", "### `[source]` and `[target]`"),
    "kafka": ("configuration.md", "### `[kafka]`"),
    "drainer": ("configuration.md", "### `[drainer]`"),
    "job": ("configuration.md", "### `[job]`"),
    "input": ("configuration.md", "### `[input]`"),
    "incremental": ("configuration.md", "### `[incremental]`"),
    "metrics": ("configuration.md", "### `[metrics]`"),
    "selection": ("configuration.md", "### `[selection]`"),
    "full_load": ("full-load.md", "## Configuration: `[full_load]`"),
    "verify": ("verify.md", "## Configuration: `[verify]`"),
    "ddl": ("configuration.md", "### `[ddl]`"),
}


def documented(section: str) -> dict[str, str]:
    """key -> default cell of the first table after the section's heading."""
    doc, heading = WHERE[section]
    text = (DOCS / doc).read_text()
    start = text.index(heading)
    rows: dict[str, str] = {}
    in_table = False
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|"):
            in_table = True
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0] in ("key", "---") or set(cells[0]) <= {"-"}:
                continue
            for key in re.findall(r"`([a-z_][a-z_0-9]*)`", cells[0]):
                rows[key] = cells[1]
        elif in_table:
            break
    return rows


def _same_default(cell: str, value: object) -> bool:
    text = cell.strip("`").strip('"')
    if text == "":
        return value in ("", None, 0, False) or value == [] or value == {}
    if isinstance(value, bool):
        return text == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    if isinstance(value, (list, dict)):
        return text == ("[]" if isinstance(value, list) else "{}") and not value
    return text == str(value)


def _default(f: dataclasses.Field) -> object:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default  # type: ignore[misc]


@pytest.mark.parametrize("section", sorted(config.SECTIONS))
def test_every_key_is_documented_with_its_default(section):
    cls = config.SECTIONS[section]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    rows = documented(section)
    assert sorted(set(fields) - set(rows)) == [], f"[{section}] keys missing from docs/{WHERE[section][0]}"
    assert sorted(set(rows) - set(fields)) == [], f"[{section}] docs/{WHERE[section][0]} names keys that do not exist"
    wrong = {k: (rows[k], _default(f)) for k, f in fields.items() if not _same_default(rows[k], _default(f))}
    assert wrong == {}, f"[{section}] documented default (docs, code) differs"


@pytest.mark.parametrize("section", sorted(config.SECTIONS))
def test_flagged_keys_have_help(section):
    for f, _typ in flagged(config.SECTIONS[section]):
        assert f.metadata["help"], f"[{section}] {f.name}: a flag needs help text"
        assert f.metadata["flag"].startswith("--")


def test_the_example_file_loads(monkeypatch):
    monkeypatch.setenv("TIDB2MYSQL_SOURCE_PASSWORD", "x")
    monkeypatch.delenv(config.OVERRIDES_ENV_VAR, raising=False)
    data = config.tomllib.loads(EXAMPLE.read_text())
    for section in ("target", "kafka"):  # files named there need not exist on this machine
        for key in ("password_file", "ca_file", "cert_file", "key_file"):
            data.get(section, {}).pop(key, None)
    config.parse(data)  # unknown sections/keys and bad values fail here


def test_the_checker_catches_drift():
    assert _same_default("`8`", 8) and _same_default("16777216", 16 << 20) and _same_default("false", False)
    assert not _same_default("`9`", 8) and not _same_default("true", False) and not _same_default("`x`", "y")
    assert documented("incremental")["shards"] == "`8`"
