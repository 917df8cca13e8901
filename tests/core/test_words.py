"""Content words of titles and statements, and whether a name's words are stated close together."""

import pytest

from clincoder.core.words import content_sequence, content_words, within


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
