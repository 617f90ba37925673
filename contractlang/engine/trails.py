"""Audit trails over columns: each line's steps recorded as the engine computes them.

A trail step is the record `evaluate` writes for it (docs/settlement-json.md, "Trails");
here each step is a column of JSON texts, made from a template (`step`) whose holes are
column expressions, and present on a row only where a guard holds: the arm of a `match`
the row took, the earlier point a `previous()` found, the first use of a `let`. As the
compiler turns an expression into a column (`compile.Compiler`), a `Trail` records the
steps the row-by-row interpreter would record evaluating it for each row, in the same
order; a line's trail is then its row of those columns, joined. Nothing is computed
here that the compiled expression does not compute: the steps show its columns.

The texts are exactly the interpreter's (`tests/test_engine.py` holds every bundled
settlement with trails to the interpreter's bytes), so reports read either the same way.
"""

from __future__ import annotations

import re
from decimal import Decimal

import orjson
import polars as pl

from .. import model as m
from ..expressions import arith, cell_value, money, price, round_decimal, show
from .compile import BOOL, DATE, NUM, STR, Col
from .numbers import Num, fixed_text, number_text
from .records import date, iso, quoted
from .records import money as money_json
from ..trace import assumed

_SORTED = orjson.OPT_SORT_KEYS
_HOLE = "\x00hole{}\x00"
_HOLES = re.compile(r'"\\u0000hole(\d+)\\u0000"')


class Hole:
    """A place in a step template filled per row by a column of JSON texts (never null where the step is)."""

    __slots__ = ("expr",)

    def __init__(self, expr: pl.Expr):
        self.expr = expr


def step(fields: dict) -> pl.Expr:
    """The JSON text of a step (sorted keys, compact, as the document writer writes a dict), per row."""
    holes: list[pl.Expr] = []

    def mark(value):
        if isinstance(value, Hole):
            holes.append(value.expr)
            return _HOLE.format(len(holes) - 1)
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        return value

    text = orjson.dumps(mark(fields), option=_SORTED).decode()
    parts = _HOLES.split(text)
    pieces = [holes[int(p)] if i % 2 else pl.lit(p) for i, p in enumerate(parts) if i % 2 or p]
    return pieces[0] if len(pieces) == 1 else pl.concat_str(pieces)


def json_text(value) -> str:
    """A constant step (a dict) as its JSON text."""
    return orjson.dumps(value, option=_SORTED).decode()


def joined(parts: list[pl.Expr]) -> pl.Expr:
    """Steps joined by commas, leaving out those that are null on a row (null if all are)."""
    return pl.concat_str(parts, separator=",", ignore_nulls=True) if parts else pl.lit(None, dtype=pl.Utf8)


def shown(c: Col) -> pl.Expr:
    """A compiled value as the JSON string of `show(value)`: `"missing"` where it is null."""
    if c.kind == NUM:
        text = quoted(number_text(c.num))
    elif c.kind == BOOL:
        text = pl.when(c.expr).then(pl.lit('"true"')).otherwise(pl.lit('"false"'))
    elif c.kind == DATE:
        text = date(c.expr)
    elif c.kind == STR:
        text = quoted(c.expr)
    else:
        return pl.lit('"missing"')
    return pl.when(c.column.is_null()).then(pl.lit('"missing"')).otherwise(text)


#: The JSON text of each line's subject id (a column the goal's frame carries while a trail is recorded).
SUBJECT = "_jsubject"


class Trail:
    """The steps of one compiled expression (or several, sharing `let`s), as guarded columns in order."""

    def __init__(self, text, results=None):
        self.text = text                 # node -> its source text (`Run.text`)
        self.results = results           # the engine's figures and metrics (`results.Results`), for their steps
        self.steps: list[pl.Expr] = []   # each: a step's JSON text where the interpreter records it, else null
        self._let_done: dict[tuple[str, str | None], pl.Expr] = {}

    def add(self, guard: pl.Expr, text: pl.Expr) -> None:
        self.steps.append(pl.when(guard).then(text))

    def read(self, measure: str, point: str, cond: pl.Expr, value: Col, line: pl.Expr) -> None:
        """A measurement read: its input row, or that it is missing."""
        subject = Hole(pl.col(SUBJECT))
        self.add(cond & line.is_not_null(), step({
            "kind": "input", "file": "measurements.csv", "line": Hole(line.cast(pl.Utf8)), "subject": subject,
            "measure": measure, "point": point, "value": Hole(shown(value))}))
        self.add(cond & line.is_null(), step({"kind": "missing", "subject": subject, "measure": measure,
                                              "point": point}))

    def first_let(self, name: str, point, cond: pl.Expr) -> pl.Expr:
        """The rows on which a `let` is evaluated here for the first time at `point` (it is kept after)."""
        done = self._let_done.get((name, point))
        first = cond if done is None else cond & ~done
        self._let_done[name, point] = cond if done is None else done | cond
        return first

    def let(self, name: str, point, first: pl.Expr, expr, value: Col) -> None:
        self.add(first, step({"kind": "value", "name": name, "expr": self.text(expr), "value": Hole(shown(value)),
                              "point": point}))

    def named(self, name: str, cond: pl.Expr) -> None:
        result = self.results.results[name]
        self.add(cond, step({"kind": "value", "name": name, "expr": f"{result['kind']} {name}",
                             "value": result["value"]}))

    def lookup(self, expr: m.Lookup, table: m.Table, key, cond: pl.Expr) -> None:
        """A table cell read: one step per row of the table the key may name (a literal key: one step)."""
        index = next(i for i, c in enumerate(table.columns) if c.id == expr.column)

        def text(row: m.Row) -> str:
            label = row.label or row.id
            return json_text({"kind": "value", "name": f"{expr.table}.{expr.column}[{row.id}]",
                              "expr": f"table {table.id}, row {label}", "value": show(cell_value(row.cells[index])),
                              "facts": {"table": table.id, "column": expr.column, "key": row.id, "row": label}})
        if isinstance(key, str):
            row = next((r for r in table.rows if r.id == key), None)
            if row is not None:  # else the lookup is an error (the compiler's check)
                self.add(cond, pl.lit(text(row)))
            return
        mapping = {r.id: text(r) for r in table.rows}
        self.add(cond & key.expr.is_not_null(), key.expr.replace_strict(mapping, default=None, return_dtype=pl.Utf8))

    def rounded(self, rule: m.Rounding, point, cond: pl.Expr, before: Col, after: Num) -> None:
        self.add(cond & before.column.is_not_null(), step({
            "kind": "round", "rule": rule.id, "places": rule.places, "mode": rule.mode,
            "before": Hole(shown(before)), "after": Hole(quoted(fixed_text(after, rule.places))),
            "clause": rule.clause, "point": point}))

    def previous(self, measure: str, point, default, walks: list[tuple[str, pl.Expr, pl.Expr]],
                 rest: pl.Expr) -> None:
        """`previous(measure)` at `point`: `walks` are (earlier point, its read's condition, its value), latest
        first; `rest` is where none was observed and the default applies."""
        for p, cond, value in walks:
            self.add(cond & value.is_not_null(), step({
                "kind": "value", "name": f"previous({measure})", "value": Hole(quoted(value)),
                "expr": f"latest observed {measure} before {point}: at {p}", "point": point,
                "facts": {"measure": measure, "before": point, "observed_at": p}}))
        self.add(rest, step({
            "kind": "value", "name": f"previous({measure})", "value": str(default),
            "expr": f"no {measure} observed before {point}; the default applies", "point": point,
            "facts": {"measure": measure, "before": point, "observed_at": None}}))


# ---- the steps of a line around its outcome ------------------------------------------------------

def subject_step(level: str, min_stay: int) -> pl.Expr:
    """Who the line is for: the subject, its household and the household's stay (and a person's age)."""
    detail = [pl.lit("started "), iso(pl.col("start")), pl.lit(f"; stay reached {min_stay} months on "),
              iso(pl.col("stay_needed"))]
    facts = {"start": Hole(date(pl.col("start"))), "stay_months": min_stay,
             "stay_reached": Hole(date(pl.col("stay_needed")))}
    if level in ("persons", "person"):
        detail += [pl.lit("; age "), pl.col("@age").cast(pl.Utf8), pl.lit(" at the household's start")]
        facts["age"] = Hole(pl.col("@age").cast(pl.Utf8))
    return step({"kind": "subject", "subject": Hole(pl.col(SUBJECT)), "level": level,
                 "household": Hole(quoted(pl.col("household_id"))), "detail": Hole(quoted(pl.concat_str(detail))),
                 "facts": facts})


def outcome_step(text: str, point: str, outcome: Num) -> pl.Expr:
    return pl.when(outcome.expr.is_not_null()).then(step({
        "kind": "value", "name": "outcome", "expr": text, "value": Hole(quoted(number_text(outcome))),
        "point": point}))


def impute_step(rule: m.Missing, point: str, mean, n: int) -> pl.Expr:
    """The imputation of a missing outcome (on the rows `imputed`): why it is missing, and the mean put in."""
    reason_reason = pl.col("end_reason").fill_null("None")
    ended = pl.col("end").is_not_null() & (pl.col("end") <= pl.col("date"))
    exempt = rule.exempt == "replaced"
    common = {"kind": "impute", "mean": show(mean), "observations": n, "method": rule.method, "clause": rule.clause,
              "point": point,
              "exemption": "household not replaced: the exemption does not apply" if exempt else None}
    extra = {"exemption": "not_replaced"} if exempt else {}
    when_ended = step({**common, "reason": Hole(quoted(pl.concat_str([
        pl.lit("household "), pl.col("household_id"), pl.lit(" ended ("), reason_reason, pl.lit(") on "),
        iso(pl.col("end")), pl.lit(", before the point ("), iso(pl.col("date")), pl.lit(")")]))),
        "facts": {"missing": "ended", "household": Hole(quoted(pl.col("household_id"))),
                  "end_reason": Hole(quoted(pl.col("end_reason")).fill_null("null")),
                  "end": Hole(date(pl.col("end"))), "point_date": Hole(date(pl.col("date"))),
                  **extra}})
    otherwise = step({**common, "reason": "no measurement row for a due point",
                      "facts": {"missing": "no_row", **extra}})
    return pl.when(pl.col("imputed") & ended).then(when_ended).when(pl.col("imputed")).then(otherwise)


def payment_texts(goal: m.Goal, outcome, rate: Decimal, rounding: m.Rounding) -> str:
    """The payment and the line rounding of one outcome at one price (as `evaluate._Settler.add_line`)."""
    exact = arith("*", outcome, rate)
    gross = round_decimal(exact, rounding.places, rounding.mode)
    exact_text, gross_text = show(exact), money(gross)
    return (json_text({"kind": "payment", "outcome": show(outcome), "rate": price(rate), "per": goal.rate.per,
                       "exact": exact_text, "value": gross_text}) + "," +
            json_text({"kind": "round", "rule": rounding.id, "places": rounding.places, "mode": rounding.mode,
                       "before": exact_text, "after": gross_text, "clause": rounding.clause}))


# ---- caps and tranches, after the lines are ordered -------------------------------------------------

def cap_steps(contract: m.Contract, ordered: list[tuple[int, m.Cap]]) -> list[pl.Expr]:
    """The steps of each cap a line meets (`payments.caps_in_order`: goal's and payer's caps; then the return
    cap), from the columns `apply_caps` kept: `before:`, `in:` and `out:` of each cap."""
    out = []
    for k, cap in ordered:
        if cap.per in ("year", "years"):
            period = Hole(quoted(pl.col("date").dt.year().cast(pl.Utf8)))
        elif cap.per == "subject":
            period = Hole(quoted(pl.col("subject")))
        else:
            period = None
        out.append(pl.when(pl.col(f"before:{k}").is_not_null()).then(step({
            "kind": "cap", "cap": cap.goal, "limit": money(cap.amount.value),
            "running_before": Hole(money_json(pl.col(f"before:{k}"))),
            "before": Hole(money_json(pl.col(f"in:{k}"))), "after": Hole(money_json(pl.col(f"out:{k}"))),
            "clause": cap.clause, **assumed(cap.amount), "period": period, "per": cap.per})))
    rc = contract.return_cap
    if rc is not None:
        out.append(pl.when(pl.col("before:return").is_not_null()).then(step({
            "kind": "cap", "cap": "return", "limit": money(rc.amount.value),
            "running_before": Hole(money_json(pl.col("before:return"))),
            "before": Hole(money_json(pl.col("in:return"))),
            "after": Hole(money_json(pl.col("out:return"))), "clause": rc.clause, **assumed(rc.amount)})))
    return out


def tranche_steps(contract: m.Contract, rounding: m.Rounding, parties_of) -> list[pl.Expr]:
    """The steps of each tranche a line has a part in (`payments.split`'s columns `t{i}`, `t{i}:{party}`): the
    pool before the part, the tranche's shares and the part's split."""
    t = contract.tranches
    out = []
    position = pl.col("pool_before")
    for i, tranche in enumerate(t.tranches):
        split = {q: Hole(money_json(pl.col(f"t{i}:{q}"))) for q in sorted(parties_of(i))}
        out.append(pl.when(pl.col(f"t{i}").is_not_null()).then(step({
            "kind": "tranche", "tranche": tranche.number, "amount": Hole(money_json(pl.col(f"t{i}"))),
            "pool_before": Hole(money_json(position)),
            "until": money(tranche.until.value) if tranche.until is not None else None,
            "shares": {s.party: show(s.percent.value) for s in tranche.shares}, "split": split,
            "remainder": t.remainder, "rounding": rounding.mode, "clause": t.clause})))
        position = position + pl.col(f"t{i}").fill_null(0)
    return out


__all__ = ["Hole", "Trail", "step", "shown", "joined", "subject_step", "outcome_step", "impute_step",
           "payment_texts", "cap_steps", "tranche_steps", "SUBJECT", "json_text", "quoted", "number_text"]
