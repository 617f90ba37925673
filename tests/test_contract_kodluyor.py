"""Istanbul Kodluyor (contracts/examples/istanbul-kodluyor): the bundled settlement against the contract's
prose — INDIGO-POJ-0302's rate card — computed here in plain Python from the ledger's CSV files: $240 per
completed training, $1,000 per ICT job, jobs held six months at $1,100 for the first 370, $1,000 for the next
40 and $1,350 beyond (a held job counts only where the job was paid), and $500 for each woman's held job
beyond the 92nd; each outcome capped at its maximum ($144,000, $450,000, $632,000, $25,000)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from contractlang.render import render_line

from .ledgers import csv_rows, plus_months

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "contracts" / "examples" / "istanbul-kodluyor"
LEDGER = HERE / "ledger"
AS_OF = dt.date(2026, 7, 31)  # the end of data collection, the settlement's default date


def by_hand() -> dict[str, Decimal]:
    start = {r["household_id"]: dt.date.fromisoformat(r["start_date"]) for r in csv_rows(LEDGER, "households.csv")}
    people = {r["person_id"]: (start[r["household_id"]], r["gender"]) for r in csv_rows(LEDGER, "persons.csv")}
    value = {(r["subject_id"], r["measure"]): r["value"] == "true" for r in csv_rows(LEDGER, "measurements.csv")}
    due = lambda p, months: plus_months(people[p][0], months) <= AS_OF  # noqa: E731
    training = sum(240 for p in people if due(p, 4) and value.get((p, "completed_training")))
    jobs = sum(1000 for p in people if due(p, 6) and value.get((p, "ict_job")))
    # A held job is paid where the job was; counted by order of achievement: the date, then the participant.
    held = sorted((plus_months(people[p][0], 12), p) for p in people
                  if due(p, 12) and value.get((p, "ict_job_6m")) and value.get((p, "ict_job")))
    sustained = sum(1100 if k <= 370 else 1000 if k <= 410 else 1350 for k, _ in enumerate(held, 1))
    women = [p for _, p in held if people[p][1] == "female"]
    bonus = sum(500 for k, _ in enumerate(women, 1) if k > 92)
    return {"training": min(Decimal(training), Decimal(144_000)), "job": min(Decimal(jobs), Decimal(450_000)),
            "sustained_job": min(Decimal(sustained), Decimal(632_000)),
            "women_bonus": min(Decimal(bonus), Decimal(25_000)),
            "_held": Decimal(len(held)), "_women": Decimal(len(women))}


def test_the_settlement_is_the_rate_card_computed_by_hand():
    doc = json.loads((HERE / "settlement.json").read_text(encoding="utf-8"))
    hand = by_hand()
    assert hand["_held"] > 410 and hand["_women"] > 92, "the sample ledger reaches every tier"
    assert {g: Decimal(v) for g, v in doc["totals"]["goals"].items()} == {k: v for k, v in hand.items()
                                                                          if not k.startswith("_")}
    total = sum((v for k, v in hand.items() if not k.startswith("_")), Decimal(0))
    assert Decimal(doc["totals"]["pool"]) == total == Decimal(doc["totals"]["by_recipient"]["BOP"])


def test_the_371st_held_job_is_paid_at_the_second_tier_and_says_so(tmp_path):
    from contractlang import load
    from contractlang.evaluate import settle
    from contractlang.ledger import load_ledger

    contract = load(HERE / "kodluyor.contract")
    doc = settle(contract, load_ledger(HERE / "ledger", contract))
    paid = [ln for ln in doc["lines"] if ln["goal"] == "sustained_job" and ln["gross"] != "0.00"]
    assert [ln["gross"] for ln in paid[369:372]] == ["1100.00", "1000.00", "1000.00"]
    assert paid[410]["gross"] == "1350.00"
    text = render_line(doc, paid[370]["id"], "en")
    assert "370 units of goal sustained_job came before this line's 1; 1 at US$1,000.00 (beyond 370, up to 410)" in text
    women = [ln for ln in doc["lines"] if ln["goal"] == "women_bonus" and ln["gross"] != "0.00"]
    assert women and all(ln["gross"] == "500.00" for ln in women)
