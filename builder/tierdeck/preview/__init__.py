"""A preview of every card, front and back, as Anki shows it: a static site that opens from disk at any size.

- `cards`: each card file's Anki cards rendered from the note types' own templates (`tierdeck.portable.templates`),
  with labels, tags, source, evidence level and `file:line`, written as data scripts and cached per file;
- `clientside`: what Anki's clients do as they show a card (MathJax, sound players), done ahead;
- `site`: the folder (page, code, index, data scripts, media), only changed files rewritten;
- `serve`: `tierdeck preview --watch`, a local server whose page follows the card files as they are saved.

The page (tierdeck/data/preview/) renders cards as they scroll into view, each side in its own shadow root
holding the note type's CSS unchanged, with the classes Anki's clients set (`nightMode`, `night_mode`,
`mobile`), and measures each card at phone width to flag overflow, small text and low contrast.

Place in the pipeline: beside it. May import anything from `release` down, never `tools`, `importing` or `cli`.
"""

from tierdeck.preview.cards import PreviewCard, preview_cards
from tierdeck.preview.site import Site, write_site

__all__ = ["PreviewCard", "Site", "preview_cards", "write_site"]
