"""What authors write: YAML read safely, the authoring format as typed models, errors in the author's words.

Place in the pipeline: the first step, read. May import `portable`, `errors`, `cache` and the standard
library; pydantic lives here (the models) and in `notes.kinds`. Nothing here knows about Anki notes.
"""
