"""Where things are in a project: its root, its manifests, its card files. Standard library only.

A project is a folder holding `decks/` (one manifest per deck), the card files the manifests name (by
convention under `cards/`) and optionally `notetypes/` (the project's own note types). Every command finds
its project here, so the rules (which files are card files, what the root is) exist once.
"""

from __future__ import annotations

from pathlib import Path

from tierdeck.errors import UsageError

CARD_SUFFIXES = (".yaml", ".yml")
NOTETYPES_DIR = "notetypes"  # a project's own note types, next to decks/ and cards/


# Written by `tierdeck import` before it moves files into a project, removed when all are in place.
IMPORT_JOURNAL = ".tierdeck-import.json"


def find_root(start: Path) -> Path:
    """The project root: the nearest folder at or above `start` that holds decks/ (or a stopped import's journal)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "decks").is_dir() or (folder / IMPORT_JOURNAL).is_file():
            return folder
    raise UsageError(
        f"no decks/ folder in {start} or any folder above it; run tierdeck inside a project "
        "(start one with 'tierdeck init') or name a manifest"
    )


def root_of(manifest_path: Path) -> Path:
    """The project root of a manifest: the folder holding its decks/ folder."""
    manifest_path = manifest_path.resolve()
    if manifest_path.parent.name == "decks":
        return manifest_path.parent.parent
    return manifest_path.parent


def discover(root: Path) -> list[Path]:
    """Every manifest under `root`/decks, sorted."""
    return sorted(p for p in (root / "decks").iterdir() if p.suffix in CARD_SUFFIXES and p.is_file())


def card_files_below(folder: Path, root: Path) -> list[Path]:
    """The card files a folder entry of a manifest stands for: its YAML files, sorted by path.

    Never manifests, nor what hides in dot-folders (.git, .venv) when a folder as wide as '.' is named.
    """
    root = root.resolve()
    manifests = root / "decks"
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix in CARD_SUFFIXES
        and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and p.resolve().is_relative_to(root)
        and not p.resolve().is_relative_to(manifests)
    )


def shipped_folders(root: Path, entries: list[str]) -> list[Path]:
    """The folders a manifest's `media:` names that lie inside the project: shipped whole, every file as named."""
    root = root.resolve()
    return [p for p in ((root / entry).resolve() for entry in entries) if p.is_relative_to(root)]


def shipped_paths(folders: list[Path]) -> list[Path]:
    """Every file directly in `folders` (a manifest's `media:`), hidden files skipped, sorted."""
    found: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return found


def manifest_paths(root: Path, manifests: list[Path] | None) -> list[Path]:
    """The manifests named (checked to exist), or every manifest of the project when none is."""
    if not manifests:
        found = discover(root)
        if not found:
            raise UsageError(f"no deck manifests in {root / 'decks'}; add one with 'tierdeck new DECK_ID'")
        return found
    missing = [str(p) for p in manifests if not p.is_file()]
    if missing:
        raise UsageError(f"manifest not found: {', '.join(missing)}")
    return [p.resolve() for p in manifests]


def project_root(root: Path | None, manifests: list[Path] | None) -> Path:
    """`root` resolved, or the project root of the first manifest named."""
    if root is None:
        if not manifests:
            raise UsageError("name a project root or at least one manifest")
        root = root_of(manifests[0])
    return root.resolve()
