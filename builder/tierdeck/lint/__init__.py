"""Warnings about card craft and phone readability: what `check` reports and `--strict` makes errors.

Place in the pipeline: after compile, over the notes and cards of each file and then of each deck. May
import `notes`, `format`, `portable`, `errors`, `cache`.
"""
