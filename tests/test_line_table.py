"""`settle --format csv|parquet`: the payment lines as a table (docs/line-table.md).

On every bundled contract the table's rows are the JSON document's lines — the same ids in the
same order, every field equal, amounts equal as Decimal — its sums reconcile with the totals,
its bytes are the same on every run, and the interpreter's document (the fallback for a
contract the engine does not support) gives the very same bytes as the engine's frame.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from decimal import Context, Decimal
from pathlib import Path

import polars as pl
import pytest

from contractlang import line_table, load
from contractlang.cli import main
from contractlang.engine import Unsupported, unsupported
from contractlang.engine.numbers import INT
from contractlang.evaluate import settle as settle_rows
from contractlang.engine import settle as settle_columns
from contractlang.ledger import load_ledger

from .test_contracts import DIRS, ROOT, _contract, _id

MONEY_TEXT = re.compile(r"-?[0-9]+\.[0-9]{2}\Z")
FIXED = list(line_table.FIXED)


def _settle(d: Path, fmt: str, out: Path, *extra: str) -> Path:
    contract = _contract(d).relative_to(ROOT).as_posix()
    ledger = (d / "ledger").relative_to(ROOT).as_posix()
    assert main(["settle", contract, "--ledger", ledger, "--format", fmt, "-o", str(out), *extra]) == 0
    return out


@pytest.fixture(scope="module", params=DIRS, ids=_id)
def settled(request, tmp_path_factory):
    """(document, CSV bytes, Parquet bytes) of a bundled contract, settled through the command."""
    d = request.param
    out = tmp_path_factory.mktemp(_id(d).replace("/", "-"))
    mp = pytest.MonkeyPatch()
    mp.chdir(ROOT)
    try:
        doc = json.loads(_settle(d, "json", out / "s.json").read_bytes())
        data = _settle(d, "csv", out / "s.csv").read_bytes()
        parquet = _settle(d, "parquet", out / "s.parquet").read_bytes()
    finally:
        mp.undo()
    return d, doc, data, parquet


def _csv_rows(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _line_from_row(row: dict, money, boolean, date) -> dict:
    """A table row back as the JSON line it stands for (split and tranche rebuilt from their columns)."""
    line = {k: row[k] for k in ("id", "goal", "subject", "point", "period", "payer", "outcome")}
    line["date"] = date(row["date"])
    for k in ("gross", "after_goal_cap", "amount"):
        line[k] = money(row[k])
    for k in ("cut", "imputed"):
        line[k] = boolean(row[k])
    line["split"] = {k[len("split_"):]: money(v) for k, v in row.items()
                     if k.startswith("split_") and money(v) is not None}
    parts = []
    for k, v in row.items():
        if re.fullmatch(r"tranche_[0-9]+", k) and money(v) is not None:
            n = int(k.split("_")[1])
            split = {c[len(k) + 1:]: money(x) for c, x in row.items() if c.startswith(k + "_") and money(x) is not None}
            parts.append({"tranche": n, "amount": money(v), "split": split})
    line["tranche"] = parts
    return line


def _json_line(ln: dict) -> dict:
    """A JSON line with its amounts as Decimal and its trace left out (the table has none)."""
    out = {k: v for k, v in ln.items() if k != "trace"}
    for k in ("gross", "after_goal_cap", "amount"):
        out[k] = Decimal(ln[k])
    out["split"] = {q: Decimal(v) for q, v in ln["split"].items()}
    out["tranche"] = [{"tranche": t["tranche"], "amount": Decimal(t["amount"]),
                       "split": {q: Decimal(v) for q, v in t["split"].items()}} for t in ln["tranche"]]
    return out


def _csv_money(v: str):
    if v == "":
        return None
    assert MONEY_TEXT.match(v), v
    return Decimal(v)


def test_csv_rows_are_the_json_lines(settled):
    d, doc, data, _ = settled
    rows = _csv_rows(data)
    assert [r["id"] for r in rows] == [ln["id"] for ln in doc["lines"]]
    for row, ln in zip(rows, doc["lines"]):
        back = _line_from_row({k: (None if k == "payer" and v == "" else v) for k, v in row.items()}, _csv_money,
                              {"true": True, "false": False}.__getitem__, str)
        assert back == _json_line(ln)


def test_parquet_rows_are_the_json_lines(settled):
    d, doc, _, parquet = settled
    table = pl.read_parquet(io.BytesIO(parquet))
    assert table.height == len(doc["lines"])
    for row, ln in zip(table.iter_rows(named=True), doc["lines"]):
        back = _line_from_row(row, lambda v: v, lambda v: v, lambda v: v.isoformat())
        assert back == _json_line(ln)


def test_columns_are_the_fixed_ones_then_split_then_tranches(settled):
    d, doc, data, parquet = settled
    header = data.split(b"\n", 1)[0].decode().split(",")
    assert header[:len(FIXED)] == FIXED
    contract = load(_contract(d))
    lay = line_table.layout(contract)
    expected = FIXED + [f"split_{q}" for q in lay.recipients]
    for number, parties in lay.tranches:
        expected += [f"tranche_{number}"] + [f"tranche_{number}_{q}" for q in parties]
    assert header == expected
    assert lay.recipients == tuple(sorted(lay.recipients))
    assert pl.read_parquet_schema(io.BytesIO(parquet)).names() == header
    # every recipient and tranche party of the document has its column
    assert {q for ln in doc["lines"] for q in ln["split"]} <= set(lay.recipients)
    assert [t["number"] for t in doc["tranches"]] == [n for n, _ in lay.tranches]


def test_parquet_types_and_metadata(settled):
    d, doc, _, parquet = settled
    schema = pl.read_parquet_schema(io.BytesIO(parquet))
    for name, kind in schema.items():
        if name in ("gross", "after_goal_cap", "amount") or name.startswith(("split_", "tranche_")):
            assert kind == pl.Decimal(38, 2), name
        elif name == "date":
            assert kind == pl.Date
        elif name in ("cut", "imputed"):
            assert kind == pl.Boolean
        else:
            assert kind == pl.String, name
    meta = pl.read_parquet_metadata(io.BytesIO(parquet))
    for key in ("engine", "inputs", "contract", "as_of"):
        assert json.loads(meta[f"contractlang.{key}"]) == doc[key]
    assert doc["inputs"]["contract"]["sha256"] in meta["contractlang.inputs"]


def test_csv_is_plain(settled):
    d, doc, data, _ = settled
    text = data.decode("utf-8")
    assert not text.startswith("\ufeff") and "\r" not in text and text.endswith("\n")
    assert text.startswith("id,goal,subject,")  # no comment or preamble: the header is the first line
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len({len(r) for r in rows}) == 1
    read = pl.read_csv(io.BytesIO(data), infer_schema=False)
    assert read.columns == rows[0] and read.height == len(doc["lines"])


def test_totals_reconcile(settled):
    d, doc, data, _ = settled
    rows = [{k: (_csv_money(v) if k not in FIXED or k in ("gross", "after_goal_cap", "amount") else v)
             for k, v in r.items()} for r in _csv_rows(data)]
    totals = doc["totals"]
    assert sum((r["amount"] for r in rows), Decimal(0)) == Decimal(totals["pool"])
    by_payer, by_goal = defaultdict(Decimal), defaultdict(Decimal)
    for r in rows:
        by_payer[r["payer"]] += r["amount"]
        by_goal[r["goal"]] += r["after_goal_cap"]
    assert {k: v for k, v in by_payer.items()} == {k: Decimal(v) for k, v in totals["by_payer"].items()}
    assert all(by_goal[g] == Decimal(v) for g, v in totals["goals"].items())
    recipients = [k[len("split_"):] for k in rows[0] if k.startswith("split_")] if rows else []
    by_recipient = {q: [r[f"split_{q}"] for r in rows if r[f"split_{q}"] is not None] for q in recipients}
    assert {q: sum(v, Decimal(0)) for q, v in by_recipient.items() if v} == \
        {k: Decimal(v) for k, v in totals["by_recipient"].items()}
    tranche_cols = [k for k in (rows[0] if rows else {}) if re.fullmatch(r"tranche_[0-9]+", k)]
    for r in rows:
        assert r["cut"] == ("true" if r["amount"] != r["gross"] else "false")
        parts = [r[k] for k in tranche_cols if r[k] is not None]
        if tranche_cols:
            assert sum(parts, Decimal(0)) == r["amount"]
            for q in recipients:
                mine = [r[f"{k}_{q}"] for k in tranche_cols if r.get(f"{k}_{q}") is not None]
                assert (sum(mine, Decimal(0)) if mine else None) == r[f"split_{q}"]
            for k in tranche_cols:
                if r[k] is not None:
                    assert sum((v for c, v in r.items() if c.startswith(k + "_") and v is not None), Decimal(0)) == r[k]


def test_the_same_inputs_give_the_same_bytes(settled, tmp_path, monkeypatch):
    d, _, data, parquet = settled
    monkeypatch.chdir(ROOT)
    assert _settle(d, "csv", tmp_path / "again.csv").read_bytes() == data
    assert _settle(d, "parquet", tmp_path / "again.parquet").read_bytes() == parquet


@pytest.mark.parametrize("d", DIRS, ids=_id)
def test_the_interpreters_document_gives_the_same_bytes(d, tmp_path, monkeypatch):
    """The fallback for a contract the engine does not support writes what the engine's frame writes."""
    monkeypatch.chdir(ROOT)
    engine = {fmt: _settle(d, fmt, tmp_path / f"engine.{fmt}").read_bytes() for fmt in ("csv", "parquet")}

    def unsupported(*args, **kwargs):
        raise Unsupported("a construct the engine does not evaluate")

    monkeypatch.setattr("contractlang.engine.settle", unsupported)
    for fmt in ("csv", "parquet"):
        assert _settle(d, fmt, tmp_path / f"rows.{fmt}").read_bytes() == engine[fmt]


@pytest.mark.parametrize("d", [d for d in DIRS if unsupported(load(_contract(d))) is None], ids=_id)
@pytest.mark.parametrize("as_of", ["2024-06-30", "2025-12-31"])
def test_engine_and_interpreter_tables_agree_at_other_dates(d, as_of):
    """(A contract the engine leaves to the interpreter has the interpreter's table only.)"""
    contract = load(_contract(d))
    ledger = load_ledger(d / "ledger", contract)
    when = dt.date.fromisoformat(as_of)
    columns = line_table.line_table(settle_columns(contract, ledger, when), contract)
    rows = line_table.line_table(settle_rows(contract, ledger, when, trace=False), contract)
    assert columns.schema == rows.schema
    assert columns.equals(rows)


def test_csv_on_stdout_is_the_file(tmp_path, capsysbinary, monkeypatch):
    monkeypatch.chdir(ROOT)
    d = ROOT / "contracts" / "examples" / "rate-card"
    data = _settle(d, "csv", tmp_path / "s.csv").read_bytes()
    capsysbinary.readouterr()
    assert main(["settle", str(_contract(d).relative_to(ROOT)), "--ledger", "contracts/examples/rate-card/ledger",
                 "--format", "csv"]) == 0
    assert capsysbinary.readouterr().out == data


# ---- the writers on made-up tables --------------------------------------------------------------

def _table(**columns) -> pl.DataFrame:
    lay = line_table.Layout(("A",), ())
    base = {"id": ["g/s/p"], "goal": ["g"], "subject": ["s"], "point": ["p"], "date": [dt.date(2025, 1, 1)],
            "period": ["2025-H1"], "payer": [None], "outcome": ["1"], "gross": [0], "after_goal_cap": [0],
            "amount": [0], "cut": [False], "imputed": [False], "split_A": [None]}
    base.update(columns)
    return pl.DataFrame(base, schema=lay.columns())


def test_hostile_texts_are_quoted_and_read_back_whole():
    texts = ['a,b', 'say "hi"', "two\nlines", "cr\rhere", " lead", "=1+2", "", "æøå"]
    table = pl.concat([_table(subject=[t], id=[f"g/{t}/p"]) for t in texts])
    buf = io.BytesIO()
    line_table.write_csv(table, buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue().decode("utf-8"), newline="")))
    assert [r["subject"] for r in rows] == texts
    assert [r["payer"] for r in rows] == [""] * len(texts)  # a line without a payer: an empty field


def test_money_is_exact_at_the_edges():
    amounts = [1, -1, 5, -5, 10 ** 36 + 1, -(10 ** 38 - 1), 10 ** 38 - 1, 99]
    table = pl.concat([_table(amount=[a], gross=[a], split_A=[a]) for a in amounts])
    buf = io.BytesIO()
    line_table.write_csv(table, buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue().decode("utf-8"), newline="")))
    exact = [Decimal(a).scaleb(-2, Context(prec=60)) for a in amounts]
    assert [Decimal(r["amount"]) for r in rows] == exact
    assert rows[0]["amount"] == "0.01" and rows[1]["amount"] == "-0.01" and rows[7]["amount"] == "0.99"
    buf = io.BytesIO()
    line_table.write_parquet(table, buf, {"engine": {}, "inputs": {}, "contract": {}, "as_of": "2025-01-01"})
    back = pl.read_parquet(io.BytesIO(buf.getvalue()))
    assert back["amount"].to_list() == exact


def test_an_amount_parquet_cannot_hold_is_refused_with_a_message():
    table = _table(amount=[10 ** 38]).with_columns(pl.col("amount").cast(INT))
    with pytest.raises(ValueError, match=r"column amount has more digits than Parquet's decimal\(38, 2\) holds"):
        line_table.write_parquet(table, io.BytesIO(), {"engine": {}, "inputs": {}, "contract": {}, "as_of": ""})


def test_the_documented_columns_are_the_fixed_columns():
    page = (ROOT / "docs" / "line-table.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z_]+)` \|", page, flags=re.M)
    assert documented[:len(FIXED)] == FIXED


# ---- usage ---------------------------------------------------------------------------------------

RATE_CARD = ["settle", "contracts/examples/rate-card/rate-card.contract", "--ledger",
             "contracts/examples/rate-card/ledger"]


def test_parquet_needs_a_file(capsysbinary, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(RATE_CARD + ["--format", "parquet"]) == 2
    out = capsysbinary.readouterr()
    assert out.out == b"" and b"--format parquet needs --output FILE" in out.err


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_table_has_no_trails(fmt, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    assert main(RATE_CARD + ["--format", fmt, "--trails", "-o", str(tmp_path / "x")]) == 2
    assert "use --format json --trails" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_failing_table_writer_leaves_no_file(fmt, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)

    def broken(table, fh, *rest):
        fh.write(b"id,goal\n")
        raise RuntimeError("the writer broke half way")

    monkeypatch.setattr(line_table, f"write_{fmt}", broken)
    assert main(RATE_CARD + ["--format", fmt, "-o", str(tmp_path / f"lines.{fmt}")]) == 1
    assert "RuntimeError: the writer broke half way; nothing was written" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
