"""`tierdeck init` and `tierdeck new`: a deck project of an instructor's own, and decks in it. Never prints.

`init` writes a whole deck repository: a first deck (as `new` makes it), the JSON Schemas for editors, a
`.gitignore`, a README for the deck's authors and a GitHub Actions workflow that installs the tierdeck
version that created it (package data under `tierdeck/data/project/`). That tierdeck travels with the project
as a wheel in `.tierdeck/`, packed from the running installation (`vendored_wheel`): CI installs that file, so
it works before (and whether or not) tierdeck is on PyPI, and no one else's upload under the name can replace it. `new` adds a deck: a manifest and a
cards folder with one example card of each type, whose files start with the YAML language server's schema
line, so an editor validates them from the start. Nothing that exists is ever overwritten.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import zipfile
from importlib import metadata, resources
from pathlib import Path
from string import Template

from tierdeck import __version__, files
from tierdeck.errors import Diagnostic, InputError, UsageError
from tierdeck.format import yamlio
from tierdeck.format.jsonschemas import schema_texts
from tierdeck.format.schema import SLUG_PATTERN

MANIFEST = """\
# yaml-language-server: $schema=../schemas/manifest.schema.json
# The deck manifest: see 'tierdeck docs format'. `id` is this deck's identity in Anki: never change it.
id: {deck_id}
name: {name}
version: 0.1.0
description: What a student learns from this deck, shown on Anki's deck overview.
tiers:
  - {{id: basics, title: 1 Basics}}
  - {{id: advanced, title: 2 Advanced}}
cards: [cards/{deck_id}]
tags: [{deck_id}]
{issues}"""

BASICS = """\
# yaml-language-server: $schema=../../schemas/cards.schema.json
# Example cards: replace them with your own. Every card needs an id that never changes.
tier: basics
source: Replace with the chapter or article these cards come from
cards:
  - type: term
    id: example-term
    term: Osteoclast
    definition: A large bone cell that *resorbs* (breaks down) bone matrix.
    reverse: true
  - type: basic
    id: example-question
    front: What do osteoblasts do?
    back: They build new bone matrix.
    extra: Osteo- means bone; -blast means builder.
  - type: cloze
    id: example-cloze
    text: "Osteoblasts {{{{c1::build}}}} bone matrix; osteoclasts {{{{c2::resorb}}}} it."
"""

ADVANCED = """\
# yaml-language-server: $schema=../../schemas/cards.schema.json
tier: advanced
source: Replace with the chapter or article these cards come from
cards:
  - type: mechanism
    id: example-mechanism
    title: Bone remodeling cycle
    steps:
      - Osteoclasts are activated on the bone surface
      - Osteoclasts resorb old bone matrix
      - Osteoblasts lay down new matrix (osteoid)
      - The osteoid mineralises into new bone
  - type: table
    id: example-table
    title: Bone cells
    columns: [Cell, Role, Origin]
    rows:
      - [Osteoblast, Builds bone matrix, Mesenchymal stem cells]
      - [Osteoclast, Resorbs bone, Monocyte/macrophage line]
"""


PROJECT_FILES = {  # package data -> where `init` writes it
    "README.md": "README.md",
    "gitignore": ".gitignore",
    "workflow.yml": ".github/workflows/decks.yml",
}


def project_template(template: str, **values: str) -> str:
    """One of `init`'s files, filled in (`$version` is this tierdeck's)."""
    text = (resources.files("tierdeck") / "data" / "project" / template).read_text(encoding="utf-8")
    return Template(text).substitute(version=__version__, **values)


def workflow(install: str) -> str:
    """The deck workflow, installing tierdeck with `pip install <install>`."""
    return project_template("workflow.yml", install=install)


WHEEL_FOLDER = ".tierdeck"


def wheel_name() -> str:
    """The file name of this tierdeck's wheel (pure Python, any platform)."""
    return f"tierdeck-{__version__}-py3-none-any.whl"


def vendored_wheel() -> bytes:
    """This running tierdeck packed as a wheel pip installs: the package's files and its distribution's metadata.

    Works for an install from a wheel or from a source checkout (editable); the same files give the same bytes.
    """
    package = Path(__file__).resolve().parent.parent
    dist_info = f"tierdeck-{__version__}.dist-info"
    try:
        dist = metadata.distribution("tierdeck")
        meta = dist.read_text("METADATA") or ""
        entry_points = dist.read_text("entry_points.txt") or ""
    except metadata.PackageNotFoundError:
        meta, entry_points = "", ""
    if not meta:  # running from a folder on sys.path, never installed: the essentials pip needs
        meta = f"Metadata-Version: 2.1\nName: tierdeck\nVersion: {__version__}\n"
    if not entry_points:
        entry_points = "[console_scripts]\ntierdeck = tierdeck.cli:main\n"
    files: dict[str, bytes] = {}
    found = [Path(folder, name) for folder, _, names in os.walk(package, followlinks=True) for name in names]
    for path in sorted(found):  # followlinks: data/docs is a link to the docs in a source checkout
        shipped = path.suffix not in (".pyc", ".pyo") and not (path.suffix == ".png" and "docs" in path.parts)
        if path.is_file() and "__pycache__" not in path.parts and shipped and "screenshots" not in path.parts:
            files["tierdeck/" + path.relative_to(package).as_posix()] = path.read_bytes()
    files[f"{dist_info}/METADATA"] = meta.encode()
    files[f"{dist_info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tierdeck {__version__}\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ).encode()
    files[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    record = [
        f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
        for name, data in files.items()
    ]
    files[f"{dist_info}/RECORD"] = ("\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out.getvalue()


def init_project(root: Path, deck_id: str | None = None, name: str | None = None) -> tuple[list[Path], list[Diagnostic]]:
    """A new deck project in `root` (created if needed): every file written, and warnings.

    Refuses a folder that already holds a project (decks/) or any of the files it would write.
    """
    if (root / "decks").exists():
        raise UsageError(f"{root} already holds a tierdeck project (decks/); add a deck to it with 'tierdeck new DECK_ID'")
    deck_id = deck_id or _slug_of(root.resolve().name)
    if not re.match(SLUG_PATTERN, deck_id):
        raise UsageError(
            f"'{deck_id}' is not a valid deck id; use lowercase letters, digits and single hyphens, e.g. 'bone-health'"
        )
    name = name or title_of(deck_id)
    wheel = f"{WHEEL_FOLDER}/{wheel_name()}"
    texts: dict[Path, str | bytes] = {
        root / target: project_template(source, wheel=wheel, name=name) if source != "workflow.yml" else workflow(wheel)
        for source, target in PROJECT_FILES.items()
    }
    texts[root / wheel] = vendored_wheel()
    taken = [
        Diagnostic(path, "already exists; 'tierdeck init' never overwrites: start the project in an empty folder")
        for path in texts
        if path.exists()
    ]
    if taken:
        raise InputError(taken)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise files.output_error(exc, root) from exc
    with files.Replacement() as replacement:  # the whole project or, when one file cannot be written, nothing
        created, warnings = new_deck(root, deck_id, name, replacement)
        for path, text in texts.items():
            replacement.write(path, text)
        replacement.commit()
    return [*created, *texts], warnings


_GITHUB_REMOTE = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)([\w.-]+)/([\w.-]+?)(?:\.git)?/?$"
)


def _issues_line(root: Path) -> str:
    """The manifest's `issues:` line: the GitHub repository's new-issue page when `root` is in a clone of one,
    else the same line commented out, to fill in (where students' add-on sends a report of a wrong card)."""
    try:
        remote = subprocess.run(
            ["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:  # no git
        remote = ""
    match = _GITHUB_REMOTE.match(remote)
    if match:
        return f"issues: https://github.com/{match.group(1)}/{match.group(2)}/issues/new\n"
    return "# issues: https://github.com/OWNER/REPO/issues/new   # where students report a wrong card\n"


def _slug_of(folder: str) -> str:
    """A deck id from a folder name (`Renal Physiology` -> `renal-physiology`); 'my-deck' when it has none."""
    slug = re.sub(r"[^a-z0-9]+", "-", folder.lower()).strip("-")
    return slug or "my-deck"


def title_of(deck_id: str) -> str:
    """A readable deck name from its id: `bone-health` -> `Bone Health`."""
    return " ".join(part.capitalize() for part in deck_id.split("-"))


def new_deck(
    root: Path, deck_id: str, name: str | None = None, replacement: files.Replacement | None = None
) -> tuple[list[Path], list[Diagnostic]]:
    """Create `decks/<id>.yaml` and `cards/<id>/` below `root`: every file written, and warnings. With
    `replacement`, the files are only staged in it; otherwise they are written together, or none.

    A warning names each other manifest that reads the new cards folder too (e.g. `cards: [cards]`).
    """
    if not re.match(SLUG_PATTERN, deck_id):
        raise UsageError(
            f"'{deck_id}' is not a valid deck id; use lowercase letters, digits and single hyphens, e.g. 'bone-health'"
        )
    for folder in ("decks", "cards", "schemas"):  # never written through a link out of the project
        files.inside(root, root / folder, option=None)
    manifest = root / "decks" / f"{deck_id}.yaml"
    cards = root / "cards" / deck_id
    taken = [
        Diagnostic(path, "already exists; 'tierdeck new' never overwrites: pick another deck id or remove it first")
        for path in (manifest, cards)
        if path.exists()
    ]
    if taken:
        raise InputError(taken)
    name = name or title_of(deck_id)
    texts = {
        manifest: MANIFEST.format(
            deck_id=deck_id, name=json.dumps(name, ensure_ascii=False), issues=_issues_line(root)
        ),
        cards / "basics.yaml": BASICS.format(),
        cards / "advanced.yaml": ADVANCED.format(),
    }
    for schema_name, text in schema_texts().items():
        path = root / "schemas" / schema_name
        if not path.exists():  # what the files' first line points the editor at
            texts[path] = text
    warnings = _also_read_by(root, manifest, cards)
    if replacement is not None:
        for path, text in texts.items():
            replacement.write(path, text)
    else:
        with files.Replacement() as own:
            for path, text in texts.items():
                own.write(path, text)
            own.commit()
    return list(texts), warnings


def _also_read_by(root: Path, manifest: Path, cards: Path) -> list[Diagnostic]:
    """Other manifests whose card entries include `cards`: their decks would take in the new cards."""
    found = []
    locator = yamlio.Locator()
    for other in sorted((root / "decks").glob("*.y*ml")):
        data, _ = yamlio.load(other)
        entries = data.get("cards") if other != manifest and isinstance(data, dict) else None
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, str) and cards.resolve().is_relative_to((root / entry).resolve()):
                found.append(
                    locator.resolve(
                        Diagnostic(
                            other,
                            f"cards[{index}]: '{entry}' includes the new {cards.relative_to(root)}/, so this deck takes "
                            "in the new cards too; list only its own folder, e.g. 'cards/<its id>'",
                            path=("cards", index),
                            level="warning",
                        )
                    )
                )
    return found
