"""Differential test: the engine's Viborg settlement against the independent
reference in tests/reference_viborg.py (written from LEDGER.md / DOMAIN.md).

For generated ledgers (several seeds and sizes, few control households, and
ledgers thinned in this file to heavy missingness), the bundled sample ledger
and a few hand-made ledgers, at several settlement dates, the engine is run as
(in this process, by `contractlang.cli.main`)

    contractlang settle contracts/viborg/viborg.contract
           --ledger DIR --format json --no-trace --as-of DATE

and every goal total, payer and recipient total, the return-cap cut, the
imputation counts, every half-year period with its split, the flags and every
line (matched by goal, subject, point) must equal the reference.

The comparison found three places where the engine departed from the
specification; each is now fixed and pinned by its own test on a minimal
hand-made ledger:

  * test_school_absence_exact_tie, test_school_absence_ties_in_full -- an
    exact tie of the goal-3 relative difference (21.05 -> 21.1) had been lost
    to 50-digit arithmetic (the engine now computes with exact fractions);
  * test_social_deviation_divides_by_the_stated_total -- the expected share
    of table 2.5.1 is 261/341, the Total the table states (the contract's
    decision; it had divided by the rows' sum, 342);
  * test_school_baseline_without_observations -- a goal-3 baseline with no
    observed group raises `no_observations` on the baseline itself, once due.

test_zero_control_mean documents a point the specification leaves open.
"""
from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_viborg as ref  # noqa: E402

from contractlang import cli  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CONTRACT = REPO / "contracts" / "viborg" / "viborg.contract"
GENERATOR = REPO / "contracts" / "viborg" / "make_ledger.py"
SAMPLE = REPO / "contracts" / "viborg" / "ledger"

END = "2028-10-31"
DATES = (END, "2025-06-30", "2026-12-31")

# name -> (intervention households, control households, seed, thinning)
# thinning: fraction of measurement rows removed (deterministically) after
# generation, to get heavy missingness the generator has no option for.
GENERATED = {
    "g40_c10_s1": (40, 10, 1, 0.0),
    "g60_c3_s7": (60, 3, 7, 0.0),        # very few control households
    "g120_c40_s11": (120, 40, 11, 0.0),
    "g200_c60_s23": (200, 60, 23, 0.0),
    "g180_c15_s5_thin": (180, 15, 5, 0.45),   # heavy missingness
    "g40_c4_s9_thin": (40, 4, 9, 0.7),        # tiny and very sparse
    "g90_c25_s42": (90, 25, 42, 0.15),
}


# --------------------------------------------------------------------------
# Ledgers and runs (cached for the session)
# --------------------------------------------------------------------------

def thin_ledger(directory: Path, fraction: float, seed: int) -> None:
    """Remove `fraction` of the measurement rows, chosen with a seeded RNG."""
    path = directory / "measurements.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rng = random.Random(seed * 7919 + 13)
    kept = [rows[0]] + [r for r in rows[1:] if rng.random() >= fraction]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(kept)


@pytest.fixture(scope="session")
def ledgers(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("viborg_ledgers")
    out = {"sample": SAMPLE}
    for name, (hh, ctl, seed, thin) in GENERATED.items():
        d = base / name
        subprocess.run([sys.executable, str(GENERATOR), "--out", str(d),
                        "--households", str(hh), "--control", str(ctl),
                        "--seed", str(seed)],
                       check=True, capture_output=True, cwd=REPO)
        if thin:
            thin_ledger(d, thin, seed)
        out[name] = d
    for name, builder in HANDMADE.items():
        d = base / name
        d.mkdir()
        builder(d)
        out[name] = d
    return out


_ENGINE_CACHE: dict[tuple[str, str], dict] = {}
_REF_CACHE: dict[tuple[str, str], dict] = {}


def engine(ledgers, name: str, as_of: str) -> dict:
    """The CLI's settlement, run in this process (`contractlang.cli.main`, as the console script is)."""
    key = (name, as_of)
    if key not in _ENGINE_CACHE:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "settlement.json"
            status = cli.main(["settle", str(CONTRACT), "--ledger", str(ledgers[name]), "--format", "json",
                               "--no-trace", "--as-of", as_of, "-o", str(out)])
            assert status == 0, f"settle {name} as of {as_of}: exit {status}"
            _ENGINE_CACHE[key] = json.loads(out.read_text(encoding="utf-8"))
    return _ENGINE_CACHE[key]


def reference(ledgers, name: str, as_of: str) -> dict:
    key = (name, as_of)
    if key not in _REF_CACHE:
        _REF_CACHE[key] = ref.settle(ledgers[name], date.fromisoformat(as_of))
    return _REF_CACHE[key]


def D(x) -> Decimal:
    return Decimal(x)


def report(diffs: list[str], what: str) -> None:
    if diffs:
        shown = "\n  ".join(diffs[:25])
        more = f"\n  ... and {len(diffs) - 25} more" if len(diffs) > 25 else ""
        pytest.fail(f"{len(diffs)} {what} differ (engine vs reference):\n  {shown}{more}")


# --------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------

def compare_totals(e: dict, r: dict) -> list[str]:
    diffs = []
    t = e["totals"]
    for g in ref.GOALS:
        eg = D(t["goals"].get(g, "0"))
        if eg != r["goals"][g]:
            diffs.append(f"goals[{g}]: engine {eg} reference {r['goals'][g]}")
        ei = t["imputed"].get(g, 0)
        if ei != r["imputed"][g]:
            diffs.append(f"imputed[{g}]: engine {ei} reference {r['imputed'][g]}")
    for key in ("by_payer", "by_recipient"):
        for who, amount in r[key].items():
            ea = D(t[key].get(who, "0"))
            if ea != amount:
                diffs.append(f"{key}[{who}]: engine {ea} reference {amount}")
        extra = set(t[key]) - set(r[key])
        for who in extra:
            if D(t[key][who]) != 0:
                diffs.append(f"{key}[{who}]: engine {t[key][who]} reference (none)")
    if D(t["return_cap_cut"]) != r["return_cap_cut"]:
        diffs.append(f"return_cap_cut: engine {t['return_cap_cut']} reference {r['return_cap_cut']}")
    if D(t["pool"]) != r["pool"]:
        diffs.append(f"pool: engine {t['pool']} reference {r['pool']}")
    return diffs


def compare_periods(e: dict, r: dict) -> list[str]:
    """Periods matched by label; a period absent on one side must be zero on
    the other."""
    diffs = []
    ep = {p["period"]: p for p in e["periods"]}
    zero = {"amount": Decimal(0), "by_recipient": {}}
    for label in sorted(set(ep) | set(r["periods"])):
        rp = r["periods"].get(label, zero)
        e_amount = D(ep[label]["amount"]) if label in ep else Decimal(0)
        if e_amount != rp["amount"]:
            diffs.append(f"{label} amount: engine {e_amount} reference {rp['amount']}")
        for who in ("DSI", "LBF"):
            ea = D(ep[label]["by_recipient"].get(who, "0")) if label in ep else Decimal(0)
            ra = rp["by_recipient"].get(who, Decimal(0))
            if ea != ra:
                diffs.append(f"{label} by_recipient[{who}]: engine {ea} reference {ra}")
    return diffs


def compare_flags(e: dict, r: dict) -> list[str]:
    """Flags by id, by (id, subject), and `no_observations` by (goal, cohort, point)."""
    diffs = []
    r_ids = set(r["flags"])
    r_subj = {t for t in r["flag_subjects"] if t[0] != "no_observations"}
    r_noobs = set(r["no_observations"])
    e_ids = {f["id"] for f in e["flags"]}
    if e_ids != r_ids:
        diffs.append(f"flag ids: engine only {sorted(e_ids - r_ids)}, "
                     f"reference only {sorted(r_ids - e_ids)}")
    e_subj = {(f["id"], f["subject"]) for f in e["flags"] if f["id"] != "no_observations"}
    if e_subj != r_subj:
        diffs.append(f"flag subjects: engine only {sorted(e_subj - r_subj, key=str)}, "
                     f"reference only {sorted(r_subj - e_subj, key=str)}")
    e_noobs = {(f["details"].get("goal"), f["details"].get("cohort"), f["details"].get("point"))
               for f in e["flags"] if f["id"] == "no_observations"}
    if e_noobs != r_noobs:
        diffs.append(f"no_observations: engine only {sorted(e_noobs - r_noobs, key=str)}, "
                     f"reference only {sorted(r_noobs - e_noobs, key=str)}")
    return diffs


def compare_lines(e: dict, r: dict) -> list[str]:
    """Lines matched by (goal, subject, point).  A line that only one side has
    must pay nothing (amount 0) on that side."""
    diffs = []
    el = {(l["goal"], l["subject"], l["point"]): l for l in e["lines"]}
    rl = {(l["goal"], l["subject"], l["point"]): l for l in r["lines"]}
    for key in sorted(set(el) | set(rl)):
        a, b = el.get(key), rl.get(key)
        if a is None:
            if b["gross"] != 0:
                diffs.append(f"{key}: engine has no line, reference gross {b['gross']} "
                             f"amount {b['amount']} date {b['date']}")
            continue
        if b is None:
            if D(a["gross"]) != 0:
                diffs.append(f"{key}: reference has no line, engine gross {a['gross']} "
                             f"amount {a['amount']} date {a['date']}")
            continue
        for fld in ("gross", "after_goal_cap", "amount"):
            if D(a[fld]) != b[fld]:
                diffs.append(f"{key} {fld}: engine {a[fld]} reference {b[fld]}")
        if a["date"] != b["date"].isoformat():
            diffs.append(f"{key} date: engine {a['date']} reference {b['date']}")
        if a["period"] != b["period"]:
            diffs.append(f"{key} period: engine {a['period']} reference {b['period']}")
        if bool(a["imputed"]) != b["imputed"]:
            diffs.append(f"{key} imputed: engine {a['imputed']} reference {b['imputed']}")
        for who in ("DSI", "LBF"):
            ea = D(a["split"].get(who, "0"))
            if ea != b["split"].get(who, Decimal(0)):
                diffs.append(f"{key} split[{who}]: engine {ea} reference {b['split'].get(who)}")
    # Order of the engine's lines: "Lines are ordered by point date, then goal
    # (in the order 1-5 above), then subject id in plain string order".
    order = [(l["date"], ref.GOAL_ORDER[l["goal"]], l["subject"]) for l in e["lines"]]
    if order != sorted(order):
        diffs.append("engine lines are not in cap order (date, goal, subject)")
    return diffs


# --------------------------------------------------------------------------
# Generated ledgers and the sample
# --------------------------------------------------------------------------

CASES = [(name, d) for name in ["sample", *GENERATED] for d in DATES]
CASES += [("sample", "2023-12-31"), ("sample", "2026-10-31"), ("g120_c40_s11", "2024-12-31"),
          ("g200_c60_s23", "2027-09-30"), ("g180_c15_s5_thin", "2027-12-31"),
          ("g90_c25_s42", "2026-06-30")]
CASE_IDS = [f"{n}@{d}" for n, d in CASES]


@pytest.mark.parametrize("name,as_of", CASES, ids=CASE_IDS)
def test_totals(ledgers, name, as_of):
    report(compare_totals(engine(ledgers, name, as_of), reference(ledgers, name, as_of)),
           "totals")


@pytest.mark.parametrize("name,as_of", CASES, ids=CASE_IDS)
def test_periods(ledgers, name, as_of):
    report(compare_periods(engine(ledgers, name, as_of), reference(ledgers, name, as_of)),
           "periods")


@pytest.mark.parametrize("name,as_of", CASES, ids=CASE_IDS)
def test_flags(ledgers, name, as_of):
    report(compare_flags(engine(ledgers, name, as_of), reference(ledgers, name, as_of)), "flags")


@pytest.mark.parametrize("name,as_of", CASES, ids=CASE_IDS)
def test_lines(ledgers, name, as_of):
    report(compare_lines(engine(ledgers, name, as_of), reference(ledgers, name, as_of)),
           "lines")


# --------------------------------------------------------------------------
# Hand-made ledgers: corners the generator does not reach
# --------------------------------------------------------------------------

HOUSEHOLD_COLUMNS = ["household_id", "group", "start_date", "end_date",
                     "end_reason", "replaces", "cohort"]


def write_ledger(d: Path, households, persons=(), values=(),
                 cohorts=()) -> None:
    """households: (id, group, start, end, reason, replaces, cohort) with the
    tail optional; persons: (id, household, birth, grade or None); values:
    (subject, measure, point, value).  A row's date is its point's date."""
    hh = {}
    with open(d / "households.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(HOUSEHOLD_COLUMNS)
        for row in households:
            row = list(row) + [""] * (7 - len(row))
            w.writerow(row)
            hh[row[0]] = ref.Household(row[0], row[1], date.fromisoformat(row[2]),
                                       date.fromisoformat(row[3]) if row[3] else None,
                                       row[4], row[5], row[6])
    owner = {}
    with open(d / "persons.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["person_id", "household_id", "birth_date", "school_grade"])
        for pid, hid, birth, grade in persons:
            w.writerow([pid, hid, birth, "" if grade is None else grade])
            owner[pid] = hid
    cohort_start = {c: date.fromisoformat(x) for c, x in cohorts}
    with open(d / "cohorts.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["cohort", "start_date"])
        w.writerows(cohorts)
    with open(d / "measurements.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["subject_id", "measure", "point", "date", "value"])
        for subject, measure, point, value, *when in values:
            h = hh[owner.get(subject, subject)]
            if when:
                when = when[0]
            elif measure == "school_absence_pct":
                when = ref.cohort_point_date(cohort_start[h.cohort], point)
            else:
                when = ref.household_point_date(h, point)
            w.writerow([subject, measure, point, str(when), value])


def adult(pid, types=("employed",) * 4, su=("false",) * 3, done=("false",) * 3,
          fit=("not_applicable",) * 3, social=("none", "none"), life=("5", "5")):
    """Measurement rows of one adult; a None value leaves the row out."""
    rows = []
    for point, v in zip(("baseline", "m12", "m18", "m24"), types):
        rows.append((pid, "benefit_type", point, v))
    for measure, vals in (("in_su_education", su), ("completed_education_6m", done),
                          ("fit_status", fit)):
        for point, v in zip(ref.EMPLOYMENT_POINTS, vals):
            rows.append((pid, measure, point, v))
    rows += [(pid, "social_measure", "baseline", social[0]),
             (pid, "social_measure", "m24", social[1]),
             (pid, "life_satisfaction", "baseline", life[0]),
             (pid, "life_satisfaction", "end", life[1])]
    return [r for r in rows if r[3] is not None]


def build_dates_ages(d: Path) -> None:
    """Month-end clamping, the 3-month stay to the day, ages at the boundary,
    an end date after the intervention period."""
    households = [
        ("H01", "intervention", "2024-01-31"),                           # m12 2025-01-31, stay 2024-04-30
        ("H02", "intervention", "2024-02-29", "2024-05-29", "moved"),    # stay reached on its last day
        ("H03", "intervention", "2024-01-31", "2024-04-29", "dropped"),  # one day short
        ("H04", "intervention", "2023-11-30", "2027-03-15", "completed"),  # ends after 2026-10-31
        ("H05", "intervention", "2024-08-31"),                           # m18 clamps to 2026-02-28
        ("H06", "intervention", "2026-02-28"),                           # a Feb-29 child turns 18
        ("H07", "intervention", "2026-07-31"),                           # stay reached 2026-10-31 exactly
        ("H08", "intervention", "2026-08-01"),                           # never reaches its stay
    ]
    persons = [
        ("P01", "H01", "2006-01-31", None),   # 18 on the start date
        ("P02", "H01", "2006-02-01", None),   # 17
        ("P03", "H01", "1957-02-01", None),   # 66
        ("P04", "H01", "1957-01-31", None),   # 67: goals 2 and 4 only
        ("P05", "H02", "1980-05-05", None),
        ("P06", "H03", "1980-05-05", None),
        ("P07", "H04", "1970-01-01", None),
        ("P08", "H05", "1990-12-31", None),
        ("P09", "H06", "2008-02-29", None),   # 17 or 18 on 2026-02-28?
        ("P10", "H07", "1985-03-03", None),
        ("P11", "H08", "1985-03-03", None),
    ]
    values = []
    for i, (pid, *_rest) in enumerate(persons):
        success = i % 2 == 0
        values += adult(pid, types=("cash_benefit_job_ready",) + (("employed",) if success else ("cash_benefit_job_ready",)) * 3,
                        social=("s85", "s82" if success else "s85"),
                        life=("4", "6" if success else "4"))
    for j, (hid, *_rest) in enumerate(households):
        values.append((hid, "action_plan_pct", "end", str(40 + 7 * j) + ".5"))
    write_ledger(d, households, persons, values)


def build_goal1_reference_type(d: Path) -> None:
    """Reference benefit type fallbacks and which measures each criterion reads."""
    households = [("H01", "intervention", "2023-12-15"),
                  ("H02", "intervention", "2023-12-15", "2024-02-01", "dropped"),  # never counts
                  ("K01", "control", "2023-12-15")]
    persons = [(f"P0{i}", "H01", "1980-01-01", None) for i in range(1, 6)]
    persons += [("P06", "H02", "1980-01-01", None), ("P07", "K01", "1980-01-01", None)]
    # observed failures outside the goal's subjects: they must not move a mean
    values = adult("P06", types=("employed", "in_education", "in_education", "in_education"))
    values += adult("P07", types=("employed", "in_education", "in_education", "in_education"))
    # P01: sick-leave at m12 from the baseline; m12 type missing so m18 falls
    # back to the baseline; m18 type flexjob decides m24.
    values += adult("P01", types=("sickness_benefit", None, "flexjob", "flexjob"),
                    su=(None, None, None), done=(None, None, None),
                    fit=("fit", "sick", None))
    # P02: no type ever observed -> unknown -> education/employment.
    values += adult("P02", types=(None, None, "cash_benefit_job_ready", "no_benefit"),
                    su=("true", "false", "false"), done=("false", "true", "false"))
    # P03: flexjob at baseline, then employed, then self-supporting.
    values += adult("P03", types=("flexjob", "employed", "self_supporting_in_programme", "employed"),
                    su=(None, "false", None), fit=(None, None, None))
    # P04: job clarification; its m12 fit_status is missing.
    values += adult("P04", types=("job_clarification", "employed", "employed", "employed"),
                    fit=(None, "fit", "fit"))
    # P05: the enum value `unknown` observed.
    values += adult("P05", types=("unknown", "unknown", "unknown", "unknown"),
                    done=("true", "false", "false"))
    write_ledger(d, households, persons, values)


def school_rows(children_values):
    return [(c, "school_absence_pct", p, v) for c, pv in children_values.items()
            for p, v in pv.items()]


def build_school_ties(d: Path) -> None:
    """Relative differences that are exact ties at one decimal.

    c1 m12: I = (5.26 + 5.26 + 5.27)/3, C = (6.66 + 6.67 + 6.67)/3, both
    non-terminating; (I - C)/C x 100 = (15.79 - 20)/20 x 100 = -21.05 exactly
    -> round1 = -21.1 (half away from zero); d0 = 0 -> pays 21.1 x 6,500 =
    137,150.  c1 m18: the same tie with terminating means.  c2: the tie sits
    in the baseline, +21.05 -> +21.1, and m12 has I = C, so the m12 line pays
    21.1 x 6,500 = 137,150."""
    households, persons, vals = [], [], {}
    for cohort, start in (("c1", "2023-11-01"), ("c2", "2024-11-01")):
        for g, prefix in (("intervention", "H"), ("control", "K")):
            for k in range(1, 4):
                hid = f"{prefix}{cohort}{k}"
                households.append((hid, g, start, "", "", "", cohort))
                persons.append((f"C{hid}", hid, "2015-06-01", 3))
    for k, (i12, c12) in enumerate(zip(("5.26", "5.26", "5.27"), ("6.66", "6.67", "6.67")), 1):
        vals[f"CHc1{k}"] = {"baseline": "10.00", "m12": i12, "m18": "15.79", "m24": "9.00"}
        vals[f"CKc1{k}"] = {"baseline": "10.00", "m12": c12, "m18": "20.00", "m24": "10.00"}
        vals[f"CHc2{k}"] = {"baseline": "8.07", "m12": "7.00", "m18": "7.00", "m24": "7.00"}
        vals[f"CKc2{k}"] = {"baseline": c12, "m12": "7.00", "m18": "7.50", "m24": "7.00"}
    write_ledger(d, households, persons, school_rows(vals),
                 cohorts=(("c1", "2023-11-01"), ("c2", "2024-11-01")))


def build_ore_ties(d: Path) -> None:
    """Half-øre ties: H03's missing plan is imputed with the mean 10.005 % of
    10.01, 10.00, 10.002, 10.008 -> 1,250.625 -> 1,250.63 (half up); H04's
    observed 10.002 % -> 1,250.25, whose DSI share 925.185 -> 925.19."""
    households = [(f"H0{i}", "intervention", "2023-12-01") for i in range(1, 6)]
    values = [("H01", "action_plan_pct", "end", "10.01"),
              ("H02", "action_plan_pct", "end", "10.00"),
              ("H04", "action_plan_pct", "end", "10.002"),
              ("H05", "action_plan_pct", "end", "10.008")]
    write_ledger(d, households, [], values)


def build_replaced(d: Path) -> None:
    """Replacement (3.2.3): a counting household that is replaced; dropouts
    within 3 months, replaced later, not replaced, or no longer needing help."""
    households = [
        ("H01", "intervention", "2023-11-10", "2024-05-20", "moved"),      # counted, then replaced by H02
        ("H02", "intervention", "2024-06-01", "", "", "H01"),
        ("H03", "intervention", "2023-12-01", "2024-01-15", "dropped"),     # replaced by H04 only from 2024-09-01
        ("H04", "intervention", "2024-09-01", "", "", "H03"),
        ("H05", "intervention", "2024-01-01", "2024-02-01", "no_longer_needed"),
        ("H06", "intervention", "2024-01-01", "2024-03-31", "completed"),   # within 3 months, not replaced
        ("H07", "intervention", "2024-02-01", "", ""),
        ("H08", "intervention", "2023-11-05", "2024-03-20", "moved"),     # counted; replaced only from 2025-03-01
        ("H09", "intervention", "2025-03-01", "", "", "H08"),
    ]
    persons = [(f"P{h[0]}", h[0], "1980-01-01", None) for h in households]
    values = []
    for pid, hid, *_ in persons:
        if hid in ("H01", "H08"):   # nothing after it moved
            values += [r for r in adult(pid) if r[2] == "baseline"]
        else:
            values += adult(pid, types=("cash_benefit_job_ready", "employed", "employed", "cash_benefit_job_ready"),
                            social=("s85", "none"), life=("3", "7"))
            values.append((hid, "action_plan_pct", "end", "80"))
    write_ledger(d, households, persons, values)


def build_flags(d: Path) -> None:
    """Flag boundaries: 15 households started by 2024-04-30 (the 15th on that
    day), 39 by 2024-10-31; 21 intervention households ended other than
    `completed`, the 21st on 2025-07-01; a control household that moved; a
    second cohort with fewer than 30 households."""
    households = []
    for i in range(1, 15):
        households.append((f"A{i:02d}", "intervention", f"2024-{1 + i % 3:02d}-{i + 1:02d}"))
    households.append(("A15", "intervention", "2024-04-30"))
    for i in range(16, 40):
        households.append((f"A{i:02d}", "intervention", "2024-10-31"))
    households.append(("A40", "intervention", "2024-11-01", "", "", "", "c2"))
    # 21 endings that are not `completed`, all after 3 months
    ended = []
    for i, (hid, g, start, *_rest) in enumerate(households[:21]):
        end = "2025-07-01" if i == 20 else "2025-03-0" + str(1 + i % 9)
        ended.append((hid, g, start, end, ("moved", "dropped", "other")[i % 3]))
    households = ended + households[21:]
    households += [(f"B{i}", "intervention", "2024-11-15", "2025-06-01", "completed", "", "c2")
                   for i in range(1, 4)]
    households.append(("K01", "control", "2023-11-01", "2024-06-01", "moved"))
    # cohort c3: 30 households, the 30th known only from 2025-08-01; two of
    # them end within a month (`completed`, so not in ended_households)
    households += [(f"C{i:02d}", "intervention", "2025-01-05", "", "", "", "c3")
                   for i in range(1, 28)]
    households += [(f"C{i:02d}", "intervention", "2025-01-05", "2025-02-01", "completed", "", "c3")
                   for i in (28, 29)]
    households.append(("C30", "intervention", "2025-08-01", "", "", "", "c3"))
    write_ledger(d, households, [], [], cohorts=(("c1", "2023-11-01"), ("c2", "2024-11-01"),
                                                 ("c3", "2025-01-01")))


def build_no_observations(d: Path) -> None:
    """Nobody observed: goal 1 at m12, goal 5; goal 3 cohort c1 has no
    observed control child at baseline but both groups at m12-m24."""
    households = [("H01", "intervention", "2023-11-01", "", "", "", "c1"),
                  ("H02", "intervention", "2023-11-01", "", "", "", "c1"),
                  ("K01", "control", "2023-11-01", "", "", "", "c1")]
    persons = [("P01", "H01", "1980-01-01", None), ("P02", "H02", "1980-01-01", None),
               ("C01", "H01", "2015-01-01", 2), ("C02", "K01", "2015-01-01", 2)]
    values = []
    for pid in ("P01", "P02"):
        values += [r for r in adult(pid, types=("employed",) * 4) if r[2] != "m12"]
    values += school_rows({"C01": {"baseline": "9.00", "m12": "5.00", "m18": "5.00", "m24": "5.00"},
                           "C02": {"m12": "10.00", "m18": "10.00", "m24": "10.00"}})
    write_ledger(d, households, persons, values, cohorts=(("c1", "2023-11-01"),))


def build_cap_order(d: Path) -> None:
    """30 adults P1..P30 (ids not zero-padded) whose households all start on
    the same day, each 5 staircase units (210,000 kr.) and one employment
    success at m24, on the same date: the return cap (6,000,000) and the
    tranche switch (5,275,000) fall inside a run of same-date lines whose
    order is "then goal ..., then subject id in plain string order"."""
    households = [(f"H{i}", "intervention", "2024-01-10") for i in range(1, 31)]
    persons = [(f"P{i}", f"H{i}", "1980-01-01", None) for i in range(1, 31)]
    values = []
    for i in range(1, 31):
        values += adult(f"P{i}", social=("s103_104", "none"), life=("5", "5"))
    write_ledger(d, households, persons, values)


def build_late_cohort(d: Path) -> None:
    """A cohort starting 2027-01-01: its m24 (2029-01-01) is after the end of
    data collection and is never due."""
    households = [("H01", "intervention", "2026-06-01", "", "", "", "c2"),
                  ("K01", "control", "2027-01-01", "", "", "", "c2")]
    persons = [("C01", "H01", "2016-01-01", 4), ("C02", "K01", "2016-01-01", 4)]
    values = school_rows({"C01": {"baseline": "10.00", "m12": "8.00", "m18": "8.00", "m24": "6.00"},
                          "C02": {"baseline": "10.00", "m12": "10.00", "m18": "10.00", "m24": "10.00"}})
    write_ledger(d, households, persons, values,
                 cohorts=(("c1", "2023-11-01"), ("c2", "2027-01-01")))


def build_row_dates(d: Path) -> None:
    """Rows whose `date` is not their point's date: P1's m12 rows are dated
    2025-01-10 (point 2024-12-15), its m18 rows 2025-06-01 (point
    2025-06-15).  The reference reads "due" from the point's date only."""
    households = [("H1", "intervention", "2023-12-15"), ("H2", "intervention", "2023-12-15")]
    persons = [("P1", "H1", "1980-01-01", None), ("P2", "H2", "1980-01-01", None)]
    late = {"m12": "2025-01-10", "m18": "2025-06-01"}
    values = [r + ((late[r[2]],) if r[2] in late else ())
              for r in adult("P1", types=("cash_benefit_job_ready",) * 4)]
    values += adult("P2")
    write_ledger(d, households, persons, values)


def build_school_membership(d: Path) -> None:
    """Who is a goal-3 child: grades 0-9 only; intervention children only from
    counting households (H2 counts from 2024-12-01, H3 never); a person with
    a grade who is 18 at the start (A1) is a child for goal 3 and an adult for
    goals 1, 2 and 4 ("goal 1 ages 18-66 ...; goals 2 and 4 age >= 18")."""
    c = "c1"
    households = [("H1", "intervention", "2023-11-01", "", "", "", c),
                  ("H2", "intervention", "2024-09-01", "", "", "", c),
                  ("H3", "intervention", "2023-11-01", "2024-01-10", "dropped", "", c),
                  ("H4", "intervention", "2023-11-01", "", "", "", c),
                  ("K1", "control", "2023-11-01", "", "", "", c),
                  ("K2", "control", "2023-11-01", "", "", "", c),
                  ("K3", "control", "2023-11-01", "", "", "", c)]
    persons = [("S1", "H1", "2017-03-01", 0), ("S2", "H1", "2008-03-01", 10),
               ("S3", "H2", "2012-03-01", 5), ("S4", "H3", "2013-03-01", 2),
               ("A1", "H4", "2005-06-01", 9), ("S5", "K1", "2009-03-01", 9),
               ("S6", "K2", "2008-03-01", 10), ("A2", "K3", "1980-01-01", None)]
    pts = ("baseline", "m12", "m18", "m24")
    vals = {"S1": ("10.00", "5.00", "5.00", "5.00"), "S2": ("50.00",) * 4,
            "S3": ("12.00", "6.00", "6.00", "6.00"), "S4": ("40.00",) * 4,
            "A1": ("8.00", "7.00", "7.00", "7.00"), "S5": ("10.00",) * 4,
            "S6": ("90.00",) * 4}
    values = school_rows({k: dict(zip(pts, v)) for k, v in vals.items()})
    values += adult("A1", types=("in_education",) * 4, su=("true",) * 3,
                    social=("s85", "none"), life=("3", "8"))
    values += adult("A2", social=("s85", "none"), life=("3", "8"))
    for hid in ("H1", "H2", "H4"):
        values.append((hid, "action_plan_pct", "end", "50"))
    write_ledger(d, households, persons, values, cohorts=(("c1", "2023-11-01"),))


def build_zero_control(d: Path) -> None:
    """A control mean of 0 at m12 and m24 (nothing to divide by)."""
    one_child_each(d, ("5.00", "4.00", "3.00", "2.00"), ("6.00", "0.00", "6.00", "0.00"))


def build_worked_example(d: Path) -> None:
    """The seed's worked example 2.6.2 (cohort 1): control 10.00 / 10.00 /
    9.50 / 9.50 %, intervention 9.00 / 7.00 / 7.50 / 8.70 % -> 130,000,
    72,150 and 0."""
    one_child_each(d, ("9.00", "7.00", "7.50", "8.70"), ("10.00", "10.00", "9.50", "9.50"))


def one_child_each(d: Path, intervention: tuple, control: tuple) -> None:
    """Cohort c1 of one intervention child S1 and one control child S2, with
    their absence at baseline, m12, m18 and m24."""
    households = [("H1", "intervention", "2023-11-01", "", "", "", "c1"),
                  ("K1", "control", "2023-11-01", "", "", "", "c1")]
    persons = [("S1", "H1", "2015-01-01", 3), ("S2", "K1", "2015-01-01", 3)]
    points = ("baseline", "m12", "m18", "m24")
    values = school_rows({"S1": dict(zip(points, intervention)), "S2": dict(zip(points, control))})
    write_ledger(d, households, persons, values, cohorts=(("c1", "2023-11-01"),))


def build_dis_school_tie(d: Path) -> None:
    """Disagreement C, minimal: one intervention child (8.07 % at baseline),
    three control children (6.66, 6.67, 6.67 % -> mean 20/3); at m12 both
    means are 7.00 %."""
    households = [("H1", "intervention", "2023-11-01", "", "", "", "c1")]
    households += [(f"K{k}", "control", "2023-11-01", "", "", "", "c1") for k in (1, 2, 3)]
    persons = [("S1", "H1", "2015-01-01", 3)]
    persons += [(f"S{k + 1}", f"K{k}", "2015-01-01", 3) for k in (1, 2, 3)]
    values = school_rows({"S1": {"baseline": "8.07", "m12": "7.00"},
                          "S2": {"baseline": "6.66", "m12": "7.00"},
                          "S3": {"baseline": "6.67", "m12": "7.00"},
                          "S4": {"baseline": "6.67", "m12": "7.00"}})
    write_ledger(d, households, persons, values, cohorts=(("c1", "2023-11-01"),))


def build_dis_social_deviation(d: Path) -> None:
    """Disagreement A, minimal: 21 counting adults with baseline
    social_measure 15 x none, 1 x s82, 4 x s85, 1 x s103_104."""
    measures = ["none"] * 15 + ["s82"] + ["s85"] * 4 + ["s103_104"]
    households = [(f"H{i:02d}", "intervention", "2023-11-15") for i in range(1, 22)]
    persons = [(f"P{i:02d}", f"H{i:02d}", "1980-01-01", None) for i in range(1, 22)]
    values = [(f"P{i:02d}", "social_measure", "baseline", m)
              for i, m in enumerate(measures, 1)]
    write_ledger(d, households, persons, values)


def build_dis_school_baseline(d: Path) -> None:
    """Disagreement B, minimal: cohort c1; the control child has no baseline
    value; both children are observed at m12."""
    households = [("H1", "intervention", "2023-11-01", "", "", "", "c1"),
                  ("K1", "control", "2023-11-01", "", "", "", "c1")]
    persons = [("S1", "H1", "2015-01-01", 3), ("S2", "K1", "2015-01-01", 3)]
    values = school_rows({"S1": {"baseline": "9.00", "m12": "5.00"},
                          "S2": {"m12": "10.00"}})
    write_ledger(d, households, persons, values, cohorts=(("c1", "2023-11-01"),))


HANDMADE = {
    "hand_dates_ages": build_dates_ages,
    "hand_goal1_reference_type": build_goal1_reference_type,
    "dis_school_ties": build_school_ties,
    "hand_ore_ties": build_ore_ties,
    "hand_replaced": build_replaced,
    "hand_flags": build_flags,
    "hand_no_observations": build_no_observations,
    "hand_cap_order": build_cap_order,
    "hand_late_cohort": build_late_cohort,
    "hand_school_membership": build_school_membership,
    "hand_row_dates": build_row_dates,
    "hand_zero_control": build_zero_control,
    "hand_worked_example": build_worked_example,
    "dis_school_tie": build_dis_school_tie,
    "dis_social_deviation": build_dis_social_deviation,
    "dis_school_baseline": build_dis_school_baseline,
}

HAND_DATES = {
    "hand_dates_ages": (END, "2024-04-29", "2024-04-30", "2025-01-30", "2025-01-31",
                        "2026-02-27", "2026-02-28", "2026-10-31", "2026-12-31"),
    "hand_goal1_reference_type": (END,),
    "hand_ore_ties": (END,),
    "hand_replaced": (END, "2024-06-30", "2024-12-31"),
    "hand_flags": ("2024-04-29", "2024-04-30", "2024-10-30", "2024-10-31",
                   "2025-06-30", "2025-07-01", "2025-08-01"),
    "hand_no_observations": ("2024-06-30", END),
    "hand_cap_order": (END,),
    "hand_late_cohort": (END, "2029-06-30"),
    "hand_school_membership": ("2024-11-15", END),
    "hand_worked_example": (END,),
    "hand_row_dates": ("2024-12-31", "2025-06-05", END),
}

HAND_CASES = [(n, d) for n, ds in HAND_DATES.items() for d in ds]
HAND_IDS = [f"{n}@{d}" for n, d in HAND_CASES]

ALL_RUNS = CASES + HAND_CASES + [
    ("hand_zero_control", END), ("dis_school_tie", "2024-11-30"), ("dis_school_ties", END),
    ("dis_social_deviation", "2024-06-30"),
    ("dis_school_baseline", "2024-06-30"), ("dis_school_baseline", "2024-11-30")]


@pytest.mark.parametrize("name,as_of", HAND_CASES, ids=HAND_IDS)
def test_handmade(ledgers, name, as_of):
    e, r = engine(ledgers, name, as_of), reference(ledgers, name, as_of)
    report(compare_totals(e, r) + compare_periods(e, r)
           + compare_flags(e, r) + compare_lines(e, r), "values")


# --------------------------------------------------------------------------
# The seed's worked example: both sides must reproduce it
# --------------------------------------------------------------------------

def test_worked_example_2_6_2(ledgers):
    """DOMAIN.md goal 3 worked example: 130,000 / 72,150 / 0."""
    want = {"m12": Decimal("130000.00"), "m18": Decimal("72150.00"), "m24": Decimal("0.00")}
    r = reference(ledgers, "hand_worked_example", END)
    assert {l["point"]: l["gross"] for l in r["lines"] if l["goal"] == "school_absence"} == want
    e = engine(ledgers, "hand_worked_example", END)
    assert {l["point"]: D(l["gross"]) for l in e["lines"] if l["goal"] == "school_absence"} == want


# --------------------------------------------------------------------------
# Where the engine had departed from the specification (each now fixed)
# --------------------------------------------------------------------------

def test_school_absence_exact_tie(ledgers):
    """Goal 3 rounds an exact tie reached through a repeating mean.

    LEDGER.md: "Goal 3: relative differences rounded to one decimal, half away
    from zero, before correction."  Cohort c1: I_0 = 8.07, C_0 = (6.66 + 6.67
    + 6.67)/3 = 20/3, so (I_0 - C_0)/C_0 x 100 = 21.05 exactly -> d_0 = 21.1;
    at m12 I = C = 7.00 -> d_12 = 0.0; 21.1 x 6,500 = 137,150.00.  With C_0
    carried to 50 digits the engine had got 21.0499...9 -> 21.0 -> 136,500.00."""
    want = Decimal("137150.00")
    r = reference(ledgers, "dis_school_tie", "2024-11-30")
    assert [l["gross"] for l in r["lines"] if l["goal"] == "school_absence"] == [want]
    e = engine(ledgers, "dis_school_tie", "2024-11-30")
    assert [D(l["gross"]) for l in e["lines"] if l["goal"] == "school_absence"] == [want]


def test_school_absence_ties_in_full(ledgers):
    """The same in a fuller ledger (see build_school_ties): negative ties in
    cohort c1 (m12 through a repeating mean, m18 terminating: both -21.05 ->
    -21.1) and a positive baseline tie in cohort c2 (+21.05 -> +21.1), which
    had cost 1,950.00 over m12, m18 and m24."""
    e, r = engine(ledgers, "dis_school_ties", END), reference(ledgers, "dis_school_ties", END)
    report(compare_totals(e, r) + compare_periods(e, r) + compare_flags(e, r) + compare_lines(e, r), "values")


def test_social_deviation_divides_by_the_stated_total(ledgers):
    """`baseline_deviation_social_measures`: the expected share is the count
    over the Total table 2.5.1 states, 341 (DOMAIN.md: "261 / 5 / 54 / 22 of
    341"), as the contract's decision says; its rows add up to 342.  21 adults,
    15 without a measure (71.43 %): 261/341 = 76.54 % -> 5.11 pp -> flag;
    261/342 = 76.32 % would be 4.89 pp, and the printed 76 % 4.57 pp."""
    r = reference(ledgers, "dis_social_deviation", "2024-06-30")
    assert r["deviation_readings"]["baseline_deviation_social_measures"] == {
        "table_total": True, "row_sum": False, "printed_share": False}
    e = engine(ledgers, "dis_social_deviation", "2024-06-30")
    assert "baseline_deviation_social_measures" in {f["id"] for f in e["flags"]}
    report(compare_flags(e, r), "flags")


@pytest.mark.parametrize("as_of", ["2024-06-30", "2024-11-30"])
def test_school_baseline_without_observations(ledgers, as_of):
    """Goal 3, a cohort's baseline with no observed control child.

    LEDGER.md: "a cohort point with no observed intervention or no observed
    control child pays nothing and raises a flag".  The baseline is a point of
    goal 3's measure, so the flag names (c1, baseline) as soon as the baseline
    is due, before any paying point is; m12 pays nothing (no d_0) and raises
    no flag of its own, since both groups were observed at m12."""
    e = engine(ledgers, "dis_school_baseline", as_of)
    r = reference(ledgers, "dis_school_baseline", as_of)
    assert r["no_observations"] == {("school_absence", "c1", "baseline")}
    report(compare_flags(e, r), "flags")


def test_zero_control_mean(ledgers):
    """A control mean of 0: d_k = round1((I_k - C_k) / C_k x 100) cannot be
    formed, and neither LEDGER.md nor DOMAIN.md says what then.  Both pay
    nothing for such a point.  Both groups were observed, so it is not the
    case of "no observed intervention or no observed control child": no
    `no_observations` flag (the engine's line says why it pays nothing)."""
    e = engine(ledgers, "hand_zero_control", END)
    r = reference(ledgers, "hand_zero_control", END)
    report(compare_totals(e, r) + compare_periods(e, r) + compare_lines(e, r) + compare_flags(e, r), "values")
    assert not [f for f in e["flags"] if f["id"] == "no_observations" and f["details"]["goal"] == "school_absence"]
