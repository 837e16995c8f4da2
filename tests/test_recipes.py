"""The README's recipes ("Where things are"), each done once: a command added as it says runs
with the error model; an importer added as it says loads like a bundle, errors and all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cofi.bundle import RawRow
from cofi.cli import cli
from cofi.cli.base import Context, pass_ctx
from cofi.errors import LoadRejected, NotFound
from cofi.importers import IMPORTERS
from cofi.loader import plan_load
from cofi.store.embedded import EmbeddedStore
from tests.conftest import DEMO


def test_a_command_added_as_the_readme_says_runs_with_the_error_model(tmp_path: Path) -> None:
    @cli.command("count-people")
    @click.option("--at-least", type=int, default=1)
    @pass_ctx
    def count_people(obj: Context, at_least: int) -> None:
        """How many people the store holds.

        \b
        Example:
          cofi count-people --at-least 10
        """
        n = obj.store().stats(20).entities.get("person", 0)
        if n < at_least:
            raise NotFound(f"only {n} people in the store")
        click.echo(n)

    store = str(tmp_path / "store")
    try:
        runner = CliRunner()
        missing = runner.invoke(cli, ["--store", store, "count-people"])
        assert missing.exit_code == 3 and missing.stderr.startswith("cofi: error: no cofi store")
        assert runner.invoke(cli, ["--store", store, "load", str(DEMO)]).exit_code == 0
        counted = runner.invoke(cli, ["--store", store, "count-people"])
        assert counted.exit_code == 0 and counted.stdout.strip() == "12"
        few = runner.invoke(cli, ["--store", store, "count-people", "--at-least", "100"])
        assert few.exit_code == 1
        assert few.stderr == "cofi: error: only 12 people in the store\n"
    finally:
        cli.commands.pop("count-people")


def read_tsv(path: Path) -> Iterator[RawRow]:
    """A throwaway importer: `id<TAB>name` lines into person rows, each with its line."""
    with path.open(encoding="utf-8") as fh:
        for line, text in enumerate(fh, start=1):
            fields = text.rstrip("\n").split("\t")
            data = dict(zip(("id", "name"), fields, strict=False))
            yield RawRow(str(path), line, "person", {k: v for k, v in data.items() if v})


def test_an_importer_added_as_the_readme_says_loads_like_a_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(IMPORTERS, "tsv", read_tsv)
    good = tmp_path / "people.tsv"
    good.write_text("t-1\tАйгерім Садықова\nt-2\tNurlan Sadykov\n", encoding="utf-8")
    store = EmbeddedStore(tmp_path / "store", create=True)
    try:
        with plan_load([good], store.kinds_of, fmt="tsv") as plan:
            report = store.write(plan)
        assert report.entities_created == 2
        assert [h.id for h in store.search("Sadykova", 5)] == ["t-1"]
        bad = tmp_path / "bad.tsv"
        bad.write_text("t-3\tАсель\nt-4\n", encoding="utf-8")
        with pytest.raises(LoadRejected) as rejected:
            plan_load([bad], store.kinds_of, fmt="tsv")
        assert [str(e) for e in rejected.value.errors] == [f"{bad}:2: name: required"]
        assert store.search("Асель", 5) == []  # all or nothing, as for a bundle
    finally:
        store.close()
