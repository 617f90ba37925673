"""Exact numbers: a quotient without a finite decimal expansion stays a fraction until a declared rounding.

The case that made it necessary (school absence, LEDGER.md: "relative differences rounded to one decimal,
half away from zero"): a control mean of (6.66 + 6.67 + 6.67) / 3 = 20/3 against an intervention mean
of 8.07 gives (8.07 − 20/3) / (20/3) × 100 = 21.05 exactly, which rounds to 21.1. Carried as a
50-digit decimal, 20/3 becomes 6.666…667, the difference 21.0499…9, and it rounded to 21.0.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from contractlang.expressions import ROUNDING_MODES, arith, divide, mean, round_decimal, show
from tests.ledgers import LedgerBuilder
from tests.test_settle_seed import lines_of, run


def test_the_school_absence_tie_rounds_on_the_exact_value():
    control = mean([Decimal("6.66"), Decimal("6.67"), Decimal("6.67")])
    assert control == Fraction(20, 3)
    difference = arith("*", divide(arith("-", Decimal("8.07"), control), control), Decimal(100))
    assert difference == Decimal("21.05") and type(difference) is Decimal  # the fraction settles back to a decimal
    assert round_decimal(difference, 1, "half_away_from_zero") == Decimal("21.1")


def test_a_quotient_that_ends_is_a_decimal_and_one_that_does_not_is_a_fraction():
    assert divide(Decimal(1), Decimal(8)) == Decimal("0.125") and type(divide(Decimal(1), Decimal(8))) is Decimal
    assert divide(Decimal(2), Decimal(3)) == Fraction(2, 3)
    assert type(arith("*", Fraction(2, 3), Decimal(3))) is Decimal
    assert show(Fraction(2, 3)) == "0.66666666666666666666666666666666666666666666666667"  # to 50 digits in a trace


_decimals = st.decimals(min_value=-10**6, max_value=10**6, places=4, allow_nan=False, allow_infinity=False)


@given(_decimals, st.integers(0, 3), st.sampled_from(ROUNDING_MODES))
def test_rounding_a_fraction_agrees_with_rounding_the_same_decimal(value, places, mode):
    assert round_decimal(Fraction(value), places, mode) == round_decimal(value, places, mode)
    assert str(round_decimal(Fraction(value), places, mode)) == str(round_decimal(value, places, mode))


@given(st.integers(-10**9, 10**9), st.integers(1, 10**6), st.integers(0, 3), st.sampled_from(ROUNDING_MODES))
def test_rounding_a_fraction_lands_on_a_neighbour_in_the_modes_direction(num, den, places, mode):
    value = Fraction(num, den)
    step = Fraction(1, 10**places)
    result = Fraction(round_decimal(value, places, mode))
    assert result % step == 0 and abs(result - value) < step
    if mode in ("half_up", "half_down", "half_even", "half_away_from_zero", "half_toward_zero"):
        assert abs(result - value) <= step / 2
    directed = {"ceiling": result >= value, "floor": result <= value,
                "up": abs(result) >= abs(value), "down": abs(result) <= abs(value)}
    assert directed.get(mode, True)


def test_the_engine_pays_the_exact_tie(tmp_path):
    """Cohort c1: one intervention child at 8.07 % and control children at 6.66, 6.67, 6.67 % at baseline,
    every child at 7.00 % at m12: d0 = 21.1, d12 = 0, so m12 pays 21.1 × 6,500 = 137,150.00."""
    b = LedgerBuilder().cohort("c1", "2024-01-01")
    b.household("H1", "2024-01-01", cohort="c1").person("I1", "H1", "2014-05-01", 3)
    b.measure("I1", "school_absence_pct", "baseline", "8.07").measure("I1", "school_absence_pct", "m12", "7.00")
    for i, baseline in enumerate(("6.66", "6.67", "6.67"), 1):
        b.household(f"K{i}", "2024-01-01", group="control", cohort="c1").person(f"C{i}", f"K{i}", "2014-05-01", 3)
        b.measure(f"C{i}", "school_absence_pct", "baseline", baseline).measure(f"C{i}", "school_absence_pct", "m12", "7.00")
    line = lines_of(run(b, tmp_path), "school_absence")["school_absence/c1/m12"]
    assert line["gross"] == "137150.00"
    rounds = [s for s in line["trace"] if s["kind"] == "round" and s["rule"] == "relative_difference"]
    assert {"before": "21.05", "after": "21.1"}.items() <= rounds[-1].items()  # the trail shows the tie it rounded
