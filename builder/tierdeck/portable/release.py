"""The release manifest, `dist/manifest.json`: what a release holds, as a versioned contract for its readers.

`tierdeck build` writes it next to the packages; the students' add-on (`tierdeck_addon`) reads it from a
URL, a file or a folder, and needs nothing else to decide what to download, how to check it and how to
import it. docs/release-manifest.md documents every key. Readers accept any manifest whose `format` they
know; a change that old readers would misread gets a new format number.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

FORMAT = 1
FILE_NAME = "manifest.json"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.apkg")  # a plain name in the manifest's folder, never a path


class ManifestError(ValueError):
    """A manifest that cannot be used: the message says where and why."""


@dataclass(frozen=True)
class TierCounts:
    """One tier of a package: its title (the subdeck's name) and how many notes and cards it holds."""

    title: str
    notes: int
    cards: int


@dataclass(frozen=True)
class NoteTypeInfo:
    """A note type a package holds: Anki's id for it and the version that changes with its fields or templates."""

    name: str
    id: int
    version: int


@dataclass(frozen=True)
class Package:
    """One `.apkg` of a release: a whole deck, or one tier of it (`tier`)."""

    id: str  # the deck id
    name: str  # the top-level Anki deck
    version: str | None
    namespace: str  # the deck's identity across renames: where its notes' GUIDs derive from
    file: str  # the package's file name, in the manifest's folder
    sha256: str
    size: int  # bytes
    tier: str | None  # the one tier it holds; None for the whole deck
    notes: int
    cards: int
    tiers: dict[str, TierCounts]  # in the deck's tier order
    notetypes: tuple[NoteTypeInfo, ...]
    # A note type changed its fields or templates since its first version (it has a new Anki id): students
    # who have older notes must import with "Merge note types", or those notes stop updating.
    merge_notetypes: bool
    # Where students report a wrong card: a URL, optionally with {title} and {body} placeholders.
    issues: str | None = None
    # With `issues`: where each card is written, `file:line` by card id, so a report can say it.
    sources: dict[str, str] | None = None


@dataclass(frozen=True)
class Release:
    """Every package of a release, in file name order."""

    packages: tuple[Package, ...]
    tierdeck: str = ""  # the version of tierdeck that wrote it
    format: int = FORMAT
    extra: dict = field(default_factory=dict, compare=False)  # keys this reader does not know, kept as read

    def package(self, file: str) -> Package | None:
        """The package with this file name, if the release has it."""
        return next((p for p in self.packages if p.file == file), None)


def dumps(release: Release) -> str:
    """The manifest's text: stable key order, two-space indents, UTF-8 (not escaped), one final newline."""
    decks = []
    for package in release.packages:
        entry = asdict(package)
        entry["tiers"] = {tier: asdict(counts) for tier, counts in package.tiers.items()}
        entry["notetypes"] = [asdict(n) for n in package.notetypes]
        decks.append(entry)
    payload = {"format": release.format, "tierdeck": release.tierdeck, "decks": decks}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def loads(text: str | bytes, source: str = FILE_NAME) -> Release:
    """A manifest read from its text; ManifestError names `source`, the key and what to do."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{source}: not a release manifest: it is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or "decks" not in data:
        raise ManifestError(f"{source}: not a release manifest: it has no 'decks' list")
    fmt = data.get("format", 0)  # tierdeck 0.2.0 wrote no format: its manifests lack what format 1 adds
    if fmt != FORMAT:
        newer = isinstance(fmt, int) and fmt > FORMAT
        raise ManifestError(
            f"{source}: release manifest format {fmt} is "
            + (
                f"newer than this reader knows ({FORMAT}); update the tierdeck add-on"
                if newer
                else f"older than format {FORMAT}; the deck's author must rebuild the release with a newer tierdeck"
            )
        )
    decks = data["decks"]
    if not isinstance(decks, list):
        raise ManifestError(f"{source}: decks: expected a list, got {type(decks).__name__}")
    packages = tuple(_package(entry, f"{source}: decks[{i}]") for i, entry in enumerate(decks))
    seen: set[str] = set()
    for i, package in enumerate(packages):
        if package.file in seen:
            raise ManifestError(f"{source}: decks[{i}].file: '{package.file}' is listed twice")
        seen.add(package.file)
    known = {"format", "tierdeck", "decks"}
    return Release(packages, str(data.get("tierdeck", "")), fmt, {k: v for k, v in data.items() if k not in known})


def read(path: Path) -> Release:
    """The manifest at `path` (a file, or a folder holding manifest.json)."""
    if path.is_dir():
        path = path / FILE_NAME
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the release manifest ({exc.strerror or exc})") from None
    return loads(text, str(path))


def _get(entry: dict, key: str, kind: type | tuple[type, ...], where: str, optional: bool = False):
    value = entry.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        got = "nothing" if value is None else type(value).__name__
        raise ManifestError(f"{where}.{key}: expected {_article(names)}, got {got}")
    return value


def _article(name: str) -> str:
    return {"str": "text", "int": "whole number", "bool": "true or false", "dict": "mapping", "list": "list"}.get(
        name, name
    )


def _package(entry: object, where: str) -> Package:
    if not isinstance(entry, dict):
        raise ManifestError(f"{where}: expected a mapping, got {type(entry).__name__}")
    file = _get(entry, "file", str, where)
    if not _FILE.fullmatch(file):
        raise ManifestError(f"{where}.file: '{file}' is not the name of an .apkg file in the manifest's folder")
    sha256 = _get(entry, "sha256", str, where)
    if not _SHA256.fullmatch(sha256):
        raise ManifestError(f"{where}.sha256: expected 64 lowercase hexadecimal digits, got '{sha256[:80]}'")
    tiers: dict[str, TierCounts] = {}
    for tier, counts in _get(entry, "tiers", dict, where).items():
        if not isinstance(counts, dict):
            raise ManifestError(f"{where}.tiers.{tier}: expected a mapping, got {type(counts).__name__}")
        at = f"{where}.tiers.{tier}"
        tiers[tier] = TierCounts(
            _get(counts, "title", str, at), _get(counts, "notes", int, at), _get(counts, "cards", int, at)
        )
    notetypes = []
    for i, nt in enumerate(_get(entry, "notetypes", list, where)):
        at = f"{where}.notetypes[{i}]"
        if not isinstance(nt, dict):
            raise ManifestError(f"{at}: expected a mapping, got {type(nt).__name__}")
        notetypes.append(NoteTypeInfo(_get(nt, "name", str, at), _get(nt, "id", int, at), _get(nt, "version", int, at)))
    tier = _get(entry, "tier", str, where, optional=True)
    if tier is not None and tier not in tiers:
        raise ManifestError(f"{where}.tier: '{tier}' is not one of its tiers ({', '.join(tiers) or 'none'})")
    issues = _get(entry, "issues", str, where, optional=True)
    if issues is not None and not issues.startswith(("https://", "http://")):
        raise ManifestError(f"{where}.issues: expected an http(s) URL, got '{issues[:80]}'")
    sources = _get(entry, "sources", dict, where, optional=True)
    if sources is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        raise ManifestError(f"{where}.sources: expected a mapping of card ids to 'file:line' texts")
    return Package(
        id=_get(entry, "id", str, where),
        name=_get(entry, "name", str, where),
        version=_get(entry, "version", str, where, optional=True),
        namespace=_get(entry, "namespace", str, where),
        file=file,
        sha256=sha256,
        size=_get(entry, "size", int, where),
        tier=tier,
        notes=_get(entry, "notes", int, where),
        cards=_get(entry, "cards", int, where),
        tiers=tiers,
        notetypes=tuple(notetypes),
        merge_notetypes=_get(entry, "merge_notetypes", bool, where),
        issues=issues,
        sources=sources,
    )
