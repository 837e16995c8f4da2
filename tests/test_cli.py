"""The command-line contract: exit codes, one-line errors, version, help, docs."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cofi import __version__
from cofi.cli import cli
from tests.conftest import DEMO

README = Path(__file__).resolve().parent.parent / "README.md"


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cofi", "--store", str(tmp_path / "s"), "load", str(DEMO)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "46 entities created" in done.stdout


def test_missing_store_is_exit_3_one_line(run: Callable[..., Result]) -> None:
    result = run("stats")
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("cofi: error: no cofi store at ")


def test_store_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COFI_STORE", str(tmp_path / "envstore"))
    assert CliRunner().invoke(cli, ["load", str(DEMO)]).exit_code == 0
    assert (tmp_path / "envstore" / "cofi.sqlite").exists()
    assert not (tmp_path / ".cofi").exists()


def test_usage_error_is_exit_2(run: Callable[..., Result]) -> None:
    assert run("stats", "--hub-limit", "zero").exit_code == 2
    assert run("no-such-command").exit_code == 2


@pytest.mark.parametrize("name", ["", "   ", "«—»!"])
def test_a_search_for_no_letter_or_digit_is_a_usage_error(
    run: Callable[..., Result], name: str
) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    result = run("search", name)
    assert result.exit_code == 2
    assert f"{name!r} has no letter or digit to search for" in result.stderr
    found = run("search", "Марат")  # (the check leaves a real name alone)
    assert found.exit_code == 0 and "p-marat" in found.stdout


def test_unreadable_store_is_exit_3_and_debug_shows_traceback(tmp_path: Path) -> None:
    store = tmp_path / "s"
    store.mkdir()
    (store / "cofi.sqlite").write_bytes(b"this is not a database" * 100)
    cmd = [sys.executable, "-m", "cofi", "--store", str(store), "stats"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    debug = subprocess.run([*cmd[:3], "--debug", *cmd[3:]], capture_output=True, text=True)
    assert "Traceback" in debug.stderr


def _commands() -> list[str]:
    return sorted(cli.commands)


@pytest.mark.parametrize("name", _commands())
def test_every_command_has_help_with_an_example(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output, f"`cofi {name} --help` shows no example"


@pytest.mark.parametrize("name", _commands())
def test_every_command_is_in_the_readme(name: str) -> None:
    text = README.read_text(encoding="utf-8")
    assert re.search(rf"cofi( --store \S+)? {name}\b", text), f"README has no example of {name}"


@pytest.mark.parametrize("source", ["bundle", "ocds"])
def test_progress_bar_only_on_a_terminal(tmp_path: Path, source: str) -> None:
    """A bar over a bundle's lines; a running count of rows for an importer's input."""
    import os
    import pty

    from cofi.bulk import write_bulk_bundle, write_ocds_releases

    bundle = tmp_path / "bulk"
    if source == "bundle":
        write_bulk_bundle(bundle, 30_000, seed=3)
    else:
        bundle = tmp_path / "releases.jsonl"
        write_ocds_releases(bundle, 5_000, seed=3)
    primary, secondary = pty.openpty()
    cmd = [sys.executable, "-m", "cofi", "--store", str(tmp_path / "s"), "load", str(bundle)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    assert proc.wait() == 0
    assert b"validating" in seen
    if source == "ocds":
        assert b"validating: 15,000 rows" in seen  # an agency, a company, a contract each
    piped = subprocess.run([*cmd[:4], str(tmp_path / "s2"), *cmd[5:]], capture_output=True)
    assert piped.returncode == 0
    assert b"validating" not in piped.stderr


def test_an_out_file_that_cannot_be_written_is_one_line_naming_it(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    assert run("load", str(DEMO)).exit_code == 0
    target = tmp_path / "no" / "such" / "dir" / "report.html"
    for args in (("sweep", "--out", str(target)), ("explore", "K-40", "--out", str(target))):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stderr.strip().splitlines() == [
            f"cofi: error: {target}: No such file or directory"
        ]
    # the failed sweep swept nothing: its findings are still new to the next one
    reported = run("sweep", "--format", "jsonl").stdout.splitlines()
    assert len(reported) == 4


def test_a_failed_sweep_removes_only_an_out_file_it_made(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep that fails removes its half-written report, but never a file that was there
    before it (as root, `--out /dev/null` once replaced the device with a regular file)."""
    import cofi.cli

    assert run("load", str(DEMO)).exit_code == 0

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected failure")

    monkeypatch.setattr(cofi.cli.detect, "run_sweep", broken)
    kept, made = tmp_path / "kept.jsonl", tmp_path / "made.jsonl"
    kept.write_text("an earlier report\n", encoding="utf-8")
    for out in (kept, made):
        result = run("sweep", "--out", str(out))
        assert result.exit_code == 1 and "injected failure" in result.stderr
    assert kept.exists() and not made.exists()


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    """Every command pays for what `import cofi.cli` imports: pydantic (the row models),
    numpy, scipy, networkx, rapidfuzz, faker and the Neo4j driver are imported only by the
    commands that use them (pydantic once cost every `check` 0.1 s, through a record type)."""
    heavy = ("pydantic", "numpy", "scipy", "networkx", "rapidfuzz", "faker", "neo4j")
    code = f"import sys, cofi.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_neo4j_store_opens_without_the_array_libraries() -> None:
    """The Neo4j store's module (so `cofi --store bolt://… check`) imports neither the input
    models (pydantic, through the loader) nor numpy, pandas and pyarrow, which the driver would
    take in as its optional extras (`cofi.store.neo4j_driver`); afterwards they import as usual,
    and the driver keeps them unused only where they were not imported before it."""
    heavy = ("pydantic", "numpy", "pandas", "pyarrow")
    code = (
        "import sys, cofi.store.neo4j\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))\n"
        "import numpy, pyarrow, neo4j._optional_deps as extras\n"
        "print(numpy.ones(2).sum(), pyarrow.array([1]).to_pylist(), extras.np, extras.pa)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["", "2.0 [1] None None"]
    # where the loader came first (`cofi load` on Neo4j reads its bundle through pyarrow), the
    # driver finds the library it always found
    code = "import pyarrow, cofi.store.neo4j, neo4j._optional_deps as extras; print(extras.pa)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("<module 'pyarrow'")
