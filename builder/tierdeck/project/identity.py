"""Which note in a student's Anki each note of a build is: GUIDs resolved across every deck and lock file.

Anki matches an imported note to the student's copy by GUID alone. A GUID that changes by accident gives
every student a second copy of the card, without its review history. So, across the whole project:

- A deck's lock file records the GUID of every note students may have; a note whose key is in the lock
  keeps that GUID, whatever else changed.
- New notes derive their GUID from the deck's *namespace* (the id it had when created, recorded in the
  lock) and their key, so renaming a deck's `id` changes nothing students hold. The manifest names its
  old ids in `previous_ids`, which is how its lock file is found after the rename.
- A lock file no manifest claims is an error: its deck was renamed without `previous_ids`, or deleted,
  and rebuilding its cards under another id would duplicate them.
- A card that moves to another deck (its key gone from the deck whose lock has it) keeps its GUID.
- A card file listed by several decks gives its notes one identity in all of them, so a student who
  imports both decks studies each card once (it stays in the deck imported first).
- A card may pin the GUID it had in Anki (`guid:`, for imported decks); a pinned GUID must be unique and
  agree with the lock.
- A card whose id changed names its old ids in `previous_ids` and keeps the GUID recorded under them. A
  released card whose id is gone while a new card has exactly its content (the id aside) is refused: it is a
  rename without `previous_ids`, and would reach every student twice.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tierdeck.errors import Diagnostic, relative
from tierdeck.format.schema import Manifest, format_path
from tierdeck.notes.expand import NoteSpec, content_hash
from tierdeck.portable.ids import guid_for
from tierdeck.portable.lock import Lock


@dataclass
class DeckIdentity:
    """Where a deck's notes come from in students' Anki: its lock, namespace and what moved or was renamed."""

    namespace: str
    lock: Lock
    lock_path: Path  # where the deck's lock is written: decks/<id>.lock
    read_from: Path | None  # where it was read (an old id's lock after a rename), None when there was none
    renamed_from: str | None = None  # the id whose lock this deck took over
    moved_in: list[tuple[NoteSpec, str]] = field(default_factory=list)  # (note, deck id it came from)


@dataclass
class DeckNotes:
    """One deck as identity sees it: its manifest, where that is, and its compiled notes."""

    manifest: Manifest
    manifest_path: Path
    notes: list[NoteSpec]
    files: list[Path]


def resolve(root: Path, decks: list[DeckNotes], complete: bool) -> tuple[dict[str, DeckIdentity], list[Diagnostic]]:
    """Resolve every note's GUID in place; return each deck's identity (by deck id) and the problems.

    `complete` says that `decks` holds every manifest of the project, so a lock none of them claims is an
    orphan (with a manifest that failed to read, it might be that one's).
    """
    problems: list[Diagnostic] = []
    locks: dict[Path, Lock] = {}
    for path in sorted((root / "decks").glob("*.lock")):
        lock, found = Lock.read(path)
        problems += found
        if lock is not None:
            locks[path] = lock
    identities: dict[str, DeckIdentity] = {}
    claimed: set[Path] = set()
    for deck in decks:
        identity, found = _deck_identity(root, deck, locks)
        problems += found
        identities[deck.manifest.id] = identity
        claimed.add(identity.lock_path)
        claimed.update(deck.manifest_path.parent / f"{old}.lock" for old in deck.manifest.previous_ids)
    if complete:
        problems += _orphans(root, locks, claimed, decks)
    problems += _assign(root, decks, identities, locks, claimed)
    return identities, problems


def _deck_identity(root: Path, deck: DeckNotes, locks: dict[Path, Lock]) -> tuple[DeckIdentity, list[Diagnostic]]:
    manifest, problems = deck.manifest, list[Diagnostic]()
    own = Lock.path_for(deck.manifest_path, manifest.id)
    previous = [Lock.path_for(deck.manifest_path, old) for old in reversed(manifest.previous_ids)]
    read_from = next((p for p in (own, *previous) if p in locks), None)
    if read_from is None:
        namespace = manifest.previous_ids[0] if manifest.previous_ids else manifest.id
        return DeckIdentity(namespace, Lock(manifest.id, namespace), own, None), problems
    lock = locks[read_from]
    if lock.deck != manifest.id and lock.deck not in manifest.previous_ids:
        problems.append(
            Diagnostic(
                read_from,
                f"this lock file records deck '{lock.deck}', not '{manifest.id}' ({relative(deck.manifest_path, root)}); restore "
                f"the deck's own lock from git, or if '{lock.deck}' was this deck's id, add it to the manifest's "
                "previous_ids",
                line=1,
            )
        )
    for stale in (p for p in previous if p in locks and p != read_from):
        problems.append(
            Diagnostic(
                stale,
                f"deck '{manifest.id}' ({relative(deck.manifest_path, root)}) now keeps its identity in {read_from.name}, so "
                "this older lock file is not used; delete it",
                line=1,
                level="warning",
            )
        )
    renamed = read_from.stem if read_from != own else None
    taken = Lock(manifest.id, lock.namespace, lock.notes, lock.notetypes)
    return DeckIdentity(lock.namespace, taken, own, read_from, renamed), problems


def _orphans(root: Path, locks: dict[Path, Lock], claimed: set[Path], decks: list[DeckNotes]) -> list[Diagnostic]:
    """A lock no manifest claims: its deck was renamed without previous_ids, or deleted."""
    problems = []
    for path, lock in locks.items():
        if path in claimed:
            continue
        keys = set(lock.notes)
        guess = max(decks, key=lambda d: len(keys & {n.key for n in d.notes}), default=None)
        shared = len(keys & {n.key for n in guess.notes}) if guess is not None else 0
        if guess is not None and keys and shared * 2 >= len(keys):
            hint = (
                f"deck '{guess.manifest.id}' ({relative(guess.manifest_path, root)}) holds {shared} of its {len(keys)} notes: "
                f"if you renamed '{lock.deck}' to '{guess.manifest.id}', add 'previous_ids: [{lock.deck}]' to that "
                "manifest so students keep their cards and history"
            )
        else:
            hint = (
                f"if you renamed the deck, add 'previous_ids: [{lock.deck}]' to its manifest so students keep their "
                "cards and history"
            )
        problems.append(
            Diagnostic(
                path,
                f"this lock file belongs to deck '{lock.deck}', which no manifest in decks/ has any more; building "
                f"its cards under another id would give every student a second copy of each. {hint}; if you retired "
                "the deck, delete this lock file (students keep the cards they have)",
                line=1,
            )
        )
    return problems


def _assign(
    root: Path,
    decks: list[DeckNotes], identities: dict[str, DeckIdentity], locks: dict[Path, Lock], claimed: set[Path]
) -> list[Diagnostic]:
    """Give every note its GUID: pinned, else its lock's, else a moved or shared note's, else derived."""
    problems: list[Diagnostic] = []
    # Who lists each card file: a shared file's notes take one identity, its first deck's (manifest order).
    listed_by: dict[Path, list[str]] = defaultdict(list)
    for deck in decks:
        for file in deck.files:
            listed_by[file].append(deck.manifest.id)
    current_keys = {deck.manifest.id: {n.key for n in deck.notes} for deck in decks}
    by_lock = {identity.read_from: deck_id for deck_id, identity in identities.items() if identity.read_from}
    # (key -> [(deck id or lock stem, guid)]) of notes recorded in a lock that their deck no longer builds
    left: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path, lock in locks.items():
        owner = by_lock.get(path)
        if owner is None and path in claimed:
            continue  # an older lock of a renamed deck, superseded
        keep = current_keys.get(owner, set()) if owner is not None else set()
        for key, held in lock.notes.items():
            if key not in keep and isinstance(held.get("guid"), str):
                left[key].append((owner or lock.deck, held["guid"]))
    shared_guids: dict[tuple[Path, str], str] = {}
    for deck in decks:
        identity = identities[deck.manifest.id]
        recorded = identity.lock.notes
        for note in deck.notes:
            entry = recorded.get(note.key)
            if note.pinned:
                if entry is not None and entry.get("guid") != note.guid:
                    problems.append(
                        _located(
                            note,
                            "guid",
                            f"the guid '{note.guid}' differs from the one students have for this card "
                            f"('{entry.get('guid')}', in {identity.lock_path.name}); changing it would give every "
                            "student a second copy: restore the old guid, or give the card a new id",
                        )
                    )
                continue
            if entry is not None and isinstance(entry.get("guid"), str):
                note.guid = entry["guid"]
                continue
            entry = next((recorded[k] for k in note.previous_keys if k in recorded), None)
            if entry is not None and isinstance(entry.get("guid"), str):
                note.guid = entry["guid"]  # a renamed card: the note students have
                continue
            sharing = listed_by.get(note.file, [])
            if len(sharing) > 1:
                first = sharing[0]
                shared_key = (note.file, note.key)
                if shared_key not in shared_guids:
                    recorded_elsewhere = next(
                        (
                            identities[d].lock.notes[note.key]["guid"]
                            for d in sharing
                            if note.key in identities[d].lock.notes
                        ),
                        None,
                    )
                    shared_guids[shared_key] = recorded_elsewhere or guid_for(identities[first].namespace, note.key)
                note.guid = shared_guids[shared_key]
                continue
            moved = [(d, g) for d, g in left.get(note.key, []) if d != deck.manifest.id]
            if moved:
                origin, note.guid = moved[0]
                identity.moved_in.append((note, origin))
                continue
            note.guid = guid_for(identity.namespace, note.key)  # a new note: derived here, once
    problems += _duplicates(root, decks)
    all_keys = set().union(*current_keys.values())
    for deck in decks:
        problems += _renamed_without_previous_ids(deck, identities[deck.manifest.id], all_keys)
    return problems


def _renamed_without_previous_ids(deck: DeckNotes, identity: DeckIdentity, built: set[str]) -> list[Diagnostic]:
    """A new card that is a released card whose id changed: refused, with how to keep the card's identity."""
    recorded = identity.lock.notes
    claimed = {k for note in deck.notes for k in note.previous_keys}
    gone = {
        (entry.get("type"), entry.get("hash")): key
        for key, entry in recorded.items()
        if key not in built and key not in claimed
    }
    if not gone:
        return []
    problems, reported = [], set()
    for note in deck.notes:
        if note.key in recorded or note.pinned or note.previous_keys or note.card_id in reported:
            continue
        suffix = note.key[len(note.card_id) :]  # a table cell's /row/column
        for (notetype, digest), old_key in gone.items():
            old_id = old_key[: len(old_key) - len(suffix)] if suffix and old_key.endswith(suffix) else old_key
            if notetype != note.notetype.key or (suffix and not old_key.endswith(suffix)):
                continue
            fields = tuple(old_key if name == "CardId" else value for name, value in zip(note.notetype.fields, note.fields))
            if content_hash(note.notetype.key, fields, note.tags) != digest:
                continue
            reported.add(note.card_id)
            problems.append(
                _located(
                    note,
                    "id",
                    f"card '{note.card_id}' is released card '{old_id}' under a new id (same content; "
                    f"'{old_id}' is gone): students would get it twice, the new copy without their reviews; keep its "
                    f"identity with 'previous_ids: [{old_id}]' on this card, or change the id back to '{old_id}'",
                )
            )
            break
    return problems


def _duplicates(root: Path, decks: list[DeckNotes]) -> list[Diagnostic]:
    """Two notes of one deck with one GUID, or one pinned GUID on two cards: Anki would make them one note."""
    problems = []
    pinned: dict[str, NoteSpec] = {}
    for deck in decks:
        seen: dict[str, NoteSpec] = {}
        for note in deck.notes:
            other = seen.setdefault(note.guid, note)
            if other is not note:
                if other.key != note.key:  # the same key twice is a duplicate card id, reported as such
                    problems.append(_same_guid(root, note, other))
            elif note.pinned:
                first = pinned.setdefault(note.guid, note)
                if (first.file, first.key) != (note.file, note.key):  # a shared file's note is the same note
                    problems.append(_same_guid(root, note, first))
    return problems


def _same_guid(root: Path, note: NoteSpec, other: NoteSpec) -> Diagnostic:
    where = f"{relative(other.file, root)}, card '{other.card_id}'"
    fix = (
        "each card needs its own guid; keep it on the card students know and remove it from the other"
        if note.pinned
        else "give one of the cards another id"
    )
    return _located(note, "guid" if note.pinned else "id", f"this card has the same GUID as {where}; {fix}")


def _located(note: NoteSpec, key: str, message: str) -> Diagnostic:
    path = (*note.path[:2], key)
    return Diagnostic(note.file, f"{format_path(path)}: {message}", path=path)


