"""Reading YAML safely and fast, and finding the line of a value only when an error needs it.

The happy path parses with PyYAML's C loader and no position bookkeeping. When a problem must be
reported, `locate` parses that one file again, keeping marks, and walks to the offending value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from builder.errors import Diagnostic, YamlPath

MAX_FILE_BYTES = 5 * 1024 * 1024
# Aliases can make a small file expand to billions of values ("billion laughs"); nothing an author
# writes by hand comes near this many values once aliases are expanded.
MAX_EXPANDED_VALUES = 1_000_000
MERGE_TAG = "tag:yaml.org,2002:merge"

try:  # the C loader is ~8x faster; fall back to pure Python where libyaml is missing
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader  # type: ignore[misc]


class DuplicateKeyError(Exception):
    """A mapping names the same key twice; YAML would silently keep only the last one."""

    def __init__(self, key: str, first_line: int, line: int):
        self.key, self.first_line, self.line = key, first_line, line


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader, refusing duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: Node, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    break  # merged keys may legitimately be overridden
                if isinstance(key_node, ScalarNode):
                    line = key_node.start_mark.line + 1
                    if key_node.value in seen:
                        raise DuplicateKeyError(key_node.value, seen[key_node.value], line)
                    seen[key_node.value] = line
        return SafeConstructor.construct_mapping(self, node, deep)


_Loader.add_constructor("tag:yaml.org,2002:map", SafeConstructor.construct_yaml_map)


def _expanded_size(value: Any, limit: int) -> int:
    """How many values `value` holds once aliases are expanded, counting each shared node once per use."""
    memo: dict[int, int] = {}

    def size(v: Any) -> int:
        if isinstance(v, (list, dict)):
            key = id(v)
            if key in memo:
                return memo[key]
            memo[key] = 1  # a recursive alias counts once instead of looping
            children = v.values() if isinstance(v, dict) else v
            total = 1
            for child in children:
                total += size(child)
                if total > limit:
                    break
            memo[key] = total
            return total
        return 1

    return size(value)


def read_text(path: Path) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or the reason it cannot be read as a UTF-8 card file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Diagnostic(
                    path,
                    f"file is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // (1024 * 1024)} MB limit for one "
                    "YAML file; split its cards over several files",
                )
            ]
        raw = path.read_bytes()
    except IsADirectoryError:
        return None, [Diagnostic(path, "is a folder, not a YAML file; name a .yaml file")]
    except OSError as exc:
        return None, [Diagnostic(path, f"cannot be read ({exc.strerror}); check that it exists and is readable")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Diagnostic(
                path,
                f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "save the file as UTF-8 in your editor",
                line=line,
            )
        ]
    return text.removeprefix("\ufeff"), []


def _yaml_problem(exc: yaml.YAMLError) -> tuple[str, int | None]:
    """A YAML library error as `(what is wrong; how to fix it, line)`."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    if "'\\t'" in problem or "\\t" in problem:
        return "invalid YAML: a tab character is used for indentation; indent with spaces only", line
    if isinstance(exc, ConstructorError) and "could not determine a constructor for the tag" in problem:
        tag = problem.rsplit("tag", 1)[-1].strip(" '")
        return (
            f"invalid YAML: the tag '{tag}' is not allowed (tierdeck reads plain data only); "
            "remove the tag and write the value as text"
        ), line
    if "found undefined alias" in problem:
        return f"invalid YAML: {problem}; define the anchor with '&name' before using '*name'", line
    if "quoted scalar" in context:
        opened = exc.context_mark.line + 1 if getattr(exc, "context_mark", None) else line
        return f"invalid YAML: a quoted text opened on line {opened} is never closed; add the closing quote", opened
    if "mapping values are not allowed" in problem:
        return (
            "invalid YAML: a ': ' inside a value starts a new key; put the value in quotes, e.g. front: \"Ratio: high\""
        ), line
    if "expected <block end>" in problem or "bad indentation" in problem or "did not find expected" in problem:
        detail = f"{context} {problem}".strip() if context else problem
        return f"invalid YAML ({detail}); check the indentation and quoting of this line and the one before", line
    detail = f"{context}, {problem}" if context else problem
    return f"invalid YAML ({detail}); fix the syntax at this line", line


def parse(path: Path, text: str) -> tuple[Any, list[Diagnostic]]:
    """The YAML document in `text`, or diagnostics explaining why it is not usable data."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except DuplicateKeyError as exc:
        return None, [
            Diagnostic(
                path,
                f"the key '{exc.key}' appears twice in one mapping (first on line {exc.first_line}); "
                "remove or rename one of them",
                line=exc.line,
            )
        ]
    except yaml.YAMLError as exc:
        message, line = _yaml_problem(exc)
        return None, [Diagnostic(path, message, line=line)]
    except RecursionError:
        return None, [Diagnostic(path, "invalid YAML: values are nested too deeply; flatten the structure")]
    if ("&" in text or "*" in text) and _expanded_size(data, MAX_EXPANDED_VALUES) > MAX_EXPANDED_VALUES:
        return None, [
            Diagnostic(
                path,
                f"aliases in this file expand to more than {MAX_EXPANDED_VALUES:,} values; "
                "write the values out instead of nesting aliases",
            )
        ]
    return data, []


def load(path: Path) -> tuple[Any, list[Diagnostic]]:
    """Read and parse one YAML file; data is None when there are diagnostics."""
    text, problems = read_text(path)
    if text is None:
        return None, problems
    return parse(path, text)


# --- locating a value by its path, only when a diagnostic needs a line --------------------------


def _compose(path: Path) -> Node | None:
    text, _ = read_text(path)
    if text is None:
        return None
    try:
        return yaml.compose(text, Loader=_BaseLoader)
    except yaml.YAMLError:
        return None


class Locator:
    """Finds line numbers of YAML paths, re-reading each file at most once."""

    def __init__(self) -> None:
        self._nodes: dict[Path, Node | None] = {}

    def line(self, file: Path, path: YamlPath, at_key: bool = False) -> int | None:
        """The 1-based line of the value at `path` (or of its key with `at_key`), or of its nearest parent."""
        if file not in self._nodes:
            self._nodes[file] = _compose(file)
        node = self._nodes[file]
        if node is None:
            return None
        line = node.start_mark.line + 1
        for step in path:
            child: Node | None = None
            key_line: int | None = None
            if isinstance(node, MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, ScalarNode) and key_node.value == str(step):
                        child, key_line = value_node, key_node.start_mark.line + 1
                        break
            elif isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
                child = node.value[step]
            if child is None:
                return line
            node = child
            line = key_line if (at_key and key_line is not None and step == path[-1]) else node.start_mark.line + 1
        return line

    def resolve(self, diagnostic: Diagnostic) -> Diagnostic:
        """The diagnostic with its line filled in from its path."""
        if diagnostic.line is not None:
            return diagnostic
        line = self.line(diagnostic.file, diagnostic.path, diagnostic.at_key)
        return Diagnostic(
            diagnostic.file, diagnostic.message, line, diagnostic.path, diagnostic.level, diagnostic.at_key
        )
