"""Records of the settlement document built over columns: each row's compact JSON text.

The document writer (`contractlang/document.py`) writes a record as orjson writes a dict
with sorted keys and no spaces; these helpers build the same text for a whole column
at once, so a settlement of a million lines never becomes a million Python dicts.
"""

from __future__ import annotations

import orjson
import polars as pl

from .numbers import money_text

_SPECIAL = r'["\\\x00-\x1f]'
#: Each character orjson escapes in a string, and how: a quote, a backslash and the control characters.
_ESCAPES = {c: orjson.dumps(c).decode()[1:-1] for c in ('"', "\\", *map(chr, range(0x20)))}


def quoted(expr: pl.Expr) -> pl.Expr:
    """A text expression as JSON string literals, escaped exactly as orjson escapes; null stays null."""
    escaped = expr.str.replace_many(list(_ESCAPES), list(_ESCAPES.values()))
    return pl.concat_str([pl.lit('"'), escaped, pl.lit('"')])


def text(frame: pl.DataFrame, expr: pl.Expr) -> pl.Series:
    """A text column of `frame` as JSON string literals (`quoted`), made at once."""
    values = frame.select(expr.cast(pl.Utf8).alias("v")).to_series()
    if not values.str.contains(_SPECIAL).any():  # the common case: nothing to escape
        return ('"' + values + '"').rename(values.name)
    return values.to_frame().select(quoted(pl.col(values.name))).to_series().rename(values.name)


def line_id() -> pl.Expr:
    """Each line's id, `goal/subject/point` (`explain.line_id_parts` reads one back)."""
    return pl.concat_str(["goal", pl.lit("/"), "subject", pl.lit("/"), "point"])


def literal(value) -> pl.Expr:
    """A constant as its JSON text."""
    return pl.lit(orjson.dumps(value).decode())


def iso(expr: pl.Expr) -> pl.Expr:
    """A date column as ISO text (`2025-01-31`)."""
    return expr.dt.to_string("%Y-%m-%d")


def date(expr: pl.Expr) -> pl.Expr:
    """A date column as JSON strings."""
    return pl.concat_str([pl.lit('"'), iso(expr), pl.lit('"')])


def integer(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.Utf8)


def money(expr: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit('"'), money_text(expr), pl.lit('"')])


def obj(pairs: list[tuple[str, pl.Expr]], keep_nulls: bool = True) -> pl.Expr:
    """A JSON object of (key, JSON text) pairs, keys sorted; a null value is `null`, or left out."""
    items = []
    for key, value in sorted(pairs, key=lambda kv: kv[0]):
        value = value.fill_null("null") if keep_nulls else value
        items.append(pl.concat_str([pl.lit(orjson.dumps(key).decode() + ":"), value]))
    return pl.concat_str([pl.lit("{"), pl.concat_str(items, separator=",", ignore_nulls=True), pl.lit("}")])


def array(items: list[pl.Expr]) -> pl.Expr:
    """A JSON array of the items that are not null."""
    if not items:
        return pl.lit("[]")
    return pl.concat_str([pl.lit("["), pl.concat_str(items, separator=",", ignore_nulls=True), pl.lit("]")])


def with_text(frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """`frame` with JSON-string columns `j:<name>` for the given text expressions."""
    return frame.with_columns(*[text(frame, e).alias(f"j:{name}") for name, e in columns.items()])
