"""Broken and hostile input, one tiny project per case under tests/corpus/: exact messages, nothing written.

Each `tests/corpus/<case>/` is a real project (decks/, cards/, ...) plus `expected.txt`, the exact stderr
of `tierdeck build` and `tierdeck check` in it. Every case is copied into tmp_path next to an earlier
`dist/d.apkg`; the run must exit 1, list every problem as `file:line: what is wrong; how to fix it`, never
show a traceback, and leave every file of the project, the earlier package included, byte for byte as
it was. Cases named `accepted-*` are input that looks odd but is fine (a byte-order mark, CRLF line
endings): they build, print nothing on stderr, and Anki imports them.

After changing a message, regenerate the files with `python tests/cli/test_corpus.py` and read every diff.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from anki_engine import import_package, open_collection, visible_text
from conftest import SAMPLE, Project
from tierdeck.cache import CACHE_DIR

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())
ACCEPTED = [name for name in CASES if name.startswith("accepted-")]
BROKEN = [name for name in CASES if name not in ACCEPTED]
# Every line on stderr: a located problem, or the closing summary.
LOCATED = re.compile(r"^[^\s:][^:]*:\d+: \S.*$")
SUMMARY = re.compile(r"^\d+ errors?(, \d+ warnings?)?; nothing was written$")


@pytest.fixture(scope="module")
def earlier_package(tmp_path_factory) -> bytes:
    """The bytes of a real package from an earlier, successful build."""
    project = Project(tmp_path_factory.mktemp("earlier") / "sample")
    shutil.copytree(SAMPLE, project.root)
    result = project.run("build")
    assert result.exit_code == 0, result.output
    return (project.root / "dist" / "sample.apkg").read_bytes()


def copy_case(name: str, destination: Path, earlier: bytes) -> Project:
    """The case's project in `destination`, with `dist/d.apkg` from an earlier build."""
    root = destination / name
    shutil.copytree(CORPUS / name, root, ignore=shutil.ignore_patterns("expected.txt"))
    (root / "dist").mkdir()
    (root / "dist" / "d.apkg").write_bytes(earlier)
    return Project(root)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file below `root` and its bytes, except tierdeck's cache (disposable, never an output)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and CACHE_DIR not in p.relative_to(root).parts
    }


def expected(name: str) -> str:
    return (CORPUS / name / "expected.txt").read_text(encoding="utf-8")


def test_corpus__has_every_kind_of_case():
    assert len(BROKEN) >= 40
    for prefix in ("yaml-", "encoding-", "manifest-", "cardfile-", "card-", "cloze-", "table-", "html-"):
        assert any(name.startswith(prefix) for name in BROKEN), prefix
    assert "accepted-utf8-bom" in ACCEPTED
    # the odd bytes are the point of these cases (tests/corpus/.gitattributes keeps git from normalising them)
    assert (CORPUS / "accepted-utf8-bom" / "cards" / "a.yaml").read_bytes().startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in (CORPUS / "accepted-crlf-line-endings" / "cards" / "a.yaml").read_bytes()
    assert b"\t" in (CORPUS / "yaml-tab-indentation" / "cards" / "a.yaml").read_bytes()
    for name in CASES:
        assert (CORPUS / name / "expected.txt").is_file(), f"{name} has no expected.txt"
        assert (CORPUS / name / "decks").is_dir(), f"{name} is not a project"


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize("name", BROKEN)
def test_corpus__broken_input_is_located_and_nothing_is_written(name, command, tmp_path, earlier_package):
    project = copy_case(name, tmp_path, earlier_package)
    before = snapshot(project.root)

    result = project.run(command)

    assert result.stderr == expected(name)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Traceback" not in result.output
    *problems, summary = result.stderr.splitlines()
    assert problems and all(LOCATED.match(line) for line in problems), result.stderr
    assert SUMMARY.match(summary), summary
    assert snapshot(project.root) == before  # the earlier dist/d.apkg too, and no stray file anywhere


@pytest.mark.parametrize("name", ACCEPTED)
def test_corpus__accepted_input_builds_silently_and_imports(name, tmp_path, earlier_package):
    project = copy_case(name, tmp_path, earlier_package)

    result = project.run("build")

    assert result.exit_code == 0, result.output
    assert result.stderr == expected(name) == ""
    apkg = project.root / "dist" / "d.apkg"
    assert apkg.read_bytes() != earlier_package
    assert not [p.name for p in apkg.parent.iterdir() if p.name.startswith(".")]  # no temporary left behind
    col = open_collection(tmp_path / "student")
    try:
        assert import_package(col, apkg).new > 0
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            assert visible_text(card.question()), f"empty question in {name}"
            for value in card.note().fields:
                assert "\ufeff" not in value and "\r" not in value, value
    finally:
        col.close()


def test_corpus__a_20_mb_file_is_refused_before_it_is_read(mini, earlier_package):
    mini.write("cards/a.yaml", "tier: one\nsource: Corpus\ncards: []\n")
    line = "  - {type: basic, id: q, front: What do osteoclasts do?, back: They resorb bone.}\n"
    size = 20 * 1024 * 1024
    with (mini.root / "cards" / "big.yaml").open("w", encoding="utf-8") as big:
        big.write("tier: one\ncards:\n")
        big.write(line * ((size - 100) // len(line)))
        big.write("#" * (size - big.tell() - 1) + "\n")
    assert (mini.root / "cards" / "big.yaml").stat().st_size == size
    (mini.root / "dist").mkdir()
    (mini.root / "dist" / "mini.apkg").write_bytes(earlier_package)
    before = snapshot(mini.root)

    result = mini.run("build")

    assert result.stderr == (
        "cards/big.yaml:1: the file is 20.0 MB, over the limit of 5 MB for one YAML file; split it into several files\n"
        "1 error; nothing was written\n"
    )
    assert result.exit_code == 1
    assert snapshot(mini.root) == before


# --- output safety: a build that fails while writing leaves the earlier package as it was ---------------------

CARDS = """
    tier: one
    source: Corpus
    cards:
      - type: basic
        id: q1
        front: What do osteoclasts do?
        back: They resorb bone.
"""


@pytest.fixture
def built(mini):
    """A project built once (dist/mini.apkg exists) with an edit waiting to be built."""
    mini.write("cards/a.yaml", CARDS)
    assert mini.run("build").exit_code == 0
    mini.edit("cards/a.yaml", "They resorb bone.", "They resorb old bone.")
    return mini


@pytest.mark.parametrize(
    ("failure", "exit_code"), [(OSError(28, "No space left on device"), 1), (KeyboardInterrupt(), 130)]
)
def test_output__a_build_failing_mid_write_keeps_the_earlier_package_and_leaves_no_temporary(
    built, monkeypatch, failure, exit_code
):
    from tierdeck.release import apkg as package

    written = []
    add = package._add

    def add_then_fail(zf, name, data):
        if written:  # the collection is already in the zip: the package is half written
            raise failure
        written.append(name)
        add(zf, name, data)

    monkeypatch.setattr(package, "_add", add_then_fail)
    before = snapshot(built.root)

    result = built.run("build")

    assert written == ["collection.anki2"]
    assert result.exit_code == exit_code
    assert "Traceback" not in result.output
    assert snapshot(built.root) == before  # dist/mini.apkg byte for byte, and no .mini.apkg.* left in dist/


def test_output__a_failing_rename_keeps_the_earlier_package_and_leaves_no_temporary(built, monkeypatch):
    from tierdeck import files

    def no_space(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", no_space)
    before = snapshot(built.root)

    result = built.run("build")

    assert result.exit_code == 1 and "Traceback" not in result.output
    assert snapshot(built.root) == before


def test_output__a_bug_deep_in_the_build_is_exit_3_with_a_log_and_nothing_written(built, monkeypatch):
    from tierdeck.notes import loader

    def broken(ref):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(loader, "_check_card", broken)
    before = snapshot(built.root)

    result = built.run("build")

    assert result.exit_code == 3
    assert result.stdout == ""
    first, second = result.stderr.splitlines()
    assert first == "tierdeck: internal error: ZeroDivisionError: division by zero"
    assert second.startswith("This is a bug in tierdeck, not a problem with your cards. Please report it at ")
    log = Path(second.split("the traceback is in ", 1)[1].rstrip(").")).read_text()
    assert "Traceback" in log and "in broken" in log
    assert "Traceback" not in result.output
    assert snapshot(built.root) == before


@pytest.mark.parametrize("deck_id", ["../evil", "a/b", "..", ".hidden", "x.apkg", "a\\b", "C:evil", "Evil", "a--b", ""])
def test_output__names_come_from_validated_ids_only(mini, deck_id):
    mini.write("decks/mini.yaml", f"id: '{deck_id}'\nname: Mini\ntiers: [{{id: one, title: 1 One}}]\ncards: [cards]\n")
    mini.write("cards/a.yaml", CARDS)

    result = mini.run("build")

    assert result.exit_code == 1
    assert result.stderr.startswith("decks/mini.yaml:1: id: ")
    assert not (mini.root / "dist").exists()
    assert sorted(str(p.relative_to(mini.root)) for p in mini.root.rglob("*")) == [
        "cards",
        "cards/a.yaml",
        "decks",
        "decks/mini.yaml",
    ]


def regenerate() -> None:
    """Rewrite every expected.txt from what `tierdeck build` prints now (then read every diff by hand)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        for name in CASES:
            project = copy_case(name, Path(folder), b"earlier")
            result = project.run("build")
            (CORPUS / name / "expected.txt").write_text(result.stderr, encoding="utf-8")
            print(f"{name}: exit {result.exit_code}")


if __name__ == "__main__":
    regenerate()
