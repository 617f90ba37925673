"""A small builder of ledgers for tests: write the four CSV files from Python lists; and what the tests that
work a settlement out by hand read a ledger with."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
from pathlib import Path

from contractlang.ledger import FILES


class LedgerBuilder:
    """Collects households, persons, cohorts and measurements; `write(dir)` makes the CSV files."""

    def __init__(self):
        self.households, self.persons, self.cohorts, self.measurements = [], [], [], []

    def household(self, hid, start, *, group="intervention", end="", reason="", replaces="", cohort=""):
        self.households.append([hid, group, start, end, reason, replaces, cohort])
        return self

    def person(self, pid, hid, birth="1980-01-01", grade=""):
        self.persons.append([pid, hid, birth, str(grade)])
        return self

    def cohort(self, cid, start):
        self.cohorts.append([cid, start])
        return self

    def measure(self, sid, measure, point, value, date=""):
        self.measurements.append([sid, measure, point, date, value])
        return self

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name, rows in (("households.csv", self.households), ("persons.csv", self.persons),
                           ("cohorts.csv", self.cohorts), ("measurements.csv", self.measurements)):
            with (directory / name).open("w", newline="", encoding="utf-8") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(FILES[name])
                w.writerows(rows)
        return directory


def plus_months(day: dt.date, months: int) -> dt.date:
    """`day` plus whole calendar months, clamped to the month's last day (as a point `start + N months` falls)."""
    m0 = day.month - 1 + months
    year, month = day.year + m0 // 12, m0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age(birth: dt.date, day: dt.date) -> int:
    """Whole years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def csv_rows(directory: Path, name: str) -> list[dict]:
    """The rows of a ledger file as dicts by column."""
    with (directory / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))
