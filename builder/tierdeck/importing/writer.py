"""Writing an import: YAML text tierdeck reads back exactly, and a staging folder moved into place at the end.

Every file an import writes is first written into a staging folder next to the project (`.DIR.import-*`),
together with a copy of the project's own decks, note types and card folders, so the whole result can
be validated (and its lock file computed) by the same code a build runs. Only when all of that
succeeded are the new and changed files moved into the project; if a move fails, the files moved so
far are put back, and if the process is killed half-way, the journal it left makes the next import
finish the moves (see `Staging`), so the project is either updated entirely or left as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import yaml

from tierdeck.errors import OutputError
from tierdeck.format import yamlio
from tierdeck.format.layout import IMPORT_JOURNAL


class Flow(list):
    """A list written on one line: `[a, b]`."""


class FlowMap(dict):
    """A mapping written on one line: `{id: x, title: y}`."""


class _Dumper(yaml.SafeDumper):
    """Block style with indented lists, multi-line text as `|` blocks, one-line lists where asked."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style itself where a block cannot hold the text exactly
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _text)
_Dumper.add_representer(Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))
_Dumper.add_representer(FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True))


def dump(data: dict, comment: str = "") -> str:
    """`data` as YAML that tierdeck's loader reads back to the same values, under an optional comment."""
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 30, default_flow_style=False)
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    return "".join(f"{line}\n" for line in lines) + body


def check_reads_back(path: Path, data: dict) -> None:
    """Fail loudly (a bug in tierdeck) unless the file at `path` reads back as `data`."""
    loaded, problems = yamlio.load(path)
    if problems or _plain(loaded) != _plain(data):
        raise RuntimeError(f"tierdeck import wrote {path} but does not read back what it meant to write: {problems}")


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Staging:
    """A folder next to the project where an import is written whole before anything in the project changes.

    Moving the files in is journalled: before the first move, `.tierdeck-import.json` in the project
    names the staging folder and every file to move (lock files last). Each move is one atomic rename, the
    file it replaces copied first into a backup folder of an unpredictable name. A run killed half-way
    leaves the journal: `check` and `build` refuse the half-done project, and the next import finishes
    the moves (everything staged was validated before the first one) before doing its own.
    """

    def __init__(self, dest: Path):
        self.dest = dest
        sweep(dest)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.root = Path(tempfile.mkdtemp(prefix=f".{dest.name}.import-", dir=dest.parent))
        except OSError as exc:
            raise OutputError(
                f"cannot create a temporary folder in {dest.parent}: {exc.strerror or exc}; the import writes there "
                "first and needs write access to the folder holding the project"
            ) from exc
        self.written: set[str] = set()  # paths relative to the project, posix

    def copy_in(self, relative: Iterable[str]) -> None:
        """Copy these files and folders of the project into the staging folder (to validate the whole result)."""
        for rel in relative:
            source, target = self.dest / rel, self.root / rel
            if source.is_dir():
                shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
            elif source.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)

    def write(self, rel: str, content: str | bytes) -> Path:
        """Write one file of the import (relative to the project) into the staging folder."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_bytes(content.encode("utf-8"))
        else:
            path.write_bytes(content)
        self.written.add(rel)
        return path

    def commit(self) -> None:
        """Move every written file into the project; on a failure, put back what was there and raise."""
        order = sorted(self.written, key=lambda rel: (rel.endswith(".lock"), rel))  # the locks last
        backup = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.backup-", dir=self.dest.parent))
        moved: list[tuple[Path, Path | None]] = []  # (file in the project, its backup or None if it is new)
        created: list[Path] = []
        journal = self.dest / IMPORT_JOURNAL
        try:
            self.dest.mkdir(parents=True, exist_ok=True)
            _write_journal(journal, {"staging": self.root.name, "backup": backup.name, "files": order})
            for rel in order:
                target = self.dest / rel
                for folder in reversed([*target.parents]):
                    if not folder.exists() and folder.is_relative_to(self.dest.parent):
                        folder.mkdir()
                        created.append(folder)
                saved = None
                if target.is_file():
                    saved = backup / rel
                    saved.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(target, saved)
                moved.append((target, saved))
                os.replace(self.root / rel, target)  # atomic: the old file or the new one, never none
            journal.unlink()
        except OSError as exc:
            for target, saved in reversed(moved):
                if saved is not None:
                    os.replace(saved, target)
                else:
                    target.unlink(missing_ok=True)
            for folder in reversed(created):
                shutil.rmtree(folder, ignore_errors=True)
            journal.unlink(missing_ok=True)
            raise OutputError(
                f"cannot write {exc.filename or self.dest}: {exc.strerror or exc}; the project was left as it was "
                "(free some space or check permissions, then import again)"
            ) from exc
        finally:
            shutil.rmtree(backup, ignore_errors=True)

    def close(self) -> None:
        """Remove the staging folder (after a commit, or instead of one)."""
        shutil.rmtree(self.root, ignore_errors=True)


def _write_journal(path: Path, data: dict) -> None:
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        json.dump(data, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)


def finish(dest: Path) -> bool:
    """Finish the moves of an import into `dest` that was stopped half-way (its journal says which); True if any."""
    journal = dest / IMPORT_JOURNAL
    if not journal.is_file():
        return False
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
        staging = dest.parent / data["staging"]
        files = [str(f) for f in data["files"]]
        backup = dest.parent / data["backup"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OutputError(
            f"{journal} is damaged ({exc}), so the stopped import it records cannot be finished; restore the project "
            "from version control (git checkout .), delete the file, and import again"
        ) from None
    for rel in files:
        source, target = staging / rel, dest / rel
        if ".." in Path(rel).parts or Path(rel).is_absolute() or not staging.name.startswith(f".{dest.name}.import-"):
            raise OutputError(f"{journal} names '{rel}' outside the project; delete it, and check the project in git")
        if source.is_file():  # not moved yet; the ones already moved are gone from staging
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    journal.unlink()
    shutil.rmtree(staging, ignore_errors=True)
    if backup.name.startswith(f".{dest.name}.backup-"):
        shutil.rmtree(backup, ignore_errors=True)
    return True


# A staging or backup folder no journal names and older than this is a killed run's: removed.
STALE_SECONDS = 3600


def sweep(dest: Path) -> None:
    """Remove what killed imports left next to the project: staging and backup folders an hour old."""
    import time

    if not dest.parent.is_dir():
        return
    for prefix in (f".{dest.name}.import-", f".{dest.name}.backup-"):
        for folder in dest.parent.glob(f"{prefix}*"):
            try:
                if folder.is_dir() and not folder.is_symlink() and time.time() - folder.stat().st_mtime > STALE_SECONDS:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue
