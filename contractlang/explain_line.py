"""explain_line: the text of `contractlang explain ID`, from the columnar engine's settlement.

The engine settles the whole ledger once (every line, cap, tranche, flag, figure and metric)
and records the audit trail of the lines of the one subject the id names, in the one goal
(`engine.settle(…, trails=True, only=(goal, subject))`), and the trails of figures and
metrics. The text is then made from that settlement:

- a line: its record with its trail, rendered (`render.render_line`);
- a metric or figure: its result with its trail;
- an id that is no line: why the settlement has none (the subject's exclusions:
  not counting, not eligible, not due, missing and not replaced, …), else the ids it may mean.

A contract the engine does not evaluate exactly raises `engine.Unsupported`; the command
then settles with the row-by-row interpreter, whose text is the same
(`tests/test_explain_fast.py` holds every line of every bundled settlement to it, in both
languages).
"""

from __future__ import annotations

import datetime as dt
import difflib

import orjson
import polars as pl

from . import model as m
from .explain import line_id_parts
from .ledger import Ledger


def explain_line(contract: m.Contract, ledger: Ledger, as_of: dt.date | None, line_id: str,
                 lang: str, writing=None) -> tuple[str | None, str | None]:
    """(the explanation of the line, metric or figure `line_id`, None), or (None, why there is none: no
    such line, with the ids it may mean). `writing()` is called once the ledger is settled (the command's
    progress line).

    Raises:
        engine.Unsupported: the columnar engine cannot settle the contract.
    """
    settlement = settle_for(contract, ledger, as_of, line_id)
    if writing is not None:
        writing()
    return explain_settled(contract, settlement, line_id, lang)


def settle_for(contract: m.Contract, ledger: Ledger, as_of: dt.date | None, line_id: str):
    """The engine's settlement with the trail of what `line_id` names: its subject's lines in its goal, or
    (a metric or figure) no line's. Raises engine.Unsupported."""
    from . import engine

    named = {x.id for x in (*contract.metrics, *contract.figures)}
    goal, subject, _ = line_id_parts(line_id)
    return engine.settle(contract, ledger, as_of, trails=True, only=("", "") if line_id in named else (goal, subject))


def explain_settled(contract: m.Contract, settlement, line_id: str, lang: str) -> tuple[str | None, str | None]:
    """`explain_line`'s answer from a settlement made by `settle_for(…, line_id)`, in one language: the
    document's head with the one line's record, or, when there is no such line, the subject's exclusions."""
    from .engine.records import line_id as line_id_expr

    goal, subject, point = line_id_parts(line_id)
    head, lines = settlement.head, settlement.lines
    row = lines.filter((pl.col("goal") == goal) & (pl.col("subject") == subject) & (pl.col("point") == point))
    if row.height == 1 or line_id in {x.id for x in (*contract.metrics, *contract.figures)}:
        _, make = settlement.records["lines"]
        return explanation({**head, "lines": [orjson.loads(t) for t in make(row)]}, line_id, lang)
    mention = orjson.dumps(subject).decode()  # the subject's exclusions, read back from their records
    exclusions = [orjson.loads(t) for texts in settlement.texts("exclusions") for t in texts if mention in t]
    return explanation({**head, "exclusions": exclusions, "lines": []}, line_id, lang,
                       lines.select(line_id_expr()).to_series().to_list())


def explanation(doc: dict, line_id: str, lang: str, ids: list[str] | None = None) -> tuple[str | None, str | None]:
    """(the text of `contractlang explain` for a line, metric or figure of a settlement document, None), or
    (None, the problem: no such line). `doc` may hold only the line, or, for a line that is not there, its
    subject's exclusions, with `ids` the settlement's line ids (default: those of `doc`)."""
    from .explain import find_line
    from .render import exclusions_of, render_adjustment, render_line, render_no_line

    adjustments = [a["id"] for a in (doc.get("account") or {}).get("adjustments") or ()]
    if line_id in adjustments:
        return render_adjustment(doc, line_id, lang), None
    if line_id.startswith("adjustment/"):
        return None, no_line(line_id, adjustments) if adjustments else (
            f"no adjustment '{line_id}': the settlement's account has none (a ledger with payments.csv has one)")
    results = {x["id"] for key in ("metrics", "figures") for x in (doc.get("reports") or {}).get(key) or []}
    if find_line(doc, line_id) is not None or line_id in results:
        return render_line(doc, line_id, lang), None
    if exclusions_of(doc, line_id):  # an expected line that is not there: say why
        return render_no_line(doc, line_id, lang), None
    return None, no_line(line_id, [ln["id"] for ln in doc["lines"]] if ids is None else ids)


def no_line(line_id: str, ids: list[str]) -> str:
    """The problem of an id that names no line: the ids it may mean, or what an id looks like."""
    close = difflib.get_close_matches(line_id, ids, n=3)
    return (f"no payment line '{line_id}'" + (f"; did you mean {', '.join(close)}?" if close else
            " (line ids are goal/subject/point, e.g. " + (ids[0] if ids else "none") + ")"))


__all__ = ["explain_line", "explain_settled", "explanation", "no_line", "settle_for"]
