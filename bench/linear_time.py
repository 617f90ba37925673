"""Benchmark: the costs that must grow linearly with the input, at two sizes.

    .venv/bin/python bench/linear_time.py

The test suite asserts what these inputs produce (tests/test_check.py,
tests/test_hostile_limits.py, tests/test_ledger.py); how long they take is measured
here, not asserted there (timings depend on the machine). Each case runs at size n
and 2n; the ratio of the times should stay near 2 (a quadratic cost shows as 4).

  check      the checker on Viborg, repeated (per run)
  tables     a table of n rows with a subtotal after every 10, checked
  numbers    a contract file of n over-long numbers, refused (CL018; 2n lines stay under 1 MB)
  ledger     a ledger with n bad values, refused with every error located (CL042)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contractlang import load, model as m  # noqa: E402
from contractlang.check import check  # noqa: E402
from contractlang.errors import LedgerError, ParseError  # noqa: E402
from contractlang.ledger import load_ledger  # noqa: E402
from contractlang.parse import parse_text  # noqa: E402

VIBORG = ROOT / "contracts" / "viborg" / "viborg.contract"


def timed(fn) -> float:
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


def case_check(n: int):
    contract = load(VIBORG)
    return lambda: [check(contract) for _ in range(n // 1000)]


def case_tables(n: int):
    cols = (m.Column(id="n", unit="count"), m.Column(id="amount", unit="DKK"))
    rows, total = [], 0
    for i in range(n):
        rows.append(m.Row(id=f"r{i}", cells=(m.Quantity(value=Decimal(1)), m.Quantity(value=Decimal(i)))))
        total += 1
        if i % 10 == 9:
            rows.append(m.Row(id=f"s{i}", kind="sum", cells=(m.Quantity(value=Decimal(total)), m.Empty())))
    contract = m.Contract(id="big", tables=(m.Table(id="big", columns=cols, rows=tuple(rows), checks=()),))
    return lambda: check(contract)


def case_numbers(n: int):
    text = 'contract x "X"\n' + "grant X 1234567890123456 DKK\n" * n

    def run():
        try:
            parse_text(text, "long.contract")
        except ParseError:
            pass
    return run


def case_ledger(n: int):
    tmp = Path(tempfile.mkdtemp(prefix="linear-"))
    shutil.copytree(ROOT / "contracts" / "viborg" / "ledger", tmp, dirs_exist_ok=True)
    with open(tmp / "measurements.csv", "a", encoding="utf-8") as fh:
        fh.writelines(f"P00001,benefit_type,x{i},,employed\n" for i in range(n))
    contract = load(VIBORG)

    def run():
        try:
            load_ledger(tmp, contract)
        except LedgerError:
            pass
    return run


CASES = {"check": (case_check, 20_000), "tables": (case_tables, 20_000), "numbers": (case_numbers, 17_000),
         "ledger": (case_ledger, 20_000)}


def main() -> int:
    print(f"{'case':8} {'n':>8} {'time n':>9} {'time 2n':>9} {'ratio':>6}")
    for name, (make, n) in CASES.items():
        one, two = timed(make(n)), timed(make(2 * n))
        print(f"{name:8} {n:>8,} {one:>8.3f}s {two:>8.3f}s {two / one:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
