"""Payments made and adjustments (issue 14, item 2): the Viborg sample ledger in three deliveries
(contracts/viborg/deliveries), a payments.csv for the first two settlements, and the series settled under each
rule for paid periods. The adjustments are exactly the entitlement deltas, nothing is paid twice, a locked
period never changes; every payment row is accounted for, and bad rows are refused where they are."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang import engine, evaluate
from contractlang.account import attach
from contractlang.cli import main
from contractlang.errors import LedgerError
from contractlang.ledger import load_ledger
from contractlang.parse import parse_text

ROOT = Path(__file__).resolve().parent.parent
SERIES = ROOT / "contracts" / "viborg" / "deliveries"
CONTRACT = ROOT / "contracts" / "viborg" / "viborg.contract"
RULE = "adjust paid periods once on 2028-10-31"
DATES = ("2025-01-31", "2026-01-31", "2028-12-31")  # the three deliveries, each settled as of its own date


def _make_payments():
    spec = importlib.util.spec_from_file_location("make_payments", SERIES / "make_payments.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _series(tmp: Path, rule: str) -> list[dict]:
    """The contract with `rule` for paid periods, its payments.csv made by the series, and the three settlements
    (each with trails, on the one before it)."""
    text = CONTRACT.read_text(encoding="utf-8")
    assert RULE in text
    contract = tmp / "viborg.contract"
    contract.write_text(text.replace(RULE, rule), encoding="utf-8")
    ledger = tmp / "ledger"
    shutil.copytree(SERIES / "ledger", ledger)
    _make_payments().payments(contract, ledger)
    docs, previous = [], []
    for day in DATES:
        out = tmp / f"{day}.json"
        assert main(["settle", str(contract), "--ledger", str(ledger), "--as-of", day, "--known-as-of", day,
                     "--format", "json", "--trails", "-o", str(out), *previous]) == 0
        docs.append(json.loads(out.read_text(encoding="utf-8")))
        previous = ["--previous", str(out)]
    return docs


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    made = {}

    def get(rule: str) -> list[dict]:
        if rule not in made:
            made[rule] = _series(tmp_path_factory.mktemp("series"), rule)
        return made[rule]
    return get


def _periods(doc: dict) -> dict[tuple, dict]:
    return {(p["period"], p["payer"], p["recipient"]): p for p in doc["account"]["periods"]}


def _d(text) -> Decimal:
    return Decimal(text)


def test_the_bundled_payments_are_what_the_series_pays(tmp_path):
    ledger = tmp_path / "ledger"
    shutil.copytree(SERIES / "ledger", ledger)
    made = _make_payments().payments(CONTRACT, ledger)
    assert made == (SERIES / "ledger" / "payments.csv").read_text(encoding="utf-8")
    assert made.count("\n") > 5


def test_trued_up_at_each_settlement_the_adjustments_are_the_entitlement_deltas(series):
    first, second, final = series("adjust paid periods at each settlement")
    paid_first = {k: p for k, p in _periods(first).items() if p["to_pay"] != "0.00"}
    assert paid_first, "the first settlement pays the ended periods"
    now = _periods(second)
    moved_some = False
    for key, before in paid_first.items():
        p = now[key]
        assert p["status"] == "trued_up"
        assert _d(p["paid"]) == _d(before["to_pay"])
        # The adjustment is the entitlement's delta since the settlement the payment was made on.
        assert _d(p["to_pay"]) == _d(p["entitlement"]) - _d(before["entitlement"])
        adjustment = next((a for a in second["account"]["adjustments"] if a["id"] == "adjustment/{}/{}/{}".format(*key)),
                          None)
        if p["to_pay"] == "0.00":
            assert adjustment is None
            continue
        moved_some = True
        moved = [s for s in adjustment["trace"] if s["kind"] == "moved"]
        assert moved, "the trail names the lines whose shares moved"
        assert sum(_d(s["now"] or 0) - _d(s["was"] or 0) for s in moved) == _d(adjustment["amount"])
        lines = {ln["id"]: ln for ln in second["lines"]}
        for s in moved:
            assert s["now"] is None or lines[s["line"]]["split"][key[2]] == s["now"]
        assert [s["kind"] for s in adjustment["trace"]][-1] == "adjust"
        assert {s["line"] for s in adjustment["trace"] if s["kind"] == "paid"} == set(p["payments"])
    assert moved_some, "the second delivery moves a paid period"
    # Nothing is paid twice: at the end, what was paid and what is to be paid make each period's entitlement.
    for key, p in _periods(final).items():
        if p["status"] != "running":
            assert _d(p["paid"]) + _d(p["to_pay"]) == _d(p["entitlement"]), key
    totals = final["account"]["totals"]
    assert _d(totals["paid"]) + _d(totals["to_pay"]) + _d(totals["unsettled"]) == _d(totals["entitlement"])
    assert _d(totals["entitlement"]) == _d(final["totals"]["pool"])


def test_a_locked_period_never_changes(series):
    first, second, final = series("adjust paid periods until due + 6 months")
    # 2024-H2 is due 2025-03-31 and locked after 2025-09-30; paid after the first settlement.
    locked = {k: p for k, p in _periods(first).items() if k[0] == "2024-H2"}
    assert locked and all(p["status"] == "unpaid" for p in locked.values())
    moved = 0
    for doc in (second, final):
        for key, before in locked.items():
            p = _periods(doc)[key]
            assert (p["status"], p["date"], p["to_pay"]) == ("locked", "2025-09-30", "0.00")
            assert p["paid"] == before["to_pay"]  # what counts for the period is what was paid for it
            assert _d(p["unsettled"]) == _d(p["entitlement"]) - _d(p["paid"])
            moved += p["unsettled"] != "0.00"
    assert moved, "later deliveries move the locked period's entitlement; it is not adjusted"
    # 2025-H1 (due 2025-09-30, locked after 2026-03-31) is paid at the second settlement, locked at the third.
    h1 = {k: p for k, p in _periods(final).items() if k[0] == "2025-H1"}
    assert h1 and all(p["status"] == "locked" for p in h1.values())
    assert all(p["paid"] == _periods(second)[k]["to_pay"] for k, p in h1.items())


def test_reconciled_once_paid_periods_wait_for_the_reconciliation(series):
    first, second, final = series(RULE)
    for key, p in _periods(second).items():
        if key[0] == "2024-H2":
            assert (p["status"], p["to_pay"], p["date"]) == ("awaiting", "0.00", "2028-10-31")
            assert _d(p["unsettled"]) == _d(p["entitlement"]) - _d(p["paid"])
    for key, p in _periods(final).items():
        if p["paid"] != "0.00":
            assert p["status"] == "reconciled"
            assert _d(p["to_pay"]) == _d(p["entitlement"]) - _d(p["paid"])
    assert any(a["amount"].startswith("-") for a in final["account"]["adjustments"]), "money paid back"


def test_every_payment_row_is_accounted_for(series):
    first, second, final = series(RULE)
    total = (SERIES / "ledger" / "payments.csv").read_text(encoding="utf-8").count("\n") - 1
    for doc in (first, second, final):
        rows = doc["rows"]["payments.csv"]
        later = doc["account"]["later"]
        used = {line for p in doc["account"]["periods"] for line in p["payments"]}
        assert rows == {"total": total, "used": len(used), "excluded": len(later)}
        assert used.isdisjoint(r["line"] for r in later) and len(used) + len(later) == total
        assert all(r["reason"] == "paid_after" and r["paid_on"] > doc["as_of"] for r in later)
    assert len(first["account"]["later"]) == total  # nothing was paid before the first settlement


def test_both_evaluators_keep_the_same_account():
    contract = parse_text(CONTRACT.read_text(encoding="utf-8"), str(CONTRACT))
    day = dt.date(2026, 1, 31)
    data = load_ledger(SERIES / "ledger", contract, day)
    columns = engine.settle(contract, data, day).document()
    rows = evaluate.settle(contract, data, day, trace=False)
    for doc in (columns, rows):
        attach(doc, contract, data)
    assert json.dumps(columns["account"], sort_keys=True) == json.dumps(rows["account"], sort_keys=True)
    assert columns["rows"]["payments.csv"] == rows["rows"]["payments.csv"]


def test_verify_reruns_with_the_previous_settlement(series, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the settlements record their inputs relative to where they are settled
    _series(tmp_path, "adjust paid periods at each settlement")
    assert main(["verify", "2026-01-31.json"]) == 0
    assert "identical" in capsys.readouterr().out


SMALL = """contract t
currency DKK
party K "K" payer
party F "F" funder
point m1 = start + 1 months
measure ok person boolean at m1
goal g {
  payer K
  subjects persons
  points m1
  outcome ok
  pay 100 DKK per success
  missing none
}
settlement {
  periods half-yearly
  due end of following quarter
  order lines by date
RULE}
"""


def _small_ledger(tmp_path: Path, payments: str) -> Path:
    d = tmp_path / "ledger"
    d.mkdir()
    (d / "households.csv").write_text("household_id,group,start_date,end_date,end_reason,replaces,cohort\n"
                                      "H1,intervention,2024-01-01,,,,\n", encoding="utf-8")
    (d / "persons.csv").write_text("person_id,household_id,birth_date,school_grade\nP1,H1,1990-01-01,\n",
                                   encoding="utf-8")
    (d / "measurements.csv").write_text("subject_id,measure,point,date,value\nP1,ok,m1,2024-02-01,true\n",
                                        encoding="utf-8")
    (d / "payments.csv").write_text(payments, encoding="utf-8")
    return d


def test_bad_payment_rows_are_refused_where_they_are(tmp_path):
    contract = parse_text(SMALL.replace("RULE", "  adjust paid periods at each settlement\n"), "t.contract")
    d = _small_ledger(tmp_path, "period,payer,recipient,amount,paid_on,reference\n"
                                "2024-H1,K,F,100.00,2024-09-30,ok\n"
                                "2024-Q1,K,F,1,2024-09-30,\n"
                                "2024-H1,Kx,F,1,2024-09-30,\n"
                                "2024-H1,K,K,1,2024-09-30,\n"
                                "2024-H1,K,F,1.005,2024-09-30,\n"
                                "2024-H1,K,F,1,30-09-2024,\n")
    with pytest.raises(LedgerError) as caught:
        load_ledger(d, contract)
    found = [(x.span.line, x.span.column, x.code, x.message) for x in caught.value.diagnostics]
    assert [(line, col, code) for line, col, code, _ in found] == [
        (3, 1, "CL042"), (4, 9, "CL044"), (5, 11, "CL044"), (6, 13, "CL042"), (7, 15, "CL041")]
    assert "period '2024-Q1' is not a period of the contract's settlement (half-yearly, named like 2024-H2)" in found[0][3]
    assert "payer 'Kx' is not a party that pays a goal (K)" in found[1][3]
    assert "recipient 'K' is not a party that receives a share of the payments (F)" in found[2][3]


def test_payments_need_the_contracts_rule_for_paid_periods(tmp_path):
    contract = parse_text(SMALL.replace("RULE", ""), "t.contract")
    d = _small_ledger(tmp_path, "period,payer,recipient,amount,paid_on,reference\n")
    with pytest.raises(LedgerError) as caught:
        load_ledger(d, contract)
    [problem] = caught.value.diagnostics
    assert problem.code == "CL044" and "does not say how a paid period is adjusted" in problem.message


def test_money_paid_for_a_period_with_no_entitlement_is_paid_back(tmp_path):
    contract = parse_text(SMALL.replace("RULE", "  adjust paid periods at each settlement\n"), "t.contract")
    d = _small_ledger(tmp_path, "period,payer,recipient,amount,paid_on,reference\n"
                                "2024-H1,K,F,100.00,2024-09-30,first\n"
                                "2023-H2,K,F,50,2024-01-15,by mistake\n"
                                "2024-H1,K,F,20.50,2025-01-15,after\n")
    day = dt.date(2024, 12, 31)
    data = load_ledger(d, contract, day)
    doc = evaluate.settle(contract, data, day, trace=False)
    attach(doc, contract, data)
    periods = _periods(doc)
    assert periods[("2024-H1", "K", "F")] | {} == {**periods[("2024-H1", "K", "F")], "entitlement": "100.00",
                                                  "paid": "100.00", "to_pay": "0.00", "status": "trued_up"}
    assert (periods[("2023-H2", "K", "F")]["to_pay"], periods[("2023-H2", "K", "F")]["entitlement"]) == ("-50.00", "0.00")
    assert doc["account"]["later"] == [{"line": 4, "period": "2024-H1", "payer": "K", "recipient": "F",
                                        "amount": "20.50", "paid_on": "2025-01-15", "reference": "after",
                                        "reason": "paid_after", "facts": {"as_of": "2024-12-31"}}]
    assert doc["account"]["totals"]["to_pay_by"] == {"K": {"F": "-50.00"}}


@pytest.mark.parametrize("rule", ["adjust paid periods at each settlement", "adjust paid periods until 2026-06-30",
                                  "adjust paid periods until due + 12 months § \"4.2\"",
                                  "adjust paid periods once on 2028-10-31"])
def test_each_rule_is_written_back_as_it_was_read_in_both_forms_and_languages(rule):
    from contractlang.printer import format_contract
    from contractlang.yamlform import dump_yaml, load_yaml

    text = SMALL.replace("RULE", f"  {rule}\n")
    contract = parse_text(text, "t.contract")
    assert f"  {rule}\n" in format_contract(contract, "en")
    assert parse_text(format_contract(contract, "da"), "t.contract") == contract
    assert load_yaml(dump_yaml(contract), "t.yaml") == contract


def test_explain_gives_an_adjustments_trail(series, tmp_path, capsys):
    _series(tmp_path, "adjust paid periods at each settlement")
    args = ["explain", str(tmp_path / "viborg.contract"), "--ledger", str(tmp_path / "ledger"), "--as-of", "2026-01-31",
            "--known-as-of", "2026-01-31", "--previous", str(tmp_path / "2025-01-31.json")]
    capsys.readouterr()
    assert main([*args, "adjustment/2024-H2/Kommunen/DSI"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Adjustment adjustment/2024-H2/Kommunen/DSI\n")
    assert "Entitlement for 2024-H2 from Kommunen to DSI" in text and "at the previous settlement, now" in text
    assert "Trued up at each settlement" in text and "(payments.csv line 2, reference settlement 2025-01-31)" in text
    assert main([*args, "adjustment/2024-H2/Kommunen/DSX"]) == 1
    assert "did you mean adjustment/2024-H2/Kommunen/DSI" in capsys.readouterr().err
