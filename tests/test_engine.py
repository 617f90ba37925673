"""Engine v2 (`contractlang.engine`, columnar) against the row-by-row interpreter (`contractlang.evaluate`).

The interpreter is the judge the seed examples and the independent Viborg reference
hold; the columnar engine must write the same settlement, byte for byte, on every
bundled contract and ledger at several dates, and on the reference's generated and
hand-made Viborg ledgers, without audit trails and with them (the engine records each
line's steps as columns: `engine/trails.py`). The pieces it computes differently (rounding over scaled
integers, caps as running totals, tranche parts) are also held against their
row-by-row definitions on generated inputs.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contractlang import load
from contractlang.document import document_json
from contractlang.engine import settle as settle_columns, unsupported
from contractlang.engine.numbers import INT, round_div
from contractlang.evaluate import settle as settle_rows
from contractlang.expressions import ROUNDING_MODES, round_decimal
from contractlang.ledger import load_ledger

from .test_contracts import DIRS as ALL_DIRS, _contract

#: The bundled contracts the engine settles; the others (tiers, links, attributes, versions) it hands to the
#: interpreter, which `test_the_engine_hands_the_others_to_the_interpreter` holds it to.
DIRS = [d for d in ALL_DIRS if unsupported(load(_contract(d))) is None]

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_reference_viborg as viborg  # noqa: E402  (its ledgers, not its tests)

DATES = (None, "2022-06-30", "2024-06-30", "2025-12-31", "2027-06-30")


def same_settlement(contract, ledger, as_of) -> None:
    """Without trails and with them (every line's, figure's and metric's), the same bytes."""
    when = dt.date.fromisoformat(as_of) if as_of else None
    for trails in (False, True):
        rows = document_json(settle_rows(contract, ledger, when, trace=trails))
        columns = settle_columns(contract, ledger, when, trails=trails).json()
        assert columns == rows, f"trails={trails}"


@pytest.mark.parametrize("d", DIRS, ids=[d.name for d in DIRS])
def test_every_bundled_contract_settles_alike_at_every_date(d):
    contract = load(_contract(d))
    ledger = load_ledger(d / "ledger", contract)
    for as_of in DATES:
        same_settlement(contract, ledger, as_of)


@pytest.mark.parametrize("d", [d for d in ALL_DIRS if d not in DIRS], ids=lambda d: d.name)
def test_the_engine_hands_the_others_to_the_interpreter(d, tmp_path, monkeypatch):
    """A contract the engine leaves to the interpreter: it says so (`Unsupported`), and `settle` writes the
    interpreter's settlement."""
    from contractlang.cli import main
    from contractlang.engine import Unsupported

    contract = load(_contract(d))
    ledger = load_ledger(d / "ledger", contract)
    with pytest.raises(Unsupported):
        settle_columns(contract, ledger, None)
    out = tmp_path / "s.json"
    monkeypatch.chdir(Path(__file__).resolve().parents[1])
    assert main(["settle", str(_contract(d)), "--ledger", str(d / "ledger"), "--format", "json", "-o", str(out)]) == 0
    assert out.read_bytes() == document_json(settle_rows(contract, ledger, None, trace=False))


@pytest.mark.parametrize("order", [("goal",), ("subject", "goal")], ids=["goal", "subject-goal"])
@pytest.mark.parametrize("d", DIRS, ids=[d.name for d in DIRS])
def test_every_bundled_contract_settles_alike_in_another_line_order(d, order):
    """`order lines by` decides which line a cap cuts and the order of the lines; both evaluators honour it."""
    import attrs
    contract = load(_contract(d))
    contract = attrs.evolve(contract, settlement=attrs.evolve(contract.settlement, order=order))
    ledger = load_ledger(d / "ledger", contract)
    for as_of in (None, "2024-06-30"):
        same_settlement(contract, ledger, as_of)


@pytest.fixture(scope="module")
def viborg_ledgers(tmp_path_factory):
    base = tmp_path_factory.mktemp("v2_ledgers")
    cases = []
    for name, (hh, ctl, seed, thin) in viborg.GENERATED.items():
        d = base / name
        subprocess.run([sys.executable, str(viborg.GENERATOR), "--out", str(d), "--households", str(hh),
                        "--control", str(ctl), "--seed", str(seed)], check=True, capture_output=True)
        if thin:
            viborg.thin_ledger(d, thin, seed)
        cases += [(d, a) for a in viborg.DATES]
    for name, builder in viborg.HANDMADE.items():
        d = base / name
        d.mkdir()
        builder(d)
        cases += [(d, a) for a in viborg.HAND_DATES.get(name, (viborg.END, "2024-06-30", "2025-12-31"))]
    return cases


@pytest.mark.slow
def test_the_reference_ledgers_settle_alike(viborg_ledgers):
    contract = load(viborg.REPO / viborg.CONTRACT)
    loaded = {}
    for d, as_of in viborg_ledgers:
        if d not in loaded:
            loaded[d] = load_ledger(d, contract)
        same_settlement(contract, loaded[d], as_of)


# ---- the pieces, against their row-by-row definitions ------------------------------------

@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(-10**30, 10**30), min_size=1, max_size=20), st.integers(1, 10**12),
       st.sampled_from(ROUNDING_MODES))
def test_round_div_rounds_as_round_decimal(numerators, denominator, mode):
    got = pl.DataFrame({"n": numerators}, schema={"n": INT}).select(round_div(pl.col("n"), denominator, mode))
    want = [int(round_decimal(Fraction(n, denominator), 0, mode)) for n in numerators]
    assert got.to_series().to_list() == want


def _caps_row_by_row(amounts, limit):
    running, out = 0, []
    for a in amounts:
        after = a if a <= 0 else max(0, min(a, limit - running))  # a negative line is never cut
        running += after
        out.append(after)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-10**6, 10**7), max_size=40), st.integers(0, 5 * 10**7),
       st.lists(st.sampled_from(["2024", "2025"]), min_size=40, max_size=40))
def test_a_cap_cuts_lines_as_the_running_total_does(amounts, limit, years):
    from contractlang.engine.payments import _capped
    frame = pl.DataFrame({"_amount": amounts, "_period": years[:len(amounts)]}, schema={"_amount": INT, "_period": pl.Utf8})
    assert _capped(frame, limit, None)["_after"].to_list() == _caps_row_by_row(amounts, limit)
    by_year = _capped(frame, limit, ["_period"])["_after"].to_list()
    for year in ("2024", "2025"):
        idx = [i for i, y in enumerate(years[:len(amounts)]) if y == year]
        assert [by_year[i] for i in idx] == _caps_row_by_row([amounts[i] for i in idx], limit)


def test_ids_with_control_characters_are_escaped_in_trails_as_the_document_writer_escapes_them(tmp_path):
    """A household and person id holding a control character, a quote and a backslash: the engine's trail
    texts (made over columns) are the interpreter's (orjson's) bytes, and the document parses."""
    import json
    import shutil

    d = Path(__file__).resolve().parents[1] / "contracts" / "examples" / "rate-card"
    ledger = tmp_path / "ledger"
    shutil.copytree(d / "ledger", ledger)
    odd = 'H\x01"\\1'
    for name in ("households.csv", "persons.csv"):
        path = ledger / name
        text = path.read_text(encoding="utf-8").replace("H001,", f'"{odd.replace(chr(34), chr(34) * 2)}",', 1)
        path.write_text(text, encoding="utf-8")
    contract = load(_contract(d))
    loaded = load_ledger(ledger, contract)
    assert odd in {h.id for h in loaded.households.values()}
    rows = document_json(settle_rows(contract, loaded, None, trace=True))
    columns = settle_columns(contract, loaded, None, trails=True).json()
    assert columns == rows
    doc = json.loads(columns)
    assert any(step.get("household") == odd for line in doc["lines"] for step in line["trace"])
