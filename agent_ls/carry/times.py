"""Times from other formats as the store's fixed-width UTC strings (they sort as text)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_ms(value: object) -> str | None:
    """An ISO 8601 string or epoch milliseconds as ``YYYY-MM-DDTHH:MM:SS.mmmZ``; None if it
    is neither (the caller keeps the previous time)."""
    try:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float):
            moment = datetime.fromtimestamp(value / 1000, UTC)
        elif isinstance(value, str) and value:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
        else:
            return None
    except (ValueError, OverflowError, OSError):
        return None
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
