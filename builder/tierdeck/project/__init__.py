"""Reading a whole project: decks, their card files compiled into cached units, identity against the lock.

Place in the pipeline: load. `load.load()` returns the `Report` every command reads. May import `lint`,
`notes`, `format`, `portable`, `errors`, `cache`.
"""
