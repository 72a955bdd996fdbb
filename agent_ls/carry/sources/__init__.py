"""Readers of other agents' session files, each into a ``Converted`` (see ``carry.converted``)."""
