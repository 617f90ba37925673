"""Generate a synthetic ledger for Langtidsledige tager teten (Aarhus) in the CSV format of LEDGER.md.

The data are invented but shaped like the SUS report of 2018 (seed 002): 97
participants in the four trial phases (15, 12, 17 and 53, s. 9 and s. 12-14),
all job-ready cash-benefit recipients over 30 with more people in their fifties,
each with a personal budget of at most DKK 50,000 built from the kinds of items
the report lists (courses, driving licence, computer, dental treatment, start-up
of a business ...), and a course of about six months. The grants add up to
exactly DKK 4,083,685 (mean 42,099.85, reported as 42,100), and 7 participants
from the randomly selected phases 4 and 5 misused DKK 150,000 in all (s. 31).

Each participant is a household of one. One ``random.Random(seed)`` drives
everything, so equal arguments give byte-identical files.

    python contracts/aarhus-personlige-budgetter/make_ledger.py
"""

from __future__ import annotations

import argparse
import calendar
import csv
import datetime as dt
import pathlib
import random
import sys

CAP = 50_000
GRANTS_TOTAL = 4_083_685  # s. 9
MISUSE_TOTAL = 150_000  # s. 31
MISUSERS = 7  # s. 31: "7 ud af 97 deltagere"
MIN_GRANT = 6_000
DATA_WINDOW_CLOSES = dt.date(2018, 5, 31)  # "datavinduet lukkede i maj 2018" (s. 15)
# Phase -> (participants, first and last day a budget was approved). Phases 2 and 3 were
# chosen by their job consultant, phases 4 and 5 drawn at random by CPR number (s. 5).
PHASES = (
    (2, 15, dt.date(2016, 2, 1), dt.date(2016, 4, 15)),
    (3, 12, dt.date(2016, 9, 1), dt.date(2016, 11, 15)),
    (4, 17, dt.date(2017, 3, 1), dt.date(2017, 5, 15)),
    (5, 53, dt.date(2017, 9, 1), dt.date(2017, 11, 30)),
)
# Budget items (s. 18-20): name, chance that a participant budgets it, price range in DKK.
ITEMS = (
    ("courses", 0.90, 8_000, 40_000),
    ("driving_licence", 0.19, 13_000, 19_500),
    ("computer", 0.50, 4_000, 14_000),
    ("dental", 0.10, 8_000, 40_000),
    ("coach_or_therapy", 0.25, 4_000, 18_000),
    ("dietitian_and_training", 0.10, 2_000, 9_000),
    ("glasses_and_clothes", 0.25, 1_000, 6_000),
    ("start_up", 0.25, 15_000, 45_000),
    ("other", 0.50, 2_000, 15_000),
)
HEADERS = {
    "households.csv": ("household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"),
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
}


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _budget(rng: random.Random) -> int:
    """One participant's budget: the items chosen, priced, and kept within the cap."""
    total = 0
    while total < MIN_GRANT:
        for _, chance, low, high in ITEMS:
            if rng.random() < chance:
                total += round(rng.randint(low, high), -1 if rng.random() < 0.6 else 0)
    return min(total, CAP)


def _fit_total(rng: random.Random, grants: list[int], target: int) -> None:
    """Nudge the grants, in seeded random steps, until they add up to ``target`` exactly.

    No grant leaves the range MIN_GRANT..CAP.
    """
    diff = target - sum(grants)
    while diff:
        i = rng.randrange(len(grants))
        step = min(abs(diff), rng.randint(1, 2_500))
        if diff > 0:
            step = min(step, CAP - grants[i])
        else:
            step = -min(step, grants[i] - MIN_GRANT)
        grants[i] += step
        diff -= step


def _misuse(rng: random.Random, grants: list[int], candidates: list[int]) -> dict[int, int]:
    """Misused amounts of ``MISUSERS`` participants: two misused all, the rest a part; the sum is exact."""
    while True:
        chosen = sorted(rng.sample(candidates, MISUSERS))
        whole = chosen[:2] if rng.random() < 0.5 else chosen[-2:]
        amounts = {i: grants[i] for i in whole}
        rest = MISUSE_TOTAL - sum(amounts.values())
        partial = [i for i in chosen if i not in amounts]
        weights = [rng.uniform(0.15, 0.9) * grants[i] for i in partial]
        scale = rest / sum(weights) if rest > 0 else 0
        for i, w in zip(partial, weights):
            amounts[i] = int(round(w * scale, -1))
        amounts[partial[-1]] += MISUSE_TOTAL - sum(amounts.values())
        if rest > 0 and all(0 < amounts[i] < grants[i] for i in partial):
            return amounts


def _age(rng: random.Random, phase: int) -> int:
    """Age at the start: over 30, most in their fifties; nobody over 60 in phases 2 and 3 (s. 9)."""
    top = 60 if phase in (2, 3) else 64
    return rng.choices(range(31, top + 1), [1 + 2 * (50 <= a <= 59) for a in range(31, top + 1)])[0]


def _birth_date(rng: random.Random, start: dt.date, age: int) -> dt.date:
    """A birth date that makes the person ``age`` years old on ``start``."""
    latest = dt.date(start.year - age, start.month, min(start.day, 28 if start.month == 2 else 31))
    return latest - dt.timedelta(days=rng.randint(0, 364))


def plan(seed: int = 2018) -> list[dict]:
    """Every participant in start order: phase, start, end, age, birth date, grant and misuse."""
    rng = random.Random(seed)
    people = []
    for phase, n, first, last in PHASES:
        for _ in range(n):
            start = first + dt.timedelta(days=rng.randint(0, (last - first).days))
            if start.weekday() >= 5:  # budgets are approved on weekdays
                start += dt.timedelta(days=7 - start.weekday())
            # "ca. seks måneder efter godkendelse af budgettet" (s. 39), sometimes extended.
            end = _add_months(start, rng.choice((5, 6, 6, 6, 6, 7, 8))) + dt.timedelta(days=rng.randint(-10, 10))
            end = min(end, DATA_WINDOW_CLOSES)
            people.append({"phase": phase, "start": start, "end": end, "age": _age(rng, phase)})
    people.sort(key=lambda p: (p["start"], p["phase"]))
    grants = [_budget(rng) for _ in people]
    _fit_total(rng, grants, GRANTS_TOTAL)
    misuse = _misuse(rng, grants, [i for i, p in enumerate(people) if p["phase"] in (4, 5)])
    for i, p in enumerate(people):
        p["birth"] = _birth_date(rng, p["start"], p["age"])
        p["granted"] = grants[i]
        p["misused"] = misuse.get(i, 0)
    return people


def generate(out_dir: pathlib.Path, *, seed: int = 2018) -> dict:
    """Write households.csv, persons.csv and measurements.csv of an Aarhus ledger into ``out_dir``.

    Args:
        out_dir: directory to write to (created if needed; files are replaced).
        seed: seed of the single random generator; equal seeds give equal files.

    Returns:
        Row counts ``{"households": .., "persons": .., "measurements": ..}``.
    """
    people = plan(seed)
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = {name: [header] for name, header in HEADERS.items()}
    for i, p in enumerate(people, start=1):
        hid, pid = f"H{i:03d}", f"P{i:03d}"
        start, end = p["start"].isoformat(), p["end"].isoformat()
        rows["households.csv"].append((hid, "intervention", start, end, "completed", "", ""))
        rows["persons.csv"].append((pid, hid, p["birth"].isoformat(), ""))
        rows["measurements.csv"].append((pid, "granted", "budget", start, str(p["granted"])))
        rows["measurements.csv"].append((pid, "misused", "course_end", end, str(p["misused"])))
    for name, data in rows.items():
        with open(out_dir / name, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, lineterminator="\n").writerows(data)
    return {name.removesuffix(".csv"): len(data) - 1 for name, data in rows.items()}


def main(argv=None) -> int:
    """Command-line entry point: generate a ledger and print its row counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent / "ledger",
                        help="output directory (default: ledger/ beside this script)")
    parser.add_argument("--seed", type=int, default=2018, help="random seed")
    args = parser.parse_args(argv)
    for name, count in generate(args.out, seed=args.seed).items():
        print(f"{name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
