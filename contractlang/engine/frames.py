"""The ledger as columns: households and persons with the attributes a contract reads,
point dates and due-ness, and the observed values of every measure, typed.

Attribute columns are named `@name` (`@age`, `@start_date`, …); a measure's value at a
point is `v:measure@point` and the ledger line it came from `l:measure@point`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from .. import model as m
from ..vocabulary import HOUSEHOLD_ATTRIBUTES, PERSON_ATTRIBUTES  # noqa: F401  (goals, results read them here)
from .numbers import INT, places, scaled



def value_col(measure: str, point: str) -> str:
    return f"v:{measure}@{point}"


def line_col(measure: str, point: str) -> str:
    return f"l:{measure}@{point}"


def add_months(expr: pl.Expr, months: int) -> pl.Expr:
    """Calendar months added to a date column, clamped to the month's last day (as expressions.add_months)."""
    return expr if months == 0 else expr.dt.offset_by(f"{months}mo")


def shift(expr: pl.Expr, offset: m.Quantity) -> pl.Expr:
    """A point's offset added to a date column: whole days, weeks, months or years (as expressions.shift)."""
    n, unit = int(offset.value), offset.canonical_unit
    if n == 0:
        return expr
    if unit in ("days", "weeks"):
        return expr.dt.offset_by(f"{n * 7 if unit == 'weeks' else n}d")
    return add_months(expr, 12 * n if unit == "years" else n)


def age_at(birth: pl.Expr, day: pl.Expr) -> pl.Expr:
    """Whole years of age on `day`."""
    def md(d: pl.Expr) -> pl.Expr:
        return d.dt.month().cast(pl.Int32) * 100 + d.dt.day().cast(pl.Int32)
    before = md(day) < md(birth)
    return (day.dt.year() - birth.dt.year() - before.cast(pl.Int32)).cast(INT)


def _dtype(ms: m.Measure):
    return pl.Boolean if ms.kind == "boolean" else INT if ms.kind in ("integer", "decimal") else pl.Utf8


class Ledger:
    """The frames of one settlement: who exists and counts at the settlement date, and the typed values."""

    def __init__(self, contract: m.Contract, ledger, as_of: dt.date):
        self.contract = contract
        self.as_of = as_of
        prog = contract.programme
        self.intervention_end = prog.intervention_end if prog else None
        self.data_end = prog.data_collection_end if prog else None
        self.min_stay = int(prog.minimum_stay.value) if prog and prog.minimum_stay else 0
        f = ledger.frames
        hh, pp, co, me = f.households, f.persons, f.cohorts, f.measurements
        self.measurements = me
        self.cohorts = co
        self.all_households = hh
        self.all_persons = pp
        self.households = self._households(hh)
        self.persons = self._persons(pp)
        self.measures = {ms.id: ms for ms in contract.measures}
        self.scales = self._scales(me)
        self.wide = {"person": self._wide(me, "person"), "household": self._wide(me, "household")}

    # ---- households and persons ---------------------------------------------------------
    def _households(self, hh: pl.DataFrame) -> pl.DataFrame:
        """Households started by the settlement date, with their attributes and `counting`."""
        as_of = pl.lit(self.as_of)
        replacer = (hh.filter(pl.col("replaces").is_not_null())
                    .sort("line").group_by("replaces", maintain_order=True)
                    .agg(pl.col("household_id").first().alias("replaced_by"), pl.col("start").first().alias("_rstart"))
                    .rename({"replaces": "household_id"}))
        ends = [as_of] + ([pl.lit(self.intervention_end)] if self.intervention_end else [])
        stay_end = pl.min_horizontal(*ends, pl.col("end"))
        needed = add_months(pl.col("start"), self.min_stay)
        ended = pl.col("end").is_not_null() & (pl.col("end") <= as_of)
        return (hh.filter(pl.col("start") <= as_of)
                .join(replacer, on="household_id", how="left")
                .with_columns(
                    stay_end.alias("stay_end"), needed.alias("stay_needed"),
                    ((pl.col("group") == "intervention") & (stay_end >= needed)).alias("counting"),
                    pl.col("start").alias("@start_date"),
                    pl.when(ended).then(pl.col("end")).alias("@end_date"),
                    pl.when(ended).then(pl.col("end_reason")).alias("@end_reason"),
                    ended.alias("@ended"),
                    (pl.col("replaced_by").is_not_null() & (pl.col("_rstart") <= as_of)).alias("@replaced"),
                    pl.col("cohort").alias("@cohort"),
                    pl.col("group").alias("@group"))
                .drop("_rstart")
                .sort("household_id"))

    def _persons(self, pp: pl.DataFrame) -> pl.DataFrame:
        """Persons of the households started by the settlement date, with their own and their household's attributes."""
        return (pp.rename({"line": "person_line"})
                .join(self.households, on="household_id", how="inner")
                .with_columns(age_at(pl.col("birth"), pl.col("start")).alias("@age"),
                              pl.col("grade").cast(INT).alias("@school_grade"))
                .sort("household_id", "person_id"))

    def subjects(self, level: str) -> pl.DataFrame:
        """One row per subject of a level (`persons`/`person` or `households`), `subject_id` first."""
        if level in ("persons", "person"):
            return self.persons.with_columns(pl.col("person_id").alias("subject_id"))
        return self.households.with_columns(pl.col("household_id").alias("subject_id"))

    # ---- measures -------------------------------------------------------------------------
    def _scales(self, me: pl.DataFrame) -> dict[str, int]:
        """The decimal places each numeric measure needs to hold every observed value exactly."""
        scales, self._numbers = {}, {}
        for ms in self.measures.values():
            if ms.kind in ("integer", "decimal"):
                texts = me.filter(pl.col("measure") == ms.id)["value"].unique().to_list()
                scales[ms.id] = scale = max((places(Decimal(t)) for t in texts), default=0)
                self._numbers[ms.id] = {t: scaled(Decimal(t), scale) for t in texts}
        return scales

    def typed(self, measure: m.Measure, text: pl.Expr) -> pl.Expr:
        """A measure's value text as its type: enum text, boolean, or a scaled whole number (Num)."""
        if measure.kind == "boolean":
            return text == "true"
        if measure.kind in ("integer", "decimal"):
            return text.replace_strict(self._numbers[measure.id], default=None, return_dtype=INT)
        return text

    def _wide(self, me: pl.DataFrame, level: str) -> pl.DataFrame:
        """One row per subject of a level, a value and a line column per measure and point."""
        ids = {ms.id for ms in self.measures.values() if ms.level == level}
        part = me.filter(pl.col("measure").is_in(sorted(ids)))
        frame = part.select("subject_id").unique().sort("subject_id")
        columns = []
        for ms in self.measures.values():
            if ms.level != level:
                continue
            for point in ms.points:
                columns.append((ms, point))
        if not columns:
            return frame
        # One left join per (measure, point) on the rows of that pair (a ledger has each at most once).
        rows = part.partition_by(["measure", "point"], as_dict=True) if part.height else {}
        out = [frame]
        for ms, point in columns:
            found = rows.get((ms.id, point))
            if found is None:
                out.append(frame.with_columns(pl.lit(None, dtype=_dtype(ms)).alias(value_col(ms.id, point)),
                                              pl.lit(None, dtype=pl.Int64).alias(line_col(ms.id, point)))
                           .drop("subject_id"))
                continue
            joined = frame.join(found.select("subject_id", "value", "line"), on="subject_id", how="left",
                                maintain_order="left")
            out.append(joined.select(self.typed(ms, pl.col("value")).alias(value_col(ms.id, point)),
                                     pl.col("line").alias(line_col(ms.id, point))))
        return pl.concat(out, how="horizontal")

    def with_values(self, frame: pl.DataFrame, level: str, needed: set[tuple[str, str]]) -> pl.DataFrame:
        """`frame` (with `subject_id`) joined with the value and line columns of the (measure, point) pairs needed.

        A person reads a household measure of its household; a household has no person measures (missing)."""
        persons = level in ("persons", "person")
        for measure_level, key in (("person", "subject_id"), ("household", "household_id" if persons else "subject_id")):
            pairs = sorted((mid, p) for mid, p in needed if self.measures[mid].level == measure_level)
            if not pairs:
                continue
            if measure_level == "person" and not persons:
                ms = {mid: self.measures[mid] for mid, _ in pairs}
                frame = frame.with_columns(*[c for mid, p in pairs for c in (
                    pl.lit(None, dtype=_dtype(ms[mid])).alias(value_col(mid, p)),
                    pl.lit(None, dtype=pl.Int64).alias(line_col(mid, p)))])
                continue
            wide = self.wide[measure_level]
            cols = [c for mid, p in pairs for c in (value_col(mid, p), line_col(mid, p))]
            frame = frame.join(wide.select(pl.col("subject_id").alias(key), *cols), on=key, how="left")
        return frame

    # ---- points ---------------------------------------------------------------------------
    def point_date(self, point_id: str, start: pl.Expr, end: pl.Expr | None) -> pl.Expr:
        """The date of a point for each row: from `start` (or the household's end), plus whole months."""
        p = self.contract.point(point_id)
        if p.anchor == "start":
            base = start
        else:
            fallback = pl.lit(self.intervention_end) if self.intervention_end else start
            base = pl.coalesce(end, fallback) if end is not None else fallback
        return shift(base, p.offset) if p.offset is not None else base

    def due(self, date: pl.Expr) -> pl.Expr:
        cond = date <= pl.lit(self.as_of)
        return cond & (date <= pl.lit(self.data_end)) if self.data_end else cond

    @property
    def limit(self) -> dt.date:
        """The last date a point may fall on to be due."""
        return min(self.as_of, self.data_end or self.as_of)
