"""DWP Innovation Fund, round 2 (contracts/examples/innovation-fund): the bundled settlement against the contract's
prose — INDIGO's round-2 rate card — computed here in plain Python from the ledger's CSV files: behaviour £1,300,
attendance £1,400, attitude £700, first Level 1 £1,100, first Level 2 £3,300, first Level 3 £5,100, entry to first
employment (13 weeks) £3,500, sustained employment (26 weeks) £2,000 only after a paid entry to employment, an
entry-level qualification £900 and basic skills £900; each paid once per participant aged 14 or 15 at the start,
at the first review point that finds it; and at most £11,700 per participant, the lines meeting that cap in the
order date, goal, participant (a line crossing it is cut to what is left)."""

from __future__ import annotations

import collections
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from contractlang.render import render_line

from .ledgers import age, csv_rows, plus_months

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "contracts" / "examples" / "innovation-fund"
LEDGER = HERE / "ledger"
AS_OF = dt.date(2016, 4, 30)  # the end of data collection, the settlement's default date
CAP = Decimal(11_700)
SCHOOL = (("w13", 13), ("w26", 26), ("w39", 39), ("w52", 52))
YEARS = (("y1", 12), ("y2", 24))
# The goals in the order the contract declares them: (goal, measure, price, points as (name, weeks, months),
# requires)
GOALS = [
    ("behaviour", "behaviour_improved", 1300, [(p, w, 0) for p, w in SCHOOL], None),
    ("attendance", "attendance_improved", 1400, [(p, w, 0) for p, w in SCHOOL], None),
    ("attitude", "attitude_improved", 700, [("w26", 26, 0), ("w52", 52, 0)], None),
    ("first_level1", "level1", 1100, [(p, 0, m) for p, m in YEARS], None),
    ("first_level2", "level2", 3300, [(p, 0, m) for p, m in YEARS], None),
    ("first_level3", "level3", 5100, [(p, 0, m) for p, m in YEARS], None),
    ("first_job", "employed_13w", 3500, [("job_a", 78, 0), ("job_b", 104, 0)], None),
    ("sustained_job", "employed_26w", 2000, [("held_a", 91, 0), ("held_b", 117, 0)], "first_job"),
    ("entry_level", "entry_level", 900, [(p, 0, m) for p, m in YEARS], None),
    ("basic_skills", "basic_skills", 900, [(p, 0, m) for p, m in YEARS], None),
]


def by_hand() -> dict:
    start = {r["household_id"]: dt.date.fromisoformat(r["start_date"]) for r in csv_rows(LEDGER, "households.csv")}
    people = {r["person_id"]: start[r["household_id"]] for r in csv_rows(LEDGER, "persons.csv")
              if 14 <= age(dt.date.fromisoformat(r["birth_date"]), start[r["household_id"]]) <= 15}
    value = {(r["subject_id"], r["measure"], r["point"]): r["value"] == "true"
             for r in csv_rows(LEDGER, "measurements.csv")}
    # A line for each participant, goal and due point with a row (missing none: no row, no line).
    lines = []
    for k, (goal, measure, price, points, _) in enumerate(GOALS):
        for p, begun in people.items():
            for point, weeks, months in points:
                day = begun + dt.timedelta(weeks=weeks) if weeks else plus_months(begun, months)
                if day <= AS_OF and (p, measure, point) in value:
                    lines.append((day, k, p, goal, Decimal(price) if value[(p, measure, point)] else Decimal(0)))
    lines.sort(key=lambda ln: ln[:3])
    requires = {goal: req for goal, _, _, _, req in GOALS}
    paid: dict[tuple, bool] = {}
    left_out = collections.Counter()
    used = collections.defaultdict(Decimal)   # per participant, under the cap
    total, cut = collections.defaultdict(Decimal), collections.defaultdict(Decimal)
    for _, _, p, goal, gross in lines:
        # A line of no outcome pays nothing and is not left out; one with an outcome is, where a link says so.
        if gross > 0 and paid.get((goal, p)):                     # once per subject
            left_out["once_paid"] += 1
            continue
        if gross > 0 and requires[goal] and not paid.get((requires[goal], p)):  # sustained only after a paid job
            left_out["prerequisite_unpaid"] += 1
            continue
        if gross > 0:
            paid[(goal, p)] = True
        amount = min(gross, CAP - used[p])
        used[p] += amount
        total[goal] += amount
        cut[goal] += gross - amount
    return {"goals": {g: total[g] for g, *_ in GOALS}, "cut": {g: cut[g] for g, *_ in GOALS},
            "left_out": left_out, "capped": sum(1 for v in used.values() if v == CAP)}


def _doc() -> dict:
    return json.loads((HERE / "settlement.json").read_text(encoding="utf-8"))


def test_the_settlement_is_the_rate_card_computed_by_hand():
    doc, hand = _doc(), by_hand()
    totals = doc["totals"]
    assert {g: Decimal(v) for g, v in totals["goals"].items()} == hand["goals"]
    assert {g: Decimal(v) for g, v in totals["goal_cap_cut"].items()} == hand["cut"]
    pool = sum(hand["goals"].values(), Decimal(0))
    assert Decimal(totals["pool"]) == pool == Decimal(totals["by_recipient"]["Investors"])
    reasons = collections.Counter(e["reason"] for e in doc["exclusions"])
    assert reasons["once_paid"] == hand["left_out"]["once_paid"]
    assert reasons["prerequisite_unpaid"] == hand["left_out"]["prerequisite_unpaid"]


def test_the_sample_ledger_exercises_every_rule():
    doc, hand = _doc(), by_hand()
    assert all(v > 0 for v in hand["goals"].values()), "every outcome occurs"
    assert sum(hand["cut"].values()) > 0 and 0 < hand["capped"] < 300, "the cap per participant binds for some"
    assert hand["left_out"]["once_paid"] > 0 and hand["left_out"]["prerequisite_unpaid"] > 0
    sustained = [e for e in doc["exclusions"] if e["reason"] == "prerequisite_unpaid"]
    assert all(e["goal"] == "sustained_job" and e["facts"] == {"requires": "first_job"} for e in sustained)
    assert any(e["reason"] == "not_eligible" for e in doc["exclusions"]), "16-year-olds are not paid for"


def test_a_line_cut_by_the_maximum_per_participant_says_so():
    from contractlang import load
    from contractlang.evaluate import settle
    from contractlang.ledger import load_ledger

    contract = load(HERE / "innovation-fund.contract")
    doc = settle(contract, load_ledger(HERE / "ledger", contract))
    k, line = next((k, ln) for k, ln in enumerate(doc["lines"]) if ln["cut"] and ln["amount"] != "0.00")
    before = sum(Decimal(ln["amount"]) for ln in doc["lines"][:k] if ln["subject"] == line["subject"])
    assert before + Decimal(line["amount"]) == CAP
    text = render_line(doc, line["id"], "en")
    assert f"Cap on the goals DWP pays, per subject ({line['subject']}): £11,700.00 (§ INDIGO PRICINGS note). " \
           "The amount is assumed: the round it belongs to is not confirmed." in text
    assert f"£{before:,.2f} is already counted, so only £{Decimal(line['amount']):,.2f} of " \
           f"£{Decimal(line['gross']):,.2f} fits under the cap." in text
