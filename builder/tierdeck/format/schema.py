"""The authoring format as typed models: deck manifests and card files.

The same models validate input, generate the JSON Schemas editors use, and document the format.
Validation errors come back as Diagnostics in the author's words (no Python types, no reprs).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from tierdeck.errors import Diagnostic, YamlPath, shown

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TAG_PATTERN = r"^[^\s\"\x00-\x1f\x7f]+$"  # no space, quote or control character
BLANK_PATTERN = r"\S"
# An Anki note GUID as a card may pin it: printable ASCII without spaces (Anki's own are 10 base91 characters,
# genanki's a few more; other tools use UUIDs), at most 64 characters.
GUID_PATTERN = r"^[!-~]{1,64}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
# Text must show something: an empty or all-blank field would make Anki drop the card without a word.
Text = Annotated[str, StringConstraints(min_length=1, pattern=BLANK_PATTERN)]
Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]
Guid = Annotated[str, StringConstraints(pattern=GUID_PATTERN)]
URL_PATTERN = r"^https?://\S+$"
Url = Annotated[str, StringConstraints(pattern=URL_PATTERN)]

# How well supported a card's claim is, weakest last. Each level is also the tag `evidence::<level>`.
EVIDENCE_LEVELS = ("established", "source-claim", "contested", "not-mainstream", "refuted")
EvidenceLevel = Literal["established", "source-claim", "contested", "not-mainstream", "refuted"]
# How the source's own claim stands, where a card reports or corrects one; also the tag `source-claim::<value>`.
SOURCE_CLAIMS = ("unsupported", "contested", "not-mainstream", "refuted")
SourceClaim = Literal["unsupported", "contested", "not-mainstream", "refuted"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


class Tier(_Model):
    """One difficulty tier: a subdeck `<deck name>::<title>`."""

    id: Slug = Field(description="Stable id used by cards' `tier:` (slug).")
    title: Text = Field(description="Subdeck title shown in Anki, e.g. '1 Fundamentals'.")


class Manifest(_Model):
    """A deck manifest, `decks/<anything>.yaml`."""

    id: Slug = Field(description="Stable forever: Anki deck, note and card identities derive from it.")
    name: Text = Field(description="The top-level Anki deck name.")
    version: Text | None = Field(None, description="Release version, shown in the deck description.")
    description: Text | None = Field(None, description="Markdown shown on Anki's deck overview.")
    tiers: list[Tier] = Field(min_length=1, description="Ordered tiers; each becomes a subdeck.")
    cards: list[Text] = Field(
        min_length=1, description="Card files or folders (all *.yaml below, sorted), relative to the project root."
    )
    tags: list[Tag] = Field(default_factory=list, description="Tags added to every note of the deck.")
    previous_ids: list[Slug] = Field(
        default_factory=list,
        description="Former ids of this deck, oldest first: a renamed deck keeps its notes' identities in Anki.",
    )
    require_evidence: bool = Field(
        False, description="`tierdeck check --strict` requires an evidence level on every card of this deck."
    )
    media: list[Text] = Field(
        default_factory=list,
        description="Folders whose every file is shipped under its own name, shown by a card or not (an imported "
        "deck's media: what its note types load, like _style.css). Relative to the project root.",
    )
    legacy_lint: bool = Field(
        False,
        description="Apply the authoring lint to imported cards not edited since the import too (off: one summary).",
    )
    issues: Url | None = Field(
        None,
        description="Where students report a wrong card (the add-on's 'Report a problem'): an http(s) URL such as "
        "https://github.com/OWNER/REPO/issues/new, optionally with {title} and {body} placeholders.",
    )


class Evidence(_Model):
    """How well supported what the card teaches is, and why: shown on the answer side, tagged `evidence::<level>`."""

    level: EvidenceLevel = Field(
        description="How well supported what the student recalls is: established, source-claim, contested, "
        "not-mainstream or refuted."
    )
    source_claim: SourceClaim | None = Field(
        None,
        description="Where the card reports or corrects a claim of its source: how that claim stands (unsupported, "
        "contested, not-mainstream or refuted). Shown on the answer side, tagged `source-claim::<value>`.",
    )
    note: Text | None = Field(
        None, description="Markdown: the mainstream position and, where known, a reference (required but for established)."
    )


# The lint rules a card or file may opt out of (`lint: {ignore: [...], why: ...}`); tierdeck.lint.rules names
# each warning it gives with one of these.
LINT_RULES = (
    "duplicate-prompt",
    "long-front",
    "cloze-hides-most",
    "cloze-list",
    "cloze-pair",
    "circular-answer",
    "similar-definitions",
    "mechanism-steps",
    "empty-cell",
    "evidence-wording",
    "no-source",
    "code-width",
    "colour-contrast",
)
LintRule = Literal[LINT_RULES]  # type: ignore[valid-type]


class LintOptOut(_Model):
    """Lint warnings a card (or every card of a file) does not get, on purpose; the reason shows in the preview."""

    ignore: list[LintRule] = Field(min_length=1, description="The rules to skip, e.g. [cloze-list].")
    why: Text = Field(description="Why the card is right as it is: shown in the preview, for reviewers.")


class _Card(_Model):
    id: Slug = Field(description="Unique within the deck and stable forever: the note's identity in Anki.")
    tier: Slug | None = Field(None, description="Tier id; defaults to the file's `tier`.")
    tags: list[Tag] = Field(default_factory=list, description="Tags added to this card's notes.")
    source: Text | None = Field(None, description="Where in the source material this comes from.")
    extra: Text | None = Field(None, description="Markdown context shown under the answer.")
    collapse_extra: bool | None = Field(
        None, description="Show `extra` collapsed under 'More' on the answer side; defaults to the file's setting."
    )
    hint: Text | None = Field(None, description="Markdown shown as a collapsed 'Hint' on the question side.")
    evidence: Evidence | None = Field(None, description="How well supported the claim is; defaults to the file's.")
    notetype: Slug | None = Field(
        None, description="The note type to fill (a built-in or one in notetypes/); defaults to the card type's own."
    )
    format: Literal["markdown", "html", "anki"] = Field(
        "markdown",
        description="How the card's text is written: markdown (default), HTML, or anki: an imported note's HTML, sent "
        "to students exactly as written (not sanitised; media paths resolved).",
    )
    guid: Guid | None = Field(
        None, description="The note's GUID in Anki, kept from an imported deck; used instead of the derived one."
    )
    previous_ids: list[Slug] = Field(
        default_factory=list,
        description="Former ids of this card: a card renamed after a release keeps its identity in students' Anki.",
    )
    lint: LintOptOut | None = Field(None, description="Lint warnings this card does not get, and why.")


class TermCard(_Card):
    """A glossary term: term -> definition, optionally definition -> term too."""

    type: Literal["term"]
    term: Text
    definition: Text
    reverse: bool = Field(False, description="Also ask definition -> term.")


class BasicCard(_Card):
    """A plain question and answer."""

    type: Literal["basic"]
    front: Text
    back: Text


class ClozeCard(_Card):
    """Text with Anki cloze deletions, `{{c1::answer}}` or `{{c1::answer::hint}}`."""

    type: Literal["cloze"]
    text: Text


class MechanismCard(_Card):
    """An ordered causal chain; each step becomes a card with that step hidden."""

    type: Literal["mechanism"]
    title: Text
    steps: list[Text] = Field(min_length=1)


class Column(_Model):
    """A table column: its header text, or `{id, title}` to keep its identity when the header is reworded."""

    id: Slug | None = Field(None, description="Stable key; defaults to the header text as a slug.")
    title: Text
    ask: bool = Field(True, description="false: the column's cells are shown in the table but make no cards.")

    @model_validator(mode="before")
    @classmethod
    def from_shorthand(cls, value: Any) -> Any:
        """A plain header is shorthand for `{title: header}`."""
        return value if isinstance(value, dict) else {"title": value}


class Row(_Model):
    """A table row: a list of cells, or `{id, cells}` to keep its identity when the first cell is reworded."""

    id: Slug | None = Field(None, description="Stable key; defaults to the first cell as a slug.")
    cells: list[Text]
    extra: Text | None = Field(None, description="Markdown context under the answer of this row's cells.")
    evidence: Evidence | None = Field(None, description="Evidence for this row's cells; defaults to the table's.")
    cell_evidence: dict[str, Evidence] = Field(
        default_factory=dict, description="Evidence for single cells of this row, by column key (id or slug)."
    )
    shown_only: list[Slug] = Field(
        default_factory=list,
        description="Column keys of this row's cells that are shown in the table but make no card.",
    )

    # written as a plain list (its cells sit one level higher in the YAML than under `cells:`)
    _shorthand: bool = PrivateAttr(default=False)

    @model_validator(mode="wrap")
    @classmethod
    def from_shorthand(cls, value: Any, handler: Any) -> Any:
        """A plain list is shorthand for `{cells: list}`; the row remembers how it was written."""
        if isinstance(value, dict):
            return handler(value)
        row = handler({"cells": value})
        row._shorthand = True
        return row

    @property
    def shorthand(self) -> bool:
        """Whether the row was written as a plain list of cells."""
        return self._shorthand


class TableCard(_Card):
    """A comparison table; every cell outside the first column becomes a card."""

    type: Literal["table"]
    title: Text
    columns: list[Column] = Field(min_length=2)
    rows: list[Row] = Field(min_length=1)


class NoteCard(_Card):
    """A note of any note type, its fields given by name (e.g. an imported deck's own note types)."""

    type: Literal["note"]
    notetype: Slug = Field(description="The note type to fill: a built-in or one in notetypes/.")
    fields: dict[str, str] = Field(min_length=1, description="Field name -> text, for the note type's fields.")


Card = Annotated[
    TermCard | MechanismCard | TableCard | BasicCard | ClozeCard | NoteCard, Field(discriminator="type")
]
CARD_TYPES: dict[str, type[BaseModel]] = {
    "basic": BasicCard,
    "cloze": ClozeCard,
    "mechanism": MechanismCard,
    "note": NoteCard,
    "table": TableCard,
    "term": TermCard,
}


class CardFile(_Model):
    """A card file: defaults for its cards, then the cards."""

    tier: Slug | None = Field(None, description="Default tier for this file's cards.")
    tags: list[Tag] = Field(default_factory=list, description="Tags added to this file's cards.")
    source: Text | None = Field(None, description="Default source for this file's cards.")
    evidence: Evidence | None = Field(None, description="Default evidence for this file's cards.")
    collapse_extra: bool = Field(False, description="Show every card's `extra` collapsed under 'More'.")
    lint: LintOptOut | None = Field(None, description="Lint warnings no card of this file gets, and why.")
    cards: list[Card] = Field(description="The cards.")


class TemplateSpec(_Model):
    """One card template of a note type: its name and what each side shows (Anki's template language)."""

    name: Text
    front: Text | None = Field(None, description="The question side's template.")
    back: Text | None = Field(None, description="The answer side's template.")
    front_file: Text | None = Field(None, description="The question side's template, from a file next to this one.")
    back_file: Text | None = Field(None, description="The answer side's template, from a file next to this one.")


class NoteTypeFile(_Model):
    """A note type, `notetypes/<key>.yaml`: what Anki stores for it. Cards name it by its key."""

    name: Text = Field(description="The note type's name in Anki.")
    id: Annotated[int, Field(gt=0, lt=1 << 63)] | None = Field(
        None, description="Anki's note type id to keep (from an imported deck); derived from key and version if absent."
    )
    version: Annotated[int, Field(ge=1)] = Field(
        1, description="Bump it (and drop `id`) when the fields or template names change."
    )
    kind: Literal["standard", "cloze"] = Field("standard", description="standard, or cloze (one card per deletion).")
    fields: list[Text] = Field(min_length=1, description="Field names, in order.")
    sort_field: Text | None = Field(None, description="The field Anki's browser sorts by; default the first.")
    templates: list[TemplateSpec] = Field(min_length=1, description="Card templates, in order.")
    css: str | None = Field(None, description="The note type's CSS.")
    css_file: Text | None = Field(None, description="The note type's CSS, from a file next to this one.")
    scripts: Literal["allowed"] | None = Field(
        None, description="'allowed' keeps <script> in the templates (they run on students' devices)."
    )


CARD_ADAPTER: TypeAdapter = TypeAdapter(Card)


def slugify(text: str) -> str:
    """A stable key from free text: lowercase letters and digits joined by single hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def unicode_slug(text: str) -> str:
    """Like `slugify`, keeping letters and digits of every script ('Αλφα' -> 'αλφα'); empty if none."""
    return re.sub(r"[\W_]+", "-", text.lower()).strip("-")


# --- validation errors in the author's words ---------------------------------------------------------------


def kind_of(value: Any) -> str:
    """How an author would name the kind of a YAML value."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a true/false value)"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping of keys"
    return "a value of another kind"


def did_you_mean(word: str, choices: list[str]) -> str:
    """`did you mean 'x'?` for the closest choice, else the list of choices."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "use one of: " + ", ".join(choices)


def _is_internal(step: str) -> bool:
    """Pydantic's own location steps: model and validator names."""
    return step[:1].isupper() or step.startswith("function")


def _clean_path(data: Any, loc: tuple) -> YamlPath:
    """Pydantic's error location as a path into the YAML document (no union tags or validator names)."""
    path: list[str | int] = []
    value = data
    previous: str | int | None = None
    for step in loc:
        if isinstance(step, int):
            value = value[step] if isinstance(value, list) and step < len(value) else None
            path.append(step)
        elif isinstance(value, dict) and isinstance(previous, int) and step == value.get("type") and step in CARD_TYPES:
            pass  # the discriminated union's tag
        elif isinstance(value, dict) and not _is_internal(step):
            value = value.get(step)
            path.append(step)
        elif not isinstance(value, dict) and step in ("cells", "title"):
            pass  # a row or column written in shorthand: the error is in the value itself
        elif not _is_internal(step):
            path.append(step)
            value = None
        previous = step
    return tuple(path)


def _value_at(data: Any, path: YamlPath) -> Any:
    for step in path:
        if isinstance(data, dict) and not isinstance(step, int):
            data = data.get(step)
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return data


def _as_model(annotation: Any, value: Any) -> type[BaseModel] | None:
    """The model an annotation stands for at `value` (a card union picks the card's own type)."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    options = [a for a in get_args(annotation) if a is not type(None)]
    models = [m for m in (_as_model(a, value) for a in options) if m is not None]
    if len(models) > 1:  # the card union: the card's `type` decides
        return CARD_TYPES.get(str(value.get("type"))) if isinstance(value, dict) else None
    return models[0] if models else None


def _item_annotation(annotation: Any) -> Any:
    """What a list (or dict) annotation holds."""
    while get_origin(annotation) is Annotated or (get_origin(annotation) in (Union, UnionType)):
        args = [a for a in get_args(annotation) if a is not type(None)]
        annotation = args[0]
    found = get_args(annotation)
    return found[-1] if found else None


def _model_at(root: type[BaseModel], data: Any, path: YamlPath) -> type[BaseModel] | None:
    """The model of the mapping at `path` (None where that is not known, e.g. a card of no known type)."""
    annotation: Any = root
    node = data
    for step in path:
        if isinstance(step, int):
            annotation = _item_annotation(annotation)
        else:
            model = _as_model(annotation, node)
            if model is None or step not in model.model_fields:
                return None
            annotation = model.model_fields[step].annotation
        node = _value_at(node, (step,))
    return _as_model(annotation, node)


def _allowed_keys(root: type[BaseModel], data: Any, path: YamlPath) -> list[str]:
    """The keys allowed in the mapping at `path`."""
    model = _model_at(root, data, path)
    if model is None and root is CardFile and len(path) == 2 and path[0] == "cards":
        return sorted({key for card in CARD_TYPES.values() for key in card.model_fields})
    return list(model.model_fields) if model else []


# What a list holds, by its key, for "needs at least ..." messages: (one, several, how to add one).
_ITEMS = {
    "tiers": ("tier", "tiers", "add one like {id: fundamentals, title: 1 Fundamentals}"),
    "cards": ("entry", "entries", "list card files or folders, e.g. [cards]"),
    "columns": ("column", "columns", "a table needs a first column naming its rows and at least one more"),
    "rows": ("row", "rows", "add a row as [first cell, cell, ...]"),
    "steps": ("step", "steps", "add each step on its own '- ' line"),
    "fields": ("field", "fields", "give each field's name"),
    "templates": ("template", "templates", "add one like {name: Card 1, front: '{{Front}}', back: '{{Back}}'}"),
}
_CARD_KEYS = frozenset(key for model in CARD_TYPES.values() for key in model.model_fields) - set(CardFile.model_fields)
# The card types that have a key beyond the common ones, to say which type a misplaced key belongs to.
_OWN_KEYS: dict[str, list[str]] = {}
for _type, _model in CARD_TYPES.items():
    for _key in _model.model_fields:
        if _key not in _Card.model_fields and _key != "type":
            _OWN_KEYS.setdefault(_key, []).append(_type)


def _in_table(root: type[BaseModel], path: YamlPath) -> str | None:
    """'cell' or 'header' when `path` is a table cell or a column header (shorthand or not)."""
    if root is not CardFile or len(path) < 4 or path[0] != "cards":
        return None
    if path[2] == "rows" and isinstance(path[-1], int) and len(path) in (5, 6):
        return "cell"
    if path[2] == "columns" and len(path) in (4, 5) and (len(path) == 4 or path[4] == "title"):
        return "header"
    return None


def _not_text(value: Any) -> str:
    """Why a value that should be text is not, and how to write it."""
    if value is None:
        return "has no value; write the text (in quotes if it starts with '#', which YAML reads as a comment)"
    if isinstance(value, bool):
        return (
            f"expected text, got {kind_of(value)}: YAML reads an unquoted true or false that way; "
            "put the value in quotes"
        )
    return f"expected text, got {kind_of(value)}; write it as text, in quotes if it starts with '[' or '{{'"


def _is_own_ancestor(data: Any, path: YamlPath, value: Any) -> bool:
    """Whether `value`, found at `path`, is also one of the containers on the way to it (`a: &x [*x]`)."""
    node = data
    for step in path[:-1]:
        if node is value:
            return True
        node = _value_at(node, (step,))
    return node is value


def _describe(root: type[BaseModel], data: Any, error: Any) -> tuple[YamlPath, str, bool]:
    """(path, message, points at key) for one pydantic error."""
    kind = error["type"]
    path = _clean_path(data, error["loc"])
    value = error.get("input")
    name = str(path[-1]) if path else "document"
    if isinstance(value, (list, dict)) and _value_at(data, path) is value and _is_own_ancestor(data, path, value):
        return path, "refers to itself through an alias ('*name'); write the value out", False
    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, data, path[:-1])
        card = _value_at(data, path[:-1]) if root is CardFile and len(path) == 3 and path[0] == "cards" else None
        card_type = card.get("type") if isinstance(card, dict) else None
        owners = _OWN_KEYS.get(name, [])
        if isinstance(card_type, str) and card_type in CARD_TYPES and owners and card_type not in owners:
            own = ", ".join(k for k in allowed if k not in _Card.model_fields and k != "type")
            message = f"unknown key '{name}' for a {card_type} card (it belongs to {' and '.join(owners)} cards)"
            return path, f"{message}; use {own}, or change the type", True
        if root is CardFile and len(path) == 1 and name in _CARD_KEYS:
            message = f"'{name}' is a key of a card, but it is indented as a key of the file"
            return path, f"{message}; indent it like the other keys of its card", True
        hint = did_you_mean(name, allowed) if allowed else "remove it"
        return path, f"unknown key '{shown(name)}'; {hint}", True
    if kind == "missing":
        return path[:-1], f"missing required key '{name}'; add '{name}: ...'", False
    if kind == "union_tag_not_found":
        return path, "card has no 'type'; add 'type:' with one of " + ", ".join(CARD_TYPES), False
    if kind == "union_tag_invalid":
        tag = _value_at(data, (*path, "type"))
        if not isinstance(tag, str):
            return (
                (*path, "type"),
                f"expected one of {', '.join(CARD_TYPES)}, got {kind_of(tag)}; write e.g. 'type: basic'",
                False,
            )
        return (*path, "type"), f"unknown card type '{shown(tag)}'; " + did_you_mean(tag, list(CARD_TYPES)), False
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if root is Manifest and len(path) == 2 and path[0] == "tiers":
            fix = "write the tier as {id: fundamentals, title: 1 Fundamentals}"
        elif root is CardFile and len(path) == 2 and path[0] == "cards":
            fix = "start the card with '- type: ...' and indent its other keys under 'type'"
        else:
            fix = "write 'key: value' lines indented under it"
        return path, f"expected a mapping of keys, got {kind_of(value)}; {fix}", False
    if kind == "list_type":
        return path, f"expected a list, got {kind_of(value)}; write [a, b] or one '- item' per line", False
    if kind == "string_type":
        if isinstance(value, dict) and len(value) == 1 and _in_table(root, path) == "cell":
            (key, val), = value.items()
            return path, (
                f"expected text, got a mapping of keys: the ': ' inside this cell makes it a key and a value; put "
                f"the cell in quotes, e.g. \"{shown(f'{key}: {val}', 60)}\""
            ), False
        return path, _not_text(value), False
    if kind in ("bool_type", "bool_parsing"):
        return path, f"expected true or false, got {kind_of(value)}; write true or false", False
    if kind == "string_too_short" or (
        kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == BLANK_PATTERN
    ):
        what = "is empty" if kind == "string_too_short" else "is blank"
        place = _in_table(root, path)
        if place == "cell":
            return path, f"{what}; write the cell's text (a cell shown but not asked still needs one, e.g. '-')", False
        if place == "header":
            return path, f"{what}; write the column's header", False
        if isinstance(path[-1] if path else None, int):
            return path, f"{what}; write some text or remove the item", False
        model = _model_at(root, data, path[:-1])
        if model is not None and name in model.model_fields and model.model_fields[name].is_required():
            return path, f"{what}; write the {name}", False
        return path, f"{what}; write some text or remove the key", False
    if kind == "too_short":
        minimum = error.get("ctx", {}).get("min_length", 1)
        one, several, fix = _ITEMS.get(name, ("item", "items", "add more"))
        got = len(value) if isinstance(value, (list, dict)) else 0
        return path, f"needs at least {minimum} {one if minimum == 1 else several}, got {got}; {fix}", False
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern")
        if pattern == TAG_PATTERN:
            return path, f"tag '{shown(value)}' contains a space or quote; use '-' or '::' instead of spaces", False
        if pattern == URL_PATTERN:
            return (
                path,
                f"'{shown(value)}' is not a web address; write the whole URL, e.g. "
                "'https://github.com/OWNER/REPO/issues/new'",
                False,
            )
        if pattern == GUID_PATTERN:
            return (
                path,
                f"'{shown(value)}' is not a valid guid; a GUID is 1 to 64 characters without spaces, copied exactly "
                "as Anki exported it (in quotes)",
                False,
            )
        return (
            path,
            (
                f"'{shown(value)}' is not a valid {name if name in ('id', 'tier') else 'id'}; use lowercase letters, "
                "digits and single hyphens, e.g. 'bone-remodeling'"
            ),
            False,
        )
    if kind in ("recursion_loop", "recursion_depth_exceeded"):
        return path, "refers to itself through an alias ('*name'); write the value out", False
    if kind == "literal_error":
        if path[-2:-1] == ("ignore",) and isinstance(path[-1], int):
            name = "lint rule"
        expected = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        hint = did_you_mean(str(value), expected) if expected else "see 'tierdeck docs format'"
        return path, f"'{shown(value)}' is not a valid {name}; {hint}", False
    return path, f"is not valid here ({shown(error['msg'], 120).lower()}); see 'tierdeck docs format'", False


def validation_diagnostics(
    file: Path, root: type[BaseModel], data: Any, exc: ValidationError, prefix: YamlPath = ()
) -> list[Diagnostic]:
    """Every pydantic error of `exc` as a located Diagnostic (lines filled in later, only if shown).

    `data` is the whole document; `prefix` is where the validated value sits in it (for one card).
    """
    described = []
    for error in exc.errors(include_url=False):
        error = {**error, "loc": (*prefix, *error["loc"])}
        described.append((error["type"], *_describe(root, data, error)))
    # A misspelt key is reported once, as "did you mean", not also as the missing key it was meant to be.
    suggested = {
        (path[:-1], message.rsplit("'", 2)[-2])
        for kind, path, message, _ in described
        if kind == "extra_forbidden" and "did you mean" in message
    }
    out: list[Diagnostic] = []
    seen: set[tuple[YamlPath, str]] = set()
    for kind, path, message, at_key in described:
        if kind == "missing" and (path, message.split("'")[1]) in suggested or (path, message) in seen:
            continue
        seen.add((path, message))
        shown = format_path(path)
        out.append(Diagnostic(file, f"{shown}: {message}" if shown else message, path=path, at_key=at_key))
    return out


def format_path(path: YamlPath) -> str:
    """("cards", 3, "definition") -> "cards[3].definition"."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{shown(step)}" if text else shown(step))
    return text
