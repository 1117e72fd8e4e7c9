"""Writing an import: YAML text tierdeck reads back exactly, and a staging folder moved into place at the end.

Every file an import writes is first written into a staging folder next to the project (`.DIR.import-*`),
together with a copy of the project's own decks, note types and card folders, so the whole result can
be validated (and its lock file computed) by the same code a build runs. Only when all of that
succeeded are the new and changed files moved into the project; if a move fails, the files moved so
far are put back, so the project is either updated entirely or left as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import yaml

from tierdeck.errors import OutputError
from tierdeck.format import yamlio


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
    """A folder next to the project where an import is written whole before anything in the project changes."""

    def __init__(self, dest: Path):
        self.dest = dest
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
        """Move every written file into the project; on any failure, put back what was there and raise."""
        backup = self.root.with_name(self.root.name + ".old")
        moved: list[tuple[Path, Path | None]] = []  # (file in the project, its backup or None if it is new)
        created: list[Path] = []
        try:
            for rel in sorted(self.written):
                target = self.dest / rel
                for folder in reversed([*target.parents]):
                    if not folder.exists() and folder.is_relative_to(self.dest.parent):
                        folder.mkdir()
                        created.append(folder)
                saved = None
                if target.exists():
                    saved = backup / rel
                    saved.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(target, saved)
                moved.append((target, saved))
                os.replace(self.root / rel, target)
        except OSError as exc:
            for target, saved in reversed(moved):
                target.unlink(missing_ok=True)
                if saved is not None:
                    os.replace(saved, target)
            for folder in reversed(created):
                shutil.rmtree(folder, ignore_errors=True)
            raise OutputError(
                f"cannot write {exc.filename or self.dest}: {exc.strerror or exc}; the project was left as it was "
                "(free some space or check permissions, then import again)"
            ) from exc
        finally:
            shutil.rmtree(backup, ignore_errors=True)

    def close(self) -> None:
        """Remove the staging folder (after a commit, or instead of one)."""
        shutil.rmtree(self.root, ignore_errors=True)
