"""The core: validate a project, turn its cards into notes, write one `.apkg` per deck. Never prints.

`check` and `build` return a Report or raise InputError carrying every problem found, each located
at `file:line`. The command line is a thin layer over these two functions.
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

import yaml

from tierdeck import __version__, yamlio
from tierdeck.cache import Cache, file_digest, remembered_digests
from tierdeck.cache import key as cache_key
from tierdeck.errors import Diagnostic, InputError, OutputError, UsageError
from tierdeck.lint import duplicate_warnings
from tierdeck.loader import Deck, check_unique_ids, discover, read_deck, root_of
from tierdeck.lock import Lock, Stamps, schema_problems, stamp
from tierdeck.media import IMAGE_SUFFIXES
from tierdeck.notes import NoteSpec
from tierdeck.notetypes import NOTE_TYPES
from tierdeck.package import DeckLayout, write_apkg
from tierdeck.render import safe_markdown as markdown  # the deck description is shown as HTML: sanitise it too
from tierdeck.units import compile_deck


@dataclass
class DeckResult:
    """One deck's notes and, after a build, where its package was written."""

    deck: Deck
    notes: list[NoteSpec]
    lock: Lock
    lock_path: Path
    output: Path | None = None
    only_tier: str | None = None  # set when a build was limited to one tier
    stamps: Stamps | None = None  # after a build: times given and what changed since the lock
    sha256: str | None = None

    @property
    def cards_per_tier(self) -> dict[str, int]:
        """Anki cards per tier id, in manifest order (tiers without cards count 0)."""
        counts = Counter()
        for note in self.notes:
            counts[note.tier] += note.card_count
        tiers = [t.id for t in self.deck.manifest.tiers if self.only_tier in (None, t.id)]
        return {tier: counts[tier] for tier in tiers}

    @property
    def card_count(self) -> int:
        """All Anki cards of the deck."""
        return sum(note.card_count for note in self.notes)

    def summary(self) -> DeckSummary:
        """What is reported about this deck."""
        changes: tuple[tuple[str, int], ...] = ()
        moved: tuple[tuple[str, str, str], ...] = ()
        if self.stamps is not None:
            if self.lock.notes:
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
            self.output,
            self.sha256,
            changes,
            moved,
        )


@dataclass(frozen=True)
class DeckSummary:
    """What a check or build reports about one deck: enough to print, small enough to remember."""

    id: str
    manifest_path: Path
    card_files: int
    cards_per_tier: dict[str, int]
    output: Path | None = None
    sha256: str | None = None
    changes: tuple[tuple[str, int], ...] = ()  # (what, how many notes) since the lock file, if there was one
    moved: tuple[tuple[str, str, str], ...] = ()  # (card id, old tier, new tier)

    @property
    def card_count(self) -> int:
        """All Anki cards of the deck."""
        return sum(self.cards_per_tier.values())


@dataclass
class Report:
    """What a check or build found and made; `warnings` are problems that do not stop a build."""

    root: Path
    decks: list[DeckResult] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    cached: tuple[DeckSummary, ...] | None = None  # set when nothing changed since an identical run

    @property
    def summaries(self) -> list[DeckSummary]:
        """One summary per deck, in manifest order."""
        return list(self.cached) if self.cached is not None else [d.summary() for d in self.decks]


def _manifest_paths(root: Path, manifests: list[Path] | None) -> list[Path]:
    if not manifests:
        found = discover(root)
        if not found:
            raise UsageError(f"no deck manifests in {root / 'decks'}; add one (see docs/format.md)")
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
    report = Report(root)
    problems: list[Diagnostic] = []
    owners: dict[str, Path] = {}
    for manifest_path in _manifest_paths(root, manifests):
        deck, found = read_deck(manifest_path, root)
        problems += found
        if deck is None:
            continue
        other = owners.setdefault(deck.manifest.id, manifest_path)
        if other != manifest_path:
            problems.append(
                Diagnostic(
                    manifest_path,
                    f"id: deck id '{deck.manifest.id}' is also used by {other.relative_to(root)}; "
                    "each deck needs its own id (it names the .apkg and Anki's deck identity)",
                    path=("id",),
                )
            )
            continue
        units = compile_deck(deck, units_cache)
        notes: list[NoteSpec] = []
        for unit in units:
            notes += unit.notes
            problems += unit.problems + unit.warnings
        problems += check_unique_ids(deck, (card for unit in units for card in unit.ids))
        problems += duplicate_warnings(deck, (prompt for unit in units for prompt in unit.prompts))
        lock_path = Lock.path_for(manifest_path, deck.manifest.id)
        lock, found = Lock.read(lock_path, deck.manifest.id)
        problems += found
        problems += schema_problems(lock, lock_path, list({n.notetype.key: n.notetype for n in notes}.values()))
        report.decks.append(DeckResult(deck, notes, lock, lock_path))
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

    A check of inputs identical to the last successful one answers from its record (see `_Record`).
    """
    root = _project_root(root, manifests)
    record = _Record(root, manifests, "check", strict)
    if (hit := record.get()) is not None:
        return Report(root, warnings=hit[1], cached=hit[0])
    report = load(root, manifests)
    if strict and report.warnings:
        raise InputError([replace(d, level="error") for d in report.warnings])
    record.put((tuple(report.summaries), report.warnings))
    return report


class _Record:
    """The result of the last successful check or build of exactly these inputs, as `make` would use it.

    The key hashes tierdeck's fingerprint, the command and its options, every manifest, lock file and
    every YAML or image file below the folders the manifests name. Anything changed misses the record.
    """

    def __init__(self, root: Path, manifests: list[Path] | None, command: str, *options: object):
        self.root, self.manifests, self.parts = root, manifests, (command, repr(options))
        self.cache = Cache(root)

    def key(self) -> str | None:
        """The key of the inputs as they are now, or None when they cannot be listed cheaply."""
        try:
            paths = _manifest_paths(self.root, self.manifests)
        except UsageError:
            return None
        # the note types count as input: what they hold is what students' Anki receives
        parts: list[str | bytes] = [*self.parts, *(nt.content_hash for nt in NOTE_TYPES.values())]
        for manifest_path in paths:
            raw = manifest_path.read_bytes()
            parts += [str(manifest_path), raw]
            try:
                data = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            except yaml.YAMLError:
                return None
            if (
                not isinstance(data, dict)
                or not isinstance(data.get("id"), str)
                or not isinstance(data.get("cards"), list)
            ):
                return None
            lock = Lock.path_for(manifest_path, data["id"])
            # never remembered: a build rewrites it
            parts += [str(lock), hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else "(none)"]
            for entry in data["cards"]:
                target = self.root / str(entry)
                files = (
                    sorted(p for p in target.rglob("*") if p.suffix.lower() in _INPUT_SUFFIXES)
                    if target.is_dir()
                    else [target]
                )
                for file in files:
                    parts += [str(file), file_digest(file) if file.is_file() else "(missing)"]
        return cache_key(*parts)

    def get(self) -> object | None:
        """The remembered result, or None."""
        if not self.cache.enabled:
            return None
        key = self.key()
        return self.cache.get("records", key) if key else None

    def put(self, value: object) -> None:
        """Remember `value` for the inputs as they are now (after a build: including its lock file)."""
        if self.cache.enabled and (key := self.key()):
            self.cache.put("records", key, value)


_INPUT_SUFFIXES = frozenset((".yaml", ".yml", *IMAGE_SUFFIXES))


def build_time() -> int:
    """The time stamped on what changed in this build: SOURCE_DATE_EPOCH when set, else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, got '{value}'") from None


def layout_of(deck: Deck, tier: str | None = None) -> DeckLayout:
    """The Anki deck tree of a deck (only one tier's subdeck with `tier`)."""
    manifest = deck.manifest
    parts = []
    if manifest.description:
        parts.append(markdown(manifest.description))
    if manifest.version:
        parts.append(f"<p>Version {markdown(manifest.version)}</p>")
    tiers = tuple((t.id, t.title) for t in manifest.tiers if tier is None or t.id == tier)
    return DeckLayout(manifest.id, manifest.name, "\n".join(parts), tiers)


@_gc_paused()
@remembered_digests()
def build(
    root: Path | None = None,
    manifests: list[Path] | None = None,
    out_dir: Path | None = None,
    tier: str | None = None,
    locked: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Validate, then write `<deck id>.apkg` per deck into `out_dir` (default `<root>/dist`).

    Unchanged notes keep the time recorded in the deck's lock file; changed and new ones get the build
    time. The lock file is updated, unless `locked`, where a lock that would change is an error
    (nothing is written then). A one-`tier` build leaves lock files alone. `progress(done, total)` is
    called with the notes written so far, before the first package and after each one.
    """
    root = _project_root(root, manifests)
    out_dir = (out_dir or root / "dist").resolve()
    record = _Record(root, manifests, "build", str(out_dir), tier)
    if (hit := record.get()) is not None and _outputs_intact(hit[0], out_dir):
        return Report(root, warnings=hit[1], cached=hit[0])
    report = load(root, manifests)
    if tier is not None:
        for result in report.decks:
            ids = [t.id for t in result.deck.manifest.tiers]
            if tier not in ids:
                raise UsageError(
                    f"deck '{result.deck.manifest.id}' has no tier '{tier}'; its tiers are {', '.join(ids)}"
                )
    now = build_time()
    stale = []
    for result in report.decks:
        result.stamps = stamp(result.lock, result.notes, now)
        if locked and result.stamps.lock.dumps() != _read_or_empty(result.lock_path):
            stale.append(_stale_lock(result))
    if stale:
        raise InputError(stale)
    try:
        _write_packages(report, out_dir, tier, locked, progress)
    except OSError as exc:
        raise OutputError(
            f"cannot write {exc.filename or out_dir}: {exc.strerror or exc}; packages already there were left "
            "as they were (free some space, check permissions, or choose another folder with -o)"
        ) from exc
    # a rerun of these inputs finds the lock file this build wrote: nothing changed or moved since it
    unchanged = tuple(replace(s, changes=tuple((word, 0) for word, _ in s.changes), moved=()) for s in report.summaries)
    record.put((unchanged, report.warnings))
    if tier is None:  # the build checked everything on the way: a check of the same inputs need not redo it
        checked = tuple(replace(s, output=None, sha256=None, changes=(), moved=()) for s in report.summaries)
        _Record(root, manifests, "check", False).put((checked, report.warnings))
    return report


def _write_packages(
    report: Report, out_dir: Path, tier: str | None, locked: bool, progress: Callable[[int, int], None] | None
) -> None:
    """Each deck's package, then its lock file (unless `locked` or one `tier`), then dist/manifest.json."""
    total, done = sum(1 for r in report.decks for n in r.notes if tier in (None, n.tier)), 0
    if progress:
        progress(done, total)
    for result in report.decks:
        stamps = result.stamps
        notes = [n for n in result.notes if tier is None or n.tier == tier]
        result.notes, result.only_tier = notes, tier
        name = result.deck.manifest.id + (f".{tier}" if tier else "")
        result.output = out_dir / f"{name}.apkg"
        lock_text = _Later(stamps.lock.dumps) if tier is None and not locked else None
        write_apkg(
            result.output,
            layout_of(result.deck, tier),
            notes,
            timestamp=stamps.timestamp,
            note_mtimes=stamps.note_mtimes,
            notetype_mtimes=stamps.notetype_mtimes,
            media=[m for n in notes for m in n.media],
            meanwhile=lock_text,  # the new lock file is made while the package is compressed
        )
        result.sha256 = hashlib.sha256(result.output.read_bytes()).hexdigest()
        done += len(notes)
        if progress:
            progress(done, total)
        if lock_text is not None:
            _write_atomically(result.lock_path, lock_text.value)
    write_release_manifest(out_dir, report.decks)


class _Later:
    """A call made when convenient (`write_apkg`'s `meanwhile`), keeping its result."""

    def __init__(self, call: Callable[[], str]):
        self.call, self.value = call, ""

    def __call__(self) -> None:
        self.value = self.call()


def _outputs_intact(summaries: tuple[DeckSummary, ...], out_dir: Path) -> bool:
    """Every package a remembered build wrote is still there, byte for byte, with its manifest.json."""
    if not (out_dir / "manifest.json").is_file():
        return False
    for summary in summaries:
        if summary.output is None or not summary.output.is_file():
            return False
        if hashlib.sha256(summary.output.read_bytes()).hexdigest() != summary.sha256:
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
    return Diagnostic(
        result.lock_path,
        f"the lock file is out of date ({', '.join(counts)} since it was written); "
        "run 'tierdeck build' without --locked and commit the updated lock file",
        line=1,
    )


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_release_manifest(out_dir: Path, decks: list[DeckResult]) -> Path:
    """`dist/manifest.json`: per deck its version, file, sha256 and note and card counts per tier.

    Entries of other decks already in the file are kept while their package still exists.
    """
    path = out_dir / "manifest.json"
    entries: dict[str, dict] = {}
    try:
        for entry in json.loads(path.read_text(encoding="utf-8")).get("decks", []):
            if (out_dir / entry["file"]).exists():
                entries[entry["id"] + entry["file"]] = entry
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    for result in decks:
        notes = Counter(n.tier for n in result.notes)
        cards = result.cards_per_tier
        entry = {
            "id": result.deck.manifest.id,
            "name": result.deck.manifest.name,
            "version": result.deck.manifest.version,
            "file": result.output.name,
            "sha256": result.sha256,
            "notes": len(result.notes),
            "cards": result.card_count,
            "tiers": {t: {"notes": notes[t], "cards": cards[t]} for t in cards},
        }
        entries[entry["id"] + entry["file"]] = entry
    payload = {"tierdeck": __version__, "decks": [entries[k] for k in sorted(entries)]}
    _write_atomically(path, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path
