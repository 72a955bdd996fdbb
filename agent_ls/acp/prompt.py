"""An ACP prompt as the core's user message blocks.

Text stays text; an image becomes the API's image block (type and size checked first); a resource
link names the file (the agent reads it with its tools); an embedded resource (the editor's
selection or file, with its text) is inlined with where it came from.
"""

from __future__ import annotations

from typing import Any

from acp.schema import (
    BlobResourceContents,
    EmbeddedResourceContentBlock,
    ImageContentBlock,
    ResourceContentBlock,
    TextContentBlock,
)

from agent_ls.acp.errors import invalid_params
from agent_ls.core.images import BadImage, image_block


def user_blocks(prompt: list[Any]) -> list[dict[str, Any]]:
    if not prompt:
        raise invalid_params("prompt: must hold at least one content block")
    blocks: list[dict[str, Any]] = []
    for i, block in enumerate(prompt):
        if isinstance(block, TextContentBlock):
            blocks.append({"type": "text", "text": block.text})
        elif isinstance(block, ResourceContentBlock):
            blocks.append({"type": "resource_link", "uri": block.uri})
        elif isinstance(block, EmbeddedResourceContentBlock):
            blocks.append({"type": "text", "text": _embedded(block)})
        elif isinstance(block, ImageContentBlock):
            try:
                blocks.append(image_block(block.mime_type, block.data))
            except BadImage as exc:
                raise invalid_params(f"prompt[{i}]: {exc}") from None
        else:
            kind = getattr(block, "type", type(block).__name__)
            raise invalid_params(
                f"prompt[{i}]: {kind} content is not supported (promptCapabilities says so); "
                "send text, images, resource links or embedded text resources"
            )
    if not any(b["type"] != "text" or b["text"].strip() for b in blocks):
        raise invalid_params("prompt: must not be empty")
    return blocks


def _embedded(block: EmbeddedResourceContentBlock) -> str:
    resource = block.resource
    if isinstance(resource, BlobResourceContents):
        return f"Attached binary file {resource.uri} (not shown)"
    return f"Attached {resource.uri}:\n```\n{resource.text}\n```"
