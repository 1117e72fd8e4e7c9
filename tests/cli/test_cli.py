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
    assert result.stdout == "mini: 1 card (one 1)\nok: 1 deck checked, 0 warnings\n"
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
        "cards/a.yaml:16: cards[3].tier: unknown tier 'three' in deck 'mini'; use one of: one\n"
        "5 errors; nothing was written\n"
    )


def test_check__duplicate_id_names_both_places(mini):
    mini.write("cards/a.yaml", CARDS)
    mini.write("cards/sub/b.yaml", CARDS.replace("osteoclasts", "osteoblasts"))
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
    assert result.stderr == "Error: deck 'mini' has no tier 'three'; its tiers are one\n"


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
        "decks/mini.yaml:5: cards[0]: 'cards\\renal' uses '\\', which is not a folder separator here; use / in "
        "paths, e.g. 'cards/renal' (it works on Windows too)\n"
        "1 error; nothing was written\n"
    )


def test_check__tiers_out_of_alphabetical_order_are_a_warning(mini):
    mini.write("cards/a.yaml", CARDS)
    mini.write("cards/b.yaml", CARDS.replace("tier: one", "tier: two").replace("q1", "q2").replace("osteoclasts", "cells"))
    mini.edit("decks/mini.yaml", "title: 1 One}", "title: One}\n  - {id: two, title: Advanced}")
    result = mini.run("check")
    assert result.exit_code == 0
    assert result.stderr == (
        "decks/mini.yaml:3: warning: tiers: Anki lists subdecks alphabetically and, with its default new-card "
        "order, studies them in that order: Advanced, One, not the order listed here; start each title with its "
        "number, e.g. '1 Fundamentals'\n"
    )


def test_check__a_card_file_no_manifest_lists_and_an_empty_tier_are_warnings_and_fail_strict(project):
    project.write("decks/renal.yaml", """
        id: renal
        name: Renal
        tiers:
          - {id: core, title: 1 Core}
          - {id: advanced, title: 2 Advanced}
        cards: [cards/renal/01-core.yaml]
    """)
    project.write("cards/renal/01-core.yaml", CARDS.replace("tier: one", "tier: core"))
    project.write("cards/renal/02-advanced.yaml", CARDS.replace("tier: one", "tier: advanced").replace("q1", "q2")
                  .replace("osteoclasts", "osteoblasts"))
    project.write("renal-extra.yaml", CARDS.replace("q1", "q3").replace("osteoclasts", "osteocytes"))
    project.write("mkdocs.yml", "site_name: Renal\n")  # other YAML beside decks/ is not a card file
    result = project.run("check")
    assert result.exit_code == 0
    assert result.stderr == (
        "cards/renal/02-advanced.yaml:1: warning: no manifest in decks/ lists this card file, so its cards are in no "
        "deck; add it (or its folder) to a manifest's cards:, e.g. 'cards: [cards/renal]', or delete it\n"
        "decks/renal.yaml:5: warning: tiers[1]: tier 'advanced' has no cards, so the subdeck '2 Advanced' would be "
        "empty; give cards 'tier: advanced' (in a file the manifest's cards: lists), or remove the tier\n"
        "renal-extra.yaml:1: warning: no manifest in decks/ lists this card file, so its cards are in no deck; add "
        "it (or its folder) to a manifest's cards:, e.g. 'cards: [renal-extra.yaml]', or delete it\n"
    )
    strict = project.run("check", "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.endswith("3 errors; nothing was written\n")
    (project.root / "renal-extra.yaml").unlink()
    project.edit("decks/renal.yaml", "cards: [cards/renal/01-core.yaml]", "cards: [cards/renal]")
    assert project.run("check", "--strict").exit_code == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "back: Inulin is freely filtered #1 reason, and is neither secreted",
            "cards/a.yaml:6: the text after ' #' on this line is dropped: YAML reads ' #' as the start of a comment; if "
            "the '#' is part of the text, put the whole value in quotes, e.g. \"Inulin is freely filtered #1 reason, "
            "and is neither secreted\", and if it is a comment, put it on a line of its own",
        ),
        (
            "back: \\( FF = \\frac{GFR}{RPF}",
            "cards/a.yaml:6: cards[0].back: the formula opened with '\\(' is never closed, so Anki shows it as raw "
            "text; end it with '\\)'",
        ),
        (
            "back: {{c1::Vasopressin}} binds V2 receptors.",
            "cards/a.yaml:6: invalid YAML: a value starting with '{' is read as a mapping, so the text after its "
            "closing bracket does not fit; put the whole value in quotes, e.g. text: \"{{c1::Vasopressin}} binds V2 "
            "receptors\"",
        ),
        (
            "back: [K+] above 5.5 mmol/L is called what?",
            "cards/a.yaml:6: invalid YAML: a value starting with '[' is read as a list, so the text after its closing "
            "bracket does not fit; put the whole value in quotes, e.g. front: \"[K+] above 5.5 mmol/L is called what?\"",
        ),
    ],
    ids=["hash-comment", "unclosed-math", "unquoted-cloze", "unquoted-bracket"],
)
def test_check__text_lost_or_shown_raw_is_an_error_with_the_fix(mini, line, message):
    mini.write("cards/a.yaml", CARDS.replace("back: They resorb bone.", line))
    result = mini.run("check")
    assert result.exit_code == 1
    assert result.stderr.startswith(message)


def test_check__a_cloze_deletion_with_one_brace_is_an_error(mini):
    mini.write("cards/a.yaml", """
        tier: one
        source: Lecture 1
        cards:
          - type: cloze
            id: c1
            text: "The TAL is {c1::impermeable to water}}, and {{c2::pumps}} Na."
    """)
    result = mini.run("check")
    assert result.stderr == (
        "cards/a.yaml:6: cards[0].text: '{c1::' opens deletion c1 with one brace, so Anki shows it as text; write "
        "'{{c1::' (two braces), and close it with '}}'\n"
        "1 error; nothing was written\n"
    )


def test_check__table_rows_with_a_comma_or_a_colon_in_a_cell_say_to_quote_it(mini):
    mini.write("cards/a.yaml", """
        tier: one
        source: Lecture 1
        cards:
          - type: table
            id: t1
            title: Diuretics
            columns: [Class, Site, Adverse effect]
            rows:
              - [Thiazides (hydrochlorothiazide, chlorthalidone), DCT, Hyponatraemia]
          - type: table
            id: t2
            title: Diuretics
            columns: [Class, Site, Adverse effect]
            rows:
              - [K-sparing, Collecting duct, Risk: hyperkalaemia]
    """)
    result = mini.run("check")
    assert result.stderr == (
        "cards/a.yaml:9: cards[0].rows[0]: row has 4 cells but the table has 3 columns; a ',' inside a cell splits "
        "it in two: put each cell that holds a comma in quotes, e.g. [\"Thiazides (HCTZ, chlorthalidone)\", DCT], or "
        "remove cells so each row has 3\n"
        "cards/a.yaml:15: cards[1].rows[0][2]: expected text, got a mapping of keys: the ': ' inside this cell makes "
        "it a key and a value; put the cell in quotes, e.g. \"Risk: hyperkalaemia\"\n"
        "2 errors; nothing was written\n"
    )


def test_build__locked_without_a_lock_file_says_to_build_and_commit_it(mini):
    mini.write("cards/a.yaml", CARDS)
    result = mini.run("build", "--locked")
    assert result.exit_code == 1
    assert result.stderr == (
        "decks/mini.lock: there is no lock file yet, and --locked builds only what a lock file records; run "
        "'tierdeck build' without --locked and commit decks/mini.lock with the cards\n"
        "1 error; nothing was written\n"
    )


def test_cli__quiet_and_verbose_work_after_the_command_too(mini):
    mini.write("cards/a.yaml", CARDS)
    assert mini.run("check", "-q").stdout == ""
    assert mini.run("-q", "check").stdout == ""
    assert "checked in " in mini.run("check", "-v").stdout
    both = mini.run("-q", "check", "-v")
    assert both.exit_code == 2 and "-q/--quiet and -v/--verbose cannot be used together" in both.stderr


def test_cli__help_summaries_are_whole_sentences_and_name_the_docs(mini):
    result = mini.run("--help")
    commands = result.stdout.split("Commands:\n")[1]
    assert "..." not in commands
    assert "'tierdeck docs' says where" in result.stdout
    assert "  docs     Where tierdeck's documentation is" in result.stdout


def test_docs__prints_where_the_installed_documents_are(mini):
    listing = mini.run("docs")
    assert listing.exit_code == 0
    lines = listing.stdout.splitlines()
    assert any(line.endswith("format.md  The card format") for line in lines)
    assert lines[-1] == "online: https://github.com/tierdeck/tierdeck/tree/main/docs"
    path = mini.run("docs", "docs/format.md").stdout.strip()  # as the docs name each other
    assert path.endswith("format.md") and "cards:" in open(path, encoding="utf-8").read()
    missing = mini.run("docs", "nope")
    assert missing.exit_code == 2
    assert missing.stderr.startswith("Error: no document 'nope'; the documents are ")


def test_preview__open_says_when_no_browser_could_be_opened(mini, monkeypatch):
    import webbrowser

    monkeypatch.setattr(webbrowser, "open", lambda url: False)
    mini.write("cards/a.yaml", CARDS)
    result = mini.run("preview", "--open")
    assert result.exit_code == 0
    index = (mini.root / "preview" / "index.html").resolve().as_uri()
    assert result.stderr == f"no web browser could be opened here; open {index} in a browser yourself\n"


def test_build__counts_cards_and_says_why_anki_updates_more_notes(mini):
    table = (
        "      - type: table\n        id: t1\n        title: Bone cells\n        columns: [Cell, Role, Origin]\n"
        "        rows:\n          - [Osteoblast, Builds bone, Mesenchyme]\n"
        "          - [Osteoclast, Resorbs bone, Monocytes]\n"
    )
    mini.write("cards/a.yaml", CARDS.replace("    source: Lecture 1\n", table + "    source: Lecture 1\n"))
    assert mini.run("build").exit_code == 0
    mini.edit("cards/a.yaml", "Resorbs bone", "Resorbs mineralised bone")
    result = mini.run("build")
    # one cell edited: every cell note holds the whole table, so Anki updates all four
    assert result.stdout.endswith("(1 changed since the lock file; 4 notes in Anki: each table cell is a note)\n")


def test_cli__a_reader_that_goes_away_is_not_a_bug(tmp_path):
    """`tierdeck docs | head -1`: when the reader closes the pipe, tierdeck stops quietly (exit 141, as
    SIGPIPE would), with no "internal error" and no crash log."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TIERDECK_CRASH_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierdeck", "docs"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    proc.stdout.close()  # before tierdeck has started: its first write finds no reader
    stderr = proc.stderr.read().decode()
    assert proc.wait() == 141, stderr
    assert stderr == "" and list(tmp_path.iterdir()) == []
