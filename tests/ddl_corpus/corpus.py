"""Loader for the DDL corpus (tests/ddl_corpus/*.sql): real TiDB DDL with expectations.

File format: entries separated by header blocks. Each entry starts with ``-- === <id>``;
the following ``-- key: value`` lines are its header; the rest, up to the next entry, is the
statement text exactly as TiDB (or its docs/tests) wrote it.

Header keys:
  source:   where the statement comes from (repo + path, or documentation URL)
  expect:   ``run`` (translated statements must execute) or ``skip:<level>`` (nothing to
            run; the most severe decision has that level) or ``stop`` (on the real target, shadow
            validation finds no fallback: untranslatable, nothing runs, nothing changes)
  static:   what the translation alone gives (no target catalog, no shadow validation) when
            it differs from ``expect`` (e.g. ``skip:error`` for INTERVAL maintenance, which
            needs the target's partitions); the unit test checks this one
  recopy:   ``yes`` when the translation must ask for the data to be copied again
  execute:  ``no: <why>`` for statements that are not valid on their own (parser tests)
  setup:    SQL run on the target before the statement (repeatable)
  database: a database name the statement creates/uses; tests replace it by a unique one
  rename:   a schema name in the text that tests replace by the test database
  check:    an expectation, one per line:
              column <table>.<col> key=value ...  (type, null, default, collation, extra;
                                                   default=none means no default)
              nocolumn <table>.<col>
              table <table> key=value ...         (collation, engine)
              index <table>.<name> columns=a,b unique=yes|no
              noindex <table>.<name>
              partitions <table> <count>
              database key=value ...              (collation, charset) of ``database:``
              view <name>
              decision <level> <text>             a decision of that level mentions text
              output-has <text> / output-lacks <text>   in the translated statements
              shadow-decision <level> <text>  after catalog + shadow validation on the target
                                              (integration test only)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Entry:
    id: str
    file: str
    sql: str
    source: str = ""
    expect: str = "run"
    static: str | None = None
    recopy: bool = False
    execute: bool = True
    setup: list[str] = field(default_factory=list)
    database: str | None = None
    rename: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @property
    def skip_level(self) -> str | None:
        return self.expect.split(":", 1)[1] if self.expect.startswith("skip:") else None

    @property
    def static_expect(self) -> str:
        return self.static or self.expect

    @property
    def static_skip_level(self) -> str | None:
        x = self.static_expect
        return x.split(":", 1)[1] if x.startswith("skip:") else None


_HEADER = re.compile(r"^-- (\w[\w-]*):\s?(.*)$")


def load(directory: Path = HERE) -> list[Entry]:
    entries: list[Entry] = []
    for path in sorted(directory.glob("*.sql")):
        cur: Entry | None = None
        body: list[str] = []
        in_header = False

        def finish():
            if cur is not None:
                cur.sql = "\n".join(body).strip()
                if not cur.sql:
                    raise ValueError(f"{path.name}: entry {cur.id} has no statement")
                entries.append(cur)

        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("-- === "):
                finish()
                cur, body, in_header = Entry(line[7:].strip(), path.name, ""), [], True
                continue
            if cur is None:
                continue
            m = _HEADER.match(line) if in_header else None
            if m:
                key, value = m.group(1), m.group(2).strip()
                if key == "source":
                    cur.source = value
                elif key == "expect":
                    cur.expect = value
                elif key == "static":
                    cur.static = value
                elif key == "recopy":
                    cur.recopy = value == "yes"
                elif key == "execute":
                    cur.execute = not value.startswith("no")
                elif key == "setup":
                    cur.setup.append(value)
                elif key == "database":
                    cur.database = value
                elif key == "rename":
                    cur.rename.append(value)
                elif key == "check":
                    cur.checks.append(value)
                else:
                    raise ValueError(f"{path.name}: entry {cur.id}: unknown header {key!r}")
                continue
            in_header = False
            body.append(line)
        finish()
    ids = [e.id for e in entries]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate corpus ids: {sorted(dupes)}")
    return entries
