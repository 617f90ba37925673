"""account: what was paid against what is owed, period by period, and what is to be paid now.

A settlement says what each period is worth today: its entitlement, the lines' shares summed by period, payer
and recipient. When the ledger has a `payments.csv` (period, payer, recipient, amount, paid_on, reference), the
settlement also holds an `account` (docs/settlement-json.md): per period, payer and recipient the entitlement,
what was paid for it by the settlement date, and what is to be paid now (`to_pay`, due by the period's due
date). A period still running on the settlement date is not paid yet; an ended period not paid yet is paid in
full. A paid period is adjusted as the contract's `adjust paid periods` rule says:

- `at each settlement`: trued up (entitlement less paid) at every settlement;
- `until DATE` or `until due + N months`: adjusted until that date, then locked: its difference is shown, never
  paid (a settlement as of the date itself still adjusts it);
- `once on DATE`: awaiting the date as paid, then trued up (reconciled).

What is neither paid nor to be paid now is `unsettled`: a running period's entitlement so far, the difference a
locked period would have made, a difference awaiting the reconciliation. Locking freezes what is paid, not the
computation: the lines of a locked period are still worked out from today's data (so that caps and tranches
see the whole history).

Every paid period whose entitlement differs from what was paid gets an adjustment record with its trail: the
entitlement, the lines whose shares moved since the previous settlement (`settle --previous FILE`, the one
the payments were made on), the payments, and the rule. A payment made after the settlement date is not
counted: it is listed under `later`, so that every row of payments.csv is accounted for.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Iterable

from . import model as m
from . import trace as t
from .expressions import money, shift
from .periods import due_date, period_named

ZERO = Decimal(0)
FILE = "payments.csv"
#: The statuses under which a period's difference is paid now (trace.ADJUSTMENT_STATUSES).
PAYING = ("unpaid", "trued_up", "open", "reconciled")

#: A line's shares as the account reads them: (line id, period, payer, {recipient: amount}).
Shares = Iterable[tuple[str, str, str, dict]]


def document_shares(doc: dict) -> Shares:
    """The shares of the lines of a settlement document (a dict)."""
    return ((ln["id"], ln["period"], ln["payer"], ln["split"]) for ln in doc.get("lines") or ())


def attach(settled, contract: m.Contract, ledger, previous: dict | None = None,
           previous_input: dict | None = None) -> None:
    """Add the `account` to a settlement (the interpreter's dict or the engine's `Settlement`) when its ledger has
    payments, and count the rows of payments.csv in `rows`. `previous`: the settlement the payments were made on,
    for the trails of the adjustments (`previous_input`: its path and hash, kept in `inputs.previous` for
    `verify`)."""
    payments = ledger.payments
    if payments is None:
        return
    if isinstance(settled, dict):
        head, shares = settled, document_shares(settled)
    else:
        head, shares = settled.head, settled.shares()
    as_of = dt.date.fromisoformat(head["as_of"])
    section, used = account(contract, shares, payments.iter_rows(named=True), as_of, previous)
    head["account"] = section
    head.setdefault("rows", {})[FILE] = {"total": payments.height, "used": used, "excluded": payments.height - used}
    if previous_input is not None:
        head["inputs"]["previous"] = previous_input


def account(c: m.Contract, shares: Shares, payments: Iterable[dict], as_of: dt.date,
            previous: dict | None = None) -> tuple[dict, int]:
    """The account section, and how many payment rows it counts (those paid by `as_of`)."""
    rule = c.settlement.adjustment
    entitled: dict[tuple, Decimal] = defaultdict(Decimal)
    counted: dict[tuple, int] = defaultdict(int)
    members: dict[tuple, dict] = defaultdict(dict)  # the lines' shares, kept only to compare with `previous`
    for line, period, payer, split in shares:
        for recipient, amount in split.items():
            key = (period, payer, recipient)
            entitled[key] += Decimal(amount)
            counted[key] += 1
            if previous is not None:
                members[key][line] = Decimal(amount)
    was: dict[tuple, dict] = defaultdict(dict)
    for line, period, payer, split in document_shares(previous or {}):
        for recipient, amount in split.items():
            was[(period, payer, recipient)][line] = Decimal(amount)
    paid: dict[tuple, list] = defaultdict(list)
    later = []
    for row in sorted(payments, key=lambda r: r["line"]):
        record = {"line": row["line"], "period": row["period"], "payer": row["payer"], "recipient": row["recipient"],
                  "amount": money(Decimal(row["amount"])), "paid_on": row["paid"].isoformat(),
                  "reference": row["reference"] or ""}
        if row["paid"] <= as_of:
            paid[(row["period"], row["payer"], row["recipient"])].append(record)
        else:
            later.append({**record, "reason": "paid_after", "facts": {"as_of": as_of.isoformat()}})
    periods, adjustments = [], []
    totals = defaultdict(Decimal)
    to_pay_by: dict[str, dict] = defaultdict(lambda: defaultdict(Decimal))
    for key in sorted(set(entitled) | set(paid)):
        period, payer, recipient = key
        _, _, last = period_named(period, c.settlement)
        due = due_date(last, c.settlement.due)
        rows = paid.get(key, [])
        entitlement, paid_sum = entitled.get(key, ZERO), sum((Decimal(r["amount"]) for r in rows), ZERO)
        status, date = ("running", None) if last > as_of else _status(rule, bool(rows), due, as_of)
        to_pay = entitlement - paid_sum if status in PAYING else ZERO
        record = {"period": period, "payer": payer, "recipient": recipient, "due": due.isoformat(),
                  "entitlement": money(entitlement), "paid": money(paid_sum), "to_pay": money(to_pay),
                  "unsettled": money(entitlement - paid_sum - to_pay), "status": status,
                  "date": date.isoformat() if date else None, "payments": [r["line"] for r in rows]}
        periods.append(record)
        for name, value in (("entitlement", entitlement), ("paid", paid_sum), ("to_pay", to_pay),
                            ("unsettled", entitlement - paid_sum - to_pay)):
            totals[name] += value
        to_pay_by[payer][recipient] += to_pay
        if rows and entitlement != paid_sum:
            adjustments.append(_adjustment(rule, record, counted.get(key, 0), rows,
                                           _moved(members.get(key, {}), was.get(key, {})) if previous else ()))
    return {"rule": {"rule": rule.rule, "date": rule.date.isoformat() if rule.date else None,
                     "offset": f"{rule.offset.value} {rule.offset.canonical_unit}" if rule.offset else None,
                     "clause": rule.clause},
            "periods": periods,
            "adjustments": adjustments,
            "later": later,
            "totals": {**{k: money(totals[k]) for k in ("entitlement", "paid", "to_pay", "unsettled")},
                       "to_pay_by": {p: {r: money(v) for r, v in sorted(by.items())}
                                     for p, by in sorted(to_pay_by.items())}}
            }, sum(len(v) for v in paid.values())


def _status(rule: m.Adjustment, paid: bool, due: dt.date, as_of: dt.date) -> tuple[str, dt.date | None]:
    """How a period stands under the rule (trace.ADJUSTMENT_STATUSES), and the date that decides it."""
    if not paid:
        return "unpaid", None
    if rule.rule == "each":
        return "trued_up", None
    if rule.rule == "until":
        lock = rule.date or shift(due, rule.offset)
        return ("locked" if as_of > lock else "open"), lock
    return ("reconciled" if as_of >= rule.date else "awaiting"), rule.date


def _moved(now: dict, was: dict) -> list[t.Moved]:
    """The lines whose share is not what it was, in the order of their ids."""
    return [t.Moved(line=line, was=money(was[line]) if line in was else None,
                    now=money(now[line]) if line in now else None)
            for line in sorted(now.keys() | was.keys()) if now.get(line) != was.get(line)]


def _adjustment(rule: m.Adjustment, record: dict, lines: int, rows: list[dict], moved) -> dict:
    """A paid period whose entitlement is not what was paid: the adjustment (0 while it is running, locked or
    awaiting its reconciliation) and its trail."""
    period, payer, recipient = record["period"], record["payer"], record["recipient"]
    steps = [t.Entitlement(period=period, payer=payer, recipient=recipient, amount=record["entitlement"], lines=lines),
             *moved,
             *(t.Paid(file=FILE, line=r["line"], amount=r["amount"], paid_on=r["paid_on"], reference=r["reference"])
               for r in rows),
             t.Adjust(rule=rule.rule, status=record["status"], date=record["date"], entitlement=record["entitlement"],
                      paid=record["paid"], amount=record["to_pay"], clause=rule.clause)]
    return {"id": f"adjustment/{period}/{payer}/{recipient}", "period": period, "payer": payer,
            "recipient": recipient, "amount": record["to_pay"], "unsettled": record["unsettled"],
            "trace": [s.to_json() for s in steps]}
