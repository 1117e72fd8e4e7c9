"""The add-on inside Anki's desktop program: menus, dialogs and background work. Loaded only there.

Network and file work runs off the main thread (`QueryOp`); the update itself is one `CollectionOp` (one
undo step, and Anki refreshes its screens after it). The logic lives in the headless modules; this file
only asks, shows and schedules.
"""

from __future__ import annotations

import dataclasses
import html
import os
from pathlib import Path

from aqt import gui_hooks, mw
from aqt.operations import CollectionOp, QueryOp
from aqt.qt import (
    QAction,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTextBrowser,
    QVBoxLayout,
)
from aqt.utils import getText, openLink, showWarning, tooltip

from . import config, fetch, report, update

MODULE = __name__.split(".")[0]


def settings() -> config.Settings:
    return config.read(mw.addonManager.getConfig(MODULE))


def _downloads() -> Path:
    folder = Path(mw.addonManager.addonsFolder(MODULE)) / "user_files" / "downloads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- checking and applying ----------------------------------------------------------------------------


def check(manual: bool) -> None:
    """Look for new releases in the background; `manual` shows progress and says when nothing is new."""
    try:
        current = settings()
    except config.ConfigError as exc:
        showWarning(f"tierdeck add-on: {exc}")
        return
    if not current.subscriptions:
        if manual:
            follow_dialog()
        return
    op = QueryOp(
        parent=mw,
        op=lambda col: update.check(col, current, _downloads()),
        success=lambda r: _checked(r, current, manual),
    )
    op = op.failure(lambda exc: showWarning(f"tierdeck add-on: the check failed ({exc}); nothing was changed"))
    if manual:
        op = op.with_progress("Checking followed decks…")
    op.run_in_background()


def _checked(results: list[update.Pending], current: config.Settings, manual: bool) -> None:
    errors = [r for r in results if r.error]
    plans = [r.plan for r in results if r.plan is not None]
    if errors and (manual or not plans):
        showWarning("\n\n".join(f"{r.url}:\n{r.error}" for r in errors), title="tierdeck add-on")
    if not plans and manual and not errors:
        tooltip("Every followed deck is up to date.")
    for plan in plans:
        if current.apply == "automatic" or (plan.empty and plan.previous_version is not None):
            apply(plan, current)
        else:
            ChangesDialog(plan, current).open()


def apply(plan: update.Plan, current: config.Settings) -> None:
    """Apply one plan as a CollectionOp (one undo step); report the outcome."""
    done: dict = {}

    def op(col):
        done["outcome"] = update.apply(col, plan, current)
        return done["outcome"].changes

    def finished(_changes) -> None:
        tooltip(html.escape(done["outcome"].summary()), period=8000)
        try:
            os.unlink(plan.apkg)
        except OSError:
            pass

    CollectionOp(parent=mw, op=op).success(finished).failure(
        lambda exc: showWarning(f"tierdeck add-on: {exc}", title="tierdeck add-on")
    ).run_in_background()


def changes_html(plan: update.Plan) -> str:
    """What the release changes, per tier, as the dialog shows it."""
    package = plan.package
    version = package.version or "(no version)"
    if plan.previous_version and plan.previous_version != package.version:
        version = f"{plan.previous_version} → {version}"
    out = [f"<h3>{html.escape(package.name)} {html.escape(version)}</h3>"]
    if plan.notetypes_changed:
        out.append(
            "<p>Note types changed: "
            + ", ".join(html.escape(n) for n in plan.notetypes_changed)
            + " (merged into the new version; your notes keep their reviews).</p>"
        )
    for tier, counts in plan.per_tier().items():
        title = package.tiers[tier].title if tier in package.tiers else tier
        if not any(counts.values()):
            continue
        followed = plan.tiers is None or tier in plan.tiers
        out.append(f"<h4>{html.escape(title)}{'' if followed else ' (not followed: stays suspended)'}</h4><ul>")
        for change in (c for c in plan.added if c.tier == tier):
            out.append(f"<li>Added: {html.escape(change.summary)}</li>")
        for change in (c for c in plan.changed if c.tier == tier):
            parts = [
                f"{html.escape(f.name)}: <s>{html.escape(f.before)}</s> → <b>{html.escape(f.after)}</b>"
                for f in change.fields
            ]
            if change.evidence:
                before, after = change.evidence
                parts.append(f"evidence: {html.escape(before or 'none')} → <b>{html.escape(after or 'none')}</b>")
            out.append(f"<li>Changed: {html.escape(change.summary)}<br>{'<br>'.join(parts)}</li>")
        for change in (c for c in plan.removed if c.tier == tier):
            out.append(f"<li>Removed: {html.escape(change.summary)}</li>")
        out.append("</ul>")
    return "".join(out)


class ChangesDialog(QDialog):
    """Shows what a release changes; Apply or Later."""

    def __init__(self, plan: update.Plan, current: config.Settings) -> None:
        super().__init__(mw)
        self.plan, self.current = plan, current
        self.setWindowTitle(f"Update {plan.package.name}")
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                "A new release of a deck you follow. Your protected fields, own tags, reviews and suspensions are kept."
            )
        )
        browser = QTextBrowser()
        browser.setHtml(changes_html(plan))
        layout.addWidget(browser)
        self.delete_removed = QCheckBox("Delete the removed cards instead of suspending them")
        self.delete_removed.setChecked(current.removed_cards == "delete")
        if plan.removed:
            layout.addWidget(self.delete_removed)
        buttons = QDialogButtonBox()
        buttons.addButton("Apply", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Later", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 480)

    def accept(self) -> None:
        super().accept()
        chosen = "delete" if self.delete_removed.isChecked() else "suspend"
        apply(self.plan, dataclasses.replace(self.current, removed_cards=chosen))


# --- following a deck ----------------------------------------------------------------------------------


def follow_dialog() -> None:
    """Ask for a manifest address, check it, ask which tiers to follow, save, then check for updates."""
    url, ok = getText(
        "Address of the deck's release manifest (ending in manifest.json), or a file or folder on this computer:",
        parent=mw,
        title="Follow a tierdeck deck",
    )
    url = url.strip()
    if not ok or not url:
        return
    QueryOp(parent=mw, op=lambda _col: fetch.read_manifest(url), success=lambda r: _choose_tiers(url, r[0])).failure(
        lambda exc: showWarning(str(exc), title="tierdeck add-on")
    ).with_progress("Reading the release manifest…").run_in_background()


def _choose_tiers(url: str, rel) -> None:
    package = next((p for p in rel.packages if p.tier is None), None)
    if package is None:
        showWarning(f"{url} lists no whole-deck package.", title="tierdeck add-on")
        return
    dialog = QDialog(mw)
    dialog.setWindowTitle(f"Follow {package.name}")
    layout = QVBoxLayout(dialog)
    layout.addWidget(
        QLabel(f"<b>{html.escape(package.name)}</b> {html.escape(package.version or '')}<br>Tiers to study:")
    )
    boxes = {}
    for tier, counts in package.tiers.items():
        box = QCheckBox(f"{counts.title} ({counts.cards} cards)")
        box.setChecked(True)
        layout.addWidget(box)
        boxes[tier] = box
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    if not dialog.exec():
        return
    chosen = [t for t, box in boxes.items() if box.isChecked()]
    data = mw.addonManager.getConfig(MODULE) or {}
    subs = [s for s in data.get("subscriptions", []) if (s.get("url") if isinstance(s, dict) else s) != url]
    subs.append({"url": url, "tiers": None if len(chosen) == len(boxes) else chosen})
    data["subscriptions"] = subs
    mw.addonManager.writeConfig(MODULE, data)
    check(manual=True)


# --- reporting a card ----------------------------------------------------------------------------------


def report_current_card() -> None:
    """Open the deck's issue page for the card under review, prefilled."""
    card = mw.reviewer.card if mw.reviewer else None
    if card is None:
        return
    found = report.for_card(mw.col, card.id)
    if found is None:
        tooltip("This card's deck does not say where to report problems.")
        return
    openLink(found[0])


def _reviewer_menu(reviewer, menu) -> None:
    action = menu.addAction("Report a problem with this card")
    action.setShortcut(settings().report_shortcut)
    action.triggered.connect(report_current_card)


def _shortcuts(state: str, shortcuts: list) -> None:
    if state == "review":
        shortcuts.append((settings().report_shortcut, report_current_card))


def _profile_opened() -> None:
    try:
        if settings().check_on_startup:
            check(manual=False)
    except config.ConfigError as exc:
        showWarning(f"tierdeck add-on: {exc}")


def setup() -> None:
    """Menus, reviewer action and shortcut, and the check when a profile opens."""
    for label, handler in (
        ("Check followed tierdeck decks for updates", lambda: check(manual=True)),
        ("Follow a tierdeck deck…", follow_dialog),
    ):
        action = QAction(label, mw)
        action.triggered.connect(handler)
        mw.form.menuTools.addAction(action)
    gui_hooks.profile_did_open.append(_profile_opened)
    gui_hooks.reviewer_will_show_context_menu.append(_reviewer_menu)
    gui_hooks.state_shortcuts_will_change.append(_shortcuts)
