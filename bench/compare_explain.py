"""Every line explained both ways: from the engine's settlement (`explain_line`, the one subject's trail
recorded) against the full interpreter's, text for text.

    .venv/bin/python bench/compare_explain.py

tests/test_explain_fast.py explains every line of the small bundled settlements and a sample of
Viborg's; this takes every line of Viborg's bundled settlement and of a generated Viborg ledger
under a contract whose caps and tranche threshold bind (imputed, cut, crossing the switch, replaced
households, a comparison goal), each at two dates, in English and Danish, with every metric and figure.
Each line is one engine settlement: tens of minutes on two cores; exit 1 at the first line whose text
differs (the assertion names it).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from contractlang import load  # noqa: E402
from contractlang.ledger import load_ledger  # noqa: E402
from tests.test_explain_fast import VIBORG, explained_alike, make_lowered  # noqa: E402


def main() -> int:
    dates = (None, dt.date(2025, 12, 31))
    contract = load(VIBORG / "viborg.contract")
    cases = [("bundled Viborg", contract, load_ledger(VIBORG / "ledger", contract))]
    with tempfile.TemporaryDirectory() as tmp:
        _, lowered, _, ledger = make_lowered(Path(tmp))
        cases.append(("generated Viborg, caps lowered", lowered, ledger))
        for name, c, led in cases:
            for as_of in dates:
                began = time.perf_counter()
                try:
                    seen = explained_alike(c, led, as_of)
                except AssertionError as exc:
                    print(f"{name} as of {as_of or 'the end'}: DIFFERENT: {exc}")
                    return 1
                print(f"{name} as of {as_of or 'the end'}: {seen['lines']} lines ({seen['imputed']} imputed, "
                      f"{seen['cut']} cut, {seen['switch']} crossing the tranche switch, {seen['comparison']} of a "
                      f"comparison goal) and {seen['results']} metrics and figures: the same text, in "
                      f"{time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
