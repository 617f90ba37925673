"""The interpreter's flags, figures and metrics: contract-level values, each with its trail.

`Results` is a part of `evaluate._Settler` (a mixin): it reads the settler's ledger, lines and
helpers, and records flags (`raise_flag`, `evaluate_flags`), figures (`figure`), metrics (`metric`)
and the named values the goals read (`named_value`).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction

from . import model as m
from . import returns
from .check import figure_units
from .explain import rule_step
from .expressions import (MISSING, EvalError, Scope, arith, cell_value, divide, evaluate_condition, exact_sum,
                          figure_result, mean, metric_result, named_once, round_decimal, show)

ZERO = Decimal(0)
HUNDRED = Decimal(100)




def _observed_value(obs):
    """A ledger observation as an expression value: integers become Decimal; booleans, enums and decimals stay."""
    return Decimal(obs.value) if isinstance(obs.value, int) and not isinstance(obs.value, bool) else obs.value


def _number(value) -> Decimal | Fraction:
    if isinstance(value, bool):
        return Decimal(1) if value else ZERO
    if isinstance(value, (Decimal, Fraction)):
        return value
    raise EvalError(f"an outcome must be a number or true/false, not {show(value)}")


def _only_point(measure: m.Measure) -> str:
    if len(measure.points) != 1:
        raise EvalError(f"the measure '{measure.id}' is taken at {', '.join(measure.points)}; say which with @point")
    return measure.points[0]


def _expr_text(settler, expr) -> str:
    """The source text of an expression, cut from the contract once per expression (traces repeat it per line)."""
    if id(expr) not in settler.expr_texts:
        settler.expr_texts[id(expr)] = _source_text(settler, expr)
    return settler.expr_texts[id(expr)]


def _source_text(settler, expr) -> str:
    span = getattr(expr, "span", None)
    return span.cut(settler.source_lines) if span is not None and settler.source_lines else ""


class Results:
    """Flags, figures and metrics of a settlement (mixed into `_Settler`)."""

    # ---- flags ---------------------------------------------------------------------
    def raise_flag(self, fid, subject, clause, details, text, title=None, trace=None, note_code=None, facts=None):
        note = {"kind": "note", "text": text}
        if note_code is not None:   # an engine flag: its note as a code and facts, for reports in any language
            note.update(code=note_code, facts=facts or {})
        self.flags.append({"id": fid, "title": title, "clause": clause, "subject": subject, "details": details,
                           "trace": trace if trace is not None else [note]})

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
            for this, h in items:
                trace = [rule_step("flag", flag)]
                details: dict = {}

                def resolve(name, point, tr, h=h, this=this):
                    if name == "this":
                        return this
                    if h is not None:
                        return self.read(name, h, None, point, tr)
                    if name in self.named:
                        return self.named_value(name, tr)
                    raise KeyError(name)

                scope = Scope(resolve, None, self.tables, self.roundings, count=self._count(details, this),
                              deviation=self._deviation(details), trace=trace)
                value = evaluate_condition(flag.when, scope)
                if value is not MISSING and value:
                    trace.append({"kind": "flag", "flag": flag.id, "condition": _expr_text(self, flag.when),
                                  "value": "true", "details": {k: show(v) for k, v in details.items()}})
                    self.raise_flag(flag.id, this, flag.clause, {k: show(v) for k, v in details.items()},
                                    "", title=flag.title, trace=trace)

    def _count(self, details, this):
        """`count(households|persons where …)`: over the intervention households started by the settlement date."""
        def count(expr: m.Count, scope):
            n = 0
            for h in self.households.values():
                if h.group != "intervention":
                    continue
                people = [self.L.persons[p] for p in self.L.members.get(h.id, [])] if expr.level == "persons" else [None]
                for person in people:
                    inner = Scope(lambda name, p, tr, h=h, person=person:
                                  this if name == "this" else self.read(name, h, person, p, None),
                                  None, self.tables, self.roundings)
                    v = evaluate_condition(expr.where, inner)
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
            if len(expr.args) == 4:  # the contract names the total to divide by (a printed total, say)
                total_expected = evaluate_condition(expr.args[3], scope)
                if total_expected is MISSING:
                    return MISSING
            else:
                total_expected = exact_sum(v for v in expected.values() if v is not MISSING)
            realised: dict[str, int] = defaultdict(int)
            n = 0
            for sid, h, person in self.subjects(goal, record=False):
                if self.eligible(goal, sid, h, person) and self.point_due(at.point, h, sid, at.expr.name, None):
                    v = self.measure_value(sid, at.expr.name, at.point, None)
                    if v is not MISSING:
                        realised[v] += 1
                        n += 1
            worst, worst_key = ZERO, None
            for key, exp in expected.items():
                exp_share = divide(exp, total_expected) if total_expected else ZERO
                real_share = divide(Decimal(realised.get(key, 0)), Decimal(n)) if n else ZERO
                gap = abs(arith("-", real_share, exp_share))
                if gap > worst:
                    worst, worst_key = gap, key
            worst_pp = round_decimal(arith("*", worst, HUNDRED), 2, "half_even")
            details.update({"observed": Decimal(n), "expected_total": total_expected, "largest_deviation_pp": worst_pp,
                            "category": worst_key or "-"})
            return worst if n else MISSING  # a fraction, like `5 percentage_points` in the condition
        return deviation

    # ---- figures and metrics ----------------------------------------------------------
    def named_value(self, name: str, tr):
        """The value of a figure, or of a metric (its share as a fraction); computed once, traced where used."""
        def compute(name):
            x = self.named[name]
            return self.metric(x) if isinstance(x, m.Metric) else self.figure(x)
        return named_once(name, self.named_results, self._named_busy, compute, tr)

    def contract_scope(self, trace) -> Scope:
        """Names in a figure: other figures and metrics; `count`, `total` and `mean` read the ledger."""
        def resolve(name, point, tr):
            if name in self.named:
                return self.named_value(name, tr)
            raise KeyError(name)

        return Scope(resolve, None, self.tables, self.roundings, count=self._count({}, None),
                     aggregate=self._aggregate, trace=trace, returns=self._returns)

    def _returns(self, func: str, party: str, tr):
        """irr(party) or multiple(party), from its cash flows (`returns`): the instalments it invests and its
        shares of the lines, settled by now; missing where there is none (nothing invested, no change of sign)."""
        flows = returns.cash_flows(self.c, self.lines, party)
        value = returns.irr(flows) if func == "irr" else returns.multiple(flows)
        if tr is not None:
            shown = "; ".join(f"{day.isoformat()} {show(v)}" for day, v in flows) or "none"
            tr.append({"kind": "value", "name": f"{func}({party})", "value": "missing" if value is None else show(value),
                       "expr": f"{'IRR in per cent a year' if func == 'irr' else 'repaid / invested'} of the cash "
                               f"flows of {party}: {shown}"})
        return MISSING if value is None else value

    def figure(self, f: m.Figure) -> dict:
        if self.figure_units is None:
            self.figure_units = figure_units(self.c)
        scope = self.contract_scope([rule_step("figure", f)] if self.trace else None)
        return figure_result(f, scope, lambda e: _expr_text(self, e), self.figure_units.get(f.id))

    def counting_subjects(self, level: str):
        """(subject id, household, person|None) of the counting intervention households, in id order."""
        for hid in sorted(self.counting):
            if not self.counting[hid][0]:
                continue
            h = self.households[hid]
            if level in ("persons", "person"):
                for pid in sorted(self.L.members.get(hid, [])):
                    yield pid, h, self.L.persons[pid]
            else:
                yield hid, h, None

    def metric(self, mt: m.Metric) -> dict:
        trace = [rule_step("metric", mt)] if self.trace else None
        subjects = met = 0
        missing: list[str] = []
        for sid, h, person in self.counting_subjects(mt.level):
            def resolve(name, point, tr, h=h, person=person):
                return self.read(name, h, person, point, None)

            scope = Scope(resolve, None, self.tables, self.roundings)
            if mt.where is not None:
                v = evaluate_condition(mt.where, scope)
                if v is MISSING or not v:
                    continue
            v = evaluate_condition(mt.share, scope)
            if v is MISSING:
                missing.append(sid)
                continue
            subjects += 1
            met += bool(v)
        return metric_result(mt, met, subjects, missing, self.roundings, trace)

    def _aggregate(self, func: str, arg, point, trace):
        """`total(measure)` / `mean(measure)`: over the observed values of the counting intervention subjects."""
        if isinstance(arg, m.At):
            arg, point = arg.expr, arg.point
        measure = self.measures[arg.name]
        point = point or _only_point(measure)
        values, lines = [], []
        for sid, h, person in self.counting_subjects(measure.level):
            obs = self.L.values.get((sid, measure.id, point))
            if obs is None or not self.due(self.point_date(point, h.start, h.end)):
                continue
            self.used_rows.add(obs.line)
            values.append(_number(_observed_value(obs)))
            lines.append(obs.line)
        total = exact_sum(values)
        value = total if func == "total" else (mean(values) if values else MISSING)
        if trace is not None:
            trace.append({"kind": "aggregate", "func": func, "measure": measure.id, "point": point,
                          "observations": len(values), "file": "measurements.csv", "lines": lines,
                          "value": show(value)})
        return value

