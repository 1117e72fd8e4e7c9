"""The core: validate a project, turn its cards into notes, write one `.apkg` per deck. Never prints.

`check` and `build` return a Report or raise InputError carrying every problem found, each located
at `file:line`. The command line is a thin layer over these two functions.

Reading a project has three phases: every deck's card files compile into units (`tierdeck.units`, cached
and in parallel); then identity resolves every note's GUID across all decks and lock files
(`tierdeck.identity`); then each deck's own checks run (unique ids, repeated prompts, note type
versions). Every manifest of the project is read and compiled even when only some are named, because a
note's identity can depend on another deck (a card moved between decks, a renamed deck's lock file).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from tierdeck import __version__, identity, yamlio
from tierdeck.cache import Cache, remembered_digests
from tierdeck.errors import Diagnostic, InputError, OutputError, UsageError, relative
from tierdeck.identity import DeckIdentity, DeckNotes
from tierdeck.lint import duplicate_warnings, similar_definition_warnings
from tierdeck.loader import Deck, check_unique_ids, discover, read_deck, root_of
from tierdeck.lock import Stamps, schema_problems, stamp
from tierdeck.notes import NoteSpec
from tierdeck.notetypes import NoteTypes, project_notetypes
from tierdeck.package import DeckLayout, Times, write_apkg
from tierdeck.record import Record
from tierdeck.render import safe_markdown as markdown  # the deck description is shown as HTML: sanitise it too
from tierdeck.units import compile_deck


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


@remembered_digests()
def check(root: Path | None = None, manifests: list[Path] | None = None, strict: bool = False) -> Report:
    """Validate without writing anything; with `strict`, lint warnings are errors too.

    A check of inputs identical to the last successful one answers from its record (`tierdeck.record`).
    """
    root = _project_root(root, manifests)
    record = Record(root, "check", _names(root, manifests), strict)
    if (hit := record.get()) is not None:
        return Report(root, warnings=hit[1], cached=hit[0])
    report = load(root, manifests)
    problems = list(report.warnings)
    if strict:
        locator = yamlio.Locator()
        problems += [locator.resolve(d) for d in _missing_evidence(report)]
    if strict and problems:
        raise InputError([replace(d, level="error") for d in problems])
    record.put(report, (tuple(report.summaries), report.warnings))
    return report


def _missing_evidence(report: Report) -> list[Diagnostic]:
    """With `--strict`, every card of a deck whose manifest sets `require_evidence` needs an evidence level."""
    problems = []
    for result in report.decks:
        if not result.deck.manifest.require_evidence:
            continue
        seen: set[tuple] = set()
        for note in result.notes:
            card_path = note.path[:2]
            if note.evidence is None and (note.file, card_path) not in seen:
                seen.add((note.file, card_path))
                problems.append(
                    Diagnostic(
                        note.file,
                        f"cards[{card_path[1]}]: card '{note.card_id}' has no evidence level, which this deck "
                        f"requires ({relative(result.deck.manifest_path, report.root)}: require_evidence); add "
                        "'evidence: {level: established}' or another level with a note, or a default at the top "
                        "of the file",
                        path=card_path,
                        level="warning",
                    )
                )
    return problems


def _names(root: Path, manifests: list[Path] | None) -> tuple[str, ...]:
    """The named manifests as a record's option (none: every manifest)."""
    return tuple(str(p.resolve()) for p in manifests or ())


def build_time() -> int:
    """The time stamped on what changed in this build: SOURCE_DATE_EPOCH when set, else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, got '{value}'") from None


def layout_of(result: DeckResult, tier: str | None = None) -> DeckLayout:
    """The Anki deck tree of a deck (only one tier's subdeck with `tier`)."""
    manifest = result.deck.manifest
    parts = []
    if manifest.description:
        parts.append(markdown(manifest.description))
    if manifest.version:
        parts.append(f"<p>Version {markdown(manifest.version)}</p>")
    tiers = tuple((t.id, t.title) for t in manifest.tiers if tier is None or t.id == tier)
    return DeckLayout(result.identity.namespace, manifest.name, "\n".join(parts), tiers)


@_gc_paused()
@remembered_digests()
def build(
    root: Path | None = None,
    manifests: list[Path] | None = None,
    out_dir: Path | None = None,
    tiers: tuple[str, ...] = (),
    locked: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Validate, then write `<deck id>.apkg` per deck into `out_dir` (default `<root>/dist`).

    Unchanged notes keep the time recorded in the deck's lock file; changed and new ones get the build
    time. The lock file is updated, unless `locked`, where a lock that would change is an error
    (nothing is written then). With `tiers`, each deck's package of each of those tiers is written as
    `<deck id>.<tier id>.apkg`, and lock files are left alone. `progress(done, total)` is called with
    the notes written so far, before the first package and after each one.
    """
    root = _project_root(root, manifests)
    out_dir = (out_dir or root / "dist").resolve()
    tiers = tuple(dict.fromkeys(tiers))
    record = Record(root, "build", _names(root, manifests), str(out_dir), tiers)
    if (hit := record.get()) is not None and _outputs_intact(hit[0], out_dir):
        return Report(root, warnings=hit[1], cached=hit[0])
    report = load(root, manifests)
    for result in report.decks:
        ids = [t.id for t in result.deck.manifest.tiers]
        unknown = [t for t in tiers if t not in ids]
        if unknown:
            raise UsageError(
                f"deck '{result.deck.manifest.id}' has no tier '{unknown[0]}'; its tiers are {', '.join(ids)}"
            )
        result.tiers = tiers
    now = build_time()
    stale = []
    for result in report.decks:
        result.stamps = stamp(result.identity.lock, result.notes, now)
        if locked and result.stamps.lock.dumps() != _read_or_empty(result.identity.lock_path):
            stale.append(_stale_lock(result))
    if stale:
        raise InputError(stale)
    try:
        _write_packages(report, out_dir, tiers, locked, progress)
    except OSError as exc:
        raise OutputError(
            f"cannot write {exc.filename or out_dir}: {exc.strerror or exc}; packages already there were left "
            "as they were (free some space, check permissions, or choose another folder with -o)"
        ) from exc
    # a rerun of these inputs finds the lock file this build wrote: nothing changed, moved or renamed since it
    unchanged = tuple(
        replace(s, changes=tuple((word, 0) for word, _ in s.changes), moved=(), renamed_from=None, moved_in=())
        for s in report.summaries
    )
    record.put(report, (unchanged, report.warnings))
    if not tiers:  # the build checked everything on the way: a check of the same inputs need not redo it
        checked = tuple(replace(s, outputs=()) for s in unchanged)
        Record(root, "check", _names(root, manifests), False).put(report, (checked, report.warnings))
    return report


def _write_packages(
    report: Report, out_dir: Path, tiers: tuple[str, ...], locked: bool, progress: Callable[[int, int], None] | None
) -> None:
    """Each deck's package(s), then its lock file (unless `locked` or `tiers`), then dist/manifest.json."""
    total = sum(1 for r in report.decks for n in r.notes if not tiers or n.tier in tiers)
    done = 0
    if progress:
        progress(done, total)
    for result in report.decks:
        stamps = result.stamps
        times = Times(stamps.timestamp, stamps.note_mtimes, stamps.note_ids, stamps.notetype_mtimes)
        for tier in tiers or (None,):
            notes = [n for n in result.notes if tier is None or n.tier == tier]
            name = result.deck.manifest.id + (f".{tier}" if tier else "")
            path = out_dir / f"{name}.apkg"
            write_apkg(path, layout_of(result, tier), notes, times, media=[m for n in notes for m in n.media])
            result.outputs.append(Output(path, hashlib.sha256(path.read_bytes()).hexdigest(), tier))
            done += len(notes)
            if progress:
                progress(done, total)
        if not tiers and not locked:
            _write_atomically(result.identity.lock_path, stamps.lock.dumps())
            old = result.identity.read_from
            if old is not None and old != result.identity.lock_path:
                old.unlink(missing_ok=True)  # the renamed deck's lock now lives under its new id
    write_release_manifest(out_dir, report.decks)


def _outputs_intact(summaries: tuple[DeckSummary, ...], out_dir: Path) -> bool:
    """Every package a remembered build wrote is still there, byte for byte, with its manifest.json."""
    if not (out_dir / "manifest.json").is_file():
        return False
    for summary in summaries:
        for output in summary.outputs:
            if not output.path.is_file() or hashlib.sha256(output.path.read_bytes()).hexdigest() != output.sha256:
                return False
    return True


def _read_or_empty(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return ""


def _stale_lock(result: DeckResult) -> Diagnostic:
    stamps = result.stamps
    counts = [
        f"{len(stamps.added)} added",
        f"{len(stamps.changed)} changed",
        f"{len(stamps.removed)} removed",
        f"{len(stamps.notetypes_changed)} note types changed",
    ]
    renamed = result.identity.renamed_from
    what = f"the deck was renamed from '{renamed}'" if renamed else f"{', '.join(counts)} since it was written"
    return Diagnostic(
        result.identity.lock_path if not renamed else result.identity.read_from,
        f"the lock file is out of date ({what}); run 'tierdeck build' without --locked and commit the updated "
        "lock file",
        line=1,
    )


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_release_manifest(out_dir: Path, decks: list[DeckResult]) -> Path:
    """`dist/manifest.json`: per package its deck, version, file, sha256 and note and card counts per tier.

    Entries of other packages already in the file are kept while their package still exists.
    """
    path = out_dir / "manifest.json"
    entries: dict[str, dict] = {}
    try:
        for entry in json.loads(path.read_text(encoding="utf-8")).get("decks", []):
            if (out_dir / entry["file"]).exists():
                entries[entry["file"]] = entry
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    for result in decks:
        for output in result.outputs:
            notes = [n for n in result.notes if output.tier in (None, n.tier)]
            note_counts = Counter(n.tier for n in notes)
            cards = {t: c for t, c in result.cards_per_tier.items() if output.tier in (None, t)}
            entry = {
                "id": result.deck.manifest.id,
                "name": result.deck.manifest.name,
                "version": result.deck.manifest.version,
                "file": output.path.name,
                "sha256": output.sha256,
                "notes": len(notes),
                "cards": sum(cards.values()),
                "tiers": {t: {"notes": note_counts[t], "cards": cards[t]} for t in cards},
            }
            entries[entry["file"]] = entry
    payload = {"tierdeck": __version__, "decks": [entries[k] for k in sorted(entries)]}
    _write_atomically(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path
