"""'Report a problem with this card': the issue page's address carries the card's id, file:line, the deck's
version and the card's text, built headless from a collection that followed a release."""

from __future__ import annotations

import shutil
import urllib.parse

from anki_engine import open_collection
from tierdeck_addon import config, fetch, report, update

V1 = "1700000000"


def _follow(sample, tmp_path):
    assert sample.run("build", env={"SOURCE_DATE_EPOCH": V1}).exit_code == 0
    shutil.copytree(sample.root / "dist", tmp_path / "server")
    col = open_collection(tmp_path / "student")
    rel, at = fetch.read_manifest(str(tmp_path / "server"))
    apkg = fetch.download(at, rel.packages[0], tmp_path)
    settings = config.read({})
    update.apply(col, update.plan(col, rel.packages[0], apkg, settings), settings)
    return col


def test_report__opens_the_new_issue_page_with_the_card_prefilled(sample, tmp_path):
    sample.edit(
        "decks/sample.yaml", "tags: [sample]", "tags: [sample]\nissues: https://github.com/course/bone/issues/new"
    )
    col = _follow(sample, tmp_path)
    (card_id,) = col.find_cards('"CardId:osteoclast-role"')
    url, card = report.for_card(col, card_id)
    assert card == report.CardReport(
        deck="Sample Deck",
        version="1.0.0",
        card_id=card_id,
        key="osteoclast-role",
        where="cards/sample/basics.yaml:11",
        question="What do osteoclasts do?",
        answer="They resorb bone. Osteo- means bone; -clast means breaker. Source: Sample / Basics",
    )
    base, query = url.split("?", 1)
    assert base == "https://github.com/course/bone/issues/new"
    fields = dict(urllib.parse.parse_qsl(query))
    assert fields["title"] == "Card osteoclast-role (Sample Deck 1.0.0)"
    assert fields["body"] == (
        "**What is wrong with this card?**\n\n(describe the problem here)\n\n---\n"
        "- Deck: Sample Deck, version 1.0.0\n"
        "- Card: `osteoclast-role`\n"
        "- Source: `cards/sample/basics.yaml:11`\n"
        f"- Anki card id: {card_id}\n\n"
        "Question:\n> What do osteoclasts do?\n\n"
        "Answer:\n> They resorb bone. Osteo- means bone; -clast means breaker. Source: Sample / Basics\n"
    )
    assert " " not in url and "\n" not in url
    col.close()


def test_report__a_template_places_title_and_body_itself():
    card = report.CardReport("D", None, 7, "", None, "Q & A?", "yes")
    url = report.issue_url("https://forms.example.org/report?subject={title}&text={body}&x=1", card)
    assert url.startswith("https://forms.example.org/report?subject=Card%207%20%28D%29&text=%2A%2AWhat%20is")
    assert url.endswith("&x=1")
    assert "Q%20%26%20A%3F" in url


def test_report__a_deck_without_an_issue_page_offers_none(sample, tmp_path):
    col = _follow(sample, tmp_path)
    (card_id,) = col.find_cards('"CardId:osteoclast-role"')
    assert report.for_card(col, card_id) is None
    col.close()
