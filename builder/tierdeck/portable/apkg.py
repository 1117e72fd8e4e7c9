"""Reading an Anki package (.apkg): a zip of one collection, a media list and numbered media files.

Which members a package holds follows Anki's rslib/src/import_export/package/meta.rs. A `meta` member
names the version; without it the package is legacy (Anki before 2.1.50):

- version 1, `collection.anki2`, and version 2, `collection.anki21`: a schema-11 SQLite collection,
  a JSON media list {"0": "name.jpg"}, plain members. Read with the standard library alone.
- version 3, `collection.anki21b` (Anki 2.1.50+ without "Support older Anki versions"): the
  collection (schema 18), the media list (protobuf MediaEntries) and every media file are
  zstd-compressed. Needs the optional packages `anki` and `zstandard` (`pip install 'tierdeck[import]'`):
  zstandard decompresses, and Anki's own engine converts the collection to schema 11, the code path of
  its legacy export, so no table of the newer schema or protobuf blob is decoded by hand here.

Packages of versions 2 and 3 also hold a `collection.anki2` with one note asking the student to update
Anki; it is never read when a newer collection is named.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import IO, NoReturn

from tierdeck.errors import Diagnostic, UsageError, shown
from tierdeck.portable.collection import LEGACY_SCHEMA, check_schema, connect, read_collection, stored_version
from tierdeck.portable.model import ImportedDeck, MediaIn
from tierdeck.portable.references import missing_media
from tierdeck.portable.safety import Budget, Limits, fail, media_name_problem, size

LEGACY_1, LEGACY_2, LATEST = 1, 2, 3
_COLLECTION = {LEGACY_1: "collection.anki2", LEGACY_2: "collection.anki21", LATEST: "collection.anki21b"}
# The schema Anki writes in collection.anki21b; its engine opens anything up to this.
NEWEST_SCHEMA = 18
# `meta` is a protobuf PackageMetadata whose only field is the version, written by Anki as these two
# bytes. Recognising them needs no protobuf library, so legacy packages stay readable without the extra.
_META = re.compile(rb"\x08([\x01-\x7f])")
_EXPORT_AGAIN = "export the deck from Anki again"
_REEXPORT_OLDER = "in Anki export the deck again with 'Support older Anki versions' checked"

_MISMATCH = "it does not match the size and checksum the media list records"
Decompress = Callable[[IO[bytes]], IO[bytes]]


def read_package(source: Path, limits: Limits, media: bool = True) -> ImportedDeck:
    """Everything in the package at `source` (without `media`: notes, note types and decks only, the media
    files left compressed), read through a temporary folder removed before returning."""
    with tempfile.TemporaryDirectory(prefix="tierdeck-import-") as folder, _open_zip(source, limits) as zf:
        budget = Budget(source, limits)
        members = set(zf.namelist())
        version = _version(source, zf, members, budget)
        db = Path(folder) / _COLLECTION[version]
        zstd = _zstd_reader(source) if version == LATEST else None
        with db.open("wb") as out:
            _copy(source, zf, _COLLECTION[version], out, budget, limits.max_collection_bytes, zstd)
        if zstd is not None:
            # Checked here, where sqlite3 can say what is wrong; the engine's own errors are Rust debug output.
            with closing(connect(source, db)) as conn:
                check_schema(source, conn, NEWEST_SCHEMA)
            _downgrade(source, db)
        deck = read_collection(source, db, "apkg" if zstd else "apkg-legacy", limits)
        if not media:
            return deck
        media_files = _media(source, zf, members, budget, limits, zstd)
    warnings = list(deck.warnings)
    for note in deck.notes:
        for name in missing_media(note.fields, media_files):
            warnings.append(
                Diagnostic(
                    source,
                    f"note '{shown(note.guid)}' refers to the media file '{shown(name)}', which the package does not "
                    "hold, so students will see it missing; in Anki, run Tools > Check Media, then export with media",
                    level="warning",
                )
            )
    return replace(deck, media=media_files, warnings=warnings)


def _open_zip(source: Path, limits: Limits) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        fail(
            source,
            "is not a valid Anki package: its zip structure is damaged; it may be only partly downloaded: download it "
            f"again, or {_EXPORT_AGAIN}",
        )
    # A collection, a media list, `meta`, the dummy collection, and the media files.
    if len(zf.infolist()) > limits.max_media_files + 4:
        zf.close()
        fail(
            source,
            f"the package holds {len(zf.infolist()):,} files, too many for one import (at most "
            f"{limits.max_media_files:,} media files); split the deck in Anki and export the parts",
        )
    return zf


def _version(source: Path, zf: zipfile.ZipFile, members: set[str], budget: Budget) -> int:
    """The package version from `meta`, or as Anki infers it without one; fails when its collection is missing."""
    if "meta" in members:
        meta = io.BytesIO()
        _copy(source, zf, "meta", meta, budget, budget.limits.max_member_bytes)
        match = _META.fullmatch(meta.getvalue())
        if match is None:
            fail(
                source,
                "the package's version marker ('meta') is not one tierdeck knows: the package was made by a newer "
                f"Anki, or is damaged; update tierdeck (pip install -U tierdeck), or {_REEXPORT_OLDER}",
            )
        version = match.group(1)[0]
        if version > LATEST:
            fail(
                source,
                f"the package is of format version {version}, newer than this version of tierdeck reads ({LATEST}); "
                f"update tierdeck (pip install -U tierdeck), or {_REEXPORT_OLDER}",
            )
        wanted = _COLLECTION[version]
    else:
        version = LEGACY_2 if _COLLECTION[LEGACY_2] in members else LEGACY_1
        wanted = f"{_COLLECTION[LEGACY_1]} or {_COLLECTION[LEGACY_2]}"
    if _COLLECTION[version] not in members:
        fail(
            source,
            f"holds no Anki collection (no member {wanted}); it is not an Anki deck package, or it is damaged: "
            f"{_EXPORT_AGAIN}",
        )
    return version


def _zstd_reader(source: Path) -> Decompress:
    """A zstd stream decompressor once the whole extra (zstandard and anki) is found, or a UsageError naming it."""
    try:
        import zstandard
        from anki.collection import Collection  # noqa: F401  (needed by _downgrade; checked here, before any work)
    except ImportError:
        raise UsageError(
            f"{source} is in the package format of Anki 2.1.50 and later, which tierdeck reads with the optional "
            f"packages anki and zstandard; install them with: pip install 'tierdeck[import]' (or {_REEXPORT_OLDER})"
        ) from None
    decompressor = zstandard.ZstdDecompressor()
    return lambda stream: decompressor.stream_reader(stream, read_across_frames=True)


def _damage_errors() -> tuple[type[Exception], ...]:
    """What reading a damaged member raises: zip and deflate errors, and zstd's when it is installed."""
    errors: tuple[type[Exception], ...] = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)
    try:
        import zstandard
    except ImportError:
        return errors
    return (*errors, zstandard.ZstdError)


def _copy(
    source: Path,
    zf: zipfile.ZipFile,
    member: str,
    out: IO[bytes],
    budget: Budget,
    limit: int,
    decompress: Decompress | None = None,
    over: Callable[[], NoReturn] | None = None,
) -> None:
    """Decompress one member into `out`, bounded by `limit` (past it: `over`) and the package's budget."""
    try:
        with zf.open(member) as raw:
            stream = decompress(raw) if decompress else raw
            with stream:
                budget.copy(stream, out, member, limit, over)
    except _damage_errors():
        _member_damaged(source, member, "its compressed data cannot be read")


def _member_damaged(source: Path, member: str, reason: str) -> NoReturn:
    fail(
        source,
        f"the package member '{shown(member)}' is damaged ({reason}); download the package again, or {_EXPORT_AGAIN}",
    )


def _downgrade(source: Path, db: Path) -> None:
    """Convert the schema-18 collection at `db` to schema 11 in place, with Anki's engine."""
    from anki.collection import Collection
    from anki.errors import BackendError

    try:
        Collection(str(db)).close(downgrade=True)
    except BackendError:
        converted = False
    else:
        # The engine can open a collection that lacks some of its tables, then skip the conversion silently.
        with closing(connect(source, db)) as conn:
            converted = stored_version(source, conn) == LEGACY_SCHEMA
    if not converted:
        # The engine's messages are Rust debug output; the checks before this one name the usual causes.
        fail(source, f"the collection inside the package is damaged (Anki's engine cannot open it); {_EXPORT_AGAIN}")


def _media(
    source: Path, zf: zipfile.ZipFile, members: set[str], budget: Budget, limits: Limits, zstd: Decompress | None
) -> dict[str, MediaIn]:
    """Every media file the package's media list names, by name, after checking each name is a plain file name."""
    if "media" not in members:
        return {}
    listing = io.BytesIO()
    _copy(source, zf, "media", listing, budget, limits.max_member_bytes, zstd)
    entries = _media_entries(source, listing.getvalue(), zstd is not None)
    if len(entries) > limits.max_media_files:
        fail(
            source,
            f"the package lists {len(entries):,} media files, more than the limit of {limits.max_media_files:,} for "
            "one import; split the deck in Anki and export the parts",
        )
    # What the package declares its media decompress to bounds the memory they take: checked before any is read,
    # and no member may outgrow its declared size (a current package's list, else the zip's own header)
    declared = {
        member: expected[0] if expected is not None else zf.getinfo(member).file_size
        for member, _, expected in entries
        if member in members
    }
    if sum(declared.values()) + budget.used > limits.max_total_bytes:
        fail(
            source,
            f"the package's media files declare {size(sum(declared.values()))} together, over the limit of "
            f"{size(limits.max_total_bytes)} for one import; split the deck in Anki and export the parts",
        )
    media: dict[str, MediaIn] = {}
    members_of: dict[str, str] = {}
    for member, name, expected in entries:
        problem = media_name_problem(name)
        if problem:
            fail(
                source,
                f"the media file in member '{shown(member)}' is named '{shown(name)}': {problem}, so it could be "
                "written outside Anki's media folder; tierdeck refuses such a package: ask its author for a clean "
                "export",
            )
        if name in media:
            fail(
                source,
                f"the media list names '{shown(name)}' twice (members '{members_of[name]}' and '{shown(member)}'); "
                f"the package is damaged: {_EXPORT_AGAIN}",
            )
        if member not in members:
            fail(
                source,
                f"the media list names member '{shown(member)}' (the file '{shown(name)}'), which the package does not "
                f"hold; the package is incomplete: {_EXPORT_AGAIN}",
            )
        data = io.BytesIO()
        if declared[member] < limits.max_member_bytes:  # read no further than declared: memory stays bounded
            over = partial(_member_damaged, source, member, _MISMATCH)
            _copy(source, zf, member, data, budget, declared[member], zstd, over)
        else:
            _copy(source, zf, member, data, budget, limits.max_member_bytes, zstd)
        if expected is not None and (len(data.getvalue()), hashlib.sha1(data.getvalue()).digest()) != expected:
            _member_damaged(source, member, _MISMATCH)
        media[name] = MediaIn(name, data.getvalue())
        members_of[name] = shown(member)
    return media


def _media_entries(source: Path, raw: bytes, current: bool) -> list[tuple[str, str, tuple[int, bytes] | None]]:
    """(member, file name, expected (size, sha1) or None) for each file of the media list."""
    if current:
        from anki.import_export_pb2 import MediaEntries
        from google.protobuf.message import DecodeError

        try:
            listed = MediaEntries.FromString(raw).entries
        except DecodeError:
            _list_damaged(source)
        # Anki numbers members by position; a list converted from a legacy one keeps the old numbers.
        return [
            (
                str(entry.legacy_zip_filename if entry.HasField("legacy_zip_filename") else index),
                entry.name,
                (entry.size, entry.sha1),
            )
            for index, entry in enumerate(listed)
        ]
    try:
        mapping = json.loads(raw)
    except (ValueError, RecursionError):
        _list_damaged(source)
    if not isinstance(mapping, dict) or not all(isinstance(name, str) for name in mapping.values()):
        _list_damaged(source)
    return [(member, name, None) for member, name in mapping.items()]


def _list_damaged(source: Path) -> NoReturn:
    fail(source, f"the package's media list ('media') is damaged; {_EXPORT_AGAIN}")
