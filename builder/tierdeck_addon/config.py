"""The add-on's settings (Anki's config.json for it), read into plain values with clear errors.

Documented for students in config.md (shown by Anki's add-on config editor) and docs/addon.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_PROTECTED = ("Personal", "My notes")
APPLY_MODES = ("ask", "automatic")
REMOVED_ACTIONS = ("suspend", "delete")


class ConfigError(ValueError):
    """A setting the add-on cannot use; the message names it and the fix."""


@dataclass(frozen=True)
class Subscription:
    """One followed deck: its release manifest's address, and the tiers followed (None: all)."""

    url: str
    tiers: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Settings:
    subscriptions: tuple[Subscription, ...] = ()
    apply: str = "ask"
    check_on_startup: bool = True
    # note type name -> field names the student owns; "*" applies to every note type
    protected_fields: dict[str, tuple[str, ...]] = field(default_factory=lambda: {"*": DEFAULT_PROTECTED})
    removed_cards: str = "suspend"
    report_shortcut: str = "Ctrl+Shift+R"

    def protected(self, notetype: str) -> frozenset[str]:
        """The fields of note type `notetype` an update never overwrites."""
        base = notetype.rstrip("+")  # Anki names a merged copy of a note type "<name>+"
        return frozenset(
            (
                *self.protected_fields.get("*", ()),
                *self.protected_fields.get(notetype, ()),
                *self.protected_fields.get(base, ()),
            )
        )


def read(data: object) -> Settings:
    """Settings from the add-on's config dict (Anki's `mw.addonManager.getConfig`)."""
    if data is None:
        return Settings()
    if not isinstance(data, dict):
        raise ConfigError("the tierdeck add-on's config must be a JSON object; restore the defaults in Tools > Add-ons")
    subs = []
    raw_subs = data.get("subscriptions", [])
    if not isinstance(raw_subs, list):
        raise ConfigError('subscriptions: expected a list like [{"url": "https://…/manifest.json"}]')
    for i, entry in enumerate(raw_subs):
        if isinstance(entry, str):
            entry = {"url": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str) or not entry["url"].strip():
            raise ConfigError(f'subscriptions[{i}]: expected {{"url": "https://…/manifest.json"}}')
        tiers = entry.get("tiers")
        if tiers is not None and (not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers)):
            raise ConfigError(f'subscriptions[{i}].tiers: expected a list of tier ids like ["fundamentals"], or null')
        subs.append(Subscription(entry["url"].strip(), tuple(tiers) if tiers is not None else None))
    apply = data.get("apply", "ask")
    if apply not in APPLY_MODES:
        raise ConfigError(f'apply: expected "ask" or "automatic", got {apply!r}')
    removed = data.get("removed_cards", "suspend")
    if removed not in REMOVED_ACTIONS:
        raise ConfigError(f'removed_cards: expected "suspend" or "delete", got {removed!r}')
    protected = data.get("protected_fields", {"*": list(DEFAULT_PROTECTED)})
    if not isinstance(protected, dict) or not all(
        isinstance(v, list) and all(isinstance(f, str) for f in v) for v in protected.values()
    ):
        raise ConfigError('protected_fields: expected {"note type name": ["Field", …]}, with "*" for every note type')
    return Settings(
        tuple(subs),
        apply,
        bool(data.get("check_on_startup", True)),
        {k: tuple(v) for k, v in protected.items()},
        removed,
        str(data.get("report_shortcut", "Ctrl+Shift+R")),
    )
