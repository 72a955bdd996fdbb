"""Workspace files as the tools and the checkpoints both see them: which files there are (the
walker), which paths may be used (confinement), how a file is read without blocking and how it
is replaced without tearing."""
