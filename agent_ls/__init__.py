"""agent-ls: a language server that puts a Claude coding agent in any LSP editor."""

__version__ = "0.1.0"
