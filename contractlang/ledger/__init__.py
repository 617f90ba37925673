"""ledger: read a measurement ledger (a directory of CSV files) and check it against the contract's
data dictionary.

Every problem is reported with file, line and column, all of them at once, as a `LedgerError`
(codes CL040 file, CL041 row, CL042 value, CL043 duplicate, CL044 reference); nothing is
evaluated from a ledger that has errors. Files are read by Polars' CSV reader and checked by
column (`checks`); each file is read once, and its SHA-256 is of the bytes that were parsed
(`csvfile`). What a value may be, and the limits on files and numbers, are in `vocabulary`.

A loaded `Ledger` holds `frames`, a `LedgerFrames` of four Polars DataFrames, every row checked,
sorted by `line` (the physical line of the row in its file), and empty with the same schema
when a file is absent and not required:

- `households`: `household_id` Utf8, `group` Utf8, `start` Date, `end` Date (null while
  active), `end_reason` Utf8 (null), `replaces` Utf8 (null), `cohort` Utf8 (null), `line` Int64
- `persons`: `person_id` Utf8, `household_id` Utf8, `birth` Date, `grade` Int64 (null for
  adults), `line` Int64
- `cohorts`: `cohort` Utf8, `start` Date, `line` Int64
- `measurements`: `subject_id` Utf8, `measure` Utf8, `point` Utf8, `date` Date (null),
  `value` Utf8 (the checked cell text, stripped; `parse_value` types it), `delivered` Date (null: the
  first delivery), `line` Int64 — the rows the settlement sees; the others are in `withheld`

`payments.csv`, when the ledger has one, is what was paid (`Ledger.payments`: `period`, `payer`,
`recipient`, `amount` Utf8, `paid` Date, `reference`, `line`), read against the contract's periods and
parties; the settlement's account (`account.py`) compares it with the entitlement.

The Python views the row-by-row engine reads (`households`, `persons`, `cohorts`, `values`,
`members`, `replaced_by`) are built from the frames on first access.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import os
import sys
from pathlib import Path

import attrs
import polars as pl

from .. import model as m
from ..errors import LedgerError, error
from . import checks
from .csvfile import Problems, Table, read_table
from .vocabulary import (END_REASONS, FILES, GROUPS, MAX_FILE_BYTES, MAX_NUMBER_CHARS, MAX_VALUE_DIGITS,
                         MAX_VALUE_EXPONENT, REQUIRED, parse_value)

__all__ = ["BULK_THRESHOLDS", "END_REASONS", "FILES", "GROUPS", "MAX_FILE_BYTES", "MAX_NUMBER_CHARS",
           "MAX_VALUE_DIGITS", "MAX_VALUE_EXPONENT", "REQUIRED", "Household", "Ledger", "LedgerFrames",
           "Observation", "Person", "bulk_allocation", "load_ledger", "parse_value"]


@attrs.frozen
class Household:
    id: str
    group: str
    start: dt.date
    end: dt.date | None
    end_reason: str | None
    replaces: str | None
    cohort: str | None
    line: int


@attrs.frozen
class Person:
    id: str
    household: str
    birth: dt.date
    grade: int | None
    line: int


@attrs.frozen
class Observation:
    """One observed value and the ledger row it came from."""

    value: object
    line: int
    date: dt.date | None


@attrs.frozen(eq=False)
class LedgerFrames:
    """The checked ledger as Polars DataFrames (schemas in the module docstring)."""

    households: pl.DataFrame
    persons: pl.DataFrame
    cohorts: pl.DataFrame
    measurements: pl.DataFrame


@attrs.define(slots=False, eq=False)
class Ledger:
    """The ledger, typed and checked: `frames`, and Python views of them built on first access.

    `values` maps (subject, measure, point) to an Observation; `members` a household id to its
    person ids (in ledger order); `replaced_by` a household id to the first household that replaces it.
    """

    directory: str
    frames: LedgerFrames
    files: list[dict]  # [{"file", "sha256", "rows"}] in a fixed order
    measures: dict[str, m.Measure] = attrs.field(factory=dict, repr=False)
    # The measurement rows the settlement does not see (`withhold`): delivered after the knowledge date, or
    # replaced by a later delivery of the same measurement; and that date (None: everything delivered counts).
    withheld: pl.DataFrame = attrs.field(factory=lambda: _WITHHELD.clear(), repr=False)
    known_as_of: dt.date | None = None
    # What was paid (payments.csv: period, payer, recipient, amount as text, paid, reference, line); None when the
    # ledger has no payments.csv.
    payments: pl.DataFrame | None = attrs.field(default=None, repr=False)
    # The contract's attributes, as their files give them: "persons"/"households" -> the id column and one text
    # column per attribute; and the declarations (`attribute_values` types the cells).
    attribute_frames: dict[str, pl.DataFrame] = attrs.field(factory=dict, repr=False)
    attributes: dict[str, m.Attribute] = attrs.field(factory=dict, repr=False)

    @functools.cached_property
    def attribute_values(self) -> dict[str, dict[str, object]]:
        """Each person's or household's attributes by id: name -> the typed value, or None where the cell is empty."""
        out: dict[str, dict[str, object]] = {}
        for frame in self.attribute_frames.values():
            names = frame.columns[1:]
            for sid, *cells in frame.iter_rows():
                out[sid] = {n: parse_value(self.attributes[n], c) if c else None for n, c in zip(names, cells)}
        return out

    @functools.cached_property
    def households(self) -> dict[str, Household]:
        f = self.frames.households
        return {sys.intern(h): Household(sys.intern(h), g, s, e, r, p, c, line)
                for h, g, s, e, r, p, c, line in f.select(
                    "household_id", "group", "start", "end", "end_reason", "replaces", "cohort", "line").iter_rows()}

    @functools.cached_property
    def persons(self) -> dict[str, Person]:
        f = self.frames.persons
        return {sys.intern(p): Person(sys.intern(p), sys.intern(h), b, g, line)
                for p, h, b, g, line in f.select("person_id", "household_id", "birth", "grade", "line").iter_rows()}

    @functools.cached_property
    def cohorts(self) -> dict[str, tuple[dt.date, int]]:
        return {c: (s, line) for c, s, line in self.frames.cohorts.select("cohort", "start", "line").iter_rows()}

    @functools.cached_property
    def members(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in self.persons.values():
            out.setdefault(p.household, []).append(p.id)
        return out

    @functools.cached_property
    def replaced_by(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for h in self.households.values():
            if h.replaces is not None:
                out.setdefault(h.replaces, h.id)
        return out

    @functools.cached_property
    def values(self) -> dict[tuple[str, str, str], Observation]:
        f = self.frames.measurements
        # Measures, points, dates and typed values repeat: each distinct one becomes one Python
        # object, and rows refer to it by a code (an index into a short list).
        measures, points, dates, typed = (_codes(f, ["measure"]), _codes(f, ["point"]), _codes(f, ["date"]),
                                          _codes(f, ["measure", "value"]))
        measure_of = [sys.intern(x) for x in measures[0]["measure"].to_list()]
        point_of = [sys.intern(x) for x in points[0]["point"].to_list()]
        date_of = dates[0]["date"].to_list()
        value_of = [parse_value(self.measures[mid], text) for mid, text in typed[0].iter_rows()]
        intern = sys.intern
        return {(intern(sid), measure_of[mc], point_of[pc]): Observation(value_of[vc], line, date_of[dc])
                for sid, mc, pc, dc, vc, line in zip(f["subject_id"].to_list(), measures[1], points[1], dates[1],
                                                     typed[1], f["line"].to_list())}


def _codes(frame: pl.DataFrame, key: list[str]) -> tuple[pl.DataFrame, list[int]]:
    """The distinct values of `key` (in order of first appearance) and, per row, the index of its own."""
    distinct = frame.select(key).unique(maintain_order=True).with_row_index("_code")
    codes = frame.select(key).join(distinct, on=key, how="left", nulls_equal=True, maintain_order="left")["_code"]
    return distinct.drop("_code"), codes.to_list()


# ---- the collector while millions of objects are built (the views here, settling in evaluate) ----

# Allocations between young collections, young collections between middle ones, and middle
# collections between full ones. CPython's defaults are (700, 10, 10).
BULK_THRESHOLDS = (50_000, 10, 100)


@contextlib.contextmanager
def bulk_allocation():
    """Run the cyclic garbage collector less often while millions of small objects are built.

    Settling a ledger allocates millions of dicts, lists and tuples that all live until the
    settlement is returned. With the default thresholds the collector re-examines them so often
    that it takes a third of the running time (100k persons), and on a million persons each full
    collection walks tens of millions of objects. Short-lived cycles are still collected by the
    young collections. The previous thresholds are restored on exit; higher thresholds set by the
    caller are kept, and a collector that is switched off stays off.
    """
    before = gc.get_threshold()
    if before[0] != 0:
        gc.set_threshold(*(max(old, bulk) for old, bulk in zip(before, BULK_THRESHOLDS)))
    try:
        yield
    finally:
        gc.set_threshold(*before)


#: The rows a ledger withholds from a settlement: each with its reason (`not_delivered`, `superseded`) and, for a
#: superseded row, the line that replaces it.
_WITHHELD = pl.DataFrame(schema={"subject_id": pl.Utf8, "measure": pl.Utf8, "point": pl.Utf8, "date": pl.Date,
                                 "value": pl.Utf8, "delivered": pl.Date, "line": pl.Int64, "reason": pl.Utf8,
                                 "by_line": pl.Int64})


def withhold(measurements: pl.DataFrame, known_as_of: dt.date | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the measurements a settlement sees, the rows it does not): a row delivered after `known_as_of` is not
    known yet; of the deliveries of one measurement known by then, the latest counts (a row without a
    `delivered_on` is the first delivery) and each earlier one is superseded by it (docs/semantics.md)."""
    if measurements["delivered"].null_count() == measurements.height:  # one delivery, all known: nothing to do
        return measurements, _WITHHELD.clear()
    parts = []
    if known_as_of is not None:
        late = pl.col("delivered").is_not_null() & (pl.col("delivered") > pl.lit(known_as_of))
        parts.append(measurements.filter(late).with_columns(reason=pl.lit("not_delivered"),
                                                             by_line=pl.lit(None, pl.Int64)))
        measurements = measurements.filter(~late)
    key = ["subject_id", "measure", "point"]
    winner = (measurements.sort(["delivered", "line"], nulls_last=False)
              .group_by(key, maintain_order=True).agg(pl.col("line").last().alias("by_line")))
    measurements = measurements.join(winner, on=key, how="left", maintain_order="left")
    parts.append(measurements.filter(pl.col("line") != pl.col("by_line")).with_columns(reason=pl.lit("superseded")))
    seen = measurements.filter(pl.col("line") == pl.col("by_line")).drop("by_line")
    withheld = pl.concat([p.select(_WITHHELD.columns) for p in parts]).sort("line") if parts else _WITHHELD.clear()
    return seen, withheld


def load_ledger(directory: str | Path, contract: m.Contract, known_as_of: dt.date | None = None) -> Ledger:
    """Read and check every file of a ledger directory; raise LedgerError listing every problem. With
    `known_as_of`, the measurements delivered after it (`delivered_on`) are withheld."""
    d = Path(directory)
    if not d.is_dir():
        raise LedgerError([error("CL040", f"{d} is not a directory of ledger CSV files")])
    required = {
        "cohorts.csv": any(g.from_cohort for g in contract.goals),
        "households.csv": True,
        "persons.csv": any(ms.level == "person" for ms in contract.measures)
        or any(g.level == "persons" for g in contract.goals),
        "measurements.csv": bool(contract.measures),
        "payments.csv": False,
    }
    problems = Problems(d)
    declared = {"persons.csv": tuple(a for a in contract.attributes if a.level == "person"),
                "households.csv": tuple(a for a in contract.attributes if a.level == "household")}
    tables: dict[str, Table | None] = {name: read_table(d, name, required[name], problems,
                                                        tuple(a.id for a in declared.get(name, ())))
                                       for name in required}

    def usable(name: str) -> Table | None:
        table = tables[name]
        return table if table is not None and table.frame is not None else None

    frames = {kind: checks.empty(kind) for kind in checks.SCHEMAS}
    if usable("cohorts.csv"):
        frames["cohorts"] = checks.cohorts(problems, tables["cohorts.csv"])
    cohorts_present = os.path.lexists(d / "cohorts.csv")
    if usable("households.csv"):
        frames["households"] = checks.households(problems, tables["households.csv"],
                                                 checks.ids(usable("cohorts.csv"), "cohort"), cohorts_present)
    household_ids = checks.ids(usable("households.csv"), "household_id")
    if usable("persons.csv"):
        frames["persons"] = checks.persons(problems, tables["persons.csv"], household_ids)
    if usable("measurements.csv"):
        person_ids = checks.ids(usable("persons.csv"), "person_id")
        if person_ids is None and not os.path.lexists(d / "persons.csv"):
            person_ids = pl.Series([], dtype=pl.Utf8)  # no persons.csv: no person can be measured
        frames["measurements"] = checks.measurements(problems, tables["measurements.csv"], contract,
                                                     person_ids, household_ids)
    attributes = {name[:-5]: checks.attributes(problems, usable(name), declared[name], id_column)
                  for name, id_column in (("persons.csv", "person_id"), ("households.csv", "household_id"))
                  if declared[name] and usable(name)}
    payments = checks.payments(problems, usable("payments.csv"), contract) if usable("payments.csv") else None
    if payments is not None and (contract.settlement is None or contract.settlement.adjustment is None):
        problems.at("payments.csv", 1, 1, "CL044", "the ledger records payments, but the contract does not say how a "
                    "paid period is adjusted when its entitlement moves",
                    hint="declare it in the settlement block: adjust paid periods at each settlement | until DATE | "
                         "until due + N months | once on DATE")
    if problems:
        raise LedgerError(problems.diagnostics())
    frames = {kind: frame.select([pl.col(c).cast(t) for c, t in checks.SCHEMAS[kind].items()])
              for kind, frame in frames.items()}
    files = [{"file": name, "sha256": tables[name].sha256, "rows": tables[name].rows}
             for name in FILES if tables[name] is not None]
    frames["measurements"], withheld = withhold(frames["measurements"], known_as_of)
    return Ledger(str(d), LedgerFrames(**frames), files, {ms.id: ms for ms in contract.measures}, withheld,
                  known_as_of, payments, attributes, {a.id: a for a in contract.attributes})
