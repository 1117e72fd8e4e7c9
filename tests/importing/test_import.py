"""`tierdeck import` (issue 12): an existing Anki deck becomes a project without costing a student a review.

Every round trip runs in the real Anki engine: the teacher's collection (every card studied) imports the
build of the imported project, and must see no new and no conflicting note, every review kept, media
present and formulas intact; then exactly the note whose card was edited updates.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml
from anki.collection import Collection
from click.testing import CliRunner

from anki_engine import ImportCounts, deck_names, history, import_package, open_collection, study_everything
from conftest import Project, png
from import_builders import (
    MEDIA,
    Sample,
    build_sample,
    edit_collection,
    edit_json,
    export,
    members,
    sql,
    teacher_collection,
    write_zip,
)
from tierdeck.cli import cli

FORMULA = r"Clearance is {{c1::\(\frac{a}{b}\)}}"
CLOZE_LINT = (
    "cards/pharmacology/kinetics-clearance.yaml:10: cards[0].text: deletion c1 hides 57% of the text, leaving too "
    "little to recall it from; hide less (one key word or phrase) or split it into several deletions"
)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return build_sample(tmp_path_factory.mktemp("sample"))


def tierdeck(cwd: Path, *args: str, env: dict | None = None):
    """Run `tierdeck ARGS` in `cwd`."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)


def imported(source: Path, folder: Path, name: str = "project") -> Project:
    """`tierdeck import source -o folder/name`, which must succeed."""
    result = tierdeck(folder, "import", str(source), "-o", name)
    assert result.exit_code == 0, result.output
    return Project(folder / name)


def built(project: Project, epoch: int | None = None) -> Path:
    env = {"SOURCE_DATE_EPOCH": str(epoch)} if epoch else None
    result = project.run("build", env=env)
    assert result.exit_code == 0, result.output
    return project.root / "dist" / "pharmacology.apkg"


def teacher_copy(sample: Sample, folder: Path, study: bool = True) -> Collection:
    """A copy of the teacher's collection with every card studied: what a student who has the deck holds."""
    shutil.copytree(teacher_collection(sample).parent, folder)
    col = Collection(str(folder / "collection.anki2"))
    if study:
        assert study_everything(col) == 7
    return col


def fields(col: Collection) -> dict[str, list[str]]:
    return {col.get_note(nid).guid: list(col.get_note(nid).fields) for nid in col.find_notes("")}


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def no_staging_left(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if ".import-" in p.name]


# --- round trips through the teacher's own collection -------------------------------------------------


@pytest.mark.parametrize("kind", ["legacy", "current"])
def test_import__a_package_round_trips_without_a_new_note_or_a_lost_review(sample, tmp_path, kind):
    project = imported(getattr(sample, kind), tmp_path)
    col = teacher_copy(sample, tmp_path / "teacher")
    reviews, before = history(col), fields(col)
    assert import_package(col, built(project)) == ImportCounts(new=0, updated=0, duplicate=5, conflicting=0)
    assert history(col) == reviews and fields(col) == before
    assert col.media.check().missing == []
    assert FORMULA in [f for note in fields(col).values() for f in note]

    receptor = sample.notes[0]
    project.edit("cards/pharmacology/receptors.yaml", "back: β<sub>2</sub>", "back: β<sub>2</sub> (bronchi)")
    assert import_package(col, built(project)) == ImportCounts(new=0, updated=1, duplicate=4, conflicting=0)
    assert history(col) == reviews
    after = fields(col)
    assert after[receptor.guid][1] == "β<sub>2</sub> (bronchi)"
    assert {g: f for g, f in after.items() if g != receptor.guid} == {g: f for g, f in before.items() if g != receptor.guid}
    assert col.media.check().missing == []
    col.close()


def test_import__a_new_student_gets_every_note_as_the_teacher_wrote_it(sample, tmp_path):
    project = imported(sample.current, tmp_path)
    col = open_collection(tmp_path / "new-student")
    assert import_package(col, built(project)) == ImportCounts(new=5, updated=0, duplicate=0, conflicting=0)
    got = fields(col)
    notes = {col.get_note(nid).guid: col.get_note(nid) for nid in col.find_notes("")}
    for note in sample.notes:
        # media are packed under their name plus a hash of their bytes, so a changed file reaches students
        unpacked = [re.sub(r"-[0-9a-f]{12}(?=\.(png|mp3))", "", text) for text in got[note.guid]]
        assert unpacked == list(note.fields)
        anki = notes[note.guid]
        assert anki.mid == note.notetype_id
        assert set(note.tags) < set(anki.tags)
        deck = col.decks.name(anki.cards()[0].did)
        assert deck == (note.deck if "::" in note.deck else "Pharmacology::General")
    assert col.media.check().missing == []
    assert sorted(re.sub(r"-[0-9a-f]{12}", "", n) for n in os.listdir(col.media.dir())) == sorted(MEDIA)
    col.close()


def test_import__the_first_build_needs_no_lock_change_and_passes_check_strict(sample, tmp_path):
    project = imported(sample.legacy, tmp_path)
    result = project.run("build", "--locked", env={"SOURCE_DATE_EPOCH": "2000000000"})
    assert result.exit_code == 0, result.output
    result = project.run("check", "--strict")
    assert result.exit_code == 0, result.output  # the CI 'tierdeck init' writes passes on day one
    # once per deck, the check says what it left alone and the switch that lints it
    notice = (
        "  5 imported cards (format: anki) not linted yet: add 'legacy_lint: true' to decks/pharmacology.yaml to "
        "lint them, or edit a card as markdown or html\n"
    )
    assert result.stdout.count(notice) == 1, result.stdout

    # the authoring lint legacy cards were never written for is one switch away
    project.edit("decks/pharmacology.yaml", "cards: [cards/pharmacology]", "cards: [cards/pharmacology]\nlegacy_lint: true")
    result = project.run("check", "--strict")
    assert result.exit_code == 1
    assert result.stderr == f"{CLOZE_LINT}\n1 error; nothing was written\n"
    assert "not linted yet" not in project.run("check").stdout


def test_import__the_project_written(sample, tmp_path):
    result = tierdeck(tmp_path, "import", str(sample.legacy), "-o", "project")
    assert result.exit_code == 0
    assert result.stderr == (
        "decks/pharmacology.yaml:5: warning: tiers: 2 note(s) sat in the top deck 'Pharmacology' itself; tierdeck "
        "puts every card in a tier's subdeck, so students who get them new find them in 'Pharmacology::General' "
        "(students who have them keep them where they are)\n"
    )
    assert result.stdout == (
        "pharmacology: created project/decks/pharmacology.yaml (5 new)\n"
        f"imported {sample.legacy}: 4 note type files and 2 media files written, 1 warning\n"
        "next: 'tierdeck check --strict', then 'tierdeck build' (see 'tierdeck docs migrating')\n"
    )
    root = tmp_path / "project"
    assert (root / "decks" / "pharmacology.yaml").read_text().splitlines()[1:] == [
        "id: pharmacology",
        "name: Pharmacology",
        "tiers:",
        "  - {id: general, title: General}",
        "  - {id: kinetics, title: Kinetics}",
        "  - {id: kinetics-clearance, title: 'Kinetics::Clearance'}",
        "  - {id: receptors, title: Receptors}",
        "cards: [cards/pharmacology]",
        "media: [cards/pharmacology/media]",
    ]
    receptor = sample.notes[0]
    text = (root / "cards" / "pharmacology" / "receptors.yaml").read_text()
    assert text.splitlines()[2:5] == ["tier: receptors", "cards:", "  - type: basic"]
    assert yaml.safe_load(text)["cards"] == [
        {
            "type": "basic",
            "id": "which-receptor",
            "guid": receptor.guid,
            "notetype": "anki-basic",
            "format": "anki",
            "tags": ["exam::2024", "receptors"],
            "front": 'Which receptor? <img src="media/receptor.png">',
            "back": "β<sub>2</sub>",
        }
    ]
    drug = (root / "notetypes" / "drug.yaml").read_text()
    assert "\nkind: standard\nfields: [Name, Class, Mechanism]\nsort_field: Class\n" in drug
    assert (root / "notetypes" / "drug" / "style.css").read_text() == sample.notetypes[sample.notes[3].notetype_id].css
    assert sorted(p.name for p in (root / "notetypes").glob("*.yaml")) == [
        "anki-basic.yaml",  # never notetypes/basic.yaml, which would replace tierdeck's own Basic
        "anki-cloze.yaml",
        "basic-and-reversed-card.yaml",
        "drug.yaml",
    ]
    assert {p.name: p.read_bytes() for p in (root / "cards" / "pharmacology" / "media").iterdir()} == MEDIA
    lock = json.loads((root / "decks" / "pharmacology.lock").read_text())
    assert {(e["guid"], e["mtime"], e["nid"]) for e in lock["notes"].values()} == {
        (n.guid, n.mtime, n.note_id) for n in sample.notes
    }
    assert lock["notetypes"]["drug"]["mtime"] == 1_500_000_000


# --- the plain-text export ----------------------------------------------------------------------------


def text_project(sample: Sample, folder: Path) -> Project:
    """A project made from the text export, given the note types and media of an earlier .apkg import."""
    donor = imported(sample.legacy, folder, "from-apkg")
    (folder / "project" / "cards" / "pharmacology").mkdir(parents=True)
    shutil.copytree(donor.root / "notetypes", folder / "project" / "notetypes")
    shutil.copytree(donor.root / "cards" / "pharmacology" / "media", folder / "project" / "cards" / "pharmacology" / "media")
    return imported(sample.text, folder)


def test_import__a_text_export_round_trips_updating_each_note_once(sample, tmp_path):
    project = text_project(sample, tmp_path)
    col = teacher_copy(sample, tmp_path / "teacher")
    reviews = history(col)
    # a text export has no modification times: every note is stamped with the import time, so updates once
    assert import_package(col, built(project)) == ImportCounts(new=0, updated=5, duplicate=0, conflicting=0)
    assert history(col) == reviews
    assert col.media.check().missing == []
    assert FORMULA in [f for note in fields(col).values() for f in note]
    before = fields(col)
    drug = sample.notes[3]
    project.edit("cards/pharmacology/general.yaml", "Class: Beta blocker", "Class: Non-selective beta blocker")
    assert import_package(col, built(project)) == ImportCounts(new=0, updated=1, duplicate=4, conflicting=0)
    after = fields(col)
    assert after[drug.guid][1] == "Non-selective beta blocker"
    assert {g: f for g, f in after.items() if g != drug.guid} == {g: f for g, f in before.items() if g != drug.guid}
    assert history(col) == reviews
    col.close()


def test_import__a_text_export_needs_the_note_types(sample, tmp_path):
    result = tierdeck(tmp_path, "import", str(sample.text), "-o", "project")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (
        f"{sample.text}: the notes of note type 'Basic' cannot be imported: notetypes/ has no note type named 'Basic' "
        "with its Anki id, and a plain-text export does not carry note types (nor the ids students' notes are matched "
        "by); import the deck's .apkg into this folder first (in Anki: File > Export > Anki Deck Package), or copy its "
        "note type file into notetypes/"
    )
    assert lines[-1] == "4 errors, 1 warning; nothing was written"
    assert not (tmp_path / "project").exists() and no_staging_left(tmp_path)


# --- a second import ----------------------------------------------------------------------------------


def newer_export(sample: Sample, folder: Path, change) -> Sample:
    """The teacher's collection, copied, changed by `change(col)` in Anki, and exported again."""
    col = teacher_copy(sample, folder / "teacher", study=False)
    change(col)
    again = Sample(folder / "legacy.apkg", folder / "current.apkg", folder / "notes.txt", [], {})
    export(col, again)
    col.close()
    return again


def test_import__a_newer_package_updates_the_changed_note_and_adds_the_new_one(sample, tmp_path):
    project = imported(sample.legacy, tmp_path)
    built(project)
    project.edit("cards/pharmacology/general.yaml", "Class: Beta blocker", "Class: Non-selective beta blocker")
    built(project, 1_900_000_000)  # the author's own edit, released
    half_life, drug = sample.notes[1], sample.notes[3]

    def change(col: Collection) -> None:
        note = col.get_note(half_life.note_id)
        note["Back"] = note["Back"] + " (about 5 half-lives to steady state)"
        col.update_note(note)
        new = col.new_note(col.models.by_name("Basic"))
        new["Front"], new["Back"] = "Half-life of <i>warfarin</i>?", "About 40 hours"
        col.add_note(new, col.decks.id("Pharmacology::Toxicology"))  # a subdeck the project has no tier for

    newer = newer_export(sample, tmp_path / "newer", change)
    before = snapshot(project.root)
    result = tierdeck(tmp_path, "import", str(newer.current), "-o", "project", env={"SOURCE_DATE_EPOCH": "2000000000"})
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "pharmacology: extended project/decks/pharmacology.yaml (1 new, 1 updated, 3 unchanged, 1 kept)"
    )
    after = snapshot(project.root)
    changed = {name for name in after if before.get(name) != after[name]}
    assert changed == {
        "cards/pharmacology/kinetics.yaml",
        "cards/pharmacology/toxicology.yaml",
        "decks/pharmacology.yaml",
        "decks/pharmacology.lock",
    }
    kinetics = (project.root / "cards" / "pharmacology" / "kinetics.yaml").read_text()
    assert "steady state" in kinetics and "id: half-life\n" in kinetics
    assert "id: half-life-of-warfarin\n" in after["cards/pharmacology/toxicology.yaml"].decode()
    assert after["decks/pharmacology.yaml"].decode().endswith(
        "  - {id: receptors, title: Receptors}\n  - {id: toxicology, title: Toxicology}\ncards: [cards/pharmacology]\n"
        "media: [cards/pharmacology/media]\n"
    )
    assert "Non-selective" in after["cards/pharmacology/general.yaml"].decode()  # the author's edit stays

    col = teacher_copy(sample, tmp_path / "student")
    reviews = history(col)
    counts = import_package(col, built(project, 2_000_000_000))
    # the student lacks the new note and both edits: the teacher's Anki edit and the author's own
    assert counts == ImportCounts(new=1, updated=2, duplicate=3, conflicting=0)
    assert history(col).items() >= reviews.items()
    assert "steady state" in fields(col)[half_life.guid][1]
    assert fields(col)[drug.guid][1] == "Non-selective beta blocker"
    col.close()


def test_import__a_newer_text_export_updates_only_the_changed_card(sample, tmp_path):
    project = imported(sample.legacy, tmp_path)
    built(project)
    cloze = sample.notes[2]

    def change(col: Collection) -> None:
        note = col.get_note(cloze.note_id)
        note["Back Extra"] = "the ratio of elimination rate to concentration"
        col.update_note(note)

    newer = newer_export(sample, tmp_path / "newer", change)
    before = snapshot(project.root)
    result = tierdeck(tmp_path, "import", str(newer.text), "-o", "project")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "pharmacology: extended project/decks/pharmacology.yaml (1 updated, 4 unchanged)"
    after = snapshot(project.root)
    assert {n for n in after if before.get(n) != after[n]} == {
        "cards/pharmacology/kinetics-clearance.yaml",
        "decks/pharmacology.lock",
    }
    col = teacher_copy(sample, tmp_path / "student")
    assert import_package(col, built(project)) == ImportCounts(new=0, updated=1, duplicate=4, conflicting=0)
    col.close()


# --- what cannot be carried over ----------------------------------------------------------------------


def test_import__the_instructors_markup_is_kept_as_written_and_a_missing_file_reported_per_note(tmp_path):
    col = open_collection(tmp_path / "teacher")
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'/>"
    col.media.write_data("diagram.svg", svg)
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"] = 'Heart <span style="font-size: 20px">sounds</span> <a href="https://example.org" target="_blank">ref</a>'
    note["Back"] = 'S1 <img src="missing.png"> and S2 <img src="diagram.svg">'
    col.add_note(note, col.decks.id("Cardio::Auscultation"))
    options_path = tmp_path / "cardio.apkg"
    from anki.collection import ExportAnkiPackageOptions

    col.export_anki_package(
        out_path=str(options_path),
        options=ExportAnkiPackageOptions(with_scheduling=False, with_media=True, legacy=True),
        limit=None,
    )
    col.close()
    result = tierdeck(tmp_path, "import", "cardio.apkg", "-o", "project")
    assert result.exit_code == 0, result.output
    where = f"cards/cardio/auscultation.yaml:5: warning: cards[0] (note '{note.guid}')"
    assert result.stderr.splitlines() == [
        f"cardio.apkg: warning: note '{note.guid}' refers to the media file 'missing.png', which the package does not "
        "hold, so students will see it missing; in Anki, run Tools > Check Media, then export with media",
        f"{where}: field 'Back': the image 'missing.png' is not in the package, so the import took out the image; in "
        "Anki, Tools > Check Media lists the notes missing files: add the file there (or to the card here) and import "
        "again",
    ]
    card = yaml.safe_load((tmp_path / "project" / "cards" / "cardio" / "auscultation.yaml").read_text())["cards"][0]
    assert card["front"] == note["Front"]  # never sanitised: the instructor's own markup (no rel= added either)
    assert card["back"] == 'S1  and S2 <img src="media/diagram.svg">'
    project = Project(tmp_path / "project")
    assert project.run("check", "--strict").exit_code == 0
    assert project.run("build").exit_code == 0
    student = open_collection(tmp_path / "student")
    import_package(student, project.root / "dist" / "cardio.apkg")
    (got,) = fields(student).values()
    assert got == [note["Front"], 'S1  and S2 <img src="diagram.svg">']
    assert (Path(student.media.dir()) / "diagram.svg").read_bytes() == svg
    student.close()


def test_import__a_shared_guid_leaves_out_one_note_and_says_how_to_fix_it_in_anki(sample, tmp_path):
    content = members(sample.legacy)
    first, second = sample.notes[0], sample.notes[1]
    edit = sql("UPDATE notes SET guid = ? WHERE id = ?", args=(first.guid, second.note_id))
    content["collection.anki21"] = edit_collection(content["collection.anki21"], tmp_path / "work", edit)
    write_zip(tmp_path / "deck.apkg", content)
    warning = (
        f"deck.apkg: warning: notes {first.note_id} and {second.note_id} share the GUID '{first.guid}' (students' Anki "
        "would take them for one note), so the second ('Half-life', deck 'Pharmacology::Kinetics') was left out; in "
        f"Anki's browser, search 'nid:{second.note_id}', use Notes > Create Copy, delete the original, then export again"
    )
    result = tierdeck(tmp_path, "import", "deck.apkg", "-o", "project")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == warning
    assert result.stdout.startswith("pharmacology: created project/decks/pharmacology.yaml (4 new)\n")

    result = tierdeck(tmp_path, "import", "deck.apkg", "-o", "strict", "--strict")
    assert result.exit_code == 1
    assert warning.replace(" warning:", "") in result.stderr.splitlines()
    assert not (tmp_path / "strict").exists() and no_staging_left(tmp_path)


# --- untrusted input: a clear error, and nothing written -----------------------------------------------


def _hostile(sample: Sample, folder: Path, case: str) -> tuple[str, str]:
    """(file name, the one error `tierdeck import` must print) for a generated hostile file."""
    if case == "not-a-zip":
        (folder / "deck.apkg").write_bytes(b"<html>404 Not Found</html>")
        return "deck.apkg", (
            "deck.apkg: is not a valid Anki package: it is not a zip file; it may be damaged or only partly downloaded: "
            "download it again, or export the deck from Anki again"
        )
    if case == "truncated":
        (folder / "deck.apkg").write_bytes(sample.legacy.read_bytes()[:5000])
        return "deck.apkg", (
            "deck.apkg: is not a valid Anki package: its zip structure is damaged; it may be only partly downloaded: "
            "download it again, or export the deck from Anki again"
        )
    content = members(sample.legacy)
    if case == "escaping-media-name":
        content["media"] = json.dumps({**json.loads(content["media"]), "0": "../../.bashrc"}).encode()
        write_zip(folder / "deck.apkg", content)
        return "deck.apkg", (
            "deck.apkg: the media file in member '0' is named '../../.bashrc': it climbs to a parent folder with '..', "
            "so it could be written outside Anki's media folder; tierdeck refuses such a package: ask its author for a "
            "clean export"
        )
    if case == "trigger":
        edit = sql("CREATE TRIGGER spy AFTER UPDATE ON notes BEGIN SELECT 1; END")
        content["collection.anki21"] = edit_collection(content["collection.anki21"], folder / "work", edit)
        write_zip(folder / "deck.apkg", content)
        return "deck.apkg", (
            "deck.apkg: the collection inside the package holds a trigger named 'spy', which Anki never creates, so "
            "the file was altered after Anki wrote it; export the deck from Anki again"
        )
    assert case == "text-quotes"
    (folder / "notes.txt").write_text(
        '#separator:tab\n#html:true\n#guid column:1\n#notetype column:2\n#deck column:3\n#tags column:6\n'
        'g1\tBasic\tDeck\t"never closed\tback\ttag\n',
        encoding="utf-8",
    )
    return "notes.txt", (
        "notes.txt:7: the quotes in this record do not pair up; a field holding the separator, a quote or a line "
        'break must be enclosed in double quotes, with each quote inside it doubled ("")'
    )


@pytest.mark.parametrize("into", ["a-new-folder", "an-existing-project"])
@pytest.mark.parametrize(
    "case", ["not-a-zip", "truncated", "escaping-media-name", "trigger", "text-quotes"]
)
def test_import__a_hostile_file_is_refused_and_nothing_is_written(sample, tmp_path, case, into):
    if into == "an-existing-project":
        imported(sample.legacy, tmp_path)
    before = snapshot(tmp_path / "project") if into == "an-existing-project" else None
    name, message = _hostile(sample, tmp_path, case)
    result = tierdeck(tmp_path, "import", name, "-o", "project")
    assert result.exit_code == 1
    assert result.stderr == f"{message}\n1 error; nothing was written\n"
    if before is None:
        assert not (tmp_path / "project").exists()
    else:
        assert snapshot(tmp_path / "project") == before
    assert no_staging_left(tmp_path)


def nested_cloze(sample: Sample, tmp_path: Path) -> Path:
    """The sample package with its cloze note nested in Anki (which allows it; no package holds the inner card)."""
    content = members(sample.legacy)
    edit = sql("UPDATE notes SET flds = ?, mod = mod + 1 WHERE guid = ?", args=("{{c1::a {{c2::b}} c}}\x1f", sample.notes[2].guid))
    content["collection.anki21"] = edit_collection(content["collection.anki21"], tmp_path / "work", edit)
    return write_zip(tmp_path / "nested.apkg", content)


def test_import__a_new_note_whose_card_would_not_build_is_left_out_and_the_rest_imported(sample, tmp_path):
    nested_cloze(sample, tmp_path)
    cloze = sample.notes[2]
    result = tierdeck(tmp_path, "import", "nested.apkg", "-o", "project")
    assert result.exit_code == 0, result.output
    assert (
        f"nested.apkg: warning: note '{cloze.guid}' ('{{{{c1::a {{{{c2::b}}}} c}}}}', deck 'Pharmacology::Kinetics::Clearance', "
        f"found in Anki's browser by 'nid:{cloze.note_id}') was left out: the card it makes would not build (deletion "
        "c2 sits inside deletion c1; the package would hold no card for the inner one, so write each deletion on its "
        "own, e.g. {{c1::Osteoblasts}} {{c2::build}} bone); change the note in Anki and export again, or write the "
        "card in tierdeck"
    ) in result.stderr.splitlines()
    assert result.stdout.startswith("pharmacology: created project/decks/pharmacology.yaml (4 new)\n")
    assert Project(tmp_path / "project").run("check").exit_code == 0
    # the left-out note was its subdeck's only one: check says the tier would be an empty subdeck
    strict = Project(tmp_path / "project").run("check", "--strict")
    assert strict.exit_code == 1
    assert strict.stderr == (
        "decks/pharmacology.yaml:7: tiers[2]: tier 'kinetics-clearance' has no cards, so the subdeck "
        "'Kinetics::Clearance' would be empty; give cards 'tier: kinetics-clearance' (in a file the manifest's cards: "
        "lists), or remove the tier\n"
        "1 error; nothing was written\n"
    )
    assert tierdeck(tmp_path, "import", "nested.apkg", "-o", "strict", "--strict").exit_code == 1
    assert not (tmp_path / "strict").exists() and no_staging_left(tmp_path)


def test_import__an_update_that_would_not_build_keeps_the_card_as_it_was(sample, tmp_path):
    project = imported(sample.current, tmp_path)
    project.edit("cards/pharmacology/kinetics-clearance.yaml", "id: clearance-is", "id: clearance")
    before = snapshot(project.root)
    nested_cloze(sample, tmp_path)
    cloze = sample.notes[2]
    result = tierdeck(tmp_path, "import", "nested.apkg", "-o", "project")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"nested.apkg: warning: note '{cloze.guid}' ('{{{{c1::a {{{{c2::b}}}} c}}}}', deck "
        f"'Pharmacology::Kinetics::Clearance', found in Anki's browser by 'nid:{cloze.note_id}') was left as the "
        "project has it: the package's version of its card would not build (deletion c2 sits inside deletion c1; the "
        "package would hold no card for the inner one, so write each deletion on its own, e.g. {{c1::Osteoblasts}} "
        "{{c2::build}} bone); change the note in Anki and export again, or edit the card in tierdeck"
    ]
    assert result.stdout.splitlines()[0] == "pharmacology: extended project/decks/pharmacology.yaml (4 unchanged, 1 kept)"
    assert snapshot(project.root) == before  # not a byte changed: the card file is not even rewritten

    result = tierdeck(tmp_path, "import", "nested.apkg", "-o", "project", "--strict")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-3:] == [
        "cards/pharmacology/kinetics-clearance.yaml:10: cards[0].text: deletion c2 sits "
        "inside deletion c1; the package would hold no card for the inner one, so write each deletion on its own, "
        "e.g. {{c1::Osteoblasts}} {{c2::build}} bone",
        "nested.apkg: the cards these notes make would not build (see above), so nothing was written; change those "
        "notes in Anki and export again (or report it as a bug in tierdeck if the notes are fine in Anki)",
        "2 errors; nothing was written",
    ]
    assert snapshot(project.root) == before
    assert no_staging_left(tmp_path)


def test_import__a_failed_move_puts_the_project_back(sample, tmp_path, monkeypatch):
    import tierdeck.importing.writer as writer

    project = imported(sample.legacy, tmp_path)
    col = open_collection(tmp_path / "french")
    note = col.new_note(col.models.by_name("Basic"))
    note["Front"], note["Back"] = "le chat", "the cat"
    col.add_note(note, col.decks.id("French"))
    col.export_anki_package(out_path=str(tmp_path / "french.apkg"), options=_legacy_options(), limit=None)
    col.close()
    before = snapshot(project.root)
    calls = []
    real = os.replace

    def flaky(source, target):
        calls.append(target)
        if len(calls) == 6:
            raise OSError(28, "No space left on device", str(target))
        return real(source, target)

    monkeypatch.setattr(writer.os, "replace", flaky)
    result = tierdeck(tmp_path, "import", "french.apkg", "-o", "project")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write ")
    assert result.stderr.endswith(
        ": No space left on device; the project was left as it was (free some space or check permissions, then "
        "import again)\n"
    )
    assert snapshot(project.root) == before
    assert no_staging_left(tmp_path)


def _legacy_options():
    from anki.collection import ExportAnkiPackageOptions

    return ExportAnkiPackageOptions(with_scheduling=False, with_media=True, legacy=True)


KILLER = """
import os, signal, sys
from tierdeck.importing import writer
from tierdeck.cli import cli
real, calls = os.replace, []
def replace(a, b):
    calls.append(a)
    if len(calls) > int(os.environ["KILL_AFTER"]):
        os.kill(os.getpid(), signal.SIGKILL)
    real(a, b)
writer.os.replace = replace
cli(sys.argv[1:])
"""


@pytest.mark.parametrize("kill_after", [2, 6])
def test_import__killed_while_moving_files_in_is_refused_by_check_and_finished_by_the_next_import(
    sample, tmp_path, kill_after
):
    import subprocess
    import sys

    env = {**os.environ, "SOURCE_DATE_EPOCH": "2000000000"}
    reference = tierdeck(tmp_path, "import", str(sample.legacy), "-o", "reference", env={"SOURCE_DATE_EPOCH": "2000000000"})
    assert reference.exit_code == 0
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, "import", str(sample.legacy), "-o", "project"],
        cwd=tmp_path,
        env={**env, "KILL_AFTER": str(kill_after)},
        capture_output=True,
    )
    assert killed.returncode == -9
    project = Project(tmp_path / "project")
    check = project.run("check")
    assert check.exit_code == 1
    assert check.stderr.splitlines()[0] == (
        ".tierdeck-import.json: a 'tierdeck import' into this project stopped while moving its files into place, so "
        "some card files are old and some new; run the import again (any 'tierdeck import' into this project finishes "
        "the stopped one first)"
    )
    again = tierdeck(tmp_path, "import", str(sample.legacy), "-o", "project", env={"SOURCE_DATE_EPOCH": "2000000000"})
    assert again.exit_code == 0, again.output
    assert snapshot(project.root) == snapshot(tmp_path / "reference")
    assert project.run("check").exit_code == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_import__media_the_author_changed_are_never_reverted_nor_a_users_file_overwritten(sample, tmp_path):
    project = imported(sample.legacy, tmp_path)
    image = project.root / "cards" / "pharmacology" / "media" / "receptor.png"
    image.write_bytes(b"the author's own redrawing")
    result = tierdeck(tmp_path, "import", str(sample.legacy), "-o", "project")
    assert result.exit_code == 0, result.output
    assert image.read_bytes() == b"the author's own redrawing"
    assert (
        f"{sample.legacy}: warning: 1 media file(s) of the project differ from the package's and were kept as they are "
        "(e.g. cards/pharmacology/media/receptor.png); to take the package's, delete the project's file and import again"
    ) in result.stderr.splitlines()

    mine = tmp_path / "mine" / "cards" / "pharmacology" / "media" / "receptor.png"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"a file of the user's")
    assert tierdeck(tmp_path, "import", str(sample.legacy), "-o", "mine").exit_code == 0
    assert mine.read_bytes() == b"a file of the user's"


def test_import__a_note_whose_note_type_changed_keeps_its_card_and_says_why(sample, tmp_path):
    project = imported(sample.legacy, tmp_path)
    receptor = sample.notes[0]
    reversed_id = next(nt.id for nt in sample.notetypes.values() if nt.name == "Basic (and reversed card)")
    content = members(sample.legacy)
    edit = sql("UPDATE notes SET mid = ?, mod = mod + 1 WHERE guid = ?", args=(reversed_id, receptor.guid))
    content["collection.anki21"] = edit_collection(content["collection.anki21"], tmp_path / "work", edit)
    write_zip(tmp_path / "changed.apkg", content)
    before = snapshot(project.root)
    result = tierdeck(tmp_path, "import", "changed.apkg", "-o", "project")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"changed.apkg: warning: note '{receptor.guid}' ('Which receptor?', deck 'Pharmacology::Receptors', found in "
        f"Anki's browser by 'nid:{receptor.note_id}') is card 'which-receptor' of note type 'anki-basic' in the project "
        "but of note type 'basic-and-reversed-card' in the package; students' Anki would report it as conflicting and "
        "stop updating it, so it was left as the project has it; keep its old note type in Anki, or make it a new note "
        "(in Anki's browser: Notes > Create Copy, then delete the old note) and export again"
    ]
    assert snapshot(project.root) == before
    assert tierdeck(tmp_path, "import", "changed.apkg", "-o", "project", "--strict").exit_code == 1


def test_import__a_note_that_makes_no_card_is_left_out_and_named(sample, tmp_path):
    drug = sample.notes[3]
    content = members(sample.legacy)
    edit = sql("UPDATE notes SET flds = ? WHERE guid = ?", args=("\x1fBeta blocker\x1f", drug.guid))
    content["collection.anki21"] = edit_collection(content["collection.anki21"], tmp_path / "work", edit)
    write_zip(tmp_path / "nocard.apkg", content)
    result = tierdeck(tmp_path, "import", "nocard.apkg", "-o", "project")
    assert result.exit_code == 0, result.output
    assert (
        f"nocard.apkg: warning: note '{drug.guid}' ('Beta blocker', deck 'Pharmacology', found in Anki's browser by "
        f"'nid:{drug.note_id}') makes no card: its note type shows none of its filled fields on a card's front (often an "
        "image the front shows is missing), so it was left out; in Anki, Tools > Empty Cards and Tools > Check Media "
        "list such notes: fill the field the front shows, or delete the note, then export again"
    ) in result.stderr.splitlines()
    assert result.stdout.startswith("pharmacology: created project/decks/pharmacology.yaml (4 new)\n")
    assert Project(tmp_path / "project").run("check", "--strict").exit_code == 0


def test_import__a_big_subdeck_goes_on_in_further_card_files(sample, tmp_path, monkeypatch):
    from tierdeck.importing import plan

    monkeypatch.setattr(plan, "SPLIT_BYTES", 1)  # as a subdeck of 12,000 notes would against the real limit
    project = imported(sample.legacy, tmp_path)
    files = sorted(p.name for p in (project.root / "cards" / "pharmacology").glob("*.yaml"))
    assert files == ["general-2.yaml", "general.yaml", "kinetics-clearance.yaml", "kinetics.yaml", "receptors.yaml"]
    assert {len(yaml.safe_load((project.root / "cards" / "pharmacology" / f).read_text())["cards"]) for f in files} == {1}
    col = teacher_copy(sample, tmp_path / "teacher")
    assert import_package(col, built(project)) == ImportCounts(new=0, updated=0, duplicate=5, conflicting=0)
    col.close()


def test_import__the_preview_never_runs_what_an_imported_note_or_template_holds(tmp_path):
    col = open_collection(tmp_path / "teacher")
    models = col.models
    quiz = models.new("Quiz")
    for name in ("Front", "Back"):
        models.add_field(quiz, models.new_field(name))
    template = models.new_template("Card 1")
    template["qfmt"] = "{{Front}}<script>window.ranImported = 1</script>"
    template["afmt"] = "{{FrontSide}}<hr id=answer>{{Back}}"
    models.add_template(quiz, template)
    models.add(quiz)
    note = col.new_note(models.by_name("Quiz"))
    note["Front"], note["Back"] = '<b onmouseover="alert(1)">Heart</b> sounds?', "S1 and S2"
    col.add_note(note, col.decks.id("Cardio::Auscultation"))
    from anki.collection import ExportAnkiPackageOptions

    options = ExportAnkiPackageOptions(with_scheduling=False, with_media=True, legacy=True)
    col.export_anki_package(out_path=str(tmp_path / "quiz.apkg"), options=options, limit=None)
    col.close()
    project = imported(tmp_path / "quiz.apkg", tmp_path)
    assert "\nscripts: allowed\n" in (project.root / "notetypes" / "quiz.yaml").read_text()
    assert project.run("check", "--strict").exit_code == 0
    assert project.run("preview").exit_code == 0
    written = {p.name: p.read_text(errors="replace") for p in (project.root / "preview").rglob("*.js")}
    assert [n for n, text in written.items() if "Heart" in text]
    assert [n for n, text in written.items() if "onmouseover" in text or "ranImported" in text] == []
    assert project.run("build").exit_code == 0
    student = open_collection(tmp_path / "student")
    import_package(student, project.root / "dist" / "cardio.apkg")
    assert fields(student) == {note.guid: [note["Front"], note["Back"]]}  # students get the note as it was
    student.close()


def test_import__a_note_type_anki_refuses_leaves_out_its_notes_only(sample, tmp_path):
    content = members(sample.legacy)

    def break_drug(models: dict) -> None:
        drug = next(m for m in models.values() if m["name"] == "Drug")
        drug["tmpls"][0]["qfmt"] = "{{Name}} {{Dose}}"  # a field the note type lacks: current Anki refuses it too

    content["collection.anki21"] = edit_collection(content["collection.anki21"], tmp_path / "work", edit_json("models", break_drug))
    write_zip(tmp_path / "broken.apkg", content)
    drug = sample.notes[3]
    result = tierdeck(tmp_path, "import", "broken.apkg", "-o", "project")
    assert result.exit_code == 0, result.output
    assert (
        f"broken.apkg: warning: note '{drug.guid}' ('Propranolol', deck 'Pharmacology', found in Anki's browser by "
        f"'nid:{drug.note_id}') was left out: its note type 'Drug' cannot be used (templates[0].front: the template "
        "uses 'Dose', which is not a field of this note type; use one of Name, Class, Mechanism); in Anki, Tools > "
        "Manage Note Types > 'Drug' > Cards shows the problem: fix the template, then export again"
    ) in result.stderr.splitlines()
    assert result.stdout.startswith("pharmacology: created project/decks/pharmacology.yaml (4 new)\n")
    assert not (tmp_path / "project" / "notetypes" / "drug.yaml").exists()
    assert Project(tmp_path / "project").run("check", "--strict").exit_code == 0


def test_import__over_long_names_and_control_characters_are_handled_not_crashed_on(sample, tmp_path):
    receptor, half_life = sample.notes[0], sample.notes[1]
    long_deck = "Pharmacology::" + ("Receptors of the autonomic nervous system " * 8).strip()
    long_type = ("Drug " * 80).strip()

    def rename(value: dict) -> None:
        for entry in value.values():
            if entry.get("name") == "Pharmacology::Receptors":
                entry["name"] = long_deck
            if entry.get("name") == "Drug":
                entry["name"] = long_type

    def edit(conn) -> None:
        edit_json("decks", rename)(conn)
        edit_json("models", rename)(conn)
        conn.execute("UPDATE notes SET tags = ? WHERE guid = ?", (" ok bad\x01tag ", receptor.guid))
        conn.execute("UPDATE notes SET guid = ? WHERE guid = ?", ("a\x01b", half_life.guid))

    content = members(sample.legacy)
    content["collection.anki21"] = edit_collection(content["collection.anki21"], tmp_path / "work", edit)
    write_zip(tmp_path / "odd.apkg", content)
    result = tierdeck(tmp_path, "import", "odd.apkg", "-o", "project")
    assert result.exit_code == 0, result.output
    assert (
        "odd.apkg: warning: note 'a\\u0001b' ('Half-life', deck 'Pharmacology::Kinetics', found in Anki's browser by "
        f"'nid:{half_life.note_id}') has a GUID no Anki writes (1 to 64 printable ASCII characters), so it was left "
        "out; in Anki's browser, use Notes > Create Copy (the copy gets a new GUID), delete the original, then export "
        "again"
    ) in result.stderr.splitlines()
    assert any("the tag 'bad\\u0001tag' holds a quote or a control character" in line for line in result.stderr.splitlines())
    root = tmp_path / "project"
    assert max(len(p.name) for p in root.rglob("*")) <= 100
    project = Project(root)
    assert project.run("check", "--strict").exit_code == 0
    assert project.run("build").exit_code == 0
    student = open_collection(tmp_path / "student")
    import_package(student, root / "dist" / "pharmacology.apkg")
    assert long_deck in deck_names(student)
    assert long_type in [m.name for m in student.models.all_names_and_ids()]
    student.close()


def test_import__a_media_name_too_long_for_a_file_system_is_refused_clearly(sample, tmp_path):
    content = members(sample.legacy)
    content["media"] = json.dumps({**json.loads(content["media"]), "0": "x" * 250 + ".png"}).encode()
    write_zip(tmp_path / "long.apkg", content)
    result = tierdeck(tmp_path, "import", "long.apkg", "-o", "project")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith("long.apkg: the media file in member '0' is named 'xxx")
    assert "it is longer than the 200 bytes a file name may have on most systems" in result.stderr


def test_import__a_reference_outside_the_media_folder_is_never_looked_up(sample, tmp_path):
    (tmp_path / "secret.png").write_bytes(png())
    receptor = sample.notes[0]
    for name in ("../../secret.png", "../../absent.png"):  # the same answer whether the file exists or not
        content = members(sample.legacy)
        edit = sql("UPDATE notes SET flds = ? WHERE guid = ?", args=(f'<img src="{name}">\x1fback', receptor.guid))
        content["collection.anki21"] = edit_collection(content["collection.anki21"], tmp_path / "work", edit)
        write_zip(tmp_path / "peek.apkg", content)
        folder = tmp_path / name.split("/")[-1].removesuffix(".png")
        folder.mkdir()
        result = tierdeck(folder, "import", str(tmp_path / "peek.apkg"), "-o", "project")
        assert result.exit_code == 0, result.output
        assert [line.split(" (")[0] for line in result.stderr.splitlines() if "was left out" in line or "makes no" in line] == [
            f"{tmp_path / 'peek.apkg'}: warning: note '{receptor.guid}'"
        ]
        assert "makes no card: its note type shows none of its filled fields" in result.stderr
        assert "secret" not in "".join(p.name for p in (folder / "project").rglob("*"))


def test_import__a_cloze_type_with_both_extra_fields_keeps_both():
    from tierdeck.importing.mapping import Carried, card_body

    fields = ("Text", "Back Extra", "Extra")
    carried = {"Text": Carried("{{c1::a}}"), "Back Extra": Carried("one"), "Extra": Carried("two")}
    body = card_body(fields, True, carried)
    assert (body.type, body.keys) == ("note", {"format": "anki", "fields": {"Text": "{{c1::a}}", "Back Extra": "one", "Extra": "two"}})
    assert card_body(("Text", "Back Extra"), True, {"Text": Carried("{{c1::a}}"), "Back Extra": Carried("one")}).keys == {
        "format": "anki",
        "text": "{{c1::a}}",
        "extra": "one",
    }


def test_import__format_anki_is_no_way_round_the_sanitiser_for_what_runs_on_students_devices(sample, tmp_path):
    project = imported(sample.legacy, tmp_path)
    project.edit(
        "cards/pharmacology/receptors.yaml",
        "    back: β<sub>2</sub>",
        "    back: β<sub>2</sub><img src=x onerror=alert(1)>",
    )
    result = project.run("check")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "cards/pharmacology/receptors.yaml:12: cards[0].back: onerror= on <img> runs code or loads a page on every "
        "student's device; remove it, or keep it knowingly: add 'scripts: allowed' to the card's note type file"
    )
    project.edit("notetypes/anki-basic.yaml", "kind: standard", "kind: standard\nscripts: allowed")
    assert project.run("check", "--strict").exit_code == 0
