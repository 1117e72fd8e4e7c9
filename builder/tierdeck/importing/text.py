"""Reading Anki's "Notes in Plain Text" export (.txt), parsed as Anki's own importer parses it.

Anki (rslib/src/import_export/text/csv/) writes header lines, then one note per CSV record:

    #separator:tab
    #html:true
    #guid column:1
    #notetype column:2
    #deck column:3
    #tags column:6
    Qi.L3}Jiu9<TAB>Basic<TAB>Pharm::Receptors<TAB>"<img src=""a.jpg"">"<TAB>back<TAB>tag1 tag2

A record is quoted like CSV when a field holds the separator, a quote or a line break, and every record
has as many field columns as the note type with the most fields: shorter note types are padded with
empty fields, which are trimmed again here. Header keys are matched as Anki matches them (trimmed,
any case); lines starting with '#' between records are comments. The file carries no note type ids,
templates, CSS, media or mtimes.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from tierdeck.errors import Diagnostic, shown
from tierdeck.format.schema import GUID_PATTERN
from tierdeck.portable.model import ImportedDeck, NoteIn, NoteTypeIn
from tierdeck.portable.references import media_references
from tierdeck.portable.safety import Limits, fail, note_size_problem, size

SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t", "space": " ", "pipe": "|", "colon": ":"}
NOT_AN_EXPORT = (
    "is neither an Anki package (.apkg) nor an Anki 'Notes in Plain Text' export (which starts with a "
    "'#separator:' line); in Anki, use File > Export and choose 'Anki Deck Package' or 'Notes in Plain Text'"
)
# Anki does not say whether a note type is a cloze type; a cloze deletion in a field does.
_CLOZE = re.compile(r"\{\{c\d+::")
_COLUMN_KEYS = ("guid column", "notetype column", "deck column", "tags column")
_FIX_HEADER = "fix the line, or export the notes from Anki again"


@dataclass
class _Header:
    """What the header lines say, and the line each said it on."""

    separator: str | None = None
    html: bool = True
    tags: tuple[str, ...] = ()
    notetype: str | None = None
    deck: str | None = None
    columns: dict[str, int] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


@dataclass
class _Cursor:
    """Where the csv reader is: between records or not, and the line the current record started on."""

    between_records: bool = True
    start: int = 0


def read_text_export(source: Path, limits: Limits) -> ImportedDeck:
    """The notes of the plain-text export at `source`, with note types known by name only."""
    text = _decode(source, limits)
    stream = io.StringIO(text, newline="")
    header, first, number = _header(source, stream)
    left_out: list[Diagnostic] = []
    notes = _records(source, header, stream, first, number, limits, left_out)
    notes, notetypes = _trimmed(notes)
    warnings = left_out + _warnings(source, header, notes)
    decks = sorted({note.deck for note in notes})
    return ImportedDeck(source, "text", notetypes, notes, decks, warnings=warnings)


def _decode(source: Path, limits: Limits) -> str:
    try:
        with source.open("rb") as file:
            raw = file.read(limits.max_text_bytes + 1)
    except OSError as exc:
        fail(source, f"cannot be read ({exc.strerror}); check that it exists and is readable")
    if len(raw) > limits.max_text_bytes:
        fail(source, f"is over {size(limits.max_text_bytes)}, the limit for a plain-text export; export fewer notes")
    if b"\x00" in raw or not raw.startswith((b"#", b"\xef\xbb\xbf#", b"tags:")):
        fail(source, NOT_AN_EXPORT)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(
            source,
            f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); Anki writes UTF-8, so the file was changed after "
            "export: save it as UTF-8, or export the notes from Anki again",
            raw[: exc.start].count(b"\n") + 1,
        )
    return text.removeprefix("\ufeff")


def _header(source: Path, stream: io.StringIO) -> tuple[_Header, str, int]:
    """The header, the first line after it, and that line's number."""
    header = _Header()
    number = 1
    line = stream.readline()
    if line.startswith("tags:"):  # an older export's first line: tags for every note
        header.tags = tuple(line[5:].split())
        line, number = stream.readline(), number + 1
    while line.startswith("#"):
        key, colon, value = line[1:].rstrip("\r\n").partition(":")
        if colon:  # a '#' line without ':' is a comment
            _header_value(source, header, key.strip().lower(), value, number)
        line, number = stream.readline(), number + 1
    if header.separator is None:
        fail(source, NOT_AN_EXPORT)
    return header, line, number


def _header_value(source: Path, header: _Header, key: str, value: str, number: int) -> None:
    """Record one `#key:value` line; unknown keys are ignored, as Anki ignores them."""
    written = f"'#{shown(key)}:{shown(value)}'"
    if key == "separator":
        lowered = value.lower()
        separator = SEPARATORS.get(lowered.strip()) or (lowered if lowered in SEPARATORS.values() else None)
        if separator is None:
            fail(
                source,
                f"the header line {written} names an unknown separator; use one of {', '.join(SEPARATORS)} "
                "(or the character itself)",
                number,
            )
        header.separator = separator
    elif key == "html":
        if value.strip().lower() not in ("true", "false"):
            fail(source, f"the header line {written} must say true or false; {_FIX_HEADER}", number)
        header.html = value.strip().lower() == "true"
    elif key == "tags":
        header.tags = tuple(value.split())
    elif key == "notetype":
        header.notetype = value.strip()
    elif key == "deck":
        header.deck = value.strip()
    elif key in _COLUMN_KEYS:
        column = int(value.strip()) if value.strip().isascii() and value.strip().isdigit() else 0
        if column < 1:
            fail(
                source,
                f"the header line {written} needs a column number (1 for the first column); {_FIX_HEADER}",
                number,
            )
        for other, taken in header.columns.items():
            if taken == column and other != key:
                fail(
                    source,
                    f"the header line {written} gives column {column} to the {key.split()[0]}, but line "
                    f"{header.lines[other]} gave it to the {other.split()[0]}; {_FIX_HEADER}",
                    number,
                )
        header.columns[key] = column
    else:
        return
    header.lines[key] = number


def _body(stream: io.StringIO, line: str, number: int, cursor: _Cursor) -> Iterator[str]:
    """The lines after the header, skipping '#' comment lines between records, as Anki's reader does."""
    while line:
        if cursor.between_records:
            if line.startswith("#"):
                line, number = stream.readline(), number + 1
                continue
            cursor.start, cursor.between_records = number, False
        yield line
        line, number = stream.readline(), number + 1


def _records(
    source: Path, header: _Header, stream: io.StringIO, first: str, number: int, limits: Limits, left_out: list
) -> list[NoteIn]:
    """Every record as a NoteIn with all its field columns, padding included; what is left out to `left_out`."""
    assert header.separator is not None
    cursor = _Cursor()
    reader = csv.reader(_body(stream, first, number, cursor), delimiter=header.separator, strict=True)
    notes: list[NoteIn] = []
    guid_lines: dict[str, int] = {}
    width = 0
    field_columns: list[int] = []
    # The csv module refuses fields over 128 KB by default; the size limits below say more clearly.
    previous_limit = csv.field_size_limit(limits.max_text_bytes)
    try:
        while True:
            cursor.between_records = True
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error:
                fail(
                    source,
                    "the quotes in this record do not pair up; a field holding the separator, a quote or a line "
                    'break must be enclosed in double quotes, with each quote inside it doubled ("")',
                    cursor.start,
                )
            if not record:  # a blank line, which Anki skips
                continue
            if not width:
                width = len(record)
                field_columns = _field_columns(source, header, width)
            elif len(record) != width:
                fail(
                    source,
                    f"this record has {len(record)} fields, but the first record has {width}; enclose a field "
                    "holding the separator in double quotes, or export the notes from Anki again",
                    cursor.start,
                )
            note = _note(source, header, record, field_columns, cursor.start, limits, guid_lines)
            if isinstance(note, Diagnostic):
                left_out.append(note)
            else:
                notes.append(note)
    finally:
        csv.field_size_limit(previous_limit)
    return notes


def _field_columns(source: Path, header: _Header, width: int) -> list[int]:
    """The 0-based columns holding note fields, after checking each header column lies within `width`."""
    for key, column in header.columns.items():
        if column > width:
            fail(
                source,
                f"the header line '#{key}:{column}' names column {column}, but the records have {width} columns; "
                f"{_FIX_HEADER}",
                header.lines[key],
            )
    taken = set(header.columns.values())
    fields = [index for index in range(width) if index + 1 not in taken]
    if not fields:
        fail(
            source,
            f"the header's columns leave no column for the note's fields; {_FIX_HEADER}",
            max(header.lines.values()),
        )
    if "notetype column" not in header.columns and not header.notetype:
        fail(
            source,
            "the file does not say which note type its notes use (no '#notetype column:' or '#notetype:' line); in "
            "Anki, export the notes with 'Include notetype name' checked",
            1,
        )
    return fields


def _note(
    source: Path,
    header: _Header,
    record: list[str],
    field_columns: list[int],
    line: int,
    limits: Limits,
    guid_lines: dict[str, int],
) -> NoteIn | Diagnostic:
    """One record as a note, or (a warning) why it is left out."""
    def column(key: str) -> str | None:
        return record[header.columns[key] - 1] if key in header.columns else None

    guid = column("guid column") or None
    notetype = column("notetype column") or header.notetype
    if not notetype:
        fail(source, f"this record's note type column is empty; {_FIX_HEADER}", line)
    fields = tuple(record[index] for index in field_columns)
    if not header.html:  # plain text, which Anki's importer escapes into HTML the same way
        fields = tuple(html.escape(text) for text in fields)
    label = f"note '{shown(guid)}'" if guid else "this note"
    too_big = note_size_problem(label, fields, (), limits)
    if too_big is not None:
        return Diagnostic(source, f"{too_big}; until then the note is left out", line, level="warning")
    if guid is not None:
        if not re.match(GUID_PATTERN, guid):
            fail(
                source,
                f"the GUID '{shown(guid)}' is not one Anki writes (1 to 64 printable ASCII characters, no space or "
                "control character); export the notes from Anki again",
                line,
            )
        if guid in guid_lines:
            return Diagnostic(
                source,
                f"the GUID '{shown(guid)}' was already used on line {guid_lines[guid]} (students' Anki would take the "
                "two notes for one), so this note was left out; in Anki's browser, use Notes > Create Copy on one of "
                "them, delete the original, then export again",
                line,
                level="warning",
            )
        guid_lines[guid] = line
    tags = header.tags + tuple((column("tags column") or "").split())
    deck = column("deck column") or header.deck or "Default"
    return NoteIn(guid, notetype, None, fields, tags, deck, line=line)


def _trimmed(notes: list[NoteIn]) -> tuple[list[NoteIn], dict[int | str, NoteTypeIn]]:
    """Notes without the empty fields Anki's exporter pads them with, and a note type per name.

    A note type has as many fields as the furthest non-empty field any of its notes has (at least one).
    """
    widths: dict[str, int] = {}
    cloze: dict[str, bool] = {}
    for note in notes:
        name = str(note.notetype)
        used = max((index + 1 for index, text in enumerate(note.fields) if text), default=1)
        widths[name] = max(widths.get(name, 1), used)
        cloze[name] = cloze.get(name, False) or any(_CLOZE.search(text) for text in note.fields)
    notetypes: dict[int | str, NoteTypeIn] = {
        name: NoteTypeIn(
            id=None,
            name=name,
            cloze=cloze[name],
            fields=tuple(f"Field {index}" for index in range(1, width + 1)),
            templates=(),
            css="",
            mtime=None,
            sort_field=0,
        )
        for name, width in widths.items()
    }
    return [replace(note, fields=note.fields[: widths[str(note.notetype)]]) for note in notes], notetypes


def _warnings(source: Path, header: _Header, notes: list[NoteIn]) -> list[Diagnostic]:
    """What a plain-text export cannot carry over, said once for the whole file."""
    warnings = []
    if "guid column" not in header.columns:
        warnings.append(
            "the file has no GUID column, so students who already have these notes would get duplicates and lose "
            "their review history; in Anki, export the notes with 'Include unique identifier' checked"
        )
    if not header.html:
        warnings.append(
            "the file was exported without HTML ('#html:false'), so formatting, images and sounds are lost; in Anki, "
            "export the notes with 'Include HTML and media references' checked"
        )
    if "deck column" not in header.columns and not header.deck:
        warnings.append(
            "the file does not say which deck its notes are in, so they all go to the deck 'Default'; in Anki, "
            "export the notes with 'Include deck name' checked"
        )
    referring = [note for note in notes if media_references(note.fields)]
    if referring:
        example = media_references(referring[0].fields)[0]
        count = f"{len(referring)} notes refer" if len(referring) > 1 else "1 note refers"
        warnings.append(
            f"{count} to media files (e.g. '{shown(example)}'), which a plain-text export does not carry; export an "
            "Anki Deck Package (.apkg) with media instead to keep them"
        )
    return [Diagnostic(source, message, level="warning") for message in warnings]
