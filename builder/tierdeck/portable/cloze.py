"""Anki's cloze syntax, `{{c1::answer}}` or `{{c1::answer::hint}}`, in one place: parsing, checking, counting.

Deletions end at the first `}}`, as in Anki. Nested deletions parse as Anki nests them (tierdeck refuses
them in its own cards, but imported notes and the preview meet them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

# A deletion `{{cN::answer}}` or `{{cN::answer::hint}}`. The answer cannot hold another `{{cN::` opener: that
# keeps matching linear (a lazy `.*?` rescans to the end from every opener that is never closed, which turns
# a long field into minutes of work). A nested deletion matches as its innermost part.
CLOZE_RE = re.compile(r"\{\{c(\d+)::((?:[^{}]|\{(?!\{c\d+::)|\}(?!\}))*)\}\}")
TOKEN = re.compile(r"\{\{c(\d+)::|\}\}")
ONE_COLON = re.compile(r"\{\{c\d+:(?!:)")


@dataclass
class Cloze:
    """One deletion `{{cN::...}}`: its number, its content (text and nested deletions) and its hint."""

    ordinal: int
    nodes: list[str | Cloze] = field(default_factory=list)
    hint: str | None = None

    def text(self) -> str:
        """The deleted text, nested deletions included, markup kept."""
        return "".join(n if isinstance(n, str) else n.text() for n in self.nodes)


@lru_cache(maxsize=1024)  # a text is looked at several times (check, lint, preview): parse it once
def parse_clozes(text: str) -> tuple[str | Cloze, ...]:
    """Text and deletions, nested as Anki nests them; unmatched markers stay text."""
    nodes: list[str | Cloze] = []
    open_: list[Cloze] = []
    position = 0

    def add(node: str | Cloze) -> None:
        (open_[-1].nodes if open_ else nodes).append(node)

    for match in TOKEN.finditer(text):
        if match.start() > position:
            add(text[position : match.start()])
        position = match.end()
        if match.group(1) is not None:
            open_.append(Cloze(int(match.group(1))))
        elif open_:
            cloze = open_.pop()
            last = cloze.nodes[-1] if cloze.nodes else None
            if isinstance(last, str) and "::" in last:
                cloze.nodes[-1], cloze.hint = last.split("::", 1)
            add(cloze)
        else:
            add("}}")
    if position < len(text):
        add(text[position:])
    for cloze in open_:  # never closed: the marker is plain text
        nodes.append(f"{{{{c{cloze.ordinal}::")
        nodes.extend(cloze.nodes)
    return tuple(nodes)


def revealed(nodes) -> str:
    """Cloze text with every deletion shown, hints dropped."""
    return "".join(n if isinstance(n, str) else revealed(n.nodes) for n in nodes)


def unclosed_openers(text: str) -> list[str]:
    """The numbers of `{{cN::` openers no `}}` closes, innermost last."""
    stack: list[str] = []
    for match in TOKEN.finditer(text):
        if match.group(1) is not None:
            stack.append(match.group(1))
        elif stack:
            stack.pop()
    return stack


def nested_opener(text: str) -> tuple[str, str] | None:
    """(outer, inner) numbers of the first deletion opened inside another one."""
    stack: list[str] = []
    for match in TOKEN.finditer(text):
        if match.group(1) is not None:
            if stack:
                return stack[-1], match.group(1)
            stack.append(match.group(1))
        elif stack:
            stack.pop()
    return None


def hidden(html: str) -> str:
    """HTML to put inside `{{cN::...}}`: braces and '::' as entities, so the text can neither close the
    cloze early (a step ending in '}') nor start a hint ('a::b'); the student sees the same characters."""
    return html.replace("{", "&#123;").replace("}", "&#125;").replace("::", ":&#58;")
