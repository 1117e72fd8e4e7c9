"""`tierdeck init`: an instructor's own deck repository, ready for git and CI, that never overwrites anything."""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

import yaml
from click.testing import CliRunner

from conftest import Project
from tierdeck import __version__
from tierdeck.cli import cli
from tierdeck.tools.scaffold import workflow

REPO = Path(__file__).resolve().parents[2]


def init(folder: Path, *args: str):
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(folder)
    try:
        return runner.invoke(cli, ["init", *args], catch_exceptions=False)
    finally:
        os.chdir(old)


def test_init__a_complete_project_that_checks_builds_and_ignores_its_outputs(tmp_path):
    result = init(tmp_path, "Renal Course")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "created Renal Course/decks/renal-course.yaml\n"
        "created Renal Course/cards/renal-course/basics.yaml\n"
        "created Renal Course/cards/renal-course/advanced.yaml\n"
        "created Renal Course/schemas/manifest.schema.json\n"
        "created Renal Course/schemas/cards.schema.json\n"
        "created Renal Course/README.md\n"
        "created Renal Course/.gitignore\n"
        "created Renal Course/.github/workflows/decks.yml\n"
        f"created Renal Course/.tierdeck/tierdeck-{__version__}-py3-none-any.whl\n"
        "next: cd Renal Course && tierdeck check && tierdeck preview --open (see README.md)\n"
    )
    project = Project(tmp_path / "Renal Course")
    assert project.run("check", "--strict").exit_code == 0
    assert project.run("build").exit_code == 0
    assert project.run("preview").exit_code == 0
    # git sees the sources and the lock file, never what tierdeck writes from them
    subprocess.run(["git", "init", "-q"], cwd=project.root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project.root, check=True)
    staged = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=project.root, check=True, text=True,
                            capture_output=True).stdout.split()
    assert "decks/renal-course.lock" in staged and ".github/workflows/decks.yml" in staged
    assert not [p for p in staged if p.startswith(("dist/", "preview/", ".tierdeck-cache/"))], staged


def test_init__the_workflow_installs_the_wheel_init_committed_and_runs_no_tool_tests(tmp_path):
    assert init(tmp_path, "course").exit_code == 0
    text = (tmp_path / "course" / ".github" / "workflows" / "decks.yml").read_text()
    workflow = yaml.safe_load(text)
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    runs = [step["run"] for step in steps if "run" in step]
    wheel = f".tierdeck/tierdeck-{__version__}-py3-none-any.whl"
    assert runs[0] == f"pip install {wheel}"  # the file in the project, never a name anyone may register on PyPI
    assert (tmp_path / "course" / wheel).is_file()
    assert runs[1:4] == [
        'tierdeck check --tag "$GITHUB_REF_NAME"',
        "tierdeck check --strict",
        "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) tierdeck build --locked",
    ]
    assert not any("pytest" in run or ".ci/run" in run for run in runs)
    # any default branch name (git init makes master or main), pull requests and v* tags
    push = workflow[True]["push"]  # PyYAML reads the key `on` as True
    assert push == {"tags": ["v*"], "branches": ["**"]}
    assert workflow["jobs"]["build"]["if"] == (
        "github.event_name != 'push' || github.ref_type == 'tag' "
        "|| github.ref_name == github.event.repository.default_branch"
    )


def test_init__the_committed_wheel_is_the_same_file_every_time(tmp_path):
    """A second init (or a colleague's) vendors byte-identical bytes: no spurious diff in the repository."""
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    assert init(tmp_path / "a", "course").exit_code == 0
    assert init(tmp_path / "b", "course").exit_code == 0
    name = f"course/.tierdeck/tierdeck-{__version__}-py3-none-any.whl"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with zipfile.ZipFile(tmp_path / "a" / name) as wheel:  # the docs travel with it, for 'tierdeck docs'
        assert "tierdeck/data/docs/format.md" in wheel.namelist()


def test_check_tag__a_tag_that_is_not_the_manifests_version_fails_with_the_fix(tmp_path):
    assert init(tmp_path, "course").exit_code == 0
    project = Project(tmp_path / "course")
    ok = project.run("check", "--tag", "v0.1.0")
    assert (ok.exit_code, ok.stdout) == (0, "ok: the tag v0.1.0 is the version of course\n")
    wrong = project.run("check", "--tag", "v0.2.0")
    assert wrong.exit_code == 1
    assert wrong.stderr == (
        "decks/course.yaml:5: version: is 0.1.0 but the release tag is v0.2.0; set 'version: 0.2.0' here and commit "
        "it, then move the tag onto that commit (git tag -f v0.2.0 && git push -f origin v0.2.0), or tag v0.1.0 if "
        "that is the release you meant\n"
        "1 error; nothing was written\n"
    )


def test_init__this_repositorys_deck_workflow_is_the_one_init_writes():
    """The tool's repository ships its deck like any deck project: the workflow is init's, installing from source."""
    assert (REPO / ".github" / "workflows" / "decks.yml").read_text() == workflow(".")


def test_init__refuses_an_existing_project_and_never_overwrites(tmp_path):
    assert init(tmp_path, "course").exit_code == 0
    result = init(tmp_path, "course")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: ")
    assert "already holds a tierdeck project (decks/); add a deck to it with 'tierdeck new DECK_ID'" in result.stderr
    other = tmp_path / "notes"
    other.mkdir()
    (other / "README.md").write_text("my notes\n")
    result = init(tmp_path, "notes")
    assert result.exit_code == 1
    assert result.stderr == (
        "notes/README.md: already exists; 'tierdeck init' never overwrites: start the project in an empty "
        "folder\n1 error; nothing was written\n"
    )
    assert sorted(p.name for p in other.iterdir()) == ["README.md"]


def test_new__outside_a_project_points_to_init(tmp_path):
    result = Project(tmp_path).run("new", "bone-health")
    assert result.exit_code == 2
    assert "no tierdeck project here" in result.stderr and "start one with 'tierdeck init'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_init__in_a_github_clone_the_manifest_names_its_issue_page(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(
        ["git", "-C", str(folder), "remote", "add", "origin", "git@github.com:med-school/bone.git"], check=True
    )
    result = CliRunner().invoke(cli, ["init", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0
    manifest = (folder / "decks" / "course.yaml").read_text()
    assert "\nissues: https://github.com/med-school/bone/issues/new\n" in manifest


def test_init__elsewhere_the_issue_line_is_left_to_fill_in(tmp_path):
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "course")], catch_exceptions=False)
    assert result.exit_code == 0
    manifest = (tmp_path / "course" / "decks" / "course.yaml").read_text()
    assert manifest.endswith(
        "tags: [course]\n# issues: https://github.com/OWNER/REPO/issues/new   # where students report a wrong card\n"
    )
