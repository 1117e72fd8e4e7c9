"""Reading an untrusted Anki collection of schema 11 (the SQLite file inside a legacy package) with sqlite3.

Schema 11 keeps note types and decks as JSON in the `col` table, notes and cards in their own tables.
Anki 2.0 and every later version can write it, so it is the one collection format read here; a package
of the current format is first converted to it by Anki's own engine (see apkg.py).
"""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

from tierdeck.errors import Diagnostic, shown
from tierdeck.portable.model import Format, ImportedDeck, NoteIn, NoteTypeIn, TemplateIn
from tierdeck.portable.safety import Limits, fail, note_size_problem

LEGACY_SCHEMA = 11
DEFAULT_DECK_ID = 1
# The tables and columns read below; anything less is not an Anki collection.
_REQUIRED = {
    "col": ("ver", "models", "decks"),
    "notes": ("id", "guid", "mid", "mod", "tags", "flds"),
    "cards": ("id", "nid", "did", "ord", "odid"),
}
_EXPORT_AGAIN = "export the deck from Anki again"
_NOT_ANKI = f"it is not an Anki collection, or it is damaged: {_EXPORT_AGAIN}"
# Anki separates tags with spaces (and ideographic spaces); any other character belongs to the tag.
_TAG_SEPARATOR = re.compile("[ \u3000]+")


def connect(source: Path, db: Path) -> sqlite3.Connection:
    """`db` opened read-only, after checking it is an SQLite database holding only Anki's kind of objects."""
    # immutable: no journal, lock or WAL file is created or read next to a file nothing else writes.
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        # SQL stored in the file (views, triggers, index expressions) must not run functions with side effects.
        conn.execute("PRAGMA trusted_schema=OFF")
        objects = conn.execute("SELECT type, name FROM sqlite_master").fetchall()
        # Anki never creates views or triggers: one named like a table could hide the real data, or make a
        # plain SELECT run without end.
        for kind, name in objects:
            if kind not in ("table", "index"):
                fail(
                    source,
                    f"the collection inside the package holds a {shown(kind)} named '{shown(name)}', which Anki never "
                    f"creates, so the file was altered after Anki wrote it; {_EXPORT_AGAIN}",
                )
        tables = {name for kind, name in objects if kind == "table"}
        for table, columns in _REQUIRED.items():
            if table not in tables:
                fail(source, f"the collection inside the package has no '{table}' table; {_NOT_ANKI}")
            present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            for column in columns:
                if column not in present:
                    fail(source, f"the collection's '{table}' table has no '{column}' column; {_NOT_ANKI}")
    except sqlite3.DatabaseError as exc:
        conn.close()
        damaged(source, exc)
    except BaseException:
        conn.close()
        raise
    return conn


def damaged(source: Path, exc: sqlite3.DatabaseError) -> NoReturn:
    """Fail with SQLite's own words for why the collection cannot be read."""
    fail(
        source,
        f"the collection inside the package is damaged ({shown(str(exc), 80)}); it may be only partly downloaded: "
        f"download it again, or {_EXPORT_AGAIN}",
    )


def stored_version(source: Path, conn: sqlite3.Connection) -> int:
    """The schema version the collection says it has."""
    try:
        row = conn.execute("SELECT ver FROM col").fetchone()
    except sqlite3.DatabaseError as exc:
        damaged(source, exc)
    if row is None or not _is_int(row[0]):
        fail(source, f"the collection inside the package has no schema version; {_NOT_ANKI}")
    return row[0]


def check_schema(source: Path, conn: sqlite3.Connection, newest: int) -> None:
    """Fail unless the collection's schema version lies between 11 and `newest`."""
    version = stored_version(source, conn)
    if version > newest:
        fail(
            source,
            f"the collection uses schema version {version}, newer than this version of tierdeck reads ({newest}); "
            "update tierdeck (pip install -U tierdeck), or in Anki export the deck again with 'Support older Anki "
            "versions' checked",
        )
    if version < LEGACY_SCHEMA:
        fail(
            source,
            f"the collection uses schema version {version}, older than any release of Anki 2.0 writes; open the deck "
            "in a current Anki and export it again",
        )


def read_collection(source: Path, db: Path, format: Format, limits: Limits) -> ImportedDeck:
    """The note types, notes and decks of the schema-11 collection in `db` (no media: those are in the zip)."""
    with closing(connect(source, db)) as conn:
        check_schema(source, conn, LEGACY_SCHEMA)
        try:
            models, decks = conn.execute("SELECT models, decks FROM col").fetchone()
            notetypes = _notetypes(source, models)
            deck_rows = _decks(source, decks)
            first_cards = _first_cards(source, conn)
            rows = conn.execute("SELECT id, guid, mid, mod, tags, flds FROM notes ORDER BY id").fetchall()
        except sqlite3.DatabaseError as exc:
            damaged(source, exc)
    warnings: list[Diagnostic] = []
    notes: list[NoteIn] = []
    guids: dict[str, int] = {}
    for row in rows:
        note = _note(source, row, notetypes, limits)
        if isinstance(note, str):  # one bad note never fails the import
            warnings.append(Diagnostic(source, f"{note}; until then the note is left out", level="warning"))
            continue
        if note is None:
            warnings.append(
                Diagnostic(
                    source,
                    f"note '{shown(row[1])}' uses a note type (id {row[2]}) that the package does not hold, so it is "
                    "left out; in Anki, run Tools > Check Database, then export again",
                    level="warning",
                )
            )
            continue
        nid, guid = row[0], row[1]
        deck, problem = _deck_of(first_cards.get(nid), deck_rows)
        if not 0 <= note.mtime < MAX_TIME or not 0 < nid < MAX_ID:  # type: ignore[operator]
            warnings.append(
                Diagnostic(
                    source,
                    f"note '{shown(guid)}' ({first_words(note.fields)}, deck '{shown(deck)}') has the modification time "
                    f"{note.mtime} and the id {nid}, which no Anki writes (times are seconds below {MAX_TIME}, ids below "
                    f"{MAX_ID}), so it was left out; in Anki, edit the note (that stamps it anew), then export again",
                    level="warning",
                )
            )
            continue
        if guid in guids:
            warnings.append(
                Diagnostic(
                    source,
                    f"notes {guids[guid]} and {nid} share the GUID '{shown(guid)}' (students' Anki would take them for "
                    f"one note), so the second ({first_words(note.fields)}, deck '{shown(deck)}') was left out; in Anki's "
                    f"browser, search 'nid:{nid}', use Notes > Create Copy, delete the original, then export again",
                    level="warning",
                )
            )
            continue
        guids[guid] = nid
        if problem:
            warnings.append(Diagnostic(source, f"note '{shown(guid)}' {problem}", level="warning"))
        notes.append(replace(note, deck=deck))
    used = {note.deck for note in notes}
    names = {name for did, (name, filtered) in deck_rows.items() if not filtered and did != DEFAULT_DECK_ID}
    return ImportedDeck(
        source, format, notetypes, notes, sorted(names | used), warnings=warnings, descriptions=_descriptions(decks)
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _malformed(source: Path, where: str, key: str, kind: str) -> NoReturn:
    fail(source, f"{where} in the collection has no valid '{key}' ({kind}); {_NOT_ANKI}")


def _get(source: Path, obj: dict, key: str, kind: type, where: str) -> Any:
    """`obj[key]` when it is of `kind` (an int is never a bool), else a located failure."""
    value = obj.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        _malformed(source, where, key, {int: "a number", str: "text", list: "a list", dict: "a mapping"}[kind])
    return value


def _id(source: Path, obj: dict, where: str) -> int:
    """An object's id: a number, or a number written as text (Anki reads both in schema 11)."""
    value = obj.get("id")
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return _get(source, obj, "id", int, where)


def _json(source: Path, text: object, what: str) -> dict:
    """The JSON mapping in `col.models` or `col.decks`."""
    try:
        value = json.loads(text) if isinstance(text, (str, bytes)) else None
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        value = None
    if not isinstance(value, dict):
        fail(source, f"the collection's list of {what} is not the JSON mapping Anki writes; {_NOT_ANKI}")
    return value


def _notetypes(source: Path, text: object) -> dict[int | str, NoteTypeIn]:
    out: dict[int | str, NoteTypeIn] = {}
    for key, model in _json(source, text, "note types").items():
        where = f"note type {shown(key)}"
        if not isinstance(model, dict):
            fail(source, f"{where} in the collection is not a mapping; {_NOT_ANKI}")
        ntid = _id(source, model, where)
        name = _get(source, model, "name", str, where)
        where = f"note type '{shown(name)}'"
        fields = []
        for field in _get(source, model, "flds", list, where):
            # Fields and templates count in list order: a note's fields and a card's `ord` follow it.
            fields.append(_get(source, field if isinstance(field, dict) else {}, "name", str, f"a field of {where}"))
        templates = []
        for template in _get(source, model, "tmpls", list, where):
            template = template if isinstance(template, dict) else {}
            inner = f"a template of {where}"
            templates.append(
                TemplateIn(
                    _get(source, template, "name", str, inner),
                    _get(source, template, "qfmt", str, inner),
                    _get(source, template, "afmt", str, inner),
                )
            )
        out[ntid] = NoteTypeIn(
            id=ntid,
            name=name,
            cloze=_get(source, model, "type", int, where) == 1,
            fields=tuple(fields),
            templates=tuple(templates),
            css=_get(source, model, "css", str, where),
            mtime=_sane_time(_get(source, model, "mod", int, where)),
            sort_field=_get(source, model, "sortf", int, where),
        )
    return out


def _decks(source: Path, text: object) -> dict[int, tuple[str, bool]]:
    """Each deck's full name and whether it is a filtered deck, by id."""
    out: dict[int, tuple[str, bool]] = {}
    for key, deck in _json(source, text, "decks").items():
        where = f"deck {shown(key)}"
        if not isinstance(deck, dict):
            fail(source, f"{where} in the collection is not a mapping; {_NOT_ANKI}")
        out[_id(source, deck, where)] = (_get(source, deck, "name", str, where), bool(deck.get("dyn")))
    return out


def _descriptions(text: object) -> dict[str, str]:
    """Each deck's description by its full name (`col.decks` already checked by `_decks`)."""
    decks = json.loads(text) if isinstance(text, (str, bytes)) else {}
    return {d["name"]: d["desc"] for d in decks.values() if isinstance(d.get("desc"), str)}


def _first_cards(source: Path, conn: sqlite3.Connection) -> dict[int, tuple[int, int]]:
    """Each note's first card (lowest template ordinal) as (deck id, original deck id)."""
    first: dict[int, tuple[int, int]] = {}
    for nid, did, odid in conn.execute("SELECT nid, did, odid FROM cards ORDER BY nid, ord, id"):
        if not (_is_int(nid) and _is_int(did) and _is_int(odid)):
            fail(source, f"a card of note {shown(nid)} has no valid deck; {_NOT_ANKI}")
        first.setdefault(nid, (did, odid))
    return first


# Past these a number cannot be an Anki time (seconds; year 2106) or id (milliseconds; what a double holds).
MAX_TIME = 1 << 32
MAX_ID = 1 << 53
_TAGS = re.compile(r"<[^<>]*>")
_NOTE_COLUMNS = (("id", int), ("guid", str), ("mid", int), ("mod", int), ("tags", str), ("flds", str))


def _note(source: Path, row: tuple, notetypes: dict[int | str, NoteTypeIn], limits: Limits) -> NoteIn | str | None:
    """One `notes` row as a NoteIn (deck still unknown), None when its note type is missing, or why it cannot be."""
    for value, (column, kind) in zip(row, _NOTE_COLUMNS):
        if not isinstance(value, kind) or isinstance(value, bool) or (column == "guid" and not value):
            label = f"note '{shown(row[1])}'" if column != "guid" else f"note {shown(row[0])}"
            fail(source, f"{label} in the collection has no valid '{column}'; {_NOT_ANKI}")
    nid, guid, mid, mod, tags, flds = row
    notetype = notetypes.get(mid)
    if notetype is None:
        return None
    fields = tuple(flds.split("\x1f"))
    label = f"note '{shown(guid)}'"
    too_big = note_size_problem(label, fields, notetype.fields, limits)
    if too_big is not None:
        return too_big
    if len(fields) != len(notetype.fields):
        return (
            f"{label} has {_count(len(fields), 'field')}, but its note type '{shown(notetype.name)}' has "
            f"{len(notetype.fields)}; in Anki, run Tools > Check Database, then export again"
        )
    return NoteIn(guid, mid, mod, fields, tuple(t for t in _TAG_SEPARATOR.split(tags) if t), "", nid)


def _sane_time(mtime: int) -> int | None:
    """An Anki modification time, or None (the import's own time) for one no Anki writes."""
    return mtime if 0 <= mtime < MAX_TIME else None


def first_words(fields: tuple[str, ...]) -> str:
    """The start of a note's first field with text, quoted, as its author finds it in Anki's browser."""
    for value in fields:
        text = " ".join(_TAGS.sub(" ", value[:1000]).split())
        if text:
            return f"'{shown(text, 40)}'"
    return "no text"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _deck_of(card: tuple[int, int] | None, decks: dict[int, tuple[str, bool]]) -> tuple[str, str | None]:
    """The deck a note goes to, from its first card, and what could not be carried over (None: nothing)."""
    default = decks.get(DEFAULT_DECK_ID, ("Default", False))[0]
    if card is None:
        return default, f"has no cards; it goes to the deck '{shown(default)}'"
    did, odid = card
    if did not in decks:
        return (
            default,
            f"has a card in a deck (id {did}) the package does not hold; it goes to the deck '{shown(default)}'",
        )
    name, filtered = decks[did]
    if not filtered:
        return name, None
    home = decks[odid][0] if odid in decks and not decks[odid][1] else default
    return home, (
        f"has a card in the filtered deck '{shown(name)}', which tierdeck does not carry over; it goes to its home "
        f"deck '{shown(home)}'"
    )
