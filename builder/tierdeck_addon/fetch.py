"""Following a release: read its manifest from a URL, a file or a folder, and download a package, checked.

Standard library only (urllib): Anki ships no network library an add-on may rely on. Nothing here
touches a collection, so a failed download or a wrong hash leaves the student's Anki as it was.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tierdeck.portable import release

TIMEOUT = 30  # seconds without an answer before a download gives up
MAX_MANIFEST_BYTES = 5 * 1024 * 1024
CHUNK = 1 << 16


class FetchError(Exception):
    """A manifest or package that could not be fetched or failed its check; nothing was changed."""


def _is_url(location: str) -> bool:
    return urllib.parse.urlsplit(location).scheme in ("http", "https", "file")


def _local(location: str) -> Path:
    if location.startswith("file:"):
        return Path(urllib.request.url2pathname(urllib.parse.urlsplit(location).path))
    return Path(os.path.expanduser(location))


def manifest_location(location: str) -> str:
    """Where the manifest is: a folder (local, or a URL ending in '/') means its manifest.json."""
    if _is_url(location) and not location.startswith("file:"):
        return location + release.FILE_NAME if location.endswith("/") else location
    path = _local(location)
    return str(path / release.FILE_NAME if path.is_dir() else path)


def _open(location: str):
    request = urllib.request.Request(location, headers={"User-Agent": "tierdeck-anki-addon"})
    return urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 - http(s) only, checked by the caller


def read_manifest(location: str) -> tuple[release.Release, str]:
    """The release at `location` and the manifest's own address (packages are named relative to it)."""
    where = manifest_location(location)
    try:
        if _is_url(where):
            with _open(where) as response:
                data = response.read(MAX_MANIFEST_BYTES + 1)
        else:
            data = Path(where).read_bytes()
    except (OSError, urllib.error.URLError, ValueError) as exc:
        raise FetchError(f"could not read the release manifest {where}: {_reason(exc)}; nothing was changed") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise FetchError(f"{where} is too large to be a release manifest; check the address")
    try:
        return release.loads(data, where), where
    except release.ManifestError as exc:
        raise FetchError(f"{exc}; nothing was changed") from None


def package_location(manifest_at: str, package: release.Package) -> str:
    """The package's address: its file name next to the manifest."""
    if _is_url(manifest_at):
        return urllib.parse.urljoin(manifest_at, urllib.parse.quote(package.file))
    return str(Path(manifest_at).parent / package.file)


def download(manifest_at: str, package: release.Package, into: Path) -> Path:
    """The package, saved into the folder `into` after its size and SHA-256 matched the manifest's."""
    source = package_location(manifest_at, package)
    fd, name = tempfile.mkstemp(prefix=".download-", suffix=".apkg", dir=into)
    target = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            stream = _open(source) if _is_url(source) else open(source, "rb")  # noqa: SIM115 - closed below
            with stream:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > package.size:
                        break
                    digest.update(chunk)
                    out.write(chunk)
    except (OSError, urllib.error.URLError, ValueError) as exc:
        target.unlink(missing_ok=True)
        raise FetchError(f"could not download {source}: {_reason(exc)}; nothing was changed") from None
    if size != package.size or digest.hexdigest() != package.sha256:
        target.unlink(missing_ok=True)
        got = f"{size} bytes" if size != package.size else f"SHA-256 {digest.hexdigest()}"
        raise FetchError(
            f"{package.file} does not match its release manifest (expected {package.size} bytes with SHA-256 "
            f"{package.sha256}, got {got}); it was not imported and nothing was changed. Try again later; if it "
            "persists, tell the deck's author"
        )
    final = into / package.file
    os.replace(target, final)
    return final


def _reason(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return str(exc.reason)
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
