"""The preview: cards rendered as the real Anki engine renders them, and the page working in a real browser."""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path

import pytest
from anki_engine import import_package, open_collection, visible_text
from card_metrics import chromium_path, launch
from conftest import SAMPLE, Project

from tierdeck import build as core
from tierdeck.notetypes import builtin
from tierdeck.preview import preview_cards
from tierdeck.templating import Context, TemplateError, parse, render_cards, render_nodes

# Written on every run for review (gitignored); docs/preview.png is a copy of it, refreshed by hand.
SCREENSHOT = Path(__file__).parent / "artifacts" / "preview.png"

# Cloze hints, several deletions of one number, stray '::' and hints with colons, Latin-1 and other
# characters Anki escapes in attributes, markdown blocks, and term cards with and without the reverse.
TRICKY_CARDS = """
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
        text: "**Bold** {{c1::*em* `code`}}\\n\\n- item {{c2::two}}\\n- three"
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
        back: "A\\n\\nsecond paragraph"
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
    return {(c.note_key, c.ordinal): (c.question, c.answer) for c in preview_cards(core.load(project.root))}


def test_preview__cards_are_the_html_anki_renders_for_the_sample(sample, tmp_path):
    assert preview_of(sample) == anki_cards(sample, tmp_path)


def test_preview__cards_are_the_html_anki_renders_for_hints_colons_and_markup(mini, tmp_path):
    mini.write("cards/a.yaml", TRICKY_CARDS)
    expected = anki_cards(mini, tmp_path)
    assert ("both-ways", 2) in expected and ("one-way", 2) not in expected
    assert preview_of(mini) == expected


def test_preview__uses_the_note_types_css_unchanged(sample):
    cards = preview_cards(core.load(sample.root))
    assert {c.css for c in cards} == {nt.css for nt in builtin().values()}


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


@pytest.fixture
def page(browser, site):
    """The preview open in a fresh tab; `page.problems` collects console errors and uncaught exceptions."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: page.problems.append(str(exc)))
    page.goto(site.as_uri())
    yield page
    page.close()


def shown_keys(page) -> list[str]:
    return page.eval_on_selector_all(".pv-card:not([hidden])", "cards => cards.map(c => c.id)")


def card_style(page, selector: str, prop: str, inner: str = ".card") -> str:
    """A computed style of an element inside the first card side matching `selector`."""
    return page.evaluate(
        "([sel, inner, prop]) => getComputedStyle(document.querySelector(sel).shadowRoot.querySelector(inner))[prop]",
        [selector, inner, prop],
    )


def test_page__loads_without_console_errors_and_lists_every_card(page):
    assert page.title() == "Sample Deck - tierdeck preview"
    assert page.inner_text("#pv-count") == "13 of 13 cards"
    assert len(shown_keys(page)) == 13
    assert page.problems == []


def test_page__search_narrows_the_list_and_clearing_restores_it(page):
    page.fill("#pv-search", "osteoclast")
    shown = shown_keys(page)
    assert page.inner_text("#pv-count") == f"{len(shown)} of 13 cards"
    assert 0 < len(shown) < 13
    assert "osteoclast-role.1" in shown and "pr-signalling.1" not in shown
    page.fill("#pv-search", "no such words")
    assert shown_keys(page) == [] and page.is_visible("#pv-empty")
    page.fill("#pv-search", "")
    assert len(shown_keys(page)) == 13 and not page.is_visible("#pv-empty")


def test_page__tier_type_and_tag_filters(page):
    page.select_option("#pv-tier", "advanced")
    assert len(shown_keys(page)) == 7
    assert not page.is_visible('.pv-tier[data-tier="basics"]')
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


def test_page__night_mode_applies_the_note_types_night_colours(page):
    assert card_style(page, ".pv-side", "backgroundColor") == "rgb(251, 251, 253)"  # .card in notetypes.CSS
    page.check("#pv-night")
    assert card_style(page, ".pv-side", "backgroundColor") == "rgb(27, 31, 39)"  # .nightMode.card
    assert card_style(page, ".pv-side", "color") == "rgb(232, 235, 241)"
    classes = page.evaluate("document.querySelector('.pv-side').shadowRoot.querySelector('.card').className")
    assert classes.split() == ["card", "card1", "nightMode", "night_mode"]
    page.uncheck("#pv-night")
    assert card_style(page, ".pv-side", "backgroundColor") == "rgb(251, 251, 253)"


def test_page__phone_width_narrows_the_cards_and_applies_mobile_rules(page):
    def width() -> float:
        return page.evaluate("document.querySelector('.pv-side').getBoundingClientRect().width")

    wide = width()
    page.check("#pv-phone")
    assert width() <= 375 < wide
    classes = page.evaluate("document.querySelector('.pv-side').shadowRoot.querySelector('.card').className")
    assert "mobile" in classes.split()
    page.uncheck("#pv-phone")
    assert width() == wide


def test_page__table_and_mechanism_cards_show_what_is_hidden(page):
    table = '[id="bone-cells/osteoclast/origin.1"] .pv-side'
    front = page.evaluate(
        "sel => [...document.querySelector(sel).shadowRoot.querySelectorAll('.td-tbl > table td')].map(td => td.textContent)",
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
    assert card_style(page, table, "backgroundColor", "td.td-hit") == "rgb(255, 241, 194)"
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
        """() => [...document.querySelectorAll('.pv-card')].map(card => [
             card.dataset.key, Number(card.dataset.ordinal),
             ...[...card.querySelectorAll('.pv-side')].map(side => side.shadowRoot.querySelector('#qa').innerHTML)])"""
    )
    assert {(key, ordinal): (visible_text(q), visible_text(a)) for key, ordinal, q, a in rendered} == expected


def test_page__screenshot_for_the_readme(page):
    page.select_option("#pv-tier", "advanced")
    assert page.inner_text('.pv-deck[data-deck="sample"] h1 .pv-n') == "7 of 13 cards"
    page.evaluate("document.getElementById('pr-signalling.3').scrollIntoView()")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    data = SCREENSHOT.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1280, 1000)
    assert page.problems == []


# --- the command -----------------------------------------------------------------------------------------


def test_preview__open_opens_the_index_in_the_browser(sample, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    result = sample.run("preview", "--open", "-o", "site")
    assert result.exit_code == 0, result.output
    index = sample.root / "site" / "index.html"
    assert opened == [index.as_uri()]
    assert result.stdout == "preview of 13 cards -> site/index.html\n"


def test_preview__shows_lint_warnings_under_the_card_and_keeps_them_on_stderr(mini):
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
    page = (mini.root / "preview" / "index.html").read_text(encoding="utf-8")
    assert f'<li class="pv-warning">{warning.replace("&", "&amp;").replace(chr(39), "&#x27;")}</li>' in page


def test_preview__bad_cards_write_nothing(mini):
    mini.write("cards/a.yaml", "tier: one\ncards:\n  - type: basic\n    id: q1\n    front: x\n")
    result = mini.run("preview")
    assert result.exit_code == 1
    assert result.stderr == "cards/a.yaml:3: cards[0]: missing required key 'back'; add 'back: ...'\n" + (
        "1 error; nothing was written\n"
    )
    assert not (mini.root / "preview").exists()


def test_preview__table_cells_point_at_their_row(sample):
    cards = {c.note_key: c for c in preview_cards(core.load(sample.root))}
    text = (sample.root / "cards/sample/advanced.yaml").read_text().splitlines()
    line = int(cards["bone-cells/osteoclast/origin"].location.rsplit(":", 1)[1])
    assert re.search(r"id: osteoclast", text[line - 1])


def test_page__shows_images_of_the_cards(browser, mini):
    from test_media import png

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
    page = browser.new_page()
    page.goto((mini.root / "preview" / "index.html").as_uri())
    sizes = page.evaluate(
        "() => [...document.querySelectorAll('.pv-side')].map(side => side.shadowRoot.querySelector('img'))"
        ".map(img => [img.getAttribute('src'), img.naturalWidth])"
    )
    page.close()
    ((name, width),) = set(map(tuple, sizes))
    assert width == 1 and (mini.root / "preview" / name).read_bytes() == png((200, 30, 30))
