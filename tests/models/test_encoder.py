"""The encoder's two runtimes: int8 ONNX embeddings stay close to float32 torch, are built once per
encoder in the cache folder, and each process (a forked worker too) runs its own session."""

from __future__ import annotations

import os

import numpy as np
import pytest

from clincoder.models.encoder import Encoder, padded_batches
from clincoder.models.ranker import ARTIFACTS

SENTENCES = ["Community acquired pneumonia treated with co-amoxiclav.", "Type 2 diabetes mellitus on metformin",
             "PCI to proximal LAD with one drug-eluting stent", "No evidence of pulmonary embolism on CTPA.", "AKI"]


@pytest.fixture(scope="module")
def encoders(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    saved = os.environ.get("CLINCODER_CACHE_DIR")
    os.environ["CLINCODER_CACHE_DIR"] = str(cache)
    try:
        delta = ARTIFACTS / "ranker-us" / "encoder"
        yield Encoder(delta, "torch"), Encoder(delta, "onnx-int8"), cache
    finally:
        if saved is None:
            os.environ.pop("CLINCODER_CACHE_DIR")
        else:
            os.environ["CLINCODER_CACHE_DIR"] = saved


def test_int8_embeddings_stay_close_to_float32(encoders):
    torch_enc, int8_enc, cache = encoders
    a, b = torch_enc.embed(SENTENCES), int8_enc.embed(SENTENCES)
    assert a.shape == b.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-4)
    assert (a * b).sum(1).min() > 0.97
    assert int8_enc.onnx_path.parent == cache and int8_enc.onnx_path.exists()
    assert int8_enc.fingerprint.endswith("-onnx-int8") and torch_enc.fingerprint != int8_enc.fingerprint


def test_a_padded_batch_embeds_as_each_sentence_alone(encoders):
    # the attention mask is honoured (a padded batch is not a different text); int8 activations are
    # quantised per call, so a sentence in a batch and alone agree closely, not exactly
    _, int8_enc, _ = encoders
    batch = int8_enc._embed(SENTENCES, 128, False)
    alone = np.vstack([int8_enc._embed([s], 128, False) for s in SENTENCES])
    assert (batch * alone).sum(1).min() > 0.98


def test_a_second_encoder_loads_the_built_model_without_torch_weights(encoders):
    _, first, _ = encoders
    again = Encoder(ARTIFACTS / "ranker-us" / "encoder", "onnx-int8")
    assert again.model is None  # the ONNX file is there: no torch model is built
    assert np.allclose(again.embed(SENTENCES[:2]), first.embed(SENTENCES[:2]), atol=1e-5)


def _embed_first(sentence):
    vector = ENCODER_UNDER_TEST[0]._embed([sentence], 128, False)  # not the parent's cached result
    return float(vector[0, 0]), ENCODER_UNDER_TEST[0]._session_pid


ENCODER_UNDER_TEST: list = []


def test_the_parent_and_its_forked_worker_run_their_own_sessions(encoders):
    from clincoder.batch import coded_in_order

    _, int8_enc, _ = encoders
    ENCODER_UNDER_TEST[:] = [int8_enc]
    expected = [float(int8_enc.embed([s])[0, 0]) for s in SENTENCES]
    got = list(coded_in_order(SENTENCES, _embed_first, workers=2))  # the batch path: parent + a forked worker
    assert np.allclose([g for g, _ in got], expected, atol=1e-5)
    pids = {pid for _, pid in got}
    assert os.getpid() in pids and len(pids) == 2  # each process built its own session


@pytest.mark.parametrize("lengths, expected", [
    ([3, 4, 5, 5, 6, 9, 10, 12, 30], [(0, 5), (5, 8), (8, 9)]),  # short mentions apart from a long sentence
    ([5, 5, 5, 5], [(0, 4)]),  # equal lengths: one call
    ([], []),
])
def test_padded_batches_split_where_padding_costs_more_than_a_call(lengths, expected):
    assert padded_batches(np.array(lengths, dtype=np.int64), 128) == expected


def test_padded_batches_keep_the_batch_size():
    spans = padded_batches(np.full(300, 5), 128)
    assert spans[0][0] == 0 and spans[-1][1] == 300 and all(b - a <= 128 for a, b in spans)
    assert all(prev[1] == nxt[0] for prev, nxt in zip(spans, spans[1:]))


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown encoder backend"):
        Encoder(None, "tensorrt")


def test_the_fast_tokenizer_gives_what_transformers_gives(encoders):
    # the ONNX path tokenizes with `tokenizers` alone; ids, mask and type ids must be identical
    _, int8_enc, _ = encoders
    texts = SENTENCES + ["word " * 200, "", "Ménière's disease; café-au-lait spots (x3)"]
    fast = int8_enc.fast_tokenizer(texts)
    slow = int8_enc.tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="np")
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        assert np.array_equal(fast[key], slow[key]), key


def test_code_embeddings_are_built_once_and_memory_mapped(encoders, tmp_path):
    from clincoder.core.codes import System
    from clincoder.core.tables import CodeEntry, CodeTable

    _, int8_enc, cache = encoders
    entries = [CodeEntry(code=c, title=t, kind="category", parent=None, selectable=True)
               for c, t in (("J18", "Pneumonia, organism unspecified"), ("I10", "Essential (primary) hypertension"),
                            ("E11", "Type 2 diabetes mellitus"))]
    table = CodeTable(System.ICD10, "test edition", entries, source="test")
    index = int8_enc.index(table)
    (saved,) = cache.glob("codes-ICD10-*.npy")
    assert isinstance(index.vectors.base, np.memmap) or isinstance(index.vectors, np.memmap) or \
        not index.vectors.flags.owndata  # a view of the mapped file, not a private copy
    assert index.search(["community acquired pneumonia"], 1)[0][0][0] == "J18"
    again = CodeTable(System.ICD10, "test edition", entries, source="test")  # same content: same file
    int8_enc.index(again)
    assert list(cache.glob("codes-ICD10-*.npy")) == [saved]


@pytest.mark.parametrize("bf16", [True, False])
def test_both_table_scans_return_the_exact_float32_top_codes(bf16, monkeypatch):
    # with bfloat16 hardware a rough bf16 scan shortlists and float32 rescores; without it the
    # whole table is scored in float32: either way the top codes and scores are float32's
    from clincoder.models import encoder as module

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[[3, 70, 411]] + 0.05 * rng.standard_normal((3, 16)).astype(np.float32)

    class Fixed:
        def embed(self, texts):
            return queries[: len(texts)]

    monkeypatch.setattr(module, "native_bf16", lambda: bf16)
    index = module.DenseIndex(Fixed(), None, [f"C{i}" for i in range(500)], vectors)
    found = index.search(["a", "b", "c"], 5)
    exact = queries @ vectors.T
    for row, hits in zip(exact, found):
        best = np.argsort(-row)[:5]
        assert [c for c, _ in hits] == [f"C{i}" for i in best]
        assert np.allclose([v for _, v in hits], row[best], atol=1e-5)
