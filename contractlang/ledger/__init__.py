"""ledger: read a measurement ledger (a directory of CSV files) and check it against
the contract's data dictionary.

Every problem is reported with file, line and column, all of them at once, as a
`LedgerError`; nothing is evaluated from a ledger that has errors.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import difflib
import functools
import gc
import hashlib
import itertools
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from . import model as m
from .errors import LedgerError, error

GROUPS = ("intervention", "control")
END_REASONS = ("completed", "moved", "dropped", "no_longer_needed", "other")

FILES = {
    "households.csv": ("household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"),
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade"),
    "cohorts.csv": ("cohort", "start_date"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
}
REQUIRED = {"household_id", "group", "start_date", "person_id", "birth_date", "cohort",
            "subject_id", "measure", "point", "value"}
MAX_FILE_BYTES = 2_000_000_000


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


@attrs.define
class Ledger:
    """The ledger, typed and checked. `values` maps (subject, measure, point) to an Observation."""

    directory: str
    households: dict[str, Household]
    persons: dict[str, Person]
    cohorts: dict[str, tuple[dt.date, int]]
    values: dict[tuple[str, str, str], Observation]
    files: list[dict]  # [{"file", "sha256", "rows"}] in a fixed order
    members: dict[str, list[str]] = attrs.field(factory=dict)  # household id → person ids
    replaced_by: dict[str, str] = attrs.field(factory=dict)  # household id → id of its replacement


class _Reader:
    """Collects diagnostics while rows are read."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.diags: list = []

    def fail(self, file: str, line: int, col: int, message: str, code: str = "CL041", hint: str | None = None):
        span = m.SourceSpan(str(self.directory / file), line, col)
        self.diags.append(error(code, message, span, hint=hint))

    def rows(self, name: str, required: bool):
        """Yield (line number, {column: (value, col)}) for each data row of one file."""
        path = self.directory / name
        if not path.exists():
            if required:
                self.fail(name, 1, 1, f"the ledger has no {name}", "CL040")
            return None
        data = path.read_bytes()
        if b"\0" in data:
            self.fail(name, 1, 1, f"{name} holds binary data; a ledger file is UTF-8 CSV text", "CL040")
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            self.fail(name, line, 1, f"{name} is not valid UTF-8 text", "CL040")
            return None
        lines = text.splitlines()
        if not lines:
            self.fail(name, 1, 1, f"{name} is empty; it needs a header row", "CL040")
            return None
        header = next(csv.reader([lines[0]]))
        expected = FILES[name]
        for i, col in enumerate(header):
            if col not in expected:
                close = difflib.get_close_matches(col, expected, n=1)
                self.fail(name, 1, _col(header, i), f"unknown column '{col}' in {name}", "CL041",
                          hint=f"did you mean '{close[0]}'?" if close else "expected columns: " + ", ".join(expected))
        for col in expected:
            if col not in header and col in REQUIRED:
                self.fail(name, 1, 1, f"{name} has no column '{col}'", "CL041")
        return _iter_rows(self, name, lines, header)


def _col(fields: list[str], index: int) -> int:
    return sum(len(f) + 1 for f in fields[:index]) + 1


def _iter_rows(reader: _Reader, name: str, lines: list[str], header: list[str]):
    for lineno, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        # A line without quotes splits at its commas exactly as the CSV reader would split it.
        fields = raw.split(",") if '"' not in raw else next(csv.reader([raw]))
        if len(fields) != len(header):
            reader.fail(name, lineno, 1, f"the row has {len(fields)} fields; the header has {len(header)}")
            continue
        columns = itertools.accumulate((len(f) + 1 for f in fields), initial=1)  # where each field starts
        yield lineno, {h: (v.strip(), col) for h, v, col in zip(header, fields, columns)}


def _date(reader, name, lineno, cell, what, required=True):
    value, col = cell if cell else ("", 1)
    if not value:
        if required:
            reader.fail(name, lineno, col, f"{what} is empty; a date (YYYY-MM-DD) is required")
        return None
    try:
        if len(value) != 10:  # fromisoformat also takes 20241001; the ledger format does not
            raise ValueError(value)
        return _iso_date(value)
    except ValueError:
        reader.fail(name, lineno, col, f"{what} '{value}' is not a date in the form YYYY-MM-DD")
        return None


@functools.lru_cache(maxsize=100_000)  # a ledger repeats few distinct dates: share one object per date
def _iso_date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_value(measure: m.Measure, text: str):
    """Turn a CSV cell into the measure's type; raise ValueError with a reason."""
    if measure.kind == "enum":
        if text not in measure.values:
            close = difflib.get_close_matches(text, measure.values, n=1)
            raise ValueError(f"'{text}' is not a value of {measure.id}"
                             + (f"; did you mean '{close[0]}'?" if close else f" (one of {', '.join(measure.values)})"))
        return sys.intern(text)  # one copy of each enum value, not one per row
    if measure.kind == "boolean":
        if text not in ("true", "false"):
            raise ValueError(f"'{text}' is not a boolean; write true or false")
        return text == "true"
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number (decimals use '.')") from None
    if not number.is_finite():
        raise ValueError(f"'{text}' is not a finite number")
    if measure.kind == "integer" and number != number.to_integral_value():
        raise ValueError(f"'{text}' is not a whole number")
    if measure.low is not None and number < measure.low or measure.high is not None and number > measure.high:
        raise ValueError(f"{text} is outside the range {measure.low} to {measure.high} of {measure.id}")
    return int(number) if measure.kind == "integer" else number


# ---- the collector while millions of objects are built (loading here, settling in evaluate) ----------

# Allocations between young collections, young collections between middle ones, and middle
# collections between full ones. CPython's defaults are (700, 10, 10).
BULK_THRESHOLDS = (50_000, 10, 100)


@contextlib.contextmanager
def bulk_allocation():
    """Run the cyclic garbage collector less often while millions of small objects are built.

    Loading and settling a ledger allocate millions of dicts, lists and tuples that all live
    until the settlement is returned. With the default thresholds the collector re-examines
    them so often that it takes a third of the running time (100k persons), and on a million
    persons each full collection walks tens of millions of objects. Short-lived cycles are
    still collected by the young collections. The previous thresholds are restored on exit;
    higher thresholds set by the caller are kept, and a collector that is switched off stays off.
    """
    before = gc.get_threshold()
    if before[0] != 0:
        gc.set_threshold(*(max(old, bulk) for old, bulk in zip(before, BULK_THRESHOLDS)))
    try:
        yield
    finally:
        gc.set_threshold(*before)


def load_ledger(directory: str | Path, contract: m.Contract) -> Ledger:
    """Read and check every file of a ledger directory; raise LedgerError listing every problem."""
    with bulk_allocation():
        return _read_ledger(directory, contract)


def _read_ledger(directory: str | Path, contract: m.Contract) -> Ledger:
    d = Path(directory)
    reader = _Reader(d)
    if not d.is_dir():
        raise LedgerError([error("CL040", f"{d} is not a directory of ledger CSV files")])
    households: dict[str, Household] = {}
    persons: dict[str, Person] = {}
    cohorts: dict[str, tuple[dt.date, int]] = {}
    counts: dict[str, int] = {}

    rows = reader.rows("cohorts.csv", required=any(g.from_cohort for g in contract.goals))
    for lineno, r in rows or ():
        cid, col = r.get("cohort", ("", 1))
        start = _date(reader, "cohorts.csv", lineno, r.get("start_date"), "start_date")
        if not cid:
            reader.fail("cohorts.csv", lineno, col, "cohort is empty")
        elif cid in cohorts:
            reader.fail("cohorts.csv", lineno, col, f"cohort '{cid}' appears twice (first on line {cohorts[cid][1]})", "CL043")
        elif start:
            cohorts[cid] = (start, lineno)
        counts["cohorts.csv"] = counts.get("cohorts.csv", 0) + 1

    pending_refs = []
    for lineno, r in reader.rows("households.csv", required=True) or ():
        counts["households.csv"] = counts.get("households.csv", 0) + 1
        hid, col = r.get("household_id", ("", 1))
        group, gcol = r.get("group", ("", 1))
        start = _date(reader, "households.csv", lineno, r.get("start_date"), "start_date")
        end = _date(reader, "households.csv", lineno, r.get("end_date"), "end_date", required=False)
        reason, rcol = r.get("end_reason", ("", 1))
        replaces, pcol = r.get("replaces", ("", 1))
        cohort, ccol = r.get("cohort", ("", 1))
        ok = True
        if not hid:
            reader.fail("households.csv", lineno, col, "household_id is empty"); ok = False
        elif hid in households:
            reader.fail("households.csv", lineno, col, f"household '{hid}' appears twice (first on line {households[hid].line})", "CL043"); ok = False
        if group not in GROUPS:
            reader.fail("households.csv", lineno, gcol, f"group '{group}' is not one of {', '.join(GROUPS)}", "CL042"); ok = False
        if reason and reason not in END_REASONS:
            close = difflib.get_close_matches(reason, END_REASONS, n=1)
            reader.fail("households.csv", lineno, rcol, f"end_reason '{reason}' is not one of {', '.join(END_REASONS)}", "CL042",
                        hint=f"did you mean '{close[0]}'?" if close else None); ok = False
        if bool(reason) != bool(end):
            reader.fail("households.csv", lineno, rcol, "end_date and end_reason go together: give both or neither"); ok = False
        if start and end and end < start:
            reader.fail("households.csv", lineno, r["end_date"][1], f"end_date {end} is before start_date {start}", "CL042"); ok = False
        if cohort and cohorts and cohort not in cohorts:
            reader.fail("households.csv", lineno, ccol, f"cohort '{cohort}' is not in cohorts.csv", "CL044"); ok = False
        if replaces:
            pending_refs.append((lineno, pcol, replaces))
        if ok and start:
            households[hid] = Household(hid, group, start, end, reason or None, replaces or None, cohort or None, lineno)
    replaced_by: dict[str, str] = {}
    for lineno, col, ref in pending_refs:
        if ref not in households:
            reader.fail("households.csv", lineno, col, f"replaces '{ref}', which is not a household of the ledger", "CL044")
    for h in households.values():
        if h.replaces in households:
            replaced_by.setdefault(h.replaces, h.id)

    members: dict[str, list[str]] = {}
    needs_persons = any(ms.level == "person" for ms in contract.measures) or any(g.level == "persons" for g in contract.goals)
    for lineno, r in reader.rows("persons.csv", required=needs_persons) or ():
        counts["persons.csv"] = counts.get("persons.csv", 0) + 1
        pid, col = r.get("person_id", ("", 1))
        hid, hcol = r.get("household_id", ("", 1))
        birth = _date(reader, "persons.csv", lineno, r.get("birth_date"), "birth_date")
        grade_text, gcol = r.get("school_grade", ("", 1))
        grade = None
        ok = True
        if grade_text:
            if grade_text.isdigit() and 0 <= int(grade_text) <= 10:
                grade = int(grade_text)
            else:
                reader.fail("persons.csv", lineno, gcol, f"school_grade '{grade_text}' is not a grade from 0 to 10", "CL042"); ok = False
        if not pid:
            reader.fail("persons.csv", lineno, col, "person_id is empty"); ok = False
        elif pid in persons:
            reader.fail("persons.csv", lineno, col, f"person '{pid}' appears twice (first on line {persons[pid].line})", "CL043"); ok = False
        elif pid in households:
            reader.fail("persons.csv", lineno, col, f"'{pid}' is both a person and a household id", "CL043"); ok = False
        if hid not in households:
            reader.fail("persons.csv", lineno, hcol, f"household '{hid}' is not in households.csv", "CL044"); ok = False
        if ok and birth:
            persons[pid] = Person(pid, hid, birth, grade, lineno)
            members.setdefault(hid, []).append(pid)

    measures = {ms.id: ms for ms in contract.measures}
    values: dict[tuple[str, str, str], Observation] = {}
    for lineno, r in reader.rows("measurements.csv", required=bool(contract.measures)) or ():
        counts["measurements.csv"] = counts.get("measurements.csv", 0) + 1
        sid, scol = r.get("subject_id", ("", 1))
        mid, mcol = r.get("measure", ("", 1))
        point, pcol = r.get("point", ("", 1))
        text, vcol = r.get("value", ("", 1))
        date = _date(reader, "measurements.csv", lineno, r.get("date"), "date", required=False) if r.get("date") else None
        ms = measures.get(mid)
        if ms is None:
            close = difflib.get_close_matches(mid, measures, n=1)
            reader.fail("measurements.csv", lineno, mcol, f"unknown measure '{mid}'", "CL042",
                        hint=f"did you mean '{close[0]}'?" if close else "the contract declares: " + ", ".join(measures))
            continue
        known = persons if ms.level == "person" else households
        if sid not in known:
            reader.fail("measurements.csv", lineno, scol, f"subject '{sid}' is not a {ms.level} of the ledger "
                        f"({ms.id} is measured per {ms.level})", "CL044")
            continue
        if point not in ms.points:
            close = difflib.get_close_matches(point, ms.points, n=1)
            reader.fail("measurements.csv", lineno, pcol, f"{ms.id} is not measured at point '{point}' "
                        f"(points: {', '.join(ms.points)})", "CL042", hint=f"did you mean '{close[0]}'?" if close else None)
            continue
        if not text:
            reader.fail("measurements.csv", lineno, vcol, "value is empty; a missing measurement is a missing row, not an empty value")
            continue
        try:
            value = parse_value(ms, text)
        except ValueError as exc:
            reader.fail("measurements.csv", lineno, vcol, str(exc), "CL042")
            continue
        key = (known[sid].id, ms.id, sys.intern(point))  # shared strings: one copy of each id, not one per row
        if key in values:
            reader.fail("measurements.csv", lineno, scol, f"{mid} of {sid} at {point} appears twice "
                        f"(first on line {values[key].line})", "CL043")
            continue
        values[key] = Observation(value, lineno, date)
    if reader.diags:
        raise LedgerError(reader.diags)
    files = [{"file": name, "sha256": _sha256(d / name), "rows": counts.get(name, 0)}
             for name in FILES if (d / name).exists()]
    return Ledger(str(d), households, persons, cohorts, values, files, members, replaced_by)
