"""Generate a synthetic Viborg measurement ledger in the CSV format of LEDGER.md.

The data are invented but shaped like the contract's expectations (Bilag 4.1
enrolment, tables 2.4.1, 2.5.1, 2.6.1) and hold the cases an evaluator meets:
households that moved or dropped out, replacements, late starters that never
reach 3 months, and missing values. One ``random.Random(seed)`` drives
everything and rows are streamed in a fixed order, so equal arguments give
byte-identical files and a million persons need little memory.

    python contracts/viborg/make_ledger.py --households 180 --control 60

With ``--deliveries DATE,DATE,...`` (ascending) the ledger arrives in
deliveries: measurements.csv gets a last column ``delivered_on``, the first
delivery date on or after the row's ``date``. A share of the rows (LATE_SHARE)
that would come in a delivery other than the last comes one delivery later, and
a share of the rows (CORRECTION_SHARE) not in the last delivery gets a
correction in the next delivery: a row with the same subject, measure, point
and date, another valid value and the later ``delivered_on``, written right
after the row it corrects (which stays). So that even a small ledger shows
both, each delivery but the last also holds back and has corrected at least
one row of each of FORCED_GROUPS (the first such row it meets). These choices
come from a second random generator, so the other files and the base rows
(every row but the corrections, ``delivered_on`` aside) are the same as
without deliveries. The last delivery must not precede the end of data
collection (2028-10-31).

    python contracts/viborg/make_ledger.py --out contracts/viborg/deliveries/ledger \
        --deliveries 2025-01-31,2026-01-31,2028-12-31
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import contextlib
import csv
import datetime as dt
import itertools
import math
import pathlib
import random
import statistics
import sys
from collections.abc import Sequence

PERIOD_START = dt.date(2023, 11, 1)
PERIOD_END = dt.date(2026, 10, 31)
COLLECTION_END = dt.date(2028, 10, 31)
MISSING_RATE = 0.03  # share of otherwise present values dropped at random
LATE_SHARE = 0.08  # with deliveries: share of rows held back to the next delivery
CORRECTION_SHARE = 0.02  # with deliveries: share of rows corrected in the next delivery
DELIVERY_SEED = "deliveries"  # with the seed, seeds the deliveries' own generator
COHORTS = ("c1", "c2", "c3")
HEADERS = {  # file name -> header row, in the order the files are written
    "cohorts.csv": ("cohort", "start_date"),
    "households.csv": ("household_id", "group", "start_date", "end_date", "end_reason",
                       "replaces", "cohort"),
    "persons.csv": ("person_id", "household_id", "birth_date", "school_grade"),
    "measurements.csv": ("subject_id", "measure", "point", "date", "value"),
}


def _table(*pairs) -> tuple:
    """Turn ``(value, weight)`` pairs into values and cumulative weights."""
    values, weights = zip(*pairs)
    return values, tuple(itertools.accumulate(weights))


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

# Where people go after a measurement ("same" keeps the reference type).
EDU_SUCCESS = {  # "study": in SU education; "completed": an education in the last 6 months
    None: _table(("employed", 50), ("study", 20), ("completed", 10), ("no_benefit", 15),
                 ("self_supporting_in_programme", 5)),
    "employed": _table(("employed", 85), ("no_benefit", 10), ("study", 5)),
    "in_education": _table(("study", 70), ("completed", 30)),
}
AFTER_COMPLETION = _table(("employed", 50), ("unemployment_insurance", 50))
LOST_FOOTING = _table(("unemployment_insurance", 40), ("cash_benefit_job_ready", 20),
                      ("sickness_benefit", 20), ("education_aid_job_ready", 20))
DRIFT = _table(("resource_course", 25), ("job_clarification", 15), ("sickness_benefit", 20),
               ("flexjob", 15), ("early_retirement", 15), ("cash_benefit_activity_ready", 10))
RECOVERED = _table(("employed", 30), ("unemployment_insurance", 20),
                   ("cash_benefit_job_ready", 15), ("flexjob", 15), ("same", 20))
STILL_SICK = _table(("same", 70), ("job_clarification", 15), ("resource_course", 10),
                    ("early_retirement", 5))
LEFT_FLEXJOB = _table(("early_retirement", 40), ("sickness_benefit", 30),
                      ("unemployment_insurance", 20), ("cash_benefit_activity_ready", 10))

# Table 2.5.1: moves on the staircase after 24 months (baseline in DECKS),
# using the table's success rates for one step down (75 %, 25 %, 5 %).
STAIRCASE_M24 = {
    "none": _table(("none", 980), ("s82", 15), ("s85", 5)),
    "s82": _table(("none", 750), ("s82", 200), ("s85", 50)),
    "s85": _table(("s82", 150), ("none", 100), ("s85", 710), ("s103_104", 40)),
    "s103_104": _table(("s85", 25), ("s82", 13), ("none", 12), ("s103_104", 950)),
}

# Household make-up, drawn from decks so that every few households match the
# expected mix: about 1.9 adults and 0.65 children per intervention household
# (≈ 2.55 persons), children mostly in grades 0-9.
DECKS = {
    "benefit": [(name, count) for name, count, _, _ in BENEFITS],
    "staircase": (("none", 261), ("s82", 5), ("s85", 54), ("s103_104", 22)),
    "intervention_adults": ((1, 3), (2, 5), (3, 2)),
    "intervention_children": ((0, 12), (1, 4), (2, 3), (3, 1)),
    "control_adults": ((1, 2), (2, 3)),
    "control_children": ((1, 9), (2, 7), (3, 4)),
    "child_kind": (("school", 17), ("preschool", 2), ("grade10", 1)),
}

# Table 2.6.1: mean absence 9.85 %, intervention falling to 7.54/8.00/8.50.
# Children's levels are log-normal, drawn stratified (one child per stratum
# of a reshuffled deck per group and cohort) so that small cohorts keep means
# near the table while single children still vary widely.
ABSENCE_MEAN = 9.85
ABSENCE_SIGMA = 0.6  # spread between children (log scale)
ABSENCE_NOISE = 0.2  # spread between a child's measurements (log scale)
ABSENCE_STRATA = 20
ABSENCE_FACTORS = {
    "intervention": (1.0, 7.54 / 9.85, 8.00 / 9.85, 8.50 / 9.85),
    "control": (1.0, 1.0, 1.0, 1.0),
}
MONTH_POINTS = (("baseline", 0), ("m12", 12), ("m18", 18), ("m24", 24))
# Valid values of the contract's categorical, boolean and integer measures (for corrections).
CHOICES = {
    "benefit_type": tuple(CRITERION),
    "in_su_education": ("true", "false"),
    "completed_education_6m": ("true", "false"),
    "fit_status": ("fit", "partly_fit", "sick", "not_applicable"),
    "social_measure": tuple(STAIRCASE_M24),
    "life_satisfaction": tuple(str(k) for k in range(11)),
}
# With deliveries, rows of these groups are late and corrected in every delivery but the last.
FORCED_GROUPS = {
    "employment": (("benefit_type", "in_su_education", "completed_education_6m", "fit_status"),
                   ("m12", "m18", "m24")),
    "wellbeing": (("life_satisfaction", "action_plan_pct"), ("baseline", "end")),
}
_NORMAL = statistics.NormalDist()


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` plus calendar months, clamped to the last day of the month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _pick(rng: random.Random, table: tuple):
    """Draw a value from a table made by ``_table``."""
    return rng.choices(table[0], cum_weights=table[1])[0]


class _Deck:
    """Draw values in proportion to counts from a deck reshuffled when empty.

    Unlike independent draws, a deck keeps even a small sample at the expected
    shares (so the default ledger raises no 5-point baseline deviation flag).
    """

    def __init__(self, rng: random.Random, counts) -> None:
        self._rng = rng
        self._cards = [value for value, count in counts for _ in range(count)]
        self._pile: list = []

    def draw(self):
        if not self._pile:
            self._pile = list(self._cards)
            self._rng.shuffle(self._pile)
        return self._pile.pop()


def _birth_date(rng: random.Random, on: dt.date, age: int) -> dt.date:
    """Return a random birth date giving ``age`` whole years on date ``on``."""
    anniversary = add_months(on, -12 * age)
    return anniversary - dt.timedelta(days=rng.randint(0, 364))


def _plan(rng: random.Random, n: int):
    """Plan intervention households: sorted start dates, ends and replacements.

    Returns ``(starts, ends, replaces)``: start dates in enrolment order, a map
    index -> (end date, reason) and a map replacement index -> replaced index.
    """
    cumulative = list(itertools.accumulate(expected for *_, expected in ENROLMENT))
    bounds = [0] + [round(n * c / cumulative[-1]) for c in cumulative]
    ordinals = []
    for (first, last, _), lo, hi in zip(ENROLMENT, bounds, bounds[1:]):
        ordinals.extend(rng.randint(first.toordinal(), last.toordinal()) for _ in range(hi - lo))
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
    if CRITERION[ref] == "sick":
        fit = ("fit" if rng.random() < 0.6 else "partly_fit") if success else "sick"
        new = _pick(rng, RECOVERED if success else STILL_SICK)
        new = ref if new == "same" else new
    elif CRITERION[ref] == "flexjob":
        new = "flexjob" if success else _pick(rng, LEFT_FLEXJOB)
    elif success:
        outcome = _pick(rng, EDU_SUCCESS.get(ref, EDU_SUCCESS[None]))
        if outcome == "study":
            study, new = True, "in_education"
        elif outcome == "completed":
            completed, new = True, _pick(rng, AFTER_COMPLETION)
        else:
            new = outcome
    elif ref in SELF_SUPPORTING or ref == "in_education":
        new = _pick(rng, LOST_FOOTING)
    elif rng.random() < 0.85:
        new = ref
    else:
        new = _pick(rng, DRIFT)
    if fit is None and CRITERION[new] == "sick":  # newly on sick leave
        fit = "sick" if rng.random() < 0.8 else "partly_fit"
    return new, study, completed, fit or "not_applicable"


def _life_satisfaction(rng: random.Random) -> tuple[int, int]:
    """Return (baseline, end) scores 0-10; about 40 % of people improve."""
    base = min(10, max(0, round(rng.gauss(5.0, 1.8))))
    r = rng.random()
    if r < 0.42 and base < 10:
        return base, min(10, base + rng.choice((1, 1, 2, 2, 3)))
    if r < 0.75:
        return base, base
    return base, max(0, base - rng.choice((1, 1, 2)))


def _absence_series(rng: random.Random, deck: _Deck, group: str) -> list[str]:
    """Return a child's absence in percent at baseline, m12, m18 and m24."""
    quantile = (deck.draw() + 0.001 + 0.998 * rng.random()) / ABSENCE_STRATA
    level = math.exp(math.log(ABSENCE_MEAN) - ABSENCE_SIGMA ** 2 / 2
                     + ABSENCE_SIGMA * _NORMAL.inv_cdf(quantile))
    noise_mu = -ABSENCE_NOISE ** 2 / 2
    return [f"{min(100.0, level * f * rng.lognormvariate(noise_mu, ABSENCE_NOISE)):.2f}"
            for f in ABSENCE_FACTORS[group]]


def _action_plan_pct(rng: random.Random) -> str:
    """Return the share of an action plan's goals met, partial credit allowed."""
    goals = rng.randint(3, 8)
    credit = sum(rng.choices((1.0, 0.5, 0.0), (50, 20, 30), k=goals))
    return f"{credit / goals * 100:.2f}".rstrip("0").rstrip(".")


def _corrected(rng: random.Random, measure: str, value: str) -> str:
    """Return another valid value of ``measure``, written as the generator writes it."""
    if measure in CHOICES:
        return rng.choice([v for v in CHOICES[measure] if v != value])
    while True:
        if measure == "action_plan_pct":
            new = _action_plan_pct(rng)
        else:  # school_absence_pct
            new = f"{min(100.0, max(0.0, float(value) + rng.uniform(-5.0, 5.0))):.2f}"
        if new != value:
            return new


def _forced_group(measure: str, point: str) -> str | None:
    """Return the name of the group in FORCED_GROUPS that a row belongs to, if any."""
    return next((name for name, (measures, points) in FORCED_GROUPS.items()
                 if measure in measures and point in points), None)


def _adult_ages(rng: random.Random, count: int) -> list[int]:
    """Return the ages of ``count`` adults: a head, a partner, a grown-up child."""
    if rng.random() < 0.03:
        head = rng.randint(67, 78)
    else:
        head = min(66, max(21, round(rng.gauss(41, 11))))
    ages = [head, min(85, max(21, head + rng.randint(-6, 6))), rng.randint(18, 29)]
    return ages[:count]


class _LedgerWriter:
    """Stream households, persons and measurements to three open CSV files.

    With ``deliveries`` (ISO dates) each measurement row gets its delivery and
    some rows are held back or corrected, drawn from ``delivery_rng`` alone.
    """

    def __init__(self, rng: random.Random, writers, n: int, m: int, cohort_starts,
                 deliveries: tuple[str, ...] = (), delivery_rng: random.Random | None = None) -> None:
        self.rng = rng
        self.households = writers["households.csv"]
        self.persons = writers["persons.csv"]
        self.measurements = writers["measurements.csv"]
        self.hid_width = max(4, len(str(max(n, m))))
        self.pid_width = max(5, len(str(6 * n + 5 * m)))
        self.cohort_points = [[(p, add_months(c, k)) for p, k in MONTH_POINTS]
                              for c in cohort_starts]
        self.decks = {name: _Deck(rng, counts) for name, counts in DECKS.items()}
        self.absence = {(group, c): _Deck(rng, [(k, 1) for k in range(ABSENCE_STRATA)])
                        for group in ABSENCE_FACTORS for c in range(len(COHORTS))}
        self.person_count = self.measurement_count = 0
        self._rows: list[tuple] = []
        self._cutoff = COLLECTION_END
        self.deliveries, self.delivery_rng = deliveries, delivery_rng
        # per delivery date: rows delivered, of which late and corrections
        self.delivery_counts = {d: {"rows": 0, "late": 0, "corrections": 0} for d in deliveries}
        self._forced: set[tuple] = set()

    def _emit(self, subject: str, measure: str, point: str, day: dt.date, value: str) -> None:
        """Queue a value unless its point falls after the cutoff or it is lost at random."""
        if day <= self._cutoff and self.rng.random() >= MISSING_RATE:
            self._rows.append((subject, measure, point, day.isoformat(), value))

    def _flush(self) -> None:
        rows = self._delivered(self._rows) if self.deliveries else self._rows
        self.measurements.writerows(rows)
        self.measurement_count += len(rows)
        self._rows.clear()

    def _chosen(self, kind: str, share: float, group: str | None, k: int) -> bool:
        """Draw whether a row is late (or corrected); a forced group's first row per delivery is."""
        chosen = self.delivery_rng.random() < share
        if group is not None:
            chosen = chosen or (kind, group, k) not in self._forced
            self._forced.add((kind, group, k))
        return chosen

    def _delivered(self, rows: list[tuple]) -> list[tuple]:
        """Add ``delivered_on`` to rows, hold some back a delivery, add corrections."""
        out, last = [], len(self.deliveries) - 1
        for row in rows:
            k = bisect.bisect_left(self.deliveries, row[3])  # ISO dates sort as strings
            group = _forced_group(row[1], row[2])
            late = k < last and self._chosen("late", LATE_SHARE, group, k)
            if late:
                k += 1
            out.append(row + (self.deliveries[k],))
            counts = self.delivery_counts[self.deliveries[k]]
            counts["rows"] += 1
            counts["late"] += late
            if k < last and self._chosen("correction", CORRECTION_SHARE, group, k):
                value = _corrected(self.delivery_rng, row[1], row[4])
                out.append(row[:4] + (value, self.deliveries[k + 1]))
                counts = self.delivery_counts[self.deliveries[k + 1]]
                counts["rows"] += 1
                counts["corrections"] += 1
        return out

    def _person(self, hid: str, start: dt.date, age: int, grade: int | None) -> str:
        self.person_count += 1
        pid = f"P{self.person_count:0{self.pid_width}d}"
        birth = _birth_date(self.rng, start, age)
        self.persons.writerow((pid, hid, birth.isoformat(), "" if grade is None else grade))
        return pid

    def _children(self, hid: str, start: dt.date, group: str, cohort: int) -> None:
        """Write a household's children; pupils in grades 0-9 get absence data."""
        for _ in range(self.decks[group + "_children"].draw()):
            kind = self.decks["child_kind"].draw()
            if kind == "preschool":
                self._person(hid, start, self.rng.randint(1, 5), None)
                continue
            grade = 10 if kind == "grade10" else self.rng.randint(0, 9)
            pid = self._person(hid, start, grade + 6, grade)
            if grade <= 9:
                values = _absence_series(self.rng, self.absence[group, cohort], group)
                for (point, day), value in zip(self.cohort_points[cohort], values):
                    self._emit(pid, "school_absence_pct", point, day, value)

    def intervention(self, i: int, start: dt.date, end: dt.date | None, reason: str,
                     replaces: int | None, cohort: int) -> None:
        """Write intervention household ``i`` with its persons and measurements."""
        hid = f"H{i + 1:0{self.hid_width}d}"
        replaced = "" if replaces is None else f"H{replaces + 1:0{self.hid_width}d}"
        self.households.writerow((hid, "intervention", start.isoformat(),
                                  end.isoformat() if end else "", reason, replaced,
                                  COHORTS[cohort]))
        # Households that left are not measured after they left (LEDGER.md).
        self._cutoff = end if reason in ("moved", "dropped", "other") else COLLECTION_END
        points = [(p, add_months(start, k)) for p, k in MONTH_POINTS]
        end_point = end or PERIOD_END
        rng, emit = self.rng, self._emit
        for age in _adult_ages(rng, self.decks["intervention_adults"].draw()):
            pid = self._person(hid, start, age, None)
            kind = "early_retirement" if age >= 67 else self.decks["benefit"].draw()
            emit(pid, "benefit_type", "baseline", start, kind)
            for point, day in points[1:]:
                kind, study, completed, fit = _benefit_step(rng, kind)
                emit(pid, "benefit_type", point, day, kind)
                emit(pid, "in_su_education", point, day, "true" if study else "false")
                emit(pid, "completed_education_6m", point, day, "true" if completed else "false")
                emit(pid, "fit_status", point, day, fit)
            social = self.decks["staircase"].draw()
            emit(pid, "social_measure", "baseline", start, social)
            emit(pid, "social_measure", "m24", points[3][1], _pick(rng, STAIRCASE_M24[social]))
            before, after = _life_satisfaction(rng)
            emit(pid, "life_satisfaction", "baseline", start, str(before))
            emit(pid, "life_satisfaction", "end", end_point, str(after))
        self._children(hid, start, "intervention", cohort)
        emit(hid, "action_plan_pct", "end", end_point, _action_plan_pct(rng))
        self._flush()

    def control(self, j: int, cohort: int, start: dt.date) -> None:
        """Write control household ``j``: adults without data, children with absence."""
        hid = f"K{j + 1:0{self.hid_width}d}"
        self.households.writerow((hid, "control", start.isoformat(), "", "", "",
                                  COHORTS[cohort]))
        self._cutoff = COLLECTION_END
        for age in _adult_ages(self.rng, self.decks["control_adults"].draw()):
            self._person(hid, start, age, None)
        self._children(hid, start, "control", cohort)
        self._flush()


def generate(out_dir: pathlib.Path, *, households: int = 180, control_households: int = 60,
             seed: int = 2023, deliveries: Sequence[dt.date] | None = None) -> dict:
    """Write the four CSV files of a Viborg ledger into ``out_dir``.

    Args:
        out_dir: directory to write to (created if needed; files are replaced).
        households: number of intervention households (at least 3).
        control_households: number of control households.
        seed: seed of the random generators; equal arguments give equal files.
        deliveries: ascending delivery dates (``datetime.date``), the last on or
            after 2028-10-31; ``None`` or empty: no ``delivered_on`` column.

    Returns:
        Row counts ``{"households": .., "persons": .., "measurements": ..}``,
        where households counts intervention and control households together
        and measurements counts every row, corrections included. With
        deliveries also ``"deliveries"``: per delivery date (ISO) the rows it
        holds and how many of them are ``"late"`` and ``"corrections"``.

    Raises:
        ValueError: on bad arguments, before any file is written.
    """
    if households < 3 or control_households < 0:
        raise ValueError("need at least 3 intervention households and no negative control")
    deliveries = tuple(d.isoformat() for d in deliveries or ())
    if any(a >= b for a, b in zip(deliveries, deliveries[1:])):
        raise ValueError(f"delivery dates must be ascending: {', '.join(deliveries)}")
    if deliveries and deliveries[-1] < COLLECTION_END.isoformat():
        raise ValueError(f"the last delivery, {deliveries[-1]}, is before the end of data "
                         f"collection, {COLLECTION_END}: later measurements would never be "
                         f"delivered")
    n, m = households, control_households
    rng = random.Random(seed)
    starts, ends, replaces = _plan(rng, n)
    # Cohorts open on the first of the month in which a third and two thirds
    # of the households had been enrolled; a household joins the open cohort.
    cohort_starts = [PERIOD_START] + [starts[(k * n + 2) // 3].replace(day=1) for k in (1, 2)]
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        writers = {}
        for name, header in HEADERS.items():
            f = stack.enter_context(open(out_dir / name, "w", newline="", encoding="utf-8"))
            writers[name] = csv.writer(f, lineterminator="\n")
            if name == "measurements.csv" and deliveries:
                header += ("delivered_on",)
            writers[name].writerow(header)
        writers["cohorts.csv"].writerows(zip(COHORTS, map(dt.date.isoformat, cohort_starts)))
        delivery_rng = random.Random(f"{DELIVERY_SEED}:{seed}")
        ledger = _LedgerWriter(rng, writers, n, m, cohort_starts, deliveries, delivery_rng)
        for i, start in enumerate(starts):
            end, reason = ends.get(i, (None, ""))
            cohort = bisect.bisect_right(cohort_starts, start) - 1
            ledger.intervention(i, start, end, reason, replaces.get(i), cohort)
        for j in range(m):
            ledger.control(j, j * 3 // m, cohort_starts[j * 3 // m])
    counts = {"households": n + m, "persons": ledger.person_count,
              "measurements": ledger.measurement_count}
    if deliveries:
        counts["deliveries"] = ledger.delivery_counts
    return counts


def _dates(text: str) -> list[dt.date]:
    """Parse ``--deliveries``: comma-separated ISO dates."""
    try:
        return [dt.date.fromisoformat(part.strip()) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a comma-separated list of YYYY-MM-DD dates: {text!r}") from None


def main(argv=None) -> int:
    """Command-line entry point: generate a ledger and print its row counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path,
                        default=pathlib.Path(__file__).resolve().parent / "ledger",
                        help="output directory (default: ledger/ beside this script)")
    parser.add_argument("--households", type=int, default=180, help="intervention households")
    parser.add_argument("--control", type=int, default=60, help="control households")
    parser.add_argument("--seed", type=int, default=2023, help="random seed")
    parser.add_argument("--deliveries", type=_dates, metavar="DATE,DATE,...",
                        help="ascending delivery dates, the last on or after 2028-10-31: "
                             "add a delivered_on column (the first delivery on or after the "
                             "row's date), hold some rows back a delivery and correct some in "
                             "the next one (default: no deliveries, no delivered_on column)")
    args = parser.parse_args(argv)
    try:
        counts = generate(args.out, households=args.households, control_households=args.control,
                          seed=args.seed, deliveries=args.deliveries)
    except ValueError as error:
        parser.error(str(error))
    by_delivery = counts.pop("deliveries", {})
    for name, count in counts.items():
        print(f"{name}: {count}")
    for day, c in by_delivery.items():
        print(f"delivered {day}: {c['rows']} rows, of which {c['late']} late and "
              f"{c['corrections']} corrections")
    return 0


if __name__ == "__main__":
    sys.exit(main())
