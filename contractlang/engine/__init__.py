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
from .document import Settlement, build, with_split
from .goals import LINE_SCHEMA, settle_subject_goal
from .payments import apply_caps, order_lines, split
from .results import Results


def settle(contract: m.Contract, ledger, as_of: dt.date | None = None, trails: bool = False) -> Settlement:
    """Settle `contract` against a loaded ledger as of a date; the settlement, with every line's audit trail
    (and every figure's and metric's) when `trails`.

    Raises `Unsupported` for a contract the columnar engine cannot evaluate exactly."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        run, results, lines, parties, goal_cap_cut, return_cut = _settle_lines(contract, ledger, as_of, False,
                                                                               trails)
        results.flags()
        for x in (*contract.figures, *contract.metrics):
            results.value(x.id)
        run.L.wide.clear()  # every value is read: the document needs the lines and the rows, not the values
        return build(run, lines, parties, goal_cap_cut, return_cut, results)


def settle_lines(contract: m.Contract, ledger, as_of: dt.date | None = None) -> tuple[Run, Results, pl.DataFrame]:
    """The settled lines alone, for one line's audit trail (`explain_line`): the run (with `observed`, each
    goal and point's observed mean and count), its named values (figures and metrics, on first use) and
    the lines in cap order after caps and tranches, with each cap's running total before each line
    (`before:<cap index>`, `before:return`), `pool_before` and each recipient's share (`split:<party>`). No flags and no document are made.

    Raises `Unsupported` for a contract the columnar engine cannot evaluate exactly."""
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        run, results, lines, parties, _, _ = _settle_lines(contract, ledger, as_of, True)
        return run, results, with_split(contract, lines, parties)[0]


def _settle_lines(contract, ledger, as_of, for_trails: bool, trails: bool = False):
    run = Run(contract, ledger, as_of, for_trails, trails)
    results = Results(run)
    for goal in contract.goals:
        if goal.comparison is not None:
            settle_comparison_goal(run, goal)
        else:
            settle_subject_goal(run, goal)
    lines = pl.concat(run.line_frames) if run.line_frames else pl.DataFrame(schema=LINE_SCHEMA)
    run.line_frames.clear()  # the goals' frames live on in `lines` only until it is sorted
    lines = order_lines(run, lines)
    lines, goal_cap_cut, return_cut = apply_caps(run, lines)
    lines, parties = split(run, lines)
    return run, results, lines, parties, goal_cap_cut, return_cut


__all__ = ["settle", "settle_lines", "Settlement", "Unsupported"]
