"""JSON Schemas for editors, generated from the pydantic models that validate (never written by hand).

Editors with the YAML language server (VS Code's YAML extension, and others) validate and complete a file
whose first line names its schema: `# yaml-language-server: $schema=../../schemas/cards.schema.json`.
Two things the models accept are spelt out for the schema: numbers where text is expected (the models
coerce them, so `version: 1.0` or a cell `42` is fine) and the shorthands of table columns and rows.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema

from tierdeck import files
from tierdeck.format.schema import CardFile, Column, Manifest, Row

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "manifest.schema.json": (Manifest, "tierdeck deck manifest (decks/*.yaml)"),
    "cards.schema.json": (CardFile, "tierdeck card file (cards/**/*.yaml)"),
}
# Models whose before-validator takes one field's value alone: a header for a column, a list of cells for a row.
SHORTHANDS: dict[type[BaseModel], str] = {Column: "title", Row: "cells"}


class _Generator(GenerateJsonSchema):
    def str_schema(self, schema):
        """Text that may also be written as a number: the models set `coerce_numbers_to_str`."""
        return {**super().str_schema(schema), "type": ["string", "number"]}


def json_schema(model: type[BaseModel], title: str) -> dict:
    """The JSON Schema of `model`, as the YAML language server reads it."""
    schema = model.model_json_schema(schema_generator=_Generator)
    definitions = schema.get("$defs", {})
    for shorthand_model, field in SHORTHANDS.items():
        full = definitions.get(shorthand_model.__name__)
        if full is None:
            continue
        short = {k: v for k, v in full["properties"][field].items() if k not in ("title", "description")}
        definitions[shorthand_model.__name__] = {"description": full.get("description", ""), "anyOf": [short, full]}
    return {"$schema": DRAFT, **schema, "title": title}


def schema_texts() -> dict[str, str]:
    """Every schema file's name and its JSON text."""
    return {name: json.dumps(json_schema(model, title), indent=2) + "\n" for name, (model, title) in SCHEMAS.items()}


def write_schemas(out_dir: Path) -> list[Path]:
    """Write the schemas into `out_dir`; returns the files written (unchanged files are left alone)."""
    written = []
    for name, text in schema_texts().items():
        path = out_dir / name
        files.write_if_changed(path, text)
        written.append(path)
    return written
