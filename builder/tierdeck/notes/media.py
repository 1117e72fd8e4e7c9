"""Media on cards: images and sounds found next to the card files, packed under bare, unique names.

An author writes `![Osteoclast](images/osteoclast.png)` or `[sound:audio/korotkoff.mp3]` relative to the
card file. Anki wants media as bare file names in one flat folder shared by every deck a student has, so
each file is packed as `<name>-<content hash>.<ext>`: unique across decks, and a changed file gets a new
name (and so reaches students, whose Anki never overwrites a media file it already has).

A deck's manifest may list folders under `media:` (an imported deck's `media/` folder): every file in
them is shipped under its own name, whether a card shows it or not, since a note type's templates and
CSS load files by name (`_style.css`, `_font.woff2`, Anki's convention for such files) and an imported
note's fields name them as Anki stored them. Current Anki renames an incoming file whose name it
already holds with other bytes (and rewrites the notes that show it), so a changed file still arrives.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from tierdeck.cache import storable
from tierdeck.errors import relative
from tierdeck.format.layout import shipped_paths
from tierdeck.format.schema import slugify

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
# What Anki plays from `[sound:...]`: audio, and video on the clients that show it.
SOUND_SUFFIXES = (".mp3", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".flac", ".mp4", ".webm")
MEDIA_SUFFIXES = IMAGE_SUFFIXES + SOUND_SUFFIXES
_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.IGNORECASE)
# Anki's sound tag; the name stops at the next '[' or ']', so a field of unclosed tags stays linear.
_SOUND = re.compile(r"(\[sound:)([^\[\]]*)(\])")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:", re.IGNORECASE)


@storable
@dataclass(frozen=True)
class MediaFile:
    """One file to pack: its name inside Anki and the file it comes from."""

    name: str
    path: Path


def packed_name(path: Path, data: bytes) -> str:
    """The name a file is packed under: its name as a slug, a hash of its bytes, its suffix."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{slugify(path.stem)}-{digest}{path.suffix.lower()}"


def same_bytes(media: MediaFile) -> bool:
    """Whether the file still holds the bytes its packed name was made from (a shipped file: still there)."""
    if media.name == media.path.name:  # shipped under its own name: the note names it whatever its bytes
        return media.path.is_file()
    try:
        return packed_name(media.path, media.path.read_bytes()) == media.name
    except OSError:
        return False


class MediaResolver:
    """Resolves a deck's media references, refusing anything outside its card folders."""

    def __init__(self, roots: list[Path], project: Path | None = None, shipped: Sequence[Path] = ()):
        self.roots = [r.resolve() for r in roots]
        self.project = project
        # folders the deck ships whole (manifest `media:`): their files keep their own names, of any kind
        self.shipped = [r.resolve() for r in shipped]
        self._seen: dict[Path, MediaFile] = {}

    @staticmethod
    def references(html: str) -> bool:
        """Whether `html` may name a media file (cheap test before `rewrite`)."""
        return "<img" in html or "[sound:" in html

    def rewrite(self, html: str, card_file: Path) -> tuple[str, list[MediaFile], list[str]]:
        """`html` with local image and sound paths replaced by packed names, the files, and what is wrong."""
        found: list[MediaFile] = []
        problems: list[str] = []

        def replacer(kind: str, suffixes: tuple[str, ...]):
            def replace(match: re.Match) -> str:
                src = match.group(2)
                if kind == "image" and (_SCHEME.match(src) or src.startswith("//")):
                    return match.group(0)  # http(s) images and inline data: images stay as they are
                media, problem = self._resolve(kind, src, card_file, suffixes)
                if problem or media is None:
                    problems.append(problem or f"{kind} '{src}' could not be read")
                    return match.group(0)
                found.append(media)
                return f"{match.group(1)}{media.name}{match.group(3)}"

            return replace

        if "<img" in html:
            html = _IMG_SRC.sub(replacer("image", IMAGE_SUFFIXES), html)
        if "[sound:" in html:
            html = _SOUND.sub(replacer("sound", SOUND_SUFFIXES), html)
        return html, found, problems

    def _resolve(
        self, kind: str, src: str, card_file: Path, suffixes: tuple[str, ...]
    ) -> tuple[MediaFile | None, str | None]:
        given = unquote(src) if kind == "image" else src
        if not given.strip():
            return None, f"{kind} '[sound:]' names no file; write [sound:path/to/file.mp3]"
        if given.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", given):
            return None, f"{kind} '{src}' is an absolute path; give a path relative to the card file"
        candidate = card_file.parent / given
        target = candidate.resolve()
        if "\\" in given and not target.is_file():
            return None, (
                f"{kind} '{src}' uses '\\', which is not a folder separator here; use / in paths, e.g. "
                f"'{given.replace(chr(92), '/')}' (it works on Windows too)"
            )
        if not any(target.is_relative_to(root) for root in [*self.roots, *self.shipped]):
            return None, (
                f"{kind} '{src}' lies outside the deck's card folders; keep {kind}s next to the cards "
                f"(e.g. in an {'images' if kind == 'image' else 'audio'}/ folder beside the card file)"
            )
        if not target.is_file():
            return None, f"{kind} '{src}' not found (looked for {relative(candidate, self.project)}); check the file name and path"
        if any(target.parent == root for root in self.shipped):
            return self._seen.setdefault(target, MediaFile(target.name, target)), None
        if target.suffix.lower() not in suffixes:
            return None, f"{kind} '{src}' is not a supported {kind} file; use one of {', '.join(suffixes)}"
        media = self._seen.get(target)
        if media is None:
            media = self._seen[target] = MediaFile(packed_name(target, target.read_bytes()), target)
        return media, None


def shipped_files(folders: list[Path]) -> list[MediaFile]:
    """Every file directly in `folders` (a manifest's `media:`), under its own name; hidden files skipped."""
    return [MediaFile(p.name, p) for p in shipped_paths(folders)]
