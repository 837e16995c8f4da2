"""The `cofi` command line: one thin module per group of commands, each command parsing its
options, making one library call and formatting what comes back.

- `base`: the group, the store context, the error model (one line and an exit code, a traceback
  only with `--debug`), the options commands share;
- `load`: `load`; `inspect`: `stats`, `search`, `path`, `links`, `explore`;
- `detect`: `check`, `sweep`; `findings`: `findings`, `triage`;
- `match`: `match`, `match decide`; `declarations`: `declarations audit`, `restrictions`;
- `synth`: `synth`, `demo`.

A new command goes in the module of its group (or a new module imported below), as a function
decorated with `@cli.command()`; its logic goes in the library, raising the `CofiError` the group
turns into a line and an exit code.
"""

from cofi.cli import declarations, detect, findings, inspect, load, match, synth  # noqa: F401 (each registers its commands)
from cofi.cli.base import cli, main
from cofi.cli.inspect import browser_cypher

__all__ = ["browser_cypher", "cli", "main"]
