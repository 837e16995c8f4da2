"""Two other ways a first load could write its links, measured against today's (issue 17; nothing
in cofi uses them).

    python benchmarks/link_write.py direct BUNDLE [ROUNDS]
    python benchmarks/link_write.py transfer STORE
    python benchmarks/link_write.py keys BUNDLE [ROUNDS]

`direct`: the links file's lane as cofi runs it (staged into SQLite by `stage_link_file`, grouped
by `loader._GROUP_LINKS` into `link_keys`, copied in key order into an empty `links` table of the
store's schema, its target index made), against the same rows kept as Arrow (`link_lane.py`'s
`arrow_stage`), grouped in numpy on the ranks of their texts, each column of the grouped rows
taken from its sorted distinct values by rank, and appended through ADBC straight into the empty
`links` table, then the same index.  Each step's seconds and CPU seconds, the two ways alternated
ROUNDS times (default 2).  (No odd rows and no conflicting keys are handled the second way: the
synthetic bundles have none.)

`transfer`: SQLite's transfer of a whole table (`INSERT INTO main.links SELECT * FROM
other.links`, the same schema and indexes on both sides, into an empty table: records and index
entries copied as they are, in order, neither decoded nor sorted) from a database made beside the
store (here: a copy of STORE's links, with the store's indexes) into an empty store, and what
making that database cost.

`keys`: the links file staged and grouped as cofi does it, then the query of the keys given twice
(`_LinkChecks._conflicts`) against the count of keys that tells whether there are any
(`loader._each_key_once`), each ROUNDS times (default 2).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as adbc
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from link_lane import _cpu, arrow_stage, key_starts, lane, sorted_distinct

from cofi import link_columns, loader
from cofi.sorting import sorted_in_runs
from cofi.staging import scratch
from cofi.store.embedded import _SCHEMA

_LINK_COLUMNS = "source, target, type, role, since, share, until, source_ref"
_FAST = ("journal_mode = OFF", "synchronous = OFF")


class _Clock:
    def __init__(self) -> None:
        self.steps: dict[str, tuple[float, float]] = {}
        self.at, self.cpu = time.perf_counter(), _cpu()

    def step(self, name: str) -> None:
        at, cpu = time.perf_counter(), _cpu()
        self.steps[name] = (at - self.at, cpu - self.cpu)
        self.at, self.cpu = at, cpu

    def line(self, what: str) -> str:
        shown = ", ".join(f"{k} {s:.2f} s ({c:.2f} CPU)" for k, (s, c) in self.steps.items())
        return f"{what}: {shown}; {sum(c for _, c in self.steps.values()):.2f} CPU s"


def _store(path: Path) -> sqlite3.Connection:
    """An empty store's database (its schema, the links' target index dropped, as a first
    load's write drops it)."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA page_size = 16384")
    db.executescript(_SCHEMA)
    db.execute("DROP INDEX links_target")
    for pragma in _FAST:
        db.execute(f"PRAGMA {pragma}")
    return db


def _grouped(rows: pa.Table, clock: _Clock) -> pa.Table:
    """Each key's first row, in key order, as the store's `links` columns."""
    n = rows.num_rows
    ends, end_rank = sorted_distinct(
        pa.chunked_array(rows["source"].chunks + rows["target"].chunks)
    )
    ranked = {k: sorted_distinct(rows[k]) for k in ("type", "role", "since", "until", "source_ref")}
    clock.step("ranks")
    codes = [end_rank[:n], end_rank[n:], *(ranked[k][1] for k in ("type", "role", "since"))]
    order, starts = key_starts(codes)
    first = order[starts]
    clock.step("sort")

    def taken(values: Any, rank: Any) -> Any:
        return values.take(pa.array(rank[first]))

    grouped = pa.table(
        {
            "source": taken(ends, end_rank[:n]),
            "target": taken(ends, end_rank[n:]),
            **{k: taken(*ranked[k]) for k in ("type", "role", "since")},
            "share": rows["share"].combine_chunks().take(pa.array(first)),
            **{k: taken(*ranked[k]) for k in ("until", "source_ref")},
            "rev": pa.array(np.ones(len(first), np.int64)),
        }
    )
    clock.step("take")
    return grouped


def direct(bundle: Path, way: str) -> str:
    with lane(bundle) as (files, number, stage, keys, d):
        store = d / "cofi.sqlite"
        _store(store).close()
        clock = _Clock()
        if way == "today":
            link_columns.stage_link_file(files, number, stage, None)
            clock.step("stage")
            with closing(scratch({"stage_link": stage.links, "stage_l": keys})) as db:
                db.execute(loader._GROUP_LINKS)
                db.commit()
            clock.step("group")
            with closing(sqlite3.connect(store, isolation_level=None)) as db:
                db.execute("ATTACH ? AS k", (str(keys),))
                db.execute("BEGIN")
                db.execute(
                    f"INSERT INTO links SELECT {_LINK_COLUMNS}, 1 FROM k.link_keys WHERE ok "
                    "ORDER BY source, target, type, role, since"
                )
                db.execute("COMMIT")
            clock.step("write")
        else:
            rows = arrow_stage(files, number, stage)
            clock.step("stage")
            grouped = _grouped(rows, clock)
            con = adbc.connect(str(store), autocommit=True)
            with closing(con), closing(con.cursor()) as cur:
                for pragma in _FAST:
                    cur.execute(f"PRAGMA {pragma}")
                cur.execute("BEGIN IMMEDIATE")
                cur.adbc_ingest("links", grouped, mode="append")
                cur.execute("COMMIT")
            clock.step("write")
        with closing(sqlite3.connect(store, isolation_level=None)) as db:
            with sorted_in_runs(db, 1):
                db.execute("CREATE INDEX links_target ON links (target)")
            (count,) = db.execute("SELECT count(*) FROM links").fetchone()
        clock.step("target index")
    return clock.line(f"{way:6} ({count:,} links)")


def transfer(store: Path) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        beside, into = Path(tmp) / "links.sqlite", Path(tmp) / "cofi.sqlite"
        clock = _Clock()
        with closing(_store(beside)) as db:
            db.execute("ATTACH ? AS s", (f"file:{store}?mode=ro",))
            db.execute("BEGIN")
            db.execute(
                f"INSERT INTO main.links SELECT {_LINK_COLUMNS}, rev FROM s.links "
                "ORDER BY source, target, type, role, since"
            )
            with sorted_in_runs(db, 1):
                db.execute("CREATE INDEX links_target ON links (target)")
            db.execute("COMMIT")
        clock.step("the links' database made beside (insert, target index)")
        with closing(_store(into)) as db:
            db.execute("CREATE INDEX links_target ON links (target)")
            db.execute("PRAGMA journal_mode = DELETE")  # (a first load's journal)
            db.execute("ATTACH ? AS beside", (str(beside),))
            whole = "INSERT INTO main.links SELECT * FROM beside.links"
            plan = db.execute(f"EXPLAIN {whole}").fetchall()
            raw = any(op == "RowData" for _, op, *_ in plan)
            db.execute("BEGIN")
            db.execute(whole)
            db.execute("COMMIT")
            (count,) = db.execute("SELECT count(*) FROM links").fetchone()
        clock.step("transferred into an empty store (commit included)")
        print(clock.line(f"transfer ({count:,} links, records copied raw: {raw})"))


def keys(bundle: Path, rounds: int) -> None:
    with lane(bundle) as (files, number, stage, grouped, _):
        link_columns.stage_link_file(files, number, stage, None)
        with closing(scratch({"stage_link": stage.links, "stage_l": grouped})) as db:
            rows = db.execute(loader._GROUP_LINKS).rowcount
            db.commit()
            twice = (
                "SELECT l.* FROM stage_link.link l WHERE (l.source, l.target, l.type, l.role, "
                "l.since) IN (SELECT source, target, type, role, since FROM stage_l.link_keys "
                "WHERE n > 1) ORDER BY l.seq"
            )
            for _ in range(rounds):
                clock = _Clock()
                found = len(db.execute(twice).fetchall())
                clock.step(f"the keys given twice ({found} rows)")
                once = loader._each_key_once(db, rows)
                clock.step(f"the keys counted (each key once: {once})")
                print(clock.line("keys"), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "transfer":
        transfer(Path(sys.argv[2]))
    elif sys.argv[1] == "keys":
        keys(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 2)
    else:
        for _ in range(int(sys.argv[3]) if len(sys.argv) > 3 else 2):
            for way in ("today", "direct"):
                print(direct(Path(sys.argv[2]), way), flush=True)
