"""The settlement JSON is exactly the documented layout, as the standard library would write it (orjson makes it
faster): json.dumps(indent=2, sort_keys=True), except that each record of `lines`, `exclusions` and
`row_exclusions` is one compact line."""

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
from contractlang.document import RECORD_LISTS, document_json, write_document_json
from contractlang.ledger import load_ledger

from .test_contracts import DIRS, _contract


def reference(doc) -> bytes:
    """The documented form (docs/settlement-json.md), written by the standard library."""
    if not doc:
        return b"{}\n"
    parts = []
    for key in sorted(doc):
        value = doc[key]
        if key in RECORD_LISTS and isinstance(value, list):
            items = [json.dumps(x, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
                     for x in value]
            text = "[\n    " + ",\n    ".join(items) + "\n  ]" if items else "[]"
        else:
            text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True, default=str).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key, ensure_ascii=False)}: {text}")
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode("utf-8")


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


def test_each_record_is_one_line_and_the_rest_is_indented():
    doc = {"lines": [{"id": "g/s/p", "split": {"B": "1.00", "A": "2.00"}}, {"id": "g/t/p"}], "as_of": "2028-10-31",
           "totals": {"pool": "3.00"}}
    assert document_json(doc).decode() == (
        '{\n  "as_of": "2028-10-31",\n  "lines": [\n'
        '    {"id":"g/s/p","split":{"A":"2.00","B":"1.00"}},\n'
        '    {"id":"g/t/p"}\n  ],\n  "totals": {\n    "pool": "3.00"\n  }\n}\n')
