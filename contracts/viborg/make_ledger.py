"""Generate a synthetic, realistic measurement ledger for the Viborg contract.

The ledger follows the canonical CSV format of LEDGER.md: a directory with
``households.csv``, ``persons.csv``, ``cohorts.csv`` and ``measurements.csv``.
The data are invented but shaped like the contract's expectations (Bilag 4.1
enrolment, tables 2.4.1, 2.5.1 and 2.6.1) and include the awkward cases an
evaluator meets: households that moved or dropped out, replacements, late
starters that never reach 3 months, and values that are simply missing.

Everything is drawn from one ``random.Random(seed)``, rows are written in a
fixed order and streamed to disk, so equal arguments give byte-identical files
and a million persons fit in little memory.

    python contracts/viborg/make_ledger.py --households 180 --control 60
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import csv
import datetime as dt
import math
import pathlib
import random
import sys

PERIOD_START = dt.date(2023, 11, 1)
PERIOD_END = dt.date(2026, 10, 31)
COLLECTION_END = dt.date(2028, 10, 31)
MISSING_RATE = 0.03  # share of otherwise present values dropped at random
COHORTS = ("c1", "c2", "c3")

# Enrolment windows with the budget's expected households (Bilag 4.1). The
# last window runs into August 2026, so a few households never reach 3 months.
ENROLMENT = (
    (dt.date(2023, 11, 1), dt.date(2023, 12, 31), 10),
    (dt.date(2024, 1, 1), dt.date(2024, 12, 31), 60),
    (dt.date(2025, 1, 1), dt.date(2025, 12, 31), 60),
    (dt.date(2026, 1, 1), dt.date(2026, 8, 15), 50),
)
# Non-completed ends per 180 households; 20 keeps the >20 flag just unraised.
ENDS_PER_180 = (("moved", 10), ("dropped", 5), ("no_longer_needed", 2), ("other", 3))
UNREPLACED_SHARE = 0.3  # share of dropouts nobody replaces
COMPLETION_RATE = 0.35  # chance that an early household completes its course

# Table 2.4.1: benefit type, expected baseline count, criterion, success rate.
BENEFITS = (
    ("employed", 39, "edu", 0.50),
    ("in_education", 5, "edu", 0.80),
    ("early_retirement", 124, "edu", 0.02),
    ("flexjob", 38, "flexjob", 0.95),
    ("education_aid_activity_ready", 17, "edu", 0.05),
    ("education_aid_job_ready", 7, "edu", 0.20),
    ("sickness_benefit", 16, "sick", 0.40),
    ("cash_benefit_activity_ready", 21, "edu", 0.05),
    ("cash_benefit_job_ready", 4, "edu", 0.25),
    ("job_clarification", 9, "sick", 0.10),
    ("unemployment_insurance", 16, "edu", 0.40),
    ("resource_course", 9, "edu", 0.20),
    ("integration_benefit_activity_ready", 11, "edu", 0.05),
    ("integration_benefit_job_ready", 5, "edu", 0.20),
    ("rehabilitation", 1, "edu", 0.10),
    ("self_support_return_programme", 1, "edu", 0.20),
    ("self_supporting_in_programme", 1, "edu", 0.50),
    ("no_benefit", 1, "edu", 0.50),
    ("unknown", 8, "edu", 0.33),
)
CRITERION = {name: crit for name, _, crit, _ in BENEFITS}
SUCCESS_RATE = {name: rate for name, _, _, rate in BENEFITS}
SELF_SUPPORTING = {"employed", "no_benefit", "self_supporting_in_programme"}

# Where people go after a measurement: (value, weight) tables.
EDU_SUCCESS = (("employed", 50), ("study", 20), ("completed", 10), ("no_benefit", 15),
               ("self_supporting_in_programme", 5))
LOST_FOOTING = (("unemployment_insurance", 40), ("cash_benefit_job_ready", 20),
                ("sickness_benefit", 20), ("education_aid_job_ready", 20))
DRIFT = (("resource_course", 25), ("job_clarification", 15), ("sickness_benefit", 20),
         ("flexjob", 15), ("early_retirement", 15), ("cash_benefit_activity_ready", 10))
RECOVERED = (("employed", 30), ("unemployment_insurance", 20), ("cash_benefit_job_ready", 15),
             ("flexjob", 15), ("same", 20))
STILL_SICK = (("same", 70), ("job_clarification", 15), ("resource_course", 10),
              ("early_retirement", 5))
LEFT_FLEXJOB = (("early_retirement", 40), ("sickness_benefit", 30),
                ("unemployment_insurance", 20), ("cash_benefit_activity_ready", 10))

# Table 2.5.1 (expected baseline 261/5/54/22) and moves after 24 months,
# using the table's success rates for one step down (75 %, 25 %, 5 %).
STAIRCASE = (("none", 261), ("s82", 5), ("s85", 54), ("s103_104", 22))
STAIRCASE_M24 = {
    "none": (("none", 980), ("s82", 15), ("s85", 5)),
    "s82": (("none", 750), ("s82", 200), ("s85", 50)),
    "s85": (("s82", 150), ("none", 100), ("s85", 710), ("s103_104", 40)),
    "s103_104": (("s85", 25), ("s82", 13), ("none", 12), ("s103_104", 950)),
}

# Table 2.6.1: mean absence 9.85 %, intervention falling to 7.54/8.00/8.50.
ABSENCE_MEAN = 9.85
ABSENCE_SIGMA = 0.6  # spread between children (log scale)
ABSENCE_NOISE = 0.25  # spread between a child's measurements (log scale)
ABSENCE_FACTORS = {
    "intervention": (1.0, 7.54 / 9.85, 8.00 / 9.85, 8.50 / 9.85),
    "control": (1.0, 1.0, 1.0, 1.0),
}
MONTH_POINTS = (("baseline", 0), ("m12", 12), ("m18", 18), ("m24", 24))


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` plus calendar months, clamped to the last day of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _pick(rng: random.Random, table) -> str:
    """Draw a value from a ``(value, weight)`` table."""
    values, weights = zip(*table)
    return rng.choices(values, weights)[0]


class _Deck:
    """Draw values in proportion to expected counts from a reshuffled deck.

    A deck keeps a small sample close to the expected baseline shares (so the
    5-point deviation flags stay quiet) while large samples remain random.
    """

    def __init__(self, rng: random.Random, counts) -> None:
        self._rng = rng
        self._cards = [value for value, count in counts for _ in range(count)]
        self._pile: list[str] = []

    def draw(self) -> str:
        if not self._pile:
            self._pile = list(self._cards)
            self._rng.shuffle(self._pile)
        return self._pile.pop()


def _apportion(total: int, weights) -> list[int]:
    """Split ``total`` in proportion to ``weights`` by largest remainder."""
    whole = sum(weights)
    shares = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _birth_date(rng: random.Random, on: dt.date, age: int) -> dt.date:
    """Return a random birth date giving ``age`` whole years on date ``on``."""
    anniversary = add_months(on, -12 * age)
    return anniversary - dt.timedelta(days=rng.randint(0, 364))


def _plan(rng: random.Random, n: int):
    """Plan intervention households: sorted start dates, ends and replacements.

    Returns ``(starts, ends, replaces)``: start dates in enrolment order, a map
    index -> (end date, reason) and a map replacement index -> replaced index.
    """
    counts = _apportion(n, [expected for *_, expected in ENROLMENT])
    ordinals = []
    for (first, last, _), count in zip(ENROLMENT, counts):
        a, b = first.toordinal(), last.toordinal()
        ordinals.extend(rng.randint(a, b) for _ in range(count))
    ordinals.sort()
    starts = [dt.date.fromordinal(o) for o in ordinals]
    end_ord = PERIOD_END.toordinal()

    ends: dict[int, tuple[dt.date, str]] = {}
    for reason, per_180 in ENDS_PER_180:
        wanted = round(n * per_180 / 180)
        if reason == "dropped":  # leave later households to replace them
            pool = [i for i in range(int(n * 0.85)) if i not in ends]
        else:
            pool = [i for i in range(n) if i not in ends and end_ord - ordinals[i] >= 95]
        for k, i in enumerate(sorted(rng.sample(pool, min(wanted, len(pool))))):
            if reason == "dropped" or (reason == "no_longer_needed" and k % 2 == 0):
                days = rng.randint(10, 85)  # within the first 3 months
            else:
                days = rng.randint(95, max(95, min(900, end_ord - ordinals[i])))
            ends[i] = (starts[i] + dt.timedelta(days=days), reason)
    for i, start in enumerate(starts):
        if i not in ends and add_months(start, 18) <= PERIOD_END:
            if rng.random() < COMPLETION_RATE:
                end = add_months(start, rng.randint(18, 30)) + dt.timedelta(rng.randint(0, 27))
                if end <= PERIOD_END:
                    ends[i] = (end, "completed")

    dropped = sorted((end, i) for i, (end, reason) in ends.items() if reason == "dropped")
    unreplaced = set(rng.sample([i for _, i in dropped], round(len(dropped) * UNREPLACED_SHARE)))
    replaces: dict[int, int] = {}
    dropped_set = {i for _, i in dropped}
    for end, i in dropped:
        if i in unreplaced:
            continue
        j = bisect.bisect_right(ordinals, end.toordinal())
        while j < n and (j in dropped_set or j in replaces):
            j += 1
        if j < n:
            replaces[j] = i
    return starts, ends, replaces


def _benefit_step(rng: random.Random, ref: str):
    """Simulate one goal-1 measurement for a person whose reference type is ``ref``.

    Returns ``(benefit_type, in_su_education, completed_education_6m, fit_status)``;
    success happens with the table's expected rate for ``ref``.
    """
    success = rng.random() < SUCCESS_RATE[ref]
    study = completed = False
    fit = None
    criterion = CRITERION[ref]
    if criterion == "sick":
        if success:
            fit = "fit" if rng.random() < 0.6 else "partly_fit"
            new = _pick(rng, RECOVERED)
        else:
            fit = "sick"
            new = _pick(rng, STILL_SICK)
        new = ref if new == "same" else new
    elif criterion == "flexjob":
        new = "flexjob" if success else _pick(rng, LEFT_FLEXJOB)
    elif success:
        outcome = "study" if ref == "in_education" and rng.random() < 0.7 else _pick(rng, EDU_SUCCESS)
        if ref == "employed" and outcome not in ("study", "completed"):
            outcome = "employed" if rng.random() < 0.9 else "no_benefit"
        if outcome == "study":
            study, new = True, "in_education"
        elif outcome == "completed":
            completed, new = True, _pick(rng, (("employed", 50), ("unemployment_insurance", 50)))
        else:
            new = outcome
    elif ref in SELF_SUPPORTING or ref == "in_education":
        new = _pick(rng, LOST_FOOTING)
    elif rng.random() < 0.85:
        new = ref
    else:
        new = _pick(rng, DRIFT)
    if fit is None:
        fit = ("sick" if rng.random() < 0.8 else "partly_fit") if new in CRITERION and \
            CRITERION[new] == "sick" else "not_applicable"
    return new, study, completed, fit


def _life_satisfaction(rng: random.Random) -> tuple[int, int]:
    """Return (baseline, end) scores 0-10; about 40 % of people improve."""
    base = min(10, max(0, round(rng.gauss(5.0, 1.8))))
    r = rng.random()
    if r < 0.42 and base < 10:
        return base, min(10, base + rng.choice((1, 1, 2, 2, 3)))
    if r < 0.75:
        return base, base
    return base, max(0, base - rng.choice((1, 1, 2)))


def _absence_series(rng: random.Random, group: str) -> list[str]:
    """Return a child's absence in percent at baseline, m12, m18 and m24."""
    level = rng.lognormvariate(math.log(ABSENCE_MEAN) - ABSENCE_SIGMA ** 2 / 2, ABSENCE_SIGMA)
    noise_mu = -ABSENCE_NOISE ** 2 / 2
    return [f"{min(100.0, level * f * rng.lognormvariate(noise_mu, ABSENCE_NOISE)):.2f}"
            for f in ABSENCE_FACTORS[group]]


def _action_plan_pct(rng: random.Random) -> str:
    """Return the share of an action plan's goals met, partial credit allowed."""
    goals = rng.randint(3, 8)
    credit = sum(rng.choices((1.0, 0.5, 0.0), (50, 20, 30), k=goals))
    return f"{credit / goals * 100:.2f}".rstrip("0").rstrip(".")


def _children(rng: random.Random, shares) -> list[tuple[int, int | None]]:
    """Return (age, grade) of a household's children; ``shares`` weigh 0-3 children."""
    kids = []
    for _ in range(_pick(rng, shares)):
        r = rng.random()
        if r < 0.10:
            kids.append((rng.randint(1, 5), None))  # pre-school, not in goal 3
        elif r < 0.15:
            kids.append((16, 10))
        else:
            grade = rng.randint(0, 9)
            kids.append((grade + 6, grade))
    return kids


def _adult_ages(rng: random.Random) -> list[int]:
    """Return the ages of a household's adults (one to three)."""
    first = rng.randint(67, 78) if rng.random() < 0.03 else min(66, max(21, round(rng.gauss(41, 11))))
    ages = [first]
    count = _pick(rng, ((1, 30), (2, 50), (3, 20)))
    if count >= 2:
        ages.append(min(85, max(21, first + rng.randint(-6, 6))))
    if count == 3:
        ages.append(rng.randint(18, 25))  # a grown-up child living at home
    return ages


def generate(out_dir: pathlib.Path, *, households: int = 180, control_households: int = 60,
             seed: int = 2023) -> dict:
    """Write the four CSV files of a Viborg ledger into ``out_dir``.

    Args:
        out_dir: directory to write to (created if needed; files are replaced).
        households: number of intervention households (at least 3).
        control_households: number of control households.
        seed: seed of the single random generator; equal arguments give equal files.

    Returns:
        Row counts ``{"households": .., "persons": .., "measurements": ..}``,
        where households counts intervention and control households together.
    """
    if households < 3 or control_households < 0:
        raise ValueError("need at least 3 intervention households and no negative control")
    rng = random.Random(seed)
    n, m = households, control_households
    starts, ends, replaces = _plan(rng, n)
    cohort_starts = [PERIOD_START] + [starts[(k * n + 2) // 3].replace(day=1) for k in (1, 2)]
    cohort_points = [[(p, add_months(c, months)) for p, months in MONTH_POINTS]
                     for c in cohort_starts]
    hid_width = max(4, len(str(max(n, m))))
    pid_width = max(5, len(str(6 * n + 5 * m)))
    benefit_deck = _Deck(rng, [(name, count) for name, count, _, _ in BENEFITS])
    staircase_deck = _Deck(rng, STAIRCASE)
    counts = {"households": 0, "persons": 0, "measurements": 0}
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    with open(out_dir / "cohorts.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(("cohort", "start_date"))
        writer.writerows((c, d.isoformat()) for c, d in zip(COHORTS, cohort_starts))

    with open(out_dir / "households.csv", "w", newline="", encoding="utf-8") as hf, \
            open(out_dir / "persons.csv", "w", newline="", encoding="utf-8") as pf, \
            open(out_dir / "measurements.csv", "w", newline="", encoding="utf-8") as mf:
        hw, pw, mw = (csv.writer(f, lineterminator="\n") for f in (hf, pf, mf))
        hw.writerow(("household_id", "group", "start_date", "end_date", "end_reason",
                     "replaces", "cohort"))
        pw.writerow(("person_id", "household_id", "birth_date", "school_grade"))
        mw.writerow(("subject_id", "measure", "point", "date", "value"))
        rows: list[tuple] = []

        def emit(subject, measure, point, day, value, cutoff):
            """Queue a measurement unless it is not yet observable or lost at random."""
            if day <= cutoff and rng.random() >= MISSING_RATE:
                rows.append((subject, measure, point, day.isoformat(), value))

        def person(hid, start, age, grade):
            counts["persons"] += 1
            pid = f"P{counts['persons']:0{pid_width}d}"
            pw.writerow((pid, hid, _birth_date(rng, start, age).isoformat(),
                         "" if grade is None else grade))
            return pid

        for i, start in enumerate(starts):
            hid = f"H{i + 1:0{hid_width}d}"
            end, reason = ends.get(i, (None, ""))
            cohort = i * 3 // n
            replaced = f"H{replaces[i] + 1:0{hid_width}d}" if i in replaces else ""
            hw.writerow((hid, "intervention", start.isoformat(), end.isoformat() if end else "",
                         reason, replaced, COHORTS[cohort]))
            cutoff = end if reason in ("moved", "dropped", "other") else COLLECTION_END
            points = [(p, add_months(start, months)) for p, months in MONTH_POINTS]
            end_point = end or PERIOD_END
            for age in _adult_ages(rng):
                pid = person(hid, start, age, None)
                kind = "early_retirement" if age >= 67 else benefit_deck.draw()
                emit(pid, "benefit_type", "baseline", start, kind, cutoff)
                for point, day in points[1:]:
                    kind, study, completed, fit = _benefit_step(rng, kind)
                    emit(pid, "benefit_type", point, day, kind, cutoff)
                    emit(pid, "in_su_education", point, day, "true" if study else "false", cutoff)
                    emit(pid, "completed_education_6m", point, day,
                         "true" if completed else "false", cutoff)
                    emit(pid, "fit_status", point, day, fit, cutoff)
                social = staircase_deck.draw()
                emit(pid, "social_measure", "baseline", start, social, cutoff)
                emit(pid, "social_measure", "m24", points[3][1],
                     _pick(rng, STAIRCASE_M24[social]), cutoff)
                before, after = _life_satisfaction(rng)
                emit(pid, "life_satisfaction", "baseline", start, str(before), cutoff)
                emit(pid, "life_satisfaction", "end", end_point, str(after), cutoff)
            for age, grade in _children(rng, ((0, 60), (1, 20), (2, 12), (3, 8))):
                pid = person(hid, start, age, grade)
                if grade is not None and grade <= 9:
                    values = _absence_series(rng, "intervention")
                    for (point, day), value in zip(cohort_points[cohort], values):
                        emit(pid, "school_absence_pct", point, day, value, cutoff)
            emit(hid, "action_plan_pct", "end", end_point, _action_plan_pct(rng), cutoff)
            mw.writerows(rows)
            counts["measurements"] += len(rows)
            rows.clear()

        for j in range(m):
            hid = f"K{j + 1:0{hid_width}d}"
            cohort = j * 3 // m
            start = cohort_starts[cohort]
            hw.writerow((hid, "control", start.isoformat(), "", "", "", COHORTS[cohort]))
            for age in _adult_ages(rng)[:2]:
                person(hid, start, age, None)
            for age, grade in _children(rng, ((1, 45), (2, 35), (3, 20))):
                pid = person(hid, start, age, grade)
                if grade is not None and grade <= 9:
                    values = _absence_series(rng, "control")
                    for (point, day), value in zip(cohort_points[cohort], values):
                        emit(pid, "school_absence_pct", point, day, value, COLLECTION_END)
            mw.writerows(rows)
            counts["measurements"] += len(rows)
            rows.clear()
    counts["households"] = n + m
    return counts


def main(argv=None) -> int:
    """Command-line entry point: generate a ledger and print its row counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent / "ledger",
                        help="output directory (default: ledger/ beside this script)")
    parser.add_argument("--households", type=int, default=180,
                        help="intervention households (default 180)")
    parser.add_argument("--control", type=int, default=60, help="control households (default 60)")
    parser.add_argument("--seed", type=int, default=2023, help="random seed (default 2023)")
    args = parser.parse_args(argv)
    counts = generate(args.out, households=args.households, control_households=args.control,
                      seed=args.seed)
    for name, count in counts.items():
        print(f"{name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
