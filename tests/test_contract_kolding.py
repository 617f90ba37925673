"""Kolding "En ny start for flere" (press release of 29 June 2022): the social-impact-investment
mechanism — saved weeks × weekly benefit × investor share, up to the investment plus a capped
return — pinned on small hand-built ledgers."""

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
KOLDING = load(ROOT / "contracts" / "kolding-ny-start" / "kolding.contract")
POINTS = ("m6", "m12", "m18", "m24", "m30", "m36")


def run(builder: LedgerBuilder, tmp_path, as_of=None):
    return settle(KOLDING, load_ledger(builder.write(tmp_path / "ledger"), KOLDING), as_of)


def lines_of(doc):
    return {ln["id"]: ln for ln in doc["lines"]}


def figure(name: str) -> Decimal:
    """A figure of the contract that is a plain quantity (the assumed prices)."""
    f = next(f for f in KOLDING.figures if f.id == name)
    value = f.expr.value
    return value / 100 if f.expr.unit == "%" else value


def rate() -> Decimal:
    return figure("weekly_benefit") * figure("investor_share")


def citizen(b: LedgerBuilder, n: int, start: str, history: dict, *, end="", reason="") -> LedgerBuilder:
    """Citizen P<n> in household H<n>; `history` maps a point to (job_status, weeks_off_benefit), None for no row."""
    hid, pid = f"H{n:03d}", f"P{n:03d}"
    b.household(hid, start, end=end, reason=reason).person(pid, hid, "1985-03-01")
    b.measure(pid, "job_status", "baseline", "transfer_income")
    for point, (status, weeks) in history.items():
        if status is not None:
            b.measure(pid, "job_status", point, status)
        if weeks is not None:
            b.measure(pid, "weeks_off_benefit", point, str(weeks))
    return b


def test_the_contract_checks_without_errors_or_warnings():
    assert [d for d in check(KOLDING) if d.severity in ("error", "warning")] == []


def test_assumed_prices_and_ceiling():
    """The release gives no prices: each is an assumption; the ceiling is the investment with 5 % a year for 3 years."""
    assert figure("weekly_benefit") == Decimal("3600") and figure("investor_share") == Decimal("0.6")
    (grant,) = KOLDING.grants
    rc = KOLDING.return_cap
    assert grant.party == "DSK" and grant.amount.assumption
    assert rc.base == ("DSK",) and rc.goals == ("saved_benefits",) and rc.amount.assumption
    assert rc.amount.value == (grant.amount.value * Decimal("1.05") ** 3).quantize(Decimal("0.01"))


def test_saved_weeks_times_weekly_benefit_times_investor_share(tmp_path):
    """20 weeks off benefit in an ordinary job pay 20 × 3,600 × 60 % = 43,200."""
    b = citizen(LedgerBuilder(), 1, "2022-09-15", {"m6": ("ordinary_job", 20)})
    doc = run(b, tmp_path)
    line = lines_of(doc)["saved_benefits/P001/m6"]
    assert rate() == Decimal("2160")
    assert line["outcome"] == "20" and line["gross"] == "43200.00" and line["amount"] == "43200.00"
    assert line["date"] == "2023-03-15" and line["period"] == "2023-H1"
    assert doc["totals"]["by_recipient"] == {"DSK": "43200.00"}
    assert doc["totals"]["by_payer"] == {"Kommunen": "43200.00"}


def test_only_weeks_in_an_ordinary_job_at_the_point_are_paid(tmp_path):
    """Weeks off benefit through subsidised work, education, or in a job lost before the point pay nothing."""
    b = citizen(LedgerBuilder(), 1, "2022-09-15", {
        "m6": ("subsidised_job", 26), "m12": ("education", 26), "m18": ("transfer_income", 12),
        "m24": ("ordinary_job", 26)})
    lines = lines_of(run(b, tmp_path))
    assert [lines[f"saved_benefits/P001/{p}"]["gross"] for p in ("m6", "m12", "m18", "m24")] == \
        ["0.00", "0.00", "0.00", "56160.00"]


def test_missing_register_value_counts_as_no_saving(tmp_path):
    """A citizen who moved away has no register data after the move: imputed 0, not the mean of the others."""
    b = LedgerBuilder()
    citizen(b, 1, "2022-09-15", {"m6": ("ordinary_job", 26)})
    citizen(b, 2, "2022-09-15", {}, end="2022-12-01", reason="moved")
    lines = lines_of(run(b, tmp_path))
    assert lines["saved_benefits/P001/m6"]["gross"] == "56160.00"
    moved = lines["saved_benefits/P002/m6"]
    assert moved["imputed"] is True and moved["gross"] == "0.00"


def test_a_citizen_who_left_the_intervention_still_counts(tmp_path):
    """Savings are counted for 36 months from enrolment, whatever the reason for leaving the intervention."""
    b = citizen(LedgerBuilder(), 1, "2022-09-15", {"m12": ("ordinary_job", 10)}, end="2023-01-10", reason="dropped")
    assert lines_of(run(b, tmp_path))["saved_benefits/P001/m12"]["gross"] == "21600.00"


def test_payments_stop_at_investment_plus_capped_return(tmp_path):
    """Lines fill the ceiling of 4,051,687.50 in date order; the line that crosses it is cut; later lines pay 0."""
    limit = KOLDING.return_cap.amount.value
    per_full_year = 2 * 26 * rate()  # one citizen, two full half-years in an ordinary job: 112,320
    full = int(limit // per_full_year)  # 36 citizens fill 4,043,520.00
    b = LedgerBuilder()
    for n in range(1, full + 3):
        citizen(b, n, "2022-09-15", {"m6": ("ordinary_job", 26), "m12": ("ordinary_job", 26)})
    doc = run(b, tmp_path, as_of=dt.date(2023, 9, 15))  # m6 and m12 are due, m18 and later not yet
    lines = doc["lines"]
    assert len(lines) == 2 * (full + 2)
    paid = [Decimal(ln["amount"]) for ln in lines]
    assert sum(paid) == limit == Decimal(doc["totals"]["pool"])
    # m6 lines come first (all 2023-03-15), then m12; the crossing line is the first with a cut amount.
    crossing = next(ln for ln in lines if ln["cut"])
    before = sum(Decimal(ln["amount"]) for ln in lines[:lines.index(crossing)])
    assert Decimal(crossing["amount"]) == limit - before > 0
    assert all(ln["amount"] == "0.00" for ln in lines[lines.index(crossing) + 1:])
    gross = sum(Decimal(ln["gross"]) for ln in lines)
    assert gross == 2 * (full + 2) * 26 * rate()
    assert Decimal(doc["totals"]["return_cap_cut"]) == gross - limit
    assert doc["totals"]["goals"]["saved_benefits"] == str(gross.quantize(Decimal("0.01")))  # before the ceiling
    assert doc["totals"]["by_recipient"] == {"DSK": str(limit)}
    assert doc["return_cap"]["limit"] == str(limit) and doc["return_cap"]["payer"] == "Kommunen"
    cap_step = next(s for s in crossing["trace"] if s["kind"] == "cap" and s["cap"] == "return")
    assert cap_step["before"] == "56160.00" and Decimal(cap_step["after"]) == limit - before


def test_ceiling_is_not_touched_below_it(tmp_path):
    b = citizen(LedgerBuilder(), 1, "2022-09-15", {p: ("ordinary_job", 26) for p in POINTS})
    doc = run(b, tmp_path)
    assert doc["totals"]["return_cap_cut"] == "0.00"
    assert doc["totals"]["pool"] == str((6 * 26 * rate()).quantize(Decimal("0.01"))) == "336960.00"


def test_weeks_to_ceiling_figure(tmp_path):
    """The ceiling is repaid by 4,051,687.50 / 2,160 = 1,875.8 saved weeks."""
    figures = {f["id"]: f["value"] for f in run(LedgerBuilder(), tmp_path)["reports"]["figures"]}
    assert figures["weeks_to_ceiling"] == "1875.8"


def test_a_price_with_more_than_two_places_shows_them_all_in_the_payment_step(tmp_path):
    """3,601.15 × 62.5 % = 2,250.71875 a week: the trail keeps all five places, so 20 weeks redo to 45,014.375."""
    from contractlang.parse import parse_text
    text = KOLDING.source.replace("= 3_600 DKK assumed", "= 3_601.15 DKK assumed").replace("= 60 % assumed", "= 62.5 % assumed")
    contract = parse_text(text, "kolding.contract")
    b = citizen(LedgerBuilder(), 1, "2022-09-15", {"m6": ("ordinary_job", 20)})
    doc = settle(contract, load_ledger(b.write(tmp_path / "ledger"), contract))
    line = lines_of(doc)["saved_benefits/P001/m6"]
    step = next(s for s in line["trace"] if s["kind"] == "payment")
    assert (step["outcome"], step["rate"], step["exact"]) == ("20", "2250.71875", "45014.375")
    assert Decimal(step["outcome"]) * Decimal(step["rate"]) == Decimal(step["exact"])
    assert line["gross"] == "45014.38"  # the contract's line rounding, half up to the øre
