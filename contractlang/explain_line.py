"""explain_line: one payment line's audit trail without settling the whole ledger row by row.

`contractlang explain` used to settle the whole ledger with the interpreter (`evaluate`) to show
one line. Here the columnar engine settles the ledger instead (every line, cap and tranche, no
trails, `engine.settle_lines`), and the interpreter evaluates only the line's subject:

1. on a ledger of the subject's own rows (its household, the household's persons and their
   measurements, and the households that replace it or that it replaces, so `replaced` reads
   as in the whole ledger), with the engine's mean and count of the observed outcomes at each
   point supplied for imputation (`_Settler.observed_stats`) and the engine's figures and
   metrics for any named value the goal reads;
2. then the line meets its caps, the return cap and the tranches as in a full settlement
   (`_Settler.cap_and_split`), with the running totals before it taken from the engine's
   (`before:<cap index>`, `before:return`, `pool_before`).

The line's outcome, gross, amount after the goal's caps, final amount and split are then held to
the engine's. Where they differ, or where anything is not supported here (a comparison goal,
a line that does not exist, a metric's or figure's trail, a contract the engine does not
evaluate), `LineTrails.document` raises `Fallback` and `explain_line` returns None: the caller then
settles in full, as before. The text is the same either way: `tests/test_explain_fast.py` holds
every line of every bundled settlement to the full settlement's text, in both languages.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from decimal import Decimal
from fractions import Fraction

import polars as pl

from . import model as m
from .evaluate import Running, _Settler
from .explain import header, line_id_parts, line_record, period_of
from .ledger import Ledger, LedgerFrames, Observation, parse_value


class Fallback(Exception):
    """The line's trail cannot be made here (the reason is the message): settle in full instead."""


#: The reason given when the id names no line of the settlement (the caller may say why it is not there).
NO_LINE = "no such line"


def explain_line(contract: m.Contract, ledger: Ledger, as_of: dt.date | None, line_id: str,
                 lang: str, writing=None) -> tuple[str | None, str | None]:
    """(the text of `contractlang explain` for the line `line_id`, None), or (None, why not) when the
    caller must settle in full. Never raises for a contract or ledger the full settlement accepts: any
    problem here means the full path decides (and reports it as it always has). `writing()` is called
    once the line is settled, before its text is made (the command's progress line)."""
    return LineTrails(contract, ledger, as_of).explain(line_id, lang, writing)


class LineTrails:
    """The trails of single lines of one settlement: the engine settles once, on first use."""

    def __init__(self, contract: m.Contract, ledger: Ledger, as_of: dt.date | None):
        self.contract, self.ledger, self.as_of = contract, ledger, as_of
        self._settled = None

    def explain(self, line_id: str, lang: str, writing=None) -> tuple[str | None, str | None]:
        """(the line's explanation as text, None), or (None, why the caller must settle in full)."""
        from .render import render_line

        try:
            doc = self.document(line_id)
            if writing is not None:
                writing()
            return render_line(doc, line_id, lang), None
        except Fallback as exc:
            return None, str(exc)
        except Exception as exc:  # noqa: BLE001 - correct first: whatever fails here, the full settlement decides
            return None, f"{type(exc).__name__}: {exc}"

    def document(self, line_id: str) -> dict:
        """A settlement document holding the contract's header and the one line `line_id`, with its trail.

        Raises:
            Fallback: the line is not one this module explains (the message says why).
            engine.Unsupported: the columnar engine cannot settle the contract.
        """
        from . import engine

        contract, ledger, as_of = self.contract, self.ledger, self.as_of
        if line_id in {x.id for x in (*contract.metrics, *contract.figures)}:
            raise Fallback("a metric's or figure's trail")
        goal_id, subject, point = line_id_parts(line_id)
        goal = contract.goal(goal_id)
        if goal is None or not subject or point not in goal.points:
            raise Fallback(NO_LINE)
        if goal.comparison is not None:
            raise Fallback("a comparison goal's line")
        with decimal.localcontext() as ctx:
            ctx.prec = 50
            if self._settled is None:
                self._settled = engine.settle_lines(contract, ledger, as_of)
            run, results, lines = self._settled
            row = lines.filter((pl.col("goal") == goal_id) & (pl.col("subject") == subject)
                               & (pl.col("point") == point))
            if row.height != 1:
                raise Fallback(NO_LINE)
            row = row.row(0, named=True)
            settler = _OneSubject(contract, _subject_ledger(ledger, row["household"]), as_of, subject, run.observed,
                                  results)
            if settler.as_of != run.as_of:
                raise Fallback("the settlement date is read differently")
            settler.settle_subject_goal(goal)
            ln = next((x for x in settler.lines if x["id"] == line_id), None)
            if ln is None:
                raise Fallback("the interpreter made no such line")
            settler.cap_and_split(ln, *_seeded(contract, settler, ln, row))
            _hold_to_engine(ln, row)
            periods = contract.settlement.periods if contract.settlement else "half-yearly"
            record = line_record(ln, period_of(ln["date"], periods)[0])
            return {**header(contract, ledger.files, settler.as_of, settler.expr_text), "lines": [record]}


class _OneSubject(_Settler):
    """The interpreter for one subject: the engine's observed means and counts, and its named values."""

    def __init__(self, contract, ledger, as_of, subject: str, observed: dict, results):
        super().__init__(contract, ledger, as_of, trace=True)
        self.subject = subject
        self.engine_observed = observed
        self.engine_results = results

    def subjects(self, goal: m.Goal, record: bool = True):
        return ((sid, h, person) for sid, h, person in super().subjects(goal, record=False) if sid == self.subject)

    def observed_stats(self, goal: m.Goal, observed: dict) -> dict:
        return {point: self.engine_observed[goal.id, point] for point in goal.points
                if (goal.id, point) in self.engine_observed}

    def named_value(self, name: str, tr):
        if name not in self.named_results:  # a figure or metric is over the whole ledger: the engine's
            self.engine_results.value(name)
            self.named_results[name] = self.engine_results.results[name]
        return super().named_value(name, tr)


def _subject_ledger(ledger: Ledger, household: str) -> Ledger:
    """The rows of one household (and of the households that replace it or that it replaces) as a Ledger."""
    f = ledger.frames
    hh = f.households
    own = hh.filter(pl.col("household_id") == household)
    if own.height != 1:
        raise Fallback("the line's household is not in the ledger once")
    keep = (pl.col("household_id") == household) | (pl.col("replaces") == household)
    replaces = own["replaces"][0]
    if replaces is not None:
        keep = keep | (pl.col("household_id") == replaces)
    households = hh.filter(keep)
    ids = households["household_id"]
    persons = f.persons.filter(pl.col("household_id").is_in(ids.implode()))
    subjects = pl.concat([ids, persons["person_id"]])
    measurements = f.measurements.filter(pl.col("subject_id").is_in(subjects.implode()))
    cohorts = f.cohorts.filter(pl.col("cohort").is_in(households["cohort"].drop_nulls().implode()))
    return _SmallLedger(ledger.directory, LedgerFrames(households, persons, cohorts, measurements), ledger.files,
                        ledger.measures)


class _SmallLedger(Ledger):
    """A ledger of a few rows: its observations read row by row (`Ledger.values` codes values for millions)."""

    @functools.cached_property
    def values(self) -> dict[tuple[str, str, str], Observation]:
        f = self.frames.measurements.select("subject_id", "measure", "point", "value", "line", "date")
        return {(sid, mid, point): Observation(parse_value(self.measures[mid], text), line, date)
                for sid, mid, point, text, line, date in f.iter_rows()}


def _decimal(ore) -> Decimal:
    if ore is None:
        raise Fallback("a running total the engine did not keep")
    return Decimal(int(ore)).scaleb(-2)


def _seeded(contract: m.Contract, settler: _Settler, ln: dict, row: dict) -> tuple[dict, Running]:
    """The caps by owner, and the running totals before the line, taken from the engine's line."""
    caps = settler.caps_by_owner()
    met = settler.line_caps(ln, caps)
    if len({key for _, key in met}) != len(met):
        raise Fallback("two caps of the line share a running total")
    index = {id(cap): k for k, cap in enumerate(contract.caps)}
    state = Running()
    for cap, key in met:
        state.caps[key] = _decimal(row[f"before:{index[id(cap)]}"])
    rc = contract.return_cap
    if rc is not None and ln["payer"] == rc.payer and ln["goal"] in rc.goals:
        state.rc = _decimal(row["before:return"])
    state.pool = _decimal(row["pool_before"])
    return caps, state


def _engine_split(row: dict) -> dict[str, Decimal]:
    """The line's split between recipients as the engine's document has it (`engine.document.with_split`)."""
    return {name.split(":", 1)[1]: _decimal(v) for name, v in row.items() if name.startswith("split:") and v is not None}


def _hold_to_engine(ln: dict, row: dict) -> None:
    """The line as the interpreter made it must be the engine's: else Fallback."""
    ours = (Fraction(ln["outcome"]), ln["date"], ln["imputed"], ln["gross"], ln["after_goal_cap"], ln["amount"],
            dict(ln["split"]))
    theirs = (Fraction(int(row["num"]), int(row["den"])), row["date"], row["imputed"], _decimal(row["gross"]),
              _decimal(row["after_goal_cap"]), _decimal(row["amount"]), _engine_split(row))
    if ours != theirs:
        raise Fallback(f"the interpreter's line differs from the engine's: {ours} / {theirs}")


__all__ = ["NO_LINE", "Fallback", "LineTrails", "explain_line"]
