"""Carrying sessions in and out of the store: readable exports (Markdown, HTML), the raw JSONL,
portable bundles that keep checkpoints restorable, and imports from other agents' files.

Everything is written through ``SessionStore`` (``adopt`` for a whole session), never by hand.
The names below are here, apart from the modules that use them, so the command line can offer
them without importing those modules.
"""

from __future__ import annotations

from typing import Literal

Format = Literal["markdown", "html", "jsonl", "bundle"]
FORMATS: tuple[Format, ...] = ("markdown", "html", "jsonl", "bundle")
SOURCES = ("claude-code", "pi", "codex")  # the agents whose sessions `import --from` reads
