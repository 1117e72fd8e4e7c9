"""One card file at a time: everything a deck gets from a file that depends on that file alone.

A `FileUnit` holds the notes of a card file's cards (rendered, sanitised, with GUIDs and content
hashes), the ids of its cards and the file's errors; when lint is asked for, its `LintUnit` (`tierdeck.lint.file`)
rides along, cached beside it. Only what spans files is left to the deck: unique card ids, repeated prompts, the
lock file and the package.

Units are what makes large decks fast:
- **cached**: a unit is stored under a hash of the file's bytes and of its deck's manifest (and
  tierdeck's fingerprint, see `tierdeck.cache`), so after an edit only the edited file is parsed,
  validated and rendered again. Units that pack images are used from the cache only while every image
  still has the bytes it had; units with errors are never stored.
- **parallel**: when many files must be compiled (a first build, a changed manifest, a new tierdeck) or
  linted (a check right after a build, which does not lint), they are, in worker processes, one file per
  task, on every core.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from tierdeck import workers
from tierdeck.cache import Cache, decode, encode, file_digest, storable
from tierdeck.cache import key as cache_key
from tierdeck.errors import Diagnostic
from tierdeck.format.layout import shipped_folders
from tierdeck.lint.file import LintUnit, lint_file
from tierdeck.notes.expand import NoteSpec, expand
from tierdeck.notes.loader import CardId, Deck, file_cards
from tierdeck.notes.media import MediaResolver, same_bytes

# Below this much YAML to compile, starting worker processes costs about what it saves (a cold check of
# 2,000 benchmark cards, 0.5 MB: 0.35 s in one process, 0.33 s in two; 4,000 cards, 1 MB: 0.41 vs 0.36 s).
PARALLEL_MIN_BYTES = 1_000_000
PARALLEL_MIN_FILES = 4


@storable
@dataclass
class FileUnit:
    """What one card file gives its deck."""

    ids: list[CardId] = field(default_factory=list)  # every card valid on its own (for unique ids)
    notes: list[NoteSpec] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)  # errors
    lint: LintUnit | None = None  # with lint asked for; cached as an entry of its own, never inside the unit

    @property
    def media(self) -> list:
        """The images the unit's notes pack."""
        return [m for note in self.notes for m in note.media]


def compile_file(deck: Deck, file: Path, lint: bool = False) -> FileUnit:
    """Read, validate and expand one card file of `deck`; with `lint`, lint it too."""
    unit = FileUnit()
    checked, cards, unit.problems = file_cards(deck, file)
    unit.ids = [(ref.card.id, file, ref.index) for ref in checked]
    resolver = MediaResolver(card_roots(deck), deck.root, media_roots(deck))
    for ref in cards:
        notes, found = expand(deck.manifest.id, ref, deck.notetypes, resolver)
        unit.notes += notes
        unit.problems += found
    if lint:
        unit.lint = lint_file(deck, cards, unit.notes)
    return unit


def _lint_compiled(deck: Deck, file: Path, unit: FileUnit) -> LintUnit:
    """Lint a file whose unit came from the cache: its cards are read again (for their text as written)."""
    _, cards, _ = file_cards(deck, file)
    return lint_file(deck, cards, unit.notes)


def card_roots(deck: Deck) -> list[Path]:
    """The folders a deck's cards live in: images must stay inside them."""
    roots = []
    for entry in deck.manifest.cards:
        path = (deck.root / entry).resolve()
        roots.append(path if path.is_dir() else path.parent)
    return roots


def media_roots(deck: Deck) -> list[Path]:
    """The folders a deck ships whole (its manifest's `media:`), inside the project."""
    return shipped_folders(deck.root, deck.manifest.media)


def compile_deck(deck: Deck, cache: Cache | None = None, lint: bool = False) -> list[FileUnit]:
    """The unit of each of the deck's card files, in file order: from the cache where it holds them.

    With `lint`, each unit carries its LintUnit, from the cache too where it holds it. Files to compile and
    files whose unit is cached but not their lint (a check right after a build) share the worker processes.
    """
    keys = {file: _key(deck, file, cache) for file in deck.files}
    units: dict[Path, FileUnit] = {}
    unlinted = []
    for file, key in keys.items():
        unit = cache.get("units", key, deck.notetypes) if cache is not None and key else None
        if unit is not None and all(same_bytes(m) for m in unit.media):
            units[file] = unit
            if lint:
                unit.lint = cache.get("lint", key) if cache is not None and key else None
                if unit.lint is None:
                    unlinted.append(file)
    missing = [file for file in deck.files if file not in units]
    # the units read so far reach the workers by forking: a lint job finds its file's notes there
    task = _Task(deck, cache, lint, units)
    jobs = [_Job(file, keys[file], False) for file in missing] + [_Job(file, keys[file], True) for file in unlinted]
    for job, done in zip(jobs, _run_all(task, jobs), strict=True):
        if job.lint_only:
            assert isinstance(done, LintUnit)
            units[job.file].lint = done
        else:
            assert isinstance(done, FileUnit)
            units[job.file] = done
    if missing and cache is not None:
        cache.prune()  # what this run replaced is garbage once nobody has used it for a while
    return [units[file] for file in deck.files]


def _key(deck: Deck, file: Path, cache: Cache | None) -> str | None:
    if cache is None or not cache.enabled:
        return None
    try:
        parts = [str(deck.manifest_path), file_digest(deck.manifest_path), str(file), file_digest(file)]
    except OSError:
        return None  # compiled uncached: the unit says what is wrong with the file
    # the note types count as input: notes are made for them
    return cache_key("unit", deck.notetypes.digest, *parts)


@dataclass(frozen=True)
class _Job:
    """One card file to compile (with lint, if asked), or only to lint (its unit came from the cache)."""

    file: Path
    key: str | None
    lint_only: bool


class _Task:
    """Compiles (or only lints) one file of a deck and stores what it made in the cache (unless it has errors)."""

    def __init__(self, deck: Deck, cache: Cache | None, lint: bool, units: dict[Path, FileUnit]):
        self.deck, self.cache, self.lint, self.units = deck, cache, lint, units

    def __call__(self, job: _Job) -> FileUnit | LintUnit:
        if job.lint_only:
            return self._lint(job)[0]
        unit = compile_file(self.deck, job.file, self.lint)
        self._store(unit, job.key)
        return unit

    def _lint(self, job: _Job) -> tuple[LintUnit, bytes]:
        """Lint a file whose unit came from the cache (so a cache is there): the lint, encoded once for the cache
        and, in a worker, the way back."""
        found = _lint_compiled(self.deck, job.file, self.units[job.file])
        data = encode(found)
        if self.cache is not None and job.key:
            self.cache.put_bytes("lint", job.key, data)
        return found, data

    def _store(self, unit: FileUnit, key: str | None, encoded: bytes | None = None, lint: bytes | None = None) -> None:
        """Cache the unit and its lint (given encoded, in a worker: they go back to the main process too)."""
        if self.cache is None or not key or unit.problems:
            return
        if encoded is None:
            self.cache.put("units", key, replace(unit, lint=None), self.deck.notetypes)
        else:
            self.cache.put_bytes("units", key, encoded)
        if lint is not None:
            self.cache.put_bytes("lint", key, lint)
        elif unit.lint is not None:
            self.cache.put("lint", key, unit.lint)

    def encoded(self, job: _Job) -> bytes:
        """In a worker process: the job's result, encoded once for both the cache and the way back (a unit
        and its lint as two lines; JSON never holds a raw line break, so they split cleanly)."""
        if job.lint_only:
            return self._lint(job)[1]
        unit = compile_file(self.deck, job.file, self.lint)
        lint, unit.lint = unit.lint, None
        data = encode(unit, self.deck.notetypes)
        lint_data = encode(lint)  # `null` without lint: never stored
        self._store(unit, job.key, data, lint_data if lint is not None else None)
        return data + b"\n" + lint_data


def _run_all(task: _Task, jobs: list[_Job]) -> list[FileUnit | LintUnit]:
    """Each job's unit (or lint): in worker processes when there is enough work to share."""
    count = _workers([job.file for job in jobs])
    if count < 2:
        return [task(job) for job in jobs]
    done: list[FileUnit | LintUnit] = []
    for job, data in zip(jobs, workers.map_encoded(task.encoded, jobs, count), strict=True):
        if job.lint_only:
            done.append(decode(data))
            continue
        unit_data, lint_data = data.split(b"\n")
        unit = decode(unit_data, task.deck.notetypes)
        unit.lint = decode(lint_data)
        done.append(unit)
    return done


def _workers(files: list[Path]) -> int:
    """How many processes to compile `files` with: 1 unless the work is large (or TIERDECK_JOBS says)."""
    if workers.asked() is None and len(files) < PARALLEL_MIN_FILES:
        return 1
    size = 0
    for file in files:
        try:
            size += file.stat().st_size
        except OSError:
            pass
    return workers.count(len(files), large=size >= PARALLEL_MIN_BYTES)
