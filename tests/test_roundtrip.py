"""Round trips: DSL → model → DSL (printer) and model → YAML → model (yamlform), and YAML errors."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contractlang import model as m
from contractlang.errors import ParseError
from contractlang.parse import parse_file, parse_text
from contractlang.printer import format_contract, format_expr, format_quantity, quote
from contractlang.yamlform import MAX_DEPTH, dump_yaml, load_yaml

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = sorted((ROOT / "contracts").rglob("*.contract"))
VIBORG = ROOT / "contracts" / "viborg" / "viborg.contract"
VIBORG_YAML = ROOT / "contracts" / "viborg" / "viborg.yaml"

# Every declaration form and option the grammar has, in an unusual order, with comments.
KITCHEN_SINK = r'''
# a comment the formatter drops
figure business_case "Business case" = grant_total * 2 - 1_000 DKK § "F 1"
decision "top-level decision with a \"quote\" and a back\\slash"
contract sink
party A "Alpha" funder
party B recipient § "P"
currency EUR
grant A 1_000_000 DKK
grant A 18000 DKK assumed "the seed gives no figure" § "G"
disbursement {
  instalment 2024-01-01: A 500_000 DKK
  instalment "second" 2025-01-01: A 500_000 DKK, A 0 DKK § "D"
}
table t { columns c1 DKK, c2 "two" %
  row r1: 1, 2 %
  sum s "S" of r1 weighted by c1: -, sym § "T" }
programme { intervention 2024-01-01 to 2025-12-31 }
point p0 = start
point p1 = end + 6 months assumed
measure e household { values x, y at p0 }
measure i person integer at p0, p1
measure d person decimal -5 to 2.5 at p1
rounding r 0 places down
goal g {
  decision "goal decision"
  subjects households where not (a or b) and c
  points p0
  let k = -(x - y)@p1 + f() * (a + b)
  let j = match s { u, v => match t { w => 1 } z => 2 DKK assumed "q" }
  outcome (a < b) == c or d in {x, y} and e between 1 and 2 + 3
  pay 1.5 % per success
  missing zero
}
goal h { outcome t.c1[count(persons where 2024-01-01 <= d)] }
cap g 10 DKK per half_year
return cap B 5 DKK on g, h
tranches on all goals { tranche 1: A 100 % rounding r, remainder A }
settlement { periods quarterly due end of following month order lines by goal }
flag f { when t.c2 > 0 }
flag f2 "F" { for each household on 2024-06-30 when - -x < -1 }
metric share_ok "OK" § "M" { subjects households where a share where b target 50 % }
metric share_all { share where c }
'''


def roundtrip(text: str) -> m.Contract:
    """Parse, print, parse again: return the first model after checking both properties."""
    c = parse_text(text, "t.contract")
    printed = format_contract(c)
    again = parse_text(printed, "printed.contract")
    assert again == c
    assert format_contract(again) == printed
    return c


def yaml_errors(text: str) -> list:
    with pytest.raises(ParseError) as info:
        load_yaml(textwrap.dedent(text), "bad.yaml")
    diags = info.value.diagnostics
    assert diags and all(d.code == "CL030" for d in diags)
    return diags


# ---- identity on every contract in the repository ---------------------------------------

def test_contracts_are_found():
    assert VIBORG in CONTRACTS


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.parent.name + "/" + p.name)
def test_print_roundtrip(path):
    c = parse_file(path)
    printed = format_contract(c)
    assert parse_text(printed, "printed") == c
    assert format_contract(parse_text(printed, "printed")) == printed


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.parent.name + "/" + p.name)
def test_yaml_roundtrip(path):
    c = parse_file(path)
    text = dump_yaml(c)
    back = load_yaml(text, "x.yaml")
    assert back == c
    assert dump_yaml(back) == text
    assert format_contract(back) == format_contract(attrs.evolve(c, source=None))  # YAML has no comments


def test_committed_viborg_yaml_matches_contract():
    text = VIBORG_YAML.read_text(encoding="utf-8")
    assert load_yaml(text, str(VIBORG_YAML)) == parse_file(VIBORG)
    assert dump_yaml(load_yaml(text, "v.yaml")) == text  # committed in canonical form


def test_kitchen_sink_roundtrips_through_dsl_and_yaml():
    c = roundtrip(KITCHEN_SINK)
    assert load_yaml(dump_yaml(c), "k.yaml") == c
    # YAML holds the declarations in the reference's order, not the author's (nor the comments)
    assert format_contract(load_yaml(dump_yaml(c), "k.yaml")) == format_contract(attrs.evolve(c, source=None))
    assert c.grants[1].amount.assumption == "the seed gives no figure"
    assert c.points[1].offset.assumption == "assumed"


def test_viborg_layout():
    text = format_contract(parse_file(VIBORG))
    assert text.startswith("# Relationel Velfærd, Viborg")  # the head comment kept
    assert ('\n\ncontract viborg_relationel_velfaerd "Relationel Velfærd, Viborg Kommune" § "Tilsagn"\n'
            "currency DKK\n\n") in text
    assert "grant DSI 3_912_500 DKK § \"Tilsagn 3.1\"\n" in text
    assert "  interest 5.07 % per year, 365 days, capitalised 12-31\n" in text
    assert "  tranche 1 until 5_275_000 DKK: DSI 74 %, LBF 26 %\n" in text
    assert ("  outcome match benefit_types.criterion[reference] {\n"
            "    education_employment => in_su_education or completed_education_6m\n"
            + " " * 28 + "or benefit_type in {employed, no_benefit, self_supporting_in_programme}\n"
            "    sick_leave_recovery => fit_status in {fit, partly_fit}\n"
            "    flexjob => benefit_type == flexjob\n"
            "  }\n") in text
    assert "  outcome max(0, -(difference - difference@baseline))\n" in text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_format_keeps_comments_and_normalises_layout():
    """A comment after code on its line is kept too, on a line of its own before the declaration."""
    text = 'contract   x  # c\n# whole line\ngrant A   1400000 DKK\nparty A funder  # the funder\ncap g 1000 DKK'
    assert format_contract(parse_text(text)) == (
        "# c\ncontract x\ncurrency DKK\n\n# whole line\ngrant A 1_400_000 DKK\n\n# the funder\nparty A funder\n\n"
        "cap g 1_000 DKK\n")


# ---- printer: expressions ------------------------------------------------------------------

def expr_of(source: str):
    return parse_text(f"contract x\nfigure f = {source}").figures[0].expr


def fmt(source: str) -> str:
    e = expr_of(source)
    out = format_expr(e)
    assert expr_of(out) == e
    return out


@pytest.mark.parametrize("source, expected", [
    ("(a + b) * c", "(a + b) * c"),
    ("a + b * c", "a + b * c"),
    ("((a)) + ((b * c))", "a + b * c"),
    ("a - (b - c)", "a - (b - c)"),
    ("(a - b) - c", "a - b - c"),
    ("a + (b + c)", "a + (b + c)"),
    ("a / (b * c)", "a / (b * c)"),
    ("(a / b) * c", "a / b * c"),
    ("-(x - y)", "-(x - y)"),
    ("-x@m", "-x@m"),
    ("(-x)@m", "(-x)@m"),
    ("(a + b)@m@n", "(a + b)@m@n"),
    ("-(-x)", "- -x"),
    ("a - -b", "a - -b"),
    ("-(a * b)", "-(a * b)"),
    ("(-a) * b", "-a * b"),
    ("not (a or b)", "not (a or b)"),
    ("not a == b", "not a == b"),
    ("(not a) == b", "(not a) == b"),
    ("(a or b) and c", "(a or b) and c"),
    ("a or (b and c)", "a or b and c"),
    ("a and (b and c)", "a and b and c"),
    ("(a < b) == c", "(a < b) == c"),
    ("(a + 1) in {x, y}", "a + 1 in {x, y}"),
    ("(a or b) in {x}", "(a or b) in {x}"),
    ("x between (a + 1) and (b - 1) and c", "x between a + 1 and b - 1 and c"),
    ("x between (a and b) and c", "x between (a and b) and c"),
    ("max(0, (a + b))", "max(0, a + b)"),
    ("f()", "f()"),
    ("t.c[(k@m)]", "t.c[k@m]"),
    ("count( persons  where a>=2024-01-01 )", "count(persons where a >= 2024-01-01)"),
    ("5.07 %", "5.07 %"),
    ("1400000 DKK", "1_400_000 DKK"),
    ("18000 DKK assumed", '18_000 DKK assumed "assumed"'),
    ("(match x { a => 1 }) + 2", "match x {\n  a => 1\n} + 2"),
])
def test_expression_printing(source, expected):
    assert fmt(source) == expected


def test_match_printed_on_several_lines_at_its_indentation():
    e = expr_of("match a { x, y => 1  z => match b { w => c } }")
    assert format_expr(e, "  ") == "match a {\n    x, y => 1\n    z => match b {\n      w => c\n    }\n  }"


def test_long_or_chain_wraps_under_its_start():
    operands = " or ".join(f"condition_number_{i}" for i in range(8))
    printed = format_contract(parse_text(f"contract x\nflag f {{ when {operands} }}"))
    lines = printed.splitlines()
    when = next(i for i, line in enumerate(lines) if line.startswith("  when "))
    assert len(lines[when]) <= 100 and lines[when + 1].startswith(" " * 7 + "or condition_number_")
    roundtrip(printed)


@pytest.mark.parametrize("value, unit, expected", [
    ("26", "%", "26 %"), ("5.07", "%", "5.07 %"), ("999", None, "999"), ("1000", None, "1_000"),
    ("1400000", "DKK", "1_400_000 DKK"), ("0.50", None, "0.50"), ("1234567.25", "DKK", "1_234_567.25 DKK"),
    ("1E+3", "count", "1_000 count"), ("1.500", "DKK", "1.5000 DKK"),
])
def test_quantity_printing(value, unit, expected):
    q = m.Quantity(value=Decimal(value), unit=unit)
    assert format_quantity(q) == expected
    assert expr_of(expected) == q


def test_strings_are_requoted_with_escapes():
    assert quote('say "hi" \\ bye') == r'"say \"hi\" \\ bye"'
    c = roundtrip(r'contract x "a \"b\" c\\" § "\\\\"')
    assert c.title == 'a "b" c\\' and c.clause == "\\\\"


def test_printer_refuses_what_the_language_cannot_state():
    with pytest.raises(ValueError):
        quote("two\nlines")
    with pytest.raises(ValueError):
        format_quantity(m.Quantity(value=Decimal(-1)))


# ---- property: random expression trees survive print → parse and YAML ----------------------

NAMES = st.sampled_from(["a", "b", "x_1", "foo", "Bar"])
POINTS = st.sampled_from(["m12", "baseline", "end"])
TEXTS = st.text(alphabet='ab "\\§æ', min_size=1, max_size=6)
QUANTITIES = st.builds(
    lambda v, u, a: m.Quantity(value=Decimal(v), unit=u, assumption=a),
    st.sampled_from(["0", "5", "1400000", "5.07", "0.50", "1.500", "26.2"]),
    st.sampled_from([None, "DKK", "%", "months", "percentage_points"]),
    st.one_of(st.none(), TEXTS))
LEAVES = st.one_of(
    QUANTITIES, st.builds(lambda n: m.Ref(name=n), NAMES),
    st.builds(lambda d: m.DateLit(value=d), st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31))),
    st.builds(lambda t, c: m.ColumnRef(table=t, column=c), NAMES, NAMES))


def _bool(op, xs):
    flat = []
    for x in xs:
        flat.extend(x.operands if isinstance(x, m.BoolOp) and x.op == op else (x,))
    return m.BoolOp(op=op, operands=tuple(flat))


def _extend(sub):
    return st.one_of(
        st.builds(lambda op, l, r: m.Binary(op=op, left=l, right=r),
                  st.sampled_from(["+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">="]), sub, sub),
        st.builds(lambda op, xs: _bool(op, xs), st.sampled_from(["and", "or"]), st.lists(sub, min_size=2, max_size=3)),
        st.builds(lambda x: m.Neg(operand=x), sub), st.builds(lambda x: m.Not(operand=x), sub),
        st.builds(lambda x, p: m.At(expr=x, point=p), sub, POINTS),
        st.builds(lambda x, vs: m.In(operand=x, values=tuple(vs)), sub, st.lists(NAMES, min_size=1, max_size=3)),
        st.builds(lambda x, lo, hi: m.Between(operand=x, low=lo, high=hi), sub, sub, sub),
        st.builds(lambda f, xs: m.Call(func=f, args=tuple(xs)), NAMES, st.lists(sub, max_size=3)),
        st.builds(lambda t, c, k: m.Lookup(table=t, column=c, key=k), NAMES, NAMES, sub),
        st.builds(lambda lv, w: m.Count(level=lv, where=w), st.sampled_from(["persons", "households"]), sub),
        st.builds(lambda s, arms: m.Match(subject=s, arms=tuple(m.MatchArm(values=tuple(v), result=r) for v, r in arms)),
                  sub, st.lists(st.tuples(st.lists(NAMES, min_size=1, max_size=2), sub), min_size=1, max_size=3)),
    )


EXPRESSIONS = st.recursive(LEAVES, _extend, max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS)
def test_random_expressions_roundtrip(e):
    contract = m.Contract(id="x", figures=(m.Figure(id="f", expr=e),),
                          flags=(m.Flag(id="g", when=e),))
    printed = format_contract(contract)
    assert parse_text(printed, "p") == contract
    assert load_yaml(dump_yaml(contract), "p.yaml") == contract


# ---- YAML: forms accepted ---------------------------------------------------------------------

MINIMAL = """\
id: x
grants:
  - party: A
    amount: 1_400_000 DKK
"""


def test_yaml_accepts_quoted_and_unquoted_dates_and_numbers():
    c = load_yaml(textwrap.dedent("""\
        id: x
        programme:
          intervention_start: 2023-11-01
          intervention_end: "2026-10-31"
          minimum_stay: 3 months
        measures:
          - {id: s, level: person, kind: decimal, low: -5, high: "2.50", points: [p]}
        tables:
          - id: t
            columns: [{id: c, unit: "%"}]
            rows: [{id: r, cells: [5.07, "1_000 DKK", sym, "-", {value: 18000, unit: DKK, assumption: guess}]}]
        """), "ok.yaml")
    assert c.programme.intervention_start == dt.date(2023, 11, 1)
    assert c.programme.intervention_end == dt.date(2026, 10, 31)
    assert (c.measures[0].low, c.measures[0].high) == (Decimal(-5), Decimal("2.50"))
    assert c.tables[0].rows[0].cells == (
        m.Quantity(value=Decimal("5.07")), m.Quantity(value=Decimal(1000), unit="DKK"), m.Symbol(name="sym"),
        m.Empty(), m.Quantity(value=Decimal(18000), unit="DKK", assumption="guess"))


def test_yaml_spans_point_into_the_yaml_file():
    c = load_yaml(MINIMAL + "goals:\n  - id: g\n    outcome: max(0, a - b)\n", "s.yaml")
    assert (c.grants[0].span.file, c.grants[0].span.line) == ("s.yaml", 3)
    call = c.goals[0].outcome
    assert (call.span.line, call.span.column) == (7, 14)
    assert (call.args[1].span.line, call.args[1].span.column) == (7, 21)


def test_dumped_yaml_is_plain_and_readable():
    text = dump_yaml(parse_file(VIBORG))
    assert text.startswith("id: viborg_relationel_velfaerd\n")
    assert "    amount: 3_912_500 DKK\n" in text
    assert "    points: [m12, m18, m24]\n" in text
    assert "cells: [education_employment, 39, 50 %]" in text
    assert "Velfærd" in text and "!!" not in text


# ---- YAML: errors -------------------------------------------------------------------------------

def test_unknown_key_with_did_you_mean():
    [d] = yaml_errors(MINIMAL + "goals:\n  - id: g\n    outcme: a\n")
    assert "$.goals[0]: unknown key 'outcme'; did you mean 'outcome'?" in d.message
    assert (d.span.file, d.span.line, d.span.column) == ("bad.yaml", 7, 5)


def test_bad_expression_is_located_at_its_line():
    [d] = yaml_errors(MINIMAL + "goals:\n  - id: g\n    where: age >= 18\n    outcome: max(0, a +* b)\n")
    assert d.message.startswith("$.goals[0].outcome:")
    assert (d.span.line, d.span.column) == (8, 24)  # the '*'


def test_bad_expression_in_a_block_scalar_is_located_at_its_line():
    [d] = yaml_errors(MINIMAL + "goals:\n  - id: g\n    outcome: |\n      match a {\n        x => )\n      }\n")
    assert d.message.startswith("$.goals[0].outcome:") and d.span.line == 9 and d.span.column == 14


def test_unfinished_expression_and_danish_number():
    diags = yaml_errors(MINIMAL + "goals:\n  - id: g\n    outcome: max(0,\n"
                        "caps:\n  - goal: g\n    amount: 1.400.000 DKK\n")
    assert [d.span.line for d in diags] == [7, 10]
    assert "ends too early" in diags[0].message
    assert diags[1].message.startswith("$.caps[0].amount:") and "1_400_000" in diags[1].hint


def test_python_object_tag_is_refused():
    diags = yaml_errors("id: !!python/object/apply:os.system ['echo pwned']\n")
    assert any("tag" in d.message and "python/object" in d.message for d in diags)


def test_local_tags_and_aliases_are_refused():
    diags = yaml_errors("id: &a x\ntitle: *a\ncurrency: !money DKK\n")
    assert len(diags) == 3


def test_billion_laughs_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    diags = yaml_errors("\n".join(lines) + "\n")
    assert diags and all("alias" in d.message or "anchor" in d.message for d in diags)


def test_too_deep_nesting_is_refused():
    [d] = yaml_errors("id: x\ndecisions: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    assert "nested more than 64" in d.message
    deep = yaml_errors("id: x\ndecisions: " + "[" * 200_000 + "]" * 200_000 + "\n")  # no RecursionError
    assert "nested" in deep[0].message


@pytest.mark.parametrize("expr", ["(" * 100 + "a" + ")" * 100, "-" * 5000 + "a", "not " * 5000 + "a"])
def test_deep_expression_is_refused_not_crashed(expr):
    [d] = yaml_errors("id: x\nfigures:\n  - id: f\n    expr: " + expr + "\n")
    assert d.span.line == 4 and "nested" in d.message


def test_bad_quantity_and_bad_date_in_expression():
    diags = yaml_errors(MINIMAL + "caps:\n  - {goal: g, amount: 5 DKKK}\nflags:\n  - {id: f, when: d < 2023-02-30}\n")
    assert "$.caps[0].amount: '5 DKKK' is not a quantity" in diags[0].message
    assert diags[1].message.startswith("$.flags[0].when:") and "calendar date" in diags[1].message
    assert (diags[1].span.line, diags[1].span.column) == (8, 23)


def test_over_one_megabyte_is_refused():
    [d] = yaml_errors("id: x\ntitle: " + "a" * 1_000_001 + "\n")
    assert "at most 1,000,000" in d.message


def test_wrong_type_is_located_by_path():
    [d] = yaml_errors(MINIMAL + "goals:\n  - id: g\n  - id: h\n    points: 5\n")
    assert d.message.startswith("$.goals[1].points: expected a list of names")
    assert (d.span.line, d.span.column) == (8, 13)


def test_all_errors_are_collected():
    diags = yaml_errors("""\
        id: 1x
        currency: DKK
        parties:
          - {id: A, role: funder, clause: [1]}
        grants:
          - party: A
        goals:
          - id: g
            level: people
            from_cohort: maybe
            rate: {amount: 5 DKK, per: success, extra: 1}
        settlement: {periods: yearly, due: end of following week, order: []}
        """)
    messages = "\n".join(d.message for d in diags)
    for expected in ("$.id: '1x' is not a name", "$.parties[0].clause: expected a text",
                     "$.grants[0]: 'amount' is missing", "$.goals[0].level: 'people' is not allowed",
                     "$.goals[0].from_cohort: expected true or false", "$.goals[0].rate: unknown key 'extra'",
                     "$.settlement.due: 'end of following week' is not allowed", "$.settlement.order: the list may not be empty"):
        assert expected in messages
    assert [d.span.line for d in diags] == sorted(d.span.line for d in diags)


def test_yaml_refuses_what_the_dsl_cannot_state():
    diags = yaml_errors("""\
        id: x
        title: "two\\nlines"
        measures:
          - {id: s, level: person, kind: boolean, values: [a], points: [p]}
        tables:
          - id: t
            columns: [{id: c, unit: count}]
            rows: [{id: r, of: [a], cells: [1]}]
        """)
    assert len(diags) == 3


def test_not_a_mapping_and_empty_and_syntax_error():
    assert "expected a mapping" in yaml_errors("- a\n- b\n")[0].message
    assert "empty" in yaml_errors("")[0].message
    [d] = yaml_errors("id: x\n  bad: [\n")
    assert "not valid YAML" in d.message and d.span.line == 2


def test_fmt_keeps_comments_and_the_authors_order(tmp_path):
    """Comments stay before the declaration they precede (one inside a block moves before the block, one at
    the end stays there), declarations keep the author's order, and the result is a fixed point."""
    from contractlang.cli import main
    from contractlang.parse import parse_text
    from contractlang.printer import format_contract

    path = tmp_path / "c.contract"
    text = ('# About this file.\n\ncontract x "X"\ncurrency DKK\n\n\n# the payer\nparty K "K" funder\n'
            'decision "first, before the grant"\n  # the grant\ngrant K 1_000 DKK\nparty A "A" recipient\n'
            'goal g {\n  payer K\n  # inside the goal\n  subjects households\n  points end\n'
            '  outcome 1\n  pay 10 DKK per success\n}\n# the end\n')
    path.write_text(text, encoding="utf-8")
    assert main(["fmt", "--write", str(path)]) == 0
    out = path.read_text(encoding="utf-8")
    assert out == ('# About this file.\n\ncontract x "X"\ncurrency DKK\n\n# the payer\nparty K "K" funder\n\n'
                   'decision "first, before the grant"\n\n# the grant\ngrant K 1_000 DKK\n\nparty A "A" recipient\n\n'
                   '# inside the goal\ngoal g {\n  payer K\n  subjects households\n  points end\n  outcome 1\n'
                   '  pay 10 DKK per success\n}\n\n# the end\n'), out
    assert parse_text(out, "c.contract") == parse_text(text, "c.contract")
    assert format_contract(parse_text(out, str(path))) == out
    assert main(["fmt", "--check", str(path)]) == 0


def test_fmt_of_a_yaml_file_stays_yaml(tmp_path, capsys):
    from contractlang.cli import main

    yaml_file = Path(__file__).resolve().parents[1] / "contracts" / "viborg" / "viborg.yaml"
    copy = tmp_path / "v.yaml"
    copy.write_text(yaml_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert main(["fmt", "--check", str(copy)]) == 1  # the extra blank line
    assert main(["fmt", "--write", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == yaml_file.read_text(encoding="utf-8")


def test_an_assumed_intervention_period_round_trips_and_is_noted():
    from contractlang.check import check
    from contractlang.parse import parse_text
    from contractlang.printer import format_contract
    from contractlang.yamlform import dump_yaml, load_yaml

    text = ('contract x "X"\ncurrency DKK\nparty F "F" funder\nprogramme {\n'
            '  intervention 2019-09-01 to 2021-08-31 assumed "autumn 2019, two years" § "Indledning"\n}\n')
    c = parse_text(text, "a.contract")
    assert c.programme.intervention_assumption == "autumn 2019, two years"
    assert parse_text(format_contract(c), "b.contract") == c
    assert load_yaml(dump_yaml(c), "c.yaml") == c
    notes = [d for d in check(c) if d.code == "CL024"]
    assert [(d.span.line, d.message) for d in notes] == [
        (5, "assumption: the intervention runs 2019-09-01 to 2021-08-31 — autumn 2019, two years")]
