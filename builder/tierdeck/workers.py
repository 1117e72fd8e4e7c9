"""The one worker pool: forked processes for large first compiles and previews, and the TIERDECK_JOBS policy.

Workers are forked, so they start with tierdeck imported and the caller's state (a deck, a report) already in
memory: only the jobs go to them, and each result comes back as bytes the worker encoded (the same bytes the
cache stores, so nothing is encoded twice). One process is used for small work, where starting workers costs
what they save, and whenever the process has other threads (forking then can deadlock the child).
"""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import TypeVar

from tierdeck.errors import UsageError

_Job = TypeVar("_Job")


def asked() -> int | None:
    """The number of processes TIERDECK_JOBS asks for, None when unset; a UsageError when it is not a number."""
    text = os.environ.get("TIERDECK_JOBS", "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"TIERDECK_JOBS must be a whole number of processes (1 or more), got '{text}'")
    return int(text)


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def count(jobs: int, large: bool) -> int:
    """How many processes for `jobs` independent jobs: TIERDECK_JOBS when set, else every core when the work
    is `large`; 1 when there is one job, no fork on this system, or other threads are running."""
    import multiprocessing

    wanted = asked()
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 1
    if wanted is not None:
        return min(wanted, jobs)
    return min(cores(), jobs) if large else 1


_task: Callable | None = None  # in a worker: the function it was forked with


def _adopt(task: Callable) -> None:
    global _task
    _task = task
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the main process, which stops the pool


def _run(job: object) -> bytes:
    assert _task is not None
    return _task(job)


def map_encoded(task: Callable[[_Job], bytes], jobs: Sequence[_Job], workers: int) -> list[bytes]:
    """`task(job)` for every job, in order, in `workers` forked processes; `task` returns bytes."""
    if workers < 2:
        return [task(job) for job in jobs]
    import multiprocessing  # imported here: a command that needs no pool starts faster without it
    from concurrent.futures import ProcessPoolExecutor

    # the task (and what it holds) reaches the workers by forking, never pickled: only jobs and bytes travel
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_adopt, initargs=(task,)
    )
    try:
        return list(pool.map(_run, jobs))
    finally:  # on an error or Ctrl-C, jobs not started yet are dropped
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector for a bulk phase (usable as a decorator).

    Reading a large deck allocates millions of small objects that all live until the end, and every
    collection walks them all again: a third of a 50,000-card build went to it. Nothing built here
    forms cycles worth collecting (peak memory is the same without it); the collector comes back after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
