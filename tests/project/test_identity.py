"""A note's identity survives what an instructor would not expect to change it: renames, moves, shared files.

Every test that matters imports into the real Anki engine a student's collection who studied the earlier
version, then the new one, and counts what Anki does: no new notes, no conflicts, every review kept.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from anki_engine import ImportCounts, history, import_package, notes_by_card_id, open_collection, study_everything

V1, V2 = "1700000000", "1700864000"

MANIFEST = """
    id: {id}
    name: {name}
    tiers:
      - {{id: one, title: 1 One}}
    cards: [{cards}]
"""
CARDS = """
    tier: one
    source: Test
    cards:
      - type: basic
        id: {prefix}q1
        front: What do osteoclasts do?
        back: They resorb bone.
      - type: cloze
        id: {prefix}c1
        text: "Osteoblasts {{{{c1::build}}}} bone; osteoclasts {{{{c2::resorb}}}} it."
"""


def deck(project, deck_id: str, name: str, cards: str = "cards/{id}", prefix: str = "") -> None:
    """A deck manifest and, unless the folder exists, its card file."""
    folder = cards.format(id=deck_id)
    project.write(f"decks/{deck_id}.yaml", MANIFEST.format(id=deck_id, name=name, cards=folder))
    if not (project.root / folder).exists():
        project.write(f"{folder}/a.yaml", CARDS.format(prefix=prefix))


def student_with(project, tmp_path, apkg: str):
    """A student who imported `apkg` and studied every card."""
    col = open_collection(tmp_path / "student")
    import_package(col, project.root / "dist" / apkg)
    assert study_everything(col) > 0
    return col


def test_rename__previous_ids_keep_every_note_and_its_history(project, tmp_path):
    deck(project, "acid-base", "Acid-Base")
    assert project.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    col = student_with(project, tmp_path, "acid-base.apkg")
    studied = history(col)

    project.edit("decks/acid-base.yaml", "id: acid-base", "id: acid-base-physiology\nprevious_ids: [acid-base]")
    project.edit("cards/acid-base/a.yaml", "They resorb bone.", "They resorb (break down) bone.")
    result = project.run("build", env={"SOURCE_DATE_EPOCH": V2})
    assert result.exit_code == 0, result.output
    assert "note: deck 'acid-base-physiology' was 'acid-base': its notes keep their identity" in result.stderr
    assert (project.root / "decks" / "acid-base-physiology.lock").is_file()
    assert not (project.root / "decks" / "acid-base.lock").exists()
    lock = json.loads((project.root / "decks" / "acid-base-physiology.lock").read_text())
    assert (lock["deck"], lock["namespace"]) == ("acid-base-physiology", "acid-base")

    counts = import_package(col, project.root / "dist" / "acid-base-physiology.apkg")
    assert counts == ImportCounts(new=0, updated=1, duplicate=1, conflicting=0)
    assert col.card_count() == 3
    assert history(col) == studied
    col.close()
    # later builds keep the namespace, with or without previous_ids
    project.edit("decks/acid-base.yaml", "previous_ids: [acid-base]", "")
    assert project.run("build", "--locked", env={"SOURCE_DATE_EPOCH": V2}).exit_code == 0


def test_rename__without_previous_ids_is_refused_and_says_how(project):
    deck(project, "acid-base", "Acid-Base")
    assert project.run("build").exit_code == 0
    project.edit("decks/acid-base.yaml", "id: acid-base", "id: acid-base-physiology")
    (project.root / "decks" / "acid-base.yaml").rename(project.root / "decks" / "acid-base-physiology.yaml")
    for command in ("check", "build"):
        result = project.run(command)
        assert result.exit_code == 1
        assert result.stderr == (
            "decks/acid-base.lock:1: this lock file belongs to deck 'acid-base', which no manifest in decks/ has any "
            "more; building its cards under another id would give every student a second copy of each. deck "
            "'acid-base-physiology' (decks/acid-base-physiology.yaml) holds 2 of its 2 notes: if you renamed "
            "'acid-base' to 'acid-base-physiology', add 'previous_ids: [acid-base]' to that manifest so students keep "
            "their cards and history; if you retired the deck, delete this lock file (students keep the cards they "
            "have)\n"
            "1 error; nothing was written\n"
        )
    assert not (project.root / "dist" / "acid-base-physiology.apkg").exists()


def test_card_rename__a_released_card_under_a_new_id_is_refused_with_previous_ids_as_the_fix(project):
    deck(project, "acid-base", "Acid-Base")
    assert project.run("build").exit_code == 0
    project.edit("cards/acid-base/a.yaml", "id: q1", "id: osteoclast-role")
    for command in ("check", "build"):
        result = project.run(command)
        assert result.exit_code == 1
        assert result.stderr == (
            "cards/acid-base/a.yaml:5: cards[0].id: card 'osteoclast-role' is released card 'q1' under a new id (same "
            "content; 'q1' is gone): students would get it twice, the new copy without their reviews; keep its "
            "identity with 'previous_ids: [q1]' on this card, or change the id back to 'q1'\n"
            "1 error; nothing was written\n"
        )
    # a new card with other content beside a removed one is an ordinary add and remove
    project.edit("cards/acid-base/a.yaml", "They resorb bone.", "They resorb old bone.")
    assert project.run("check", "--strict").exit_code == 0


def test_card_rename__previous_ids_keep_the_note_students_have_and_diff_calls_it_a_rename(project, tmp_path):
    deck(project, "acid-base", "Acid-Base")
    cards = project.root / "cards" / "acid-base" / "a.yaml"
    git = ["git", "-c", "user.email=a@example.org", "-c", "user.name=A"]
    assert project.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    subprocess.run(["git", "init", "-q"], cwd=project.root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project.root, check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], cwd=project.root, check=True)
    subprocess.run(["git", "tag", "v1"], cwd=project.root, check=True)
    col = student_with(project, tmp_path, "acid-base.apkg")
    studied = history(col)

    cards.write_text(cards.read_text().replace("id: q1", "id: osteoclast-role\n    previous_ids: [q1]"))
    result = project.run("build", env={"SOURCE_DATE_EPOCH": V2})
    assert result.exit_code == 0, result.output
    assert "(1 changed since the lock file)" in result.stdout  # not "1 added, 1 removed"
    counts = import_package(col, project.root / "dist" / "acid-base.apkg")
    assert counts == ImportCounts(new=0, updated=1, duplicate=1, conflicting=0)
    assert col.note_count() == 2 and col.card_count() == 3  # the card reaches the student once
    assert history(col) == studied
    assert sorted(notes_by_card_id(col)) == ["c1", "osteoclast-role"]
    col.close()
    changelog = project.run("diff", "v1").stdout
    assert "- Renamed `q1` → `osteoclast-role` (basic): students keep the card and its reviews\n" in changelog
    assert "Added" not in changelog and "Removed" not in changelog


def test_delete__a_deleted_decks_lock_is_an_error_until_it_is_removed(project):

    deck(project, "old", "Old")
    deck(project, "other", "Other", prefix="o-")
    assert project.run("build").exit_code == 0
    (project.root / "decks" / "old.yaml").unlink()
    result = project.run("check")
    assert result.exit_code == 1
    assert result.stderr.startswith("decks/old.lock:1: this lock file belongs to deck 'old', which no manifest")
    assert "if you renamed the deck, add 'previous_ids: [old]' to its manifest" in result.stderr
    (project.root / "decks" / "old.lock").unlink()
    shutil.rmtree(project.root / "cards" / "old")  # its cards, else no deck lists them (a warning)
    assert project.run("check", "--strict").exit_code == 0


def test_move__a_card_moved_to_another_deck_keeps_its_identity(project, tmp_path):
    deck(project, "a", "Deck A")
    deck(project, "b", "Deck B", prefix="b-")
    assert project.run("build").exit_code == 0
    col = student_with(project, tmp_path, "a.apkg")
    studied = history(col)

    # the cloze moves from deck a's file to deck b's
    text = (project.root / "cards" / "a" / "a.yaml").read_text()
    cloze = text[text.index("  - type: cloze") :]
    (project.root / "cards" / "a" / "a.yaml").write_text(text.replace(cloze, ""))
    with open(project.root / "cards" / "b" / "a.yaml", "a") as f:
        f.write(cloze)
    result = project.run("build")
    assert result.exit_code == 0, result.output
    assert "note: 'c1' moved here from deck 'a' and keeps its identity" in result.stderr

    counts = import_package(col, project.root / "dist" / "b.apkg")
    assert (counts.new, counts.conflicting) == (2, 0)  # b's own two cards are new; the moved one is not
    assert history(col).items() >= studied.items()
    col.close()
    assert project.run("build", "--locked").exit_code == 0  # the lock files agree after the move


def test_shared__a_file_listed_by_two_decks_is_studied_once(project, tmp_path):
    project.write("cards/shared/a.yaml", CARDS.format(prefix=""))
    deck(project, "full", "Full course", cards="cards/shared")
    deck(project, "review", "Review", cards="cards/shared")
    assert project.run("build").exit_code == 0
    col = student_with(project, tmp_path, "full.apkg")
    counts = import_package(col, project.root / "dist" / "review.apkg")
    assert (counts.new, counts.conflicting) == (0, 0)
    assert col.card_count() == 3
    col.close()


def test_pinned__a_card_keeps_the_guid_it_had_in_anki(mini, tmp_path):
    mini.write("cards/a.yaml", CARDS.format(prefix="").replace("id: q1", "id: q1\n        guid: 'e%W9(K]q2x'"))
    assert mini.run("build").exit_code == 0
    col = open_collection(tmp_path / "student")
    import_package(col, mini.root / "dist" / "mini.apkg")
    assert "e%W9(K]q2x" in {col.get_note(nid).guid for nid in col.find_notes("")}
    col.close()


@pytest.mark.parametrize(
    ("guid", "message"),
    [
        ("'has space'", "cards[0].guid: 'has space' is not a valid guid"),
        ("''", "cards[0].guid: '' is not a valid guid"),
    ],
)
def test_pinned__malformed_guid_is_located(mini, guid, message):
    mini.write("cards/a.yaml", CARDS.format(prefix="").replace("id: q1", f"id: q1\n        guid: {guid}"))
    result = mini.run("check")
    assert result.exit_code == 1
    assert message in result.stderr and result.stderr.startswith("cards/a.yaml:6: ")


def test_pinned__the_same_guid_on_two_cards_is_an_error(mini):
    text = CARDS.format(prefix="").replace("id: q1", "id: q1\n        guid: abcdefghij").replace(
        "id: c1", "id: c1\n        guid: abcdefghij"
    )
    mini.write("cards/a.yaml", text)
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "cards/a.yaml:11: cards[1].guid: this card has the same GUID as cards/a.yaml, card 'q1'; each card needs "
        "its own guid; keep it on the card students know and remove it from the other\n"
        "1 error; nothing was written\n"
    )


def test_pinned__changing_a_guid_students_have_is_refused(mini):
    mini.write("cards/a.yaml", CARDS.format(prefix=""))
    assert mini.run("build").exit_code == 0
    mini.edit("cards/a.yaml", "id: q1", "id: q1\n    guid: abcdefghij")
    result = mini.run("check")
    assert result.exit_code == 1
    assert "cards[0].guid: the guid 'abcdefghij' differs from the one students have for this card" in result.stderr


def test_lock__a_lock_recording_another_deck_is_an_error(project):
    deck(project, "a", "Deck A")
    assert project.run("build").exit_code == 0
    lock = project.root / "decks" / "a.lock"
    lock.write_text(lock.read_text().replace('"deck": "a"', '"deck": "zzz"'))
    result = project.run("check")
    assert result.exit_code == 1
    assert result.stderr.startswith("decks/a.lock:1: this lock file records deck 'zzz', not 'a' (decks/a.yaml)")
