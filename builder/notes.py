"""Validated cards to Anki notes: rendered, sanitised fields, tags, tier and a GUID that never depends on text.

A note's GUID comes from the deck id and the card id (for a table cell: plus the row and column keys),
so correcting a card's text updates the student's note in place instead of creating a new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import genanki

from tierdeck.errors import Diagnostic, YamlPath
from tierdeck.loader import CardRef
from tierdeck.media import MediaFile, MediaResolver
from tierdeck.notetypes import NOTE_TYPES, NoteType
from tierdeck.render import render
from tierdeck.schema import CLOZE_RE, BasicCard, ClozeCard, MechanismCard, TableCard, TermCard, format_path, slugify


@dataclass(frozen=True)
class NoteSpec:
    """Everything Anki will store for one note."""

    deck_id: str
    key: str  # the card id, or `card/row/column` for a table cell; stored in the CardId field
    notetype: NoteType
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    tier: str
    card_count: int
    card_id: str  # the id of the YAML card it comes from
    file: Path  # the card file
    path: YamlPath  # where in the file: the card, or for a table cell the cell's row
    media: tuple[MediaFile, ...] = ()

    @cached_property
    def guid(self) -> str:
        """The note's identity in Anki, from the deck id and the key (computed only when a build needs it)."""
        return guid_for(self.deck_id, self.key)

    @cached_property
    def content_hash(self) -> str:
        """Changes whenever anything Anki stores for the note changes: note type, fields, tags."""
        # \x1f and \x1e cannot occur in fields or tags (Anki itself separates fields with \x1f)
        payload = "\x1e".join((self.notetype.key, "\x1f".join(self.fields), " ".join(sorted(self.tags))))
        return hashlib.sha256(payload.encode()).hexdigest()[:32]

    def field(self, name: str) -> str:
        """One field's HTML by name."""
        return self.fields[self.notetype.fields.index(name)]


def guid_for(deck_id: str, key: str) -> str:
    """The note GUID: a hash of the deck id and the note's stable key, in Anki's base91 format."""
    return genanki.guid_for("tierdeck", deck_id, key)


class _Fields:
    """Renders the text fields of one card, collecting its images and what is not allowed."""

    def __init__(self, ref: CardRef, media: MediaResolver | None):
        self.ref = ref
        self.resolver = media
        self.media: list[MediaFile] = []
        self.problems: list[Diagnostic] = []

    def __call__(self, text: str | None, *where: str | int) -> str:
        if text is None:
            return ""
        html, problems = _render(text)
        if self.resolver is not None and "<img" in html:
            html, found, image_problems = self.resolver.rewrite(html, self.ref.file)
            self.media += found
            problems = (*problems, *image_problems)
        if problems:
            path = (*self.ref.path, *where)
            for problem in problems:
                self.problems.append(Diagnostic(self.ref.file, f"{format_path(path)}: {problem}", path=path))
        return html


@lru_cache(maxsize=4096)
def _render(text: str) -> tuple[str, tuple[str, ...]]:
    """`render`, remembered: a file's default source (and any repeated text) is rendered once."""
    html, problems = render(text)
    return html, tuple(problems)


def expand(deck_id: str, ref: CardRef, media: MediaResolver | None = None) -> tuple[list[NoteSpec], list[Diagnostic]]:
    """The notes one card becomes, and any markup or image in it that cannot be packed."""
    card = ref.card
    f = _Fields(ref, media)
    tags = (*ref.tags, f"tier::{ref.tier}", f"type::{card.type}")
    extra, source = f(card.extra, "extra"), f(ref.source, "source")
    notetype = NOTE_TYPES[card.type]

    def note(key: str, fields: tuple[str, ...], card_count: int, where: YamlPath = ()) -> NoteSpec:
        images = tuple(dict.fromkeys(f.media))
        path = (*ref.path, *where)
        return NoteSpec(deck_id, key, notetype, fields, tags, ref.tier, card_count, card.id, ref.file, path, images)

    if isinstance(card, BasicCard):
        notes = [note(card.id, (f(card.front, "front"), f(card.back, "back"), extra, source, card.id), 1)]
    elif isinstance(card, TermCard):
        fields = (f(card.term, "term"), f(card.definition, "definition"), "y" if card.reverse else "")
        notes = [note(card.id, (*fields, extra, source, card.id), 2 if card.reverse else 1)]
    elif isinstance(card, ClozeCard):
        text = f(card.text, "text")
        notes = [note(card.id, (text, extra, source, card.id), cloze_numbers(text))]
    elif isinstance(card, MechanismCard):
        steps = "".join(
            f"<li>{{{{c{i}::{hidden(f(step, 'steps', i - 1))}}}}}</li>" for i, step in enumerate(card.steps, start=1)
        )
        fields = (f(card.title, "title"), f'<ol class="td-steps">{steps}</ol>', extra, source, card.id)
        notes = [note(card.id, fields, len(card.steps))]
    elif isinstance(card, TableCard):
        notes = _table_notes(card, f, note, extra, source)
    else:  # pragma: no cover - the schema admits no other type
        raise TypeError(f"unknown card model {type(card).__name__}")
    return notes, f.problems


def hidden(html: str) -> str:
    """HTML to put inside `{{cN::...}}`: braces and '::' as entities, so the text can neither close the
    cloze early (a step ending in '}') nor start a hint ('a::b'); the student sees the same characters."""
    return html.replace("{", "&#123;").replace("}", "&#125;").replace("::", ":&#58;")


def cloze_numbers(text: str) -> int:
    """How many cards Anki makes from a cloze field: one per distinct deletion number."""
    return len({int(n) for n, _ in CLOZE_RE.findall(text) if int(n) > 0})


def _table_notes(card: TableCard, f: _Fields, note, extra: str, source: str) -> list[NoteSpec]:
    headers = [f(column.title, "columns", j) for j, column in enumerate(card.columns)]
    column_keys = [column.id or slugify(column.title) for column in card.columns]
    cells = [[f(cell, "rows", i, j) for j, cell in enumerate(row.cells)] for i, row in enumerate(card.rows)]
    row_keys = [row.id or slugify(row.cells[0]) for row in card.rows]
    title = f(card.title, "title")
    notes = []
    for i in range(len(card.rows)):
        for j in range(1, len(card.columns)):
            key = f"{card.id}/{row_keys[i]}/{column_keys[j]}"
            table = _table_html(headers, cells, i, j)
            notes.append(note(key, (title, table, cells[i][0], headers[j], extra, source, key), 1, ("rows", i)))
    return notes


def _table_html(headers: list[str], cells: list[list[str]], hit_row: int, hit_col: int) -> str:
    """The whole table with the asked cell as cloze c1, its row and column marked for highlighting."""

    def cls(*names: str) -> str:
        names = tuple(n for n in names if n)
        return f' class="{" ".join(names)}"' if names else ""

    head = "".join(f"<th{cls('td-hit-col' if j == hit_col else '')}>{h}</th>" for j, h in enumerate(headers))
    body = []
    for i, row in enumerate(cells):
        tds = []
        for j, cell in enumerate(row):
            if i == hit_row and j == hit_col:
                tds.append(f'<td class="td-hit">{{{{c1::{hidden(cell)}}}}}</td>')
            else:
                marks = ("td-hit-row" if i == hit_row else "", "td-hit-col" if j == hit_col else "")
                tds.append(f"<td{cls(*marks)}>{cell}</td>")
        body.append(f"<tr>{''.join(tds)}</tr>")
    return f'<table class="td-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
