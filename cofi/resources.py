"""Where cofi's shipped data lives: `cypher/` and `fixtures/`, in the wheel or in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """The directory `name` ("cypher" or "fixtures"): inside the installed package, or at the top
    of a source checkout (an editable install).  Raises FileNotFoundError when neither exists."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cofi resource directory {name!r} is missing from this install")
