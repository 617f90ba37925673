"""`contractlang explain` of one line by the hybrid (`explain_line`: the columnar engine settles, the
interpreter traces the line's subject) against the full interpreter's settlement, text for text.

Every line of every bundled settlement, in English and Danish; and a generated Viborg ledger under
a contract whose caps and tranche threshold are lowered until they bind, so that imputed lines,
lines a cap cuts, lines that cross the tranche switch and replaced households are all explained.
A line of a comparison goal, a metric, a figure or an id that is no line is explained by the full
settlement, as before, and the command's output is the same either way. Viborg's settlements are
sampled here; `bench/compare_explain.py` compares every one of their lines (minutes, not seconds).
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from contractlang import load
from contractlang.cli import main
from contractlang.evaluate import settle
from contractlang.explain_line import Fallback, LineTrails, _hold_to_engine
from contractlang.ledger import load_ledger
from contractlang.render import render_line

from .test_contracts import DIRS, ROOT, _contract

LANGS = ("en", "da")
VIBORG = ROOT / "contracts" / "viborg"


def explained_alike(contract, ledger, as_of=None, pick=None) -> dict:
    """Explain lines (all, or those `pick(line)` keeps) both ways and compare; count what was explained how."""
    doc = settle(contract, ledger, as_of, trace=True)
    trails = LineTrails(contract, ledger, as_of)
    comparison = {g.id for g in contract.goals if g.comparison is not None}
    seen = {"hybrid": 0, "fallback": 0, "imputed": 0, "cut": 0, "switch": 0}
    for line in doc["lines"]:
        if pick is not None and not pick(line):
            continue
        lid = line["id"]
        try:
            one = trails.document(lid)
        except Fallback:
            assert line["goal"] in comparison, f"{lid}: only a comparison goal's line falls back"
            seen["fallback"] += 1
            for lang in LANGS:  # the command settles in full: the same text as always
                text, why = trails.explain(lid, lang)
                assert text is None and why
            continue
        seen["hybrid"] += 1
        seen["imputed"] += line["imputed"]
        seen["cut"] += line["cut"]
        seen["switch"] += len(line["tranche"]) > 1
        for lang in LANGS:
            assert render_line(one, lid, lang) == render_line(doc, lid, lang), f"{lid} ({lang})"
    return seen


def _small(d: Path) -> bool:
    return d.name != "viborg"


@pytest.mark.parametrize("d", [d for d in DIRS if _small(d)], ids=lambda d: d.name)
def test_every_line_of_a_bundled_settlement_is_explained_alike(d):
    contract = load(_contract(d))
    seen = explained_alike(contract, load_ledger(d / "ledger", contract))
    assert seen["hybrid"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("as_of", ["2024-06-30", "2025-12-31"])
@pytest.mark.parametrize("d", [d for d in DIRS if _small(d)], ids=lambda d: d.name)
def test_every_line_of_a_bundled_settlement_at_another_date_is_explained_alike(d, as_of):
    contract = load(_contract(d))
    explained_alike(contract, load_ledger(d / "ledger", contract), dt.date.fromisoformat(as_of))


def test_viborg_bundled_lines_are_explained_alike_sampled():
    """One bundled Viborg line in twenty, one imputed line in five, and every cut or tranche-crossing one."""
    contract = load(VIBORG / "viborg.contract")
    ledger = load_ledger(VIBORG / "ledger", contract)
    state = {"n": 0, "imputed": 0}

    def pick(line):
        state["n"] += 1
        state["imputed"] += line["imputed"]
        return (state["n"] % 20 == 0 or (line["imputed"] and state["imputed"] % 5 == 0) or line["cut"]
                or len(line["tranche"]) > 1)
    seen = explained_alike(contract, ledger, pick=pick)
    assert seen["hybrid"] > 50 and seen["imputed"] > 0


# ---- a generated Viborg ledger, caps and tranche threshold lowered until they bind --------------

LOWERED = {  # contract text -> the same with a smaller amount (and a payer cap per year besides)
    "cap school_absence 1_400_000 DKK": "cap school_absence 20_000 DKK",
    "cap life_satisfaction 250_000 DKK": "cap life_satisfaction 30_000 DKK",
    "return cap Kommunen 6_000_000 DKK": "return cap Kommunen 900_000 DKK",
    "tranche 1 until 5_275_000 DKK": "tranche 1 until 400_000 DKK",
}


def make_lowered(base: Path):
    """A generated Viborg ledger (260 households) and the contract with its caps and tranche threshold lowered
    until they bind: (contract path, contract, ledger directory, ledger)."""
    ledger_dir = base / "ledger"
    subprocess.run([sys.executable, str(VIBORG / "make_ledger.py"), "--out", str(ledger_dir), "--households", "260",
                    "--control", "60", "--seed", "11"], check=True, capture_output=True)
    text = (VIBORG / "viborg.contract").read_text(encoding="utf-8")
    for old, new in LOWERED.items():
        assert old in text
        text = text.replace(old, new)
    lines = text.splitlines(keepends=True)
    at = next(i for i, x in enumerate(lines) if x.startswith("cap life_satisfaction"))
    lines.insert(at + 1, 'cap Kommunen 300_000 DKK per year § "test"\n')
    text = "".join(lines)
    path = base / "viborg-lowered.contract"
    path.write_text(text, encoding="utf-8")
    contract = load(path)
    return path, contract, ledger_dir, load_ledger(ledger_dir, contract)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    return make_lowered(tmp_path_factory.mktemp("explain_fast"))


def _replaced(ledger) -> set[str]:
    return {h.replaces for h in ledger.households.values() if h.replaces}


def test_generated_ledger_lines_are_explained_alike_sampled(generated):
    """The first lines of each kind (imputed, cut in part, cut to nothing, crossing the tranche switch, of a
    replaced or replacing household) and one line in forty besides; bench/compare_explain.py takes every line."""
    _, contract, _, ledger = generated
    replaced = _replaced(ledger)
    families = replaced | {h.id for h in ledger.households.values() if h.replaces}
    taken: dict[str, int] = {}

    def kinds(line):
        household = ledger.persons[line["subject"]].household if line["subject"] in ledger.persons else line["subject"]
        yield "any"
        if line["imputed"]:
            yield "imputed"
        if line["cut"]:
            yield "cut to nothing" if line["amount"] == "0.00" else "cut in part"
        if len(line["tranche"]) > 1:
            yield "switch"
        if household in families:
            yield "family"

    def pick(line):
        keep = False
        for kind in kinds(line):
            taken[kind] = taken.get(kind, 0) + 1
            keep = keep or (taken[kind] % 40 == 1 if kind == "any" else taken[kind] <= 12)
        return keep
    seen = explained_alike(contract, ledger, pick=pick)
    assert seen["imputed"] > 0 and seen["cut"] > 0 and seen["switch"] > 0
    assert {"imputed", "cut to nothing", "cut in part", "switch", "family"} <= set(taken)


# ---- the command ---------------------------------------------------------------------------------

def _explain(capsys, contract, ledger, *args):
    code = main(["explain", str(contract), "--ledger", str(ledger), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_command_prints_the_full_settlements_text(generated, capsys, monkeypatch):
    """Beside the same command with the hybrid switched off (every line settled in full, as before)."""
    path, contract, ledger_dir, ledger = generated
    doc = settle(contract, ledger, dt.date(2028, 10, 31), trace=True)
    comparison = next(ln["id"] for ln in doc["lines"] if ln["goal"] == "school_absence")
    subject_goals = [ln for ln in doc["lines"] if ln["goal"] != "school_absence"]
    wanted = [(subject_goals[0]["id"], "en"), (next(ln["id"] for ln in subject_goals if ln["imputed"]), "da"),
              (next(ln["id"] for ln in subject_goals if ln["cut"]), "en"), (comparison, "da"),
              ("employment/no-such-person/m12", "en"), ("not-a-line", "da"),
              (contract.metrics[0].id if contract.metrics else "not-a-metric", "en")]
    excluded = {}  # a line that is not there, for each reason the settlement gives
    for e in doc["exclusions"]:
        point = e["point"] or next(g.points[0] for g in contract.goals if g.id == e["goal"])
        excluded.setdefault(e["reason"], f"{e['goal']}/{e['subject']}/{point}")
    assert {"not_eligible", "not_counting"} <= set(excluded)
    wanted += [(lid, lang) for lid in excluded.values() for lang in LANGS]
    fast = {(lid, lang): _explain(capsys, path, ledger_dir, "--as-of", "2028-10-31", "--lang", lang, lid)
            for lid, lang in wanted}
    import contractlang.cli as cli
    import contractlang.explain_line as hybrid
    monkeypatch.setattr(hybrid, "explain_line", lambda *a, **k: (None, "switched off"))
    monkeypatch.setattr(cli, "_explain_absent", lambda *a, **k: (None, None))
    for lid, lang in wanted:
        slow = _explain(capsys, path, ledger_dir, "--as-of", "2028-10-31", "--lang", lang, lid)
        assert fast[lid, lang] == slow, (lid, lang)
    assert fast[wanted[0]][0] == 0 and fast["not-a-line", "da"][0] == 1
    for lid in excluded.values():  # why the line is not there, in each language, exit 0
        assert fast[lid, "en"][0] == 0 and fast[lid, "en"][1].startswith(f"No line {lid}\n"), fast[lid, "en"]
        assert fast[lid, "da"][1].startswith(f"Ingen linje {lid}\n") and "Årsag" in fast[lid, "da"][1]


def test_a_line_the_engine_disagrees_with_is_not_explained_by_the_hybrid(generated):
    _, contract, _, ledger = generated
    trails = LineTrails(contract, ledger, None)
    doc = settle(contract, ledger, None, trace=False)
    line = next(ln for ln in doc["lines"] if ln["cut"] and ln["goal"] != "school_absence")
    trails.document(line["id"])  # explained
    run, results, lines = trails._settled
    row = lines.filter(lines["subject"] == line["subject"]).row(0, named=True)
    settler_line = {"outcome": 1, "date": row["date"], "imputed": row["imputed"], "gross": 0,
                    "after_goal_cap": 0, "amount": 0, "split": {}}
    with pytest.raises(Fallback):
        _hold_to_engine(settler_line, row)


def test_a_contract_with_errors_or_a_bad_ledger_is_reported_as_before(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.contract"
    bad.write_text("contract x {\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [(bad, VIBORG / "ledger"), (VIBORG / "viborg.contract", empty), (tmp_path / "none.contract", empty)]
    fast = [_explain(capsys, c, led, "employment/P0001/m12") for c, led in cases]
    import contractlang.cli as cli
    import contractlang.explain_line as hybrid
    monkeypatch.setattr(hybrid, "explain_line", lambda *a, **k: (None, "switched off"))
    monkeypatch.setattr(cli, "_explain_absent", lambda *a, **k: (None, None))
    assert fast == [_explain(capsys, c, led, "employment/P0001/m12") for c, led in cases]
    assert all(code == 1 and "no settlement was produced" in err for code, _, err in fast)
