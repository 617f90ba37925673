"""Rudersdal "Åben og Rolig" (item 4 of the minutes of 12 August 2020): the seed's numbers and the
pay-for-success mechanism, each pinned on a small hand-built ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from contractlang import load
from contractlang.check import check
from contractlang.evaluate import settle
from contractlang.ledger import load_ledger
from tests.ledgers import LedgerBuilder

ROOT = Path(__file__).resolve().parent.parent
RUDERSDAL = load(ROOT / "contracts" / "rudersdal-aaben-og-rolig" / "rudersdal.contract")


def run(builder: LedgerBuilder, tmp_path, as_of=None):
    return settle(RUDERSDAL, load_ledger(builder.write(tmp_path / "ledger"), RUDERSDAL), as_of)


def lines_of(doc, goal):
    return {ln["id"]: ln for ln in doc["lines"] if ln["goal"] == goal}


def citizen(b: LedgerBuilder, n: int, start: str, end: str, *, reason="completed", baseline=None, m12=None,
            birth="1980-05-01") -> LedgerBuilder:
    """One citizen's course: household R<n> with person P<n>, PSS-10 at the start and 12 months after the end."""
    b.household(f"R{n:03d}", start, end=end, reason=reason).person(f"P{n:03d}", f"R{n:03d}", birth)
    if baseline is not None:
        b.measure(f"P{n:03d}", "pss10", "baseline", str(baseline))
    if m12 is not None:
        b.measure(f"P{n:03d}", "pss10", "m12", str(m12))
    return b


def test_the_contract_checks_without_errors_or_warnings():
    assert [d for d in check(RUDERSDAL) if d.severity in ("error", "warning")] == []


def test_seed_prices_and_cap_are_in_the_contract():
    """Økonomi ¶1-3: 12,000 per citizen course in the pilot, 18,000 per success, a yearly cap (assumed 1.2 million)."""
    goals = {g.id: g for g in RUDERSDAL.goals}
    assert goals["pilot_courses"].rate.amount.value == Decimal("12000")
    assert goals["success"].rate.amount.value == Decimal("18000")
    (cap,) = RUDERSDAL.caps
    assert (cap.goal, cap.amount.value, cap.per) == ("success", Decimal("1200000"), "year")
    assert cap.amount.assumption  # the minutes give no figure for the cap


def test_one_success_pays_18000(tmp_path):
    """Økonomi ¶2: a citizen who completed and shows a documented improvement after 12 months pays 18,000."""
    b = citizen(LedgerBuilder(), 1, "2021-08-16", "2021-10-11", baseline=26, m12=18)
    doc = run(b, tmp_path)
    line = lines_of(doc, "success")["success/P001/m12"]
    assert line["gross"] == "18000.00" and line["amount"] == "18000.00"
    assert line["date"] == "2022-10-11"  # 12 months after the course's end
    assert doc["totals"]["by_recipient"] == {"FMS": "18000.00"}
    assert doc["totals"]["by_payer"] == {"Kommunen": "18000.00"}


def test_improvement_threshold_is_four_points(tmp_path):
    """The assumed threshold: a fall of at least 4 PSS-10 points pays, 3 points does not, a rise does not."""
    b = LedgerBuilder()
    citizen(b, 1, "2021-08-16", "2021-10-11", baseline=26, m12=22)
    citizen(b, 2, "2021-08-16", "2021-10-11", baseline=26, m12=23)
    citizen(b, 3, "2021-08-16", "2021-10-11", baseline=20, m12=25)
    lines = lines_of(run(b, tmp_path), "success")
    assert [lines[f"success/P00{i}/m12"]["gross"] for i in (1, 2, 3)] == ["18000.00", "0.00", "0.00"]


def test_non_completer_pays_nothing(tmp_path):
    """A citizen who dropped out is not a subject of the success goal, even with a better score."""
    b = citizen(LedgerBuilder(), 1, "2021-08-16", "2021-09-06", reason="dropped", baseline=30, m12=12)
    doc = run(b, tmp_path)
    assert lines_of(doc, "success") == {}
    assert {(e["goal"], e["subject"], e["reason"]) for e in doc["exclusions"]} >= {("success", "P001", "not_eligible")}
    assert doc["totals"]["pool"] == "0.00"


def test_missing_follow_up_counts_as_no_documented_improvement(tmp_path):
    """A completer without a 12-month score is imputed 0 (not the mean of the others)."""
    b = LedgerBuilder()
    citizen(b, 1, "2021-08-16", "2021-10-11", baseline=26, m12=10)
    citizen(b, 2, "2021-08-16", "2021-10-11", baseline=26)
    lines = lines_of(run(b, tmp_path), "success")
    assert lines["success/P001/m12"]["gross"] == "18000.00"
    missing = lines["success/P002/m12"]
    assert missing["imputed"] is True and missing["gross"] == "0.00"


def test_follow_up_not_due_before_twelve_months(tmp_path):
    """The follow-up falls 12 months after the course's end (2022-10-11); the day before, nothing is due."""
    b = citizen(LedgerBuilder(), 1, "2021-08-16", "2021-10-11", baseline=26, m12=10)
    doc = run(b, tmp_path, as_of=dt.date(2022, 10, 10))
    assert lines_of(doc, "success") == {}
    assert any(e["reason"] == "not_due" and e["subject"] == "P001" for e in doc["exclusions"])


def test_pilot_pays_12000_per_citizen_course_whatever_the_outcome(tmp_path):
    """Økonomi ¶1: the pilot is priced per citizen course; 28 citizens give 336,000, not the stated ca. 420,000."""
    b = LedgerBuilder()
    for n in range(1, 29):
        start = "2021-01-11" if n <= 14 else "2021-02-01"
        dropped = n in (5, 20)
        end = ("2021-01-25" if n <= 14 else "2021-02-15") if dropped else ("2021-03-08" if n <= 14 else "2021-03-29")
        citizen(b, n, start, end,
                reason="dropped" if dropped else "completed", baseline=25, m12=10)
    doc = run(b, tmp_path)
    pilot = lines_of(doc, "pilot_courses")
    assert len(pilot) == 28 and {ln["gross"] for ln in pilot.values()} == {"12000.00"}
    assert doc["totals"]["goals"] == {"pilot_courses": "336000.00", "success": "0.00"}
    assert lines_of(doc, "success") == {}  # pilot citizens are not paid for success
    figures = {f["id"]: f["value"] for f in doc["reports"]["figures"]}
    assert figures["pilot_course_cost"] == "336000"
    assert figures["pilot_establishment"] == "84000"  # the part of ca. 420,000 the minutes leave to establishment
    assert figures["pilot_citizens"] == "28"


def test_business_case_figure(tmp_path):
    """Økonomi ¶3: 6 teams of 14, 80 % with documented effect, at 18,000: 1,209,600, 'ca. 1,2 mio. kr.'."""
    figures = {f["id"]: f["value"] for f in run(LedgerBuilder(), tmp_path)["reports"]["figures"]}
    assert figures["business_case"] == "1209600"


def _successes(b: LedgerBuilder, first: int, count: int, start: str, end: str) -> LedgerBuilder:
    for n in range(first, first + count):
        citizen(b, n, start, end, baseline=28, m12=14)
    return b


def test_yearly_cap_cuts_the_line_that_crosses_it_and_resets_next_year(tmp_path):
    """67 successes falling in 2023 pay 66 × 18,000 = 1,188,000, then 12,000 of the 67th; 2024 starts afresh."""
    b = LedgerBuilder()
    _successes(b, 1, 67, "2022-03-07", "2022-05-02")   # follow-up 2023-05-02
    _successes(b, 101, 2, "2023-03-06", "2023-05-01")  # follow-up 2024-05-01
    doc = run(b, tmp_path)
    lines = [ln for ln in doc["lines"] if ln["goal"] == "success"]
    y2023 = [ln for ln in lines if str(ln["date"]).startswith("2023")]
    y2024 = [ln for ln in lines if str(ln["date"]).startswith("2024")]
    assert len(y2023) == 67 and len(y2024) == 2
    assert [ln["amount"] for ln in y2023[:66]] == ["18000.00"] * 66
    crossing = y2023[66]
    assert crossing["subject"] == "P067" and crossing["gross"] == "18000.00"
    assert crossing["after_goal_cap"] == "12000.00" and crossing["cut"] is True
    assert sum(Decimal(ln["amount"]) for ln in y2023) == Decimal("1200000.00")
    assert [ln["amount"] for ln in y2024] == ["18000.00", "18000.00"]
    assert doc["totals"]["goal_cap_cut"]["success"] == "6000.00"
    assert doc["totals"]["goals"]["success"] == "1236000.00"
    by_period = {p["period"]: p["amount"] for p in doc["periods"]}
    assert by_period == {"2023": "1200000.00", "2024": "36000.00"}


def test_yearly_periods_are_due_at_the_end_of_the_following_quarter(tmp_path):
    b = citizen(LedgerBuilder(), 1, "2021-08-16", "2021-10-11", baseline=26, m12=18)
    (period,) = run(b, tmp_path)["periods"]
    assert (period["period"], period["start"], period["end"], period["due"]) == \
        ("2022", "2022-01-01", "2022-12-31", "2023-03-31")


def test_enrolment_flag_counts_the_citizens_of_the_first_year(tmp_path):
    """Økonomi ¶3 assumes 6 teams of 14 a year: 83 citizens in the first year raise the flag, 84 do not."""
    b = LedgerBuilder()
    for n in range(1, 84):
        citizen(b, n, "2021-08-16", "2021-10-11")
    doc = run(b, tmp_path)
    flags = {f["id"]: f for f in doc["flags"]}
    assert flags["enrolment_first_year"]["details"]["count"] == "83"
    citizen(b, 84, "2022-01-10", "2022-03-07")
    doc = run(b, tmp_path / "two")
    assert "enrolment_first_year" not in {f["id"] for f in doc["flags"]}
