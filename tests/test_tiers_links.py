"""Tiered prices by order of achievement and links between a subject's lines (issue 13, items 3 and 4), settled
and checked against a plain computation of the contract's words: the first 100 jobs of the goal at 2,000, the
next 200 at 1,500, beyond at 1,000 (in the order of the lines); a job only after a paid certificate; a
certificate once per person; a diploma replacing a certificate, paying the difference."""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang import engine, evaluate
from contractlang.check import check
from contractlang.engine import Unsupported
from contractlang.ledger import load_ledger
from contractlang.parse import parse_text
from contractlang.render import render, render_line

CONTRACT = """contract boot "Bootcamp bond"
currency GBP
party Council "Council" payer
party Fund "Fund" funder
point m3 = start + 3 months
point m6 = start + 6 months
measure certified person boolean at m3
measure diploma person boolean at m6
measure hired person boolean at m6
goal certificate "Certificate" {
  payer Council
  subjects persons
  points m3
  outcome certified
  pay 1_000 GBP per success
  once per subject
  missing none
}
goal diploma "Diploma" {
  payer Council
  subjects persons
  points m6
  outcome diploma
  pay 2_500 GBP per success
  replaces certificate § "3.1"
  missing none
}
goal job "Job" {
  payer Council
  subjects persons
  points m6
  outcome hired
  pay 2_000 GBP per success
  tiers § "Schedule 2" {
    beyond 100: 1_500 GBP
    beyond 300: 1_000 GBP
  }
  requires certificate § "2.3"
  missing none
}
settlement {
  periods quarterly
  due end of following quarter
  order lines by date, goal, subject
}
"""
AS_OF = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    rng = random.Random(13)
    d = tmp_path_factory.mktemp("boot") / "ledger"
    d.mkdir()
    rows = {"households.csv": [("household_id", "group", "start_date", "end_date", "end_reason", "replaces", "cohort")],
            "persons.csv": [("person_id", "household_id", "birth_date", "school_grade")],
            "measurements.csv": [("subject_id", "measure", "point", "date", "value")]}
    for i in range(1, 801):
        start = dt.date(2024, 1 + i % 12, 1 + i % 28)
        rows["households.csv"].append((f"H{i:04d}", "intervention", start.isoformat(), "", "", "", ""))
        rows["persons.csv"].append((f"P{i:04d}", f"H{i:04d}", "1998-03-03", ""))
        for measure, point, chance in (("certified", "m3", 0.7), ("diploma", "m6", 0.3), ("hired", "m6", 0.65)):
            rows["measurements.csv"].append((f"P{i:04d}", measure, point, "", str(rng.random() < chance).lower()))
    for name, table in rows.items():
        with (d / name).open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(table)
    return d


def _settle(ledger, trace=True):
    contract = parse_text(CONTRACT, "boot.contract")
    assert [x for x in check(contract) if x.severity == "error"] == []
    return evaluate.settle(contract, load_ledger(ledger, contract), AS_OF, trace=trace)


def _by_hand(ledger: Path) -> dict:
    """The contract's words, in plain Python: lines in order of date, goal, subject."""
    start = {r["household_id"]: dt.date.fromisoformat(r["start_date"])
             for r in csv.DictReader((ledger / "households.csv").open(encoding="utf-8"))}
    value = {(r["subject_id"], r["measure"]): r["value"] == "true"
             for r in csv.DictReader((ledger / "measurements.csv").open(encoding="utf-8"))}

    def months(day, n):
        m = day.month - 1 + n
        return dt.date(day.year + m // 12, m % 12 + 1, day.day)
    events = []
    for h, day in start.items():
        p = "P" + h[1:]
        for order, (goal, measure, n) in enumerate((("certificate", "certified", 3), ("diploma", "diploma", 6),
                                                    ("job", "hired", 6))):
            if months(day, n) <= AS_OF:
                events.append((months(day, n), order, p, goal, value[(p, measure)]))
    events.sort()
    paid, jobs, total = defaultdict(Decimal), 0, defaultdict(Decimal)
    for _, _, p, goal, ok in events:
        if goal == "certificate":
            if paid[("certificate", p)] == 0 and ok:  # once per person
                paid[("certificate", p)] = Decimal(1000)
        elif goal == "diploma":
            if ok:  # a diploma replaces the certificate: the difference
                paid[("diploma", p)] = max(Decimal(2500) - paid[("certificate", p)], Decimal(0))
        elif paid[("certificate", p)] > 0 and ok:  # a job only after a paid certificate, by order of achievement
            jobs += 1
            paid[("job", p)] = Decimal(2000 if jobs <= 100 else 1500 if jobs <= 300 else 1000)
    for (goal, _), v in paid.items():
        total[goal] += v
    return {"goals": {g: f"{total[g]:.2f}" for g in ("certificate", "diploma", "job")}, "jobs": jobs}


def test_the_settlement_is_the_contracts_words_computed_by_hand(ledger):
    doc = _settle(ledger, trace=False)
    hand = _by_hand(ledger)
    assert doc["totals"]["goals"] == hand["goals"]
    assert hand["jobs"] > 300, "the ledger reaches the third tier"
    reasons = {e["reason"] for e in doc["exclusions"]}
    assert {"prerequisite_unpaid"} <= reasons


def test_a_line_crossing_no_tier_and_the_tiers_in_its_trail(ledger):
    doc = _settle(ledger)
    jobs = [ln for ln in doc["lines"] if ln["goal"] == "job" and ln["gross"] != "0.00"]
    hundred_first = jobs[100]  # the 101st paid job: the second tier
    step = next(s for s in hundred_first["trace"] if s["kind"] == "tiers")
    assert (step["units_before"], step["parts"]) == ("100", [{"beyond": "100", "upto": "300", "units": "1",
                                                               "price": "1500.00"}])
    text = render_line(doc, hundred_first["id"], "en")
    assert "Tiered price (§ Schedule 2): 100 units of goal job came before this line's 1; 1 at £1,500.00 " \
           "(beyond 100, up to 300) = 1,500." in text
    assert "Pris efter trin (§ Schedule 2): 100 enheder af mål job er talt før denne linjes 1" in \
        render_line(doc, hundred_first["id"], "da")
    diploma = next(ln for ln in doc["lines"] if ln["goal"] == "diploma" and ln["gross"] == "1500.00")
    assert "Replaces goal certificate (§ 3.1): £1,000.00 was paid for it, so the line pays £2,500.00 − £1,000.00 = " \
           "£1,500.00" in render_line(doc, diploma["id"], "en")


def test_lines_left_out_by_a_link_are_accounted_for_with_their_reason(ledger):
    doc = _settle(ledger, trace=False)
    out = [e for e in doc["exclusions"] if e["reason"] == "prerequisite_unpaid"]
    assert out and all(e["goal"] == "job" and e["facts"] == {"requires": "certificate"} for e in out)
    md = render(doc, "md", "da")
    assert "kræver en betalt linje for `certificate` før den, og deltageren har ingen" in md


def test_the_engine_hands_such_a_contract_to_the_interpreter(ledger):
    contract = parse_text(CONTRACT, "boot.contract")
    with pytest.raises(Unsupported):
        engine.settle(contract, load_ledger(ledger, contract), AS_OF)


def test_a_marginal_price_splits_a_line_that_crosses_a_tier():
    from contractlang import model as m
    from contractlang.evaluate import _Settler
    from contractlang.evaluate_order import _price

    class S(_Settler):  # a settler of no ledger: only its line rounding
        def __init__(self):
            self.roundings = {"line": m.Rounding(id="line", places=2, mode="half_up")}
    goal = parse_text(CONTRACT, "boot.contract").goal("job")
    units = {"job": Decimal("99.5")}
    line = {"outcome": Decimal("1.5"), "trace": []}
    _price(S(), goal, line, units)
    assert line["gross"] == Decimal("0.5") * 2000 + 1 * 1500 and units["job"] == 101
    parts = line["trace"][0]["parts"]
    assert [(p["units"], p["price"]) for p in parts] == [("0.5", "2000.00"), ("1", "1500.00")]


@pytest.mark.parametrize("edit, code, words", [
    (lambda s: s.replace("  requires certificate", "  requires certficate"), "CL010", "names the goal 'certficate'"),
    (lambda s: s.replace("beyond 300", "beyond 50"), "CL013", "must begin beyond the one before it (100)"),
    (lambda s: s.replace("pay 2_000 GBP per success\n  tiers", "pay 2_000 GBP * 1 per success\n  tiers"), "CL013",
     "has tiers, which continue a stated price"),
    (lambda s: s.replace("  replaces certificate", "  replaces certificate, job"), "CL013", "replaces one goal, not 2"),
    (lambda s: s.replace("  once per subject", "  requires job"), "CL013", "requires itself through other goals"),
    (lambda s: s.replace("beyond 100: 1_500 GBP", "beyond 100: 1_500 DKK"), "CL012", "every amount of this contract is in its currency, GBP"),
])
def test_tiers_and_links_are_checked(edit, code, words):
    found = [d for d in check(parse_text(edit(CONTRACT), "boot.contract")) if d.severity == "error"]
    assert any(d.code == code and words in d.message for d in found), [(d.code, d.message) for d in found]


def test_a_diff_puts_a_moved_tier_down_to_the_lines_before_it(ledger, tmp_path):
    from contractlang.diff import diff
    from contractlang.render_diff import cause_text
    from contractlang.i18n import Formatter

    before = _settle(ledger)
    changed = tmp_path / "ledger"
    changed.mkdir()
    for name in ("households.csv", "persons.csv"):
        (changed / name).write_text((ledger / name).read_text(encoding="utf-8"), encoding="utf-8")
    rows = (ledger / "measurements.csv").read_text(encoding="utf-8").splitlines()
    first = next(i for i, r in enumerate(rows) if ",hired,m6,," in r and r.endswith(",false"))  # one more early job
    rows[first] = rows[first][:-len("false")] + "true"
    (changed / "measurements.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    d = diff(json_round_trip(before), json_round_trip(_settle(changed)))
    kinds = d["summary"]["causes"]
    assert d["summary"]["unexplained"] == 0 and kinds.get("tier", 0) > 0
    tiers = [c for ln in d["lines"] for c in ln["causes"] if c["kind"] == "tier"]
    # Every job paid after the new one comes one unit later in the tiers (and the one itself is priced now).
    moved = [c for c in tiers if c["new_units_before"] != c["old_units_before"]]
    assert moved and all(Decimal(c["new_units_before"]) == Decimal(c["old_units_before"]) + 1 for c in moved)
    tier = moved[0]
    assert "units of job before the line, was" in cause_text(tier, Formatter("en", "GBP"))


def json_round_trip(doc: dict) -> dict:
    import json
    return json.loads(json.dumps(doc, default=str))
