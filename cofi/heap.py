"""Garbage-collector control for the phases that make millions of objects, and the heaps' free
memory given back."""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager


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
