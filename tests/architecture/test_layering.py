"""The package's layering, read from its imports: the rules each folder's docstring states stay true.

Every import counts, at the top of a module or inside a function (a deferred import hides a dependency
but does not remove it), and `if TYPE_CHECKING:` ones too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "builder" / "tierdeck"

# Each layer may import the layers before it in this list (and itself); the last group may not import each other.
LAYERS = ["base", "portable", "format", "notes", "lint", "project", "release", "side", "cli"]
BASE = {"tierdeck", "tierdeck.errors", "tierdeck.cache", "tierdeck.workers", "tierdeck.files"}
SIDE = ("tierdeck.tools", "tierdeck.preview", "tierdeck.importing")
THIRD_PARTY_HOMES = {
    "genanki": ("tierdeck.release.apkg",),
    "pydantic": ("tierdeck.format.", "tierdeck.notes.kinds", "tierdeck.notes.loader", "tierdeck.notes.notetypes"),
    "click": ("tierdeck.cli",),
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    """Every module `path` imports (absolute names; `from tierdeck.x import y` counts y when it is a module)."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body if top_level_only else ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if (PACKAGE.parent / (candidate.replace(".", "/") + ".py")).exists() or (
                    PACKAGE.parent / candidate.replace(".", "/")
                ).is_dir():
                    found.add(candidate)
    return found


MODULES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module in ("tierdeck.cli", "tierdeck.__main__"):
        return "cli"
    if module.startswith(SIDE):
        return "side"
    return module.split(".")[1]


def _side_group(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_layering__every_module_imports_only_below_itself():
    wrong = []
    for module, imports in MODULES.items():
        mine = LAYERS.index(_layer(module))
        for target in imports:
            if not target.startswith("tierdeck") or target == module or target not in MODULES:
                continue
            theirs = LAYERS.index(_layer(target))
            if theirs > mine or (
                theirs == mine == LAYERS.index("side") and _side_group(target) != _side_group(module)
            ):
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_layering__nothing_imports_the_command_line():
    assert [m for m, imports in MODULES.items() if "tierdeck.cli" in imports and m != "tierdeck.__main__"] == []


@pytest.mark.parametrize("library", sorted(THIRD_PARTY_HOMES))
def test_layering__each_library_lives_where_its_job_is(library):
    homes = THIRD_PARTY_HOMES[library]
    users = sorted(m for m, imports in MODULES.items() if any(i == library or i.startswith(library + ".") for i in imports))
    assert users and [m for m in users if not m.startswith(homes)] == []


# What the portable core and the base may import inside a function, for one job that needs it: Anki's own
# engine (there inside Anki), the `tierdeck[import]` extras that read Anki's current package format, and orjson,
# the cache's faster JSON writer (the standard library writes the same bytes without it).
LAZY_EXTRAS = {"anki", "zstandard", "google", "orjson"}


def test_layering__the_portable_core_and_the_base_use_the_standard_library_only():
    stdlib = set(sys.stdlib_module_names)
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if _layer(module) not in ("base", "portable"):
            continue
        top_level = _imports(path, top_level_only=True)
        for target in MODULES[module]:
            top = target.split(".")[0]
            if top == "tierdeck" or top in stdlib or (top in LAZY_EXTRAS and target not in top_level):
                continue
            wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_layering__there_are_no_import_cycles():
    graph = {m: {t for t in imports if t in MODULES and t != m} for m, imports in MODULES.items()}
    # a package's __init__ importing its own modules is how packages re-export; not a cycle of modules
    for module in graph:
        graph[module] = {t for t in graph[module] if not (module == t.rsplit(".", 1)[0] or t == module.rsplit(".", 1)[0])}
    cycles, state = [], {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*stack[stack.index(target):], target]))
            elif target not in state:
                visit(target, [*stack, target])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_layering__the_portable_core_runs_in_a_bare_interpreter(tmp_path):
    """`import tierdeck.portable...` with nothing but the standard library and the package's own files."""
    import shutil
    import subprocess

    copy = tmp_path / "tierdeck"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "import sys, pkgutil, importlib, tierdeck.portable as p\n"
        "names = [m.name for m in pkgutil.iter_modules(p.__path__)]\n"
        "for n in names: importlib.import_module('tierdeck.portable.' + n)\n"
        "extra = sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names) - {'tierdeck', '__main__'})\n"
        "print(len(names), extra)\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-I", "-c", f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n{code}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    count, extra = result.stdout.split(" ", 1)
    assert int(count) >= 8 and extra.strip() == "[]"
