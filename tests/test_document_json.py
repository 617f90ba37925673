"""The settlement JSON is exactly what the standard library's json.dumps would write (orjson makes it faster)."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contractlang import load
from contractlang.evaluate import settle
from contractlang.explain import document_json, write_document_json
from contractlang.ledger import load_ledger

from .test_contracts import DIRS, _contract


def reference(doc) -> bytes:
    """The documented form (docs/settlement-json.md), written by the standard library."""
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


@pytest.mark.parametrize("d", DIRS, ids=[d.name for d in DIRS])
def test_every_bundled_settlement_with_its_trails_is_written_as_json_dumps_would(d):
    contract = load(_contract(d))
    doc = settle(contract, load_ledger(d / "ledger", contract), trace=True)
    out = io.BytesIO()
    write_document_json(doc, out)
    assert out.getvalue() == document_json(doc) == reference(doc)


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)  # any text a UTF-8 file can hold
_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63 - 1), _text,
                  st.decimals(allow_nan=False, allow_infinity=False), st.dates())
_value = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
                      max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_text, _value, max_size=6))
def test_any_document_is_written_as_json_dumps_would(doc):
    assert document_json(doc) == reference(doc)


def test_an_empty_document_and_empty_lists():
    assert document_json({}) == reference({})
    doc = {"lines": [], "flags": [{}], "totals": {"goals": {}}, "as_of": dt.date(2028, 10, 31), "x": Decimal("1.50")}
    assert document_json(doc) == reference(doc)
