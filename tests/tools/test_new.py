"""`tierdeck new`: a deck that builds and imports into Anki as it is, and never overwrites anything."""

from __future__ import annotations

from collections import Counter

import jsonschema
import yaml
from click.testing import CliRunner

from anki_engine import deck_names, import_package, notes_by_card_id, open_collection
from conftest import Project
from tierdeck.cli import cli

CREATED = (
    "created decks/bone-health.yaml\n"
    "created cards/bone-health/basics.yaml\n"
    "created cards/bone-health/advanced.yaml\n"
    "created schemas/manifest.schema.json\n"
    "created schemas/cards.schema.json\n"
    "next: replace the example cards, then run 'tierdeck check' and 'tierdeck preview'\n"
)


def fresh(tmp_path) -> Project:
    """A project with no deck yet (an empty decks/ folder)."""
    root = tmp_path / "course"
    (root / "decks").mkdir(parents=True)
    return Project(root)


def test_new__scaffold_checks_clean_builds_and_imports_into_anki(tmp_path):
    project = fresh(tmp_path)
    result = project.run("new", "bone-health")
    assert result.exit_code == 0, result.output
    assert result.stdout == CREATED

    check = project.run("check", "--strict")
    assert check.exit_code == 0, check.stderr
    assert check.stderr == ""
    build = project.run("build")
    assert build.exit_code == 0, build.output
    assert build.stdout.startswith("bone-health: 13 cards (basics 5, advanced 8) -> dist/bone-health.apkg")

    col = open_collection(tmp_path / "student")
    import_package(col, project.root / "dist" / "bone-health.apkg")
    assert deck_names(col) == ["Bone Health", "Bone Health::1 Basics", "Bone Health::2 Advanced"]
    types = Counter(tag for note in notes_by_card_id(col).values() for tag in note.tags if tag.startswith("type::"))
    assert types == {"type::term": 1, "type::basic": 1, "type::cloze": 1, "type::mechanism": 1, "type::table": 4}
    assert len(col.find_cards("")) == 13
    col.close()


def test_new__files_name_their_schema_for_the_editor_and_pass_it(tmp_path):
    project = fresh(tmp_path)
    project.run("new", "bone-health")
    for relative in ("decks/bone-health.yaml", "cards/bone-health/basics.yaml", "cards/bone-health/advanced.yaml"):
        path = project.root / relative
        first = path.read_text(encoding="utf-8").splitlines()[0]
        prefix = "# yaml-language-server: $schema="
        assert first.startswith(prefix)
        schema = (path.parent / first.removeprefix(prefix)).resolve()
        assert schema.parent == project.root.resolve() / "schemas"
        validator = jsonschema.Draft202012Validator(yaml.safe_load(schema.read_text(encoding="utf-8")))
        assert list(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))) == []


def test_new__refuses_to_overwrite_and_changes_nothing(tmp_path):
    project = fresh(tmp_path)
    project.run("new", "bone-health")
    project.edit("cards/bone-health/basics.yaml", "What do osteoblasts do?", "What do osteoblasts make?")
    before = {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()}
    result = project.run("new", "bone-health")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "decks/bone-health.yaml: already exists; 'tierdeck new' never overwrites: pick another deck id or remove it "
        "first\n"
        "cards/bone-health: already exists; 'tierdeck new' never overwrites: pick another deck id or remove it first\n"
        "2 errors; nothing was written\n"
    )
    assert {p: p.read_bytes() for p in project.root.rglob("*") if p.is_file()} == before


def test_new__adds_a_deck_to_an_existing_project_from_a_subfolder(project, monkeypatch):
    project.write("decks/mini.yaml", "id: mini\nname: Mini\ntiers: [{id: one, title: One}]\ncards: [cards/mini]\n")
    project.write("cards/mini/a.yaml", "tier: one\nsource: S\ncards:\n  - {type: basic, id: q1, front: Q, back: A}\n")
    monkeypatch.chdir(project.root / "cards" / "mini")
    result = CliRunner().invoke(cli, ["new", "second", "--name", "Second: the sequel"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert 'name: "Second: the sequel"' in (project.root / "decks" / "second.yaml").read_text(encoding="utf-8")
    check = project.run("check", "--strict")
    assert check.exit_code == 0, check.stderr
    assert check.stdout.splitlines()[:2] == ["mini: 1 card (one 1)", "second: 13 cards (basics 5, advanced 8)"]


def test_new__warns_when_another_deck_reads_the_whole_cards_folder(mini):
    result = mini.run("new", "second")
    assert result.exit_code == 0
    assert result.stderr == (
        "decks/mini.yaml:5: warning: cards[0]: 'cards' includes the new cards/second/, so this deck takes in the new "
        "cards too; list only its own folder, e.g. 'cards/<its id>'\n"
    )


def test_new__invalid_id_is_a_usage_error(tmp_path):
    project = fresh(tmp_path)
    result = project.run("new", "Bone Health")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: 'Bone Health' is not a valid deck id; use lowercase letters, digits and single hyphens, "
        "e.g. 'bone-health'\n"
    )
    assert list(project.root.iterdir()) == [project.root / "decks"]
    assert list((project.root / "decks").iterdir()) == []
