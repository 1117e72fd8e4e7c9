"""Issue 18: import, build, and every student gets exactly the deck they had, for each class of real deck.

Every deck is made by the real Anki engine (tests/real_decks.py) and every check reads what the real
engine stored after importing tierdeck's build: a new student's notes field by field, note types,
decks, tags and media byte by byte; a studied student's import (0 new, 0 conflicting, history kept);
and one edit in the project updating exactly one note.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from test_import import fields, tierdeck

from anki_engine import ImportCounts, history, import_package, open_collection, study_everything
from conftest import Project
from real_decks import KINDS, RealDeck, build_deck, package_media


@pytest.fixture(scope="module", params=KINDS)
def deck(request, tmp_path_factory: pytest.TempPathFactory) -> RealDeck:
    return build_deck(tmp_path_factory.mktemp(request.param), request.param)


def imported(deck: RealDeck, folder: Path) -> tuple[Project, Path, str]:
    """The project `tierdeck import` makes of the deck (which must pass check --strict), its package, the warnings."""
    result = tierdeck(folder, "import", str(deck.apkg), "-o", "project")
    assert result.exit_code == 0, result.output
    project = Project(folder / "project")
    check = project.run("check", "--strict")
    assert check.exit_code == 0, check.output
    build = project.run("build", env={"SOURCE_DATE_EPOCH": "1900000000"})
    assert build.exit_code == 0, build.output
    (package,) = (folder / "project" / "dist").glob("*.apkg")
    return project, package, result.stderr


def test_a_new_student_gets_every_field_note_type_and_media_file_the_teacher_had(deck, tmp_path):
    _, package, warnings = imported(deck, tmp_path)
    col = open_collection(tmp_path / "new-student")
    counts = import_package(col, package)
    assert counts == ImportCounts(new=len(deck.fields), updated=0, duplicate=0, conflicting=0)
    assert fields(col) == deck.fields  # every field of every note, byte for byte
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        first = min(note.cards(), key=lambda c: c.ord)
        original = deck.decks[note.guid]
        assert col.decks.name(first.did) == (original if "::" in original else f"{original}::General")
        assert set(deck.tags[note.guid]) <= set(note.tags)
        model = note.note_type()
        assert (
            [f["name"] for f in model["flds"]],
            [(t["name"], t["qfmt"], t["afmt"]) for t in model["tmpls"]],
            model["css"],
        ) == deck.notetypes[model["id"]]
    media = Path(col.media.dir())
    held = package_media(deck.apkg)
    assert held == deck.media  # what the teacher's Anki exported: every file its notes and note types use
    assert {name: (media / name).read_bytes() for name in held} == held  # SVG, WebP, video, fonts, _ files
    assert col.media.check().missing == []
    for guid in deck.left_out:  # the one note that could not be carried is named, and nothing else failed
        assert guid.removeprefix("nid:") in warnings
    col.close()


def test_a_studied_student_keeps_every_review_and_one_edit_updates_one_note(deck, tmp_path):
    project, package, _ = imported(deck, tmp_path)
    shutil.copytree(deck.collection.parent, tmp_path / "student")
    col = open_collection(tmp_path / "student")
    study_everything(col)
    reviews, before = history(col), fields(col)
    counts = import_package(col, package)
    assert (counts.new, counts.updated, counts.conflicting) == (0, 0, 0)
    assert history(col) == reviews and fields(col) == before

    card_file = sorted((project.root / "cards").rglob("*.yaml"))[0]
    data = yaml.safe_load(card_file.read_text(encoding="utf-8"))
    card = data["cards"][0]
    texts = card["fields"] if card["type"] == "note" else card
    key = next(k for k in ("front", "text", *texts) if isinstance(texts.get(k), str) and texts[k])
    texts[key] += " (edited)"
    card_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert project.run("build", env={"SOURCE_DATE_EPOCH": "1900000100"}).exit_code == 0
    counts = import_package(col, package)
    assert (counts.new, counts.updated, counts.conflicting) == (0, 1, 0)
    assert history(col) == reviews
    changed = {g for g, f in fields(col).items() if f != before[g]}
    assert changed == {card["guid"]}
    col.close()


@pytest.mark.parametrize("kind", ["source-extra", "occlusion", "native-occlusion", "markup", "scripts", "subdecks"])
def test_the_text_export_of_the_same_deck_changes_nothing_and_builds_the_same_notes(kind, tmp_path):
    deck = build_deck(tmp_path / "teacher-files", kind)
    project, package, _ = imported(deck, tmp_path)  # the .apkg brings the note types and media a text export lacks
    result = tierdeck(tmp_path, "import", str(deck.text), "-o", "project")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].endswith(f"({len(deck.fields)} unchanged)")
    assert project.run("build", env={"SOURCE_DATE_EPOCH": "1900000000"}).exit_code == 0
    col = open_collection(tmp_path / "new-student")
    import_package(col, package)
    assert fields(col) == deck.fields
    col.close()
