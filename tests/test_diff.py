"""`contractlang.diff`: what changed between two settlements, and why.

Every case settles a copy of the Viborg ledger (and contract) twice, before and after an edit made on
disk here — a corrected value, a withdrawn row, a late one, a later settlement date, another price —
and checks that the diff names the edit (file, line, values as the edit made them), attributes the
knock-on lines (imputation means, caps, tranches) and never falls back to `unexplained`; and that its
totals are the documents' own, with deltas that are new minus old and the sums of the lines' deltas.
"""

from __future__ import annotations

import copy
import csv
import json
import random
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from contractlang.cli import main
from contractlang.diff import CAUSE_KINDS, diff

ROOT = Path(__file__).resolve().parents[1]
VIBORG = ROOT / "contracts" / "viborg"
FILE = "measurements.csv"


# ---- settling copies of the Viborg ---------------------------------------------------------------

def _settle(folder: Path, *extra: str, name: str = "settlement.json") -> dict:
    out = folder / name
    assert main(["settle", str(folder / "viborg.contract"), "--ledger", str(folder / "ledger"),
                 "--format", "json", "--trails", "-o", str(out), *extra]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def viborg(tmp_path_factory):
    """A snapshot of the Viborg contract and ledger (taken once: every case edits a copy of the same files),
    and its settlement with trails."""
    folder = tmp_path_factory.mktemp("viborg")
    shutil.copy(VIBORG / "viborg.contract", folder / "viborg.contract")
    shutil.copytree(VIBORG / "ledger", folder / "ledger")
    return folder, _settle(folder)


def _copy(viborg, tmp_path: Path) -> Path:
    folder = tmp_path / "case"
    folder.mkdir()
    shutil.copy(viborg[0] / "viborg.contract", folder / "viborg.contract")
    shutil.copytree(viborg[0] / "ledger", folder / "ledger")
    return folder


def _rows(folder: Path) -> list[list[str]]:
    with open(folder / "ledger" / FILE, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write(folder: Path, rows: list[list[str]]) -> None:
    with open(folder / "ledger" / FILE, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _find(rows, subject, measure, point) -> int:
    """The index in `rows` (the header is 0) of a measurement; its line in the file is index + 1."""
    return next(i for i, r in enumerate(rows) if r[:3] == [subject, measure, point])


def _by_id(d: dict) -> dict:
    return {ln["id"]: ln for ln in d["lines"]}


def _kinds(line: dict) -> list[str]:
    return [c["kind"] for c in line["causes"]]


def _cause(line: dict, kind: str) -> dict:
    found = [c for c in line["causes"] if c["kind"] == kind]
    assert len(found) == 1, (line["id"], line["causes"])
    return found[0]


# ---- what holds of every diff --------------------------------------------------------------------

def _money_map(d: dict) -> dict:
    return {k: Decimal(v) for k, v in d.items()}


def _check_invariants(d: dict, old: dict, new: dict) -> None:
    """Totals are the documents' own, deltas are new − old and the sums of the lines' deltas; every line
    has causes of known kinds and none is unexplained; the whole is JSON without floats."""
    def walk(x):
        assert not isinstance(x, float), x
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(d)
    json.dumps(d)

    t = d["totals"]
    for name in ("goals", "goals_paid", "goal_cap_cut", "periods", "payers", "recipients"):
        for key, v in t[name].items():
            assert Decimal(v["delta"]) == Decimal(v["new"]) - Decimal(v["old"]), (name, key, v)
        assert t["changed"][name] == sum(v["delta"] != "0.00" for v in t[name].values())
    for name in ("pool", "return_cap_cut"):
        assert Decimal(t[name]["delta"]) == Decimal(t[name]["new"]) - Decimal(t[name]["old"])
    # The documents' own totals, every key of either.
    for name, key in (("goals", "goals"), ("payers", "by_payer"), ("recipients", "by_recipient"),
                      ("goal_cap_cut", "goal_cap_cut")):
        for side, doc in (("old", old), ("new", new)):
            assert {k: Decimal(v[side]) for k, v in t[name].items() if k in doc["totals"][key]} == \
                _money_map(doc["totals"][key])
            assert all(Decimal(v[side]) == 0 for k, v in t[name].items() if k not in doc["totals"][key])
    assert t["pool"]["old"] == old["totals"]["pool"] and t["pool"]["new"] == new["totals"]["pool"]
    for side, doc in (("old", old), ("new", new)):
        amounts = {p["period"]: Decimal(p["amount"]) for p in doc["periods"]}
        assert set(amounts) <= set(t["periods"])
        assert all(Decimal(v[side]) == amounts.get(k, 0) for k, v in t["periods"].items())

    # The lines' deltas add up to the totals' deltas.
    goal_cap, paid, payer, period, recipient = (defaultdict(Decimal) for _ in range(5))
    pool = Decimal(0)
    for ln in d["lines"]:
        assert ln["causes"], ln["id"]
        assert all(c["kind"] in CAUSE_KINDS and c["kind"] != "unexplained" for c in ln["causes"]), ln
        goal_cap[ln["goal"]] += Decimal(ln["after_goal_cap"]["delta"])
        paid[ln["goal"]] += Decimal(ln["delta"])
        payer[ln["payer"]] += Decimal(ln["delta"])
        pool += Decimal(ln["delta"])
        if ln["old"] is not None:
            period[ln["previously"].get("period", ln["period"])] -= Decimal(ln["old"])
        if ln["new"] is not None:
            period[ln["period"]] += Decimal(ln["new"])
        for party, v in ln["split_delta"].items():
            recipient[party] += Decimal(v)
        assert Decimal(ln["delta"]) == Decimal(ln["new"] or 0) - Decimal(ln["old"] or 0)
        assert sum((Decimal(v) for v in ln["split_delta"].values()), Decimal(0)) == Decimal(ln["delta"])
    for name, sums in (("goals", goal_cap), ("goals_paid", paid), ("payers", payer), ("periods", period),
                       ("recipients", recipient)):
        for key, v in t[name].items():
            assert Decimal(v["delta"]) == sums.get(key, 0), (name, key, v["delta"], sums.get(key))
    assert Decimal(t["pool"]["delta"]) == pool

    s = d["summary"]
    assert s["unexplained"] == 0 and "unexplained" not in s["causes"]
    assert s["lines"]["appeared"] + s["lines"]["vanished"] + s["lines"]["changed"] == len(d["lines"])
    assert s["lines"]["unchanged"] + s["lines"]["changed"] + s["lines"]["vanished"] == len(old["lines"])
    assert s["lines"]["unchanged"] + s["lines"]["changed"] + s["lines"]["appeared"] == len(new["lines"])
    for kind, n in s["causes"].items():
        assert n == sum(kind in _kinds(ln) for ln in d["lines"])
    keys = [(ln["date"], ln["subject"]) for ln in d["lines"]]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)


# ---- the cases -----------------------------------------------------------------------------------

def test_identical_settlements_have_no_lines_and_zero_deltas(viborg, tmp_path):
    folder, base = viborg
    for other in (copy.deepcopy(base), _settle(_copy(viborg, tmp_path))):   # the same, and the same rerun elsewhere
        d = diff(base, other)
        assert d["lines"] == []
        assert d["summary"] == {"lines": {"appeared": 0, "vanished": 0, "changed": 0, "unchanged": len(base["lines"])},
                                "causes": {}, "unexplained": 0}
        t = d["totals"]
        for name in ("goals", "goals_paid", "goal_cap_cut", "periods", "payers", "recipients"):
            assert t[name] and all(v["delta"] == "0.00" and v["old"] == v["new"] for v in t[name].values())
            assert t["changed"][name] == 0
        assert t["pool"] == {"old": base["totals"]["pool"], "new": base["totals"]["pool"], "delta": "0.00"}
        assert set(t["goals"]) == {g["id"] for g in base["goals"]}
        assert set(t["periods"]) == {p["period"] for p in base["periods"]}
        i = d["inputs"]
        assert i["ledger"] == [] and not i["contract"]["changed"] and not i["as_of"]["changed"] and not i["changed"]
        _check_invariants(d, base, other)


def test_a_corrected_employment_value_is_the_row_that_changed(viborg, tmp_path):
    folder, base = viborg
    case = _copy(viborg, tmp_path)
    rows = _rows(case)
    # P00001 was on sickness benefit at m12 (a failure: at baseline employed, so the education/employment
    # criterion applies); the evaluator corrects it to employed, a success.
    k = _find(rows, "P00001", "benefit_type", "m12")
    assert rows[k][4] == "sickness_benefit"
    rows[k][4] = "employed"
    _write(case, rows)
    new = _settle(case)
    d = diff(base, new)
    _check_invariants(d, base, new)
    lines = _by_id(d)

    line = lines["employment/P00001/m12"]
    assert line["change"] == "changed" and _kinds(line)[0] == "row_changed"
    assert _cause(line, "row_changed") == {
        "kind": "row_changed", "file": FILE, "subject": "P00001", "measure": "benefit_type", "point": "m12",
        "old_value": "sickness_benefit", "new_value": "employed", "old_line": k + 1, "new_line": k + 1}
    assert (line["old"], line["new"], line["delta"]) == ("0.00", "8600.00", "8600.00")   # one success at 8,600 DKK
    assert d["inputs"]["ledger"][0]["file"] == FILE and len(d["inputs"]["ledger"]) == 1
    assert d["inputs"]["ledger"][0]["old_rows"] == d["inputs"]["ledger"][0]["new_rows"] == len(rows) - 1

    # Every line imputed at employment m12 moved with the mean: one observation more succeeded, so the mean of
    # the same number of observations rose by exactly one over that number.
    imputed = [ln["id"] for ln in base["lines"] if ln["goal"] == "employment" and ln["point"] == "m12"
               and ln["imputed"]]
    assert imputed
    for ident in imputed:
        cause = _cause(lines[ident], "imputation_mean")
        assert cause["point"] == "m12" and cause["old_observations"] == cause["new_observations"]
        step = Decimal(cause["new_mean"]) - Decimal(cause["old_mean"])
        assert abs(step - Decimal(1) / cause["new_observations"]) < Decimal("1e-45")
    # Only the lines that read the row name it; the others are knock-ons.
    readers = {ln["id"] for ln in base["lines"] if any(
        s["kind"] == "input" and s.get("line") == k + 1 and s.get("file") == FILE for s in ln["trace"])}
    assert {ln["id"] for ln in d["lines"] if "row_changed" in _kinds(ln)} <= readers
    # The pool grew: the line that crosses the tranche threshold (and those the threshold now passes)
    # are split otherwise, though their amounts did not move.
    tranche = [ln for ln in d["lines"] if "tranche" in _kinds(ln)]
    assert tranche
    for ln in tranche:
        cause = _cause(ln, "tranche")
        assert cause["old"]["pool_before"] != cause["new"]["pool_before"]
        if _kinds(ln) == ["tranche"]:
            assert ln["delta"] == "0.00" and any(v != "0.00" for v in ln["split_delta"].values())
    assert d["summary"]["causes"]["row_changed"] == len(
        [ln for ln in d["lines"] if "row_changed" in _kinds(ln)]) >= 1


def test_a_corrected_value_under_a_binding_goal_cap_moves_the_capped_lines(viborg, tmp_path):
    folder, base = viborg
    case = _copy(viborg, tmp_path)
    rows = _rows(case)
    # P00052's life satisfaction rose from 4 to 6 (a success); corrected to 4, it did not rise.
    b, e = _find(rows, "P00052", "life_satisfaction", "baseline"), _find(rows, "P00052", "life_satisfaction", "end")
    old_value = rows[e][4]
    assert int(old_value) > int(rows[b][4])
    rows[e][4] = rows[b][4]
    _write(case, rows)
    new = _settle(case)
    d = diff(base, new)
    _check_invariants(d, base, new)
    lines = _by_id(d)

    line = lines["life_satisfaction/P00052/end"]
    assert _cause(line, "row_changed") == {
        "kind": "row_changed", "file": FILE, "subject": "P00052", "measure": "life_satisfaction", "point": "end",
        "old_value": old_value, "new_value": rows[b][4], "old_line": e + 1, "new_line": e + 1}
    assert line["gross"]["delta"] == "-2000.00"                  # one success fewer, at 2,000 DKK
    # The goal's cap of 250,000 DKK bound before and still binds: the goal's total is the same, and the lines
    # it cut before are cut less, their own values unchanged.
    assert d["totals"]["goals"]["life_satisfaction"]["delta"] == "0.00"
    cut_before = [ln["id"] for ln in base["lines"] if ln["goal"] == "life_satisfaction"
                  and ln["after_goal_cap"] != ln["gross"]]
    assert cut_before
    capped = [ln for ln in d["lines"] if "goal_cap" in _kinds(ln)]
    assert capped
    assert {ln["id"] for ln in capped} >= {i for i in cut_before if lines.get(i, {}).get("delta", "0.00") != "0.00"}
    for ln in capped:
        cause = _cause(ln, "goal_cap")
        assert cause["cap"] == "life_satisfaction" and cause["on"] == "goal"
        assert cause["old"]["limit"] == cause["new"]["limit"] == "250000.00"
        assert cause["old"]["cut"] != cause["new"]["cut"]
        if cause["old"]["before"] == cause["new"]["before"]:      # the line's own value did not move …
            assert cause["old"]["running_before"] != cause["new"]["running_before"]   # … what came before did
            assert "imputation_mean" not in _kinds(ln) and "row_changed" not in _kinds(ln)
    # One success fewer among the observed: the mean at `end` fell for every imputed line.
    for ln in d["lines"]:
        if ln["imputed"]["old"] and ln["goal"] == "life_satisfaction":
            cause = _cause(ln, "imputation_mean")
            assert Decimal(cause["new_mean"]) < Decimal(cause["old_mean"])
    assert sum(Decimal(ln["delta"]) for ln in d["lines"] if ln["goal"] == "life_satisfaction") == 0


def test_a_withdrawn_row_and_a_late_observation(viborg, tmp_path):
    folder, base = viborg
    case = _copy(viborg, tmp_path)
    rows = _rows(case)
    # Withdraw P00001's benefit type at m12 (observed: the line now imputes it) …
    k = _find(rows, "P00001", "benefit_type", "m12")
    withdrawn = rows.pop(k)
    # … and deliver a social measure at m24 that was missing (a line imputed for want of that one row): the
    # same as at baseline, so no step down the staircase.
    late = next(ln for ln in base["lines"] if ln["goal"] == "social_measures" and ln["imputed"]
                and [(s["measure"], s["point"]) for s in ln["trace"] if s["kind"] == "missing"] == [
                    ("social_measure", "m24")]
                and next(s for s in ln["trace"] if s["kind"] == "impute")["facts"]["missing"] == "no_row")
    subject = late["subject"]
    baseline = rows[_find(rows, subject, "social_measure", "baseline")]
    rows.append([subject, "social_measure", "m24", late["date"], baseline[4]])
    _write(case, rows)
    new = _settle(case)
    d = diff(base, new)
    _check_invariants(d, base, new)
    lines = _by_id(d)

    line = lines["employment/P00001/m12"]
    assert _kinds(line)[0] == "row_withdrawn"
    assert _cause(line, "row_withdrawn") == {
        "kind": "row_withdrawn", "file": FILE, "line": k + 1, "subject": "P00001", "measure": "benefit_type",
        "point": "m12", "value": withdrawn[4]}
    assert line["imputed"] == {"old": False, "new": True}

    line = lines[late["id"]]
    assert _kinds(line)[0] == "late_observation"
    assert _cause(line, "late_observation") == {
        "kind": "late_observation", "file": FILE, "line": len(rows), "subject": subject,
        "measure": "social_measure", "point": "m24", "value": baseline[4]}
    assert line["imputed"] == {"old": True, "new": False}
    assert line["outcome"]["new"] == "0" and line["new"] == "0.00" and line["delta"] == "-" + line["old"]

    # The means: one observation fewer at employment m12, one more at social measures m24.
    means = [(ln["goal"], _cause(ln, "imputation_mean")) for ln in d["lines"] if "imputation_mean" in _kinds(ln)]
    assert {g for g, _ in means} == {"employment", "social_measures"}
    for goal, cause in means:
        if goal == "employment" and cause["point"] == "m12":
            assert cause["new_observations"] == cause["old_observations"] - 1
        if goal == "social_measures":
            assert cause["point"] == "m24" and cause["new_observations"] == cause["old_observations"] + 1
    # Every row below the withdrawn one moved up a line: that is no cause.
    assert "row_changed" not in d["summary"]["causes"]
    assert d["summary"]["causes"]["row_withdrawn"] == d["summary"]["causes"]["late_observation"] == 1


def test_a_later_settlement_date_makes_lines_due(viborg, tmp_path):
    folder, new = viborg
    as_of = "2026-06-30"
    old = _settle(_copy(viborg, tmp_path), "--as-of", as_of)
    d = diff(old, new)
    _check_invariants(d, old, new)
    assert d["inputs"]["as_of"] == {"old": as_of, "new": new["as_of"], "changed": True}
    assert d["inputs"]["ledger"] == [] and not d["inputs"]["contract"]["changed"]
    appeared = [ln for ln in d["lines"] if ln["change"] == "appeared"]
    assert appeared and d["summary"]["lines"]["vanished"] == 0
    assert len(appeared) == len(set(_by_id(new)) - set(_by_id(old)))
    for ln in appeared:
        cause = ln["causes"][0]
        assert cause["kind"] == "now_due" and ln["date"] > as_of
        assert cause["old_as_of"] == as_of and cause["new_as_of"] == new["as_of"]
        if cause["exclusion"] is not None:
            facts = cause["exclusion"]["facts"]              # a cohort's point has no limit in its facts
            assert cause["exclusion"]["reason"] == "not_due" and facts.get("limit", as_of) == as_of
            assert facts["date"] == ln["date"] > as_of
        for c in ln["causes"]:
            if c["kind"] == "now_counted":            # the household's stay was cut short by the old date
                assert c["reason"] == "not_counting" and c["facts"]["stay_end"] <= as_of
    # Lines due by both dates moved only with what the later date added to them: means over more observations.
    for ln in d["lines"]:
        if ln["change"] == "changed":
            assert set(_kinds(ln)) <= {"imputation_mean", "goal_cap", "return_cap", "tranche"}
            for c in ln["causes"]:
                if c["kind"] == "imputation_mean":
                    assert c["new_observations"] >= c["old_observations"]

    back = diff(new, old)                              # the other way round: the same lines, vanished
    _check_invariants(back, new, old)
    assert [ln["id"] for ln in back["lines"] if ln["change"] == "vanished"] == [ln["id"] for ln in appeared]
    assert all(ln["causes"][0]["kind"] == "no_longer_due" for ln in back["lines"] if ln["change"] == "vanished")


def test_a_changed_rate_is_the_rate_of_every_paying_line(viborg, tmp_path):
    folder, base = viborg
    case = _copy(viborg, tmp_path)
    contract = case / "viborg.contract"
    text = contract.read_text(encoding="utf-8")
    assert text.count("pay 8_600 DKK per success") == 1
    contract.write_text(text.replace("pay 8_600 DKK per success", "pay 9_000 DKK per success"), encoding="utf-8")
    new = _settle(case)
    d = diff(base, new)
    _check_invariants(d, base, new)
    lines = _by_id(d)
    assert d["inputs"]["contract"]["changed"] and d["inputs"]["ledger"] == []

    paying = [ln for ln in base["lines"] if ln["goal"] == "employment" and Decimal(ln["gross"]) != 0]
    assert paying
    for ln in paying:
        cause = _cause(lines[ln["id"]], "rate")
        assert cause == {"kind": "rate", "old": "8600.00", "new": "9000.00", "per": "success", "expr": None}
        assert _kinds(lines[ln["id"]])[0] == "rate"
        # the gross moves by the outcome times 400 DKK, to the øre
        gross = lines[ln["id"]]["gross"]
        assert abs(Decimal(gross["delta"]) - Decimal(ln["outcome"]) * 400) <= Decimal("0.01")
    rated = {ln["id"] for ln in d["lines"] if "rate" in _kinds(ln)}
    assert rated == {ln["id"] for ln in paying}
    # Kommunen's lines now pass the return cap of 6,000,000 DKK, which cuts the last of them.
    assert Decimal(d["totals"]["return_cap_cut"]["new"]) > 0 == Decimal(d["totals"]["return_cap_cut"]["old"])
    cut = [ln for ln in d["lines"] if "return_cap" in _kinds(ln)]
    assert cut
    for ln in cut:
        cause = _cause(ln, "return_cap")
        assert cause["cap"] == "return" and cause["on"] == "return" and cause["new"]["limit"] == "6000000.00"
        assert Decimal(cause["new"]["cut"]) > Decimal(cause["old"]["cut"])
    assert Decimal(d["totals"]["payers"]["Kommunen"]["new"]) == Decimal("6000000.00")


def test_a_corrected_price_read_from_the_ledger(tmp_path, monkeypatch):
    """The rate card prices each qualification from a table: a corrected level is a changed row, and a rate."""
    source = ROOT / "contracts" / "examples" / "rate-card"
    shutil.copy(source / "rate-card.contract", tmp_path / "rate-card.contract")
    shutil.copytree(source / "ledger", tmp_path / "ledger")
    monkeypatch.chdir(tmp_path)

    def settle(name):
        assert main(["settle", "rate-card.contract", "--ledger", "ledger", "--format", "json", "--trails",
                     "-o", name]) == 0
        return json.loads((tmp_path / name).read_text(encoding="utf-8"))

    old = settle("old.json")
    line = next(ln for ln in old["lines"] if ln["goal"] == "qualification" and ln["outcome"] == "1")
    rows = _rows(tmp_path)
    k = _find(rows, line["subject"], "qualification", line["point"])
    levels = [s["facts"]["key"] for ln in old["lines"] for s in ln["trace"]
              if s["kind"] == "value" and (s.get("facts") or {}).get("table") == "prices"]
    other = next(v for v in levels if v != rows[k][4])
    was, rows[k][4] = rows[k][4], other
    _write(tmp_path, rows)
    new = settle("new.json")
    d = diff(old, new)
    _check_invariants(d, old, new)
    changed = _by_id(d)[line["id"]]
    assert _kinds(changed)[:2] == ["row_changed", "rate"]
    assert _cause(changed, "row_changed")["old_value"] == was and _cause(changed, "row_changed")["new_value"] == other
    assert _cause(changed, "row_changed")["new_line"] == k + 1
    assert _cause(changed, "rate")["expr"] == "prices.price[qualification]"


def test_settlements_without_trails_or_damaged_are_refused_with_a_message(viborg, tmp_path):
    folder, base = viborg
    case = _copy(viborg, tmp_path)
    assert main(["settle", str(case / "viborg.contract"), "--ledger", str(case / "ledger"), "--format", "json",
                 "-o", str(case / "plain.json")]) == 0
    plain = json.loads((case / "plain.json").read_text(encoding="utf-8"))
    with pytest.raises(ValueError, match="--trails"):
        diff(plain, base)
    with pytest.raises(ValueError, match="new settlement has no trails"):
        diff(base, plain)

    def damaged(change):
        """A copy of `base` damaged by `change` (a copy deep enough for the changes below)."""
        doc = {**base, "lines": [dict(ln) for ln in base["lines"]], "totals": dict(base["totals"]),
               "periods": list(base["periods"])}
        change(doc)
        return doc

    cases = [
        ([], "not a settlement document"),
        ({"a": 1}, "not a settlement document"),
        (damaged(lambda d: d.pop("lines")), "no 'lines'"),
        (damaged(lambda d: d.update(lines={})), "'lines' is not a list"),
        (damaged(lambda d: d.update(totals=[])), "'totals' is not a JSON object"),
        (damaged(lambda d: d["lines"].__setitem__(3, "x")), r"lines\[3\] is not a JSON object"),
        (damaged(lambda d: d["lines"][3].pop("id")), r"lines\[3\] has no id"),
        (damaged(lambda d: d["lines"][3].update(amount="12,5")), "is not an amount"),
        (damaged(lambda d: d["lines"][3].update(amount=1.5)), "is not an amount"),
        (damaged(lambda d: d["lines"][3].update(split=None)), "has no split"),
        (damaged(lambda d: d["lines"][3].update(trace="x")), "trace is not a list"),
        (damaged(lambda d: d["lines"].append(dict(d["lines"][0]))), "is there twice"),
        (damaged(lambda d: d["totals"].update(by_payer={"Kommunen": "lots"})), "is not an amount"),
        (damaged(lambda d: d["periods"].append({"amount": "1.00"})), "has no period"),
    ]
    for doc, message in cases:
        with pytest.raises(ValueError, match=message):
            diff(base, doc)
    with pytest.raises(ValueError, match="old settlement"):
        diff({"a": 1}, base)


def test_a_damaged_settlement_raises_a_value_error_or_nothing(viborg):
    """Whatever is damaged — a field dropped, or of another type — `diff` answers or raises ValueError, never
    KeyError, TypeError or a decimal error."""
    folder, base = viborg
    small = {**base, "lines": base["lines"][:30] + base["lines"][-30:], "exclusions": base["exclusions"][:30],
             "row_exclusions": base["row_exclusions"][:30]}
    small = copy.deepcopy(small)

    def places(x, path=()):
        yield path
        if isinstance(x, dict):
            for k, v in x.items():
                yield from places(v, path + (k,))
        elif isinstance(x, list):
            for i in sorted({0, 1, len(x) - 1} & set(range(len(x)))):
                yield from places(x[i], path + (i,))

    where = list(places(small))[1:]
    odd = [None, 0, 1.5, True, "x", "missing", "-0.00", "1e999", "NaN", [], {}, [1], {"a": [1]}]
    rnd = random.Random(20)
    for _ in range(200):
        doc = copy.deepcopy(small)
        for _ in range(rnd.randint(1, 3)):
            path = rnd.choice(where)
            try:
                parent = doc
                for k in path[:-1]:
                    parent = parent[k]
                if isinstance(parent, dict) and rnd.random() < 0.25:
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = rnd.choice(odd)
            except (KeyError, IndexError, TypeError):
                pass                                  # an earlier change removed the place
        for a, b in ((small, doc), (doc, small)):
            try:
                json.dumps(diff(a, b))
            except ValueError:
                pass
