"""Outcomes dated by their evidence (issue 13, item 2): a goal `dated by evidence` dates each line by the
latest date of the ledger rows its outcome reads at its point — a claim dated by its evidence — else by the
point's date; a claim whose evidence is dated after the settlement date is not due yet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contractlang import engine, evaluate
from contractlang.check import check
from contractlang.engine import Unsupported
from contractlang.ledger import load_ledger
from contractlang.parse import parse_text
from contractlang.printer import format_contract
from contractlang.render import render, render_line

CONTRACT = """contract ev "Evidence-dated"
currency GBP

party Council "Council" payer
party Investor "Investor" funder

point w13 = start + 13 weeks

measure job13 person boolean at w13

goal job "13 weeks in work" {
  payer Council
  subjects persons
  points w13
  outcome job13
  dated by evidence
  pay 1_000 GBP per success
  missing none
}

settlement {
  periods quarterly
  due end of following month
  order lines by date, goal, subject
}
"""
ROWS = "subject_id,measure,point,date,value\nP1,job13,w13,2024-05-20,true\nP2,job13,w13,2024-11-03,true\nP3,job13,w13,,true\n"


@pytest.fixture()
def ledger(tmp_path) -> Path:
    d = tmp_path / "ledger"
    d.mkdir()
    (d / "households.csv").write_text("household_id,group,start_date,end_date,end_reason,replaces,cohort\n"
                                      + "".join(f"H{i},intervention,2024-01-01,,,,\n" for i in (1, 2, 3)), encoding="utf-8")
    (d / "persons.csv").write_text("person_id,household_id,birth_date,school_grade\n"
                                   + "".join(f"P{i},H{i},1990-01-01,\n" for i in (1, 2, 3)), encoding="utf-8")
    (d / "measurements.csv").write_text(ROWS, encoding="utf-8")
    return d


def test_a_line_is_dated_by_its_evidence(ledger):
    contract = parse_text(CONTRACT, "ev.contract")
    assert [d for d in check(contract) if d.severity == "error"] == [] and format_contract(contract) == CONTRACT
    doc = evaluate.settle(contract, load_ledger(ledger, contract), dt.date(2024, 9, 30))
    # P1's evidence is of 20 May 2024 (13 weeks after 1 January is 1 April): its line is dated then, in Q2.
    # P3's row has no date: its line keeps its point's. P2's evidence is of November: not due by 30 September.
    assert [(ln["id"], ln["date"], ln["period"]) for ln in doc["lines"]] == [
        ("job/P3/w13", "2024-04-01", "2024-Q2"), ("job/P1/w13", "2024-05-20", "2024-Q2")]
    [out] = doc["exclusions"]
    assert (out["subject"], out["reason"], out["facts"]) == ("P2", "not_due", {
        "point": "w13", "date": "2024-11-03", "limit": "2024-09-30", "evidence": True})
    assert "the evidence at `w13` is dated 3 Nov 2024, after 30 Sept 2024" in render(doc, "md", "en")
    assert "date at w13 = 2024-05-20, by dated by the evidence: the latest date of the rows read at w13" in \
        render_line(doc, "job/P1/w13", "en")
    later = evaluate.settle(contract, load_ledger(ledger, contract), dt.date(2024, 12, 31), trace=False)
    assert ("job/P2/w13", "2024-11-03", "2024-Q4") in [(ln["id"], ln["date"], ln["period"]) for ln in later["lines"]]


def test_the_engine_hands_evidence_dates_to_the_interpreter(ledger):
    contract = parse_text(CONTRACT, "ev.contract")
    with pytest.raises(Unsupported):
        engine.settle(contract, load_ledger(ledger, contract), None)
