"""evaluate: a contract and a ledger → the settlement document (see docs/settlement-json.md).

One computation, traced: every amount is computed once, and the steps that made
it are recorded as it is computed. The explainer and the reports only render
that record. Pass `trace=False` to skip the record when only totals are wanted.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import Counter, defaultdict
from decimal import Decimal

from . import evaluate_order
from . import model as m
from .expressions import (MISSING, DivisionByZero, EvalError, Scope, add_months, shift, age_at, arith, divide, evaluate,
                          evaluate_condition, exact_sum, mean, money, price, round_decimal, show)
from .explain import rule_step
from .periods import period_of
from .ledger import Ledger, bulk_allocation
from .trace import assumed
from .vocabulary import POOLED
from .evaluate_results import HUNDRED, ZERO, Results, _expr_text, _number, _observed_value, _only_point


ONE = Decimal(1)

class Running:
    """The running totals of the caps (per cap and period), the return cap and the pool, line after line."""

    def __init__(self):
        self.caps: dict[tuple, Decimal] = defaultdict(Decimal)   # (cap's goal or payer, per, period) -> let through
        self.rc = ZERO              # what the return cap let through
        self.pool = ZERO            # the pool before the next line
        self.goal_cap_cut: dict[str, Decimal] = defaultdict(Decimal)
        self.return_cap_cut = ZERO


class _Settler(Results):
    """Holds the inputs and the running state of one settlement."""

    def __init__(self, contract: m.Contract, ledger: Ledger, as_of: dt.date | None, trace: bool):
        self.c = contract
        self.L = ledger
        prog = contract.programme
        self.data_end = prog.data_collection_end if prog else None
        self.as_of = as_of or self.data_end or (prog.intervention_end if prog else dt.date.today())
        self.trace = trace
        self.tables = {t.id: t for t in contract.tables}
        self.roundings = {r.id: r for r in contract.roundings}
        self.points = {p.id: p for p in contract.points}
        self.measures = {ms.id: ms for ms in contract.measures}
        self.used_rows: set[int] = set()
        self.flags: list[dict] = []
        self.exclusions: list[dict] = []
        self.lines: list[dict] = []
        self.imputed: dict[str, int] = {}
        min_stay = prog.minimum_stay.value if prog and prog.minimum_stay else ZERO
        self.min_stay_months = int(min_stay)
        # Households that exist at the settlement date.
        self.households = {h.id: h for h in ledger.households.values() if h.start <= self.as_of}
        self.stay_facts: dict[str, dict] = {}   # per household: the facts of `counting`'s prose (filled by _counts)
        self.counting = {hid: self._counts(h) for hid, h in self.households.items() if h.group == "intervention"}
        self.source_lines = (contract.source or "").splitlines()
        # Figures and metrics: contract-level values, computed once on first use.
        self.named = {x.id: x for x in (*contract.figures, *contract.metrics)}
        self.named_results: dict[str, dict] = {}
        self._named_busy: set[str] = set()
        self.figure_units: dict[str, str | None] | None = None  # how each figure reads (check.figure_units), on first use
        self.expr_texts: dict[int, str] = {}  # id(expression) -> its source text; the contract outlives the settler
        self.caps_of: dict[int, dict] = {}  # id(version of the contract) -> its caps by owner (caps_by_owner)

    # ---- who counts, when points fall --------------------------------------------
    def _counts(self, h) -> tuple[bool, str]:
        prog = self.c.programme
        ends = [self.as_of] + ([prog.intervention_end] if prog else []) + ([h.end] if h.end else [])
        stay_end = min(ends)
        needed = add_months(h.start, self.min_stay_months)
        if stay_end >= needed:
            self.stay_facts[h.id] = {"start": h.start.isoformat(), "stay_months": self.min_stay_months,
                                     "stay_reached": needed.isoformat()}
            return True, f"started {h.start}; stay reached {self.min_stay_months} months on {needed}"
        self.stay_facts[h.id] = {"start": h.start.isoformat(), "stay_months": self.min_stay_months,
                                 "stay_end": stay_end.isoformat(), "needed": needed.isoformat()}
        return False, (f"started {h.start}; stay ended {stay_end} before reaching "
                       f"{self.min_stay_months} months ({needed})")

    def point_date(self, point_id: str, start: dt.date, end: dt.date | None) -> dt.date:
        p = self.points[point_id]
        if p.anchor == "start":
            base = start
        else:
            base = end or (self.c.programme.intervention_end if self.c.programme else start)
        if p.offset is not None:
            base = shift(base, p.offset)
        return base

    def due(self, date: dt.date) -> bool:
        return date <= self.as_of and (self.data_end is None or date <= self.data_end)

    def expr_text(self, expr) -> str:
        return _expr_text(self, expr)

    # ---- per-subject goals ---------------------------------------------------------
    def subjects(self, goal: m.Goal, record: bool = True):
        """(subject id, household, person|None) of counting intervention households; others are recorded as excluded."""
        for hid in sorted(self.counting):
            h = self.households[hid]
            counts, why = self.counting[hid]
            ids = self.L.members.get(hid, []) if goal.level == "persons" else [hid]
            for sid in sorted(ids):
                if not counts:
                    if record:
                        self.exclusions.append({"goal": goal.id, "subject": sid, "point": None,
                                                "reason": "not_counting", "detail": f"household {hid} {why}",
                                                "facts": {"household": hid, **self.stay_facts[hid]}})
                    continue
                yield sid, h, self.L.persons.get(sid)

    def attribute(self, name: str, h, person):
        declared = self.L.attributes.get(name)
        if declared is not None:  # the contract's: a column of persons.csv or households.csv
            owner = person.id if declared.level == "person" else h.id
            value = self.L.attribute_values.get(owner, {}).get(name)
            return MISSING if value is None else Decimal(value) if type(value) is int else value
        if person is not None:
            if name == "age":
                return Decimal(age_at(person.birth, h.start))
            if name == "school_grade":
                return MISSING if person.grade is None else Decimal(person.grade)
        return self.household_attribute(name, h)

    def household_attribute(self, name: str, h):
        ended = h.end is not None and h.end <= self.as_of
        if name == "start_date":
            return h.start
        if name == "end_date":
            return h.end if ended else MISSING
        if name == "end_reason":
            return h.end_reason if ended else MISSING
        if name == "ended":
            return ended
        if name == "replaced":
            rid = self.L.replaced_by.get(h.id)
            return rid is not None and self.L.households[rid].start <= self.as_of
        if name == "cohort":
            return h.cohort or MISSING
        if name == "group":
            return h.group
        raise KeyError(name)

    def read(self, name: str, h, person, point, trace):
        """A name read for one household (or one of its members) outside a goal: a measure (at `point`,
        or at its only point), a figure or metric, or an attribute. KeyError: none of those (an enum value)."""
        measure = self.measures.get(name)
        if measure is not None:
            sid = person.id if measure.level == "person" and person is not None else h.id
            point = point or _only_point(measure)
            if not self.point_due(point, h, sid, name, trace):
                return MISSING
            return self.measure_value(sid, name, point, trace)
        if name in self.named:
            return self.named_value(name, trace)
        return self.attribute(name, h, person)

    def point_due(self, point: str, h, sid: str, measure: str, trace) -> bool:
        """Whether `point` has fallen for household `h` by the settlement date (as for a goal's line); a read
        outside a goal (count, total, mean, a metric, a flag) of a point not yet due is missing, and says so."""
        date = self.point_date(point, h.start, h.end)
        if self.due(date):
            return True
        if trace is not None:
            trace.append({"kind": "missing", "subject": sid, "measure": measure, "point": point,
                          "facts": {"date": date.isoformat(), "limit": min(self.as_of, self.data_end or self.as_of).isoformat()}})
        return False

    def measure_value(self, sid: str, measure: str, point: str, trace):
        obs = self.L.values.get((sid, measure, point))
        if obs is None:
            if trace is not None:
                trace.append({"kind": "missing", "subject": sid, "measure": measure, "point": point})
            return MISSING
        self.used_rows.add(obs.line)
        if trace is not None:
            trace.append({"kind": "input", "file": "measurements.csv", "line": obs.line, "subject": sid,
                          "measure": measure, "point": point, "value": show(obs.value)})
        return _observed_value(obs)

    def let_value(self, goal: m.Goal, cache: dict, scope_of, name: str, at_point: str, tr):
        """The value of a goal's `let` at a point, computed once per scope and traced the first time."""
        key = (name, at_point)
        if key not in cache:
            expr = next(let.expr for let in goal.lets if let.name == name)
            cache[key] = evaluate(expr, scope_of(), at_point)
            if tr is not None:
                tr.append({"kind": "value", "name": name, "expr": _expr_text(self, expr),
                           "value": show(cache[key]), "point": at_point})
        return cache[key]

    def subject_scope(self, goal: m.Goal, sid: str, h, person, point: str, trace,
                      evidence: list | None = None) -> Scope:
        """The names a subject's outcome reads at `point`; `evidence` collects the dates of the rows read at it."""
        lets = {let.name for let in goal.lets}
        cache: dict = {}

        def resolve(name, at_point, tr):
            if name in lets:
                return self.let_value(goal, cache, lambda: scope, name, at_point, tr)
            if name in self.measures:
                if evidence is not None and at_point == point:
                    obs = self.L.values.get((sid, name, at_point))
                    if obs is not None and obs.date is not None:
                        evidence.append(obs.date)
                return self.measure_value(sid, name, at_point, tr)
            if name in self.named:
                return self.named_value(name, tr)
            return self.attribute(name, h, person)

        def previous(measure, at_point, default, tr):
            points = self.measures[measure].points
            earlier = points[:points.index(at_point)] if at_point in points else ()
            for p in reversed(earlier):
                v = self.measure_value(sid, measure, p, tr)
                if v is not MISSING:
                    if tr is not None:
                        tr.append({"kind": "value", "name": f"previous({measure})", "value": show(v),
                                   "expr": f"latest observed {measure} before {at_point}: at {p}", "point": at_point,
                                   "facts": {"measure": measure, "before": at_point, "observed_at": p}})
                    return v
            if tr is not None:
                tr.append({"kind": "value", "name": f"previous({measure})", "value": str(default),
                           "expr": f"no {measure} observed before {at_point}; the default applies", "point": at_point,
                           "facts": {"measure": measure, "before": at_point, "observed_at": None}})
            return default

        scope = Scope(resolve, point, self.tables, self.roundings, previous=previous, trace=trace,
                      three_valued=goal.three_valued)
        return scope

    def eligible(self, goal: m.Goal, sid, h, person) -> bool:
        if goal.where is None:
            return True
        scope = Scope(lambda n, p, t: self.attribute(n, h, person), None, self.tables, self.roundings)
        v = evaluate_condition(goal.where, scope)
        return v is not MISSING and bool(v)

    def settle_subject_goal(self, goal: m.Goal):
        observed: dict[str, list[Decimal]] = defaultdict(list)
        pending = []
        rule = rule_step("goal", goal)
        for sid, h, person in self.subjects(goal):
            if not self.eligible(goal, sid, h, person):
                self.exclusions.append({"goal": goal.id, "subject": sid, "point": None, "reason": "not_eligible",
                                        "detail": _eligibility_detail(self, goal, h, person),
                                        "facts": _eligibility_facts(self, goal, h, person)})
                continue
            for point in goal.points:
                date = self.point_date(point, h.start, h.end)
                if not self.due(date):
                    self.exclusions.append({"goal": goal.id, "subject": sid, "point": point, "reason": "not_due",
                                            "detail": f"{point} falls on {date}, after {min(self.as_of, self.data_end or self.as_of)}",
                                            "facts": {"point": point, "date": date.isoformat(),
                                                      "limit": min(self.as_of, self.data_end or self.as_of).isoformat()}})
                    continue
                trace = [rule, {"kind": "subject", "subject": sid, "level": goal.level, "household": h.id,
                                     "detail": self.counting[h.id][1] + _age_note(self, h, person),
                                     "facts": {**self.stay_facts[h.id], **_age_facts(h, person)}}] if self.trace else None
                evidence = [] if goal.dated_by_evidence else None
                scope = self.subject_scope(goal, sid, h, person, point, trace, evidence)
                try:
                    value = evaluate(goal.outcome, scope)
                except DivisionByZero as exc:  # no outcome, so no line: not imputed, not in the mean
                    self.exclusions.append(self.division_by_zero(goal, sid, point, "outcome", exc))
                    continue
                if evidence and value is not MISSING:  # a claim dated by its evidence: the latest row read
                    date = max(evidence)
                    if trace is not None:
                        trace.append({"kind": "value", "name": "date", "point": point, "value": date.isoformat(),
                                      "expr": f"dated by the evidence: the latest date of the rows read at {point}"})
                    if not self.due(date):
                        limit = min(self.as_of, self.data_end or self.as_of)
                        self.exclusions.append({"goal": goal.id, "subject": sid, "point": point, "reason": "not_due",
                                                "detail": f"its evidence is dated {date}, after {limit}",
                                                "facts": {"point": point, "date": date.isoformat(),
                                                          "limit": limit.isoformat(), "evidence": True}})
                        continue
                if value is not MISSING:
                    value = _number(value)
                    observed[point].append(value)
                    if trace is not None:
                        trace.append({"kind": "value", "name": "outcome", "expr": _expr_text(self, goal.outcome),
                                      "value": show(value), "point": point})
                pending.append((sid, h, point, date, value, trace, scope))
        # Per point, the mean of the observed outcomes and their count (what imputation reads), formed once
        # every subject is evaluated.
        stats = {point: (mean(values), len(values)) for point, values in observed.items() if values}
        for sid, h, point, date, value, trace, scope in pending:
            imputed = False
            if value is MISSING:
                observed_mean, n = stats.get(point, (None, 0))
                value, imputed = self.impute(goal, sid, h, point, date, n, observed_mean, trace)
            if value is not None:
                self.add_line(goal, sid, point, date, value, imputed, trace, scope)  # the price may read the scope
            scope.resolve = None  # resolve refers back to scope (lets): unlink, so both are freed by refcount, not the GC

    def impute(self, goal, sid, h, point, date, n: int, observed_mean, trace):
        """A missing outcome: the mean of the `n` observed outcomes at the point (`observed_mean`), or none."""
        rule = goal.missing
        ended = h.end is not None and h.end <= date
        reason = (f"household {h.id} ended ({h.end_reason}) on {h.end}, before the point ({date})" if ended
                  else "no measurement row for a due point")
        facts = ({"missing": "ended", "household": h.id, "end_reason": h.end_reason, "end": h.end.isoformat(),
                  "point_date": date.isoformat()} if ended else {"missing": "no_row"})
        replaced = self.household_attribute("replaced", h)
        exemption = None
        if rule is not None and rule.exempt == "replaced":
            exemption = (f"household replaced by {self.L.replaced_by.get(h.id)} (no correction)" if replaced
                         else "household not replaced: the exemption does not apply")
            facts.update({"exemption": "replaced", "replaced_by": self.L.replaced_by.get(h.id)} if replaced
                         else {"exemption": "not_replaced"})
        if rule is None or rule.method in ("none", "observed only") or (rule.exempt == "replaced" and replaced):
            why = "replaced_no_correction" if replaced and rule and rule.exempt == "replaced" else "missing_not_replaced"
            self.exclusions.append({"goal": goal.id, "subject": sid, "point": point, "reason": why,
                                    "detail": reason + (f"; {exemption}" if exemption else ""), "facts": facts})
            return None, False
        if rule.method == "zero":
            mean = ZERO
        elif n:
            mean = observed_mean
        else:
            mean, n = ZERO, 0
            self.raise_flag("no_observations", None, goal.clause, {"goal": goal.id, "point": point},
                            f"no subject observed for {goal.id} at {point}; imputed 0",
                            note_code="no_observations_imputed", facts={"goal": goal.id, "point": point})
        self.imputed[goal.id] = self.imputed.get(goal.id, 0) + 1
        if trace is not None:
            trace.append({"kind": "impute", "reason": reason, "mean": show(mean), "observations": n,
                          "method": rule.method, "exemption": exemption, "clause": rule.clause, "point": point,
                          "facts": facts})
        return mean, True

    # ---- comparison goals --------------------------------------------------------
    def settle_comparison_goal(self, goal: m.Goal):
        comp = goal.comparison
        rule = rule_step("goal", goal)
        groups = {comp.treated: "intervention", comp.control: "control"}
        cohorts = [(cid, self.L.cohorts[cid][0]) for cid in sorted(self.L.cohorts)
                   if self.L.cohorts[cid][0] <= self.as_of]
        members_of = {cid: {name: self.cohort_members(goal, cid, group) for name, group in groups.items()}
                      for cid, _ in cohorts}
        for cid, start in cohorts:
            self.flag_unobserved_cohort_points(goal, cid, start, members_of[cid])
        if not comp.pooled:
            for cid, start in cohorts:
                for point in goal.points:
                    date = self.point_date(point, start, None)
                    if not self.due(date):
                        self.exclusions.append({"goal": goal.id, "subject": cid, "point": point, "reason": "not_due",
                                                "detail": f"{point} of cohort {cid} falls on {date}",
                                                "facts": {"point": point, "cohort": cid, "date": date.isoformat()}})
                        continue
                    self.comparison_line(goal, rule, cid, start, members_of[cid], point, date)
            return
        for point in goal.points:  # pooled: one line for the subjects of every cohort whose point has fallen
            dates = {cid: self.point_date(point, start, None) for cid, start in cohorts}
            due = [(cid, start) for cid, start in cohorts if self.due(dates[cid])]
            if not due:
                if cohorts:
                    first = min(dates.values())
                    self.exclusions.append({"goal": goal.id, "subject": POOLED, "point": point, "reason": "not_due",
                                            "detail": f"{point} of the first cohort falls on {first}",
                                            "facts": {"point": point, "cohort": POOLED, "date": first.isoformat()}})
                continue
            members = {name: sorted(pid for cid, _ in due for pid in members_of[cid][name]) for name in groups}
            self.comparison_line(goal, rule, POOLED, min(start for _, start in due), members, point,
                                 max(dates[cid] for cid, _ in due))

    def comparison_line(self, goal: m.Goal, rule: dict, cid: str, start: dt.date, members: dict, point: str,
                        date: dt.date) -> None:
        """The line of a cohort (or of the cohorts pooled) at a point: the outcome of its groups' means."""
        trace = [rule, {"kind": "subject", "subject": cid, "level": "cohort", "household": None,
                        "detail": f"cohort {cid} started {start}; " + ", ".join(
                            f"{len(v)} {k} subjects" for k, v in members.items()),
                        "facts": {"cohort": cid, "cohort_start": start.isoformat(), "groups": [
                            {"group": k, "subjects": len(v)} for k, v in members.items()]}}] if self.trace else None
        scope = self.cohort_scope(goal, cid, members, point, trace)
        try:
            value = evaluate(goal.outcome, scope)
        except DivisionByZero as exc:  # a group mean of zero to divide by: the point pays nothing
            value = ZERO
            if trace is not None:
                text = _expr_text(self, exc.expr)
                trace.append({"kind": "note", "text": f"{text} divides by zero; this point pays nothing",
                              "code": "division_by_zero", "facts": {"cohort": cid, "point": point,
                                                                    "expr": text}})
        else:
            if value is MISSING:  # flagged above: a group had no observed subject
                if trace is not None:
                    trace.append({"kind": "note", "text": "a group had no observed subject; this point "
                                                          "pays nothing",
                                  "code": "no_group_mean", "facts": {"cohort": cid, "point": point}})
                value = ZERO
            else:
                value = _number(value)
                if trace is not None:
                    trace.append({"kind": "value", "name": "outcome", "expr": _expr_text(self, goal.outcome),
                                  "value": show(value), "point": point})
        self.add_line(goal, cid, point, date, value, False, trace, scope)

    def flag_unobserved_cohort_points(self, goal, cid, start, members) -> None:
        """Flag each due point of the compared measure at which a group has no observed subject.

        LEDGER.md: "a cohort point with no observed intervention or no observed control child pays
        nothing and raises a flag", the baseline as much as a paying point, once its date has passed.
        A mean of zero to divide by is not a missing observation: its line pays nothing and says why
        (a note `division_by_zero`).
        """
        comp = goal.comparison
        for point in self.measures[comp.measure].points:
            if self.due(self.point_date(point, start, None)) and any(
                    all((pid, comp.measure, point) not in self.L.values for pid in ids) for ids in members.values()):
                self.raise_flag("no_observations", cid, goal.clause, {"goal": goal.id, "cohort": cid, "point": point},
                                f"cohort {cid} at {point}: a group mean could not be formed; nothing is paid",
                                note_code="no_observations_cohort",
                                facts={"goal": goal.id, "cohort": cid, "point": point})

    def cohort_members(self, goal, cid, group):
        out = []
        for h in self.households.values():
            if h.cohort != cid or h.group != group:
                continue
            if group == "intervention" and not self.counting[h.id][0]:
                continue
            for pid in self.L.members.get(h.id, []):
                person = self.L.persons[pid]
                if self.eligible(goal, pid, h, person):
                    out.append(pid)
        return sorted(out)

    def cohort_scope(self, goal, cid, members, point, trace) -> Scope:
        lets = {let.name for let in goal.lets}
        cache: dict = {}
        measure, weight = goal.comparison.measure, goal.comparison.weight

        def resolve(name, at_point, tr):
            if name in lets:
                return self.let_value(goal, cache, lambda: scope, name, at_point, tr)
            if name in members:
                key = ("group", name, at_point)
                if key not in cache:
                    values, weights = [], []
                    for pid in members[name]:
                        v = self.measure_value(pid, measure, at_point, tr)
                        w = self.attribute(weight, None, self.L.persons[pid]) if weight else ONE
                        if v is not MISSING and w is not MISSING:
                            values.append(v)
                            weights.append(w)
                    cache[key] = _weighted_mean(values, weights) if values else MISSING
                    cache[("observed", name, at_point)] = len(values)
                    if tr is not None:
                        tr.append({"kind": "compute", "name": f"{name} mean at {at_point}",
                                   "expr": f"{'mean' if not weight else f'mean weighted by {weight}'} of {len(values)} "
                                           f"observed {measure} of {len(members[name])} {name} subjects",
                                   "value": show(cache[key]), "point": at_point,
                                   "facts": {"group": name, "point": at_point, "measure": measure,
                                             "observed": len(values), "subjects": len(members[name]),
                                             **({"weight": weight} if weight else {})}})
                return cache[key]
            raise KeyError(name)

        def size(name, at_point, tr):
            if name not in members:
                raise EvalError(f"size() counts a group of the comparison ({', '.join(members)}), not '{name}'")
            resolve(name, at_point, tr)  # the group's mean, and with it how many of its subjects were observed
            n = Decimal(cache[("observed", name, at_point)])
            if tr is not None:
                tr.append({"kind": "value", "name": f"size({name})", "point": at_point, "value": show(n),
                           "expr": f"{n} {name} subjects observed at {at_point}"})
            return n

        scope = Scope(resolve, point, self.tables, self.roundings, trace=trace, three_valued=goal.three_valued,
                      size=size)
        return scope

    # ---- lines, caps, pool -----------------------------------------------------------
    def line_rounding(self) -> m.Rounding:
        return self.roundings.get("line") or m.Rounding(id="line", places=2, mode="half_up")

    def round_line(self, exact: Decimal) -> Decimal:
        """A line's exact amount rounded by the contract's line rounding."""
        r = self.line_rounding()
        return round_decimal(exact, r.places, r.mode)

    def line_round_step(self, exact: Decimal, gross: Decimal) -> dict:
        """The trail's step of that rounding: the rule, the exact amount before and the line's amount after."""
        r = self.line_rounding()
        return {"kind": "round", "rule": r.id, "places": r.places, "mode": r.mode, "before": show(exact),
                "after": money(gross), "clause": r.clause}

    def rate_of(self, goal, subject, point, scope, trace):
        """The price of one unit of outcome: a plain amount, or a money expression read for this subject."""
        amount = goal.rate.amount
        if type(amount) is m.Quantity:
            return amount.value
        rate = evaluate(amount, scope)
        if rate is MISSING:
            return MISSING
        rate = _number(rate)
        if trace is not None:
            trace.append({"kind": "value", "name": "rate", "expr": _expr_text(self, amount), "value": show(rate),
                          "point": point})
        return rate

    def division_by_zero(self, goal, subject, point, what: str, exc: DivisionByZero) -> dict:
        """The exclusion of a line whose outcome or price divides by zero (docs/semantics.md)."""
        text = _expr_text(self, exc.expr)
        return {"goal": goal.id, "subject": subject, "point": point, "reason": "division_by_zero",
                "detail": f"the {what} has no value: {text} divides by zero", "facts": {"in": what, "expr": text}}

    def add_line(self, goal, subject, point, date, outcome, imputed, trace, scope):
        try:
            rate = self.rate_of(goal, subject, point, scope, trace)
        except DivisionByZero as exc:
            self.exclusions.append(self.division_by_zero(goal, subject, point, "price", exc))
            return
        if rate is MISSING:
            self.exclusions.append({"goal": goal.id, "subject": subject, "point": point, "reason": "rate_missing",
                                    "detail": f"the price '{_expr_text(self, goal.rate.amount)}' reads a value "
                                              "that is missing for this subject",
                                    "facts": {"price": _expr_text(self, goal.rate.amount)}})
            return
        line = {"id": f"{goal.id}/{subject}/{point}", "goal": goal.id, "subject": subject, "point": point,
                "date": date, "payer": goal.payer, "outcome": outcome, "gross": ZERO, "imputed": imputed, "trace": trace}
        self.lines.append(line)
        if goal.tiers is not None:  # priced with the goal's lines before it, in their order (`evaluate_order`)
            return
        exact = arith("*", outcome, rate)
        line["gross"] = gross = self.round_line(exact)
        if trace is not None:
            trace.append({"kind": "payment", "outcome": show(outcome), "rate": price(rate), "per": goal.rate.per,
                          "exact": show(exact), "value": money(gross)})
            trace.append(self.line_round_step(exact, gross))

    def apply_caps_and_pool(self):
        order = {g.id: i for i, g in enumerate(self.c.goals)}
        keys = {"date": lambda ln: ln["date"], "goal": lambda ln: order[ln["goal"]], "subject": lambda ln: ln["subject"]}
        by = [keys[k] for k in self.c.line_order()]
        self.lines.sort(key=lambda ln: tuple(k(ln) for k in by))  # stable: ties keep the order of evaluation
        evaluate_order.apply(self)  # tiers and links: what a line pays depends on the lines before it
        if any(g.shares for g in self.c.goals):
            self.lines = [part for ln in self.lines for part in self.payer_shares(ln)]
        state = Running()
        for ln in self.lines:
            self.cap(ln, state)
        floor = self.c.settlement.floor if self.c.settlement else None
        if floor is not None:
            self.apply_floor(floor)
        for ln in self.lines:
            ln["cut"] = ln["amount"] != ln["gross"]
            ln["tranche"], ln["split"] = self.split(state.pool, ln["amount"], ln["trace"], self.contract_of(ln))
            state.pool += ln["amount"]
        self.return_cap_cut = state.return_cap_cut
        self.goal_cap_cut = state.goal_cap_cut
        self.cap_running = state.caps

    def payer_shares(self, ln: dict) -> list[dict]:
        """A line of a goal with several payers as one line per payer (`goal/subject/point@payer`), each its share
        of the amount, rounded by the line rounding but the last payer's, which takes the rest; then each meets
        its own payer's caps. A line of a goal with one payer, as it is."""
        goal = self.c.goal(ln["goal"])
        if not goal.shares:
            return [ln]
        r, left, parts = self.line_rounding(), ln["gross"], []
        for k, share in enumerate(goal.shares):
            last = k == len(goal.shares) - 1
            part = left if last else round_decimal(ln["gross"] * share.percent.value / 100, r.places, r.mode)
            left -= part
            trace = None
            if ln["trace"] is not None:
                trace = [*ln["trace"], {"kind": "payer_share", "payer": share.party, "percent": show(share.percent.value),
                                        "of": money(ln["gross"]), "amount": money(part), "rest": last,
                                        "clause": goal.clause}]
            parts.append({**ln, "id": f"{ln['id']}@{share.party}", "payer": share.party, "gross": part, "trace": trace})
        return parts

    def contract_of(self, ln: dict) -> m.Contract:
        """The version of the contract whose caps, return cap and tranches a line meets: the contract itself
        (`_Versions` picks the version in force at the line's date)."""
        return self.c

    def caps_by_owner(self, c: m.Contract) -> dict[str, list[m.Cap]]:
        """The caps of each goal or payer of `c` (a version of the contract), in contract order."""
        caps = self.caps_of.get(id(c))
        if caps is None:
            caps = self.caps_of[id(c)] = defaultdict(list)
            for cap in c.caps:
                caps[cap.goal].append(cap)
        return caps

    def line_caps(self, ln: dict, caps: dict) -> list[tuple[m.Cap, tuple]]:
        """The caps a line meets, in order (its goal's, then its payer's), each with its running total's key."""
        return [(cap, (cap.goal, cap.per, _cap_period(cap, ln))) for cap in (*caps.get(ln["goal"], ()),
                                                                           *caps.get(ln["payer"], ()))]

    def cap(self, ln: dict, state: Running) -> None:
        """One line, in cap order, through its caps and the return cap; `state` holds the running totals before
        it and is moved past it. Sets the line's after_goal_cap and amount."""
        c = self.contract_of(ln)
        caps = self.caps_by_owner(c)
        rc = c.return_cap
        amount = ln["gross"]
        tr = ln["trace"]
        running = state.caps
        for cap, key in self.line_caps(ln, caps):
            limit = cap.amount.value
            after = _under_cap(amount, limit, running[key])
            if tr is not None:
                tr.append({"kind": "cap", "cap": cap.goal, "limit": money(limit), "running_before": money(running[key]),
                           "before": money(amount), "after": money(after), "clause": cap.clause,
                           **assumed(cap.amount), "period": key[2], "per": cap.per})
            running[key] += after
            state.goal_cap_cut[ln["goal"]] += amount - after
            amount = after
        ln["after_goal_cap"] = amount
        if rc is not None and ln["payer"] == rc.payer and ln["goal"] in rc.goals:
            after = _under_cap(amount, rc.amount.value, state.rc)
            if tr is not None:
                tr.append({"kind": "cap", "cap": "return", "limit": money(rc.amount.value),
                           "running_before": money(state.rc), "before": money(amount), "after": money(after),
                           "clause": rc.clause, **assumed(rc.amount)})
            state.rc += after
            state.return_cap_cut += amount - after
            amount = after
        ln["amount"] = amount

    def apply_floor(self, rule: str) -> None:
        """`floor per period zero|carried forward`: a payer's period whose lines add up to less than nothing (with
        what an earlier period carried into it) pays nothing — each of its lines is set to nothing — and the
        shortfall is forgiven (zero) or carried into the payer's next period (carried forward), whose lines it
        reduces, in their order, before they pay."""
        by: dict[tuple, list] = defaultdict(list)
        for ln in self.lines:
            by[(ln["payer"], period_of(ln["date"], self.c.settlement)[0])].append(ln)
        carry: dict[str, Decimal] = defaultdict(Decimal)  # payer -> the shortfall carried into its next period
        self.floor_cut = ZERO
        for payer, period in sorted(by):  # period names sort as the periods do
            lines = by[(payer, period)]
            carried_in = carry[payer]
            total = sum((ln["amount"] for ln in lines), ZERO) + carried_in
            if total < 0:
                changes = [(ln, ZERO) for ln in lines if ln["amount"] != 0]
                carry[payer] = total if rule == "carried forward" else ZERO
            else:
                changes, left = [], -carried_in
                for ln in lines:
                    if left > 0 and ln["amount"] > 0:
                        take = min(left, ln["amount"])
                        changes.append((ln, ln["amount"] - take))
                        left -= take
                carry[payer] = ZERO
            for ln, after in changes:
                self.floor_cut += ln["amount"] - after
                if ln["trace"] is not None:
                    ln["trace"].append({"kind": "floor", "rule": rule, "payer": payer, "period": period,
                                        "sum": money(total), "carried_in": money(carried_in), "before": money(ln["amount"]),
                                        "after": money(after), "clause": self.c.settlement.floor_clause})
                ln["amount"] = after

    def split(self, pool_before: Decimal, amount: Decimal, trace, c: m.Contract):
        t = c.tranches
        if t is None:
            return [], {c.single_recipient(): amount} if amount else {}
        rule = c.rounding(t.rounding) or m.Rounding(id=t.rounding, places=2, mode="half_up")
        parts, total = [], defaultdict(Decimal)
        left, position = amount, pool_before
        for tranche in t.tranches:
            upper = tranche.until.value if tranche.until is not None else None
            if upper is not None and position >= upper:
                continue
            portion = left if upper is None else min(left, upper - position)
            if portion <= 0 and left > 0:
                continue
            shares = {}
            for s in tranche.shares:
                if s.party != t.remainder:
                    shares[s.party] = round_decimal(portion * s.percent.value / HUNDRED, rule.places, rule.mode)
            shares[t.remainder] = portion - sum(shares.values(), ZERO)
            for party, v in shares.items():
                total[party] += v
            amount_text, split_text = money(portion), {p: money(v) for p, v in sorted(shares.items())}
            parts.append({"tranche": tranche.number, "amount": amount_text, "split": split_text})
            if trace is not None:
                trace.append({"kind": "tranche", "tranche": tranche.number, "amount": amount_text,
                              "pool_before": money(position), "until": money(upper) if upper is not None else None,
                              "shares": {s.party: show(s.percent.value) for s in tranche.shares},
                              "split": split_text,
                              "remainder": t.remainder, "rounding": rule.mode, "clause": t.clause})
            left -= portion
            position += portion
            if left <= 0:
                break
        return parts, dict(total)

    # ---- the whole settlement ----------------------------------------------------------
    def settle_goals(self) -> None:
        """Every goal's lines (before the caps)."""
        for goal in self.c.goals:
            if goal.comparison is not None:
                self.settle_comparison_goal(goal)
            else:
                self.settle_subject_goal(goal)

    def run(self) -> dict:
        self.settle_goals()
        self.apply_caps_and_pool()
        self.evaluate_flags()
        for x in self.named.values():
            self.named_value(x.id, None)
        return self.document()

    def document(self) -> dict:
        from .explain import build_document
        return build_document(self)


class _Versions(_Settler):
    """A contract with versions (`amends`): each line is settled by the version in force at its date — its goal's
    rule, price and imputation, then that version's caps, return cap and tranches, over running totals that go
    on across the versions. Flags, figures, metrics and the exclusions are the current version's."""

    def __init__(self, versions: list, ledger: Ledger, as_of: dt.date | None, trace: bool):
        super().__init__(versions[-1][0], ledger, as_of, trace)
        self.versions = versions
        self.starts = [start for _, start in versions]

    def version_at(self, day: dt.date) -> int:
        """The number (from 1) of the version in force on `day`."""
        return max(k for k, start in enumerate(self.starts, 1) if start is None or start <= day)

    def contract_of(self, ln: dict) -> m.Contract:
        return self.versions[ln["version"] - 1][0]

    def settle_goals(self) -> None:
        super().settle_goals()
        settlers = [_Settler(c, self.L, self.as_of, self.trace) for c, _ in self.versions[:-1]] + [self]
        chosen = []
        for k, settler in enumerate(settlers, 1):
            if settler is not self:
                settler.settle_goals()
                self.used_rows |= settler.used_rows
            for ln in settler.lines:
                if self.version_at(ln["date"]) == k:
                    ln["version"] = k
                    if ln["trace"] is not None:
                        ln["trace"][0] = {**ln["trace"][0], "version": k,
                                          **({"rule": f"{ln['trace'][0]['rule']}@v{k}"} if settler is not self else {})}
                    chosen.append(ln)
        self.lines = chosen
        self.imputed = dict(Counter(ln["goal"] for ln in chosen if ln["imputed"]))

    def document(self) -> dict:
        from .explain import declaration_text, display_path, sha256_text
        doc = super().document()
        for k, (c, _) in enumerate(self.versions[:-1], 1):
            doc["rules"].update({f"goal:{g.id}@v{k}": declaration_text(c, g) for g in c.goals})
        ends = self.starts[1:] + [None]
        doc["versions"] = [{"version": k, "path": display_path(c.path), "sha256": sha256_text(c.source or ""),
                            "from": start.isoformat() if start else None, "until": end.isoformat() if end else None}
                           for k, ((c, start), end) in enumerate(zip(self.versions, ends), 1)]
        return doc


def _weighted_mean(values: list, weights: list):
    """The mean of `values`, each counted by its weight (all weights 1: the plain mean)."""
    if all(w == 1 for w in weights):
        return mean(values)
    total = exact_sum(weights)
    if total == 0:  # no weight to count anyone by: as if no subject were observed
        return MISSING
    return divide(exact_sum([arith("*", v, w) for v, w in zip(values, weights)]), total)


def _under_cap(amount: Decimal, limit: Decimal, running: Decimal) -> Decimal:
    """What a cap lets through of a line, given what it has let through so far (docs/semantics.md, 7): a
    positive line is cut to what is left under the limit; a line of zero or less (a clawback) is never cut,
    and lowers the running total, so a cap limits the net sum and a cap that never binds changes nothing."""
    if amount <= 0:
        return amount
    return max(ZERO, min(amount, limit - running))


def _cap_period(cap: m.Cap, line: dict):
    """What a cap's running total is kept per: the whole contract (None), a calendar year, or one subject."""
    if cap.per in ("year", "years"):
        return str(line["date"].year)
    if cap.per == "subject":
        return line["subject"]
    return None


def _age_note(settler, h, person) -> str:
    if person is None:
        return ""
    return f"; age {age_at(person.birth, h.start)} at the household's start"


def _age_facts(h, person) -> dict:
    """The facts of `_age_note`: the person's age at the household's start."""
    return {} if person is None else {"age": age_at(person.birth, h.start)}


def _eligibility_facts(settler, goal, h, person) -> dict:
    """The facts of `_eligibility_detail`: the condition's text, for a person its age and school grade, and the
    subject's attributes the contract declares (`attributes`: name -> value as the ledger writes it, or null)."""
    cond = _expr_text(settler, goal.where)
    facts = {"condition": cond} if person is None else {"age": age_at(person.birth, h.start), "grade": person.grade,
                                                         "condition": cond}
    if settler.L.attributes:
        facts["attributes"] = {name: None if (v := settler.attribute(name, h, person)) is MISSING else show(v)
                               for name, a in settler.L.attributes.items() if a.level == "household" or person}
    return facts


def _eligibility_detail(settler, goal, h, person) -> str:
    cond = _expr_text(settler, goal.where)
    if person is None:
        return f"does not satisfy {cond}"
    grade = "none" if person.grade is None else person.grade
    return f"age {age_at(person.birth, h.start)} at start, school grade {grade}: does not satisfy {cond}"


def settle(contract: m.Contract, ledger: Ledger, as_of: dt.date | None = None, trace: bool = True) -> dict:
    """Evaluate `contract` against `ledger` as of a date; return the settlement document."""
    with decimal.localcontext() as ctx, bulk_allocation():
        ctx.prec = 50
        versions = contract.versions()
        if len(versions) > 1:
            return _Versions(versions, ledger, as_of, trace).run()
        return _Settler(contract, ledger, as_of, trace).run()


__all__ = ["settle", "money"]
