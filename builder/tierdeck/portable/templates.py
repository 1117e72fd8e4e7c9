"""Anki's card template language, rendered the way Anki renders it, so a preview shows what a student sees.

Covers `{{Field}}`, `{{#Field}}...{{/Field}}`, `{{^Field}}...{{/Field}}`, the filters `cloze:`, `text:`,
`hint:`, `type:`, `tts`, `furigana:`, `kana:`, `kanji:` (others pass the text through, as Anki does for a
filter it does not know), and the special fields `{{FrontSide}}`, `{{Tags}}`, `{{Type}}`, `{{Card}}`,
`{{Deck}}`, `{{Subdeck}}`. Cloze output mirrors Anki's own (rslib `cloze.rs`): the asked deletion is
`<span class="cloze" data-cloze="..." data-ordinal="N">[...]</span>` (or `[hint]`) on the question, the
answer is `<span class="cloze" data-ordinal="N">answer</span>`, other deletions keep their text in a
`cloze-inactive` span. Nested deletions work as in Anki. tests/preview/test_preview.py holds the renderer to
the real Anki engine's `card.question()` and `card.answer()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from tierdeck.portable.cloze import Cloze, parse_clozes
from tierdeck.portable.notetype import NoteType

# --- the template language -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Replacement:
    """`{{filter:...:Field}}`: a field's content, passed through filters (the one nearest the field first)."""

    key: str
    filters: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conditional:
    """`{{#Field}}...{{/Field}}` (shown when the field is non-empty) or `{{^Field}}` (when it is empty)."""

    key: str
    negated: bool
    children: tuple[Node, ...]


Node = str | Replacement | Conditional

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
SPECIAL_FIELDS = frozenset({"FrontSide", "Tags", "Type", "Card", "Deck", "Subdeck", "CardFlag"})


class TemplateError(ValueError):
    """A template that Anki could not render either (a conditional never closed, or closed by another)."""


@lru_cache(maxsize=1024)
def parse(template: str) -> tuple[Node, ...]:
    """The template as a tree of text, replacements and conditionals."""
    stack: list[tuple[str, bool, list[Node]]] = [("", False, [])]
    position = 0
    for match in _TAG.finditer(template):
        if match.start() > position:
            stack[-1][2].append(template[position : match.start()])
        position = match.end()
        inner = match.group(1).strip()
        if inner[:1] in ("#", "^"):
            stack.append((inner[1:].strip(), inner[0] == "^", []))
        elif inner[:1] == "/":
            if len(stack) == 1:
                raise TemplateError(f"'{{{{{inner}}}}}' closes a section that was never opened")
            key, negated, children = stack.pop()
            if key != inner[1:].strip():
                raise TemplateError(f"'{{{{{inner}}}}}' closes '{{{{#{key}}}}}'; close sections in the order they open")
            stack[-1][2].append(Conditional(key, negated, tuple(children)))
        else:
            *filters, key = (part.strip() for part in inner.split(":"))
            stack[-1][2].append(Replacement(key, tuple(filters)))
    if len(stack) != 1:
        raise TemplateError(f"'{{{{#{stack[-1][0]}}}}}' is never closed; add '{{{{/{stack[-1][0]}}}}}'")
    if position < len(template):
        stack[0][2].append(template[position:])
    return tuple(stack[0][2])


def referenced_fields(template: str) -> list[str]:
    """The note fields a template uses (special fields such as {{FrontSide}} left out), each once."""
    found: dict[str, None] = {}

    def walk(nodes: Sequence[Node]) -> None:
        for node in nodes:
            if isinstance(node, Replacement | Conditional) and node.key not in SPECIAL_FIELDS:
                found[node.key] = None
            if isinstance(node, Conditional):
                walk(node.children)

    walk(parse(template))
    return list(found)


_EMPTY_FIELD = re.compile(r"^(?:\s|</?(?:br|div) ?/?>)*$", re.IGNORECASE)


def field_is_empty(text: str) -> bool:
    """Anki's test for an empty field: only whitespace, `<br>` and `<div>` tags."""
    return bool(_EMPTY_FIELD.match(text))


@dataclass
class Context:
    """What a template is rendered with: the note's fields, the card's number and side, special fields."""

    fields: Mapping[str, str]
    ordinal: int  # 1-based: the template number, or the cloze number on a cloze note type
    question: bool
    specials: Mapping[str, str] = field(default_factory=dict)


def render_nodes(nodes: Sequence[Node], context: Context) -> str:
    """Render a parsed template."""
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Conditional):
            if field_is_empty(_lookup(node.key, context)) == node.negated:
                out.append(render_nodes(node.children, context))
        else:
            text = _lookup(node.key, context)
            for name in reversed(node.filters):
                text = _apply_filter(name, text, context)
            out.append(text)
    return "".join(out)


def _lookup(key: str, context: Context) -> str:
    if key in context.fields:
        return context.fields[key]
    if key in SPECIAL_FIELDS:
        return context.specials.get(key, "")
    raise TemplateError(f"the template refers to an unknown field '{key}'")


_FURIGANA = re.compile(r" ?([^ >]+?)\[(.+?)\]")


def _apply_filter(name: str, text: str, context: Context) -> str:
    """One of Anki's filters (rslib `template_filters.rs`); one it does not know leaves the text as it is."""
    if name == "cloze":
        return reveal_cloze_text(text, context.ordinal, context.question)
    if name == "text":
        return re.sub(r"<[^>]*>", "", text)
    if name == "hint":  # Anki draws a link that reveals the field with a script; the preview needs none
        return f'<details class="hint"><summary>Show hint</summary>{text}</details>' if text else ""
    if name == "type":  # the reviewer replaces this marker with an answer box
        return '<input class="typeans" disabled placeholder="type the answer">' if context.question else ""
    if name.split(" ", 1)[0] == "tts":
        return text
    if name == "furigana":
        return _FURIGANA.sub(r"<ruby><rb>\1</rb><rt>\2</rt></ruby>", text)
    if name == "kana":
        return _FURIGANA.sub(r"\2", text)
    if name == "kanji":
        return _FURIGANA.sub(r"\1", text)
    return text


# --- cloze deletions, revealed as Anki does -------------------------------------------------------------


_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}


def encode_attribute(text: str) -> str:
    """Attribute escaping as Anki does it: `&<>"'` as entities, other Latin-1 characters but letters and digits as `&#xHH;`."""
    return "".join(
        _ENTITIES.get(c) or (f"&#x{ord(c):02X};" if ord(c) < 256 and not (c.isascii() and c.isalnum()) else c)
        for c in text
    )


def reveal_cloze_text(text: str, ordinal: int, question: bool) -> str:
    """A cloze field for card `ordinal`; empty when the field has no deletion of that number (as in Anki)."""
    found = [False]
    out: list[str] = []
    for node in parse_clozes(text):
        out.append(node if isinstance(node, str) else _reveal(node, ordinal, question, found))
    return "".join(out) if found[0] else ""


def _reveal(cloze: Cloze, ordinal: int, question: bool, found: list[bool]) -> str:
    active = cloze.ordinal == ordinal
    found[0] = found[0] or active

    def inner(as_question: bool) -> str:
        return "".join(n if isinstance(n, str) else _reveal(n, ordinal, as_question, found) for n in cloze.nodes)

    if question and active:
        return (
            f'<span class="cloze" data-cloze="{encode_attribute(inner(False))}" data-ordinal="{cloze.ordinal}">'
            f"[{cloze.hint if cloze.hint is not None else '...'}]</span>"
        )
    css = "cloze" if active else "cloze-inactive"
    return f'<span class="{css}" data-ordinal="{cloze.ordinal}">{inner(question)}</span>'


# --- cards of a note, as Anki generates them --------------------------------------------------------------


@dataclass(frozen=True)
class RenderedCard:
    """One Anki card of a note: which one it is and both sides' HTML (without the note type's CSS)."""

    ordinal: int  # 1-based
    name: str  # the template name, with the cloze number on cloze note types
    question: str
    answer: str


def _renders_a_field(nodes: Sequence[Node], fields: Mapping[str, str]) -> bool:
    """Whether the template shows at least one non-empty field (Anki's rule for generating a card)."""
    for node in nodes:
        if isinstance(node, Replacement):
            if node.key in fields and not field_is_empty(fields[node.key]):
                return True
        elif isinstance(node, Conditional):
            shown = field_is_empty(fields.get(node.key, "")) == node.negated
            if shown and _renders_a_field(node.children, fields):
                return True
    return False


# How genanki finds the deletions of a cloze note when it writes its cards into the package; unlike Anki it
# does not see a deletion nested inside another one, and Anki keeps the package's cards as they are.
_PACKAGED_CLOZE = re.compile(r"\{\{c(\d+)::.+?\}\}", re.DOTALL)


def card_ordinals(notetype: NoteType, fields: Mapping[str, str]) -> list[int]:
    """The 1-based ordinals of the cards a note has once imported: cloze numbers, or templates with content."""
    if notetype.cloze:
        numbers = {int(n) for name in _cloze_field_names(notetype) for n in _PACKAGED_CLOZE.findall(fields.get(name, ""))}
        return sorted(n for n in numbers if n > 0) or [1]
    return [
        i for i, template in enumerate(notetype.templates, start=1) if _renders_a_field(parse(template.front), fields)
    ]


# The fields a cloze note type's front shows as clozes, per note type object (held, so its id is not reused).
_CLOZE_FIELDS: dict[int, tuple[NoteType, list[str]]] = {}


def _cloze_field_names(notetype: NoteType) -> list[str]:
    entry = _CLOZE_FIELDS.get(id(notetype))
    if entry is None or entry[0] is not notetype:
        if len(_CLOZE_FIELDS) > 256:  # a long preview --watch reads note types again after each edit of one
            _CLOZE_FIELDS.clear()
        entry = _CLOZE_FIELDS[id(notetype)] = (notetype, _cloze_fields(parse(notetype.templates[0].front)))
    return entry[1]


def _cloze_fields(nodes: Sequence[Node]) -> list[str]:
    found = []
    for node in nodes:
        if isinstance(node, Replacement) and "cloze" in node.filters:
            found.append(node.key)
        elif isinstance(node, Conditional):
            found += _cloze_fields(node.children)
    return found


def render_cards(
    notetype: NoteType, field_values: Sequence[str], specials: Mapping[str, str] | None = None
) -> list[RenderedCard]:
    """Every card Anki makes from a note, each side rendered from the note type's templates."""
    fields = dict(zip(notetype.fields, field_values, strict=True))
    cards = []
    for ordinal in card_ordinals(notetype, fields):
        template = notetype.templates[0 if notetype.cloze else ordinal - 1]
        extra = {"Type": notetype.name, "Card": template.name, **(specials or {})}
        question = render_nodes(parse(template.front), Context(fields, ordinal, True, extra))
        answer = render_nodes(parse(template.back), Context(fields, ordinal, False, {**extra, "FrontSide": question}))
        name = f"{template.name} {ordinal}" if notetype.cloze else template.name
        cards.append(RenderedCard(ordinal, name, question, answer))
    return cards
