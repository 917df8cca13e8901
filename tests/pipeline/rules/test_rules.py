"""The rules stage: validation of rules.yaml, and each rule on tiny hand-built letters with the real
code tables (ICD-10-CM, ICD-10-PCS, WHO ICD-10) and the OPCS-4 fixture table."""

from __future__ import annotations

import copy
from importlib.resources import files

import pytest
import yaml

from clincoder.core.codes import System
from clincoder.core.tables import load_table
from clincoder.rules import RULES, RulesError, apply_rules, code_refs, default_rules, in_refs, load_rules
from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult
from clincoder.text.model import Mention

CM, PCS, WHO, OPCS = System.ICD10CM, System.ICD10PCS, System.ICD10, System.OPCS4


# ---- helpers ------------------------------------------------------------------------------------

class Letter:
    """A letter text with helpers for mentions and evidence at the offsets of phrases in it."""

    def __init__(self, text: str):
        self.text = text

    def span(self, phrase: str) -> tuple[int, int]:
        a = self.text.index(phrase)
        return a, a + len(phrase)

    def mention(self, phrase: str, label: str = "DIAGNOSIS", **kw) -> Mention:
        a, b = self.span(phrase)
        return Mention(a, b, phrase, label, **kw)

    def evidence(self, phrase: str, **kw) -> tuple[Evidence, ...]:
        a, b = self.span(phrase)
        return (Evidence(a, b, phrase, **kw),)


def sugg(table, code: str, score: float, role: str = "secondary", evidence=()) -> CodeSuggestion:
    entry = table.get(code)
    assert entry is not None, code
    return CodeSuggestion(system=table.system.value, code=entry.code, title=entry.title, rank=1, role=role,
                          score=score, evidence=evidence)


def result(codes=(), candidates=(), profile="us") -> LetterResult:
    return LetterResult(id="t", profile=profile, codes=tuple(codes), candidates=tuple(candidates))


def only(ruleset, *ids):
    """The packaged rules restricted to ``ids`` (to test one rule without the others)."""
    return ruleset.__class__(ruleset.version, ruleset.axes, tuple(r for r in ruleset.rules if r.id in ids))


@pytest.fixture(scope="module")
def rules():
    return default_rules()


@pytest.fixture(scope="module")
def us(icd10cm_table, icd10pcs_table):
    return {CM: icd10cm_table, PCS: icd10pcs_table}


@pytest.fixture(scope="module")
def uk(who_icd10_table, opcs4_fixture):
    return {WHO: who_icd10_table, OPCS: load_table(OPCS, opcs4_fixture)}


def codes_of(res) -> list[tuple[str, str]]:
    return [(s.code, s.role) for s in res.codes]


# ---- the rules file ------------------------------------------------------------------------------

def test_packaged_rules_load_once_and_are_complete(rules):
    assert default_rules() is rules
    assert rules.version == "2026.80"
    ids = [r.id for r in rules.rules]
    assert len(ids) == len(set(ids)) and set(ids) <= set(RULES)
    assert {"SEQ-001", "SEQ-002", "SEQ-003", "CON-001", "CON-002", "CON-003", "CON-004", "DOC-001", "DOC-002", "DOC-003",
            "DOC-004", "QRY-001", "QRY-002"} <= set(ids)
    for r in rules.rules:
        assert r.citation and all(c.strip() for c in r.citation) and r.description
        assert r.applies_to and r.kind in ("sequencing", "convention", "documentation", "query")
    assert rules.get("CON-001").applies_to == {CM}
    assert rules.get("SEQ-001").applies_to == set(System)
    assert rules.get("SEQ-002").params.symptoms == ("R00-R55", "R56.1-R99")  # all but the febrile convulsion
    # SEQ-007 leaves uncoded what the policy rules it names leave uncoded: they exist, with codes
    assert all(rules.get(policy).params.codes for policy in rules.get("SEQ-007").params.policy)
    # and reads the minor codes of the main-procedure rule it names
    assert rules.get(rules.get("SEQ-007").params.main).params.minor


def _packaged() -> dict:
    return yaml.safe_load((files("clincoder.rules") / "rules.yaml").read_text(encoding="utf-8"))


def _rule(data, rid):
    return next(r for r in data["rules"] if r["id"] == rid)


BAD = {
    "unknown rule key": (lambda d: _rule(d, "SEQ-001").update(colour="red"), r"SEQ-001: unknown key\(s\) \['colour'\]"),
    "missing citation": (lambda d: _rule(d, "CON-001").pop("citation"), r"CON-001: missing citation"),
    "unknown kind": (lambda d: _rule(d, "DOC-002").update(kind="style"), r"DOC-002: unknown kind 'style'"),
    "duplicate id": (lambda d: d["rules"].append(copy.deepcopy(_rule(d, "DOC-002"))), r"duplicate id DOC-002"),
    "no implementation": (lambda d: _rule(d, "DOC-002").update(id="XYZ-999"), r"no implementation for rule id XYZ-999"),
    "unknown param": (lambda d: _rule(d, "DOC-002")["params"].update(tone="soft"), r"unknown param\(s\) \['tone'\]"),
    "missing param": (lambda d: _rule(d, "DOC-002")["params"].pop("message"), r"missing param 'message'"),
    "param type": (lambda d: _rule(d, "SEQ-002")["params"].update(symptoms=5), r"'symptoms' must be a list"),
    "not a code": (lambda d: _rule(d, "SEQ-002")["params"].update(symptoms=["chapter 18"]), r"not a code or code range"),
    "unknown axis": (lambda d: _rule(d, "QRY-001")["params"].update(axis="colour"), r"unknown axis 'colour'"),
    "placeholder": (lambda d: _rule(d, "DOC-002")["params"].update(message="{patient}"), r"unknown placeholder"),
    "applies_to": (lambda d: _rule(d, "DOC-002").update(applies_to=["fr"]), r"'fr' is neither a profile"),
    "severity": (lambda d: _rule(d, "DOC-002").update(severity="fatal"), r"unknown severity 'fatal'"),
    "version": (lambda d: d.pop("version"), r"missing version"),
    "note not a list": (lambda d: _rule(d, "CON-010")["params"].update(notes={"K56": "with hernia (K40-K46)"}),
                        r"CON-010: notes: 'K56' must map to a list of notes"),
    "note without codes": (lambda d: _rule(d, "CON-010")["params"].update(notes={"K56": ["with a hernia"]}),
                           r"must name its codes in brackets"),
    "top-level key": (lambda d: d.update(extra=1), r"unknown top-level key"),
    "bad pattern": (lambda d: d["axes"]["laterality"]["values"].update(left=["(left"]), r"axis laterality: value 'left': bad pattern"),
    "axis attribute": (lambda d: d["axes"]["acuity"].update(attribute="colour"), r"axis acuity: attribute must be"),
    "group key": (lambda d: _rule(d, "CON-013")["params"]["groups"][0].pop("condition"), r"groups #1: .*missing \['condition'\]"),
    "group pattern": (lambda d: _rule(d, "CON-013")["params"]["groups"][1].update(words="(pregnan"),
                      r"groups #2: words is not a valid pattern"),
    "instead not a code": (lambda d: _rule(d, "CON-013")["params"]["instead"].update(D06="cervix"), r"not a code"),
    "sex ranges": (lambda d: _rule(d, "CON-039")["params"]["male_only"].update({"ICD-10": "prostate"}), r"not a code"),
    "sex classification": (lambda d: _rule(d, "CON-039")["params"]["male_only"].update(OPCS="N01-N34"),
                           r"not a classification: \['OPCS'\]"),
    "narrowed by no entry": (lambda d: _rule(d, "CON-022")["params"]["drugs"][0].update(narrowed_by="Z99.9"),
                             r"drugs .*narrowed_by names no code another entry of drugs adds: 'Z99.9'"),
    "narrowed by a list": (lambda d: _rule(d, "CON-027")["params"]["organisms"][0].update(narrowed_by=["B95.6"]),
                           r"organisms #1: .*narrowed_by"),
}


def test_a_param_with_a_default_may_be_left_out(tmp_path):
    data = _packaged()
    _rule(data, "CON-012")["params"].pop("residual_of")  # a mapping with a default (empty)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert next(r for r in load_rules(path).rules if r.id == "CON-012").params.residual_of == {}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_rules_files_fail_with_clear_errors(case, tmp_path):
    data = _packaged()
    mutate, pattern = BAD[case]
    mutate(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(RulesError, match=pattern) as err:
        load_rules(path)
    assert str(path) in str(err.value)


def test_not_yaml(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("rules: [unclosed", encoding="utf-8")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(path)


def test_code_references_in_notes():
    refs = code_refs("hypertensive disease complicating pregnancy (O10-O11, O13-O16); due to (E08.-), (J10.0-)")
    assert refs == (("O10", "O11"), ("O13", "O16"), ("E08", None), ("J100", None))
    assert in_refs("O11.3", refs) and in_refs("E08.9", refs) and in_refs("J10.01", refs)
    assert not in_refs("O12.0", refs) and not in_refs("J10.1", refs)
    assert in_refs("J70.3", code_refs("(J70.2-J70.4)")) and not in_refs("J70.5", code_refs("(J70.2-J70.4)"))


# ---- SEQ-001, SEQ-002: sequencing ---------------------------------------------------------------

def test_one_primary_per_kind_first(us, icd10cm_table, icd10pcs_table, rules):
    cm, pcs = icd10cm_table, icd10pcs_table
    before = result([sugg(cm, "I10", 0.9, "primary"), sugg(pcs, "0DTJ4ZZ", 0.8, "primary"),
                     sugg(cm, "I21.4", 0.7, "primary"), sugg(pcs, "02703ZZ", 0.6, "primary")],
                    [sugg(cm, "E78.5", 0.2, "candidate")])
    out = apply_rules(before, us, [], "", rules=only(rules, "SEQ-001"))
    assert codes_of(out) == [("I10", "primary"), ("0DTJ4ZZ", "primary"), ("I21.4", "secondary"),
                             ("02703ZZ", "secondary")]
    assert [s.rank for s in out.ranked()] == [1, 2, 3, 4, 5]
    assert out.codes[2].rules == ("SEQ-001",) and out.codes[0].rules == ("SEQ-001",)
    # a primary listed after a secondary of its kind is moved first
    moved = apply_rules(result([sugg(cm, "I10", 0.9, "secondary"), sugg(cm, "I21.4", 0.7, "primary")]), us, [], "",
                        rules=only(rules, "SEQ-001"))
    assert codes_of(moved) == [("I21.4", "primary"), ("I10", "secondary")]
    assert before.codes[0].rules == ()  # the input is not modified


def test_symptom_code_is_not_primary_when_a_definitive_diagnosis_is_suggested(us, icd10cm_table, rules):
    cm = icd10cm_table
    listed = (Evidence(0, 6, "NSTEMI", "diagnoses", "present"),)
    out = apply_rules(result([sugg(cm, "R07.9", 0.9, "primary"), sugg(cm, "E78.5", 0.5),
                              sugg(cm, "I21.4", 0.7, evidence=listed)]),
                      us, [], "", rules=only(rules, "SEQ-001", "SEQ-002"))
    assert codes_of(out) == [("I21.4", "primary"), ("R07.9", "secondary"), ("E78.5", "secondary")]
    assert "SEQ-002" in out.codes[0].rules and "SEQ-002" in out.codes[1].rules
    (flag,) = out.flags
    assert flag.rule == "SEQ-002" and flag.severity == "info" and flag.codes == ("R07.9", "I21.4")
    # symptoms and status codes only: the symptom stays primary
    kept = apply_rules(result([sugg(cm, "R07.9", 0.9, "primary"), sugg(cm, "Z95.1", 0.7)]), us, [], "",
                       rules=only(rules, "SEQ-002"))
    assert codes_of(kept) == [("R07.9", "primary"), ("Z95.1", "secondary")] and not kept.flags


def test_a_symptom_gives_way_to_the_diagnosis_stated_with_it(us, icd10cm_table, rules):
    cm = icd10cm_table
    pain = (Evidence(0, 40, "RUQ pain from acute calculous cholecystitis"),)
    out = apply_rules(result([sugg(cm, "R10.11", 0.9, "primary", evidence=pain), sugg(cm, "I10", 0.8),
                              sugg(cm, "K80.00", 0.6, evidence=pain)]), us, [], "", rules=only(rules, "SEQ-002"))
    assert codes_of(out)[0] == ("K80.00", "primary")  # not the better scored hypertension


def test_primary_stated_in_the_letter_is_sequenced_first(us, icd10cm_table, rules):
    cm = icd10cm_table
    stated = (Evidence(0, 6, "NSTEMI", section="primary_diagnosis"),)
    out = apply_rules(result([sugg(cm, "I10", 0.9, "primary"), sugg(cm, "I21.4", 0.6, evidence=stated)]),
                      us, [], "", rules=only(rules, "SEQ-001", "SEQ-003"))
    assert codes_of(out) == [("I21.4", "primary"), ("I10", "secondary")]
    assert "SEQ-003" in out.codes[0].rules and out.flags[0].rule == "SEQ-003"
    # a negated or merely mentioned condition in that section is not promoted
    negated = (Evidence(0, 6, "NSTEMI", section="primary_diagnosis", assertion="negated"),)
    kept = apply_rules(result([sugg(cm, "I10", 0.9, "primary"), sugg(cm, "I21.4", 0.6, evidence=negated)]),
                       us, [], "", rules=only(rules, "SEQ-001", "SEQ-003"))
    assert codes_of(kept)[0] == ("I10", "primary") and not kept.flags


def test_of_two_codes_the_primary_statement_supports_the_better_matched_comes_first(us, icd10cm_table, rules):
    """A comorbidity often coded with an MI can reach the statement too (weakly, through coded
    history); the code the statement names comes first."""
    cm = icd10cm_table
    line = "1. NSTEMI (non-ST elevation myocardial infarction)"
    weak, strong = (Evidence(0, len(line), line, section="primary_diagnosis", support=s) for s in (0.3, 0.9))
    out = apply_rules(result([sugg(cm, "E11.9", 0.95, "primary"), sugg(cm, "I25.2", 0.9, evidence=(weak,)),
                              sugg(cm, "I21.4", 0.8, evidence=(strong,))]),
                      us, [], "", rules=only(rules, "SEQ-001", "SEQ-003"))
    assert codes_of(out)[0] == ("I21.4", "primary")


def test_a_candidate_the_primary_statement_names_plainly_is_coded_as_primary(us, icd10cm_table, rules):
    cm = icd10cm_table
    line = "Left displaced intracapsular fractured neck of femur"
    plain = (Evidence(0, len(line), line, section="primary_diagnosis", support=1.0),)
    vague = (Evidence(0, len(line), line, section="primary_diagnosis", support=0.5),)
    out = apply_rules(result([sugg(cm, "M81.0", 0.95, "primary")],
                             candidates=[sugg(cm, "S72.002", 0.26, "candidate", evidence=plain),
                                         sugg(cm, "S72.009", 0.25, "candidate", evidence=vague)]),
                      us, [], "", rules=only(rules, "SEQ-001", "SEQ-003"))
    assert codes_of(out)[:2] == [("S72.002", "primary"), ("M81.0", "secondary")]
    assert "S72.009" in [c.code for c in out.candidates] and out.flags[0].rule == "SEQ-003"


def test_symptom_rule_uk(uk, who_icd10_table, rules):
    who = who_icd10_table
    fever = (Evidence(0, 30, "Fever from a right lower lobe pneumonia"),)
    out = apply_rules(result([sugg(who, "R50.9", 0.8, "primary", evidence=fever), sugg(who, "J18.9", 0.6, evidence=fever)],
                             profile="uk"), uk, [], "", rules=only(rules, "SEQ-002"))
    assert codes_of(out) == [("J18.9", "primary"), ("R50.9", "secondary")]


@pytest.mark.parametrize("rule", ["SEQ-002", "CON-006"])
def test_a_comorbidity_stated_elsewhere_does_not_explain_the_primary_symptom(uk, who_icd10_table, rules, rule):
    # "most likely a vasovagal syncope" ... "Her background is hypertension, treated with amlodipine"
    who = who_icd10_table
    syncope = (Evidence(0, 40, "most likely a vasovagal syncope", "history_of_presenting_complaint", "present"),)
    background = (Evidence(50, 90, "hypertension, treated with amlodipine", "history_of_presenting_complaint", "present"),)
    out = apply_rules(result([sugg(who, "R55", 0.8, "primary", evidence=syncope), sugg(who, "I10", 0.9, evidence=background)],
                             profile="uk"), uk, [], "", rules=only(rules, rule))
    assert codes_of(out) == [("R55", "primary"), ("I10", "secondary")] and not out.flags
    # listed under the diagnosis heading, the condition is what was treated: it takes the symptom's place
    listed = (Evidence(50, 90, "Vasovagal syncope secondary to dehydration", "diagnoses", "present"),)
    out = apply_rules(result([sugg(who, "R55", 0.8, "primary", evidence=syncope), sugg(who, "E86", 0.7, evidence=listed)],
                             profile="uk"), uk, [], "", rules=only(rules, rule))
    assert codes_of(out)[0] == ("E86", "primary")
    # a condition of the body system the symptom's block names explains it, wherever it is stated
    pain = (Evidence(0, 30, "Epigastric pain for two days", "presenting_complaint", "present"),)
    stones = (Evidence(40, 80, "Ultrasound showed gallstones", "investigations", "present"),)
    out = apply_rules(result([sugg(who, "R10.1", 0.8, "primary", evidence=pain), sugg(who, "K80.2", 0.7, evidence=stones)],
                             profile="uk"), uk, [], "", rules=only(rules, rule))
    assert codes_of(out)[0] == ("K80.2", "primary")


# ---- CON-001..CON-004: conventions ----------------------------------------------------------------

def test_excludes1_keeps_the_higher_scored(us, icd10cm_table, rules):
    cm = icd10cm_table
    out = apply_rules(result([sugg(cm, "E13.9", 0.6, "primary"), sugg(cm, "E11.9", 0.8)],
                             [sugg(cm, "E78.5", 0.3, "candidate")]), us, [], "", rules=only(rules, "CON-001"))
    assert codes_of(out) == [("E11.9", "primary")]
    assert [(s.code, s.role, s.rank) for s in out.candidates] == [("E13.9", "candidate", 2), ("E78.5", "candidate", 3)]
    (flag,) = out.flags
    assert flag.rule == "CON-001" and flag.severity == "warning" and set(flag.codes) == {"E11.9", "E13.9"}
    assert "E13.-" in flag.message
    # the note of a category covers its codes (J45 excludes wheezing NOS R06.2), in either direction
    out = apply_rules(result([sugg(cm, "R06.2", 0.9, "primary"), sugg(cm, "J45.909", 0.5)]), us, [], "",
                      rules=only(rules, "CON-001"))
    assert codes_of(out) == [("R06.2", "primary")] and out.candidates[0].code == "J45.909"
    # unrelated codes are left alone
    calm = apply_rules(result([sugg(cm, "I10", 0.9, "primary"), sugg(cm, "E11.9", 0.8)]), us, [], "",
                       rules=only(rules, "CON-001"))
    assert len(calm.codes) == 2 and not calm.flags


def test_code_first(us, icd10cm_table, rules):
    cm = icd10cm_table
    alone = apply_rules(result([sugg(cm, "D63.1", 0.9, "primary")]), us, [], "", rules=only(rules, "CON-002"))
    (flag,) = alone.flags
    assert flag.severity == "info" and "N18" in flag.message and alone.codes[0].rules == ("CON-002",)
    both = apply_rules(result([sugg(cm, "D63.1", 0.9, "primary"), sugg(cm, "I10", 0.8), sugg(cm, "N18.4", 0.6)]),
                       us, [], "", rules=only(rules, "CON-002"))
    assert codes_of(both) == [("N18.4", "primary"), ("D63.1", "secondary"), ("I10", "secondary")]
    assert both.flags[0].codes == ("N18.4", "D63.1")


def test_use_additional(us, icd10cm_table, rules):
    cm = icd10cm_table
    out = apply_rules(result([sugg(cm, "E11.9", 0.9, "primary")]), us, [], "", rules=only(rules, "CON-003"))
    (flag,) = out.flags
    assert flag.rule == "CON-003" and flag.severity == "info" and "Z79.4" in flag.message and "Z79.84" in flag.message
    with_insulin = apply_rules(result([sugg(cm, "E11.9", 0.9, "primary"), sugg(cm, "Z79.4", 0.7)]), us, [], "",
                               rules=only(rules, "CON-003"))
    msg = with_insulin.flags[0].message
    assert "Z79.4)" not in msg and "Z79.84" in msg
    assert not apply_rules(result([sugg(cm, "R07.9", 0.9, "primary")]), us, [], "", rules=only(rules, "CON-003")).flags


def test_not_selectable_flags_and_asks_for_the_missing_character(us, icd10cm_table, rules):
    cm = icd10cm_table
    letter = Letter("Closed fracture of right neck of femur after a fall.")
    ev = letter.evidence(letter.text)
    fracture = letter.mention("fracture of right neck of femur", modifiers=("closed",), laterality="right")
    out = apply_rules(result([sugg(cm, "S72.001", 0.9, "primary", ev)]), us, [fracture], letter.text,
                      rules=only(rules, "CON-004"))
    (flag,) = out.flags
    assert flag.severity == "error" and "not valid for submission" in flag.message and "closed" in flag.message
    questions = [q.question for q in out.queries]
    assert len(questions) == 1 and "initial, subsequent or sequela" in questions[0]
    assert out.queries[0].evidence == (fracture.evidence(),)
    # a documented laterality names the code to use
    ear = Letter("Left otitis media.")
    om = ear.mention("otitis media", laterality="left")
    out = apply_rules(result([sugg(cm, "H66.9", 0.9, "primary", ear.evidence(ear.text))]), us, [om], ear.text,
                      rules=only(rules, "CON-004"))
    assert "H66.92" in out.flags[0].message and not any("laterality" in q.question for q in out.queries)
    # selectable codes pass
    assert not apply_rules(result([sugg(cm, "S72.001A", 0.9, "primary")]), us, [], "", rules=only(rules, "CON-004")).flags


# ---- DOC-001, QRY-001, QRY-002: unspecified codes and queries -------------------------------------

def test_unspecified_code_with_documented_detail_names_the_specific_code(us, icd10cm_table, rules):
    cm = icd10cm_table
    letter = Letter("Right otitis media, treated with amoxicillin.")
    om = letter.mention("otitis media", laterality="right")
    out = apply_rules(result([sugg(cm, "H66.90", 0.9, "primary", letter.evidence(letter.text))]), us, [om],
                      letter.text, rules=only(rules, "DOC-001"))
    (flag,) = [f for f in out.flags if "laterality" in f.message or "right" in f.message]
    assert "H66.91" in flag.message and flag.evidence == (om.evidence(),)
    assert not any("laterality" in q.question for q in out.queries)
    assert out.codes[0].rules == ("DOC-001",)


def test_unspecified_code_without_the_detail_queries(us, uk, icd10cm_table, who_icd10_table, rules):
    cm = icd10cm_table
    letter = Letter("Otitis media, treated with amoxicillin.")
    om = letter.mention("Otitis media")
    out = apply_rules(result([sugg(cm, "H66.90", 0.9, "primary", letter.evidence(letter.text))]), us, [om],
                      letter.text, rules=only(rules, "DOC-001"))
    assert any(q.question == "Please state the laterality (left, right or bilateral) of Otitis media."
               for q in out.queries)
    assert all(q.rule == "DOC-001" and q.codes == ("H66.90",) for q in out.queries)
    # UK: unspecified diabetes; the type documented -> E11.9, not documented -> query
    who = who_icd10_table
    dm = Letter("Diabetes, diet controlled.")
    typed = dm.mention("Diabetes", modifiers=("type 2",))
    out = apply_rules(result([sugg(who, "E14.9", 0.9, "primary", dm.evidence(dm.text))], profile="uk"), uk, [typed],
                      dm.text, rules=only(rules, "DOC-001"))
    assert "E11.9" in out.flags[0].message and not out.queries
    out = apply_rules(result([sugg(who, "E14.9", 0.9, "primary", dm.evidence(dm.text))], profile="uk"), uk,
                      [dm.mention("Diabetes")], dm.text, rules=only(rules, "DOC-001"))
    assert [q.question for q in out.queries] == ["Please document the type of diabetes (type 1, type 2 or other "
                                                 "specified type)."]
    # nothing to ask when the classification has no axis for the unspecified part
    assert not apply_rules(result([sugg(cm, "J18.9", 0.9, "primary")]), us, [], "",
                           rules=only(rules, "DOC-001")).queries


def test_defaulted_diabetes_type(us, icd10cm_table, rules):
    cm = icd10cm_table
    letter = Letter("Diabetes, on metformin.")
    ev = letter.evidence(letter.text)
    untyped = apply_rules(result([sugg(cm, "E11.9", 0.9, "primary", ev)]), us, [letter.mention("Diabetes")],
                          letter.text, rules=only(rules, "QRY-001"))
    (q,) = untyped.queries
    assert q.rule == "QRY-001" and "type of diabetes" in q.question and untyped.codes[0].rules == ("QRY-001",)
    conflict = apply_rules(result([sugg(cm, "E11.9", 0.9, "primary", ev)]), us,
                           [letter.mention("Diabetes", modifiers=("type 1",))], letter.text, rules=only(rules, "QRY-001"))
    assert not conflict.queries and "type 1" in conflict.flags[0].message
    typed = apply_rules(result([sugg(cm, "E11.9", 0.9, "primary", ev)]), us,
                        [letter.mention("Diabetes", modifiers=("type 2",))], letter.text, rules=only(rules, "QRY-001"))
    assert not typed.queries and not typed.flags and typed.codes[0].rules == ()


def test_uncertain_diagnosis_is_queried(us, icd10cm_table, rules):
    cm = icd10cm_table
    letter = Letter("CXR: ?pneumonia, started antibiotics.")
    ev = letter.evidence(letter.text, assertion="uncertain")
    unsure = letter.mention("?pneumonia", assertion="uncertain")
    out = apply_rules(result([sugg(cm, "J18.9", 0.8, "primary", ev)]), us, [unsure], letter.text,
                      rules=only(rules, "QRY-002"))
    (q,) = out.queries
    assert q.question == 'The letter records "?pneumonia" as uncertain. Please confirm or rule out pneumonia (J18.9).'
    assert q.evidence == (unsure.evidence(),) and out.codes[0].rules == ("QRY-002",)
    sure = letter.mention("?pneumonia")
    assert not apply_rules(result([sugg(cm, "J18.9", 0.8, "primary", letter.evidence(letter.text))]), us, [sure],
                           letter.text, rules=only(rules, "QRY-002")).queries


# ---- DOC-002..DOC-004: documentation flags -------------------------------------------------------

def test_no_codable_diagnosis(us, icd10pcs_table, rules):
    out = apply_rules(result([sugg(icd10pcs_table, "0DTJ4ZZ", 0.9, "primary")]), us, [], "",
                      rules=only(rules, "DOC-002"))
    (flag,) = out.flags
    assert flag.rule == "DOC-002" and "No codable diagnosis" in flag.message
    assert not apply_rules(result([sugg(us[CM], "K35.80", 0.9, "primary")]), us, [], "",
                           rules=only(rules, "DOC-002")).flags


def test_procedure_mentioned_but_not_coded(us, icd10cm_table, rules):
    letter = Letter("Acute appendicitis. Laparoscopic appendicectomy performed. No drain inserted. "
                    "Past history: inguinal hernia repair 1998.")
    done = letter.mention("Laparoscopic appendicectomy", "PROCEDURE")
    not_done = letter.mention("drain inserted", "PROCEDURE", assertion="negated")
    earlier = letter.mention("inguinal hernia repair", "PROCEDURE", assertion="historical")
    base = result([sugg(icd10cm_table, "K35.80", 0.9, "primary")])
    (flag,) = apply_rules(base, us, [done, not_done, earlier], letter.text, rules=only(rules, "DOC-003")).flags
    assert flag.rule == "DOC-003" and "Laparoscopic appendicectomy" in flag.message
    assert "hernia" not in flag.message  # an earlier episode's operation is not missing from this one's codes
    assert not apply_rules(base, us, [earlier], letter.text, rules=only(rules, "DOC-003")).flags
    assert flag.evidence == (done.evidence(),)
    assert not apply_rules(base, us, [not_done], letter.text, rules=only(rules, "DOC-003")).flags
    # no procedure table in this run: the coder's warning covers it
    assert not apply_rules(base, {CM: icd10cm_table}, [done], letter.text, rules=only(rules, "DOC-003")).flags


def test_not_current_uk_codes(uk, rules):
    opcs = uk[OPCS]
    out = apply_rules(result([sugg(uk[WHO], "K35.8", 0.9, "primary"), sugg(opcs, "K75.9", 0.8, "primary"),
                              sugg(opcs, "K75.1", 0.7)], profile="uk"), uk, [], "", rules=only(rules, "DOC-004"))
    (flag,) = out.flags
    assert flag.codes == ("K75.9",) and "not current" in flag.message
    assert [s.rules for s in out.codes] == [(), ("DOC-004",), ()]


# ---- the engine -----------------------------------------------------------------------------------

def test_all_rules_together_and_failed_records(us, icd10cm_table, rules, tmp_path):
    cm = icd10cm_table
    letter = Letter("Chest pain. ?NSTEMI. Type 2 diabetes.")
    mentions = [letter.mention("Chest pain", "FINDING"),
                letter.mention("?NSTEMI", assertion="uncertain", expansion="non-ST elevation myocardial infarction"),
                letter.mention("Type 2 diabetes", modifiers=("type 2",))]
    before = result([sugg(cm, "R07.9", 0.9, "primary", letter.evidence("Chest pain")),
                     sugg(cm, "I21.4", 0.8, evidence=letter.evidence("?NSTEMI")),
                     sugg(cm, "E11.9", 0.7, evidence=letter.evidence("Type 2 diabetes")),
                     sugg(cm, "E13.9", 0.4, evidence=letter.evidence("Type 2 diabetes"))],
                    [sugg(cm, "I10", 0.2, "candidate")])
    out = apply_rules(before, us, mentions, letter.text)
    assert codes_of(out) == [("I21.4", "primary"), ("R07.9", "secondary"), ("E11.9", "secondary")]
    assert [s.code for s in out.candidates] == ["E13.9", "I10"]
    assert [s.rank for s in out.ranked()] == [1, 2, 3, 4, 5]
    assert {f.rule for f in out.flags} >= {"SEQ-002", "CON-001", "CON-003"}
    assert [q.rule for q in out.queries] == ["QRY-002"] and "?NSTEMI" in out.queries[0].question
    assert set(out.codes[0].rules) == {"QRY-002", "SEQ-002", "CON-003"}  # I21 asks for tobacco use codes
    assert LetterResult.from_json(out.to_json()) == out
    failed = LetterResult.failed("x", "us", "unreadable")
    assert apply_rules(failed, us, [], "") is failed
    # a disabled rule does not run
    data = _packaged()
    for r in data["rules"]:
        r["enabled"] = r["id"] == "SEQ-001"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    quiet = apply_rules(before, us, mentions, letter.text, rules=load_rules(path))
    assert codes_of(quiet)[0] == ("R07.9", "primary") and not quiet.flags and not quiet.queries


def test_a_primary_symptom_gives_way_to_the_diagnosis_listed_right_after_it(uk, who_icd10_table, rules):
    # "Our conclusion is that this headache was a severe attack of migraine": the migraine is next
    who = who_icd10_table
    both = (Evidence(0, 60, "this headache was a severe attack of migraine without aura"),)
    out = apply_rules(result([sugg(who, "R51", 0.8, "primary", evidence=both), sugg(who, "G43.0", 0.5, evidence=both)],
                             profile="uk"), uk, [], "", rules=only(rules, "CON-006", "SEQ-001"))
    assert codes_of(out) == [("G43.0", "primary")] and out.candidates[0].code == "R51"


def test_a_retired_code_is_coded_as_its_current_twin(rules, tmp_path):
    """K35.0 'generalised' was renumbered K35.2 'generalized': the current code of the same title
    takes its place; a retired code with no twin (K35.9) is only flagged."""
    tsv = tmp_path / "icd10.tsv"
    tsv.write_text("code\ttitle\tkind\tparent\tselectable\tin_latest_hes\n"
                   "K35\tAcute appendicitis\tcategory\t\tN\tY\n"
                   "K35.0\tAcute appendicitis with generalised peritonitis\tsubcategory\tK35\tY\tN\n"
                   "K35.2\tAcute appendicitis with generalized peritonitis\tsubcategory\tK35\tY\tY\n"
                   "K35.8\tAcute appendicitis, other and unspecified\tsubcategory\tK35\tY\tY\n"
                   "K35.9\tAcute appendicitis, unspecified\tsubcategory\tK35\tY\tN\n", encoding="utf-8")
    table = load_table(System.ICD10, tsv)
    for code, coded, replaced in (("K35.0", "K35.2", True), ("K35.9", "K35.9", False)):
        out = apply_rules(result([sugg(table, code, 0.9, "primary")], profile="uk"), {System.ICD10: table}, [], "",
                          rules=only(rules, "DOC-004"))
        (flag,) = out.flags
        assert [c.code for c in out.codes] == [coded] and out.codes[0].role == "primary"
        assert ("coded as K35.2" in flag.message) == replaced and "not current" in flag.message
