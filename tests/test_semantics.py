"""Semantics of issue 11, each on a tiny contract, in both evaluators (the interpreter and engine v2).

Each test settles a small contract written here against a ledger built here, with the row-by-row
interpreter (`contractlang.evaluate`) and, where the columnar engine compiles the contract, with
`contractlang.engine`, whose document must be the interpreter's byte for byte.
"""

from __future__ import annotations

import datetime as dt

import pytest

from contractlang.check import check
from contractlang.document import document_json
from contractlang.engine import Unsupported
from contractlang.engine import settle as settle_columns
from contractlang.evaluate import settle as settle_rows
from contractlang.expressions import EvalError
from contractlang.ledger import load_ledger
from contractlang.parse import parse_text

from .ledgers import LedgerBuilder

HEAD = '''contract t "T"
currency DKK
party K "Municipality" payer
party F "Fund" funder
programme { intervention 2024-01-01 to 2025-12-31 }
point end = end
measure score person integer 0 to 10 at end
measure level person { values low, high at end }
rounding line 2 places half_up
'''


def goal(outcome: str, extra: str = "", pay: str = "100 DKK per success", subjects: str = "persons") -> str:
    return HEAD + f'''goal g "G" {{
  payer K
  subjects {subjects}
  points end
  outcome {outcome}
  pay {pay}
}}
''' + extra


def errors(text: str) -> list:
    return [d for d in check(parse_text(text, "t.contract")) if d.severity == "error"]


def people(b: LedgerBuilder, *rows) -> LedgerBuilder:
    """One household of one person per row: (id, score, level), ended 2024-10-01 (so `end` falls then)."""
    for i, (pid, score, level) in enumerate(rows, start=1):
        b.household(f"H{i}", "2024-02-01", end="2024-10-01", reason="completed").person(pid, f"H{i}")
        if score is not None:
            b.measure(pid, "score", "end", str(score))
        if level is not None:
            b.measure(pid, "level", "end", level)
    return b


def settle_both(text: str, b: LedgerBuilder, tmp_path, as_of: str | None = None, engine: bool = True) -> dict:
    """The interpreter's document (with trails); the engine's JSON must equal the interpreter's."""
    contract = parse_text(text, "t.contract")
    ledger = load_ledger(b.write(tmp_path / "ledger"), contract)
    when = dt.date.fromisoformat(as_of) if as_of else None
    rows = document_json(settle_rows(contract, ledger, when, trace=False))
    if engine:
        assert settle_columns(contract, ledger, when).json() == rows
    return settle_rows(contract, ledger, when, trace=True)


def both_raise(text: str, b: LedgerBuilder, tmp_path, match: str) -> None:
    contract = parse_text(text, "t.contract")
    ledger = load_ledger(b.write(tmp_path / "ledger"), contract)
    with pytest.raises(EvalError, match=match):
        settle_rows(contract, ledger)
    with pytest.raises(EvalError, match=match):
        settle_columns(contract, ledger)


def lines(doc: dict) -> dict:
    return {ln["id"]: ln["amount"] for ln in doc["lines"]}


# ---- 1. an undefined name is an error, never its own text -----------------------------------------

@pytest.mark.parametrize("outcome", ["score >= 5 and pased", "score >= threshold", "pased", "pased + 1",
                                     "score == pased", "pased == other", "max(score, pased)"])
def test_an_undefined_name_is_an_evaluation_error_not_its_text(outcome, tmp_path):
    """`score >= 5 and pased` paid every subject with a score of 5 or more: 'pased' was the truthy text 'pased'."""
    text = goal(outcome)
    assert {d.code for d in errors(text)} == {"CL010"}
    name = "threshold" if "threshold" in outcome else "pased"
    both_raise(text, people(LedgerBuilder(), ("P1", 7, "high")), tmp_path, f"'{name}' is not defined here")


def test_a_bare_name_beside_a_named_value_is_that_value(tmp_path):
    text = goal("level == high and low != level and score between 5 and 10")
    assert errors(text) == []
    doc = settle_both(text, people(LedgerBuilder(), ("P1", 7, "high"), ("P2", 7, "low")), tmp_path)
    assert lines(doc) == {"g/P1/end": "100.00", "g/P2/end": "0.00"}


def test_a_measure_in_a_goals_subjects_is_an_error_not_its_name(tmp_path):
    """`subjects persons where score > 5` compared the word 'score' with 5 (a TypeError); `where level == high`
    compared the word 'level' with 'high' and silently chose no one."""
    for where in ("score > 5", "level == high"):
        text = goal("score >= 5", subjects=f"persons where {where}")
        assert {d.code for d in errors(text)} == {"CL010"}
        both_raise(text, people(LedgerBuilder(), ("P1", 7, "high")), tmp_path / where[:5], "not defined here")


# ---- 2. `order lines by` is honoured -------------------------------------------------------------

TWO_GOALS = HEAD.replace("point end = end", "point first = start\npoint end = end").replace(
    "measure score person integer 0 to 10 at end", "measure score person integer 0 to 10 at first, end") + '''
goal a "A" {
  payer K
  subjects persons
  points end
  outcome 1
  pay 100 DKK per course
}
goal b "B" {
  payer K
  subjects persons
  points first
  outcome 1
  pay 100 DKK per course
}
cap K 250 DKK
settlement {
  periods half-yearly
  due end of following quarter
  order lines by ORDER
}
'''


def test_order_lines_by_decides_which_line_a_cap_cuts(tmp_path):
    """Goal b's lines fall in February, goal a's in October: by date b meets the payer's cap first, by goal a."""
    b = people(LedgerBuilder(), ("P1", 1, "low"), ("P2", 1, "low"))
    by_date = settle_both(TWO_GOALS.replace("ORDER", "date, goal, subject"), b, tmp_path / "date")
    assert [(ln["id"], ln["amount"]) for ln in by_date["lines"]] == [
        ("b/P1/first", "100.00"), ("b/P2/first", "100.00"), ("a/P1/end", "50.00"), ("a/P2/end", "0.00")]
    by_goal = settle_both(TWO_GOALS.replace("ORDER", "goal, date, subject"), b, tmp_path / "goal")
    assert [(ln["id"], ln["amount"]) for ln in by_goal["lines"]] == [
        ("a/P1/end", "100.00"), ("a/P2/end", "100.00"), ("b/P1/first", "50.00"), ("b/P2/first", "0.00")]
    by_subject = settle_both(TWO_GOALS.replace("ORDER", "subject"), b, tmp_path / "subject")
    assert [(ln["id"], ln["amount"]) for ln in by_subject["lines"]] == [   # then date, then goal
        ("b/P1/first", "100.00"), ("a/P1/end", "100.00"), ("b/P2/first", "50.00"), ("a/P2/end", "0.00")]


def test_an_unknown_or_repeated_order_key_is_a_located_error():
    text = TWO_GOALS.replace("ORDER", "date, gaol, subject")
    (d,) = errors(text)
    assert (d.code, d.span.line, d.span.column) == ("CL010", text.splitlines().index("  order lines by date, gaol, subject") + 1, 24)
    assert "'gaol'" in d.message and "date, goal and subject" in d.message and d.hint == "did you mean 'goal'?"
    (d,) = errors(TWO_GOALS.replace("ORDER", "date, goal, date"))
    assert d.code == "CL011" and "'date'" in d.message and d.span.column == 30
