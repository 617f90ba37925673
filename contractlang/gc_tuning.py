"""Garbage-collector tuning for the two bulk phases: reading a ledger and settling it."""

from __future__ import annotations

import contextlib
import gc

BULK_THRESHOLD = 50_000  # allocations between young-generation collections (CPython's default is 700)


@contextlib.contextmanager
def bulk_allocation():
    """Run the cyclic garbage collector less often while millions of small objects are built.

    Loading and settling a ledger allocate millions of dicts, lists and tuples that all live
    until the settlement is returned. With the default threshold the collector re-examines
    them so often that it takes a third of the running time (100k persons). Short-lived
    cycles, such as a subject's scope and its closures, are still collected. The previous
    thresholds are restored on exit; a collector that is switched off stays off.
    """
    before = gc.get_threshold()
    if 0 < before[0] < BULK_THRESHOLD:
        gc.set_threshold(BULK_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
