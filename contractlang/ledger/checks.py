"""The ledger's rows checked by column against LEDGER.md and the contract's data dictionary.

Each check is a Polars expression over a whole file; only the rows it rejects become Python
values (their diagnostics). A reference is checked against every id its file names (a household
with a bad `group` is one error, not one more per person in it); a file whose header is unusable
is not checked row by row, and nothing is checked against its ids.
"""

from __future__ import annotations

import datetime as dt
import functools

import polars as pl

from .. import model as m
from ..periods import period_named, period_of
from .csvfile import Problems, Table
from .vocabulary import DATE_PATTERN, MAX_HINTED_ROWS, END_REASONS, GROUPS, close_match, parse_value, show

SCHEMAS = {
    "households": {"household_id": pl.Utf8, "group": pl.Utf8, "start": pl.Date, "end": pl.Date,
                   "end_reason": pl.Utf8, "replaces": pl.Utf8, "cohort": pl.Utf8, "line": pl.Int64},
    "persons": {"person_id": pl.Utf8, "household_id": pl.Utf8, "birth": pl.Date, "grade": pl.Int64, "line": pl.Int64},
    "cohorts": {"cohort": pl.Utf8, "start": pl.Date, "line": pl.Int64},
    "measurements": {"subject_id": pl.Utf8, "measure": pl.Utf8, "point": pl.Utf8, "date": pl.Date,
                     "value": pl.Utf8, "delivered": pl.Date, "line": pl.Int64},
}


def empty(kind: str) -> pl.DataFrame:
    """A frame of no rows with the schema of `kind`."""
    return pl.DataFrame(schema=SCHEMAS[kind])


def _date(column: str) -> pl.Expr:
    """The cell as a Date, or null when it is not an ISO date (YYYY-MM-DD, year 1 or later)."""
    cell = pl.col(column)
    parsed = pl.when(cell.str.contains(DATE_PATTERN)).then(cell.str.to_date("%Y-%m-%d", strict=False))
    return pl.when(parsed.dt.year() >= 1).then(parsed)


def _none_if_empty(column: str) -> pl.Expr:
    return pl.when(pl.col(column) != "").then(pl.col(column))


def _report(problems: Problems, table: Table, rows: pl.DataFrame, field: str | None, code: str, message,
            hint=None) -> None:
    """One diagnostic per row of `rows`: `message(row)` and `hint(row)` take the row as a dict."""
    if rows.height == 0:
        return
    dicts = rows.to_dicts()
    hints = [hint(r) if i < MAX_HINTED_ROWS else None for i, r in enumerate(dicts)] if hint else None
    problems.cells(table, field, [r["line"] for r in dicts], code, [message(r) for r in dicts], hints)


def _dates(problems: Problems, table: Table, f: pl.DataFrame, column: str, parsed: str, required: bool) -> None:
    if required:
        _report(problems, table, f.filter(pl.col(column) == ""), column, "CL041",
                lambda r: f"{column} is empty; a date (YYYY-MM-DD) is required")
    _report(problems, table, f.filter((pl.col(column) != "") & pl.col(parsed).is_null()), column, "CL041",
            lambda r: f"{column} '{show(r[column])}' is not a date in the form YYYY-MM-DD")


def _duplicates(problems: Problems, table: Table, f: pl.DataFrame, key: list[str], field: str, message) -> None:
    """Every row whose `key` an earlier row has: CL043, naming the first line."""
    # A cheap hash of the key finds the candidates (few rows, if any); the exact key decides.
    hashed = functools.reduce(lambda a, b: a ^ b, (pl.col(k).hash(seed) for seed, k in enumerate(key, start=7)))
    dup = (f.filter((pl.col(field) != "") & hashed.is_duplicated())
           .with_columns(first=pl.col("line").min().over(key))
           .filter(pl.col("line") != pl.col("first")))
    _report(problems, table, dup, field, "CL043", message)


def ids(table: Table | None, column: str) -> pl.Series | None:
    """The distinct non-empty ids a file names in `column`; None when the file cannot be relied on."""
    if table is None or table.frame is None:
        return None
    return table.frame.filter(pl.col(column) != "")[column].unique()


def cohorts(problems: Problems, table: Table) -> pl.DataFrame:
    f = table.frame.with_columns(start=_date("start_date"))
    _report(problems, table, f.filter(pl.col("cohort") == ""), "cohort", "CL041", lambda r: "cohort is empty")
    _duplicates(problems, table, f, ["cohort"], "cohort",
                lambda r: f"cohort '{show(r['cohort'])}' appears twice (first on line {r['first']})")
    _dates(problems, table, f, "start_date", "start", required=True)
    return f.select("cohort", "start", "line")


def households(problems: Problems, table: Table, cohort_ids: pl.Series | None, cohorts_read: bool) -> pl.DataFrame:
    f = table.frame.with_columns(start=_date("start_date"), end=_date("end_date"))
    hid, reason = pl.col("household_id"), pl.col("end_reason")
    _report(problems, table, f.filter(hid == ""), "household_id", "CL041", lambda r: "household_id is empty")
    _duplicates(problems, table, f, ["household_id"], "household_id",
                lambda r: f"household '{show(r['household_id'])}' appears twice (first on line {r['first']})")
    _report(problems, table, f.filter(~pl.col("group").is_in(list(GROUPS))), "group", "CL042",
            lambda r: f"group '{show(r['group'])}' is not one of {', '.join(GROUPS)}")
    _dates(problems, table, f, "start_date", "start", required=True)
    _dates(problems, table, f, "end_date", "end", required=False)
    _report(problems, table, f.filter((reason != "") & ~reason.is_in(list(END_REASONS))), "end_reason", "CL042",
            lambda r: f"end_reason '{show(r['end_reason'])}' is not one of {', '.join(END_REASONS)}",
            hint=lambda r: (lambda c: f"did you mean '{c}'?" if c else None)(close_match(r["end_reason"], END_REASONS)))
    _report(problems, table, f.filter((reason != "") != (pl.col("end_date") != "")), "end_reason", "CL041",
            lambda r: "end_date and end_reason go together: give both or neither")
    _report(problems, table, f.filter(pl.col("end") < pl.col("start")), "end_date", "CL042",
            lambda r: f"end_date {r['end']} is before start_date {r['start']}")
    if cohort_ids is not None or not cohorts_read:
        known = cohort_ids if cohort_ids is not None else pl.Series([], dtype=pl.Utf8)
        where = "is not in cohorts.csv" if cohorts_read else "is named, but the ledger has no cohorts.csv"
        _report(problems, table, f.filter((pl.col("cohort") != "") & ~pl.col("cohort").is_in(known.implode())), "cohort",
                "CL044", lambda r: f"cohort '{show(r['cohort'])}' {where}")
    household_ids = ids(table, "household_id")
    _report(problems, table, f.filter((pl.col("replaces") != "") & ~pl.col("replaces").is_in(household_ids.implode())),
            "replaces", "CL044", lambda r: f"replaces '{show(r['replaces'])}', which is not a household of the ledger")
    return f.select("household_id", "group", "start", "end", end_reason=_none_if_empty("end_reason"),
                    replaces=_none_if_empty("replaces"), cohort=_none_if_empty("cohort"), line="line")


def persons(problems: Problems, table: Table, household_ids: pl.Series | None) -> pl.DataFrame:
    grade_ok = pl.col("school_grade").str.contains(r"^[0-9]{1,9}$")
    f = table.frame.with_columns(
        birth=_date("birth_date"),
        grade=pl.when(grade_ok).then(pl.col("school_grade").cast(pl.Int64, strict=False)))
    pid, hid = pl.col("person_id"), pl.col("household_id")
    _report(problems, table, f.filter(pid == ""), "person_id", "CL041", lambda r: "person_id is empty")
    _duplicates(problems, table, f, ["person_id"], "person_id",
                lambda r: f"person '{show(r['person_id'])}' appears twice (first on line {r['first']})")
    _dates(problems, table, f, "birth_date", "birth", required=True)
    _report(problems, table, f.filter((pl.col("school_grade") != "") & ~pl.col("grade").is_between(0, 10).fill_null(False)),
            "school_grade", "CL042", lambda r: f"school_grade '{show(r['school_grade'])}' is not a grade from 0 to 10")
    _report(problems, table, f.filter(hid == ""), "household_id", "CL041", lambda r: "household_id is empty")
    if household_ids is not None:
        _report(problems, table, f.filter((pid != "") & pid.is_in(household_ids.implode())), "person_id", "CL043",
                lambda r: f"'{show(r['person_id'])}' is both a person and a household id")
        _report(problems, table, f.filter((hid != "") & ~hid.is_in(household_ids.implode())), "household_id", "CL044",
                lambda r: f"household '{show(r['household_id'])}' is not in households.csv")
    return f.select("person_id", "household_id", "birth", "grade", "line")


# Why a measurement row is refused; the first that applies is reported (as the reader always has).
_UNKNOWN_MEASURE, _UNKNOWN_SUBJECT, _BAD_POINT, _EMPTY_VALUE, _BAD_VALUE = 1, 2, 3, 4, 5


def measurements(problems: Problems, table: Table, contract: m.Contract,
                 person_ids: pl.Series | None, household_ids: pl.Series | None) -> pl.DataFrame:
    measures = {ms.id: ms for ms in contract.measures}
    level = pl.col("measure").replace_strict({k: ms.level for k, ms in measures.items()}, default=None,
                                             return_dtype=pl.Enum(["person", "household"]))
    persons_known = pl.col("subject_id").is_in(person_ids.implode()) if person_ids is not None else pl.lit(True)
    homes_known = pl.col("subject_id").is_in(household_ids.implode()) if household_ids is not None else pl.lit(True)
    # A point the measure has (flags, not a column of joined texts: a ledger may have ten million rows).
    point_ok = pl.coalesce(*[pl.when(pl.col("measure") == k).then(pl.col("point").is_in(list(ms.points)))
                             for k, ms in measures.items()], pl.lit(False))
    f = table.frame.with_columns(_level=level, date_=_date("date"), delivered_=_date("delivered_on"))
    f = f.with_columns(_why=pl.when(pl.col("_level").is_null()).then(_UNKNOWN_MEASURE)
                       .when(~pl.when(pl.col("_level") == "person").then(persons_known).otherwise(homes_known))
                       .then(_UNKNOWN_SUBJECT)
                       .when(~point_ok).then(_BAD_POINT)
                       .when(pl.col("value") == "").then(_EMPTY_VALUE))
    # A value is checked once per distinct (measure, text): a ledger repeats few of them.
    distinct = f.select("measure", "value").filter(f["_why"].is_null()).unique()
    refused = [(mid, text, why) for mid, text in distinct.iter_rows()
               if (why := _value_error(measures[mid], text)) is not None]
    if refused:
        verdicts = pl.DataFrame(refused, schema={"measure": pl.Utf8, "value": pl.Utf8, "_verdict": pl.Utf8},
                                orient="row")
        f = f.join(verdicts, on=["measure", "value"], how="left", maintain_order="left").with_columns(
            _why=pl.when(pl.col("_why").is_null() & pl.col("_verdict").is_not_null()).then(_BAD_VALUE)
            .otherwise(pl.col("_why")))
    else:
        f = f.with_columns(_verdict=pl.lit(None, pl.Utf8))
    why = pl.col("_why")
    names = tuple(measures)
    _report(problems, table, f.filter(why == _UNKNOWN_MEASURE), "measure", "CL042",
            lambda r: f"unknown measure '{show(r['measure'])}'",
            hint=lambda r: (lambda c: f"did you mean '{c}'?" if c else "the contract declares: " + ", ".join(names))(
                close_match(r["measure"], names)))
    _report(problems, table, f.filter(why == _UNKNOWN_SUBJECT), "subject_id", "CL044",
            lambda r: f"subject '{show(r['subject_id'])}' is not a {r['_level']} of the ledger "
                      f"({r['measure']} is measured per {r['_level']})")
    _report(problems, table, f.filter(why == _BAD_POINT), "point", "CL042",
            lambda r: f"{r['measure']} is not measured at point '{show(r['point'])}' "
                      f"(points: {', '.join(measures[r['measure']].points)})",
            hint=lambda r: (lambda c: f"did you mean '{c}'?" if c else None)(
                close_match(r["point"], tuple(measures[r["measure"]].points))))
    _report(problems, table, f.filter(why == _EMPTY_VALUE), "value", "CL041",
            lambda r: "value is empty; a missing measurement is a missing row, not an empty value")
    _report(problems, table, f.filter(why == _BAD_VALUE), "value", "CL042", lambda r: r["_verdict"])
    _dates(problems, table, f, "date", "date_", required=False)
    _dates(problems, table, f, "delivered_on", "delivered_", required=False)
    # A later delivery of a measurement (a correction) is no duplicate; the same delivery twice is.
    _duplicates(problems, table, f.select("subject_id", "measure", "point", "delivered_on", "line")
                .filter(f["_why"].is_null()),
                ["subject_id", "measure", "point", "delivered_on"], "subject_id",
                lambda r: f"{r['measure']} of {show(r['subject_id'])} at {r['point']} appears twice "
                          + (f"in the delivery of {r['delivered_on']} " if r["delivered_on"] else "")
                          + f"(first on line {r['first']})")
    return f.select("subject_id", "measure", "point", date="date_", value="value", delivered="delivered_", line="line")


def attributes(problems: Problems, table: Table, declared: tuple[m.Attribute, ...], id_column: str) -> pl.DataFrame:
    """Each subject's id and the cells of the contract's attributes of its file, every non-empty cell checked
    against its declaration (an empty one is missing); each distinct text is checked once."""
    for a in declared:
        texts = table.frame.filter(pl.col(a.id) != "")[a.id].unique().to_list()
        refused = {text: why for text in texts if (why := _value_error(a, text)) is not None}
        if refused:
            _report(problems, table, table.frame.filter(pl.col(a.id).is_in(list(refused))), a.id, "CL042",
                    lambda r, a=a, refused=refused: f"{a.id}: {refused[r[a.id]]}")
    return table.frame.select(id_column, *[a.id for a in declared])


def _value_error(measure: m.Measure | m.Attribute, text: str) -> str | None:
    try:
        parse_value(measure, text)
    except ValueError as exc:
        return str(exc)
    return None


#: A paid amount: ASCII digits, an optional minus (money returned), at most two decimals (øre, pence, cents).
_AMOUNT = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"


def payments(problems: Problems, table: Table, contract: m.Contract) -> pl.DataFrame:
    """What was paid for a period, by whom to whom: a period of the contract's settlement, a party that pays a
    goal, a party that receives a share, an amount of money and the day it was paid."""

    payers, recipients = contract.payers(), contract.recipients()
    f = table.frame.with_columns(paid=_date("paid_on"))
    names = f["period"].unique().to_list()
    known = [n for n in names if period_named(n, contract.settlement) is not None]
    s = contract.settlement
    example = period_of(dt.date(2024, 7, 1), s)[0]
    _report(problems, table, f.filter(~pl.col("period").is_in(known)), "period", "CL042",
            lambda r: f"period '{show(r['period'])}' is not a period of the contract's settlement "
                      f"({s.periods if s else 'half-yearly'}, named like {example})")
    for column, allowed, what in (("payer", payers, "a party that pays a goal"),
                                  ("recipient", recipients, "a party that receives a share of the payments")):
        _report(problems, table, f.filter(~pl.col(column).is_in(list(allowed))), column, "CL044",
                lambda r, column=column, allowed=allowed, what=what:
                    f"{column} '{show(r[column])}' is not {what} ({', '.join(allowed)})",
                hint=lambda r, column=column, allowed=allowed:
                    (lambda c: f"did you mean '{c}'?" if c else None)(close_match(r[column], allowed)))
    _report(problems, table, f.filter(~pl.col("amount").str.contains(_AMOUNT)), "amount", "CL042",
            lambda r: f"amount '{show(r['amount'])}' is not an amount of money (digits, a point and at most two "
                      "decimals, a minus for money paid back)")
    _dates(problems, table, f, "paid_on", "paid", required=True)
    return f.select("period", "payer", "recipient", "amount", "paid", "reference", "line")
