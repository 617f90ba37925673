"""Generate a synthetic Kolding "En ny start for flere" ledger in the CSV format of LEDGER.md.

The data are invented but shaped like the press release: 70 long-term unemployed
citizens on transfer income, enrolled over the first year, each a household of
one. Every half-year for 36 months the register gives the citizen's status
(ordinary job, subsidised job, education, transfer income, other) and the weeks
of the half-year without transfer income. Some citizens leave the intervention
early (they stay in the register), a few move out of the municipality (no data
after the move) and a few register values are missing. One
``random.Random(seed)`` drives everything, so equal arguments give
byte-identical files.

    python contracts/kolding-ny-start/make_ledger.py
"""

from __future__ import annotations

import argparse
import calendar
import contextlib
import csv
import datetime as dt
import pathlib
import random
import sys

HEADERS = {  # file name -> header row, in the order the files are written
    "households.csv": ("household_id", "group", "start_date", "end_date", "end_reason",
                       "replaces", "cohort"),
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
}

CITIZENS = 70  # "op til 70 borgere" (Indledning ¶3)
ENROLMENT = (dt.date(2022, 9, 1), dt.date(2023, 8, 31))
INTERVENTION_END = dt.date(2025, 8, 31)
POINTS = ("m6", "m12", "m18", "m24", "m30", "m36")
WEEKS = 26  # weeks in a half-year
MOVED = 4  # citizens who move out of the municipality (no register data after the move)
DROPPED = 7  # citizens who leave the intervention early (still in the register)
MISSING_RATE = 0.02  # register values missing at random

# Chance of moving from one status to another over a half-year; the chance of
# finding an ordinary job rises as the intervention takes hold, then falls off.
JOB_CHANCE = (0.08, 0.13, 0.14, 0.12, 0.10, 0.08)
TRANSITIONS = {
    "subsidised_job": (("ordinary_job", 35), ("transfer_income", 45), ("subsidised_job", 20)),
    "ordinary_job": (("ordinary_job", 86), ("transfer_income", 12), ("education", 2)),
    "education": (("education", 60), ("ordinary_job", 20), ("transfer_income", 20)),
    "other": (("other", 50), ("transfer_income", 50)),
}
FROM_TRANSFER = (("subsidised_job", 10), ("education", 5), ("other", 3))


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` plus calendar months, clamped to the last day of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _pick(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs)
    return rng.choices(values, weights)[0]


def _next_status(rng: random.Random, status: str, k: int) -> str:
    """The status at the end of half-year ``k`` (0-based) after ``status`` at its start."""
    if status != "transfer_income":
        return _pick(rng, TRANSITIONS[status])
    if rng.random() < JOB_CHANCE[k]:
        return "ordinary_job"
    return _pick(rng, FROM_TRANSFER + (("transfer_income", 100 - sum(w for _, w in FROM_TRANSFER)),))


def _weeks_off(rng: random.Random, before: str, now: str) -> int:
    """Weeks of the half-year without transfer income, given the status at its start and end."""
    if now == "ordinary_job":
        return rng.randint(24, WEEKS) if before == "ordinary_job" else rng.randint(4, 22)
    if before == "ordinary_job":  # a job lost during the half-year
        return rng.randint(2, 20)
    if now in ("subsidised_job", "education"):
        return rng.randint(8, WEEKS)
    return 0


def generate(out_dir: pathlib.Path, *, seed: int = 6) -> dict:
    """Write households.csv, persons.csv and measurements.csv of a Kolding ledger into ``out_dir``.

    Args:
        out_dir: directory to write to (created if needed; files are replaced).
        seed: seed of the single random generator; equal arguments give equal files.

    Returns:
        Row counts ``{"households": .., "persons": .., "measurements": ..}``.
    """
    rng = random.Random(seed)
    first, last = (d.toordinal() for d in ENROLMENT)
    starts = sorted(dt.date.fromordinal(rng.randint(first, last)) for _ in range(CITIZENS))
    leavers = rng.sample(range(CITIZENS), MOVED + DROPPED)
    moved, dropped = set(leavers[:MOVED]), set(leavers[MOVED:])
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(("households", "persons", "measurements"), 0)
    with contextlib.ExitStack() as stack:
        writers = {}
        for name, header in HEADERS.items():
            f = stack.enter_context(open(out_dir / name, "w", newline="", encoding="utf-8"))
            writers[name] = csv.writer(f, lineterminator="\n")
            writers[name].writerow(header)
        for i, start in enumerate(starts):
            hid, pid = f"H{i + 1:03d}", f"P{i + 1:03d}"
            if i in moved:
                end, reason = start + dt.timedelta(days=rng.randint(120, 700)), "moved"
            elif i in dropped:
                end, reason = start + dt.timedelta(days=rng.randint(30, 300)), "dropped"
            else:
                end, reason = min(add_months(start, 24), INTERVENTION_END), "completed"
            age = rng.randint(23, 56)
            birth = add_months(start, -12 * age) - dt.timedelta(days=rng.randint(0, 364))
            writers["households.csv"].writerow(
                (hid, "intervention", start.isoformat(), end.isoformat(), reason, "", ""))
            writers["persons.csv"].writerow((pid, hid, birth.isoformat(), ""))
            counts["households"] += 1
            counts["persons"] += 1
            rows = [(pid, "job_status", "baseline", start.isoformat(), "transfer_income")]
            status = "transfer_income"
            for k, point in enumerate(POINTS):
                day = add_months(start, 6 * (k + 1))
                now = _next_status(rng, status, k)
                weeks = _weeks_off(rng, status, now)
                status = now
                if reason == "moved" and day > end:
                    continue  # Kolding no longer holds the citizen's register data
                if rng.random() >= MISSING_RATE:
                    rows.append((pid, "job_status", point, day.isoformat(), now))
                if rng.random() >= MISSING_RATE:
                    rows.append((pid, "weeks_off_benefit", point, day.isoformat(), weeks))
            writers["measurements.csv"].writerows(rows)
            counts["measurements"] += len(rows)
    return counts


def main(argv=None) -> int:
    """Command-line entry point: generate a ledger and print its row counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent / "ledger",
                        help="output directory (default: ledger/ beside this script)")
    parser.add_argument("--seed", type=int, default=6, help="random seed")
    args = parser.parse_args(argv)
    for name, count in generate(args.out, seed=args.seed).items():
        print(f"{name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
