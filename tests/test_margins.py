"""How far each settlement is from every threshold that decides money or a target (issue 14, item 6),
checked against the same margins worked out again here from the lines and the metrics."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang import load
from contractlang.render import render

ROOT = Path(__file__).resolve().parents[1]
SETTLEMENTS = sorted((ROOT / "contracts").rglob("settlement.json"))
D = Decimal


def _expected(doc: dict) -> list[dict]:
    lines, out = doc["lines"], []
    for g in doc["goals"]:
        if g["cap"] is not None:
            reached = sum((D(ln["after_goal_cap"]) for ln in lines if ln["goal"] == g["id"]), D(0))
            out.append({"kind": "goal_cap", "goal": g["id"], "limit": D(g["cap"]), "reached": reached,
                        "remaining": max(D(g["cap"]) - reached, D(0))})
    contract = load(ROOT / doc["inputs"]["contract"]["path"])
    goal_ids = {g.id for g in contract.goals}
    for cap in (c for c in contract.caps if c.per is not None):
        # Each bundled contract with such a cap has no other cap after it: what it let through is after_goal_cap.
        on = "goal" if cap.goal in goal_ids else "payer"
        reached = defaultdict(D)
        for ln in lines:
            if ln[on] == cap.goal:
                reached[ln["subject"] if cap.per == "subject" else ln["date"][:4]] += D(ln["after_goal_cap"])
        head = {"cap": cap.goal, "on": on, "limit": cap.amount.value}
        if cap.per != "subject":
            out += [{"kind": "cap_per_year", **head, "year": y, "reached": v, "remaining": max(cap.amount.value - v, D(0))}
                    for y, v in sorted(reached.items())]
            continue
        below = sorted((cap.amount.value - v, sid) for sid, v in reached.items() if v < cap.amount.value)
        out.append({"kind": "cap_per_subject", **head, "subjects": len(reached),
                    "bound": sum(1 for v in reached.values() if v >= cap.amount.value),
                    "nearest": [{"subject": sid, "reached": str(reached[sid]), "remaining": str(left)}
                                for left, sid in below[:3]]})
    rc = doc["return_cap"]
    if rc:
        reached = sum((D(ln["amount"]) for ln in lines if ln["payer"] == rc["payer"] and ln["goal"] in rc["goals"]), D(0))
        cut = sum((D(ln["after_goal_cap"]) - D(ln["amount"]) for ln in lines), D(0))
        out.append({"kind": "return_cap", "payer": rc["payer"], "limit": D(rc["limit"]), "reached": reached,
                    "remaining": max(D(rc["limit"]) - reached, D(0)), "cut": cut})
    pool = sum((D(ln["amount"]) for ln in lines), D(0))
    for t in doc["tranches"]:
        if t["until"] is not None:
            out.append({"kind": "tranche", "tranche": t["number"], "until": D(t["until"]), "reached": pool,
                        "remaining": max(D(t["until"]) - pool, D(0))})
    for x in doc["reports"]["metrics"]:
        if x.get("target") is not None:
            observed = x["subjects"] - x["missing"]
            more = 0
            while (x["count"] + more) * 100 < D(x["target"]) * observed:  # the successes that reach the target
                more += 1
            out.append({"kind": "target", "metric": x["id"], "target": x["target"], "observed": observed,
                        "met": x["count"], "more": more})
    return out


def _numbers(margins: list[dict]) -> list[dict]:
    def number(k, v):
        if k == "nearest":
            return [{**n, "reached": str(D(n["reached"])), "remaining": str(D(n["remaining"]))} for n in v]
        return D(v) if k in ("limit", "reached", "remaining", "cut", "until") else v
    return [{k: number(k, v) for k, v in x.items()} for x in margins]


@pytest.mark.parametrize("path", SETTLEMENTS, ids=lambda p: p.parent.name)
def test_the_margins_are_the_distance_to_each_threshold(path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert _numbers(doc["margins"]) == _expected(doc)


def test_the_reports_say_how_far_from_each_threshold():
    doc = json.loads((ROOT / "contracts" / "vaeksthuset-ny-start" / "settlement.json").read_text(encoding="utf-8"))
    kinds = {x["kind"] for x in doc["margins"]}
    assert {"goal_cap", "target"} <= kinds
    md = render(doc, "md", "en")
    assert "### How far from each threshold" in md
    target = next(x for x in doc["margins"] if x["kind"] == "target" and x["more"] > 0)
    assert f"- {target['more']} more successes among the {target['observed']} with data reach the target of " in md
    html = render(doc, "html", "da")
    assert '<h3 id="margins">Afstand til tærsklerne</h3>' in html and "succeser mere blandt de" in html
