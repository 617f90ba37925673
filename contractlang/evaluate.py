"""evaluate: a contract and a ledger → the settlement document (see docs/settlement-json.md).

One computation, traced: every amount is computed once, and the steps that made
it are recorded as it is computed. The explainer and the reports only render
that record. Pass `trace=False` to skip the record when only totals are wanted.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import defaultdict
from decimal import Decimal

from . import model as m
from .expressions import MISSING, Scope, add_months, age_at, cell_value, evaluate, round_decimal, show
from .gc_tuning import bulk_allocation
from .ledger import Ledger

CENT = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


def money(value: Decimal) -> str:
    """An amount as a decimal string with two places (the document's money format)."""
    return str(value.quantize(CENT))


class _Settler:
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
        self.counting = {hid: self._counts(h) for hid, h in self.households.items() if h.group == "intervention"}
        self.source_lines = (contract.source or "").splitlines()
        self.expr_texts: dict[int, str] = {}  # id(expression) -> its source text; the contract outlives the settler

    # ---- who counts, when points fall --------------------------------------------
    def _counts(self, h) -> tuple[bool, str]:
        prog = self.c.programme
        ends = [self.as_of] + ([prog.intervention_end] if prog else []) + ([h.end] if h.end else [])
        stay_end = min(ends)
        needed = add_months(h.start, self.min_stay_months)
        if stay_end >= needed:
            return True, f"started {h.start}; stay reached {self.min_stay_months} months on {needed}"
        return False, (f"started {h.start}; stay ended {stay_end} before reaching "
                       f"{self.min_stay_months} months ({needed})")

    def point_date(self, point_id: str, start: dt.date, end: dt.date | None) -> dt.date:
        p = self.points[point_id]
        if p.anchor == "start":
            base = start
        else:
            base = end or (self.c.programme.intervention_end if self.c.programme else start)
        if p.offset is not None:
            base = add_months(base, int(p.offset.value))
        return base

    def due(self, date: dt.date) -> bool:
        return date <= self.as_of and (self.data_end is None or date <= self.data_end)

    def goal_text(self, node) -> str:
        if node.span is None or not self.source_lines:
            return ""
        return "\n".join(self.source_lines[node.span.line - 1:(node.span.end_line or node.span.line)])

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
                                                "reason": "not_counting", "detail": f"household {hid} {why}"})
                    continue
                yield sid, h, self.L.persons.get(sid)

    def attribute(self, name: str, h, person):
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
        return obs.value if not isinstance(obs.value, int) or isinstance(obs.value, bool) else Decimal(obs.value)

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

    def subject_scope(self, goal: m.Goal, sid: str, h, person, point: str, trace) -> Scope:
        lets = {let.name for let in goal.lets}
        cache: dict = {}

        def resolve(name, at_point, tr):
            if name in lets:
                return self.let_value(goal, cache, lambda: scope, name, at_point, tr)
            if name in self.measures:
                return self.measure_value(sid, name, at_point, tr)
            return self.attribute(name, h, person)

        def previous(measure, at_point, default, tr):
            points = self.measures[measure].points
            earlier = points[:points.index(at_point)] if at_point in points else ()
            for p in reversed(earlier):
                v = self.measure_value(sid, measure, p, tr)
                if v is not MISSING:
                    if tr is not None:
                        tr.append({"kind": "value", "name": f"previous({measure})", "value": show(v),
                                   "expr": f"latest observed {measure} before {at_point}: at {p}", "point": at_point})
                    return v
            if tr is not None:
                tr.append({"kind": "value", "name": f"previous({measure})", "value": str(default),
                           "expr": f"no {measure} observed before {at_point}; the default applies", "point": at_point})
            return default

        scope = Scope(resolve, point, self.tables, self.roundings, previous=previous, trace=trace)
        return scope

    def eligible(self, goal: m.Goal, sid, h, person) -> bool:
        if goal.where is None:
            return True
        scope = Scope(lambda n, p, t: self.attribute(n, h, person), None, self.tables, self.roundings)
        v = evaluate(goal.where, scope)
        return v is not MISSING and bool(v)

    def settle_subject_goal(self, goal: m.Goal):
        observed: dict[str, list[Decimal]] = defaultdict(list)
        pending = []
        rule_step = {"kind": "rule", "goal": goal.id, "clause": goal.clause, "text": self.goal_text(goal)}
        for sid, h, person in self.subjects(goal):
            if not self.eligible(goal, sid, h, person):
                self.exclusions.append({"goal": goal.id, "subject": sid, "point": None, "reason": "not_eligible",
                                        "detail": _eligibility_detail(self, goal, h, person)})
                continue
            for point in goal.points:
                date = self.point_date(point, h.start, h.end)
                if not self.due(date):
                    self.exclusions.append({"goal": goal.id, "subject": sid, "point": point, "reason": "not_due",
                                            "detail": f"{point} falls on {date}, after {min(self.as_of, self.data_end or self.as_of)}"})
                    continue
                trace = [rule_step, {"kind": "subject", "subject": sid, "level": goal.level, "household": h.id,
                                     "detail": self.counting[h.id][1] + _age_note(self, h, person)}] if self.trace else None
                scope = self.subject_scope(goal, sid, h, person, point, trace)
                value = evaluate(goal.outcome, scope)
                scope.resolve = None  # resolve refers back to scope (lets): unlink, so both are freed now, not by the GC
                if value is not MISSING:
                    value = _number(value)
                    observed[point].append(value)
                    if trace is not None:
                        trace.append({"kind": "value", "name": "outcome", "expr": _expr_text(self, goal.outcome),
                                      "value": show(value), "point": point})
                pending.append((sid, h, point, date, value, trace))
        # The mean of the observed outcomes at each point, formed once every subject is evaluated.
        means = {point: sum(values, ZERO) / len(values) for point, values in observed.items() if values}
        for sid, h, point, date, value, trace in pending:
            imputed = False
            if value is MISSING:
                value, imputed = self.impute(goal, sid, h, point, date, observed[point], means.get(point), trace)
                if value is None:
                    continue
            self.add_line(goal, sid, point, date, value, imputed, trace)

    def impute(self, goal, sid, h, point, date, observed, observed_mean, trace):
        rule = goal.missing
        ended = h.end is not None and h.end <= date
        reason = (f"household {h.id} ended ({h.end_reason}) on {h.end}, before the point ({date})" if ended
                  else "no measurement row for a due point")
        replaced = self.household_attribute("replaced", h)
        exemption = None
        if rule is not None and rule.exempt == "replaced":
            exemption = (f"household replaced by {self.L.replaced_by.get(h.id)} (no correction)" if replaced
                         else "household not replaced: the exemption does not apply")
        if rule is None or rule.method in ("none", "observed only") or (rule.exempt == "replaced" and replaced):
            why = "replaced_no_correction" if replaced and rule and rule.exempt == "replaced" else "missing_not_replaced"
            self.exclusions.append({"goal": goal.id, "subject": sid, "point": point, "reason": why,
                                    "detail": reason + (f"; {exemption}" if exemption else "")})
            return None, False
        if rule.method == "zero":
            mean, n = ZERO, len(observed)
        elif observed:
            mean, n = observed_mean, len(observed)
        else:
            mean, n = ZERO, 0
            self.raise_flag("no_observations", None, goal.clause, {"goal": goal.id, "point": point},
                            f"no subject observed for {goal.id} at {point}; imputed 0")
        self.imputed[goal.id] = self.imputed.get(goal.id, 0) + 1
        if trace is not None:
            trace.append({"kind": "impute", "reason": reason, "mean": show(mean), "observations": n,
                          "method": rule.method, "exemption": exemption, "clause": rule.clause, "point": point})
        return mean, True

    # ---- comparison goals --------------------------------------------------------
    def settle_comparison_goal(self, goal: m.Goal):
        comp = goal.comparison
        rule_step = {"kind": "rule", "goal": goal.id, "clause": goal.clause, "text": self.goal_text(goal)}
        groups = {comp.treated: "intervention", comp.control: "control"}
        for cid in sorted(self.L.cohorts):
            start = self.L.cohorts[cid][0]
            if start > self.as_of:
                continue
            members = {name: self.cohort_members(goal, cid, group) for name, group in groups.items()}
            for point in goal.points:
                date = self.point_date(point, start, None)
                if not self.due(date):
                    self.exclusions.append({"goal": goal.id, "subject": cid, "point": point, "reason": "not_due",
                                            "detail": f"{point} of cohort {cid} falls on {date}"})
                    continue
                trace = [rule_step, {"kind": "subject", "subject": cid, "level": "cohort", "household": None,
                                     "detail": f"cohort {cid} started {start}; " + ", ".join(
                                         f"{len(v)} {k} subjects" for k, v in members.items())}] if self.trace else None
                scope = self.cohort_scope(goal, cid, members, point, trace)
                value = evaluate(goal.outcome, scope)
                if value is MISSING:
                    self.raise_flag("no_observations", cid, goal.clause, {"goal": goal.id, "cohort": cid, "point": point},
                                    f"cohort {cid} at {point}: a group mean could not be formed; nothing is paid")
                    if trace is not None:
                        trace.append({"kind": "note", "text": "a group had no observed subject (or a zero mean to "
                                                              "divide by); this point pays nothing"})
                    value = ZERO
                else:
                    value = _number(value)
                    if trace is not None:
                        trace.append({"kind": "value", "name": "outcome", "expr": _expr_text(self, goal.outcome),
                                      "value": show(value), "point": point})
                self.add_line(goal, cid, point, date, value, False, trace)

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
        measure = goal.comparison.measure

        def resolve(name, at_point, tr):
            if name in lets:
                return self.let_value(goal, cache, lambda: scope, name, at_point, tr)
            if name in members:
                key = ("group", name, at_point)
                if key not in cache:
                    values = []
                    for pid in members[name]:
                        v = self.measure_value(pid, measure, at_point, tr)
                        if v is not MISSING:
                            values.append(v)
                    cache[key] = sum(values, ZERO) / len(values) if values else MISSING
                    if tr is not None:
                        tr.append({"kind": "compute", "name": f"{name} mean at {at_point}",
                                   "expr": f"mean of {len(values)} observed {measure} of {len(members[name])} {name} subjects",
                                   "value": show(cache[key]), "point": at_point})
                return cache[key]
            raise KeyError(name)

        scope = Scope(resolve, point, self.tables, self.roundings, trace=trace)
        return scope

    # ---- lines, caps, pool -----------------------------------------------------------
    def line_rounding(self) -> m.Rounding:
        return self.roundings.get("line") or m.Rounding(id="line", places=2, mode="half_up")

    def add_line(self, goal, subject, point, date, outcome, imputed, trace):
        rate = goal.rate.amount.value
        exact = outcome * rate
        r = self.line_rounding()
        gross = round_decimal(exact, r.places, r.mode)
        if trace is not None:
            exact_text, gross_text = show(exact), money(gross)
            trace.append({"kind": "payment", "outcome": show(outcome), "rate": money(rate), "per": goal.rate.per,
                          "exact": exact_text, "value": gross_text})
            trace.append({"kind": "round", "rule": r.id, "places": r.places, "mode": r.mode, "before": exact_text,
                          "after": gross_text, "clause": r.clause})
        self.lines.append({"id": f"{goal.id}/{subject}/{point}", "goal": goal.id, "subject": subject, "point": point,
                           "date": date, "payer": goal.payer, "outcome": outcome, "gross": gross,
                           "imputed": imputed, "trace": trace})

    def apply_caps_and_pool(self):
        order = {g.id: i for i, g in enumerate(self.c.goals)}
        self.lines.sort(key=lambda ln: (ln["date"], order[ln["goal"]], ln["subject"]))
        caps = {cap.goal: cap for cap in self.c.caps}
        running: dict = defaultdict(Decimal)
        rc = self.c.return_cap
        rc_running = ZERO
        self.return_cap_cut = ZERO
        self.goal_cap_cut: dict[str, Decimal] = defaultdict(Decimal)
        pool = ZERO
        tranches = self.c.tranches
        for ln in self.lines:
            amount = ln["gross"]
            tr = ln["trace"]
            cap = caps.get(ln["goal"])
            if cap is not None:
                key = (cap.goal, _cap_period(cap, ln["date"]))
                limit = cap.amount.value
                after = max(ZERO, min(amount, limit - running[key]))
                if tr is not None:
                    tr.append({"kind": "cap", "cap": cap.goal, "limit": money(limit), "running_before": money(running[key]),
                               "before": money(amount), "after": money(after), "clause": cap.clause,
                               "period": key[1]})
                running[key] += after
                self.goal_cap_cut[ln["goal"]] += amount - after
                amount = after
            ln["after_goal_cap"] = amount
            if rc is not None and ln["payer"] == rc.payer and ln["goal"] in rc.goals:
                after = max(ZERO, min(amount, rc.amount.value - rc_running))
                if tr is not None:
                    tr.append({"kind": "cap", "cap": "return", "limit": money(rc.amount.value),
                               "running_before": money(rc_running), "before": money(amount), "after": money(after),
                               "clause": rc.clause})
                rc_running += after
                self.return_cap_cut += amount - after
                amount = after
            ln["amount"] = amount
            ln["cut"] = amount != ln["gross"]
            ln["tranche"], ln["split"] = self.split(pool, amount, tr)
            pool += amount

    def split(self, pool_before: Decimal, amount: Decimal, trace):
        t = self.c.tranches
        if t is None:
            return [], {self._single_recipient(): amount} if amount else {}
        rule = self.roundings.get(t.rounding) or m.Rounding(id=t.rounding, places=2, mode="half_up")
        parts, total = [], defaultdict(Decimal)
        lower = ZERO
        left, position = amount, pool_before
        for tranche in t.tranches:
            upper = tranche.until.value if tranche.until is not None else None
            if upper is not None and position >= upper:
                lower = upper
                continue
            portion = left if upper is None else min(left, upper - position)
            if portion <= 0 and left > 0:
                lower = upper
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

    def _single_recipient(self) -> str:
        funders = [p.id for p in self.c.parties if p.role == "funder"]
        return funders[0] if funders else "recipient"

    # ---- flags ---------------------------------------------------------------------
    def raise_flag(self, fid, subject, clause, details, text, title=None, trace=None):
        self.flags.append({"id": fid, "title": title, "clause": clause, "subject": subject, "details": details,
                           "trace": trace if trace is not None else [{"kind": "note", "text": text}]})

    def evaluate_flags(self):
        for flag in self.c.flags:
            if flag.on is not None and flag.on > self.as_of:
                continue
            if flag.for_each == "cohort":
                items = [(cid, None) for cid in sorted(self.L.cohorts) if self.L.cohorts[cid][0] <= self.as_of]
            elif flag.for_each == "household":
                items = [(hid, self.households[hid]) for hid in sorted(self.households)
                         if self.households[hid].group == "intervention"]
            else:
                items = [(None, None)]
            text = self.goal_text(flag)
            for this, h in items:
                trace = [{"kind": "rule", "goal": None, "clause": flag.clause, "text": text}]
                details: dict = {}

                def resolve(name, point, tr, h=h, this=this):
                    if name == "this":
                        return this
                    if h is not None:
                        return self.household_attribute(name, h)
                    raise KeyError(name)

                scope = Scope(resolve, None, self.tables, self.roundings, count=self._count(details, this),
                              deviation=self._deviation(details), trace=trace)
                value = evaluate(flag.when, scope)
                if value is not MISSING and value:
                    trace.append({"kind": "flag", "flag": flag.id, "condition": _expr_text(self, flag.when),
                                  "value": "true", "details": {k: show(v) for k, v in details.items()}})
                    self.raise_flag(flag.id, this, flag.clause, {k: show(v) for k, v in details.items()},
                                    "", title=flag.title, trace=trace)

    def _count(self, details, this):
        def count(expr: m.Count, scope):
            n = 0
            for h in self.households.values():
                if h.group != "intervention":
                    continue
                inner = Scope(lambda name, p, tr, h=h: this if name == "this" else self.household_attribute(name, h),
                              None, self.tables, self.roundings)
                v = evaluate(expr.where, inner)
                if v is not MISSING and v:
                    n += 1
            details["count"] = Decimal(n)
            return Decimal(n)
        return count

    def _deviation(self, details):
        def deviation(expr: m.Call, scope):
            goal = self.c.goal(expr.args[0].name)
            at = expr.args[1]
            col = expr.args[2]
            table = self.tables[col.table]
            index = next(i for i, c in enumerate(table.columns) if c.id == col.column)
            expected = {r.id: cell_value(r.cells[index]) for r in table.rows if r.kind == "row"}
            total_expected = sum((v for v in expected.values() if v is not MISSING), ZERO)
            realised: dict[str, int] = defaultdict(int)
            n = 0
            for sid, h, person in self.subjects(goal, record=False):
                if self.eligible(goal, sid, h, person):
                    v = self.measure_value(sid, at.expr.name, at.point, None)
                    if v is not MISSING:
                        realised[v] += 1
                        n += 1
            worst, worst_key = ZERO, None
            for key, exp in expected.items():
                exp_share = exp / total_expected * HUNDRED if total_expected else ZERO
                real_share = Decimal(realised.get(key, 0)) / n * HUNDRED if n else ZERO
                if abs(real_share - exp_share) > worst:
                    worst, worst_key = abs(real_share - exp_share), key
            details.update({"observed": Decimal(n), "largest_deviation_pp": worst.quantize(Decimal("0.01")), "category": worst_key or "-"})
            return worst if n else MISSING
        return deviation

    # ---- the whole settlement ----------------------------------------------------------
    def run(self) -> dict:
        for goal in self.c.goals:
            if goal.comparison is not None:
                self.settle_comparison_goal(goal)
            else:
                self.settle_subject_goal(goal)
        self.apply_caps_and_pool()
        self.evaluate_flags()
        return self.document()

    def document(self) -> dict:
        from .explain import build_document
        return build_document(self)


def _number(value) -> Decimal:
    if isinstance(value, bool):
        return Decimal(1) if value else ZERO
    if isinstance(value, Decimal):
        return value
    raise TypeError(f"an outcome must be a number or true/false, not {value!r}")


def _cap_period(cap: m.Cap, date: dt.date):
    if cap.per in ("year", "years"):
        return str(date.year)
    return None


def _expr_text(settler: _Settler, expr) -> str:
    """The source text of an expression, cut from the contract once per expression (traces repeat it per line)."""
    if id(expr) not in settler.expr_texts:
        settler.expr_texts[id(expr)] = _source_text(settler, expr)
    return settler.expr_texts[id(expr)]


def _source_text(settler: _Settler, expr) -> str:
    span = getattr(expr, "span", None)
    if span is None or not settler.source_lines or span.end_line is None:
        return ""
    lines = settler.source_lines[span.line - 1:span.end_line]
    if not lines:
        return ""
    if len(lines) == 1:
        return lines[0][span.column - 1:span.end_column - 1]
    lines[0] = lines[0][span.column - 1:]
    lines[-1] = lines[-1][:span.end_column - 1]
    return " ".join(x.strip() for x in lines)


def _age_note(settler, h, person) -> str:
    if person is None:
        return ""
    return f"; age {age_at(person.birth, h.start)} at the household's start"


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
        return _Settler(contract, ledger, as_of, trace).run()


__all__ = ["settle", "money"]
