"""Content words of titles and statements, and whether a name's words are stated close together."""

import re

import pytest

from clincoder.core.words import DENIAL_CLAUSE, adjective_site, content_sequence, content_words, names_site, within


@pytest.mark.parametrize("letter, title", [
    ("localised peritonitis", "Acute appendicitis with localized peritonitis"),
    ("generalised pustular psoriasis", "Generalized pustular psoriasis"),
])
def test_uk_ise_is_read_as_the_titles_ize(letter, title):
    assert content_words(letter) <= content_words(title)
    assert content_words("excised") == content_words("excized") and content_words("disease") == {"disease"}


def test_content_words_drop_stop_words_short_words_and_plural_s():
    assert content_sequence("Pneumonia due to Streptococcus pneumoniae, 2 lobes") == [
        "pneumonia", "streptococcu", "pneumoniae", "lobe"]
    assert content_words("Cataract, unspecified") == {"cataract"}
    # with numbers: "1st degree tear" is not "third-degree tear", nor "type 1" "type 2"
    assert content_sequence("1st degree perineal tears, type 2", numbers=True) == ["1st", "degree", "perineal", "tear", "type", "2"]


@pytest.mark.parametrize("name, statement, slack, expected", [
    ("senile nuclear cataract", "age-related senile (nuclear sclerotic) cataract, left eye", 2, True),
    ("acute severe asthma", "was admitted with acute severe asthma", 0, True),
    # the words are all there, but far apart: not a name of one thing
    ("platelet transfusion", "pre-transfusion haemoglobin 74 g/L, normal white cell and platelet count", 2, False),
    ("acute severe asthma", "Asthma since childhood, severe eczema, and an acute chest infection", 2, False),
    ("acute severe asthma", "acute asthma", 2, False),
    ("1st degree perineal tear", "showed a third-degree perineal tear", 2, False),
])
def test_within_finds_a_names_words_close_together(name, statement, slack, expected):
    assert within(set(content_sequence(name, numbers=True)), content_sequence(statement, numbers=True), slack) is expected


@pytest.mark.parametrize("adjective, following, site", [
    ("cervical", "myelopathy", "cervical spine"), ("Cervical", "spondylosis at C5", "cervical spine"),
    ("cervical", "lymphadenopathy", "neck"), ("cervical", "polyp", "cervix"), ("cervical", "", "cervix"),
    ("thoracic", "spine fracture", "thoracic spine"), ("thoracic", "aortic aneurysm", "thorax"),
    ("renal", "colic", "kidney"),
])
def test_an_adjective_names_its_site_by_the_word_after_it(adjective, following, site):
    assert adjective_site(adjective, following) == site
    assert names_site(adjective, site) and not names_site(adjective, "knee")


@pytest.mark.parametrize("text, denied", [
    ("no chemotherapy was given this admission", "no chemotherapy was given this admission"),
    ("varices - not bled", "not bled"),
    ("not perforated but actively bleeding", "not perforated "),
    ("no dose reduction was needed and cycle 3 was given", "no dose reduction was needed "),
    ("no fever with rigors", "no fever "),
    ("no ischiorectal or supralevator extension; abscess drained", "no ischiorectal or supralevator extension"),
    ("nil by mouth (NBM) overnight", "nil by mouth "),
    ("knotted sutures", None),
])
def test_a_denial_runs_to_the_end_of_its_clause(text, denied):
    found = re.search(DENIAL_CLAUSE, text, re.I)
    assert (found and found.group(0)) == denied
