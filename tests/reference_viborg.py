"""An independent reference computation of the Viborg settlement.

Written from the specification alone -- ../shared/LEDGER.md ("Reference
semantics for Viborg") and ../shared/DOMAIN.md section 1 -- without looking
at the engine or at the contract file, so that it is a second opinion on the
engine's numbers (see tests/test_reference_viborg.py).

Arithmetic is exact: ledger values are read as Decimal, means and quotients are
kept as exact fractions (fractions.Fraction built from those Decimals, so a
mean such as 2/3 is never cut short), and every value that the specification
rounds is rounded from the exact value to a Decimal.  Amounts are Decimals with
two places.  No float is used anywhere.

Entry point: ``settle(ledger_dir, as_of) -> dict`` (see its docstring).
"""
from __future__ import annotations

import csv
import calendar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

# --------------------------------------------------------------------------
# Constants of the contract (DOMAIN.md section 1, LEDGER.md)
# --------------------------------------------------------------------------

INTERVENTION_END = date(2026, 10, 31)   # "end of the intervention period"
DATA_COLLECTION_END = date(2028, 10, 31)  # "Data collection ends 2028-10-31"
MIN_STAY_MONTHS = 3

GOALS = ("employment", "social_measures", "school_absence",
         "life_satisfaction", "action_plans")
GOAL_ORDER = {g: i for i, g in enumerate(GOALS)}
PAYER = {"employment": "Kommunen", "social_measures": "Kommunen",
         "school_absence": "Kommunen", "life_satisfaction": "LBF",
         "action_plans": "Kommunen"}
RATE = {"employment": Decimal("8600"), "social_measures": Decimal("42000"),
        "school_absence": Decimal("6500"), "life_satisfaction": Decimal("2000"),
        "action_plans": Decimal("125")}
GOAL_CAP = {"school_absence": Decimal("1400000"),
            "life_satisfaction": Decimal("250000")}
RETURN_CAP = Decimal("6000000")
RETURN_CAP_GOALS = ("employment", "social_measures", "school_absence",
                    "action_plans")
TRANCHE_1_UNTIL = Decimal("5275000")
TRANCHE_1_DSI_SHARE = Decimal("0.74")

EMPLOYMENT_POINTS = ("m12", "m18", "m24")
SCHOOL_POINTS = ("m12", "m18", "m24")

SICK_LEAVE_TYPES = {"sickness_benefit", "job_clarification"}
FLEXJOB_TYPES = {"flexjob"}
SELF_SUPPORTING_TYPES = {"employed", "no_benefit", "self_supporting_in_programme"}

STAIRCASE = {"none": 0, "s82": 1, "s85": 3, "s103_104": 5}

# Expected baseline (table 2.4.1, "Forventet baseline (antal personer)"),
# rows in the order of the benefit_type enum; printed total 333.
EXPECTED_EMPLOYMENT_BASELINE = {
    "employed": 39, "in_education": 5, "early_retirement": 124, "flexjob": 38,
    "education_aid_activity_ready": 17, "education_aid_job_ready": 7,
    "sickness_benefit": 16, "cash_benefit_activity_ready": 21,
    "cash_benefit_job_ready": 4, "job_clarification": 9,
    "unemployment_insurance": 16, "resource_course": 9,
    "integration_benefit_activity_ready": 11,
    "integration_benefit_job_ready": 5, "rehabilitation": 1,
    "self_support_return_programme": 1, "self_supporting_in_programme": 1,
    "no_benefit": 1, "unknown": 8,
}
EXPECTED_EMPLOYMENT_TOTAL = 333
# Table 2.5.1: 261 / 5 / 54 / 22, printed total 341 (the rows add up to 342;
# this reference divides by the printed total, see the report).
EXPECTED_SOCIAL_BASELINE = {"none": 261, "s82": 5, "s85": 54, "s103_104": 22}
EXPECTED_SOCIAL_TOTAL = 341
# The printed "andel" columns (rounded percentages), for naming disagreements.
PRINTED_EMPLOYMENT_SHARE_PCT = dict(zip(EXPECTED_EMPLOYMENT_BASELINE,
                                        (12, 2, 37, 11, 5, 2, 5, 6, 1, 3, 5, 3, 3, 2,
                                         0, 0, 0, 0, 2)))
PRINTED_SOCIAL_SHARE_PCT = {"none": 76, "s82": 1, "s85": 16, "s103_104": 6}

ENROLMENT_FLAGS = (("enrolment_6m", date(2024, 4, 30), 15),
                   ("enrolment_12m", date(2024, 10, 31), 40))

CENT = Decimal("0.01")


# --------------------------------------------------------------------------
# Reading the ledger
# --------------------------------------------------------------------------

@dataclass
class Household:
    id: str
    group: str
    start: date
    end: date | None
    end_reason: str
    replaces: str
    cohort: str


@dataclass
class Person:
    id: str
    household: str
    birth: date
    grade: int | None


@dataclass
class Ledger:
    households: dict[str, Household] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    cohorts: dict[str, date] = field(default_factory=dict)
    # (subject, measure, point) -> raw string value
    values: dict[tuple[str, str, str], str] = field(default_factory=dict)


def _d(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def read_ledger(ledger_dir: Path) -> Ledger:
    """Read the four CSV files of LEDGER.md ("a directory of UTF-8 CSV files
    with a header row ... Empty cells mean 'no value'")."""
    ledger_dir = Path(ledger_dir)
    led = Ledger()

    def rows(name):
        path = ledger_dir / name
        if not path.exists():
            return []
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))

    for r in rows("households.csv"):
        led.households[r["household_id"]] = Household(
            r["household_id"], r["group"], _d(r["start_date"]),
            _d(r.get("end_date", "")), r.get("end_reason", "") or "",
            r.get("replaces", "") or "", r.get("cohort", "") or "")
    for r in rows("persons.csv"):
        g = r.get("school_grade", "")
        led.persons[r["person_id"]] = Person(
            r["person_id"], r["household_id"], _d(r["birth_date"]),
            int(g) if g != "" else None)
    for r in rows("cohorts.csv"):
        led.cohorts[r["cohort"]] = _d(r["start_date"])
    for r in rows("measurements.csv"):
        led.values[(r["subject_id"], r["measure"], r["point"])] = r["value"]
    return led


# --------------------------------------------------------------------------
# Small rules: dates, ages, who counts, due
# --------------------------------------------------------------------------

def add_months(d: date, months: int) -> date:
    """"`mN` = start plus N calendar months (clamped to the month's last
    day)" (LEDGER.md, Dates of points)."""
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def months_of(point: str) -> int:
    """`mN` -> N; `baseline` -> 0."""
    return 0 if point == "baseline" else int(point[1:])


def household_point_date(h: Household, point: str) -> date:
    """"`baseline` = the household's start date; `mN` = start plus N calendar
    months ...; `end` = the household's end date, or 2026-10-31 (end of the
    intervention period) if it has none." (LEDGER.md)"""
    if point == "end":
        return h.end if h.end is not None else INTERVENTION_END
    return add_months(h.start, months_of(point))


def cohort_point_date(cohort_start: date, point: str) -> date:
    """"For goal 3 the points count from the cohort's start date." (LEDGER.md)"""
    return add_months(cohort_start, months_of(point))


def is_due(point_date: date, as_of: date) -> bool:
    """"A point is due at settlement date D if its date <= D and <= the end of
    data collection." (LEDGER.md, Due)"""
    return point_date <= as_of and point_date <= DATA_COLLECTION_END


def age_at(birth: date, on: date) -> int:
    """Age in completed years.  "Ages at the household's start date"."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def household_counts(h: Household, as_of: date) -> bool:
    """"An intervention household counts at settlement date D when its stay
    had reached 3 months by D: min(end date, 2026-10-31, D) >= start + 3
    months" (LEDGER.md, Who counts)."""
    if h.group != "intervention":
        return False
    stay_end = min(d for d in (h.end, INTERVENTION_END, as_of) if d is not None)
    return stay_end >= add_months(h.start, MIN_STAY_MONTHS)


def known_households(led: Ledger, as_of: date) -> list[Household]:
    """"Flags are judged on the data as of D": a household that starts after
    D is not yet part of the data."""
    return [h for h in led.households.values() if h.start <= as_of]


def replaced_ids(led: Ledger, as_of: date) -> set[str]:
    """Households named in `replaces` of a household known at D ("`replaces`
    names the household this one replaced (clause 3.2.3)")."""
    return {h.replaces for h in known_households(led, as_of) if h.replaces}


def counting_persons(led: Ledger, as_of: date, min_age: int,
                     max_age: int | None = None) -> list[tuple[Person, Household]]:
    """Persons of counting intervention households by age at the household's
    start: "goal 1 ages 18-66 inclusive; goals 2 and 4 age >= 18"."""
    out = []
    for p in led.persons.values():
        h = led.households[p.household]
        if not household_counts(h, as_of):
            continue
        a = age_at(p.birth, h.start)
        if a < min_age or (max_age is not None and a > max_age):
            continue
        out.append((p, h))
    out.sort(key=lambda ph: ph[0].id)
    return out


# --------------------------------------------------------------------------
# Rounding
# --------------------------------------------------------------------------

def round_half_away(x: Fraction, places: int) -> Decimal:
    """Round an exact value to `places` decimals, half away from zero
    ("rounded to one decimal, half away from zero"; for the non-negative
    payment lines this is "rounded to øre, half up")."""
    scale = 10 ** places
    q = abs(x) * scale
    n = (q.numerator * 2 + q.denominator) // (2 * q.denominator)  # floor(q + 1/2)
    if x < 0:
        n = -n
    return (Decimal(n) / Decimal(scale)).quantize(Decimal(1).scaleb(-places))


def line_amount(outcome: Fraction, rate: Decimal) -> Decimal:
    """"Every payment line (one subject and point, or one cohort and point) is
    rounded to øre, half up." (LEDGER.md, Rounding)"""
    return round_half_away(outcome * Fraction(rate), 2)


def mean(values: list[Fraction]) -> Fraction | None:
    return sum(values, Fraction(0)) / len(values) if values else None


# --------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------

@dataclass
class Line:
    goal: str
    subject: str
    point: str
    date: date
    outcome: Fraction
    imputed: bool
    gross: Decimal
    after_goal_cap: Decimal = Decimal("0.00")
    amount: Decimal = Decimal("0.00")
    split: dict = field(default_factory=dict)

    @property
    def period(self) -> str:
        return half_year(self.date)


@dataclass
class GoalResult:
    lines: list[Line] = field(default_factory=list)
    imputed: int = 0
    no_observations: list[tuple] = field(default_factory=list)


def impute_point(goal: str, point: str, outcomes: dict, meta: dict,
                 exempt: set[str], result: GoalResult) -> None:
    """Imputation (2.3), LEDGER.md: "A missing outcome of a counting subject is
    replaced by the mean of the observed outcomes for the same goal and point,
    as of D ... If no subject at all was observed for a goal and point, the
    imputed value is 0 and a flag is raised."  DOMAIN.md 2.3: "a household
    that ended and was replaced under 3.2.3 gets no correction (it is simply
    not counted)" -- such subjects (`exempt`) get no line.

    `outcomes` maps subject -> exact outcome or None (missing); `meta` maps
    subject -> point date."""
    observed = [o for o in outcomes.values() if o is not None]
    needs = [s for s, o in outcomes.items() if o is None and s not in exempt]
    m = mean(observed)
    if m is None and needs:
        m = Fraction(0)
        result.no_observations.append((goal, None, point))
    for s in sorted(outcomes):
        o = outcomes[s]
        if o is None:
            if s in exempt:
                continue
            result.imputed += 1
            result.lines.append(Line(goal, s, point, meta[s], m, True,
                                     line_amount(m, RATE[goal])))
        else:
            result.lines.append(Line(goal, s, point, meta[s], o, False,
                                     line_amount(o, RATE[goal])))


def exempt_subjects(led: Ledger, as_of: date, subjects: dict[str, str]) -> set[str]:
    """Subjects (subject -> household id) whose household was replaced."""
    rep = replaced_ids(led, as_of)
    return {s for s, hid in subjects.items() if hid in rep}


# ---- Goal 1 ---------------------------------------------------------------

def criterion(reference_type: str) -> str:
    """Table 2.4.1 via LEDGER.md: "`sickness_benefit` and `job_clarification`
    -> sick-leave recovery ...; `flexjob` -> flexjob ...; every other type ->
    education/employment"."""
    if reference_type in SICK_LEAVE_TYPES:
        return "sick_leave"
    if reference_type in FLEXJOB_TYPES:
        return "flexjob"
    return "education_employment"


def reference_type(led: Ledger, person: str, point: str) -> str:
    """DOMAIN.md goal 1: "At measurement 1 the reference type is the type at
    the start (baseline); at measurements 2 and 3 it is the type observed at
    the previous measurement. If that observation is missing, use the latest
    earlier observed type; if there is none, the type is 'Ukendt' (unknown)."
    """
    order = ("baseline",) + EMPLOYMENT_POINTS
    earlier = order[:order.index(point)]
    for p in reversed(earlier):
        v = led.values.get((person, "benefit_type", p))
        if v is not None:
            return v
    return "unknown"


def employment_success(led: Ledger, person: str, point: str) -> Fraction | None:
    """Success at a point by the criterion of the reference type, or None if
    missing: "Goal 1's outcome at a point is missing if any measure its
    criterion reads at that point is missing (education/employment reads
    `benefit_type`, `in_su_education`, `completed_education_6m`; sick-leave
    recovery reads `fit_status`; flexjob reads `benefit_type`)."  Success:
    "sick-leave recovery (success: `fit_status` is `fit` or `partly_fit`);
    flexjob (success: `benefit_type` is `flexjob`); education/employment
    (success: `in_su_education` or `completed_education_6m` is true, or
    `benefit_type` is one of `employed, no_benefit,
    self_supporting_in_programme`)."""
    v = lambda measure: led.values.get((person, measure, point))
    crit = criterion(reference_type(led, person, point))
    if crit == "sick_leave":
        fit = v("fit_status")
        if fit is None:
            return None
        return Fraction(int(fit in ("fit", "partly_fit")))
    if crit == "flexjob":
        bt = v("benefit_type")
        if bt is None:
            return None
        return Fraction(int(bt == "flexjob"))
    bt, su, ed = v("benefit_type"), v("in_su_education"), v("completed_education_6m")
    if bt is None or su is None or ed is None:
        return None
    return Fraction(int(su == "true" or ed == "true" or bt in SELF_SUPPORTING_TYPES))


def goal_employment(led: Ledger, as_of: date) -> GoalResult:
    """Goal 1: "persons aged 18-66 | points at 12, 18, 24 months after start |
    the success criterion of the person's reference benefit type | DKK 8,600
    per person per measurement that succeeds"."""
    res = GoalResult()
    people = counting_persons(led, as_of, 18, 66)
    exempt = exempt_subjects(led, as_of, {p.id: h.id for p, h in people})
    for point in EMPLOYMENT_POINTS:
        outcomes, dates = {}, {}
        for p, h in people:
            d = household_point_date(h, point)
            if not is_due(d, as_of):
                continue
            outcomes[p.id] = employment_success(led, p.id, point)
            dates[p.id] = d
        impute_point("employment", point, outcomes, dates, exempt, res)
    return res


# ---- Goal 2 ---------------------------------------------------------------

def staircase_units(led: Ledger, person: str) -> Fraction | None:
    """2.5.1: "Units = max(0, baseline step - step at 24 months)" with "no
    measure 0; preventive §82 a/b 1; housing support §85 3; sheltered
    work/activity §103/104 5"; "Goals 2 and 4: missing if either of their two
    points is."""
    b = led.values.get((person, "social_measure", "baseline"))
    e = led.values.get((person, "social_measure", "m24"))
    if b is None or e is None:
        return None
    return Fraction(max(0, STAIRCASE[b] - STAIRCASE[e]))


def goal_social_measures(led: Ledger, as_of: date) -> GoalResult:
    """Goal 2: "persons over 17 | baseline and 24 months | steps moved down the
    staircase | DKK 42,000 per step unit"; the line is at the 24-month point."""
    return adults_at_one_point(led, as_of, "social_measures", "m24", staircase_units)


# ---- Goal 3 ---------------------------------------------------------------

def school_children(led: Ledger, as_of: date, cohort: str, group: str) -> list[str]:
    """"Goal 3: children with `school_grade` 0-9, intervention children from
    counting households, control children from control households, per
    cohort." (LEDGER.md, Who counts)"""
    out = []
    for p in led.persons.values():
        h = led.households[p.household]
        if p.grade is None or not 0 <= p.grade <= 9 or h.cohort != cohort:
            continue
        if group == "intervention" and household_counts(h, as_of):
            out.append(p.id)
        elif group == "control" and h.group == "control":
            out.append(p.id)
    return sorted(out)


def group_mean(led: Ledger, children: list[str], point: str) -> Fraction | None:
    """"Goal 3: the mean is over the observed children (a missing child does
    not move it)"."""
    vals = [Fraction(Decimal(led.values[(c, "school_absence_pct", point)]))
            for c in children if (c, "school_absence_pct", point) in led.values]
    return mean(vals)


def relative_difference(i: Fraction, c: Fraction) -> Decimal:
    """"d_k = round1((I_k - C_k) / C_k x 100)"; "relative differences rounded
    to one decimal, half away from zero, before correction"."""
    return round_half_away((i - c) / c * 100, 1)


def goal_school_absence(led: Ledger, as_of: date) -> GoalResult:
    """Goal 3 (2.6): for each cohort and point k (12, 18, 24 months after the
    cohort's start) "corrected_k = d_k - d_0; payment max(0, -corrected_k) x
    6,500"; "a cohort point with no observed intervention or no observed
    control child pays nothing and raises a flag"."""
    res = GoalResult()
    for cohort in sorted(led.cohorts):
        start = led.cohorts[cohort]
        kids = {g: school_children(led, as_of, cohort, g)
                for g in ("intervention", "control")}
        d0 = None
        for point in ("baseline",) + SCHOOL_POINTS:
            pdate = cohort_point_date(start, point)
            if not is_due(pdate, as_of):
                continue
            i = group_mean(led, kids["intervention"], point)
            c = group_mean(led, kids["control"], point)
            if i is None or c is None:
                res.no_observations.append(("school_absence", cohort, point))
                continue
            if c == 0:
                continue  # division by zero: unspecified, pays nothing
            d = relative_difference(i, c)
            if point == "baseline":
                d0 = d
                continue
            if d0 is None:
                continue  # no baseline difference to correct by: pays nothing
            corrected = d - d0
            outcome = Fraction(max(Decimal(0), -corrected))
            res.lines.append(Line("school_absence", cohort, point, pdate, outcome,
                                  False, line_amount(outcome, RATE["school_absence"])))
    return res


# ---- Goal 4 ---------------------------------------------------------------

def life_satisfaction_success(led: Ledger, person: str) -> Fraction | None:
    """Goal 4: "score 0-10 higher at the end than at baseline"; "missing if
    either of their two points is"."""
    b = led.values.get((person, "life_satisfaction", "baseline"))
    e = led.values.get((person, "life_satisfaction", "end"))
    if b is None or e is None:
        return None
    return Fraction(int(int(e) > int(b)))


def goal_life_satisfaction(led: Ledger, as_of: date) -> GoalResult:
    """Goal 4: "persons over 17 | baseline and at the end | ... | DKK 2,000 per
    person; paid by LBF, capped at DKK 250,000"."""
    return adults_at_one_point(led, as_of, "life_satisfaction", "end", life_satisfaction_success)


def adults_at_one_point(led: Ledger, as_of: date, goal: str, point: str, outcome) -> GoalResult:
    """Goals 2 and 4: one line per counting person aged 18 or more at `point`
    ("goals 2 and 4 age >= 18"), `outcome(led, person_id)` or None if missing."""
    res = GoalResult()
    people = counting_persons(led, as_of, 18)
    exempt = exempt_subjects(led, as_of, {p.id: h.id for p, h in people})
    outcomes, dates = {}, {}
    for p, h in people:
        d = household_point_date(h, point)
        if is_due(d, as_of):
            outcomes[p.id] = outcome(led, p.id)
            dates[p.id] = d
    impute_point(goal, point, outcomes, dates, exempt, res)
    return res


# ---- Goal 5 ---------------------------------------------------------------

def goal_action_plans(led: Ledger, as_of: date) -> GoalResult:
    """Goal 5: "every household | once, at the end | percentage of the plan's
    goals met | DKK 125 per percentage point per household"; missing "if
    `action_plan_pct` is"."""
    res = GoalResult()
    hhs = sorted((h for h in led.households.values() if household_counts(h, as_of)),
                 key=lambda h: h.id)
    exempt = exempt_subjects(led, as_of, {h.id: h.id for h in hhs})
    outcomes, dates = {}, {}
    for h in hhs:
        d = household_point_date(h, "end")
        if is_due(d, as_of):
            v = led.values.get((h.id, "action_plan_pct", "end"))
            outcomes[h.id] = Fraction(Decimal(v)) if v is not None else None
            dates[h.id] = d
    impute_point("action_plans", "end", outcomes, dates, exempt, res)
    return res


# --------------------------------------------------------------------------
# Caps, pool, tranches, periods
# --------------------------------------------------------------------------

def cap_order(lines: list[Line]) -> list[Line]:
    """"Lines are ordered by point date, then goal (in the order 1-5 above),
    then subject id in plain string order (a cohort id for goal 3)."""
    return sorted(lines, key=lambda l: (l.date, GOAL_ORDER[l.goal], l.subject))


def apply_running_cap(amount: Decimal, running: Decimal, limit: Decimal) -> Decimal:
    """"A line that crosses a cap is cut to the remainder"; the running total
    "never passes" the limit."""
    return max(Decimal("0.00"), min(amount, limit - running))


def apply_caps(lines: list[Line]) -> None:
    """"Goal 3 lines are cut so their running total never passes 1,400,000,
    goal 4 lines 250,000; then the municipality's running total of goals 1, 2,
    3, 5 never passes 6,000,000." (LEDGER.md, Caps, in date order)"""
    running = {g: Decimal(0) for g in GOAL_CAP}
    for l in lines:
        if l.goal in GOAL_CAP:
            l.after_goal_cap = apply_running_cap(l.gross, running[l.goal], GOAL_CAP[l.goal])
            running[l.goal] += l.after_goal_cap
        else:
            l.after_goal_cap = l.gross
    municipality = Decimal(0)
    for l in lines:
        if l.goal in RETURN_CAP_GOALS:
            l.amount = apply_running_cap(l.after_goal_cap, municipality, RETURN_CAP)
            municipality += l.amount
        else:
            l.amount = l.after_goal_cap


def split_tranche_1(amount: Decimal) -> tuple[Decimal, Decimal]:
    """"split DSI 74 % / LBF 26 % ... DSI's share is rounded to øre half up,
    LBF takes the remainder."""
    dsi = round_half_away(Fraction(amount) * Fraction(TRANCHE_1_DSI_SHARE), 2)
    return dsi, amount - dsi


def apply_tranches(lines: list[Line]) -> None:
    """"Every line after caps enters the repayment pool in the same order.
    While the pool's running total is below 5,275,000 a line is split DSI 74 %
    / LBF 26 %; above it DSI 100 %; a line crossing it is split at it."""
    pool = Decimal(0)
    for l in lines:
        in_t1 = max(Decimal(0), min(l.amount, TRANCHE_1_UNTIL - pool))
        in_t2 = l.amount - in_t1
        dsi, lbf = split_tranche_1(in_t1) if in_t1 else (Decimal("0.00"), Decimal("0.00"))
        l.split = {"DSI": dsi + in_t2, "LBF": lbf}
        pool += l.amount


def half_year(d: date) -> str:
    """"Half-years (`2024-H1` = January-June). A line belongs to the half-year
    of its point's date"."""
    return f"{d.year}-H{1 if d.month <= 6 else 2}"


# --------------------------------------------------------------------------
# Flags
# --------------------------------------------------------------------------

def flag_ended_households(led: Ledger, as_of: date) -> bool:
    """"`ended_households` (more than 20 intervention households ended with a
    reason other than `completed`)"."""
    n = sum(1 for h in known_households(led, as_of)
            if h.group == "intervention" and h.end is not None and h.end <= as_of
            and h.end_reason != "completed")
    return n > 20


def flag_enrolment(led: Ledger, as_of: date) -> set[str]:
    """"`enrolment_6m` (< 15 households started by 2024-04-30),
    `enrolment_12m` (< 40 by 2024-10-31)"; "each only once its date has
    passed"."""
    out = set()
    for fid, by, minimum in ENROLMENT_FLAGS:
        if as_of < by:
            continue
        n = sum(1 for h in led.households.values()
                if h.group == "intervention" and h.start <= by)
        if n < minimum:
            out.add(fid)
    return out


def expected_shares(counts: dict[str, int], total: int) -> dict[str, Fraction]:
    """Expected share of each row: its expected count over the table's total."""
    return {cat: Fraction(n, total) for cat, n in counts.items()}


def deviates(observed: dict[str, int], expected: dict[str, Fraction]) -> bool:
    """"a category's share of the realised baseline differs from its expected
    share by more than 5 percentage points"."""
    n = sum(observed.values())
    if n == 0:
        return False
    for cat, exp in expected.items():
        share = Fraction(observed.get(cat, 0), n)
        if abs(share - exp) * 100 > 5:
            return True
    return False


def baseline_counts(led: Ledger, people, measure: str) -> dict[str, int]:
    """The realised baseline: the goal's subjects with an observed baseline
    value of the measure, counted by category."""
    counts: dict[str, int] = {}
    for p, _h in people:
        v = led.values.get((p.id, measure, "baseline"))
        if v is not None:
            counts[v] = counts.get(v, 0) + 1
    return counts


def baseline_deviation_readings(led: Ledger, as_of: date) -> dict[str, dict[str, bool]]:
    """The two deviation flags (2.4.2, 2.5.2) under each reading of "expected
    share".  The reference's own reading is `table_total`: the expected count
    over the total the table prints (333 for table 2.4.1; 341 for table 2.5.1,
    whose rows add up to 342).  The others are kept only to name a
    disagreement precisely: `row_sum` (count over the sum of the rows) and
    `printed_share` (the rounded "andel" column)."""
    emp = baseline_counts(led, counting_persons(led, as_of, 18, 66), "benefit_type")
    soc = baseline_counts(led, counting_persons(led, as_of, 18), "social_measure")
    tables = {"baseline_deviation_employment": (emp, EXPECTED_EMPLOYMENT_BASELINE, EXPECTED_EMPLOYMENT_TOTAL,
                                                PRINTED_EMPLOYMENT_SHARE_PCT),
              "baseline_deviation_social_measures": (soc, EXPECTED_SOCIAL_BASELINE, EXPECTED_SOCIAL_TOTAL,
                                                     PRINTED_SOCIAL_SHARE_PCT)}
    return {fid: {"table_total": deviates(counts, expected_shares(expected, total)),
                  "row_sum": deviates(counts, expected_shares(expected, sum(expected.values()))),
                  "printed_share": deviates(counts, expected_shares(printed, 100))}
            for fid, (counts, expected, total, printed) in tables.items()}


def flag_baseline_deviation(led: Ledger, as_of: date) -> set[str]:
    """`baseline_deviation_employment` / `baseline_deviation_social_measures`
    (2.4.2, 2.5.2), by the expected count over the table's printed total."""
    return {f for f, r in baseline_deviation_readings(led, as_of).items()
            if r["table_total"]}


def flag_small_cohorts(led: Ledger, as_of: date) -> set[str]:
    """"`small_cohort` (< 30 intervention households)" per cohort, judged once
    the cohort has started, on the households known at D."""
    out = set()
    for cohort, start in led.cohorts.items():
        if start > as_of:
            continue
        n = sum(1 for h in known_households(led, as_of)
                if h.group == "intervention" and h.cohort == cohort)
        if n < 30:
            out.add(cohort)
    return out


def flag_unreplaced_dropouts(led: Ledger, as_of: date) -> set[str]:
    """"`unreplaced_dropout` (ended within 3 months, reason not
    `no_longer_needed`, and no household `replaces` it)"."""
    rep = replaced_ids(led, as_of)
    out = set()
    for h in known_households(led, as_of):
        if (h.group == "intervention" and h.end is not None and h.end <= as_of
                and h.end < add_months(h.start, MIN_STAY_MONTHS)
                and h.end_reason != "no_longer_needed" and h.id not in rep):
            out.add(h.id)
    return out


# --------------------------------------------------------------------------
# The settlement
# --------------------------------------------------------------------------

def settle(ledger_dir: Path, as_of: date) -> dict:
    """Settle the Viborg contract on the ledger in `ledger_dir` at `as_of`.

    Returns plain data:
      goals           goal -> total after the goal's own cap, before the return cap
      gross           goal -> total before any cap
      return_cap_cut  what the return cap removed
      by_payer        {"Kommunen": ..., "LBF": ...} after every cap
      by_recipient    {"DSI": ..., "LBF": ...} the pool split by tranches
      pool            the pool total
      imputed         goal -> number of imputed values
      periods         half-year -> {"amount": ..., "by_recipient": {...}}
      flags           set of raised flag ids
      flag_subjects   set of (flag id, subject or None)
      no_observations set of (goal, cohort or None, point)
      deviation_readings  the two deviation flags under each reading of
                      "expected share" (see baseline_deviation_readings)
      lines           list of dicts in cap order: goal, subject, point, date,
                      period, outcome, imputed, gross, after_goal_cap, amount, split
    """
    led = read_ledger(Path(ledger_dir))
    results = {
        "employment": goal_employment(led, as_of),
        "social_measures": goal_social_measures(led, as_of),
        "school_absence": goal_school_absence(led, as_of),
        "life_satisfaction": goal_life_satisfaction(led, as_of),
        "action_plans": goal_action_plans(led, as_of),
    }
    lines = cap_order([l for r in results.values() for l in r.lines])
    apply_caps(lines)
    apply_tranches(lines)

    zero = Decimal("0.00")
    goals = {g: sum((l.after_goal_cap for l in lines if l.goal == g), zero) for g in GOALS}
    gross = {g: sum((l.gross for l in lines if l.goal == g), zero) for g in GOALS}
    by_payer = {"Kommunen": zero, "LBF": zero}
    by_recipient = {"DSI": zero, "LBF": zero}
    periods: dict[str, dict] = {}
    for l in lines:
        by_payer[PAYER[l.goal]] += l.amount
        per = periods.setdefault(l.period, {"amount": zero,
                                            "by_recipient": {"DSI": zero, "LBF": zero}})
        per["amount"] += l.amount
        for who, a in l.split.items():
            by_recipient[who] += a
            per["by_recipient"][who] += a
    return_cap_cut = sum((l.after_goal_cap - l.amount for l in lines
                          if l.goal in RETURN_CAP_GOALS), zero)

    flag_subjects: set[tuple[str, str | None]] = set()
    if flag_ended_households(led, as_of):
        flag_subjects.add(("ended_households", None))
    flag_subjects |= {(f, None) for f in flag_enrolment(led, as_of)}
    flag_subjects |= {(f, None) for f in flag_baseline_deviation(led, as_of)}
    flag_subjects |= {("small_cohort", c) for c in flag_small_cohorts(led, as_of)}
    flag_subjects |= {("unreplaced_dropout", h) for h in flag_unreplaced_dropouts(led, as_of)}
    no_obs = {t for r in results.values() for t in r.no_observations}
    if no_obs:
        flag_subjects.add(("no_observations", None))

    return {
        "as_of": as_of,
        "goals": goals,
        "gross": gross,
        "return_cap_cut": return_cap_cut,
        "by_payer": by_payer,
        "by_recipient": by_recipient,
        "pool": sum(by_payer.values(), zero),
        "imputed": {g: results[g].imputed for g in GOALS},
        "periods": periods,
        "flags": {f for f, _ in flag_subjects},
        "flag_subjects": flag_subjects,
        "no_observations": no_obs,
        "deviation_readings": baseline_deviation_readings(led, as_of),
        "lines": [{
            "goal": l.goal, "subject": l.subject, "point": l.point, "date": l.date,
            "period": l.period, "outcome": l.outcome, "imputed": l.imputed,
            "gross": l.gross, "after_goal_cap": l.after_goal_cap,
            "amount": l.amount, "split": l.split,
        } for l in lines],
    }


if __name__ == "__main__":  # pragma: no cover - a quick look from the shell
    import sys
    res = settle(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]) if len(sys.argv) > 2
                 else DATA_COLLECTION_END)
    for k in ("goals", "return_cap_cut", "by_payer", "by_recipient", "imputed", "flags"):
        print(k, res[k])
    for p, v in sorted(res["periods"].items()):
        print(p, v)
