"""Amendments (issue 14, item 4): a contract file can be a new version of another (`amends "FILE" effective
DATE`). Each line is settled by the version in force at its date and its trail names the version; the diff of
the two versions on one ledger is what the amendment is worth, computed here by hand from the contract's prose:
Tillæg 1 pays 9,500 DKK instead of 8,600 DKK per employment success from 1 January 2026, under Viborg's return
cap of 6,000,000 DKK on Kommunen's goals."""

from __future__ import annotations

import json
import shutil
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

import contractlang
from contractlang.check import check
from contractlang.cli import main
from contractlang.diff import diff
from contractlang.errors import ContractError
from contractlang.printer import format_contract
from contractlang.yamlform import dump_yaml, load_yaml

ROOT = Path(__file__).resolve().parent.parent
VIBORG = ROOT / "contracts" / "viborg"
AMENDED = VIBORG / "amendment" / "viborg-tillaeg-1.contract"
EFFECTIVE = "2026-01-01"


@pytest.fixture(scope="module")
def settled(tmp_path_factory):
    out = tmp_path_factory.mktemp("amended")
    docs = []
    for name, contract in (("v1", VIBORG / "viborg.contract"), ("v2", AMENDED)):
        path = out / f"{name}.json"
        assert main(["settle", str(contract), "--ledger", str(VIBORG / "ledger"), "--format", "json", "--trails",
                     "-o", str(path)]) == 0
        docs.append(json.loads(path.read_text(encoding="utf-8")))
    return docs


def _cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_the_amended_contract_is_read_with_the_version_it_amends():
    v2 = contractlang.load(AMENDED)
    assert [d for d in check(v2) if d.severity == "error"] == []
    (v1, start1), (last, start2) = v2.versions()
    assert (start1, str(start2), last) == (None, EFFECTIVE, v2)
    assert v1 == contractlang.load(VIBORG / "viborg.contract")
    # Only the price of goal 1 differs, besides the header and the decisions.
    assert [g.id for g in v1.goals if g != v2.goal(g.id)] == ["employment"]
    assert (v1.goal("employment").rate.amount.value, v2.goal("employment").rate.amount.value) == (8600, 9500)
    assert format_contract(v2) == AMENDED.read_text(encoding="utf-8")
    assert load_yaml(dump_yaml(v2), "t.yaml") == v2


def test_each_line_is_settled_by_the_version_in_force_at_its_date(settled):
    v1, v2 = settled
    before = {ln["id"]: ln for ln in v1["lines"]}
    assert [v["version"] for v in v2["versions"]] == [1, 2]
    assert (v2["versions"][0]["until"], v2["versions"][1]["from"]) == (EFFECTIVE, EFFECTIVE)
    paid_after = 0
    for ln in v2["lines"]:
        rule = ln["trace"][0]
        old = before[ln["id"]]
        assert ln["outcome"] == old["outcome"]
        if ln["date"] < EFFECTIVE:
            assert (rule["version"], ln["gross"]) == (1, old["gross"])
            assert rule["rule"] == f"goal:{ln['goal']}@v1" and rule["rule"] in v2["rules"]
        else:
            assert rule["version"] == 2 and rule["rule"] == f"goal:{ln['goal']}"
            if ln["goal"] == "employment":
                assert Decimal(ln["gross"]) == _cents(Decimal(ln["outcome"]) * 9500)
                paid_after += ln["gross"] != "0.00"
            else:
                assert ln["gross"] == old["gross"]
    assert paid_after > 10
    assert "9_500 DKK" in v2["rules"]["goal:employment"] and "8_600 DKK" in v2["rules"]["goal:employment@v1"]


def test_the_diff_of_the_two_versions_is_what_the_amendment_is_worth(settled):
    v1, v2 = settled
    # By hand: each employment success dated from the effective date earns 9,500 instead of 8,600 DKK (each
    # line rounded to øre, Bilag 5.1 2.1); the return cap of 6,000,000 DKK on Kommunen's goals takes what
    # is over it (it did not bind before: v1's cut is 0).
    gross_change = sum((_cents(Decimal(ln["outcome"]) * 9500) - _cents(Decimal(ln["outcome"]) * 8600)
                        for ln in v1["lines"] if ln["goal"] == "employment" and ln["date"] >= EFFECTIVE), Decimal(0))
    assert v1["totals"]["return_cap_cut"] == "0.00"
    kommunen = Decimal(v1["totals"]["by_payer"]["Kommunen"])
    worth = min(Decimal(6_000_000), kommunen + gross_change) - kommunen
    d = diff(v1, v2)
    assert Decimal(d["totals"]["goals"]["employment"]["delta"]) == gross_change
    assert Decimal(d["totals"]["pool"]["delta"]) == worth
    assert Decimal(d["totals"]["payers"]["Kommunen"]["delta"]) == worth
    assert worth < gross_change, "the return cap binds after the amendment"
    assert d["summary"]["unexplained"] == 0
    for ln in d["lines"]:
        kinds = [c["kind"] for c in ln["causes"]]
        assert ln["date"] >= EFFECTIVE or "return_cap" in kinds or "tranche" in kinds, ln["id"]
        if ln["goal"] == "employment" and ln["date"] >= EFFECTIVE and ln["gross"]["delta"] != "0.00":
            rate = next(c for c in ln["causes"] if c["kind"] == "rate")
            assert (rate["old"], rate["new"]) == ("8600.00", "9500.00")


def test_verify_reruns_an_amended_settlement(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "v2.json"
    assert main(["settle", str(AMENDED.relative_to(ROOT)), "--ledger", "contracts/viborg/ledger", "--format", "json",
                 "-o", str(out)]) == 0
    assert main(["verify", str(out)]) == 0
    assert "identical" in capsys.readouterr().out


def _amendment(tmp_path: Path, edit, name: str = "v2.contract", amends: str = "v1.contract") -> Path:
    shutil.copy(VIBORG / "viborg.contract", tmp_path / "v1.contract")
    text = AMENDED.read_text(encoding="utf-8").replace('amends "../viborg.contract"', f'amends "{amends}"')
    (tmp_path / name).write_text(edit(text), encoding="utf-8")
    return tmp_path / name


@pytest.mark.parametrize("edit, code, words", [
    (lambda s: s.replace("measure life_satisfaction person integer 0 to 10", "measure life_satisfaction person integer 0 to 5"),
     "CL026", "cannot change the measures"),
    (lambda s: s.replace('party LBF "Landsbyggefonden"', 'party LBF "LBF"'), "CL026", "cannot change the parties"),
    (lambda s: (s[:s.index('goal action_plans')] + s[s.index('cap school_absence'):]).replace(", action_plans §", " §"),
     "CL026", "keeps the goals of the version it amends; action_plans is not here"),
    (lambda s: s.replace("periods half-yearly", "periods quarterly"), "CL026", "cannot change the settlement block"),
])
def test_an_amendment_changes_only_what_a_version_may(tmp_path, edit, code, words):
    found = [d for d in check(contractlang.load(_amendment(tmp_path, edit))) if d.severity == "error"]
    assert [d.code for d in found] == [code] and words in found[0].message
    assert found[0].span.line == 9  # the `amends` line


def test_an_amendment_takes_effect_after_the_version_it_amends(tmp_path):
    _amendment(tmp_path, lambda s: s)
    v3 = _amendment(tmp_path, lambda s: s.replace("effective 2026-01-01", "effective 2025-06-30"), "v3.contract",
                    "v2.contract")
    [found] = [d for d in check(contractlang.load(v3)) if d.severity == "error"]
    assert found.code == "CL013" and "not after the version it amends (in effect from 2026-01-01)" in found.message


@pytest.mark.parametrize("amends, words", [("nowhere.contract", "which is not a file"),
                                           ("v2.contract", "which is itself or a later version of it")])
def test_an_amended_file_that_cannot_be_read_is_a_located_error(tmp_path, amends, words):
    path = _amendment(tmp_path, lambda s: s, amends=amends)
    with pytest.raises(ContractError) as caught:
        contractlang.load(path)
    first = caught.value.diagnostics[0]
    assert first.code == "CL002" and words in first.message and (first.span.file, first.span.line) == (str(path), 9)
