"""Anki note types as data: tierdeck's built-in ones (package data) and a project's own (`notetypes/*.yaml`).

A note type file holds what Anki stores for a note type: its name, fields, card templates and CSS, and
the Anki note type id it must keep. tierdeck's five built-in note types (one per card type) ship as
such files in `tierdeck/data/notetypes/`; a project adds its own, or replaces a built-in one, in
`<project>/notetypes/<key>.yaml`, and cards name them by key (`notetype: <key>`).

The built-in note types carry no JavaScript: it is where mobile clients break. A project's own note
type (an imported deck's, typically) may, once its file says `scripts: allowed`.

Each note type has a `version`. Its *schema* (kind, field names, template names) may only change
together with a new version and so a new id: Anki refuses to update a note whose note type changed
schema (it reports it as conflicting and keeps the student's old copy). Template wording and CSS may
change freely and reach students on the next import (`tierdeck.lock` guards this).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator, Mapping
from functools import cache, cached_property
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

from tierdeck.errors import Diagnostic, shown
from tierdeck.format.layout import NOTETYPES_DIR
from tierdeck.portable.notetype import NoteType, Template

# What Anki forbids in a field name (it would break the template language).
_BAD_FIELD_NAME = re.compile(r'[:{}"]|^[#/^]')
# What in a template runs code or loads a page: refused unless the note type file says `scripts: allowed`.
ACTIVE_TAGS = frozenset({"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"})
_ACTIVE_SCHEME = re.compile(r"^(?:javascript|vbscript|data):", re.IGNORECASE)
_URL_IGNORED = re.compile(r"[\x00-\x20]")  # browsers drop controls and spaces in and before a scheme
_REMOTE_CSS = re.compile(r"@import|url\(\s*['\"]?\s*(?:https?:|//|javascript:)|expression\(", re.IGNORECASE)


class NoteTypes(Mapping[str, NoteType]):
    """The note types a project's cards can fill, by key: the built-in ones, then the project's own."""

    def __init__(self, notetypes: dict[str, NoteType], broken: frozenset[str] = frozenset()):
        self._by_key = notetypes
        self.broken = broken  # keys of the project's note type files that have errors

    def __getitem__(self, key: str) -> NoteType:
        return self._by_key[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    @cached_property
    def digest(self) -> str:
        """Changes whenever any note type changes: part of every cache key of compiled cards."""
        parts = [f"{k}/{nt.version}/{nt.model_id}/{nt.content_hash}/{nt.scripts_allowed}" for k, nt in sorted(self._by_key.items())]
        parts += sorted(f"{k}/broken" for k in self.broken)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@cache
def builtin() -> NoteTypes:
    """tierdeck's own note types, read from its package data (a broken one is a bug in tierdeck)."""
    folder = Path(str(resources.files("tierdeck") / "data" / "notetypes"))
    found: dict[str, NoteType] = {}
    for path in sorted(folder.glob("*.yaml")):
        key = path.name.removesuffix(".yaml")
        notetype, problems = _from_file(path, key, path.read_text(encoding="utf-8"), folder)
        if notetype is None or problems:
            raise RuntimeError(f"tierdeck's built-in note type {path.name} is broken: {problems}")
        found[key] = notetype
    return NoteTypes(found)


def project_notetypes(root: Path) -> tuple[NoteTypes, list[Diagnostic]]:
    """The built-in note types plus the project's `notetypes/*.yaml` (which may replace a built-in one)."""
    found = dict(builtin())
    problems: list[Diagnostic] = []
    broken = set()
    folder = root / NOTETYPES_DIR
    if folder.is_dir():
        for path in sorted(folder.glob("*.yaml")):
            key = path.name.removesuffix(".yaml")
            notetype, found_problems = read_notetype(path)
            problems += found_problems
            errors = [p for p in found_problems if p.level == "error"]
            # errors only in its templates or CSS: cards are still checked against its fields (all errors in one run)
            usable = notetype is not None and all(p.path[:1] in (("templates",), ("css",), ("css_file",)) for p in errors)
            if usable and notetype is not None:
                found[key] = notetype
            else:
                found.pop(key, None)
            if errors or not usable:
                broken.add(key)
    return NoteTypes(found, frozenset(broken)), problems


def read_notetype(path: Path) -> tuple[NoteType | None, list[Diagnostic]]:
    """One project note type file, validated: the note type, or why it cannot be used."""
    from tierdeck.format import yamlio

    text, problems = yamlio.read_text(path)
    if text is None:
        return None, problems
    return _from_file(path, path.name.removesuffix(".yaml"), text, path.parent, project=True)


def parse_notetype(path: Path, text: str) -> tuple[NoteType | None, list[Diagnostic]]:
    """A note type file's text (as if at `path`, its templates and CSS inline), validated like a project's own."""
    return _from_file(path, path.name.removesuffix(".yaml"), text, path.parent, project=True)


def _from_file(
    path: Path, key: str, text: str, folder: Path, project: bool = False
) -> tuple[NoteType | None, list[Diagnostic]]:
    from pydantic import ValidationError

    from tierdeck.format import yamlio
    from tierdeck.format.schema import SLUG_PATTERN, NoteTypeFile, kind_of, validation_diagnostics

    if not re.match(SLUG_PATTERN, key):
        return None, [
            Diagnostic(
                path,
                f"'{shown(key)}' is not a valid note type key (the file name); rename the file with lowercase letters, "
                "digits and single hyphens, e.g. notetypes/anking-cloze.yaml",
                line=1,
            )
        ]
    data, problems = yamlio.parse(path, text)
    if problems:
        return None, problems
    if not isinstance(data, dict):
        return None, [
            Diagnostic(path, f"must be a mapping of keys (a note type), got {kind_of(data)}; see 'tierdeck docs notetypes'", line=1)
        ]
    try:
        spec = NoteTypeFile.model_validate(data)
    except ValidationError as exc:
        return None, validation_diagnostics(path, NoteTypeFile, data, exc)

    sources = [path]

    def read(name: str, where: tuple) -> str | None:
        if "\\" in name:
            problems.append(_problem(path, where, f"'{shown(name)}' uses '\\'; use / in paths, e.g. {name.replace(chr(92), '/')}"))
            return None
        target = folder / name
        try:
            inside = target.resolve().is_relative_to(folder.resolve())
            if not inside:
                problems.append(_problem(path, where, f"'{shown(name)}' lies outside {NOTETYPES_DIR}/; keep it beside the note type file"))
                return None
            sources.append(target)
            return target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "is not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not found"
            problems.append(_problem(path, where, f"'{shown(name)}' {reason}; give a file next to this one, e.g. {key}/style.css"))
            return None

    css = spec.css or ""
    if spec.css is not None and spec.css_file is not None:
        problems.append(_problem(path, ("css_file",), "give the CSS either inline (css) or as a file (css_file), not both"))
    elif spec.css_file is not None:
        css = read(spec.css_file, ("css_file",)) or ""
    templates = []
    for index, template in enumerate(spec.templates):
        sides = []
        for side in ("front", "back"):
            inline, file = getattr(template, side), getattr(template, f"{side}_file")
            where = ("templates", index, side)
            if (inline is None) == (file is None):
                problems.append(
                    _problem(path, ("templates", index), f"give the {side} side either as '{side}:' or '{side}_file:'")
                )
                sides.append("")
            else:
                sides.append(inline if inline is not None else (read(file, (*where[:-1], f"{side}_file")) or ""))
        templates.append(Template(template.name, *sides))
    notetype = NoteType(
        key=key,
        name=spec.name,
        version=spec.version,
        fields=tuple(spec.fields),
        templates=tuple(templates),
        css=css,
        cloze=spec.kind == "cloze",
        explicit_id=spec.id,
        sort_field=spec.fields.index(spec.sort_field) if spec.sort_field in spec.fields else 0,
        file=path if project else None,
        scripts=spec.scripts == "allowed" and any(active_content(t.front) or active_content(t.back) for t in templates),
        builtin=not project,
        sources=tuple(sources) if project else (),
        scripts_allowed=spec.scripts == "allowed",
    )
    problems += _check(notetype, spec, path)
    # with errors, still the note type (its fields are valid): project_notetypes marks it broken
    return notetype, problems


def _problem(path: Path, where: tuple, message: str, level: str = "error") -> Diagnostic:
    from tierdeck.format.schema import format_path

    return Diagnostic(path, f"{format_path(where)}: {message}", path=where, level=level)  # type: ignore[arg-type]


def _check(notetype: NoteType, spec, path: Path) -> list[Diagnostic]:
    """What the schema alone cannot say: field and template names, templates Anki can render."""
    from tierdeck.portable.templates import TemplateError, referenced_fields

    problems = []
    seen: dict[str, int] = {}
    for index, name in enumerate(notetype.fields):
        if _BAD_FIELD_NAME.search(name):
            problems.append(
                _problem(path, ("fields", index), f"field name '{shown(name)}' cannot contain : {{ }} \" or start with # / ^")
            )
        if name in seen:
            problems.append(_problem(path, ("fields", index), f"field '{shown(name)}' is listed twice; rename one"))
        seen.setdefault(name, index)
    if spec.sort_field is not None and spec.sort_field not in notetype.fields:
        problems.append(_problem(path, ("sort_field",), f"'{shown(spec.sort_field)}' is not one of the fields"))
    names: set[str] = set()
    for index, template in enumerate(notetype.templates):
        if template.name in names:
            problems.append(_problem(path, ("templates", index, "name"), f"template '{shown(template.name)}' is listed twice"))
        names.add(template.name)
        for side in ("front", "back"):
            try:
                used = referenced_fields(getattr(template, side))
            except TemplateError as exc:
                problems.append(_problem(path, ("templates", index, side), f"{exc}; fix the template"))
                continue
            unknown = [f for f in used if f not in notetype.fields]
            if unknown:
                problems.append(
                    _problem(
                        path,
                        ("templates", index, side),
                        f"the template uses {', '.join(repr(f) for f in unknown)}, which is not a field of this note "
                        f"type; use one of {', '.join(notetype.fields)}",
                    )
                )
    if notetype.cloze and not any("cloze:" in t.front for t in notetype.templates[:1]):
        problems.append(
            _problem(path, ("templates", 0, "front"), "a cloze note type's template needs {{cloze:Field}}; add it")
        )
    if notetype.cloze and len(notetype.templates) > 1:
        problems.append(_problem(path, ("templates",), "a cloze note type has exactly one template (Anki uses only the first)"))
    active = {
        found: None
        for t in notetype.templates
        for found in [*active_content(t.front), *active_content(t.back)]
    }
    active.update(dict.fromkeys(_css_problems(notetype.css)))
    if active and spec.scripts != "allowed":
        problems.append(
            _problem(
                path,
                ("templates",),
                f"the templates run code or load pages ({', '.join(list(active)[:3])}): that runs on every student's "
                "device and breaks on some clients (AnkiDroid, AnkiMobile); remove it, or keep it knowingly with "
                "'scripts: allowed' (docs/notetypes.md)",
            )
        )
    return problems


class _ActiveContent(HTMLParser):
    """The parts of a template that run code or load another page, as a browser parses the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS:
            self.found.append(f"<{shown(tag, 20)}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{shown(name, 20)}= on <{shown(tag, 20)}>")
            elif name == "srcdoc":
                self.found.append(f"srcdoc= on <{shown(tag, 20)}>")
            elif value and _ACTIVE_SCHEME.match(_URL_IGNORED.sub("", value)):
                scheme = _URL_IGNORED.sub("", value).split(":", 1)[0].lower()
                self.found.append(f"a {scheme}: URL in <{shown(tag, 20)} {shown(name, 20)}>")
            elif name == "style" and value and _REMOTE_CSS.search(value):
                self.found.append(f"a remote url() in <{shown(tag, 20)} style>")
            elif tag == "meta" and name == "http-equiv":
                self.found.append("<meta http-equiv>")

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style" and _REMOTE_CSS.search(data):
            self.found.append("a remote url() or @import in <style>")


def active_content(template: str) -> list[str]:
    """What in `template` (HTML with Anki's {{...}}) runs code or loads a page, each once, in words."""
    if "<" not in template:
        return []
    parser = _ActiveContent()
    parser.feed(template)
    parser.close()
    return list(dict.fromkeys(parser.found))


def css_loads_pages(css: str) -> bool:
    """Whether a note type's CSS loads something from the network (which needs `scripts: allowed`)."""
    return bool(_css_problems(css))


def _css_problems(css: str) -> list[str]:
    """A note type's CSS loading something from the network (a media file's url(_font.woff) is fine)."""
    return ["a remote url() or @import in the CSS"] if _REMOTE_CSS.search(html.unescape(css)) else []
