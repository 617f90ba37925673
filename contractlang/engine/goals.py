"""Goals paid per subject: who counts and is eligible, point dates and due-ness, the
outcome over columns, imputation of missing outcomes, and the price of each line."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import polars as pl

from .. import model as m
from ..expressions import EvalError, _settled, arith, round_decimal
from .compile import Compiler, Unsupported, as_num, line_reads
from . import exclusions
from . import records as rec
from . import trails
from .context import Run
from .frames import HOUSEHOLD_ATTRIBUTES, PERSON_ATTRIBUTES
from .numbers import INT, MONEY_SCALE, Num, literal, round_div, scaled

LINE_SCHEMA = {"goal": pl.Utf8, "goal_index": pl.Int32, "k1": pl.Utf8, "k2": pl.Utf8, "point_index": pl.Int32,
               "subject": pl.Utf8, "point": pl.Utf8, "date": pl.Date, "payer": pl.Utf8, "num": INT, "den": INT,
               "gross": INT, "imputed": pl.Boolean, "household": pl.Utf8, "trail": pl.Utf8}


def attributes(level: str) -> tuple[str, ...]:
    return (*PERSON_ATTRIBUTES, *HOUSEHOLD_ATTRIBUTES) if level in ("persons", "person") else HOUSEHOLD_ATTRIBUTES


def where_mask(run: Run, where, level: str) -> pl.Expr:
    """A goal's or metric's `where` over its subjects' attributes (a missing value is not eligible)."""
    if where is None:
        return pl.lit(True)
    compiler = Compiler(run.contract, run.L.scales, attributes=attributes(level), level=level)
    compiler.measures = {}  # eligibility reads attributes only (as the interpreter's `eligible`)
    col = compiler.compile(where, None)
    return col.column.fill_null(False)


class Price:
    """A goal's price: a constant, or a number column read for each line."""

    def __init__(self, run: Run, goal: m.Goal, compiler: Compiler, point: str):
        amount = goal.rate.amount
        self.constant: Decimal | None = None
        self.col: Num | None = None
        self.reads: list = []
        self.steps: list[pl.Expr] = []  # its trail steps, where the price is read per line
        if type(amount) is m.Quantity:
            self.constant = amount.value
        else:
            start, first_step = len(compiler.reads), len(compiler.trail.steps) if compiler.trail else 0
            self.col = as_num(compiler.compile(amount, point, pl.col("_line")))  # read only for the lines
            self.reads = compiler.reads[start:]
            del compiler.reads[start:]
            if compiler.trail is not None:
                self.steps = compiler.trail.steps[first_step:] + [pl.when(self.col.expr.is_not_null()).then(
                    trails.step({"kind": "value", "name": "rate", "expr": run.text(amount), "point": point,
                                 "value": trails.Hole(trails.quoted(trails.number_text(self.col)))}))]
                del compiler.trail.steps[first_step:]


def gross_expr(num: pl.Expr, den: pl.Expr, rate: Num, rounding: m.Rounding) -> pl.Expr:
    """round(num/den × rate) to the line rounding's places, in øre."""
    p = rounding.places
    if p > MONEY_SCALE:
        raise Unsupported("a line rounding finer than øre")
    n = num * rate.expr * pl.lit(10 ** p, dtype=INT)
    d = den * pl.lit(10 ** rate.scale, dtype=INT)
    return round_div(n, d, rounding.mode) * pl.lit(10 ** (MONEY_SCALE - p), dtype=INT)


def gross_value(value, rate: Decimal, rounding: m.Rounding) -> int:
    """round(value × rate) in øre, computed in Python for one value (an imputed mean, a cohort's outcome)."""
    return scaled(round_decimal(arith("*", value, rate), rounding.places, rounding.mode), MONEY_SCALE)


def settle_subject_goal(run: Run, goal: m.Goal) -> None:
    L, gi = run.L, run.goal_index[goal.id]
    subjects = L.subjects(goal.level).filter(pl.col("group") == "intervention")
    exclusions.not_counting(run, goal, gi, subjects.filter(~pl.col("counting")), L.min_stay)
    counting = subjects.filter(pl.col("counting")).with_columns(where_mask(run, goal.where, goal.level).alias("_eligible"))
    if goal.where is not None:
        exclusions.not_eligible(run, goal, gi, counting.filter(~pl.col("_eligible")), run.text(goal.where))
    eligible = counting.filter(pl.col("_eligible"))
    frames = []
    for j, point in enumerate(goal.points):
        at = eligible.with_columns(L.point_date(point, pl.col("start"), pl.col("end")).alias("date"))
        exclusions.not_due(run, goal, gi, j, point, at.filter(~L.due(pl.col("date"))), L.limit)
        frames.append(_evaluate_point(run, goal, j, point, at.filter(L.due(pl.col("date")))))
    _impute_and_price(run, goal, gi, [f for f in frames if f is not None])


def _evaluate_point(run: Run, goal: m.Goal, j: int, point: str, frame: pl.DataFrame):
    """The outcome of every due subject at one point, with the price where it is read per line."""
    compiler = Compiler(run.contract, run.L.scales, lets=goal.lets, named=run.named_value,
                        attributes=attributes(goal.level), level=goal.level, three_valued=goal.three_valued)
    if run.traces(goal):
        compiler.trail = trails.Trail(run.text, run.results)
    outcome = as_num(compiler.compile(goal.outcome, point))
    head = compiler.trail.steps[:] if compiler.trail else None
    price = Price(run, goal, compiler, point)
    needed = compiler.needed | {(r.measure, r.point) for r in price.reads}
    frame = run.L.with_values(frame, goal.level, needed)
    checks = [mask.alias(f"_check{i}") for i, (mask, _) in enumerate(compiler.checks)]
    frame = frame.with_columns(outcome.expr.alias("num"), pl.lit(10 ** outcome.scale, dtype=INT).alias("den"),
                               pl.lit(j, dtype=pl.Int32).alias("point_index"), pl.lit(point).alias("point"),
                               *checks)
    for i, (_, message) in enumerate(compiler.checks):
        if frame[f"_check{i}"].any():
            raise EvalError(message)
    if head is not None:  # the line's steps up to its outcome: who, what was read, the outcome
        head = trails.joined([trails.subject_step(goal.level, run.L.min_stay), *head,
                              trails.outcome_step(run.text(goal.outcome), point, outcome)])
        frame = _traced(run, frame, lambda f: f.with_columns(rec.text(f, pl.col("subject_id")).alias(trails.SUBJECT))
                        .with_columns(head.alias("_trail")))
    return frame, compiler, price


def _traced(run: Run, frame: pl.DataFrame, make) -> pl.DataFrame:
    """`make(frame)` (the frame with its trail columns), made for the rows of `Run.only`'s subject alone when
    the run traces one subject (the other rows keep theirs, null). The rows' order is not kept: the lines
    are sorted once every point is settled."""
    if run.only is None:
        return make(frame)
    mine = pl.col("subject_id") == run.only[1]
    return pl.concat([make(frame.filter(mine)), frame.filter(~mine)], how="diagonal_relaxed")


def _impute_and_price(run: Run, goal: m.Goal, gi: int, evaluated: list) -> None:
    rule = goal.missing
    rounding = run.line_rounding
    parts = []
    for frame, compiler, price in evaluated:
        point = frame["point"][0] if frame.height else None
        observed = frame.filter(pl.col("num").is_not_null())
        n = observed.height
        total = observed["num"].sum() if n else 0
        scale_den = frame["den"][0] if frame.height else 1
        mean = _settled(Fraction(int(total), n * int(scale_den))) if n else None
        missing = pl.col("num").is_null()
        exempt = rule is not None and rule.exempt == "replaced"
        if rule is None or rule.method in ("none", "observed only"):
            drop = missing
        else:
            drop = missing & pl.col("@replaced") if exempt else pl.lit(False)
        frame = frame.with_columns(drop.alias("_drop"), (missing & ~drop).alias("imputed"))
        exclusions.missing(run, goal, gi, frame.filter(pl.col("_drop")), exempt)
        lines = frame.filter(~pl.col("_drop"))
        imputed_n = lines["imputed"].sum()
        if imputed_n:
            run.imputed[goal.id] = run.imputed.get(goal.id, 0) + imputed_n
            if rule.method == "zero":
                value = Decimal(0)
            elif n:
                value = mean
            else:
                value = Decimal(0)
                for _ in range(imputed_n):
                    run.raise_flag("no_observations", None, goal.clause, {"goal": goal.id, "point": point},
                                   f"no subject observed for {goal.id} at {point}; imputed 0",
                                   note_code="no_observations_imputed", facts={"goal": goal.id, "point": point})
            frac = Fraction(value)
            lines = lines.with_columns(
                pl.when(pl.col("imputed")).then(pl.lit(frac.numerator, dtype=INT)).otherwise(pl.col("num")).alias("num"),
                pl.when(pl.col("imputed")).then(pl.lit(frac.denominator, dtype=INT)).otherwise(pl.col("den")).alias("den"))
        lines = lines.with_columns(pl.lit(True).alias("_line"))
        if run.traces(goal):
            shown_mean, shown_n = (Decimal(0), n) if rule is None or rule.method == "zero" else \
                (mean, n) if n else (Decimal(0), 0)
            impute = trails.impute_step(rule, point, shown_mean, shown_n) if imputed_n else None
        if price.constant is not None:
            lines = lines.with_columns(gross_expr(pl.col("num"), pl.col("den"), literal(price.constant), rounding)
                                       .alias("gross"))
        else:
            lines = lines.with_columns(price.col.expr.alias("_rate"))
            exclusions.rate_missing(run, goal, gi, lines.filter(pl.col("_rate").is_null()), run.text(goal.rate.amount))
            lines = lines.with_columns((pl.col("_rate").is_not_null()).alias("_line"))
            lines = lines.with_columns(gross_expr(pl.col("num"), pl.col("den"), Num(pl.col("_rate"), price.col.scale),
                                                  rounding).alias("gross"))
        if run.traces(goal):
            lines = _traced(run, lines, lambda f: _with_trail(run, goal, f, impute, price))
        if run.accounts:  # the rows read, for the row accounting
            run.used.append(line_reads(frame, compiler.reads))
            run.used.append(line_reads(lines, price.reads))
        parts.append(lines.filter(pl.col("_line")).select(
            pl.lit(goal.id).alias("goal"), pl.lit(gi, dtype=pl.Int32).alias("goal_index"),
            pl.col("household_id").alias("k1"), pl.col("subject_id").alias("k2"), "point_index",
            pl.col("subject_id").alias("subject"), "point", "date", pl.lit(goal.payer, dtype=pl.Utf8).alias("payer"),
            "num", "den", "gross", "imputed", pl.col("household_id").alias("household"),
            pl.col("_trail").alias("trail") if run.traces(goal) else pl.lit(None, dtype=pl.Utf8).alias("trail")))
    if parts:
        run.line_frames.append(pl.concat(parts).sort("k1", "k2", "point_index"))


def _with_trail(run: Run, goal: m.Goal, lines: pl.DataFrame, impute, price: Price) -> pl.DataFrame:
    """The lines' trails up to the caps: the outcome's steps, the imputation, the price read and the payment.

    The payment and its rounding depend only on the outcome and the price, which repeat across lines:
    each distinct pair is written once, in Python, as the interpreter writes it, and joined back."""
    keys = ["num", "den"] + (["_rate"] if price.col is not None else [])
    pairs = lines.filter(pl.col("_line")).select(keys).unique()
    texts = []
    for row in pairs.iter_rows():
        outcome = _settled(Fraction(int(row[0]), int(row[1])))
        rate = price.constant if price.col is None else Decimal(int(row[2])).scaleb(-price.col.scale)
        texts.append(trails.payment_texts(goal, outcome, rate, run.line_rounding))
    pairs = pairs.with_columns(pl.Series("_pay", texts, dtype=pl.Utf8))
    lines = lines.join(pairs, on=keys, how="left", nulls_equal=True, maintain_order="left")
    return lines.with_columns(trails.joined([pl.col("_trail"), *([impute] if impute is not None else []),
                                             *price.steps, pl.col("_pay")]).alias("_trail")).drop("_pay")
