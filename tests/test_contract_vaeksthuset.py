"""Ny Start (Væksthuset, seed 000): the seed's results table from the committed ledger, and the
mechanism - whole-percent rounding, gaps to the targets, the reckoning date, the weekly price and
the DKK 2,900,000 frame - on small hand-built ledgers."""

from __future__ import annotations

import datetime as dt
import importlib.util
from decimal import ROUND_HALF_UP, Decimal

import pytest

from contractlang import load
from contractlang.evaluate import settle
from contractlang.ledger import load_ledger
from tests.ledgers import LedgerBuilder
from tests.test_settle_seed import ROOT

DIR = ROOT / "contracts" / "vaeksthuset-ny-start"
CONTRACT = load(DIR / "vaeksthuset.contract")
METRICS = ("share_job_or_education", "share_towards_self_support", "share_specialised_plan", "share_interrupted")


def run(builder: LedgerBuilder, tmp_path, as_of=None):
    return settle(CONTRACT, load_ledger(builder.write(tmp_path / "ledger"), CONTRACT), as_of)


def metrics(doc) -> dict:
    return {m["id"]: m for m in doc["reports"]["metrics"]}


def figures(doc) -> dict:
    return {f["id"]: f["value"] for f in doc["reports"]["figures"]}


@pytest.fixture(scope="module")
def committed():
    return settle(CONTRACT, load_ledger(DIR / "ledger", CONTRACT))


# ---- the seed's numbers, from the committed ledger ---------------------------------------------

def test_results_table_of_the_seed(committed):
    """Resultater: 16 % (11), 20 % (14), 45 % (31), 19 % (13) of 69, against 35 / 35 / 30 %."""
    got = {k: (m["subjects"], m["count"], m["share_rounded"], m.get("target"), m.get("gap_pp"), m.get("met"))
           for k, m in metrics(committed).items()}
    assert got == {
        "share_job_or_education": (69, 11, "16", "35", "-19", False),
        "share_towards_self_support": (69, 14, "20", "35", "-15", False),
        "share_specialised_plan": (69, 31, "45", "30", "15", True),
        "share_interrupted": (69, 13, "19", None, None, None),
    }
    assert all(m["missing"] == 0 for m in metrics(committed).values())


def test_missed_targets_and_by_how_much(committed):
    missed = {k: m["gap_pp"] for k, m in metrics(committed).items() if m.get("met") is False}
    assert missed == {"share_job_or_education": "-19", "share_towards_self_support": "-15"}


def test_seed_percentages_are_whole_percent_shares_of_69(committed):
    """The contract's stated table equals the computed metrics; the stated percentages are rounded shares."""
    table = next(t for t in CONTRACT.tables if t.id == "results")
    stated = {r.id: (r.cells[1].value, r.cells[2].value) for r in table.rows if r.kind == "row"}
    total = next(r for r in table.rows if r.kind == "sum").cells[2].value
    for mid in METRICS:
        m = metrics(committed)[mid]
        realised, count = stated[mid.removeprefix("share_")]
        exact = Decimal(m["share"])
        assert abs(exact - Decimal(count) / total * 100) < Decimal("1e-20")  # not a whole number ...
        assert exact != exact.to_integral_value()
        assert exact.quantize(Decimal(1), ROUND_HALF_UP) == realised == Decimal(m["share_rounded"])  # ... rounded
        assert m["count"] == count and m["subjects"] == total
    steps = [s for s in metrics(committed)["share_job_or_education"]["trace"] if s["kind"] == "round"]
    assert steps[0]["rule"] == "whole_percent" and steps[0]["mode"] == "half_up" and steps[0]["after"] == "16"


def test_payment_side_and_frame(committed):
    """1,400 × 30 = 42,000 a course; the municipality pays half, 700 a week; 138 × 21,000 fits 2,900,000."""
    f = figures(committed)
    assert (f["weekly_price"], f["municipal_weekly_price"], f["course_price"]) == ("1400", "700", "42000")
    assert (f["courses_in_period"], f["full_cost_period"], f["municipal_cost_period"], f["frame_headroom"]) == \
        ("138", "5796000", "2898000", "2000")
    paid = Decimal(committed["totals"]["goals"]["course_weeks"])
    assert paid == Decimal(f["weeks_total"]) * 700
    assert paid <= 2_900_000 and committed["totals"]["goal_cap_cut"]["course_weeks"] == "0.00"
    assert committed["totals"]["by_recipient"] == {"Vaeksthuset": committed["totals"]["pool"]}
    assert committed["totals"]["by_payer"] == {"Kommunen": committed["totals"]["pool"]}


def test_business_case_figures(committed):
    """69,227 saved a year per young person in job or education; the 11 of mid-May 2021 save 761,497."""
    f = figures(committed)
    assert f["finished_by_reckoning"] == "69" and f["job_or_education_count"] == "11"
    assert f["saving_per_success"] == "69227" and f["saving_per_year_realised"] == str(11 * 69_227)
    assert f["payback_months"] == "7.28"  # 42,000 / (69,227 / 12) = 7.2804…
    assert (f["break_even_share"], f["break_even_share_municipal"]) == ("60.7", "30.3")


def test_committed_ledger_keeps_the_capacity():
    """The generator's plan: never more than 40 young people at a time, at most 138 courses, all in the period."""
    spec = importlib.util.spec_from_file_location("make_ledger_vaeksthuset", DIR / "make_ledger.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    courses = mod.plan()
    assert len(courses) <= 138
    for c in courses:
        running = sum(1 for o in courses if o["start"] <= c["start"] <= o["end"])
        assert running <= 40
        assert dt.date(2019, 9, 1) <= c["start"] and c["end"] <= dt.date(2021, 9, 30) and c["start"].weekday() == 0
    finished = [c for c in courses if c["end"] <= dt.date(2021, 5, 15)]
    assert sorted(c["reason"] for c in finished if c["result"] == "interrupted").count("moved") == 6


# ---- the mechanism, on small ledgers ------------------------------------------------------------

def _course(b: LedgerBuilder, i: int, start: str, end: str | None, result: str | None, weeks: int | None,
            reason: str = "completed"):
    hid, pid = f"H{i:02}", f"P{i:02}"
    b.household(hid, start, end=end or "", reason=reason if end else "").person(pid, hid, "1998-03-01")
    if result is not None:
        b.measure(pid, "result", "course_end", result, end or "")
    if weeks is not None:
        b.measure(pid, "weeks_attended", "course_end", str(weeks), end or "")
    return b


def test_whole_percent_rounds_half_up_and_gap_is_in_points(tmp_path):
    """1 of 8 = 12.5 % → 13 % (half up, not half even), gap 13 − 35 = −22 points; 37.5 % → 38 %, 8 above 30."""
    b = LedgerBuilder()
    results = ["job_or_education"] + ["towards_self_support"] * 2 + ["specialised_plan"] * 3 + ["interrupted"] * 2
    for i, result in enumerate(results, start=1):
        _course(b, i, "2020-01-06", "2020-07-31", result, 30,
                reason="dropped" if result == "interrupted" else "completed")
    _course(b, 20, "2020-10-05", "2021-06-25", "job_or_education", 38)  # ended after the reckoning
    _course(b, 21, "2021-03-01", None, None, None)  # still in a course
    _course(b, 22, "2020-02-03", "2020-08-28", None, 30)  # ended, no result recorded
    got = metrics(run(b, tmp_path))
    job = got["share_job_or_education"]
    assert (job["subjects"], job["count"], job["missing"]) == (8, 1, 1)
    assert (job["share"], job["share_rounded"], job["gap_pp"], job["met"]) == ("12.5", "13", "-22", False)
    plan = got["share_specialised_plan"]
    assert (plan["share"], plan["share_rounded"], plan["gap_pp"], plan["met"]) == ("37.5", "38", "8", True)
    assert got["share_towards_self_support"]["gap_pp"] == "-10"
    assert "target" not in got["share_interrupted"] and got["share_interrupted"]["share_rounded"] == "25"


def test_a_course_counts_in_the_table_only_once_ended_by_mid_may_2021(tmp_path):
    b = LedgerBuilder()
    _course(b, 1, "2020-11-02", "2021-05-14", "job_or_education", 28)
    _course(b, 2, "2020-11-02", "2021-05-21", "job_or_education", 29)
    doc = run(b, tmp_path)
    assert metrics(doc)["share_job_or_education"]["subjects"] == 1
    assert figures(doc)["finished_by_reckoning"] == "1"
    # both courses are paid for, at the end of the course
    assert sorted(ln["gross"] for ln in doc["lines"]) == ["19600.00", "20300.00"]


def test_each_week_attended_pays_half_of_1400(tmp_path):
    b = LedgerBuilder()
    _course(b, 1, "2020-01-06", "2020-07-31", "towards_self_support", 30)
    _course(b, 2, "2020-01-06", "2020-01-10", "interrupted", 1, reason="moved")
    _course(b, 3, "2020-01-06", "2020-03-27", "interrupted", None, reason="other")  # weeks not recorded
    doc = run(b, tmp_path)
    lines = {ln["subject"]: ln for ln in doc["lines"]}
    assert lines["P01"]["gross"] == "21000.00" and lines["P02"]["gross"] == "700.00"
    assert "P03" not in lines
    assert any(e["subject"] == "P03" and e["reason"] == "missing_not_replaced" for e in doc["exclusions"])
    assert doc["totals"]["by_recipient"] == {"Vaeksthuset": "21700.00"}


def test_the_2_900_000_frame_caps_the_payments(tmp_path):
    """38 courses of 110 weeks at 700 a week would cost 2,926,000; the frame cuts the last line by 26,000."""
    b = LedgerBuilder()
    for i in range(1, 39):
        _course(b, i, "2019-09-02", f"2021-09-{i % 28 + 1:02}" if i < 38 else "2021-09-30", "specialised_plan", 110)
    doc = run(b, tmp_path)
    assert doc["totals"]["goals"]["course_weeks"] == "2900000.00"
    assert doc["totals"]["goal_cap_cut"]["course_weeks"] == "26000.00"
    last = doc["lines"][-1]
    assert (last["subject"], last["gross"], last["amount"], last["cut"]) == ("P38", "77000.00", "51000.00", True)
    assert sum(ln["cut"] for ln in doc["lines"]) == 1
