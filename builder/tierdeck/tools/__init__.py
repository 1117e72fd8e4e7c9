"""Commands beside the pipeline: `diff` (the changelog), `stats`, and `init`/`new` (scaffold).

Each may import anything from `release` down, never another tool, `preview`, `importing` or `cli`.
"""
