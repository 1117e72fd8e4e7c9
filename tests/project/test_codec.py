"""The cache's codec: what it stores reads back equal, nested storable objects as bare field lists."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pytest

from tierdeck.cache import Unstorable, decode, encode, storable


@storable
class Leaf(NamedTuple):
    name: str
    tags: tuple[str, ...]


@storable
@dataclass
class Node:
    where: Path
    leaves: list[Leaf]
    first: Leaf | None
    pair: tuple[Leaf, int]
    words: frozenset[str] = frozenset()
    children: list[Node] = field(default_factory=list)  # the class itself: resolved when first used


def _tree() -> Node:
    leaf = Leaf("a", ("x", "y"))
    child = Node(Path("/p/child.yaml"), [], None, (Leaf("b", ()), 2))
    return Node(Path("/p/top.yaml"), [leaf, Leaf("c", ("z",))], leaf, (leaf, 1), frozenset({"w", "v"}), [child])


def test_codec__storable_objects_read_back_equal_with_their_types():
    tree = _tree()
    back = decode(encode(tree))
    assert back == tree
    assert isinstance(back.children[0], Node) and isinstance(back.leaves[0], Leaf)
    assert isinstance(back.where, Path) and isinstance(back.pair, tuple) and isinstance(back.words, frozenset)


def test_codec__only_the_outer_object_is_tagged():
    data = encode(_tree())
    assert json.loads(data)["c"] == "Node"
    assert data.count(b'"c":') == 1  # the leaves and children: bare field lists, and tuples of text bare arrays
    assert data.count(b'"t":') == 0


@pytest.mark.parametrize(("name", "value"), [("first", "not a leaf"), ("where", 3), ("leaves", [("a", ("x",))])])
def test_codec__a_field_holding_another_type_than_declared_is_refused(name, value):
    tree = _tree()
    setattr(tree, name, value)
    with pytest.raises(Unstorable):  # never stored as something that reads back differently
        encode(tree)


def test_codec__a_field_list_of_the_wrong_length_is_not_read():
    data = json.loads(encode(_tree()))
    data["f"][1][0].append("extra")
    with pytest.raises(ValueError):
        decode(json.dumps(data).encode())


@dataclass
class _NotStorable:
    a: int


@pytest.mark.parametrize("value", [datetime.date(2026, 1, 1), _NotStorable(1), 2**70])
def test_codec__a_text_field_holding_what_json_cannot_write_is_refused(value):
    """orjson would write dates and dataclasses as text and objects: refused, as the standard library refuses
    them, so what is stored always reads back as it was (an integer beyond 64 bits is written by the standard
    library and reads back equal)."""
    leaf = Leaf(value, ())  # type: ignore[arg-type]
    if isinstance(value, int):
        assert decode(encode(leaf)) == leaf
    else:
        with pytest.raises(Unstorable):
            encode(leaf)
