"""Finding and validating a project: deck manifests under decks/, the card files they point at.

Everything found wrong is collected as Diagnostics (with YAML paths; lines are filled in only for
diagnostics that are shown), so one run reports every problem, not just the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tierdeck.errors import Diagnostic, shown
from tierdeck.format import yamlio
from tierdeck.format.layout import card_files_below
from tierdeck.format.schema import (
    CARD_ADAPTER,
    CardFile,
    Evidence,
    LintOptOut,
    Manifest,
    did_you_mean,
    format_path,
    kind_of,
    validation_diagnostics,
)
from tierdeck.notes.kinds import KINDS
from tierdeck.notes.notetypes import NoteTypes
from tierdeck.notes.render import render


@dataclass(frozen=True)
class CardRef:
    """A validated card with the defaults of its file applied, and where it was written."""

    card: Any  # one of the schema's card models
    file: Path
    index: int  # position in the file's `cards` list
    tier: str
    tags: tuple[str, ...]
    source: str | None
    evidence: Evidence | None = None  # the card's own, else its file's
    collapse_extra: bool = False
    lint: LintOptOut | None = None  # the card's own opt-out, else its file's

    @property
    def ignored_rules(self) -> frozenset[str]:
        """The lint rules this card opts out of."""
        return frozenset(self.lint.ignore) if self.lint is not None else frozenset()

    @property
    def path(self) -> tuple:
        """The card's YAML path inside its file."""
        return ("cards", self.index)


CardId = tuple[str, Path, int]  # (card id, file, index in the file's `cards` list)


@dataclass
class Deck:
    """A manifest, the card files it names and the note types its cards can fill."""

    manifest: Manifest
    manifest_path: Path
    root: Path
    notetypes: NoteTypes
    files: list[Path] = field(default_factory=list)


def _validate(file: Path, model: type[BaseModel], data: Any, what: str) -> tuple[Any, list[Diagnostic]]:
    if data is None:
        return None, [Diagnostic(file, f"is empty; write a {what} (see 'tierdeck docs format')", line=1)]
    if not isinstance(data, dict):
        return None, [
            Diagnostic(file, f"must be a mapping of keys (a {what}), got {kind_of(data)}; see 'tierdeck docs format'", line=1)
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
    found = data.get("cards") if isinstance(data, dict) else None
    cards: list = found if isinstance(found, list) else []
    header = {**data, "cards": []} if isinstance(data, dict) and isinstance(found, list) else data
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


def read_manifest(manifest_path: Path) -> tuple[Manifest | None, list[Diagnostic]]:
    """One manifest, validated."""
    data, problems = yamlio.load(manifest_path)
    if problems:
        return None, problems
    return _validate(manifest_path, Manifest, data, "deck manifest")


def read_deck(
    manifest_path: Path, root: Path, notetypes: NoteTypes, manifest: Manifest | None = None
) -> tuple[Deck | None, list[Diagnostic]]:
    """The deck of one manifest with its card files found but not yet read (see `file_cards`)."""
    problems: list[Diagnostic] = []
    if manifest is None:
        manifest, problems = read_manifest(manifest_path)
        if manifest is None:
            return None, problems
    deck = Deck(manifest, manifest_path, root.resolve(), notetypes)
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
        collapse = card.collapse_extra if card.collapse_extra is not None else parsed.collapse_extra
        ref = CardRef(
            card,
            file,
            index,
            tier,
            tags,
            card.source or parsed.source,
            card.evidence or parsed.evidence,
            collapse,
            card.lint or parsed.lint,
        )
        found = _check_card(ref)
        problems += found
        checked.append(ref)
        if not found:  # a card with problems never reaches the notes (a short table row cannot)
            cards.append(ref)
    if parsed.evidence is not None:
        problems += _check_evidence(file, ("evidence",), parsed.evidence)
    return checked, cards, problems


def _check_manifest(deck: Deck) -> list[Diagnostic]:
    problems = []
    for key in ("description", "version"):
        text = getattr(deck.manifest, key)
        for problem in render(text)[1] if text else ():
            problems.append(Diagnostic(deck.manifest_path, f"{key}: {problem}", path=(key,)))
    if deck.manifest.id in deck.manifest.previous_ids:
        index = deck.manifest.previous_ids.index(deck.manifest.id)
        problems.append(
            Diagnostic(
                deck.manifest_path,
                f"previous_ids[{index}]: '{deck.manifest.id}' is the deck's current id; list only ids it had before",
                path=("previous_ids", index),
            )
        )
    titles = [tier.title for tier in deck.manifest.tiers]
    if sorted(titles, key=str.casefold) != titles:
        problems.append(
            Diagnostic(
                deck.manifest_path,
                "tiers: Anki lists subdecks alphabetically and, with its default new-card order, studies them in "
                f"that order: {', '.join(sorted(titles, key=str.casefold))}, not the order listed here; start each "
                "title with its number, e.g. '1 Fundamentals'",
                path=("tiers",),
                level="warning",
                at_key=True,
            )
        )
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
        if "\\" in entry and not target.exists():
            problem(
                f"'{shown(entry)}' uses '\\', which is not a folder separator here; use / in paths, e.g. "
                f"'{shown(entry.replace(chr(92), '/'))}' (it works on Windows too)"
            )
        elif not target.is_relative_to(root):
            problem(
                f"'{shown(entry)}' lies outside the project; card paths are relative to the project root (the "
                "folder holding decks/) and must stay inside it"
            )
        elif target.is_relative_to(manifests):
            problem(f"'{shown(entry)}' is in decks/, where deck manifests live; keep card files outside decks/")
        elif target.is_dir():
            found = card_files_below(target, root)
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
    for index, entry in enumerate(deck.manifest.media):
        target, where = (root / entry).resolve(), ("media", index)
        if not target.is_relative_to(root) or not target.is_dir():
            problems.append(
                Diagnostic(
                    deck.manifest_path,
                    f"{format_path(where)}: '{shown(entry)}' is not a folder inside the project; give a folder of media "
                    "relative to the project root (e.g. cards/<deck>/media), or remove the entry",
                    path=where,
                )
            )
    return list(dict.fromkeys(files)), problems


def _check_card(ref: CardRef) -> list[Diagnostic]:
    """What the schema alone cannot say: the card type's own rules, then what every card shares."""
    card = ref.card

    def located(where: tuple, message: str) -> Diagnostic:
        full = (*ref.path, *where)
        return Diagnostic(ref.file, f"{format_path(full)}: {message}", path=full)

    problems = [located(where, message) for where, message in KINDS[card.type].check(card)]
    if card.guid is not None and card.type == "table":
        problems.append(
            located(
                ("guid",),
                "a table makes one note per cell, so it cannot pin one GUID; remove 'guid' (imported notes become "
                "basic, cloze or note cards)",
            )
        )
    if card.evidence is not None:
        problems += _check_evidence(ref.file, (*ref.path, "evidence"), card.evidence)
    for index, row in enumerate(getattr(card, "rows", ())):
        if row.evidence is not None:
            problems += _check_evidence(ref.file, (*ref.path, "rows", index, "evidence"), row.evidence)
        for column, evidence in row.cell_evidence.items():
            problems += _check_evidence(ref.file, (*ref.path, "rows", index, "cell_evidence", column), evidence)
    return problems


def _check_evidence(file: Path, path: tuple, evidence: Evidence) -> list[Diagnostic]:
    """Every level but established says why (the mainstream position and, where known, a reference), and so
    does a source claim (what the source claims and what the evidence says)."""
    if evidence.note is not None:
        return []
    if evidence.level != "established":
        why = f"evidence level '{evidence.level}' needs a note saying why (the mainstream position and, where known, a reference)"
    elif evidence.source_claim is not None:
        why = (
            f"source_claim '{evidence.source_claim}' needs a note saying what the source claims and what the evidence "
            "says"
        )
    else:
        return []
    return [Diagnostic(file, f"{format_path(path)}: {why}; add 'note: ...'", path=path, at_key=True)]


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
