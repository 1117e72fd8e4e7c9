"""Property-based fuzzing: mutated card files either build a deck Anki imports cleanly or fail with located messages.

Hypothesis starts from valid card files (every card type), mutates them (keys deleted, duplicated, renamed
or retyped, values swapped, text truncated, random unicode inserted, lines cut or repeated) and runs
`tierdeck build` in-process. Whatever the input, exactly one of two things may happen:

- exit 0, and the real Anki engine imports the package: as many cards as tierdeck reported, each with a
  question that shows something;
- exit 1, and every line on stderr is `file:line: ...` (or the closing summary).

Never a traceback, never exit 3, never a hang. The default `ci` profile keeps the run short; run
`HYPOTHESIS_PROFILE=long python -m pytest tests/cli/test_fuzz.py` for a long search (profiles: tests/conftest.py).
"""

from __future__ import annotations

import re
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from anki_engine import import_package, open_collection, visible_text
from conftest import MINIMAL_MANIFEST, Project

TWO_TIERS = MINIMAL_MANIFEST.replace("title: 1 One}", "title: 1 One}\n      - {id: two, title: 2 Two}")

LOCATED = re.compile(r"^[^\s:][^:]*:\d+: \S.*$")
SUMMARY = re.compile(r"^\d+ errors?(, \d+ warnings?)?; nothing was written$")
REPORTED = re.compile(r"^mini: (\d+) cards? ", re.MULTILINE)

SEEDS = [
    """
    tier: one
    source: Fuzz / Basics
    tags: [fuzz]
    cards:
      - type: basic
        id: osteoclast-role
        front: What do **osteoclasts** do?
        back: They resorb bone.
        extra: Osteo- means bone; -clast means *breaker*.
      - type: term
        id: osteoid
        term: Osteoid
        definition: The unmineralised organic matrix of bone, mostly type I collagen.
        reverse: true
    """,
    """
    tier: two
    source: Fuzz / Advanced
    cards:
      - type: cloze
        id: remodeling-cells
        text: "{{c1::Osteoblasts}} build new bone matrix; {{c2::osteoclasts::cell}} resorb old bone."
      - type: mechanism
        id: pr-signalling
        title: Progesterone receptor signalling
        steps:
          - Progesterone binds PR-A or PR-B
          - The receptor dimerizes
          - The dimer binds DNA
    """,
    """
    tier: one
    source: Fuzz / Tables
    cards:
      - type: table
        id: bone-cells
        title: Bone cells
        columns: [Cell, Role, {id: origin, title: Origin}]
        rows:
          - [Osteoblast, Builds bone matrix, Mesenchymal stem cells]
          - {id: osteoclast, cells: [Osteoclast, Resorbs bone, Monocyte/macrophage line]}
      - type: basic
        id: h2o
        tier: two
        front: Formula of water?
        back: H<sub>2</sub>O
    """,
]
SEEDS = [textwrap.dedent(seed).lstrip("\n") for seed in SEEDS]

# Values of every YAML kind, for retyping.
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.sampled_from(["", " ", "x", "one", "two", "basic", "cloze", "table", "{{c1::x}}", "<b>x</b>", "- x", "#"]),
    st.lists(st.sampled_from(["a", "b", "one", ""]), max_size=3),
    st.dictionaries(st.sampled_from(["id", "type", "title", "x"]), st.sampled_from(["a", "one", "basic"]), max_size=2),
)
# Text that tends to matter: YAML and markdown syntax, HTML, cloze braces, controls, anything else.
SYNTAX = ": ,- ,#,*,&,!,|,>,\",',\t,\n,\r\n,{{,}},{{c1::,::,<,\\,\x00,\x85,\u2028,\ufeff,é,😀,[,],{,}"
NASTY_TEXT = st.one_of(
    st.text(max_size=8),
    st.sampled_from(SYNTAX.split(",") + [",", "<script>", "<img src=x onerror=y>", "[a](javascript:x)"]),
)


def _locations(value: Any, parents: tuple = ()) -> list[tuple]:
    """Every (container, key) path in the document, outermost first."""
    found = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*parents, key))
            found += _locations(child, (*parents, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*parents, index))
            found += _locations(child, (*parents, index))
    return found


def _parent(data: Any, path: tuple) -> Any:
    for step in path[:-1]:
        data = data[step]
    return data


@st.composite
def mutated_data(draw, seed: str) -> str:
    """The seed's data with one to three structural mutations, written back as YAML."""
    data = yaml.safe_load(seed)
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        action = draw(st.sampled_from(["set", "insert", "truncate", "retype", "delete", "swap", "duplicate", "rename"]))
        places = _locations(data)
        if action in ("set", "insert", "truncate"):
            places = [p for p in places if isinstance(_parent(data, p)[p[-1]], str)]
        elif action in ("swap", "rename"):
            places = [p for p in places if isinstance(_parent(data, p), dict)]
        elif action == "duplicate":
            places = [p for p in places if isinstance(_parent(data, p), list)]
        if not places:
            continue
        path = draw(st.sampled_from(places))
        parent, key = _parent(data, path), path[-1]
        value = parent[key]
        if action == "set":
            parent[key] = draw(
                st.one_of(NASTY_TEXT, st.sampled_from(["", " ", "\n", "-", "#", "1.", "<br>", "&nbsp;"]))
            )
        elif action == "insert":
            at = draw(st.integers(0, len(value)))
            parent[key] = value[:at] + draw(NASTY_TEXT) + value[at:]
        elif action == "truncate":
            parent[key] = value[: draw(st.integers(0, len(value)))]
        elif action == "retype":
            parent[key] = draw(ANY_VALUE)
        elif action == "delete":
            del parent[key]
        elif action == "swap":
            other = draw(st.sampled_from(list(parent)))
            parent[key], parent[other] = parent[other], value
        elif action == "duplicate":
            parent.insert(key, value)
        elif action == "rename" and isinstance(key, str) and key:
            cut = draw(st.integers(0, len(key) - 1))
            parent[key[:cut] + key[cut + 1 :]] = parent.pop(key)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


@st.composite
def mutated_text(draw, seed: str) -> str:
    """The seed's text with one to three edits of its characters and lines."""
    text = seed
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        lines = text.split("\n")
        action = draw(st.sampled_from(["truncate", "insert", "repeat-line", "delete-line", "indent-line"]))
        if action == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif action == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(NASTY_TEXT) + text[at:]
        else:
            i = draw(st.integers(0, len(lines) - 1))
            if action == "repeat-line":
                lines.insert(i, lines[i])
            elif action == "delete-line":
                del lines[i]
            else:
                lines[i] = draw(st.sampled_from([" ", "  ", "\t", ""])) + lines[i].lstrip(" ")
            text = "\n".join(lines)
    return text


def card_files():
    """A mutated card file: structural or textual mutations of one of the seeds."""
    seeds = st.sampled_from(SEEDS)
    return st.one_of(seeds.flatmap(mutated_data), seeds.flatmap(mutated_text))


def build(card_file: str, folder: Path):
    """Run `tierdeck build` on a project whose only card file is `card_file`."""
    project = Project(folder)
    project.write("decks/mini.yaml", TWO_TIERS)
    (folder / "cards").mkdir()
    (folder / "cards" / "a.yaml").write_text(card_file, encoding="utf-8")
    return project, project.run("build")


def assert_built_or_located(project: Project, result) -> None:
    """The fuzzing property: a clean import of everything reported, or located messages and exit 1."""
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        *problems, summary = result.stderr.splitlines()
        assert SUMMARY.match(summary), result.stderr
        assert problems, result.stderr
        for line in problems:
            assert LOCATED.match(line), f"not located: {line!r}"
        assert not (project.root / "dist" / "mini.apkg").exists()
        return
    for line in result.stderr.splitlines():  # warnings only
        assert LOCATED.match(line) and ": warning: " in line, f"unexpected stderr line: {line!r}"
    reported = int(REPORTED.search(result.stdout).group(1))
    col = open_collection(project.root / "student")
    try:
        import_package(col, project.root / "dist" / "mini.apkg")
        assert col.card_count() == reported, f"tierdeck reported {reported} cards, Anki made {col.card_count()}"
        for cid in col.find_cards(""):
            assert_card_asks_something(col.get_card(cid))
    finally:
        col.close()


# The fields a card's question shows, by note type and card template: each must show the student something.
ASKED = {
    ("tierdeck Basic", 0): ("Front",),
    ("tierdeck Term", 0): ("Term",),
    ("tierdeck Term", 1): ("Definition",),
    ("tierdeck Cloze", 0): ("Text",),
    ("tierdeck Mechanism", 0): ("Title", "Steps"),
    ("tierdeck Table", 0): ("Title", "Row", "Column"),
}
CLOZE_ANSWER = re.compile(r'<span class="cloze"[^>]*>(.*?)</span>', re.DOTALL)


def assert_card_asks_something(card) -> None:
    """A non-empty question: the labels of the template alone do not count, and a cloze hides something."""
    note = card.note()
    notetype = note.note_type()
    where = f"{note['CardId']} (card {card.ord + 1})"
    assert visible_text(card.question()), f"empty question on {where}"
    cloze = notetype["type"] == 1  # one template; the card's ord is its cloze number - 1
    for field in ASKED[(notetype["name"], 0 if cloze else card.ord)]:
        assert visible_text(note[field]), f"{where}: the question shows an empty {field}: {note[field]!r}"
    if cloze:  # the answer reveals the hidden text
        revealed = CLOZE_ANSWER.findall(card.answer())
        assert revealed and all(visible_text(text) for text in revealed), f"{where}: a cloze hides nothing"


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_fuzz__every_seed_builds_and_imports(seed, tmp_path):
    project, result = build(SEEDS[seed], tmp_path)
    assert result.exit_code == 0, result.output
    assert_built_or_located(project, result)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(card_file=card_files())
def test_fuzz__mutated_card_files_build_cleanly_or_fail_located(card_file):
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        project, result = build(card_file, Path(folder))
        assert time.perf_counter() - started < 10, "a single small card file took over 10 s"
        event(f"exit {result.exit_code}")
        assert_built_or_located(project, result)


# Inputs that make careless regexes and parsers quadratic; each is a single field of about 200 kB.
PATHOLOGICAL = {
    "unclosed cloze openers": "{{c1::" * 40_000,
    "blank lines before a bracket": "x" + " \n" * 100_000 + "[",
    "unclosed tags": "<a " * 70_000,
    "nested brackets": "[" * 100_000 + "]" * 100_000,
    "emphasis runs": "*a **" * 40_000,
    "nested quotes": "> " * 100_000 + "x",
    "comment openers": "<!--" * 50_000,
    "entity soup": "&#" * 100_000,
    "link soup": "[a](" * 50_000,
}


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_fuzz__pathological_field_fails_or_builds_in_seconds(name, tmp_path):
    text = PATHOLOGICAL[name]
    card_file = yaml.safe_dump(
        {"tier": "one", "source": "Fuzz", "cards": [{"type": "cloze", "id": "c", "text": text + " {{c1::end}}"}]},
        width=1 << 30,
    )
    started = time.perf_counter()
    _, result = build(card_file, tmp_path)
    assert time.perf_counter() - started < 5, f"{name} took {time.perf_counter() - started:.1f} s"
    assert "Traceback" not in result.output and result.exit_code in (0, 1), result.output


# --- what the fuzzer found, kept as plain regression tests -------------------------------------------------


def test_fuzz__found__braces_and_double_colons_in_hidden_steps_and_cells_reach_the_student(tmp_path):
    card_file = textwrap.dedent(
        """
        tier: one
        source: Fuzz
        cards:
          - type: mechanism
            id: m
            title: Set notation
            steps: ["}", "Ratio::high", "{x}"]
          - type: table
            id: t
            title: Sets
            columns: [Name, Written]
            rows: [[Empty set, "{}"], [Scope, "a::b"]]
        """
    )
    project, result = build(card_file, tmp_path)
    assert result.exit_code == 0, result.output
    assert_built_or_located(project, result)
    col = open_collection(project.root / "student")
    try:
        revealed = sorted(
            visible_text(CLOZE_ANSWER.findall(col.get_card(cid).answer())[0]) for cid in col.find_cards("")
        )
    finally:
        col.close()
    assert revealed == ["Ratio::high", "a::b", "{x}", "{}", "}"]


def test_fuzz__found__a_table_header_cannot_break_the_cloze(tmp_path):
    card_file = (
        "tier: one\nsource: Fuzz\ncards:\n  - type: table\n    id: t\n    title: T\n"
        "    columns: [A, '{{c1::']\n    rows: [[a, b]]\n"
    )
    _, result = build(card_file, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "cards/a.yaml:7: cards[0].columns[1]: a column header cannot contain '{{' or '}}' (the table is one cloze "
        "field); remove them"
    )


def test_fuzz__found__a_control_character_from_an_escape_is_an_error_not_a_blank_card(tmp_path):
    card_file = 'tier: one\nsource: Fuzz\ncards:\n  - {type: basic, id: q, front: "\\b", back: b}\n'
    _, result = build(card_file, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("cards/a.yaml:4: cards[0].front: holds the invisible control character U+0008")


def test_fuzz__found__an_opener_inside_a_deletion_still_counts_the_deletion(tmp_path):
    card_file = (
        "tier: one\nsource: Fuzz\ncards:\n  - type: cloze\n    id: c\n"
        '    text: "{{c2::{{osteoclasts::cell}} resorb bone; {{c1::osteoblasts}} build it"\n'
    )
    project, result = build(card_file, tmp_path)
    assert result.stdout.startswith("mini: 2 cards ")
    assert_built_or_located(project, result)


# --- the lock file: whatever a hand edit or a bad merge leaves in it, a located error or a build --------------

LOCK_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


@st.composite
def mutated_lock(draw, text: str) -> str:
    """The lock `text` with one mutation: a value replaced, a key dropped, the text cut or a character inserted."""
    import json

    data = json.loads(text)
    kind = draw(st.sampled_from(["note value", "notetype value", "drop key", "top value", "cut", "insert"]))
    event(f"lock mutation: {kind}")
    if kind in ("note value", "notetype value"):
        entries = data["notes" if kind == "note value" else "notetypes"]
        entry = entries[draw(st.sampled_from(sorted(entries)))]
        entry[draw(st.sampled_from(sorted(entry)))] = draw(LOCK_VALUES)
    elif kind == "drop key":
        section = data[draw(st.sampled_from(["notes", "notetypes"]))]
        entry = section[draw(st.sampled_from(sorted(section)))]
        entry.pop(draw(st.sampled_from(sorted(entry))))
    elif kind == "top value":
        data[draw(st.sampled_from(sorted(data)))] = draw(LOCK_VALUES)
    else:
        at = draw(st.integers(0, len(text)))
        return text[:at] if kind == "cut" else text[:at] + draw(st.characters(exclude_categories=("Cs",))) + text[at:]
    return json.dumps(data)


@pytest.fixture(scope="module")
def locked_project(tmp_path_factory) -> Path:
    """A built project with a lock file, to copy for each example."""
    folder = tmp_path_factory.mktemp("locked")
    project, result = build(textwrap.dedent(SEEDS[0]), folder)
    assert result.exit_code == 0, result.output
    return folder


@settings(max_examples=max(20, settings().max_examples // 6), suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz__a_mutated_lock_file_builds_or_fails_located(locked_project, data):
    import shutil

    lock = (locked_project / "decks" / "mini.lock").read_text()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "p"
        shutil.copytree(locked_project, root, ignore=shutil.ignore_patterns("dist", ".tierdeck-cache", "student"))
        (root / "decks" / "mini.lock").write_text(data.draw(mutated_lock(lock)), encoding="utf-8")
        (root / "cards" / "a.yaml").write_text(
            (root / "cards" / "a.yaml").read_text().replace("They resorb bone.", "They resorb old bone."), "utf-8"
        )
        result = Project(root).run("build")
        assert "Traceback" not in result.output
        assert result.exit_code in (0, 1), result.output
        event(f"exit {result.exit_code}")
        if result.exit_code == 1:
            *problems, summary = result.stderr.splitlines()
            assert SUMMARY.match(summary), result.stderr
            assert problems and all(LOCATED.match(line) for line in problems), result.stderr


# --- the watch server: whatever a client sends, an HTTP answer (or a closed connection), never a file outside
# the preview, never a traceback ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    """One preview server for the whole fuzzing run (a folder with a page, data and a secret beside it), stopped
    afterwards: a thread left running would keep later tests from forking worker processes."""
    import threading

    from tierdeck.preview.serve import PreviewServer

    root = tmp_path_factory.mktemp("fuzz-server")
    folder = root / "preview"
    (folder / "cards").mkdir(parents=True)
    (folder / "index.html").write_text("<p>page</p>")
    (folder / "cards" / "a.js").write_text("tierdeck.cards('a', []);")
    (root / "secret.txt").write_text("SECRET-OUTSIDE")
    (folder / "out").symlink_to(root / "secret.txt")
    server = PreviewServer(folder, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.close()
    thread.join(timeout=5)


PATH_PARTS = st.sampled_from(
    [
        "",
        "/",
        "..",
        "%2e%2e",
        "%2E",
        "%00",
        "\\",
        "//",
        "index.html",
        "cards",
        "a.js",
        "out",
        "secret.txt",
        "_tierdeck",
        "poll",
        "?",
        "since=",
        "-1",
        "²",
        "%C2%B2",
        "9" * 30,
        "#",
        ";",
        "%",
        "%ff",
    ]
)


@st.composite
def requests(draw) -> tuple:
    """A request's parts; `{token}` and `{port}` stand for the server's (right, missing or wrong)."""
    token = draw(st.sampled_from(["{token}", "", "x" * 22]))
    path = "/" + token + "".join(draw(st.lists(PATH_PARTS, max_size=8)))
    host = draw(st.sampled_from(["127.0.0.1:{port}", "localhost:{port}", "evil.example", "", "127.0.0.1:{port}\x00"]))
    method = draw(st.sampled_from(["GET", "GET", "HEAD", "POST", "OPTIONS", "G\x00T", ""]))
    extra = draw(
        st.lists(
            st.tuples(st.sampled_from(["Sec-Fetch-Site", "Origin", "X", "Host"]), st.text(max_size=10)), max_size=3
        )
    )
    cut = draw(st.one_of(st.none(), st.floats(0, 1)))
    return method, path, host, extra, cut


def _raw(server, method: str, path: str, host: str, extra: list, cut: float | None) -> bytes:
    port, token = server.server_address[1], server.token
    path, host = path.replace("{token}", token), host.replace("{port}", str(port))
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in extra), "Connection: close"]
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")
    return raw if cut is None else raw[: int(len(raw) * cut)]  # or cut short


@settings(
    max_examples=max(50, settings().max_examples // 2), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(parts=requests())
def test_fuzz__the_watch_server_answers_anything_without_leaking_or_crashing(fuzz_server, parts, capfd):
    import socket

    server = fuzz_server
    request = _raw(server, *parts)
    with socket.create_connection(server.server_address, timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)  # a cut request ends here instead of waiting for the server's timeout
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    assert b"SECRET-OUTSIDE" not in answer
    if answer and not answer.startswith(b"HTTP/"):  # HTTP/0.9 (no version, no Host): never more than a refusal
        assert b"<p>page</p>" not in answer and b"tierdeck.cards" not in answer, answer[:200]
    elif answer:
        status = int(answer.split(b" ", 2)[1])
        event(f"status {status}")
        assert status in (200, 400, 403, 404, 414, 421, 431, 501, 505), answer[:200]
        if status == 200:
            assert f"/{server.token}/".encode() in request.split(b"\r\n", 1)[0]
    assert "Traceback" not in capfd.readouterr().err
