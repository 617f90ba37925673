"""Goals paid per cohort on a comparison of group means (`compare mean M of A against B by cohort`).

Group means are formed over columns, exactly; the outcome of each cohort and point is then
evaluated by the expression interpreter on those few means (a cohort is not a subject:
there are a handful of them, not a loop over subjects)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import polars as pl

from .. import model as m
from ..expressions import MISSING, DivisionByZero, Scope, _settled, evaluate, show
from . import exclusions
from .context import Run
from .frames import line_col, value_col
from .goals import gross_value, where_mask
from . import records as rec
from . import trails
from .compile import BOOL, NUM, STR, Col
from .numbers import Num

ZERO = Decimal(0)


def settle_comparison_goal(run: Run, goal: m.Goal) -> None:
    L, gi = run.L, run.goal_index[goal.id]
    comp = goal.comparison
    measure = L.measures[comp.measure]
    groups = {comp.treated: "intervention", comp.control: "control"}
    people = L.persons.filter(where_mask(run, goal.where, "persons"))
    people = L.with_values(people.with_columns(pl.col("person_id").alias("subject_id")), "persons",
                           {(measure.id, p) for p in measure.points})
    parts = []
    for cid, start in L.cohorts.sort("cohort").select("cohort", "start").iter_rows():
        if start > run.as_of:
            continue
        members = {}
        for name, group in groups.items():
            sel = (pl.col("cohort") == cid) & (pl.col("group") == group)
            if group == "intervention":
                sel = sel & pl.col("counting")
            members[name] = people.filter(sel).sort("person_id")
        _flag_unobserved(run, goal, cid, start, members, measure)
        lets = {let.name: let.expr for let in goal.lets}
        cache: dict = {}
        read: set = set()

        def resolve(name, at_point, tr, members=members, cache=cache, read=read, lets=lets):
            if name in lets:
                key = ("let", name, at_point)
                if key not in cache:
                    cache[key] = evaluate(lets[name], scope, at_point)
                    if tr is not None:
                        tr.append({"kind": "value", "name": name, "expr": run.text(lets[name]),
                                   "value": show(cache[key]), "point": at_point})
                return cache[key]
            if name in members:
                key = ("group", name, at_point)
                if key not in cache:
                    read.add((name, at_point))
                    values = members[name][value_col(measure.id, at_point)].drop_nulls()
                    scale = L.scales.get(measure.id, 0)
                    cache[key] = (_settled(Fraction(int(values.sum()), values.len() * 10 ** scale))
                                  if values.len() else MISSING)
                    if tr is not None:
                        tr.append(_Raw(_member_reads(members[name], measure, at_point, scale)))
                        tr.append({"kind": "compute", "name": f"{name} mean at {at_point}",
                                   "expr": f"mean of {values.len()} observed {measure.id} of {members[name].height} "
                                           f"{name} subjects",
                                   "value": show(cache[key]), "point": at_point,
                                   "facts": {"group": name, "point": at_point, "measure": measure.id,
                                             "observed": values.len(), "subjects": members[name].height}})
                return cache[key]
            raise KeyError(name)

        scope = Scope(resolve, None, run.tables, run.roundings, three_valued=goal.three_valued)
        traced = run.traces(goal) and (run.only is None or run.only[1] == cid)
        subject = {"kind": "subject", "subject": cid, "level": "cohort", "household": None,
                   "detail": f"cohort {cid} started {start}; " + ", ".join(
                       f"{v.height} {k} subjects" for k, v in members.items()),
                   "facts": {"cohort": cid, "cohort_start": start.isoformat(),
                             "groups": [{"group": k, "subjects": v.height} for k, v in members.items()]}}
        for j, point in enumerate(goal.points):
            date = _point_date(run, point, start)
            if not _due(run, date):
                exclusions.one(run, (gi, 0, cid, "", j), {
                    "goal": goal.id, "subject": cid, "point": point, "reason": "not_due",
                    "detail": f"{point} of cohort {cid} falls on {date}",
                    "facts": {"point": point, "cohort": cid, "date": date.isoformat()}})
                continue
            scope.point = point
            if traced:  # the interpreter evaluates each point afresh, and its trail reads every group again
                cache.clear()
                scope.trace = trace = [subject]
            try:
                value = evaluate(goal.outcome, scope)
            except DivisionByZero as exc:  # a group mean of zero to divide by: the point pays nothing
                value = MISSING
                if traced:
                    text = run.text(exc.expr)
                    trace.append({"kind": "note", "text": f"{text} divides by zero; this point pays nothing",
                                  "code": "division_by_zero", "facts": {"cohort": cid, "point": point, "expr": text}})
            else:
                if traced:
                    trace.append({"kind": "note", "text": "a group had no observed subject; this point pays nothing",
                                  "code": "no_group_mean", "facts": {"cohort": cid, "point": point}}
                                 if value is MISSING else
                                 {"kind": "value", "name": "outcome", "expr": run.text(goal.outcome),
                                  "value": show(Decimal(int(value)) if isinstance(value, bool) else value),
                                  "point": point})
            value = ZERO if value is MISSING else (Decimal(int(value)) if isinstance(value, bool) else value)
            try:
                rate = _rate(run, goal, scope)
            except DivisionByZero as exc:
                text = run.text(exc.expr)
                exclusions.one(run, (gi, 0, cid, "", j), {
                    "goal": goal.id, "subject": cid, "point": point, "reason": "division_by_zero",
                    "detail": f"the price has no value: {text} divides by zero", "facts": {"in": "price", "expr": text}})
                continue
            if rate is MISSING:
                text = run.text(goal.rate.amount)
                exclusions.one(run, (gi, 0, cid, "", j), {
                    "goal": goal.id, "subject": cid, "point": point, "reason": "rate_missing",
                    "detail": f"the price '{text}' reads a value that is missing for this subject",
                    "facts": {"price": text}})
                continue
            frac = Fraction(value)
            trail = None
            if traced:
                if type(goal.rate.amount) is not m.Quantity:
                    trace.append({"kind": "value", "name": "rate", "expr": run.text(goal.rate.amount),
                                  "value": show(rate), "point": point})
                trail = ",".join([*(x.text if isinstance(x, _Raw) else trails.json_text(x) for x in trace
                                    if not (isinstance(x, _Raw) and not x.text)),
                                  trails.payment_texts(goal, value, rate, run.line_rounding)])
            parts.append({"goal": goal.id, "goal_index": gi, "k1": cid, "k2": "", "point_index": j, "subject": cid,
                          "point": point, "date": date, "payer": goal.payer, "num": frac.numerator,
                          "den": frac.denominator, "gross": gross_value(value, rate, run.line_rounding),
                          "imputed": False, "household": None, "trail": trail})
        for name, at_point in read:
            lines = members[name][line_col(measure.id, at_point)].drop_nulls()
            run.used.append(lines.rename("line"))
    if parts:
        from .goals import LINE_SCHEMA
        run.line_frames.append(pl.DataFrame(parts, schema=LINE_SCHEMA))


class _Raw:
    """Steps already written as JSON text (a group's reads, made over columns), in a trail of dicts."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


def _member_reads(members: pl.DataFrame, measure: m.Measure, point: str, scale: int) -> str:
    """The input (or missing) step of each member of a group at a point, in member order, as JSON texts."""
    frame = members.with_columns(rec.text(members, pl.col("person_id")).alias(trails.SUBJECT))
    value = pl.col(value_col(measure.id, point))
    if measure.kind == "boolean":
        col = Col(BOOL, value)
    elif measure.kind in ("integer", "decimal"):
        col = Col(NUM, num=Num(value, scale))
    else:
        col = Col(STR, value)
    t = trails.Trail(None)
    t.read(measure.id, point, pl.lit(True), col, pl.col(line_col(measure.id, point)))
    return frame.select(trails.joined(t.steps).alias("s"))["s"].str.join(",").item()


def _rate(run: Run, goal: m.Goal, scope: Scope):
    amount = goal.rate.amount
    if type(amount) is m.Quantity:
        return amount.value
    value = evaluate(amount, scope)
    return value if value is MISSING else (Decimal(int(value)) if isinstance(value, bool) else value)


def _point_date(run: Run, point: str, start):
    from ..expressions import shift
    p = run.contract.point(point)
    base = start if p.anchor == "start" else (run.L.intervention_end or start)
    return shift(base, p.offset) if p.offset is not None else base


def _due(run: Run, date) -> bool:
    return date <= run.as_of and (run.L.data_end is None or date <= run.L.data_end)


def _flag_unobserved(run: Run, goal: m.Goal, cid: str, start, members: dict, measure: m.Measure) -> None:
    """Flag each due point of the compared measure at which a group has no observed subject (LEDGER.md)."""
    for point in measure.points:
        if _due(run, _point_date(run, point, start)) and any(
                frame[value_col(measure.id, point)].drop_nulls().len() == 0 for frame in members.values()):
            run.raise_flag("no_observations", cid, goal.clause, {"goal": goal.id, "cohort": cid, "point": point},
                           f"cohort {cid} at {point}: a group mean could not be formed; nothing is paid",
                           note_code="no_observations_cohort", facts={"goal": goal.id, "cohort": cid, "point": point})
