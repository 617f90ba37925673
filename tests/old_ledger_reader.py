"""The happy path of the row-by-row ledger reader as it was at commit 6fe9577, frozen for one test:
the new reader's Python views must equal what this builds from every bundled (valid) ledger.

Only what a valid ledger exercises is kept: the old reader's checks are in tests/test_ledger.py
as located errors. Values are typed by the same `parse_value` rules of that commit (enum text,
booleans, Decimal, int)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path

FILES = ("households.csv", "persons.csv", "cohorts.csv", "measurements.csv")


def _rows(path: Path):
    if not path.exists():
        return
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    header = next(csv.reader([lines[0]]))
    for lineno, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        fields = raw.split(",") if '"' not in raw else next(csv.reader([raw]))
        yield lineno, {h: v.strip() for h, v in zip(header, fields)}


def _date(text):
    return dt.date.fromisoformat(text) if text else None


def _value(measure, text):
    if measure.kind == "enum":
        return text
    if measure.kind == "boolean":
        return text == "true"
    number = Decimal(text)
    return int(number) if measure.kind == "integer" else number


def read(directory: Path, contract) -> dict:
    """households, persons, cohorts, values, members, replaced_by and files, as the old reader made them."""
    households, persons, cohorts, values, members, replaced_by = {}, {}, {}, {}, {}, {}
    counts = {}
    for lineno, r in _rows(directory / "cohorts.csv"):
        counts["cohorts.csv"] = counts.get("cohorts.csv", 0) + 1
        cohorts[r["cohort"]] = (_date(r["start_date"]), lineno)
    for lineno, r in _rows(directory / "households.csv"):
        counts["households.csv"] = counts.get("households.csv", 0) + 1
        households[r["household_id"]] = (r["household_id"], r["group"], _date(r["start_date"]),
                                         _date(r.get("end_date", "")), r.get("end_reason") or None,
                                         r.get("replaces") or None, r.get("cohort") or None, lineno)
    for h in households.values():
        if h[5] in households:
            replaced_by.setdefault(h[5], h[0])
    for lineno, r in _rows(directory / "persons.csv"):
        counts["persons.csv"] = counts.get("persons.csv", 0) + 1
        grade = r.get("school_grade", "")
        persons[r["person_id"]] = (r["person_id"], r["household_id"], _date(r["birth_date"]),
                                   int(grade) if grade else None, lineno)
        members.setdefault(r["household_id"], []).append(r["person_id"])
    measures = {ms.id: ms for ms in contract.measures}
    for lineno, r in _rows(directory / "measurements.csv"):
        counts["measurements.csv"] = counts.get("measurements.csv", 0) + 1
        value = _value(measures[r["measure"]], r["value"])
        values[r["subject_id"], r["measure"], r["point"]] = (type(value).__name__, str(value), lineno,
                                                             _date(r.get("date", "")))
    files = [{"file": name, "sha256": hashlib.sha256((directory / name).read_bytes()).hexdigest(),
              "rows": counts.get(name, 0)} for name in FILES if (directory / name).exists()]
    return {"households": households, "persons": persons, "cohorts": cohorts, "values": values,
            "members": members, "replaced_by": replaced_by, "files": files}
