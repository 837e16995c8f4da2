"""Errors that reach the user, each with its documented exit code.

Library code raises these; the CLI turns them into one line on stderr and the exit code, at the
edge only.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_INVALID = 1
EXIT_UNREACHABLE = 3
"""(0 is success and 2 a usage error, click's own.)"""


class CofiError(Exception):
    """An error the user can act on: `str(error)` is the one line shown, `exit_code` the status."""

    exit_code = EXIT_INVALID


class InvalidInput(CofiError):
    """The input or the data is invalid (exit 1)."""


class NothingFound(CofiError):
    """A search or a path query found nothing (exit 1): said as a plain line, not as an error."""


class StoreUnreachable(CofiError):
    """The store cannot be opened or reached (exit 3)."""

    exit_code = EXIT_UNREACHABLE


class StoreFull(CofiError):
    """The disk (or the database's size limit) is full: the write was rolled back (exit 3)."""

    exit_code = EXIT_UNREACHABLE


class StoreRefused(CofiError):
    """The store was reached but refused an operation: a constraint, a limit, bad data (exit 1)."""


class NotFound(CofiError):
    """An id named on the command line is not in the store (exit 1)."""


@dataclass(frozen=True, order=True)
class RowError:
    """One invalid input row: rendered as `file:line: field: reason`."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


class LoadRejected(InvalidInput):
    """A strict load found invalid rows; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        rows = len({(e.file, e.line) for e in errors})
        super().__init__(f"{rows} invalid row(s); nothing was written")
