"""Generate a synthetic Rudersdal "Åben og Rolig" ledger in the CSV format of LEDGER.md.

The data are invented but shaped like the minutes (item 4, Økonomi): a pilot of
2 teams of 14 citizens in the winter 2020/21, then 6 teams of 14 a year for two
years under the pay-for-success collaboration. Each citizen's 9-week course is
a household of one: it starts on the first weekly session and ends on the last
(completed, at least 7 of 9 sessions attended) or on the last session attended
(dropped). Stress is measured on the PSS-10 (0-40) at the course's start, at
its end and 12 months after its end; dropouts are not followed up and a few
follow-ups are missing. One ``random.Random(seed)`` drives everything, so
equal arguments give byte-identical files.

    python contracts/rudersdal-aaben-og-rolig/make_ledger.py
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

# First session of each team: the pilot (winter 2020/21), then 6 teams in each
# of two course years (August to June). One team of the first year has only 13
# citizens, so the contract's enrolment flag for that year is raised.
PILOT_TEAMS = (dt.date(2021, 1, 11), dt.date(2021, 2, 1))
DIS_TEAMS = (
    dt.date(2021, 8, 16), dt.date(2021, 10, 4), dt.date(2021, 11, 15),
    dt.date(2022, 1, 10), dt.date(2022, 3, 7), dt.date(2022, 4, 25),
    dt.date(2022, 8, 15), dt.date(2022, 10, 3), dt.date(2022, 11, 14),
    dt.date(2023, 1, 9), dt.date(2023, 3, 6), dt.date(2023, 4, 24),
)
TEAM_SIZE = 14  # "Et hold består af maksimalt 14 deltagere" (Forløb ¶4)
SHORT_TEAM = 2  # index in DIS_TEAMS of the team with one place left empty
SESSIONS = 9  # weekly sessions (Forløb ¶2)
COMPLETED_AT = 7  # sessions needed to complete (the contract's decision)
DROPOUT_RATE = 0.06  # share of citizens who stop attending early
MISSED_SESSION_RATE = 0.05  # chance that a citizen who stays misses a given session
MISSING_END_RATE = 0.03  # course-end questionnaire not returned
MISSING_FOLLOWUP_RATE = 0.04  # 12-month questionnaire not returned
PSS_BASELINE = (25.0, 4.5)  # mean and spread of the PSS-10 at the start (a stressed group)
PSS_GAIN_END = (7.0, 4.0)  # fall in PSS-10 from start to course end
PSS_GAIN_FOLLOWUP = (8.5, 4.5)  # fall in PSS-10 from start to 12 months after the end


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` plus calendar months, clamped to the last day of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _pss(rng: random.Random, mean: float, spread: float) -> int:
    return min(40, max(0, round(rng.gauss(mean, spread))))


def _course(rng: random.Random, start: dt.date) -> tuple[dt.date, str]:
    """Return (end date, end reason) of one citizen's course starting on ``start``."""
    if rng.random() < DROPOUT_RATE:
        last = rng.randint(1, COMPLETED_AT - 2)  # stops after session 1-5
        return start + dt.timedelta(weeks=last - 1), "dropped"
    present = [k for k in range(SESSIONS) if rng.random() >= MISSED_SESSION_RATE]
    if len(present) < COMPLETED_AT:  # stayed, but missed too many sessions
        return start + dt.timedelta(weeks=max(present, default=0)), "dropped"
    return start + dt.timedelta(weeks=SESSIONS - 1), "completed"


def generate(out_dir: pathlib.Path, *, seed: int = 2) -> dict:
    """Write households.csv, persons.csv and measurements.csv of a Rudersdal ledger into ``out_dir``.

    Args:
        out_dir: directory to write to (created if needed; files are replaced).
        seed: seed of the single random generator; equal arguments give equal files.

    Returns:
        Row counts ``{"households": .., "persons": .., "measurements": ..}``.
    """
    rng = random.Random(seed)
    teams = [(start, TEAM_SIZE) for start in PILOT_TEAMS]
    teams += [(start, TEAM_SIZE - (k == SHORT_TEAM)) for k, start in enumerate(DIS_TEAMS)]
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(("households", "persons", "measurements"), 0)
    with contextlib.ExitStack() as stack:
        writers = {}
        for name, header in HEADERS.items():
            f = stack.enter_context(open(out_dir / name, "w", newline="", encoding="utf-8"))
            writers[name] = csv.writer(f, lineterminator="\n")
            writers[name].writerow(header)
        number = 0
        for start, size in teams:
            for _ in range(size):
                number += 1
                hid, pid = f"R{number:03d}", f"P{number:03d}"
                end, reason = _course(rng, start)
                age = rng.randint(24, 63)
                birth = add_months(start, -12 * age) - dt.timedelta(days=rng.randint(0, 364))
                writers["households.csv"].writerow(
                    (hid, "intervention", start.isoformat(), end.isoformat(), reason, "", ""))
                writers["persons.csv"].writerow((pid, hid, birth.isoformat(), ""))
                counts["households"] += 1
                counts["persons"] += 1
                base = _pss(rng, *PSS_BASELINE)
                rows = [(pid, "pss10", "baseline", start.isoformat(), base)]
                after_end = _pss(rng, base - rng.gauss(*PSS_GAIN_END), 0)
                after_year = _pss(rng, base - rng.gauss(*PSS_GAIN_FOLLOWUP), 0)
                if reason == "completed":  # dropouts are not followed up
                    if rng.random() >= MISSING_END_RATE:
                        rows.append((pid, "pss10", "course_end", end.isoformat(), after_end))
                    if rng.random() >= MISSING_FOLLOWUP_RATE:
                        rows.append((pid, "pss10", "m12", add_months(end, 12).isoformat(), after_year))
                writers["measurements.csv"].writerows(rows)
                counts["measurements"] += len(rows)
    return counts


def main(argv=None) -> int:
    """Command-line entry point: generate a ledger and print its row counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent / "ledger",
                        help="output directory (default: ledger/ beside this script)")
    parser.add_argument("--seed", type=int, default=2, help="random seed")
    args = parser.parse_args(argv)
    for name, count in generate(args.out, seed=args.seed).items():
        print(f"{name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
