"""Tests of `contractlang.check`: one focused test per check, Viborg's exact findings, golden files.

Golden files: `tests/golden/bad/*.contract` (one per error code) and `tests/golden/good/*.contract`
hold inputs; the `.expected` file beside each is the text rendering of its diagnostics. Run with
`CONTRACTLANG_REGOLD=1` to rewrite them, then review the diff.
"""

from __future__ import annotations

import os
import random
import re
import textwrap
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from contractlang import model as m
from contractlang.check import CHECKS, check
from contractlang.errors import CODES, ParseError, render_text
from contractlang.parse import decode, parse_file, parse_text

ROOT = Path(__file__).resolve().parents[1]
VIBORG = ROOT / "contracts" / "viborg" / "viborg.contract"
GOLDEN = ROOT / "tests" / "golden"

BASE = """\
contract mini "Mini" § "Tilsagn"
party DSI "Den Sociale Investeringsfond" funder § "Tilsagn (A)"
party LBF "Landsbyggefonden" funder § "Tilsagn 3.3"
party Kommunen "Viborg Kommune" recipient § "Tilsagn (B)"
point baseline = start
point m12 = start + 12 months
point end = end
measure benefit_type person {
  values employed, in_education, no_benefit, unknown
  at baseline, m12
}
measure score person integer 0 to 10 at baseline, end
rounding line 2 places half_up
"""

GOAL = """\
goal employment "Beskæftigelse" § "Bilag 5.1 2.1" {
  payer Kommunen
  subjects persons where age between 18 and 66
  points m12
  outcome benefit_type in {employed, in_education, no_benefit}
  pay 8_600 DKK per success
}
"""


def run(extra: str = "", base: str = BASE) -> tuple[list, str]:
    """Check BASE + extra; return the diagnostics and the full text."""
    text = base + textwrap.dedent(extra)
    return check(parse_text(text, "t.contract")), text


def codes(diags, severity=None) -> list[str]:
    return [d.code for d in diags if severity is None or d.severity == severity]


def only(diags, code: str):
    """The one diagnostic with `code` (fails, showing all, if there is not exactly one)."""
    found = [d for d in diags if d.code == code]
    assert len(found) == 1, render_text(diags)
    return found[0]


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_base_snippet_is_clean():
    diags, _ = run(GOAL)
    assert diags == []


# ---- Viborg ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def viborg():
    c = parse_file(VIBORG)
    return c, check(c)


def test_viborg_has_no_errors_and_exactly_the_known_warnings(viborg):
    c, diags = viborg
    print(render_text(diags, {c.path: c.source}))
    assert codes(diags, "error") == []
    assert codes(diags, "warning") == ["CL020", "CL020", "CL021", "CL021", "CL021", "CL022"]
    assert sorted(codes(diags, "note")) == ["CL023", "CL024"]


def test_viborg_schedule_warnings_name_the_figures(viborg):
    _, diags = viborg
    dsi, lbf = [d for d in diags if d.code == "CL020"]
    assert "3 × 1,304,167 = 3,912,501 DKK" in dsi.message and "3,912,500 DKK" in dsi.message
    assert "3 × 454,167 = 1,362,501 DKK" in lbf.message and "1,362,500 DKK" in lbf.message
    assert "Bilag 3.2" in dsi.message and "Tilsagn 3.1" in dsi.message and dsi.clause == "Bilag 3.2"
    assert dsi.span.line == lbf.span.line == line_of(VIBORG.read_text(), '"Første rate"')


def test_viborg_budget_and_staircase_sums(viborg):
    _, diags = viborg
    y2024, y2025, staircase = [d for d in diags if d.code == "CL021"]
    for d, year in ((y2024, "2024"), (y2025, "2025")):
        assert f'column "{year}"' in d.message and "1,785,333" in d.message and "1,758,333" in d.message
        assert d.clause == "Bilag 4.1"
    assert "81" in staircase.message and "states 80" in staircase.message
    assert staircase.clause == "Bilag 5.1 2.5.1"


def test_viborg_tranche_share_warning(viborg):
    _, diags = viborg
    d = only(diags, "CL022")
    for figure in ("74.17 %", "25.83 %", "3,903,500", "1,371,500", "9,000 DKK less", "9,000 DKK more"):
        assert figure in d.message
    assert d.clause == "Bilag 5.1 1.1"


def test_viborg_notes(viborg):
    _, diags = viborg
    cap = only(diags, "CL023")
    assert "2.60 years" in cap.message and "6,000,000" in cap.message and "5,275,000" in cap.message
    assert "binding" in cap.message and cap.clause == "Tilsagn 5.2"
    assert "1.0507^3 = 6,118,692.96 DKK" in cap.message
    assumption = only(diags, "CL024")
    assert "2028-10-31" in assumption.message
    assert assumption.span.line == line_of(VIBORG.read_text(), "data collection ends")


def test_diagnostics_are_sorted_by_place(viborg):
    _, diags = viborg
    keys = [(d.span.file, d.span.line, d.span.column) for d in diags]
    assert keys == sorted(keys)


@pytest.mark.parametrize("path", sorted((ROOT / "contracts").rglob("*.contract")), ids=lambda p: p.name)
def test_every_shipped_contract_checks_without_errors(path):
    c = parse_file(path)
    diags = check(c)
    assert codes(diags, "error") == [], render_text(diags, {c.path: c.source})


# ---- CL010 undefined names ------------------------------------------------------------------

def test_undefined_party_in_grant_with_did_you_mean():
    diags, text = run('grant DSl 1_000 DKK § "Tilsagn 3.1"\n')
    d = only(diags, "CL010")
    assert "'DSl'" in d.message and "the parties are DSI, LBF and Kommunen" in d.message
    assert d.hint == "did you mean 'DSI'?" and d.clause == "Tilsagn 3.1"
    assert (d.span.line, d.span.column) == (line_of(text, "grant DSl"), 7)


def test_undefined_payer_cap_goal_and_return_cap_names():
    diags, text = run(GOAL.replace("payer Kommunen", "payer Kommune") + """
        cap employmnet 1_000 DKK
        return cap Kommunen 6_000_000 DKK on employment, social § "5.2" { base DSI, LBX }
    """)
    messages = " | ".join(d.message for d in diags)
    for name in ("'Kommune'", "'employmnet'", "'social'", "'LBX'"):
        assert name in messages
    assert codes(diags) == ["CL010"] * 4
    hints = {d.hint for d in diags}
    assert {"did you mean 'Kommunen'?", "did you mean 'employment'?", "did you mean 'LBF'?"} <= hints


def test_undefined_points_of_measures_goals_and_at():
    diags, text = run(GOAL.replace("points m12", "points m12, m18").replace(
        "in {employed, in_education, no_benefit}", "== benefit_type@basline") +
        "measure extra person boolean at m13\n")
    msgs = [d.message for d in diags if d.code == "CL010"]
    assert len(msgs) == 3
    assert any("'m18'" in x for x in msgs) and any("'@basline'" in x for x in msgs) and any("'m13'" in x for x in msgs)
    at = next(d for d in diags if "@basline" in d.message)
    assert at.hint == "did you mean 'baseline'?" and at.span.column == text.splitlines()[at.span.line - 1].index("basline") + 1


def test_misspelt_enum_value_in_set_points_at_the_word():
    diags, text = run(GOAL.replace("no_benefit}", "nobenefit}"))
    d = only(diags, "CL010")
    assert "'nobenefit' is not a value of the measure 'benefit_type'" in d.message
    assert d.hint == "did you mean 'no_benefit'?"
    assert d.span.line == line_of(text, "nobenefit")
    assert text.splitlines()[d.span.line - 1][d.span.column - 1:].startswith("nobenefit")


def test_enum_value_compared_with_equals_and_previous_default():
    diags, _ = run(GOAL.replace("benefit_type in {employed, in_education, no_benefit}",
                                "benefit_type == employd or previous(benefit_type, unknwn) == unknown"))
    msgs = sorted(d.hint for d in diags if d.code == "CL010")
    assert msgs == ["did you mean 'employed'?", "did you mean 'unknown'?"]


def test_household_attribute_values_are_checked():
    diags, _ = run("""
        flag ended "Ended" § "6.1.1" {
          when count(households where end_reason != complete and group == intervention) > 20
        }
    """)
    d = only(diags, "CL010")
    assert "household's end reason" in d.message and d.hint == "did you mean 'completed'?"


def test_unknown_function_and_rounding():
    diags, _ = run(GOAL.replace("benefit_type in {employed, in_education, no_benefit}",
                                "maxx(0, round(score@end, lines)) > 1"))
    by_hint = {d.hint: d for d in diags if d.code == "CL010"}
    assert set(by_hint) == {"did you mean 'max'?", "did you mean 'line'?"}
    assert "the functions are max, min, abs, round, previous, deviation, total, mean, size, irr and multiple" in by_hint["did you mean 'max'?"].message


def test_let_used_before_it_is_defined():
    diags, text = run(GOAL.replace("  outcome", "  let a = b + 1\n  let b = 2\n  outcome a > 0 and"))
    d = only(diags, "CL010")
    assert "'b' is used in the let 'a'" in d.message and f"(line {line_of(text, 'let b')})" in d.message


def test_undefined_name_lists_what_was_expected():
    diags, _ = run(GOAL.replace("age between", "agee between"))
    d = only(diags, "CL010")
    assert "'agee' is not defined in the subjects of goal 'employment'; expected an attribute of persons" in d.message
    assert "a measure" not in d.message  # `subjects … where` reads attributes only
    assert d.hint == "did you mean 'age'?" and d.clause == "Bilag 5.1 2.1"
    diags, _ = run(GOAL.replace("outcome benefit_type in", "outcome benefit_typ in"))
    assert "expected a measure or an attribute of persons" in only(diags, "CL010").message


def test_a_measure_is_read_only_where_there_is_a_subject():
    """A goal's subjects are chosen by attributes; a figure or a flag without 'for each' has no subject.
    (The evaluator read such a name as its own text: `where score > 5` compared the word 'score' with 5.)"""
    diags, _ = run(GOAL.replace("where age between 18 and 66", "where score > 5"))
    d = only(diags, "CL010")
    assert "'score' is a measure, but the subjects of goal 'employment' are chosen by what they are" in d.message
    for extra, place in (("figure f = score + 1", "the figure 'f'"), ('flag x "X" { when score > 5 }', "the flag 'x'")):
        diags, _ = run(GOAL + extra + "\n")
        d = only(diags, "CL010")
        assert f"'score' is a measure, but {place} is not about single subjects" in d.message
        assert "total(score)" in d.hint
    for fine in ("figure f = count(persons where score@end > 5)", "figure f = total(score@end)",
                 'metric x "X" { subjects persons  share where score@end > 5 }'):
        assert codes(run(GOAL + fine + "\n")[0], "error") == [], fine


def test_this_only_in_for_each_flags_and_attributes_need_subjects():
    diags, _ = run("""
        flag cohorts "Small cohort" { for each cohort when count(households where cohort == this) < 30 }
        flag bad "Bad" { when ended and cohort == this }
    """)
    msgs = [d.message for d in diags if d.code == "CL010"]
    assert len(msgs) == 3
    assert any("'this' names the item of a flag's 'for each'" in x for x in msgs)
    assert any("'ended' is an attribute of households" in x for x in msgs)


def test_match_arms_on_text_column_must_occur_and_should_cover():
    table = """
        table criteria "Kriterier" {
          columns criterion "Succeskriterie" text
          row employed: education_employment
          row in_education: education_employment
          row no_benefit: flexjob
          row unknown: sick_leave_recovery
        }
    """
    goal = GOAL.replace("benefit_type in {employed, in_education, no_benefit}", """match criteria.criterion[benefit_type] {
        education_employment => true_value
        flexjob, sick_leave => benefit_type == employed
      }""").replace("true_value", "benefit_type == employed")
    diags, _ = run(table + goal)
    err = only(diags, "CL010")
    assert "'sick_leave' is not a value of the column 'criterion' of table 'criteria'" in err.message
    assert err.hint == "did you mean 'sick_leave_recovery'?"
    warn = only(diags, "CL017")
    assert warn.severity == "warning" and "no arm for sick_leave_recovery" in warn.message


def test_lookups_name_tables_columns_and_rows():
    table = """
        table steps "Trin" {
          columns step "Trin" count
          row employed: 0
          row in_education: 1
        }
    """
    diags, _ = run(table + GOAL.replace("benefit_type in {employed, in_education, no_benefit}",
                                        "stepz.step[employed] + steps.stp[employed] + steps.step[employd] + "
                                        "steps.step[benefit_type] > 0"))
    msgs = [d.message for d in diags if d.code == "CL010"]
    assert any("the table 'stepz'" in x for x in msgs)
    assert any("no column 'stp'" in x for x in msgs)
    assert any("no row 'employd'" in x for x in msgs)
    assert any("no row for no_benefit and unknown" in x for x in msgs)


def test_reduction_comparison_replacement_and_missing_names():
    diags, _ = run("""
        table households_expected "Husstande" { columns total "I alt" count  row households: 180 }
        relative reduction of grants by households_expected.househlds.total
        programme { intervention 2023-11-01 to 2026-10-31  replacement within 3 months unless no_longer_neded }
        measure absence person decimal 0 to 100 at baseline, m12
        goal school "Skole" {
          payer Kommunen
          subjects persons where school_grade between 0 and 9
          points m12
          compare mean absence of intervention against controls by cohort
          outcome intervention - controls
          pay 6_500 DKK per percentage_point
          missing mean except replacd
        }
    """)
    hints = sorted(d.hint for d in diags if d.code == "CL010")
    assert hints == ["did you mean 'control'?", "did you mean 'households'?", "did you mean 'no_longer_needed'?",
                     "did you mean 'replaced'?"]


def test_figures_may_use_other_figures():
    diags, _ = run("""
        figure cost "Cost" = 42_100 DKK + 400 DKK
        figure saving "Saving" = 183_800 DKK - cost
        figure wrong "Wrong" = cots
    """)
    d = only(diags, "CL010")
    assert "'cots'" in d.message and d.hint == "did you mean 'cost'?"


# ---- CL011 duplicates -----------------------------------------------------------------------

def test_duplicate_ids_per_kind_and_within_tables():
    diags, text = run("""
        party DSI "Again" funder
        table t "T" {
          columns a "A" count, a "A again" count
          row r: 1, 2
          row r: 3, 4
        }
        measure employment person boolean at m12
    """ + GOAL)
    dup = [d for d in diags if d.code == "CL011"]
    assert len(dup) == 3, render_text(diags)
    assert "the party 'DSI' is declared twice; the first declaration is on line 2" in dup[0].message
    assert dup[0].span.line == line_of(text, '"Again"')
    assert "column 'a' of table 't'" in dup[1].message and "row 'r' of table 't'" in dup[2].message


# ---- CL012 units ----------------------------------------------------------------------------

def test_money_must_be_in_the_currency():
    diags, _ = run("""
        grant DSI 1_000 %
        grant LBF 1_000
        disbursement { instalment 2024-01-01: DSI 500 months }
        cap employment 5 %
    """ + GOAL.replace("8_600 DKK", "8_600 %"))
    bad = [d for d in diags if d.code == "CL012"]
    assert len(bad) == 5, render_text(diags)
    assert all("expected an amount in DKK" in d.message for d in bad)
    assert next(d for d in bad if "grant of LBF" in d.message).hint == "write it as 1,000 DKK"


def test_shares_interest_and_durations():
    diags, _ = run("""
        programme { intervention 2023-11-01 to 2026-10-31  minimum stay 90 days  replacement within 3 weeks }
        point m6 = start + 6 count
        tranches on all goals { tranche 1: DSI 100 DKK  rounding line, remainder DSI }
        grant DSI 100 DKK
        return cap Kommunen 200 DKK on employment { interest 5 DKK per year, 365 days, capitalised 12-31 }
    """ + GOAL)
    bad = sorted(d.message for d in diags if d.code == "CL012")
    assert len(bad) == 5, render_text(diags)
    assert sum("expected a number of months" in x for x in bad) == 2  # the stay and the window are months
    assert any("point 'm6' is 6 count; expected days, weeks, months or years" in x for x in bad)
    assert any("share in tranche 1 is 100 DKK; expected a percentage" in x for x in bad)
    assert any("interest" in x and "expected a percentage a year" in x for x in bad)
    assert "CL014" not in codes(diags)  # a share in the wrong unit is not also summed


def test_table_cells_match_their_column():
    diags, text = run("""
        table t "T" {
          columns kind "Kind" text, n "N" count, amount "Amount" DKK, rate "Rate" %
          row a: x, 3, 100, 5 %
          row b: 3, 3 %, 100 DKK, 5
          row c: -, -, -, -
        }
    """)
    bad = [d for d in diags if d.code == "CL012"]
    assert [d.span.line for d in bad] == [line_of(text, "row b")] * 3
    assert "where a name is expected" in bad[0].message
    assert "holds 3 %; the column 'N' holds numbers" in bad[1].message
    assert "holds 5 (no unit)" in bad[2].message and bad[2].hint == "write 5 %"


def test_unit_inference_in_expressions():
    diags, _ = run(GOAL.replace("benefit_type in {employed, in_education, no_benefit}",
                                "score * 100 DKK + 5 % > 0 and start_date + 3 > start_date and score + 3 months > 1")
                   + """
        flag deviation "Afvigelse" { when deviation(employment, benefit_type@baseline, t.n) > 5 % }
        table t "T" { columns n "N" count  row employed: 1  row in_education: 1  row no_benefit: 1  row unknown: 1 }
    """)
    msgs = [d.message for d in diags if d.code == "CL012"]
    assert len(msgs) == 3, render_text(diags)
    assert any("adds a percentage to an amount in DKK" in x for x in msgs)
    assert any("adds a plain number to a date" in x for x in msgs)
    assert any("compares percentage points with a percentage" in x for x in msgs)


def test_dates_and_months_are_compatible():
    diags, _ = run("""
        flag early "Tidligt ophør" § "3.2.3" {
          for each household
          when ended and end_date < start_date + 3 months and end_reason != no_longer_needed and not replaced
        }
        flag enrolment "Visitation" { on 2024-04-30  when count(households where start_date <= 2024-04-30) < 15 }
    """)
    assert diags == []


# ---- CL013 impossible values ------------------------------------------------------------------

def test_programme_dates_out_of_order():
    diags, text = run("""
        programme § "Bilag 1.4" {
          intervention 2026-10-31 to 2023-11-01 § "Bilag 1.4 1.6"
          data collection ends 2022-12-31
        }
    """)
    first, second = [d for d in diags if d.code == "CL013"]
    assert "ends (2023-11-01) before it starts (2026-10-31)" in first.message
    assert first.span.line == line_of(text, "intervention 2026") and first.clause == "Bilag 1.4 1.6"
    assert "data collection ends (2022-12-31) before the intervention ends" in second.message
    assert second.span.line == line_of(text, "data collection")


def test_ranges_roundings_and_capitalisation():
    diags, _ = run("""
        measure bad person integer 10 to 0 at baseline
        rounding odd 11 places half_upp
        return cap Kommunen 6_000 DKK on employment { interest 5 % per year, 360 days, capitalised 02-30 }
    """ + GOAL)
    msgs = [d.message for d in diags if d.code == "CL013"]
    assert len(msgs) == 4, render_text(diags)
    assert any("runs from 10 to 0" in x for x in msgs) and any("rounds to 11 places" in x for x in msgs)
    assert any("'02-30'" in x for x in msgs)
    mode = next(d for d in diags if "mode" in d.message)
    assert mode.hint == "did you mean 'half_up'?"


def test_tranche_thresholds():
    diags, _ = run("""
        tranches on all goals {
          tranche 1 until 5_000 DKK: DSI 100 %
          tranche 2: DSI 100 %
          tranche 3 until 4_000 DKK: DSI 100 %
          tranche 4 until 9_000 DKK: DSI 100 %
          rounding line, remainder DSI
        }
    """)
    msgs = [d.message for d in diags if d.code == "CL013"]
    assert len(msgs) == 3, render_text(diags)
    assert any("tranche 2 has no threshold" in x for x in msgs)
    assert any("not above the threshold of the tranche before it" in x for x in msgs)
    assert any("the last tranche (4) has a threshold" in x for x in msgs)


def test_negative_amounts_and_offsets_from_a_model():
    c = parse_text(BASE + 'grant DSI 1_000 DKK\n' + GOAL, "t.contract")
    grant = c.grants[0]
    neg = attrs.evolve(grant, amount=attrs.evolve(grant.amount, value=Decimal(-5)))
    point = attrs.evolve(c.points[1], offset=attrs.evolve(c.points[1].offset, value=Decimal(-12)))
    c = attrs.evolve(c, grants=(neg,), points=(c.points[0], point, c.points[2]))
    msgs = [d.message for d in check(c) if d.code == "CL013"]
    assert any("the grant of DSI is negative" in x for x in msgs)
    assert any("offset of point 'm12'" in x and "at least 0" in x for x in msgs)


def test_shares_outside_0_to_100():
    diags, _ = run("tranches on all goals { tranche 1: DSI 120 %  rounding line, remainder DSI }\n")
    assert sorted(codes(diags)) == ["CL013", "CL014"]


# ---- CL014 shares -------------------------------------------------------------------------------

def test_shares_must_sum_to_100():
    diags, text = run("""
        tranches on all goals § "Bilag 5.1 1.1" {
          tranche 1 until 5_275_000 DKK: DSI 74 %, LBF 25 %
          tranche 2: DSI 100 %
          rounding line, remainder LBF
        }
    """)
    d = only(diags, "CL014")
    assert "add up to 99 % (DSI 74 % + LBF 25 %), not 100 %" in d.message
    assert d.span.line == line_of(text, "tranche 1") and d.clause == "Bilag 5.1 1.1"


# ---- CL015 goals --------------------------------------------------------------------------------

def test_goal_without_payer_price_outcome_or_points():
    diags, text = run('goal empty "Tom" § "2.9" {\n}\n' + GOAL.replace("  pay 8_600 DKK per success\n", ""))
    empty, employment = [d for d in diags if d.code == "CL015"]
    assert "'empty' has no payer, no measurement points, no outcome and no price" in empty.message
    assert empty.clause == "2.9" and empty.span.line == line_of(text, "goal empty")
    assert "'employment' has no price" in employment.message
    assert "pay AMOUNT DKK per UNIT" in employment.hint


# ---- CL016 table shape ----------------------------------------------------------------------------

def test_table_shape():
    diags, text = run("""
        table budget "Budget" § "Bilag 4.1" {
          columns y2023 "2023" DKK, y2024 "2024" DKK, total "TOTAL" DKK
          check total = y2023 + y2025
          row staff: 250_000, 1_500_000, 1_750_000
          row rent: 16_667, 100_000
          sum all of staff, rnet: 266_667, 1_600_000, 1_850_000
          sum avg weighted by y2023: 1, 1, 1
        }
    """)
    msgs = [d for d in diags if d.code == "CL016"]
    assert len(msgs) == 4, render_text(diags)
    assert "'y2025'" in msgs[0].message and msgs[0].hint == "did you mean 'y2024'?"
    assert "row 'rent' of table 'budget' has 2 cells, but the table has 3 columns" in msgs[1].message
    assert "'rnet'" in msgs[2].message and msgs[2].hint == "did you mean 'rent'?"
    assert "weighted by the column 'y2023'" in msgs[3].message and "expected a count column" in msgs[3].message
    assert "CL021" not in codes(diags)  # a table with the wrong shape is not summed


# ---- CL017 expressions that cannot be evaluated -------------------------------------------------

def test_measure_read_at_a_point_where_it_is_not_taken():
    diags, _ = run(GOAL.replace("points m12", "points m12, end"))
    d = only(diags, "CL017")
    assert "'benefit_type' is read at end" in d.message and "only taken at baseline and m12" in d.message


def test_function_arguments():
    diags, _ = run(GOAL.replace("benefit_type in {employed, in_education, no_benefit}",
                                "abs(1, 2) > previous(3) and round(score@end) > 0"))
    msgs = [d.message for d in diags if d.code == "CL017"]
    assert len(msgs) == 3, render_text(diags)
    assert any("abs() takes one value" in x for x in msgs) and any("previous() takes the name of a measure" in x
                                                                     for x in msgs)


# ---- CL020–CL024 consistency ---------------------------------------------------------------------

def test_schedule_that_adds_up_is_quiet():
    diags, _ = run("grant DSI 1_000 DKK\ndisbursement { instalment 2024-01-01: DSI 400 DKK\n"
                   "instalment 2025-01-01: DSI 600 DKK }\n")
    assert diags == []


def test_schedule_that_does_not_add_up():
    diags, text = run('grant DSI 1_000 DKK § "3.1"\ndisbursement § "3.2" { instalment 2024-01-01: DSI 400 DKK\n'
                      "instalment 2025-01-01: DSI 500 DKK, LBF 10 DKK }\n")
    dsi, lbf = [d for d in diags if d.code == "CL020"]
    assert dsi.severity == "warning"
    assert "pays DSI 400 + 500 = 900 DKK, but DSI's grant (§ 3.1) is 1,000 DKK" in dsi.message
    assert "100 DKK less than the grant" in dsi.message and dsi.clause == "3.2"
    assert "grants LBF nothing" in lbf.message


def test_table_row_checks_and_default_sums():
    diags, text = run("""
        table budget "Budget" § "4.1" {
          columns a "2024" DKK, b "2025" DKK, total "TOTAL" DKK
          check total = a + b
          row x: 100, 200, 300
          row y: 10, 20, 40
          row z: -, -, 5
          sum all "I alt": 110, 230, 345
        }
    """)
    row, col = [d for d in diags if d.code == "CL021"]
    assert row.span.line == line_of(text, "row y") and "10 + 20 = 30 DKK" in row.message
    assert col.span.line == line_of(text, "sum all") and 'column "2025"' in col.message
    assert "states 230 DKK" in col.message and "220 DKK" in col.message


def test_weighted_percentage_sum_is_compared_at_its_precision():
    table = """
        table t "T" {{
          columns n "N" count, rate "Rate" %
          row a: 39, 50 %
          row b: 124, 2 %
          sum total weighted by n: 163, {stated}
        }}
    """
    assert run(table.format(stated="13.5 %"))[0] == []   # 13.485… % is 13.5 % to one decimal
    assert run(table.format(stated="13 %"))[0] == []     # and 13 % to none
    diags, _ = run(table.format(stated="13.4 %"))
    assert "13.485 %, which is 13.5 % to 1 decimal" in only(diags, "CL021").message


def test_sum_of_sum_rows_and_empty_columns():
    diags, _ = run("""
        table staircase "Trappe" {
          columns expected "Forventet" count, step "Trin" count
          row none: 261, 0
          row s82: 5, 1
          row s85: 55, 3
          sum with_measure of s82, s85: 60, -
          sum total of none, with_measure: 321, -
        }
    """)
    assert diags == []


def test_tranche_shares_equal_to_grant_shares_are_quiet():
    diags, _ = run("grant DSI 750 DKK\ngrant LBF 250 DKK\n"
                   "tranches on all goals { tranche 1 until 1_000 DKK: DSI 75 %, LBF 25 %\n"
                   "tranche 2: DSI 100 %\nrounding line, remainder LBF }\n")
    assert diags == []


def test_return_cap_note_needs_interest():
    diags, _ = run("grant DSI 1_000 DKK\nreturn cap Kommunen 1_100 DKK on employment\n" + GOAL)
    assert diags == []
    diags, _ = run("grant DSI 1_000 DKK\nreturn cap Kommunen 1_100 DKK on employment § \"5.2\" {\n"
                   "interest 5 % per year, 365 days, capitalised 12-31 }\n" + GOAL)
    d = only(diags, "CL023")
    assert d.severity == "note" and "for 1.95 years" in d.message and "binding (§ 5.2)" in d.message


def test_each_assumption_is_noted_once():
    diags, text = run(GOAL + 'cap employment 1_200_000 DKK assumed "6 teams of 14 at 80 %"\n'
                      'figure per_team "Per hold" = 18_000 DKK assumed * 14\n')
    notes = [d for d in diags if d.code == "CL024"]
    assert len(notes) == 2
    assert "1,200,000 DKK (the cap on goal 'employment') — 6 teams of 14 at 80 %" in notes[0].message
    assert "18,000 DKK (figure 'per_team') — the original does not give this figure" in notes[1].message
    assert notes[0].span.line == line_of(text, "cap employment")


# ---- robustness and speed ---------------------------------------------------------------------

def test_every_code_used_is_registered():
    import importlib
    source = "".join(Path(importlib.import_module(n).__file__).read_text()
                     for n in ("contractlang.check", "contractlang.check_consistency"))
    assert set(re.findall(r'"(CL\d\d\d)"', source)) <= set(CODES)


def test_no_exception_escapes_for_mutated_contracts():
    """Delete or swap lines of Viborg at random; whatever still parses must check without a crash."""
    lines = VIBORG.read_text(encoding="utf-8").splitlines()
    rng = random.Random(20240501)
    checked = 0
    for _ in range(60):
        mutated = list(lines)
        for _ in range(rng.randint(1, 4)):
            i, j = rng.randrange(len(mutated)), rng.randrange(len(mutated))
            if rng.random() < 0.5:
                del mutated[i]
            else:
                mutated[i], mutated[j] = mutated[j], mutated[i]
        try:
            c = parse_text("\n".join(mutated), "m.contract")
        except ParseError:
            continue
        diags = check(c)
        assert not any("could not finish" in d.message for d in diags), render_text(diags)
        checked += 1
    assert checked > 5


def test_each_check_survives_an_empty_contract():
    c = parse_text('contract empty "Empty"\n', "e.contract")
    for fn in CHECKS:
        assert fn(c) == []


def test_big_tables_are_checked_clean():
    """20,000 rows with a subtotal after every 10 (the time it takes: bench/linear_time.py)."""
    cols = (m.Column(id="n", unit="count"), m.Column(id="amount", unit="DKK"))
    rows, total_n = [], 0
    for i in range(20_000):
        rows.append(m.Row(id=f"r{i}", cells=(m.Quantity(value=Decimal(1)), m.Quantity(value=Decimal(i)))))
        total_n += 1
        if i % 10 == 9:
            rows.append(m.Row(id=f"s{i}", kind="sum", cells=(m.Quantity(value=Decimal(total_n)), m.Empty())))
    table = m.Table(id="big", columns=cols, rows=tuple(rows), checks=())
    c = m.Contract(id="big", tables=(table,))
    assert check(c) == []


# ---- golden files --------------------------------------------------------------------------------

GOLDEN_FILES = sorted(GOLDEN.glob("*/*.contract"))


def _render_golden(path: Path) -> tuple[str, list]:
    rel = path.relative_to(ROOT).as_posix()
    data = path.read_bytes()
    text = None
    try:
        text = decode(data, rel)
        diags = check(parse_text(text, rel))
    except ParseError as exc:
        diags = list(exc.diagnostics)
    return render_text(diags, {rel: text} if text is not None else {}) + "\n", diags


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden(path: Path):
    rendered, diags = _render_golden(path)
    expected_file = path.with_suffix(".expected")
    if os.environ.get("CONTRACTLANG_REGOLD") == "1":
        expected_file.write_text(rendered, encoding="utf-8")
    header = re.search(rb"# expect: ([^\n]*)", path.read_bytes()).group(1).decode()
    wanted = set(re.findall(r"CL\d\d\d", header))
    assert wanted <= set(codes(diags)), rendered
    if path.parent.name == "good":
        assert codes(diags, "error") == [] and codes(diags, "warning") == [], rendered
        assert set(codes(diags)) == wanted, rendered
    else:
        assert set(codes(diags)) - {"CL017"} == wanted, rendered  # one bad file per code
    assert expected_file.exists(), f"run with CONTRACTLANG_REGOLD=1 to create {expected_file.name}"
    assert rendered == expected_file.read_text(encoding="utf-8")


def test_one_bad_golden_per_code():
    wanted = {"CL001", "CL002", "CL003", "CL010", "CL011", "CL012", "CL013", "CL014", "CL015", "CL016",
              "CL019", "CL020", "CL021", "CL022"}
    found = set()
    for path in GOLDEN.glob("bad/*.contract"):
        found |= set(re.findall(r"CL\d\d\d", re.search(rb"# expect: ([^\n]*)", path.read_bytes()).group(1).decode()))
    assert wanted <= found


def test_misspelt_keyword_that_extends_a_keyword_gets_a_did_you_mean():
    with pytest.raises(ParseError) as exc:
        parse_text('contract mini "Mini"\ngoall employment "B" {\n}\n', "k.contract")
    d = exc.value.diagnostics[0]
    assert (d.code, d.span.line, d.span.column, d.hint) == ("CL001", 2, 1, "did you mean 'goal'?")
    assert "'goall'" in d.message


@pytest.mark.parametrize("text, word", [
    # Each of these used to parse silently as a keyword followed by a name.
    ('contract x "X"\nflagged_x "B" { when 1 > 2 }\n', "flagged_x"),
    ('contract x "X"\ngoal g { payer K subjects personsx outcome 1 pay 1 DKK per person }\n', "personsx"),
    ('contract x "X"\nmeasure m personal boolean at baseline\n', "personal"),
])
def test_a_keyword_glued_to_more_letters_is_one_misspelt_word(text, word):
    with pytest.raises(ParseError) as exc:
        parse_text(text, "k.contract")
    assert any(f"'{word}'" in d.message for d in exc.value.diagnostics)


@pytest.mark.parametrize("text, code", [
    ('contract x "X"\nfigure f = ' + "-" * 3000 + "1\n", "CL002"),
    ('contract x "X"\nfigure f = ' + "not " * 3000 + "a\n", "CL002"),
    ('contract x "X"\nmeasure a person § "c"\n', "CL016"),
    ('contract x "X"\nfigure f = {a, b}\n', "CL001"),
])
def test_hostile_input_gives_a_located_error_not_a_traceback(text, code):
    from contractlang.errors import ParseError
    from contractlang.parse import parse_text
    with pytest.raises(ParseError) as info:
        parse_text(text, "bad.contract")
    assert code in [d.code for d in info.value.diagnostics]


# ---- broken files through the command line: located error, exit 1, no traceback ----

def _viborg_bytes() -> bytes:
    return (ROOT / "contracts" / "viborg" / "viborg.contract").read_bytes()


def _broken_files():
    text = _viborg_bytes()
    cut = text.index(b"goal school_absence")
    return {
        "ten_mb": (text * (10_000_000 // len(text) + 1))[:10_000_000],
        "truncated_mid_goal": text[:cut + 60],
        "truncated_mid_utf8": text[:text.index("ø".encode()) + 1],
        "binary": bytes(range(256)) * 64,
        "deeply_nested": b'contract x "X"\nfigure f = ' + b"(" * 5000 + b"1" + b")" * 5000 + b"\n",
    }


@pytest.mark.parametrize("kind", sorted(_broken_files()))
def test_a_broken_file_gives_a_located_error_and_exit_1(kind, tmp_path, capsys):
    from contractlang.cli import main

    path = tmp_path / f"{kind}.contract"
    path.write_bytes(_broken_files()[kind])
    assert main(["check", "--format", "json", str(path)]) == 1
    import json
    report = json.loads(capsys.readouterr().out)
    found = report["diagnostics"]
    assert report["summary"]["files"] == 1 and report["summary"]["errors"] >= 1
    errors = [d for d in found if d["severity"] == "error"]
    assert errors, found
    first = errors[0]
    assert first["file"] == str(path) and first["line"] >= 1 and first["column"] >= 1
    assert "Traceback" not in capsys.readouterr().err


def test_a_metric_named_like_an_enum_value_is_an_error():
    text = ('contract x "X"\ncurrency DKK\npoint end = end\n'
            'measure result person { values job, none at end }\n'
            'metric job "Job" { subjects persons share where result == job }\n')
    found = [d for d in check(parse_text(text, "m.contract")) if d.severity == "error"]
    assert [(d.code, d.span.line) for d in found] == [("CL010", 5)]
    assert "value of the measure 'result'" in found[0].message


def test_the_parser_tables_are_cached_in_a_private_directory_only(tmp_path, monkeypatch):
    import os
    import stat

    from lark import Lark

    from contractlang.parse import _WholeWords, _cache_file, _grammar_path

    grammar = _grammar_path().read_text(encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = _cache_file(grammar)
    assert path is not None and path.startswith(str(tmp_path / "cache" / "contractlang"))
    assert stat.S_IMODE(os.stat(tmp_path / "cache" / "contractlang").st_mode) == 0o700
    options = dict(parser="lalr", propagate_positions=True, maybe_placeholders=False)
    text = (ROOT / "contracts" / "viborg" / "viborg.contract").read_text(encoding="utf-8")
    fresh = Lark(grammar, postlex=_WholeWords(), cache=path, **options).parse(text)  # builds and writes
    assert os.path.getsize(path) > 0
    loaded = Lark(grammar, postlex=_WholeWords(), cache=path, **options).parse(text)  # loads
    assert loaded == fresh
    os.chmod(tmp_path / "cache" / "contractlang", 0o777)  # a directory others may write to is not trusted
    assert _cache_file(grammar) is None


@pytest.mark.parametrize("command", [["check"], ["check", "--format", "github"], ["fmt", "--check"]])
def test_a_file_that_does_not_exist_is_a_usage_error(tmp_path, capsys, command):
    """A CI job naming a file it does not have is misconfigured: exit 2, the path named, nothing checked."""
    from contractlang.cli import main

    good = Path(__file__).resolve().parents[1] / "contracts" / "examples" / "rate-card"
    missing = tmp_path / "gone.contract"
    assert main([*command, str(good), str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"{missing}: no such file or directory" in err


def test_json_and_github_output_carry_end_positions_and_github_leaves_notes_out(capsys):
    """CI output: JSON has a summary and each diagnostic's end where it is known; GitHub annotations have
    endLine/endColumn and no notes (which would flood a pull request) unless --notes."""
    import json

    from contractlang.cli import main

    viborg = str(Path(__file__).resolve().parents[1] / "contracts" / "viborg" / "viborg.contract")
    main(["check", "--format", "json", viborg])
    report = json.loads(capsys.readouterr().out)
    diags = report["diagnostics"]
    accepted = [d for d in diags if "acknowledged" in d]
    assert report["summary"] == {"files": 1, "errors": 0, "warnings": 0, "acknowledged": len(accepted),
                                 "notes": sum(d["severity"] == "note" for d in diags)}
    assert report["summary"]["notes"] > 0 and len(accepted) == 6 and all(d["severity"] == "warning" for d in accepted)
    ended = [d for d in diags if "end_line" in d]
    assert ended and all((d["end_line"], d["end_column"]) >= (d["line"], d["column"]) for d in ended)
    main(["check", "--format", "github", viborg])
    github = capsys.readouterr().out.splitlines()
    assert len(github) == len(accepted)  # the acknowledged warnings, as notices; no notes
    assert all(x.startswith("::notice file=") and "(acknowledged)" in x and "Acknowledged: " in x for x in github)
    assert all(",endLine=" in x and ",endColumn=" in x for x in github)
    main(["check", "--format", "github", "--notes", viborg])
    notices = [x for x in capsys.readouterr().out.splitlines() if x.startswith("::notice")]
    assert len(notices) == report["summary"]["notes"] + len(accepted)


RATE_CARD = Path(__file__).resolve().parents[1] / "contracts" / "examples" / "rate-card" / "rate-card.contract"


def _syntax_error(text: str):
    with pytest.raises(ParseError) as exc:
        parse_text(text, "t.contract")
    return next(d for d in exc.value.diagnostics if d.code == "CL001")


def test_a_block_left_open_is_reported_where_it_opened():
    lines = RATE_CARD.read_text(encoding="utf-8").split("\n")
    goal = next(i for i, x in enumerate(lines) if x.startswith("goal "))
    close = next(i for i in range(goal, len(lines)) if lines[i].startswith("}"))
    d = _syntax_error("\n".join(lines[:close] + lines[close + 1:]))
    assert (d.span.line, d.span.column) == (goal + 1, lines[goal].index("{") + 1), d
    assert f"the '{{' opened at line {goal + 1}" in d.message and "is not closed before line" in d.message
    assert "'}' missing" in d.hint
    d = _syntax_error(RATE_CARD.read_text(encoding="utf-8").rstrip().removesuffix("}"))
    last = max(i for i, x in enumerate(lines) if x.rstrip().endswith("{"))
    assert d.span.line == last + 1 and "by the end of the file" in d.message


def test_a_string_left_open_is_reported_where_it_opened():
    text = RATE_CARD.read_text(encoding="utf-8")
    lines = text.split("\n")
    goal = next(i for i, x in enumerate(lines) if x.startswith("goal ") and '" §' in x)
    lines[goal] = lines[goal].replace('" §', " §", 1)
    d = _syntax_error("\n".join(lines))
    assert (d.span.line, d.span.column) == (goal + 1, lines[goal].index('"') + 1), d
    assert "the string that opens at" in d.message and d.hint == "is a closing '\"' missing?"


def test_an_unexpected_word_inside_a_closed_block_is_not_called_an_open_block():
    d = _syntax_error('contract x "X"\nparty K "K" recipient\nprogramme {\n  blah 3\n}\n')
    assert (d.span.line, d.span.column) == (4, 3) and "not closed" not in d.message


def test_an_acknowledged_warning_is_shown_with_its_reason_and_does_not_fail_strict(tmp_path, capsys):
    """`acknowledge CODE [on NAME] "reason"`: the warning stays in the output, marked, with the reason;
    `--strict` passes; an acknowledgement that matches nothing is a warning (CL025) that fails `--strict`."""
    from contractlang.cli import main

    viborg = Path(__file__).resolve().parents[1] / "contracts" / "viborg" / "viborg.contract"
    assert main(["check", "--strict", "--no-notes", str(viborg)]) == 0
    out = capsys.readouterr()
    assert out.out.count("(acknowledged)") == 6 and out.out.count("    acknowledged: Bilag") == 6
    assert "0 warning(s), 6 acknowledged" in out.err
    text = viborg.read_text(encoding="utf-8")
    narrowed = tmp_path / "narrowed.contract"  # the budget's acknowledgement gone: its two warnings fail again
    narrowed.write_text("\n".join(x for x in text.split("\n") if not x.startswith("acknowledge CL021 on budget")),
                        encoding="utf-8")
    assert main(["check", "--strict", "--no-notes", str(narrowed)]) == 1
    out = capsys.readouterr()
    assert "2 warning(s), 4 acknowledged" in out.err
    stale = tmp_path / "stale.contract"
    stale.write_text(text + '\nacknowledge CL021 on prices "gone"\nacknowledge CL010 "an error"\n', encoding="utf-8")
    assert main(["check", "--strict", "--no-notes", str(stale)]) == 1
    out = capsys.readouterr().out
    assert out.count("warning[CL025]") == 2 and "'acknowledge CL021 on prices' matches no warning" in out


def test_acknowledgements_round_trip_through_the_formatter_and_yaml():
    from contractlang.printer import format_contract
    from contractlang.yamlform import dump_yaml, load_yaml

    c = parse_text('contract x "X"\nacknowledge CL021 on budget "as printed" § "4.1"\nacknowledge CL022 "agreed"\n',
                   "a.contract")
    assert [(a.code, a.subject, a.reason, a.clause) for a in c.acknowledgements] == [
        ("CL021", "budget", "as printed", "4.1"), ("CL022", None, "agreed", None)]
    assert parse_text(format_contract(c), "b.contract") == c
    assert load_yaml(dump_yaml(c), "c.yaml") == c


def test_the_acknowledge_examples_of_the_language_reference_parse():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "language.md").read_text(encoding="utf-8")
    examples = [x for x in doc.split("\n") if x.startswith("acknowledge ")]
    examples += [x.strip("`") for x in re.findall(r"`acknowledge [^`]+`", doc) if " on " in x or '"' in x]
    assert len(examples) >= 3
    for x in examples:
        c = parse_text(f'contract x "X"\n{x}\n', "language.md")
        assert len(c.acknowledgements) == 1 and c.acknowledgements[0].reason


def test_sarif_output_has_a_result_per_diagnostic_with_its_region(capsys):
    import json

    from contractlang.cli import main

    viborg = str(Path(__file__).resolve().parents[1] / "contracts" / "viborg" / "viborg.contract")
    main(["check", "--format", "json", viborg])
    diags = json.loads(capsys.readouterr().out)["diagnostics"]
    assert main(["check", "--format", "sarif", viborg]) == 0
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0" and len(sarif["runs"]) == 1
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "contractlang"
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == {d["code"] for d in diags}
    assert len(run["results"]) == len(diags)
    for d, r in zip(diags, run["results"]):
        region = r["locations"][0]["physicalLocation"]["region"]
        assert (r["ruleId"], region["startLine"], region["startColumn"]) == (d["code"], d["line"], d["column"])
        assert r["level"] == ("note" if "acknowledged" in d or d["severity"] == "note" else d["severity"])


def test_the_pre_commit_hooks_run_the_commands_they_name(capsys):
    """Each hook of .pre-commit-hooks.yaml is a contractlang command that passes on the bundled contracts."""
    import shlex

    import yaml

    from contractlang.cli import main

    root = Path(__file__).resolve().parents[1]
    hooks = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {h["id"] for h in hooks} == {"contractlang-check", "contractlang-fmt"}
    files = [str(p) for p in sorted((root / "contracts").rglob("*.contract"))]
    for hook in hooks:
        argv = shlex.split(hook["entry"])
        assert argv[0] == "contractlang" and hook["language"] == "python"
        assert all(re.search(hook["files"], f) for f in files)
        assert main([*argv[1:], *files]) == 0, hook["id"]
