"""tierdeck: build tiered Anki decks from YAML flashcards."""

__version__ = "0.2.0"
