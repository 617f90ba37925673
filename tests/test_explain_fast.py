"""`contractlang explain` of one line from the columnar engine's settlement (`explain_line`: the engine
settles once and records the trail of the one subject's lines) against the full interpreter's settlement,
text for text.

Lines of every bundled settlement, in English and Danish, with their metrics and figures; and a generated
Viborg ledger under a contract whose caps and tranche threshold are lowered until they bind, so that
imputed lines, lines a cap cuts, lines that cross the tranche switch, lines of a comparison goal and
replaced households are all explained. The command's output is the same as when the interpreter settles
(the engine switched off), for lines, metrics, ids that are no line and inputs with errors.
`bench/compare_explain.py` compares every line of a generated Viborg settlement.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from contractlang import load
from contractlang.cli import main
from contractlang.engine import Unsupported, unsupported
from contractlang.evaluate import settle
from contractlang.explain_line import explain_settled, settle_for
from contractlang.ledger import load_ledger
from contractlang.render import render_line

from .test_contracts import DIRS, ROOT, _contract

LANGS = ("en", "da")
VIBORG = ROOT / "contracts" / "viborg"


def explained_alike(contract, ledger, as_of=None, pick=None) -> dict:
    """Explain lines (all, or those `pick(line)` keeps), metrics and figures both ways and compare; count
    what was explained."""
    doc = settle(contract, ledger, as_of, trace=True)
    seen = {"lines": 0, "imputed": 0, "cut": 0, "switch": 0, "comparison": 0, "results": 0}
    comparison = {g.id for g in contract.goals if g.comparison is not None}
    for line in doc["lines"]:
        if pick is not None and not pick(line):
            continue
        seen["lines"] += 1
        seen["imputed"] += line["imputed"]
        seen["cut"] += line["cut"]
        seen["switch"] += len(line["tranche"]) > 1
        seen["comparison"] += line["goal"] in comparison
        settled = settle_for(contract, ledger, as_of, line["id"])  # what `explain_line` settles, once a line
        for lang in LANGS:
            assert explain_settled(contract, settled, line["id"], lang) == \
                (render_line(doc, line["id"], lang), None), f"{line['id']} ({lang})"
    results = [x.id for x in (*contract.metrics, *contract.figures)]
    if results:  # one settlement has every metric's and figure's trail
        settled = settle_for(contract, ledger, as_of, results[0])
        for rid in results:
            seen["results"] += 1
            for lang in LANGS:
                assert explain_settled(contract, settled, rid, lang) == (render_line(doc, rid, lang), None), rid
    return seen


def _every_nth(n: int, special: int = 4):
    """One line in `n`, and the first `special` imputed, cut and tranche-crossing lines."""
    state = {"n": 0, "imputed": 0, "cut": 0, "switch": 0}

    def pick(line) -> bool:
        state["n"] += 1
        keep = state["n"] % n == 1
        for kind, present in (("imputed", line["imputed"]), ("cut", line["cut"]), ("switch", len(line["tranche"]) > 1)):
            if present:
                state[kind] += 1
                keep = keep or state[kind] <= special
        return keep
    return pick


@pytest.mark.parametrize("d", [d for d in DIRS if d.name != "viborg" and unsupported(load(_contract(d))) is None],
                         ids=lambda d: d.name)  # (the others the interpreter settles and explains alone)
def test_lines_of_a_bundled_settlement_are_explained_alike(d):
    contract = load(_contract(d))
    seen = explained_alike(contract, load_ledger(d / "ledger", contract), pick=_every_nth(25))
    assert seen["lines"] > 0


def test_viborg_bundled_lines_are_explained_alike_sampled():
    """One bundled Viborg line in two hundred, the first imputed, cut and tranche-crossing ones, and three
    lines of the comparison goal."""
    contract = load(VIBORG / "viborg.contract")
    ledger = load_ledger(VIBORG / "ledger", contract)
    every, state = _every_nth(200), {"cohort": 0}

    def pick(line):
        state["cohort"] += line["goal"] == "school_absence"
        return every(line) or (line["goal"] == "school_absence" and state["cohort"] <= 3)
    seen = explained_alike(contract, ledger, pick=pick)
    assert seen["lines"] > 15 and seen["imputed"] > 0 and seen["comparison"] > 0


@pytest.mark.parametrize("as_of", ["2025-06-30", "2025-12-31"])
def test_viborg_lines_at_another_date_are_explained_alike(as_of):
    contract = load(VIBORG / "viborg.contract")
    ledger = load_ledger(VIBORG / "ledger", contract)
    seen = explained_alike(contract, ledger, dt.date.fromisoformat(as_of), pick=_every_nth(300, special=2))
    assert seen["lines"] > 0


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


def test_generated_ledger_lines_are_explained_alike_sampled(generated):
    """The first lines of each kind (imputed, cut in part, cut to nothing, crossing the tranche switch, of a
    comparison goal, of a replaced or replacing household) and one line in two hundred besides;
    bench/compare_explain.py takes every line."""
    _, contract, _, ledger = generated
    families = {h.replaces for h in ledger.households.values() if h.replaces} | {
        h.id for h in ledger.households.values() if h.replaces}
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
        if line["goal"] == "school_absence":
            yield "comparison"

    def pick(line):
        keep = False
        for kind in kinds(line):
            taken[kind] = taken.get(kind, 0) + 1
            keep = keep or (taken[kind] % 200 == 1 if kind == "any" else taken[kind] <= 3)
        return keep
    seen = explained_alike(contract, ledger, pick=pick)
    assert seen["imputed"] > 0 and seen["cut"] > 0 and seen["switch"] > 0 and seen["comparison"] > 0
    assert {"imputed", "cut to nothing", "cut in part", "switch", "family", "comparison"} <= set(taken)


# ---- the command ---------------------------------------------------------------------------------

def _explain(capsys, contract, ledger, *args):
    code = main(["explain", str(contract), "--ledger", str(ledger), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _engine_off(monkeypatch):
    """The command as if the engine could not settle the contract: the interpreter settles in full."""
    import contractlang.explain_line as by_engine

    def unsupported(*args, **kwargs):
        raise Unsupported("switched off")
    monkeypatch.setattr(by_engine, "explain_line", unsupported)


def test_the_command_prints_the_full_settlements_text(generated, capsys, monkeypatch):
    """Beside the same command with the engine switched off (every line settled by the interpreter)."""
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
    _engine_off(monkeypatch)
    for lid, lang in wanted:
        slow = _explain(capsys, path, ledger_dir, "--as-of", "2028-10-31", "--lang", lang, lid)
        assert fast[lid, lang] == slow, (lid, lang)
    assert fast[wanted[0]][0] == 0 and fast["not-a-line", "da"][0] == 1
    for lid in excluded.values():  # why the line is not there, in each language, exit 0
        assert fast[lid, "en"][0] == 0 and fast[lid, "en"][1].startswith(f"No line {lid}\n"), fast[lid, "en"]
        assert fast[lid, "da"][1].startswith(f"Ingen linje {lid}\n") and "Årsag" in fast[lid, "da"][1]


def test_a_contract_with_errors_or_a_bad_ledger_is_reported_as_before(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "bad.contract"
    bad.write_text("contract x {\n", encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [(bad, VIBORG / "ledger"), (VIBORG / "viborg.contract", empty), (tmp_path / "none.contract", empty)]
    fast = [_explain(capsys, c, led, "employment/P0001/m12") for c, led in cases]
    _engine_off(monkeypatch)
    assert fast == [_explain(capsys, c, led, "employment/P0001/m12") for c, led in cases]
    assert all(code == 1 and "no settlement was produced" in err for code, _, err in fast)
