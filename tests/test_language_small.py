"""Small constructs found when writing the world's contracts (issue 13, item 11): a number as the default of
`previous()`, a cap on a payer named as one, and a cap's `assumed "…"` text in every trail it is in."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

import contractlang
from contractlang.check import check
from contractlang.cli import main
from contractlang.parse import parse_text
from contractlang.printer import format_contract
from contractlang.render import render

CONTRACT = '''contract x "X"
currency DKK
party K "K" payer
party F "F" funder
point m6 = start + 6 months
point m12 = start + 12 months
measure score person decimal 0 to 100 at m6, m12
measure visits person integer 0 to 10 at m6, m12
goal gain "Gain" {
  payer K
  subjects persons
  points m12
  outcome max(0, score - previous(score, 50))
  pay 100 DKK per unit
  missing none
}
cap gain 5_000 DKK assumed "the agreement gives no cap; the budget line"
cap K 9_000 DKK assumed per subject
tranches on all goals {
  tranche 1: F 100 %
  rounding line, remainder F
}
rounding line 2 places half_up
'''
LEDGER = {
    "households.csv": "household_id,group,start_date,end_date,end_reason,replaces,cohort\n"
                      "H1,intervention,2024-01-01,,,,\nH2,intervention,2024-01-01,,,,\n",
    "persons.csv": "person_id,household_id,birth_date,school_grade\nP1,H1,1990-01-01,\nP2,H2,1990-01-01,\n",
    # P1 has a score at m6 (40) and m12 (100); P2 only at m12 (70): its previous score is the default, 50.
    "measurements.csv": "subject_id,measure,point,date,value\nP1,score,m6,2024-07-01,40\nP1,score,m12,2025-01-01,100\n"
                        "P2,score,m12,2025-01-01,70\n",
}


def _errors(text: str) -> list:
    return [d for d in check(parse_text(text, "x.contract")) if d.severity == "error"]


@pytest.fixture()
def ledger(tmp_path):
    (tmp_path / "ledger").mkdir()
    for name, text in LEDGER.items():
        (tmp_path / "ledger" / name).write_text(text, encoding="utf-8")
    (tmp_path / "x.contract").write_text(CONTRACT, encoding="utf-8")
    return tmp_path


def test_a_number_is_the_default_of_previous_for_a_numeric_measure():
    assert _errors(CONTRACT) == []
    for default, problem in (("-1", "outside the measure's range 0 to 100"), ("50 DKK", "must be a plain number"),
                             ("visits", "must be a plain number")):
        (d,) = _errors(CONTRACT.replace("previous(score, 50)", f"previous(score, {default})"))
        assert problem in d.message and d.span.line == 13
    (d,) = _errors(CONTRACT.replace("previous(score, 50)", "previous(visits, 2.5)"))
    assert d.code == "CL012" and "whole numbers" in d.message


def test_previous_reads_the_earlier_value_or_the_number_given(ledger, capsys):
    # P1: 100 - 40 = 60 units; P2: 70 - 50 = 20 units; 100 DKK each, under the caps.
    assert main(["settle", str(ledger / "x.contract"), "--ledger", str(ledger / "ledger"), "--as-of", "2026-01-01",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {ln["id"]: ln["outcome"] for ln in doc["lines"]} == {"gain/P1/m12": "60", "gain/P2/m12": "20"}
    assert doc["totals"]["pool"] == "5000.00"  # 8,000 before the goal's cap of 5,000


@pytest.mark.parametrize("outcome", ["max(0, score - previous(score, 50))", "score"])
def test_a_cap_on_a_payer_is_called_one_and_its_assumption_is_in_every_trail(ledger, outcome):
    # (A numeric previous() is settled by the interpreter, a plain measure by the columnar engine: both say it.)
    notes = [d.message for d in check(parse_text(CONTRACT)) if d.code == "CL024"]
    assert "assumption: 9,000 DKK (the cap on payer 'K' per subject) — the original does not give this figure" in notes
    assert any("(the cap on goal 'gain')" in n for n in notes)
    (ledger / "x.contract").write_text(CONTRACT.replace("max(0, score - previous(score, 50))", outcome), encoding="utf-8")
    contract = contractlang.load(str(ledger / "x.contract"))
    doc = contractlang.settle(contract, str(ledger / "ledger"), as_of=None)
    caps = [s for ln in doc["lines"] for s in ln["trace"] if s["kind"] == "cap"]
    assert {s["cap"]: s.get("assumed") for s in caps} == {
        "gain": "the agreement gives no cap; the budget line", "K": "assumed"}
    md = render(doc, "md", "en", rows=None)
    assert md.count("The amount is assumed: the agreement gives no cap; the budget line.") == 2
    assert md.count("The amount is assumed; the original does not give it.") == 2
    assert "Beløbet er antaget: the agreement gives no cap" in render(doc, "md", "da", rows=None)


# ---- points in days, weeks, months and years (issue 13, item 2) --------------------------------------------------

POINTS = CONTRACT.replace("point m6 = start + 6 months\npoint m12 = start + 12 months",
                          "point m6 = start + 26 weeks\npoint m12 = start + 1 years").replace(
    "points m12\n  outcome max(0, score - previous(score, 50))", "points m6, m12\n  outcome score")


@pytest.mark.parametrize("evaluator", ["engine", "interpreter"])
def test_a_point_may_be_days_weeks_months_or_years_from_the_start(ledger, evaluator):
    from contractlang import evaluate, engine
    from contractlang.ledger import load_ledger

    (ledger / "ledger" / "measurements.csv").write_text(
        "subject_id,measure,point,date,value\nP1,score,m6,2024-07-01,40\nP1,score,m12,2025-01-01,10\n", encoding="utf-8")
    contract = parse_text(POINTS.replace("start + 1 years", "start + 400 days") if evaluator == "interpreter"
                          else POINTS, "x.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    data = load_ledger(str(ledger / "ledger"), contract)
    doc = (engine.settle(contract, data, None).document() if evaluator == "engine"
           else evaluate.settle(contract, data, None, trace=False))
    dates = {ln["id"]: ln["date"] for ln in doc["lines"] if ln["subject"] == "P1"}
    # 2024-01-01 + 26 weeks = 2024-07-01; + 1 year = 2025-01-01; + 400 days = 2025-02-04.
    assert dates == {"gain/P1/m6": "2024-07-01",
                     "gain/P1/m12": "2025-01-01" if evaluator == "engine" else "2025-02-04"}


@pytest.mark.parametrize("offset,problem", [
    ("1.5 months", "is a whole number of months"), ("2.5 years", "is a whole number of years"),
    ("3 count", "expected days, weeks, months or years"), ("6000 weeks", "more than 1200 months")])
def test_a_point_that_no_calendar_has_is_a_located_error(offset, problem):
    (d,) = _errors(CONTRACT.replace("start + 6 months", f"start + {offset}"))
    assert problem in d.message and (d.span.line, d.span.column) == (5, 20)  # at the offset


# ---- three-valued conditions, where a goal says so (issue 13, item 7) -------------------------------------------

LOGIC = '''contract x "X"
currency DKK
party K "K" payer
party F "F" funder
point m12 = start + 12 months
measure working person boolean at m12
measure sick person boolean at m12
goal strict_and "Strict" {
  payer K
  subjects persons
  points m12
  outcome working and not sick
  pay 100 DKK per success
  missing zero
}
goal kleene_and "Three-valued and" {
  payer K
  subjects persons
  points m12
  outcome working and not sick
  conditions three-valued
  pay 100 DKK per success
  missing zero
}
goal kleene_or "Three-valued or" {
  payer K
  subjects persons
  points m12
  outcome working or sick
  conditions three-valued
  pay 100 DKK per success
  missing zero
}
tranches on all goals {
  tranche 1: F 100 %
  rounding line, remainder F
}
rounding line 2 places half_up
'''
# P1 is not working and its sickness is not known; P2 works, sickness not known; P3 neither known.
LOGIC_ROWS = ("subject_id,measure,point,date,value\nP1,working,m12,2025-01-01,false\n"
              "P2,working,m12,2025-01-01,true\n")


@pytest.mark.parametrize("evaluator", ["engine", "interpreter"])
def test_three_valued_conditions_decide_despite_a_missing_value_where_the_goal_says_so(ledger, evaluator):
    from contractlang import engine, evaluate
    from contractlang.ledger import load_ledger

    (ledger / "ledger" / "persons.csv").write_text(
        "person_id,household_id,birth_date,school_grade\nP1,H1,1990-01-01,\nP2,H2,1990-01-01,\nP3,H2,1991-01-01,\n",
        encoding="utf-8")
    (ledger / "ledger" / "measurements.csv").write_text(LOGIC_ROWS, encoding="utf-8")
    contract = parse_text(LOGIC, "x.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    data = load_ledger(str(ledger / "ledger"), contract)
    doc = (engine.settle(contract, data, None).document() if evaluator == "engine"
           else evaluate.settle(contract, data, None, trace=False))
    got = {ln["id"]: (ln["outcome"], ln["imputed"]) for ln in doc["lines"]}
    assert got == {
        # strict: any missing input makes the outcome missing, imputed as zero (`missing zero`)
        "strict_and/P1/m12": ("0", True), "strict_and/P2/m12": ("0", True), "strict_and/P3/m12": ("0", True),
        # three-valued: false and missing is false (observed, not imputed); true and missing stays missing
        "kleene_and/P1/m12": ("0", False), "kleene_and/P2/m12": ("0", True), "kleene_and/P3/m12": ("0", True),
        # true or missing is true, and pays; false or missing stays missing
        "kleene_or/P1/m12": ("0", True), "kleene_or/P2/m12": ("1", False), "kleene_or/P3/m12": ("0", True)}
    assert doc["totals"]["goals"] == {"strict_and": "0.00", "kleene_and": "0.00", "kleene_or": "100.00"}
    assert "conditions three-valued" in doc["rules"]["goal:kleene_and"]  # the trail's rule says so


def test_the_rule_of_conditions_is_written_back_in_both_languages_and_yaml():
    from contractlang.yamlform import dump_yaml, load_yaml

    contract = parse_text(LOGIC)
    assert [g.conditions for g in contract.goals] == [None, "three-valued", "three-valued"]
    assert parse_text(format_contract(contract, "da")) == contract and "betingelser treværdige" in format_contract(
        contract, "da")
    assert load_yaml(dump_yaml(contract)) == contract
    with pytest.raises(Exception, match="expected strict or three-valued$"):
        parse_text(LOGIC.replace("conditions three-valued", "conditions fuzzy"))


# ---- periods: monthly, and years that begin on another day (issue 13, item 6) -----------------------------------

@pytest.mark.parametrize("evaluator", ["engine", "interpreter"])
@pytest.mark.parametrize("periods,expected", [
    ("monthly", {"2024-07": ("2024-07-01", "2024-07-31"), "2025-01": ("2025-01-01", "2025-01-31")}),
    ("quarterly from 04-01", {"2024/25-Q2": ("2024-07-01", "2024-09-30"), "2024/25-Q4": ("2025-01-01", "2025-03-31")}),
    ("yearly from 07-01", {"2024/25": ("2024-07-01", "2025-06-30")}),
    ("half-yearly", {"2024-H2": ("2024-07-01", "2024-12-31"), "2025-H1": ("2025-01-01", "2025-06-30")})])
def test_periods_are_months_or_parts_of_years_that_begin_where_the_contract_says(ledger, evaluator, periods, expected):
    from contractlang import engine, evaluate
    from contractlang.ledger import load_ledger

    text = POINTS.replace("tranches on all goals", f"settlement {{\n  periods {periods}\n  due end of following month\n"
                                                  "  order lines by date, goal, subject\n}\ntranches on all goals")
    (ledger / "ledger" / "measurements.csv").write_text(
        "subject_id,measure,point,date,value\nP1,score,m6,2024-07-01,40\nP1,score,m12,2025-01-01,10\n", encoding="utf-8")
    contract = parse_text(text, "x.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    assert format_contract(contract).count(f"periods {periods}") == 1
    data = load_ledger(str(ledger / "ledger"), contract)
    doc = (engine.settle(contract, data, None).document() if evaluator == "engine"
           else evaluate.settle(contract, data, None, trace=False))
    got = {p["period"]: (p["start"], p["end"]) for p in doc["periods"] if p["amount"] != "0.00"}
    assert got == expected
    paid = {p["period"]: p["amount"] for p in doc["periods"] if p["amount"] != "0.00"}
    assert sum(Decimal(v) for v in paid.values()) == Decimal(doc["totals"]["pool"]) == Decimal("5000.00")
    assert {ln["period"] for ln in doc["lines"] if ln["amount"] != "0.00"} == set(expected)


def test_a_year_of_periods_begins_on_the_first_of_a_month():
    text = CONTRACT.replace("tranches on all goals", "settlement {\n  periods yearly from 07-15\n  due end of following "
                            "month\n  order lines by date, goal, subject\n}\ntranches on all goals")
    (d,) = _errors(text)
    assert d.code == "CL013" and "begins on the first of a month" in d.message and d.hint == "write 07-01"


def test_a_period_is_named_in_words():
    from contractlang.i18n import Formatter

    en, da = Formatter("en"), Formatter("da")
    assert [en.period(p) for p in ("2024-H2", "2024/25-Q1", "2024-07", "2024/25")] == ["H2 2024", "Q1 2024/25",
                                                                                     "Jul 2024", "2024/25"]
    assert [da.period(p) for p in ("2024-H2", "2024/25-Q1", "2024-07")] == ["2. halvår 2024", "1. kvartal 2024/25",
                                                                             "jul. 2024"]
