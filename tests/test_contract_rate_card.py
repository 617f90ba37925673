"""The rate-card example (contracts/examples/rate-card): an arrangement not in the seeds, written without
any change to the engine. Prices per outcome from a table, outcomes that exclude each other, and a
maximum per participant over all outcomes (`cap Kommunen 40_000 DKK per subject`)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from contractlang import load
from contractlang.evaluate import settle
from contractlang.ledger import load_ledger

from .ledgers import LedgerBuilder

ROOT = Path(__file__).resolve().parents[1]
CONTRACT = ROOT / "contracts" / "examples" / "rate-card" / "rate-card.contract"


@pytest.fixture(scope="module")
def contract():
    return load(CONTRACT)


def _participant(b: LedgerBuilder, n: int, start: str, *, attendance=None, level=None, weeks=None):
    hid, pid = f"H{n}", f"P{n}"
    b.household(hid, start).person(pid, hid, birth="2007-05-01")
    if attendance is not None:
        b.measure(pid, "attendance_improved", "m6", "true" if attendance else "false")
    if level is not None:
        b.measure(pid, "qualification", "m12", level)
    if weeks is not None:
        b.measure(pid, "employed_weeks", "m12", str(weeks))
    return pid


def _settle(contract, b: LedgerBuilder, tmp_path):
    return settle(contract, load_ledger(b.write(tmp_path / "ledger"), contract))


def _line(doc, line_id):
    return next(ln for ln in doc["lines"] if ln["id"] == line_id)


def test_each_outcome_pays_its_price_from_the_rate_card(contract, tmp_path):
    b = LedgerBuilder()
    _participant(b, 1, "2025-02-01", attendance=True, level="level1", weeks=14)
    doc = _settle(contract, b, tmp_path)
    paid = {ln["goal"]: Decimal(ln["amount"]) for ln in doc["lines"] if Decimal(ln["amount"])}
    assert paid == {"attendance": Decimal("4000.00"), "qualification": Decimal("9000.00"),
                    "entry_to_work": Decimal("8000.00"), "sustained_13": Decimal("6000.00")}
    rate = [s for s in _line(doc, "qualification/P1/m12")["trace"] if s.get("name") == "rate"]
    assert rate and rate[0]["value"] == "9000" and "prices.price[qualification]" in rate[0]["expr"]


def test_a_higher_qualification_replaces_the_lower_ones(contract, tmp_path):
    b = LedgerBuilder()
    _participant(b, 1, "2025-02-01", level="level2")
    _participant(b, 2, "2025-02-01", level="entry_level")
    _participant(b, 3, "2025-02-01", level="none")
    doc = _settle(contract, b, tmp_path)
    assert _line(doc, "qualification/P1/m12")["amount"] == "33000.00"
    assert _line(doc, "qualification/P2/m12")["amount"] == "6000.00"
    assert _line(doc, "qualification/P3/m12")["amount"] == "0.00"
    assert len([ln for ln in doc["lines"] if ln["goal"] == "qualification" and ln["subject"] == "P1"]) == 1


def test_the_maximum_per_participant_cuts_across_outcomes_in_date_order(contract, tmp_path):
    b = LedgerBuilder()
    # 4,000 at m6, then 33,000 + 8,000 + 6,000 + 6,000 at m12 = 57,000 > 40,000.
    _participant(b, 1, "2025-02-01", attendance=True, level="level2", weeks=30)
    _participant(b, 2, "2025-02-01", attendance=True, level="level2", weeks=30)
    doc = _settle(contract, b, tmp_path)
    for pid in ("P1", "P2"):
        lines = [ln for ln in doc["lines"] if ln["subject"] == pid]
        assert sum(Decimal(ln["amount"]) for ln in lines) == Decimal("40000.00")
        # Lines meet the cap by date, then goal order: attendance, qualification, entry_to_work, sustained_13, …
        assert [ln["amount"] for ln in lines] == ["4000.00", "33000.00", "3000.00", "0.00", "0.00"]
        cut = _line(doc, f"entry_to_work/{pid}/m12")
        step = next(s for s in cut["trace"] if s["kind"] == "cap")
        assert (step["cap"], step["per"], step["period"], step["running_before"]) == ("Kommunen", "subject", pid,
                                                                                      "37000.00")
    assert doc["totals"]["by_recipient"] == {"Investor": "80000.00"}


def test_a_participant_without_a_row_is_not_paid_and_not_imputed(contract, tmp_path):
    b = LedgerBuilder()
    _participant(b, 1, "2025-02-01", attendance=True)
    doc = _settle(contract, b, tmp_path)
    assert [ln["goal"] for ln in doc["lines"]] == ["attendance"]
    reasons = {(e["goal"], e["reason"]) for e in doc["exclusions"] if e["subject"] == "P1"}
    assert ("qualification", "missing_not_replaced") in reasons
    assert doc["totals"]["imputed"]["qualification"] == 0


def test_sample_ledger_totals_add_up(contract):
    doc = settle(contract, load_ledger(CONTRACT.parent / "ledger", contract), trace=False)
    by_subject: dict[str, Decimal] = {}
    for ln in doc["lines"]:
        by_subject[ln["subject"]] = by_subject.get(ln["subject"], Decimal(0)) + Decimal(ln["amount"])
    assert max(by_subject.values()) <= Decimal(40000)
    assert sum(by_subject.values()) == Decimal(doc["totals"]["pool"]) == Decimal(doc["totals"]["by_recipient"]["Investor"])
