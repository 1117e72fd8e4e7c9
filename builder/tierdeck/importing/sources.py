"""Choosing the reader for a file by what it holds: a zip is an Anki package, anything else a text export."""

from __future__ import annotations

from pathlib import Path

from tierdeck.importing.text import read_text_export
from tierdeck.portable.apkg import read_package
from tierdeck.portable.model import ImportedDeck
from tierdeck.portable.safety import Limits, fail

# Every zip starts with a local file header, or (when empty) with the end-of-central-directory record.
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
PACKAGE_SUFFIXES = (".apkg", ".colpkg")


def read(path: Path, limits: Limits = Limits()) -> ImportedDeck:
    """The deck in an Anki package or a 'Notes in Plain Text' export; InputError says what is wrong with it."""
    try:
        with path.open("rb") as file:
            start = file.read(4)
    except IsADirectoryError:
        fail(path, "is a folder; name an Anki package (.apkg) or a 'Notes in Plain Text' export (.txt)")
    except OSError as exc:
        fail(path, f"cannot be read ({exc.strerror}); check that it exists and is readable")
    if start.startswith(_ZIP_MAGIC):
        return read_package(path, limits)
    if path.suffix.lower() in PACKAGE_SUFFIXES:
        # Named like a package but not a zip: most often a download cut short or an HTML error page.
        fail(
            path,
            "is not a valid Anki package: it is not a zip file; it may be damaged or only partly downloaded: "
            "download it again, or export the deck from Anki again",
        )
    return read_text_export(path, limits)
