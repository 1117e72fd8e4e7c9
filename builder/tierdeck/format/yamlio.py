"""Reading YAML safely and fast, and finding the line of a value only when an error needs it.

The happy path parses with PyYAML's C loader and no position bookkeeping. When a problem must be
reported, `locate` parses that one file again, keeping marks, and walks to the offending value.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, ClassVar

import yaml
import yaml.reader
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from tierdeck.errors import Diagnostic, YamlPath, shown
from tierdeck.format import fastyaml

MB = 1024 * 1024
MAX_FILE_BYTES = 5 * MB
# Aliases can make a small file expand to billions of values ("billion laughs"); nothing an author
# writes by hand comes near this many values once aliases are expanded.
MAX_EXPANDED_VALUES = 1_000_000
# Nor to this much text: one long anchored string used a thousand times is a small file and a huge deck
# (what matters is the bytes that reach the collection and students' phones, not the count of values).
MAX_EXPANDED_BYTES = 2 * MAX_FILE_BYTES
MERGE_TAG = "tag:yaml.org,2002:merge"

try:  # the C loader is ~8x faster; fall back to pure Python where libyaml is missing
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class DuplicateKeyError(Exception):
    """A mapping names the same key twice; YAML would silently keep only the last one."""

    def __init__(self, key: str, first_line: int, line: int):
        self.key, self.first_line, self.line = key, first_line, line


class KeyNotTextError(Exception):
    """A mapping key written as a list or mapping (`? [a, b]`); keys must be text."""

    def __init__(self, line: int):
        self.line = line


STR_TAG = "tag:yaml.org,2002:str"
# Plain scalars YAML would turn into numbers, dates, yes/no or null. As keys they stay text (`no:` is the
# key 'no', not False); as values, numbers and dates stay the text the author wrote, because every value
# in the format is text: `1.10` stays "1.10" (a float would make it "1.1") and `1:30` stays "1:30" (YAML
# 1.1 reads it as the base-60 number 90).
_IMPLICIT_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("bool", "int", "float", "null", "timestamp"))
# Tags the safe loader knows but plain data never needs; refused like any other explicit tag.
_REFUSED_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in ("binary", "set", "omap", "pairs"))


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """The safe loader, refusing duplicate keys instead of silently keeping the last one; keys are text."""

    yaml_constructors: ClassVar[dict] = {
        tag: constructor for tag, constructor in SafeConstructor.yaml_constructors.items() if tag not in _REFUSED_TAGS
    }

    def construct_mapping(self, node: Node, deep: bool = False) -> dict:
        if isinstance(node, MappingNode):
            seen: dict[Any, int] = {}
            merged = False
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    merged = True
                    continue  # merged keys may legitimately be overridden
                if not isinstance(key_node, ScalarNode):
                    raise KeyNotTextError(key_node.start_mark.line + 1)
                if key_node.tag in _IMPLICIT_TAGS:
                    key_node.tag = STR_TAG
                line = key_node.start_mark.line + 1
                if key_node.value in seen:
                    raise DuplicateKeyError(key_node.value, seen[key_node.value], line)
                seen[key_node.value] = line
            if merged:  # keys merged in from an anchor are text too
                SafeConstructor.flatten_mapping(self, node)
                for key_node, _ in node.value:
                    if key_node.tag in _IMPLICIT_TAGS:
                        key_node.tag = STR_TAG
        return SafeConstructor.construct_mapping(self, node, deep)

    def construct_as_written(self, node: ScalarNode) -> str:
        """A number or date, as the text the author wrote."""
        return node.value


_Loader.add_constructor("tag:yaml.org,2002:map", SafeConstructor.construct_yaml_map)
# YAML 1.2 booleans: only true/false are. `back: no` is the word "no" (YAML 1.1 would make it false), and a
# yes/no field such as `reverse: yes` still reads as true when validated.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
for _name in ("int", "float", "timestamp"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_name}", _Loader.construct_as_written)


def _expanded_size(value: Any, limit: int, byte_limit: int | None = None) -> tuple[int, int]:
    """How many values, and how many bytes of text, `value` holds once aliases are expanded, counting each
    shared node once per use (the count stops soon after either limit is passed)."""
    byte_limit = MAX_EXPANDED_BYTES if byte_limit is None else byte_limit
    memo: dict[int, tuple[int, int]] = {}

    def size(v: Any) -> tuple[int, int]:
        if isinstance(v, (list, dict)):
            key = id(v)
            if key in memo:
                return memo[key]
            memo[key] = (1, 0)  # a recursive alias counts once instead of looping
            values, length = 1, 0
            for child in (item for pair in v.items() for item in pair) if isinstance(v, dict) else v:
                child_values, child_length = size(child)
                values += child_values
                length += child_length
                if values > limit or length > byte_limit:
                    break
            memo[key] = (values, length)
            return values, length
        return 1, len(v.encode("utf-8", "surrogatepass")) if isinstance(v, str) else 8

    return size(value)


def read_text(path: Path) -> tuple[str | None, list[Diagnostic]]:
    """The file's text, or the reason it cannot be read as a UTF-8 card file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Diagnostic(
                    path,
                    f"the file is {math.ceil(size * 10 / MB) / 10} MB, over the limit of {MAX_FILE_BYTES // MB} MB for "
                    "one YAML file; split it into several files",
                    line=1,
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
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None, [Diagnostic(path, "is saved as UTF-16; save it as UTF-8 in your editor", line=1)]
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Diagnostic(
                path,
                f"is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}, perhaps saved as Latin-1 "
                "or Windows-1252); save the file as UTF-8 in your editor",
                line=line,
            )
        ]
    # A byte-order mark is how some editors say "UTF-8"; it is not part of the text.
    return text.removeprefix("\ufeff"), []


_INDENTATION = (
    "invalid YAML: this line is not indented like the lines around it; line up the keys of one mapping (one card) "
    "in the same column, and indent a list's '- ' items under their key, with spaces"
)


def _line_text(text: str, mark: Any) -> str:
    """The line a YAML error mark points into ('' past the end of the file)."""
    lines = text.split("\n")
    return lines[mark.line] if mark is not None and mark.line < len(lines) else ""


def _char_at(text: str, mark: Any) -> str:
    """The character a YAML error mark points at ('' at the end of a line or of the file)."""
    line = _line_text(text, mark)
    return line[mark.column] if mark is not None and mark.column < len(line) else ""


def _yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[str, int | None]:
    """A YAML library error as `(what is wrong; how to fix it, line)`, in an author's words."""
    line: int | None
    if isinstance(exc, yaml.reader.ReaderError):
        # libyaml counts the position in bytes of UTF-8, the pure-Python reader in characters
        if _BaseLoader is yaml.SafeLoader:
            line = text[: exc.position].count("\n") + 1
        else:
            line = text.encode("utf-8", "surrogatepass")[: exc.position].count(b"\n") + 1
        return (
            f"invalid YAML: the invisible control character U+{exc.character:04X} is not allowed; "
            "delete it (retype the text around it if you cannot see it)"
        ), line
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    mark = problem_mark or context_mark
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    char = _char_at(text, problem_mark)
    opened = context_mark.line + 1 if context_mark is not None else line
    if "tab character" in problem or char == "\t":
        return "invalid YAML: a tab character is used for indentation; indent with spaces only", line
    if isinstance(exc, ConstructorError) and "could not determine a constructor for the tag" in problem:
        tag = problem.split("tag", 1)[1].strip(" '").replace("tag:yaml.org,2002:", "!!")
        if tag.startswith("!!python"):
            return (
                f"invalid YAML: the tag '{shown(tag)}' asks for a Python object, which tierdeck never creates "
                "(it reads plain data only); remove the tag"
            ), line
        return (
            f"invalid YAML: the tag '{shown(tag)}' is not allowed (tierdeck reads plain data only); remove it, or "
            "put the whole value in quotes if the '!' is part of the text"
        ), line
    if "found unhashable key" in problem or ("did not find expected key" in problem and char not in ("]", "}")):
        opener = _VALUE_OPENS_BRACKET.match(_line_text(text, problem_mark))
        if opener:
            return _bracket_value(opener.group(1)), line
    if "found unhashable key" in problem:
        return _KEY_NOT_TEXT, line
    if "found undefined alias" in problem or context == "while scanning an alias":
        return (
            "invalid YAML: a value starting with '*' is read as an alias (a reference to an '&anchor'); if the '*' "
            "is part of the text, e.g. markdown *emphasis*, put the whole value in quotes"
        ), line
    if context == "while scanning an anchor":
        return "invalid YAML: a value starting with '&' is read as an anchor; put the whole value in quotes", line
    if "quoted scalar" in context and "end of stream" in problem:
        return f"invalid YAML: a quoted text opened on line {opened} is never closed; add the closing quote", opened
    if "quoted scalar" in context and "escape" in problem:
        return (
            "invalid YAML: a backslash in double quotes starts an escape such as \\n; write \\\\ for a backslash, "
            "or use single quotes, which keep backslashes as they are"
        ), line
    if "flow sequence" in context or "flow mapping" in context:
        bracket, closing = ("[", "]") if "sequence" in context else ("{", "}")
        return (
            f"invalid YAML: the '{bracket}' opened on line {opened} is not closed, or its items are not separated "
            f"by ', '; add the closing '{closing}' (and put items holding ',' or ': ' in quotes)"
        ), opened
    if "mapping values are not allowed" in problem:
        before = _line_text(text, problem_mark)[: problem_mark.column] if problem_mark is not None else ""
        if before.strip() and ":" not in before and not before.lstrip().startswith("-"):
            return (
                "invalid YAML: this line is indented deeper than the key above it, so it reads as part of that "
                "key's value; line it up with the other keys"
            ), line
        return (
            "invalid YAML: a ': ' inside a value starts a new key; put the value in quotes, e.g. front: \"Ratio: high\""
        ), line
    if "block sequence entries are not allowed" in problem:
        return (
            "invalid YAML: a '- ' list item cannot follow 'key: ' on the same line; put each item on its own line "
            "below the key, indented, or put the value in quotes"
        ), line
    if context == "while scanning a block scalar":
        return (
            "invalid YAML: text after '|' or '>' must start on the next line, indented; move it there, or put the "
            "value in quotes"
        ), line
    if "found character that cannot start any token" in problem or "did not find expected node content" in problem:
        if char:
            return f"invalid YAML: a value cannot start with '{shown(char)}'; put the whole value in quotes", line
        return "invalid YAML: a value is missing here; write it, or put the text in quotes", line
    if "expected a single document" in context:
        return (
            "invalid YAML: a second document starts here ('---'); a file holds one document, so remove the '---' "
            "line or split the file"
        ), line
    if "found incompatible YAML document" in problem or "directive" in problem:
        return "invalid YAML: this '%' directive is not supported; remove the line", line
    if context == "while scanning a simple key":
        return (
            "invalid YAML: this line is neither 'key: value' nor a '- ' list item; add the missing ': ' or '- ', "
            "or indent it to continue the value above"
        ), opened
    if "did not find expected key" in problem and char in ("]", "}"):
        return f"invalid YAML: this '{char}' closes nothing; remove it, or put the whole value in quotes", line
    if "did not find expected key" in problem:
        if problem_mark is not None and _line_text(text, problem_mark)[: problem_mark.column].rstrip()[-1:] in (
            "'",
            '"',
        ):
            return "invalid YAML: text follows the closing quote; put the whole value inside the quotes", line
        return _INDENTATION, line
    if "did not find expected '-' indicator" in problem or "expected <block end>" in problem:
        return _INDENTATION, line
    if "nesting depth" in problem:
        return _TOO_DEEP, line
    if "for merging" in problem:
        return "invalid YAML: '<<' merges mappings only; write '<<: *anchor' naming a mapping", line
    detail = shown(f"{context}, {problem}" if context else problem, 200)
    return f"invalid YAML ({detail}); check the quoting and indentation of this line and the one before", line


# `key: {...` or `- [...`: a value YAML reads as a mapping or list because of its first character
_VALUE_OPENS_BRACKET = re.compile(r"\s*(?:- +)?(?:[^\s'\"#{\[][^:]*: +)?([{\[])")


def _bracket_value(bracket: str) -> str:
    """A text value starting with '{' or '[' (a cloze, a '[K+]'): the fix is quoting, never indentation."""
    what, example = ("a mapping", 'text: "{{c1::Vasopressin}} binds V2 receptors"') if bracket == "{" else (
        "a list",
        'front: "[K+] above 5.5 mmol/L is called what?"',
    )
    return (
        f"invalid YAML: a value starting with '{bracket}' is read as {what}, so the text after its closing bracket "
        f"does not fit; put the whole value in quotes, e.g. {example}"
    )


_KEY_NOT_TEXT = "invalid YAML: a key must be plain text, not a list or mapping; write the key as text"
_TOO_DEEP = "invalid YAML: values are nested too deeply; flatten the structure"


def parse(path: Path, text: str) -> tuple[Any, list[Diagnostic]]:
    """The YAML document in `text`, or diagnostics explaining why it is not usable data."""
    try:
        data = fastyaml.load(text, MAX_EXPANDED_VALUES)
        aliased = False  # yaml-rs is used only for files without anchors, so nothing can expand
    except fastyaml.NotFast:
        data, problems = _parse_pyyaml(path, text)
        if problems:
            return None, problems
        aliased = "&" in text or "*" in text
    data, problems = _checked(path, text, data, aliased)
    if not problems and (" #" in text or "\t#" in text):
        problems = _comments_cutting_text(path, text)
    return (None if problems else data), problems


_COMMENT_AFTER = re.compile(r"[ \t]+#(.*)")


def _comments_cutting_text(path: Path, text: str) -> list[Diagnostic]:
    """Unquoted text followed by ' #' on its line: YAML drops the rest of the line as a comment, silently.

    Flagged when the value is prose (it holds a space) or the '#' is glued to what follows (`#1 reason`): a
    comment after a one-word value (`tier: core  # the basics`) is an author's comment.
    """
    lines = text.split("\n")
    found, previous = [], None
    try:
        for token in yaml.scan(text, Loader=_BaseLoader):
            if (
                isinstance(token, yaml.ScalarToken)
                and token.plain
                and isinstance(previous, (yaml.ValueToken, yaml.BlockEntryToken))
            ):
                end = token.end_mark
                comment = _COMMENT_AFTER.match(lines[end.line][end.column :]) if end.line < len(lines) else None
                if comment and (" " in token.value or comment.group(1)[:1] not in ("", " ", "\t", "#")):
                    example = shown(f"{token.value} #{comment.group(1)}".strip(), 60)
                    found.append(
                        Diagnostic(
                            path,
                            "the text after ' #' on this line is dropped: YAML reads ' #' as the start of a comment; "
                            f"if the '#' is part of the text, put the whole value in quotes, e.g. \"{example}\", "
                            "and if it is a comment, put it on a line of its own",
                            line=end.line + 1,
                        )
                    )
            previous = token
    except yaml.YAMLError:  # the parser accepted it; a scanner disagreeing is no reason to stop
        return []
    return found


def _parse_pyyaml(path: Path, text: str) -> tuple[Any, list[Diagnostic]]:
    try:
        return yaml.load(text, Loader=_Loader), []
    except DuplicateKeyError as exc:
        return None, [
            Diagnostic(
                path,
                f"the key '{shown(exc.key)}' appears twice in one mapping (first on line {exc.first_line}); "
                "remove or rename one of them",
                line=exc.line,
            )
        ]
    except KeyNotTextError as exc:
        lines = text.split("\n")
        bracket = _VALUE_OPENS_BRACKET.match(lines[exc.line - 1]) if exc.line <= len(lines) else None
        return None, [Diagnostic(path, _bracket_value(bracket.group(1)) if bracket else _KEY_NOT_TEXT, line=exc.line)]
    except yaml.YAMLError as exc:
        message, line = _yaml_problem(exc, text)
        return None, [Diagnostic(path, message, line=line)]
    except RecursionError:
        return None, [Diagnostic(path, _TOO_DEEP, line=1)]


def _checked(path: Path, text: str, data: Any, aliased: bool) -> tuple[Any, list[Diagnostic]]:
    """`data`, unless it holds control characters or expands past the alias limit."""
    if "\\" in text:  # only a backslash escape in double quotes can put a control character in a value
        found = _control_characters(path, data)
        if found:
            return None, found
    if aliased:
        values, length = _expanded_size(data, MAX_EXPANDED_VALUES)
        if values > MAX_EXPANDED_VALUES or length > MAX_EXPANDED_BYTES:
            what = (
                f"more than {MAX_EXPANDED_VALUES:,} values; write the values out instead of nesting aliases"
                if values > MAX_EXPANDED_VALUES
                else f"more than {MAX_EXPANDED_BYTES // MB} MB of text; write long text once, not through "
                "aliases used many times"
            )
            return None, [Diagnostic(path, f"aliases ('*name') in this file expand to {what}", line=1)]
    return data, []


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _control_characters(file: Path, data: Any) -> list[Diagnostic]:
    """Text values holding an invisible control character (Anki drops them: a card could turn blank)."""
    from tierdeck.format.schema import format_path

    found = []
    seen: set[int] = set()
    stack: list[tuple[YamlPath, Any]] = [((), data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            match = _CONTROL.search(value)
            if match:
                found.append(
                    Diagnostic(
                        file,
                        f"{format_path(where)}: holds the invisible control character U+{ord(match.group()):04X}, "
                        "made by an escape such as \\b or \\x1F in double quotes; remove it (write \\\\ for a "
                        "backslash, or use single quotes)",
                        path=where,
                    )
                )
        elif isinstance(value, (dict, list)) and id(value) not in seen:
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(((*where, key), child) for key, child in items)
    return found


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
