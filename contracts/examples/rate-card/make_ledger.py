"""Generate the sample ledger of the rate-card example (LEDGER.md format).

40 young people start one by one during 2025, each a household of one. At six
months we record whether school attendance improved; at twelve months the
highest qualification reached and the weeks in work. A few left early and
have no twelve-month row. One ``random.Random(seed)`` drives everything, so the
same arguments give byte-identical files.

    python contracts/examples/rate-card/make_ledger.py [--out DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import pathlib
import random

HEADERS = {
    "households.csv": ("household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"),
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
}


def _plus_months(day: dt.date, months: int) -> dt.date:
    m0 = day.month - 1 + months
    year, month = day.year + m0 // 12, m0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def generate(out_dir, participants: int = 40, seed: int = 2025) -> dict:
    rng = random.Random(seed)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    households, persons, measurements = [], [], []
    for i in range(1, participants + 1):
        hid, pid = f"H{i:03}", f"P{i:03}"
        start = dt.date(2025, 1, 6) + dt.timedelta(days=rng.randrange(0, 330))
        left = rng.random() < 0.1
        end = start + dt.timedelta(days=rng.randrange(200, 330)) if left else None
        households.append((hid, "intervention", start.isoformat(), end.isoformat() if end else "",
                           "dropped" if left else "", "", ""))
        birth = dt.date(start.year - rng.randint(16, 19), rng.randint(1, 12), rng.randint(1, 28))
        persons.append((pid, hid, birth.isoformat(), ""))
        m6, m12 = _plus_months(start, 6), _plus_months(start, 12)
        measurements.append((pid, "attendance_improved", "m6", m6.isoformat(),
                             "true" if rng.random() < 0.55 else "false"))
        if left:
            continue
        level = rng.choices(("none", "entry_level", "level1", "level2"), weights=(30, 25, 25, 20))[0]
        weeks = rng.choice((0, 0, 0, 4, 9, 14, 20, 27, 35, 52))
        measurements.append((pid, "qualification", "m12", m12.isoformat(), level))
        measurements.append((pid, "employed_weeks", "m12", m12.isoformat(), str(weeks)))
    for name, rows in (("households.csv", households), ("persons.csv", persons), ("measurements.csv", measurements)):
        with open(out / name, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(HEADERS[name])
            w.writerows(rows)
    return {"participants": participants, "measurements": len(measurements)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(pathlib.Path(__file__).parent / "ledger"))
    ap.add_argument("--seed", type=int, default=2025)
    args = ap.parse_args()
    print(generate(args.out, seed=args.seed))
