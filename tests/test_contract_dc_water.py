"""DC Water's environmental impact bond (contracts/examples/dc-water): the settlement against the bond's terms,
computed here in plain Python — nine half-yearly coupons of 3.43 % / 2 on $25m, the principal at the tender,
and $3.3m more above a 41.3 % runoff reduction, $3.3m back below 18.6 %, nothing between — for a reduction in
each tier; and the investors' IRR and multiple from those flows."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang.cli import main

from .ledgers import plus_months

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "contracts" / "examples" / "dc-water"
CLOSING = dt.date(2016, 9, 29)


def _generate(out: Path, reduction: str) -> Path:
    spec = importlib.util.spec_from_file_location("dc_water_ledger", HERE / "make_ledger.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(out, reduction)
    return out


def _due(day: dt.date) -> dt.date:
    """The end of the month after the half-year (of a year from 1 October) that holds `day`."""
    first = dt.date(day.year, 10, 1) if day.month >= 10 else dt.date(day.year, 4, 1) if day.month >= 4 else \
        dt.date(day.year - 1, 10, 1)
    after = plus_months(first, 7)
    return dt.date(after.year, after.month, 1) - dt.timedelta(days=1)


def by_hand(reduction: Decimal) -> dict:
    coupons = [(plus_months(CLOSING, 6 * k), Decimal(25_000_000) * Decimal("0.0343") / 2) for k in range(1, 10)]
    tender = plus_months(CLOSING, 54)
    tier = 1 if reduction > Decimal("41.3") else -1 if reduction < Decimal("18.6") else 0
    flows = [(CLOSING, Decimal(-25_000_000))] + coupons + [(tender, Decimal(25_000_000)),
                                                           (tender, Decimal(3_300_000) * tier)]
    netted: dict = {}  # the investors' flows, one a day: what they put in, and what they get on each due date
    for day, v in [(CLOSING, Decimal(-25_000_000))] + [(_due(day), v) for day, v in flows[1:]]:
        netted[day] = netted.get(day, Decimal(0)) + v
    return {"goals": {"coupon": sum(v for _, v in coupons), "principal": Decimal(25_000_000),
                      "performance": Decimal(3_300_000) * tier},
            "flows": sorted(netted.items())}


@pytest.mark.parametrize("reduction", ["31.5", "45", "15"])
def test_each_tier_pays_what_the_bond_says(reduction, tmp_path, monkeypatch):
    ledger = HERE / "ledger" if reduction == "31.5" else _generate(tmp_path / "ledger", reduction)
    out = tmp_path / "s.json"
    monkeypatch.chdir(ROOT)
    assert main(["settle", str(HERE / "dc-water.contract"), "--ledger", str(ledger), "--format", "json",
                 "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    hand = by_hand(Decimal(reduction))
    assert {g: Decimal(v) for g, v in doc["totals"]["goals"].items()} == hand["goals"]
    assert Decimal(doc["totals"]["by_recipient"]["Investors"]) == sum(hand["goals"].values())
    figures = {f["id"]: f["value"] for f in doc["reports"]["figures"]}
    flows = hand["flows"]
    invested = -sum(v for _, v in flows if v < 0)
    assert Decimal(figures["investors_multiple"]) == sum(v for _, v in flows if v > 0) / invested
    rate = float(figures["investors_irr"]) / 100
    npv = sum(float(v) / (1 + rate) ** ((day - CLOSING).days / 365) for day, v in flows)
    assert abs(npv) < 1
    expected = {"31.5": (3.0, 3.43), "45": (5.0, 6.5), "15": (0.3, 1.5)}[reduction]
    assert expected[0] < float(figures["investors_irr"]) < expected[1]


def test_the_bundled_settlement_is_the_middle_tier():
    doc = json.loads((HERE / "settlement.json").read_text(encoding="utf-8"))
    assert doc["totals"]["goals"]["performance"] == "0.00"
    assert doc["totals"]["pool"] == f"{25_000_000 + 9 * 428_750}.00"
