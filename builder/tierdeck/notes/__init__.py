"""A card becomes Anki notes: card kinds, note types, markdown and HTML, media, and the card files' reader.

Place in the pipeline: compile. May import `format`, `portable`, `errors`, `cache`. Never genanki (the
package writer in `release.apkg` is the only module that does) and never anything above it.
"""
