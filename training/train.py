"""One command, one config: fine-tune the encoder, then train the ranker, into one artifact folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from clincoder.training.codiesp import load_split
from clincoder.training.encoder import EncoderConfig, fine_tune
from clincoder.training.ranker import KINDS, RankerConfig, earlier_card, train_ranker


class TrainingConfigError(ValueError):
    pass


def default_config() -> Path:
    """The config the shipped US ranker was trained with (``clincoder/training/configs/us.yaml``)."""
    from importlib.resources import files

    return Path(str(files("clincoder.training") / "configs" / "us.yaml"))


def read_config(path: str | Path) -> tuple[EncoderConfig, RankerConfig]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    unknown = set(data) - {"version", "encoder", "ranker"}
    if unknown:
        raise TrainingConfigError(f"unknown sections in {path}: {sorted(unknown)}")
    try:
        return EncoderConfig(**(data.get("encoder") or {})), RankerConfig(**(data.get("ranker") or {}))
    except (TypeError, ValueError) as exc:
        raise TrainingConfigError(f"{path}: {exc}") from exc


def train(config: str | Path, out: str | Path, codiesp: str | Path | None = None, progress: bool = True,
          tables: dict | None = None, reuse_encoder: bool = False, kinds: tuple[str, ...] = tuple(KINDS),
          keep_titles: bool = False) -> dict:
    """Train everything the config describes into ``out``; returns the model card.

    ``reuse_encoder`` keeps the fine-tuned encoder already in ``out/encoder`` (same config and
    seed give the same delta) and retrains only the ranker on top of it; ``kinds`` and
    ``keep_titles`` retrain part of the ranker already in ``out`` (see
    :func:`clincoder.training.ranker.train_ranker`).
    """
    enc_cfg, rk_cfg = read_config(config)
    out = Path(out)
    earlier_card(out, tuple(kinds), keep_titles)  # a part kept must be there before any training starts
    encoder = None
    if rk_cfg.use_encoder and reuse_encoder:
        from clincoder.models.encoder import Encoder

        if not (out / "encoder" / "encoder_card.json").exists():
            raise FileNotFoundError(f"no fine-tuned encoder to reuse in {out / 'encoder'}")
        encoder = Encoder(out / "encoder")
    elif rk_cfg.use_encoder:
        encoder = fine_tune(out / "encoder", load_split("train", codiesp), enc_cfg, progress=progress, tables=tables)
    elif (out / "encoder").exists():
        shutil.rmtree(out / "encoder")  # a stale delta must not be picked up by the new model
    return train_ranker(out, codiesp, rk_cfg, encoder=encoder, progress=progress, tables=tables, kinds=tuple(kinds),
                        keep_titles=keep_titles)
