"""Investor returns (issue 13, item 10): a party's cash flows — what it invests (its disbursement instalments)
and what it is repaid (its shares of each period's lines, on the period's due date) — and its IRR and money
multiple as figures, checked against the definitions worked out here."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from contractlang import returns
from contractlang.check import check
from contractlang.cli import main
from contractlang.parse import parse_text

ROOT = Path(__file__).resolve().parents[1]
D = dt.date


@pytest.mark.parametrize("flows, expected", [
    ([(D(2023, 1, 1), Decimal(-100)), (D(2024, 1, 1), Decimal(110))], Decimal("10.00000000")),
    # 60 / (1 + r) + 60 / (1 + r)^2 = 100 at whole years (ACT/365: 2021 and 2022 have 365 days each).
    ([(D(2021, 1, 1), Decimal(-100)), (D(2022, 1, 1), Decimal(60)), (D(2023, 1, 1), Decimal(60))],
     Decimal(str(round((1 / ((-60 + math.sqrt(60 ** 2 + 4 * 60 * 100)) / 120) - 1) * 100, 8)))),
])
def test_the_irr_is_the_rate_at_which_the_flows_are_worth_nothing(flows, expected):
    assert returns.irr(flows) == expected


def test_flows_that_do_not_change_sign_have_no_irr():
    assert returns.irr([(D(2023, 1, 1), Decimal(100))]) is None
    assert returns.multiple([(D(2023, 1, 1), Decimal(100))]) is None


def test_viborg_funders_return_from_the_settlement(tmp_path, monkeypatch):
    text = (ROOT / "contracts" / "viborg" / "viborg.contract").read_text(encoding="utf-8")
    text += '\nfigure dsi_irr "DSI\'s internal rate of return (per cent a year)" = irr(DSI)\n'
    text += 'figure dsi_multiple "DSI\'s money multiple" = multiple(DSI)\n'
    (tmp_path / "v.contract").write_text(text, encoding="utf-8")
    assert [d for d in check(parse_text(text, "v.contract")) if d.severity == "error"] == []
    out = tmp_path / "s.json"
    assert main(["settle", str(tmp_path / "v.contract"), "--ledger", str(ROOT / "contracts" / "viborg" / "ledger"),
                 "--format", "json", "-o", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    figures = {f["id"]: f["value"] for f in doc["reports"]["figures"]}
    # By hand: DSI invests 1,304,167 DKK on 1 November 2023, 2024 and 2025 (Bilag 3.2) and is repaid its share
    # of each half-year on the period's due date.
    flows = [(D(y, 11, 1), Decimal(-1_304_167)) for y in (2023, 2024, 2025)]
    flows += [(dt.date.fromisoformat(p["due"]), Decimal(p["by_recipient"]["DSI"])) for p in doc["periods"]
              if p["by_recipient"].get("DSI", "0.00") != "0.00"]
    flows.sort()
    repaid = sum(v for _, v in flows if v > 0)
    exact = Fraction(repaid) / (3 * 1_304_167)
    assert abs(Fraction(Decimal(figures["dsi_multiple"])) - exact) < Fraction(1, 10 ** 45)  # (50 digits shown)
    rate = Decimal(figures["dsi_irr"]) / 100
    first = flows[0][0]
    npv = sum(float(v) / (1 + float(rate)) ** ((day - first).days / 365) for day, v in flows)
    assert abs(npv) < 1  # DKK: the rate to 8 places of a per cent leaves less than a krone
    assert Decimal(0) < rate < Decimal("0.2")
