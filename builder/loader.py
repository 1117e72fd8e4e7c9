"""Finding and validating a project: deck manifests under decks/, the card files they point at.

Everything found wrong is collected as Diagnostics (with YAML paths; lines are filled in only for
diagnostics that are shown), so one run reports every problem, not just the first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tierdeck import yamlio
from tierdeck.errors import Diagnostic, UsageError, shown
from tierdeck.render import render
from tierdeck.schema import (
    CARD_ADAPTER,
    CLOZE_RE,
    CardFile,
    ClozeCard,
    Manifest,
    MechanismCard,
    TableCard,
    did_you_mean,
    format_path,
    kind_of,
    slugify,
    validation_diagnostics,
)

CARD_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class CardRef:
    """A validated card with the defaults of its file applied, and where it was written."""

    card: Any  # one of the schema's card models
    file: Path
    index: int  # position in the file's `cards` list
    tier: str
    tags: tuple[str, ...]
    source: str | None

    @property
    def path(self) -> tuple:
        """The card's YAML path inside its file."""
        return ("cards", self.index)


CardId = tuple[str, Path, int]  # (card id, file, index in the file's `cards` list)


@dataclass
class Deck:
    """A manifest and the card files it names."""

    manifest: Manifest
    manifest_path: Path
    root: Path
    files: list[Path] = field(default_factory=list)


def find_root(start: Path) -> Path:
    """The project root: the nearest folder at or above `start` that holds decks/."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "decks").is_dir():
            return folder
    raise UsageError(
        f"no decks/ folder in {start} or any folder above it; run tierdeck inside a project "
        "(create one with 'tierdeck new DECK_ID') or name a manifest"
    )


def root_of(manifest_path: Path) -> Path:
    """The project root of a manifest: the folder holding its decks/ folder."""
    manifest_path = manifest_path.resolve()
    if manifest_path.parent.name == "decks":
        return manifest_path.parent.parent
    return manifest_path.parent


def discover(root: Path) -> list[Path]:
    """Every manifest under `root`/decks, sorted."""
    return sorted(p for p in (root / "decks").iterdir() if p.suffix in CARD_SUFFIXES and p.is_file())


def _validate(file: Path, model: type[BaseModel], data: Any, what: str) -> tuple[Any, list[Diagnostic]]:
    if data is None:
        return None, [Diagnostic(file, f"is empty; write a {what} (see docs/format.md)", line=1)]
    if not isinstance(data, dict):
        return None, [
            Diagnostic(file, f"must be a mapping of keys (a {what}), got {kind_of(data)}; see docs/format.md", line=1)
        ]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, validation_diagnostics(file, model, data, exc)


def _card_file(path: Path) -> tuple[CardFile | None, list[Diagnostic]]:
    """Validate the file's own keys, then each card on its own, so one bad card hides no other problem."""
    data, problems = yamlio.load(path)
    if problems:
        return None, problems
    cards = data.get("cards") if isinstance(data, dict) else None
    header = {**data, "cards": []} if isinstance(data, dict) and isinstance(cards, list) else data
    parsed, problems = _validate(path, CardFile, header, "card file with a 'cards:' list")
    if parsed is None:
        return None, problems
    valid = []
    for index, card in enumerate(cards):
        try:
            valid.append(CARD_ADAPTER.validate_python(card))
        except ValidationError as exc:
            problems += validation_diagnostics(path, CardFile, data, exc, prefix=("cards", index))
            valid.append(None)
    # invalid cards stay as None so that indices keep matching the file
    return parsed.model_copy(update={"cards": valid}), problems


def read_deck(manifest_path: Path, root: Path) -> tuple[Deck | None, list[Diagnostic]]:
    """The deck of one manifest with its card files found but not yet read (see `file_cards`)."""
    data, problems = yamlio.load(manifest_path)
    if problems:
        return None, problems
    manifest, problems = _validate(manifest_path, Manifest, data, "deck manifest")
    if manifest is None:
        return None, problems
    deck = Deck(manifest, manifest_path, root.resolve())
    problems += _check_manifest(deck)
    deck.files, found = _card_paths(deck)
    problems += found
    return deck, problems


def file_cards(deck: Deck, file: Path) -> tuple[list[CardRef], list[CardRef], list[Diagnostic]]:
    """One card file of `deck`, read and validated: (every card valid on its own, the cards that become
    notes, the problems). Each card gets its file's defaults and must name one of the deck's tiers."""
    parsed, problems = _card_file(file)
    checked: list[CardRef] = []
    cards: list[CardRef] = []
    if parsed is None:
        return checked, cards, problems
    manifest = deck.manifest
    tier_ids = [tier.id for tier in manifest.tiers]
    for index, card in enumerate(parsed.cards):
        if card is None:
            continue
        tier = card.tier or parsed.tier
        path = ("cards", index)
        if tier is None:
            problems.append(
                Diagnostic(
                    file,
                    f"{format_path(path)}: card '{card.id}' has no tier; add 'tier: {tier_ids[0]}' to the "
                    "card or at the top of the file",
                    path=path,
                )
            )
            continue
        if tier not in tier_ids:
            where = (*path, "tier") if card.tier else ("tier",)
            problems.append(
                Diagnostic(
                    file,
                    f"{format_path(where)}: unknown tier '{tier}' in deck '{manifest.id}'; "
                    + did_you_mean(tier, tier_ids),
                    path=where,
                )
            )
            continue
        tags = tuple(dict.fromkeys((*manifest.tags, *parsed.tags, *card.tags)))
        ref = CardRef(card, file, index, tier, tags, card.source or parsed.source)
        found = _check_card(ref)
        problems += found
        checked.append(ref)
        if not found:  # a card with problems never reaches the notes (a short table row cannot)
            cards.append(ref)
    return checked, cards, problems


def _check_manifest(deck: Deck) -> list[Diagnostic]:
    problems = []
    for key in ("description", "version"):
        text = getattr(deck.manifest, key)
        for problem in render(text)[1] if text else ():
            problems.append(Diagnostic(deck.manifest_path, f"{key}: {problem}", path=(key,)))
    seen: dict[str, int] = {}
    for index, tier in enumerate(deck.manifest.tiers):
        if tier.id in seen:
            path = ("tiers", index, "id")
            problems.append(
                Diagnostic(
                    deck.manifest_path,
                    f"{format_path(path)}: tier '{tier.id}' is listed twice (first as tiers[{seen[tier.id]}]); "
                    "give each tier its own id",
                    path=path,
                )
            )
        seen.setdefault(tier.id, index)
    return problems


def _card_paths(deck: Deck) -> tuple[list[Path], list[Diagnostic]]:
    """The card files a manifest names, in order, each once; folders expand to their sorted YAML files."""
    files: list[Path] = []
    problems = []
    root = deck.root.resolve()
    manifests = root / "decks"
    for index, entry in enumerate(deck.manifest.cards):
        path = ("cards", index)

        def problem(message: str, path: tuple = path) -> None:
            problems.append(Diagnostic(deck.manifest_path, f"{format_path(path)}: {message}", path=path))

        target = (root / entry).resolve()
        if not target.is_relative_to(root):
            problem(
                f"'{shown(entry)}' lies outside the project; card paths are relative to the project root (the "
                "folder holding decks/) and must stay inside it"
            )
        elif target.is_relative_to(manifests):
            problem(f"'{shown(entry)}' is in decks/, where deck manifests live; keep card files outside decks/")
        elif target.is_dir():
            # never manifests, nor what hides in dot-folders (.git, .venv) when a folder as wide as '.' is named
            found = sorted(
                p
                for p in target.rglob("*")
                if p.suffix in CARD_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(target).parts)
                and p.resolve().is_relative_to(root)
                and not p.resolve().is_relative_to(manifests)
            )
            if not found:
                problem(f"the folder '{shown(entry)}' holds no .yaml card files; add one or remove the entry")
            files += found
        elif target.is_file():
            files.append(target)
        else:
            problem(
                f"'{shown(entry)}' does not exist; give a card file or folder relative to the project root (the "
                "folder holding decks/)"
            )
    return list(dict.fromkeys(files)), problems


def _check_card(ref: CardRef) -> list[Diagnostic]:
    """What the schema alone cannot say: cloze deletions, table shapes, text that breaks a cloze."""
    card, problems = ref.card, []

    def add(where: tuple, message: str) -> None:
        full = (*ref.path, *where)
        problems.append(Diagnostic(ref.file, f"{format_path(full)}: {message}", path=full))

    if isinstance(card, ClozeCard):
        problems += _check_cloze(ref, card.text)
    if isinstance(card, MechanismCard):
        for i, step in enumerate(card.steps):
            if "{{" in step or "}}" in step:
                add(("steps", i), "a step cannot contain '{{' or '}}' (each step is hidden as a cloze); remove them")
    if isinstance(card, TableCard):
        width = len(card.columns)
        seen_rows: dict[str, int] = {}
        for i, row in enumerate(card.rows):
            if len(row.cells) != width:
                add(
                    ("rows", i),
                    f"row has {len(row.cells)} cells but the table has {width} columns; "
                    f"{'add' if len(row.cells) < width else 'remove'} cells so each row has {width}",
                )
            for j, cell in enumerate(row.cells):
                if "{{" in cell or "}}" in cell:
                    add(
                        ("rows", i, j),
                        "a cell cannot contain '{{' or '}}' (each cell is hidden as a cloze); remove them",
                    )
            key = row.id or (slugify(row.cells[0]) if row.cells else "")
            if key in seen_rows:
                add(
                    ("rows", i),
                    f"row key '{key}' is used by rows[{seen_rows[key]}] too; give one row an id: {{id: ..., cells: [...]}}",
                )
            seen_rows.setdefault(key, i)
        seen_cols: dict[str, int] = {}
        for j, column in enumerate(card.columns):
            if "{{" in column.title or "}}" in column.title:
                add(
                    ("columns", j),
                    "a column header cannot contain '{{' or '}}' (the table is one cloze field); remove them",
                )
            key = column.id or slugify(column.title)
            if key in seen_cols:
                add(("columns", j), f"column key '{key}' is used by columns[{seen_cols[key]}] too; give one an id")
            seen_cols.setdefault(key, j)
    return problems


_CLOZE_TOKEN = re.compile(r"\{\{c(\d+)::|\}\}")


def _unclosed_openers(text: str) -> list[str]:
    """The numbers of `{{cN::` openers no `}}` closes, innermost last."""
    stack: list[str] = []
    for match in _CLOZE_TOKEN.finditer(text):
        if match.group(1) is not None:
            stack.append(match.group(1))
        elif stack:
            stack.pop()
    return stack


def _nested_opener(text: str) -> tuple[str, str] | None:
    """(outer, inner) numbers of the first deletion opened inside another one."""
    stack: list[str] = []
    for match in _CLOZE_TOKEN.finditer(text):
        if match.group(1) is not None:
            if stack:
                return stack[-1], match.group(1)
            stack.append(match.group(1))
        elif stack:
            stack.pop()
    return None


_ONE_COLON = re.compile(r"\{\{c\d+:(?!:)")


def _check_cloze(ref: CardRef, text: str) -> list[Diagnostic]:
    """A cloze text must hide something Anki can ask: at least one deletion, numbered from 1, not empty."""
    path = (*ref.path, "text")

    def problem(message: str) -> Diagnostic:
        return Diagnostic(ref.file, f"{format_path(path)}: {message}", path=path)

    unclosed = _unclosed_openers(text)
    if unclosed:
        return [problem(f"the deletion opened with '{{{{c{unclosed[0]}::' is never closed; end it with '}}}}'")]
    nested = _nested_opener(text)
    if nested:
        return [
            problem(
                f"deletion c{nested[1]} sits inside deletion c{nested[0]}; the package would hold no card for the "
                "inner one, so write each deletion on its own, e.g. {{c1::Osteoblasts}} {{c2::build}} bone"
            )
        ]
    deletions = CLOZE_RE.findall(text)
    if not deletions:
        if _ONE_COLON.search(text):
            return [problem("a cloze deletion takes two colons; write {{c1::answer}}, not {{c1:answer}}")]
        return [problem("a cloze card needs at least one deletion; mark the answer like {{c1::answer}}")]
    problems = []
    if any(int(number) == 0 for number, _ in deletions):
        problems.append(problem("cloze deletions are numbered from 1; write {{c1::...}} instead of {{c0::...}}"))
    if any(not answer.split("::", 1)[0].strip() for _, answer in deletions):
        problems.append(problem("a cloze deletion hides nothing; write the answer between '::' and '}}'"))
    return problems


def check_unique_ids(deck: Deck, cards: Iterable[CardId]) -> list[Diagnostic]:
    """Card ids must be unique across all of a deck's files."""
    first: dict[str, CardId] = {}
    problems = []
    locator = yamlio.Locator()
    for card in cards:
        card_id, file, index = card
        other = first.setdefault(card_id, card)
        if other is card:
            continue
        other_line = locator.line(other[1], ("cards", other[2], "id"))
        path = ("cards", index, "id")
        problems.append(
            Diagnostic(
                file,
                f"{format_path(path)}: duplicate card id '{card_id}', also used at "
                f"{other[1].relative_to(deck.root)}:{other_line}; card ids must be unique in a deck, rename one",
                path=path,
            )
        )
    return problems
