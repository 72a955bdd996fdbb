"""Local stand-ins for outside services used by the tests (no network, no keys)."""
