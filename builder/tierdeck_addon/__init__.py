"""tierdeck's Anki add-on: students follow a deck released by tierdeck and get each release in place.

Layers: `config`, `fetch`, `update` and `report` are headless (standard library, `anki` imported lazily,
and `tierdeck.portable`, which `tierdeck addon build` vendors into the .ankiaddon under `vendor/`); `gui`
is the Qt side and is loaded only inside Anki's desktop program. docs/addon.md is the students' guide.
"""

from __future__ import annotations

import os
import sys

_VENDOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor")
if os.path.isdir(_VENDOR) and _VENDOR not in sys.path:  # inside Anki: the vendored tierdeck.portable
    sys.path.insert(0, _VENDOR)


def _in_anki() -> bool:
    try:
        from aqt import mw
    except ImportError:
        return False
    return mw is not None


if _in_anki():  # pragma: no cover - exercised by the desktop test
    from . import gui

    gui.setup()
