"""TiDB DDL text -> statements a MySQL/MariaDB target accepts, with every decision reported.

Input is what TiDB Binlog Drainer carries (the user's own DDL text, bare TiDB keywords and
all) or TiDB's SHOW CREATE output. The method is deliberately narrow: tokenize losslessly,
then apply targeted rewrites over the tokens (drop TiDB-only comments/options/clauses, make
charset/collation and TIMESTAMP nullability explicit, map what the target lacks). What no rule
touches is emitted byte for byte. The policy is summarised in the package docstring.

Schema handling: when ``schema`` is given, a table-level statement is preceded by an explicit
``USE `schema``` statement in ``Translation.statements``. Qualifying names inside the text
would need to find every table reference (views, foreign keys, RENAME lists) and is left to
the server; an explicit USE makes the result independent of the session's current database.
Database-level statements (CREATE/ALTER/DROP DATABASE) get no USE (the database may not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tidb2mysql.ddl import charsets
from tidb2mysql.ddl.catalog import Catalog, TableInfo, expression_columns
from tidb2mysql.ddl.edit import Edit
from tidb2mysql.ddl.model import Decision, Translation
from tidb2mysql.mysql.dialect import Dialect
from tidb2mysql.mysql.sql import quote_ident
from tidb2mysql.ddl.tokenizer import (
    COMMENT, EXEC_COMMENT, QIDENT, TIDB_COMMENT, WORD, WS, Token, TokenizeError, split_statements, tokenize,
)


@dataclass(frozen=True)
class TranslateOptions:
    """Choices the caller may make; the defaults are the safe ones."""

    ansi_quotes: bool = False            # the TiDB session ran with sql_mode ANSI_QUOTES
    keep_definer: bool = False           # keep DEFINER= on views (needs SUPER/SET_USER_ID)
    keep_tidb_comments: bool = False     # keep /*T! */ comments (harmless on MySQL) instead of dropping
    default_charset: str = "utf8mb4"     # TiDB's server default, made explicit on CREATE TABLE/DATABASE
    default_collation: str = "utf8mb4_bin"
    keep_checks: bool = False            # keep CHECK constraints (TiDB had tidb_enable_check_constraint=ON)
    # latin1 columns/tables: "keep", or "utf8mb4" (TiDB stores any UTF-8 text in latin1 columns;
    # MySQL's latin1 refuses what is not latin1). [ddl] latin1, tidb2mysql/config/ddl.py
    latin1: str = "keep"
    # AUTO_RANDOM / DEFAULT NEXT VALUE FOR seq keys: "auto_increment" (the column becomes
    # AUTO_INCREMENT where MySQL allows it, so inserts after cut-over get ids) or "none".
    auto_random: str = "auto_increment"


# Table/database options that only TiDB knows: name -> what it is (for the reason text).
# Level policy (docs/schema-migration.md, "Decision levels"): removing a TiDB-only option is
# INFO only when it has no effect at all on the target, operational or visible; every option
# below changes how TiDB stores, places, allocates, expires or plans, so dropping it is a WARNING.
TIDB_TABLE_OPTIONS = {
    "AUTO_RANDOM_BASE": "AUTO_RANDOM allocator base; direct inserts on the target use AUTO_INCREMENT rules",
    "AUTO_ID_CACHE": "auto-ID cache size: TiDB's ID allocation (batching, monotonicity) is not carried over",
    "SHARD_ROW_ID_BITS": "hidden row-ID sharding; such tables often have no primary key, so replicated "
                         "UPDATE/DELETE must match whole rows",
    "PRE_SPLIT_REGIONS": "region pre-splitting: write hot-spot handling has no target equivalent",
    "TTL_ENABLE": "TTL job switch",
    "TTL_JOB_INTERVAL": "TTL job interval",
    "STATS_BUCKETS": "TiDB statistics option: the target's optimizer keeps its own statistics",
    "STATS_TOPN": "TiDB statistics option: the target's optimizer keeps its own statistics",
    "STATS_COL_CHOICE": "TiDB statistics option: the target's optimizer keeps its own statistics",
    "STATS_COL_LIST": "TiDB statistics option: the target's optimizer keeps its own statistics",
    "STATS_SAMPLE_RATE": "TiDB statistics option: the target's optimizer keeps its own statistics",
    "PRIMARY_REGION": "placement option", "REGIONS": "placement option", "FOLLOWERS": "placement option",
    "VOTERS": "placement option", "LEARNERS": "placement option", "SCHEDULE": "placement option",
    "CONSTRAINTS": "placement option", "LEADER_CONSTRAINTS": "placement option",
    "FOLLOWER_CONSTRAINTS": "placement option", "VOTER_CONSTRAINTS": "placement option",
    "LEARNER_CONSTRAINTS": "placement option", "SURVIVAL_PREFERENCES": "placement option",
}
# What to do about a removed TTL (rows stop expiring once the application writes to the target).
_TTL_TODO = ("nothing expires rows on the target after cut-over: schedule the deletes there (e.g. a MySQL EVENT "
             "running DELETE FROM the table WHERE <ttl column> < NOW() - INTERVAL ...)")
# Words inside a removed /*T! */ or versioned comment whose removal has no effect at all on the
# target (InnoDB always clusters by the primary key; LOCAL and VISIBLE are the defaults):
# such a comment is INFO, any other TiDB content makes it a WARNING.
_NO_EFFECT_WORDS = frozenset({"CLUSTERED", "NONCLUSTERED", "LOCAL", "VISIBLE", "FORCE"})
# Words that make a versioned comment /*!NNNNN ... */ TiDB-only.
TIDB_WORDS = frozenset(TIDB_TABLE_OPTIONS) | {
    "AUTO_RANDOM", "CLUSTERED", "NONCLUSTERED", "PLACEMENT", "TTL", "GLOBAL",
}
_INTERVAL_UNITS = frozenset({
    "MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH", "QUARTER", "YEAR",
    "SECOND_MICROSECOND", "MINUTE_MICROSECOND", "MINUTE_SECOND", "HOUR_MICROSECOND", "HOUR_SECOND",
    "HOUR_MINUTE", "DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR", "YEAR_MONTH",
})
_INDEX_START = frozenset({"PRIMARY", "UNIQUE", "KEY", "INDEX", "FULLTEXT", "SPATIAL", "CONSTRAINT",
                          "FOREIGN", "CHECK", "VECTOR", "COLUMNAR"})
_CHECK_REASON = ("TiDB enforces CHECK only with tidb_enable_check_constraint=ON (off by default, ignored before "
                 "v7.2), so upstream rows may violate it and the target would reject them; pass "
                 "TranslateOptions.keep_checks when the variable was ON")
_WHOLE_STATEMENT_CLAUSES = frozenset({"COMPACT", "REORGANIZE", "COALESCE", "REBUILD", "OPTIMIZE", "ANALYZE",
                                      "CHECK", "REPAIR", "DISCARD", "IMPORT"})
_INNODB_ROW_FORMATS = frozenset({"DEFAULT", "DYNAMIC", "COMPACT", "REDUNDANT", "COMPRESSED"})


def translate(sql: str, target: Dialect, schema: Optional[str] = None,
              options: Optional[TranslateOptions] = None, catalog: Optional[Catalog] = None) -> Translation:
    """Translate one DDL text (one or more statements) for ``target``.

    ``catalog`` (``tidb2mysql.ddl.catalog``) tells what the altered table looks like on the
    target now; rules that need it (UNIQUE keys vs partitioning, INTERVAL partition
    maintenance, a new VARCHAR's character set) use the text alone without it."""
    options = options or TranslateOptions()
    try:
        parts = split_statements(sql, ansi_quotes=options.ansi_quotes)
    except TokenizeError as e:
        return Translation(sql, [], [Decision("error", "skipped", f"cannot tokenize the DDL: {e}")],
                           skipped=True, untranslatable=True)
    if not parts:
        return Translation(sql, [], [Decision("info", "skipped", "no SQL statement in the text")], skipped=True)
    result = Translation(sql)
    used: Optional[str] = None
    for part in parts:
        one = _Statement(part, target, schema, options, catalog)
        try:
            one.run()
        except (IndexError, AttributeError, ValueError, TypeError) as e:
            # An incomplete or unexpected statement (TiDB would not have run a truncated one).
            # Never guess: nothing runs, and the error names the statement.
            one.statements = []
            one.untranslatable = True
            one.decisions.append(Decision("error", "skipped", f"cannot translate {_clip(part)!r}: the statement is "
                                          f"incomplete or not understood ({type(e).__name__}: {e}); apply it by hand"))
        if one.statements and schema and not one.database_level and used != schema:
            result.statements.append(f"USE {quote_ident(schema)}")
            used = schema
        result.statements.extend(one.statements)
        result.decisions.extend(one.decisions)
        result.needs_recopy |= one.needs_recopy
        result.recopy_objects.extend(one.recopy_objects)
        result.untranslatable |= one.untranslatable
    # every error-level outcome is untranslatable: nothing of this DDL runs automatically
    result.untranslatable |= result.level == "error"
    if result.untranslatable:
        result.statements = []   # never run part of a DDL: the operator decides about all of it
    result.skipped = not any(s for s in result.statements if not s.startswith("USE "))
    if result.skipped:
        result.statements = []
    return result


def _clip(text: str, n: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "..."



class _Statement:
    """One statement's translation; the methods are the rewrite rules."""

    def __init__(self, sql: str, target: Dialect, schema: Optional[str], options: TranslateOptions,
                 catalog: Optional[Catalog] = None):
        self.sql = sql
        self.catalog = catalog
        self.untranslatable = False
        self.keys: list[dict] = []        # index elements seen: unique, columns, global, positions
        self.columns: list[dict] = []     # column definitions seen: name, type, length, charset, positions
        self.target = target
        self.schema = schema
        self.opt = options
        self.decisions: list[Decision] = []
        self.statements: list[str] = []
        self.needs_recopy = False
        self.recopy_objects: list[str] = []
        self.database_level = False
        self.skip_reason: Optional[tuple[str, str]] = None
        self._ansi_noted = False

    # --- reporting -----------------------------------------------------------------------
    def note(self, level: str, action: str, reason: str) -> None:
        self.decisions.append(Decision(level, action, reason))

    def skip(self, level: str, reason: str) -> None:
        self.skip_reason = (level, reason)

    # --- driver --------------------------------------------------------------------------
    def run(self) -> "_Statement":
        tokens = self._comments(tokenize(self.sql, ansi_quotes=self.opt.ansi_quotes))
        e = self.e = Edit(tokens)
        if len(e) == 0:
            self.note("info", "skipped", "only TiDB-only comments; nothing to run")
            return self
        self._dispatch()
        if self.skip_reason:
            level, reason = self.skip_reason
            self.note(level, "skipped", reason)
            return self
        text = e.render().strip()
        while text.endswith(";"):
            text = text[:-1].rstrip()
        if not Edit(tokenize(text, ansi_quotes=self.opt.ansi_quotes)).sig:
            self.note("info", "skipped", "nothing left to run after removing TiDB-only parts")
            return self
        self.statements.append(text)
        if not self.decisions:
            self.note("info", "unchanged", "runs on the target as written")
        return self

    # --- comments ------------------------------------------------------------------------
    def _comments(self, tokens: list[Token]) -> list[Token]:
        """Drop /*T! */ comments, remove TiDB-only versioned comments, inline the ones the
        target executes (so the rewrites below see their content)."""
        out: list[Token] = []
        seam = [False]  # a token was just dropped or inlined: avoid doubled whitespace there

        def push(t: Token, inlined: bool = False) -> None:
            if inlined:
                seam[0] = True
            if seam[0] and out and out[-1].kind == WS and (t.kind == WS or t.is_op(",", ")", ";")):
                out.pop()
            if seam[0] and t.kind == WS and (not out or out[-1].is_op("(")):
                return
            out.append(t)
            seam[0] = inlined

        for t in tokens:
            if not self._comment(t, push):
                seam[0] = True
        return out

    def _comment(self, t: Token, push) -> bool:
        """Emit t (or its replacement) through push; False when t was dropped or replaced."""
        if t.kind == TIDB_COMMENT:
            inner = [x for x in tokenize(t.body or "", ansi_quotes=self.opt.ansi_quotes) if x.significant]
            if len(inner) == 1 and inner[0].is_word("GLOBAL"):
                # a global index changes what the target can do with the table's partitioning:
                # the GLOBAL rule (index elements) must see it, so it is inlined, not dropped
                push(Token(WORD, "GLOBAL", t.pos), inlined=True)
                return False
            if inner and inner[0].is_word("AUTO_RANDOM") and not self.opt.keep_tidb_comments:
                # SHOW CREATE TABLE prints AUTO_RANDOM inside /*T![auto_rand] */: inlined, so the
                # column rule applies [ddl] auto_random (AUTO_INCREMENT, or removed with a warning)
                push(Token(WS, " ", t.pos), inlined=True)
                for x in inner:
                    push(x, inlined=True)
                return False
            level = self._comment_level(inner)
            if self.opt.keep_tidb_comments:
                push(t)
                self.note("info", "unchanged", f"kept TiDB-only comment {t.text.strip()} (a plain comment on the target)")
            else:
                self.note(level, "changed", f"removed TiDB-only comment {t.text.strip()}"
                          + ("" if level == "info" else ": " + self._comment_effect(inner)))
            return False
        if t.kind == QIDENT and t.text.startswith('"'):
            # ANSI_QUOTES was the TiDB session's mode, not the target session's: use backticks
            push(Token(QIDENT, quote_ident(t.name), t.pos))
            if not self._ansi_noted:
                self._ansi_noted = True
                self.note("info", "changed", '"identifiers" (ANSI_QUOTES) rewritten with backticks')
            return False
        if t.kind == COMMENT and t.text.replace(" ", "").upper() == "/*CACHEDON*/":
            self.note("warning", "changed", "removed TiDB cached-table marker /* CACHED ON */ (TiDB keeps the table "
                      "in memory for reads; the target has no cached tables)")
            return False
        if t.kind == EXEC_COMMENT:
            inner = tokenize(t.body, ansi_quotes=self.opt.ansi_quotes)
            tidb = sorted({x.text.upper() for x in inner if x.is_word(*TIDB_WORDS)})
            runs = self.target.executes_versioned_comment(t.version, t.flavour)
            if tidb:
                self.note(self._comment_level(inner), "changed", f"removed versioned comment {t.text.strip()}: TiDB-only "
                          f"{', '.join(tidb)} (a MySQL 9+/MariaDB server could execute it)")
                return False
            if runs:
                self.note("info", "changed", f"inlined {t.text.strip()}: {self.target} executes it, so its "
                          "content is translated like the rest")
                for x in inner:
                    push(x, inlined=True)
                return False
            if t.body.strip().upper() == "INVISIBLE" and self.target.ignored_indexes:
                push(Token("word", "IGNORED", t.pos))
                self.note("info", "changed", f"{t.text.strip()} -> IGNORED (MariaDB's invisible index)")
                return False
            if t.body.strip().upper() == "INVISIBLE":
                self.note("warning", "unchanged", f"{t.text.strip()}: {self.target} has no invisible indexes; "
                          "the index is visible to the optimizer there")
        push(t)
        return True

    @staticmethod
    def _comment_level(inner: list[Token]) -> str:
        """INFO when every keyword of a removed TiDB comment has no effect on the target."""
        words = {x.text.upper() for x in inner if x.kind == WORD}
        if words & (set(TIDB_TABLE_OPTIONS) | {"AUTO_RANDOM", "PLACEMENT", "TTL", "GLOBAL", "CACHED"}):
            return "warning"
        return "info"

    @staticmethod
    def _comment_effect(inner: list[Token]) -> str:
        words = [x.text.upper() for x in inner if x.kind == WORD]
        for w in words:
            if w in TIDB_TABLE_OPTIONS:
                return f"{w}: {TIDB_TABLE_OPTIONS[w]}"
        if "AUTO_RANDOM" in words:
            return ("AUTO_RANDOM is TiDB-only; replicated rows carry the values, inserts made directly on the "
                    "target need their own id strategy")
        if "PLACEMENT" in words:
            return "TiDB data placement has no target equivalent"
        if "TTL" in words:
            return ("rows expire by TiDB background jobs; the target deletes them only through replicated DELETEs: "
                    + _TTL_TODO)
        return "TiDB-only behaviour with no target equivalent"

    # --- classification ------------------------------------------------------------------
    def _dispatch(self) -> None:
        e = self.e
        w0, w1, w2 = e.words(0, 3)
        if w0 == "CREATE":
            k = 1
            if e.words(1, 2) == ("OR", "REPLACE"):
                k = 3
            head = e.word(k)
            if head in ("ALGORITHM", "DEFINER", "SQL", "VIEW"):
                return self._create_view(k)
            if head in ("DATABASE", "SCHEMA"):
                self.database_level = True
                return self._database(k + 1, create=True)
            if head == "TEMPORARY" and e.word(k + 1) == "TABLE":
                return self.skip("warning", "CREATE TEMPORARY TABLE: a temporary table lives only in the TiDB "
                                 "session that made it (TiDB writes no DDL job for it) and nothing replicated can "
                                 "use it; not created on the target")
            if head == "TABLE":
                return self._create_table(k)
            if head == "GLOBAL" and e.word(k + 1) == "TEMPORARY":
                return self.skip("warning", "CREATE GLOBAL TEMPORARY TABLE is TiDB-only and its data is never "
                                 "replicated; not created on the target")
            if head in ("UNIQUE", "FULLTEXT", "SPATIAL", "INDEX", "VECTOR", "COLUMNAR"):
                return self._create_index(k)
            return self._tidb_only_object(w0, head, e.word(k + 1))
        if w0 == "ALTER":
            if w1 == "TABLE":
                return self._alter_table(2)
            if w1 in ("DATABASE", "SCHEMA"):
                self.database_level = True
                return self._database(2, create=False)
            return self._tidb_only_object(w0, w1, w2)
        if w0 == "DROP":
            if w1 == "TEMPORARY" and w2 == "TABLE":
                return self.skip("info", "DROP TEMPORARY TABLE: temporary tables are not created on the target")
            if w1 in ("TABLE", "VIEW"):
                return self._drop_table(2 + (w1 == "TEMPORARY"), w1 if w1 != "TEMPORARY" else "TABLE")
            if w1 in ("DATABASE", "SCHEMA"):
                self.database_level = True
                return self._drop_database()
            if w1 == "INDEX":
                return self._drop_index()
            return self._tidb_only_object(w0, w1, w2)
        if w0 in ("FLASHBACK", "RECOVER"):
            return self._flashback()
        if w0 in ("EXECUTE", "PREPARE"):
            self.needs_recopy = True
            self.recopy_objects.append(self.schema or "?")
            return self.skip("error", f"{w0} statement instead of DDL text (old TiDB wrote 'execute stmt' for "
                             "prepared DDL, pingcap/tidb#17401): the change cannot be replayed; re-read the "
                             "schema with SHOW CREATE TABLE and copy the table(s) again")
        if w0 in ("ADMIN", "SPLIT", "ANALYZE", "BATCH", "IMPORT") or (w0 in ("LOCK", "UNLOCK", "LOAD") and w1 == "STATS"):
            return self.skip("warning", f"TiDB-only {w0} statement: not a schema change on the target")
        if w0 in ("OPTIMIZE", "REPAIR", "CHECK", "CHECKSUM") and w1 in ("TABLE", "TABLES", "NO_WRITE_TO_BINLOG", "LOCAL"):
            return self.skip("warning", f"{w0} TABLE: table maintenance, not a schema change (on InnoDB OPTIMIZE "
                             "rebuilds the whole table, which would stall replication); not run on the target")
        if w0 in ("LOCK", "UNLOCK") and w1 in ("TABLES", "TABLE"):
            return self.skip("info", f"{w0} TABLES is a session lock, not a schema change")
        if w0 in ("RENAME", "TRUNCATE"):
            return None
        self.note("info", "unchanged", f"{w0} statement is not TiDB-specific; passed through")

    def _tidb_only_object(self, verb: str, what: str, nxt: str) -> None:
        objects = {
            "PLACEMENT": "placement policies are TiDB-only (data placement on TiKV stores)",
            "RESOURCE": "resource groups are TiDB-only",
            "SEQUENCE": "sequences are TiDB/MariaDB objects MySQL lacks; their values reach the target in "
                        "row events (a DEFAULT nextval(...) column default is dropped)",
            "BINDING": "SQL plan bindings are TiDB-only",
            "GLOBAL": "TiDB-only global object",
            "SESSION": "TiDB-only session object",
            "STATS": "TiDB statistics objects are TiDB-only",
            "RANGE": "ALTER RANGE (placement of key ranges) is TiDB-only",
            "INSTANCE": "ALTER INSTANCE is server administration, not schema",
            "USER": "accounts are not part of the schema migration",
            "ROLE": "accounts are not part of the schema migration",
        }
        reason = objects.get(what)
        if reason and verb == "DROP" and what in ("PLACEMENT", "RESOURCE", "SEQUENCE", "BINDING", "STATS"):
            # the object was never created on the target: dropping it there changes nothing
            return self.skip("info", f"{verb} {what}{' ' + nxt if what in ('PLACEMENT', 'RESOURCE') else ''}: "
                             f"{reason}; it was never created on the target, nothing to drop")
        if reason:
            return self.skip("warning", f"{verb} {what}{' ' + nxt if what in ('PLACEMENT', 'RESOURCE') else ''}: {reason}; skipped")
        self.note("warning", "unchanged", f"{verb} {what} is not a statement this translator knows; passed through")

    def _flashback(self) -> None:
        e = self.e
        w1 = e.word(1)
        if w1 == "CLUSTER":
            self.needs_recopy = True
            self.recopy_objects.append("*")
            return self.skip("error", "FLASHBACK CLUSTER rewinds every table without row events: the whole target "
                             "must be rebuilt from a new full load")
        names = []
        k = 2
        if w1 in ("DATABASE", "SCHEMA"):
            names.append(e.tok(2).name if e.tok(2) else "?")
            what = "database"
        else:
            what = "table"
            if e.words(2, 2) == ("BY", "JOB"):
                names.append(f"(job {e.source(4, 4)})")
            else:
                while k < len(e) and e.word(k) not in ("TO", "UNTIL"):
                    if not e.is_op(k, ",", "."):
                        nm = e.tok(k).name
                        if e.is_op(k + 1, "."):
                            nm = nm + "." + e.tok(k + 2).name
                            k += 2
                        names.append(nm)
                    k += 1
            if "TO" in [e.word(j) for j in range(len(e))]:
                j = [e.word(x) for x in range(len(e))].index("TO")
                if e.tok(j + 1) is not None:
                    names.append(f"{e.tok(j + 1).name} (new name)")
        if not names or not all(names):
            raise ValueError(f"{e.word(0)} without a {what} name")
        self.needs_recopy = True
        self.recopy_objects.extend(names)
        self.skip("error", f"{e.word(0)} {what} {', '.join(names)}: TiDB restores the data from MVCC history "
                  f"without row events, so the target cannot follow by DDL; copy the {what} again")

    # --- small shared rules --------------------------------------------------------------
    def _if_exists(self, k: int, n: int, what: str) -> None:
        """IF [NOT] EXISTS (n words at k) on a column/index/partition clause."""
        words = " ".join(self.e.words(k, n))
        if self.target.if_exists_on_columns_indexes:
            self.note("info", "unchanged", f"kept {words} on {what} ({self.target} supports it)")
            return
        self.e.delete(k, k + n - 1)
        self.note("warning", "changed", f"removed {words} on {what}: {self.target} does not support it; if the "
                  "clause was already applied the statement fails with a duplicate/unknown-object error, which "
                  "the DDL barrier treats as already done")

    def _qualified_name_end(self, k: int) -> int:
        """Last sig position of a possibly schema-qualified name starting at k."""
        if self.e.is_op(k + 1, ".") and self.e.tok(k + 2) is not None:
            return k + 2
        return k

    def _map_charset_at(self, k: int) -> str:
        t = self.e.tok(k)
        if self.opt.latin1 == "utf8mb4" and charsets.latin1_as_utf8mb4(t.name, False):
            self.e.replace(k, "utf8mb4")
            self.note("warning", "changed", "character set latin1 -> utf8mb4 ([ddl] latin1 = \"utf8mb4\": TiDB keeps "
                      "any UTF-8 text in latin1 columns, which MySQL's latin1 refuses; values stay the same text)")
            return "utf8mb4"
        new, warning = charsets.map_charset(t.name, self.target)
        if warning:
            self.e.replace(k, new)
            self.note("warning", "changed", warning)
        return new

    def _collation_for(self, name: str) -> tuple[str, Optional[str]]:
        """(collation on the target, warning or None) for a source collation name."""
        if self.opt.latin1 == "utf8mb4":
            alt = charsets.latin1_as_utf8mb4(name, True)
            if alt:
                name = alt
        return charsets.map_collation(name, self.target)

    def _map_collation_at(self, k: int) -> None:
        t = self.e.tok(k)
        if t is None:
            return
        new, warning = self._collation_for(t.name)
        if warning or new != t.name:
            self.e.replace(k, new)
        if warning:
            self.note("warning", "changed", warning)

    # --- TiDB-only table options ---------------------------------------------------------
    def _option_value_end(self, k: int) -> int:
        """Given the option name at k, the sig position of the last token of its value."""
        e = self.e
        j = k + 1
        if e.is_op(j, "="):
            j += 1
        if e.is_op(j, "("):
            return e.close_of(j)
        return j

    def _drop_tidb_options(self, a: int, b: int, where: str) -> None:
        """Remove TiDB-only options (any depth) in a..b: placement, TTL, SHARD_ROW_ID_BITS, ..."""
        e = self.e
        k = a
        while k <= b:
            w = e.word(k)
            end = None
            level = "warning"
            if w in TIDB_TABLE_OPTIONS and (e.is_op(k + 1, "=") or e.tok(k + 1) is not None and e.tok(k + 1).kind in ("number", "string", "word")):
                end = self._option_value_end(k)
                what = f"{w} ({TIDB_TABLE_OPTIONS[w]})"
                if w == "TTL_ENABLE" and e.source(end, end).strip("'\"").upper() == "OFF":
                    level, what = "info", "TTL_ENABLE='OFF' (TiDB stops expiring rows: the target never did)"
            elif w == "PLACEMENT" and e.word(k + 1) == "POLICY":
                end = self._option_value_end(k + 1)
                if e.word(k - 1) == "DEFAULT":
                    k -= 1
                what = "PLACEMENT POLICY (TiDB data placement)"
                if e.word(end) == "DEFAULT":
                    level, what = "info", "PLACEMENT POLICY=DEFAULT (back to default placement; nothing on the target)"
            elif w == "TTL" and (e.is_op(k + 1, "=") or e.tok(k + 1) is not None and e.tok(k + 1).kind in ("word", "qident")):
                end = k + 1
                while end <= b and e.word(end) not in _INTERVAL_UNITS:
                    end += 1
                end = min(end, b)
                what = ("TTL (rows expire by TiDB background jobs; the target deletes them only through replicated "
                        "DELETEs): " + _TTL_TODO)
            if end is None:
                k += 1
                continue
            if e.is_op(k - 1, ",") and k - 1 >= a:
                e.delete(k - 1, end)
            else:
                e.delete(k, end)
            self.note(level, "changed", f"removed TiDB-only {what} from {where}")
            k = end + 1

    def _table_options(self, a: int, b: int, create: bool) -> None:
        """Charset/collation, ENGINE, ROW_FORMAT in the table options a..b (depth 0, before PARTITION)."""
        e = self.e
        charset_at = None
        charset_eq = False
        has_collate = False
        end = b
        k = a
        while k <= b:
            w = e.word(k)
            if e.is_op(k, "("):
                k = e.close_of(k) + 1
                continue
            if w == "PARTITION" and e.word(k + 1) == "BY" or w in ("AS", "SELECT", "IGNORE", "REPLACE"):
                end = k - 1
                break
            if w in ("CHARSET", "CHARACTER") and e.tok(k) is not None:
                j = k + (2 if w == "CHARACTER" else 1)
                charset_eq = e.is_op(j, "=")
                if charset_eq:
                    j += 1
                charset_at = j
                k = j + 1
                continue
            if w == "COLLATE":
                j = k + 1 + e.is_op(k + 1, "=")
                has_collate = True
                self._map_collation_at(j)
                k = j + 1
                continue
            if w == "ENGINE":
                j = k + 1 + e.is_op(k + 1, "=")
                t = e.tok(j)
                if t is not None and t.name.upper() != "INNODB":
                    e.replace(j, "InnoDB")
                    self.note("warning", "changed", f"ENGINE={t.name} -> InnoDB (TiDB ignores ENGINE; the "
                              "target would really use it)")
                k = j + 1
                continue
            if w == "ROW_FORMAT":
                j = k + 1 + e.is_op(k + 1, "=")
                t = e.tok(j)
                if t is not None and t.name.upper() not in _INNODB_ROW_FORMATS:
                    e.delete(k, j)
                    self.note("warning", "changed", f"removed ROW_FORMAT={t.name}: TiDB ignores it, InnoDB rejects it")
                k = j + 1
                continue
            k += 1
        cs = self._map_charset_at(charset_at) if charset_at is not None and e.tok(charset_at) is not None else None
        if cs is not None and not has_collate:
            coll = charsets.default_collation(e.tok(charset_at).name)  # TiDB's default for the original
            if coll and cs.lower() != "binary":
                coll, _ = self._collation_for(coll)
                e.insert_after(charset_at, f" COLLATE{'=' if charset_eq else ' '}{coll}")
                self.note("info", "changed", f"added COLLATE {coll}: TiDB's default for {cs} (the target's "
                          "default collation differs)")
        elif charset_at is None and not has_collate and create:
            at = max(j for j in range(a - 1, end + 1) if e.alive(j, j))
            e.insert_after(at, f" DEFAULT CHARSET={self.opt.default_charset} COLLATE={self.opt.default_collation}")
            self.note("info", "changed", f"added DEFAULT CHARSET={self.opt.default_charset} "
                      f"COLLATE={self.opt.default_collation} (TiDB's defaults; the target's differ). If the TiDB "
                      "database has another default, the table inherited that one: pass TranslateOptions.default_charset")

    # --- columns -------------------------------------------------------------------------
    def _column(self, a: int, b: int) -> None:
        """A column definition a..b: name, type, attributes."""
        e = self.e
        name = e.tok(a).name
        k = a + 1
        type_word = e.word(k)
        type_end = k
        if e.is_op(k + 1, "<"):  # VECTOR<FLOAT>
            while type_end <= b and not e.is_op(type_end, ">"):
                type_end += 1
        if e.is_op(type_end + 1, "("):
            type_end = e.close_of(type_end + 1)
        if type_word == "VECTOR":
            # Even where a VECTOR type exists (MySQL 9, MariaDB 11.7) it takes a binary or
            # function-converted value, while replicated rows carry TiDB's text '[1,2,...]'.
            e.replace_range(k, type_end, "LONGTEXT")
            self.note("warning", "changed", f"column {name}: {e.source(k, type_end)} -> LONGTEXT (the value is kept "
                      "as TiDB's text '[1,2,...]', as TiCDC does; "
                      f"{'the target has no VECTOR type' if not self.target.vector_type else 'its VECTOR type does not accept that text'})")
        has_null = has_default = has_pk = generated = has_unique = auto_inc = False
        seq_default = None
        null_span = None
        default_span = None
        charset_at = None
        collation = None
        has_collate = False
        length = None
        if e.is_op(k + 1, "(") and e.tok(k + 2) is not None and e.tok(k + 2).kind == "number":
            try:
                length = int(e.tok(k + 2).text)
            except ValueError:
                length = None
        j = type_end + 1
        while j <= b:
            w = e.word(j)
            if e.is_op(j, "("):
                j = e.close_of(j) + 1
                continue
            if w == "AUTO_RANDOM":
                end = e.close_of(j + 1) if e.is_op(j + 1, "(") else j
                if self.opt.auto_random == "auto_increment":
                    e.replace_range(j, end, "AUTO_INCREMENT")
                    auto_inc = True
                    self.note("warning", "changed", f"column {name}: AUTO_RANDOM -> AUTO_INCREMENT ([ddl] auto_random):"
                              " copied and replicated rows keep TiDB's values; inserts on the target after cut-over"
                              " get ids above the largest one (sequential, not random)")
                else:
                    e.delete(j, end)
                    self.note("warning", "changed", f"column {name}: removed AUTO_RANDOM (TiDB-only); the column stays "
                              f"{type_word} without a default, so inserts on the target after cut-over fail with "
                              "1364 unless they give an id: set [ddl] auto_random = \"auto_increment\" or give ids")
                j = end + 1
                continue
            if w == "AUTO_INCREMENT":
                auto_inc = True
            if w in ("CLUSTERED", "NONCLUSTERED"):
                e.delete(j, j)
                self.note("info", "changed", f"column {name}: removed {w} (InnoDB primary keys are always clustered)")
            elif w == "NOT" and e.word(j + 1) == "NULL":
                has_null, null_span = True, (j, j + 1)
                j += 2
                continue
            elif w == "NULL":
                has_null, null_span = True, (j, j)
            elif w == "DEFAULT":
                has_default = True
                end = j + 1
                default_span = (j, end)
                if e.is_op(end, "-", "+"):
                    end += 1
                if e.is_op(end, "("):
                    end = e.close_of(end)
                elif e.is_op(end + 1, "("):
                    end = e.close_of(end + 1)
                body = e.source(j + 1, end).upper().replace(" ", "").replace("`", "")
                if body.lstrip("(").startswith(("NEXTVAL(", "NEXTVALUEFOR")) or "NEXTVAL(" in body[:10]:
                    e.delete(j, end)
                    has_default = False
                    default_span = None
                    seq_default = e.source(j + 1, end)
                    if e.word(0) != "CREATE":  # CREATE TABLE decides in _sequence_defaults (it sees the keys)
                        self.note("warning", "changed", f"column {name}: removed DEFAULT {seq_default} (sequences "
                                  "are not created on the target; replicated rows carry the values): inserts on "
                                  "the target after cut-over must give this column a value")
                elif body.startswith("(") and not self.target.expression_defaults:
                    e.delete(j, end)
                    has_default = False
                    default_span = None
                    self.note("warning", "changed", f"column {name}: removed DEFAULT {e.source(j + 1, end)} "
                              f"({self.target} has no expression defaults; replicated rows carry the values)")
                elif "UUID_TO_BIN(" in body and self.target.is_mariadb:
                    e.delete(j, end)
                    has_default = False
                    default_span = None
                    self.note("warning", "changed", f"column {name}: removed DEFAULT {e.source(j + 1, end)} "
                              f"({self.target} has no UUID_TO_BIN; replicated rows carry the values)")
                if default_span is not None:
                    default_span = (j, end)
                j = end + 1
                continue
            elif w == "PRIMARY":
                has_pk = True
            elif w == "UNIQUE":
                has_unique = True
            elif w in ("GENERATED", "AS"):
                generated = True
            elif w in ("CHARACTER", "CHARSET"):
                charset_at = j + (2 if w == "CHARACTER" else 1)
                j = charset_at + 1
                continue
            elif w == "COLLATE":
                has_collate = True
                collation = e.tok(j + 1).name if e.tok(j + 1) is not None else None
                self._map_collation_at(j + 1)
                j += 2
                continue
            elif w == "CHECK" and e.is_op(j + 1, "("):
                end = e.close_of(j + 1)
                if e.words(end + 1, 2) == ("NOT", "ENFORCED"):
                    end += 2
                    e.delete(j, end)
                    self.note("info", "changed", f"column {name}: removed CHECK ... NOT ENFORCED (never enforced)")
                elif not self.opt.keep_checks:
                    end += e.word(end + 1) == "ENFORCED"
                    start = j - 2 if e.word(j - 2) == "CONSTRAINT" else j
                    e.delete(start, end)
                    self.note("warning", "changed", f"column {name}: removed {e.source(start, end)}: {_CHECK_REASON}")
                elif e.word(end + 1) == "ENFORCED" and not self.target.enforced_keyword:
                    e.delete(end + 1, end + 1)
                    self.note("info", "changed", f"column {name}: removed ENFORCED ({self.target} lacks the keyword)")
                j = end + 1
                continue
            j += 1
        cs = self._map_charset_at(charset_at) if charset_at is not None and e.tok(charset_at) is not None else None
        if cs is not None and not has_collate:
            coll = charsets.default_collation(e.tok(charset_at).name)  # TiDB's default for the original
            if coll and cs.lower() != "binary":
                coll, _ = self._collation_for(coll)
                e.insert_after(charset_at, f" COLLATE {coll}")
                self.note("info", "changed", f"column {name}: added COLLATE {coll} (TiDB's default for {cs})")
        rec = {"name": name, "type": type_word, "k": k, "type_end": type_end, "length": length,
               "charset": cs or (charsets.charset_of_collation(collation) if collation else None),
               "nullable": not (has_null and e.source(*null_span).upper() != "NULL") and not has_pk,
               "default": default_span, "generated": generated, "widened": False,
               "auto_increment": auto_inc, "seq_default": seq_default}
        self.columns.append(rec)
        if has_pk or has_unique:
            self.keys.append({"unique": True, "primary": has_pk, "name": "PRIMARY" if has_pk else name,
                              "columns": [(name, False)], "global": False, "a": None, "inline": True})
        if generated and null_span and not self.target.null_on_generated_columns:
            e.delete(*null_span)
            self.note("warning", "changed", f"column {name}: removed {e.source(*null_span)} on a generated column "
                      f"({self.target} rejects it)")
        if type_word == "TIMESTAMP" and not generated and not has_pk:
            if not has_null:
                e.insert_after(type_end, " NULL" + ("" if has_default else " DEFAULT NULL"))
                self.note("info", "changed", f"column {name}: TIMESTAMP made explicitly NULL"
                          f"{'' if has_default else ' DEFAULT NULL'} (TiDB's explicit_defaults_for_timestamp=ON "
                          "meaning; a target with it OFF would make it NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE ...)")
            elif e.source(*null_span).upper() == "NULL" and not has_default:
                e.insert_after(null_span[1], " DEFAULT NULL")
                self.note("info", "changed", f"column {name}: added DEFAULT NULL to nullable TIMESTAMP")
            elif not has_default:
                self.note("info", "unchanged", f"column {name}: TIMESTAMP NOT NULL without DEFAULT relies on "
                          "explicit_defaults_for_timestamp=ON on the target (else it gets DEFAULT CURRENT_TIMESTAMP)")

    # --- index / constraint elements ------------------------------------------------------
    def _index(self, a: int, b: int, where: str) -> bool:
        """An index or constraint definition a..b. Returns False when the whole element must go."""
        e = self.e
        w = e.word(a)
        desc = e.source(a, min(b, a + 3))
        if w in ("VECTOR", "COLUMNAR"):
            self.note("warning", "changed", f"{where}: removed TiDB {w.lower()} index `{desc} ...` ({self.target} "
                      "has no such index; TiFlash-only)")
            return False
        check = next((j for j in range(a, b + 1) if e.word(j) == "CHECK"), None)
        if check is not None and w in ("CHECK", "CONSTRAINT") and e.is_op(check + 1, "("):
            end = e.close_of(check + 1)
            if e.words(end + 1, 2) == ("NOT", "ENFORCED"):
                self.note("info", "changed", f"{where}: removed {e.source(a, b)} (NOT ENFORCED: never enforced in TiDB)")
                return False
            if not self.opt.keep_checks:
                self.note("warning", "changed", f"{where}: removed {e.source(a, b)}: {_CHECK_REASON}")
                return False
            if e.word(end + 1) == "ENFORCED" and not self.target.enforced_keyword:
                e.delete(end + 1, end + 1)
                self.note("info", "changed", f"{where}: removed ENFORCED ({self.target} lacks the keyword)")
            return True
        unique = w in ("PRIMARY", "UNIQUE") or (w == "CONSTRAINT" and any(e.word(j) in ("PRIMARY", "UNIQUE") for j in range(a, min(b, a + 3) + 1)))
        parts = next((j for j in range(a, b + 1) if e.is_op(j, "(")), None)
        if parts is None:
            return True
        close = e.close_of(parts)
        rec = {"unique": unique, "primary": w == "PRIMARY" or (w == "CONSTRAINT" and "PRIMARY" in e.words(a, 4)),
               "name": self._index_name(a, parts), "columns": [], "global": False, "a": a, "inline": False}
        rec["parts"] = []
        rec["fulltext"] = w in ("FULLTEXT", "SPATIAL") or any(e.word(j) in ("FULLTEXT", "SPATIAL") for j in range(a, parts))
        for x, y in (e.split(parts + 1, close - 1) if close > parts + 1 else []):
            t = e.tok(x)
            if t.kind in ("word", "qident"):     # a column, maybe with a prefix length: c(10)
                prefix = e.is_op(x + 1, "(")
                rec["columns"].append((t.name, prefix))
                length = int(e.tok(x + 2).text) if prefix and e.tok(x + 2).kind == "number" else None
                rec["parts"].append((t.name, x, length))
            else:
                rec["columns"].append((None, True))  # an expression key part covers no column
                rec["parts"].append((None, x, None))
        if w not in ("FOREIGN",) and not (w == "CONSTRAINT" and "FOREIGN" in e.words(a, 4)):
            self.keys.append(rec)
        # expression key parts are parenthesised: KEY k ((a * b)), INDEX z ((CAST(... AS UNSIGNED ARRAY)))
        exprs = [(x, y) for x, y in e.split(parts + 1, close - 1) if e.is_op(x, "(")] if close > parts + 1 else []
        multi_valued = any(e.word(j) == "ARRAY" for x, y in exprs for j in range(x, y + 1))
        if exprs and (not self.target.functional_indexes or (multi_valued and not self.target.at_least(8, 0, 17))):
            kind = "multi-valued" if multi_valued else "expression"
            self.note("warning", "changed", f"{where}: removed {kind} index `{e.source(a, b)}` ({self.target} "
                      f"has no {kind} indexes; queries lose that index)")
            return False
        for j in range(close + 1, b + 1):
            x = e.word(j)
            if x in ("CLUSTERED", "NONCLUSTERED"):
                e.delete(j, j)
                self.note("info", "changed", f"{where}: removed {x} (InnoDB primary keys are always clustered)")
            elif x == "GLOBAL":
                e.delete(j, j)
                rec["global"] = True
                self.note("warning", "changed", f"{where}: removed GLOBAL (TiDB global index: one index over all "
                          "partitions; every index of a partitioned table is per partition on the target)")
            elif x == "LOCAL" and e.tok(j).kind == "word":
                e.delete(j, j)
                self.note("info", "changed", f"{where}: removed LOCAL (TiDB partition-local index keyword)")
            elif x == "INVISIBLE":
                if self.target.ignored_indexes:
                    e.replace(j, "IGNORED")
                    self.note("info", "changed", f"{where}: INVISIBLE -> IGNORED (MariaDB's name)")
                elif not self.target.invisible_indexes:
                    e.delete(j, j)
                    self.note("warning", "changed", f"{where}: removed INVISIBLE ({self.target} has no invisible indexes)")
            elif x == "VISIBLE" and not self.target.invisible_indexes:
                e.delete(j, j)
                self.note("info", "changed", f"{where}: removed VISIBLE (the default; {self.target} lacks the keyword)")
        return True

    def _element(self, a: int, b: int, where: str) -> bool:
        """A CREATE TABLE element: index/constraint, or column definition."""
        w = self.e.word(a)
        # VECTOR and COLUMNAR are not reserved: `vector VECTOR(3)` is a column named vector
        if w in _INDEX_START and (w not in ("VECTOR", "COLUMNAR") or self.e.word(a + 1) in ("INDEX", "KEY")):
            return self._index(a, b, where)
        self._column(a, b)
        return True

    def _delete_items(self, items: list[tuple[int, int]], keep: list[bool]) -> None:
        """Delete the comma-separated items whose keep flag is False, with their commas."""
        e = self.e
        kept_before = False
        for idx, ((x, y), k) in enumerate(zip(items, keep)):
            if k:
                kept_before = True
                continue
            if kept_before:
                e.delete(x - 1, y)          # the comma before it
            elif idx + 1 < len(items):
                e.delete(x, items[idx + 1][0] - 1)   # it and the comma after it
            else:
                e.delete(x, y)

    # --- keys vs partitioning, row size (static target limits) ----------------------------
    def _index_name(self, a: int, parts: int) -> Optional[str]:
        """The index name in an element a..parts (the key-part list starts at parts), if any."""
        e = self.e
        if e.word(a) == "CONSTRAINT" and e.word(a + 1) not in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK"):
            after = next((j for j in range(a + 2, parts) if e.word(j) in ("PRIMARY", "UNIQUE", "FOREIGN", "CHECK")), a + 1)
            inner = self._index_name(after, parts)
            return inner or e.tok(a + 1).name
        for j in range(parts - 1, a - 1, -1):
            t = e.tok(j)
            if t.kind == "qident" or (t.kind == "word" and e.word(j) not in (
                    "PRIMARY", "UNIQUE", "KEY", "INDEX", "CONSTRAINT", "USING", "BTREE", "HASH", "FULLTEXT", "SPATIAL")):
                if e.word(j - 1) != "CONSTRAINT" or j == parts - 1:
                    return t.name
        return None

    def _lookup(self, k: int, name_end: int) -> Optional[TableInfo]:
        """The catalog's view of the table named at k..name_end (None without a catalog)."""
        if self.catalog is None:
            return None
        e = self.e
        if name_end > k:
            schema, name = e.tok(k).name, e.tok(name_end).name
        else:
            schema, name = self.schema, e.tok(k).name
        try:
            return self.catalog.table(schema, name)
        except Exception as ex:  # noqa: BLE001 - a catalog that cannot answer must not stop the translation
            self.note("warning", "unchanged", f"could not read table {name} on the target ({ex}); rules that need "
                      "it used the statement text only")
            return None

    @staticmethod
    def _covers(key: dict, part_cols: tuple[str, ...]) -> bool:
        full = {c.lower() for c, prefix in key["columns"] if c and not prefix}
        return all(c.lower() in full for c in part_cols)

    def _partition_columns(self, p: int, b: int, column_names: Optional[list[str]] = None) -> Optional[tuple[str, ...]]:
        """Columns of the PARTITION BY clause starting at p (None when it cannot be read)."""
        e = self.e
        j = p + 2
        if e.word(j) == "LINEAR":
            j += 1
        method = e.word(j)
        if e.word(j + 1) == "COLUMNS":
            j += 1
        if not e.is_op(j + 1, "("):
            return None
        close = e.close_of(j + 1)
        names = {n.lower(): n for n in (column_names or [c["name"] for c in self.columns])}
        cols = expression_columns(e.source(j + 2, close - 1), names) if close > j + 2 else ()
        if not cols and method == "KEY":
            pk = next((k for k in self.keys if k["primary"]), None)
            cols = tuple(c for c, _ in pk["columns"] if c) if pk else ()
        return cols

    def _demote_unique(self, key: dict, where: str, why: str) -> None:
        """UNIQUE key -> plain index of the same name and columns (a WARNING: uniqueness is lost)."""
        e = self.e
        a = key["a"]
        u = next(j for j in range(a, a + 4) if e.word(j) == "UNIQUE")
        after = e.word(u + 1) in ("INDEX", "KEY")
        if e.word(a) == "CONSTRAINT":
            sym = e.tok(a + 1) if a + 1 < u else None
            named = not e.is_op(u + 1 + after, "(") and e.word(u + 1 + after) != "USING"
            e.replace_range(a, u + after, "INDEX" + (f" {sym.text}" if sym is not None and not named else ""))
        elif after or e.word(0) == "CREATE":
            e.delete(u, u)
        else:
            e.replace(u, "INDEX")
        self.note("warning", "changed", f"{where}: UNIQUE key {key['name'] or '(unnamed)'} made a plain index: {why}. The "
                  "target does not enforce that uniqueness; TiDB did, so replicated rows never violate it")

    def _check_added_unique(self, info: Optional[TableInfo], where: str) -> None:
        """ALTER TABLE ADD UNIQUE / CREATE UNIQUE INDEX on a table partitioned on the target."""
        for key in [k for k in self.keys if k["unique"] and not k["primary"] and k["a"] is not None]:
            if info is not None:
                cols = info.partition_columns
                if info.partitioned and not self._covers(key, cols):
                    self._demote_unique(key, where, f"it does not include every partitioning column "
                                        f"({', '.join(cols)}) of the table on the target, which MySQL/MariaDB "
                                        "require (error 1503)")
            elif key["global"]:
                self._demote_unique(key, where, "TiDB needed GLOBAL because it does not include every "
                                    "partitioning column, which MySQL/MariaDB require (error 1503); pass a "
                                    "catalog (the replication path does) to check the target's partitioning")

    def _widen(self, col: dict, cs: str, where: str, why: str) -> None:
        e = self.e
        n = col["length"]
        binary = col["type"] in ("VARBINARY", "BINARY")
        size = n if binary else n * charsets.max_bytes(cs)
        new = ("BLOB" if size <= 65535 else "MEDIUMBLOB") if binary else ("TEXT" if size <= 65535 else "MEDIUMTEXT")
        old = e.source(col["k"], col["type_end"])
        e.replace_range(col["k"], col["type_end"], new)
        col["widened"] = True
        extra = ""
        span = col["default"]
        if span is not None and e.word(span[0] + 1) != "NULL" and not e.is_op(span[0] + 1, "("):
            if self.target.is_mariadb:
                pass
            elif self.target.expression_defaults:
                e.insert_before(span[0] + 1, "(")
                e.insert_after(span[1], ")")
                extra = f"; DEFAULT written as an expression ({self.target} allows only those on {new})"
            else:
                e.delete(*span)
                extra = (f"; DEFAULT {e.source(span[0] + 1, span[1])} removed ({self.target} allows no default "
                         f"on {new}; replicated rows carry the values)")
        self.note("warning", "changed", f"{where}: column {col['name']} {old} -> {new}: {why}{extra}")

    def _string_bytes(self, col: dict, cs: str) -> int:
        n = col["length"] or 0
        return n if col["type"] in ("VARBINARY", "BINARY") else n * charsets.max_bytes(cs)

    def _fit_columns(self, table_cs: Optional[str], where: str) -> None:
        """VARCHARs longer in bytes than the target allows (1074), then the 65,535-byte row (1118)."""
        for col in self.columns:
            cs = col["charset"] or table_cs
            if col["type"] == "VARCHAR" and col["length"] and cs and self._string_bytes(col, cs) > 65535:
                self._widen(col, cs, where, f"{col['length']} characters of {cs} take up to "
                            f"{self._string_bytes(col, cs)} bytes, more than a VARCHAR can hold on "
                            f"{self.target} (65,535; TiDB does not check it, pingcap/tidb#24728)")
        if table_cs is None:
            return
        keyed = {c.lower() for k in self.keys for c, prefix in k["columns"] if c and not prefix}
        while True:
            total = _row_bytes(self.columns, table_cs)
            if total <= 65535:
                return
            cands = [c for c in self.columns if c["type"] in ("VARCHAR", "VARBINARY") and c["length"]
                     and not c["widened"]]
            if not cands:
                self.note("warning", "unchanged", f"{where}: the row takes about {total} bytes, more than the "
                          f"65,535 {self.target} allows, and no VARCHAR is left to move out of the row")
                return
            cands.sort(key=lambda c: (c["name"].lower() in keyed, -self._string_bytes(c, c["charset"] or table_cs)))
            col = cands[0]
            self._widen(col, col["charset"] or table_cs, where, f"the row would take about {total} bytes, more than "
                        f"the 65,535 {self.target} allows in a row (TiDB has no such limit); TEXT/BLOB values are "
                        "stored outside the row")

    def _table_charset(self, a: int, b: int) -> Optional[str]:
        """The character set the table options a..b end up with (after the rewrites)."""
        e = self.e
        cs = None
        for k in range(a, b + 1):
            if not e.alive(k, k):
                continue
            w = e.word(k)
            if w == "PARTITION" and e.word(k + 1) == "BY":
                break
            if w in ("CHARSET", "CHARACTER"):
                j = k + (2 if w == "CHARACTER" else 1)
                j += e.is_op(j, "=")
                if e.tok(j) is not None:
                    cs = e.out[e.sig[j]].split()[0].strip("`'\"")
            elif w == "COLLATE" and cs is None:
                j = k + 1 + e.is_op(k + 1, "=")
                if e.tok(j) is not None:
                    cs = charsets.charset_of_collation(e.out[e.sig[j]].split()[0].strip("`'\""))
        return cs

    # --- index key length ---------------------------------------------------------------------
    def _column_shape(self, name: str, table_cs: Optional[str], info: Optional[TableInfo]):
        """(type, length in characters or bytes, bytes per character) of a column, or None."""
        col = next((c for c in reversed(self.columns) if c["name"].lower() == name.lower()), None)
        if col is not None:
            if col["widened"]:
                return ("TEXT", None, 1)
            cs = col["charset"] or table_cs
            per = 1 if col["type"] in ("VARBINARY", "BINARY") else charsets.max_bytes(cs)
            return (col["type"], col["length"], per)
        c = info.column(name) if info is not None else None
        if c is None:
            return None
        if c.data_type in ("varchar", "char"):
            return (c.data_type.upper(), c.char_length, max(1, (c.octet_length or 0) // max(1, c.char_length or 1)))
        if c.data_type in ("varbinary", "binary"):
            return (c.data_type.upper(), c.octet_length, 1)
        return (c.data_type.upper(), None, 1)

    def _fit_keys(self, shape, where: str) -> None:
        """Keys longer than InnoDB's 3,072 bytes (TiDB's max-index-length may be raised to
        12,288): a plain index gets prefix lengths that fit (WARNING); a unique key is kept on
        MariaDB, which enforces it through a hash (WARNING), and is untranslatable on MySQL."""
        limit = 3072
        e = self.e
        for key in self.keys:
            if key.get("inline") or key.get("fulltext") or not key.get("parts"):
                continue
            sized = []
            for name, x, prefix in key["parts"]:
                sh = shape(name) if name else None
                if sh is None:
                    sized = None
                    break
                typ, length, per = sh
                if typ in ("VARCHAR", "CHAR", "VARBINARY", "BINARY") and length:
                    sized.append((name, x, min(prefix or length, length), per, True))
                elif prefix:
                    sized.append((name, x, prefix, per, True))
                else:
                    sized.append((name, x, _FIXED_BYTES.get(typ, 8), 1, False))
            if not sized:
                continue
            total = sum(n * per for _, _, n, per, _ in sized)
            if total <= limit:
                continue
            label = f"key {key['name'] or '(unnamed)'}"
            if key["unique"]:
                if self.target.is_mariadb and not key["primary"]:
                    self.note("warning", "unchanged", f"{where}: {label} takes up to {total} bytes, more than InnoDB's "
                              f"{limit}; {self.target} enforces such a unique key through a hash (USING HASH), which "
                              "no range scan can use")
                    continue
                self.untranslatable = True
                self.note("error", "unchanged", f"{where}: {label} takes up to {total} bytes, more than the {limit} "
                          f"InnoDB allows on {self.target} (TiDB's max-index-length was raised); a shorter prefix would "
                          "make it reject rows TiDB accepted. Decide by hand (e.g. a generated hash column)")
                continue
            fixed = sum(n * per for _, _, n, per, s in sized if not s)
            strings = sorted([p for p in sized if p[4]], key=lambda p: p[2] * p[3])
            budget = limit - fixed
            changed = []
            for i, (name, x, n, per, _) in enumerate(strings):
                share = budget // (len(strings) - i)
                chars = min(n, share // per)
                budget -= chars * per
                if chars < n:
                    changed.append((name, x, chars))
            for name, x, chars in changed:
                if e.is_op(x + 1, "("):
                    e.replace(x + 2, str(chars))
                else:
                    e.insert_after(x, f"({chars})")
            self.note("warning", "changed", f"{where}: {label} takes up to {total} bytes, more than the {limit} InnoDB "
                      f"allows; indexed by prefix instead ({', '.join(f'{n}({c})' for n, c, in [(c[0], c[2]) for c in changed])}): "
                      "same rows, queries may read more")

    # --- INTERVAL partition maintenance (needs the target's partitions) --------------------
    def _interval_maintenance(self, a: int, b: int, w0: str, where: str, info: Optional[TableInfo]) -> bool:
        """ALTER TABLE t FIRST|LAST PARTITION LESS THAN (x) -> the exact DROP/ADD PARTITION."""
        e = self.e
        text = e.source(a, b)
        lp = next((j for j in range(a, b + 1) if e.is_op(j, "(")), None)
        bound_text = e.source(lp + 1, e.close_of(lp) - 1).strip() if lp is not None else ""
        if info is None or not info.partitioned:
            self.untranslatable = True
            if w0 == "FIRST":
                self.needs_recopy = True
                self.recopy_objects.append(where.split(" ", 2)[2])
            self.note("error", "skipped", f"{where}: {text}: TiDB "
                      + ("drops the INTERVAL partitions below the bound (and their rows, without row events)"
                         if w0 == "FIRST" else "adds INTERVAL partitions up to the bound")
                      + "; the partitions "
                      "to change depend on the table's current partitions, which "
                      + ("are not known here (no catalog)" if info is None else "the target table does not have")
                      + f"; run the matching ALTER TABLE ... {'DROP' if w0 == 'FIRST' else 'ADD'} PARTITION by hand")
            return False
        try:
            plan = interval_plan(info, w0, bound_text)
        except ValueError as ex:
            self.untranslatable = True
            self.note("error", "skipped", f"{where}: {text}: cannot derive the partitions from the target's "
                      f"({ex}); apply the change by hand")
            return False
        if not plan:
            self.note("info", "skipped", f"{where}: {text}: the target table already has those partitions")
            return False
        e.replace_range(a, b, plan)
        self.note("info", "changed", f"{where}: {text} -> {plan} (computed from the target's current partitions, "
                  "as TiDB computes it from the table's)")
        return True

    # --- CREATE TABLE --------------------------------------------------------------------
    def _create_table(self, k: int) -> None:
        e = self.e
        k += 1
        if e.words(k, 3) == ("IF", "NOT", "EXISTS"):
            k += 3
        name_end = self._qualified_name_end(k)
        table = e.source(k, name_end)
        tail = name_end + 1
        close = None
        if e.is_op(tail, "("):
            close = e.close_of(tail)
            items = e.split(tail + 1, close - 1)
            keep = [self._element(x, y, f"table {table}") for x, y in items]
            self._delete_items(items, keep)
            tail = close + 1
        elif e.word(tail) == "LIKE" or e.is_op(tail, "(") and e.word(tail + 1) == "LIKE":
            return
        last = len(e) - 1
        if tail <= last:
            self._drop_tidb_options(tail, last, f"table {table}")
        if tail <= last:
            self._table_options(tail, last, create=True)
        elif close is not None:
            self._append_default_charset(close)
        else:
            raise ValueError(f"CREATE TABLE {table} has neither a column list nor LIKE/AS")
        table_cs = (self._table_charset(tail, last) if tail <= last else None) or self.opt.default_charset
        self._sequence_defaults(f"table {table}")
        self._fit_columns(table_cs, f"table {table}")
        self._fit_keys(lambda n: self._column_shape(n, table_cs, None), f"table {table}")
        self._partitions(tail, last, table)

    def _sequence_defaults(self, where: str) -> None:
        """Columns whose DEFAULT nextval(seq) was removed: AUTO_INCREMENT where MySQL allows it
        (an integer column first in a key, no other AUTO_INCREMENT column), so the application's
        inserts after cut-over still get ids ([ddl] auto_random)."""
        cols = [c for c in self.columns if c.get("seq_default")]
        if not cols:
            return
        has_auto = any(c.get("auto_increment") for c in self.columns)
        for c in cols:
            first_in_key = any(k["columns"] and k["columns"][0][0].lower() == c["name"].lower() for k in self.keys)
            integer = c["type"] in ("TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT")
            if self.opt.auto_random == "auto_increment" and integer and first_in_key and not has_auto:
                self.e.insert_after(c["type_end"], " AUTO_INCREMENT")
                has_auto = c["auto_increment"] = True
                self.note("warning", "changed", f"{where}, column {c['name']}: DEFAULT {c['seq_default']} -> "
                          "AUTO_INCREMENT ([ddl] auto_random; sequences are not created on the target): copied and "
                          "replicated rows keep their values, inserts after cut-over get ids above the largest one")
            else:
                why = ("[ddl] auto_random = \"none\"" if self.opt.auto_random != "auto_increment" else
                       "not an integer column first in a key" if not (integer and first_in_key) else
                       "the table already has an AUTO_INCREMENT column")
                self.note("warning", "changed", f"{where}, column {c['name']}: removed DEFAULT {c['seq_default']} "
                          f"(sequences are not created on the target; replicated rows carry the values; {why}): "
                          "inserts on the target after cut-over must give this column a value")

    def _append_default_charset(self, close: int) -> None:
        self.e.insert_after(close, f" DEFAULT CHARSET={self.opt.default_charset} COLLATE={self.opt.default_collation}")
        self.note("info", "changed", f"added DEFAULT CHARSET={self.opt.default_charset} "
                  f"COLLATE={self.opt.default_collation} (TiDB's defaults; the target's differ). If the TiDB "
                  "database has another default, the table inherited that one: pass TranslateOptions.default_charset")

    def _partitions(self, a: int, b: int, table: str) -> None:
        """Partitioning the target lacks: INTERVAL, LIST DEFAULT on MySQL, with a global unique key."""
        e = self.e
        p = next((j for j in range(a, b + 1) if e.words(j, 2) == ("PARTITION", "BY") and e.alive(j, j)), None)
        if p is None:
            return
        reason = None
        cols = self._partition_columns(p, b)
        keys = self.keys
        if not keys and self.catalog is not None and e.word(0) == "ALTER":
            info = self._lookup(2, self._qualified_name_end(2))
            keys = [{"name": n, "columns": [(c, False) for c in cs], "global": False, "unique": True}
                    for n, cs in (info.unique_keys.items() if info else [])]
            if info:
                cols = self._partition_columns(p, b, [c.name for c in info.columns])
        bad = [k for k in keys if k["unique"] and cols is not None and not self._covers(k, cols)]
        if bad:
            glob = [k for k in bad if k["global"]]
            reason = (f"unique key{'s' if len(bad) > 1 else ''} {', '.join(k['name'] or '(unnamed)' for k in bad)} "
                      f"do{'es' if len(bad) == 1 else ''} not include every partitioning column "
                      f"({', '.join(cols) or 'none'}), which MySQL/MariaDB require (error 1503)"
                      + ("; TiDB allowed it as a GLOBAL index" if glob else ""))
        elif any(e.word(j) == "INTERVAL" and e.is_op(j + 1, "(") for j in range(p, b + 1)) and any(e.words(j, 2) == ("FIRST", "PARTITION") for j in range(p, b + 1)):
            expanded = self._expand_interval(p, b)
            if expanded:
                return
            reason = "TiDB INTERVAL partitioning with non-integer bounds is not expanded by this translator"
        elif not self.target.list_default_partition and any(
                e.word(j) == "DEFAULT" and e.word(j - 1) not in ("", "CHARSET", "CHARACTER") and e.tok(j - 1).kind in ("word", "qident") and e.word(j - 2) == "PARTITION"
                for j in range(p, b + 1)):
            reason = f"LIST partitioning with a DEFAULT partition does not exist on {self.target}"
        if reason:
            e.delete(p, b)
            self.note("warning", "changed", f"table {table}: removed the PARTITION BY clause ({reason}); the table "
                      "is created unpartitioned with the same rows and keys")

    def _expand_interval(self, p: int, b: int) -> bool:
        """RANGE INTERVAL partitioning -> explicit partitions, named as TiDB names them."""
        e = self.e
        words = [e.word(j) for j in range(p, b + 1)]
        try:
            iv = p + words.index("INTERVAL")
            step = int(e.tok(iv + 2).text)
            if not e.is_op(iv + 3, ")"):
                return False
            first = p + words.index("FIRST")
            last = p + words.index("LAST")
            lo = int(e.tok(first + 5).text)
            hi = int(e.tok(last + 5).text)
        except (ValueError, AttributeError, TypeError):
            return False
        if step <= 0 or (hi - lo) % step or (hi - lo) // step > 8192:
            return False
        parts = []
        if "NULL" in words and e.word(p + words.index("NULL") + 1) == "PARTITION":
            parts.append("PARTITION `P_NULL` VALUES LESS THAN (-9223372036854775808)")
        v = lo
        while v <= hi:
            parts.append(f"PARTITION `P_LT_{v}` VALUES LESS THAN ({v})")
            v += step
        if "MAXVALUE" in words:
            parts.append("PARTITION `P_MAXVALUE` VALUES LESS THAN (MAXVALUE)")
        e.delete(iv, b)
        e.insert_after(iv - 1, " (" + ", ".join(parts) + ")")
        self.note("info", "changed", f"expanded TiDB INTERVAL partitioning into {len(parts)} explicit RANGE "
                  "partitions named like TiDB's (P_LT_<bound>)")
        return True

    # --- ALTER TABLE ---------------------------------------------------------------------
    def _alter_table(self, k: int) -> None:
        e = self.e
        for flag in ("ONLINE", "OFFLINE", "IGNORE"):
            if e.word(k) == flag:
                k += 1
        name_end = self._qualified_name_end(k)
        table = e.source(k, name_end)
        where = f"ALTER TABLE {table}"
        if name_end + 1 >= len(e):
            return
        first = e.words(name_end + 1, 2)
        if first[0] in _WHOLE_STATEMENT_CLAUSES or first == ("SET", "TIFLASH") or \
                (first[0] in ("DROP", "TRUNCATE") and first[1] == "PARTITION"):
            # partition management and TiFlash clauses take comma lists and stand alone
            specs = [(name_end + 1, len(e) - 1)]
        else:
            specs = e.split(name_end + 1, len(e) - 1)
        self.info = self._lookup(k, name_end) if self.catalog is not None else None
        for j in range(name_end + 1, len(e)):
            if e.words(j, 2) == ("UPDATE", "INDEXES") and e.is_op(j + 2, "(") and e.alive(j, j):
                close = e.close_of(j + 2)
                e.delete(j, close)
                self.note("warning", "changed", f"{where}: removed {e.source(j, close)} (TiDB's choice of global or "
                          "local indexes for the new partitioning; every index of a partitioned table is local on "
                          f"{self.target}, and a unique key must include the partitioning columns there)")
        rebuild = [self._rebuild_clause(x, y) for x, y in specs]
        if all(rebuild):
            return self.skip("warning", f"{where}: {e.source(name_end + 1, len(e) - 1)} changes no schema (TiDB "
                             "ignores ENGINE, ROW_FORMAT, KEY_BLOCK_SIZE and FORCE) but rebuilds the whole table on "
                             f"{self.target}, which can stall replication for hours on a large table; not run. "
                             "Rebuild it yourself off-peak if you want to")
        keep = []
        for (x, y), rb in zip(specs, rebuild):
            if rb:
                self.note("warning", "changed", f"{where}: removed {e.source(x, y)} (TiDB ignores it; on "
                          f"{self.target} it forces a table rebuild)")
                keep.append(False)
            else:
                keep.append(self._alter_spec(x, y, where))
        self._delete_items(specs, keep)
        if self.untranslatable:
            return
        self._check_added_unique(self.info, where)
        if self.info is not None:
            self._fit_keys(lambda n: self._column_shape(n, self.info.charset, self.info), where)
        table_cs = self.info.charset if self.info is not None else None
        for col in self.columns:
            cs = col["charset"] or table_cs
            if col["type"] == "VARCHAR" and col["length"] and cs and self._string_bytes(col, cs) > 65535:
                self._widen(col, cs, where, f"{col['length']} characters of {cs} take up to "
                            f"{self._string_bytes(col, cs)} bytes, more than a VARCHAR can hold on {self.target} "
                            "(65,535; TiDB does not check it, pingcap/tidb#24728)")
        if not any(keep):
            self.skip(max((d.level for d in self.decisions), key=("info", "warning", "error").index, default="info"),
                      f"{where}: every clause was TiDB-only; nothing to run")

    def _rebuild_clause(self, a: int, b: int) -> bool:
        """A clause that only rebuilds the table on MySQL/MariaDB: ENGINE=, ROW_FORMAT=,
        KEY_BLOCK_SIZE=, FORCE, and ALGORITHM=/LOCK= next to them (TiDB ignores them all)."""
        e = self.e
        if a == b and e.word(a) == "FORCE":
            return True
        k = a
        seen = False
        while k <= b:
            w = e.word(k)
            if w not in ("ENGINE", "ROW_FORMAT", "KEY_BLOCK_SIZE", "ALGORITHM", "LOCK"):
                return False
            seen |= w in ("ENGINE", "ROW_FORMAT", "KEY_BLOCK_SIZE")
            k += 1
            if e.is_op(k, "="):
                k += 1
            k += 1
        return seen or e.word(a) in ("ALGORITHM", "LOCK")

    def _alter_spec(self, a: int, b: int, where: str) -> bool:
        e = self.e
        w0, w1, w2 = e.words(a, 3)
        if w0 == "SET" and w1 == "TIFLASH":
            if e.source(b, b) == "0":
                self.note("info", "changed", f"{where}: removed {e.source(a, b)} (drops TiDB's columnar replica; "
                          "the target never had one)")
            else:
                self.note("warning", "changed", f"{where}: removed {e.source(a, b)} (TiDB columnar replica: "
                          "analytical queries TiFlash served run on the row store of the target)")
            return False
        if w0 in ("CACHE", "NOCACHE") and a == b:
            if w0 == "NOCACHE":
                self.note("info", "changed", f"{where}: removed NOCACHE (TiDB stops caching the table; the target "
                          "never cached it)")
            else:
                self.note("warning", "changed", f"{where}: removed CACHE (TiDB cached table: reads served from "
                          "TiDB memory; the target has no cached tables)")
            return False
        if w0 == "COMPACT":
            self.note("info", "changed", f"{where}: removed {e.source(a, b)} (one-off TiFlash compaction; leaves "
                      "nothing behind)")
            return False
        if w0 == "REMOVE" and w1 == "TTL":
            self.note("info", "changed", f"{where}: removed REMOVE TTL (TiDB stops expiring rows; the target never did)")
            return False
        if w0 == "ATTRIBUTES" or (w0 == "PARTITION" and any(e.word(j) == "ATTRIBUTES" for j in range(a, b + 1))):
            value = e.source(b, b).strip("'\"")
            if value == "" or e.word(b) == "DEFAULT":
                self.note("info", "changed", f"{where}: removed {e.source(a, b)} (resets TiDB scheduling attributes)")
            else:
                self.note("warning", "changed", f"{where}: removed {e.source(a, b)} (TiDB region scheduling "
                          "attributes; no target equivalent)")
            return False
        if w0 in ("FIRST", "LAST") and w1 == "PARTITION":
            return self._interval_maintenance(a, b, w0, where, getattr(self, "info", None))
        if w0 == "FORCE" and w1 == "AUTO_INCREMENT":
            e.delete(a, a)
            self.note("info", "changed", f"{where}: removed FORCE before AUTO_INCREMENT (TiDB force_inc; "
                      "on MySQL FORCE means a table rebuild)")
            return True
        if w0 == "ADD":
            k = a + 1
            if w1 in ("VECTOR", "COLUMNAR"):
                return self._index(k, b, where)
            if w1 == "PARTITION":
                if e.words(k + 1, 3) == ("IF", "NOT", "EXISTS"):
                    self._if_exists(k + 1, 3, f"{where} ADD PARTITION")
                self._drop_tidb_options(k, b, where)
                return True
            idx = w1 in _INDEX_START
            if w1 == "COLUMN":
                k += 1
            ine = next((j for j in range(k, min(b, k + 3) + 1) if e.words(j, 3) == ("IF", "NOT", "EXISTS")), None)
            if ine is not None:
                self._if_exists(ine, 3, f"{where} ADD {'INDEX' if idx else 'COLUMN'}")
                if not idx:
                    k = ine + 3
            if idx:
                return self._index(k, b, where)
            if e.is_op(k, "("):
                close = e.close_of(k)
                for x, y in e.split(k + 1, close - 1):
                    self._element(x, y, where)
                return True
            self._column(k, b)
            return True
        if w0 == "DROP":
            k = a + 1
            if w1 in ("COLUMN", "INDEX", "KEY", "PARTITION", "CONSTRAINT", "CHECK"):
                k += 1
            elif w1 == "FOREIGN" and w2 == "KEY":
                k += 2
            if e.words(k, 2) == ("IF", "EXISTS"):
                self._if_exists(k, 2, f"{where} DROP {w1 if w1 in ('INDEX', 'KEY', 'PARTITION', 'FOREIGN') else 'COLUMN'}")
            return True
        if w0 in ("MODIFY", "CHANGE"):
            k = a + 1 + (w1 == "COLUMN")
            if e.words(k, 2) == ("IF", "EXISTS"):
                self._if_exists(k, 2, f"{where} {w0} COLUMN")
                k += 2
            if w0 == "CHANGE":
                k += 1
            self._column(k, b)
            return True
        if w0 == "ALTER" and w1 == "INDEX":
            vis = e.word(b)
            if self.target.invisible_indexes or vis not in ("VISIBLE", "INVISIBLE"):
                return True
            if self.target.ignored_indexes and vis in ("VISIBLE", "INVISIBLE"):
                e.replace(b, "IGNORED" if vis == "INVISIBLE" else "NOT IGNORED")
                self.note("info", "changed", f"{where}: ALTER INDEX ... {vis} -> {'IGNORED' if vis == 'INVISIBLE' else 'NOT IGNORED'} (MariaDB's names)")
                return True
            self.note("warning", "changed", f"{where}: removed {e.source(a, b)} ({self.target} has no invisible indexes)")
            return False
        if w0 == "RENAME" and w1 == "COLUMN" and not self.target.rename_column:
            self.note("error", "unchanged", f"{where}: RENAME COLUMN does not exist on {self.target}; it needs CHANGE "
                      "COLUMN with the full column definition, which the DDL text does not carry")
            return True
        if w0 == "CONVERT" and w1 == "TO":
            self._table_options(a + 2, b, create=False)
            return True
        if w0 == "PARTITION" and w1 == "BY":
            self._drop_tidb_options(a, b, where)
            self._partitions(a, b, where)
            return e.alive(a, b)
        if w0 in ("REORGANIZE", "TRUNCATE", "COALESCE", "EXCHANGE", "REBUILD", "OPTIMIZE", "ANALYZE",
                  "CHECK", "REPAIR", "REMOVE", "DISCARD", "IMPORT", "RENAME", "ORDER", "ALGORITHM", "LOCK"):
            self._drop_tidb_options(a, b, where)
            if w0 == "EXCHANGE":
                self.note("warning", "unchanged", f"{where}: EXCHANGE PARTITION moves rows without row events; the "
                          "target stays equal only if both tables were already equal there")
            return True
        # table options (AUTO_ID_CACHE, TTL, PLACEMENT POLICY, CHARSET, ...) or PARTITION p <options>
        self._drop_tidb_options(a, b, where)
        if w0 == "PARTITION" and not (b >= a + 2 and e.alive(a + 2, b)):
            e.delete(a, b)
            return False
        if not e.alive(a, b):
            return False
        self._table_options(a, b, create=False)
        return True

    # --- CREATE INDEX / DROP INDEX -------------------------------------------------------
    def _create_index(self, k: int) -> None:
        e = self.e
        w = e.word(k)
        if w in ("VECTOR", "COLUMNAR"):
            return self.skip("warning", f"CREATE {w} INDEX is TiDB-only (TiFlash); not created on {self.target}")
        idx = k if w == "INDEX" else k + 1
        if e.words(idx + 1, 3) == ("IF", "NOT", "EXISTS"):
            self._if_exists(idx + 1, 3, "CREATE INDEX")
        on = next((j for j in range(idx, len(e)) if e.word(j) == "ON"), None)
        if on is None:
            return
        tab_end = self._qualified_name_end(on + 1)
        where = f"CREATE INDEX on {e.source(on + 1, tab_end)}"
        if not self._index(k, len(e) - 1, where):
            return self.skip("warning", f"{where}: index not created (see above)")
        if self.keys and e.tok(idx + 1) is not None:
            self.keys[-1]["name"] = e.tok(idx + 1).name
        info = self._lookup(on + 1, tab_end)
        self._check_added_unique(info, where)
        if info is not None:
            self._fit_keys(lambda n: self._column_shape(n, info.charset, info), where)
        for j in range(tab_end + 1, len(e)):
            if e.word(j) == "ADD_COLUMNAR_REPLICA_ON_DEMAND":
                e.delete(j, j)
                self.note("info", "changed", f"{where}: removed ADD_COLUMNAR_REPLICA_ON_DEMAND (TiFlash option)")

    def _drop_index(self) -> None:
        e = self.e
        if e.words(2, 2) == ("IF", "EXISTS"):
            self._if_exists(2, 2, "DROP INDEX")

    # --- DROP TABLE / VIEW / DATABASE ----------------------------------------------------
    def _drop_table(self, k: int, what: str) -> None:
        e = self.e
        if e.words(k, 2) == ("IF", "EXISTS"):
            return
        e.insert_before(k, "IF EXISTS ")
        names = sum(1 for x, y in e.split(k, len(e) - 1))
        self.note("info", "changed", f"DROP {what} -> DROP {what} IF EXISTS: TiDB logs one job per table with the "
                  f"full text{' (' + str(names) + ' tables)' if names > 1 else ''}, so the same statement can "
                  "arrive again; the repeat must be a no-op")

    def _drop_database(self) -> None:
        e = self.e
        if e.words(2, 2) == ("IF", "EXISTS"):
            return
        e.insert_before(2, "IF EXISTS ")
        self.note("info", "changed", "DROP DATABASE -> DROP DATABASE IF EXISTS (a redelivery must be a no-op)")

    # --- CREATE / ALTER DATABASE ---------------------------------------------------------
    def _database(self, k: int, create: bool) -> None:
        e = self.e
        if e.words(k, 3) == ("IF", "NOT", "EXISTS"):
            k += 3
        name = e.tok(k).name if e.tok(k) is not None and e.word(k) not in ("SET", "DEFAULT", "CHARACTER", "CHARSET", "COLLATE", "PLACEMENT") else None
        start = k + 1 if name is not None else k
        if e.words(start, 2) == ("SET", "TIFLASH"):
            if e.source(len(e) - 1, len(e) - 1) == "0":
                return self.skip("info", f"ALTER DATABASE {name or ''} SET TIFLASH REPLICA 0 drops TiDB's columnar "
                                 "replicas; the target never had them")
            return self.skip("warning", f"ALTER DATABASE {name or ''} SET TIFLASH REPLICA is TiDB-only (columnar "
                             "replicas: analytical queries run on the target's row store)")
        last = len(e) - 1
        if start <= last:
            self._drop_tidb_options(start, last, f"database {name}")
        rest_alive = start <= last and e.alive(start, last)
        if not create and not rest_alive:
            return self.skip(max((d.level for d in self.decisions), key=("info", "warning", "error").index,
                                 default="info"), f"ALTER DATABASE {name or ''}: only TiDB-only options; nothing to run")
        if start <= last:
            self._table_options(start, last, create=create)
        elif create:
            e.insert_after(k, f" DEFAULT CHARACTER SET {self.opt.default_charset} COLLATE {self.opt.default_collation}")
            self.note("info", "changed", f"added DEFAULT CHARACTER SET {self.opt.default_charset} COLLATE "
                      f"{self.opt.default_collation} (TiDB's defaults; the target's differ)")

    # --- CREATE VIEW ---------------------------------------------------------------------
    def _create_view(self, k: int) -> None:
        e = self.e
        while k < len(e) and e.word(k) != "VIEW":
            if e.word(k) == "DEFINER" and e.is_op(k + 1, "="):
                end = k + 1 + e.is_op(k + 1, "=")
                while end + 1 < len(e) and e.word(end + 1) not in ("SQL", "VIEW"):
                    end += 1
                if self.opt.keep_definer:
                    self.note("info", "unchanged", f"kept {e.source(k, end)} (TranslateOptions.keep_definer; needs SUPER or "
                              "SET_USER_ID on the target and the account must exist)")
                else:
                    e.delete(k, end)
                    self.note("warning", "changed", f"removed {e.source(k, end)}: the view is created with the "
                              "migration account as its DEFINER (another definer needs SUPER/SET_USER_ID, which "
                              "managed MySQL lacks), so with SQL SECURITY DEFINER it runs with that account's rights "
                              "and fails once the account is dropped. After cut-over: ALTER ... DEFINER="
                              f"{e.source(k + 2, end) if e.is_op(k + 1, '=') else '<original>'} (or SQL SECURITY "
                              "INVOKER) before dropping the account, or set [ddl] keep_definer = true")
                k = end + 1
                continue
            k += 1


# --- static size model ----------------------------------------------------------------------
_FIXED_BYTES = {
    "TINYINT": 1, "BOOL": 1, "BOOLEAN": 1, "SMALLINT": 2, "MEDIUMINT": 3, "INT": 4, "INTEGER": 4, "BIGINT": 8,
    "SERIAL": 8, "FLOAT": 4, "DOUBLE": 8, "REAL": 8, "DATE": 3, "TIME": 6, "DATETIME": 8, "TIMESTAMP": 7,
    "YEAR": 1, "ENUM": 2, "SET": 8,
}
_DECIMAL_LEFTOVER = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


def _decimal_bytes(p: int, s: int) -> int:
    def digits(n: int) -> int:
        return n // 9 * 4 + _DECIMAL_LEFTOVER[n % 9]
    return digits(max(p - s, 0)) + digits(s)


def _row_bytes(columns: list[dict], table_cs: str) -> int:
    """What a row counts against the server's 65,535-byte limit (MySQL/MariaDB rules: strings at
    their maximum byte length plus a 1-2 byte length, BLOB/TEXT as 9-12 bytes, NULL bits).
    Types it does not know count 8 bytes: an estimate that errs towards widening."""
    total = 0
    nullable = 0
    for c in columns:
        t = c["type"]
        n = c["length"]
        cs = c["charset"] or table_cs
        nullable += bool(c["nullable"])
        if c["widened"] or t.endswith(("TEXT", "BLOB")) or t in ("JSON", "GEOMETRY", "VECTOR", "LONG"):
            total += 12
        elif t == "VARCHAR" or t == "VARBINARY":
            size = (n or 0) * (1 if t == "VARBINARY" else charsets.max_bytes(cs))
            total += size + (1 if size < 256 else 2)
        elif t == "CHAR" or t == "BINARY":
            total += (1 if n is None else n) * (1 if t == "BINARY" else charsets.max_bytes(cs))
        elif t in ("DECIMAL", "NUMERIC", "DEC", "FIXED"):
            total += _decimal_bytes(n or 10, 0) + 4
        elif t == "BIT":
            total += ((n or 1) + 7) // 8
        else:
            total += _FIXED_BYTES.get(t, 8)
    return total + (nullable + 7) // 8


# --- INTERVAL partitions ----------------------------------------------------------------------
def _bound_value(text: str):
    """A RANGE bound as TiDB/MariaDB print it: 100, -5, '2024-01-01', '2024-01-01 00:00:00'."""
    import datetime as dt
    t = text.strip()
    if t.upper() == "MAXVALUE":
        return None
    if t[:1] in ("'", '"'):
        t = t[1:-1]
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                return dt.datetime.strptime(t, fmt), fmt
            except ValueError:
                pass
        raise ValueError(f"bound {text} is neither an integer, a date nor a datetime")
    return int(t), None


def _add_months(d, months: int):
    import calendar
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    return d.replace(year=y, month=m, day=min(d.day, calendar.monthrange(y, m)[1]))


def interval_plan(info: TableInfo, which: str, bound_text: str) -> str:
    """The ALTER TABLE clause that does what TiDB's FIRST/LAST PARTITION LESS THAN (bound) did.

    TiDB keeps no INTERVAL in the table's metadata: it checks that the RANGE partitions are
    equally spaced and uses that spacing (pingcap/docs partitioned-table.md, "ALTER INTERVAL
    partitioned tables"). The same is derived here from the target's partitions. FIRST drops
    every partition whose bound is below ``bound`` (the NULL partition P_NULL stays) and needs
    ``bound`` to be an existing bound; LAST adds partitions named P_LT_<bound> up to and
    including ``bound``. Returns '' when there is nothing to do; ValueError when TiDB would have
    refused the statement on such a table (so the target differs from TiDB's table)."""
    if not (info.partition_method or "").upper().startswith("RANGE"):
        raise ValueError(f"the table is partitioned by {info.partition_method}, not RANGE")
    parts = [p for p in info.partitions if p.name.upper() != "P_NULL"]
    bounds = [(p.name, _bound_value(p.description or "MAXVALUE")) for p in parts]
    has_max = any(v is None for _, v in bounds)
    finite = [(n, v[0]) for n, v in bounds if v is not None]
    fmt = next((v[1] for _, v in bounds if v is not None), None)
    target = _bound_value(bound_text)
    if target is None:
        raise ValueError("the bound is MAXVALUE")
    want = target[0]
    if isinstance(want, int) != (fmt is None):
        raise ValueError(f"the bound {bound_text} does not match the partition bounds' type")
    if which == "FIRST":
        if not any(v == want for _, v in finite):
            raise ValueError(f"no partition has the bound {bound_text}")
        drop = [n for n, v in finite if v < want]
        return ("DROP PARTITION " + ", ".join(quote_ident(n) for n in drop)) if drop else ""
    if has_max:
        raise ValueError("the table has a MAXVALUE partition (TiDB refuses LAST PARTITION then)")
    if len(finite) < 2:
        raise ValueError("fewer than two bounded partitions: the interval cannot be derived")
    values = [v for _, v in finite]
    if fmt is None:
        step = values[-1] - values[-2]
        if step <= 0 or any(b - a != step for a, b in zip(values, values[1:])):
            raise ValueError("the partitions are not equally spaced")
        nxt = lambda v: v + step  # noqa: E731
        show = str
    else:
        a, b = values[-2], values[-1]
        months = (b.year - a.year) * 12 + b.month - a.month
        if months > 0 and _add_months(a, months) == b and all(_add_months(x, months) == y for x, y in zip(values, values[1:])):
            nxt = lambda v: _add_months(v, months)  # noqa: E731
        else:
            delta = b - a
            if delta.total_seconds() <= 0 or any(y - x != delta for x, y in zip(values, values[1:])):
                raise ValueError("the partitions are not equally spaced")
            nxt = lambda v: v + delta  # noqa: E731
        show = lambda v: v.strftime(fmt)  # noqa: E731
    new = []
    v = values[-1]
    while v < want and len(new) <= 8192:
        v = nxt(v)
        new.append(v)
    if not new:
        return ""
    if new[-1] != want:
        raise ValueError(f"the bound {bound_text} is not on the interval of the existing partitions")
    defs = []
    for v in new:
        literal = show(v) if fmt is None else f"'{show(v)}'"
        defs.append(f"PARTITION {quote_ident('P_LT_' + show(v))} VALUES LESS THAN ({literal})")
    return "ADD PARTITION (" + ", ".join(defs) + ")"
