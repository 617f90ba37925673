"""The typed trace (contractlang/trace.py): one frozen class per kind of step, facts only, read from and
written to the settlement document without loss; narration (narrate.py) once per class, in both languages."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import attrs
import pytest

from contractlang import trace
from contractlang.cli import main
from contractlang.i18n import Formatter
from contractlang.narrate import NARRATORS, describe_step

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = sorted(p for p in (ROOT / "contracts").glob("**/*.contract") if (p.parent / "ledger").is_dir())


def _steps(doc: dict):
    for ln in doc["lines"]:
        yield from ln["trace"]
    for f in doc["flags"]:
        yield from f["trace"]
    for x in (doc.get("reports") or {}).get("metrics", []) + (doc.get("reports") or {}).get("figures", []):
        yield from x["trace"]


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[str, dict]:
    out = {}
    for contract in CONTRACTS:
        target = tmp_path_factory.mktemp("trails") / "s.json"
        assert main(["settle", str(contract), "--ledger", str(contract.parent / "ledger"), "--format", "json",
                     "--trails", "-o", str(target)]) == 0
        out[contract.parent.name] = json.loads(target.read_text(encoding="utf-8"))
    return out


def test_every_step_of_every_bundled_settlement_reads_back_into_its_class_and_writes_the_same(documents):
    kinds = collections.Counter()
    for name, doc in documents.items():
        for step in _steps(doc):
            typed = trace.from_json(step)
            kinds[type(typed).__name__] += 1
            assert typed.to_json() == step, (name, step)
            # this engine's steps carry their facts: no prose is kept beside them, no untyped arithmetic
            assert getattr(typed, "said", None) is None, (name, step)
            assert not isinstance(typed, trace.Compute), (name, step)
    # the bundled contracts exercise these kinds of step
    assert {"Rule", "Subject", "Input", "Missing", "Value", "Price", "Reference", "Lookup", "Previous", "GroupMean",
            "Share", "Gap", "Aggregate", "Round", "Impute", "Payment", "Cap", "Tranche", "Flag", "Note"} <= set(kinds)


def test_steps_are_frozen_and_hold_no_prose():
    step = trace.Subject(subject="P1", level="persons", household="H1",
                         facts={"start": "2024-01-01", "stay_months": 3, "stay_reached": "2024-04-01", "age": 30})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        step.subject = "P2"
    assert "detail" not in attrs.fields_dict(trace.Subject)
    assert step.to_json()["detail"] == "started 2024-01-01; stay reached 3 months on 2024-04-01; age 30 at the household's start"
    impute = trace.Impute(mean="2.5", observations=4, clause="§ 3", method="mean", point="m6",
                          facts={"missing": "ended", "household": "H1", "end_reason": "moved_away", "end": "2024-02-01",
                                 "point_date": "2024-07-01", "exemption": "not_replaced"})
    j = impute.to_json()
    assert j["reason"] == "household H1 ended (moved_away) on 2024-02-01, before the point (2024-07-01)"
    assert j["exemption"] == "household not replaced: the exemption does not apply"
    assert trace.from_json(j) == impute


def test_every_class_has_one_narrator_and_says_something_different_in_each_language(documents):
    assert set(NARRATORS) == set(trace.STEPS)
    seen = set()
    for doc in documents.values():
        for step in _steps(doc):
            typed = trace.from_json(step)
            if type(typed) in seen:
                continue
            seen.add(type(typed))
            en, da = describe_step(typed, doc, Formatter("en")), describe_step(typed, doc, Formatter("da"))
            assert en == describe_step(step, doc, Formatter("en")), step  # a dict and its typed step say the same
            assert en[0] and da[0] and (en[0] != da[0] or type(typed) is trace.Rule and not en[0]), step


def test_an_unknown_step_is_refused_when_read_and_shown_as_unknown_in_a_report():
    with pytest.raises(trace.StepError, match="unknown kind of step 'teleport'"):
        trace.from_json({"kind": "teleport", "to": "Mars"})
    with pytest.raises(trace.StepError, match="a cap step without"):
        trace.from_json({"kind": "cap", "cap": "g"})
    sentence, _ = describe_step({"kind": "teleport", "to": "Mars"}, {}, Formatter("en"))
    assert "teleport" in sentence and "to=Mars" in sentence


def test_an_older_document_keeps_its_prose_where_it_has_no_facts():
    old = {"kind": "subject", "subject": "P1", "level": "person", "household": "H1",
           "detail": "started 2020-01-10; stay reached 3 months on 2020-04-10"}
    typed = trace.from_json(old)
    assert typed.facts is None and typed.said == old["detail"] and typed.to_json() == old
    note = {"kind": "note", "text": "anything at all"}
    assert trace.from_json(note).to_json() == note

