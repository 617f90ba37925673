"""Flags, figures and metrics: what a settlement reports besides payments.

Counts, shares, totals and means over subjects are computed over columns; the few
contract-level expressions around them (a flag's condition, a figure's arithmetic) are
evaluated once each by the expression interpreter.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from .. import model as m
from ..check import figure_units
from ..expressions import (MISSING, EvalError, Scope, shift, arith, cell_value, divide, evaluate_condition,
                           exact_sum, figure_result, mean, metric_result, named_once, round_decimal, show)
from .compile import Compiler, Unsupported, const, line_reads
from ..explain import rule_step
from .context import Run
from .frames import HOUSEHOLD_ATTRIBUTES, line_col, value_col
from .goals import attributes, where_mask
from .numbers import to_value

ZERO, HUNDRED = Decimal(0), Decimal(100)


def due_mask(run: Run):
    """Whether a point has fallen by the settlement date, per row of a frame of subjects (`start`, `end`)."""
    return lambda point: run.L.due(run.L.point_date(point, pl.col("start"), pl.col("end")))


def point_date(run: Run, point: str, start, end):
    """A point's date for one household (as `evaluate._Settler.point_date`)."""
    p = run.contract.point(point)
    base = start if p.anchor == "start" else (end or run.L.intervention_end or start)
    return shift(base, p.offset) if p.offset is not None else base


class Results:
    """Named values (figures and metrics, computed once on first use) and flags."""

    def __init__(self, run: Run):
        self.run = run
        self.named = {x.id: x for x in (*run.contract.figures, *run.contract.metrics)}
        self.results: dict[str, dict] = {}
        self._busy: set[str] = set()
        self._units = None
        run.named_value = self.value
        run.results = self

    # ---- figures and metrics ------------------------------------------------------------
    def value(self, name: str, tr=None):
        """The value of a figure, or of a metric (its share as a fraction); None if `name` is neither."""
        if name not in self.named:
            return None
        def compute(name):
            x = self.named[name]
            return self.metric(x) if isinstance(x, m.Metric) else self.figure(x)
        return named_once(name, self.results, self._busy, compute, tr)

    def _resolve_named(self, name, point, tr):
        if name in self.named:
            return self.value(name, tr)
        raise KeyError(name)

    def _rule(self, kind: str, node) -> list | None:
        """A figure's or metric's trail, begun with its rule (None: the settlement has no trails)."""
        if not self.run.trails:
            return None
        return [rule_step(kind, node)]

    def figure(self, f: m.Figure) -> dict:
        scope = Scope(self._resolve_named, None, self.run.tables, self.run.roundings, count=self.count({}, None),
                      aggregate=self.aggregate, trace=self._rule("figure", f))
        if self._units is None:
            self._units = figure_units(self.run.contract)
        return figure_result(f, scope, self.run.text, self._units.get(f.id))

    def metric(self, mt: m.Metric) -> dict:
        run = self.run
        frame = run.L.subjects(mt.level).filter(pl.col("counting"))
        compiler = Compiler(run.contract, run.L.scales, named=self.value, attributes=attributes(mt.level),
                            level=mt.level, due=due_mask(run))
        where = compiler.compile(mt.where, None).column.fill_null(False) if mt.where is not None else pl.lit(True)
        share = compiler.compile(mt.share, None, where)
        frame = run.L.with_values(frame, mt.level, compiler.needed).with_columns(
            where.alias("_where"), share.column.alias("_share"))
        run.used.append(line_reads(frame, compiler.reads))
        counted = frame.filter(pl.col("_where"))
        missing = counted.filter(pl.col("_share").is_null()).sort("household_id", "subject_id")["subject_id"].to_list()
        present = counted.filter(pl.col("_share").is_not_null())
        subjects = present.height
        met = int(present.select((pl.col("_share").cast(pl.Boolean) if share.kind != "bool" else pl.col("_share"))
                                 .sum()).item() or 0) if subjects else 0
        return metric_result(mt, met, subjects, missing, run.roundings, self._rule("metric", mt))

    # ---- ledger aggregates in expressions --------------------------------------------------
    def count(self, details: dict, this):
        """`count(households|persons where …)` over the intervention households started by the settlement date."""
        run = self.run

        def count(expr: m.Count, scope):
            level = "persons" if expr.level == "persons" else "households"
            frame = run.L.subjects(level).filter(pl.col("group") == "intervention")
            names = {"this": const(this)} if this is not None else {}
            compiler = Compiler(run.contract, run.L.scales, named=self.value, names=names,
                                attributes=attributes(level), level=level, due=due_mask(run))
            cond = compiler.compile(expr.where, None)
            frame = run.L.with_values(frame, level, compiler.needed)
            run.used.append(line_reads(frame, compiler.reads))
            n = Decimal(int(frame.select(cond.column.fill_null(False).sum()).item()))
            details["count"] = n
            return n
        return count

    def deviation(self, details: dict):
        run = self.run

        def deviation(expr: m.Call, scope):
            goal = run.contract.goal(expr.args[0].name)
            at, col = expr.args[1], expr.args[2]
            table = run.tables[col.table]
            index = next(i for i, c in enumerate(table.columns) if c.id == col.column)
            expected = {r.id: cell_value(r.cells[index]) for r in table.rows if r.kind == "row"}
            if len(expr.args) == 4:
                total_expected = evaluate_condition(expr.args[3], scope)
                if total_expected is MISSING:
                    return MISSING
            else:
                total_expected = exact_sum(v for v in expected.values() if v is not MISSING)
            frame = run.L.subjects(goal.level).filter(
                (pl.col("group") == "intervention") & pl.col("counting") & where_mask(run, goal.where, goal.level))
            frame = run.L.with_values(frame, goal.level, {(at.expr.name, at.point)}).filter(due_mask(run)(at.point))
            values = frame[value_col(at.expr.name, at.point)].drop_nulls()
            run.used.append(frame[line_col(at.expr.name, at.point)].drop_nulls().rename("line"))
            realised = dict(values.value_counts().iter_rows())
            n = values.len()
            worst, worst_key = ZERO, None
            for key, exp in expected.items():
                exp_share = divide(exp, total_expected) if total_expected else ZERO
                real_share = divide(Decimal(realised.get(key, 0)), Decimal(n)) if n else ZERO
                gap = abs(arith("-", real_share, exp_share))
                if gap > worst:
                    worst, worst_key = gap, key
            worst_pp = round_decimal(arith("*", worst, HUNDRED), 2, "half_even")
            details.update({"observed": Decimal(n), "expected_total": total_expected,
                            "largest_deviation_pp": worst_pp, "category": worst_key or "-"})
            return worst if n else MISSING
        return deviation

    def aggregate(self, func: str, arg, point, trace):
        """`total(measure)` / `mean(measure)` over the observed values of the counting intervention subjects."""
        run = self.run
        if isinstance(arg, m.At):
            arg, point = arg.expr, arg.point
        measure = run.L.measures[arg.name]
        if point is None:
            if len(measure.points) != 1:
                raise EvalError(f"the measure '{measure.id}' is taken at {', '.join(measure.points)}; "
                                "say which with @point")
            point = measure.points[0]
        level = "persons" if measure.level == "person" else "households"
        frame = run.L.subjects(level).filter(pl.col("counting"))
        frame = run.L.with_values(frame, level, {(measure.id, point)}).filter(due_mask(run)(point))
        values = frame[value_col(measure.id, point)].drop_nulls()
        run.used.append(frame[line_col(measure.id, point)].drop_nulls().rename("line"))
        scale = run.L.scales.get(measure.id, 0)
        if measure.kind == "boolean":
            numbers = [Decimal(int(v)) for v in values.to_list()]
        else:
            numbers = [to_value(v, scale) for v in values.to_list()]
        total = exact_sum(numbers)
        value = total if func == "total" else (mean(numbers) if numbers else MISSING)
        if trace is not None:
            lines = frame.sort("household_id", "subject_id")[line_col(measure.id, point)].drop_nulls().to_list()
            trace.append({"kind": "aggregate", "func": func, "measure": measure.id, "point": point,
                          "observations": len(numbers), "file": "measurements.csv", "lines": lines,
                          "value": show(value)})
        return value

    # ---- flags ----------------------------------------------------------------------------
    def flags(self) -> None:
        run = self.run
        for flag in run.contract.flags:
            if flag.on is not None and flag.on > run.as_of:
                continue
            if flag.for_each == "household":
                self._household_flag(flag)
                continue
            if flag.for_each == "cohort":
                items = [cid for cid, start in run.L.cohorts.sort("cohort").select("cohort", "start").iter_rows()
                         if start <= run.as_of]
            else:
                items = [None]
            for this in items:
                self._evaluate_flag(flag, this, None)

    def _evaluate_flag(self, flag: m.Flag, this, row: dict | None) -> None:
        run = self.run
        trace = [rule_step("flag", flag)]
        details: dict = {}

        def resolve(name, point, tr):
            if name == "this":
                return this
            if row is not None:
                return _row_value(run, row, name, point, tr, self)
            if name in self.named:
                return self.value(name, tr)
            raise KeyError(name)

        scope = Scope(resolve, None, run.tables, run.roundings, count=self.count(details, this),
                      deviation=self.deviation(details), trace=trace)
        value = evaluate_condition(flag.when, scope)
        if value is not MISSING and value:
            shown = {k: show(v) for k, v in details.items()}
            trace.append({"kind": "flag", "flag": flag.id, "condition": run.text(flag.when), "value": "true",
                          "details": shown})
            run.raise_flag(flag.id, this, flag.clause, shown, "", title=flag.title, trace=trace)

    def _household_flag(self, flag: m.Flag) -> None:
        """A flag for each intervention household: its condition over columns, the trail for those it holds for."""
        run = self.run
        frame = run.L.households.filter(pl.col("group") == "intervention").with_columns(
            pl.col("household_id").alias("subject_id"))
        compiler = Compiler(run.contract, run.L.scales, named=self.value, attributes=HOUSEHOLD_ATTRIBUTES,
                            level="households", due=due_mask(run))
        try:
            cond = compiler.compile(flag.when, None)
        except Unsupported:
            cond = None
        if cond is None or cond.kind != "bool":  # each household by the interpreter, on every household measure
            needed = {(ms.id, p) for ms in run.contract.measures if ms.level == "household" for p in ms.points}
            for row in run.L.with_values(frame, "households", needed).iter_rows(named=True):
                self._evaluate_flag(flag, row["household_id"], row)
            return
        frame = run.L.with_values(frame, "households", compiler.needed)
        run.used.append(line_reads(frame, compiler.reads))
        for row in frame.filter(cond.column.fill_null(False)).iter_rows(named=True):
            self._evaluate_flag(flag, row["household_id"], row)


def _row_value(run: Run, row: dict, name: str, point, tr, results: Results):
    """A name read for one household of a frame row: a household measure, a figure or metric, or an attribute."""
    ms = run.L.measures.get(name)
    if ms is not None:
        point = point or (ms.points[0] if len(ms.points) == 1 else None)
        if point is None:
            raise EvalError(f"the measure '{name}' is taken at {', '.join(ms.points)}; say which with @point")
        date = point_date(run, point, row["start"], row["end"])
        if not (date <= run.as_of and (run.L.data_end is None or date <= run.L.data_end)):
            if tr is not None:
                tr.append({"kind": "missing", "subject": row["household_id"], "measure": name, "point": point,
                           "facts": {"date": date.isoformat(), "limit": run.L.limit.isoformat()}})
            return MISSING
        raw, line = row.get(value_col(name, point)), row.get(line_col(name, point))
        if raw is None:
            if tr is not None:
                tr.append({"kind": "missing", "subject": row["household_id"], "measure": name, "point": point})
            return MISSING
        value = raw if ms.kind in ("enum", "boolean") else to_value(raw, run.L.scales.get(name, 0))
        run.used.append(pl.Series("line", [line], dtype=pl.Int64))
        if tr is not None:
            tr.append({"kind": "input", "file": "measurements.csv", "line": line, "subject": row["household_id"],
                       "measure": name, "point": point, "value": show(value)})
        return value
    if name in results.named:
        return results.value(name, tr)
    key = f"@{name}"
    if key in row:
        v = row[key]
        if v is None:
            return MISSING
        return Decimal(v) if isinstance(v, int) and not isinstance(v, bool) else v
    raise KeyError(name)

