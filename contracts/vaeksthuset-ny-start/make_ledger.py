"""Generate a synthetic ledger for Ny Start (Væksthuset) in the CSV format of LEDGER.md.

The data are invented but shaped like the midway evaluation (seed 000): 40
places used side by side, courses of about 30 weeks that start on a Monday and
end on a Friday, young people aged 19-29, and - among the courses that had
ended by mid-May 2021 - exactly the seed's table: 11 in job or education, 14 on
a step towards self-support, 31 with a plan for specialised help and 13
interrupted early (6 of them moved away). Courses that end after mid-May 2021
and by the end of the project (30 September 2021) get results of their own;
they are paid for but are not part of the seed's table.

Each young person is a household of one. One ``random.Random(seed)`` drives
everything, so equal arguments give byte-identical files.

    python contracts/vaeksthuset-ny-start/make_ledger.py
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import pathlib
import random
import sys

FIRST_MONDAY = dt.date(2019, 9, 2)  # the intervention starts in the autumn of 2019 (assumed 1 September)
LAST_FIRST_START = dt.date(2020, 1, 27)  # every place is in use by the end of January 2020
RECKONING = dt.date(2021, 5, 15)  # "medio maj 2021" (assumed date)
PROJECT_END = dt.date(2021, 9, 30)
PLACES = 40
# The seed's table: result -> number among the courses that had ended by mid-May 2021.
SEED_TABLE = (("job_or_education", 11), ("towards_self_support", 14), ("specialised_plan", 31),
              ("interrupted", 13))
# The interrupted: "blandt andet fraflyttere (6 stk.), kun fremmødt få dage, ophør af ydelse,
# afsoning, kontakt ikke opnået, afgået ved døden".
SEED_INTERRUPTED_REASONS = ("moved",) * 6 + ("dropped",) * 4 + ("other",) * 3
# Results of the courses that end after the reckoning (no figure in the seed).
LATER_RESULTS = (("job_or_education", 22), ("towards_self_support", 25), ("specialised_plan", 38),
                 ("interrupted", 15))
HEADERS = {
    "households.csv": ("household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort"),
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
}


def _monday_on_or_after(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _course_end(start: dt.date, weeks: int) -> dt.date:
    """A course of ``weeks`` weeks that starts on a Monday ends on the Friday of its last week."""
    return start + dt.timedelta(days=7 * weeks - 3)


def _weeks(rng: random.Random, result: str) -> int:
    """Weeks attended: an interrupted course lasts 1-16 weeks, a completed one about 30."""
    if result == "interrupted":
        return rng.choice((1, 1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16))
    return min(42, max(18, round(rng.gauss(30, 5))))


def _pick(rng: random.Random, table) -> str:
    values, weights = zip(*table)
    return rng.choices(values, weights)[0]


def _slot(rng: random.Random, finished: list[str]) -> list[tuple[dt.date, int, str]]:
    """One place's courses: ``finished`` end by the reckoning; later ones end after it.

    Returns ``(start, weeks, result)`` per course. Durations are drawn again until
    the finished courses fit before the reckoning (the draws are seeded, so the
    result is still deterministic).
    """
    while True:
        start = FIRST_MONDAY + dt.timedelta(weeks=rng.randint(0, (LAST_FIRST_START - FIRST_MONDAY).days // 7))
        courses, day = [], start
        for result in finished:
            weeks = _weeks(rng, result)
            courses.append((day, weeks, result))
            day = _monday_on_or_after(_course_end(day, weeks) + dt.timedelta(days=rng.randint(3, 40)))
        if not courses or _course_end(*courses[-1][:2]) < RECKONING:
            break
    # Later courses: the first must run past the reckoning (a place may stand empty for a
    # while); every course must end by the end of the project.
    first = True
    while True:
        result = _pick(rng, LATER_RESULTS)
        weeks = _weeks(rng, result)
        if first and _course_end(day, weeks) <= RECKONING:
            day = _monday_on_or_after(RECKONING - dt.timedelta(days=7 * weeks - 4 - rng.randint(0, 21)))
        if _course_end(day, weeks) > PROJECT_END:
            break
        courses.append((day, weeks, result))
        day = _monday_on_or_after(_course_end(day, weeks) + dt.timedelta(days=rng.randint(3, 40)))
        first = False
    return courses


def _birth_date(rng: random.Random, start: dt.date, age: int) -> dt.date:
    """A birth date that makes the person ``age`` years old on ``start``."""
    latest = start.replace(year=start.year - age)
    return latest - dt.timedelta(days=rng.randint(0, 364))


def plan(seed: int = 2019) -> list[dict]:
    """Every course of the project in start order: start, end, weeks, result, end reason, age."""
    rng = random.Random(seed)
    finished = [result for result, n in SEED_TABLE for _ in range(n)]
    rng.shuffle(finished)
    reasons = list(SEED_INTERRUPTED_REASONS)
    rng.shuffle(reasons)
    # 69 finished courses over 40 places: 29 places ran two of them, 11 ran one.
    per_slot = [2] * 29 + [1] * 11
    rng.shuffle(per_slot)
    courses, k = [], 0
    for n in per_slot:
        for i, (start, weeks, result) in enumerate(_slot(rng, finished[k:k + n])):
            end = _course_end(start, weeks)
            if result != "interrupted":
                reason = "completed"
            elif i < n:
                reason = reasons.pop()
            else:
                reason = rng.choice(("moved", "dropped", "dropped", "other"))
            courses.append({"start": start, "end": end, "weeks": weeks, "result": result, "reason": reason,
                            "age": min(29, max(19, round(rng.gauss(23, 2.8))))})
        k += n
    courses.sort(key=lambda c: (c["start"], c["end"]))
    for c in courses:
        c["birth"] = _birth_date(rng, c["start"], c["age"])
    return courses


def generate(out_dir: pathlib.Path, *, seed: int = 2019) -> dict:
    """Write households.csv, persons.csv and measurements.csv of a Ny Start ledger into ``out_dir``.

    Args:
        out_dir: directory to write to (created if needed; files are replaced).
        seed: seed of the single random generator; equal seeds give equal files.

    Returns:
        Row counts ``{"households": .., "persons": .., "measurements": ..}``.
    """
    courses = plan(seed)
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = {name: [header] for name, header in HEADERS.items()}
    for i, c in enumerate(courses, start=1):
        hid, pid, end = f"H{i:03d}", f"P{i:03d}", c["end"].isoformat()
        rows["households.csv"].append((hid, "intervention", c["start"].isoformat(), end, c["reason"], "", ""))
        rows["persons.csv"].append((pid, hid, c["birth"].isoformat(), ""))
        rows["measurements.csv"].append((pid, "result", "course_end", end, c["result"]))
        rows["measurements.csv"].append((pid, "weeks_attended", "course_end", end, str(c["weeks"])))
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
    parser.add_argument("--seed", type=int, default=2019, help="random seed")
    args = parser.parse_args(argv)
    for name, count in generate(args.out, seed=args.seed).items():
        print(f"{name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
