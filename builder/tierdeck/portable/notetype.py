"""A note type as data: what Anki stores for it (fields, templates, CSS) and the version that guards its schema.

The reading and checking of note type files is `tierdeck.notes.notetypes`; the genanki model the package
writer needs is made in `tierdeck.release.apkg`. This is the shape every other part uses, the students'
add-on included, so it holds plain data and the ids derived from it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tierdeck.portable.ids import notetype_id


@dataclass(frozen=True)
class Template:
    """One card template: what the question and the answer side show."""

    name: str
    front: str
    back: str


@dataclass(frozen=True)
class NoteType:
    """One note type: what Anki stores, plus the version that guards its schema."""

    key: str  # how cards name it: the file name without .yaml
    name: str
    version: int
    fields: tuple[str, ...]
    templates: tuple[Template, ...]
    css: str
    cloze: bool = False
    scripts: bool = field(default=False, compare=False)  # its templates run code, as its file allows
    explicit_id: int | None = None  # Anki's id, kept from an imported deck
    sort_field: int = 0
    file: Path | None = field(default=None, compare=False)  # where it was read from; None for a built-in
    builtin: bool = field(default=False, compare=False)
    sources: tuple[Path, ...] = field(default=(), compare=False)  # every file it was read from
    # its file says `scripts: allowed`, so an imported note's fields (format: anki) may run code too
    scripts_allowed: bool = field(default=False, compare=False)

    @cached_property
    def model_id(self) -> int:
        """Anki's id of this note type: the one it keeps from an import, else derived from (key, version)."""
        if self.explicit_id is not None:
            return self.explicit_id
        return notetype_id(self.key, self.version)

    @property
    def schema(self) -> dict:
        """What Anki compares before updating notes: kind, field names and template names, in order."""
        return {"cloze": self.cloze, "fields": list(self.fields), "templates": [t.name for t in self.templates]}

    @property
    def content(self) -> dict:
        """Everything a student's Anki receives for this note type."""
        return {
            **self.schema,
            "name": self.name,
            "templates": [[t.name, t.front, t.back] for t in self.templates],
            "css": self.css,
        }

    @cached_property
    def content_hash(self) -> str:
        """Changes whenever anything the student receives changes."""
        return hashlib.sha256(json.dumps(self.content, sort_keys=True).encode()).hexdigest()

    @property
    def where(self) -> str:
        """Where an author changes it: its file, or tierdeck itself for a built-in."""
        return str(self.file) if self.file is not None else f"tierdeck's built-in note type '{self.key}'"
