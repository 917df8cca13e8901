"""What a coder is offered (the uk profile): the HES prior, statement linking, suggester features."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from clincoder.core.codes import System
from clincoder.core.contracts import Mention, PreparedLetter, RankedCode, SentenceRecord, WeightedMention
from clincoder.core.tables import load_tsv_table
from clincoder.models.lexical import LexicalIndex
from clincoder.models.linker import SIDED, Link, Linker, with_context, with_lead, with_links, with_statement
from clincoder.models.prior import HesPrior, hes_prior
from clincoder.models.suggest import (FEATURES, Logistic, Suggester, SuggesterParams, SuggestionModel, features, named,
                                      primary_of, suggestion_rows)
from clincoder.models.trees import BoostingParams

PRIOR = HesPrior({"source": "test", "financial_year": "2023-24",
                  "ICD-10": {"I21.4": 60000, "I10": 6000000, "E11.9": 500000, "S72.0": 86000},
                  "OPCS-4": {"K75.1": 57000}})


@pytest.fixture(scope="module")
def uk_mini(icd10_uk_fixture):
    return load_tsv_table(icd10_uk_fixture, System.ICD10, "ICD-10 UK test", "CLINCODER_ICD10_UK")


def letter(lines: list[tuple[str, str | None]]) -> PreparedLetter:
    """Kept sentences (text, section), each with one diagnosis mention spanning the text."""
    records, offset = [], 0
    for text, section in lines:
        m = Mention(offset, offset + len(text), text, "DIAGNOSIS", section)
        records.append(SentenceRecord(offset, offset + len(text), section, "present", 1.0, text, False,
                                      (WeightedMention(m, 1.0),)))
        offset += len(text) + 1
    return PreparedLetter(tuple(records), tuple(w.mention for r in records for w in r.mentions))


def test_prior_counts_a_uk_5th_character_code_at_its_parent_and_weighs_0_to_1():
    assert PRIOR.count(System.ICD10, "S72.00") == 86000 and PRIOR.count(System.ICD10, "I10") == 6000000
    assert PRIOR.count(System.ICD10, "Z99.9") == 0 and PRIOR.weight(System.ICD10, "Z99.9") == 0.0
    assert 0 < PRIOR.weight(System.ICD10, "I21.4") < PRIOR.weight(System.ICD10, "I10") == 1.0
    assert PRIOR.count(System.OPCS4, "K75.1") == 57000


def test_shipped_prior_is_hes_with_its_licence():
    prior = hes_prior()
    assert "Open Government Licence" in prior.source and prior.year
    assert prior.count(System.ICD10, "I10") > prior.count(System.ICD10, "I21.4") > 0
    assert prior.count(System.OPCS4, "K75.1") > 0


def test_linker_links_each_statement_to_its_best_code(uk_mini):
    lexical = LexicalIndex(uk_mini)
    prepared = letter([("Acute subendocardial myocardial infarction", "primary_diagnosis"),
                       ("Essential hypertension", "secondary_diagnoses")])
    links = Linker(System.ICD10, lexical, None, PRIOR).link(prepared)
    assert links["i21.4"].first and links["i21.4"].stated and links["i21.4"].order == 0
    assert links["i10"].first and links["i10"].order == 1
    ranked = [RankedCode("i10", 0.9, {1: 1.0})]
    extended = with_links(ranked, links)
    assert [r.key for r in extended][:2] == ["i10", "i21.4"] and extended[1].score == 0.0


def test_a_code_ranked_only_in_history_is_supported_by_the_statement_that_names_it():
    past = letter([("A CT at the district hospital showed a subdural haematoma", None),
                   ("A left burr hole drainage was performed", None)])
    past = PreparedLetter((replace(past.sentences[0], assertion="historical"), past.sentences[1]), past.mentions)
    link = Link(0.76, True, True, 1, 0)
    ranked = [RankedCode("a41.1", 0.02, {0: 0.5}), RankedCode("u21.2", 0.9, {0: 0.9, 1: 0.2})]
    a41, u21 = with_links(ranked, {"a41.1": link, "u21.2": replace(link, sentence=0)}, past, procedural=True)
    assert a41.support == {0: 0.5, 1: 0.76}
    assert u21.support == {0: 0.9, 1: 0.2}  # supported in this episode already: as ranked
    # without the letter, nothing is history
    assert with_links(ranked[:1], {"a41.1": link})[0].support == {0: 0.5}


def test_a_code_ranked_best_in_history_is_supported_by_the_statement_that_names_it():
    # the ranker supports G01.1 best in the previous operations and weakly in the account of
    # the thoracic phase; "Two-stage Ivor Lewis oesophagectomy" names it first
    told = letter([("Previous surgery: staging laparoscopy", None), ("Thoracic phase: mobilisation", "procedures"),
                   ("Two-stage Ivor Lewis oesophagectomy", "procedures")])
    told = PreparedLetter((replace(told.sentences[0], assertion="historical"), *told.sentences[1:]), told.mentions)
    ranked = [RankedCode("g01.1", 0.003, {0: 0.64, 1: 0.15})]
    [g01] = with_links(ranked, {"g01.1": Link(1.0, True, True, 2, 0)}, told, procedural=True)
    assert g01.support == {0: 0.64, 1: 0.15, 2: 1.0}
    # strong support in this episode (at least half the best) keeps the code as ranked
    [kept] = with_links([RankedCode("g01.1", 0.003, {0: 0.64, 1: 0.4})], {"g01.1": Link(1.0, True, True, 2, 0)}, told,
                        procedural=True)
    assert kept.support == {0: 0.64, 1: 0.4}


def test_a_procedure_code_keeps_the_statement_that_names_it_among_its_evidence():
    link = Link(0.85, True, True, 2, 0)
    r = RankedCode("t46.1", 0.01, {0: 0.216})
    assert with_statement(r, link).support == {0: 0.216, 2: 0.216}  # joins, at most the best support
    assert with_statement(r, replace(link, first=False)) is r and with_statement(r, None) is r


def test_a_link_comes_from_the_statement_of_what_was_done_not_the_plan(uk_mini):
    # the plan names the code a little better ("hypertension" alone), the diagnoses state it
    prepared = letter([("Hypertension, treated with amlodipine and ramipril", "diagnoses"), ("Essential hypertension", "plan")])
    link = Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR).link(prepared)["i10"]
    assert link.first and link.stated and link.sentence == 0


def test_the_condition_a_statement_names_first_leads(uk_mini):
    # "Dx: NSTEMI on a background of hypertension": the first condition of the first stated line
    text = "Acute subendocardial myocardial infarction on a background of essential hypertension"
    first = Mention(0, 42, text[:42], "DIAGNOSIS", "diagnoses")
    second = Mention(text.index("essential"), len(text), "essential hypertension", "DIAGNOSIS", "diagnoses")
    s = SentenceRecord(0, len(text), "diagnoses", "present", 1.0, text, False,
                       (WeightedMention(first, 1.0), WeightedMention(second, 1.0)))
    links = Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR).link(PreparedLetter((s,), (first, second)))
    assert links["i21.4"].lead == 1.0 and links["i10"].lead == 0.0
    assert links["i10"].first and links["i10"].stated  # still a statement's choice, not the lead one


@pytest.mark.parametrize("first, second, named, told", [
    # "essential hypertension, and a myocardial infarction in 2019": the history is the MI's alone
    ("present", "historical", {"i21.4": "historical"}, ("present", "historical")),
    # a present mention does not make present what the sentence tells as history
    ("historical", "present", {"i10": "historical"}, ("historical", "historical")),
])
def test_a_code_takes_the_assertion_of_the_mention_that_names_it(uk_mini, first, second, named, told):
    text = "Essential hypertension and acute subendocardial myocardial infarction"
    a = Mention(0, 22, text[:22], "DIAGNOSIS", None, first)
    b = Mention(27, len(text), text[27:], "DIAGNOSIS", None, second)
    s = SentenceRecord(0, len(text), None, first, 1.0, text, False, (WeightedMention(a, 1.0), WeightedMention(b, 1.0)))
    prepared = PreparedLetter((s,), (a, b))
    links = Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR).link(prepared)
    assert {k: l.named[0] for k, l in links.items() if l.named} == named
    ranked = with_links([RankedCode("i10", 0.9, {0: 1.0}), RankedCode("i21.4", 0.8, {0: 1.0})], links, prepared)
    assert tuple(r.assertion_in(s, 0, False) for r in ranked) == told
    X = features(System.ICD10, uk_mini, ranked, prepared, PRIOR, links)
    assert X[:, FEATURES.index("historical")].tolist() == [float(t == "historical") for t in told]
    # a sentence whose conditions agree names none: its own assertion holds
    same = replace(s, mentions=(WeightedMention(replace(b, assertion=first), 1.0), WeightedMention(a, 1.0)))
    assert all(not l.named for l in Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR).link(
        PreparedLetter((same,), (a, b))).values())


def test_a_word_describing_the_next_condition_does_not_lead(uk_mini):
    from clincoder.models.linker import Query

    text = "Bleeding essential hypertension"  # "bleeding duodenal ulcer": the ulcer leads
    word = Mention(0, 8, "Bleeding", "DIAGNOSIS", "diagnoses")
    condition = Mention(9, len(text), "essential hypertension", "DIAGNOSIS", "diagnoses")
    s = SentenceRecord(0, len(text), "diagnoses", "present", 1.0, text, False,
                       (WeightedMention(word, 1.0), WeightedMention(condition, 1.0)))
    queries = Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR)._queries(PreparedLetter((s,), (word, condition)))
    # the condition leads, alone and with the word that describes it; the word alone does not
    assert {q.text for q in queries if q.lead} == {"essential hypertension", "Bleeding essential hypertension"}
    assert [q for q in queries if q.text == "Bleeding"] == [Query("Bleeding", 0, False, False)]


def test_a_later_statement_leads_less(uk_mini):
    prepared = letter([("Acute subendocardial myocardial infarction", "diagnoses"), ("Essential hypertension", "diagnoses")])
    links = Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR).link(prepared)
    assert links["i21.4"].lead == 1.0 and links["i10"].lead == 0.5
    assert features(System.ICD10, uk_mini, [RankedCode("i10", 0.9, {1: 1.0})], prepared, PRIOR, links)[
        0, FEATURES.index("link_lead")] == 0.5


@pytest.mark.parametrize("sentence, head, query", [
    ("The history strongly suggests juvenile myoclonic epilepsy.", "epilepsy", "juvenile myoclonic epilepsy"),
    ("On apixaban for permanent AF.", "AF", "permanent AF"),
    ("Oliver was admitted with acute severe asthma.", "asthma", "acute severe asthma"),
    ("Admitted with asthma.", "asthma", None),  # nothing describes it
    ("Hb 82 (acute blood loss) anaemia", "anaemia", None),  # punctuation ends the description
    # a grade, category or stage is one describing word with its number
    ("She had a category 2 pressure ulcer over her sacrum.", "pressure ulcer", "category 2 pressure ulcer"),
    ("Symptomatic grade 3 haemorrhoids.", "haemorrhoids", "grade 3 haemorrhoids"),
])
def test_a_diagnosis_query_carries_the_words_that_describe_it(sentence, head, query):
    start = sentence.index(head)
    m = Mention(start, start + len(head), head, "DIAGNOSIS", None)
    s = SentenceRecord(0, len(sentence), None, "present", 1.0, sentence, False, (WeightedMention(m, 1.0),))
    assert with_lead(s, m) == query


@pytest.mark.parametrize("system, query", [
    (System.ICD10, "Displaced intertrochanteric fracture"),  # WHO/UK ICD-10 titles name no side
    (System.ICD10CM, "Displaced left intertrochanteric fracture"),  # ICD-10-CM's do
])
def test_a_side_is_looked_up_only_where_titles_name_sides(system, query):
    sentence = "Displaced left intertrochanteric fracture."
    m = Mention(15, 41, "intertrochanteric fracture", "DIAGNOSIS", None, laterality="left")
    s = SentenceRecord(0, len(sentence), None, "present", 1.0, sentence, False, (WeightedMention(m, 1.0),))
    assert with_lead(s, m, sides=system in SIDED) == query


@pytest.mark.parametrize("sentence, word, query", [
    # the clause it stands in ("by ENT SpR" says who), without articles and sides (no title has them)
    ("Bleeding point cauterised with silver nitrate by ENT SpR.", "cauterised",
     "Bleeding point cauterisation with silver nitrate"),
    ("1 cm polyp arising from the posterior wall, completely resected with a hysteroscopic tissue removal system.",
     "resected", "arising from posterior wall, completely resection with hysteroscopic tissue removal system."),
    ("Laparoscopic cholecystectomy.", "cholecystectomy", None),  # a procedure named in full
    # a generic noun is read with its object
    ("Excision of the BCC of the left temple.", "Excision", "excision of BCC of temple."),
    # how big is not what was done to what
    ("Excision of the 9 mm nodular BCC of the left temple with 4 mm clinical margins.", "Excision",
     "excision of nodular BCC of temple"),
    ("- US-guided percutaneous biopsy of the transplant kidney (upper pole), 2 cores.", "biopsy",
     "- US-guided percutaneous biopsy of transplant kidney (upper pole), cores."),
    ("Aspiration of the right knee was performed on the ward.", "Aspiration", "aspiration of knee"),
    ("Resection of the right colon with ileocolic anastomosis.", "Resection",  # the side names the organ
     "resection of right colon with ileocolic anastomosis."),
    ("so proceeded at same sitting to incision and drainage of L peritonsillar abscess: 6 ml pus.",
     "incision and drainage", "at same sitting to incision and drainage of peritonsillar abscess: pus."),
    # a passive names what was done to before its auxiliary; the anaesthetic is not the operation
    ("Because of the angulation the fracture was manipulated under general anaesthetic in theatre.", "manipulated",
     "manipulation of fracture"),
    # a heading before the operation is not its object
    ("Procedure today: manipulation of the nasal bones under general anaesthetic (closed", "manipulation",
     "manipulation of nasal bones"),
])
def test_a_procedure_written_as_a_participle_is_looked_up_with_what_surrounds_it(sentence, word, query):
    start = sentence.index(word)
    m = Mention(start, start + len(word), word, "PROCEDURE", "procedures")
    s = SentenceRecord(0, len(sentence), "procedures", "present", 1.0, sentence, False, (WeightedMention(m, 1.0),))
    assert with_context(s, m, sides=False) == query


def test_an_abbreviated_procedure_is_looked_up_with_its_object():
    # "I&D R scrotal abscess": the incision and drainage of the scrotum (N03.2), not of skin (S47.2)
    sentence = "- 19/05: I&D R scrotal abscess under GA."
    m = Mention(sentence.index("I&D"), sentence.index("I&D") + 3, "I&D", "PROCEDURE", "procedures",
                expansion="incision and drainage")
    s = SentenceRecord(0, len(sentence), "procedures", "present", 1.0, sentence, False, (WeightedMention(m, 1.0),))
    assert with_context(s, m, sides=False) == "- incision and drainage scrotal abscess"


class FixedSearch:
    """A search that answers each text with fixed matches (best first)."""

    def __init__(self, answers: dict[str, list[tuple[str, float]]]):
        self.answers = answers

    def search(self, texts, top_k=10, min_score=0.0):
        return [self.answers.get(t, []) for t in texts]


def test_a_code_the_long_sentence_does_not_list_is_not_outweighed_by_one_it_does():
    """The sentence's query returns only its best matches: a code the mention names best, missing
    from the sentence's list, counts the least the sentence listed there, not nothing."""
    text = "Because of the angulation the fracture was manipulated under general anaesthetic."
    m = Mention(text.index("manipulated"), text.index("manipulated") + 11, "manipulated", "PROCEDURE", "procedures")
    s = SentenceRecord(0, len(text), "procedures", "present", 1.0, text, False, (WeightedMention(m, 1.0),))
    search = FixedSearch({"manipulation of fracture": [("W26.2", 0.85), ("W11.9", 0.69)],
                          text: [("W11.8", 0.51), ("W11.9", 0.50), ("Y80.9", 0.45)]})
    links = Linker(System.OPCS4, search, None, PRIOR).link(PreparedLetter((s,), (m,)))
    assert links["w26.2"].first  # 0.85 + 0.45 (the least listed) beats 0.69 + 0.50


def test_a_narrative_statement_links_with_its_describing_words(uk_mini):
    text = "She was admitted with acute subendocardial infarction"
    m = Mention(text.index("infarction"), len(text), "infarction", "DIAGNOSIS", None)
    s = SentenceRecord(0, len(text), None, "present", 1.0, text, False, (WeightedMention(m, 1.0),))
    links = Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR).link(PreparedLetter((s,), (m,)))
    assert links["i21.4"].first and links["i21.4"].stated  # a prose letter states in its narrative


def test_features_read_where_and_how_a_code_is_stated(uk_mini):
    prepared = letter([("NSTEMI", "primary_diagnosis"), ("Essential hypertension", "past_medical_history")])
    ranked = [RankedCode("i10", 0.8, {1: 0.9}), RankedCode("i21.4", 0.4, {0: 0.85}), RankedCode("e11.9", 0.3, {})]
    X = features(System.ICD10, uk_mini, ranked, prepared, PRIOR)
    assert X.shape == (3, len(FEATURES))
    f = {name: X[:, i] for i, name in enumerate(FEATURES)}
    assert f["primary"].tolist() == [0.0, 0.85, 0.0] and f["history"][0] == 0.9
    assert f["first_stated"][1] == 1.0 and f["line_best"][:2].tolist() == [1.0, 1.0]
    assert f["prior"][0] == 1.0 and f["bias"].tolist() == [1.0, 1.0, 1.0]
    assert np.all((X >= 0) & (X <= 1.0 + 1e-9))


def test_features_place_an_opcs4_code_in_its_classification(opcs4_fixture):
    opcs = load_tsv_table(opcs4_fixture, System.OPCS4, "OPCS-4 test", "CLINCODER_OPCS4")
    prepared = letter([("OGD and biopsy", "procedures")])
    keys = ["k75.1", "u21.2", "z94.3", "y75.2", "g45.1"]
    X = features(System.OPCS4, opcs, [RankedCode(k, 0.5, {0: 0.5}) for k in keys], prepared, PRIOR)
    f = {name: X[:, i].tolist() for i, name in enumerate(FEATURES)}
    assert f["imaging"] == [0, 1, 0, 0, 0]  # chapter U: diagnostic imaging and testing
    assert f["supplementary"] == [0, 0, 1, 1, 0]  # chapters Y and Z qualify another code
    # the category's title says "Diagnostic": G45 (the OGD that only looked), U21 (imaging procedures)
    assert f["diagnostic_operation"] == [0, 1, 0, 0, 1]


SMALL_TREES = SuggesterParams(trees=BoostingParams(trees=20, min_samples_leaf=5))


@pytest.mark.parametrize("params", [SuggesterParams(model="logistic"), SMALL_TREES], ids=["logistic", "gbdt"])
def test_suggester_round_trip_and_offer(tmp_path, uk_mini, params):
    X = np.random.default_rng(0).random((80, len(FEATURES)))
    y = (X[:, 0] > 0.5).astype(int)
    s = Suggester.fit(System.ICD10, X, y, params)
    s.threshold = 0.4
    again = Suggester.load(s.save(tmp_path / "s.json"))
    np.testing.assert_allclose(again.probability(X), s.probability(X))
    assert again.threshold == 0.4 and type(again.model) is type(s.model)
    assert np.mean((s.probability(X) > 0.5) == y) > 0.9  # it learned the rule
    bad = json.loads((tmp_path / "s.json").read_text())
    bad["features"] = ["score"]
    with pytest.raises(ValueError, match="retrain it with `clincoder train-uk`"):
        Suggester.from_dict(bad)
    prepared = letter([("Essential hypertension", "diagnoses")])
    top, rows = suggestion_rows(System.ICD10, uk_mini, [RankedCode("i10", 0.7, {0: 1.0})], prepared, PRIOR,
                                Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR), 200)
    assert [r.key for r in top][0] == "i10" and rows.shape[0] == len(top)


def test_an_operations_mention_never_links_to_a_supplementary_code_first():
    """OPCS-4 approach, image control and site codes (chapters Y, Z) only qualify an operation: the
    mention "Laparoscopic sacrocolpopexy" names P24.2, whatever the encoder makes of "laparoscopic"."""
    text = "1. Laparoscopic sacrocolpopexy with mesh"
    m = Mention(3, 30, "Laparoscopic sacrocolpopexy", "PROCEDURE", "procedures")
    s = SentenceRecord(0, len(text), "procedures", "present", 1.0, text, True, (WeightedMention(m, 1.0),))
    search = FixedSearch({"Laparoscopic sacrocolpopexy": [("Y50.2", 0.60), ("P24.2", 0.58), ("Y75.2", 0.54)],
                          text: [("Y50.2", 0.55), ("P24.2", 0.50)]})
    links = Linker(System.OPCS4, search, None, PRIOR).link(PreparedLetter((s,), (m,)))
    assert links["p24.2"].first and "y75.2" not in links


def test_a_title_every_query_matches_weakly_does_not_outrank_what_each_query_names():
    # "1. Neutropenic sepsis": "sepsis" names A41.9, "neutropenic sepsis" names D70; puerperal sepsis
    # (O85) is every query's runner-up and must not become the first choice for "sepsis"
    text = "1. Neutropenic sepsis"
    long = Mention(3, len(text), "Neutropenic sepsis", "DIAGNOSIS", "diagnoses")
    short = Mention(text.index("sepsis"), len(text), "sepsis", "DIAGNOSIS", "diagnoses")
    s = SentenceRecord(0, len(text), "diagnoses", "present", 1.0, text, False,
                       (WeightedMention(long, 1.0), WeightedMention(short, 1.0)))
    hits = {"sepsis": [("A41.9", 1.0), ("O85", 0.76)], "Neutropenic sepsis": [("D70", 1.0), ("O85", 0.59)],
            text: [("D70", 0.78), ("O85", 0.59)]}

    class Fixed:
        def search(self, texts, k, floor=0.0):
            return [hits.get(t, []) for t in texts]

    links = Linker(System.ICD10, Fixed(), None, PRIOR).link(PreparedLetter((s,), (long, short)))
    assert links["a41.9"].first and links["d70"].first and not links["o85"].first


def test_two_conditions_of_one_statement_are_each_their_own_mentions_first_choice():
    # "Closed L tibial shaft # with L fibular shaft #": the fibula's code matches the whole line a
    # little better, and must not become the tibia mention's first choice
    text = "Dx: tibial shaft fracture with fibular shaft fracture"
    tib = Mention(text.index("tibial"), text.index(" with"), "tibial shaft fracture", "DIAGNOSIS", "diagnoses")
    fib = Mention(text.index("fibular"), len(text), "fibular shaft fracture", "DIAGNOSIS", "diagnoses")
    s = SentenceRecord(0, len(text), "diagnoses", "present", 1.0, text, False,
                       (WeightedMention(tib, 1.0), WeightedMention(fib, 1.0)))
    hits = {"tibial shaft fracture": [("S82.20", 1.0), ("S82.40", 0.5)],
            "fibular shaft fracture": [("S82.40", 1.0), ("S82.20", 0.45)],
            text: [("S82.40", 0.56), ("S82.20", 0.5)]}

    class Fixed:
        def search(self, texts, k, floor=0.0):
            return [hits.get(t, []) for t in texts]

    links = Linker(System.ICD10, Fixed(), None, PRIOR).link(PreparedLetter((s,), (tib, fib)))
    assert links["s82.20"].first and links["s82.40"].first


def test_a_head_that_names_no_site_is_read_only_with_its_describing_words():
    # "she has had an acute vestibular neuritis": "neuritis" alone names unspecified neuritis
    # (M79.2), which must not outweigh what the whole phrase names (H81.2)
    text = "She has had an acute vestibular neuritis."
    m = Mention(text.index("neuritis"), text.index("."), "neuritis", "DIAGNOSIS", None)
    s = SentenceRecord(0, len(text), None, "present", 1.0, text, False, (WeightedMention(m, 1.0),))
    hits = {"neuritis": [("M79.2", 0.87)], "acute vestibular neuritis": [("H81.2", 0.73), ("M79.2", 0.64)],
            text: [("H81.2", 0.60)]}

    class Fixed:
        def search(self, texts, k, floor=0.0):
            return [hits.get(t, []) for t in texts]

    links = Linker(System.ICD10, Fixed(), None, PRIOR).link(PreparedLetter((s,), (m,)))
    assert links["h81.2"].first and not links["m79.2"].first


def test_a_suggester_saved_before_trees_were_offered_loads_as_logistic(tmp_path):
    d = {"system": "ICD-10", "features": list(FEATURES), "weights": [0.5] * len(FEATURES), "threshold": 0.3}
    s = Suggester.from_dict(d)
    assert isinstance(s.model, Logistic) and s.probability(np.zeros((1, len(FEATURES))))[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown suggester model 'svm'"):
        Suggester.from_dict({**d, "kind": "svm"})
    with pytest.raises(ValueError, match="use one of logistic, gbdt"):
        SuggesterParams(model="svm")


def _suggester(threshold: float = 0.5, **weights: float) -> Suggester:
    w = np.zeros(len(FEATURES))
    for name, value in weights.items():
        w[FEATURES.index(name)] = value
    return Suggester(System.ICD10.value, Logistic(w), threshold)


@pytest.mark.parametrize("section, primary", [("diagnoses", "i10"), ("past_medical_history", None)])
def test_a_letter_that_lists_its_condition_has_a_primary_even_below_the_threshold(uk_mini, section, primary):
    model = SuggestionModel(System.ICD10, _suggester(bias=-5.0), _suggester(link_first_stated=3.0), PRIOR,
                            Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR))
    offer = model.offer(uk_mini, [RankedCode("i10", 0.7, {0: 1.0})], letter([("Essential hypertension", section)]), 200)
    chosen = None if offer.primary is None else offer.codes[offer.primary].key
    assert chosen == primary and offer.suggested.sum() == (primary is not None)


@pytest.mark.parametrize("bias, floor, primary", [
    (-5.0, 0.03, None),  # the suggester finds it unlikely (p 0.007): no primary on the primary model's word
    (-5.0, 0.0, "i10"),  # no floor: the primary model's choice stands
    (-3.0, 0.03, "i10"),  # likely enough (p 0.047)
])
def test_a_code_the_suggester_finds_unlikely_is_not_made_the_primary_below_the_floor(uk_mini, bias, floor, primary):
    model = SuggestionModel(System.ICD10, _suggester(bias=bias), _suggester(link_first_stated=3.0), PRIOR,
                            Linker(System.ICD10, LexicalIndex(uk_mini), None, PRIOR))
    offer = model.offer(uk_mini, [RankedCode("i10", 0.7, {0: 1.0})], letter([("Essential hypertension", "diagnoses")]),
                        200, primary_floor=floor)
    assert (None if offer.primary is None else offer.codes[offer.primary].key) == primary


@pytest.mark.parametrize("definitive, share, expected", [
    ({"link_first_stated": 1.0}, 0.5, 1),                   # a definitive diagnosis a statement names: the primary
    ({"link_first_stated": 1.0}, 0.0, 0),                   # share 0: the primary model's choice stands
    ({"link_first_stated": 1.0, "history": 1.0}, 0.5, 0),   # a condition of the history is not what was treated
    ({}, 0.5, 0),                                           # nor one no statement of this episode names first
])
def test_a_symptom_gives_way_to_the_definitive_diagnosis_a_statement_names(definitive, share, expected):
    X = np.zeros((2, len(FEATURES)))
    X[0, FEATURES.index("symptom")] = 1.0  # R04.0, epistaxis: the primary model's choice
    for name, value in definitive.items():  # S02.20, the nasal fracture that explains it
        X[1, FEATURES.index(name)] = value
    precedence = np.array([0.12, 0.08])
    assert primary_of(X, np.array([True, True]), precedence, 0, share) == expected
    assert primary_of(X, np.array([True, True]), np.array([0.12, 0.05]), 0, 0.5) == 0  # too far below


@pytest.mark.parametrize("lesser", ["imaging", "diagnostic_operation"])
def test_diagnostic_imaging_or_a_diagnostic_operation_gives_way_to_the_operation_a_statement_names(lesser):
    X = np.zeros((3, len(FEATURES)))
    X[0, FEATURES.index(lesser)] = 1.0  # L72.1, the angiography before the coiling: the primary model's choice
    X[1, FEATURES.index("link_first_stated")] = X[1, FEATURES.index("supplementary")] = 1.0  # Y53.4: never main
    X[2, FEATURES.index("link_first_stated")] = 1.0  # O01.9, the coiling
    assert primary_of(X, np.array([True, True, True]), np.array([0.12, 0.11, 0.08]), 0, 0.5) == 2


def test_only_a_code_some_statement_names_is_offered():
    X = np.zeros((3, len(FEATURES)))
    X[0, FEATURES.index("link_first")] = 1.0        # a statement's first choice
    X[1, FEATURES.index("best_in_sentence")] = 1.0  # its sentence's best match
    assert named(X).tolist() == [True, True, False]


def test_a_prose_sentence_that_announces_the_diagnosis_reads_as_the_primary_statement(uk_mini):
    from dataclasses import replace

    prepared = letter([("Admitted with a hot knee", None), ("Our diagnosis is gout", None)])
    prepared = PreparedLetter((prepared.sentences[0], replace(prepared.sentences[1], announced_from=prepared.sentences[1].start)), prepared.mentions)
    X = features(System.ICD10, uk_mini, [RankedCode("i10", 0.5, {0: 0.9}), RankedCode("e11.9", 0.5, {1: 0.8})],
                 prepared, PRIOR)
    assert X[:, FEATURES.index("primary")].tolist() == [0.0, 0.8]


def test_an_operation_of_an_earlier_episode_is_looked_up_by_no_query():
    """OPCS-4 codes only the episode's procedures: "she had a right hip replacement in 2014" is
    neither a query of its own nor words of its sentence's query."""
    text = "The graft took well, and she had a right hip replacement in 2014 which still serves her well."
    graft = Mention(4, 9, "graft", "PROCEDURE", "procedures")
    hip = Mention(text.index("hip"), text.index("hip") + 15, "hip replacement", "PROCEDURE", "procedures",
                  assertion="historical")
    s = SentenceRecord(0, len(text), "procedures", "present", 1.0, text, True,
                       (WeightedMention(graft, 1.0), WeightedMention(hip, 1.0)))

    class Asked(FixedSearch):
        def search(self, texts, top_k=10, min_score=0.0):
            self.texts = list(texts)
            return [[("W37.1", 0.9)] if "hip replacement" in t else [("S35.2", 0.6)] for t in texts]

    search = Asked({})
    links = Linker(System.OPCS4, search, None, PRIOR).link(PreparedLetter((s,), (graft, hip)))
    assert search.texts and not any("hip replacement" in t for t in search.texts)
    assert "w37.1" not in links and links["s35.2"].first


@pytest.mark.parametrize("sentence, word, site, query", [
    ("1. Grade IV splenic laceration with haemoperitoneum.", "laceration", "spleen", "IV splenic laceration"),
    ("Acute renal failure on admission.", "failure", "kidney", "Acute renal failure"),
    ("Severe laceration of the spleen.", "laceration", "spleen", "Severe spleen laceration"),  # no adjective
])
def test_a_site_written_as_an_adjective_is_read_once(sentence, word, site, query):
    start = sentence.index(word)
    m = Mention(start, start + len(word), word, "DIAGNOSIS", "diagnoses", body_site=site)
    s = SentenceRecord(0, len(sentence), "diagnoses", "present", 1.0, sentence, False, (WeightedMention(m, 1.0),))
    assert with_lead(s, m) == query


@pytest.mark.parametrize("sentence, verb, query", [
    ("Through a skin-crease incision I removed the left submandibular gland with its stone.", "removed",
     "removal submandibular gland with its stone."),
    # the query blanks a clinician's name, and the aside after it is no part of the operation
    ("          , the orthopaedic registrar, aspirated the right hip under ultrasound guidance.", "aspirated",
     "aspiration hip"),
])
def test_a_surgeons_own_account_is_looked_up_with_what_follows_the_verb(sentence, verb, query):
    start = sentence.index(verb)
    m = Mention(start, start + len(verb), verb, "PROCEDURE", None)
    s = SentenceRecord(0, len(sentence), None, "present", 1.0, sentence, False, (WeightedMention(m, 1.0),))
    assert with_context(s, m, sides=False) == query
