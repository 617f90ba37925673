"""Generate the sample ledger of the Fair Chance Fund example (LEDGER.md format).

Homeless young people aged 18–24 are referred during 2015 (and a few in early 2016, after referrals closed, whom
the contract does not pay for); each is a household of one. At every review point of the contract the ledger says
whether the outcome has been achieved by then, so an outcome once achieved stays true at the later points. A
tenancy is kept stage by stage (move-in, 3, 6, 12, 18 months) until it is lost; work starts part-time or full-time,
some part-timers move up to full-time (the full-time outcome then pays the difference) and a few full-timers step
down to part-time (not paid). Each participant has an engagement that raises every chance, so that some achieve
more than the maximum per participant (£15,000) pays for. A few rows were never reported, which breaks a chain. The
shares are invented (the projects' results per participant are not public). One ``random.Random(seed)`` drives
everything, so the same arguments give byte-identical files.

    python contracts/examples/fair-chance-fund/make_ledger.py [--out DIR] [--participants N] [--seed N]
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
LATE = 0.03         # referred after the first year
NO_ROW = 0.015      # a measurement the provider never reported
HOUSING = (("moved_into_accommodation", "m1", 1), ("accommodation_3m", "m4", 4), ("accommodation_6m", "m7", 7),
           ("accommodation_12m", "m13", 13), ("accommodation_18m", "m19", 19))
QUALIFICATIONS = (("entry_level_qualification", 0.08, 0.3), ("level1_qualification", 0.04, 0.25),
                  ("level2_qualification", 0.02, 0.15))
QUALIFICATION_POINTS = (("m6", 6), ("m12", 12), ("m18", 18))
WORK_POINTS = (("w26", 26), ("w52", 52), ("w78", 78))
WORK = ("in_work", "parttime_13w", "parttime_26w", "fulltime_13w", "fulltime_26w")


def _plus_months(day: dt.date, months: int) -> dt.date:
    m0 = day.month - 1 + months
    year, month = day.year + m0 // 12, m0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _first(rng: random.Random, points: int, chance: float, after: int = 0) -> int | None:
    """The index of the first point (from `after`) at which the outcome is achieved, or None."""
    for k in range(after, points):
        if rng.random() < chance:
            return k
    return None


def _work(rng: random.Random, engagement: float) -> dict:
    """The index of the review at which each employment outcome is first achieved (absent: never)."""
    start = _first(rng, 3, 0.15 + 0.4 * engagement)
    if start is None:
        return {}
    first = {"in_work": start}
    late = start + (rng.random() < 0.3)           # the 13 weeks may end after the next review
    if late > 2:
        return first
    kind = "parttime" if rng.random() < 0.5 else "fulltime"
    first[f"{kind}_13w"] = late
    held = _first(rng, 3, 0.6, late + 1)
    if held is not None:
        first[f"{kind}_26w"] = held
    if kind == "parttime" and rng.random() < 0.3 + 0.3 * engagement:   # moves up to full-time
        up = _first(rng, 3, 0.8, late + 1)
        if up is not None:
            first["fulltime_13w"] = up
            held = _first(rng, 3, 0.6, up + 1)
            if held is not None:
                first["fulltime_26w"] = held
    elif kind == "fulltime" and rng.random() < 0.12:                   # steps down to part-time
        down = _first(rng, 3, 0.8, late + 1)
        if down is not None:
            first["parttime_13w"] = down
    return first


def generate(out_dir, participants: int = 100, seed: int = 2015) -> dict:
    rng = random.Random(seed)
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = {name: [] for name in HEADERS}

    def measure(pid, name, point, day, value):
        if rng.random() >= NO_ROW:
            rows["measurements.csv"].append((pid, name, point, day.isoformat(), "true" if value else "false"))

    for i in range(1, participants + 1):
        hid, pid = f"H{i:04}", f"P{i:04}"
        month = 12 + rng.randrange(2) if rng.random() < LATE else rng.randrange(12)
        start = _plus_months(dt.date(2015, 1, 5), month) + dt.timedelta(days=rng.randrange(20))
        rows["households.csv"].append((hid, "intervention", start.isoformat(), "", "", "", ""))
        age = rng.randint(18, 24)
        birth = dt.date(start.year - age, start.month, start.day) - dt.timedelta(days=rng.randrange(1, 360))
        rows["persons.csv"].append((pid, hid, birth.isoformat(), ""))
        engagement = rng.random() ** 1.2
        kept = 0                                  # stages of the tenancy achieved
        while kept < len(HOUSING) and rng.random() < (0.7 + 0.25 * engagement if kept else 0.55 + 0.4 * engagement):
            kept += 1
        for k, (name, point, months) in enumerate(HOUSING):
            measure(pid, name, point, _plus_months(start, months), k < kept)
        measure(pid, "in_education", "m3", _plus_months(start, 3), rng.random() < 0.3 + 0.5 * engagement)
        for name, base, rise in QUALIFICATIONS:
            first = _first(rng, len(QUALIFICATION_POINTS), base + rise * engagement)
            for k, (point, months) in enumerate(QUALIFICATION_POINTS):
                measure(pid, name, point, _plus_months(start, months), first is not None and k >= first)
        work = _work(rng, engagement)
        for k, (point, weeks) in enumerate(WORK_POINTS):
            for name in WORK:
                measure(pid, name, point, start + dt.timedelta(weeks=weeks), name in work and k >= work[name])
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
    ap.add_argument("--seed", type=int, default=2015)
    args = ap.parse_args(argv)
    print(generate(args.out, args.participants, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
