"""Caps, the return cap and tranches over the ordered lines, as running totals.

A cap keeps a running total of what it let through; a line is cut to what is left
under the limit; a negative line (a clawback) is never cut and makes room. With the
lines in cap order that is the running sum held under the limit (per year or subject
where the cap says so), and a line's amount after the cap is the step of that
running total.
The pool is the running total of every final amount; a tranche takes the part of a
line that falls between its thresholds.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from .. import model as m
from ..expressions import round_decimal
from .context import Run
from .numbers import INT, MONEY_SCALE, scaled, to_value

HUNDRED = Decimal(100)


_ORDER_COLUMNS = {"date": "date", "goal": "goal_index", "subject": "subject"}


def order_lines(run: Run, lines: pl.DataFrame) -> pl.DataFrame:
    """Lines in cap order (`Contract.line_order`: `order lines by`, then the keys it leaves out); ties keep
    the order of evaluation. `lines` itself is left empty."""
    by = [_ORDER_COLUMNS[k] for k in run.contract.line_order()]
    # The order of evaluation (goal, household, subject, point) breaks the ties of `by`: one order by both.
    # Columns are moved into that order one at a time (taken out of `lines`, which is left empty), so the
    # lines are not held twice.
    order = lines.select(pl.arg_sort_by(*by, "goal_index", "k1", "k2", "point_index")).to_series()
    # (One chunk first: a gather across the goals' many chunks is many times slower, the trails above all.)
    columns = [lines.drop_in_place(name).rechunk().gather(order) for name in list(lines.columns)]
    return pl.DataFrame(columns).with_columns(pl.int_range(pl.len()).alias("seq"))


def caps_in_order(contract: m.Contract) -> list[tuple[int, m.Cap]]:
    """The caps in the order a line meets them — its goal's, then its payer's, each in contract order —
    with each cap's index in the contract (which names its running-total columns, `before:<index>`)."""
    goal_ids = {g.id for g in contract.goals}
    indexed = list(enumerate(contract.caps))
    return [x for x in indexed if x[1].goal in goal_ids] + [x for x in indexed if x[1].goal not in goal_ids]


def tranche_rounding(run: Run) -> m.Rounding:
    """The rounding the tranches split a part by (the contract's rule of that name, else 2 places half up)."""
    name = run.contract.tranches.rounding
    return run.roundings.get(name) or m.Rounding(id=name, places=2, mode="half_up")


def _capped(frame: pl.DataFrame, limit: int, over: list[str] | None, keep: str | None = None) -> pl.DataFrame:
    """`_after`: what a cap lets through of each line of `frame` (in cap order), per period where `over`
    names one. The running total of what passes is r_i = min(r_{i-1} + a_i, limit): a positive line is cut
    to what is left, a negative one passes whole and makes room (`evaluate._under_cap`). As columns that is
    r_i = S_i - max(0, max_{j<=i}(S_j - limit)) over the plain running sums S, and a line passes r_i - r_{i-1}.
    `keep` names a column to hold r_{i-1}, the running total before each line (for its audit trail)."""
    def per(e: pl.Expr) -> pl.Expr:
        return e.over(over) if over else e
    frame = frame.with_columns(per(pl.col("_amount").cum_sum()).alias("_sum"))
    excess = pl.max_horizontal(per((pl.col("_sum") - pl.lit(limit, dtype=INT)).cum_max()), pl.lit(0, dtype=INT))
    frame = frame.with_columns((pl.col("_sum") - excess).alias("_run"))
    before = per(pl.col("_run").shift(1, fill_value=0))
    kept = [before.alias(keep)] if keep else []
    return frame.with_columns((pl.col("_run") - before).alias("_after"), *kept).drop("_run", "_sum")


def apply_caps(run: Run, lines: pl.DataFrame) -> tuple[pl.DataFrame, dict, int, dict]:
    """Goal and payer caps, then the return cap; returns the lines with `after_goal_cap` and `amount`, what the
    goal caps and the return cap cut, and what each cap per year or subject let through in each (its margins).

    `lines` are in cap order (row i has `seq` i). Each cap works on the amounts of the lines it meets,
    gathered by position and scattered back, so the wide frame of lines is not copied per cap. A run for
    trails (`Run.trails`) also keeps, for each line's cap steps, each cap's running total before each line it
    meets (`before:<cap index>`, `before:return`; null where the line meets no such cap), what met the cap
    and what it let through (`in:…`, `out:…`)."""
    c = run.contract
    goal_ids = {g.id for g in c.goals}
    amount = lines.get_column("gross").clone()
    befores: dict[str, pl.Series] = {}
    running: dict[tuple, Decimal] = {}  # (cap's goal or payer, per, year or subject) -> let through
    keep = run.trails

    def nulls() -> pl.Series:
        return pl.repeat(None, lines.height, dtype=INT, eager=True)

    def through(at: pl.Series, limit: int, period: pl.Series | None, name: str, cap: m.Cap | None = None) -> pl.Series:
        """The lines at positions `at` through one cap (per period where given): their amounts cut, and
        what the cap cut from each."""
        nonlocal amount
        part = pl.DataFrame({"_amount": amount.gather(at)})
        if period is not None:
            part = part.with_columns(period.gather(at).alias("_period"))
        part = _capped(part, limit, ["_period"] if period is not None else None, keep=name if keep else None)
        if period is not None:  # what the cap let through in each year or for each subject (its margins)
            for p, v in part.group_by("_period").agg(pl.col("_after").sum()).iter_rows():
                running[(cap.goal, cap.per, str(p))] = to_value(v, MONEY_SCALE)
        if keep:
            befores[name] = nulls().scatter(at, part.get_column(name))
        if keep:  # what met the cap and what it let through, for the line's trail
            key = name.split(":", 1)[1]
            befores[f"in:{key}"] = nulls().scatter(at, part.get_column("_amount"))
            befores[f"out:{key}"] = nulls().scatter(at, part.get_column("_after"))
        amount = amount.scatter(at, part.get_column("_after"))
        return part.get_column("_amount") - part.get_column("_after")

    def period(per: str | None) -> pl.Series | None:
        """What a cap `per` year or subject keeps its running totals apart by."""
        if per in ("year", "years"):
            return lines.get_column("date").dt.year()
        return lines.get_column("subject") if per == "subject" else None

    cuts = []
    for k, cap in caps_in_order(c):
        on = "goal" if cap.goal in goal_ids else "payer"
        at = lines.select(pl.arg_where(pl.col(on) == cap.goal)).to_series()
        if at.len():
            cut = through(at, scaled(cap.amount.value, MONEY_SCALE), period(cap.per), f"before:{k}", cap)
            cuts.append(pl.DataFrame({"goal": lines.get_column("goal").gather(at), "_cut": cut}))
    goal_cap_cut = (dict(pl.concat(cuts).group_by("goal").agg(pl.col("_cut").sum()).iter_rows()) if cuts else {})
    after_goal_cap = amount.clone()
    rc = c.return_cap
    return_cut = 0
    if rc is not None:
        at = lines.select(pl.arg_where((pl.col("payer") == rc.payer) & pl.col("goal").is_in(list(rc.goals))))
        at = at.to_series()
        if at.len():
            return_cut = int(through(at, scaled(rc.amount.value, MONEY_SCALE), None, "before:return").sum())
    if keep:
        keys = [str(k) for k in range(len(c.caps))] + ["return"]
        names = [f"{what}:{k}" for k in keys for what in ("before", "in", "out")]
        lines = lines.with_columns((befores[n] if n in befores else nulls()).alias(n) for n in names)
    return (lines.with_columns(after_goal_cap.alias("after_goal_cap"), amount.alias("amount")), goal_cap_cut, return_cut,
            running)


def split(run: Run, lines: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """Each line's parts in the tranches and their split between recipients: columns `t{i}` (the part in
    tranche i, null when the line has no part there) and `t{i}:{party}`; returns the frame and the parties."""
    t = run.contract.tranches
    lines = lines.with_columns((pl.col("amount").cum_sum() - pl.col("amount")).alias("pool_before"))
    if t is None:
        return lines, []
    rule = tranche_rounding(run)
    a, p = pl.col("amount"), pl.col("pool_before")
    lower = None  # the first tranche takes everything below its threshold
    parties = sorted({s.party for tr in t.tranches for s in tr.shares} | {t.remainder})
    for i, tranche in enumerate(t.tranches):
        upper = scaled(tranche.until.value, MONEY_SCALE) if tranche.until is not None else None
        start = p if lower is None else pl.max_horizontal(p, pl.lit(lower, dtype=INT))
        end = p + a if upper is None else pl.min_horizontal(p + a, pl.lit(upper, dtype=INT))
        overlap = end - start
        inside = pl.lit(True)
        if lower is not None:
            inside = inside & (p >= pl.lit(lower, dtype=INT))
        if upper is not None:
            inside = inside & (p < pl.lit(upper, dtype=INT))
        portion = pl.when(a > 0).then(pl.when(overlap > 0).then(overlap)).otherwise(pl.when(inside).then(a))
        lines = lines.with_columns(portion.alias(f"t{i}"))
        # Shares of each distinct portion, rounded in Python by the contract's rule (portions repeat a lot).
        portions = lines[f"t{i}"].drop_nulls().unique().to_list()
        shares = {s.party: s.percent.value for s in tranche.shares if s.party != t.remainder}
        for party in parties:
            if party == t.remainder:
                continue
            pct = shares.get(party)
            if pct is None:
                lines = lines.with_columns(pl.when(pl.col(f"t{i}").is_not_null()).then(None).cast(INT)
                                           .alias(f"t{i}:{party}"))
                continue
            mapping = {v: scaled(round_decimal(to_value(v, MONEY_SCALE) * pct / HUNDRED, rule.places, rule.mode),
                                 MONEY_SCALE) for v in portions}
            lines = lines.with_columns(pl.col(f"t{i}").replace_strict(mapping, default=None, return_dtype=INT)
                                       .alias(f"t{i}:{party}"))
        others = [pl.col(f"t{i}:{q}").fill_null(0) for q in parties if q != t.remainder]
        rest = pl.col(f"t{i}") - (pl.sum_horizontal(*others) if others else pl.lit(0, dtype=INT))
        lines = lines.with_columns(rest.alias(f"t{i}:{t.remainder}"))
        if upper is not None:
            lower = upper
    return lines, parties
