"""Reading an instructor's Anki deck (issue 12): what went in comes out, and a hostile file gets a clear error."""

from __future__ import annotations

import json
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from anki.collection import ExportAnkiPackageOptions
from anki.import_export_pb2 import MediaEntries

from anki_engine import open_collection
from import_builders import (
    DECKS,
    DRUG_CSS,
    MEDIA,
    Sample,
    build_sample,
    edit_collection,
    edit_json,
    members,
    sql,
    unzstd,
    write_zip,
    zstd,
)
from tierdeck.errors import InputError, UsageError
from tierdeck.importing import Limits, read
from tierdeck.portable.model import ImportedDeck, TemplateIn

MB = 1024 * 1024
EXPORT_AGAIN = "export the deck from Anki again"
NOT_ANKI = f"it is not an Anki collection, or it is damaged: {EXPORT_AGAIN}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return build_sample(tmp_path_factory.mktemp("sample"))


@pytest.fixture(autouse=True)
def no_temporary_files_left(tmp_path_factory, monkeypatch):
    """Every read, failed or not, removes the temporary folder it made (in a folder of its own: others run too)."""
    folder = tmp_path_factory.mktemp("temp")
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield
    left = [p.name for p in folder.iterdir() if p.name.startswith("tierdeck-import-")]
    assert left == []


def left_out(path: Path, limits: Limits = Limits()) -> tuple[list[str], list[str]]:
    """(the warnings reading `path` gives, rendered; the GUIDs of the notes it read): one bad note is left out."""
    deck = read(path, limits)
    return [w.render(path.parent) for w in deck.warnings], [str(n.guid) for n in deck.notes]


def error(path: Path, limits: Limits = Limits()) -> str:
    """The one message reading `path` fails with, rendered with its location."""
    with pytest.raises(InputError) as caught:
        read(path, limits)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.file == path and diagnostic.level == "error"
    return diagnostic.render(path.parent)


def warnings(deck: ImportedDeck) -> list[str]:
    return [w.render(deck.source.parent) for w in deck.warnings]


# --- what went in comes out -------------------------------------------------------------------------


def assert_package_matches(deck: ImportedDeck, sample: Sample) -> None:
    assert [(n.guid, n.notetype, n.mtime, n.fields, n.tags, n.deck, n.note_id, n.line) for n in deck.notes] == [
        (e.guid, e.notetype_id, e.mtime, e.fields, e.tags, e.deck, e.note_id, None) for e in sample.notes
    ]
    used = {e.notetype_id for e in sample.notes}
    assert set(deck.notetypes) == used  # a package holds the note types its notes use
    for ntid in used:
        got, want = deck.notetypes[ntid], sample.notetypes[ntid]
        assert (got.id, got.name, got.cloze, got.fields, got.css, got.mtime, got.sort_field) == (
            want.id,
            want.name,
            want.cloze,
            want.fields,
            want.css,
            want.mtime,
            want.sort_field,
        )
        assert got.templates == tuple(TemplateIn(*t) for t in want.templates)
    assert deck.decks == DECKS
    assert {name: m.data for name, m in deck.media.items()} == MEDIA
    assert all(name == m.name for name, m in deck.media.items())
    assert deck.warnings == []


def test_legacy_package_reads_back_exactly_what_went_in(sample):
    deck = read(sample.legacy)
    assert deck.format == "apkg-legacy"
    assert_package_matches(deck, sample)


def test_current_package_reads_back_exactly_what_went_in(sample):
    with zipfile.ZipFile(sample.current) as zf:
        assert "collection.anki21b" in zf.namelist()  # really the current format, not a legacy fallback
    deck = read(sample.current)
    assert deck.format == "apkg"
    assert_package_matches(deck, sample)


def test_the_custom_note_type_keeps_its_css_templates_and_sort_field(sample):
    (drug,) = [nt for nt in read(sample.current).notetypes.values() if nt.name == "Drug"]
    assert drug.css == DRUG_CSS
    assert [t.name for t in drug.templates] == ["Recall", "Mechanism"]
    assert drug.fields == ("Name", "Class", "Mechanism") and drug.sort_field == 1 and not drug.cloze
    assert drug.mtime == 1_500_000_000 and drug.id


def test_an_anki_2_0_package_without_meta(sample, tmp_path):
    content = members(sample.legacy)
    content = {
        "collection.anki2": content["collection.anki21"],
        "media": content["media"],
        **{name: data for name, data in content.items() if name.isdigit()},
    }
    deck = read(write_zip(tmp_path / "old.apkg", content))
    assert deck.format == "apkg-legacy"
    assert_package_matches(deck, sample)


def test_text_anki_would_normalise_is_read_as_stored(tmp_path):
    """Anki's own import rewrites fields to NFC; the reader must hand over the bytes the package holds."""
    col = open_collection(tmp_path / "teacher")
    col.set_config("normalize_note_text", False)
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "cafe\u0301", "x"
    col.add_note(note, col.decks.id("French"))
    options = ExportAnkiPackageOptions(with_scheduling=False, with_media=True, legacy=False)
    col.export_anki_package(out_path=str(tmp_path / "french.apkg"), options=options, limit=None)
    col.close()
    assert read(tmp_path / "french.apkg").notes[0].fields == ("cafe\u0301", "x")


def test_the_content_not_the_suffix_chooses_the_reader(sample, tmp_path):
    renamed = tmp_path / "deck.zip"
    renamed.write_bytes(sample.current.read_bytes())
    assert read(renamed).format == "apkg"
    as_apkg = tmp_path / "notes.apkg.txt"
    as_apkg.write_bytes(sample.text.read_bytes())
    assert read(as_apkg).format == "text"


def test_text_export_reads_back_guids_fields_tags_and_decks(sample):
    deck = read(sample.text)
    assert deck.format == "text"
    lines = sample.text.read_text(encoding="utf-8").splitlines()
    assert lines[:6] == [
        "#separator:tab",
        "#html:true",
        "#guid column:1",
        "#notetype column:2",
        "#deck column:3",
        "#tags column:7",
    ]
    by_guid = {n.guid: n for n in deck.notes}
    assert [(n.guid, n.notetype, n.fields, n.tags, n.deck) for n in deck.notes] == [
        (e.guid, e.notetype, e.fields, e.tags, e.deck) for e in sample.notes
    ]
    assert all(n.mtime is None and n.note_id is None for n in deck.notes)
    # each record's line, even after a record holding a line break
    for note in deck.notes:
        assert lines[note.line - 1].startswith((note.guid, f'"{note.guid}'))
    drug = next(e for e in sample.notes if e.notetype == "Drug")
    assert by_guid[drug.guid].line + 2 == by_guid[sample.notes[-1].guid].line
    assert {name: (nt.id, nt.cloze, nt.fields, nt.templates, nt.css) for name, nt in deck.notetypes.items()} == {
        "Basic": (None, False, ("Field 1", "Field 2"), (), ""),
        "Basic (and reversed card)": (None, False, ("Field 1", "Field 2"), (), ""),
        "Cloze": (None, True, ("Field 1", "Field 2"), (), ""),
        "Drug": (None, False, ("Field 1", "Field 2", "Field 3"), (), ""),
    }
    assert deck.decks == sorted({e.deck for e in sample.notes})
    assert deck.media == {}
    assert warnings(deck) == [
        "notes.txt: warning: 2 notes refer to media files (e.g. 'receptor.png'), which a plain-text export does not "
        "carry; export an Anki Deck Package (.apkg) with media instead to keep them"
    ]


def test_text_export_without_html_guid_or_deck_is_escaped_and_warned_about(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text('#separator:comma\n#html:false\n#notetype:Basic\n#tags:imported\n5 < 6,"a, b"\n', encoding="utf-8")
    deck = read(path)
    (note,) = deck.notes
    assert (note.guid, note.notetype, note.fields, note.tags, note.deck, note.line) == (
        None,
        "Basic",
        ("5 &lt; 6", "a, b"),
        ("imported",),
        "Default",
        5,
    )
    assert warnings(deck) == [
        "plain.txt: warning: the file has no GUID column, so students who already have these notes would get "
        "duplicates and lose their review history; in Anki, export the notes with 'Include unique identifier' checked",
        "plain.txt: warning: the file was exported without HTML ('#html:false'), so formatting, images and sounds are "
        "lost; in Anki, export the notes with 'Include HTML and media references' checked",
        "plain.txt: warning: the file does not say which deck its notes are in, so they all go to the deck 'Default'; "
        "in Anki, export the notes with 'Include deck name' checked",
    ]


@pytest.mark.parametrize("separator", ["tab", "comma", "semicolon", "pipe", "space", "colon", " Pipe ", "|", ";"])
def test_every_separator_anki_names(tmp_path, separator):
    names = {"tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " ", "colon": ":"}
    char = names.get(separator.strip().lower(), separator)

    def record(*fields: str) -> str:
        quoted = ['"' + f.replace('"', '""') + '"' if char in f or '"' in f else f for f in fields]
        return char.join(quoted)

    path = tmp_path / "notes.txt"
    path.write_text(
        f"#separator:{separator}\n#guid column:1\n#notetype column:2\n#deck column:3\n#tags column:6\n"
        + record("g1", "Basic", "Deck::Sub", f'front {char} with "quote"', "back", "t1 t2")
        + "\r\n# a comment between records, which Anki skips\n\n"
        + record("g2", "Basic", "Deck", "front", "back", "")
        + "\n",
        encoding="utf-8",
    )
    assert [(n.guid, n.fields, n.tags, n.deck, n.line) for n in read(path).notes] == [
        ("g1", (f'front {char} with "quote"', "back"), ("t1", "t2"), "Deck::Sub", 6),
        ("g2", ("front", "back"), (), "Deck", 9),
    ]


# --- the current format needs the extra ----------------------------------------------------------------


def test_current_package_without_the_extra_says_what_to_install(sample, monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if not installed: importing it fails
    with pytest.raises(UsageError) as caught:
        read(sample.current)
    assert str(caught.value) == (
        f"{sample.current} is in the package format of Anki 2.1.50 and later, which tierdeck reads with the optional "
        "packages anki and zstandard; install them with: pip install 'tierdeck[import]' (or in Anki export the deck "
        "again with 'Support older Anki versions' checked)"
    )
    assert read(sample.legacy).format == "apkg-legacy"  # the legacy format needs neither


# --- not a deck at all ---------------------------------------------------------------------------------


def test_garbage_named_apkg(tmp_path):
    path = tmp_path / "deck.apkg"
    path.write_bytes(b"<html>404 Not Found</html>")
    assert error(path) == (
        "deck.apkg: is not a valid Anki package: it is not a zip file; it may be damaged or only partly downloaded: "
        "download it again, or export the deck from Anki again"
    )


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00", b"front\tback\n", b"# Title\n\nsome notes\n", b""])
def test_neither_a_package_nor_a_text_export(tmp_path, content):
    path = tmp_path / "deck.txt"
    path.write_bytes(content)
    assert error(path) == (
        "deck.txt: is neither an Anki package (.apkg) nor an Anki 'Notes in Plain Text' export (which starts with a "
        "'#separator:' line); in Anki, use File > Export and choose 'Anki Deck Package' or 'Notes in Plain Text'"
    )


def test_a_folder_and_a_missing_file(tmp_path):
    assert error(tmp_path) == (
        f"{tmp_path.name}: is a folder; name an Anki package (.apkg) or a 'Notes in Plain Text' export (.txt)"
    )
    assert error(tmp_path / "nope.apkg") == (
        "nope.apkg: cannot be read (No such file or directory); check that it exists and is readable"
    )


def test_truncated_zip(sample, tmp_path):
    path = tmp_path / "cut.apkg"
    path.write_bytes(sample.legacy.read_bytes()[:5000])  # a download cut short: no central directory
    assert error(path) == (
        "cut.apkg: is not a valid Anki package: its zip structure is damaged; it may be only partly downloaded: "
        "download it again, or export the deck from Anki again"
    )


def test_zip_without_a_collection(tmp_path):
    path = write_zip(tmp_path / "photos.apkg", {"media": b"{}", "0": b"jpeg"})
    assert error(path) == (
        "photos.apkg: holds no Anki collection (no member collection.anki2 or collection.anki21); it is not an Anki "
        "deck package, or it is damaged: export the deck from Anki again"
    )
    path = write_zip(tmp_path / "latest.apkg", {"meta": b"\x08\x03", "collection.anki2": b"dummy"})
    assert error(path) == (
        "latest.apkg: holds no Anki collection (no member collection.anki21b); it is not an Anki deck package, or it "
        "is damaged: export the deck from Anki again"
    )


def test_a_damaged_member(sample, tmp_path):
    content = members(sample.legacy)
    raw = sample.legacy.read_bytes()
    with zipfile.ZipFile(sample.legacy) as zf:
        info = zf.getinfo("collection.anki21")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)  # the deflated bytes
    broken = raw[: start + 100] + bytes(200) + raw[start + 300 :]
    path = tmp_path / "flipped.apkg"
    path.write_bytes(broken)
    assert error(path) == (
        "flipped.apkg: the package member 'collection.anki21' is damaged (its compressed data cannot be read); "
        "download the package again, or export the deck from Anki again"
    )
    content["collection.anki21b"] = b"not zstd at all"
    content["meta"] = b"\x08\x03"
    path = write_zip(tmp_path / "zstd.apkg", content)
    assert error(path) == (
        "zstd.apkg: the package member 'collection.anki21b' is damaged (its compressed data cannot be read); "
        "download the package again, or export the deck from Anki again"
    )


def central_entry_patched(apkg: Path, member: str, offset: int, value: bytes) -> bytes:
    """The package's bytes with one field of `member`'s central directory entry overwritten."""
    raw = bytearray(apkg.read_bytes())
    start = 0
    while True:
        start = raw.index(b"PK\x01\x02", start)
        length = int.from_bytes(raw[start + 28 : start + 30], "little")
        if raw[start + 46 : start + 46 + length] == member.encode():
            raw[start + offset : start + offset + len(value)] = value
            return bytes(raw)
        start += 4


@pytest.mark.parametrize(
    "offset, value",
    [(8, b"\x01\x00"), (10, b"\x5d\x00")],  # flagged as encrypted; compressed by a method zipfile lacks (zstd, 93)
    ids=["encrypted", "unknown-compression"],
)
def test_a_member_that_cannot_be_decompressed(sample, tmp_path, offset, value):
    path = tmp_path / "odd.apkg"
    path.write_bytes(central_entry_patched(sample.legacy, "collection.anki21", offset, value))
    assert error(path) == (
        "odd.apkg: the package member 'collection.anki21' is damaged (its compressed data cannot be read); download "
        "the package again, or export the deck from Anki again"
    )


# --- package versions ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "meta, message",
    [
        (
            b"\x08\x04",
            "the package is of format version 4, newer than this version of tierdeck reads (3); update tierdeck (pip "
            "install -U tierdeck), or in Anki export the deck again with 'Support older Anki versions' checked",
        ),
        (
            b"",  # version 0: what Anki itself calls "too new"
            "the package's version marker ('meta') is not one tierdeck knows: the package was made by a newer Anki, or "
            "is damaged; update tierdeck (pip install -U tierdeck), or in Anki export the deck again with 'Support "
            "older Anki versions' checked",
        ),
    ],
)
def test_a_newer_package_version(sample, tmp_path, meta, message):
    path = write_zip(tmp_path / "new.apkg", {**members(sample.legacy), "meta": meta})
    assert error(path) == f"new.apkg: {message}"


def collection_variant(sample: Sample, tmp_path: Path, edit, current: bool = False, name: str = "edited.apkg") -> Path:
    """The sample package with its collection edited by `edit` (current: in the anki21b member, zstd)."""
    content = members(sample.current if current else sample.legacy)
    member = "collection.anki21b" if current else "collection.anki21"
    data = unzstd(content[member]) if current else content[member]
    edited = edit_collection(data, tmp_path / "work", edit)
    content[member] = zstd(edited) if current else edited
    return write_zip(tmp_path / name, content)


@pytest.mark.parametrize(
    "current, version, newest",
    [(False, 12, 11), (True, 19, 18)],
)
def test_a_newer_collection_schema(sample, tmp_path, current, version, newest):
    path = collection_variant(sample, tmp_path, sql(f"UPDATE col SET ver = {version}"), current)
    assert error(path) == (
        f"edited.apkg: the collection uses schema version {version}, newer than this version of tierdeck reads "
        f"({newest}); update tierdeck (pip install -U tierdeck), or in Anki export the deck again with 'Support older "
        "Anki versions' checked"
    )


def test_a_current_collection_the_engine_cannot_open(sample, tmp_path):
    path = collection_variant(sample, tmp_path, sql("DROP TABLE config"), current=True)
    assert error(path) == (
        "edited.apkg: the collection inside the package is damaged (Anki's engine cannot open it); export the deck "
        "from Anki again"
    )


def test_an_older_collection_schema(sample, tmp_path):
    path = collection_variant(sample, tmp_path, sql("UPDATE col SET ver = 10"))
    assert error(path) == (
        "edited.apkg: the collection uses schema version 10, older than any release of Anki 2.0 writes; open the "
        "deck in a current Anki and export it again"
    )


# --- a damaged collection ------------------------------------------------------------------------------


def test_collection_of_garbage_or_truncated(sample, tmp_path):
    content = members(sample.legacy)
    path = write_zip(tmp_path / "garbage.apkg", {**content, "collection.anki21": b"\x00garbage" * 1000})
    assert error(path) == (
        "garbage.apkg: the collection inside the package is damaged (file is not a database); it may be only partly "
        "downloaded: download it again, or export the deck from Anki again"
    )
    database = content["collection.anki21"]
    path = write_zip(tmp_path / "truncated.apkg", {**content, "collection.anki21": database[: len(database) // 3]})
    assert error(path) == (
        "truncated.apkg: the collection inside the package is damaged (database disk image is malformed); it may be "
        "only partly downloaded: download it again, or export the deck from Anki again"
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (sql("DROP TABLE cards"), f"the collection inside the package has no 'cards' table; {NOT_ANKI}"),
        (
            sql("ALTER TABLE notes RENAME COLUMN guid TO uid"),
            f"the collection's 'notes' table has no 'guid' column; {NOT_ANKI}",
        ),
        (
            sql("ALTER TABLE cards RENAME TO real_cards", "CREATE VIEW cards AS SELECT * FROM real_cards"),
            "the collection inside the package holds a view named 'cards', which Anki never creates, so the file was "
            f"altered after Anki wrote it; {EXPORT_AGAIN}",
        ),
        (
            sql("CREATE TRIGGER spy AFTER UPDATE ON notes BEGIN SELECT 1; END"),
            "the collection inside the package holds a trigger named 'spy', which Anki never creates, so the file was "
            f"altered after Anki wrote it; {EXPORT_AGAIN}",
        ),
        (
            sql("UPDATE col SET models = '[]'"),
            f"the collection's list of note types is not the JSON mapping Anki writes; {NOT_ANKI}",
        ),
        (
            sql("UPDATE col SET decks = '{\"1\": '"),
            f"the collection's list of decks is not the JSON mapping Anki writes; {NOT_ANKI}",
        ),
        (
            edit_json("models", lambda models: [m.pop("flds") for m in models.values() if m["name"] == "Cloze"]),
            f"note type 'Cloze' in the collection has no valid 'flds' (a list); {NOT_ANKI}",
        ),
        (
            edit_json(
                "models", lambda models: [m["tmpls"][0].update(qfmt=7) for m in models.values() if m["name"] == "Drug"]
            ),
            f"a template of note type 'Drug' in the collection has no valid 'qfmt' (text); {NOT_ANKI}",
        ),
        (
            edit_json("decks", lambda decks: decks["1"].update(name=None)),
            f"deck 1 in the collection has no valid 'name' (text); {NOT_ANKI}",
        ),
    ],
)
def test_a_collection_that_is_not_what_anki_writes(sample, tmp_path, edit, message):
    path = collection_variant(sample, tmp_path, edit)
    assert error(path) == f"edited.apkg: {message}"


def test_a_damaged_note(sample, tmp_path):
    first = sample.notes[0]
    path = collection_variant(
        sample, tmp_path, sql("UPDATE notes SET mod = 'yesterday' WHERE guid = ?", args=(first.guid,))
    )
    assert error(path) == f"edited.apkg: note '{first.guid}' in the collection has no valid 'mod'; {NOT_ANKI}"
    path = collection_variant(sample, tmp_path, sql("UPDATE notes SET flds = 'one' WHERE guid = ?", args=(first.guid,)))
    warnings, read_guids = left_out(path)
    assert warnings == [
        f"edited.apkg: warning: note '{first.guid}' has 1 field, but its note type 'Basic' has 2; in Anki, run Tools > "
        "Check Database, then export again; until then the note is left out"
    ]
    assert read_guids == [n.guid for n in sample.notes[1:]]


def test_a_modification_time_no_anki_writes_leaves_that_note_out(sample, tmp_path):
    first = sample.notes[0]
    huge = (1 << 63) - 1  # accepted before, it broke every later build with an OverflowError
    path = collection_variant(sample, tmp_path, sql("UPDATE notes SET mod = ? WHERE guid = ?", args=(huge, first.guid)))
    deck = read(path)
    assert first.guid not in [n.guid for n in deck.notes] and len(deck.notes) == len(sample.notes) - 1
    assert [w.message for w in deck.warnings] == [
        f"note '{first.guid}' ('Which receptor?', deck 'Pharmacology::Receptors') has the modification time {huge} and "
        f"the id {first.note_id}, which no Anki writes (times are seconds below 4294967296, ids below 9007199254740992), "
        "so it was left out; in Anki, edit the note (that stamps it anew), then export again"
    ]


# --- size limits and bombs -----------------------------------------------------------------------------


def test_a_field_over_one_megabyte_names_the_note(sample, tmp_path):
    first = sample.notes[0]
    huge = "x" * (MB + 1)
    path = collection_variant(
        sample, tmp_path, sql("UPDATE notes SET flds = ? WHERE guid = ?", args=(f"front\x1f{huge}", first.guid))
    )
    warnings, read_guids = left_out(path)
    assert warnings == [
        f"edited.apkg: warning: note '{first.guid}': field 2 ('Back') holds 1.1 MB, over the limit of 1 MB for one "
        "field; shorten it in Anki (an image belongs in a media file, not inline in the field) and export again; until "
        "then the note is left out"
    ]
    assert first.guid not in read_guids and len(read_guids) == len(sample.notes) - 1


def test_a_note_over_the_note_limit(sample):
    sizes = [(sum(len(text.encode()) for text in e.fields), e.guid) for e in sample.notes]
    total, guid = next((total, guid) for total, guid in sizes if total > 40)
    warnings, _ = left_out(sample.legacy, Limits(max_note_bytes=40))
    assert warnings[0] == (
        f"legacy.apkg: warning: note '{guid}': its fields hold {total} bytes together, over the limit of 40 bytes for "
        "one note; shorten them in Anki (images belong in media files, not inline) and export again; until then the "
        "note is left out"
    )


def test_a_zip_bomb_collection_is_stopped_at_the_limit(tmp_path):
    path = write_zip(tmp_path / "bomb.apkg", {"collection.anki21": bytes(3 * MB)})
    assert path.stat().st_size < 10_000
    assert error(path, Limits(max_collection_bytes=MB)) == (
        "bomb.apkg: the package member 'collection.anki21' decompresses to more than 1 MB, the limit for one member; "
        "this is not a deck Anki exported (it may be a zip bomb): do not import it"
    )


def test_a_zstd_bomb_collection_is_stopped_at_the_limit(tmp_path):
    path = write_zip(tmp_path / "bomb.apkg", {"meta": b"\x08\x03", "collection.anki21b": zstd(bytes(3 * MB))})
    assert error(path, Limits(max_collection_bytes=MB)) == (
        "bomb.apkg: the package member 'collection.anki21b' decompresses to more than 1 MB, the limit for one member; "
        "this is not a deck Anki exported (it may be a zip bomb): do not import it"
    )


@pytest.mark.parametrize("current", [False, True])
def test_a_media_bomb_is_stopped_at_the_limit(sample, tmp_path, current):
    content = members(sample.current if current else sample.legacy)
    content["0"] = zstd(bytes(3 * MB)) if current else bytes(3 * MB)
    path = write_zip(tmp_path / "bomb.apkg", content)
    if current:  # its media list declares each file's size: memory stays within what the package declares
        assert error(path, Limits(max_member_bytes=MB)) == (
            "bomb.apkg: the package member '0' is damaged (it does not match the size and checksum the media list "
            "records); download the package again, or export the deck from Anki again"
        )
    else:
        assert error(path, Limits(max_member_bytes=MB)) == (
            "bomb.apkg: the package member '0' decompresses to more than 1 MB, the limit for one member; this is not a "
            "deck Anki exported (it may be a zip bomb): do not import it"
        )


def test_many_small_members_add_up_to_the_total_limit(sample, tmp_path):
    content = members(sample.legacy)
    names = {str(i): f"part{i}.bin" for i in range(20)}
    content.update({"media": json.dumps(names).encode(), **{str(i): bytes(100_000) for i in range(20)}})
    path = write_zip(tmp_path / "bomb.apkg", content)
    # refused from the sizes the zip declares, before any media file is decompressed
    assert error(path, Limits(max_total_bytes=MB)) == (
        "bomb.apkg: the package's media files declare 2 MB together, over the limit of 1 MB for one import; split "
        "the deck in Anki and export the parts"
    )


def test_too_many_media_files(sample, tmp_path):
    assert error(sample.legacy, Limits(max_media_files=1)) == (
        "legacy.apkg: the package holds 6 files, too many for one import (at most 1 media files); split the deck in "
        "Anki and export the parts"
    )
    content = members(sample.legacy)
    content["media"] = json.dumps({"0": "a.png", "1": "b.png", "7": "c.png"}).encode()
    path = write_zip(tmp_path / "listed.apkg", content)
    assert error(path, Limits(max_media_files=2)) == (
        "listed.apkg: the package lists 3 media files, more than the limit of 2 for one import; split the deck in Anki "
        "and export the parts"
    )


# --- media names and lists -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, problem",
    [
        ("../evil.png", "it climbs to a parent folder with '..'"),
        ("..", "it climbs to a parent folder with '..'"),
        ("/etc/passwd", "it is an absolute path"),
        ("\\\\server\\share.png", "it is an absolute path"),
        ("C:evil.png", "it starts with a drive letter"),
        ("images/evil.png", "it holds a path separator ('/' or '\\')"),
        ("images\\evil.png", "it holds a path separator ('/' or '\\')"),
        ("evil\n.png", "it holds the control character U+000A"),
        ("", "it is not a file name"),
    ],
)
@pytest.mark.parametrize("current", [False, True])
def test_an_unsafe_media_name_is_refused(sample, tmp_path, name, problem, current):
    content = members(sample.current if current else sample.legacy)
    if current:
        entries = MediaEntries.FromString(unzstd(content["media"]))
        entries.entries[0].name = name
        content["media"] = zstd(entries.SerializeToString())
    else:
        content["media"] = json.dumps({**json.loads(content["media"]), "0": name}).encode()
    path = write_zip(tmp_path / "evil.apkg", content)
    shown = name.replace("\n", "\\n")
    assert error(path) == (
        f"evil.apkg: the media file in member '0' is named '{shown}': {problem}, so it could be written outside Anki's "
        "media folder; tierdeck refuses such a package: ask its author for a clean export"
    )


def test_a_media_list_that_does_not_match_the_members(sample, tmp_path):
    content = members(sample.legacy)
    listed = json.loads(content["media"])
    path = write_zip(
        tmp_path / "twice.apkg", {**content, "media": json.dumps({"0": listed["0"], "1": listed["0"]}).encode()}
    )
    assert error(path) == (
        f"twice.apkg: the media list names '{listed['0']}' twice (members '0' and '1'); the package is damaged: export "
        "the deck from Anki again"
    )
    path = write_zip(tmp_path / "gone.apkg", {**content, "media": json.dumps({**listed, "9": "gone.png"}).encode()})
    assert error(path) == (
        "gone.apkg: the media list names member '9' (the file 'gone.png'), which the package does not hold; the "
        "package is incomplete: export the deck from Anki again"
    )
    path = write_zip(tmp_path / "list.apkg", {**content, "media": b"[1, 2"})
    assert error(path) == "list.apkg: the package's media list ('media') is damaged; export the deck from Anki again"
    current = members(sample.current)
    path = write_zip(tmp_path / "swapped.apkg", {**current, "0": current["1"]})
    assert error(path) == (
        "swapped.apkg: the package member '0' is damaged (it does not match the size and checksum the media list "
        "records); download the package again, or export the deck from Anki again"
    )


# --- what cannot be carried over: warnings, per note ---------------------------------------------------


def test_what_cannot_be_carried_over_is_warned_about_per_note(sample, tmp_path):
    receptor, reversed_, cloze, drug, hashed = sample.notes

    def edit(conn):
        decks = json.loads(conn.execute("SELECT decks FROM col").fetchone()[0])
        home = next(d for d in decks.values() if d["name"] == "Pharmacology::Kinetics")
        decks["424242"] = {"id": 424242, "name": "Cram", "dyn": 1}
        conn.execute("UPDATE col SET decks = ?", (json.dumps(decks),))
        conn.execute("UPDATE cards SET did = 424242, odid = ? WHERE nid = ?", (home["id"], reversed_.note_id))
        conn.execute("UPDATE cards SET did = 999 WHERE nid = ?", (drug.note_id,))
        conn.execute("DELETE FROM cards WHERE nid = ?", (hashed.note_id,))
        conn.execute("UPDATE notes SET mid = 42 WHERE id = ?", (cloze.note_id,))

    content = members(sample.legacy)
    path = collection_variant(sample, tmp_path, edit)
    listed = json.loads(content["media"])
    kept = {member: name for member, name in listed.items() if name != "receptor.png"}
    path = write_zip(path, {**members(path), "media": json.dumps(kept).encode()})
    deck = read(path)
    assert [(n.guid, n.deck) for n in deck.notes] == [
        (receptor.guid, "Pharmacology::Receptors"),
        (reversed_.guid, "Pharmacology::Kinetics"),
        (drug.guid, "Default"),
        (hashed.guid, "Default"),
    ]
    assert "Cram" not in deck.decks and "Default" in deck.decks
    assert warnings(deck) == [
        f"edited.apkg: warning: note '{reversed_.guid}' has a card in the filtered deck 'Cram', which tierdeck does "
        "not carry over; it goes to its home deck 'Pharmacology::Kinetics'",
        f"edited.apkg: warning: note '{cloze.guid}' uses a note type (id 42) that the package does not hold, so it is "
        "left out; in Anki, run Tools > Check Database, then export again",
        f"edited.apkg: warning: note '{drug.guid}' has a card in a deck (id 999) the package does not hold; it goes "
        "to the deck 'Default'",
        f"edited.apkg: warning: note '{hashed.guid}' has no cards; it goes to the deck 'Default'",
        f"edited.apkg: warning: note '{receptor.guid}' refers to the media file 'receptor.png', which the package does "
        "not hold, so students will see it missing; in Anki, run Tools > Check Media, then export with media",
    ]


# --- hostile text exports ------------------------------------------------------------------------------

HEADER = "#separator:tab\n#html:true\n#guid column:1\n#notetype column:2\n#deck column:3\n#tags column:6\n"


def text_error(tmp_path: Path, text: str | bytes, limits: Limits = Limits()) -> str:
    path = tmp_path / "notes.txt"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return error(path, limits)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "#separator:slash\n",
            "notes.txt:1: the header line '#separator:slash' names an unknown separator; use one of comma, semicolon, "
            "tab, space, pipe, colon (or the character itself)",
        ),
        (
            "#separator:tab\n#html:yes\n",
            "notes.txt:2: the header line '#html:yes' must say true or false; fix the line, or export the notes from "
            "Anki again",
        ),
        (
            "#separator:tab\n#tags column:last\n",
            "notes.txt:2: the header line '#tags column:last' needs a column number (1 for the first column); fix the "
            "line, or export the notes from Anki again",
        ),
        (
            "#separator:tab\n#guid column:0\n",
            "notes.txt:2: the header line '#guid column:0' needs a column number (1 for the first column); fix the "
            "line, or export the notes from Anki again",
        ),
        (
            "#separator:tab\n#guid column:1\n#deck column:1\n",
            "notes.txt:3: the header line '#deck column:1' gives column 1 to the deck, but line 2 gave it to the guid; "
            "fix the line, or export the notes from Anki again",
        ),
        (
            HEADER.replace("#tags column:6", "#tags column:9") + "g1\tBasic\tDeck\tfront\tback\ttag\n",
            "notes.txt:6: the header line '#tags column:9' names column 9, but the records have 6 columns; fix the "
            "line, or export the notes from Anki again",
        ),
        (
            "#separator:tab\n#guid column:1\n#notetype column:2\ng1\tBasic\n",
            "notes.txt:3: the header's columns leave no column for the note's fields; fix the line, or export the "
            "notes from Anki again",
        ),
        (
            "#separator:tab\n#guid column:1\ng1\tfront\tback\n",
            "notes.txt:1: the file does not say which note type its notes use (no '#notetype column:' or '#notetype:' "
            "line); in Anki, export the notes with 'Include notetype name' checked",
        ),
        (
            HEADER
            + 'g1\tBasic\tDeck\tfront\tback\ttag\ng2\tBasic\tDeck\t"two\nlines"\tback\ttag\ng3\tBasic\tDeck\tfront, back\ttag\n',
            "notes.txt:10: this record has 5 fields, but the first record has 6; enclose a field holding the separator "
            "in double quotes, or export the notes from Anki again",
        ),
        (
            HEADER + 'g1\tBasic\tDeck\t"never closed\tback\ttag\ng2\tBasic\tDeck\tfront\tback\ttag\n',
            "notes.txt:7: the quotes in this record do not pair up; a field holding the separator, a quote or a line "
            'break must be enclosed in double quotes, with each quote inside it doubled ("")',
        ),
        (
            HEADER + 'g1\tBasic\tDeck\t"quoted" then text\tback\ttag\n',
            "notes.txt:7: the quotes in this record do not pair up; a field holding the separator, a quote or a line "
            'break must be enclosed in double quotes, with each quote inside it doubled ("")',
        ),
        (
            HEADER + "g1\t\tDeck\tfront\tback\ttag\n",
            "notes.txt:7: this record's note type column is empty; fix the line, or export the notes from Anki again",
        ),
    ],
)
def test_a_broken_text_export(tmp_path, text, message):
    assert text_error(tmp_path, text) == message


def test_a_bad_note_of_a_text_export_is_left_out_and_the_rest_read(tmp_path):
    path = tmp_path / "notes.txt"
    huge = "x" * (MB + 1)
    path.write_text(
        HEADER + f"g1\tBasic\tDeck\tfront\tback\ttag\ng1\tBasic\tDeck\tfront 2\tback\ttag\ng2\tBasic\tDeck\tf\t{huge}\tt\n"
        "g3\tBasic\tDeck\tfront 3\tback\ttag\n",
        encoding="utf-8",
    )
    warnings, read_guids = left_out(path)
    assert warnings == [
        "notes.txt:8: warning: the GUID 'g1' was already used on line 7 (students' Anki would take the two notes for "
        "one), so this note was left out; in Anki's browser, use Notes > Create Copy on one of them, delete the "
        "original, then export again",
        "notes.txt:9: warning: note 'g2': field 2 holds 1.1 MB, over the limit of 1 MB for one field; shorten it in "
        "Anki (an image belongs in a media file, not inline in the field) and export again; until then the note is "
        "left out",
    ]
    assert read_guids == ["g1", "g3"]


def test_a_text_export_that_is_not_utf8(tmp_path):
    assert text_error(tmp_path, HEADER.encode() + b"g1\tBasic\tDeck\tcaf\xe9\tback\ttag\n") == (
        "notes.txt:7: is not valid UTF-8 (byte 0xe9); Anki writes UTF-8, so the file was changed after export: save "
        "it as UTF-8, or export the notes from Anki again"
    )


def test_a_text_export_over_the_limit(tmp_path):
    assert text_error(tmp_path, HEADER + "g1\tBasic\tDeck\tfront\tback\ttag\n", Limits(max_text_bytes=100)) == (
        "notes.txt: is over 100 bytes, the limit for a plain-text export; export fewer notes"
    )
