"""returns: what a party invests and is repaid, as cash flows, and its return: IRR and money multiple.

A party's cash flows are what it puts in — its amounts in the contract's `disbursement` instalments, on their
dates — and what it is repaid: its share of each settlement period's lines (after caps and tranches), on the
period's due date. From them:

- `multiple`: repaid divided by invested (exact);
- `irr`: the yearly rate r at which the flows' present value, each discounted by (1 + r) ^ (days / 365) from
  the first flow, is zero — found by bisection between -99 % and 1,000 % a year and given, in per cent, to
  `IRR_PLACES` decimal places (half even). There is none (missing) when the flows do not change sign.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Context, Decimal

from . import model as m
from .periods import due_date, period_of

#: Decimal places of an IRR in per cent (1E-8 %): far finer than any contract states a return.
IRR_PLACES = 8
_CONTEXT = Context(prec=60)
_LOW, _HIGH = Decimal("-0.99"), Decimal("10")


def cash_flows(c: m.Contract, lines, party: str) -> list[tuple[dt.date, Decimal]]:
    """The party's flows in date order, one per date: negative what it invests, positive what it is repaid."""
    flows: dict[dt.date, Decimal] = defaultdict(Decimal)
    if c.disbursement is not None:
        for instalment in c.disbursement.instalments:
            for pa in instalment.amounts:
                if pa.party == party:
                    flows[instalment.date] -= pa.amount.value
    due_rule = c.settlement.due if c.settlement else "end of following quarter"
    for ln in lines:
        share = ln["split"].get(party)
        if share:
            _, _, last = period_of(ln["date"], c.settlement)
            flows[due_date(last, due_rule)] += share
    return sorted((day, v) for day, v in flows.items() if v)


def multiple(flows) -> Decimal | None:
    """Repaid / invested; None when nothing is invested."""
    invested = -sum((v for _, v in flows if v < 0), Decimal(0))
    repaid = sum((v for _, v in flows if v > 0), Decimal(0))
    return _CONTEXT.divide(repaid, invested) if invested else None


def irr(flows) -> Decimal | None:
    """The internal rate of return in per cent a year (ACT/365), or None when the flows do not change sign."""
    if not any(v < 0 for _, v in flows) or not any(v > 0 for _, v in flows):
        return None
    first = flows[0][0]
    years = [(_CONTEXT.divide(Decimal((day - first).days), Decimal(365)), v) for day, v in flows]

    def npv(rate: Decimal) -> Decimal:
        base = _CONTEXT.add(Decimal(1), rate)
        return sum((_CONTEXT.divide(v, _CONTEXT.power(base, t)) for t, v in years), Decimal(0))

    low, high = _LOW, _HIGH
    f_low, f_high = npv(low), npv(high)
    if (f_low > 0) == (f_high > 0):
        return None
    for _ in range(200):  # the interval halves each time: 2^-200 of 11 is far below the places kept
        mid = _CONTEXT.divide(_CONTEXT.add(low, high), Decimal(2))
        f_mid = npv(mid)
        if (f_mid > 0) == (f_low > 0):
            low, f_low = mid, f_mid
        else:
            high = mid
    return (low * 100).quantize(Decimal(1).scaleb(-IRR_PLACES), rounding=ROUND_HALF_EVEN)
