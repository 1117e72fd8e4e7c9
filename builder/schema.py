"""The authoring format as typed models: deck manifests and card files.

The same models validate input, generate the JSON Schemas editors use, and document the format.
Validation errors come back as Diagnostics in the author's words (no Python types, no reprs).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, model_validator

from builder.errors import Diagnostic, YamlPath

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TAG_PATTERN = r"^[^\s\"]+$"
CLOZE_RE = re.compile(r"\{\{c(\d+)::(.*?)\}\}", re.DOTALL)

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1)]
Tag = Annotated[str, StringConstraints(pattern=TAG_PATTERN)]


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


class _Card(_Model):
    id: Slug = Field(description="Unique within the deck and stable forever: the note's identity in Anki.")
    tier: Slug | None = Field(None, description="Tier id; defaults to the file's `tier`.")
    tags: list[Tag] = Field(default_factory=list, description="Tags added to this card's notes.")
    source: Text | None = Field(None, description="Where in the source material this comes from.")
    extra: Text | None = Field(None, description="Markdown context shown under the answer.")


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

    @model_validator(mode="before")
    @classmethod
    def from_shorthand(cls, value: Any) -> Any:
        """A plain header is shorthand for `{title: header}`."""
        return value if isinstance(value, dict) else {"title": value}


class Row(_Model):
    """A table row: a list of cells, or `{id, cells}` to keep its identity when the first cell is reworded."""

    id: Slug | None = Field(None, description="Stable key; defaults to the first cell as a slug.")
    cells: list[Text]

    @model_validator(mode="before")
    @classmethod
    def from_shorthand(cls, value: Any) -> Any:
        """A plain list is shorthand for `{cells: list}`."""
        return value if isinstance(value, dict) else {"cells": value}


class TableCard(_Card):
    """A comparison table; every cell outside the first column becomes a card."""

    type: Literal["table"]
    title: Text
    columns: list[Column] = Field(min_length=2)
    rows: list[Row] = Field(min_length=1)


Card = Annotated[TermCard | MechanismCard | TableCard | BasicCard | ClozeCard, Field(discriminator="type")]
CARD_TYPES = {"basic": BasicCard, "cloze": ClozeCard, "mechanism": MechanismCard, "table": TableCard, "term": TermCard}


class CardFile(_Model):
    """A card file: defaults for its cards, then the cards."""

    tier: Slug | None = Field(None, description="Default tier for this file's cards.")
    tags: list[Tag] = Field(default_factory=list, description="Tags added to this file's cards.")
    source: Text | None = Field(None, description="Default source for this file's cards.")
    cards: list[Card] = Field(description="The cards.")


CARD_ADAPTER: TypeAdapter = TypeAdapter(Card)


def slugify(text: str) -> str:
    """A stable key from free text: lowercase letters and digits joined by single hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


# --- validation errors in the author's words ---------------------------------------------------------------


def kind_of(value: Any) -> str:
    """How an author would name the kind of a YAML value."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a yes/no value)"
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
        elif (isinstance(value, list) and step == "cells") or (not isinstance(value, dict) and step == "title"):
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


def _allowed_keys(root: type[BaseModel], data: Any, path: YamlPath) -> list[str]:
    """The keys allowed in the mapping at `path`."""
    model: type[BaseModel] | None = None
    if not path:
        model = root
    elif root is CardFile and len(path) == 2 and path[0] == "cards":
        value = _value_at(data, path)
        model = CARD_TYPES.get(value.get("type")) if isinstance(value, dict) else None  # type: ignore[arg-type]
        if model is None:
            return sorted({key for card in CARD_TYPES.values() for key in card.model_fields})
    elif root is CardFile and len(path) == 4 and path[2] in ("columns", "rows"):
        model = Column if path[2] == "columns" else Row
    elif root is Manifest and len(path) == 2 and path[0] == "tiers":
        model = Tier
    return list(model.model_fields) if model else []


def _describe(root: type[BaseModel], data: Any, error: dict) -> tuple[YamlPath, str, bool]:
    """(path, message, points at key) for one pydantic error."""
    kind = error["type"]
    path = _clean_path(data, error["loc"])
    value = error.get("input")
    name = str(path[-1]) if path else "document"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(root, data, path[:-1])
        hint = did_you_mean(name, allowed) if allowed else "remove it"
        return path, f"unknown key '{name}'; {hint}", True
    if kind == "missing":
        return path[:-1], f"missing required key '{name}'; add '{name}: ...'", False
    if kind in ("union_tag_not_found",):
        return path, "card has no 'type'; add 'type:' with one of " + ", ".join(CARD_TYPES), False
    if kind == "union_tag_invalid":
        tag = str(error.get("ctx", {}).get("tag", value))
        return (
            (*path, "type"),
            f"unknown card type '{tag}'; " + did_you_mean(tag, list(CARD_TYPES)),
            False,
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return path, f"expected a mapping of keys, got {kind_of(value)}", False
    if kind == "list_type":
        return path, f"expected a list, got {kind_of(value)}; write [a, b] or one '- item' per line", False
    if kind in ("string_type",):
        return path, f"expected text, got {kind_of(value)}; write it as text (in quotes if needed)", False
    if kind in ("bool_type", "bool_parsing"):
        return path, f"expected true or false, got {kind_of(value)}", False
    if kind == "string_too_short":
        return path, "is empty; write some text or remove the key", False
    if kind == "too_short":
        minimum = error.get("ctx", {}).get("min_length", 1)
        noun = "item" if minimum == 1 else "items"
        return path, f"needs at least {minimum} {noun}, got {len(value) if value else 0}", False
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern")
        if pattern == TAG_PATTERN:
            return path, f"tag '{value}' contains a space or quote; use '-' or '::' instead of spaces", False
        return (
            path,
            (
                f"'{value}' is not a valid {name if name in ('id', 'tier') else 'id'}; use lowercase letters, "
                "digits and single hyphens, e.g. 'bone-remodeling'"
            ),
            False,
        )
    if kind == "literal_error":
        return path, f"'{name}' has an unexpected value '{value}'", False
    return path, f"'{name}': {error['msg']}", False


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
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text
