"""Mutations the quick fuzz run in CI leaves out, because they reproduce a defect recorded in FINDINGS.md.

Each entry names the finding (F-number in tests/fuzz/FINDINGS.md, reproducers in
tests/fuzz/findings/). When the fix of a finding lands, delete its entry here: the
quick run then covers that mutation again and guards the fix. `bench/fuzz.py`
never uses these exclusions.
"""

from __future__ import annotations

#: mutation name -> (targets it is left out for, the finding it reproduces)

KNOWN: dict[str, tuple[tuple[str, ...], str]] = {
    # Empty: every finding F1-F18 is fixed (FINDINGS.md), and test_fuzz_quick replays each reproducer.
}


def quick_exclude(target: str) -> frozenset[str]:
    """The mutations left out of the quick run for `target`."""
    return frozenset(name for name, (targets, _) in KNOWN.items() if target in targets)
