"""The records a load writes: plain named tuples, importable without the input models (pydantic
is slow to import, and most commands never validate a row)."""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from cofi.vocab import Kind


class EntityRecord(NamedTuple):
    """A validated entity as a store writes it.

    `props` holds every optional input field (canonical, no empties); `strong_id` is the valid
    IIN/BIN or ''; `contacts` the (kind, key, raw) identifier values, already normalised.
    """

    id: str
    kind: Kind
    name: str
    props: dict[str, Any]
    strong_id: str
    search_key: str
    contacts: tuple[tuple[Kind, str, str], ...]


class LinkRecord(NamedTuple):
    """A validated link; '' stands for an empty role/since/until so the key is never NULL."""

    source: str
    target: str
    type: str
    role: str
    share: float | None
    since: str
    until: str
    source_ref: str

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What makes two rows the same link: a later load with the same key updates it."""
        return (self.source, self.target, self.type, self.role, self.since)


def props_json(props: dict[str, Any]) -> str:
    """An entity's fields as stored text: canonical (sorted keys, compact, UTF-8 as is), so equal
    fields compare equal."""
    return orjson.dumps(props, option=orjson.OPT_SORT_KEYS).decode()
