"""How a configuration key is declared: once, in its section's dataclass, with its help text
and (optionally) the command-line flag that overrides it.

    shards: int = setting(8, "number of shards ...", flag="--shards")

The type is the annotation, the default is ``setting``'s first argument, validation is the
section's ``validate()`` (errors name the section and key), the help text is the flag's help
and is checked against docs/configuration.md by tests/unit/test_config_docs.py. Commands get
their flags from :func:`add_flags` and turn parsed flags into overrides with
:func:`flag_overrides`, so adding a key with a flag touches its section module (and the
docs table), nothing else.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from typing import Any, Callable, Optional

_DEST = "cfg:"  # argparse dest prefix of generated flags: "cfg:<section>.<key>"


def setting(default: Any = dataclasses.MISSING, help: str = "", *, flag: Optional[str] = None,
            factory: Optional[Callable[[], Any]] = None) -> Any:
    """A dataclass field carrying the key's help text and optional command-line flag."""
    metadata = {"help": help, "flag": flag}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def flagged(cls: type) -> list[tuple[dataclasses.Field[Any], type]]:
    """The fields of a section that have a flag, with their resolved types."""
    hints = typing.get_type_hints(cls)
    return [(f, hints[f.name]) for f in dataclasses.fields(cls) if f.metadata.get("flag")]


def add_flags(parser: argparse.ArgumentParser, section: str, cls: type) -> None:
    """One flag per flagged key of ``[section]``: a bool key is a switch that turns it on."""
    for f, typ in flagged(cls):
        dest = f"{_DEST}{section}.{f.name}"
        help_text = f"{f.metadata['help']} ([{section}] {f.name})"
        if typ is bool:
            parser.add_argument(f.metadata["flag"], dest=dest, action="store_true", default=None, help=help_text)
        else:
            parser.add_argument(f.metadata["flag"], dest=dest, type=typ, default=None, metavar=f.name.upper(),
                                help=help_text)


def flag_overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """``{section: {key: value}}`` of the generated flags given on the command line."""
    out: dict[str, dict[str, Any]] = {}
    for dest, value in vars(args).items():
        if dest.startswith(_DEST) and value is not None:
            section, key = dest[len(_DEST):].split(".", 1)
            out.setdefault(section, {})[key] = value
    return out


__all__ = ["add_flags", "flag_overrides", "flagged", "setting"]
