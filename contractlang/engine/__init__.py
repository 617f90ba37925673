"""engine: a contract and a ledger → the settlement, evaluated over columns (engine v2).

The stages, each a module: `frames` (the ledger as typed columns; who exists and
counts; point dates), `compile` (expressions → column expressions, with the ledger
reads they make), `goals` and `cohorts` (outcomes, imputation, prices → lines),
`payments` (caps, return cap and tranches as running totals), `results` (flags,
figures, metrics) and `document` (the settlement document).

The engine computes every amount, line, flag and row account of a settlement and,
when asked, every line's audit trail (`trails`: the steps recorded as columns while
the expressions are compiled and the lines capped and split).
"""

from __future__ import annotations

import datetime as dt
import decimal

import polars as pl

from .. import model as m
from .cohorts import settle_comparison_goal
from .compile import Unsupported
from .context import Run
from .document import Settlement, build
from .goals import LINE_SCHEMA, settle_subject_goal
from .payments import apply_caps, order_lines, split
from .results import Results


def unsupported(contract: m.Contract) -> str | None:
    """What of `contract` the columnar engine leaves to the interpreter as a whole, or None: versions
    (`amends`), attributes the contract declares, tiers and links between a subject's lines. (Expressions it
    cannot evaluate exactly are found as it compiles them.)"""
    if contract.amended is not None:
        return "a contract with versions"
    if contract.attributes:
        return "attributes the contract declares"
    if any(g.shares for g in contract.goals):
        return "a goal paid by several payers"
    if any(g.dated_by_evidence for g in contract.goals):
        return "lines dated by their evidence"
    if contract.settlement is not None and contract.settlement.floor is not None:
        return "a floor per period"
    if any(g.tiers is not None or g.links for g in contract.goals):
        return "tiers and links between a subject's lines (evaluate_order)"
    if any(g.comparison is not None and (g.comparison.pooled or g.comparison.weight) for g in contract.goals):
        return "a comparison of the cohorts pooled, or weighted"
    if any(isinstance(x, m.Call) and x.func in ("irr", "multiple") for f in contract.figures
           for x in m.subexpressions(f.expr)):
        return "a figure of a party's returns (irr, multiple), read from the settled lines"
    return None


def settle(contract: m.Contract, ledger, as_of: dt.date | None = None, trails: bool = False,
           only: tuple[str, str] | None = None) -> Settlement:
    """Settle `contract` against a loaded ledger as of a date; the settlement, with audit trails when
    `trails`: every line's, or with `only` (a goal's id and a subject's) the trails of that subject's lines
    in that goal alone (what `contractlang explain` shows), and every figure's and metric's.

    Raises `Unsupported` for a contract the columnar engine cannot evaluate exactly, and for a contract with
    versions (`amends`), tiers or links, which the interpreter settles."""
    reason = unsupported(contract)
    if reason is not None:
        raise Unsupported(reason)
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        run = Run(contract, ledger, as_of, trails, only)
        results = Results(run)
        for goal in contract.goals:
            if goal.comparison is not None:
                settle_comparison_goal(run, goal)
            else:
                settle_subject_goal(run, goal)
        lines = pl.concat(run.line_frames) if run.line_frames else pl.DataFrame(schema=LINE_SCHEMA)
        run.line_frames.clear()  # the goals' frames live on in `lines` only until it is sorted
        lines = order_lines(run, lines)
        lines, goal_cap_cut, return_cut, running = apply_caps(run, lines)
        lines, parties = split(run, lines)
        results.flags()
        for x in (*contract.figures, *contract.metrics):
            results.value(x.id)
        run.L.wide.clear()  # every value is read: the document needs the lines and the rows, not the values
        return build(run, lines, parties, goal_cap_cut, return_cut, running, results)


__all__ = ["settle", "unsupported", "Settlement", "Unsupported"]
