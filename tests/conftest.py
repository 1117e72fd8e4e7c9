"""Shared fixtures: tiny projects written into tmp_path, the CLI, and the real Anki engine."""

from __future__ import annotations

import os
import shutil
import struct
import textwrap
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

import tierdeck
from tierdeck.cli import cli

SAMPLE = Path(__file__).parent / "sample"
BUILTIN_NOTETYPES = Path(tierdeck.__file__).parent / "data" / "notetypes"


def png(colour: tuple[int, int, int] = (200, 30, 30), width: int = 1, height: int = 1) -> bytes:
    """A valid PNG of one colour (the tests' images: media, layout, import)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class Project:
    """A tierdeck project in a temporary folder, with helpers to edit, run and import it."""

    def __init__(self, root: Path):
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        """Write a file (dedented) below the project root."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def edit(self, relative: str, old: str, new: str) -> None:
        """Replace exactly one occurrence of `old` in a file."""
        path = self.root / relative
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {relative}"
        path.write_text(text.replace(old, new), encoding="utf-8")

    def own_notetype(self, key: str) -> Path:
        """Copy tierdeck's built-in note type `key` into the project's notetypes/, as an author customising it."""
        builtin = BUILTIN_NOTETYPES / f"{key}.yaml"
        folder = self.root / "notetypes"
        folder.mkdir(exist_ok=True)
        shutil.copy(builtin, folder / builtin.name)
        shutil.copy(BUILTIN_NOTETYPES / "tierdeck.css", folder / "tierdeck.css")
        return folder / builtin.name

    def run(self, *args: str, env: dict | None = None):
        """Run `tierdeck ARGS` in the project folder; returns Click's Result (stdout and stderr apart)."""
        import os

        runner = CliRunner()
        old = os.getcwd()
        os.chdir(self.root)
        try:
            return runner.invoke(cli, list(args), env=env, catch_exceptions=False)
        finally:
            os.chdir(old)


@pytest.fixture(autouse=True)
def crash_logs(tmp_path_factory, monkeypatch) -> Path:
    """Every test's crash logs go to a folder of its own, never the system temp folder."""
    folder = tmp_path_factory.mktemp("crash-logs")
    monkeypatch.setenv("TIERDECK_CRASH_DIR", str(folder))
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """An empty project (decks/ and cards/) in tmp_path."""
    (tmp_path / "decks").mkdir()
    (tmp_path / "cards").mkdir()
    return Project(tmp_path)


@pytest.fixture
def sample(tmp_path: Path) -> Project:
    """A copy of tests/sample: one deck with every card type over two tiers."""
    shutil.copytree(SAMPLE, tmp_path / "sample", ignore=shutil.ignore_patterns(".tierdeck-cache", "dist", "preview"))
    return Project(tmp_path / "sample")


MINIMAL_MANIFEST = """
    id: mini
    name: Mini
    tiers:
      - {id: one, title: 1 One}
    cards: [cards]
"""


@pytest.fixture
def mini(project: Project) -> Project:
    """A project with a one-tier manifest `decks/mini.yaml` reading every file under cards/."""
    project.write("decks/mini.yaml", MINIMAL_MANIFEST)
    return project


# Hypothesis: a short `ci` run by default; `HYPOTHESIS_PROFILE=long` searches much longer (tests/cli/test_fuzz.py).
settings.register_profile("ci", max_examples=300, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=3000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
