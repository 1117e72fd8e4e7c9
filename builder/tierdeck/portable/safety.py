"""Bounds on what an untrusted deck may make tierdeck read, and the checks every reader shares.

Instructors import decks downloaded from the internet. A package may be a zip bomb (a few kilobytes
that decompress to terabytes), name a media file `../../.bashrc`, or hold a 500 MB field. Sizes are
counted on the bytes actually decompressed, never taken from what the file declares.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn

from tierdeck.errors import Diagnostic, InputError, shown

MB = 1024 * 1024
GB = 1024 * MB
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much one imported file may make tierdeck decompress and hold; the defaults fit any real deck."""

    # Everything decompressed from one package: its collection and all its media, held in memory. Big
    # shared decks with images are around a gigabyte; a larger one can be exported and imported in parts.
    max_total_bytes: int = 2 * GB
    # The SQLite collection once decompressed: 100,000 notes of rich HTML take a few hundred MB.
    max_collection_bytes: int = 1 * GB
    # One media file (or the media list). AnkiWeb does not sync a media file over 100 MB, so a bigger
    # one would never reach students anyway.
    max_member_bytes: int = 100 * MB
    # The biggest shared decks hold tens of thousands of images and sounds.
    max_media_files: int = 100_000
    # One field, and one note's fields together (UTF-8). Real fields are a few KB; images belong in
    # media files, not inline.
    max_field_bytes: int = 1 * MB
    max_note_bytes: int = 2 * MB
    # A "Notes in Plain Text" export, read whole.
    max_text_bytes: int = 256 * MB


def fail(source: Path, message: str, line: int | None = None) -> NoReturn:
    """Stop reading `source`: raise the one problem found, located at `line` when known."""
    raise InputError([Diagnostic(source, message, line=line)])


def size(count: int) -> str:
    """A byte count as an author reads it: '1.5 MB', '2 GB', '512 bytes'."""
    if count >= GB:
        return f"{math.ceil(count * 10 / GB) / 10:g} GB"
    if count >= MB:
        return f"{math.ceil(count * 10 / MB) / 10:g} MB"
    return f"{count:,} bytes"


class Budget:
    """Counts decompressed bytes across one package, so many small members cannot add up to a bomb."""

    def __init__(self, source: Path, limits: Limits):
        self.source = source
        self.limits = limits
        self.used = 0

    def copy(
        self, stream: IO[bytes], out: IO[bytes], member: str, limit: int, over: Callable[[], NoReturn] | None = None
    ) -> None:
        """Copy `stream` to `out`, failing as soon as it passes `limit` (with `over`, if given) or the package's total."""
        written = 0
        while chunk := stream.read(_CHUNK):
            written += len(chunk)
            self.used += len(chunk)
            if written > limit:
                if over is not None:
                    over()
                fail(
                    self.source,
                    f"the package member '{shown(member)}' decompresses to more than {size(limit)}, the limit for "
                    "one member; this is not a deck Anki exported (it may be a zip bomb): do not import it",
                )
            if self.used > self.limits.max_total_bytes:
                fail(
                    self.source,
                    f"the package decompresses to more than {size(self.limits.max_total_bytes)} in total, the limit "
                    "for one import; this is not a deck Anki exported (it may be a zip bomb): do not import it",
                )
            out.write(chunk)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME_BYTES = 200  # below the 255 of most file systems, with room for the project's own suffixes
_DRIVE = re.compile(r"^[A-Za-z]:")


def media_name_problem(name: str) -> str | None:
    """Why `name` cannot be a file in Anki's flat media folder, or None when it is a plain file name."""
    control = _CONTROL.search(name)
    if control:
        return f"it holds the control character U+{ord(control.group()):04X}"
    if name.startswith(("/", "\\")):
        return "it is an absolute path"
    if _DRIVE.match(name):
        return "it starts with a drive letter"
    if ".." in re.split(r"[/\\]", name):
        return "it climbs to a parent folder with '..'"
    if "/" in name or "\\" in name:
        return "it holds a path separator ('/' or '\\')"
    if name in ("", "."):
        return "it is not a file name"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"it is longer than the {MAX_NAME_BYTES} bytes a file name may have on most systems"
    return None


def check_note_size(
    source: Path, label: str, fields: tuple[str, ...], names: tuple[str, ...], limits: Limits, line: int | None = None
) -> None:
    """Fail when one field of a note, or the note as a whole, is over the size limits."""
    problem = note_size_problem(label, fields, names, limits)
    if problem is not None:
        fail(source, problem, line)


def note_size_problem(label: str, fields: tuple[str, ...], names: tuple[str, ...], limits: Limits) -> str | None:
    """What is over the size limits in one note (a field, or all together), or None."""
    total = 0
    for index, text in enumerate(fields):
        count = len(text.encode("utf-8", "surrogatepass"))
        total += count
        if count > limits.max_field_bytes:
            name = f" ('{shown(names[index])}')" if index < len(names) else ""
            return (
                f"{label}: field {index + 1}{name} holds {size(count)}, over the limit of "
                f"{size(limits.max_field_bytes)} for one field; shorten it in Anki (an image belongs in a media "
                "file, not inline in the field) and export again"
            )
    if total > limits.max_note_bytes:
        return (
            f"{label}: its fields hold {size(total)} together, over the limit of {size(limits.max_note_bytes)} for "
            "one note; shorten them in Anki (images belong in media files, not inline) and export again"
        )
    return None
