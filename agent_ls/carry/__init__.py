"""Carrying sessions in and out of the store: readable exports (Markdown, HTML), the raw JSONL,
portable bundles that keep checkpoints restorable, and imports from other agents' files.

Everything is written through ``SessionStore`` (``adopt`` for a whole session), never by hand.
"""
