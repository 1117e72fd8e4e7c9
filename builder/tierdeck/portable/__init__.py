"""The portable core: what must also run inside Anki, with the standard library only.

Place in the pipeline: below everything. Stable ids and GUIDs, cloze syntax, Anki's template language, the
lock format, the release manifest and the readers of Anki packages. These modules import only the standard
library, `tierdeck.errors` and each other (Anki's own `anki` package is imported lazily, where a current-format
package needs it), so `import tierdeck.portable.<module>` works in an interpreter that has nothing else
installed: inside Anki, for the students' add-on. tests/architecture/test_layering.py enforces it.
"""
