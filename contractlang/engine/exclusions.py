"""Exclusions, built over columns: why a subject, point or ledger row pays nothing.

Each builder takes the frame of the rows it explains and adds them to the run as
records (`j` = the compact JSON text) with the keys that put them in the order the
interpreter records them: goal, phase (0 while subjects are selected, 1 when missing
outcomes are settled), household or cohort, subject, point.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from . import records as r

KEY_SCHEMA = {"gi": pl.Int32, "phase": pl.Int32, "k1": pl.Utf8, "k2": pl.Utf8, "sub": pl.Int32, "j": pl.Utf8}


def _stay(frame: pl.DataFrame, months: int) -> tuple[pl.Expr, pl.Expr]:
    """A non-counting household's stay as prose (after 'household X ') and as facts."""
    prose = pl.concat_str([pl.lit("started "), r.iso(pl.col("start")), pl.lit("; stay ended "), r.iso(pl.col("stay_end")),
                           pl.lit(f" before reaching {months} months ("), r.iso(pl.col("stay_needed")), pl.lit(")")])
    facts = [("needed", r.date(pl.col("stay_needed"))), ("start", r.date(pl.col("start"))),
             ("stay_end", r.date(pl.col("stay_end"))), ("stay_months", pl.lit(str(months)))]
    return prose, facts


def add(run, frame: pl.DataFrame, gi: int, phase: int, k1: str, k2: str, sub, goal: str, point, reason: str,
        subject: str, detail: pl.Expr, facts: list[tuple[str, pl.Expr]]) -> None:
    """Add the exclusions of `frame`'s rows (detail is prose, facts are JSON texts)."""
    if frame.height == 0:
        return
    frame = frame.with_columns(detail.alias("_detail"))
    frame = frame.with_columns(r.text(frame, pl.col("_detail")).alias("_jdetail"),
                               r.text(frame, pl.col(subject)).alias("_jsubject"))
    point_json = r.literal(point) if isinstance(point, (str, type(None))) else point
    record = r.obj([("detail", pl.col("_jdetail")), ("facts", r.obj(facts)), ("goal", r.literal(goal)),
                    ("point", point_json), ("reason", r.literal(reason)), ("subject", pl.col("_jsubject"))])
    run.exclusion_frames.append(frame.select(
        pl.lit(gi, dtype=pl.Int32).alias("gi"), pl.lit(phase, dtype=pl.Int32).alias("phase"),
        pl.col(k1).cast(pl.Utf8).alias("k1"), (pl.col(k2) if k2 else pl.lit("")).cast(pl.Utf8).alias("k2"),
        (sub if isinstance(sub, pl.Expr) else pl.lit(sub)).cast(pl.Int32).alias("sub"), record.alias("j")))


def not_counting(run, goal, gi: int, frame: pl.DataFrame, months: int) -> None:
    prose, facts = _stay(frame, months)
    frame = frame.with_columns(r.text(frame, pl.col("household_id")).alias("_jhid"))
    add(run, frame, gi, 0, "household_id", "subject_id", -1, goal.id, None, "not_counting", "subject_id",
        pl.concat_str([pl.lit("household "), pl.col("household_id"), pl.lit(" "), prose]),
        [("household", pl.col("_jhid")), *facts])


def not_eligible(run, goal, gi: int, frame: pl.DataFrame, condition: str) -> None:
    cond = r.literal(condition)
    if goal.level in ("persons", "person"):
        grade = pl.col("grade").cast(pl.Utf8)
        detail = pl.concat_str([pl.lit("age "), pl.col("@age").cast(pl.Utf8), pl.lit(" at start, school grade "),
                                grade.fill_null("none"), pl.lit(f": does not satisfy {condition}")])
        facts = [("age", pl.col("@age").cast(pl.Utf8)), ("condition", cond), ("grade", grade)]
    else:
        detail, facts = pl.lit(f"does not satisfy {condition}"), [("condition", cond)]
    add(run, frame, gi, 0, "household_id", "subject_id", -1, goal.id, None, "not_eligible", "subject_id", detail, facts)


def not_due(run, goal, gi: int, j: int, point: str, frame: pl.DataFrame, limit: dt.date) -> None:
    detail = pl.concat_str([pl.lit(f"{point} falls on "), r.iso(pl.col("date")), pl.lit(f", after {limit}")])
    add(run, frame, gi, 0, "household_id", "subject_id", j, goal.id, point, "not_due", "subject_id", detail,
        [("date", r.date(pl.col("date"))), ("limit", r.literal(limit.isoformat())), ("point", r.literal(point))])


def missing(run, goal, gi: int, frame: pl.DataFrame, exempt: bool) -> None:
    """A missing outcome that is not replaced (no rule, observed only, or the household was replaced)."""
    if frame.height == 0:
        return
    ended = pl.col("end").is_not_null() & (pl.col("end") <= pl.col("date"))
    replaced = pl.col("@replaced")
    reason = pl.when(ended).then(pl.concat_str([
        pl.lit("household "), pl.col("household_id"), pl.lit(" ended ("), pl.col("end_reason"), pl.lit(") on "),
        r.iso(pl.col("end")), pl.lit(", before the point ("), r.iso(pl.col("date")), pl.lit(")")])).otherwise(
        pl.lit("no measurement row for a due point"))
    if exempt:
        exemption = pl.when(replaced).then(pl.concat_str([pl.lit("household replaced by "), pl.col("replaced_by"),
                                                          pl.lit(" (no correction)")])).otherwise(
            pl.lit("household not replaced: the exemption does not apply"))
        reason = pl.concat_str([reason, pl.lit("; "), exemption])
    frame = frame.with_columns(r.text(frame, pl.col("household_id")).alias("_jhid"),
                               r.text(frame, pl.col("end_reason")).alias("_jreason"),
                               r.text(frame, pl.col("replaced_by")).alias("_jby"))
    facts = [("missing", pl.when(ended).then(r.literal("ended")).otherwise(r.literal("no_row"))),
             ("household", pl.when(ended).then(pl.col("_jhid"))),
             ("end_reason", pl.when(ended).then(pl.col("_jreason"))),
             ("end", pl.when(ended).then(r.date(pl.col("end")))),
             ("point_date", pl.when(ended).then(r.date(pl.col("date"))))]
    if exempt:
        facts += [("exemption", pl.when(replaced).then(r.literal("replaced")).otherwise(r.literal("not_replaced"))),
                  ("replaced_by", pl.when(replaced).then(pl.col("_jby")))]
    why = pl.when(replaced & pl.lit(exempt)).then(r.literal("replaced_no_correction")).otherwise(
        r.literal("missing_not_replaced"))
    frame = frame.with_columns(reason.alias("_detail"))
    frame = frame.with_columns(r.text(frame, pl.col("_detail")).alias("_jdetail"),
                               r.text(frame, pl.col("subject_id")).alias("_jsubject"),
                               r.text(frame, pl.col("point")).alias("_jpoint"))
    record = r.obj([("detail", pl.col("_jdetail")), ("facts", r.obj(facts, keep_nulls=False)),
                    ("goal", r.literal(goal.id)), ("point", pl.col("_jpoint")), ("reason", why),
                    ("subject", pl.col("_jsubject"))])
    run.exclusion_frames.append(frame.select(
        pl.lit(gi, dtype=pl.Int32).alias("gi"), pl.lit(1, dtype=pl.Int32).alias("phase"),
        pl.col("household_id").alias("k1"), pl.col("subject_id").alias("k2"),
        pl.col("point_index").cast(pl.Int32).alias("sub"), record.alias("j")))


def rate_missing(run, goal, gi: int, frame: pl.DataFrame, price: str) -> None:
    frame = frame.with_columns(r.text(frame, pl.col("point")).alias("_jpoint"))
    add(run, frame, gi, 1, "household_id", "subject_id", pl.col("point_index"), goal.id, pl.col("_jpoint"),
        "rate_missing", "subject_id", pl.lit(f"the price '{price}' reads a value that is missing for this subject"),
        [("price", r.literal(price))])


def one(run, key: tuple, record: dict) -> None:
    """A single exclusion computed in Python (a cohort's point)."""
    from ..document import record_json
    gi, phase, k1, k2, sub = key
    run.exclusion_frames.append(pl.DataFrame([{"gi": gi, "phase": phase, "k1": k1, "k2": k2, "sub": sub,
                                               "j": record_json(record).decode()}], schema=KEY_SCHEMA))


def ordered(run) -> pl.Series:
    """Every exclusion's record, in the interpreter's order."""
    if not run.exclusion_frames:
        return pl.Series("j", [], dtype=pl.Utf8)
    return pl.concat(run.exclusion_frames).sort("gi", "phase", "k1", "k2", "sub", maintain_order=True)["j"]
