"""A content-addressed cache in `<project>/.tierdeck-cache/`: safe to delete, never trusted across versions.

Every key is a hash of the exact input bytes and of tierdeck's own fingerprint (its version, the bytes
of every file of its package and the versions of the libraries that shape its output), so a stale entry can
never be found: any change to an input or to tierdeck misses the cache and recomputes. Entries are
written atomically; an unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

CACHE_DIR = ".tierdeck-cache"
KEEP_DAYS = 14  # an entry unused for this long is deleted by `Cache.prune`
_REFRESH_SECONDS = 86400  # a used entry's time is refreshed at most daily
_LIBRARIES = ("genanki", "pydantic", "pydantic-core", "pyromark", "nh3", "PyYAML", "yaml-rs")


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Changes with tierdeck's code, its version and the libraries it renders and validates with."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).parent
    # every file of the package, subpackages and data (templates, CSS, note types) included
    for source in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(source.relative_to(package).as_posix().encode())
        digest.update(source.read_bytes())
    for name in _LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=absent".encode())
    return digest.hexdigest()


def key(*parts: bytes | str) -> str:
    """A cache key from the fingerprint and `parts` (each length-prefixed, so parts cannot run together)."""
    digest = hashlib.sha256(fingerprint().encode())
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


_digests: ContextVar[dict[tuple, str] | None] = ContextVar("digests", default=None)


@contextmanager
def remembered_digests():
    """Within this block `file_digest` hashes each file once (one build keys every card file several
    times); a file whose size or time changes is hashed again."""
    if _digests.get() is not None:  # already inside one
        yield
        return
    token = _digests.set({})
    try:
        yield
    finally:
        _digests.reset(token)


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes. Raises OSError when the file cannot be read."""
    memo = _digests.get()
    if memo is None:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    stat = path.stat()
    marker = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    digest = memo.get(marker)
    if digest is None:
        digest = memo[marker] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest


class Cache:
    """Pickled values by key, in one project's cache folder; disabled with TIERDECK_NO_CACHE=1."""

    def __init__(self, root: Path):
        self.dir = root / CACHE_DIR
        self.enabled = os.environ.get("TIERDECK_NO_CACHE", "") in ("", "0")

    def _path(self, kind: str, name: str) -> Path:
        return self.dir / kind / name[:2] / f"{name}.pickle"

    def get(self, kind: str, name: str) -> Any | None:
        """The value stored under `name`, or None."""
        if not self.enabled:
            return None
        path = self._path(kind, name)
        try:
            with open(path, "rb") as handle:
                value = pickle.load(handle)
                if time.time() - os.fstat(handle.fileno()).st_mtime > _REFRESH_SECONDS:
                    os.utime(path)  # still in use: `prune` keeps it
                return value
        except Exception:  # noqa: BLE001 - a missing, truncated or foreign entry is just a miss
            return None

    def prune(self, max_age_days: float = KEEP_DAYS) -> int:
        """Delete the entries nobody read or wrote for `max_age_days` (old versions of edited files,
        entries of an older tierdeck); returns how many. Each edit leaves one entry behind, so a build
        that stored something calls this."""
        if not self.enabled:
            return 0
        limit, removed = time.time() - max_age_days * 86400, 0
        for entry in self.dir.glob("*/*/*.pickle"):
            try:
                if entry.stat().st_mtime < limit:
                    entry.unlink()
                    removed += 1
            except OSError:
                pass  # gone already, or not ours to delete
        return removed

    def put(self, kind: str, name: str, value: Any) -> None:
        """Store `value` under `name` (silently skipped when the folder cannot be written)."""
        if not self.enabled:
            return
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - what cannot be stored is recomputed next time
            return
        self.put_bytes(kind, name, data)

    def put_bytes(self, kind: str, name: str, data: bytes) -> None:
        """Store a value already pickled (`pickle.dumps`) under `name`."""
        if not self.enabled:
            return
        path = self._path(kind, name)
        partial = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not (self.dir / ".gitignore").exists():
                (self.dir / ".gitignore").write_text("*\n")
            fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(partial, path)
        except Exception:  # noqa: BLE001 - a cache that cannot be written is only a slower next run
            if partial is not None:
                Path(partial).unlink(missing_ok=True)
