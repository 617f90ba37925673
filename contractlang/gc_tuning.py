"""Garbage-collector tuning for the two bulk phases: reading a ledger and settling it."""

from __future__ import annotations

import contextlib
import gc

# Allocations between young collections, young collections between middle ones, and middle
# collections between full ones. CPython's defaults are (700, 10, 10).
BULK_THRESHOLDS = (50_000, 10, 100)


@contextlib.contextmanager
def bulk_allocation():
    """Run the cyclic garbage collector less often while millions of small objects are built.

    Loading and settling a ledger allocate millions of dicts, lists and tuples that all live
    until the settlement is returned. With the default thresholds the collector re-examines
    them so often that it takes a third of the running time (100k persons), and on a million
    persons each full collection walks tens of millions of objects. Short-lived cycles are
    still collected by the young collections. The previous thresholds are restored on exit;
    higher thresholds set by the caller are kept, and a collector that is switched off stays off.
    """
    before = gc.get_threshold()
    if before[0] != 0:
        gc.set_threshold(*(max(old, bulk) for old, bulk in zip(before, BULK_THRESHOLDS)))
    try:
        yield
    finally:
        gc.set_threshold(*before)
