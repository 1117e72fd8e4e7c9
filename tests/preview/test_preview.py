"""The preview: cards rendered as the real Anki engine renders them, the site written incrementally, and the page
working in a real browser (search, filters, modes, phone fidelity flags, math, sound, scale)."""

from __future__ import annotations

import re
import shutil
import struct
import sys
from pathlib import Path

import pytest

from anki_engine import import_package, open_collection, visible_text
from card_metrics import chromium_path, launch
from conftest import SAMPLE, Project
from tierdeck.notes.notetypes import builtin
from tierdeck.portable.templates import Context, TemplateError, parse, render_cards, render_nodes
from tierdeck.preview import cards as preview_cards_module
from tierdeck.preview import preview_cards, write_site
from tierdeck.preview.cards import files_of
from tierdeck.preview.clientside import for_browser, mathml
from tierdeck.project import load as core

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

# Written on every run for review (gitignored); docs/preview.png is a copy of it, refreshed by hand.
SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "preview.png"

# Cloze hints, several deletions of one number, stray '::' and hints with colons, Latin-1 and other
# characters Anki escapes in attributes, markdown blocks, term cards with and without the reverse, and math.
TRICKY_CARDS = r"""
    tier: one
    source: "Lecture *notes* & <b>slides</b>"
    cards:
      - type: cloze
        id: hints
        text: "{{c1::Paris::capital}} is in {{c2::France}}; {{c1::Lyon}} too. Café {{c3::é – ü/ß “q” & <b>b</b>}}"
      - type: cloze
        id: colons
        text: "A {{c1::outer}} {{c2::inner}} tail end :: {{c3::x::y::z}}"
      - type: cloze
        id: markdown
        text: "**Bold** {{c1::*em* `code`}}\n\n- item {{c2::two}}\n- three"
        extra: More context
      - type: term
        id: one-way
        term: Osteoid
        definition: Unmineralised bone matrix.
      - type: term
        id: both-ways
        term: Osteon
        definition: The structural unit of compact bone.
        reverse: true
      - type: basic
        id: quotes
        front: "Q with 'quotes' & an ampersand"
        back: "A\n\nsecond paragraph"
      - type: basic
        id: math
        front: 'Solve \(x_1^2 = \frac{a}{b}\)'
        back: '\[x_1 = \sqrt{a/b}\] where a < b'
      - type: mechanism
        id: steps
        title: Three steps
        steps: [First, Second, Third]
      - type: table
        id: grid
        title: Grid
        columns: [Name, "Value (SI)"]
        rows:
          - [Calcium, 2.5 mmol/L]
          - {id: phos, cells: [Phosphate, 1.1 mmol/L]}
"""


def all_cards(report: core.Report) -> list:
    """Every preview card of every deck, file by file."""
    return [card for r in report.decks for _, notes in files_of(r) for card in preview_cards(r, notes, report.root)]


def anki_cards(project: Project, tmp_path: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(card key, 1-based ordinal) -> (question, answer) HTML as the real Anki engine renders them, CSS removed."""
    result = project.run("build", "-o", str(tmp_path / "dist"))
    assert result.exit_code == 0, result.output
    col = open_collection(tmp_path / "student")
    try:
        for apkg in sorted((tmp_path / "dist").glob("*.apkg")):
            import_package(col, apkg)
        cards = {}
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            css = card.note_type()["css"]
            question, answer = card.question(), card.answer()
            assert question.startswith(f"<style>{css}</style>") and answer.startswith(f"<style>{css}</style>")
            cards[card.note()["CardId"], card.ord + 1] = (
                question.removeprefix(f"<style>{css}</style>"),
                answer.removeprefix(f"<style>{css}</style>"),
            )
        return cards
    finally:
        col.close()


def preview_of(project: Project) -> dict[tuple[str, int], tuple[str, str]]:
    return {(c.note_key, c.ordinal): (c.question, c.answer) for c in all_cards(core.load(project.root))}


def test_preview__cards_are_the_html_anki_renders_for_the_sample(sample, tmp_path):
    assert preview_of(sample) == anki_cards(sample, tmp_path)


def test_preview__cards_are_the_html_anki_renders_for_hints_colons_markup_and_math(mini, tmp_path):
    mini.write("cards/a.yaml", TRICKY_CARDS)
    expected = anki_cards(mini, tmp_path)
    assert ("both-ways", 2) in expected and ("one-way", 2) not in expected
    assert r"\(x_1^2 = \frac{a}{b}\)" in expected["math", 1][0]  # the .apkg keeps the formula for Anki's MathJax
    assert preview_of(mini) == expected


def test_preview__uses_the_note_types_css_unchanged(sample):
    assert {c.css for c in all_cards(core.load(sample.root))} == {nt.css for nt in builtin().values()}


def test_templating__front_side_negated_sections_and_text_filter():
    nodes = parse("{{#A}}a={{A}}{{/A}}{{^B}}no B{{/B}}|{{text:A}}")
    context = Context({"A": "<b>x</b>", "B": " <br> "}, 1, True)
    assert render_nodes(nodes, context) == "a=<b>x</b>no B|x"
    assert render_nodes(parse("{{FrontSide}}<hr>"), Context({}, 1, False, {"FrontSide": "Q"})) == "Q<hr>"


def test_templating__unknown_field_is_an_error_and_an_unknown_filter_keeps_the_text():
    with pytest.raises(TemplateError, match="unknown field 'Nope'"):
        render_nodes(parse("{{Nope}}"), Context({}, 1, True))
    assert render_nodes(parse("{{an-addon-filter:A}}"), Context({"A": "x"}, 1, True)) == "x"
    assert "<details" in render_nodes(parse("{{hint:A}}"), Context({"A": "x"}, 1, True))


def test_templating__term_without_reverse_makes_one_card():
    term = builtin()["term"]
    assert [c.name for c in render_cards(term, ("T", "D", "", "", "", "t"))] == ["Term to definition"]
    assert len(render_cards(term, ("T", "D", "y", "", "", "t"))) == 2


# --- math and sound, offline -----------------------------------------------------------------------------


def test_clientside__formulas_become_mathml_and_sounds_players_outside_attributes():
    side = r'<p title="\(t\)">A \(a^2 &lt; b\) and \[\frac{1}{2}\] [sound:korotkoff-0a1b.mp3]</p>'
    assert for_browser(side) == (
        r'<p title="\(t\)">A <math display="inline"><mrow><msup><mi>a</mi><mn>2</mn></msup><mo>&#x0003C;</mo>'
        '<mi>b</mi></mrow></math> and <math display="block"><mrow><mfrac><mrow><mn>1</mn></mrow><mrow><mn>2</mn>'
        '</mrow></mfrac></mrow></math> <audio class="pv-sound" controls preload="none" src="korotkoff-0a1b.mp3" '
        'title="korotkoff-0a1b.mp3"></audio></p>'
    )


def test_clientside__author_text_in_a_formula_stays_text():
    converted = mathml(r"\text{<img src=x onerror=alert(1)>} x")
    assert "<img" not in converted and "&lt;img" in converted
    assert mathml(r"\text{a} \href{javascript:alert(1)}{x}") == ""  # more than math: left as written, untypeset


# --- file:line ------------------------------------------------------------------------------------------

BLOCK_STYLE = """
    # comments, block scalars with '- ' lines, a multi-line flow list, rows as lists and as mappings
    tier: one
    source: Histology
    cards:
    - type: basic
      id: a
      front: |
        - not an item
        - nor this
      back: "A"
    # - nor this comment
    - {type: basic, id: b, front: [B,
        c], back: B}
    -   type: table
        id: t
        title: |
          rows:
          - not a row
        columns: [X, Y]
        rows:
        - [r1, v1]
        -   id: r2
            cells: [r2, v2]
"""


def test_block_lines__agree_with_the_yaml_parser_or_step_aside(mini):
    from tierdeck.format import yamlio
    from tierdeck.preview.cards import block_lines

    file = mini.write("cards/a.yaml", BLOCK_STYLE)
    paths = [("cards", 0), ("cards", 1), ("cards", 2), ("cards", 2, "rows", 0), ("cards", 2, "rows", 1)]
    locator = yamlio.Locator()
    assert block_lines(file, paths) == {path: locator.line(file, path) for path in paths}
    assert block_lines(file, paths)[("cards", 2, "rows", 1)] == 22
    flow = mini.write("cards/b.yaml", "tier: one\ncards: [{type: basic, id: x, front: X, back: Y}]\n")
    assert block_lines(flow, [("cards", 0)]) is None  # PyYAML finds the lines of files written otherwise
    assert block_lines(file, [("cards", 0), ("cards", 1)]) is None  # a card the notes do not account for


def test_block_lines__every_benchmark_and_sample_card_is_where_the_yaml_parser_says(tmp_path, sample):
    from bench_build import generate
    from tierdeck.format import yamlio
    from tierdeck.preview.cards import block_lines

    generate(tmp_path / "big", 600, 3)
    for root in (tmp_path / "big", sample.root):
        report, locator = core.load(root), yamlio.Locator()
        for result in report.decks:
            for file, notes in files_of(result):
                paths = [n.path for n in notes]
                assert block_lines(file, paths) == {path: locator.line(file, path) for path in paths}


# --- the site on disk ------------------------------------------------------------------------------------


def test_site__only_the_edited_files_scripts_are_written_again_and_stale_ones_removed(sample, monkeypatch):
    out = sample.root / "preview"
    first = write_site(core.load(sample.root), out)
    scripts = {p.relative_to(out): p.stat().st_mtime_ns for p in [*out.glob("cards/*.js"), *out.glob("text/*.js")]}
    assert len(scripts) == 4  # two card files, each a cards and a text script
    rendered: list[Path] = []
    real = preview_cards_module.preview_cards
    monkeypatch.setattr(
        preview_cards_module, "preview_cards", lambda r, n, root: rendered.append(n[0].file) or real(r, n, root)
    )
    assert write_site(core.load(sample.root), out).version == first.version
    assert rendered == []  # everything from the cache
    sample.edit("cards/sample/basics.yaml", "They resorb bone", "They resorb mineralised bone")
    second = write_site(core.load(sample.root), out)
    assert rendered == [sample.root / "cards/sample/basics.yaml"] and second.version != first.version
    now = {p.relative_to(out): p.stat().st_mtime_ns for p in [*out.glob("cards/*.js"), *out.glob("text/*.js")]}
    assert len(now) == 4 and len(set(now) - set(scripts)) == 2
    assert {k: v for k, v in now.items() if k in scripts} == {k: v for k, v in scripts.items() if k in now}
    assert "mineralised" in "".join(p.read_text() for p in out.glob("cards/*.js"))


def test_site__an_unchanged_preview_answers_from_its_record_until_an_input_or_the_folder_changes(sample, monkeypatch):
    sample.edit("cards/sample/basics.yaml", "front: What do osteoclasts do?", "front: " + "very " * 45 + "long?")
    first = sample.run("preview")
    assert first.exit_code == 0 and "the front has 46 words" in first.stderr
    index = sample.root / "preview" / "index.js"
    loads = []
    real = core.load
    monkeypatch.setattr(core, "load", lambda *a, **k: loads.append(1) or real(*a, **k))
    (sample.root / "preview" / "notes").mkdir()  # a folder of the author's own in the output: not the preview's
    (sample.root / "preview" / "notes" / "todo.txt").write_text("x", encoding="utf-8")
    again = sample.run("preview")
    assert loads == []  # no card read: the record answered, with the same warnings and summary
    assert (again.exit_code, again.stdout, again.stderr) == (first.exit_code, first.stdout, first.stderr)
    index.write_text("damaged", encoding="utf-8")  # the folder changed: written again
    assert sample.run("preview").exit_code == 0 and loads == [1]
    assert index.read_text(encoding="utf-8").startswith("tierdeck.index(")
    sample.edit("cards/sample/basics.yaml", "They resorb bone", "They resorb mineralised bone")  # an input changed
    assert sample.run("preview").exit_code == 0 and loads == [1, 1]
    assert "mineralised" in "".join(p.read_text() for p in (sample.root / "preview").glob("cards/*.js"))


def test_site__index_holds_every_card_in_tier_and_type_order(sample):
    import json

    write_site(core.load(sample.root), sample.root / "preview")
    text = (sample.root / "preview" / "index.js").read_text(encoding="utf-8")
    data = json.loads(text.removeprefix("tierdeck.index(").removesuffix(");\n"))
    assert data["title"] == "Sample Deck" and len(data["cards"]["chunk"]) == 13
    order = [(tier, kind) for _, tier, kind, _ in data["groups"]]
    assert order == sorted(order) and len(set(order)) == len(order)  # tier by tier, type by type
    assert data["types"][0][0] == "term" and data["groups"][0] == [0, 0, 0, 2]
    assert sum(count for *_, count in data["groups"]) == 13
    assert data["cards"]["level"] == []  # no card of the sample has an evidence level


# --- the page in a real browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The sample's preview, written by `tierdeck preview`."""
    root = tmp_path_factory.mktemp("site") / "sample"
    shutil.copytree(SAMPLE, root)
    result = Project(root).run("preview")
    assert result.exit_code == 0, result.output
    assert result.stdout == "preview of 13 cards -> preview/index.html\n"
    return root / "preview" / "index.html"


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()  # skips (or on CI fails) without the system's Chromium
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright, executable)
        yield browser
        browser.close()


def open_page(browser, index: Path, width: int = 1280):
    """`index` open in a fresh tab, its first cards rendered; `page.problems` collects console errors."""
    page = browser.new_page(viewport={"width": width, "height": 1000})
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.goto(index.as_uri())
    page.wait_for_function("document.body.dataset.ready")
    return page


@pytest.fixture
def page(browser, site):
    page = open_page(browser, site)
    yield page
    page.close()


def shown_keys(page) -> list[str]:
    return page.eval_on_selector_all("#pv-main .pv-card", "cards => cards.map(c => c.id)")


def card_style(page, selector: str, prop: str, inner: str = ".card") -> str:
    """A computed style of an element inside the first card side matching `selector`."""
    return page.evaluate(
        "([sel, inner, prop]) => getComputedStyle(document.querySelector(sel).shadowRoot.querySelector(inner))[prop]",
        [selector, inner, prop],
    )


def reference_style(page, classes: str, prop: str, width: int = 1280, html_classes: str = "") -> str:
    """A style the note type's CSS gives `<body class=classes>` in a window `width` px wide: Anki's own page.

    Call it in desktop view: it reads the note type's stylesheet from the first card side."""
    return page.evaluate(
        """async ([classes, prop, width, htmlClasses]) => {
             const sheet = document.querySelector('#pv-main .pv-side').shadowRoot.adoptedStyleSheets[1];
             const css = [...sheet.cssRules].map(r => r.cssText).join('\\n');
             const frame = document.createElement('iframe');
             frame.style.cssText = `width: ${width}px; height: 600px; border: 0`;
             frame.srcdoc = `<html class="${htmlClasses}"><style>${css}</style><body class="${classes}">x</body></html>`;
             await new Promise(resolve => { frame.onload = resolve; document.body.appendChild(frame); });
             const value = getComputedStyle(frame.contentDocument.body)[prop];
             frame.remove();
             return value; }""",
        [classes, prop, width, html_classes],
    )


def test_page__loads_without_console_errors_and_lists_every_card(page):
    assert page.title() == "Sample Deck - tierdeck preview"
    assert page.inner_text("#pv-count") == "13 of 13 cards"
    assert len(shown_keys(page)) == 13
    assert page.problems == []


def test_page__search_narrows_the_list_and_clearing_restores_it(page):
    page.fill("#pv-search", "osteoclast")
    page.wait_for_function("!document.querySelector('#pv-count').textContent.startsWith('13 of')")
    shown = shown_keys(page)
    assert page.inner_text("#pv-count") == f"{len(shown)} of 13 cards"
    assert 0 < len(shown) < 13
    assert "osteoclast-role.1" in shown and "pr-signalling.1" not in shown
    page.fill("#pv-search", "no such words")
    page.wait_for_function("document.querySelector('#pv-count').textContent.startsWith('0 of')")
    assert shown_keys(page) == [] and page.is_visible("#pv-empty")
    page.fill("#pv-search", "")
    page.wait_for_function("document.querySelector('#pv-count').textContent.startsWith('13 of')")
    assert len(shown_keys(page)) == 13 and not page.is_visible("#pv-empty")


def test_page__tier_type_and_tag_filters_with_counts(page):
    assert page.eval_on_selector_all("#pv-tier option", "os => os.map(o => o.textContent)") == [
        "All tiers",
        "1 Basics (6)",
        "2 Advanced (7)",
    ]
    page.select_option("#pv-tier", "advanced")
    assert len(shown_keys(page)) == 7
    assert page.inner_text("#pv-main h1 .pv-n") == "7 of 13 cards"
    page.select_option("#pv-type", "table")
    assert sorted(shown_keys(page)) == [
        "bone-cells/osteoblast/origin.1",
        "bone-cells/osteoblast/role.1",
        "bone-cells/osteoclast/origin.1",
        "bone-cells/osteoclast/role.1",
    ]
    page.select_option("#pv-tier", "")
    page.select_option("#pv-type", "")
    page.select_option("#pv-tag", "cells")
    assert sorted(shown_keys(page)) == [
        "bone-remodeling.1",
        "bone-remodeling.2",
        "osteoclast-role.1",
        "remodeling-cells.1",
        "remodeling-cells.2",
    ]


def test_page__night_mode_sets_ankis_classes_and_the_note_types_night_colours(page):
    day = card_style(page, ".pv-side", "backgroundColor")
    assert day == reference_style(page, "card card1", "backgroundColor")
    page.check("#pv-night")
    night = card_style(page, ".pv-side", "backgroundColor")
    assert night == reference_style(page, "card card1 nightMode night_mode", "backgroundColor") != day
    assert card_style(page, ".pv-side", "color") == reference_style(page, "card card1 nightMode night_mode", "color")
    classes = page.evaluate("document.querySelector('.pv-side').shadowRoot.querySelector('.card').className")
    assert classes.split() == ["card", "card1", "nightMode", "night_mode"]
    page.uncheck("#pv-night")
    assert card_style(page, ".pv-side", "backgroundColor") == day


def test_page__phone_view_renders_each_side_at_390px_with_the_mobile_class(page):
    def width() -> float:
        return page.evaluate("document.querySelector('.pv-side').clientWidth")

    wide = width()
    page.check("#pv-phone")
    assert width() == 390 < wide
    assert page.evaluate("document.querySelector('.pv-side').shadowRoot.querySelector('.pv-html').className") == (
        "pv-html mobile"
    )
    page.uncheck("#pv-phone")
    desktop = card_style(page, ".pv-side", "fontSize")
    assert desktop == reference_style(page, "card card1", "fontSize")
    phone = reference_style(page, "card card1", "fontSize", width=390, html_classes="mobile")
    page.check("#pv-phone")
    assert card_style(page, ".pv-side", "fontSize") == phone != desktop  # the note type's phone rules apply
    page.uncheck("#pv-phone")
    assert width() == wide


def test_page__table_and_mechanism_cards_show_what_is_hidden(page):
    table = '[id="bone-cells/osteoclast/origin.1"] .pv-side'
    front = page.evaluate(
        "sel => [...document.querySelector(sel).shadowRoot.querySelector('table').querySelectorAll('td')]"
        ".map(td => td.textContent)",
        table,
    )
    assert front == [
        "Osteoblast",
        "Builds bone matrix",
        "Mesenchymal stem cells",
        "Osteoclast",
        "Resorbs bone",
        "[...]",
    ]
    answer = page.evaluate(
        "sel => document.querySelectorAll(sel)[1].shadowRoot.querySelector('td.td-hit').textContent", table
    )
    assert answer == "Monocyte/macrophage line"
    steps = page.evaluate(
        "() => [...document.querySelector('[id=\"pr-signalling.2\"] .pv-side').shadowRoot.querySelectorAll('li')]"
        ".map(li => li.textContent)"
    )
    assert steps == ["Progesterone binds PR-A or PR-B", "[...]", "The receptor dimerizes"]


def test_page__every_card_shows_the_text_the_anki_engine_shows(page, sample, tmp_path):
    expected = {key: tuple(map(visible_text, sides)) for key, sides in anki_cards(sample, tmp_path).items()}
    rendered = page.evaluate(
        """() => [...document.querySelectorAll('#pv-main .pv-card')].map(card => [
             card.dataset.key, Number(card.dataset.ordinal),
             ...[...card.querySelectorAll('.pv-side')].map(side => side.shadowRoot.querySelector('#qa').innerHTML)])"""
    )
    assert {(key, ordinal): (visible_text(q), visible_text(a)) for key, ordinal, q, a in rendered} == expected


def test_page__screenshot_for_the_readme(page):
    page.select_option("#pv-tier", "advanced")
    assert page.inner_text("#pv-main h1 .pv-n") == "7 of 13 cards"
    page.evaluate("document.getElementById('pr-signalling.3').scrollIntoView()")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    data = SCREENSHOT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 1000)
    assert page.problems == []


FIDELITY_CARDS = r"""
    tier: one
    source: Histology
    cards:
      - type: basic
        id: wide
        front: Which hormone?
        back: "```\nrank_ligand_binding(osteoclast_precursor, receptor_activator_of_nf_kappa_b)\n```"
      - {type: basic, id: faint, front: "Which colour? <span style='color: #c8c8c8'>pale grey</span>", back: Grey.}
      - {type: basic, id: tiny, front: What is this?, back: "<small><small><small>Fine print</small></small></small>"}
      - {type: basic, id: fine, front: "What do osteoclasts do?", back: They resorb bone.}
      - {type: basic, id: formula, front: Clearance?, back: '\( C_{x} = \frac{U_{x} \times V}{P_{x}} \)'}
"""


def test_page__cards_that_overflow_a_phone_or_have_small_or_faint_text_are_flagged_and_filterable(browser, mini):
    mini.write("cards/a.yaml", FIDELITY_CARDS)
    assert mini.run("preview").exit_code == 0
    page = open_page(browser, mini.root / "preview" / "index.html")
    page.wait_for_function("document.querySelector('#pv-flags').textContent === '3'")
    flags = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('#pv-main .pv-card')].map(c => "
        "[c.dataset.key, c.querySelector('.pv-flag').hidden ? '' : c.querySelector('.pv-flag').textContent]))"
    )
    assert re.fullmatch(r"back \d+px wider than a 390px phone", flags["wide"])
    assert re.match(r'front contrast 1\.\d:1: "pale grey"', flags["faint"])
    assert re.fullmatch(r'back text at 1[0-4](\.\d+)?px: "Fine print"', flags["tiny"])
    assert flags["fine"] == ""
    assert flags["formula"] == ""  # a formula's subscripts are small by design, not a phone problem
    page.check("#pv-flagged")
    page.wait_for_function("document.querySelector('#pv-count').textContent.startsWith('3 of')")
    assert shown_keys(page) == ["wide.1", "faint.1", "tiny.1"]
    page.uncheck("#pv-flagged")
    # no clipping: in phone view the wide table scrolls sideways inside its 390 px side
    page.check("#pv-phone")
    side = page.locator('[id="wide.1"] .pv-side').last
    assert side.evaluate("s => [s.clientWidth, s.scrollWidth > s.clientWidth, getComputedStyle(s).overflowX]") == [
        390,
        True,
        "auto",
    ]
    assert page.problems == []
    page.close()


def test_page__math_is_mathml_and_a_sound_is_a_player_for_the_copied_file(browser, mini):
    (mini.root / "cards" / "audio").mkdir()
    (mini.root / "cards" / "audio" / "korotkoff.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(64))
    mini.write(
        "cards/a.yaml",
        r"""
        tier: one
        source: Physiology
        cards:
          - {type: basic, id: bp, front: 'Pulse pressure \(P = S - D\)? [sound:audio/korotkoff.mp3]', back: Yes.}
        """,
    )
    assert mini.run("preview").exit_code == 0
    page = open_page(browser, mini.root / "preview" / "index.html")
    front = page.locator("#pv-main .pv-side").first
    assert front.evaluate("s => s.shadowRoot.querySelector('math').textContent") == "P=S−D"
    assert front.evaluate("s => s.shadowRoot.querySelector('math').getBoundingClientRect().width") > 20
    src = front.evaluate("s => s.shadowRoot.querySelector('audio[controls]').getAttribute('src')")
    assert (mini.root / "preview" / src).read_bytes()[:3] == b"ID3"
    page.close()


def test_page__evidence_levels_are_counted_shown_and_filtered(browser, mini):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Review
        cards:
          - {type: basic, id: a, front: Q a?, back: A a., evidence: {level: established}}
          - {type: basic, id: b, front: Q b?, back: A b., evidence: {level: contested, note: Small trials.}}
          - {type: basic, id: c, front: Q c?, back: A c., evidence: {level: contested, note: One cohort.}}
          - {type: basic, id: d, front: Q d?, back: A d.}
          - type: basic
            id: e
            front: Q e?
            back: A e.
            evidence: {level: established, source_claim: refuted, note: The article says the opposite.}
        """,
    )
    assert mini.run("preview").exit_code == 0
    page = open_page(browser, mini.root / "preview" / "index.html")
    assert page.eval_on_selector_all("#pv-level option", "os => os.map(o => o.textContent)") == [
        "All evidence levels",
        "Established (2)",
        "Contested (2)",
        "No evidence level (1)",
    ]
    page.select_option("#pv-level", "contested")
    assert shown_keys(page) == ["b.1", "c.1"]
    assert page.inner_text('[id="b.1"] .pv-level') == "Contested"
    page.select_option("#pv-level", "none")
    assert shown_keys(page) == ["d.1"]
    # the source claim is a tag of the card: the tag filter selects it
    page.select_option("#pv-level", "")
    page.select_option("#pv-tag", "source-claim::refuted")
    assert shown_keys(page) == ["e.1"]
    page.close()


def test_page__a_large_deck_renders_only_what_is_near_the_window_and_filters_all_of_it(browser, tmp_path):
    from bench_build import generate

    project = generate(tmp_path / "big", 3000, 7)
    assert Project(project.root).run("preview").exit_code == 0
    page = open_page(browser, project.root / "preview" / "index.html")
    assert page.inner_text("#pv-count") == "3,000 of 3,000 cards"
    rendered = len(shown_keys(page))
    assert 0 < rendered < 200
    assert page.evaluate("document.querySelectorAll('#pv-main .pv-side').length") == 2 * rendered
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    page.wait_for_function(f"document.querySelectorAll('#pv-main .pv-card').length !== {rendered}")
    page.select_option("#pv-type", "table")
    tables = project.cards_by_type["table"]
    page.wait_for_function(f"document.querySelector('#pv-count').textContent === '{tables:,} of 3,000 cards'")
    assert all(k.count("/") == 2 for k in shown_keys(page))  # table cells only: card/row/column
    page.fill("#pv-search", project.edit_card)
    page.wait_for_function("document.querySelector('#pv-count').textContent.startsWith('0 of')")
    page.select_option("#pv-type", "")
    page.wait_for_function("document.querySelector('#pv-count').textContent.startsWith('1 of')")
    page.wait_for_function("document.querySelectorAll('#pv-main .pv-card').length === 1")
    assert shown_keys(page) == [f"{project.edit_card}.1"]
    assert page.problems == []
    page.close()


# --- the command -----------------------------------------------------------------------------------------


def test_preview__open_opens_the_index_in_the_browser(sample, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    result = sample.run("preview", "--open", "-o", "site")
    assert result.exit_code == 0, result.output
    index = sample.root / "site" / "index.html"
    assert opened == [index.as_uri()]
    assert result.stdout == "preview of 13 cards -> site/index.html\n"


def test_preview__shows_lint_warnings_on_the_card_and_keeps_them_on_stderr(browser, mini):
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        cards:
          - type: basic
            id: q1
            front: What do osteoclasts do?
            back: They resorb bone.
        """,
    )
    result = mini.run("preview")
    warning = (
        "cards/a.yaml:3: warning: cards[0]: card 'q1' has no source; add 'source: ...' to the card, or once at the "
        "top of the file for all its cards"
    )
    assert result.exit_code == 0
    assert result.stderr == warning + "\n"
    page = open_page(browser, mini.root / "preview" / "index.html")
    assert page.inner_text('[id="q1.1"] .pv-warning') == warning
    page.close()


def test_preview__bad_cards_write_nothing(mini):
    mini.write("cards/a.yaml", "tier: one\ncards:\n  - type: basic\n    id: q1\n    front: x\n")
    result = mini.run("preview")
    assert result.exit_code == 1
    assert result.stderr == "cards/a.yaml:3: cards[0]: missing required key 'back'; add 'back: ...'\n" + (
        "1 error; nothing was written\n"
    )
    assert not (mini.root / "preview").exists()


def test_preview__table_cells_point_at_their_row(sample):
    cards = {c.note_key: c for c in all_cards(core.load(sample.root))}
    text = (sample.root / "cards/sample/advanced.yaml").read_text().splitlines()
    line = int(cards["bone-cells/osteoclast/origin"].location.rsplit(":", 1)[1])
    assert re.search(r"id: osteoclast", text[line - 1])


def test_page__shows_images_of_the_cards(browser, mini):
    from conftest import png

    (mini.root / "cards" / "images").mkdir()
    (mini.root / "cards" / "images" / "cell.png").write_bytes(png((200, 30, 30)))
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: Histology
        cards:
          - {type: basic, id: cell, front: "Which cell? ![A cell](images/cell.png)", back: An osteoclast.}
        """,
    )
    assert mini.run("preview").exit_code == 0
    page = open_page(browser, mini.root / "preview" / "index.html")
    page.wait_for_function(
        "[...document.querySelectorAll('#pv-main .pv-side')].every(s => s.shadowRoot.querySelector('img').complete)"
    )
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('#pv-main .pv-side')].map(side => side.shadowRoot.querySelector('img'))"
        ".map(img => [img.getAttribute('src'), img.naturalWidth])"
    )
    page.close()
    ((name, width),) = set(map(tuple, sizes))
    assert width == 1 and (mini.root / "preview" / name).read_bytes() == png((200, 30, 30))


def test_page__a_note_type_allowed_to_run_scripts_runs_none_in_the_preview(browser, mini):
    evil = (
        '{{Front}}<img src="data:," onerror="alert(1)"><svg><animate onbegin="alert(2)" attributeName="x" dur="1s"/>'
        '</svg><a id="js" href="javascript:alert(3)">hint</a><iframe srcdoc="&lt;img src=x onerror=parent.alert(4)&gt;">'
        "</iframe><script>alert(5)</script>"
    )
    mini.write(
        "notetypes/hinted.yaml",
        f"""
        name: Hinted
        fields: [Front, Back]
        templates:
          - {{name: Card 1, front: '{evil}', back: '{{{{FrontSide}}}}<hr id=answer>{{{{Back}}}}'}}
        scripts: allowed
        """,
    )
    mini.write(
        "cards/a.yaml",
        """
        tier: one
        source: S
        cards:
          - {type: note, id: h, notetype: hinted, fields: {Front: Which bone?, Back: Femur.}}
        """,
    )
    assert mini.run("preview").exit_code == 0
    dialogs = []
    page = browser.new_page()
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((mini.root / "preview" / "index.html").as_uri())
    page.wait_for_function("document.body.dataset.ready")
    front = page.locator("#pv-main .pv-side").first
    assert "This note type runs scripts" in front.evaluate("s => s.shadowRoot.textContent")
    assert "Which bone?" in front.evaluate("s => s.shadowRoot.textContent")
    page.wait_for_timeout(1500)  # let an <animate> begin and any iframe load
    assert front.evaluate("s => s.shadowRoot.querySelectorAll('script, iframe, [onerror], [onbegin]').length") == 0
    assert dialogs == []


def test_page__in_a_narrow_window_the_answer_sits_under_the_question(browser, site):
    page = open_page(browser, site, width=390)
    boxes = page.evaluate(
        "() => [...document.querySelector('#pv-main .pv-card').querySelectorAll('.pv-side')].map(side => {"
        " const r = side.getBoundingClientRect(); return [r.left, r.top, r.width]; })"
    )
    (q_left, q_top, q_width), (a_left, a_top, a_width) = boxes
    assert q_left == a_left and a_top > q_top  # stacked, not side by side at ~155 px each
    assert q_width > 300 and a_width > 300
    assert page.problems == []
    page.close()
