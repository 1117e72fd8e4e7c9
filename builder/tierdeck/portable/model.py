"""What an imported Anki deck holds, in tierdeck's own terms: plain frozen data, no Anki objects.

The readers fill these from an untrusted file; the mapper turns them into a project. Every value is
kept exactly as Anki stored it (field HTML, GUIDs, ids, mtimes), because a student's review history
survives a re-import only when the note's GUID and note type id are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tierdeck.errors import Diagnostic

Format = Literal["apkg-legacy", "apkg", "text"]


@dataclass(frozen=True)
class TemplateIn:
    """One card template of a note type: the HTML of the front and of the back."""

    name: str
    front: str
    back: str


@dataclass(frozen=True)
class NoteTypeIn:
    """One note type. A plain-text export knows only the name: no id, templates or CSS.

    For a text export `fields` are numbered ("Field 1", ...) unless the file has a `#columns:` line,
    and `cloze` is inferred from the notes (a field holding `{{c1::`), since the file does not say.
    """

    id: int | None
    name: str
    cloze: bool
    fields: tuple[str, ...]
    templates: tuple[TemplateIn, ...]
    css: str
    mtime: int | None
    sort_field: int


@dataclass(frozen=True)
class NoteIn:
    """One note: its identity (GUID, note type), its raw field HTML, its tags and its deck."""

    guid: str | None
    # The note type's id (packages) or its name (text exports): the key of ImportedDeck.notetypes.
    notetype: int | str
    mtime: int | None
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    # Full name with '::' separators: the deck of the note's first card (packages), or the deck column.
    deck: str
    note_id: int | None = None
    # Text exports: the 1-based line the record starts on, for located messages.
    line: int | None = None


@dataclass(frozen=True)
class MediaIn:
    """One media file: its name as fields reference it, and its bytes (size already bounded)."""

    name: str
    data: bytes


@dataclass(frozen=True)
class ImportedDeck:
    """Everything read from one file, and what of it cannot be carried over (`warnings`)."""

    source: Path
    format: Format
    notetypes: dict[int | str, NoteTypeIn]
    notes: list[NoteIn]
    decks: list[str]
    media: dict[str, MediaIn] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)
    descriptions: dict[str, str] = field(default_factory=dict)  # packages: each deck's description, by full name
