"""The payment lines as a table for analysts: `settle --format csv|parquet` (docs/line-table.md).

One row per line of the settlement, in the document's order, with the fields of the line's
JSON record as columns. A line's split between recipients and its parts in the tranches get a
column per recipient and per tranche and party, named from the contract, so the columns depend
on the contract alone, never on the data. The table is built over the engine's line frame; a
settlement the interpreter made (a contract the engine does not support) is read from its
document, into the same columns. Money is whole øre (Int128) until it is written: exact decimal
text in CSV, `decimal(38, 2)` in Parquet.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import orjson
import polars as pl

from . import model as m
from .engine.numbers import INT, money_text
from .engine.records import line_id

#: The columns every table has, in order, with their type in the table (money: whole øre).
FIXED = {"id": pl.Utf8, "goal": pl.Utf8, "subject": pl.Utf8, "point": pl.Utf8, "date": pl.Date,
         "period": pl.Utf8, "payer": pl.Utf8, "outcome": pl.Utf8, "gross": INT, "after_goal_cap": INT,
         "amount": INT, "cut": pl.Boolean, "imputed": pl.Boolean}
#: Money in Parquet: 38 digits, two of them after the point (a Parquet and Arrow decimal128).
PARQUET_MONEY = pl.Decimal(38, 2)
#: Rows of a Parquet row group (pinned, so the file does not depend on how the frame is chunked).
ROW_GROUP = 1 << 18
#: The Parquet key-value metadata the settlement's header gives (each value its JSON text).
METADATA_KEYS = ("engine", "inputs", "contract", "as_of")


@attrs.frozen
class Layout:
    """The columns a contract's table has besides the fixed ones.

    `recipients`: who a line is split to (sorted); `tranches`: each tranche's number and the
    parties of its split (sorted), in contract order."""

    recipients: tuple[str, ...]
    tranches: tuple[tuple[int, tuple[str, ...]], ...]

    def columns(self) -> dict[str, pl.DataType]:
        """Every column of the table, in order, with its type (money as whole øre)."""
        cols = dict(FIXED)
        cols.update({split_column(q): INT for q in self.recipients})
        for number, parties in self.tranches:
            cols[tranche_column(number)] = INT
            cols.update({tranche_column(number, q): INT for q in parties})
        return cols

    def money(self) -> list[str]:
        """The money columns, in order."""
        return [name for name, kind in self.columns().items() if kind == INT]


def split_column(party: str) -> str:
    return f"split_{party}"


def tranche_column(number: int, party: str | None = None) -> str:
    return f"tranche_{number}" if party is None else f"tranche_{number}_{party}"


def layout(contract: m.Contract) -> Layout:
    """The contract's split and tranche columns (as the settlement splits a line: see engine/payments.py)."""
    t = contract.tranches
    if t is None:
        funders = [p.id for p in contract.parties if p.role == "funder"]
        return Layout((funders[0] if funders else "recipient",), ())
    parts = tuple((tr.number, tuple(sorted({s.party for s in tr.shares} | {t.remainder}))) for tr in t.tranches)
    return Layout(tuple(sorted({q for _, parties in parts for q in parties})), parts)


# ---- the table -------------------------------------------------------------------------------

def line_table(settlement, contract: m.Contract) -> pl.DataFrame:
    """The settlement's lines as the table (money in whole øre), from the engine's frame or a document."""
    lay = layout(contract)
    if isinstance(settlement, dict):
        return _from_document(settlement["lines"], lay)
    return _from_engine(settlement.lines, lay)


def _from_engine(lines: pl.DataFrame, lay: Layout) -> pl.DataFrame:
    cols = [line_id().alias("id"),
            "goal", "subject", "point", "date", "period", "payer", "outcome", "gross", "after_goal_cap", "amount",
            (pl.col("amount") != pl.col("gross")).alias("cut"), "imputed"]
    cols += [pl.col(f"split:{q}").alias(split_column(q)) for q in lay.recipients]
    for i, (number, parties) in enumerate(lay.tranches):
        cols.append(pl.col(f"t{i}").alias(tranche_column(number)))
        cols += [pl.col(f"t{i}:{q}").alias(tranche_column(number, q)) for q in parties]
    schema = lay.columns()
    return lines.select(cols).cast(schema).select(list(schema))


def _ore(text: str) -> int:
    """A money text of the document (`"-1234.05"`: exactly two places) as whole øre, every digit kept."""
    whole, dot, cents = text.partition(".")
    if not dot or len(cents) != 2:
        raise ValueError(f"{text!r} is not an amount with two decimal places")
    return int(whole + cents)


def _from_document(lines: list[dict], lay: Layout) -> pl.DataFrame:
    """The interpreter's lines (dicts) as the table; only for a settlement the engine does not make."""
    schema = lay.columns()
    data: dict[str, list] = {name: [] for name in schema}
    fixed_money = ("gross", "after_goal_cap", "amount")
    for ln in lines:
        for name in ("id", "goal", "subject", "point", "period", "payer", "outcome", "cut", "imputed"):
            data[name].append(ln[name])
        data["date"].append(dt.date.fromisoformat(ln["date"]))
        for name in fixed_money:
            data[name].append(_ore(ln[name]))
        if not set(ln["split"]) <= set(lay.recipients):
            raise ValueError(f"line {ln['id']}: split to {sorted(ln['split'])}, not among {list(lay.recipients)}")
        for q in lay.recipients:
            data[split_column(q)].append(_ore(ln["split"][q]) if q in ln["split"] else None)
        parts = {part["tranche"]: part for part in ln["tranche"]}
        for number, parties in lay.tranches:
            part = parts.get(number)
            data[tranche_column(number)].append(_ore(part["amount"]) if part else None)
            for q in parties:
                value = part["split"].get(q) if part else None
                data[tranche_column(number, q)].append(_ore(value) if value is not None else None)
    return pl.DataFrame(data, schema=schema)


# ---- writers ---------------------------------------------------------------------------------

def write_csv(table: pl.DataFrame, fh) -> None:
    """The table as CSV: UTF-8 without a BOM, a header row, `\\n` line ends, a field quoted only where
    RFC 4180 needs it, money as decimal text (`-1234.05`), dates ISO, `true`/`false`, empty for none."""
    money = [c for c, kind in table.schema.items() if kind == INT]
    text = table.with_columns(money_text(pl.col(c)).alias(c) for c in money)
    text.write_csv(fh, include_header=True, separator=",", line_terminator="\n", quote_char='"',
                   quote_style="necessary", date_format="%Y-%m-%d", null_value="")


def write_parquet(table: pl.DataFrame, fh, head: dict) -> None:
    """The table as Parquet: money as `decimal(38, 2)`, zstd, statistics, row groups of ROW_GROUP rows,
    and the settlement's header (engine, inputs with their sha256, contract, as_of) as key-value metadata."""
    money = [c for c, kind in table.schema.items() if kind == INT]
    limit = 10 ** 38
    for c in money:
        if table.select(((pl.col(c) >= limit) | (pl.col(c) <= -limit)).any()).item():
            raise ValueError(f"an amount in the column {c} has more digits than Parquet's decimal(38, 2) holds; "
                             "use --format csv or json")
    cent = pl.lit(Decimal("0.01"), dtype=pl.Decimal(3, 2))
    out = table.with_columns((pl.col(c).cast(pl.Decimal(38, 0)) * cent).cast(PARQUET_MONEY).alias(c)
                             for c in money).rechunk()
    metadata = {f"contractlang.{key}": orjson.dumps(head[key], option=orjson.OPT_SORT_KEYS).decode()
                for key in METADATA_KEYS}
    out.write_parquet(fh, compression="zstd", compression_level=3, statistics=True, row_group_size=ROW_GROUP,
                      metadata=metadata)


def settlement_head(settlement) -> dict:
    """The document's header of a settlement from either engine (the metadata's source)."""
    return settlement if isinstance(settlement, dict) else settlement.head
