"""Knowledge time (issue 14, item 1): a ledger may say when each measurement was delivered (`delivered_on`);
a later delivery of the same measurement corrects it, and `--known-as-of K` settles with what was delivered
by K. Every withheld row is accounted for, in both evaluators alike, and `verify` reruns with the same K."""

from __future__ import annotations

import json

import pytest

from contractlang import engine, evaluate
from contractlang.check import check
from contractlang.cli import main
from contractlang.errors import LedgerError
from contractlang.ledger import load_ledger
from contractlang.parse import parse_text
from contractlang.render import render

from .test_language_small import CONTRACT as PREVIOUS, LEDGER

CONTRACT = PREVIOUS.replace("max(0, score - previous(score, 50))", "score")  # one both evaluators settle

# P1's m12 score is delivered on 10 January (100) and corrected on 1 February (90); P2's has no delivery
# date (the first delivery); P1's m6 score came in July.
MEASUREMENTS = ("subject_id,measure,point,date,value,delivered_on\n"
                "P1,score,m6,2024-07-01,40,2024-07-10\n"
                "P1,score,m12,2025-01-01,100,2025-01-10\n"
                "P2,score,m12,2025-01-01,70,\n"
                "P1,score,m12,2025-01-01,90,2025-02-01\n")


@pytest.fixture()
def ledger(tmp_path, monkeypatch):
    (tmp_path / "ledger").mkdir()
    for name, text in {**LEDGER, "measurements.csv": MEASUREMENTS}.items():
        (tmp_path / "ledger" / name).write_text(text, encoding="utf-8")
    (tmp_path / "x.contract").write_text(CONTRACT, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _docs(known):
    contract = parse_text(CONTRACT, "x.contract")
    assert [d for d in check(contract) if d.severity == "error"] == []
    data = load_ledger("ledger", contract, known)
    return (json.loads(json.dumps(engine.settle(contract, data, None).document(), default=str)),
            json.loads(json.dumps(evaluate.settle(contract, data, None, trace=False), default=str)))


@pytest.mark.parametrize("known,p1_outcome,withheld", [
    (None, "90", [(3, "superseded", {"by_line": 5})]),           # the correction counts
    ("2025-01-15", "100", [(5, "not_delivered", {"delivered": "2025-02-01", "known_as_of": "2025-01-15"})]),
    ("2024-12-31", None, [(3, "not_delivered", {"delivered": "2025-01-10", "known_as_of": "2024-12-31"}),
                          (5, "not_delivered", {"delivered": "2025-02-01", "known_as_of": "2024-12-31"})]),
])
def test_a_settlement_sees_what_was_delivered_by_its_knowledge_date(ledger, known, p1_outcome, withheld):
    import datetime as dt

    for doc in _docs(dt.date.fromisoformat(known) if known else None):
        outcomes = {ln["id"]: ln["outcome"] for ln in doc["lines"]}
        assert outcomes.get("gain/P1/m12") == p1_outcome
        assert outcomes["gain/P2/m12"] == "70"  # no delivery date: the first delivery, always known
        rows = [(r["line"], r["reason"], r["facts"]) for r in doc["row_exclusions"]
                if r["reason"] in ("superseded", "not_delivered")]
        assert rows == [(line, reason, facts) for line, reason, facts in withheld]
        counts = doc["rows"]["measurements.csv"]
        assert counts["total"] == 4 and counts["used"] + counts["excluded"] == 4
        assert doc["inputs"]["known_as_of"] == known
    engine_doc, interpreter_doc = _docs(dt.date.fromisoformat(known) if known else None)
    assert engine_doc["row_exclusions"] == interpreter_doc["row_exclusions"]
    assert engine_doc["lines"] == interpreter_doc["lines"]


def test_withheld_rows_are_explained_in_both_languages_and_verify_reruns_with_the_knowledge_date(ledger, capsys):
    assert main(["settle", "x.contract", "--ledger", "ledger", "--known-as-of", "2025-01-15", "--format", "json",
                 "-o", "s.json"]) == 0
    capsys.readouterr()
    doc = json.loads((ledger / "s.json").read_text(encoding="utf-8"))
    md_en, md_da = render(doc, "md", "en"), render(doc, "md", "da")
    assert "delivered 1 Feb 2025, after the knowledge date 15 Jan 2025" in md_en
    assert "leveret den 1. feb. 2025, efter videnstidspunktet 15. jan. 2025" in md_da
    assert main(["verify", "s.json"]) == 0
    assert "known as of 2025-01-15" in capsys.readouterr().out
    assert main(["settle", "x.contract", "--ledger", "ledger", "--known-as-of", "2025-02-30"]) == 2


def test_the_same_delivery_twice_is_a_duplicate(ledger):
    (ledger / "ledger" / "measurements.csv").write_text(MEASUREMENTS + "P1,score,m12,2025-01-01,95,2025-02-01\n",
                                                        encoding="utf-8")
    with pytest.raises(LedgerError) as exc:
        load_ledger("ledger", parse_text(CONTRACT))
    (d,) = exc.value.diagnostics
    assert d.code == "CL043" and "in the delivery of 2025-02-01 (first on line 5)" in d.message and d.span.line == 6
