"""User conditions are exit 1 with a clear message, never exit 3 ("a bug in tierdeck"): malformed lock values,
names too long for the file system, a full disk."""

from __future__ import annotations

import errno
import json
import os

import pytest

CARDS = """
    tier: one
    source: Lecture 1
    cards:
      - {type: basic, id: q1, front: What do osteoclasts do?, back: They resorb bone.}
      - {type: basic, id: q2, front: What do osteoblasts do?, back: They build bone.}
"""
RESTORE = (
    "restore it from git (git checkout -- mini.lock); deleting it would give every student a second copy of every card"
)


@pytest.fixture
def locked(mini):
    mini.write("cards/a.yaml", CARDS)
    assert mini.run("build").exit_code == 0
    return mini


def _set(locked, key: str, value: str) -> None:
    """Write `value` (JSON text) as note q2's `key` in the lock, as a hand edit or a bad merge would."""
    path = locked.root / "decks" / "mini.lock"
    lines = path.read_text().splitlines(keepends=True)
    (at,) = [i for i, line in enumerate(lines) if line.startswith('  "q2":')]
    entry = json.loads(lines[at].split(": ", 1)[1].rstrip(",\n"))
    entry[key] = "@@"
    lines[at] = (
        lines[at].split(": ", 1)[0]
        + ": "
        + json.dumps(entry).replace('"@@"', value)
        + (",\n" if lines[at].rstrip("\n").endswith(",") else "\n")
    )
    path.write_text("".join(lines))


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("mtime", "1e999", "Infinity"),
        ("mtime", '"soon"', '"soon"'),
        ("mtime", str(2**63 - 1), str(2**63 - 1)),
        ("mtime", "-5", "-5"),
        ("nid", str(10**23), str(10**23)),
        ("nid", "1.5", "1.5"),
    ],
)
def test_faults__a_malformed_lock_value_is_located_not_a_bug(locked, key, value, shown):
    _set(locked, key, value)
    locked.edit("cards/a.yaml", "They build bone.", "They build new bone.")
    for command in ("check", "build"):
        result = locked.run(command)
        assert result.exit_code == 1, result.output
        line = next(
            i
            for i, text in enumerate((locked.root / "decks" / "mini.lock").read_text().splitlines(), 1)
            if text.startswith('  "q2":')
        )
        assert result.stderr.startswith(
            f"decks/mini.lock:{line}: the note 'q2' in the lock file has an invalid '{key}' ({shown}); {RESTORE}\n"
        ), result.stderr


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[" * 100_000 + "]" * 100_000, "it is nested too deeply"),
        ('{"format": 2, "format": 2, "deck": "mini", "notes": {}, "notetypes": {}}', "the key 'format' appears twice"),
        ('{"format": 2, "deck": "mini", "notes": {"q1": 5}, "notetypes": {}}', None),
    ],
    ids=["deep nesting", "duplicate key", "entry not a mapping"],
)
def test_faults__a_malformed_lock_file_is_located_not_a_bug(locked, text, reason):
    (locked.root / "decks" / "mini.lock").write_text(text)
    result = locked.run("build")
    assert result.exit_code == 1, result.output
    if reason:
        assert result.stderr.startswith(f"decks/mini.lock:1: the lock file cannot be read ({reason}); {RESTORE}\n")
    else:
        assert result.stderr.startswith(
            f"decks/mini.lock:1: the note 'q1' in the lock file is not a mapping; {RESTORE}"
        )


@pytest.mark.parametrize(
    ("code", "reason", "advice"),
    [
        (errno.ENOSPC, "No space left on device", "free some space, or choose another folder"),
        (errno.ENAMETOOLONG, "File name too long", "shorten the name or the folder path"),
        (errno.EDQUOT, "Disk quota exceeded", "free some space, or choose another folder"),
    ],
)
def test_faults__a_file_system_refusal_anywhere_is_exit_1_naming_the_path(locked, monkeypatch, code, reason, advice):
    from tierdeck.release import build as core

    def refused(*args, **kwargs):
        raise OSError(code, reason, "/somewhere/deep/file.yaml")

    monkeypatch.setattr(core, "check", refused)
    result = locked.run("check")
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot write /somewhere/deep/file.yaml: {reason} ({advice})\n"


def test_faults__sqlites_disk_full_while_building_is_exit_1(locked, monkeypatch):
    import sqlite3

    from tierdeck.release import apkg

    def full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(apkg, "_collection", full)
    locked.edit("cards/a.yaml", "They build bone.", "They build new bone.")
    result = locked.run("build")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"Error: cannot write {locked.root / 'dist' / 'mini.apkg'}: No space left on device"
    )


# --- imports: what a foreign file holds is refused or left out, never a crash --------------------------------


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    from import_builders import build_sample

    return build_sample(tmp_path_factory.mktemp("teacher"))


def _import(cwd, *args):

    from click.testing import CliRunner

    from tierdeck.cli import cli

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, ["import", *args])
    finally:
        os.chdir(old)


@pytest.fixture
def imported(teacher, tmp_path):
    assert _import(tmp_path, str(teacher.legacy), "-o", "project").exit_code == 0
    return tmp_path


def test_faults__a_control_character_in_an_imported_tag_is_left_out_with_a_warning(teacher, imported):
    text = teacher.text.read_text().replace("exam::2024 receptors", "exam::2024 rec\x01eptors")
    (imported / "notes.txt").write_text(text)
    result = _import(imported, "notes.txt", "-o", "project")
    assert result.exit_code == 0, result.output
    guid = teacher.notes[0].guid
    assert (
        f"warning: cards[0] (note '{guid}'): the tag 'rec\\u0001eptors' holds a quote or a control character, "
        "which tags cannot; the import left it out\n"
    ) in result.stderr
    assert "\x01" not in (imported / "project" / "cards" / "pharmacology" / "receptors.yaml").read_text()


def test_faults__a_control_character_in_a_text_exports_guid_is_refused_at_its_line(teacher, imported):
    guid = teacher.notes[0].guid
    (imported / "notes.txt").write_text(teacher.text.read_text().replace(guid, "newg\x01uid"))
    result = _import(imported, "notes.txt", "-o", "project")
    assert result.exit_code == 1
    # the note's line (Anki quotes a field that holds some characters, so the GUID need not start the line)
    line = next(i for i, text in enumerate(teacher.text.read_text().splitlines(), 1) if guid in text)
    assert result.stderr == (
        f"notes.txt:{line}: the GUID 'newg\\u0001uid' is not one Anki writes (1 to 64 printable ASCII characters, no "
        "space or control character); export the notes from Anki again\n1 error; nothing was written\n"
    )


def test_faults__a_deck_name_too_long_for_the_file_system_is_imported_under_a_shorter_key(teacher, tmp_path):
    from import_builders import edit_collection, edit_json, members, write_zip

    def rename(decks: dict) -> None:
        for deck in decks.values():
            if deck["name"] == "Pharmacology::Receptors":
                deck["name"] = "Pharmacology::" + "Receptors and their many subtypes " * 9

    content = members(teacher.legacy)
    name = "collection.anki21" if "collection.anki21" in content else "collection.anki2"
    content[name] = edit_collection(content[name], tmp_path / "work", edit_json("decks", rename))
    long_names = write_zip(tmp_path / "long.apkg", content)
    result = _import(tmp_path, str(long_names), "-o", "project")
    assert result.exit_code == 0, result.output  # the tier's key (and file name) is cut; its title is kept whole
    assert max(len(p.name) for p in (tmp_path / "project").rglob("*")) <= 100
    manifest = (tmp_path / "project" / "decks" / "pharmacology.yaml").read_text(encoding="utf-8")
    assert ("Receptors and their many subtypes " * 9).strip() in manifest
