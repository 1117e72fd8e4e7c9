"""A card file's lint: its cards' own warnings and what the deck-wide checks need of it, cached per file.

Lint is its own pass over compiled units. `check` and the preview run it; `build`, `diff` and `import` do not
pay for it. A file's `LintUnit` is cached under its unit's key (`tierdeck.project.units`), so after an edit
only the edited file is linted again, and a check after a build lints what the build compiled without
compiling it again (it reads the cards once more, for their text as written; in worker processes when there
are many files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tierdeck.cache import storable
from tierdeck.errors import Diagnostic
from tierdeck.format import yamlio
from tierdeck.lint.rules import Definition, Prompt, card_warnings, definitions, note_warnings, opted_out, prompts
from tierdeck.notes.expand import NoteSpec
from tierdeck.notes.loader import CardRef, Deck


@storable
@dataclass
class LintUnit:
    """What lint finds in one card file."""

    warnings: list[Diagnostic] = field(default_factory=list)  # lint warnings of single cards, located
    prompts: list[Prompt] = field(default_factory=list)  # for the deck-wide check of repeated prompts
    definitions: list[Definition] = field(default_factory=list)  # for the deck-wide check of look-alike terms
    # (card file, index) -> (rules it opts out of, why), and the warnings skipped so: (warning, rule, why)
    opt_outs: dict[tuple[Path, int], tuple[frozenset[str], str]] = field(default_factory=dict)
    ignored: list[tuple[Diagnostic, str, str]] = field(default_factory=list)
    unlinted: int = 0  # imported cards (`format: anki`) left unlinted: the deck's summary says how many


def lint_file(deck: Deck, cards: list[CardRef], notes: list[NoteSpec]) -> LintUnit:
    """Lint one card file's valid cards and the notes they made.

    An imported note as Anki held it (`format: anki`) is not linted unless its manifest says `legacy_lint:
    true`: authoring lint is for cards written in tierdeck (docs/migrating.md, "Raising the bar")."""
    unit = LintUnit()
    if not deck.manifest.legacy_lint:
        unit.unlinted = sum(ref.card.format == "anki" for ref in cards)
        cards = [ref for ref in cards if ref.card.format != "anki"]
        linted = {ref.card.id for ref in cards}
        notes = [note for note in notes if note.card_id in linted]
    for ref in cards:
        unit.warnings += card_warnings(ref, deck.notetypes)
        unit.prompts += prompts(ref)
        unit.definitions += definitions(ref)
    for note in notes:
        unit.warnings += note_warnings(note)
    unit.opt_outs = {(ref.file, ref.index): (ref.ignored_rules, ref.lint.why) for ref in cards if ref.lint is not None}
    if unit.opt_outs:
        unit.warnings, unit.ignored = opted_out(unit.warnings, unit.opt_outs)
    if unit.warnings or unit.ignored:  # located now, once per lint of the file, not at every run that reads it
        locator = yamlio.Locator()
        unit.warnings = [locator.resolve(w) for w in unit.warnings]
        unit.ignored = [(locator.resolve(w), rule, why) for w, rule, why in unit.ignored]
    return unit
