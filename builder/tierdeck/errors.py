"""Problems found in an author's input, as data: one Diagnostic per problem, one error type to carry them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tierdeck.cache import storable

Level = Literal["error", "warning"]
# A path into a YAML document: mapping keys and list indices, e.g. ("cards", 3, "definition").
YamlPath = tuple[str | int, ...]

# Characters that would break a one-line message or hide what the author wrote: controls, line and
# paragraph separators, bidi controls, and spaces and marks that look like nothing (a key written
# '\u00a0tier' must not read as 'tier').
_UNPRINTABLE = re.compile(
    r"[\x00-\x1f\x7f-\xa0\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u2000-\u200f\u2028-\u202f"
    r"\u205f-\u206f\u3000\u3164\ufeff\ufff9-\ufffb]"
)
SHOWN_LIMIT = 60


def shown(text: object, limit: int = SHOWN_LIMIT) -> str:
    """Author text fit to quote inside a one-line message: controls escaped (a newline shows as \\n), long text cut."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "\u2026"
    return _UNPRINTABLE.sub(_escape, text)


def relative(path: Path, root: Path | None = None) -> str:
    """`path` as an author names it: relative to the project root (with '/') when it lies below it."""
    if root is not None:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def _escape(match: re.Match) -> str:
    char = match.group()
    named = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return named.get(char) or f"\\u{ord(char):04x}"


@storable
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
        shown = relative(self.file, root)
        where = f"{shown}:{self.line}" if self.line else f"{shown}"
        prefix = "warning: " if self.level == "warning" else ""
        # A message is one line whatever text it quotes: each output line must start with its location.
        message = self.message if self.message.isprintable() else _one_line(self.message)
        return f"{where}: {prefix}{message}"


def _one_line(message: str) -> str:
    return _UNPRINTABLE.sub(_escape, message)


class TierdeckError(Exception):
    """Base of every error tierdeck raises on purpose (bad input, bad usage)."""


class InputError(TierdeckError):
    """The author's files have problems; `diagnostics` lists every one of them."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.render() for d in diagnostics))


class UsageError(TierdeckError):
    """The command was called in a way that cannot work (no project, unknown tier, ...)."""


class OutputError(TierdeckError):
    """An output could not be written (disk full, no permission); what existed before is untouched."""
