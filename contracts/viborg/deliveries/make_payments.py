"""Write the payments.csv of the Viborg delivery series: what Kommunen and LBF paid after each settlement.

The evaluator settles after each delivery, with what was delivered by then (`--as-of K --known-as-of K`), and
the payers pay, a month later, what that settlement says is to be paid (`account.periods[].to_pay`, the ended
periods). Run from the repository root; it settles with the contract as it is, so the file follows the
contract's rule for paid periods:

    python contracts/viborg/deliveries/make_payments.py [--contract FILE] [--ledger DIR]

The ledger directory's payments.csv is rewritten from scratch (each settlement sees the payments made before
it); the third delivery (2028-12-31) is the final settlement, which nobody has paid yet.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
CONTRACT = HERE.parent / "viborg.contract"
#: (settled as of, and known as of; paid on): the first two deliveries and the day their payments were made.
SETTLEMENTS = (("2025-01-31", "2025-02-28"), ("2026-01-31", "2026-02-27"))
HEADER = ("period", "payer", "recipient", "amount", "paid_on", "reference")


def settle(contract: pathlib.Path, ledger: pathlib.Path, as_of: str) -> dict:
    """The settlement as of (and known as of) `as_of`, with the payments the ledger holds by then."""
    from contractlang import check as check_contract, load
    from contractlang.account import attach
    from contractlang.engine import settle as settle_columns
    from contractlang.ledger import load_ledger

    c = load(contract)
    assert not [d for d in check_contract(c) if d.severity == "error"], "the contract has errors"
    day = dt.date.fromisoformat(as_of)
    ld = load_ledger(ledger, c, day)
    settled = settle_columns(c, ld, day).document()
    attach(settled, c, ld)
    return settled


def payments(contract: pathlib.Path, ledger: pathlib.Path) -> str:
    """payments.csv as the series makes it (written to `ledger` after each settlement, which reads it)."""
    rows: list[tuple] = []
    for as_of, paid_on in SETTLEMENTS:
        _write(ledger, rows)
        for p in settle(contract, ledger, as_of)["account"]["periods"]:
            if p["to_pay"] != "0.00":
                rows.append((p["period"], p["payer"], p["recipient"], p["to_pay"], paid_on, f"settlement {as_of}"))
    return _write(ledger, rows)


def _write(ledger: pathlib.Path, rows: list[tuple]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rows)
    (ledger / "payments.csv").write_text(buf.getvalue(), encoding="utf-8")
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contract", type=pathlib.Path, default=CONTRACT)
    ap.add_argument("--ledger", type=pathlib.Path, default=HERE / "ledger")
    args = ap.parse_args(argv)
    text = payments(args.contract, args.ledger)
    print(f"wrote {args.ledger / 'payments.csv'} ({text.count(chr(10)) - 1} payments)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
