"""Exact numbers in columns.

Polars' Decimal type rounds a product to the larger of its factors' scales, so the
engine does not use it for arithmetic. A number column is instead a `Num`: an
Int128 column of whole units of 10^-scale, with the scale known when the contract
is compiled. Sums, differences, products and comparisons of such columns are exact;
a quotient is not a column operation (a mean is formed once per group, as an exact
fraction, in Python). Money is a `Num` of scale 2: whole øre.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import attrs
import polars as pl

INT = pl.Int128
MONEY_SCALE = 2


@attrs.frozen
class Num:
    """A number column: `expr` (Int128) counts units of 10^-scale; null is a missing value."""

    expr: pl.Expr
    scale: int


def scaled(value: Decimal | int, scale: int) -> int:
    """`value` as a whole number of units of 10^-scale (exact: the value has at most `scale` places)."""
    n = Decimal(value).scaleb(scale)
    if n != n.to_integral_value():
        raise ValueError(f"{value} has more than {scale} decimal places")
    return int(n)


def places(value: Decimal) -> int:
    """How many decimal places an exact value needs (0 for a whole number)."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def literal(value: Decimal | int) -> Num:
    value = Decimal(value)
    s = places(value)
    return Num(pl.lit(scaled(value, s), dtype=INT), s)


def rescale(x: Num, scale: int) -> pl.Expr:
    """`x` in units of 10^-scale (scale ≥ x.scale)."""
    return x.expr if scale == x.scale else x.expr * pl.lit(10 ** (scale - x.scale), dtype=INT)


def align(a: Num, b: Num) -> tuple[pl.Expr, pl.Expr, int]:
    s = max(a.scale, b.scale)
    return rescale(a, s), rescale(b, s), s


def round_div(n: pl.Expr, d: int | pl.Expr, mode: str) -> pl.Expr:
    """n / d rounded to a whole number by a named mode (d > 0); agrees with expressions.round_decimal."""
    if isinstance(d, int):
        if d == 1:
            return n
        d = pl.lit(d, dtype=INT)
    q = n // d                       # floor
    r = n - q * d                    # 0 <= r < d
    inexact = r > 0
    if mode == "floor":
        up = pl.lit(False)
    elif mode == "ceiling":
        up = inexact
    elif mode == "down":
        up = inexact & (n < 0)
    elif mode == "up":
        up = inexact & (n >= 0)
    else:
        twice = r * 2
        tie = {"half_up": pl.lit(True), "half_down": pl.lit(False), "half_even": (q % 2) == 1,
               "half_away_from_zero": n > 0, "half_toward_zero": n < 0}[mode]
        up = (twice > d) | ((twice == d) & tie)
    return q + up.cast(INT)


def round_num(x: Num, to_places: int, mode: str) -> Num:
    """`x` rounded to `to_places` decimals."""
    if x.scale <= to_places:
        return x
    return Num(round_div(x.expr, 10 ** (x.scale - to_places), mode), to_places)


def to_value(n: int, scale: int) -> Decimal:
    """A scaled whole number back as the Decimal it stands for."""
    return Decimal(n).scaleb(-scale)


def fraction(n: int, scale: int) -> Fraction:
    return Fraction(n, 10 ** scale)


def number_text(x: Num) -> pl.Expr:
    """A scaled number as `show` writes a Decimal: every digit it has, no trailing zeros, no point for a whole."""
    v = x.expr
    if x.scale == 0:
        return v.cast(pl.Utf8)
    a, unit = v.abs(), 10 ** x.scale
    whole = (a // unit).cast(pl.Utf8)
    places = (a % unit).cast(pl.Utf8).str.zfill(x.scale).str.strip_chars_end("0")
    return _signed(v, pl.when(places == "").then(whole).otherwise(pl.concat_str([whole, pl.lit("."), places])))


def fixed_text(x: Num, places: int) -> pl.Expr:
    """A number with exactly `places` decimals (a value rounded to them, `x.scale <= places`), as
    `format(Decimal, "f")` writes it: money (`-1234.05`), or the result of a declared rounding."""
    v = rescale(x, places)
    if places == 0:
        return v.cast(pl.Utf8)
    unit = 10 ** places
    a = v.abs()
    return _signed(v, pl.concat_str([(a // unit).cast(pl.Utf8), pl.lit("."), (a % unit).cast(pl.Utf8).str.zfill(places)]))


def _signed(v: pl.Expr, digits: pl.Expr) -> pl.Expr:
    """`digits` (of |v|) with a minus sign where v is negative."""
    return pl.concat_str([pl.when(v < 0).then(pl.lit("-")).otherwise(pl.lit("")), digits])


def money_text(expr: pl.Expr) -> pl.Expr:
    """Whole øre as the document's money text, `-1234.05`."""
    return fixed_text(Num(expr, MONEY_SCALE), MONEY_SCALE)


def money(n: int) -> str:
    """Whole øre as money text (Python side)."""
    sign = "-" if n < 0 else ""
    q, r = divmod(abs(n), 100)
    return f"{sign}{q}.{r:02d}"
