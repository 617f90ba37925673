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


def goal(outcome: str, extra: str = "", pay: str = "100 DKK per success", subjects: str = "persons",
         body: str = "") -> str:
    return HEAD + f'''goal g "G" {{
  payer K
  subjects {subjects}
  points end
  outcome {outcome}
  pay {pay}{body}
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
    """The interpreter's document (with trails). With `engine`, the engine's JSON must equal the interpreter's;
    without, the engine must decline the contract (`Unsupported`: the CLI then settles with the interpreter)."""
    contract = parse_text(text, "t.contract")
    ledger = load_ledger(b.write(tmp_path / "ledger"), contract)
    when = dt.date.fromisoformat(as_of) if as_of else None
    rows = document_json(settle_rows(contract, ledger, when, trace=False))
    if engine:
        assert settle_columns(contract, ledger, when).json() == rows
    else:
        with pytest.raises(Unsupported):
            settle_columns(contract, ledger, when)
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


# ---- 3. division by zero ----------------------------------------------------------------------------

@pytest.mark.parametrize("divisor", ["0", "(5 - 5)", "0 %", "zero_fig", "round(0.4, whole)", "rates.price[free]",
                                     "max(0, -1)"])
def test_a_divisor_that_is_always_zero_is_a_located_error(divisor):
    extra = ('figure zero_fig = 2 - 2\nrounding whole 0 places half_up\n'
             'table rates {\n  columns price DKK\n  row free: 0\n  row paid: 10\n}\n')
    text = goal(f"score / {divisor}", extra)
    (d,) = errors(text)
    line = text.splitlines().index(f"  outcome score / {divisor}") + 1
    assert (d.code, d.span.line, d.span.column) == ("CL019", line, 19 + divisor.startswith("(")), d
    assert "divides by zero" in d.message and "goal 'g'" in d.message


@pytest.mark.parametrize("divisor", ["score", "(score - 5)", "rates.price[paid]", "count_fig"])
def test_a_divisor_that_may_be_zero_checks_clean(divisor):
    extra = ('figure count_fig = count(persons where score@end > 5)\n'
             'table rates {\n  columns price DKK\n  row free: 0\n  row paid: 10\n}\n')
    assert errors(goal(f"10 / {divisor}", extra)) == []


def test_an_outcome_that_divides_by_zero_is_excluded_with_its_reason(tmp_path):
    """P2's outcome 10 / 0 was silently missing and imputed with the mean of the others; it has no value."""
    text = goal("10 / score", body="\n  missing mean")
    assert errors(text) == []
    doc = settle_both(text, people(LedgerBuilder(), ("P1", 5, "low"), ("P2", 0, "low"), ("P3", None, "low")),
                      tmp_path, engine=False)
    assert lines(doc) == {"g/P1/end": "200.00", "g/P3/end": "200.00"}   # P3 imputed with the mean of P1 alone
    (ex,) = [e for e in doc["exclusions"] if e["subject"] == "P2"]
    assert (ex["reason"], ex["point"], ex["facts"]) == ("division_by_zero", "end", {"in": "outcome", "expr": "10 / score"})
    assert ex["detail"] == "the outcome has no value: 10 / score divides by zero"
    assert doc["totals"]["imputed"] == {"g": 1}


def test_a_price_that_divides_by_zero_is_excluded_with_its_reason(tmp_path):
    text = goal("1", pay="(1_000 DKK / score) per course")
    assert errors(text) == []
    doc = settle_both(text, people(LedgerBuilder(), ("P1", 5, "low"), ("P2", 0, "low")), tmp_path, engine=False)
    assert lines(doc) == {"g/P1/end": "200.00"}
    (ex,) = doc["exclusions"]
    assert (ex["subject"], ex["reason"], ex["facts"]) == ("P2", "division_by_zero", {"in": "price", "expr": "1_000 DKK / score"})


COHORTS = HEAD.replace("point end = end", "point baseline = start\npoint m12 = start + 12 months\npoint end = end") + '''
measure absence person decimal 0 to 100 at baseline, m12
rounding relative 1 places half_away_from_zero
goal school "School" {
  payer K
  subjects persons
  points m12 from cohort start
  compare mean absence of intervention against control by cohort
  let difference = round((intervention - control) / control * 100, relative)
  outcome max(0, -(difference - difference@baseline))
  pay 100 DKK per percentage_point
  missing observed only
}
'''


def test_a_group_mean_of_zero_to_divide_by_pays_nothing_and_says_so(tmp_path):
    """The line's trail said 'a group had no observed subject (or a zero mean to divide by)'; now it names the quotient."""
    b = LedgerBuilder().cohort("c1", "2024-01-01")
    for hid, pid, group, base, m12 in (("H1", "P1", "intervention", "9", "7"), ("C1", "Q1", "control", "10", "0")):
        b.household(hid, "2024-01-01", group=group, cohort="c1").person(pid, hid)
        b.measure(pid, "absence", "baseline", base).measure(pid, "absence", "m12", m12)
    assert errors(COHORTS) == []
    doc = settle_both(COHORTS, b, tmp_path)
    (line,) = doc["lines"]
    assert (line["id"], line["amount"]) == ("school/c1/m12", "0.00")
    notes = [s for s in line["trace"] if s["kind"] == "note"]
    assert [(n["code"], n["facts"]["expr"]) for n in notes] == [("division_by_zero", "(intervention - control) / control")]
    assert not doc["flags"]


def test_a_figure_that_divides_by_zero_has_no_value_and_its_trail_says_why(tmp_path):
    text = goal("1", "figure per_success = 1_000 DKK / count(persons where score@end > 100)\n")
    assert errors(text) == []
    doc = settle_both(text, people(LedgerBuilder(), ("P1", 5, "low")), tmp_path)
    (f,) = doc["reports"]["figures"]
    assert f["value"] == "missing"
    assert [(s["code"], s["facts"]) for s in f["trace"] if s["kind"] == "note"] == [
        ("division_by_zero", {"expr": "1_000 DKK / count(persons where score@end > 100)"})]


def test_a_condition_that_divides_by_zero_is_missing(tmp_path):
    """In a condition a quotient by zero is a value that cannot be known: the flag is not raised, the subject
    is left out of a metric's share (as with a missing value), never a traceback."""
    text = goal("1", '''flag f "F" { when 10 / count(persons where score@end > 100) > 1 }
metric share_ok "OK" { subjects persons  share where 10 / score@end > 1 }
''')
    assert errors(text) == []
    doc = settle_both(text, people(LedgerBuilder(), ("P1", 5, "low"), ("P2", 0, "low")), tmp_path, engine=False)
    assert doc["flags"] == []
    (mt,) = doc["reports"]["metrics"]
    assert (mt["subjects"], mt["count"], mt["missing"]) == (1, 1, 1)


# ---- 4. a condition is not a number --------------------------------------------------------------

@pytest.mark.parametrize("outcome", ["(score >= 6) + (score >= 3)", "-(score >= 6)", "round(score >= 6, line)",
                                     "max(score >= 6, 0)", "abs(level == high)", "level + 1", "score * (level == high)",
                                     "level > 5", "(score > 5) == 1", "level"])
def test_arithmetic_on_a_condition_or_a_named_value_is_a_check_error_and_never_a_traceback(outcome, tmp_path):
    """`(score >= 6) + (score >= 3)` checked clean; `round(score >= 6, line)` and `level > 5` then crashed settle
    (AttributeError, TypeError), `level == 5` was silently false. The checker says CL012 at the operand; the
    evaluators, if handed the contract unchecked, stop with an EvalError naming what is not a number."""
    text = goal(outcome)
    assert {d.code for d in errors(text)} == {"CL012"}
    both_raise(text, people(LedgerBuilder(), ("P1", 7, "high")), tmp_path, "not a number|compares|an outcome must be")


def test_the_cli_reports_a_condition_added_to_a_condition_located(tmp_path, capsys):
    from contractlang.cli import main
    (tmp_path / "t.contract").write_text(goal("(score >= 6) + (score >= 3)"), encoding="utf-8")
    people(LedgerBuilder(), ("P1", 7, "high")).write(tmp_path / "ledger")
    for fmt in ("json", "text"):
        assert main(["settle", str(tmp_path / "t.contract"), "--ledger", str(tmp_path / "ledger"), "--format", fmt]) == 1
        out = capsys.readouterr()
        assert "t.contract:14:12: error[CL012]: the outcome of goal 'g' adds a yes/no condition" in out.out
        assert "no settlement was produced" in out.err and "Traceback" not in out.out + out.err


# ---- 5. figures, metrics and flags read only what is due at the settlement date -------------------

DUE = HEAD + '''goal g "G" {
  payer K
  subjects persons
  points end
  outcome score >= 5
  pay 100 DKK per success
}
figure passed "Passed" = count(persons where score@end >= 5)
figure scored "Scored" = total(score@end)
metric share_passed "Share passed" { subjects persons  share where score@end >= 5 }
flag high_score "High" { when count(persons where score@end >= 9) > 0 }
measure plan household boolean at end
flag no_plan "No plan" { for each household  when not plan }
'''


def _due_ledger() -> LedgerBuilder:
    """P1's course ended 2024-10-01; P2's ends 2025-03-01 and P3's runs to the end of the intervention (2025-12-31),
    yet the ledger already holds their `end` scores."""
    b = LedgerBuilder()
    for hid, pid, end, score, measured in (("H1", "P1", "2024-10-01", "6", "2024-10-01"),
                                           ("H2", "P2", "2025-03-01", "9", "2025-03-01"),
                                           ("H3", "P3", "", "7", "2025-06-30")):
        b.household(hid, "2024-02-01", end=end, reason="completed" if end else "").person(pid, hid)
        b.measure(pid, "score", "end", score, date=measured).measure(hid, "plan", "end", str(pid == "P1").lower())
    return b


def test_count_total_metric_and_flag_read_a_point_only_once_it_is_due(tmp_path):
    """At 2024-12-31 only P1's `end` has fallen: the goal pays P1 alone, and count(), total(), the metric and the
    flag read the `end` scores of P2 and P3 as not yet known (count was 3, total 22, share 3 of 3, flag raised)."""
    assert errors(DUE) == []
    doc = settle_both(DUE, _due_ledger(), tmp_path, as_of="2024-12-31")
    assert lines(doc) == {"g/P1/end": "100.00"}
    figures = {f["id"]: f["value"] for f in doc["reports"]["figures"]}
    assert figures == {"passed": "1", "scored": "6"}
    (mt,) = doc["reports"]["metrics"]
    assert (mt["subjects"], mt["count"], mt["missing"]) == (1, 1, 2)
    assert doc["flags"] == []
    late = {r["line"]: r["reason"] for r in doc["row_exclusions"]}
    assert late == {4: "not_due", 6: "not_due", 5: "not_read", 7: "not_read"}  # P2's, P3's rows: not read
    later = settle_both(DUE, _due_ledger(), tmp_path / "later", as_of="2025-12-31")
    assert {f["id"]: f["value"] for f in later["reports"]["figures"]} == {"passed": "3", "scored": "22"}
    assert [(f["id"], f["subject"]) for f in later["flags"]] == [("high_score", None), ("no_plan", "H2"),
                                                                  ("no_plan", "H3")]


def test_a_read_of_a_point_not_yet_due_is_narrated_as_such():
    from contractlang import trace
    from contractlang.i18n import PLAIN, Formatter
    from contractlang.narrate import describe_step
    step = {"kind": "missing", "subject": "H2", "measure": "plan", "point": "end",
            "facts": {"date": "2025-03-01", "limit": "2024-12-31"}}
    assert trace.from_json(step).to_json() == step
    en = describe_step(step, {}, Formatter("en"), PLAIN, False)[0]
    da = describe_step(step, {}, Formatter("da"), PLAIN, False)[0]
    assert "falls on 1 Mar 2025, after 31 Dec 2024; the measurement is not yet due" in en
    assert "falder den 1. mar. 2025, efter 31. dec. 2024; målingen er endnu ikke forfalden" in da


def test_a_flag_for_each_household_may_count(tmp_path):
    """Found on the way: engine v2 raised 'Count cannot be used here' on a per-household flag with count(),
    which the interpreter settles."""
    text = DUE + 'flag many "Many" { for each household  when count(persons where score@end >= 5) > 2 and not plan }\n'
    assert errors(text) == []
    doc = settle_both(text, _due_ledger(), tmp_path, as_of="2025-12-31")
    assert [(f["id"], f["subject"]) for f in doc["flags"] if f["id"] == "many"] == [("many", "H2"), ("many", "H3")]


# ---- 6. in a lookup, a row's name is the row --------------------------------------------------------

ROWS = '''table rates "Rates" {
  columns price DKK, weight count
  row score "Scored": 150, 2
  row total "Total": 300, 1
}
figure total = 3
'''


@pytest.mark.parametrize("price, amount", [("rates.price[score]", "150.00"), ("rates.price[total] * total", "900.00")])
def test_a_row_named_like_a_measure_or_a_figure_is_the_row(price, amount, tmp_path):
    """`rates.price[score]` read the measure score (7) and failed: 'table rates has no row 7'; `rates.price[total]`
    read the figure total (3). Inside a table's brackets its rows' names mean the rows, and the checker warns."""
    text = goal("score >= 5", ROWS, pay=f"{price} per success")
    diags = [d for d in check(parse_text(text, "t.contract")) if d.severity != "note"]
    name = "score" if "score" in price else "total"
    assert [(d.severity, d.code) for d in diags] == [("warning", "CL011")]
    assert f"the row '{name}' of table 'rates' has the name of a" in diags[0].message
    doc = settle_both(text, people(LedgerBuilder(), ("P1", 7, "high")), tmp_path)
    assert lines(doc) == {"g/P1/end": amount}


def test_a_measure_whose_values_are_rows_still_looks_up_its_value(tmp_path):
    text = goal("1", 'table prices "P" {\n  columns price DKK\n  row low "Low": 10\n  row high "High": 20\n}\n',
                pay="prices.price[level] per course")
    assert errors(text) == [] and not [d for d in check(parse_text(text, "t.contract")) if d.severity == "warning"]
    doc = settle_both(text, people(LedgerBuilder(), ("P1", 7, "high"), ("P2", 7, "low")), tmp_path)
    assert lines(doc) == {"g/P1/end": "20.00", "g/P2/end": "10.00"}


# ---- 7. a negative line is netted under every cap ------------------------------------------------------

def _net(tmp_path, cap: str) -> dict:
    """Lines in subject order: P1 +100, P2 -40, P3 +80 (outcome score - 5, at 20 DKK a unit)."""
    text = goal("score - 5", cap, pay="20 DKK per unit")
    assert errors(text) == []
    return settle_both(text, people(LedgerBuilder(), ("P1", 10, "low"), ("P2", 3, "low"), ("P3", 9, "low")), tmp_path)


@pytest.mark.parametrize("cap", ["cap g 1_000_000 DKK\n", "cap g 1_000_000 DKK per year\n",
                                 "cap K 1_000_000 DKK per subject\n", "return cap K 1_000_000 DKK on g\n"])
def test_a_cap_that_never_binds_changes_nothing(cap, tmp_path):
    """A negative line (a clawback) passed uncut without a cap but was made 0 under any cap: a cap of a million
    on lines of 140 DKK in all raised the total to 180."""
    uncapped = _net(tmp_path / "none", "")
    capped = _net(tmp_path / "cap", cap)
    assert lines(uncapped) == {"g/P1/end": "100.00", "g/P2/end": "-40.00", "g/P3/end": "80.00"}
    assert lines(capped) == lines(uncapped)
    assert capped["totals"]["pool"] == uncapped["totals"]["pool"] == "140.00"
    assert not any(ln["cut"] for ln in capped["lines"])


@pytest.mark.parametrize("cap", ["cap g 100 DKK\n", "return cap K 100 DKK on g\n"])
def test_a_negative_line_is_never_cut_and_makes_room_under_the_cap(cap, tmp_path):
    """The cap limits the net running total: +100 fills it, -40 passes whole and leaves 40, +80 is cut to 40."""
    doc = _net(tmp_path, cap)
    assert lines(doc) == {"g/P1/end": "100.00", "g/P2/end": "-40.00", "g/P3/end": "40.00"}
    assert [ln["cut"] for ln in doc["lines"]] == [False, False, True]
    assert doc["totals"]["pool"] == "100.00"


def test_a_negative_line_falls_in_the_tranche_the_pool_is_in(tmp_path):
    """+100 fills tranche 1 to 100 of 120; -40 is shared as tranche 1 (pool back to 60); +80 crosses at 120."""
    tranches = '''party G "Other fund" funder
tranches on all goals {
  tranche 1 until 120 DKK: F 50 %, G 50 %
  tranche 2: F 100 %
  rounding line, remainder G
}
'''
    doc = _net(tmp_path, tranches)
    assert [(ln["id"], ln["split"]) for ln in doc["lines"]] == [
        ("g/P1/end", {"F": "50.00", "G": "50.00"}), ("g/P2/end", {"F": "-20.00", "G": "-20.00"}),
        ("g/P3/end", {"F": "50.00", "G": "30.00"})]
