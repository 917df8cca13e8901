"""Effect of the text front end (:mod:`clincoder.text`) on end-to-end MAP, CodiEsp dev.

Codes every dev letter with the lexical retriever (TF-IDF over ICD-10-CM for D, ICD-10-PCS for P)
in two ways and prints MAP D/P for both:

(a) foundation: every sentence is a query; a code's score is its best sentence score;
(b) front end: queries are the mentions (the abbreviation expanded, code-changing words and site
    added) and the sentences holding them; mentions that are negated, family or hypothetical are
    dropped, and each score is weighted by section and assertion (:class:`TextWeights`); procedure
    mentions weigh more for P, diagnosis/finding mentions for D. Evidence is the mention span.

    clincoder frontend-effect [--data CODIESP/dev] [--limit N]
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

from clincoder.core.codes import System
from clincoder.core.codiesp import codiesp_code, read_codiesp_tsv
from clincoder.core.config import TextWeights
from clincoder.core.metrics import mean_average_precision
from clincoder.core.tables import load_table
from clincoder.text import mentions_of

WEIGHTS = TextWeights()
TOP_K = 10
MIN_SCORE = 0.15


def _rank(hits: dict[str, float]) -> list[str]:
    return [c for c, _ in sorted(hits.items(), key=lambda kv: -kv[1])][:50]


def code_foundation(doc, indexes) -> dict[str, list[str]]:
    text = doc.text
    spans = [(s.start_char, s.end_char) for s in doc.sents if s.text.strip()]
    sentences = [text[a:b] for a, b in spans]
    out = {}
    for kind, (system, index) in indexes.items():
        hits: dict[str, float] = {}
        for matches in index.search(sentences, TOP_K, MIN_SCORE):
            for code, score in matches:
                hits[code] = max(hits.get(code, 0.0), score)
        out[kind] = [codiesp_code(system.value, c) for c in _rank(hits)]
    return out


def code_frontend(doc, indexes) -> dict[str, list[str]]:
    mentions = [m for m in mentions_of(doc) if m.coded]
    by_sent: dict[tuple[int, int], float] = {}
    queries: dict[str, list[tuple[str, float]]] = {"D": [], "P": []}
    for m in mentions:
        kind = "P" if m.label == "PROCEDURE" else "D"
        weight = WEIGHTS.mention(m.section, m.assertion)
        queries[kind].append((m.query, weight))
        span = doc.char_span(m.start, m.end, alignment_mode="expand")
        if span is not None:
            s = span.sent
            key = (s.start_char, s.end_char)
            by_sent[key] = max(by_sent.get(key, 0.0), weight)
    for (a, b), w in by_sent.items():  # the sentence around a kept mention carries its context
        for kind in ("D", "P"):
            queries[kind].append((doc.text[a:b], 0.8 * w))
    out = {}
    for kind, (system, index) in indexes.items():
        hits: dict[str, float] = defaultdict(float)
        qs = queries[kind]
        for (q, w), matches in zip(qs, index.search([q for q, _ in qs], TOP_K, MIN_SCORE)):
            for code, score in matches:
                hits[code] = max(hits[code], score * min(w, 1.5))
        out[kind] = [codiesp_code(system.value, c) for c in _rank(hits)]
    return out


def frontend_effect(data: Path, limit: int | None = None) -> dict:
    """MAP D/P of both ways of querying on the CodiEsp split in ``data`` (``devD.tsv``,
    ``devP.tsv`` and ``text_files_en/``)."""
    from clincoder.models.lexical import lexical_index
    from clincoder.text.pipeline import build_nlp

    t0 = time.perf_counter()
    indexes = {"D": (System.ICD10CM, lexical_index(load_table(System.ICD10CM))),
               "P": (System.ICD10PCS, lexical_index(load_table(System.ICD10PCS)))}
    nlp = build_nlp()
    gold = {k: {d: set(c) for d, c in read_codiesp_tsv(data / f"dev{k}.tsv").items()} for k in ("D", "P")}
    paths = sorted((data / "text_files_en").glob("*.txt"))[:limit]
    ids = [p.stem for p in paths]
    pred = {"foundation": {"D": {}, "P": {}}, "frontend": {"D": {}, "P": {}}}
    for doc_id, doc in zip(ids, nlp.pipe(p.read_text(encoding="utf-8") for p in paths)):
        for name, fn in (("foundation", code_foundation), ("frontend", code_frontend)):
            for kind, codes in fn(doc, indexes).items():
                pred[name][kind][doc_id] = codes
    result = {}
    for name in pred:
        for kind in ("D", "P"):
            g = {d: c for d, c in gold[kind].items() if d in set(ids)}
            result[f"{name}_MAP_{kind}"] = round(mean_average_precision(g, pred[name][kind]), 4)
    result["letters"] = len(ids)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result
