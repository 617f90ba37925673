"""Generate the sample ledger of the Istanbul Kodluyor example (LEDGER.md format, with the contract's attribute
`gender` in persons.csv).

The bootcamp runs classes that start each month from September 2023 to December 2024; each participant is a
household of one. The shares below are invented (the project's results are not public) but chosen so that the
ledger reaches every tier of the contract: more than 410 jobs sustained for six months, and more than 92 of
them by women. One ``random.Random(seed)`` drives everything, so the same arguments give byte-identical files.

    python contracts/examples/istanbul-kodluyor/make_ledger.py [--out DIR] [--participants N] [--seed N]
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
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade", "gender"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
}
FEMALE = 0.45        # share of women among the participants
COMPLETES = 0.88     # completes the core training
JOB = 0.84           # finds an ICT job, having completed the training (0.1 without)
SUSTAINS = 0.9       # keeps it six months
NO_ROW = 0.02        # a measurement the provider never reported


def _plus_months(day: dt.date, months: int) -> dt.date:
    m0 = day.month - 1 + months
    year, month = day.year + m0 // 12, m0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def generate(out_dir, participants: int = 650, seed: int = 302) -> dict:
    rng = random.Random(seed)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {name: [] for name in HEADERS}
    for i in range(1, participants + 1):
        hid, pid = f"H{i:04}", f"P{i:04}"
        start = _plus_months(dt.date(2023, 9, 4), rng.randrange(16))
        rows["households.csv"].append((hid, "intervention", start.isoformat(), "", "", "", ""))
        birth = dt.date(start.year - rng.randint(18, 35), rng.randint(1, 12), rng.randint(1, 28))
        rows["persons.csv"].append((pid, hid, birth.isoformat(), "", "female" if rng.random() < FEMALE else "male"))
        completed = rng.random() < COMPLETES
        job = rng.random() < (JOB if completed else 0.1)
        kept = job and rng.random() < SUSTAINS
        for measure, point, months, value in (("completed_training", "training_end", 4, completed),
                                              ("ict_job", "placed", 6, job), ("ict_job_6m", "sustained", 12, kept)):
            if rng.random() >= NO_ROW:
                rows["measurements.csv"].append((pid, measure, point, _plus_months(start, months).isoformat(),
                                                 "true" if value else "false"))
    for name, header in HEADERS.items():
        with (out / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows[name])
    return {name: len(r) for name, r in rows.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parent / "ledger"))
    ap.add_argument("--participants", type=int, default=650)
    ap.add_argument("--seed", type=int, default=302)
    args = ap.parse_args(argv)
    print(generate(args.out, args.participants, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
