"""Deck statistics: Anki cards per tier and card type, tag counts, and the lint findings. Never prints."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from tierdeck.errors import relative
from tierdeck.format.schema import EVIDENCE_LEVELS, SOURCE_CLAIMS, format_path
from tierdeck.notes.expand import AUTO_TAG_PREFIXES
from tierdeck.notes.kinds import KINDS

if TYPE_CHECKING:
    from tierdeck.project.report import Report

# Every note carries these tags from its tier and card type; tables and filters by tier and type cover them.


def collect(report: Report) -> dict:
    """The statistics of every deck in `report` as plain data."""
    # the built-in card types always; note cards (imported note types) only where a deck has them
    types = [k for k in KINDS if k != "note" or any(n.card_type == k for r in report.decks for n in r.notes)]
    decks = []
    for result in report.decks:
        manifest = result.deck.manifest
        cells: Counter = Counter()
        tags: Counter = Counter()
        evidence: Counter = Counter()
        evidence_by_tier: Counter = Counter()
        claims: Counter = Counter()
        for note in result.notes:
            cells[note.tier, note.card_type] += note.card_count
            evidence[note.evidence or "none"] += note.card_count
            evidence_by_tier[note.tier, note.evidence or "none"] += note.card_count
            if note.source_claim:
                claims[note.source_claim] += note.card_count
            for tag in note.tags:
                if not tag.startswith(AUTO_TAG_PREFIXES):
                    tags[tag] += note.card_count
        tiers: list[dict[str, Any]] = [
            {
                "id": tier.id,
                "title": tier.title,
                "cards": {kind: cells[tier.id, kind] for kind in types},
                "total": sum(cells[tier.id, kind] for kind in types),
            }
            for tier in manifest.tiers
        ]
        decks.append(
            {
                "id": manifest.id,
                "name": manifest.name,
                "notes": len(result.notes),
                "cards": result.card_count,
                "tiers": tiers,
                "types": {kind: sum(t["cards"][kind] for t in tiers) for kind in types},
                "tags": dict(sorted(tags.items(), key=lambda item: (-item[1], item[0]))),
                # cards per evidence level, once any card has one ("none": cards without)
                "evidence": {level: evidence[level] for level in (*EVIDENCE_LEVELS, "none") if evidence[level]}
                if set(evidence) - {"none"}
                else {},
                # the same per tier (JSON only): how much of each tier rests on what is not established
                "evidence_by_tier": {
                    tier.id: {
                        level: evidence_by_tier[tier.id, level]
                        for level in (*EVIDENCE_LEVELS, "none")
                        if evidence_by_tier[tier.id, level]
                    }
                    for tier in manifest.tiers
                }
                if set(evidence) - {"none"}
                else {},
                # cards that report or correct a claim of their source, per how that claim stands
                "source_claims": {claim: claims[claim] for claim in SOURCE_CLAIMS if claims[claim]},
            }
        )
    warnings = [
        {
            "file": relative(d.file, report.root),
            "line": d.line,
            "path": format_path(d.path),
            "message": d.message,
        }
        for d in report.warnings
    ]
    ignored = [
        {"file": relative(d.file, report.root), "line": d.line, "rule": rule, "why": why, "message": d.message}
        for d, rule, why in report.ignored
    ]
    return {"decks": decks, "warnings": warnings, "ignored": ignored}


def to_json(data: dict) -> str:
    """The statistics as indented JSON, with a final newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_text(data: dict) -> str:
    """The statistics as aligned plain-text tables."""
    out: list[str] = []
    for deck in data["decks"]:
        out.append(
            f"{deck['id']} ({deck['name']}): {_plural(deck['cards'], 'card')} from {_plural(deck['notes'], 'note')}"
        )
        out.append("")
        kinds = list(deck["types"])
        rows = [["tier", *kinds, "total"]]
        rows += [[t["id"], *(str(t["cards"][k]) for k in kinds), str(t["total"])] for t in deck["tiers"]]
        rows.append(["total", *(str(deck["types"][k]) for k in kinds), str(deck["cards"])])
        out += _table(rows)
        out.append("")
        if deck["evidence"]:
            out.append("cards per evidence level:")
            width = max(len(level) for level in deck["evidence"])
            out += [f"  {level:<{width}}  {count:>4}" for level, count in deck["evidence"].items()]
            out.append("")
        if deck["source_claims"]:
            out.append("cards per source claim (the source's claim the card reports or corrects):")
            width = max(len(claim) for claim in deck["source_claims"])
            out += [f"  {claim:<{width}}  {count:>4}" for claim, count in deck["source_claims"].items()]
            out.append("")
        if deck["tags"]:
            out.append("cards per tag:")
            width = max(len(tag) for tag in deck["tags"])
            out += [f"  {tag:<{width}}  {count:>4}" for tag, count in deck["tags"].items()]
        else:
            out.append("cards per tag: no tags")
        out.append("")
    warnings = data["warnings"]
    out.append(f"lint: {_plural(len(warnings), 'warning')}")
    for w in warnings:
        where = f"{w['file']}:{w['line']}" if w["line"] else w["file"]
        out.append(f"{where}: warning: {w['message']}")
    ignored = data["ignored"]
    if ignored:
        out.append(f"lint opted out of ('lint: {{ignore: ...}}'): {_plural(len(ignored), 'warning')}")
        for w in ignored:
            where = f"{w['file']}:{w['line']}" if w["line"] else w["file"]
            out.append(f"{where}: {w['rule']}, because: {w['why']}")
    return "\n".join(out) + "\n"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
