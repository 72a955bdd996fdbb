"""What a turn cost, from the API's usage numbers and Anthropic's published prices.

Only models whose price is flat per token are listed: a model missing here (a new one, a local
model, one priced by prompt length) shows no cost rather than a wrong one. Prices are USD per
million tokens; cache writes are the 5-minute ones (the server marks its cache points
`ephemeral` with the default lifetime).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Price:
    """USD per million tokens; ``prompt_limit`` is where a dearer long-prompt rate begins."""

    input: float
    output: float
    cache_write: float
    cache_read: float
    prompt_limit: int | None = None


_OPUS_4_5 = Price(5, 25, 6.25, 0.50)
_OPUS_4 = Price(15, 75, 18.75, 1.50)
_SONNET_LONG = Price(3, 15, 3.75, 0.30, prompt_limit=200_000)  # dearer past 200K (1M beta)

PRICES: dict[str, Price] = {
    "claude-opus-5": _OPUS_4_5,
    "claude-opus-4-8": _OPUS_4_5,
    "claude-opus-4-7": _OPUS_4_5,
    "claude-opus-4-6": _OPUS_4_5,
    "claude-opus-4-5": _OPUS_4_5,
    "claude-opus-4-1": _OPUS_4,
    "claude-opus-4": _OPUS_4,
    "claude-sonnet-5": Price(2, 10, 2.50, 0.20),
    "claude-sonnet-4-6": Price(3, 15, 3.75, 0.30),
    "claude-sonnet-4-5": _SONNET_LONG,
    "claude-sonnet-4": _SONNET_LONG,
    "claude-3-7-sonnet": Price(3, 15, 3.75, 0.30),
    "claude-haiku-4-5": Price(1, 5, 1.25, 0.10),
    "claude-3-5-haiku": Price(0.80, 4, 1, 0.08),
    "claude-3-haiku": Price(0.25, 1.25, 0.30, 0.03),
}

# A pinned date (-20250929), Vertex's @date, -latest, Bedrock's region./anthropic. prefix and
# -v1:0 suffix all name the same priced model; -0 is the 4.0 models' minor version.
_DECORATIONS = re.compile(r"(-\d{8}|@\d{8}|-latest)?(-v\d+(:\d+)?)?$")
_PREFIX = re.compile(r"^([a-z]{2,4}\.)?anthropic\.")


def price_of(model: str) -> Price | None:
    """The price of ``model`` by its API id, or None when it is not one we know."""
    name = _PREFIX.sub("", model.strip().lower())
    name = _DECORATIONS.sub("", name, count=1)
    if name.endswith("-4-0"):
        name = name[: -len("-0")]
    return PRICES.get(name)


def request_cost(usage: dict[str, Any], model: str) -> float | None:
    """USD for one API request's usage (wire names), None when it cannot be priced."""
    price = price_of(model)
    if price is None:
        return None
    fresh = int(usage.get("inputTokens") or 0)
    written = int(usage.get("cacheCreationInputTokens") or 0)
    read = int(usage.get("cacheReadInputTokens") or 0)
    if price.prompt_limit is not None and fresh + written + read > price.prompt_limit:
        return None
    output = int(usage.get("outputTokens") or 0)
    total = (
        fresh * price.input
        + written * price.cache_write
        + read * price.cache_read
        + output * price.output
    )
    return total / 1_000_000


def dollars(cost: float) -> str:
    """A cost as people read it: cents for whole turns, more digits for tiny ones."""
    if cost >= 1:
        return f"${cost:,.2f}"
    if cost >= 0.01:
        return f"${cost:.3f}"
    return f"${cost:.4f}"
