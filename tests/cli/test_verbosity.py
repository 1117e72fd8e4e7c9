"""-q/--quiet and -v/--verbose on every command, and the build's progress bar (on a terminal only)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tierdeck import cli as cli_module
from tierdeck.cli import cli


def test_quiet__check_and_build_print_only_problems(sample):
    sample.edit("cards/sample/basics.yaml", "source: Sample / Basics\n", "")
    for command in ("check", "build", "preview"):
        result = sample.run("-q", command)
        assert result.exit_code == 0, result.output
        assert result.stdout == ""
        if command == "build":  # build does not lint
            assert result.stderr == ""
        else:
            assert len(result.stderr.splitlines()) == 3 and "has no source" in result.stderr


def test_quiet__keeps_the_output_a_command_is_asked_for(sample):
    assert sample.run("-q", "stats").stdout == sample.run("stats").stdout != ""


def test_verbose__adds_files_and_timings(sample):
    check = sample.run("-v", "check")
    lines = check.stdout.splitlines()
    assert lines[:3] == [
        "sample: 13 cards (basics 6, advanced 7)",
        "  decks/sample.yaml: 2 card files",
        "ok: 1 deck checked, 0 warnings",
    ]
    assert lines[3].startswith("checked in ") and lines[3].endswith("s")
    build = sample.run("--verbose", "build")
    assert build.stdout.splitlines()[-1].startswith("built in ")


def test_quiet_and_verbose_together_is_a_usage_error(sample):
    result = sample.run("-q", "-v", "check")
    assert result.exit_code == 2
    assert "-q/--quiet and -v/--verbose cannot be used together" in result.stderr


@pytest.mark.parametrize("command", ["preview", "stats", "schema", "new"])
def test_cli__new_commands_have_help_with_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout


def test_progress__shown_on_a_terminal_only_and_never_with_quiet(sample, monkeypatch):
    monkeypatch.setenv("TIERDECK_NO_CACHE", "1")  # every run really builds (an up-to-date build has no progress)
    assert "Building" not in sample.run("build").stderr  # CliRunner's stderr is not a terminal, as in CI
    monkeypatch.setattr(cli_module, "_on_terminal", lambda: True)
    assert "Building" in sample.run("build").stderr
    assert "Building" not in sample.run("-q", "build").stderr


def test_progress__reports_every_note_written(sample):
    from tierdeck.release import build as core

    calls = []
    core.build(sample.root, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 9), (9, 9)]
