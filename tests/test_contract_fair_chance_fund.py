"""Fair Chance Fund (contracts/examples/fair-chance-fund): the bundled settlement against the contract's prose — the
FCF youth rate card in INDIGO — computed here in plain Python from the ledger's CSV files, for participants aged
18–24 at the start and referred in 2015: move into accommodation £500, then sustained 3, 6, 12 and 18 months at
£1,500 each, each only after the one before was paid; entry into education £500; first Entry Level, Level 1 and
Level 2 qualifications £1,500, £2,500, £3,500, each once; entry into work £500 once; 13 and 26 weeks of part-time
work £3,000 and £2,000, of full-time work £4,500 and £3,500, each once, 26 weeks only after 13 weeks of the same
kind; full-time pays its price less what part-time of the same length paid the participant before it, and
part-time after paid full-time of the same length is not paid; at most £15,000 per participant, the lines meeting
that cap in the order date, goal, participant (a line crossing it is cut to what is left)."""

from __future__ import annotations

import collections
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from contractlang.render import render_line

from .ledgers import age, csv_rows, plus_months

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "contracts" / "examples" / "fair-chance-fund"
LEDGER = HERE / "ledger"
AS_OF = dt.date(2017, 12, 31)  # the end of data collection, the settlement's default date
REFERRALS_END = dt.date(2015, 12, 31)
CAP = Decimal(15_000)
QUALIFICATIONS = [("m6", 0, 6), ("m12", 0, 12), ("m18", 0, 18)]
WORK = [("w26", 26, 0), ("w52", 52, 0), ("w78", 78, 0)]
# The goals in the order the contract declares them: (goal, measure, price, points as (name, weeks, months),
# once per subject, requires, excludes, replaces)
GOALS = [
    ("into_accommodation", "moved_into_accommodation", 500, [("m1", 0, 1)], False, None, None, None),
    ("housed_3m", "accommodation_3m", 1500, [("m4", 0, 4)], False, "into_accommodation", None, None),
    ("housed_6m", "accommodation_6m", 1500, [("m7", 0, 7)], False, "housed_3m", None, None),
    ("housed_12m", "accommodation_12m", 1500, [("m13", 0, 13)], False, "housed_6m", None, None),
    ("housed_18m", "accommodation_18m", 1500, [("m19", 0, 19)], False, "housed_12m", None, None),
    ("into_learning", "in_education", 500, [("m3", 0, 3)], False, None, None, None),
    ("first_entry_level", "entry_level_qualification", 1500, QUALIFICATIONS, True, None, None, None),
    ("first_level1", "level1_qualification", 2500, QUALIFICATIONS, True, None, None, None),
    ("first_level2", "level2_qualification", 3500, QUALIFICATIONS, True, None, None, None),
    ("into_work", "in_work", 500, WORK, True, None, None, None),
    ("parttime_13w", "parttime_13w", 3000, WORK, True, None, "fulltime_13w", None),
    ("parttime_26w", "parttime_26w", 2000, WORK, True, "parttime_13w", "fulltime_26w", None),
    ("fulltime_13w", "fulltime_13w", 4500, WORK, True, None, None, "parttime_13w"),
    ("fulltime_26w", "fulltime_26w", 3500, WORK, True, "fulltime_13w", None, "parttime_26w"),
]


def by_hand() -> dict:
    start = {r["household_id"]: dt.date.fromisoformat(r["start_date"]) for r in csv_rows(LEDGER, "households.csv")}
    people = {r["person_id"]: start[r["household_id"]] for r in csv_rows(LEDGER, "persons.csv")
              if 18 <= age(dt.date.fromisoformat(r["birth_date"]), start[r["household_id"]]) <= 24
              and start[r["household_id"]] <= REFERRALS_END}
    value = {(r["subject_id"], r["measure"], r["point"]): r["value"] == "true"
             for r in csv_rows(LEDGER, "measurements.csv")}
    # A line for each participant, goal and due point with a row (missing none: no row, no line).
    lines = []
    for k, (goal, measure, price, points, *_) in enumerate(GOALS):
        for p, begun in people.items():
            for point, weeks, months in points:
                day = begun + dt.timedelta(weeks=weeks) if weeks else plus_months(begun, months)
                if day <= AS_OF and (p, measure, point) in value:
                    lines.append((day, k, p, point, goal, Decimal(price) if value[(p, measure, point)] else Decimal(0)))
    lines.sort(key=lambda ln: ln[:3])
    rules = {goal: rest for goal, _, _, _, *rest in GOALS}
    paid = collections.defaultdict(Decimal)   # (goal, participant) -> what its lines paid before the cap
    left_out = collections.Counter()
    used = collections.defaultdict(Decimal)   # per participant, under the cap
    total, cut = collections.defaultdict(Decimal), collections.defaultdict(Decimal)
    differences = 0
    for _, _, p, point, goal, gross in lines:
        once, requires, excludes, replaces = rules[goal]
        # A line of no outcome pays nothing and is not left out; one with an outcome is, where a link says so.
        if gross > 0 and once and paid[(goal, p)] > 0:
            left_out["once_paid", goal, p, point] += 1
            continue
        if gross > 0 and requires and paid[(requires, p)] <= 0:
            left_out["prerequisite_unpaid", goal, p, point] += 1
            continue
        if gross > 0 and excludes and paid[(excludes, p)] > 0:
            left_out["excluded_by", goal, p, point] += 1
            continue
        if replaces and gross > 0:           # full-time replaces part-time: the difference, at least nothing
            differences += paid[(replaces, p)] > 0
            gross = max(gross - paid[(replaces, p)], Decimal(0))
        paid[(goal, p)] += gross
        amount = min(gross, CAP - used[p])
        used[p] += amount
        total[goal] += amount
        cut[goal] += gross - amount
    return {"goals": {g: total[g] for g, *_ in GOALS}, "cut": {g: cut[g] for g, *_ in GOALS},
            "left_out": left_out, "capped": sum(1 for v in used.values() if v == CAP), "differences": differences,
            "participants": len(people)}


def _doc() -> dict:
    return json.loads((HERE / "settlement.json").read_text(encoding="utf-8"))


def test_the_settlement_is_the_rate_card_computed_by_hand():
    doc, hand = _doc(), by_hand()
    totals = doc["totals"]
    assert {g: Decimal(v) for g, v in totals["goals"].items()} == hand["goals"]
    assert {g: Decimal(v) for g, v in totals["goal_cap_cut"].items()} == hand["cut"]
    pool = sum(hand["goals"].values(), Decimal(0))
    assert Decimal(totals["pool"]) == pool == Decimal(totals["by_recipient"]["Investors"])
    links = collections.Counter((e["reason"], e["goal"], e["subject"], e["point"]) for e in doc["exclusions"]
                                if e["reason"] in ("once_paid", "prerequisite_unpaid", "excluded_by"))
    assert links == hand["left_out"]


def test_the_sample_ledger_exercises_every_rule():
    doc, hand = _doc(), by_hand()
    assert all(v > 0 for v in hand["goals"].values()), "every outcome occurs"
    assert sum(hand["cut"].values()) > 0 and 0 < hand["capped"] < hand["participants"], "the cap binds for some"
    reasons = collections.Counter(reason for reason, *_ in hand["left_out"].elements())
    assert reasons["once_paid"] > 0 and reasons["prerequisite_unpaid"] > 0 and reasons["excluded_by"] > 0
    assert hand["differences"] > 0, "full-time work paid as the difference over part-time"
    assert any(ln["goal"] == "fulltime_13w" and ln["gross"] == "1500.00" for ln in doc["lines"])
    assert any(ln["goal"] == "fulltime_26w" and ln["gross"] == "1500.00" for ln in doc["lines"])
    assert any(e["reason"] == "not_eligible" for e in doc["exclusions"]), "late referrals are not paid for"


def test_full_time_work_pays_the_difference_and_says_so():
    from contractlang import load
    from contractlang.evaluate import settle
    from contractlang.ledger import load_ledger

    contract = load(HERE / "fair-chance-fund.contract")
    doc = settle(contract, load_ledger(HERE / "ledger", contract))
    line = next(ln for ln in doc["lines"] if ln["goal"] == "fulltime_13w" and ln["gross"] == "1500.00")
    part = [ln for ln in doc["lines"] if ln["goal"] == "parttime_13w" and ln["subject"] == line["subject"]
            and ln["gross"] != "0.00"]
    assert [ln["gross"] for ln in part] == ["3000.00"] and part[0]["date"] <= line["date"]
    text = render_line(doc, line["id"], "en")
    assert "Replaces goal parttime_13w: £3,000.00 was paid for it, so the line pays £4,500.00 − £3,000.00 = " \
           "£1,500.00 (never below nothing)." in text
