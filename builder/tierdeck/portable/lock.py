"""The lock file: the record of what students hold, per note and per note type, and when it last changed.

Anki updates an imported note only when its modification time is strictly newer than the student's
copy, and matches notes by GUID. A build therefore reuses the recorded time for every unchanged note (so
a student's own edits of it survive), stamps changed or new notes with the build time (so corrections
reach the student), and keeps every note's GUID and Anki note id as recorded. The lock also records the
deck's *namespace*: the id the deck had when it was created, from which new notes' GUIDs derive, so a
renamed deck keeps the identity of everything students have (`tierdeck.identity`).

The lock file lives next to the manifest (`decks/<deck id>.lock`) and is committed like any lock file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from tierdeck.errors import Diagnostic, shown
from tierdeck.portable.notetype import NoteType


class LockedNote(Protocol):
    """What the lock records of a note (tierdeck's NoteSpec has it)."""

    key: str  # the card id, or `card/row/column` for a table cell
    card_id: str
    content_hash: str
    guid: str
    tier: str
    ordinals: tuple[int, ...]
    notetype: NoteType
    previous_keys: tuple[str, ...]  # its keys under the card's former ids (previous_ids), newest first


N = TypeVar("N", bound=LockedNote)

LOCK_FORMAT = 2
READABLE_FORMATS = (1, 2)  # format 1 had no namespace (it was the deck id) and no note ids


def schema_hash(notetype: NoteType) -> str:
    """Changes when the note type's kind, field names or template names change."""
    return hashlib.sha256(json.dumps(notetype.schema, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Lock:
    """The recorded state of one deck's notes and note types."""

    deck: str  # the deck id it was written for
    namespace: str = ""  # the id new notes' GUIDs derive from: the deck's first id ('' = `deck`)
    notes: dict[str, dict] = field(default_factory=dict)  # by note key
    notetypes: dict[str, dict] = field(default_factory=dict)  # by note type key

    def __post_init__(self) -> None:
        self.namespace = self.namespace or self.deck

    @staticmethod
    def path_for(manifest_path: Path, deck_id: str) -> Path:
        """Where a deck's lock file lives: next to its manifest."""
        return manifest_path.parent / f"{deck_id}.lock"

    @classmethod
    def read(cls, path: Path) -> tuple[Lock | None, list[Diagnostic]]:
        """The lock at `path`, or why it cannot be used (None, [] when there is none)."""
        if not path.exists():
            return None, []
        restore = (
            f"restore it from git (git checkout -- {path.name}); deleting it would give every student a second copy "
            "of every card"
        )
        try:
            text = path.read_text(encoding="utf-8")
            data = json.loads(text, object_pairs_hook=_no_duplicates)
            if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
                found = data.get("format") if isinstance(data, dict) else None
                raise ValueError(f"unknown lock format {found!s}; a newer tierdeck wrote it")
            deck = data["deck"]
            if not isinstance(deck, str) or not isinstance(data["notes"], dict):
                raise ValueError("it does not name its deck and notes")
            lock = cls(deck, str(data.get("namespace") or deck), dict(data["notes"]), dict(data["notetypes"]))
        except (OSError, ValueError, KeyError, AttributeError, TypeError, RecursionError) as exc:
            reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            return None, [Diagnostic(path, f"the lock file cannot be read ({reason}); {restore}", line=1)]
        problems = []
        for kind, entries in (("note", lock.notes), ("note type", lock.notetypes)):
            for key, entry in entries.items():
                problem = _entry_problem(entry, _NOTE_NUMBERS if kind == "note" else _NOTETYPE_NUMBERS)
                if problem:
                    line = _line_of(text, key)
                    problems.append(
                        Diagnostic(path, f"the {kind} '{shown(key)}' in the lock file {problem}; {restore}", line=line)
                    )
        return (None, problems) if problems else (lock, [])

    def dumps(self) -> str:
        """Stable JSON, one note per line, so lock diffs in review are readable."""
        lines = [
            "{",
            f'"format": {LOCK_FORMAT},',
            f'"deck": {_ascii(self.deck)},',
            f'"namespace": {_ascii(self.namespace)},',
            '"notetypes": {',
        ]
        items = sorted(self.notetypes.items())
        lines += [f"  {_ascii(k)}: {_ascii(v)}{',' if i < len(items) - 1 else ''}" for i, (k, v) in enumerate(items)]
        lines.append("},")
        lines.append('"notes": {')
        notes = sorted(self.notes.items())
        lines += [f"  {_string(k)}: {_note(v)}{',' if i < len(notes) - 1 else ''}" for i, (k, v) in enumerate(notes)]
        lines += ["}", "}"]
        return "\n".join(lines) + "\n"


# one encoder each (json.dumps with options builds a new encoder per call: a third of writing 36,000 notes)
_ascii = json.JSONEncoder(sort_keys=True).encode
_text = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
_string = json.encoder.encode_basestring  # a str, as _text writes it
_NOTE_KEYS = ["card", "guid", "hash", "mtime", "nid", "tier", "type"]  # sorted


# Sane ranges of the numbers a lock records: times in seconds from 1970 to 2100, Anki ids below 2^53 (the
# largest integer JavaScript, and so Anki's clients, hold exactly); out of range they break the build (SQLite
# integers) or students' Anki.
_LATEST_TIME = 4_102_444_800
_LARGEST_ID = 2**53
_NOTE_NUMBERS = {"mtime": _LATEST_TIME, "nid": _LARGEST_ID}
_NOTETYPE_NUMBERS = {"mtime": _LATEST_TIME, "model_id": _LARGEST_ID, "version": _LARGEST_ID}


def _entry_problem(entry: object, numbers: dict[str, int]) -> str | None:
    """What is wrong with one entry of the lock, in words (None: nothing)."""
    if not isinstance(entry, dict):
        return "is not a mapping"
    for key, largest in numbers.items():
        value = entry.get(key)
        if value is None and key == "nid":
            continue  # format 1 recorded no note ids
        if type(value) is not int or not 0 <= value < largest:
            plain = value is None or isinstance(value, (int, float, str, bool))
            return f"has an invalid '{key}' ({shown(json.dumps(value) if plain else type(value).__name__, 30)})"
    return None


def _line_of(text: str, key: str) -> int:
    """The line of the lock's entry for `key` (each entry is on a line of its own); 1 when not found."""
    at = text.find(f"\n  {_string(key)}:")
    return text.count("\n", 0, at + 1) + 1 if at != -1 else 1


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict:
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise ValueError(f"the key '{shown(duplicate)}' appears twice")
    return found


def _note(entry: dict) -> str:
    """A note's entry as `_text` writes it; spelled out for the entries `stamp` makes (4x faster)."""
    mtime, nid = entry.get("mtime"), entry.get("nid")
    if len(entry) != len(_NOTE_KEYS) or type(mtime) is not int or type(nid) is not int or sorted(entry) != _NOTE_KEYS:
        return _text(entry)
    s = _string
    return (
        f'{{"card": {s(entry["card"])}, "guid": {s(entry["guid"])}, "hash": {s(entry["hash"])}, "mtime": {mtime}, '
        f'"nid": {nid}, "tier": {s(entry["tier"])}, "type": {s(entry["type"])}}}'
    )


@dataclass
class Stamps(Generic[N]):
    """The result of comparing a build with its lock: times and ids to write, the next lock, what changed."""

    lock: Lock
    note_mtimes: dict[str, int]  # by GUID
    note_ids: dict[str, int]  # Anki note id, by GUID
    notetype_mtimes: dict[int, int]  # by Anki model id
    added: list[N]
    changed: list[N]
    removed: list[dict]  # lock entries of notes no longer built
    moved: list[tuple[N, str]]  # (note, old tier)
    notetypes_changed: list[str]

    @property
    def timestamp(self) -> int:
        """The newest time in the build: a deterministic stand-in for "now"."""
        return max([*self.note_mtimes.values(), *self.notetype_mtimes.values(), 0])


def _next_time(now: int, previous: int | None) -> int:
    # Anki updates only on a strictly newer time; a stale clock or SOURCE_DATE_EPOCH must not hide a change.
    return now if previous is None or now > previous else previous + 1


def stamp(lock: Lock, notes: list[N], now: int) -> Stamps[N]:
    """Give each note and note type its modification time and Anki id; return them with the updated lock.

    A new note's id is a time in milliseconds, as Anki makes them (its browser shows it as the note's
    creation), from the build time on, past every id the lock already holds, with room after it for
    its cards' ids.
    """
    new = Lock(lock.deck, lock.namespace)
    result: Stamps[N] = Stamps(new, {}, {}, {}, [], [], [], [], [])
    old_notes, new_notes, note_mtimes, note_ids = lock.notes, new.notes, result.note_mtimes, result.note_ids
    next_id = max([now * 1000, *(e["nid"] + 100 for e in old_notes.values() if type(e.get("nid")) is int)])
    renamed: set[str] = set()  # keys recorded under a card's previous id, now under its new one
    for note in notes:  # the hot loop of a rebuild (36,000 notes at 50,000 cards): kept lean
        digest, guid, tier = note.content_hash, note.guid, note.tier
        old = old_notes.get(note.key)
        if old is None and note.previous_keys:
            previous = next((k for k in note.previous_keys if k in old_notes), None)
            if previous is not None:
                old = old_notes[previous]
                renamed.add(previous)
        if old is None:
            mtime = now
            result.added.append(note)
        else:
            if old.get("hash") == digest:
                mtime = int(old["mtime"])
            else:
                mtime = _next_time(now, int(old["mtime"]))
                result.changed.append(note)
            if old.get("tier") != tier:
                result.moved.append((note, str(old.get("tier"))))
        nid = old.get("nid") if old is not None and old.get("guid") == guid else None
        if type(nid) is not int:  # the ids after it stay free for its cards' ids (package._rows)
            nid, next_id = next_id, next_id + len(note.ordinals) + 1
        new_notes[note.key] = {
            "card": note.card_id,
            "guid": guid,
            "hash": digest,
            "mtime": mtime,
            "nid": nid,
            "tier": tier,
            "type": note.notetype.key,
        }
        note_mtimes[guid] = mtime
        note_ids[guid] = nid
    result.removed = [
        dict(entry, key=key) for key, entry in sorted(lock.notes.items()) if key not in new.notes and key not in renamed
    ]
    for notetype in {n.notetype.key: n.notetype for n in notes}.values():
        old = lock.notetypes.get(notetype.key)
        if (
            old is not None
            and old.get("content") == notetype.content_hash
            and old.get("version") == notetype.version
            and old.get("model_id") == notetype.model_id
        ):
            mtime = int(old["mtime"])
        else:
            mtime = _next_time(now, int(old["mtime"]) if old else None)
            result.notetypes_changed.append(notetype.key)
        new.notetypes[notetype.key] = {
            "content": notetype.content_hash,
            "fields": list(notetype.fields),
            "model_id": notetype.model_id,
            "mtime": mtime,
            "schema": schema_hash(notetype),
            "templates": [t.name for t in notetype.templates],
            "version": notetype.version,
        }
        result.notetype_mtimes[notetype.model_id] = mtime
    return result


def schema_problems(lock: Lock, lock_path: Path, notetypes: list[NoteType]) -> list[Diagnostic]:
    """Note types whose fields or templates changed without a new version (and id): students would lose updates."""
    problems = []
    for notetype in notetypes:
        old = lock.notetypes.get(notetype.key)
        if old is None:
            continue
        same_schema = old.get("schema") == schema_hash(notetype)
        same_id = old.get("model_id") == notetype.model_id
        if old.get("version") != notetype.version and same_id and notetype.explicit_id is not None:
            problems.append(
                Diagnostic(
                    notetype.file or lock_path,
                    f"id: note type '{notetype.name}' has a new version ({notetype.version}) but keeps id "
                    f"{notetype.model_id}; remove the 'id' line so tierdeck derives a new one for the new version",
                    path=("id",),
                    line=None if notetype.file else 1,
                )
            )
        if old.get("version") != notetype.version or same_schema:
            continue
        before = {"fields": old.get("fields", []), "templates": old.get("templates", [])}
        after = {"fields": list(notetype.fields), "templates": [t.name for t in notetype.templates]}
        changes = []
        for what in ("fields", "templates"):
            added = [x for x in after[what] if x not in before[what]]
            removed = [x for x in before[what] if x not in after[what]]
            if added:
                changes.append(f"{what} added: {', '.join(added)}")
            if removed:
                changes.append(f"{what} removed: {', '.join(removed)}")
            if not added and not removed and after[what] != before[what]:
                changes.append(f"{what} reordered")
        fix = (
            f"give it 'version: {notetype.version + 1}' (and remove its 'id' line) in {notetype.file}"
            if notetype.file is not None
            else f"a tierdeck release must give it version {notetype.version + 1}"
        )
        problems.append(
            Diagnostic(
                notetype.file or lock_path,
                f"note type '{notetype.name}' changed its fields or templates ({'; '.join(changes)}) but kept "
                f"version {notetype.version}. Anki would not update the notes students already have: it reports "
                "them as conflicting and keeps the old ones. With a new version, students who have the deck must "
                "import it with 'Merge note types' ticked (Anki 23.10 or later) to keep receiving updates of these "
                f"notes; new students are not affected. To go ahead, {fix}",
                line=1,
            )
        )
    return problems
