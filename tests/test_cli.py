"""The command line as an author meets it: whole messages, exit codes, nothing written on failure."""

from __future__ import annotations

import hashlib
import os
import re

import pytest

from tierdeck.cli import cli
from tierdeck.release import build as core

CARDS = """
    tier: one
    cards:
      - type: basic
        id: q1
        front: What do osteoclasts do?
        back: They resorb bone.
    source: Lecture 1
"""


def test_check__valid_project_reports_counts(mini):
    mini.write("cards/a.yaml", CARDS)
    result = mini.run("check")
    assert result.exit_code == 0
    assert result.stdout == "mini: 1 card (one 1, two 0)\nok: 1 deck checked, 0 warnings\n"
    assert not (mini.root / "dist").exists()


def test_check__lists_every_problem_with_file_line_and_fix(mini):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        cards:
          - type: term
            id: t1
            term: Bone
            defintion: Living tissue.
          - type: basic
            id: Q2
            front: [a, b]
            back: fine
          - type: cloze
            id: c1
            text: no deletion here
          - type: basic
            id: q4
            tier: three
            front: x
            back: y
        source: Lecture 1
        """,
    )
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "cards/a.yaml:6: cards[0].defintion: unknown key 'defintion'; did you mean 'definition'?\n"
        "cards/a.yaml:8: cards[1].id: 'Q2' is not a valid id; use lowercase letters, digits and single hyphens, "
        "e.g. 'bone-remodeling'\n"
        "cards/a.yaml:9: cards[1].front: expected text, got a list; write it as text, in quotes if it starts with '[' "
        "or '{'\n"
        "cards/a.yaml:13: cards[2].text: a cloze card needs at least one deletion; mark the answer like {{c1::answer}}\n"
        "cards/a.yaml:16: cards[3].tier: unknown tier 'three' in deck 'mini'; use one of: one, two\n"
        "5 errors; nothing was written\n"
    )


def test_check__duplicate_id_names_both_places(mini):
    mini.write("cards/a.yaml", CARDS)
    mini.write("cards/sub/b.yaml", CARDS.replace("tier: one", "tier: two").replace("osteoclasts", "osteoblasts"))
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "cards/sub/b.yaml:4: cards[0].id: duplicate card id 'q1', also used at cards/a.yaml:4; "
        "card ids must be unique in a deck, rename one\n"
        "1 error; nothing was written\n"
    )


def test_build__bad_input_writes_nothing_and_keeps_the_earlier_package(mini):
    mini.write("cards/a.yaml", CARDS)
    assert mini.run("build").exit_code == 0
    apkg = mini.root / "dist" / "mini.apkg"
    before = hashlib.sha256(apkg.read_bytes()).hexdigest()

    mini.edit("cards/a.yaml", "front: What do osteoclasts do?", "fornt: What do osteoclasts do?")
    result = mini.run("build")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "cards/a.yaml:5: cards[0].fornt: unknown key 'fornt'; did you mean 'front'?"
    )
    assert hashlib.sha256(apkg.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in (mini.root / "dist").iterdir()) == ["manifest.json", "mini.apkg"]


def test_build__tier_option_builds_one_tier(mini):
    mini.write("cards/a.yaml", CARDS)
    result = mini.run("build", "--tier", "one", "-o", "out")
    assert result.exit_code == 0
    assert result.stdout == "mini: 1 card (one 1) -> out/mini.one.apkg\n"


def test_build__unknown_tier_is_a_usage_error(mini):
    mini.write("cards/a.yaml", CARDS)
    result = mini.run("build", "--tier", "three")
    assert result.exit_code == 2
    assert result.stderr == "Error: deck 'mini' has no tier 'three'; its tiers are one, two\n"


def test_cli__outside_a_project_is_a_usage_error(tmp_path, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["check"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: no decks/ folder in {tmp_path.resolve()} or any folder above it;")


def test_cli__internal_error_is_reported_as_a_bug_with_a_log(mini, monkeypatch, crash_logs):
    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(core, "check", broken)
    result = mini.run("check")
    assert result.exit_code == 3
    first, second = result.stderr.splitlines()
    assert first == "tierdeck: internal error: KeyError: 'boom'"
    assert second.startswith("This is a bug in tierdeck, not a problem with your cards. Please report it at ")
    (log,) = crash_logs.glob("tierdeck-*/crash-*.log")
    assert f"(the traceback is in {log})" in second
    assert "Traceback" in log.read_text() and "KeyError: 'boom'" in log.read_text()
    # a folder only this user may enter, a file only this user may read, a name nobody could plant a link at
    assert (log.parent.stat().st_mode & 0o777, log.stat().st_mode & 0o777) == (0o700, 0o600)
    assert re.fullmatch(r"crash-\d{8}-\d{6}-\w{8}\.log", log.name)


def test_cli__a_crash_log_is_never_written_through_a_planted_link(mini, monkeypatch, crash_logs):
    victim = mini.root / "victim.txt"
    victim.write_text("precious\n")
    (crash_logs / f"tierdeck-{os.getuid()}").symlink_to(mini.root)  # someone else's link where the folder goes
    monkeypatch.setattr(core, "check", lambda *a, **k: 1 / 0)
    result = mini.run("check")
    assert result.exit_code == 3
    assert "(the traceback could not be saved)" in result.stderr
    assert victim.read_text() == "precious\n" and not list(mini.root.glob("crash-*"))


@pytest.mark.parametrize("command", [None, "check", "build"])
def test_cli__every_command_has_help_with_an_example(command):
    from click.testing import CliRunner

    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_build__a_full_disk_is_reported_plainly_not_as_a_bug(mini, monkeypatch):
    from tierdeck.release import apkg

    mini.write("cards/a.yaml", CARDS)

    def full(path, *args, **kwargs):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(apkg, "write_apkg", full)
    result = mini.run("build")
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot write {mini.root / 'dist' / 'mini.apkg'}: No space left on device; packages and lock files "
        "already there were left as they were (free some space, or choose another folder)\n"
    )


def test_check__backslash_paths_get_a_hint_to_use_slashes(mini):
    mini.write("cards/renal/a.yaml", CARDS)
    mini.edit("decks/mini.yaml", "cards: [cards]", "cards: ['cards\\renal']")
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr == (
        "decks/mini.yaml:6: cards[0]: 'cards\\renal' uses '\\', which is not a folder separator here; use / in "
        "paths, e.g. 'cards/renal' (it works on Windows too)\n"
        "1 error; nothing was written\n"
    )


def test_check__tiers_out_of_alphabetical_order_are_a_warning(mini):
    mini.write("cards/a.yaml", CARDS)
    mini.edit("decks/mini.yaml", "title: 1 One", "title: One")
    mini.edit("decks/mini.yaml", "title: 2 Two", "title: Advanced")
    result = mini.run("check")
    assert result.exit_code == 0
    assert result.stderr == (
        "decks/mini.yaml:3: warning: tiers: Anki lists subdecks alphabetically and, with its default new-card "
        "order, studies them in that order: Advanced, One, not the order listed here; start each title with its "
        "number, e.g. '1 Fundamentals'\n"
    )
