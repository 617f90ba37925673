"""Words and number formats for reports, in Danish (`da`) and English (`en`).

Every word a report shows comes from `CATALOGUE`; every amount, number,
percentage and date goes through Babel with an explicit locale. Values arrive
as the decimal strings of the settlement document and stay `Decimal`
throughout: nothing here ever touches a float.

Formats chosen (see `Formatter`):

* money: `da` → `72.150,00 kr.` (Babel's `da_DK` currency format); `en` →
  `DKK 72,150.00` (`en_GB` symbols with the pattern `¤ #,##0.00`, the layout
  CLDR prescribes when an alphabetic symbol precedes the number). The space
  is Babel's no-break space U+00A0 in both languages.
* percentages: the locale's percent pattern with as many decimals as the
  document gives: `5,07 %` / `5.07%`, `74 %` / `74%`.
* numbers: every decimal place the document gives, never rounded or cut
  (`-21,05263157894736842105263158`), so that a reader can redo the
  arithmetic to the øre from the explanation alone. A value the engine itself
  cut short arrives ending in `…` and keeps that mark.
* dates: Babel's `medium` date: `31. okt. 2028` / `31 Oct 2028`.
* minus sign: CLDR's for both locales, the ASCII hyphen-minus (`-21,1`).
"""

from __future__ import annotations

import datetime as dt
import re
import decimal
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol

LANGS = ("da", "en")
LOCALES = {"da": "da_DK", "en": "en_GB"}
#: Currency pattern per language; None means the locale's own standard pattern.
CURRENCY_PATTERNS = {"da": None, "en": "¤\u00a0#,##0.00"}
PERCENT_PATTERNS = {"da": "#,##0\u00a0%", "en": "#,##0%"}

CATALOGUE: dict[str, tuple[str, str]] = {
    # ---- report structure ------------------------------------------------------
    "settlement": ("Afregning", "Settlement"),
    "integrity": ("Grundlag og kontrolsummer", "Inputs and checksums"),
    "integrity_note": ("Rapporten viser kun, hvad motoren har beregnet ud fra disse filer; SHA-256 identificerer hver fil.",
                       "The report only shows what the engine computed from these files; SHA-256 identifies each file."),
    "as_of": ("Opgjort pr.", "As of"),
    "engine": ("Beregnet af", "Computed by"),
    "contract_file": ("Kontraktfil", "Contract file"),
    "ledger_file": ("Datafil", "Ledger file"),
    "file": ("Fil", "File"),
    "rows": ("Rækker", "Rows"),
    "summary": ("Oversigt", "Summary"),
    "owed": ("Hvad skyldes hvem", "What is owed to whom"),
    "pool": ("Tilbagebetaling i alt (puljen)", "Total repayment (the pool)"),
    "by_payer": ("Pr. betaler", "By payer"),
    "by_recipient": ("Pr. modtager", "By recipient"),
    "party": ("Part", "Party"),
    "name": ("Navn", "Name"),
    "role": ("Rolle", "Role"),
    "amount": ("Beløb", "Amount"),
    "return_cap": ("Afkastloft", "Return cap"),
    "return_cap_text": ("Afkastloftet for {payer} er {limit} ({clause}) og omfatter målene {goals}. Loftet skar {cut} bort.",
                        "The return cap of {payer} is {limit} ({clause}) and covers the goals {goals}. The cap cut {cut}."),
    "no_return_cap": ("Kontrakten har intet afkastloft.", "The contract has no return cap."),
    "tranches": ("Trancher", "Tranches"),
    "tranche": ("Tranche", "Tranche"),
    "until": ("Indtil puljen når", "Until the pool reaches"),
    "no_limit": ("resten", "the rest"),
    "shares": ("Andele", "Shares"),
    "periods": ("Perioder", "Periods"),
    "period": ("Periode", "Period"),
    "from": ("Fra", "From"),
    "to": ("Til", "To"),
    "due": ("Forfalder", "Due"),
    "cumulative": ("Akkumuleret", "Cumulative"),
    "goals": ("Betalingsmål", "Payment goals"),
    "goal": ("Mål", "Goal"),
    "title": ("Titel", "Title"),
    "payer": ("Betaler", "Payer"),
    "rate": ("Sats", "Rate"),
    "per": ("Pr.", "Per"),
    "flag": ("Flag", "Flag"),
    "cap": ("Loft", "Cap"),
    "no_cap": ("intet", "none"),
    "goal_amount": ("Efter målets loft", "After the goal's cap"),
    "goal_cap_cut": ("Skåret af målets loft", "Cut by the goal's cap"),
    "imputed_count": ("Imputerede", "Imputed"),
    "clause": ("Bestemmelse", "Clause"),
    "goals_note": ("Beløb pr. mål er efter målets eget loft og før afkastloftet.",
                   "Amounts per goal are after the goal's own cap and before the return cap."),
    "lines": ("Betalingslinjer", "Payment lines"),
    "lines_note": ("En linje er én betaling: ét subjekt (eller én kohorte) ved én måling af ét mål, "
                   "i den rækkefølge loftet anvendes.",
                   "A line is one payment: one subject (or one cohort) at one point of one goal, in the order the caps apply."),
    "line": ("Linje", "Line"),
    "subject": ("Subjekt", "Subject"),
    "point": ("Måling", "Point"),
    "date": ("Dato", "Date"),
    "outcome": ("Resultat", "Outcome"),
    "gross": ("Brutto", "Gross"),
    "after_goal_cap": ("Efter målets loft", "After goal cap"),
    "final": ("Til betaling", "Amount"),
    "marks": ("Mærker", "Marks"),
    "imputed": ("imputeret", "imputed"),
    "cut": ("beskåret", "cut"),
    "split": ("Fordeling", "Split"),
    "to_party": ("Til {party}", "To {party}"),
    "trails": ("Beregningsspor", "Audit trails"),
    "trail": ("Sådan er beløbet beregnet", "How the amount was computed"),
    "show_trail": ("Vis beregning", "Show the computation"),
    "flags": ("Flag", "Flags"),
    "flags_note": ("Flag er forhold, kontrakten kræver rejst; de ændrer ikke beløbene.",
                   "Flags are conditions the contract requires to be raised; they do not change the amounts."),
    "no_flags": ("Ingen flag er rejst.", "No flag is raised."),
    "details": ("Detaljer", "Details"),
    "exclusions": ("Udeladelser", "Exclusions"),
    "exclusions_note": ("Subjekter og målinger, der ikke gav en betalingslinje, og hvorfor.",
                        "Subjects and points that did not give a payment line, and why."),
    "no_exclusions": ("Intet er udeladt.", "Nothing is excluded."),
    "reason": ("Årsag", "Reason"),
    "detail": ("Forklaring", "Detail"),
    "rows_accounting": ("Regnskab over datarækker", "Rows accounting"),
    "rows_note": ("Hver række i hver datafil er enten brugt eller udeladt med en årsag.",
                  "Every row of every ledger file is either used or excluded with a reason."),
    "total": ("I alt", "Total"),
    "used": ("Brugt", "Used"),
    "excluded": ("Udeladt", "Excluded"),
    "row_exclusions": ("Udeladte rækker", "Excluded rows"),
    "reports": ("Øvrige opgørelser", "Other reports"),
    "relative_reduction": ("Relativ reduktion", "Relative reduction"),
    "metrics": ("Resultater mod mål", "Results against targets"),
    "metrics_note": ("Resultaterne ændrer ikke beløbene. Andelen er de opfyldte blandt subjekterne med en observeret værdi, "
                     "afrundet som kontrakten foreskriver; afstanden til målet er den afrundede andel minus målet.",
                     "Results do not change the amounts. The share is the subjects meeting the condition among those with an "
                     "observed value, rounded as the contract declares; the gap is the rounded share minus the target."),
    "metric": ("Resultat", "Result"),
    "subjects": ("Subjekter", "Subjects"),
    "count_met": ("Opfyldt", "Count"),
    "without_data": ("Uden data", "Without data"),
    "share_rounded": ("Andel", "Share"),
    "share_exact": ("Eksakt andel", "Exact share"),
    "target": ("Målværdi", "Target"),
    "against_target": ("Mod målet", "Against the target"),
    "gap": ("Afstand til målet", "Gap to the target"),
    "status_missed": ("mål ikke nået: {gap} procentpoint under", "missed by {gap} percentage points"),
    "status_met_above": ("mål nået: {gap} procentpoint over", "met: {gap} percentage points above the target"),
    "status_met_exactly": ("mål nået præcist", "met exactly"),
    "status_no_target": ("intet mål", "no target"),
    "status_no_data": ("ingen observerede værdier", "no observed values"),
    "figures": ("Nøgletal", "Figures"),
    "figures_note": ("Nøgletal er navngivne værdier i kontrakten, beregnet af motoren; de ændrer ikke beløbene.",
                     "Figures are named values of the contract, computed by the engine; they do not change the amounts."),
    "figure": ("Nøgletal", "Figure"),
    "value": ("Værdi", "Value"),
    "result_head": ("Resultat {id}", "Result {id}"),
    "figure_head": ("Nøgletal {id}", "Figure {id}"),
    "result_trail": ("Sådan er resultatet beregnet", "How the result was computed"),
    "figure_trail": ("Sådan er nøgletallet beregnet", "How the figure was computed"),
    "unknown_result": ("Ukendt linje, resultat eller nøgletal {id!r}.", "Unknown line, result or figure {id!r}."),
    "caps_per": ("Loft {per}", "Cap {per}"),
    "missing_value": ("mangler", "missing"),
    "yes": ("ja", "yes"),
    "no": ("nej", "no"),
    "none": ("ingen", "none"),
    "all_goals": ("alle mål", "all goals"),
    "chart_cumulative": ("Akkumuleret tilbagebetaling pr. periode", "Cumulative repayment by period"),
    "chart_goals": ("Betaling pr. mål pr. periode", "Payments per goal per period"),
    "series_pool": ("Puljen i alt", "The pool"),
    "series_payer": ("Heraf {payer} (under afkastloftet)", "Of which {payer} (under the return cap)"),
    "line_cap": ("Afkastloft {payer}: {limit}", "Return cap {payer}: {limit}"),
    "line_tranche": ("Tranche {a} → {b}: {limit}", "Tranche {a} → {b}: {limit}"),
    "text_lines": ("{n} linjer. Se en linjes beregning med: contractlang explain <linje-id>",
                   "{n} lines. See a line's computation with: contractlang explain <line id>"),
    "text_flags": ("Flag rejst: {n}", "Flags raised: {n}"),
    "half": ("{n}. halvår {year}", "H{n} {year}"),
    "unknown_line": ("Ukendt linje {id!r}.", "Unknown line {id!r}."),
    "did_you_mean": ("Mente du: {names}?", "Did you mean: {names}?"),
    "unknown_flag": ("Intet rejst flag hedder {id!r}.", "No raised flag is called {id!r}."),
    "line_head": ("Linje {id}", "Line {id}"),
    "flag_head": ("Flag {id}", "Flag {id}"),
    "contract_text": ("Kontrakttekst:", "Contract text:"),
    "engine_text": ("motorens tekst", "engine text"),
    # ---- roles, levels and other codes --------------------------------------------
    "role.funder": ("investor", "funder"),
    "role.recipient": ("modtager og tilbagebetaler", "recipient and repayer"),
    "level.person": ("person", "person"),
    "level.household": ("husstand", "household"),
    "level.cohort": ("kohorte", "cohort"),
    "level.persons": ("person", "person"),
    "level.households": ("husstand", "household"),
    "level.cohorts": ("kohorte", "cohort"),
    "per.success": ("pr. succes", "per success"),
    "per.unit": ("pr. enhed", "per unit"),
    "per.percentage_point": ("pr. procentpoint", "per percentage point"),
    "per.person": ("pr. person", "per person"),
    "per.household": ("pr. husstand", "per household"),
    "per.participant": ("pr. deltager", "per participant"),
    "per.subject": ("pr. deltager", "per subject"),
    "per.week": ("pr. uge", "per week"),
    "per.citizen_course": ("pr. borgerforløb", "per citizen course"),
    "per.DKK": ("pr. krone", "per krone"),
    "cap_per.year": ("pr. år", "per year"),
    "cap_per.years": ("pr. år", "per year"),
    "cap_per.subject": ("pr. deltager", "per subject"),
    "cap_per.other": ("pr. {per}", "per {per}"),
    "plural.persons": ("personer", "persons"),
    "plural.person": ("personer", "persons"),
    "plural.households": ("husstande", "households"),
    "plural.household": ("husstande", "households"),
    "plural.cohorts": ("kohorter", "cohorts"),
    "plural.cohort": ("kohorter", "cohorts"),
    "mode.half_away_from_zero": ("halve væk fra nul", "half away from zero"),
    "mode.half_up": ("halve op", "half up"),
    "mode.half_down": ("halve ned", "half down"),
    "mode.half_even": ("halve til lige", "half to even"),
    "mode.half_toward_zero": ("halve mod nul", "half towards zero"),
    "mode.down": ("mod nul", "towards zero"),
    "mode.up": ("væk fra nul", "away from zero"),
    "mode.floor": ("nedad", "down"),
    "mode.ceiling": ("opad", "up"),
    "reason.not_due": ("ikke forfalden på opgørelsesdatoen", "not due by the settlement date"),
    "reason.replaced": ("husstanden er erstattet (Bilag 1.4 3.2.3)", "the household was replaced (Bilag 1.4 3.2.3)"),
    "reason.out_of_scope": ("uden for målgruppen", "outside the goal's subjects"),
    "reason.too_short": ("under 3 måneder i indsatsen", "less than 3 months in the programme"),
    "reason.duplicate": ("dublet", "duplicate"),
    "reason.missing": ("ingen data", "no data"),
    "reason.moved_away": ("fraflyttet", "moved away"),
    "reason.ended": ("ophørt", "ended"),
    "reason.no_data": ("ingen data", "no data"),
    "reason.control_group": ("kontrolgruppe", "control group"),
    "reason.not_eligible": ("uden for målets målgruppe", "not among the goal's subjects"),
    "reason.not_counting": ("tæller ikke (under 3 måneder i indsatsen)", "does not count (less than 3 months in the programme)"),
    "reason.not_read": ("læses ikke af kontrakten", "not read by the contract"),
    "reason.not_started": ("husstanden starter efter opgørelsesdatoen", "the household starts after the settlement date"),
    "reason.replaced_no_correction": ("husstanden er erstattet; dens manglende værdier erstattes ikke",
                                      "the household was replaced; its missing values are not replaced"),
    "reason.missing_not_replaced": ("værdien mangler, og kontrakten erstatter den ikke",
                                    "the value is missing and the contract does not replace it"),
    "reason.rate_missing": ("prisen kan ikke aflæses for subjektet (den læser en manglende værdi)",
                            "the price cannot be read for this subject (it reads a missing value)"),
    "reason.division_by_zero": ("division med nul: udfaldet eller prisen har ingen værdi",
                                "division by zero: the outcome or the price has no value"),
    "key.ended": ("Ophørte husstande", "Households ended"),
    "key.households": ("Husstande", "Households"),
    "key.threshold": ("Grænse", "Threshold"),
    "key.value": ("Værdi", "Value"),
    "key.clause": ("Bestemmelse", "Clause"),
    "key.grant": ("Tilskud", "Grant"),
    "key.expected": ("Forventede husstande", "Expected households"),
    "key.actual": ("Faktiske husstande", "Actual households"),
    "key.reduction": ("Mulig reduktion", "Possible reduction"),
    "key.expected_households": ("Forventede husstande", "Expected households"),
    "key.actual_households": ("Faktiske husstande", "Actual households"),
    "key.grants": ("Tilskud", "Grants"),
    "key.count": ("Antal", "Count"),
    "key.observed": ("Observerede", "Observed"),
    "key.largest_deviation_pp": ("Største afvigelse (procentpoint)", "Largest deviation (percentage points)"),
    "key.expected_total": ("Forventede i alt (nævner for de forventede andele)",
                           "Expected in all (divisor of the expected shares)"),
    "key.category": ("Kategori", "Category"),
    "key.goal": ("Mål", "Goal"),
    "key.point": ("Måling", "Point"),
    "key.cohort": ("Kohorte", "Cohort"),
    "key.subject": ("Subjekt", "Subject"),
    "key.subjects": ("Subjekter", "Subjects"),
    "key.missing": ("Uden data", "Without data"),
    "key.share": ("Eksakt andel", "Exact share"),
    "key.share_rounded": ("Andel", "Share"),
    "key.target": ("Målværdi", "Target"),
    "key.gap_pp": ("Afstand til målet (procentpoint)", "Gap to the target (percentage points)"),
    "key.met": ("Mål nået", "Target met"),
    "key.title": ("Titel", "Title"),
    "key.id": ("Id", "Id"),
    "fn.mean": ("gennemsnit", "mean"),
    "fn.max": ("maks", "max"),
    "fn.min": ("min", "min"),
    "fn.round": ("afrund", "round"),
    "fn.total": ("sum", "total"),
    # ---- trace steps: one sentence per kind (docs/settlement-json.md) ------------
    "step.rule": ("Mål {goal} ({title}) gælder, {clause}.", "Goal {goal} ({title}) applies, {clause}."),
    "step.rule_flag": ("Reglen for flaget gælder, {clause}.", "The flag's rule applies, {clause}."),
    "step.subject": ("Opgøres for {level} {subject}{household}: {detail}.", "Counted for {level} {subject}{household}: {detail}."),
    "step.subject_household": (" i husstand {household}", " of household {household}"),
    "step.input": ("Data: {file} linje {line}: {measure} for {subject} ved {point} = {value}.",
                   "Input: {file} line {line}: {measure} of {subject} at {point} = {value}."),
    "step.missing": ("Mangler: ingen række med {measure} for {subject} ved {point}, skønt målingen skulle foreligge.",
                     "Missing: no row with {measure} of {subject} at {point}, though the measurement was due."),
    "step.missing_not_due": ("Mangler: {measure} for {subject} ved {point} falder den {date}, efter {limit}; "
                             "målingen er endnu ikke forfalden.",
                             "Missing: {measure} of {subject} at {point} falls on {date}, after {limit}; the "
                             "measurement is not yet due."),
    "step.at": (" ved {point}", " at {point}"),
    "step.value": ("{name}{at} = {value}, efter {expr}.", "{name}{at} = {value}, by {expr}."),
    "step.compute": ("Beregnet {expr} = {value}.", "Computed {expr} = {value}."),
    "step.compute_named": ("Beregnet {name}{at}: {expr} = {value}.", "Computed {name}{at}: {expr} = {value}."),
    "step.round": ("Afrundet{at} {before} til {after} ({places} {decimals}, {mode}; afrundingsregel {rule}, {clause}).",
                   "Rounded{at} {before} to {after} ({places} {decimals}, {mode}; rounding rule {rule}, {clause})."),
    "decimal": ("decimal", "decimal"),
    "decimals": ("decimaler", "decimals"),
    "step.impute": ("Imputeret{at} ({reason}): værdien erstattes af gennemsnittet {mean} af de {observations} værdier, "
                    "der er opnået ved samme måling ({clause}).",
                    "Imputed{at} ({reason}): the value is replaced by the mean {mean} of the {observations} values "
                    "obtained at the same measurement ({clause})."),
    "step.impute_method": (" Metode: {method}.", " Method: {method}."),
    "step.impute_exemption": (" Undtagelse: {exemption}.", " Exemption: {exemption}."),
    "step.payment": ("Betaling: resultat {outcome} × sats {rate} {per} = {exact}; til betaling {value}.",
                     "Payment: outcome {outcome} × rate {rate} {per} = {exact}; payable {value}."),
    "step.cap_goal": ("Loft for mål {cap}: {limit} ({clause}).", "Cap of goal {cap}: {limit} ({clause})."),
    "step.cap_return": ("Afkastloft for {payer}: {limit} ({clause}).", "Return cap of {payer}: {limit} ({clause})."),
    "step.cap_within": ("{running} er allerede medregnet, så {before} ligger inden for loftet og er uændret.",
                        "{running} is already counted, so {before} fits under the cap and is unchanged."),
    "step.cap_cut": ("{running} er allerede medregnet, så kun {after} af {before} ligger inden for loftet.",
                     "{running} is already counted, so only {after} of {before} fits under the cap."),
    "step.tranche": ("Tranche {tranche}{until} ({clause}): {amount} indgår i puljen, der før denne betaling er "
                     "{pool_before}; fordeling {split}.",
                     "Tranche {tranche}{until} ({clause}): {amount} enters the pool, which stands at {pool_before} "
                     "before this payment; split {split}."),
    "step.tranche_until": (", indtil puljen når {until}", ", until the pool reaches {until}"),
    "step.tranche_remainder": (" Afrundingsrest til {remainder}.", " Rounding remainder to {remainder}."),
    "step.flag": ("Flag {flag}: {condition}; værdi {value}.", "Flag {flag}: {condition}; value {value}."),
    "step.flag_threshold": (" Grænse: {threshold}.", " Threshold: {threshold}."),
    "step.rule_see": ("Mål {goal} ({title}) gælder, {clause}; kontraktteksten står under betalingsmålene.",
                      "Goal {goal} ({title}) applies, {clause}; the contract text is shown under the payment goals."),
    "step.note": ("Bemærkning: {text}", "Note: {text}"),
    "step.rule_metric": ("Reglen for resultatet gælder, {clause}.", "The result's rule applies, {clause}."),
    "step.rule_figure": ("Reglen for nøgletallet gælder, {clause}.", "The figure's rule applies, {clause}."),
    "step.rule_other": ("Reglen gælder, {clause}.", "The rule applies, {clause}."),
    "step.aggregate_total": ("Sum af {measure}{at} over {observations} observerede værdier ({file} {rows}) = {value}.",
                             "Total of {measure}{at} over {observations} observed values ({file} {rows}) = {value}."),
    "step.aggregate_mean": ("Gennemsnit af {measure}{at} over {observations} observerede værdier ({file} {rows}) = {value}.",
                            "Mean of {measure}{at} over {observations} observed values ({file} {rows}) = {value}."),
    "step.aggregate_other": ("{func} af {measure}{at} over {observations} observerede værdier ({file} {rows}) = {value}.",
                             "{func} of {measure}{at} over {observations} observed values ({file} {rows}) = {value}."),
    "step.rows_one": ("linje {lines}", "line {lines}"),
    "step.rows_many": ("linjer {lines}", "lines {lines}"),
    "step.rows_more": (" … og {n} flere", " … and {n} more"),
    "step.rows_none": ("ingen rækker", "no rows"),
    "step.rate": ("Sats{at} = {value}, efter {expr}.", "Rate{at} = {value}, by {expr}."),
    "step.value_figure": ("{name} = {value}: nøgletallet {name} (se Nøgletal).",
                          "{name} = {value}: the figure {name} (see Figures)."),
    "step.value_metric": ("{name} = {value}: andelen i resultatet {name} (se Resultater mod mål).",
                          "{name} = {value}: the share of the result {name} (see Results against targets)."),
    "step.cap_payer": ("Loft for de mål, {payer} betaler: {limit} ({clause}).", "Cap on the goals {payer} pays: {limit} ({clause})."),
    "step.cap_payer_per": ("Loft for de mål, {payer} betaler, {per} ({period}): {limit} ({clause}).",
                           "Cap on the goals {payer} pays, {per} ({period}): {limit} ({clause})."),
    "step.cap_goal_per": ("Loft for mål {cap} {per} ({period}): {limit} ({clause}).",
                          "Cap of goal {cap} {per} ({period}): {limit} ({clause})."),
    "step.share": ("Andel: {count} af {subjects} {level} × 100 = {value}.",
                   "Share: {count} of {subjects} {level} × 100 = {value}."),
    "step.gap": ("Afstand til målet: {rounded} − {target} = {value} procentpoint.",
                 "Gap to the target: {rounded} − {target} = {value} percentage points."),
    "step.unknown": ("Trin {kind}: {fields}", "Step {kind}: {fields}"),
    "step.previous": ("{name}{at} = {value}: den seneste observerede {measure} før {before}, målt ved {observed_at}.",
                      "{name}{at} = {value}: the latest observed {measure} before {before}, measured at {observed_at}."),
    "step.previous_default": ("{name}{at} = {value}: ingen {measure} observeret før {before}; standardværdien gælder.",
                              "{name}{at} = {value}: no {measure} observed before {before}; the default applies."),
    "step.lookup": ("{name}{at} = {value}, ifølge tabel {table}, række {row}.",
                    "{name}{at} = {value}, by table {table}, row {row}."),
    "step.group_mean": ("Beregnet gennemsnittet for {group} ved {point}: gennemsnit af {observed} observerede {measure} "
                        "blandt {subjects} subjekter i {group} = {value}.",
                        "Computed the {group} mean at {point}: mean of {observed} observed {measure} of {subjects} "
                        "{group} subjects = {value}."),
    # ---- the engine's facts (`facts` of steps and exclusions) in words -----------------
    "month": ("måned", "month"),
    "months": ("måneder", "months"),
    "end_reason.completed": ("gennemført", "completed"),
    "end_reason.moved": ("fraflyttet", "moved"),
    "end_reason.dropped": ("faldet fra", "dropped"),
    "end_reason.no_longer_needed": ("ikke længere behov", "no longer needed"),
    "end_reason.other": ("anden årsag", "other"),
    "fact.stay_reached": ("startede {start}; opholdet nåede {months} {unit} den {reached}",
                          "started {start}; stay reached {months} {unit} on {reached}"),
    "fact.stay_none": ("startede {start} (kontrakten kræver intet minimumsophold)",
                       "started {start} (the contract sets no minimum stay)"),
    "fact.stay_ended": ("startede {start}; opholdet sluttede den {end}, før det nåede {months} {unit} ({needed})",
                        "started {start}; stay ended {end} before reaching {months} {unit} ({needed})"),
    "fact.household_stay": ("husstand {household} {stay}", "household {household} {stay}"),
    "fact.age": ("; {age} år ved husstandens start", "; age {age} at the household's start"),
    "fact.cohort": ("kohorte {cohort} startede {start}; {groups}", "cohort {cohort} started {start}; {groups}"),
    "fact.cohort_group": ("{n} subjekter i {group}", "{n} {group} subjects"),
    "fact.not_eligible": ("opfylder ikke {condition}", "does not satisfy {condition}"),
    "fact.not_eligible_person": ("{age} år ved start, klassetrin {grade}: opfylder ikke {condition}",
                                 "age {age} at start, school grade {grade}: does not satisfy {condition}"),
    "fact.not_eligible_no_grade": ("{age} år ved start, intet klassetrin: opfylder ikke {condition}",
                                   "age {age} at start, school grade none: does not satisfy {condition}"),
    "fact.not_due": ("{point} falder den {date}, efter {limit}", "{point} falls on {date}, after {limit}"),
    "fact.not_due_cohort": ("{point} for kohorte {cohort} falder den {date}", "{point} of cohort {cohort} falls on {date}"),
    "fact.missing_ended": ("husstand {household} ophørte den {end} ({end_reason}), før målingen den {point_date}",
                           "household {household} ended ({end_reason}) on {end}, before the point ({point_date})"),
    "fact.missing_ended_no_reason": ("husstand {household} ophørte den {end}, før målingen den {point_date}",
                                     "household {household} ended on {end}, before the point ({point_date})"),
    "fact.missing_no_row": ("ingen målerække, skønt målingen skulle foreligge", "no measurement row for a due point"),
    "fact.replaced": ("husstanden er erstattet af {replaced_by} (ingen korrektion)",
                      "household replaced by {replaced_by} (no correction)"),
    "fact.not_replaced": ("husstanden er ikke erstattet, så undtagelsen gælder ikke",
                          "household not replaced: the exemption does not apply"),
    "fact.rate_missing": ("prisen {price} læser en værdi, der mangler for dette subjekt",
                          "the price {price} reads a value that is missing for this subject"),
    "fact.division_by_zero_outcome": ("udfaldet har ingen værdi: {expr} dividerer med nul",
                                      "the outcome has no value: {expr} divides by zero"),
    "fact.division_by_zero_price": ("prisen har ingen værdi: {expr} dividerer med nul",
                                    "the price has no value: {expr} divides by zero"),
    "fact.not_started": ("husstand {household} starter den {start}, efter {as_of}",
                         "household {household} starts {start}, after {as_of}"),
    "fact.measured_late": ("målt den {measured}, efter {as_of}", "measured {measured}, after {as_of}"),
    "fact.not_read": ("intet mål, flag eller sammenligning i kontrakten læser {measure} ved {point} for dette subjekt "
                      "(målgruppe, måling ikke forfalden eller ikke nødvendig)",
                      "no goal, flag or comparison of the contract reads {measure} at {point} for this subject "
                      "(eligibility, point not due, or not needed)"),
    "note.share_missing": ("Bemærkning: {count} {level} uden en observeret værdi er udeladt af andelen: {subjects}.",
                           "Note: {count} {level} without an observed value are left out of the share: {subjects}."),
    "note.share_missing_one": ("Bemærkning: {count} {level} uden en observeret værdi er udeladt af andelen: {subjects}.",
                               "Note: {count} {level} without an observed value is left out of the share: {subjects}."),
    "note.no_group_mean": ("Bemærkning: en gruppe havde intet observeret subjekt; målingen udløser ingen betaling.",
                           "Note: a group had no observed subject; this point pays nothing."),
    "note.division_by_zero_line": ("Bemærkning: {expr} dividerer med nul; målingen udløser ingen betaling.",
                                   "Note: {expr} divides by zero; this point pays nothing."),
    "note.division_by_zero_figure": ("Bemærkning: {expr} dividerer med nul; tallet har ingen værdi.",
                                     "Note: {expr} divides by zero; the figure has no value."),
    "note.no_observations_imputed": ("Bemærkning: intet subjekt er observeret for {goal} ved {point}; der imputeres 0.",
                                     "Note: no subject observed for {goal} at {point}; imputed 0."),
    "note.no_observations_cohort": ("Bemærkning: kohorte {cohort} ved {point}: et gruppegennemsnit kunne ikke dannes; "
                                    "intet udbetales.",
                                    "Note: cohort {cohort} at {point}: a group mean could not be formed; nothing is paid."),
    # ---- titles of the flags the engine raises itself ----------------------------------
    "flag_title.no_observations": ("Ingen observerede værdier at danne et gennemsnit af", "No observed values to average"),
}
assert all(len(v) == 2 for v in CATALOGUE.values())

_NUMBER = re.compile(r"(?<![\w.@])\d+(?:\.\d+)?(?![\w.])")
_FUNCTION = re.compile(r"\b(mean|max|min|round|total)\(")
_AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
_NUMERIC = re.compile(r"-?\d+(?:\.\d+)?…?")


def to_decimal(value, cut_short: bool = False) -> Decimal:
    """A document value (decimal string, int or Decimal) as Decimal; floats are refused.

    With `cut_short`, a string the engine already cut short (`"10.1365517…"`)
    is read without its `…`; the caller must show that it is cut short.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"not a decimal value: {value!r}")
    text = str(value)
    if cut_short and text.endswith("…"):
        text = text[:-1]
    return Decimal(text)


def _places(d: Decimal) -> int:
    """The decimal places a Decimal is written with (`7.50` → 2, `1E+3` → 0)."""
    exp = d.as_tuple().exponent
    return max(0, -exp) if isinstance(exp, int) else 0


def _exact(d: Decimal):
    """A decimal context wide enough that Babel's quantize keeps every digit of `d` (never rounds).

    Babel quantizes in the current context, whose default 28 digits would round
    the engine's 50-digit values (or fail).
    """
    t = d.as_tuple()
    exp = t.exponent if isinstance(t.exponent, int) else 0
    return decimal.localcontext(decimal.Context(prec=max(28, len(t.digits) + abs(exp) + 8)))


class Formatter:
    """Words and numbers for one language; every Babel call passes `locale=` explicitly."""

    def __init__(self, lang: str, currency: str = "DKK"):
        if lang not in LANGS:
            raise ValueError(f"language must be one of {', '.join(LANGS)}, not {lang!r}")
        self.lang = lang
        self.locale = LOCALES[lang]
        self.currency = currency
        self._i = LANGS.index(lang)

    # ---- words ----
    def t(self, key: str, **kw) -> str:
        """The catalogue entry `key` in this language, with `kw` filled in."""
        text = CATALOGUE[key][self._i]
        return text.format(**kw) if kw else text

    def raw(self, key: str) -> str:
        """The catalogue entry `key` unformatted, for callers that mark up the values first."""
        return CATALOGUE[key][self._i]

    def code(self, prefix: str, value) -> str:
        """A translated code (`reason.not_due`), or the code itself when the catalogue lacks it."""
        key = f"{prefix}.{value}"
        return self.t(key) if key in CATALOGUE else str(value)

    # ---- numbers ----
    def money(self, value) -> str:
        """An amount: `72.150,00 kr.` / `DKK 72,150.00`; a price with more places keeps them all."""
        d = to_decimal(value)
        places = _places(d)
        pattern = CURRENCY_PATTERNS[self.lang]
        if places > 2:
            pattern = (pattern or Locale.parse(self.locale).currency_formats["standard"].pattern).replace(
                "0.00", "0." + "0" * places, 1)
        with _exact(d):
            return format_currency(d, self.currency, format=pattern, locale=self.locale,
                                   currency_digits=pattern is None)

    def currency_symbol(self) -> str:
        return get_currency_symbol(self.currency, locale=self.locale)

    def num(self, value, grouping: bool = True) -> str:
        """A decimal with every place it has (`7.50` → `7,50`), never rounded or cut short.

        A value the engine already cut short (`"0.239583333333…"`) keeps its `…`.
        """
        d = to_decimal(value, cut_short=True)
        tail = "…" if str(value).endswith("…") else ""
        places = _places(d)
        pattern = ("#,##0" if grouping else "0") + ("." + "0" * places if places else "")
        with _exact(d):
            return format_decimal(d, format=pattern, locale=self.locale) + tail

    def pp(self, value) -> str:
        """Percentage points with at least one decimal (`"-19"` → `-19,0` / `-19.0`), every place kept."""
        d = to_decimal(value, cut_short=True)
        pattern = "#,##0." + "0" * max(1, _places(d))
        with _exact(d):
            return format_decimal(d, format=pattern, locale=self.locale) + ("…" if str(value).endswith("…") else "")

    def count(self, value) -> str:
        return format_decimal(int(value), format="#,##0", locale=self.locale)

    def axis(self, value) -> str:
        """A whole-number axis label (`300.000` / `300,000`)."""
        return format_decimal(to_decimal(value), format="#,##0", locale=self.locale)

    def pct(self, value) -> str:
        """A percentage given in percent (`"74"` → `74 %` / `74%`), with every place it has."""
        d = to_decimal(value, cut_short=True)
        tail = "…" if str(value).endswith("…") else ""
        places = _places(d)
        pattern = PERCENT_PATTERNS[self.lang]
        if places:
            pattern = pattern.replace("#,##0", "#,##0." + "0" * places, 1)
        with _exact(d):
            text = format_percent(d.scaleb(-2), format=pattern, locale=self.locale)
        if tail:   # the mark belongs to the number, before the percent sign
            text = re.sub(r"(\d)(?!.*\d)", r"\1…", text, count=1)
        return text

    def date(self, value) -> str:
        """An ISO date as Babel's medium date: `31. okt. 2028` / `31 Oct 2028`."""
        return format_date(dt.date.fromisoformat(str(value)), format="medium", locale=self.locale)

    def period(self, value: str) -> str:
        """A period code (`2024-H2`) in words (`2. halvår 2024` / `H2 2024`)."""
        m = re.fullmatch(r"(\d{4})-H([12])", str(value))
        return self.t("half", n=m.group(2), year=m.group(1)) if m else str(value)

    def clause(self, value) -> str:
        return f"§ {value}" if value else ""

    def plural(self, n, one: str, many: str) -> str:
        return self.t(one) if to_decimal(n) == 1 else self.t(many)

    def expr(self, text: str) -> str:
        """An arithmetic expression with its numbers localised: `(7,50 - 9,50) / 9,50 × 100`.

        In Danish, where the comma is the decimal sign, arguments are separated
        by `;` as in a Danish spreadsheet.
        """
        s = str(text)
        if self.lang == "da":
            s = s.replace(", ", "; ")
        s = _FUNCTION.sub(lambda m: self.t(f"fn.{m.group(1)}") + "(", s)
        s = _NUMBER.sub(lambda m: self.num(m.group(0), grouping=False), s)
        return s.replace(" * ", " × ")

    def value(self, value) -> str:
        """Any scalar of the document: counts as counts, decimal strings as numbers, names as they are."""
        if value is None:
            return self.t("none")
        if isinstance(value, bool) or value in ("true", "false"):
            return self.t("yes" if value in (True, "true") else "no")
        if value == "missing":   # the engine's word for a missing value
            return self.t("missing_value")
        if isinstance(value, int):
            return self.count(value)
        s = str(value)
        if _NUMBER.fullmatch(s.lstrip("-").rstrip("…")):
            return self.num(s)
        return s

    def is_amount(self, value) -> bool:
        return isinstance(value, str) and bool(_AMOUNT.match(value))


# ---- markup and sentences: the document's steps and facts in words -------------------------

class Plain:
    """Terminal text: no markup. Subclasses (render.Markdown, render.Html) mark identifiers and escape text."""

    @staticmethod
    def esc(s: str) -> str:
        return s

    tpl = esc

    @staticmethod
    def code(s: str) -> str:
        return s


PLAIN = Plain()


def goals_by_id(doc: dict) -> dict:
    """The document's goals by id."""
    return {g["id"]: g for g in doc.get("goals", [])}


def party_name(doc: dict, pid: str) -> str:
    """A party's name (`Viborg Kommune`), or its id when the document has none."""
    return (doc.get("parties", {}).get(pid) or {}).get("name") or pid


def is_number(v) -> bool:
    """A document value that reads as a number: an int, a Decimal, or a decimal string (possibly cut short by the engine)."""
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, Decimal)):
        return True
    return isinstance(v, str) and bool(_NUMERIC.fullmatch(v))


#: Input rows of an aggregate listed by number before the rest are counted.
MAX_ROWS_LISTED = 20


def _owner_of(text) -> str | None:
    """What a contract-level rule step belongs to, from its source text's keyword (`flag`, `metric`, `figure`)."""
    word = str(text or "").split(maxsplit=1)
    return word[0] if word and word[0] in ("flag", "metric", "figure") else None


def row_list(lines, fx: Formatter) -> str:
    """Ledger line numbers in words: `lines 105, 207, … and 77 more` (the first MAX_ROWS_LISTED)."""
    lines = list(lines)
    if not lines:
        return fx.t("step.rows_none")
    shown = ", ".join(str(n) for n in lines[:MAX_ROWS_LISTED])
    text = fx.t("step.rows_one" if len(lines) == 1 else "step.rows_many", lines=shown)
    if len(lines) > MAX_ROWS_LISTED:
        text += fx.t("step.rows_more", n=fx.count(len(lines) - MAX_ROWS_LISTED))
    return text


def cap_per(per, fx: Formatter) -> str:
    """What a cap runs per, in words: `per year`, `per subject` (`pr. år`, `pr. deltager`)."""
    key = f"cap_per.{per}"
    return fx.t(key) if key in CATALOGUE else fx.t("cap_per.other", per=per)


# ---- the engine's facts in words ----------------------------------------------------------------
#
# The engine writes its explanations twice: as English prose (`detail`, `reason`, `exemption`, `expr`,
# `text`) for readers of the JSON, and as `facts` (ids, dates, counts, codes; docs/settlement-json.md).
# Reports build the sentence from `facts` in their own language; a document without `facts` (older
# documents, hand-made fixtures) shows the prose as it is.

#: What a fact sentence may fail with when a document's `facts` lack a field: the prose is shown instead.
_FACT_ERRORS = (KeyError, TypeError, ValueError, AttributeError)


def _say(fx: Formatter, mk: Plain, key: str, **kw) -> str:
    """A catalogue sentence with values already marked up by `mk`."""
    return mk.tpl(fx.raw(key)).format(**kw)


def _day(fx: Formatter, mk: Plain, value) -> str:
    return mk.esc(fx.date(value))


def stay_text(facts: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """A household's start and stay: `startede 21. nov. 2023; opholdet nåede 3 måneder den 21. feb. 2024`."""
    months = int(facts.get("stay_months", 0))
    unit = mk.esc(fx.plural(months, "month", "months"))
    start = _day(fx, mk, facts["start"])
    if "stay_reached" in facts:
        if months == 0:
            return _say(fx, mk, "fact.stay_none", start=start)
        return _say(fx, mk, "fact.stay_reached", start=start, months=mk.esc(fx.count(months)), unit=unit,
                    reached=_day(fx, mk, facts["stay_reached"]))
    return _say(fx, mk, "fact.stay_ended", start=start, end=_day(fx, mk, facts["stay_end"]),
                months=mk.esc(fx.count(months)), unit=unit, needed=_day(fx, mk, facts["needed"]))


def missing_text(facts: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """Why a due value is missing: the household ended before the point (with its end reason), or no row."""
    if facts["missing"] == "ended":
        kw = dict(household=mk.code(str(facts["household"])), end=_day(fx, mk, facts["end"]),
                  point_date=_day(fx, mk, facts["point_date"]))
        if facts.get("end_reason"):
            return _say(fx, mk, "fact.missing_ended", end_reason=mk.esc(fx.code("end_reason", facts["end_reason"])), **kw)
        return _say(fx, mk, "fact.missing_ended_no_reason", **kw)
    if facts["missing"] == "no_row":
        return _say(fx, mk, "fact.missing_no_row")
    raise ValueError(facts["missing"])


def exemption_text(facts: dict, fx: Formatter, mk: Plain = PLAIN) -> str | None:
    """The `except replaced` exemption: replaced by whom, or not replaced; None when the rule has none."""
    if "exemption" not in facts:
        return None
    if facts["exemption"] == "replaced":
        return _say(fx, mk, "fact.replaced", replaced_by=mk.code(str(facts.get("replaced_by"))))
    if facts["exemption"] == "not_replaced":
        return _say(fx, mk, "fact.not_replaced")
    raise ValueError(facts["exemption"])


def _eligibility_text(facts: dict, fx: Formatter, mk: Plain) -> str:
    condition = mk.code(str(facts["condition"]))
    if "age" not in facts:
        return _say(fx, mk, "fact.not_eligible", condition=condition)
    age = mk.esc(fx.count(facts["age"]))
    if facts.get("grade") is None:
        return _say(fx, mk, "fact.not_eligible_no_grade", age=age, condition=condition)
    return _say(fx, mk, "fact.not_eligible_person", age=age, grade=mk.esc(fx.count(facts["grade"])), condition=condition)


def _exclusion_text(reason, facts: dict, fx: Formatter, mk: Plain) -> str | None:
    code = mk.code
    if reason == "not_counting":
        return _say(fx, mk, "fact.household_stay", household=code(str(facts["household"])), stay=stay_text(facts, fx, mk))
    if reason == "not_eligible":
        return _eligibility_text(facts, fx, mk)
    if reason == "not_due":
        if "measured" in facts:   # a ledger row measured after the settlement date
            return _say(fx, mk, "fact.measured_late", measured=_day(fx, mk, facts["measured"]), as_of=_day(fx, mk, facts["as_of"]))
        if "cohort" in facts:
            return _say(fx, mk, "fact.not_due_cohort", point=code(str(facts["point"])), cohort=code(str(facts["cohort"])),
                        date=_day(fx, mk, facts["date"]))
        return _say(fx, mk, "fact.not_due", point=code(str(facts["point"])), date=_day(fx, mk, facts["date"]),
                    limit=_day(fx, mk, facts["limit"]))
    if reason in ("missing_not_replaced", "replaced_no_correction"):
        exemption = exemption_text(facts, fx, mk)
        return missing_text(facts, fx, mk) + (f"; {exemption}" if exemption else "")
    if reason == "rate_missing":
        return _say(fx, mk, "fact.rate_missing", price=code(str(facts["price"])))
    if reason == "division_by_zero":
        return _say(fx, mk, f"fact.division_by_zero_{facts['in']}", expr=code(str(facts["expr"])))
    if reason == "not_started":
        return _say(fx, mk, "fact.not_started", household=code(str(facts["household"])), start=_day(fx, mk, facts["start"]),
                    as_of=_day(fx, mk, facts["as_of"]))
    if reason == "not_read":
        return _say(fx, mk, "fact.not_read", measure=code(str(facts["measure"])), point=code(str(facts["point"])))
    return None


def exclusion_detail(record: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """The explanation of an exclusion or an excluded ledger row (`exclusions[]`, `row_exclusions[]`), marked up by `mk`:
    built from its `facts` in the report's language, or the engine's prose `detail` when it has none."""
    facts = record.get("facts")
    if isinstance(facts, dict):
        try:
            text = _exclusion_text(record.get("reason"), facts, fx, mk)
        except _FACT_ERRORS:
            text = None
        if text is not None:
            return text
    return mk.esc(str(record.get("detail") or ""))


def flag_title(flag: dict, fx: Formatter) -> str:
    """A raised flag's title: the contract's, or for a flag the engine raises itself (`no_observations`) the catalogue's."""
    if flag.get("title"):
        return str(flag["title"])
    key = f"flag_title.{flag.get('id')}"
    return fx.t(key) if key in CATALOGUE else str(flag.get("id") or "")


def goal_texts(doc: dict) -> dict[str, str]:
    """Each goal's contract text, as the first `rule` step of its lines gives it, in goal order."""
    texts: dict[str, str] = {}
    for line in doc.get("lines", []):
        for step in line.get("trace", []):
            rule = step.to_json() if not isinstance(step, dict) else step
            if rule.get("kind") == "rule" and rule.get("goal") and rule.get("text"):
                texts.setdefault(rule["goal"], rule["text"])
    return {g["id"]: texts[g["id"]] for g in doc.get("goals", []) if g["id"] in texts}


def line_facts(line: dict, doc: dict, fx: Formatter, mk: Plain = PLAIN) -> list[tuple[str, str]]:
    """The headline facts of a line as (label, value) pairs; labels plain, values marked up by `mk`."""
    goal = goals_by_id(doc).get(line.get("goal"), {})
    esc, code = mk.esc, mk.code
    marks = [fx.t(k) for k in ("imputed", "cut") if line.get(k)]
    facts = [
        (fx.t("goal"), f"{code(str(line.get('goal')))} ({esc(goal.get('title') or '')}), {esc(fx.clause(goal.get('clause')))}"),
        (fx.t("subject"), code(str(line.get("subject")))),
        (fx.t("point"), code(str(line.get("point")))),
        (fx.t("date"), esc(fx.date(line["date"]))),
        (fx.t("period"), esc(fx.period(line.get("period")))),
        (fx.t("payer"), f"{code(str(line.get('payer')))} ({esc(party_name(doc, line.get('payer')))})"),
        (fx.t("outcome"), esc(fx.num(line["outcome"]))),
        (fx.t("gross"), esc(fx.money(line["gross"]))),
        (fx.t("after_goal_cap"), esc(fx.money(line["after_goal_cap"]))),
        (fx.t("final"), esc(fx.money(line["amount"]))),
        (fx.t("split"), "; ".join(f"{code(p)} {esc(fx.money(v))}" for p, v in (line.get("split") or {}).items())),
    ]
    if marks:
        facts.append((fx.t("marks"), esc(", ".join(marks))))
    return facts


_KEY_KINDS = {"grant": "money", "reduction": "money", "clause": "clause"}


def key_label(key: str, fx: Formatter) -> str:
    """The label of a `details` or `reports` key: from the catalogue, else the key in words."""
    return fx.t(f"key.{key}") if f"key.{key}" in CATALOGUE else key.replace("_", " ")


def detail_value(key: str, value, fx: Formatter) -> str:
    """A value of `details` or `reports`: amounts by key (`grant`, `…_amount`), counts, numbers, nested parts."""
    kind = _KEY_KINDS.get(key)
    if value is None:
        return fx.t("none")
    if kind == "money" or (kind is None and fx.is_amount(value) and key.endswith(("amount", "limit"))):
        return fx.money(value)
    if kind == "clause":
        return fx.clause(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(detail_value(key, v, fx) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{key_label(k, fx)} ({detail_value(k, v, fx)})" if isinstance(v, dict)
                         else f"{key_label(k, fx)}: {detail_value(k, v, fx)}" for k, v in value.items())
    return fx.value(value)


def return_cap_sentence(doc: dict, fx: Formatter, mk: Plain) -> str:
    """The return cap in one sentence: payer, limit, clause, goals and what it cut."""
    rc = doc["return_cap"]
    goals = ", ".join(mk.code(g) for g in rc.get("goals") or []) or mk.esc(fx.t("all_goals"))
    return mk.tpl(fx.raw("return_cap_text")).format(
        payer=mk.code(str(rc.get("payer"))), limit=mk.esc(fx.money(rc.get("limit"))), clause=mk.esc(fx.clause(rc.get("clause"))),
        goals=goals, cut=mk.esc(fx.money(doc.get("totals", {}).get("return_cap_cut", "0"))))


# ---- goals' prices and caps, results and figures: shared by every format ----------------------

def rate_text(goal: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """A goal's price: `72.150,00 kr. pr. succes`, or the text of the expression that prices each line (as code)."""
    rate, per = goal.get("rate"), fx.code("per", goal.get("per"))
    if rate is None:
        return mk.esc(fx.t("none"))
    shown = mk.esc(fx.money(rate)) if is_number(rate) else mk.code(str(rate))
    return f"{shown} {mk.esc(per)}" if goal.get("per") else shown


def caps_text(goal: dict, fx: Formatter, mk: Plain = PLAIN) -> str:
    """A goal's own caps: `50.000,00 kr. pr. deltager; 1.400.000,00 kr.`, or `intet`."""
    caps = goal.get("caps")
    if caps is None:   # a document from before `caps`: the single whole-contract cap
        caps = [] if goal.get("cap") is None else [{"limit": goal["cap"], "per": None}]
    if not caps:
        return mk.esc(fx.t("no_cap"))
    return "; ".join(mk.esc(fx.money(c["limit"]) + (f" {cap_per(c['per'], fx)}" if c.get("per") else "")) for c in caps)


def metric_status(metric: dict, fx: Formatter) -> str:
    """A result against its target: `missed by 19.0 percentage points` / `mål ikke nået: 19,0 procentpoint under`."""
    if metric.get("target") is None:
        return fx.t("status_no_target")
    gap = metric.get("gap_pp")
    if not is_number(gap):
        return fx.t("status_no_data")
    d = to_decimal(gap, cut_short=True)
    met = metric.get("met")
    if met is None:
        met = d >= 0
    if met and d == 0:
        return fx.t("status_met_exactly")
    size = str(gap).lstrip("-")   # the gap without its sign: the sentence says above or below
    return fx.t("status_met_above" if met else "status_missed", gap=fx.pp(size))


def share_text(value, fx: Formatter) -> str:
    """A share in percent, every place kept; `no observed values` when the engine has none."""
    return fx.pct(value) if is_number(value) else fx.t("status_no_data")


def metric_cells(metric: dict, fx: Formatter) -> dict[str, str]:
    """A result's values in words, by column key (plain text; the caller escapes)."""
    return {"metric": metric.get("title") or metric.get("id", ""),
            "subjects": fx.count(metric.get("subjects", 0)),
            "count_met": fx.count(metric.get("count", 0)),
            "without_data": fx.count(metric.get("missing", 0)),
            "share_rounded": share_text(metric.get("share_rounded"), fx),
            "share_exact": share_text(metric.get("share"), fx),
            "target": fx.pct(metric["target"]) if metric.get("target") is not None else fx.t("none"),
            "against_target": metric_status(metric, fx),
            "clause": fx.clause(metric.get("clause"))}


def figure_value(figure: dict, fx: Formatter) -> str:
    """A figure's value with every place it has, as an amount or a percentage when its `unit` says so."""
    value, unit = figure.get("value"), figure.get("unit")
    if unit == "DKK" and is_number(value):
        return fx.money(value)
    if unit == "%" and is_number(value):
        return fx.pct((to_decimal(value) * 100).normalize())
    return fx.value(value)


def results(doc: dict) -> tuple[list[dict], list[dict]]:
    """The document's metrics and figures (empty lists when it has none)."""
    reports = doc.get("reports") or {}
    return list(reports.get("metrics") or []), list(reports.get("figures") or [])
