"""What a translation returns: the statements to run and every decision taken, with why."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

LEVELS = ("info", "warning", "error")
ACTIONS = ("unchanged", "changed", "skipped")


@dataclass(frozen=True)
class Decision:
    """One thing the translator decided (or noticed) about a statement.

    ``level``: info (faithful rewrite), warning (semantics differ a little or something
    TiDB-only was dropped), error (the target cannot be kept equal by DDL alone; see
    ``Translation.needs_recopy``). ``action``: what happened to the text.
    """

    level: str
    action: str
    reason: str

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"decision level {self.level!r} not in {LEVELS}")
        if self.action not in ACTIONS:
            raise ValueError(f"decision action {self.action!r} not in {ACTIONS}")

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"[{self.level}] {self.action}: {self.reason}"


@dataclass
class Translation:
    """The target statements for one TiDB DDL text, in order, plus the decisions."""

    source: str
    statements: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    skipped: bool = False          # nothing to run: TiDB-only statement(s)
    needs_recopy: bool = False     # error-level: data changed without row events
    recopy_objects: list[str] = field(default_factory=list)  # which tables/databases
    # True exactly when an error-level decision was taken: no safe translation exists (or the
    # target rejected every fallback in shadow validation). ``statements`` is then empty: an
    # automatic caller must run nothing of this DDL and not go past it; the operator decides
    # (with ``needs_recopy`` the remedy is copying ``recopy_objects`` again).
    untranslatable: bool = False

    @property
    def level(self) -> str:
        """The most severe decision level (info when there were none)."""
        levels = [d.level for d in self.decisions] or ["info"]
        return max(levels, key=LEVELS.index)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "statements": list(self.statements),
            "decisions": [d.as_dict() for d in self.decisions],
            "skipped": self.skipped,
            "needs_recopy": self.needs_recopy,
            "recopy_objects": list(self.recopy_objects),
            "untranslatable": self.untranslatable,
            "level": self.level,
        }
