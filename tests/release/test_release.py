"""Release builds through the real Anki engine: updates reach students, their study survives, builds reproduce."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile

import pytest

from anki_engine import ImportCounts, history, import_package, notes_by_card_id, open_collection, study_everything

V1, V2 = "1700000000", "1700864000"  # ten days apart


def test_release__v2_reaches_a_student_who_studied_v1_without_losing_history(sample, tmp_path):
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    v1 = tmp_path / "v1.apkg"
    shutil.copy(sample.root / "dist" / "sample.apkg", v1)

    col = open_collection(tmp_path / "student")
    import_package(col, v1)
    assert study_everything(col) == 13
    before = history(col)
    assert all(reps >= 1 for reps, *_ in before.values())
    mtimes = {key: note.mod for key, note in notes_by_card_id(col).items()}

    # v2: two edits, one card added, one removed, and the Basic note type's CSS changed.
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down (resorb) bone.")
    sample.edit("cards/sample/basics.yaml", "resorb old bone}}", "resorb old bone tissue}}")
    sample.edit(
        "cards/sample/advanced.yaml",
        "  - type: basic\n    id: h2o\n    tier: basics\n    front: Formula of water?\n    back: H<sub>2</sub>O\n",
        "  - type: basic\n    id: new-card\n    front: Where are PR-A and PR-B found?\n    back: In osteoblasts and osteoclasts.\n",
    )
    sample.own_notetype("basic")
    css = sample.root / "notetypes" / "tierdeck.css"
    css.write_text(css.read_text() + "\n.td-prompt { color: #123456; }\n")
    result = sample.run("build", env={"SOURCE_DATE_EPOCH": V2})
    assert result.exit_code == 0
    assert result.stdout.endswith("(1 added, 2 changed, 1 removed since the lock file)\n")

    counts = import_package(col, sample.root / "dist" / "sample.apkg")
    assert counts == ImportCounts(new=1, updated=2, duplicate=6, conflicting=0)
    notes = notes_by_card_id(col)
    assert notes["osteoclast-role"]["Back"] == "They break down (resorb) bone."
    assert notes["remodeling-cells"]["Text"].endswith("osteoclasts {{c2::resorb old bone tissue}}.")
    assert notes["new-card"]["Front"] == "Where are PR-A and PR-B found?"
    assert "h2o" in notes  # Anki never deletes a student's notes; the changelog reports the removal
    assert col.note_count() == 10
    assert ".td-prompt { color: #123456; }" in col.models.by_name("tierdeck Basic")["css"]

    after = history(col)
    for key, studied in before.items():
        assert after[key] == studied, f"review history of {key} changed"
    unchanged = set(mtimes) - {"osteoclast-role", "remodeling-cells", "h2o"}
    assert {k: notes[k].mod for k in unchanged} == {k: mtimes[k] for k in unchanged}
    assert notes["osteoclast-role"].mod == int(V2)
    col.close()


def test_release__locked_builds_are_byte_identical_across_days_and_folders(sample, tmp_path, monkeypatch):
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    other = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(sample.root, other, ignore=shutil.ignore_patterns("dist"))
    system_temp = tmp_path / "system-temp"
    system_temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))

    first = sample.run("build", "--locked", env={"SOURCE_DATE_EPOCH": V1})
    second = type(sample)(other).run("build", "--locked", env={"SOURCE_DATE_EPOCH": V2})
    assert first.exit_code == second.exit_code == 0

    def digest(root):
        return hashlib.sha256((root / "dist" / "sample.apkg").read_bytes()).hexdigest()

    assert digest(sample.root) == digest(other)
    manifest = json.loads((other / "dist" / "manifest.json").read_text())
    assert manifest["format"] == 1
    assert manifest["decks"] == [
        {
            "id": "sample",
            "name": "Sample Deck",
            "version": "1.0.0",
            "namespace": "sample",
            "file": "sample.apkg",
            "sha256": digest(other),
            "size": (other / "dist" / "sample.apkg").stat().st_size,
            "tier": None,
            "notes": 9,
            "cards": 13,
            "tiers": {
                "basics": {"title": "1 Basics", "notes": 4, "cards": 6},
                "advanced": {"title": "2 Advanced", "notes": 5, "cards": 7},
            },
            "notetypes": [
                {"name": "tierdeck Basic", "id": 1496707301, "version": 1},
                {"name": "tierdeck Cloze", "id": 1463627071, "version": 1},
                {"name": "tierdeck Mechanism", "id": 1573321153, "version": 1},
                {"name": "tierdeck Table", "id": 2021975570, "version": 1},
                {"name": "tierdeck Term", "id": 1080095511, "version": 1},
            ],
            "merge_notetypes": False,
            "issues": None,
            "sources": None,
        }
    ]
    assert list(system_temp.iterdir()) == []  # nothing left behind in the system temp folder


def test_release__locked_build_fails_when_the_lock_would_change(sample):
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    apkg = sample.root / "dist" / "sample.apkg"
    before = apkg.read_bytes()
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down bone.")
    result = sample.run("build", "--locked")
    assert result.exit_code == 1
    assert result.stderr == (
        "decks/sample.lock:1: the lock file is out of date (0 added, 1 changed, 0 removed, 0 note types changed "
        "since it was written); run 'tierdeck build' without --locked and commit the updated lock file\n"
        "1 error; nothing was written\n"
    )
    assert apkg.read_bytes() == before


def test_release__adding_a_field_without_a_version_bump_is_rejected(sample):
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    notetype = sample.own_notetype("basic")
    sample.edit("notetypes/basic.yaml", "fields: [Front, Back, Extra, Source, CardId]", "fields: [Front, Back, Extra, Source, CardId, Mnemonic]")
    result = sample.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "notetypes/basic.yaml:1: note type 'tierdeck Basic' changed its fields or templates (fields added: "
        "Mnemonic) but kept version 1. Anki would not update the notes students already have: it reports them as "
        "conflicting and keeps the old ones. With a new version, students who have the deck must import it with "
        "'Merge note types' ticked (Anki 23.10 or later) to keep receiving updates of these notes; new students are "
        f"not affected. To go ahead, give it 'version: 2' (and remove its 'id' line) in {notetype}\n"
        "1 error; nothing was written\n"
    )


def test_release__template_css_change_alone_is_allowed_and_restamps_the_note_type(sample):
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    sample.own_notetype("basic")
    sample.edit("notetypes/basic.yaml", "css_file: tierdeck.css", "css_file: tierdeck.css\ncss_file_note: x")
    sample.edit("notetypes/basic.yaml", "css_file_note: x", "")
    css = sample.root / "notetypes" / "tierdeck.css"
    css.write_text(css.read_text() + "\n/* tweak */\n")
    assert sample.run("check").exit_code == 0
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V2}).exit_code == 0
    lock = json.loads((sample.root / "decks" / "sample.lock").read_text())
    assert lock["notetypes"]["basic"]["mtime"] == int(V2)
    assert lock["notetypes"]["term"]["mtime"] == int(V1)


def test_release__a_tier_move_is_reported(sample):
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    sample.edit("cards/sample/advanced.yaml", "    tier: basics\n", "")
    result = sample.run("build", env={"SOURCE_DATE_EPOCH": V2})
    assert result.exit_code == 0
    assert result.stderr == (
        "note: 'h2o' moved from tier basics to advanced; students who have it keep its cards in the old subdeck "
        "(its tier:: tag updates)\n"
    )


def test_release__a_template_change_reaches_students_and_keeps_their_notes_updating(sample, tmp_path):
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    col = open_collection(tmp_path / "student")
    import_package(col, sample.root / "dist" / "sample.apkg")
    study_everything(col)
    before = history(col)
    sample.own_notetype("basic")
    sample.edit("notetypes/basic.yaml", '<div class="td-answer">{{Back}}</div>', '<div class="td-answer new">{{Back}}</div>')
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down bone.")
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V2}).exit_code == 0
    counts = import_package(col, sample.root / "dist" / "sample.apkg")
    assert (counts.updated, counts.conflicting, counts.new) == (1, 0, 0)
    assert 'class="td-answer new"' in col.models.by_name("tierdeck Basic")["tmpls"][0]["afmt"]
    assert [m.name for m in col.models.all_names_and_ids() if "tierdeck Basic" in m.name] == ["tierdeck Basic"]
    assert history(col) == before
    col.close()


@pytest.mark.parametrize(("merge", "expected"), [(False, (0, 0, 2)), (True, (0, 2, 0))])
def test_release__after_a_version_bump_students_must_merge_note_types_to_keep_updates(sample, tmp_path, merge, expected):
    """What `check`'s version message tells authors: without 'Merge note types' edits stop reaching students."""
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    col = open_collection(tmp_path / "student")
    import_package(col, sample.root / "dist" / "sample.apkg")
    before = history(col)
    sample.own_notetype("basic")
    sample.edit("notetypes/basic.yaml", "fields: [Front, Back, Extra, Source, CardId]", "fields: [Front, Back, Extra, Source, CardId, Mnemonic]")
    sample.edit("notetypes/basic.yaml", "version: 1", "version: 2")
    sample.edit("cards/sample/basics.yaml", "They resorb bone.", "They break down bone.")
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V2}).exit_code == 0
    counts = import_package(col, sample.root / "dist" / "sample.apkg", merge_notetypes=merge)
    assert (counts.new, counts.updated, counts.conflicting) == expected  # the two basic notes
    back = notes_by_card_id(col)["osteoclast-role"]["Back"]
    assert back == ("They break down bone." if merge else "They resorb bone.")
    assert history(col) == before  # no review is lost either way
    col.close()
