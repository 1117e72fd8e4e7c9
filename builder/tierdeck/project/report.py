"""What reading a project gives every command: the Report, one DeckResult per deck, and their summaries.

Kept apart from `load` (which reads and compiles) and light to import: a check whose inputs did not change
answers from its record with these types alone, without loading the validation and rendering stack.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tierdeck.cache import storable
from tierdeck.errors import Diagnostic

if TYPE_CHECKING:
    from tierdeck.notes.expand import NoteSpec
    from tierdeck.notes.loader import Deck
    from tierdeck.notes.notetypes import NoteTypes
    from tierdeck.portable.lock import Stamps
    from tierdeck.project.identity import DeckIdentity


@storable
@dataclass(frozen=True)
class Output:
    """One package a build wrote."""

    path: Path
    sha256: str
    tier: str | None  # the one tier it holds, or None for the whole deck
    size: int = 0  # bytes, for the release manifest


@dataclass
class DeckResult:
    """One deck's notes, its identity in students' Anki and, after a build, the packages written."""

    deck: Deck
    notes: list[NoteSpec]
    identity: DeckIdentity
    tiers: tuple[str, ...] = ()  # set when a build was limited to some tiers
    stamps: Stamps | None = None  # after a build: times given and what changed since the lock
    outputs: list[Output] = field(default_factory=list)
    unlinted: int = 0  # after a check: imported cards lint left alone (the manifest's legacy_lint lints them)

    @property
    def cards_per_tier(self) -> dict[str, int]:
        """Anki cards per tier id, in manifest order (tiers without cards count 0)."""
        counts: Counter = Counter()
        for note in self.notes:
            counts[note.tier] += note.card_count
        return {t.id: counts[t.id] for t in self.deck.manifest.tiers if not self.tiers or t.id in self.tiers}

    @property
    def card_count(self) -> int:
        """All Anki cards of the deck."""
        return sum(note.card_count for note in self.notes)

    def summary(self) -> DeckSummary:
        """What is reported about this deck."""
        changes: tuple[tuple[str, int, int], ...] = ()
        moved: tuple[tuple[str, str, str], ...] = ()
        if self.stamps is not None:
            if self.identity.lock.notes:
                changes = tuple(
                    (word, len(set(cards)), len(cards))
                    for word, cards in (
                        ("added", [n.card_id for n in self.stamps.added]),
                        ("changed", [n.card_id for n in self.stamps.changed]),
                        ("removed", [str(entry.get("card")) for entry in self.stamps.removed]),
                    )
                )
            # one line per card, however many notes (table cells) it has
            moved = tuple(dict.fromkeys((n.card_id, old, n.tier) for n, old in self.stamps.moved))
        return DeckSummary(
            self.deck.manifest.id,
            self.deck.manifest_path,
            len(self.deck.files),
            self.cards_per_tier,
            tuple(self.outputs),
            changes,
            moved,
            self.identity.renamed_from,
            tuple(dict.fromkeys((n.card_id, origin) for n, origin in self.identity.moved_in)),
            self.unlinted,
        )


@storable
@dataclass(frozen=True)
class DeckSummary:
    """What a check or build reports about one deck: enough to print, small enough to remember."""

    id: str
    manifest_path: Path
    card_files: int
    cards_per_tier: dict[str, int]
    outputs: tuple[Output, ...] = ()
    changes: tuple[tuple[str, int, int], ...] = ()  # (what, how many cards, notes) since the lock file, if any
    moved: tuple[tuple[str, str, str], ...] = ()  # (card id, old tier, new tier)
    renamed_from: str | None = None  # the deck id whose lock file it took over
    moved_in: tuple[tuple[str, str], ...] = ()  # (card id, deck it came from), keeping its identity
    unlinted: int = 0  # imported cards (format: anki) that lint left alone: `check` says so once per deck

    @property
    def card_count(self) -> int:
        """All Anki cards of the deck."""
        return sum(self.cards_per_tier.values())


@dataclass
class Report:
    """What a check or build found and made; `warnings` are problems that do not stop a build."""

    root: Path
    decks: list[DeckResult] = field(default_factory=list)  # the decks asked for, in manifest order
    warnings: list[Diagnostic] = field(default_factory=list)
    cached: tuple[DeckSummary, ...] | None = None  # set when nothing changed since an identical run
    notetypes: NoteTypes | None = None
    others: list[DeckResult] = field(default_factory=list)  # the project's other decks, read for identity
    ignored: list[tuple[Diagnostic, str, str]] = field(default_factory=list)  # lint opted out of: (warning, rule, why)

    @property
    def summaries(self) -> list[DeckSummary]:
        """One summary per deck, in manifest order."""
        return list(self.cached) if self.cached is not None else [d.summary() for d in self.decks]

    @property
    def all_decks(self) -> list[DeckResult]:
        """Every deck read, asked for or not."""
        return [*self.decks, *self.others]
