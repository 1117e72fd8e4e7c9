"""The result of the last successful check or build, kept with the inputs it read, as `make` would use it.

A record stores every file the run read (manifests, card files, media, note type files, lock files) with
its digest, and every folder listing it depended on (the manifests and locks in decks/, the note types
in notetypes/, the card files below each folder a manifest names). A later run of the same command and
options answers from the record when every one of them is unchanged; anything added, removed or edited
misses it. Records live in the project's cache (`tierdeck.cache`) and are never trusted across versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierdeck.cache import Cache, file_digest
from tierdeck.cache import key as cache_key
from tierdeck.format.layout import NOTETYPES_DIR, card_files_below, discover, shipped_folders, shipped_paths

if TYPE_CHECKING:
    from tierdeck.project.report import Report

_MISSING = "(missing)"


def _digest(path: Path) -> str:
    try:
        return file_digest(path)
    except OSError:
        return _MISSING


def _stamps(outputs: Callable[[], Iterable[Path]] | None) -> dict[str, str]:
    """The files a command wrote (as `outputs` lists them now) with their sizes and modification times: cheap
    to compare, and changed by anything that rewrites, removes or adds one of them."""
    stamps = {}
    for path in sorted(outputs()) if outputs is not None else ():
        try:
            stat = path.stat()
            stamps[str(path)] = f"{stat.st_size}:{stat.st_mtime_ns}"
        except OSError:
            pass
    return stamps


def _listings(root: Path, card_folders: list[Path], media_folders: Sequence[Path] = ()) -> dict[str, list[str]]:
    """The folder listings a run depends on, as they are now."""
    listings = {
        "decks": [p.name for p in discover(root)] + sorted(p.name for p in (root / "decks").glob("*.lock")),
        NOTETYPES_DIR: sorted(p.name for p in (root / NOTETYPES_DIR).glob("*.yaml")),
    }
    for folder in card_folders:
        listings[f"cards:{folder}"] = [str(p) for p in card_files_below(folder, root)]
    for folder in media_folders:  # a manifest's `media:` ships every file there
        listings[f"media:{folder}"] = [str(p) for p in shipped_paths([folder])]
    return listings


def inputs_of(report: Report) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Every file a successful `load` read with its digest, and the folder listings it depended on."""
    root = report.root
    files: set[Path] = set(discover(root)) | set((root / "decks").glob("*.lock"))
    folders: set[Path] = set()
    media_folders: set[Path] = set()
    for notetype in (report.notetypes or {}).values():
        files.update(notetype.sources)
    for result in report.all_decks:
        files.add(result.deck.manifest_path)
        files.update(result.deck.files)
        files.update(m.path for note in result.notes for m in note.media)
        shipped = shipped_folders(root, result.deck.manifest.media)
        files.update(shipped_paths(shipped))
        media_folders.update(shipped)
        for entry in result.deck.manifest.cards:
            target = (root / entry).resolve()
            if target.is_dir():
                folders.add(target)
    return {str(p): _digest(p) for p in sorted(files)}, _listings(root, sorted(folders), sorted(media_folders))


class Record:
    """One command's remembered result for one project, valid while its recorded inputs are unchanged."""

    def __init__(
        self, root: Path, command: str, *options: object, outputs: Callable[[], Iterable[Path]] | None = None
    ):
        """`outputs`: the files the command wrote, listed afresh on each call (the preview's); the record holds
        while none of them changed, appeared or went."""
        self.root = root
        self.outputs = outputs
        self.cache = Cache(root)
        self.name = cache_key("record", str(root), command, repr(options))

    def get(self) -> Any | None:
        """The remembered result, or None when there is none or any input changed."""
        if not self.cache.enabled:
            return None
        stored = self.cache.get("records", self.name)
        if not (isinstance(stored, tuple) and len(stored) == 4 and isinstance(stored[0], dict)):
            return None  # none, or of another shape: recomputed, never trusted
        files, listings, value, output = stored
        if _stamps(self.outputs) != output:
            return None
        for path, digest in files.items():
            if _digest(Path(path)) != digest:
                return None
        folders = [Path(name.split(":", 1)[1]) for name in listings if name.startswith("cards:")]
        media = [Path(name.split(":", 1)[1]) for name in listings if name.startswith("media:")]
        if _listings(self.root, folders, media) != listings:
            return None
        return value

    def put(self, report: Report, value: object) -> None:
        """Remember `value` for the inputs `report` read (after a build: as they are once it wrote its lock)."""
        if self.cache.enabled:
            files, listings = inputs_of(report)
            self.cache.put("records", self.name, (files, listings, value, _stamps(self.outputs)))
