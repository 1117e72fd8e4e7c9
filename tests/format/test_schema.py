"""`tierdeck schema`: JSON Schemas generated from the models; every shipped YAML file passes them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from conftest import SAMPLE
from tierdeck.format import yamlio

REPO = Path(__file__).resolve().parents[2]
SHIPPED_MANIFESTS = sorted((REPO / "decks").glob("*.yaml")) + sorted((SAMPLE / "decks").glob("*.yaml"))
SHIPPED_CARD_FILES = sorted((REPO / "cards").rglob("*.yaml")) + sorted((SAMPLE / "cards").rglob("*.yaml"))
HEADER = "# yaml-language-server: $schema=../../schemas/cards.schema.json"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> dict[str, jsonschema.Draft202012Validator]:
    """The schemas as `tierdeck schema -o DIR` writes them, as validators."""
    from click.testing import CliRunner

    from tierdeck.cli import cli

    out = tmp_path_factory.mktemp("schemas")
    result = CliRunner().invoke(cli, ["schema", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["cards.schema.json", "manifest.schema.json"]
    validators = {}
    for path in out.iterdir():
        schema = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[path.name] = jsonschema.Draft202012Validator(schema)
    return validators


def errors(validator: jsonschema.Draft202012Validator, data) -> list[str]:
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.validator}" for e in validator.iter_errors(data))


def load(path: Path):
    data, problems = yamlio.load(path)
    assert problems == []
    return data


def test_schema__committed_copies_are_up_to_date(tmp_path):
    from tierdeck.format.jsonschemas import schema_texts

    for name, text in schema_texts().items():
        assert (REPO / "schemas" / name).read_text(encoding="utf-8") == text, f"run 'tierdeck schema' ({name})"


def test_schema__writes_into_schemas_of_the_project(mini):
    result = mini.run("schema")
    assert result.exit_code == 0
    assert result.stdout == "wrote schemas/manifest.schema.json\nwrote schemas/cards.schema.json\n"


def test_schema__there_are_files_to_validate():
    assert len(SHIPPED_MANIFESTS) >= 2 and len(SHIPPED_CARD_FILES) >= 4


@pytest.mark.parametrize("path", SHIPPED_MANIFESTS, ids=lambda p: str(p.relative_to(REPO)))
def test_schema__every_shipped_manifest_is_valid(written, path):
    assert errors(written["manifest.schema.json"], load(path)) == []


@pytest.mark.parametrize("path", SHIPPED_CARD_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_schema__every_shipped_card_file_is_valid(written, path):
    assert errors(written["cards.schema.json"], load(path)) == []


def test_schema__rejects_what_tierdeck_rejects(written):
    cards = written["cards.schema.json"]
    bad = {
        "tier": "one",
        "cards": [
            {"type": "basic", "id": "q1", "front": "Q", "back": "A", "fornt": "typo"},
            {"type": "basic", "id": "Q2", "front": "Q"},
            {"type": "table", "id": "t", "title": "T", "columns": ["Only"], "rows": [["a"]]},
            {"type": "quiz", "id": "q3"},
        ],
    }
    assert errors(cards, bad) == ["cards/0: oneOf", "cards/1: oneOf", "cards/2: oneOf", "cards/3: oneOf"]
    assert errors(written["manifest.schema.json"], {"id": "x", "name": "X", "tiers": [], "cards": ["c"]}) == [
        "tiers: minItems"
    ]


def test_schema__accepts_the_shorthands_and_numbers_tierdeck_accepts(written):
    table = {
        "type": "table",
        "id": "levels",
        "title": "Levels",
        "columns": ["Analyte", {"id": "si", "title": "SI units"}],
        "rows": [["Calcium", 2.5], {"id": "phos", "cells": ["Phosphate", 1.1]}],
    }
    assert errors(written["cards.schema.json"], {"tier": "one", "cards": [table]}) == []
    manifest = {"id": "x", "name": "X", "version": 1.0, "tiers": [{"id": "one", "title": 1}], "cards": ["cards"]}
    assert errors(written["manifest.schema.json"], manifest) == []


def test_schema__docs_show_the_editor_header_and_it_points_at_the_schema():
    assert HEADER in (REPO / "docs" / "editor.md").read_text(encoding="utf-8")
    card_file = REPO / "cards" / "some-deck" / "cards.yaml"
    assert (card_file.parent / HEADER.split("=", 1)[1]).resolve() == REPO / "schemas" / "cards.schema.json"
