"""One card file at a time: everything a deck gets from a file that depends on that file alone.

A `FileUnit` holds the notes of a card file's cards (rendered, sanitised, with GUIDs and content
hashes), the ids of its cards, the file's errors and its cards' own lint warnings. Only what spans files is left to
the deck: unique card ids, repeated prompts, the lock file and the package.

Units are what makes large decks fast:
- **cached**: a unit is stored under a hash of the file's bytes and of its deck's manifest (and
  tierdeck's fingerprint, see `tierdeck.cache`), so after an edit only the edited file is parsed,
  validated and rendered again. Units that pack images are used from the cache only while every image
  still has the bytes it had; units with errors are never stored.
- **parallel**: when many files must be compiled (a first build, a changed manifest, a new tierdeck),
  they are compiled in worker processes, one file per task, on every core.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tierdeck.cache import Cache, file_digest
from tierdeck.cache import key as cache_key
from tierdeck.errors import Diagnostic, UsageError
from tierdeck.format import yamlio
from tierdeck.lint.rules import Definition, Prompt, card_warnings, definitions, note_warnings, prompts
from tierdeck.notes.expand import NoteSpec, expand
from tierdeck.notes.loader import CardId, Deck, file_cards
from tierdeck.notes.media import MediaResolver, same_bytes

# Below this much YAML to compile, starting worker processes costs about what it saves (a cold check of
# 2,000 benchmark cards, 0.5 MB: 0.35 s in one process, 0.33 s in two; 4,000 cards, 1 MB: 0.41 vs 0.36 s).
PARALLEL_MIN_BYTES = 1_000_000
PARALLEL_MIN_FILES = 4


@dataclass
class FileUnit:
    """What one card file gives its deck."""

    ids: list[CardId] = field(default_factory=list)  # every card valid on its own (for unique ids)
    notes: list[NoteSpec] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)  # errors
    warnings: list[Diagnostic] = field(default_factory=list)  # lint warnings of single cards
    prompts: list[Prompt] = field(default_factory=list)  # for the deck-wide check of repeated prompts
    definitions: list[Definition] = field(default_factory=list)  # for the deck-wide check of look-alike terms

    @property
    def media(self) -> list:
        """The images the unit's notes pack."""
        return [m for note in self.notes for m in note.media]


def compile_file(deck: Deck, file: Path) -> FileUnit:
    """Read, validate, expand and lint one card file of `deck`."""
    unit = FileUnit()
    checked, cards, unit.problems = file_cards(deck, file)
    unit.ids = [(ref.card.id, file, ref.index) for ref in checked]
    resolver = MediaResolver(card_roots(deck), deck.root)
    for ref in cards:
        notes, found = expand(deck.manifest.id, ref, deck.notetypes, resolver)
        unit.notes += notes
        unit.problems += found
        unit.warnings += card_warnings(ref, deck.notetypes)
        unit.prompts += prompts(ref)
        unit.definitions += definitions(ref)
    for note in unit.notes:
        unit.warnings += note_warnings(note)
    if unit.warnings:  # located now, once per compile (in a worker), not at every run that reads the unit
        locator = yamlio.Locator()
        unit.warnings = [locator.resolve(w) for w in unit.warnings]
    return unit


def card_roots(deck: Deck) -> list[Path]:
    """The folders a deck's cards live in: images must stay inside them."""
    roots = []
    for entry in deck.manifest.cards:
        path = (deck.root / entry).resolve()
        roots.append(path if path.is_dir() else path.parent)
    return roots


def compile_deck(deck: Deck, cache: Cache | None = None) -> list[FileUnit]:
    """The unit of each of the deck's card files, in file order: from the cache where it holds them."""
    keys = {file: _key(deck, file, cache) for file in deck.files}
    units: dict[Path, FileUnit] = {}
    for file, key in keys.items():
        unit = cache.get("units", key) if cache is not None and key else None
        if unit is not None and all(same_bytes(m) for m in unit.media):
            units[file] = unit
    missing = [file for file in deck.files if file not in units]
    units.update(zip(missing, _compile_all(_Task(deck, cache), [(f, keys[f]) for f in missing]), strict=True))
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


class _Task:
    """Compiles one file of a deck and stores its unit in the cache (unless it has errors)."""

    def __init__(self, deck: Deck, cache: Cache | None):
        self.deck, self.cache = deck, cache

    def __call__(self, file: Path, key: str | None) -> FileUnit:
        unit = compile_file(self.deck, file)
        if self.cache is not None and key and not unit.problems:
            self.cache.put("units", key, unit)
        return unit

    def pickled(self, job: tuple[Path, str | None]) -> bytes:
        """In a worker process: the unit, pickled once for both the cache and the way back."""
        file, key = job
        unit = compile_file(self.deck, file)
        data = pickle.dumps(unit, protocol=pickle.HIGHEST_PROTOCOL)
        if self.cache is not None and key and not unit.problems:
            self.cache.put_bytes("units", key, data)
        return data


def _compile_all(task: _Task, jobs: list[tuple[Path, str | None]]) -> list[FileUnit]:
    """Each job's unit: in worker processes when there is enough work to share."""
    workers = _workers([file for file, _ in jobs])
    if workers < 2:
        return [task(file, key) for file, key in jobs]
    # fork: the workers start with tierdeck already imported, so starting them costs milliseconds
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_leave_ctrl_c)
    try:
        return [pickle.loads(data) for data in pool.map(task.pickled, jobs)]
    finally:  # on an error or Ctrl-C, files not started yet are dropped, not compiled first
        pool.shutdown(wait=True, cancel_futures=True)


def _leave_ctrl_c() -> None:
    """In a worker: Ctrl-C is for the main process, which stops the pool (no traceback per worker)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _workers(files: list[Path]) -> int:
    """How many processes to compile `files` with: 1 unless the work is large and there are cores."""
    asked = os.environ.get("TIERDECK_JOBS", "").strip()
    if asked:
        if not asked.isdigit() or int(asked) < 1:
            raise UsageError(f"TIERDECK_JOBS must be a whole number of processes (1 or more), got '{asked}'")
        wanted = int(asked)
    else:
        wanted = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if wanted < 2 or len(files) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:  # forking a process with threads can deadlock the child
        return 1
    if asked:  # asked for explicitly: used whatever the size
        return min(wanted, len(files))
    if len(files) < PARALLEL_MIN_FILES:
        return 1
    size = 0
    for file in files:
        try:
            size += file.stat().st_size
        except OSError:
            pass
    return min(wanted, len(files)) if size >= PARALLEL_MIN_BYTES else 1
