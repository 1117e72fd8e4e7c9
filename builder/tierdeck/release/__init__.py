"""What a release writes: `.apkg` packages (genanki lives only in `release.apkg`), lock files, the manifest.

Place in the pipeline: the last step, write. `build.check()` and `build.build()` are the two entry points
the command line calls. May import `project` and everything below it.
"""
