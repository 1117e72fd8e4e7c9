"""Lint: cards that are valid but will study badly. Each finding is a warning Diagnostic with its YAML path.

`check` shows them as `file:line: warning: ...` and `check --strict` turns them into errors. What is
looked at: the same front or cloze text twice, a front over 40 words, a cloze card that hides most of
its text, a mechanism with too few or too many steps, an empty table cell, a card without a source.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from tierdeck import yamlio
from tierdeck.errors import Diagnostic, YamlPath
from tierdeck.loader import CardRef, Deck
from tierdeck.cloze import Cloze, parse_clozes, revealed
from tierdeck.kinds import KINDS
from tierdeck.notetypes import NoteType
from tierdeck.schema import format_path

MAX_FRONT_WORDS = 40
MAX_HIDDEN_SHARE = 0.5
MIN_STEPS, MAX_STEPS = 2, 10
# What an author writes for "nothing here yet": blank, dashes, dots, a question mark, a to-do marker.
_EMPTY_CELL = re.compile(r"[\s\-\u2013\u2014.\u2026?]*|(?i:todo|tbd|tba|xxx)")


def card_warnings(ref: CardRef, notetypes: Mapping[str, NoteType]) -> list[Diagnostic]:
    """The warnings one card gets on its own (duplicates across cards: see `duplicate_warnings`)."""
    card = ref.card
    notetype = notetypes.get(card.notetype or KINDS[card.type].notetype)
    found = []
    for where, text in KINDS[card.type].fronts(card):
        words = len(_plain(text).split())
        if words > MAX_FRONT_WORDS:
            found.append(
                _warn(
                    ref,
                    where,
                    f"the front has {words} words (more than {MAX_FRONT_WORDS}); a long prompt is hard to answer "
                    "at a glance: shorten it, split the card, or move context to 'extra'",
                )
            )
    if card.type == "cloze":
        found += _lint_cloze(ref)
    if card.type == "mechanism" and not MIN_STEPS <= len(card.steps) <= MAX_STEPS:
        fix = (
            "add the steps before and after it, or make it a basic card"
            if len(card.steps) < MIN_STEPS
            else "split it into two mechanisms"
        )
        found.append(
            _warn(
                ref,
                ("steps",),
                f"a mechanism has {MIN_STEPS} to {MAX_STEPS} steps, this one has {len(card.steps)}; {fix}",
                at_key=True,
            )
        )
    if card.type == "table":
        found += _lint_table(ref)
    if ref.source is None and notetype is not None and "Source" in notetype.fields:
        found.append(
            _warn(
                ref,
                (),
                f"card '{card.id}' has no source; add 'source: ...' to the card, or once at the top of the file "
                "for all its cards",
            )
        )
    return found


# (what, digest of its normalised text, card id, file, the card's path, where in the card)
Prompt = tuple[str, bytes, str, Path, YamlPath, YamlPath]


def prompts(ref: CardRef) -> list[Prompt]:
    """What of this card must not repeat within a deck (its text as a digest: units keep thousands)."""
    return [
        (
            kind,
            hashlib.blake2b(_normalised(text).encode(), digest_size=16).digest(),
            ref.card.id,
            ref.file,
            ref.path,
            where,
        )
        for kind, where, text in KINDS[ref.card.type].prompts(ref.card)
    ]


def duplicate_warnings(deck: Deck, found_prompts: Iterable[Prompt]) -> list[Diagnostic]:
    """A warning for each card asking what an earlier card of the deck already asks."""
    locator = yamlio.Locator()
    found: list[Diagnostic] = []
    first: dict[tuple[str, bytes], Prompt] = {}
    for prompt in found_prompts:
        kind, digest, _, file, card_path, where = prompt
        other = first.setdefault((kind, digest), prompt)
        if other is prompt:
            continue
        _, _, other_id, other_file, other_card_path, other_where = other
        line = locator.line(other_file, (*other_card_path, *other_where))
        path = (*card_path, *where)
        message = (
            f"same {kind} as card '{other_id}' at {_shown(other_file, deck.root)}:{line}; merge the two cards or "
            "reword one"
        )
        found.append(Diagnostic(file, f"{format_path(path)}: {message}", path=path, level="warning"))
    return found


def _lint_cloze(ref: CardRef) -> list[Diagnostic]:
    """A card number whose deletions hide most of the text leaves nothing to recall it from."""
    nodes = parse_clozes(ref.card.text)
    total = _letters(revealed(nodes))
    hidden: dict[int, int] = {}
    for node in nodes:
        if isinstance(node, Cloze):
            hidden[node.ordinal] = hidden.get(node.ordinal, 0) + _letters(revealed(node.nodes))
    found = []
    for ordinal, count in sorted(hidden.items()):
        if total and count / total > MAX_HIDDEN_SHARE:
            found.append(
                _warn(
                    ref,
                    ("text",),
                    f"deletion c{ordinal} hides {count * 100 // total}% of the text, leaving too little to recall "
                    "it from; hide less (one key word or phrase) or split it into several deletions",
                )
            )
    return found


def _lint_table(ref: CardRef) -> list[Diagnostic]:
    found = []
    for i, row in enumerate(ref.card.rows):
        for j, cell in enumerate(row.cells):
            if _EMPTY_CELL.fullmatch(_plain(cell)):
                where = ("rows", i, "cells", j) if _row_is_mapping(ref, i) else ("rows", i, j)
                shown = f" ('{cell.strip()}')" if cell.strip() else ""
                found.append(
                    _warn(
                        ref,
                        where,
                        f"the table cell is empty{shown}; every cell is asked as a card: write what belongs there "
                        "(or 'none' if nothing does)",
                    )
                )
    return found


def _row_is_mapping(ref: CardRef, row: int) -> bool:
    """Whether a row is written as `{id, cells}` (its cells then sit one level deeper in the YAML)."""
    data, _ = yamlio.load(ref.file)
    try:
        return isinstance(data["cards"][ref.index]["rows"][row], dict)
    except (KeyError, IndexError, TypeError):
        return False


# Markup that adds no words: tags, emphasis and code marks, heading/quote/table marks, link targets.
# Each pattern stops at the next opener, so a field of 200,000 unclosed '<' or '](' stays linear.
_MARKS = re.compile(r"<[^<>]*>|[*_`~#>|]+|\]\([^()\[\]]*\)|[\[\]]")


_MARK_CHAR = re.compile(r"[<*_`~#>|\[\]]")  # the first character of every _MARKS match: most text has none


@lru_cache(maxsize=256)  # a front is looked at twice (its length, then as a prompt)
def _plain(text: str) -> str:
    """The words a student reads, near enough to count and compare them (no markdown rendering: lint
    looks at every field of every card, and rendering them all again doubled the time of a check)."""
    if "{{" in text:
        text = revealed(parse_clozes(text))
    if _MARK_CHAR.search(text):
        text = _MARKS.sub(" ", text)
    return html.unescape(text) if "&" in text else text


def _letters(text: str) -> int:
    return len("".join(_plain(text).split()))


def _normalised(text: str) -> str:
    return " ".join(_plain(text).casefold().split())


def _shown(file: Path, root: Path) -> str:
    try:
        return str(file.relative_to(root))
    except ValueError:
        return str(file)


def _warn(ref: CardRef, where: YamlPath, message: str, at_key: bool = False) -> Diagnostic:
    path = (*ref.path, *where)
    return Diagnostic(ref.file, f"{format_path(path)}: {message}", path=path, level="warning", at_key=at_key)
