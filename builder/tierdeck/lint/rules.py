"""Lint: cards that are valid but will study badly. Each finding is a warning Diagnostic with its YAML path.

`check` shows them as `file:line: warning: ...` and `check --strict` turns them into errors. What is
looked at: the same front or cloze text twice, a front over 40 words, a cloze card that hides most of
its text, deletions guessable by elimination (items of one short list, a matched pair), an answer that
only repeats its question, two term definitions so alike that recalling them is the same card twice, a
mechanism with too few or too many steps, an empty table cell, a card without a source, and what would
not read well on a phone (a code line wider than the screen, a colour too faint in light or night mode).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

from tierdeck.errors import Diagnostic, YamlPath, relative
from tierdeck.format import yamlio
from tierdeck.format.schema import Evidence, format_path
from tierdeck.notes.kinds import KINDS, asked, table_keys
from tierdeck.notes.loader import CardRef, Deck
from tierdeck.portable.cloze import Cloze, parse_clozes, revealed
from tierdeck.portable.notetype import NoteType

MAX_FRONT_WORDS = 40
MAX_HIDDEN_SHARE = 0.5
MIN_STEPS, MAX_STEPS = 2, 10
# What an author writes for "nothing here yet": blank, dashes, dots, a question mark, a to-do marker.
_EMPTY_CELL = re.compile(r"[\s\-\u2013\u2014.\u2026?]*|(?i:todo|tbd|tba|xxx)")
# An answer that stands for "nothing to say": a card asking it teaches nothing and is answered by its pattern.
_PLACEHOLDER = re.compile(
    r"(?i:(?:none|nil|n/?a|not applicable|nothing|unknown)[\s.!]*|(?:none|nothing|not) (?:given|stated|known|said)\b.*)",
    re.S,
)
# Wording that presents the source's claim as a claim ...
_CLAIM_WORDS = re.compile(
    r"(?i)\b(?:the (?:article|source|author)(?:'s| (?:claims?|asserts?|argues?|says?))|claimed:|according to the "
    r"(?:article|source))"
)
# ... and wording that corrects one.
_CORRECTION_WORDS = re.compile(r"(?i)\b(?:wrongly|incorrectly|falsely|mistakenly|erroneously|is refuted|in fact)\b")


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
    if card.type in ("basic", "term"):
        found += _circular(ref)
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
    found += _lint_evidence(ref)
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
Prompt = tuple[str, str, str, Path, YamlPath, YamlPath]


def prompts(ref: CardRef) -> list[Prompt]:
    """What of this card must not repeat within a deck (its text as a digest: units keep thousands)."""
    return [
        (
            kind,
            hashlib.blake2b(_normalised(text).encode(), digest_size=16).hexdigest(),
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
    first: dict[tuple[str, str], Prompt] = {}
    for prompt in found_prompts:
        kind, digest, _, file, card_path, where = prompt
        other = first.setdefault((kind, digest), prompt)
        if other is prompt:
            continue
        _, _, other_id, other_file, other_card_path, other_where = other
        line = locator.line(other_file, (*other_card_path, *other_where))
        path = (*card_path, *where)
        message = (
            f"same {kind} as card '{other_id}' at {relative(other_file, deck.root)}:{line}; merge the two cards or "
            "reword one"
        )
        found.append(Diagnostic(file, f"{format_path(path)}: {message}", path=path, level="warning"))
    return found


def _lint_cloze(ref: CardRef) -> list[Diagnostic]:
    """A card number whose deletions hide most of the text leaves nothing to recall it from; deletions that
    give each other away are guessed, not recalled."""
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
    return found + _elimination(ref, nodes)


# --- deletions guessable by elimination, answers that repeat their question ------------------------------------

# What separates the items of a list in running text.
_LIST_SEPARATOR = re.compile(r"\s*(?:,|;|/|,?\s+(?:and|or))\s*")
MAX_LIST_ITEM_WORDS = 4
_STOPWORDS = frozenset(
    "the a an of in on to and or by for with from as at is are be been its their this that these those which into "
    "than it who whom whose what when where how why does do can may also more most often very such each other".split()
)


_WORD = re.compile(r"[a-z][a-z\-]{3,}")  # words of four letters or more: the short ones carry little


def content_words(text: str) -> frozenset[str]:
    """The words that carry meaning, lower-cased and roughly singular (for comparing texts, not showing them)."""
    words = set()
    for word in _WORD.findall(_plain(text).lower()):
        if word in _STOPWORDS:
            continue
        if word[-1] == "s" and word[-2] != "s":
            word = word[:-3] + "y" if word.endswith("ies") else word[:-1]
        words.add(word)
    return frozenset(words)


def _elimination(ref: CardRef, nodes: tuple) -> list[Diagnostic]:
    """Deletions of separate cards that give each other away: items of one short list, or a matched pair."""
    deletions = [n for n in nodes if isinstance(n, Cloze)]
    runs: list[list[Cloze]] = []  # deletions joined only by list separators ("a, b and c")
    current: list[Cloze] = []
    for previous, node in zip((None, *nodes), nodes):
        if not isinstance(node, Cloze):
            continue
        short = len(_plain(revealed(node.nodes)).split()) <= MAX_LIST_ITEM_WORDS
        if short and current and isinstance(previous, str) and _LIST_SEPARATOR.fullmatch(previous):
            current.append(node)
        else:
            runs.append(current)
            current = [node] if short else []
    runs.append(current)
    found = []
    for ordinals in (tuple(dict.fromkeys(c.ordinal for c in run)) for run in runs):
        if len(ordinals) < 2:
            continue
        names = ", ".join(f"c{n}" for n in ordinals)
        found.append(
            _warn(
                ref,
                ("text",),
                f"deletions {names} hide the items of one short list, each on its own card: every card shows the "
                "others, so it can be answered by elimination; hide the list in one deletion, or ask for it in a "
                "basic card",
            )
        )
    answers = {c.ordinal: _plain(revealed(c.nodes)).strip().lower() for c in deletions}
    if not found and len(answers) == 2 and all(len(a.split()) == 1 for a in answers.values()):
        first, second = answers.values()
        prefix = len(os.path.commonprefix([first, second]))
        # two words that differ after a shared stem (osteoblast/osteoclast, hyper-/hypothyroid, PR-A/PR-B)
        if prefix >= 3 and prefix >= 0.4 * min(len(first), len(second)) and prefix < min(len(first), len(second)):
            one, two = sorted(answers)
            found.append(
                _warn(
                    ref,
                    ("text",),
                    f"deletions c{one} and c{two} hide a matched pair ('{first}', '{second}'): each card shows the "
                    "other half, which gives its answer away; hide both in one deletion, or ask each in a card of "
                    "its own without the other",
                )
            )
    return found


def _circular(ref: CardRef) -> list[Diagnostic]:
    """An answer that adds (almost) nothing to its question: a student can say it back without recalling."""
    card = ref.card
    pairs = (
        [(("back",), card.front, card.back)]
        if card.type == "basic"
        else [(("definition",), card.term, card.definition)]
    )
    found = []
    for where, question, answer in pairs:
        if len(answer.split()) > 2 * len(question.split()) + 4:
            continue  # far longer than its question: it adds more than one word, whatever they are
        asked, said = content_words(question), content_words(answer)
        shared, new = asked & said, said - asked
        if len(shared) >= 2 and len(new) <= 1:
            found.append(
                _warn(
                    ref,
                    where,
                    f"the answer repeats the question's words ({', '.join(sorted(shared))}) and adds "
                    f"{'nothing' if not new else 'one word'}: a student can say it back without recalling anything; "
                    "ask for what the answer adds",
                )
            )
    return found


# (its content words, the card id, file, card path, whether the card explains itself in an extra)
Definition = tuple[frozenset[str], str, Path, YamlPath, bool]
MIN_SIMILAR_WORDS, SIMILAR_SHARE = 3, 0.4


def definitions(ref: CardRef) -> list[Definition]:
    """A term card's definition, to compare with the deck's others (`similar_definition_warnings`)."""
    card = ref.card
    if card.type != "term":
        return []
    return [(content_words(card.definition), card.id, ref.file, ref.path, card.extra is not None)]


def similar_definition_warnings(deck: Deck, found: Iterable[Definition]) -> list[Diagnostic]:
    """Two terms defined so alike that recalling one is recalling the other: students confuse them.

    Pairs are found through the words they share (an index, not every pair: decks hold thousands of
    terms); a pair whose cards both have an extra is taken as told apart there."""
    items = list(found)
    by_word: dict[str, list[int]] = {}
    for i, (words, *_rest) in enumerate(items):
        for word in words:
            by_word.setdefault(word, []).append(i)
    common = {w for w, users in by_word.items() if len(users) > 50}  # words too common to tell terms apart
    locator = yamlio.Locator()
    warnings = []
    for i, (words, _card_id, file, path, explained) in enumerate(items):
        shared: dict[int, int] = {}
        for word in words - common:
            for j in by_word[word]:
                if j < i:
                    shared[j] = shared.get(j, 0) + 1
        for j, count in sorted(shared.items()):
            other_words, other_id, other_file, other_path, other_explained = items[j]
            union = len(words | other_words)
            if count < MIN_SIMILAR_WORDS or not union or count / union < SIMILAR_SHARE:
                continue
            if explained and other_explained:
                continue
            line = locator.line(other_file, (*other_path, "definition"))
            where = (*path, "definition")
            warnings.append(
                Diagnostic(
                    file,
                    f"{format_path(where)}: defined almost as term '{other_id}' at {relative(other_file, deck.root)}:"
                    f"{line} ({count} of {union} words shared), so students will confuse the two; say what tells "
                    "them apart, in the definitions or in an extra on both cards",
                    path=where,
                    level="warning",
                )
            )
    return warnings


# --- what would not read well on a phone -------------------------------------------------------------------------

# The targets (data/readability.json, shared with the preview page and the layout tests).
READABILITY = json.loads((resources.files("tierdeck") / "data" / "readability.json").read_text("utf-8"))
MAX_CODE_LINE = READABILITY["max_code_line_chars"]  # monospace characters that fit a phone at tierdeck's size
MIN_CONTRAST = READABILITY["min_text_contrast"]
# The backgrounds of tierdeck's note types, light and night (tierdeck.css; tests/lint/test_lint.py holds them equal).
_BACKGROUNDS: dict[str, tuple[int, int, int]] = {
    mode: (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    for mode, colour in READABILITY["backgrounds"].items()
}
_NAMED = {
    "black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255),
    "yellow": (255, 255, 0), "orange": (255, 165, 0), "purple": (128, 0, 128), "gray": (128, 128, 128),
    "grey": (128, 128, 128), "silver": (192, 192, 192), "maroon": (128, 0, 0), "navy": (0, 0, 128),
    "teal": (0, 128, 128), "olive": (128, 128, 0), "lime": (0, 255, 0), "aqua": (0, 255, 255),
    "fuchsia": (255, 0, 255), "darkred": (139, 0, 0), "darkgreen": (0, 100, 0), "darkblue": (0, 0, 139),
}
_COLOUR = re.compile(r"""(?:(?<![-\w])color\s*:\s*|<font\b[^>]*\bcolor=["']?)(#[0-9a-f]{3,6}\b|rgb\([^)]*\)|[a-z]+)""", re.I)
_PRE = re.compile(r"<pre\b[^>]*>(.*?)</pre>", re.I | re.S)


def note_warnings(note) -> list[Diagnostic]:
    """What in a built note would not read well on a phone in tierdeck's note types: lines of code wider than
    the screen (they cannot wrap), colours too faint on the light or the night background."""
    if not note.notetype.builtin:
        return []  # a note type of the project's own: its CSS decides
    found: dict[str, None] = {}
    for name, value in zip(note.notetype.fields, note.fields):
        if "<pre" in value:
            for block in _PRE.findall(value):
                widest = max((len(html.unescape(re.sub(r"<[^>]*>", "", line))) for line in block.split("\n")), default=0)
                if widest > MAX_CODE_LINE:
                    found[
                        f"{name}: a code line is {widest} characters wide; code does not wrap, so on a 390 px phone it "
                        f"runs off the card: break it into lines of at most {MAX_CODE_LINE}"
                    ] = None
        if "olor" in value:
            for colour in _COLOUR.findall(value):
                rgb = _rgb(colour)
                if rgb is None:
                    continue
                for mode, background in _BACKGROUNDS.items():
                    ratio = _contrast(rgb, background)
                    if ratio < MIN_CONTRAST:
                        found[
                            f"{name}: the colour {colour} reads at {ratio:.1f}:1 on the {mode} background, under the "
                            f"{MIN_CONTRAST}:1 a student needs (no colour has it on both the light and the night background); use "
                            'a colour class that changes with the mode instead, e.g. <span class="td-red">, or '
                            "td-orange, td-green, td-blue, td-purple"
                        ] = None
                        break
    path = note.path[:2]
    return [Diagnostic(note.file, f"{format_path(path)}: {message}", path=path, level="warning") for message in found]


def _rgb(colour: str) -> tuple[int, int, int] | None:
    colour = colour.strip().lower()
    if colour.startswith("#"):
        digits = colour[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return tuple(int(digits[i : i + 2], 16) for i in (0, 2, 4)) if len(digits) == 6 else None  # type: ignore[return-value]
    if colour.startswith("rgb("):
        parts = re.findall(r"[\d.]+", colour)
        return tuple(int(float(p)) for p in parts[:3]) if len(parts) >= 3 else None  # type: ignore[return-value]
    return _NAMED.get(colour)


def _contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """The WCAG contrast ratio of two colours."""

    def luminance(rgb: tuple[int, int, int]) -> float:
        def channel(v: int) -> float:
            c = v / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    la, lb = luminance(a), luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def _lint_table(ref: CardRef) -> list[Diagnostic]:
    found = []
    card = ref.card
    _, column_keys = table_keys(card)
    for i, row in enumerate(card.rows):
        for j, cell in enumerate(row.cells):
            if j >= len(card.columns) or (j and not asked(card, row, column_keys, j)):
                continue  # shown, not asked: a dash or "none" is a fine thing to show
            plain = _plain(cell)
            empty = _EMPTY_CELL.fullmatch(plain)
            if not empty and not (j and _PLACEHOLDER.fullmatch(plain)):
                continue
            where = ("rows", i, j) if card.rows[i].shorthand else ("rows", i, "cells", j)
            shown = f" ('{cell.strip()}')" if cell.strip() else ""
            what = f"the table cell is empty{shown}" if empty else f"the table cell's answer is a placeholder{shown}"
            fix = (
                f"write what belongs there, or show it without asking it: 'shown_only: [{column_keys[j]}]' on the "
                "row, or 'ask: false' on the column"
                if j
                else "write the row's name there"
            )
            found.append(_warn(ref, where, f"{what}; a card asking it teaches nothing: {fix}"))
    return found


def _taught(ref: CardRef) -> Iterable[tuple[YamlPath, str, Evidence | None]]:
    """(where, what the student reads and recalls, its evidence) for each note of a card (table: each asked cell)."""
    card = ref.card
    if card.type == "table":
        _, column_keys = table_keys(card)
        for i, row in enumerate(card.rows):
            for j in range(1, min(len(card.columns), len(row.cells))):
                if asked(card, row, column_keys, j):
                    evidence = row.cell_evidence.get(column_keys[j]) or row.evidence or ref.evidence
                    where = ("rows", i, j) if card.rows[i].shorthand else ("rows", i, "cells", j)
                    yield where, row.cells[j], evidence
        return
    texts = {
        "basic": lambda: (("back",), f"{card.front} {card.back}"),
        "term": lambda: (("definition",), f"{card.term} {card.definition}"),
        "cloze": lambda: (("text",), card.text),
        "mechanism": lambda: (("title",), " ".join((card.title, *card.steps))),
    }
    if card.type in texts:
        field, text = texts[card.type]()
        yield field, text, ref.evidence


def _lint_evidence(ref: CardRef) -> list[Diagnostic]:
    """Where a card's evidence level and its wording disagree in the obvious ways."""
    found = []
    for where, text, evidence in _taught(ref):
        if evidence is None:
            continue
        plain = _plain(text)
        at: YamlPath = where if ref.card.type == "table" else ("evidence",) if ref.card.evidence is not None else ()
        correction = _CORRECTION_WORDS.search(plain)
        claim = _CLAIM_WORDS.search(plain)
        if evidence.level in ("refuted", "not-mainstream") and correction:
            found.append(
                _warn(
                    ref,
                    at,
                    f"the card corrects a claim ('{correction.group(0)}'), yet its evidence level "
                    f"'{evidence.level}' says what it teaches is {evidence.level}: the level is about what the card "
                    f"teaches; give the correction's level (e.g. established) and 'source_claim: {evidence.level}'",
                )
            )
        elif evidence.level == "established" and evidence.source_claim is None and claim:
            found.append(
                _warn(
                    ref,
                    at,
                    f"the card presents its source's claim ('{claim.group(0)}') but its evidence "
                    "level is 'established'; if the recalled answer is the claim, give the claim's level (source-claim, "
                    "contested, ...); if the card corrects or reports it, say how it stands with 'source_claim: ...'",
                )
            )
    return found


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


def _warn(ref: CardRef, where: YamlPath, message: str, at_key: bool = False) -> Diagnostic:
    path = (*ref.path, *where)
    return Diagnostic(ref.file, f"{format_path(path)}: {message}", path=path, level="warning", at_key=at_key)


# --- opting out: `lint: {ignore: [rule], why: ...}` on a card or at the top of its file ----------------------

# Each rule's warnings, recognised by what they say (one table, so a new warning without a rule shows in tests).
_RULE_MESSAGES = (
    ("duplicate-prompt", re.compile(r": same [\w ]+ as card '")),
    ("long-front", re.compile(r": the front has \d+ words")),
    ("cloze-hides-most", re.compile(r": deletion c\d+ hides \d+% of the text")),
    ("cloze-list", re.compile(r" hide the items of one short list")),
    ("cloze-pair", re.compile(r" hide a matched pair")),
    ("circular-answer", re.compile(r": the answer repeats the question's words")),
    ("similar-definitions", re.compile(r": defined almost as term '")),
    ("mechanism-steps", re.compile(r": a mechanism has \d+ to \d+ steps")),
    ("empty-cell", re.compile(r": the table cell(?: is empty|'s answer is a placeholder)")),
    ("evidence-wording", re.compile(r": the card (?:corrects a claim|presents its source's claim) \(")),
    ("no-source", re.compile(r"' has no source; ")),
    ("code-width", re.compile(r": a code line is \d+ characters wide")),
    ("colour-contrast", re.compile(r": the colour .+ reads at [\d.]+:1 on the")),
)


def rule_of(warning: Diagnostic) -> str | None:
    """The lint rule (as `lint: {ignore: [...]}` names it) a warning comes from; None for other warnings."""
    return next((rule for rule, pattern in _RULE_MESSAGES if pattern.search(warning.message)), None)


def card_of(warning: Diagnostic) -> tuple[Path, int] | None:
    """(card file, index in its `cards:` list) of a warning about one card."""
    path = warning.path
    if len(path) >= 2 and path[0] == "cards" and isinstance(path[1], int):
        return warning.file, path[1]
    return None


def opted_out(
    warnings: list[Diagnostic], opt_outs: Mapping[tuple[Path, int], tuple[frozenset[str], str]]
) -> tuple[list[Diagnostic], list[tuple[Diagnostic, str, str]]]:
    """The warnings kept, and those a card opted out of as (warning, rule, why)."""
    kept, ignored = [], []
    for warning in warnings:
        card = card_of(warning)
        rules, why = opt_outs.get(card, (frozenset(), "")) if card is not None else (frozenset(), "")
        rule = rule_of(warning) if rules else None
        if rule is not None and rule in rules:
            ignored.append((warning, rule, why))
        else:
            kept.append(warning)
    return kept, ignored
