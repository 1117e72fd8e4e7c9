"""`tierdeck docs`: the author documentation installed with tierdeck (package data `data/docs/`). Never prints."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tierdeck.errors import UsageError


def folder() -> Path:
    """The installed documentation's folder."""
    return Path(str(resources.files("tierdeck") / "data" / "docs"))


def documents() -> list[tuple[Path, str]]:
    """Every document with its title (its first heading), in name order."""
    found = []
    for path in sorted(folder().glob("*.md")):
        first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("#")), "")
        found.append((path, first.lstrip("# ").strip() or path.stem))
    return found


def document(topic: str) -> Path:
    """The document a topic names: `format`, `format.md` or `docs/format.md`."""
    name = Path(topic).name.removesuffix(".md")
    path = folder() / f"{name}.md"
    if not path.is_file():
        names = ", ".join(p.stem for p, _ in documents())
        raise UsageError(f"no document '{topic}'; the documents are {names}")
    return path
