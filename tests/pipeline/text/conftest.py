"""The text pipeline, built once per test session."""

import pytest


@pytest.fixture(scope="session")
def nlp():
    from clincoder.text.pipeline import build_nlp

    return build_nlp()


@pytest.fixture(scope="session")
def analyse(nlp):
    cache = {}

    def run(text):
        if text not in cache:
            cache[text] = nlp(text)
        return cache[text]

    return run
