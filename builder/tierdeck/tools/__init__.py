"""Commands beside the pipeline: `diff` (the changelog), `stats`, `init`/`new` (scaffold) and `addon build`
(the students' Anki add-on, `builder/tierdeck_addon/`, with the modules of `portable` it needs).

Each may import anything from `release` down, never another tool, `preview`, `importing` or `cli`.
"""
