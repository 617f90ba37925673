"""Langtidsledige tager teten (Aarhus, seed 002): the seed's grants, misuse and business case from the
committed ledger, and the mechanism - the DKK 50,000 cap per participant, the declared roundings and
a break-even that follows the ledger - on small hand-built ledgers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from contractlang import load
from contractlang.evaluate import settle
from contractlang.ledger import load_ledger
from tests.ledgers import LedgerBuilder
from tests.test_settle_seed import ROOT

DIR = ROOT / "contracts" / "aarhus-personlige-budgetter"
CONTRACT = load(DIR / "aarhus.contract")


def run(builder: LedgerBuilder, tmp_path, as_of=None):
    return settle(CONTRACT, load_ledger(builder.write(tmp_path / "ledger"), CONTRACT), as_of)


def metrics(doc) -> dict:
    return {m["id"]: m for m in doc["reports"]["metrics"]}


def figures(doc) -> dict:
    return {f["id"]: f["value"] for f in doc["reports"]["figures"]}


def flag_ids(doc) -> set:
    return {f["id"] for f in doc["flags"]}


def stated(table_id: str, row_id: str) -> Decimal:
    table = next(t for t in CONTRACT.tables if t.id == table_id)
    return next(r for r in table.rows if r.id == row_id).cells[0].value


@pytest.fixture(scope="module")
def committed():
    return settle(CONTRACT, load_ledger(DIR / "ledger", CONTRACT))


# ---- the seed's numbers, from the committed ledger ---------------------------------------------

def test_grants_total_and_mean(committed):
    """s. 9: 97 participants applied for 4,083,685 kr., a mean of 42,100 kr. (42,099.85 rounded)."""
    f = figures(committed)
    assert (f["participants"], f["grants_total"], f["grants_mean"]) == ("97", "4083685", "42100")
    exact = Decimal(f["grants_total"]) / Decimal(f["participants"])
    assert exact != 42_100 and exact.quantize(Decimal(1), ROUND_HALF_UP) == 42_100
    assert committed["totals"]["goals"]["personal_budget"] == "4083685.00"
    assert committed["totals"]["goal_cap_cut"]["personal_budget"] == "0.00"
    assert committed["totals"]["by_recipient"] == {"Deltagerne": "4083685.00"}
    assert committed["totals"]["by_payer"] == {"Kommunen": "4083685.00"}


def test_every_grant_is_within_the_cap(committed):
    assert all(Decimal(ln["gross"]) <= 50_000 and not ln["cut"] for ln in committed["lines"])
    assert len(committed["lines"]) == 97
    assert metrics(committed)["over_cap"]["count"] == 0 and "grant_over_cap" not in flag_ids(committed)


def test_misuse(committed):
    """s. 31: 7 of 97 misused 150,000 kr., 3.7 % of the grants (150,000 / 4,083,685 = 3.673 %)."""
    f = figures(committed)
    assert (f["misuse_total"], f["misuse_pct"], f["misusers_count"]) == ("150000", "3.7", "7")
    m = metrics(committed)["misusers"]
    assert (m["subjects"], m["count"], m["share_rounded"]) == (97, 7, "7.2")
    exact = Decimal(150_000) / Decimal(4_083_685) * 100
    assert exact.quantize(Decimal("0.1"), ROUND_HALF_UP) == Decimal(f["misuse_pct"]) != exact


def test_business_case(committed):
    """s. 41: 156,000 + 12,300 + 15,500 = 183,800 a year; 42,100 + 400 + 108 + 866 = 43,474; break-even."""
    f = figures(committed)
    assert f["cost_per_year"] == "183800" == str(stated("municipal_cost", "total"))
    assert f["offer_cost_per_participant"] == "43474" == str(stated("offer_cost", "total"))
    assert f["cost_per_month"] == "15316.67"
    assert (f["break_even_months"], f["break_even_whole_months"]) == ("2.84", "3")  # 43,474 / 15,316.67
    assert (f["benefit_per_month"], f["benefit_three_months"]) == ("13000", "39000")  # "ca. 39.000 kr."
    assert (f["saving_three_months"], f["break_even_months_benefit_only"]) == ("45950", "3.34")
    assert Decimal(f["benefit_three_months"]) < Decimal(f["offer_cost_per_participant"]) <= \
        Decimal(f["saving_three_months"])


# ---- the mechanism, on small ledgers ------------------------------------------------------------

def _participant(b: LedgerBuilder, i: int, granted: int | None, misused: int = 0,
                 start: str = "2017-03-06", end: str = "2017-09-01"):
    hid, pid = f"H{i:02}", f"P{i:02}"
    b.household(hid, start, end=end, reason="completed").person(pid, hid, "1962-05-10")
    if granted is not None:
        b.measure(pid, "granted", "budget", str(granted), start)
    b.measure(pid, "misused", "course_end", str(misused), end)
    return b


def test_a_grant_above_50_000_is_cut_to_50_000(tmp_path):
    """The cap is per participant: 60,000 is paid as 50,000; two others at and under the cap are untouched."""
    b = LedgerBuilder()
    _participant(b, 1, 60_000)
    _participant(b, 2, 50_000)
    _participant(b, 3, 20_000)
    doc = run(b, tmp_path)
    lines = {ln["subject"]: ln for ln in doc["lines"]}
    assert (lines["P01"]["gross"], lines["P01"]["amount"], lines["P01"]["cut"]) == ("60000.00", "50000.00", True)
    assert (lines["P02"]["amount"], lines["P02"]["cut"]) == ("50000.00", False)
    assert (lines["P03"]["amount"], lines["P03"]["cut"]) == ("20000.00", False)
    assert doc["totals"]["goals"]["personal_budget"] == "120000.00"
    assert doc["totals"]["goal_cap_cut"]["personal_budget"] == "10000.00"
    cap = next(s for s in lines["P01"]["trace"] if s["kind"] == "cap")
    assert (cap["per"], cap["limit"], cap["before"], cap["after"]) == ("subject", "50000.00", "60000.00", "50000.00")
    # what was applied for is reported as such; the flag says a grant went over the cap
    assert figures(doc)["grants_total"] == "130000"
    assert metrics(doc)["over_cap"]["count"] == 1
    assert "grant_over_cap" in flag_ids(doc)


def test_a_participant_without_a_grant_is_paid_nothing(tmp_path):
    b = LedgerBuilder()
    _participant(b, 1, 30_000)
    _participant(b, 2, None)
    doc = run(b, tmp_path)
    assert [ln["subject"] for ln in doc["lines"]] == ["P01"]
    assert figures(doc)["grants_mean"] == "30000"  # the mean is over the recorded grants


def test_declared_roundings_of_mean_and_misuse(tmp_path):
    """Mean 10,000.5 → 10,001 (whole kroner, half up); misuse 1,000 / 20,001 = 4.99975 % → 5.0 %."""
    b = LedgerBuilder()
    _participant(b, 1, 10_001)
    _participant(b, 2, 10_000, misused=1_000)
    doc = run(b, tmp_path)
    f = figures(doc)
    assert (f["grants_total"], f["grants_mean"]) == ("20001", "10001")
    assert Decimal(f["misuse_pct"]) == Decimal("5.0")
    trail = next(x for x in doc["reports"]["figures"] if x["id"] == "misuse_pct")["trace"]
    step = next(s for s in trail if s["kind"] == "round")
    assert (step["rule"], step["mode"], step["after"]) == ("one_decimal", "half_up", "5.0")
    assert step["before"].startswith("4.99975")
    m = metrics(doc)["misusers"]
    assert (m["count"], m["subjects"], Decimal(m["share_rounded"])) == (1, 2, 50)


def test_break_even_follows_the_ledger(tmp_path):
    """With a mean grant of 20,000 the offer costs 21,374 and is earned back in 1.40 months (2 whole months)."""
    b = LedgerBuilder()
    _participant(b, 1, 15_000)
    _participant(b, 2, 25_000)
    f = figures(run(b, tmp_path))
    assert (f["grants_mean"], f["offer_cost_per_participant"]) == ("20000", "21374")
    assert (Decimal(f["break_even_months"]), f["break_even_whole_months"], f["break_even_months_benefit_only"]) == \
        (Decimal("1.40"), "2", "1.64")
