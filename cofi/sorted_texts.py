"""A sorted Arrow array of texts as a Python sequence, for `bisect`: the range of ids a batch of
ids in order falls in (`graph_build._Reader`, `link_ends`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class SortedTexts(Sequence[str]):
    """The texts of a sorted Arrow string array, for `bisect`."""

    def __init__(self, values: Any) -> None:
        self.values = values

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i: Any) -> Any:
        return self.values[i].as_py()
