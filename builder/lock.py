"""The lock file: per note and per note type, a hash of what Anki sees and the time it last changed.

Anki updates an imported note only when its modification time is strictly newer than the student's
copy. A build therefore reuses the recorded time for every unchanged note (so a student's own edits of
it survive) and stamps changed or new notes with the build time (so corrections reach the student).
The lock file lives next to the manifest (`decks/<deck id>.lock`) and is committed like any lock file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from tierdeck.errors import Diagnostic
from tierdeck.notes import NoteSpec
from tierdeck.notetypes import NoteType

LOCK_FORMAT = 1


def schema_hash(notetype: NoteType) -> str:
    """Changes when the note type's kind, field names or template names change."""
    return hashlib.sha256(json.dumps(notetype.schema, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Lock:
    """The recorded state of one deck's notes and note types."""

    deck: str
    notes: dict[str, dict] = field(default_factory=dict)  # by note key
    notetypes: dict[str, dict] = field(default_factory=dict)  # by note type key

    @staticmethod
    def path_for(manifest_path: Path, deck_id: str) -> Path:
        """Where a deck's lock file lives: next to its manifest."""
        return manifest_path.parent / f"{deck_id}.lock"

    @classmethod
    def read(cls, path: Path, deck: str) -> tuple[Lock, list[Diagnostic]]:
        """The lock at `path` (empty when there is none yet), or why it cannot be used."""
        if not path.exists():
            return cls(deck), []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != LOCK_FORMAT:
                raise ValueError(f"unknown lock format {data.get('format')!s}")
            return cls(deck, dict(data["notes"]), dict(data["notetypes"])), []
        except (OSError, ValueError, KeyError, AttributeError, TypeError) as exc:
            return cls(deck), [
                Diagnostic(
                    path,
                    f"the lock file cannot be read ({exc}); restore it from git (git checkout -- {path.name}) "
                    "or delete it to start afresh (students then re-receive every note once)",
                    line=1,
                )
            ]

    def dumps(self) -> str:
        """Stable JSON, one note per line, so lock diffs in review are readable."""
        lines = ["{", f'"format": {LOCK_FORMAT},', f'"deck": {_ascii(self.deck)},', '"notetypes": {']
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
_NOTE_KEYS = ["card", "guid", "hash", "mtime", "tier", "type"]  # sorted


def _note(entry: dict) -> str:
    """A note's entry as `_text` writes it; spelled out for the entries `stamp` makes (4x faster)."""
    mtime = entry.get("mtime")
    if len(entry) != len(_NOTE_KEYS) or type(mtime) is not int or sorted(entry) != _NOTE_KEYS:
        return _text(entry)
    s = _string
    return (
        f'{{"card": {s(entry["card"])}, "guid": {s(entry["guid"])}, "hash": {s(entry["hash"])}, "mtime": {mtime}, '
        f'"tier": {s(entry["tier"])}, "type": {s(entry["type"])}}}'
    )


@dataclass
class Stamps:
    """The result of comparing a build with its lock: times to write, the next lock, what changed."""

    lock: Lock
    note_mtimes: dict[str, int]  # by GUID
    notetype_mtimes: dict[int, int]  # by Anki model id
    added: list[NoteSpec]
    changed: list[NoteSpec]
    removed: list[dict]  # lock entries of notes no longer built
    moved: list[tuple[NoteSpec, str]]  # (note, old tier)
    notetypes_changed: list[str]

    @property
    def timestamp(self) -> int:
        """The newest time in the build: a deterministic stand-in for "now" (genanki derives ids from it)."""
        return max([*self.note_mtimes.values(), *self.notetype_mtimes.values(), 0])


def _next_time(now: int, previous: int | None) -> int:
    # Anki updates only on a strictly newer time; a stale clock or SOURCE_DATE_EPOCH must not hide a change.
    return now if previous is None or now > previous else previous + 1


def stamp(lock: Lock, notes: list[NoteSpec], now: int) -> Stamps:
    """Give each note and note type its modification time; return them with the updated lock."""
    new = Lock(lock.deck)
    result = Stamps(new, {}, {}, [], [], [], [], [])
    old_notes, new_notes, note_mtimes = lock.notes, new.notes, result.note_mtimes
    for note in notes:  # the hot loop of a rebuild (36,000 notes at 50,000 cards): kept lean
        digest, guid, tier = note.content_hash, note.guid, note.tier
        old = old_notes.get(note.key)
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
        new_notes[note.key] = {
            "card": note.card_id,
            "guid": guid,
            "hash": digest,
            "mtime": mtime,
            "tier": tier,
            "type": note.notetype.key,
        }
        note_mtimes[guid] = mtime
    result.removed = [dict(entry, key=key) for key, entry in sorted(lock.notes.items()) if key not in new.notes]
    for notetype in {n.notetype.key: n.notetype for n in notes}.values():
        old = lock.notetypes.get(notetype.key)
        if old is not None and old.get("content") == notetype.content_hash and old.get("version") == notetype.version:
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
    """Note types whose fields or templates changed without a new version: students would lose updates."""
    problems = []
    for notetype in notetypes:
        old = lock.notetypes.get(notetype.key)
        if old is None or old.get("version") != notetype.version or old.get("schema") == schema_hash(notetype):
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
        problems.append(
            Diagnostic(
                lock_path,
                f"note type '{notetype.name}' changed its fields or templates ({'; '.join(changes)}) but kept "
                f"version {notetype.version}; students' Anki would keep the old note type and silently skip "
                f"every update to its notes. Give it version {notetype.version + 1} in builder/notetypes.py",
                line=1,
            )
        )
    return problems
