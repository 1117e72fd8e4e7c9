"""Reading an instructor's existing Anki deck (`tierdeck import`) into plain data, safely.

`read(path)` accepts an Anki package (.apkg, legacy or current format) or a "Notes in Plain Text"
export and returns an ImportedDeck (model.py) holding every note with its GUID, note type id, fields
and tags unchanged, so students keep their review history. The file is untrusted: whatever is wrong
with it, from a truncated download to a zip bomb, is raised as an InputError naming the problem and
the fix. Reading the current package format needs `pip install 'tierdeck[import]'`.

Place in the pipeline: beside it, like `tools` and `preview`: the readers live in `portable` (the students'
add-on and `diff` use them too); this package plans the project, writes it and builds it once to check.
May import anything from `release` down, never `tools`, `preview` or `cli`.
"""

from tierdeck.importing.sources import read
from tierdeck.portable.safety import Limits

__all__ = ["Limits", "read"]
