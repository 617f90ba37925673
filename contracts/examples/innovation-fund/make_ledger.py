"""Generate the sample ledger of the DWP Innovation Fund round-2 example (LEDGER.md format).

Young people aged 14 or 15 (a few 16-year-olds, whom round 2 does not pay for) join in monthly intakes from
November 2012 to April 2014; each is a household of one. At every review point of the contract the ledger says
whether the outcome has been achieved by then, so an outcome once achieved stays true at the later points (and
is paid once). Each participant has an engagement that raises every chance, so that some achieve more than the
maximum per participant (£11,700) pays for. A few rows were never reported: a missing entry to work leaves the
sustained-employment line without its prerequisite. Rows after the end of data collection (2016-04-30) are not
written. The shares are invented (the projects' results per participant are not public). One
``random.Random(seed)`` drives everything, so the same arguments give byte-identical files.

    python contracts/examples/innovation-fund/make_ledger.py [--out DIR] [--participants N] [--seed N]
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
DATA_ENDS = dt.date(2016, 4, 30)
AGED_16 = 0.05      # starters too old for round 2
NO_ROW = 0.02       # a measurement the provider never reported
# measure: (points, as (name, weeks or months after the start), chance of a first success at each point,
# its rise with engagement)
SCHOOL = {
    "behaviour_improved": ((("w13", "w", 13), ("w26", "w", 26), ("w39", "w", 39), ("w52", "w", 52)), 0.12, 0.3),
    "attendance_improved": ((("w13", "w", 13), ("w26", "w", 26), ("w39", "w", 39), ("w52", "w", 52)), 0.1, 0.3),
    "attitude_improved": ((("w26", "w", 26), ("w52", "w", 52)), 0.2, 0.4),
    "level1": ((("y1", "m", 12), ("y2", "m", 24)), 0.15, 0.4),
    "level2": ((("y1", "m", 12), ("y2", "m", 24)), 0.05, 0.4),
    "level3": ((("y1", "m", 12), ("y2", "m", 24)), 0.01, 0.06),
    "entry_level": ((("y1", "m", 12), ("y2", "m", 24)), 0.2, 0.2),
    "basic_skills": ((("y1", "m", 12), ("y2", "m", 24)), 0.2, 0.25),
}
JOB = ((("job_a", "w", 78), ("job_b", "w", 104)), 0.1, 0.35)
HELD = (("held_a", "w", 91), ("held_b", "w", 117))
KEEPS = 0.75        # holds the first job 13 weeks more


def _plus_months(day: dt.date, months: int) -> dt.date:
    m0 = day.month - 1 + months
    year, month = day.year + m0 // 12, m0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _at(start: dt.date, unit: str, n: int) -> dt.date:
    return start + dt.timedelta(weeks=n) if unit == "w" else _plus_months(start, n)


def _first(rng: random.Random, points: int, chance: float) -> int | None:
    """The index of the first point at which the outcome is achieved, or None."""
    for k in range(points):
        if rng.random() < chance:
            return k
    return None


def generate(out_dir, participants: int = 100, seed: int = 2012) -> dict:
    rng = random.Random(seed)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {name: [] for name in HEADERS}

    def measure(pid, start, name, point, unit, n, value):
        day = _at(start, unit, n)
        if day <= DATA_ENDS and rng.random() >= NO_ROW:
            rows["measurements.csv"].append((pid, name, point, day.isoformat(), "true" if value else "false"))

    for i in range(1, participants + 1):
        hid, pid = f"H{i:04}", f"P{i:04}"
        start = _plus_months(dt.date(2012, 11, 5), rng.randrange(18)) + dt.timedelta(days=rng.randrange(5))
        rows["households.csv"].append((hid, "intervention", start.isoformat(), "", "", "", ""))
        age = 16 if rng.random() < AGED_16 else rng.choice((14, 15))
        birth = dt.date(start.year - age, start.month, start.day) - dt.timedelta(days=rng.randrange(1, 360))
        rows["persons.csv"].append((pid, hid, birth.isoformat(), ""))
        engagement = rng.random() ** 1.5
        for name, (points, base, rise) in SCHOOL.items():
            first = _first(rng, len(points), base + rise * engagement)
            for k, (point, unit, n) in enumerate(points):
                measure(pid, start, name, point, unit, n, first is not None and k >= first)
        points, base, rise = JOB
        job = _first(rng, len(points), base + rise * engagement)
        for k, (point, unit, n) in enumerate(points):
            measure(pid, start, "employed_13w", point, unit, n, job is not None and k >= job)
        # 26 weeks in all: 13 weeks after the review that found the job; a first job at job_a not kept then
        # may still be held 26 weeks by held_b
        held = None
        if job is not None:
            if rng.random() < KEEPS:
                held = job
            elif job == 0 and rng.random() < 0.5:
                held = 1
        for k, (point, unit, n) in enumerate(HELD):
            measure(pid, start, "employed_26w", point, unit, n, held is not None and k >= held)
    for name, header in HEADERS.items():
        with (out / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows[name])
    return {name: len(r) for name, r in rows.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent / "ledger"))
    ap.add_argument("--participants", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2012)
    args = ap.parse_args(argv)
    print(generate(args.out, args.participants, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
