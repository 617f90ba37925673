"""evaluate_order: what a line is paid depends on the lines before it — tiers, and links between a subject's lines.

Run by the interpreter on the lines in the order they meet the caps (`order lines by`), before the caps:

- a goal's links (`once per subject`, `requires G`, `excludes G`) decide whether its line for a subject is paid
  at all, from the lines of that subject already paid: a line with an outcome that is not is left out, with its
  reason (`once_paid`, `prerequisite_unpaid`, `excluded_by`) and the line that decided it (a line of no outcome
  stays, paying nothing);
- a goal's `tiers` price its units of outcome by how many came before them in that goal (marginal: a line that
  crosses a tier is paid at both prices, each for its part);
- `replaces G` pays the difference between the line and what G's lines paid the subject before it (never less
  than nothing); a pooled comparison's line stands for every cohort, so it pays the difference to what G paid
  all of them (the final payment less the payments already made).

A line "paid" here is one kept, with an amount above zero before the caps.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from . import model as m
from .expressions import arith, money, show
from .vocabulary import POOLED

ZERO = Decimal(0)


def apply(s) -> None:
    """Apply the tiers and links of the contract's goals to the settler `s`'s lines (in cap order)."""
    goals = {g.id: g for g in s.c.goals}
    if not any(g.tiers is not None or g.links for g in goals.values()):
        return
    paid: dict[tuple, Decimal] = defaultdict(Decimal)  # (goal, subject) -> what its kept lines pay, so far
    paid_all: dict[str, Decimal] = defaultdict(Decimal)  # goal -> what all its kept lines pay, so far
    first: dict[tuple, str] = {}                       # (goal, subject) -> the first line that paid
    units: dict[str, Decimal] = defaultdict(Decimal)   # goal -> units of outcome priced by its tiers, so far
    kept = []
    for ln in s.lines:
        g, sid = goals[ln["goal"]], ln["subject"]
        why = _left_out(g, sid, paid, first) if ln["outcome"] != 0 else None  # a line of no outcome pays nothing anyway
        if why is not None:
            reason, facts, detail = why
            s.exclusions.append({"goal": g.id, "subject": sid, "point": ln["point"], "reason": reason,
                                 "detail": detail, "facts": facts})
            continue
        if g.tiers is not None:
            _price(s, g, ln, units)
        replaces = g.link("replaces")
        if replaces is not None:  # a pooled comparison's line replaces what the other goal paid every cohort
            other = replaces.goals[0]
            _replace(g, ln, replaces, paid_all[other] if sid == POOLED else paid[(other, sid)])
        if ln["gross"] > 0:
            paid[(g.id, sid)] += ln["gross"]
            paid_all[g.id] += ln["gross"]
            first.setdefault((g.id, sid), ln["id"])
        kept.append(ln)
    s.lines = kept
    s.imputed = {gid: sum(1 for ln in kept if ln["goal"] == gid and ln["imputed"]) for gid in goals}


def _left_out(g: m.Goal, sid: str, paid: dict, first: dict) -> tuple | None:
    """(reason, facts, detail) when a link leaves the subject's line of `g` out, else None."""
    once = g.link("once")
    if once is not None and paid[(g.id, sid)] > 0:
        line = first[(g.id, sid)]
        return "once_paid", {"paid": line}, f"paid once per subject: {line} was paid"
    requires = g.link("requires")
    for other in requires.goals if requires else ():
        if paid[(other, sid)] <= 0:
            return ("prerequisite_unpaid", {"requires": other},
                    f"requires a paid line of {other} before it, and the subject has none")
    excludes = g.link("excludes")
    for other in excludes.goals if excludes else ():
        if paid[(other, sid)] > 0:
            line = first[(other, sid)]
            return "excluded_by", {"goal": other, "paid": line}, f"excluded by {other}: {line} was paid"
    return None


def _price(s, g: m.Goal, ln: dict, units: dict) -> None:
    """Price a line of a goal with tiers: each part of its units at the price of the tier it falls in."""
    outcome = ln["outcome"]
    start = units[g.id]
    end = arith("+", start, outcome)
    low, high = (start, end) if end >= start else (end, start)
    bounds = [(ZERO, g.rate.amount.value)] + [(t.beyond, t.amount.value) for t in g.tiers.tiers]
    parts, exact = [], ZERO
    for k, (beyond, amount) in enumerate(bounds):
        upto = bounds[k + 1][0] if k + 1 < len(bounds) else None
        a, b = max(low, beyond), high if upto is None else min(high, upto)
        if b > a or (k == 0 and low == high):  # (a line of no units is priced at the first tier, at nothing)
            part = arith("-", b, a) if b > a else ZERO
            parts.append({"beyond": show(beyond) if k else None, "upto": show(upto) if upto is not None else None,
                          "units": show(part), "price": money(amount)})
            exact = arith("+", exact, arith("*", part, amount))
    if end < start:
        exact = -exact
    units[g.id] = end
    ln["gross"] = gross = s.round_line(exact)
    tr = ln["trace"]
    if tr is not None:
        tr.append({"kind": "tiers", "goal": g.id, "units_before": show(start), "outcome": show(outcome),
                   "parts": parts, "exact": show(exact), "clause": g.tiers.clause})
        tr.append(s.line_round_step(exact, gross))


def _replace(g: m.Goal, ln: dict, link: m.Link, before: Decimal) -> None:
    """`replaces G`: the line pays what it is worth less what G paid the subject before it, at least nothing."""
    worth = ln["gross"]
    ln["gross"] = max(worth - before, ZERO) if worth > 0 else worth
    if ln["trace"] is not None:
        ln["trace"].append({"kind": "replaces", "goal": link.goals[0], "paid": money(before), "before": money(worth),
                            "after": money(ln["gross"]), "clause": link.clause})
