"""Outputs written whole or not at all, never through a link out of the project, errors that name the path."""

from __future__ import annotations

import errno
import hashlib
import os
import time
from pathlib import Path

import pytest

from tierdeck import files

CARDS = """
    tier: one
    source: Lecture 1
    cards:
      - {type: basic, id: q1, front: What do osteoclasts do?, back: They resorb bone.}
"""


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def built(mini):
    mini.write("cards/a.yaml", CARDS)
    assert mini.run("build").exit_code == 0
    return mini


@pytest.mark.parametrize(
    "args",
    [
        ("preview", "-o", "{blocker}/preview"),
        ("schema", "-o", "{blocker}/schemas"),
        ("diff", "{apkg}", "{apkg}", "-o", "{blocker}/changes.md"),
        ("build", "-o", "{blocker}/dist"),
        ("init", "{blocker}/new-project"),
    ],
    ids=lambda args: args[0],
)
def test_files__an_unwritable_output_is_exit_1_naming_the_path_not_a_bug(built, args):
    blocker = built.root / "blocker"
    blocker.write_text("a file where a folder is expected\n")
    apkg = built.root / "dist" / "mini.apkg"
    result = built.run(*(a.format(blocker=blocker, apkg=apkg) for a in args))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: cannot write {blocker}"), result.stderr
    assert "Not a directory" in result.stderr or "File exists" in result.stderr
    assert "bug" not in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("folder", ["dist", "preview", "schemas"])
def test_files__a_symlinked_output_folder_is_not_followed_out_of_the_project(mini, tmp_path_factory, folder):
    outside = tmp_path_factory.mktemp("victim")
    (outside / "index.html").write_text("theirs\n")
    (outside / "cards").mkdir()
    (outside / "cards" / "app.js").write_text("theirs\n")
    mini.write("cards/a.yaml", CARDS)
    (mini.root / folder).symlink_to(outside, target_is_directory=True)
    result = mini.run({"dist": "build", "preview": "preview", "schemas": "schema"}[folder])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {folder}/ leads outside {mini.root.name}/ (a symbolic link to {outside}); tierdeck does not write "
        "or delete through it: remove the link, or choose the folder explicitly with -o\n"
    )
    assert sorted(p.name for p in outside.rglob("*")) == ["app.js", "cards", "index.html"]
    assert (outside / "index.html").read_text() == "theirs\n"


def test_files__the_preview_never_deletes_through_a_symlinked_data_folder(mini, tmp_path_factory):
    outside = tmp_path_factory.mktemp("victim")
    (outside / "keep.js").write_text("theirs\n")
    mini.write("cards/a.yaml", CARDS)
    (mini.root / "preview").mkdir()
    (mini.root / "preview" / "text").symlink_to(outside, target_is_directory=True)
    result = mini.run("preview")
    assert result.exit_code == 1
    assert "text/ leads outside preview/" in result.stderr
    assert (outside / "keep.js").read_text() == "theirs\n"


def test_files__new_does_not_write_through_a_symlinked_cards_folder(mini, tmp_path_factory):
    outside = tmp_path_factory.mktemp("victim")
    (mini.root / "cards").rmdir()
    (mini.root / "cards").symlink_to(outside, target_is_directory=True)
    result = mini.run("new", "renal")
    assert result.exit_code == 1
    assert "cards/ leads outside" in result.stderr and "make it a real folder" in result.stderr
    assert list(outside.iterdir()) == [] and not (mini.root / "decks" / "renal.yaml").exists()


def test_files__a_read_only_decks_folder_leaves_package_lock_and_manifest_as_they_were(built, monkeypatch):
    dist = built.root / "dist"
    before = {
        p.name: digest(p) for p in [dist / "mini.apkg", dist / "manifest.json", built.root / "decks" / "mini.lock"]
    }
    built.edit("cards/a.yaml", "They resorb bone.", "They resorb bone matrix.")
    real = files.temporary_beside

    def read_only_decks(path: Path) -> Path:
        if path.parent.name == "decks":
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real(path)

    monkeypatch.setattr(files, "temporary_beside", read_only_decks)
    result = built.run("build")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot write {built.root / 'decks' / 'mini.lock'}: Read-only file system; nothing was replaced "
        "(check the folder's permissions, or choose another folder)\n"
    )
    after = {
        p.name: digest(p) for p in [dist / "mini.apkg", dist / "manifest.json", built.root / "decks" / "mini.lock"]
    }
    assert after == before
    assert sorted(p.name for p in dist.iterdir()) == ["manifest.json", "mini.apkg"]  # no temporary file left


def test_files__stale_leftovers_in_decks_and_preview_are_swept_too(built):
    old = time.time() - 2 * files.STALE_SECONDS
    leftovers = [
        built.root / "decks" / f"{files.TEMP_PREFIX}mini.lock.x1",
        built.root / "preview" / "cards" / f"{files.TEMP_PREFIX}abc.js.x2",
        built.root / "preview" / f"{files.TEMP_PREFIX}index.js.x3",
    ]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
        os.utime(path, (old, old))
    built.edit("cards/a.yaml", "They resorb bone.", "They resorb bone matrix.")
    assert built.run("build").exit_code == 0 and built.run("preview").exit_code == 0
    assert [p for p in leftovers if p.exists()] == []


def test_files__stale_leftovers_of_killed_runs_are_swept_fresh_ones_kept(built):
    dist = built.root / "dist"
    stale_dir, stale_file, fresh = (dist / f"{files.TEMP_PREFIX}{n}" for n in ("mini.apkg.a1", "mini.apkg.b2", "c3"))
    stale_dir.mkdir()
    (stale_dir / "collection.anki2").write_bytes(bytes(1000))
    stale_file.write_bytes(bytes(1000))
    fresh.write_bytes(b"a build running right now")
    old = time.time() - 2 * files.STALE_SECONDS
    for path in (stale_dir, stale_file):
        os.utime(path, (old, old))
    built.edit("cards/a.yaml", "They resorb bone.", "They resorb bone matrix.")
    assert built.run("build").exit_code == 0
    assert sorted(p.name for p in dist.iterdir()) == sorted(["manifest.json", "mini.apkg", fresh.name])


def test_files__write_replaces_whole_files_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "a.txt"
    files.write(target, "one\n")
    assert files.write_if_changed(target, "one\n") is False
    assert files.write_if_changed(target, "two\n") is True
    assert target.read_text() == "two\n" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]
    link = tmp_path / "link.txt"
    victim = tmp_path / "victim.txt"
    victim.write_text("theirs\n")
    link.symlink_to(victim)
    files.write(link, "mine\n")  # the link is replaced, not followed
    assert victim.read_text() == "theirs\n" and link.read_text() == "mine\n" and not link.is_symlink()


@pytest.mark.parametrize("folder", ["cards", "notetypes"])
def test_files__import_does_not_write_through_a_symlinked_project_folder(tmp_path, folder):
    """Review M7: `import -o A` with A/cards or A/notetypes a link wrote every card file outside the project."""
    from click.testing import CliRunner

    from import_builders import build_sample
    from tierdeck.cli import cli

    sample = build_sample(tmp_path / "sample")
    outside = tmp_path / "outside"
    outside.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / folder).symlink_to(outside, target_is_directory=True)
    result = CliRunner().invoke(cli, ["import", str(sample.legacy), "-o", str(project)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: {folder}/"), result.stderr
    assert f"leads outside project/ (a symbolic link to {outside}" in result.stderr
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in project.iterdir()) == [folder]
