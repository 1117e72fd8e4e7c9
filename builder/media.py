"""Images on cards: found next to the card files, packed into the `.apkg` under bare, unique names.

An author writes `![Osteoclast](images/osteoclast.png)` relative to the card file. Anki wants media
as bare file names in one flat folder shared by every deck a student has, so each image is packed as
`<name>-<content hash>.<ext>`: unique across decks, and a changed image gets a new name (and so
reaches students, whose Anki never overwrites a media file it already has).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from tierdeck.schema import slugify

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:", re.IGNORECASE)


@dataclass(frozen=True)
class MediaFile:
    """One image to pack: its name inside Anki and the file it comes from."""

    name: str
    path: Path


def _packed_name(path: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{slugify(path.stem)}-{digest}{path.suffix.lower()}"


def same_bytes(media: MediaFile) -> bool:
    """Whether the image still holds the bytes its packed name was made from."""
    try:
        return _packed_name(media.path, media.path.read_bytes()) == media.name
    except OSError:
        return False


class MediaResolver:
    """Resolves image references of one deck, refusing anything outside its card folders."""

    def __init__(self, roots: list[Path], project: Path | None = None):
        self.roots = [r.resolve() for r in roots]
        self.project = project
        self._seen: dict[Path, MediaFile] = {}

    @staticmethod
    def references(html: str) -> bool:
        """Whether `html` may name a media file (cheap test before `rewrite`)."""
        return "<img" in html

    def rewrite(self, html: str, card_file: Path) -> tuple[str, list[MediaFile], list[str]]:
        """`html` with local image paths replaced by packed names, the images, and what is wrong."""
        found: list[MediaFile] = []
        problems: list[str] = []

        def replace(match: re.Match) -> str:
            src = match.group(2)
            if _SCHEME.match(src) or src.startswith("//"):
                return match.group(0)  # http(s) images and inline data: images stay as they are
            media, problem = self._resolve(src, card_file)
            if problem:
                problems.append(problem)
                return match.group(0)
            found.append(media)
            return f"{match.group(1)}{media.name}{match.group(3)}"

        return _IMG_SRC.sub(replace, html), found, problems

    def _shown(self, path: Path) -> str:
        """`path` relative to the project, as an author names it."""
        if self.project is not None:
            try:
                return path.relative_to(self.project).as_posix()
            except ValueError:
                pass
        return str(path)

    def _resolve(self, src: str, card_file: Path) -> tuple[MediaFile | None, str | None]:
        from urllib.parse import unquote

        relative = unquote(src)
        if relative.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", relative):
            return None, f"image '{src}' is an absolute path; give a path relative to the card file"
        candidate = card_file.parent / relative
        target = candidate.resolve()
        if not any(target.is_relative_to(root) for root in self.roots):
            return None, (
                f"image '{src}' lies outside the deck's card folders; keep images next to the cards "
                "(e.g. in an images/ folder beside the card file)"
            )
        if not target.is_file():
            return None, f"image '{src}' not found (looked for {self._shown(candidate)}); check the file name and path"
        if target.suffix.lower() not in IMAGE_SUFFIXES:
            return None, f"image '{src}' is not a supported image; use one of {', '.join(IMAGE_SUFFIXES)}"
        media = self._seen.get(target)
        if media is None:
            media = self._seen[target] = MediaFile(_packed_name(target, target.read_bytes()), target)
        return media, None
