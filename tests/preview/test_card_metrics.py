"""The card-metrics harness itself, on small hand-written cards whose numbers are known (so it can fail)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

import card_metrics as cm
from card_metrics import failures, measure, reviewer_page, split_style
from conftest import SAMPLE, Project

# A plain card: white background, dark text, 20px, centred as most Anki cards are.
BASE_CSS = (
    ".card { font-family: Arial, sans-serif; font-size: 20px; text-align: center;"
    " color: #111; background-color: #fff; }"
)


@pytest.fixture(scope="module")
def page():
    executable = cm.chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = cm.launch(playwright, executable)
        page = cm.new_page(browser)
        yield page
        browser.close()


def run(page, question, answer=None, css=BASE_CSS, *, width=390, night=False, mobile=False, **kw):
    return measure(
        page, question, question if answer is None else answer, css, width=width, night=night, mobile=mobile, **kw
    )


# --- overflow -------------------------------------------------------------------------------------------------


def test_overflow__a_600px_element_overflows_a_390px_phone_and_is_named(page):
    m = run(page, '<div class="wide" style="width:600px">wide block</div>')
    # desktop page: 20px body margin, so the block ends at 620px
    assert m.overflow_px == pytest.approx(230, abs=1)
    assert [o["label"] for o in m.overflow] == ["#qa > div.wide", "#qa > div.wide"]  # both sides
    assert m.overflow[0]["right"] == pytest.approx(620, abs=1) and m.overflow[0]["text"] == "wide block"
    assert "overflow 230px" in failures(m)


def test_overflow__with_the_mobile_class_and_ankidroid_margins_too(page):
    m = run(page, '<div style="width:600px">wide</div>', mobile=True)
    assert m.client == "ankidroid"
    assert m.overflow_px == pytest.approx(600 + 10 - 390, abs=1)  # #content margin .5em of 20px


def test_overflow__none_when_the_element_fits_or_at_900px(page):
    assert run(page, '<div style="width:300px">fits</div>').overflow_px == 0
    m = run(page, '<div style="width:600px">wide</div>', width=900)
    assert m.overflow_px == 0 and m.overflow == []


def test_overflow__an_element_pulled_past_the_left_edge_counts(page):
    m = run(page, '<div style="margin-left:-60px">pulled left</div>')
    assert m.overflow and m.overflow[0]["left"] < 0


# --- movement -------------------------------------------------------------------------------------------------

LIST_CSS = BASE_CSS + " ul { text-align: left; margin: 0 auto; padding-left: 1.5em; } .cloze { font-weight: bold; }"
LIST_Q = '<ul><li>Step one</li><li><span class="cloze">[...]</span></li><li>Step three</li></ul>'
LIST_A = (
    '<ul><li>Step one</li><li><span class="cloze">a much longer revealed step that widens the list</span></li>'
    "<li>Step three</li></ul>"
)


def test_movement__a_centred_inline_block_list_moves_sideways_when_the_answer_widens_it(page):
    m = run(page, LIST_Q, LIST_A, LIST_CSS + " ul { display: inline-block; }", width=900)
    assert m.move_px > 100
    worst = m.moves[0]
    assert worst["label"] == "#qa > ul" and worst["dx"] < -100 and worst["dy"] == 0
    assert any(x["label"].endswith("span.cloze") for x in m.moves)  # its top-left moved with the list
    assert any(f.startswith("moves ") for f in failures(m))


def test_movement__a_full_width_block_list_does_not_move(page):
    m = run(page, LIST_Q, LIST_A, LIST_CSS + " ul { display: block; }", width=900)
    assert m.move_px <= 2 and m.moves == []


def test_movement__the_cloze_may_change_size_and_elements_on_one_side_only_are_skipped(page):
    q = (
        '<div class="t">Q</div><div class="x" style="display:none">hidden on the front</div>'
        '<p><span class="cloze">[...]</span></p>'
    )
    a = (
        '<div class="t">Q</div><div class="x">shown on the back</div>'
        '<p><span class="cloze">a far longer answer</span></p><hr id="answer"><div>new</div>'
    )
    css = BASE_CSS + " .card { text-align: left; } .x { position: absolute; top: 300px; }"
    m = run(page, q, a, css, width=900)
    assert m.move_px == 0, m.moves


def test_movement__vertical_shift_below_a_revealed_answer_that_wraps(page):
    q = '<p><span class="cloze">[...]</span></p><p class="after">after</p>'
    a = '<p><span class="cloze">' + "long words " * 30 + '</span></p><p class="after">after</p>'
    m = run(page, q, a)
    assert m.moves and m.moves[0]["label"] == "#qa > p.after:nth-of-type(2)" and m.moves[0]["dy"] > 20


def test_movement__text_after_the_asked_deletion_reflows_and_is_reported_apart(page):
    css = BASE_CSS + " .card { text-align: left; }"
    q = '<p>Before <b class="b">bold</b> <span class="cloze" data-cloze="x">[...]</span> then <i class="i">it</i></p>'
    a = '<p>Before <b class="b">bold</b> <span class="cloze">a much longer answer than that</span> then <i class="i">it</i></p>'
    m = run(page, q, a, css, width=900)
    assert m.move_px == 0, m.moves  # nothing before the deletion moved
    assert m.reflow_px > 100  # the <i> after it moved along the line: reflow, not a layout jump
    centred = run(page, q, a, BASE_CSS, width=900)  # centred text: what comes before the deletion moves too
    assert centred.move_px > 100 and "p > b.b" in centred.moves[0]["label"]


# --- font size ------------------------------------------------------------------------------------------------


def test_font__12px_text_is_reported_as_12_with_where(page):
    m = run(page, '<div>Normal text</div><div class="fine" style="font-size:12px">fine print</div>')
    assert m.min_font_px == 12
    assert m.min_font["label"] == "#qa > div.fine:nth-of-type(2)" and m.min_font["text"] == "fine print"
    assert m.body_font_px == 20 and m.main_font_px == 20
    assert "text 12px" in failures(m)  # a phone: nothing under 15px


def test_font__hidden_text_does_not_count(page):
    html = (
        '<div>Normal</div><div style="display:none;font-size:8px">gone</div>'
        '<div style="visibility:hidden;font-size:8px">invisible</div>'
        '<details><summary style="font-size:16px">More</summary><p style="font-size:9px">closed</p></details>'
    )
    m = run(page, html)
    assert m.min_font_px == 16 and m.min_font["text"] == "More"
    opened = run(page, html.replace("<details>", "<details open>"))
    assert opened.min_font_px == 9


def test_font__body_targets_differ_for_phone_and_desktop(page):
    css = BASE_CSS.replace("20px", "21px")
    phone = run(page, "<div>text</div>", css=css, width=390)
    desktop = run(page, "<div>text</div>", css=css, width=900)
    assert phone.body_font_px == desktop.body_font_px == 21
    assert not any(f.startswith("body") for f in failures(phone))
    assert "body 21px" in failures(desktop)


# --- contrast -------------------------------------------------------------------------------------------------


def test_contrast__grey_999_on_white_is_about_2_85(page):
    m = run(page, '<div class="grey">grey text</div>', css=BASE_CSS + " .grey { color: #999; }")
    assert m.min_contrast == pytest.approx(2.85, abs=0.01)
    assert m.min_contrast_at["fg"] == "#999999" and m.min_contrast_at["bg"] == "#ffffff"
    assert "contrast 2.85" in failures(m)


def test_contrast__background_is_composited_through_ancestors_and_alpha(page):
    # 50% black over white is grey 127.5; white text on it: 3.98:1
    css = BASE_CSS + " .box { background: rgba(0,0,0,.5); } .box span { color: #fff; }"
    m = run(page, '<div class="box"><span>on grey</span></div>', css=css)
    assert m.min_contrast == pytest.approx(3.98, abs=0.01)
    assert m.min_contrast_at["bg"] in ("#7f7f7f", "#808080")


def test_contrast__page_background_is_white_when_nothing_sets_one(page):
    m = run(page, "<div>text</div>", css="body { background: transparent; } .card { color: #777; background: none; }")
    assert m.min_contrast == pytest.approx(4.48, abs=0.01)  # #777 on white


def test_contrast__night_mode_uses_the_night_rules(page):
    css = BASE_CSS + " .nightMode.card { color: #ddd; background-color: #222; }"
    day = run(page, "<div>text</div>", css=css)
    night = run(page, "<div>text</div>", css=css, night=True)
    assert day.min_contrast == pytest.approx(18.88, abs=0.05)  # #111 on #fff
    assert night.min_contrast_at["bg"] == "#222222" and night.min_contrast == pytest.approx(11.71, abs=0.01)


# --- highlights -----------------------------------------------------------------------------------------------

TABLE = (
    "<table><tr><th>A</th><th>B</th></tr>"
    '<tr><td class="td-hit-row">1</td><td class="td-hit">2</td></tr>'
    "<tr><td>3</td><td>4</td></tr></table>"
)
TABLE_CSS = BASE_CSS + " td, th { border: 1px solid #ccc; } th { background: #f4f4f4; }"


def test_highlight__a_yellow_fff4cc_cell_on_white_is_about_1_1(page):
    m = run(page, TABLE, css=TABLE_CSS + " .td-hit-row { background-color: #fff4cc; }")
    assert m.min_highlight == pytest.approx(1.10, abs=0.01)
    assert "td.td-hit-row" in m.min_highlight_at["label"] and m.min_highlight_at["indicator"] == "background"
    assert "highlight 1.1" in failures(m)
    # the header shading is not a highlight: reported apart
    assert m.min_shading == pytest.approx(1.1, abs=0.01) and " > th" in m.min_shading_at["label"]


def test_highlight__an_outline_is_measured_against_the_cells_around_it(page):
    css = TABLE_CSS + " .td-hit-row { background-color: #fff4cc; } .td-hit { outline: 2px solid #c99400; }"
    m = run(page, TABLE, css=css)
    (hit,) = [h for h in m.sides["question"]["highlights"] if "td.td-hit:" in h["label"]]
    assert hit["indicator"] == "outline"
    assert hit["contrast"] == pytest.approx(2.47, abs=0.01)  # #c99400 next to the #fff4cc neighbour


def test_highlight__a_strong_one_passes(page):
    m = run(page, TABLE, css=TABLE_CSS + " .td-hit-row, .td-hit { background-color: #1d4ed8; color: #fff; }")
    assert m.min_highlight > 3 and not any(f.startswith("highlight") for f in failures(m))


def test_highlight__a_border_shared_by_every_cell_is_not_a_highlight(page):
    m = run(page, TABLE, css=TABLE_CSS)
    assert m.min_highlight is None


# --- prominence -----------------------------------------------------------------------------------------------

PROMINENCE = (
    '<div class="kind">Define</div><div class="prompt">Osteoid</div><div class="answer">Unmineralised matrix</div>'
)


def test_prominence__the_named_prompt_against_the_largest_other_text(page):
    css = BASE_CSS + " .prompt { font-size: 1.15em; font-weight: 600; } .kind { font-size: .7em; }"
    m = run(page, PROMINENCE, css=css, prompt=".prompt")
    assert m.prompt == {"label": "#qa > div.prompt:nth-of-type(2)", "text": "Osteoid", "size": 23, "weight": 600}
    assert m.other["size"] == 20 and m.other["text"] == "Unmineralised matrix"
    assert m.prompt_most_prominent


def test_prominence__a_prompt_smaller_than_other_text_fails(page):
    css = BASE_CSS + " .prompt { font-size: .8em; font-weight: 600; }"
    m = run(page, PROMINENCE, css=css, prompt=".prompt")
    assert not m.prompt_most_prominent and "prompt not most prominent" in failures(m)
    missing = run(page, PROMINENCE, css=css, prompt=".nothing")
    assert not missing.prompt_found and not missing.prompt_most_prominent


def test_prominence__without_a_selector_the_largest_text_is_the_prompt(page):
    css = BASE_CSS + " .answer { font-size: 30px; }"
    m = run(page, PROMINENCE, css=css)
    assert m.prompt["text"] == "Unmineralised matrix" and m.other["size"] == 20


# --- the page -------------------------------------------------------------------------------------------------


def test_page__classes_the_clients_set():
    page = reviewer_page("<b>x</b>", ".card{}", ord=2, night=True, mobile=True)
    assert '<html class="mobile android linux js"' in page
    assert '<body class="card card3 nightMode night_mode">' in page
    assert '<div id="qa"><style>.card{}</style><b>x</b></div>' in page
    desktop = reviewer_page("<b>x</b>", night=True)
    assert '<html class="night-mode"' in desktop and '<body class="card card1 isLin nightMode night_mode">' in desktop
    assert "margin: 20px" in desktop and "overflow-wrap: break-word" in desktop


def test_page__css_already_in_the_side_is_not_added_again():
    side = "<style>.card{color:red}</style><div>q</div>"
    assert reviewer_page(side, ".card{color:red}").count(".card{color:red}") == 1
    assert split_style(side) == (".card{color:red}", "<div>q</div>")


def test_page__margins_of_each_client(page):
    first = '<div class="first">x</div>'
    desktop = run(page, first, width=900)
    android = run(page, first, width=390, mobile=True)
    mobile_ios = run(page, first, width=390, mobile=True, client="ankimobile")
    lefts = [m.sides["question"]["positions"]["qa/div[0]"][0] for m in (desktop, android, mobile_ios)]
    assert lefts == [20, 10, 20]


# --- the browser decision -------------------------------------------------------------------------------------


def test_chromium_path__skips_without_the_browser_and_fails_on_ci(monkeypatch, tmp_path):
    monkeypatch.setattr(cm, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-chromium is missing"):
        cm.chromium_path()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run on CI"):
        cm.chromium_path()


# --- the real engine and the script ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_apkg(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics") / "sample"
    shutil.copytree(SAMPLE, root)
    result = Project(root).run("build", "-o", "out")
    assert result.exit_code == 0, result.output
    (apkg,) = (root / "out").glob("*.apkg")
    return apkg


def test_rendered_cards__every_card_with_its_id_type_and_css_once(sample_apkg, tmp_path):
    cards = cm.rendered_cards(sample_apkg, tmp_path)
    assert len(cards) == 13
    assert len({c.card_id for c in cards}) == 13
    assert {c.note_type for c in cards} >= {"tierdeck Basic", "tierdeck Cloze", "tierdeck Table"}
    for card in cards:
        css, body = split_style(card.question)
        assert css == card.css and card.css not in body and card.css not in card.answer_body
        assert card.key and "<style>" not in card.question_body
        assert reviewer_page(card.question, card.css).count(card.css) == 1


def test_script__table_summary_and_json_for_a_deck(sample_apkg, tmp_path):
    cm.chromium_path()
    out = tmp_path / "metrics.json"
    script = [sys.executable, cm.__file__, str(sample_apkg), "--width", "390", "--json", str(out)]
    done = subprocess.run(script, check=False, capture_output=True, text=True, timeout=300)  # its own Playwright
    assert done.returncode == 0, done.stderr
    printed = done.stdout
    assert "390 light mobile" in printed and "Failures against issue 13's targets" in printed
    data = json.loads(out.read_text())
    assert len(data) == 13 and all(len(card["conditions"]) == 4 for card in data)
    first = data[0]["conditions"][0]
    assert {"overflow_px", "move_px", "min_font_px", "min_contrast", "min_highlight", "failures"} <= set(first)
