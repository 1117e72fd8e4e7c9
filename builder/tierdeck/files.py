"""Every file tierdeck writes, written one way: whole or not at all, never through a link out of the project.

- `write` replaces a file atomically (a temporary file with an unpredictable name beside it, then
  `os.replace`), so a reader, a killed run or a full disk never sees half a file;
- `write_if_changed` does so only when the bytes differ (a watching server may be reading the file);
- `Replacement` stages several files and puts them in place together: every one or, when one cannot be
  staged, none (a package and its lock file, say);
- `inside` refuses an output folder of the project (`dist/`, `preview/`, `cards/`, ...) that a symbolic
  link takes out of the project: a cloned repository may carry such links;
- `remove` deletes only files inside a folder that is inside the project;
- `sweep` removes temporary leftovers of killed runs once they are stale;
- `private_file` makes a file only its owner can read, in a folder only its owner can enter (crash logs).

An `OSError` becomes an `OutputError` that names the path and what to do (exit 1, never "a bug").
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tierdeck.errors import OutputError

TEMP_PREFIX = ".tierdeck-tmp-"  # every temporary file or folder tierdeck makes beside an output starts so
STALE_SECONDS = 3600.0  # a temporary leftover this old belongs to no running tierdeck


# What the file system refuses for reasons of the user's machine, not of tierdeck: full, read-only, not
# allowed, a name too long. Met anywhere, they are exit 1 with the path, never "a bug in tierdeck".
USER_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENAMETOOLONG,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ELOOP,
        errno.EMLINK,
    }
)


def user_condition(exc: BaseException) -> OutputError | None:
    """`exc` as an `OutputError` when the file system refused for a reason of the user's machine; else None.

    `shutil.Error` (a copy of many files) carries its causes as text."""
    if isinstance(exc, shutil.Error):
        for entry in exc.args[0] if exc.args and isinstance(exc.args[0], list) else []:
            if len(entry) == 3 and any(os.strerror(code) in str(entry[2]) for code in USER_ERRNOS):
                return OutputError(f"cannot write {entry[1]}: {entry[2]}")
        return None
    if isinstance(exc, OSError) and exc.errno in USER_ERRNOS:
        return output_error(exc, exc.filename or "a file", None)
    return None


def output_error(exc: OSError, path: Path | str, what: str | None = "") -> OutputError:
    """An `OSError` met while writing `path`, in words: which file, why, what was kept, and what to do."""
    where = exc.filename or path
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        advice = "free some space, or choose another folder"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "check the folder's permissions, or choose another folder"
    elif exc.errno == errno.ENAMETOOLONG:
        advice = "shorten the name or the folder path"
    else:
        advice = "check the path, or choose another folder"
    kept = "" if what is None else f"; {what or 'nothing was changed'}"
    return OutputError(f"cannot write {where}: {reason}{kept} ({advice})")


def inside(root: Path, folder: Path, option: str | None = "-o") -> Path:
    """`folder` resolved, refused when it (or a link on the way to it) lies outside `root` (the project)."""
    resolved = folder.resolve()
    if not resolved.is_relative_to(root.resolve()):
        shown = folder.relative_to(root) if folder.is_relative_to(root) else folder
        fix = f"remove the link, or choose the folder explicitly with {option}" if option else "make it a real folder"
        raise OutputError(
            f"{shown}/ leads outside {root.name or root}/ (a symbolic link to {resolved}); tierdeck does not write "
            f"or delete through it: {fix}"
        )
    return resolved


def write(path: Path, data: str | bytes, what: str = "") -> None:
    """Replace `path` with `data` (text is UTF-8) atomically: its old content stays until the new is whole."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _staged(path, payload)
        try:
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise output_error(exc, path, what) from exc


def write_if_changed(path: Path, data: str | bytes, what: str = "") -> bool:
    """`write`, unless `path` holds these bytes already; whether it wrote."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.is_file() and not path.is_symlink() and path.stat().st_size == len(payload):
            if path.read_bytes() == payload:
                return False
    except OSError:
        pass
    write(path, payload, what)
    return True


def temporary_beside(path: Path) -> Path:
    """A new empty file next to `path` (same file system), with an unpredictable name tierdeck sweeps when
    stale, and the permissions a file the user writes gets (or `path`'s own, when it exists)."""
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{path.name[:40]}.", dir=path.parent)
    os.close(fd)
    try:
        if path.exists():
            shutil.copymode(path, name)
        else:  # mkstemp makes 0600
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(name, 0o666 & ~umask)
    except OSError:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _staged(path: Path, payload: bytes) -> Path:
    """`payload` in a new temporary file beside `path`."""
    temporary = temporary_beside(path)
    try:
        temporary.write_bytes(payload)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


class Replacement:
    """Files put in place together: stage each (`write` or `adopt`), then `commit`; or none of them.

    Every file is staged completely before any target changes, so a full disk or a read-only folder
    met while staging leaves every target as it was. The commit itself is a `os.replace` per file."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temporary file, target)

    def write(self, path: Path, data: str | bytes) -> None:
        """Stage `data` for `path`."""
        payload = data.encode("utf-8") if isinstance(data, str) else data
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._staged.append((_staged(path, payload), path))
        except OSError as exc:
            self.discard()
            raise output_error(exc, path, "nothing was replaced") from exc

    def adopt(self, temporary: Path, path: Path) -> None:
        """Stage a file already written completely at `temporary` (on the same file system as `path`)."""
        self._staged.append((temporary, path))

    def commit(self) -> None:
        """Put every staged file in place."""
        done = 0
        try:
            for temporary, path in self._staged:
                os.replace(temporary, path)
                done += 1
        except OSError as exc:
            path = self._staged[done][1]
            what = "nothing was replaced" if done == 0 else f"{done} of {len(self._staged)} files were replaced"
            self._staged = self._staged[done:]
            self.discard()
            raise output_error(exc, path, what) from exc
        self._staged = []

    def discard(self) -> None:
        """Remove what was staged and not committed."""
        for temporary, _ in self._staged:
            if temporary.is_dir():
                shutil.rmtree(temporary, ignore_errors=True)
            else:
                temporary.unlink(missing_ok=True)
        self._staged = []

    def __enter__(self) -> Replacement:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


@contextmanager
def work_folder(beside: Path) -> Iterator[Path]:
    """A private temporary folder next to `beside` (same file system), removed afterwards; stale ones of
    killed runs are swept first."""
    sweep(beside.parent)
    try:
        beside.parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{beside.name[:40]}.", dir=beside.parent))
    except OSError as exc:
        raise output_error(exc, beside.parent) from exc
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sweep(folder: Path, older_than: float = STALE_SECONDS) -> None:
    """Remove tierdeck's temporary leftovers in `folder` (files and folders) not touched for `older_than` s."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < older_than:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def remove(path: Path, folder: Path) -> None:
    """Delete the file `path`, which must lie in `folder` itself (no link followed out of it)."""
    if path.parent.resolve() != folder.resolve() or path.is_symlink() and not path.exists():
        return
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise output_error(exc, path) from exc


def private_file(folder: Path, prefix: str, suffix: str) -> Path:
    """A new empty file only its owner can read, with an unpredictable name, in `folder`/tierdeck-<uid>
    (mode 0700, made if missing, refused when it is a link or belongs to someone else)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    private = folder / f"tierdeck-{uid}"
    try:
        private.mkdir(mode=0o700)
    except FileExistsError:
        pass
    status = os.lstat(private)
    import stat

    if not stat.S_ISDIR(status.st_mode) or (hasattr(os, "getuid") and status.st_uid != uid):
        raise OSError(errno.EPERM, "not a private folder of this user", str(private))
    os.chmod(private, 0o700)
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=private)
    os.close(fd)
    return Path(name)
