"""Problems found in an author's input, as data: one Diagnostic per problem, one error type to carry them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Level = Literal["error", "warning"]
# A path into a YAML document: mapping keys and list indices, e.g. ("cards", 3, "definition").
YamlPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Diagnostic:
    """One problem in one file: where it is and what to do about it."""

    file: Path
    message: str
    line: int | None = None
    path: YamlPath = ()
    level: Level = "error"
    # Where the location points when `path` ends in a key that is missing or unknown.
    at_key: bool = field(default=False, compare=False)

    def render(self, root: Path | None = None) -> str:
        """`file:line: message`, with the file relative to `root` when it lies below it."""
        shown = self.file
        if root is not None:
            try:
                shown = self.file.relative_to(root)
            except ValueError:
                pass
        where = f"{shown}:{self.line}" if self.line else f"{shown}"
        prefix = "warning: " if self.level == "warning" else ""
        return f"{where}: {prefix}{self.message}"


class TierdeckError(Exception):
    """Base of every error tierdeck raises on purpose (bad input, bad usage)."""


class InputError(TierdeckError):
    """The author's files have problems; `diagnostics` lists every one of them."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.render() for d in diagnostics))


class UsageError(TierdeckError):
    """The command was called in a way that cannot work (no project, unknown tier, ...)."""
