"""Figures, metrics, count() and flags read the ledger: measures, attributes and each other."""

from __future__ import annotations

import pytest

from contractlang.check import check
from contractlang.evaluate import settle
from contractlang.ledger import load_ledger
from contractlang.parse import parse_text

from .ledgers import LedgerBuilder

CONTRACT = '''contract t "T"
currency DKK
party F "Fund" funder
party K "Municipality" payer
programme { intervention 2024-01-01 to 2024-12-31 }
point end = end
measure result person { values job, education, none at end }
measure granted person decimal 0 to 100000 at end
measure plan_done household boolean at end
rounding whole 0 places half_up
rounding one 1 places half_up
metric share_job "In a job" { subjects persons  share where result == job  rounding whole  target 50 % }
figure jobs = count(persons where result == job)
figure total_granted = total(granted)
figure mean_granted = round(mean(granted), whole)
figure job_share_pct = round(share_job * 100, one)
flag no_plan "No plan" { for each household  when not plan_done }
'''


@pytest.fixture
def doc(tmp_path):
    contract = parse_text(CONTRACT, "t.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    b = LedgerBuilder()
    for i, (result, granted, plan) in enumerate([("job", "10000", "true"), ("none", "20001", "false"),
                                                  ("education", "", "true")], start=1):
        b.household(f"H{i}", "2024-02-01").person(f"P{i}", f"H{i}")
        b.measure(f"P{i}", "result", "end", result).measure(f"H{i}", "plan_done", "end", plan)
        if granted:
            b.measure(f"P{i}", "granted", "end", granted)
    return settle(contract, load_ledger(b.write(tmp_path / "ledger"), contract))


def _values(doc, key):
    return {x["id"]: x for x in doc["reports"][key]}


def test_figures_aggregate_the_ledger(doc):
    f = _values(doc, "figures")
    assert f["jobs"]["value"] == "1"
    assert f["total_granted"]["value"] == "30001"
    assert f["mean_granted"]["value"] == "15001"  # 15000.5 rounded half up, as declared
    assert f["job_share_pct"]["value"] == "33.3"
    step = next(s for s in f["total_granted"]["trace"] if s["kind"] == "aggregate")
    assert (step["func"], step["observations"], len(step["lines"])) == ("total", 2, 2)


def test_metric_share_rounding_and_gap(doc):
    mt = _values(doc, "metrics")["share_job"]
    assert (mt["subjects"], mt["count"], mt["share_rounded"], mt["target"], mt["gap_pp"], mt["met"]) == \
        (3, 1, "33", "50", "-17", False)


def test_a_flag_for_each_household_reads_its_measures(doc):
    assert [(f["id"], f["subject"]) for f in doc["flags"]] == [("no_plan", "H2")]


def test_a_figure_defined_in_terms_of_itself_is_an_error():
    text = CONTRACT + "figure a = b + 1\nfigure b = a * 2\n"
    found = [d for d in check(parse_text(text, "t.contract")) if d.code == "CL017"]
    assert any("a → b → a" in d.message for d in found)


def test_total_needs_a_point_when_the_measure_has_several():
    text = CONTRACT.replace("at end\nmeasure plan_done", "at end\nmeasure plan_done") + \
        "point start0 = start\nmeasure score person integer 0 to 10 at start0, end\nfigure s = total(score)\n"
    found = [d for d in check(parse_text(text, "t.contract")) if d.severity == "error"]
    assert any("say which point" in d.message for d in found)


def test_explain_accepts_a_figure_id(capsys):
    from pathlib import Path

    from contractlang.cli import main

    d = Path(__file__).resolve().parents[1] / "contracts" / "aarhus-personlige-budgetter"
    assert main(["explain", str(d / "aarhus.contract"), "--ledger", str(d / "ledger"), "break_even_months"]) == 0
    out = capsys.readouterr().out
    assert "2.84" in out and "Rounded 2.838346028291621327529923830250272034820457018498" in out


def test_a_figure_reads_as_an_amount_a_percentage_or_a_number(tmp_path):
    """The unit comes from the contract: DKK through arithmetic, % only where written as a percentage."""
    from contractlang.check import figure_units
    from contractlang.i18n import Formatter, figure_value
    text = CONTRACT + ("figure weekly = 3_600 DKK\nfigure share = 60 %\nfigure paid = weekly * share\n"
                       "figure weeks = 4_000 DKK / paid\n")
    contract = parse_text(text, "t.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    units = figure_units(contract)
    assert {k: units[k] for k in ("weekly", "share", "paid", "weeks", "job_share_pct", "jobs")} == \
        {"weekly": "DKK", "share": "%", "paid": "DKK", "weeks": None, "job_share_pct": None, "jobs": None}
    b = LedgerBuilder()
    b.household("H1", "2024-02-01").person("P1", "H1")
    f = _values(settle(contract, load_ledger(b.write(tmp_path / "ledger"), contract)), "figures")
    assert (f["paid"]["value"], f["paid"]["unit"], f["share"]["value"]) == ("2160", "DKK", "0.6")
    da, en = Formatter("da"), Formatter("en")
    assert [figure_value(f[k], da) for k in ("paid", "share")] == ["2.160,00\xa0kr.", "60\xa0%"]
    assert figure_value(f["weeks"], da) == da.num(f["weeks"]["value"]) and f["weeks"]["value"].startswith("1.85185")
    assert [figure_value(f[k], en) for k in ("paid", "share")] == ["DKK\xa02,160.00", "60%"]
