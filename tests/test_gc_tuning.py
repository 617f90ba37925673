"""The bulk phases tune the garbage collector only while they run."""

import gc

from contractlang.ledger import BULK_THRESHOLDS, bulk_allocation


def test_thresholds_are_raised_inside_and_restored_after():
    before = gc.get_threshold()
    with bulk_allocation():
        assert gc.get_threshold() == tuple(max(a, b) for a, b in zip(before, BULK_THRESHOLDS))
    assert gc.get_threshold() == before


def test_a_switched_off_collector_stays_off():
    before = gc.get_threshold()
    gc.set_threshold(0)
    try:
        with bulk_allocation():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)
