""" "Report a problem with this card": the issue page's address, prefilled. No server, no account.

The release manifest's `issues` is either a plain URL, to which `?title=…&body=…` is appended (what a
GitHub "new issue" page reads), or a URL holding `{title}` and `{body}`, which are replaced.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from dataclasses import dataclass

MAX_TEXT = 1500  # characters of card text in the body: browsers and GitHub refuse very long addresses


@dataclass(frozen=True)
class CardReport:
    """What identifies a card for its author."""

    deck: str  # the deck's name
    version: str | None  # the release the student has
    card_id: int  # Anki's card id
    key: str  # tierdeck's card id (the CardId field), '' when the note type has none
    where: str | None  # file:line in the deck's repository, when the release says
    question: str  # the card's text as the student saw it (plain)
    answer: str


def title(report: CardReport) -> str:
    """The issue's title."""
    return f"Card {report.key or report.card_id} ({report.deck} {report.version or ''})".replace(" )", ")")


def body(report: CardReport) -> str:
    """The issue's body: the card's identity first (what the author needs to find it), then its text."""

    def cut(text: str) -> str:
        return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"

    lines = [
        "**What is wrong with this card?**",
        "",
        "(describe the problem here)",
        "",
        "---",
        f"- Deck: {report.deck}, version {report.version or '(none)'}",
        f"- Card: `{report.key}`" if report.key else "- Card: (no tierdeck card id)",
        f"- Source: `{report.where}`" if report.where else "- Source: (not in this release's manifest)",
        f"- Anki card id: {report.card_id}",
        "",
        "Question:",
        "> " + cut(report.question),
        "",
        "Answer:",
        "> " + cut(report.answer),
    ]
    return "\n".join(lines) + "\n"


def issue_url(template: str, report: CardReport) -> str:
    """The address to open: `template` with the report's title and body filled in."""
    fill = {"title": title(report), "body": body(report)}
    if "{title}" in template or "{body}" in template:
        url = template
        for key, value in fill.items():
            url = url.replace("{" + key + "}", urllib.parse.quote(value, safe=""))
        return url
    return template + ("&" if "?" in template else "?") + urllib.parse.urlencode(fill, quote_via=urllib.parse.quote)


def for_card(col, card_id: int) -> tuple[str, CardReport] | None:
    """The issue address and report for a card of a followed deck; None when its deck names no issue page."""
    from .update import STATE_KEY

    card = col.get_card(card_id)
    note = card.note()
    prefix = STATE_KEY.format(namespace="")
    for key, state in col.all_config().items():
        if not key.startswith(prefix) or not isinstance(state, dict) or note.guid not in state.get("guids", ()):
            continue
        if not state.get("issues"):
            return None
        key_field = note["CardId"] if "CardId" in note else ""
        where = (state.get("sources") or {}).get(key_field.split("/")[0]) if key_field else None

        question = _visible(card.question())
        answer = _visible(card.answer())
        if answer.startswith(question):  # the back side repeats the front
            answer = answer[len(question) :].strip()
        report = CardReport(state.get("name", ""), state.get("version"), card.id, key_field, where, question, answer)
        return issue_url(state["issues"], report), report
    return None


def _visible(card_html: str) -> str:
    """The text a student reads on a rendered card side."""
    card_html = re.sub(r"<style>.*?</style>", " ", card_html, flags=re.DOTALL)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", card_html)).split())
