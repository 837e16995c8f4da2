"""What a killed cofi process leaves behind (a load's staging directory, a half-written graph
file) carries its process id in its name; a later process removes it once that process is gone."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def owner_gone(pid: str) -> bool:
    """True when no process `pid` runs (False for a live one, another user's, or not a pid)."""
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # alive, another user's: left alone
    return False


def remove_orphans(directory: Path, prefix: str, suffix: str = "") -> None:
    """Remove `prefix` + PID + `suffix`… entries of `directory` whose process is gone."""
    for path in directory.glob(f"{prefix}*{suffix}"):
        pid = path.name.removeprefix(prefix).removesuffix(suffix).split("-")[0]
        if owner_gone(pid):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
