"""`tierdeck addon build`: the students' Anki add-on as one `.ankiaddon` file.

The file is a zip Anki installs by double-click or Tools > Add-ons > Install from file: Anki's
`manifest.json` (the folder name, the add-on's name, the oldest Anki it runs on), the add-on's own modules,
`config.json` and `config.md` from `builder/tierdeck_addon/`, and under `vendor/` the part of tierdeck they
import: `tierdeck.portable` modules and what those import, found by reading their import statements, so
nothing that needs a library Anki lacks can slip in. The zip is reproducible: fixed times, sorted names.
"""

from __future__ import annotations

import ast
import json
import os
import zipfile
from pathlib import Path

import tierdeck_addon
from tierdeck import __version__
from tierdeck.errors import OutputError

PACKAGE = "tierdeck_follow"  # the add-on's folder in Anki's addons21/
NAME = "tierdeck: follow a deck"
MIN_POINT_VERSION = 231000  # Anki 23.10: the first with "merge note types" on import (ImportAnkiPackageOptions)
_TIME = (1980, 1, 1, 0, 0, 0)
_DATA = ("config.json", "config.md")


def _tierdeck_root() -> Path:
    import tierdeck

    return Path(tierdeck.__file__).resolve().parent


def _imports(path: Path) -> set[str]:
    """The tierdeck modules a source file imports (absolute imports only, as tierdeck writes them)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("tierdeck."):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # `from tierdeck.portable import release`
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tierdeck."))
    return found


def vendored_files() -> dict[str, Path]:
    """Archive name -> source file of every tierdeck module the add-on needs, with their packages' __init__."""
    root = _tierdeck_root()
    addon = Path(tierdeck_addon.__file__).resolve().parent
    todo = [m for p in sorted(addon.glob("*.py")) for m in _imports(p)]
    files: dict[str, Path] = {}
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")[1:]
        for candidate in (root.joinpath(*parts).with_suffix(".py"), root.joinpath(*parts, "__init__.py")):
            if candidate.is_file():
                break
        else:
            continue  # a name imported from a module (a function or class), not a module itself
        for depth in range(len(parts) if candidate.name != "__init__.py" else len(parts) + 1):
            init = root.joinpath(*parts[:depth], "__init__.py")
            files["vendor/tierdeck/" + init.relative_to(root).as_posix()] = init
        files["vendor/tierdeck/" + candidate.relative_to(root).as_posix()] = candidate
        todo.extend(_imports(candidate))
    return dict(sorted(files.items()))


def addon_files() -> dict[str, bytes]:
    """Every member of the .ankiaddon, by name."""
    addon = Path(tierdeck_addon.__file__).resolve().parent
    manifest = {
        "package": PACKAGE,
        "name": NAME,
        "human_version": __version__,
        "min_point_version": MIN_POINT_VERSION,
        "homepage": "https://github.com/tierdeck/tierdeck",
    }
    members = {"manifest.json": (json.dumps(manifest, indent=2) + "\n").encode()}
    for path in sorted(addon.glob("*.py")):
        members[path.name] = path.read_bytes()
    for name in _DATA:
        members[name] = (addon / name).read_bytes()
    for name, path in vendored_files().items():
        members[name] = path.read_bytes()
    return members


def build_addon(out: Path) -> Path:
    """Write the add-on to `out` (replaced atomically); returns the path."""
    members = addon_files()
    partial = out.with_name(f".{out.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in sorted(members):
                info = zipfile.ZipInfo(name, _TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, members[name])
        os.replace(partial, out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OutputError(
            f"cannot write {out}: {exc.strerror or exc}; choose another file with -o, or check the folder's permissions"
        ) from exc
    return out
