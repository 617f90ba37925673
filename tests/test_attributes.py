"""Participant attributes (issue 13, item 9): a contract declares what the ledger says of a person or household
besides its measures — gender, provider, referral date — as columns of persons.csv or households.csv, checked
like measures and read like the built-in attributes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from contractlang import engine, evaluate
from contractlang.check import check
from contractlang.engine import Unsupported
from contractlang.errors import LedgerError
from contractlang.ledger import load_ledger
from contractlang.parse import parse_text
from contractlang.printer import format_contract
from contractlang.render import render
from contractlang.yamlform import dump_yaml, load_yaml

CONTRACT = """contract a "A"
currency USD

party Agency "Agency" payer
party Fund "Fund" funder

attribute gender person {
  values female, male, other
}
attribute referred person date
attribute provider household {
  values north, south
}
attribute priority household integer 1 to 5

point m6 = start + 6 months

measure employed person boolean at m6

goal job "Job" {
  payer Agency
  subjects persons where gender == female and priority >= 2 and referred <= 2024-01-01
  points m6
  outcome employed
  pay 1_000 USD per success
  missing none
}

figure north_women "Women with a provider in the north" = count(persons where gender == female and provider == north)
"""
FILES = {
    "households.csv": "household_id,group,start_date,end_date,end_reason,replaces,cohort,provider,priority\n"
                      "H1,intervention,2024-01-01,,,,,north,3\n"
                      "H2,intervention,2024-02-01,,,,,south,1\n"
                      "H3,intervention,2024-03-01,,,,,north,\n"
                      "H4,intervention,2024-03-01,,,,,north,4\n",
    "persons.csv": "person_id,household_id,birth_date,school_grade,gender,referred\n"
                   "P1,H1,1990-01-01,,female,2023-12-01\n"
                   "P2,H2,1991-01-01,,female,2023-12-15\n"
                   "P3,H3,1992-01-01,,male,\n"
                   "P4,H4,1993-01-01,,female,2024-02-01\n",
    "measurements.csv": "subject_id,measure,point,date,value\n"
                        "P1,employed,m6,,true\nP2,employed,m6,,true\nP3,employed,m6,,true\nP4,employed,m6,,true\n",
}
AS_OF = dt.date(2025, 1, 1)


def _ledger(tmp_path: Path, **changes) -> Path:
    d = tmp_path / "ledger"
    d.mkdir()
    for name, text in {**FILES, **changes}.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


def test_a_goal_and_a_figure_read_the_declared_attributes(tmp_path):
    contract = parse_text(CONTRACT, "a.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    doc = evaluate.settle(contract, load_ledger(_ledger(tmp_path), contract), AS_OF, trace=False)
    # P1 is the one woman with priority 2 or more referred by 2024: P2's priority is 1, P4 was referred later.
    assert [(ln["id"], ln["amount"]) for ln in doc["lines"]] == [("job/P1/m6", "1000.00")]
    out = {e["subject"]: e["facts"]["attributes"] for e in doc["exclusions"]}
    assert out["P2"] == {"gender": "female", "referred": "2023-12-15", "provider": "south", "priority": "1"}
    assert out["P3"]["priority"] is None  # an empty cell is missing
    assert doc["reports"]["figures"][0]["value"] == "2"  # P1 and P4
    assert "(`gender` female, `priority` 4, `provider` north, `referred` 2024-02-01)" in render(doc, "md", "en")


def test_the_ledger_is_checked_against_the_declarations(tmp_path):
    contract = parse_text(CONTRACT, "a.contract")
    persons = FILES["persons.csv"].replace("P2,H2,1991-01-01,,female", "P2,H2,1991-01-01,,femal").replace(
        "2024-02-01\n", "2024-02-30\n")
    households = FILES["households.csv"].replace("north,3", "north,7")
    with pytest.raises(LedgerError) as caught:
        load_ledger(_ledger(tmp_path, **{"persons.csv": persons, "households.csv": households}), contract)
    found = [(d.span.file.rsplit("/", 1)[-1], d.span.line, d.code, d.message) for d in caught.value.diagnostics]
    assert ("households.csv", 2, "CL042", "priority: 7 is outside the range 1 to 5 of priority") in found
    assert ("persons.csv", 3, "CL042", "gender: 'femal' is not a value of gender; did you mean 'female'?") in found
    assert ("persons.csv", 5, "CL042", "referred: '2024-02-30' is not a date of the calendar") in found


def test_a_declared_attribute_needs_its_column(tmp_path):
    contract = parse_text(CONTRACT, "a.contract")
    persons = "\n".join(line.rsplit(",", 1)[0] for line in FILES["persons.csv"].splitlines()) + "\n"
    with pytest.raises(LedgerError) as caught:
        load_ledger(_ledger(tmp_path, **{"persons.csv": persons}), contract)
    assert "persons.csv has no column 'referred' (an attribute the contract reads)" in str(caught.value)


@pytest.mark.parametrize("edit, code, words", [
    (lambda s: s.replace("attribute referred person date", "attribute age person integer 0 to 120"), "CL011",
     "the attribute 'age' has the name of a built-in attribute"),
    (lambda s: s.replace("attribute referred person date", "attribute employed person boolean"), "CL011",
     "the attribute 'employed' has the name of a measure"),
    (lambda s: s.replace("attribute referred person date", "attribute birth_date person date"), "CL011",
     "the attribute 'birth_date' has the name of a column of persons.csv"),
    (lambda s: s.replace("provider == north", "provider == east"), "CL010",
     "'east' is not a value of the attribute 'provider'"),
    (lambda s: s.replace("priority >= 2", "priority >= 2 DKK"), "CL012", ""),
])
def test_attributes_are_checked_like_measures(edit, code, words):
    found = [d for d in check(parse_text(edit(CONTRACT), "a.contract")) if d.severity == "error"]
    assert any(d.code == code and words in d.message for d in found), [(d.code, d.message) for d in found]


def test_attributes_are_written_back_as_read_in_both_forms_and_languages():
    contract = parse_text(CONTRACT, "a.contract")
    assert format_contract(contract, "en") == CONTRACT
    assert parse_text(format_contract(contract, "da"), "a.contract") == contract
    assert load_yaml(dump_yaml(contract), "a.yaml") == contract


def test_the_engine_hands_a_contract_with_attributes_to_the_interpreter(tmp_path):
    contract = parse_text(CONTRACT, "a.contract")
    with pytest.raises(Unsupported):
        engine.settle(contract, load_ledger(_ledger(tmp_path), contract), AS_OF)
