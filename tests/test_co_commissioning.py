"""Co-commissioning (issue 13, item 8): one outcome paid by several payers in declared shares, each payer's own
caps applying to its share — checked against the same rule worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
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

CONTRACT = """contract cc "Co-commissioned"
currency GBP

party Council "Council" payer
party Fund "Central fund" payer
party Investor "Investor" funder

point m6 = start + 6 months

measure employed person boolean at m6

goal job "Job" § "Schedule 1" {
  payer Council 70 %, Fund 30 %
  subjects persons
  points m6
  outcome employed
  pay 1_001 GBP per success
  missing none
}

cap Fund 2_000 GBP
"""
AS_OF = dt.date(2025, 6, 1)


@pytest.fixture()
def ledger(tmp_path) -> Path:
    d = tmp_path / "ledger"
    d.mkdir()
    homes = ["household_id,group,start_date,end_date,end_reason,replaces,cohort"]
    people = ["person_id,household_id,birth_date,school_grade"]
    rows = ["subject_id,measure,point,date,value"]
    for i in range(1, 13):
        homes.append(f"H{i:02d},intervention,2024-{i:02d}-01,,,,")
        people.append(f"P{i:02d},H{i:02d},1990-01-01,")
        rows.append(f"P{i:02d},employed,m6,,{'true' if i % 4 else 'false'}")
    for name, lines in (("households.csv", homes), ("persons.csv", people), ("measurements.csv", rows)):
        (d / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return d


def test_each_payer_pays_its_share_under_its_own_caps(ledger):
    contract = parse_text(CONTRACT, "cc.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    doc = evaluate.settle(contract, load_ledger(ledger, contract), AS_OF)
    # By hand: each success (in order of date) is 700.70 for the Council and the rest, 300.30, for the Fund,
    # whose cap of 2,000 lets through six whole shares and 198.20 of the seventh.
    council = Decimal("1001") * Decimal("0.7")
    council = council.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    successes = [i for i in range(1, 13) if i % 4]  # every m6 falls by 1 June 2025 (the last on it)
    fund_left, fund = Decimal(2000), Decimal(0)
    for _ in successes:
        part = min(Decimal("1001") - council, fund_left)
        fund, fund_left = fund + part, fund_left - part
    assert doc["totals"]["by_payer"] == {"Council": f"{council * len(successes):.2f}", "Fund": f"{fund:.2f}"}
    ids = [ln["id"] for ln in doc["lines"]]
    assert "job/P01/m6@Council" in ids and "job/P01/m6@Fund" in ids
    text = render_line(doc, "job/P01/m6@Fund", "en")
    assert "Payer Fund pays its 30% of £1,001.00 as what the others' rounded shares leave (§ Schedule 1): £300.30" in text


def test_the_shares_are_checked():
    for edit, code, words in (
            (lambda s: s.replace("Fund 30 %", "Fund 20 %"), "CL014", "make 90 %, not 100 %"),
            (lambda s: s.replace("Fund 30 %", "Council 30 %"), "CL011", "names the payer 'Council' twice"),
            (lambda s: s.replace("Fund 30 %", "Fnd 30 %"), "CL010", "'Fnd'"),
            (lambda s: s.replace("Fund 30 %", "Fund 30"), "CL012", "expected a percentage")):
        found = [d for d in check(parse_text(edit(CONTRACT), "cc.contract")) if d.severity == "error"]
        assert any(d.code == code and words in d.message for d in found), [(d.code, d.message) for d in found]


def test_the_shares_are_written_back_and_the_engine_hands_them_over(ledger):
    contract = parse_text(CONTRACT, "cc.contract")
    assert format_contract(contract, "en") == CONTRACT
    assert parse_text(format_contract(contract, "da"), "cc.contract") == contract
    assert load_yaml(dump_yaml(contract), "cc.yaml") == contract
    with pytest.raises(Unsupported):
        engine.settle(contract, load_ledger(ledger, contract), AS_OF)
