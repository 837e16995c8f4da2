"""Write cofi/schemas/ftm/schemata.json from the `followthemoney` library's own schema model.

Each schema's ancestry, nearest first (the schema itself, then what it extends, breadth first),
so that the FtM importer treats a schema as the nearest ancestor it knows.  Run it after
upgrading followthemoney; tests/test_ftm_model.py checks the shipped file against the model.

    .venv/bin/python tools/ftm_schemata.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "cofi" / "schemas" / "ftm" / "schemata.json"


def ancestry(schema: Any) -> list[str]:
    order, queue = [], [schema]
    while queue:
        current = queue.pop(0)
        if current.name not in order:
            order.append(current.name)
            queue += sorted(current.extends, key=lambda s: s.name)
    return order


def table() -> dict[str, Any]:
    import followthemoney
    from followthemoney import model

    return {
        "followthemoney": followthemoney.__version__,
        "ancestry": {name: ancestry(model.get(name)) for name in sorted(model.schemata)},
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(table(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
