"""A floor per period (issue 13, item 6): what a payer owes for a period is at least nothing — a negative period
pays nothing and its shortfall is forgiven (`zero`) or carried into the payer's next period (`carried forward`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang import engine, evaluate
from contractlang.check import check
from contractlang.engine import Unsupported
from contractlang.ledger import load_ledger
from contractlang.parse import parse_text
from contractlang.printer import format_contract
from contractlang.render import render_line
from contractlang.yamlform import dump_yaml, load_yaml

CONTRACT = """contract fl "Floor"
currency GBP

party Council "Council" payer
party Investor "Investor" funder

point m6 = start + 6 months

measure change person integer -5 to 5 at m6

goal improvement "Improvement" {
  payer Council
  subjects persons
  points m6
  outcome change
  pay 100 GBP per point
  missing none
}

settlement {
  periods half-yearly
  due end of following quarter
  order lines by date, goal, subject
  floor per period RULE § "4.2"
}
"""
# Two lines fall in 2024-H2 (-400 and +100: -300) and two in 2025-H1 (+500 and +200).
STARTS = {"P1": ("2024-01-01", -4), "P2": ("2024-02-01", 1), "P3": ("2024-08-01", 5), "P4": ("2024-09-01", 2)}


@pytest.fixture()
def ledger(tmp_path) -> Path:
    d = tmp_path / "ledger"
    d.mkdir()
    (d / "households.csv").write_text("household_id,group,start_date,end_date,end_reason,replaces,cohort\n" + "".join(
        f"H{p[1:]},intervention,{start},,,,\n" for p, (start, _) in STARTS.items()), encoding="utf-8")
    (d / "persons.csv").write_text("person_id,household_id,birth_date,school_grade\n" + "".join(
        f"{p},H{p[1:]},1990-01-01,\n" for p in STARTS), encoding="utf-8")
    (d / "measurements.csv").write_text("subject_id,measure,point,date,value\n" + "".join(
        f"{p},change,m6,,{v}\n" for p, (_, v) in STARTS.items()), encoding="utf-8")
    return d


def _settle(ledger, rule):
    contract = parse_text(CONTRACT.replace("RULE", rule), "fl.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    return evaluate.settle(contract, load_ledger(ledger, contract), dt.date(2025, 6, 30))


@pytest.mark.parametrize("rule, periods, floor_cut", [
    ("zero", {"2024-H2": "0.00", "2025-H1": "700.00"}, "-300.00"),            # the 300 short is forgiven
    ("carried forward", {"2024-H2": "0.00", "2025-H1": "400.00"}, "0.00"),    # and here paid back in 2025-H1
])
def test_a_negative_period_pays_nothing(ledger, rule, periods, floor_cut):
    doc = _settle(ledger, rule)
    assert {p["period"]: p["amount"] for p in doc["periods"]} == periods
    assert doc["totals"]["floor_cut"] == floor_cut
    # The totals reconcile: the pool is the goals' amounts less what the floor took off.
    assert Decimal(doc["totals"]["pool"]) == Decimal(doc["totals"]["goals"]["improvement"]) - Decimal(floor_cut)
    assert sum(Decimal(ln["amount"]) for ln in doc["lines"]) == Decimal(doc["totals"]["pool"])


def test_the_floor_is_in_the_trails(ledger):
    doc = _settle(ledger, "carried forward")
    assert "Floor per period (§ 4.2): Council's lines of 2024-H2 add up to -£300.00 (with £0.00 carried in); the " \
           "period pays nothing, and the shortfall is carried into the next: -£400.00 becomes £0.00." in \
        render_line(doc, "improvement/P1/m6", "en")
    assert "-£300.00 is carried into Council's 2025-H1, which adds up to £400.00; it comes off the lines in order: " \
           "£500.00 becomes £200.00." in render_line(doc, "improvement/P3/m6", "en")
    assert "perioden betaler intet, og underskuddet overføres til næste periode" in \
        render_line(doc, "improvement/P1/m6", "da")


def test_the_floor_is_written_back_and_left_to_the_interpreter(ledger):
    for rule in ("zero", "carried forward"):
        contract = parse_text(CONTRACT.replace("RULE", rule), "fl.contract")
        assert format_contract(contract, "en") == CONTRACT.replace("RULE", rule)
        assert parse_text(format_contract(contract, "da"), "fl.contract") == contract
        assert load_yaml(dump_yaml(contract), "fl.yaml") == contract
        with pytest.raises(Unsupported):
            engine.settle(contract, load_ledger(ledger, contract), None)
