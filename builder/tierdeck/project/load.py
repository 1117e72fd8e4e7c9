"""Reading a project: every deck's card files compiled, identity resolved, each deck's checks run. Never prints.

`load` returns a Report (the decks read, their notes and identity, and every warning) or raises InputError
carrying every problem found, each located at `file:line`. It has three phases: every deck's card files
compile into units (`tierdeck.project.units`, cached and in parallel); then identity resolves every note's
GUID across all decks and lock files (`tierdeck.project.identity`); then each deck's own checks run (unique
ids, repeated prompts, note type versions). Every manifest of the project is read and compiled even when only
some are named, because a note's identity can depend on another deck (a card moved between decks, a renamed
deck's lock file).
"""

from __future__ import annotations

import gc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tierdeck.cache import Cache, remembered_digests, storable
from tierdeck.errors import Diagnostic, InputError, UsageError, relative
from tierdeck.format import yamlio
from tierdeck.lint.rules import duplicate_warnings, similar_definition_warnings
from tierdeck.notes.expand import NoteSpec
from tierdeck.notes.loader import Deck, check_unique_ids, discover, read_deck, root_of
from tierdeck.notes.notetypes import NoteTypes, project_notetypes
from tierdeck.portable.lock import Stamps, schema_problems
from tierdeck.project import identity
from tierdeck.project.identity import DeckIdentity, DeckNotes
from tierdeck.project.units import compile_deck


@storable
@dataclass(frozen=True)
class Output:
    """One package a build wrote."""

    path: Path
    sha256: str
    tier: str | None  # the one tier it holds, or None for the whole deck


@dataclass
class DeckResult:
    """One deck's notes, its identity in students' Anki and, after a build, the packages written."""

    deck: Deck
    notes: list[NoteSpec]
    identity: DeckIdentity
    tiers: tuple[str, ...] = ()  # set when a build was limited to some tiers
    stamps: Stamps | None = None  # after a build: times given and what changed since the lock
    outputs: list[Output] = field(default_factory=list)

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
        changes: tuple[tuple[str, int], ...] = ()
        moved: tuple[tuple[str, str, str], ...] = ()
        if self.stamps is not None:
            if self.identity.lock.notes:
                changes = tuple(
                    (word, len(items))
                    for word, items in (
                        ("added", self.stamps.added),
                        ("changed", self.stamps.changed),
                        ("removed", self.stamps.removed),
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
    changes: tuple[tuple[str, int], ...] = ()  # (what, how many notes) since the lock file, if there was one
    moved: tuple[tuple[str, str, str], ...] = ()  # (card id, old tier, new tier)
    renamed_from: str | None = None  # the deck id whose lock file it took over
    moved_in: tuple[tuple[str, str], ...] = ()  # (card id, deck it came from), keeping its identity

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

    @property
    def summaries(self) -> list[DeckSummary]:
        """One summary per deck, in manifest order."""
        return list(self.cached) if self.cached is not None else [d.summary() for d in self.decks]

    @property
    def all_decks(self) -> list[DeckResult]:
        """Every deck read, asked for or not."""
        return [*self.decks, *self.others]


def _manifest_paths(root: Path, manifests: list[Path] | None) -> list[Path]:
    if not manifests:
        found = discover(root)
        if not found:
            raise UsageError(f"no deck manifests in {root / 'decks'}; add one with 'tierdeck new DECK_ID'")
        return found
    missing = [str(p) for p in manifests if not p.is_file()]
    if missing:
        raise UsageError(f"manifest not found: {', '.join(missing)}")
    return [p.resolve() for p in manifests]


def _project_root(root: Path | None, manifests: list[Path] | None) -> Path:
    if root is None:
        if not manifests:
            raise UsageError("name a project root or at least one manifest")
        root = root_of(manifests[0])
    return root.resolve()


@contextmanager
def _gc_paused():
    """Pause Python's cyclic garbage collector for a bulk phase (usable as a decorator).

    Reading a large deck allocates millions of small objects that all live until the end, and every
    collection walks them all again: a third of a 50,000-card build went to it. Nothing built here
    forms cycles worth collecting (peak memory is the same without it); the collector comes back after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@_gc_paused()
@remembered_digests()
def load(root: Path | None = None, manifests: list[Path] | None = None, cache: bool = True) -> Report:
    """Validate every named manifest (default: all under decks/) and expand its cards into notes.

    With `cache`, each card file's unit comes from `.tierdeck-cache/` when its inputs are unchanged, and
    is stored there otherwise (`tierdeck.units`); without, nothing is read from or written to it.
    """
    root = _project_root(root, manifests)
    units_cache = Cache(root) if cache else None
    notetypes, problems = project_notetypes(root)
    report = Report(root, notetypes=notetypes)
    named = _manifest_paths(root, manifests)
    complete = True  # every manifest of the project read: a lock none claims is an orphan
    owners: dict[str, Path] = {}
    read: list[tuple[Deck, list[NoteSpec], bool]] = []
    for manifest_path in dict.fromkeys([*named, *discover(root)]):
        asked = manifest_path in named
        deck, found = read_deck(manifest_path, root, notetypes)
        if asked:
            problems += found
        if deck is None:
            complete = False
            continue
        other = owners.setdefault(deck.manifest.id, manifest_path)
        if other != manifest_path:
            problems.append(
                Diagnostic(
                    manifest_path,
                    f"id: deck id '{deck.manifest.id}' is also used by {relative(other, root)}; "
                    "each deck needs its own id (it names the .apkg and the deck's identity in Anki)",
                    path=("id",),
                )
            )
            complete = False
            continue
        units = compile_deck(deck, units_cache)
        notes = [note for unit in units for note in unit.notes]
        if asked:
            for unit in units:
                problems += unit.problems + unit.warnings
            problems += check_unique_ids(deck, (card for unit in units for card in unit.ids))
            problems += duplicate_warnings(deck, (prompt for unit in units for prompt in unit.prompts))
            problems += similar_definition_warnings(deck, (d for unit in units for d in unit.definitions))
        read.append((deck, notes, asked))
    identities, found = identity.resolve(
        root, [DeckNotes(d.manifest, d.manifest_path, notes, d.files) for d, notes, _ in read], complete
    )
    problems += found
    for deck, notes, asked in read:
        result = DeckResult(deck, notes, identities[deck.manifest.id])
        (report.decks if asked else report.others).append(result)
        if asked:
            used = list({n.notetype.key: n.notetype for n in notes}.values())
            problems += schema_problems(result.identity.lock, result.identity.lock_path, used)
    report.decks.sort(key=lambda r: named.index(r.deck.manifest_path))
    _finish(report, problems)
    return report


def _finish(report: Report, problems: list[Diagnostic]) -> None:
    """Locate every diagnostic (re-reading only files that have one), then raise if any is an error."""
    locator = yamlio.Locator()
    located = sorted(
        {locator.resolve(p) for p in problems},
        key=lambda d: (str(d.file), d.line or 0, d.message),
    )
    errors = [d for d in located if d.level == "error"]
    report.warnings = [d for d in located if d.level == "warning"]
    if errors:
        raise InputError(errors + report.warnings)
