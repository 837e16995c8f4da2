"""Garbage-collector control for the phases that make millions of objects, and the heaps' free
memory given back; a file's writing back to disk begun early."""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of objects are made.

    It would rescan the ever-growing heap again and again (a quarter of a large graph build);
    the rows and records made hold no reference cycles.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def give_back_free_memory() -> None:
    """Return the free memory of this process's heaps to the system: glibc's (where the C library
    is glibc) and, if pyarrow is loaded, Arrow's pool.  Before a large step (the peak of a load's
    memory), and before a fork: a page the child shares is copied when this process writes it
    again, as it does when its heaps reuse the free pages they kept (the xlarge scale's graph
    file, in an 8 GB cgroup: 7.9 GB at most without this before each reader's fork, 6.5 GB with
    it)."""
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)


def start_writeback(fd: int) -> None:
    """Start writing the file `fd` holds open back to disk, without waiting (Linux's
    `sync_file_range` with `SYNC_FILE_RANGE_WRITE`; nothing elsewhere): the `fsync` that makes
    it durable then waits for what is left, not for the whole file.  The kernel would begin
    only once the file's pages were 30 s old or 10% of memory dirty, after a large load."""
    call = writeback_call()
    if call is not None:
        call(fd, 0, 0, 2)  # (SYNC_FILE_RANGE_WRITE)


@functools.cache
def writeback_call() -> Any:
    """The C library's `sync_file_range`, or None.  (Found once, before any fork that calls it:
    a forked process looks nothing up.)"""
    try:
        import ctypes

        call = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    call.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return call
