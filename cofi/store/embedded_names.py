"""A first load's index of names (the embedded store's `names`, FTS5 trigrams of each entity's
search key), made beside the store's write instead of in it.

The store's connection writes one database at a time, on one core, and the index took most of
its write of a large first load's entities (5.9-6.8 s of CPU with the trigger that indexes each
name, 1.6 s without, for the large synthetic scale's 1.5M entities).  So, when a first load
brings at least `ASIDE_ENTITIES` entities, the store writes them without that trigger and numbers
them in id order (`name_rows`, as the trigger would), then their contacts and links; once the
entities are in, a process of its own makes the same index in a file of the plan's own
(`NAMES_FILE`), from the staging databases, beside the store's write of the contacts and links.
(Begun with the links, it kept the large scale's store waiting 3.8 s for it at the end; begun
with the write, it took a core from the entities' write and the link checks, which had both
cores already: whole loads took 1.0 s longer in two alternated pairs.)  Before the commit,
the store copies the index's tables (FTS5's shadow tables: its segments, their term index, its
settings) into its own, which are empty.  The rows go in in the same order, numbered the same
way, under the same settings (`automerge` 0 during the load, 4 after), so the copied index is
the one the trigger would have made (a test compares them).  Whatever goes wrong beside, the
store indexes the names itself (`index_names`), as before.

The copy is written under FTS5's feet, so the connection that wrote it is closed after the
transaction (the store opens another): FTS5 may keep what it read of the index in the
connection (and SQLite detaches no database a transaction has read).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cofi.loader import LoadPlan

ASIDE_ENTITIES = 100_000
"""Entities of a first load from which its names are indexed beside the write (the process
starts in about 0.1 s)."""
NAMES_FILE = "names.sqlite"
_SHADOWS = ("names_data", "names_idx", "names_config")
"""The tables of the index (`columnsize=0`: no `names_docsize`)."""
_KEYS = (
    "SELECT row_number() OVER (ORDER BY i.id), e.search_key FROM stage_e.ent_ids AS i "
    "JOIN stage.ent AS e ON e.seq = i.seq WHERE i.ok ORDER BY i.id"
)
"""The plan's entities' search keys, numbered in id order (`loader.PLAN_VIEWS`' entities)."""
INDEX_NUMBERED = (
    "INSERT INTO names (rowid, key) SELECT r.n, e.search_key FROM name_rows AS r "
    "JOIN entities AS e ON e.id = r.id"
)
"""Index the name of every numbered entity (into an empty index: a first load's, or one made
again when a store an older cofi made is opened)."""


def merging_later(db: sqlite3.Connection) -> None:
    """Let the index merge its segments only when they pile up (`automerge` 0): while a first
    load's names go in.  (Indexing 1.5M names in one transaction took 20.6 s merging as it went
    and 14.3 s this way, and a search read the index as fast.)"""
    db.execute("INSERT INTO names (names, rank) VALUES ('automerge', 0)")


def merging_again(db: sqlite3.Connection) -> None:
    """FTS5's default (`automerge` 4) after `merging_later`."""
    db.execute("INSERT INTO names (names, rank) VALUES ('automerge', 4)")


def index_names(db: sqlite3.Connection) -> None:
    """Index the names of every entity numbered (the store's own way, for a first load)."""
    merging_later(db)
    db.execute(INDEX_NUMBERED)
    merging_again(db)


class NamesAside:
    """The index of a plan's names, made in a process of its own (`begin`) into the file
    `NAMES_FILE` among the plan's staging databases, then copied into a store (`copy_into`)."""

    def __init__(self, plan: LoadPlan, definition: str) -> None:
        import multiprocessing  # (here: not in every command's start-up)

        # (a new interpreter, not a fork of this process, which is inside the store's write
        # transaction with the staging databases attached: SQLite's state of its files is not
        # to be carried across a fork, and the fork's copies of this process's pages would be
        # made as this one writes them)
        self.path = plan.directory / NAMES_FILE
        ctx = multiprocessing.get_context("spawn")
        self._proc: Any = ctx.Process(
            target=_index_aside, args=(plan.databases, self.path, definition, _KEYS), daemon=True
        )

    def begin(self) -> None:
        """Start making the index (the store writes the contacts and links meanwhile)."""
        self._proc.start()

    @staticmethod
    def planned(db: sqlite3.Connection, plan: LoadPlan, entities: int) -> NamesAside | None:
        """The index of `plan`'s `entities` names, to make beside (`begin`) the store's write
        (whose connection is `db`); None: the store indexes them itself, too few to pay, or no
        second core."""
        if entities < ASIDE_ENTITIES or (os.cpu_count() or 1) < 2:
            return None
        (definition,) = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'names'"
        ).fetchone()
        return NamesAside(plan, definition)

    def copy_into(self, db: sqlite3.Connection) -> bool:
        """Wait for the index, then copy it into the store's empty one (in the transaction of
        `db`, which has numbered the names: `name_rows`); False (nothing copied) when it was not
        made.  The index's file stays attached to `db` (SQLite detaches no database a
        transaction has read): close the connection after the transaction."""
        if self._proc.pid is None:
            self.begin()
        self._proc.join()
        if self._proc.exitcode != 0 or not self.path.is_file():
            return False
        db.execute("ATTACH DATABASE ? AS names_aside", (str(self.path),))
        (made,) = db.execute("SELECT n FROM names_aside.name_count").fetchone()
        if made != db.execute("SELECT count(*) FROM name_rows").fetchone()[0]:
            return False
        for table in _SHADOWS:
            db.execute(f"DELETE FROM main.{table}")
            db.execute(f"INSERT INTO main.{table} SELECT * FROM names_aside.{table}")
        return True

    def stop(self) -> None:
        """End the process if it still runs (the load failed)."""
        if self._proc.pid is None:
            return
        if self._proc.is_alive():
            self._proc.kill()
        self._proc.join()


def _index_aside(databases: dict[str, Path], path: Path, definition: str, keys: str) -> None:
    """`NamesAside`'s process: the index of the plan's names (`keys`, `_KEYS`), in a new
    database at `path` made with the store's own definition of it (`definition`), and how many
    names it holds."""
    try:
        path.unlink(missing_ok=True)
        with closing(sqlite3.connect(path, isolation_level=None)) as db:
            for pragma in ("page_size = 16384", "journal_mode = OFF", "synchronous = OFF"):
                db.execute(f"PRAGMA {pragma}")
            for schema in ("stage", "stage_e"):
                db.execute(f"ATTACH DATABASE ? AS {schema}", (str(databases[schema]),))
            db.execute("BEGIN")
            db.execute(definition)
            merging_later(db)
            db.execute(f"INSERT INTO names (rowid, key) {keys}")
            merging_again(db)
            db.execute(
                "CREATE TABLE name_count AS SELECT count(*) AS n FROM stage_e.ent_ids WHERE ok"
            )
            db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        os._exit(1)
