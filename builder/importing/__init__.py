"""Reading an instructor's existing Anki deck (`tierdeck import`) into plain data, safely.

`read(path)` accepts an Anki package (.apkg, legacy or current format) or a "Notes in Plain Text"
export and returns an ImportedDeck (model.py) holding every note with its GUID, note type id, fields
and tags unchanged, so students keep their review history. The file is untrusted: whatever is wrong
with it, from a truncated download to a zip bomb, is raised as an InputError naming the problem and
the fix. Reading the current package format needs `pip install 'tierdeck[import]'`.
"""

from tierdeck.importing.safety import Limits
from tierdeck.importing.sources import read

__all__ = ["Limits", "read"]
