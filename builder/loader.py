"""Finding and validating a project: deck manifests under decks/, the card files they point at.

Everything found wrong is collected as Diagnostics (with YAML paths; lines are filled in only for
diagnostics that are shown), so one run reports every problem, not just the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from builder import yamlio
from builder.errors import Diagnostic, UsageError
from builder.schema import (
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


@dataclass
class Deck:
    """A manifest and its validated cards."""

    manifest: Manifest
    manifest_path: Path
    root: Path
    files: list[Path] = field(default_factory=list)
    cards: list[CardRef] = field(default_factory=list)


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


class Loader:
    """Loads manifests and card files, parsing each card file once even when several decks use it."""

    def __init__(self) -> None:
        self._card_files: dict[Path, tuple[CardFile | None, list[Diagnostic]]] = {}

    def card_file(self, path: Path) -> tuple[CardFile | None, list[Diagnostic]]:
        """The card file at `path` with every valid card, and the problems of the others."""
        if path not in self._card_files:
            self._card_files[path] = _card_file(path)
        return self._card_files[path]

    def deck(self, manifest_path: Path, root: Path) -> tuple[Deck | None, list[Diagnostic]]:
        """The deck of one manifest with all its cards, and every problem found on the way."""
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
        tier_ids = [tier.id for tier in manifest.tiers]
        for file in deck.files:
            parsed, found = self.card_file(file)
            problems += found
            if parsed is None:
                continue
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
                problems += _check_card(ref)
                deck.cards.append(ref)
        problems += _check_unique_ids(deck)
        return deck, problems


def _check_manifest(deck: Deck) -> list[Diagnostic]:
    problems = []
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
    for index, entry in enumerate(deck.manifest.cards):
        path = ("cards", index)
        target = (root / entry).resolve()
        if not target.is_relative_to(root):
            problems.append(
                Diagnostic(
                    deck.manifest_path,
                    f"{format_path(path)}: '{entry}' lies outside the project; card paths are relative to "
                    f"{root.name}/ and must stay inside it",
                    path=path,
                )
            )
            continue
        if target.is_dir():
            found = sorted(
                p
                for p in target.rglob("*")
                if p.suffix in CARD_SUFFIXES and p.is_file() and p.resolve().is_relative_to(root)
            )
            if not found:
                problems.append(
                    Diagnostic(
                        deck.manifest_path,
                        f"{format_path(path)}: the folder '{entry}' holds no .yaml card files; add one or remove the entry",
                        path=path,
                    )
                )
            files += found
        elif target.is_file():
            files.append(target)
        else:
            problems.append(
                Diagnostic(
                    deck.manifest_path,
                    f"{format_path(path)}: '{entry}' does not exist; give a card file or folder relative to the "
                    "project root (the folder holding decks/)",
                    path=path,
                )
            )
    return list(dict.fromkeys(files)), problems


def _check_card(ref: CardRef) -> list[Diagnostic]:
    """What the schema alone cannot say: cloze deletions, table shapes, text that breaks a cloze."""
    card, problems = ref.card, []

    def add(where: tuple, message: str) -> None:
        full = (*ref.path, *where)
        problems.append(Diagnostic(ref.file, f"{format_path(full)}: {message}", path=full))

    if isinstance(card, ClozeCard) and not CLOZE_RE.search(card.text):
        add(("text",), "a cloze card needs at least one deletion; mark the answer like {{c1::answer}}")
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
                    add(("rows", i, j), "a cell cannot contain '{{' or '}}' (each cell is hidden as a cloze)")
            key = row.id or (slugify(row.cells[0]) if row.cells else "")
            if key in seen_rows:
                add(
                    ("rows", i),
                    f"row key '{key}' is used by rows[{seen_rows[key]}] too; give one row an id: {{id: ..., cells: [...]}}",
                )
            seen_rows.setdefault(key, i)
        seen_cols: dict[str, int] = {}
        for j, column in enumerate(card.columns):
            key = column.id or slugify(column.title)
            if key in seen_cols:
                add(("columns", j), f"column key '{key}' is used by columns[{seen_cols[key]}] too; give one an id")
            seen_cols.setdefault(key, j)
    return problems


def _check_unique_ids(deck: Deck) -> list[Diagnostic]:
    first: dict[str, CardRef] = {}
    problems = []
    locator = yamlio.Locator()
    for ref in deck.cards:
        other = first.setdefault(ref.card.id, ref)
        if other is ref:
            continue
        other_line = locator.line(other.file, (*other.path, "id"))
        path = (*ref.path, "id")
        problems.append(
            Diagnostic(
                ref.file,
                f"{format_path(path)}: duplicate card id '{ref.card.id}', also used at "
                f"{other.file.relative_to(deck.root)}:{other_line}; card ids must be unique in a deck, rename one",
                path=path,
            )
        )
    return problems
