"""Images in a prompt (a pasted screenshot), checked before they reach the store or the API.

The Messages API takes base64 images of four types up to 5 MB each; anything else would fail the
whole turn at the provider, after the prompt was stored. So a bad image is refused up front with
a sentence the user can act on, and a good one is stored as the Anthropic block it will be sent as.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
MAX_IMAGE_BYTES = 5 * 1024 * 1024


class BadImage(ValueError):
    """The image cannot be sent; the message says why and what to send instead."""


def image_block(media_type: object, data: object) -> dict[str, Any]:
    """The Anthropic `image` block for base64 `data` of `media_type`, or BadImage."""
    if media_type not in IMAGE_TYPES:
        raise BadImage(
            f"an image of type {media_type!r} cannot be sent; use one of {', '.join(IMAGE_TYPES)}"
        )
    if not isinstance(data, str) or not data:
        raise BadImage("an image must carry its bytes as a base64 string")
    if len(data) * 3 // 4 > MAX_IMAGE_BYTES + 3:
        raise BadImage(_too_big(len(data) * 3 // 4))
    try:
        size = len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        raise BadImage("an image's data is not valid base64") from None
    if size > MAX_IMAGE_BYTES:
        raise BadImage(_too_big(size))
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


def wire_image(block: dict[str, Any]) -> dict[str, Any]:
    """Check a prompt's `{type: "image", source: {type: "base64", media_type, data}}` block."""
    source = block.get("source")
    if not isinstance(source, dict) or source.get("type") != "base64":
        raise BadImage('an image block needs source: {type: "base64", media_type, data}')
    return image_block(source.get("media_type"), source.get("data"))


def _too_big(size: int) -> str:
    return (
        f"an image of {size / 1024 / 1024:.1f} MB is over the API's 5 MB limit; "
        "send a smaller or more compressed one"
    )
