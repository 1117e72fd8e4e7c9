"""What the Progesterone and Bone Health deck says, read straight from its YAML (issue 14).

Plain PyYAML on the card files and the manifest, no tierdeck import: these tests guard the content
(sources, evidence marks, the description), not how the deck is built.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CARD_FILES = sorted((REPO / "cards" / "progesterone-bone").glob("*.yaml"))
MANIFEST = REPO / "decks" / "progesterone-bone.yaml"
# The clinic's article the deck was written from; it lives outside the repository.
ARTICLE = Path(
    os.environ.get("PROGESTERONE_ARTICLE", REPO.parent / "shared" / "source" / "000_4970c138d9ffcf72.txt")
)

TIERS = ("Fundamentals", "Intermediate", "Academic")
# Every section a card may name as its source: "<Tier> / <heading>" with the heading exactly as the
# article prints it (curly apostrophes included), "<Tier> (opening)" for a tier's unheaded first
# paragraphs, and the glossary. The article has no "Introduction" heading. It prints "∞" where a
# colon belongs; the cards show the colon (`shown`).
ARTICLE_SECTIONS = [
    "Fundamentals (opening)",
    "Fundamentals / The Role of Hormones in Skeletal Maintenance",
    "Fundamentals / Progesterone’s Direct Influence on Bone Cells",
    "Fundamentals / Recognizing Early Indicators of Hormonal Imbalance",
    "Intermediate (opening)",
    "Intermediate / Progesterone’s Interplay with Other Hormones",
    "Intermediate / Clinical Assessment of Hormonal Status",
    "Intermediate / Targeted Hormonal Optimization Protocols",
    "Intermediate / Beyond Hormones ∞ Supporting Metabolic Function",
    "Academic (opening)",
    "Academic / Progesterone Receptor Signaling in Bone Cells",
    "Academic / Interconnectedness of Endocrine Axes and Bone Metabolism",
    "Academic / Beyond Hormones ∞ The Metabolic and Inflammatory Milieu",
    "Glossary",
]

EVIDENCE_LEVELS = ("established", "source-claim", "contested", "not-mainstream", "refuted")

# Notes that teach a claim the content review classed as wrong, not mainstream (class A) or contested
# (class B) and that are still cards: each must carry a level other than "established". A table cell
# is "<table id>/<row id>/<column key>"; the progesterone administration cell is corrected, not marked. (Class A/B notes not listed were merged or removed, or now teach only the
# mainstream fact: see docs/content-revision.md.)
MUST_BE_MARKED = {
    # class A
    "table-protocol-components/testosterone-cypionate-low-dose/primary-purpose",
    "table-protocol-components/testosterone-cypionate-low-dose/administration",
    "table-protocol-components/testosterone-cypionate-low-dose/impact-on-bone-health",
    "table-protocol-components/anastrozole-pellet-therapy/primary-purpose",
    "table-protocol-components/anastrozole-pellet-therapy/administration",
    "table-protocol-components/anastrozole-pellet-therapy/impact-on-bone-health",
    "salivary-testing",
    "mech-estrogen-dominance",
    "indicator-fluid-retention",
    "normal-vs-optimal",
    "term-hormonal-optimization",
    "gh-peptides-named",
    "mech-gh-peptides",
    # class B
    "progesterone-net-effect",
    "estrogen-vs-progesterone-action",
    "progesterone-osteoblast-proliferation",
    "progesterone-overlooked-role",
    "mech-deficiency-bone-loss",
    "mech-menopausal-decline",
    "table-protocol-components/progesterone/primary-purpose",
    "table-protocol-components/progesterone/impact-on-bone-health",
    "table-systemic-factors/hpg-axis-hormones-estrogen-testosterone/relevance-to-progesterone-deficiency",
    "table-systemic-factors/hpa-axis-hormones-cortisol/relevance-to-progesterone-deficiency",
    "table-systemic-factors/inflammation-cytokines/relevance-to-progesterone-deficiency",
    "mech-low-progesterone-stress",
    "mech-insulin-resistance",
    "testosterone-bone-role",
    "early-indicator-categories",
    "indicator-menstrual-irregularities",
    "lab-hormones-women",
    "term-progesterone-deficiency",
    "mech-hpg-ripple",
    "lifestyle-interventions",
}


def shown(section: str) -> str:
    """A section as a card names it: the article's "∞" as the colon it stands for."""
    return section.replace(" ∞ ", ": ")


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def _cards():
    """(file name, card, the file's data) for every card of the deck."""
    for path in CARD_FILES:
        data = _load(path)
        for card in data["cards"]:
            yield path.name, card, data


def _evidence_blocks():
    """(where, evidence) for every `evidence` the deck sets: file defaults, cards and table rows."""
    for path in CARD_FILES:
        data = _load(path)
        if "evidence" in data:
            yield f"{path.name} (file default)", data["evidence"]
        for card in data["cards"]:
            if "evidence" in card:
                yield f"{path.name}: {card['id']}", card["evidence"]
            for row in card.get("rows", []):
                if isinstance(row, dict) and "evidence" in row:
                    yield f"{path.name}: {card['id']}/{row.get('id', row['cells'][0])}", row["evidence"]
                for column, evidence in (row.get("cell_evidence", {}) if isinstance(row, dict) else {}).items():
                    yield f"{path.name}: {card['id']}/{row.get('id')}/{column}", evidence


def _marks() -> dict[str, str]:
    """Card id (or "<table>/<row id>/<column key>") -> the evidence level that applies to it, where one does."""
    found = {}
    for _, card, data in _cards():
        default = card.get("evidence") or data.get("evidence")
        if default:
            found[card["id"]] = default["level"]
        columns = [_key(c) for c in card.get("columns", [])][1:]
        for row in card.get("rows", []):
            if not isinstance(row, dict):
                continue
            for column in columns:
                evidence = row.get("cell_evidence", {}).get(column) or row.get("evidence") or default
                if evidence:
                    found[f"{card['id']}/{row.get('id')}/{column}"] = evidence["level"]
    return found


def _key(column) -> str:
    """A column's key, as tierdeck makes it: its id, else its header as a slug."""
    if isinstance(column, dict) and "id" in column:
        return column["id"]
    title = column["title"] if isinstance(column, dict) else column
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _description() -> str:
    return _load(MANIFEST)["description"]


def test_deck_files__are_there():
    assert MANIFEST.exists()
    assert {p.name for p in CARD_FILES} >= {"fundamentals.yaml", "glossary.yaml", "mechanisms.yaml", "tables.yaml"}


def test_sources__every_card_names_a_section_of_the_article():
    wrong = []
    for name, card, data in _cards():
        source = card.get("source", data.get("source"))
        if source not in {shown(section) for section in ARTICLE_SECTIONS}:
            wrong.append(f"{name}: {card['id']}: {source!r}")
    assert not wrong, "sources that are not in ARTICLE_SECTIONS:\n" + "\n".join(wrong)


def test_sources__article_sections_are_the_articles_headings():
    """Each heading in ARTICLE_SECTIONS is a line of the article, under its own tier."""
    if not ARTICLE.exists():
        pytest.skip(f"the source article is not at {ARTICLE} (set PROGESTERONE_ARTICLE)")
    lines = [line.strip() for line in ARTICLE.read_text(encoding="utf-8").splitlines()]
    tier_at = {tier: lines.index(tier) for tier in TIERS}
    assert list(tier_at.values()) == sorted(tier_at.values()), "the tiers are out of order in the article"
    ends = dict(zip(TIERS, [*list(tier_at.values())[1:], len(lines)]))
    for section in ARTICLE_SECTIONS:
        if section == "Glossary":
            assert "Glossary" in lines
            continue
        match = re.fullmatch(r"(\w+) \(opening\)|(\w+) / (.+)", section)
        assert match, section
        tier = match.group(1) or match.group(2)
        assert tier in tier_at, section
        if match.group(3):
            heading = match.group(3)
            positions = [i for i, line in enumerate(lines) if line == heading]
            assert any(tier_at[tier] < i < ends[tier] for i in positions), f"no heading {heading!r} under {tier}"


def test_evidence__every_level_is_known_and_has_a_note():
    blocks = list(_evidence_blocks())
    assert blocks, "the deck marks no claim at all"
    wrong = []
    for where, evidence in blocks:
        if not isinstance(evidence, dict) or not set(evidence) <= {"level", "note"}:
            wrong.append(f"{where}: evidence must be {{level, note}}, got {evidence!r}")
            continue
        level, note = evidence.get("level"), evidence.get("note")
        if level not in EVIDENCE_LEVELS:
            wrong.append(f"{where}: unknown level {level!r}")
        elif level != "established" and not (isinstance(note, str) and note.strip()):
            wrong.append(f"{where}: level {level!r} needs a note (the mainstream position)")
    assert not wrong, "\n".join(wrong)


def test_evidence__the_reviewed_claims_are_marked():
    marks = _marks()
    unmarked = sorted(key for key in MUST_BE_MARKED if marks.get(key, "established") == "established")
    assert not unmarked, f"claims the review flagged that carry no evidence level: {unmarked}"


def test_evidence__anastrozole_is_not_taught_to_support_bone():
    """The one plainly wrong claim: aromatase inhibitors cause bone loss."""
    (table,) = [card for _, card, _ in _cards() if card["id"] == "table-protocol-components"]
    headers = [c["title"] if isinstance(c, dict) else c for c in table["columns"]]
    (row,) = [r for r in table["rows"] if isinstance(r, dict) and r.get("id") == "anastrozole-pellet-therapy"]
    impact = row["cells"][headers.index("Impact on Bone Health")]
    assert "bone loss" in impact.lower()
    assert row["cell_evidence"]["impact-on-bone-health"]["level"] == "refuted"


def test_tags__no_caution_tags():
    """Evidence levels become `evidence::` tags by themselves; the review's `caution::` tags are not used."""
    tags = [("manifest", tag) for tag in _load(MANIFEST).get("tags", [])]
    for path in CARD_FILES:
        tags += [(path.name, tag) for tag in _load(path).get("tags", [])]
    tags += [(f"{name}: {card['id']}", tag) for name, card, _ in _cards() for tag in card.get("tags", [])]
    written = [f"{where}: {tag}" for where, tag in tags if tag.lower().startswith(("caution::", "evidence::"))]
    assert not written, written


def test_manifest__identity_unchanged_and_version_bumped():
    manifest = _load(MANIFEST)
    assert manifest["id"] == "progesterone-bone"
    assert manifest["name"] == "Progesterone and Bone Health"
    assert [t["id"] for t in manifest["tiers"]] == ["fundamentals", "intermediate", "academic"]
    assert manifest["cards"] == ["cards/progesterone-bone"]
    assert manifest["tags"] == ["progesterone", "bone-health"]
    assert str(manifest["version"]) == "1.1.0"


def test_description__does_not_adopt_the_articles_thesis():
    text = _description()
    assert "helps keep the skeleton in balance" not in text
    thesis = re.compile(r"\bprogesterone (helps|protects|builds|supports|keeps|maintains|strengthens)\b", re.I)
    assert not thesis.search(text), thesis.search(text)
    assert "**Read critically.**" in text
    assert re.search(r"clinic's (marketing|patient) article", text)
    assert "evidence" in text.lower()


def test_description__references_labelled_and_the_untraceable_one_marked():
    text = _description()
    label = "References as listed by the source article (not verified)"
    assert label in text
    assert text.index(label) < text.index("Prior, Jerilynn C.")
    (entry,) = [line for line in text.splitlines() if "Seifert-Held" in line]
    assert "not found" in entry.lower()
    assert "Seifert-Klauss" in entry and "845180" in entry
