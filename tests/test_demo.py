from pathlib import Path

import pytest
from click.testing import CliRunner

from cofi.cli import cli


def test_demo_builds_a_fresh_store_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        result = CliRunner().invoke(cli, ["demo"])
        assert result.exit_code == 0, result.output
        assert "46 entities, 22 links" in result.output
        assert "hub address" in result.output
        assert "swept 5 contracts: 4 findings" in result.output
        assert (
            "Commission member Әйгерім Садықова's spouse Нұрлан Садықов owns 60%" in result.output
        )
    assert (tmp_path / "cofi-demo" / "cofi.sqlite").exists()


def test_demo_refuses_to_replace_other_directories(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = CliRunner().invoke(cli, ["demo", "--out", str(target)])
    assert result.exit_code == 1
    assert "is not a cofi demo store" in result.stderr
    assert (target / "notes.txt").read_text() == "keep me"
