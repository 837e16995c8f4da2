"""cofi: a graph-based conflict-of-interest detector for public procurement."""

__version__ = "0.1.0"
