"""Hostile numbers, class 7 of issue 12: arithmetic never rounds behind the contract's back.

The engine settles inside a 50-digit decimal context. A value just under half an øre with 60
digits must stay just under half an øre through `+`, `-`, `*`, unary minus, `abs`, sums and
percentages, so that the declared rounding (the only one) rounds it down.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest

from contractlang import model as m
from contractlang.expressions import Scope, arith, evaluate, exact_sum, quantity_value, round_decimal

#: 0.00499…9 with 60 significant digits: half an øre less 10^-62.
UNDER_HALF = Decimal("0.00" + "4" + "9" * 59)


@pytest.fixture
def fifty_digits():
    with decimal.localcontext() as ctx:
        ctx.prec = 50  # as evaluate.settle runs
        yield


def test_the_rate_is_just_under_half_an_ore():
    assert len(UNDER_HALF.as_tuple().digits) == 60 and UNDER_HALF < Decimal("0.005")
    assert round_decimal(UNDER_HALF, 2, "half_up") == Decimal("0.00")


@pytest.mark.parametrize("op, left, right, expected", [
    ("*", UNDER_HALF, Decimal(1), UNDER_HALF),
    ("+", UNDER_HALF, Decimal(0), UNDER_HALF),
    ("+", Decimal(100), UNDER_HALF, Decimal("100.00" + "4" + "9" * 59)),
    ("-", Decimal(100), UNDER_HALF.copy_negate(), Decimal("100.00" + "4" + "9" * 59)),
])
def test_arith_is_exact_in_a_fifty_digit_context(fifty_digits, op, left, right, expected):
    result = arith(op, left, right)
    assert result == expected
    assert round_decimal(result, 2, "half_up") == round_decimal(expected, 2, "half_up") < expected + Decimal("0.001")


def test_products_keep_every_digit(fifty_digits):
    a, b = Decimal("1234567890.1234567891"), Decimal("9876543210.9876543211")  # 40 digits of product
    product = arith("*", arith("*", a, b), arith("*", a, b))  # 80 digits, beyond the context's 50
    assert product == decimal.Context(prec=200).multiply(decimal.Context(prec=200).multiply(a, b),
                                                         decimal.Context(prec=200).multiply(a, b))


def test_sums_keep_every_digit(fifty_digits):
    assert exact_sum([UNDER_HALF, Decimal(10) ** 20, -(Decimal(10) ** 20)]) == UNDER_HALF


def test_negation_abs_and_percent_keep_every_digit(fifty_digits):
    scope = Scope(resolve=lambda name, point, trace: UNDER_HALF.copy_negate(), point="p", tables={}, roundings={})
    ref = m.Ref(name="x")
    assert evaluate(m.Neg(operand=ref), scope) == UNDER_HALF
    assert evaluate(m.Call(func="abs", args=(ref,)), scope) == UNDER_HALF
    assert quantity_value(m.Quantity(value=Decimal("0." + "4" + "9" * 59), unit="%")) == UNDER_HALF


def test_a_rounding_beyond_the_context_is_not_an_error(fifty_digits):
    # 10^48 to two places needs 51 digits: the declared rounding works whatever the context holds.
    assert round_decimal(Decimal(10) ** 48, 2, "half_up") == Decimal(10) ** 48
