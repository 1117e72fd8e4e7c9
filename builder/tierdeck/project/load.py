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

import re
from pathlib import Path

from tierdeck.cache import Cache, remembered_digests
from tierdeck.errors import Diagnostic, InputError, relative
from tierdeck.format import yamlio
from tierdeck.format.layout import (
    CARD_SUFFIXES,
    IMPORT_JOURNAL,
    card_files_below,
    discover,
    manifest_paths,
    project_root,
)
from tierdeck.lint.rules import duplicate_warnings, opted_out, similar_definition_warnings
from tierdeck.notes.expand import NoteSpec
from tierdeck.notes.loader import Deck, check_unique_ids, read_deck
from tierdeck.notes.notetypes import project_notetypes
from tierdeck.portable.lock import schema_problems
from tierdeck.project import identity
from tierdeck.project.identity import DeckNotes
from tierdeck.project.report import DeckResult, Report
from tierdeck.project.units import compile_deck
from tierdeck.workers import gc_paused


@gc_paused()
@remembered_digests()
def load(
    root: Path | None = None, manifests: list[Path] | None = None, cache: bool = True, lint: bool = True
) -> Report:
    """Validate every named manifest (default: all under decks/) and expand its cards into notes.

    With `lint` (check, preview, stats) the named decks are linted too and the warnings are in the report;
    without it (build, diff, import) only errors and the warnings that are not lint are.

    With `cache`, each card file's unit comes from `.tierdeck-cache/` when its inputs are unchanged, and
    is stored there otherwise (`tierdeck.units`); without, nothing is read from or written to it.
    """
    root = project_root(root, manifests)
    if (root / IMPORT_JOURNAL).is_file():
        raise InputError(
            [
                Diagnostic(
                    root / IMPORT_JOURNAL,
                    "a 'tierdeck import' into this project stopped while moving its files into place, so some card "
                    "files are old and some new; run the import again (any 'tierdeck import' into this project "
                    "finishes the stopped one first)",
                )
            ]
        )
    units_cache = Cache(root) if cache else None
    notetypes, problems = project_notetypes(root)
    report = Report(root, notetypes=notetypes)
    named = manifest_paths(root, manifests)
    complete = True  # every manifest of the project read: a lock none claims is an orphan
    owners: dict[str, Path] = {}
    read: list[tuple[Deck, list[NoteSpec], bool]] = []
    unlinted: dict[str, int] = {}  # per deck id: imported cards lint left alone
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
        units = compile_deck(deck, units_cache, lint=lint and asked)
        notes = [note for unit in units for note in unit.notes]
        if asked:
            for unit in units:
                problems += unit.problems + (unit.lint.warnings if unit.lint else [])
            problems += check_unique_ids(deck, (card for unit in units for card in unit.ids))
            if lint:
                lints = [unit.lint for unit in units if unit.lint is not None]
                across = duplicate_warnings(deck, (prompt for found in lints for prompt in found.prompts))
                across += similar_definition_warnings(deck, (d for found in lints for d in found.definitions))
                kept, ignored = opted_out(across, {card: o for found in lints for card, o in found.opt_outs.items()})
                problems += kept
                report.ignored += [item for found in lints for item in found.ignored] + ignored
                unlinted[deck.manifest.id] = sum(found.unlinted for found in lints)
        read.append((deck, notes, asked))
    if not any(p.level == "error" for p in problems):  # a card with errors makes no note: its tier may look empty
        if complete:
            problems += unlisted_card_files(root, [deck.files for deck, _, _ in read])
        for deck, notes, asked in read:
            if asked:
                problems += empty_tiers(deck, notes)
    identities, found = identity.resolve(
        root, [DeckNotes(d.manifest, d.manifest_path, notes, d.files) for d, notes, _ in read], complete
    )
    problems += found
    for deck, notes, asked in read:
        result = DeckResult(deck, notes, identities[deck.manifest.id], unlinted=unlinted.get(deck.manifest.id, 0))
        (report.decks if asked else report.others).append(result)
        if asked:
            used = list({n.notetype.key: n.notetype for n in notes}.values())
            problems += schema_problems(result.identity.lock, result.identity.lock_path, used)
    report.decks.sort(key=lambda r: named.index(r.deck.manifest_path))
    _finish(report, problems)
    return report


def unlisted_card_files(root: Path, listed: list[list[Path]]) -> list[Diagnostic]:
    """A card file under cards/ (or beside decks/, with a `cards:` list) that no manifest lists: its cards would
    silently reach no student."""
    read = {file.resolve() for files in listed for file in files}
    folder = root / "cards"
    found = card_files_below(folder, root) if folder.is_dir() else []
    found += [p for p in sorted(root.iterdir()) if p.suffix in CARD_SUFFIXES and p.is_file() and _has_cards_list(p)]
    return [
        Diagnostic(
            file,
            "no manifest in decks/ lists this card file, so its cards are in no deck; add it (or its folder) to a "
            f"manifest's cards:, e.g. 'cards: [{relative(file.parent, root) if file.parent != root else file.name}]', "
            "or delete it",
            line=1,
            level="warning",
        )
        for file in found
        if file.resolve() not in read
    ]


def _has_cards_list(path: Path) -> bool:
    """A YAML file at the project root that looks like a card file (a top-level `cards:` key), not some config."""
    try:
        return re.search(r"^cards:", path.read_text(encoding="utf-8", errors="replace"), re.MULTILINE) is not None
    except OSError:
        return False


def empty_tiers(deck: Deck, notes: list[NoteSpec]) -> list[Diagnostic]:
    """A tier no card fills: its subdeck would be empty in Anki, most likely a card file left out of cards:."""
    filled = {note.tier for note in notes}
    return [
        Diagnostic(
            deck.manifest_path,
            f"tiers[{index}]: tier '{tier.id}' has no cards, so the subdeck '{tier.title}' would be empty; give "
            f"cards 'tier: {tier.id}' (in a file the manifest's cards: lists), or remove the tier",
            path=("tiers", index),
            level="warning",
        )
        for index, tier in enumerate(deck.manifest.tiers)
        if tier.id not in filled
    ]


def _finish(report: Report, problems: list[Diagnostic]) -> None:
    """Locate every diagnostic (re-reading only files that have one), then raise if any is an error."""
    locator = yamlio.Locator()
    located = sorted(
        {locator.resolve(p) for p in problems},
        key=lambda d: (str(d.file), d.line or 0, d.message),
    )
    errors = [d for d in located if d.level == "error"]
    report.warnings = [d for d in located if d.level == "warning"]
    report.ignored = sorted(
        {(locator.resolve(d), rule, why) for d, rule, why in report.ignored},
        key=lambda item: (str(item[0].file), item[0].line or 0, item[1]),
    )
    if errors:
        raise InputError(errors + report.warnings)
