"""``clincoder eval``: score a predicted coded set against a gold set and write the report.

``DIR/report.json`` (machine-readable; top-level ``map``, ``micro``, ``macro``, ``per_system``,
``per_chapter``, ``ci``, ...) and ``DIR/report.html`` (for people) with the plots beside it as
PNG: ``per_chapter_f1.png``, ``precision_recall.png``, ``calibration.png``.

Definitions (see :mod:`clincoder.eval.metrics`):

* documents evaluated = the documents of the gold set; predictions for other documents are ignored
  (counted in ``inputs.pred_docs_not_in_gold``); a gold document without predictions scores 0;
* the *predicted set* of a document = its codes with role primary/secondary (JSONL ``codes``;
  TSV files and CSV without roles: every code listed); the *ranking* = every code listed, best
  first (JSONL: ``codes`` then ``candidates``) and feeds MAP and P@k/R@k;
* ``map`` = CodiEsp MAP over all systems together (a code is ``system|code``), ranked by the
  prediction's rank (for CodiEsp D/P pairs, the two files interleaved by line number);
  ``per_system[s].map`` is the CodiEsp task's MAP for that system (CodiEsp-D, CodiEsp-P);
* scores for the threshold sweep and calibration are the model's (JSONL, CSV with a score column)
  or, where there are none, rank-based pseudo-scores ``1/rank`` (the report says which).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Sequence

from clincoder.core.codes import System
from clincoder.core.html import render
from clincoder.core.tables import PCS_SECTIONS, table_for

from . import metrics as M
from clincoder.core.gold import is_coder_gold, read_coder_gold
from clincoder.core.schema import read_records

from .coder_gold import as_coded_set, coder_audit
from .formats import CodedSet, FormatError, category_key, code_key, read_coded

DEFAULT_K = (1, 3, 5, 10)


@functools.lru_cache(maxsize=None)
@functools.lru_cache(maxsize=None)
def _chapter_ranges(system: str) -> list:
    table = table_for(system)
    out = []
    for e in table.chapters():
        m = re.search(r"\(([A-Z][0-9][0-9A-Z])-([A-Z][0-9][0-9A-Z])\)\s*$", e.title)
        if m:
            out.append((m.group(1), m.group(2), e))
    return out


def _chapter_by_range(system: str, cat: str):
    for lo, hi, e in _chapter_ranges(system):
        if lo <= cat <= hi:
            return e
    return None


@functools.lru_cache(maxsize=None)
def chapter_of(system: str, code: str) -> str:
    """A label for the chapter (ICD) or section (PCS) of a code; ``?`` where unknown."""
    try:
        sysv = System.parse(system)
    except ValueError:
        return "?"
    c = code.strip().upper()
    if sysv is System.ICD10PCS:
        s = c[:1]
        return f"{s} {PCS_SECTIONS[s]}" if s in PCS_SECTIONS else "?"
    table = table_for(system)
    if table is not None:
        ch = _chapter_by_range(system, c[:3]) or table.chapter(c) or table.chapter(c[:3])
        if ch is not None:
            num = ch.code.replace("Chapter ", "").strip()
            title = re.sub(r"\s*\([A-Z0-9]{3}-[A-Z0-9]{3}\)$", "", ch.title)
            label = f"{num} {title}"
            return label if len(label) <= 48 else label[:46].rstrip(" ,") + "…"
    return f"{c[:1]} (letter)" if c[:1].isalpha() else "?"


class _Views:
    """Gold and predictions as plain dicts, per system and overall (``system|code``)."""

    def __init__(self, gold: CodedSet, pred: CodedSet, docs: Sequence[str], codiesp: bool):
        self.docs = list(docs)
        self.systems = sorted(set(gold.systems) | set(pred.systems))
        self.pseudo = not pred.has_scores
        # CodiEsp files are compared as written (lower case), exactly as the CodiEsp scorer does;
        # codes from JSONL/CSV are put into CodiEsp conventions when the other side is CodiEsp.
        gkey = functools.lru_cache(maxsize=None)(lambda s, c: code_key(s, c, codiesp and gold.fmt != "codiesp"))
        pkey = functools.lru_cache(maxsize=None)(lambda s, c: code_key(s, c, codiesp and pred.fmt != "codiesp"))
        self.gold: dict[str, dict[str, set[str]]] = {s: {} for s in self.systems + ["all"]}
        self.gold_primary: dict[str, dict[str, str | None]] = {"diagnosis": {}, "procedure": {}}
        self.pred_set: dict[str, dict[str, list[str]]] = {s: {} for s in self.systems + ["all"]}
        self.ranked: dict[str, dict[str, list[str]]] = {s: {} for s in self.systems + ["all"]}
        self.scored: dict[str, dict[str, list[tuple[str, float]]]] = {s: {} for s in self.systems + ["all"]}
        self.pred_primary: dict[str, dict[str, str | None]] = {"diagnosis": {}, "procedure": {}}
        for d in self.docs:
            g_items = gold.docs.get(d, [])
            p_items = pred.docs.get(d, [])
            for s in self.systems:
                self.gold[s][d] = {gkey(i.system, i.code) for i in g_items if i.system == s}
                ps = [i for i in p_items if i.system == s]
                self.ranked[s][d] = M.dedupe(pkey(i.system, i.code) for i in ps)
                self.pred_set[s][d] = M.dedupe(pkey(i.system, i.code) for i in ps if i.role != "candidate")
                self.scored[s][d] = [(pkey(i.system, i.code), self._score(i, n)) for n, i in enumerate(ps, 1)]
            self.gold["all"][d] = {f"{i.system}|{gkey(i.system, i.code)}" for i in g_items}
            order = sorted(p_items, key=lambda i: (i.rank, i.system))
            self.ranked["all"][d] = M.dedupe(f"{i.system}|{pkey(i.system, i.code)}" for i in order)
            self.pred_set["all"][d] = M.dedupe(f"{i.system}|{pkey(i.system, i.code)}" for i in order
                                               if i.role != "candidate")
            self.scored["all"][d] = [x for s in self.systems for x in
                                     ((f"{s}|{c}", v) for c, v in self.scored[s][d])]
            for kind in ("diagnosis", "procedure"):
                gp = [i for i in g_items if i.kind == kind and i.role == "primary"]
                self.gold_primary[kind][d] = gkey(gp[0].system, gp[0].code) if gp else None
                pk = [i for i in p_items if i.kind == kind and i.role != "candidate"]
                pp = [i for i in pk if i.role == "primary"] or pk[:1]
                self.pred_primary[kind][d] = pkey(pp[0].system, pp[0].code) if pp else None

    def _score(self, item, n: int) -> float:
        if not self.pseudo and item.score is not None:
            return float(item.score)
        return 1.0 / n  # rank within the document's codes of this system


def _split(code: str) -> tuple[str, str]:
    s, _, c = code.partition("|")
    return (s, c) if c else ("", s)


def _level_fn(system: str):
    if system == "all":
        return lambda c: (lambda s, k: f"{s}|{category_key(s, k)}")(*_split(c))
    return lambda c: category_key(system, c)


def _block(gold, pred_set, ranked, ks) -> dict:
    return {
        "map": M.mean_average_precision(gold, ranked),
        "micro": M.micro_prf(gold, pred_set),
        "macro": M.macro_prf(gold, pred_set),
        "p_at_k": {str(k): M.precision_at_k(gold, ranked, k) for k in ks},
        "r_at_k": {str(k): M.recall_at_k(gold, ranked, k) for k in ks},
        "documents": len(gold),
        "documents_with_gold": sum(1 for g in gold.values() if g),
        "gold_codes": sum(len(g) for g in gold.values()),
        "predicted_codes": sum(len(set(p)) for d, p in pred_set.items() if d in gold),
    }


def _levels(v: _Views, s: str, ks) -> dict:
    full = _block(v.gold[s], v.pred_set[s], v.ranked[s], ks)
    fn = _level_fn(s)
    cat_gold = {d: set(M.map_level({d: g}, fn)[d]) for d, g in v.gold[s].items()}
    full["category"] = _block(cat_gold, M.map_level(v.pred_set[s], fn), M.map_level(v.ranked[s], fn), ks)
    return full


def _per_chapter(v: _Views) -> dict:
    out: dict[str, dict] = {}
    for s in v.systems:
        chapters: dict[str, tuple[dict, dict]] = {}
        for d in v.docs:
            for c in v.gold[s][d]:
                chapters.setdefault(chapter_of(s, c), ({}, {}))[0].setdefault(d, set()).add(c)
            for c in v.pred_set[s][d]:
                chapters.setdefault(chapter_of(s, c), ({}, {}))[1].setdefault(d, []).append(c)
        rows = {}
        for ch, (g, p) in sorted(chapters.items()):
            gold = {d: g.get(d, set()) for d in v.docs}
            m = M.micro_prf(gold, p)
            rows[ch] = {**m, "support": m["tp"] + m["fn"], "predicted": m["tp"] + m["fp"]}
        out[s] = rows
    return out


def _per_code(v: _Views, worst: int, min_support: int) -> tuple[dict, list[dict]]:
    """Per-code counts with titles and chapters, and the worst codes over all systems."""
    per_code = {s: M.per_code_table(v.gold[s], v.pred_set[s]) for s in v.systems}
    for s, rows in per_code.items():
        t = table_for(s) if s else None
        for r in rows:
            r["title"] = (t.title(r["code"]) if t is not None else None) or ""
            r["chapter"] = chapter_of(s, r["code"])
    worst_rows = sorted((dict(r, system=s) for s in v.systems for r in M.worst_codes(per_code[s], worst, min_support)),
                        key=lambda r: (r["f1"], -r["support"]))[:worst]
    return per_code, worst_rows


def _notes(codiesp: bool, pseudo: bool, has_primary: bool) -> list[str]:
    notes = []
    if codiesp:
        notes.append("CodiEsp conventions applied to both sides (lower case, ICD-10-CM 7th character dropped).")
    if pseudo:
        notes.append("The predictions carry no scores: the threshold sweep and calibration use rank-based "
                     "pseudo-scores 1/rank (a threshold 1/n keeps each document's top n codes per system).")
    if not has_primary:
        notes.append("Gold has no roles: primary-diagnosis/procedure accuracy not computed.")
    else:
        notes.append("Predicted primary = the code with role primary, else the first-ranked predicted code of the kind.")
    return notes


def evaluate(gold: CodedSet | Sequence[str | Path] | str | Path, pred: CodedSet | Sequence[str | Path] | str | Path,
             out_dir: str | Path | None = None, *, profile: str = "us", ks: Sequence[int] = DEFAULT_K,
             n_boot: int = 1000, seed: int = 0, docs: Sequence[str] | None = None, worst: int = 20,
             min_support: int = 2, plots: bool = True, split: str | None = None) -> dict:
    """Score ``pred`` against ``gold`` (paths or :class:`CodedSet`); write the report if ``out_dir``.

    ``gold`` may be a coder gold folder (:mod:`clincoder.eval.coder_gold`): then the report also
    holds the coder-audit figures of the JSONL predictions (``split``: only that part of the set).
    ``docs`` restricts the evaluation to those documents (default: every gold document).
    Returns the report dictionary (what ``report.json`` holds).
    """
    gold_set, pred_set, audit = _read_sets(gold, pred, profile, split)
    docs = docs if docs is not None or audit is None else [r["id"] for r in audit["per_letter"]]
    codiesp = "codiesp" in (gold_set.fmt, pred_set.fmt)
    doc_ids = sorted(gold_set.docs) if docs is None else [d for d in docs]
    v = _Views(gold_set, pred_set, doc_ids, codiesp)

    overall = _levels(v, "all", ks)
    per_system = {s: _levels(v, s, ks) for s in v.systems}
    for s in v.systems:
        arr = M.per_doc_arrays(v.gold[s], v.pred_set[s], v.ranked[s])
        per_system[s]["ci"] = M.bootstrap_ci(arr, n_boot, seed)
    ci = M.bootstrap_ci(M.per_doc_arrays(v.gold["all"], v.pred_set["all"], v.ranked["all"]), n_boot, seed)
    ci = {"method": f"percentile bootstrap over documents, {n_boot} resamples, seed {seed}", "level": 0.95,
          **ci, "per_system": {s: per_system[s]["ci"] for s in v.systems}}

    per_code, worst_rows = _per_code(v, worst, min_support)

    sweep = M.threshold_sweep(v.gold["all"], v.scored["all"],
                              None if not v.pseudo else [round(1 / n, 4) for n in range(60, 0, -1)] + [1.01])
    primary = None
    if gold_set.has_roles:
        primary = {k: M.primary_accuracy(v.gold_primary[k], v.pred_primary[k]) for k in ("diagnosis", "procedure")}
    notes = _notes(codiesp, v.pseudo, primary is not None)
    extra = sorted(set(pred_set.docs) - set(doc_ids))
    report = {
        "map": overall["map"], "micro": overall["micro"], "macro": overall["macro"],
        "p_at_k": overall["p_at_k"], "r_at_k": overall["r_at_k"], "category": overall["category"],
        "per_system": per_system, "per_chapter": _per_chapter(v), "ci": ci, "primary": primary,
        "threshold_sweep": {"scores": "pseudo (1/rank)" if v.pseudo else "model", "points": sweep,
                            "recommended": M.recommend_threshold(sweep),
                            "recommended_precision_0.8": M.recommend_threshold(sweep, 0.8)},
        "calibration": M.calibration(v.gold["all"], v.scored["all"]),
        "per_code": per_code, "worst_codes": worst_rows,
        "documents": len(doc_ids),
        "inputs": {"gold": gold_set.sources, "pred": pred_set.sources, "gold_format": gold_set.fmt,
                   "pred_format": pred_set.fmt, "profile": profile, "pred_docs_not_in_gold": len(extra),
                   "gold_docs_without_predictions": sum(1 for d in doc_ids if not pred_set.docs.get(d)),
                   "pred_errors": len(pred_set.errors)},
        "notes": notes,
    }
    if audit is not None:
        report["coder_audit"] = audit
    if out_dir is not None:
        write_report(report, out_dir, plots=plots)
    return report


def _read_sets(gold, pred, profile: str, split: str | None) -> tuple[CodedSet, CodedSet, dict | None]:
    """Gold and predictions as coded sets, and the coder audit where gold is a coder gold folder."""
    pred_set = pred if isinstance(pred, CodedSet) else read_coded(pred, profile)
    paths = [] if isinstance(gold, CodedSet) else [gold] if isinstance(gold, (str, Path)) else list(gold)
    if len(paths) != 1 or not is_coder_gold(paths[0]):
        return (gold if isinstance(gold, CodedSet) else read_coded(gold, profile)), pred_set, None
    letters = read_coder_gold(paths[0], split)
    if pred_set.fmt != "jsonl":
        raise FormatError("a coder gold set is compared with `clincoder code` JSONL records (--format jsonl)")
    records = {r.id: r for p in pred_set.sources for r in read_records(p)}
    return as_coded_set(letters, profile), pred_set, coder_audit(letters, records)


# ---- output -------------------------------------------------------------------------------------

def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _plots(report: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    # per-chapter F1
    rows = [(f"{s.replace('ICD-10-', '')} {ch}", r["f1"], r["support"]) for s, chs in report["per_chapter"].items()
            for ch, r in chs.items() if r["support"] > 0]
    rows.sort(key=lambda r: [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in r[0].split()[:2]])
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.22 * len(rows) + 0.8)), dpi=90)
    if rows:
        ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1], color="#4477aa")
        for y, r in enumerate(rows[::-1]):
            ax.text(min(r[1] + 0.01, 0.92), y, f"n={r[2]}", va="center", fontsize=6)
    ax.set_xlim(0, 1)
    ax.set_xlabel("micro F1")
    ax.set_title("F1 per chapter / PCS section")
    ax.tick_params(axis="y", labelsize=6)
    paths.append(_save(fig, out / "per_chapter_f1.png"))

    # precision / recall over the threshold
    sweep = report["threshold_sweep"]
    pts = sweep["points"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5), dpi=90)
    ts = [q["threshold"] for q in pts]
    for k, c in (("precision", "#228833"), ("recall", "#ee6677"), ("f1", "#4477aa")):
        a1.plot(ts, [q[k] for q in pts], label=k, color=c)
    rec = sweep.get("recommended")
    if rec:
        a1.axvline(rec["threshold"], color="grey", ls="--", lw=1, label=f"max F1 @ {rec['threshold']:.2f}")
    a1.set_xlabel("score threshold" + (" (pseudo-score 1/rank)" if sweep["scores"] != "model" else ""))
    a1.set_title("Precision / recall over the threshold")
    a1.legend(fontsize=7)
    a2.plot([q["recall"] for q in pts], [q["precision"] for q in pts], marker=".", color="#4477aa")
    a2.set_xlabel("recall")
    a2.set_ylabel("precision")
    a2.set_xlim(0, 1)
    a2.set_ylim(0, 1)
    a2.set_title("Precision-recall")
    paths.append(_save(fig, out / "precision_recall.png"))

    # calibration
    cal = report["calibration"]
    fig, ax = plt.subplots(figsize=(4.5, 4), dpi=90)
    b = [r for r in cal["bins"] if r["n"]]
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
    ax.plot([r["mean_score"] for r in b], [r["accuracy"] for r in b], marker="o", color="#4477aa")
    ax.set_xlabel("mean score in bin" + (" (pseudo)" if sweep["scores"] != "model" else ""))
    ax.set_ylabel("share of codes in gold")
    ax.set_title(f"Calibration (ECE {cal['ece']:.3f})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    paths.append(_save(fig, out / "calibration.png"))
    return paths


def _ci(stat: str, d: dict) -> str:
    return f"{d[stat]['value']:.3f} [{d[stat]['lo']:.3f}, {d[stat]['hi']:.3f}]"


def _audit_rows(audit: dict) -> tuple[list, list]:
    """The coder-audit table and the per-letter table of :func:`clincoder.eval.coder_gold.coder_audit`."""
    rows = []
    for name, label in (("primary_diagnosis", "primary diagnosis correct %"), ("main_procedure", "main procedure correct %")):
        m = audit[name]
        rows.append([label, m["percent_correct"], m["correct"], m["n"], None])
    for name, label in (("secondary_diagnoses", "secondary diagnoses"), ("secondary_procedures", "secondary procedures"),
                        ("procedures", "all procedures"), ("suggested_4", "suggested codes, 4 characters"),
                        ("suggested_3", "suggested codes, 3 characters")):
        m = audit[name]
        rows.append([f"{label}: P / R / F1", f"{m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f}",
                     m["tp"], m["fp"], m["fn"]])
    rows.append(["codes coded that gold says must not be", audit["must_not_coded"], None, None, None])
    rows.append(["codes suggested on negated, family or hypothetical evidence only", audit["negated_suggested"],
                 None, None, None])
    rows.append(["letters not coded (error or missing records, scored as coding nothing)", audit["not_coded"],
                 None, None, None])
    letters = [[r["id"], f"{r['primary_diagnosis']['gold']} → {r['primary_diagnosis']['coded']}",
                f"{r['main_procedure']['gold']} → {r['main_procedure']['coded']}",
                ", ".join(w["code"] for w in r["wrong"]), ", ".join(r["missed"]), ", ".join(r["must_not_coded"])]
               for r in audit["per_letter"]]
    return rows, letters


def render_html(report: dict, images: Sequence[Path]) -> str:
    ci = report["ci"]
    ks = list(report["p_at_k"])
    summary = []
    for s, m in [("all", {**report, "ci": ci})] + list(report["per_system"].items()):
        summary.append([s, _ci("map", m["ci"]), _ci("precision", m["ci"]), _ci("recall", m["ci"]),
                        _ci("f1", m["ci"]), m["macro"]["f1"], m["category"]["map"], m["category"]["micro"]["f1"]]
                       + [m["p_at_k"][k] for k in ks] + [m["r_at_k"][k] for k in ks])
    audit = report.get("coder_audit")
    audit_rows, letter_rows = _audit_rows(audit) if audit else ([], [])
    return render(
        "report.html.j2", report=report, images=list(images), audit=audit, audit_rows=audit_rows,
        letter_rows=letter_rows, recommended=report["threshold_sweep"]["recommended"],
        summary_headers=["system", "MAP", "micro P", "micro R", "micro F1", "macro F1", "cat. MAP", "cat. micro F1"]
        + [f"P@{k}" for k in ks] + [f"R@{k}" for k in ks], summary_rows=summary,
        primary_rows=[[k, v["accuracy"], v["correct"], v["n"]] for k, v in (report["primary"] or {}).items()],
        chapter_rows=[[s, ch, r["support"], r["predicted"], r["precision"], r["recall"], r["f1"]]
                      for s, chs in report["per_chapter"].items() for ch, r in chs.items()],
        worst_rows=[[r["system"], r["code"], r["title"][:60], r["support"], r["predicted"], r["precision"],
                     r["recall"], r["f1"]] for r in report["worst_codes"]])


def write_report(report: dict, out_dir: str | Path, plots: bool = True) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = _plots(report, out) if plots else []
    paths = {"json": out / "report.json", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    paths["html"].write_text(render_html(report, images), encoding="utf-8")
    for img in images:
        paths[img.stem] = img
    return paths


def write_feedback(report: dict, out_dir: str | Path) -> dict[str, Path]:
    """``feedback.json`` and ``feedback.html`` for :func:`clincoder.eval.feedback.feedback_report`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "feedback.json", "html": out / "feedback.html"}
    paths["json"].write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    audit_rows, letter_rows = _audit_rows(report["audit"])
    added = [[r["system"], r["code"], r["title"][:70], r["letters"], ", ".join(map(str, r["ranked_at"])) or "not ranked"]
             for r in report["added_not_suggested"]]
    fields = ("key", "n", "accepted", "edited", "rejected", "acceptance")
    groups = [(title, [[r[f] for f in fields] for r in report[key][:40]])
              for title, key in (("Per classification", "per_system"), ("Per rule", "per_rule"),
                                 ("Per code (lowest acceptance first)", "per_code"))]
    paths["html"].write_text(render("feedback.html.j2", report=report, audit_rows=audit_rows, letter_rows=letter_rows,
                                    added_rows=added, groups=groups), encoding="utf-8")
    return paths


def summary_line(report: dict) -> str:
    parts = []
    audit = report.get("coder_audit")
    if audit:
        sd, sp = audit["secondary_diagnoses"], audit["secondary_procedures"]
        parts.append(f"{audit['letters']} letters: primary diagnosis {audit['primary_diagnosis']['percent_correct']}% "
                     f"correct, secondary diagnoses P {sd['precision']:.3f} R {sd['recall']:.3f}, main procedure "
                     f"{audit['main_procedure']['percent_correct']}% correct, secondary procedures P "
                     f"{sp['precision']:.3f} R {sp['recall']:.3f}, all procedures P {audit['procedures']['precision']:.3f} "
                     f"R {audit['procedures']['recall']:.3f}, must-not-code codes {audit['must_not_coded']}, "
                     f"negated suggested {audit['negated_suggested']}"
                     + (f", letters not coded (error or missing records) {audit['not_coded']}" if audit["not_coded"] else ""))
    parts += [f"MAP {report['map']:.4f}"] + [f"{s} MAP {m['map']:.4f}" for s, m in report["per_system"].items()]
    mi = report["micro"]
    parts.append(f"micro P {mi['precision']:.4f} R {mi['recall']:.4f} F1 {mi['f1']:.4f}")
    return "; ".join(parts)
