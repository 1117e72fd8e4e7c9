"""The wheel an instructor installs: it holds everything tierdeck needs, and a project started with it works
outside this repository, its CI workflow's commands included, up to a package the Anki engine imports."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
import yaml

from anki_engine import import_package, open_collection
from tierdeck import __version__

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel `pip wheel .` builds from this repository."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("tierdeck-*.whl")
    return wheel


def test_wheel__holds_every_file_of_the_package(wheel):
    """Subpackages and data (note types, CSS, project templates, preview assets) all travel with the code."""
    source = REPO / "builder" / "tierdeck"
    found = [Path(folder, name) for folder, _, names in os.walk(source, followlinks=True) for name in names]
    expected = {
        "tierdeck/" + p.relative_to(source).as_posix()
        for p in found
        if "__pycache__" not in p.parts and p.suffix != ".pyc"
        and not (p.suffix == ".png" and "docs" in p.parts)  # the docs' screenshots stay in the repository
    }
    assert "tierdeck/data/docs/format.md" in expected  # the author docs, for `tierdeck docs`
    with zipfile.ZipFile(wheel) as zf:
        packed = {name for name in zf.namelist() if name.startswith("tierdeck/")}
        entry_points = zf.read(next(n for n in zf.namelist() if n.endswith("entry_points.txt"))).decode()
    assert expected - packed == set()
    assert "tierdeck = tierdeck.cli:main" in entry_points


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment with only the wheel (and what it depends on) installed: its bin/ folder."""
    env = tmp_path_factory.mktemp("venv") / "env"
    venv.create(env, with_pip=True)
    bin_dir = env / ("Scripts" if os.name == "nt" else "bin")
    result = subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return bin_dir


def run(bin_dir: Path, command: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """A shell command with the fresh environment's bin/ first on PATH, as an instructor would type it."""
    full_env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    full_env.pop("PYTHONPATH", None)
    result = subprocess.run(["bash", "-c", command], cwd=cwd, env=full_env, capture_output=True, text=True)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


def fresh_env(tmp_path: Path) -> Path:
    """A new virtual environment with nothing installed: its bin/ folder."""
    env = tmp_path / "ci-env"
    venv.create(env, with_pip=True)
    return env / ("Scripts" if os.name == "nt" else "bin")


def test_wheel__a_project_started_outside_the_repository_runs_its_whole_workflow_and_imports(installed, tmp_path):
    # the README's promise, as written: init, then check, build and preview
    run(installed, "tierdeck init course && cd course && tierdeck check --strict && tierdeck build && tierdeck preview",
        tmp_path)
    project = tmp_path / "course"
    assert (project / "preview" / "index.html").is_file()
    version = run(installed, "python -m tierdeck --version", project).stdout
    assert version.startswith("tierdeck, version")
    # a commit with two release tags, as CI sees them on a tag
    git = "git -c user.email=ci@example.org -c user.name=CI"
    run(installed, f"git init -q && git add -A && {git} commit -qm v1 && git tag v0.1.0", project)
    (project / "cards" / "course" / "basics.yaml").write_text(
        (project / "cards" / "course" / "basics.yaml").read_text().replace("They build new bone matrix.", "They build bone.")
    )
    manifest = project / "decks" / "course.yaml"
    manifest.write_text(manifest.read_text().replace("version: 0.1.0", "version: 0.2.0"))
    run(installed, f"tierdeck build && git add -A && {git} commit -qm v0.2 && git tag v0.2.0", project)
    # every step of the workflow, in a fresh environment that has never seen tierdeck: its install step must take
    # tierdeck from the wheel init committed, not from PyPI (where no tierdeck may exist); dependencies come from
    # the package index as in CI
    workflow = yaml.safe_load((project / ".github" / "workflows" / "decks.yml").read_text())
    steps = [step["run"] for step in workflow["jobs"]["build"]["steps"] if "run" in step]
    ci = fresh_env(tmp_path)
    for command in steps:
        run(ci, command, project, env={"GITHUB_REF_NAME": "v0.2.0"})
    origin = json.loads(run(ci, "pip show -q tierdeck >/dev/null && python -c \"from importlib.metadata import "
                                "distribution as d; print(d('tierdeck').read_text('direct_url.json'))\"", project).stdout)
    assert origin["url"] == (project / ".tierdeck" / f"tierdeck-{__version__}-py3-none-any.whl").as_uri()
    changelog = (project / "dist" / "CHANGELOG.md").read_text()
    assert "Changed `example-question` (basic)" in changelog
    # a tag that is not the manifests' version stops the release at its first tierdeck step
    mismatched = subprocess.run(
        ["bash", "-c", steps[1]], cwd=project, capture_output=True, text=True,
        env={**os.environ, "PATH": f"{ci}{os.pathsep}{os.environ['PATH']}", "GITHUB_REF_NAME": "v0.3.0"},
    )
    assert mismatched.returncode == 1
    assert mismatched.stderr.startswith("decks/course.yaml:5: version: is 0.2.0 but the release tag is v0.3.0; ")
    # what students import
    col = open_collection(tmp_path / "student")
    counts = import_package(col, project / "dist" / "course.apkg")
    assert counts.new == 8 and counts.conflicting == 0  # the example deck: 8 notes, 13 cards
    col.close()
    assert shlex.split(steps[2]) == ["tierdeck", "check", "--strict"]
