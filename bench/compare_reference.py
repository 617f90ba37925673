"""Compare the engine's Viborg settlement with the independent reference on any ledger, at any dates.

    .venv/bin/python contracts/viborg/make_ledger.py --out /tmp/big --households 36364 --control 9000 --seed 99
    .venv/bin/python bench/compare_reference.py /tmp/big 2028-10-31 2026-03-31

The test suite runs the same comparison on small ledgers (tests/test_reference_viborg.py);
this script is for the large ones, which take a minute each. It prints, per date, the
number of lines, the number of differences (every total, period, split, flag and line)
with the first ten, and the time taken; it exits 1 if any date differs.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_reference_viborg as t  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    ledgers = {"ledger": Path(argv[0]).resolve()}
    if not (ledgers["ledger"] / "measurements.csv").is_file():
        print(f"{argv[0]}: not a ledger directory (no measurements.csv)", file=sys.stderr)
        return 2
    failed = False
    for as_of in argv[1:]:
        start = time.perf_counter()
        e, r = t.engine(ledgers, "ledger", as_of), t.reference(ledgers, "ledger", as_of)
        diffs = t.compare_totals(e, r) + t.compare_periods(e, r) + t.compare_flags(e, r) + t.compare_lines(e, r)
        print(f"{as_of}: {len(e['lines'])} lines, {len(diffs)} differences ({time.perf_counter() - start:.1f} s)")
        for d in diffs[:10]:
            print("   ", d)
        failed = failed or bool(diffs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
