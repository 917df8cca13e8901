"""``clincoder audit``: audit coded episodes against the letters, clincoder's suggestions and
(optionally) a reference gold set, the way NHS clinical coding audits do.

Findings per episode, by kind:

* ``invalid``: malformed, not in the edition with no such category either, or (outside CodiEsp
  conventions) not selectable (more characters needed);
* ``retired``: looks right and its category exists, but the code is not in the current edition
  (or the UK table marks it as no longer in use): retired, or an invalid extension;
* ``unsupported``: coded, but nothing supports it: no reference or suggested code in the same
  3-character category and no lexical support (the words of its title) in the letter;
* ``specificity``: the right category, the wrong code: coded X where the reference (else
  clincoder's suggested codes) has its sibling Y (e.g. a code swapped to a sibling);
* ``uncoded``: in the reference, or without one strongly suggested by clincoder (role primary or
  secondary, not a mere candidate), and not coded;
* ``sequencing``: the coded primary differs from the reference's (or clincoder's) primary, and
  that primary is coded further down (the right codes in the wrong order).

Without ``--reference`` the reference is clincoder's suggestions, which are imperfect: the summary
says which reference was used. Where a file has no roles, the first code of each kind is primary.

:func:`perturb_gold` builds a constructed audit set from a gold set (codes dropped, added, swapped
to a sibling, made invalid, resequenced) with the ground truth of what the audit must find.
"""

from __future__ import annotations

import csv
import json
import random
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from clincoder.core.codes import System, category, compact
from clincoder.core.schema import LetterResult
from clincoder.core.words import SUPPORT_STOP_WORDS

from .formats import CodedSet, Item, canonical, category_key, code_key, read_coded
from clincoder.core.tables import table_for

KINDS = ("invalid", "retired", "unsupported", "specificity", "uncoded", "sequencing")
PERTURBATIONS = {"dropped": "uncoded", "added": "unsupported", "swapped": "specificity", "invalid": "invalid",
                 "resequenced": "sequencing"}


@dataclass(frozen=True)
class Finding:
    episode: str
    kind: str
    system: str
    code: str  # the code concerned (coded, or for uncoded/sequencing the expected one)
    expected: str = ""  # the reference's code where relevant (specificity: the sibling expected)
    message: str = ""


# ---- code checks ---------------------------------------------------------------------------------

def check_code(system: str, code: str, codiesp: bool = False) -> tuple[str, str] | None:
    """``(kind, message)`` where the code is invalid or retired in the system's current table;
    None where it is fine (or no table is available to tell). ``codiesp``: accept CodiEsp's
    conventions (partial codes, ICD-10-CM 7th character dropped)."""
    display, ok = canonical(system, code)
    if not ok:
        return "invalid", f"{code!r} is not a well-formed {system} code"
    table = table_for(system)
    if table is None:
        return None
    e = table.get(display)
    if e is not None and e.is_code:
        if e.current is False:
            return "retired", f"{display} is no longer in use (not in the latest activity data of {table.edition})"
        if not e.selectable and not codiesp:
            return "invalid", f"{display} is not a complete code in {table.edition}: more characters are needed"
        return None
    if codiesp and System.parse(system) is System.ICD10CM and table.get(display + "A") is not None:
        return None  # CodiEsp drops the 7th character
    cat = category(System.parse(system), display)
    if table.get(cat) is None:
        return "invalid", f"{display}: there is no category {cat} in {table.edition}"
    return "retired", (f"{display} is not in {table.edition} although category {cat} is: a retired code "
                       f"(older edition) or an invalid extension")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in SUPPORT_STOP_WORDS}


def lexical_support(text: str | None, system: str, code: str, min_share: float = 0.6) -> bool:
    """The letter carries most of the content words of the code's title (or one of its inclusion
    terms): crude, generous support, so that coded conditions are not reported unsupported lightly."""
    if not text:
        return False
    table = table_for(system)
    e = table.get(canonical(system, code)[0]) if table is not None else None
    if e is None:
        return False
    words = _stems(text)
    for phrase in (e.title, *e.inclusion_terms):
        need = _stems(phrase)
        if need and len(need & words) / len(need) >= min_share:
            return True
    return False


# ---- the audit ------------------------------------------------------------------------------------

def _primary(items: Sequence[Item], kind: str) -> Item | None:
    its = [i for i in items if i.kind == kind and i.role != "candidate"]
    prim = [i for i in its if i.role == "primary"]
    return (prim or its or [None])[0]


def audit_episode(ep: str, coded: Sequence[Item], ref: Sequence[Item] | None, sugg: Sequence[Item] | None,
                  text: str | None, *, ckey, rkey, skey, codiesp: bool) -> list[Finding]:
    """Findings for one episode. ``ref``: reference codes (None: use the suggestions); ``sugg``:
    clincoder's ranked suggestions (codes and candidates); ``*key``: comparison-key functions."""
    out: list[Finding] = []
    strong = [i for i in sugg or () if i.role != "candidate"]
    expect = list(ref) if ref is not None else strong  # what should have been coded
    ekey = rkey if ref is not None else skey
    exp_keys = {(i.system, ekey(i.system, i.code)): i for i in expect}
    coded_keys = {(i.system, ckey(i.system, i.code)) for i in coded}
    support_cats = {(i.system, category_key(i.system, ekey(i.system, i.code))) for i in expect}
    support_cats |= {(i.system, category_key(i.system, skey(i.system, i.code))) for i in sugg or ()}
    consumed: set[tuple[str, str]] = set()
    for i in coded:
        k = (i.system, ckey(i.system, i.code))
        bad = check_code(i.system, i.code, codiesp)
        if bad:
            out.append(Finding(ep, bad[0], i.system, i.code, "", bad[1]))
            continue
        if k in exp_keys:
            continue
        cat = category_key(i.system, k[1])
        siblings = [e for ek, e in exp_keys.items()
                    if ek[0] == i.system and category_key(i.system, ek[1]) == cat and ek not in coded_keys and ek not in consumed]
        if siblings:
            s = siblings[0]
            consumed.add((s.system, ekey(s.system, s.code)))
            out.append(Finding(ep, "specificity", i.system, i.code, s.code,
                               f"coded {i.code} where the reference has {s.code} (same category {cat.upper()})"))
        elif (i.system, cat) not in support_cats and not lexical_support(text, i.system, i.code):
            out.append(Finding(ep, "unsupported", i.system, i.code, "",
                               f"{i.code}: no reference or suggested code in category {cat.upper()} and no "
                               f"supporting words in the letter"))
    for k, e in exp_keys.items():
        if k not in coded_keys and k not in consumed:
            out.append(Finding(ep, "uncoded", e.system, e.code, e.code, f"{e.code} is not coded"))
    for kind in ("diagnosis", "procedure"):
        cp, ep_ = _primary(coded, kind), _primary(expect, kind)
        if cp is None or ep_ is None:
            continue
        cpk, epk = (cp.system, ckey(cp.system, cp.code)), (ep_.system, ekey(ep_.system, ep_.code))
        if cpk != epk and epk in coded_keys:
            out.append(Finding(ep, "sequencing", ep_.system, ep_.code, ep_.code,
                               f"primary {kind} coded as {cp.code}; the reference has {ep_.code} first "
                               f"(coded here as a secondary code)"))
    return out


def _nhs_summary(episodes: Sequence[str], coded: CodedSet, expected: Mapping[str, Sequence[Item]], ckey, ekey) -> dict:
    """NHS-audit style: % correct primary diagnosis, secondary diagnoses, primary procedure,
    secondary procedures (correct codes / codes the reference has in that position)."""
    out = {}
    for kind, label in (("diagnosis", "diagnoses"), ("procedure", "procedures")):
        p_ok = p_n = s_ok = s_n = 0
        for ep in episodes:
            c_items, e_items = coded.docs.get(ep, []), expected.get(ep, [])
            cp, eprim = _primary(c_items, kind), _primary(e_items, kind)
            if eprim is not None:
                p_n += 1
                p_ok += cp is not None and ckey(cp.system, cp.code) == ekey(eprim.system, eprim.code)
            c_sec = {ckey(i.system, i.code) for i in c_items if i.kind == kind and i is not cp and i.role != "candidate"}
            e_sec = {ekey(i.system, i.code) for i in e_items if i.kind == kind and i is not eprim and i.role != "candidate"}
            s_n += len(e_sec)
            s_ok += len(e_sec & c_sec)
        out[f"primary_{kind}"] = {"percent_correct": 100 * p_ok / p_n if p_n else None, "correct": p_ok, "n": p_n}
        out[f"secondary_{label}"] = {"percent_correct": 100 * s_ok / s_n if s_n else None, "correct": s_ok, "n": s_n}
    return out


def _suggest(texts: Mapping[str, str], episodes: Sequence[str], coder: Callable[[str, str], LetterResult]) -> CodedSet:
    docs = {}
    for ep in episodes:
        if ep in texts:
            rec = coder(ep, texts[ep])
            docs[ep] = [Item(System.parse(c.system).value, canonical(c.system, c.code)[0], c.rank, c.role, c.score)
                        for c in rec.ranked()]
    return CodedSet(docs, "jsonl", ["clincoder Coder (run by the audit)"], True, True)


def _as_set(x, profile) -> CodedSet | None:
    if x is None or isinstance(x, CodedSet):
        return x
    return read_coded(x, profile)


def _expected(ref_set: CodedSet | None, sugg_set: CodedSet | None, rkey, skey, ckey):
    """What the coded episodes are compared with, in words, with its codes and comparison key."""
    if ref_set is not None:
        return f"reference gold set: {', '.join(ref_set.sources)}", ref_set.docs, rkey
    if sugg_set is not None:
        return ("clincoder's suggestions (roles primary/secondary); a model, not a gold standard: treat uncoded, "
                "specificity and sequencing findings as prompts for review",
                {d: [i for i in v if i.role != "candidate"] for d, v in sugg_set.docs.items()}, skey)
    return "none (no letters, suggestions or reference): only code validity was checked", {}, ckey


def audit(coded, letters: Mapping[str, str] | None = None, out_dir: str | Path | None = None, *, suggestions=None,
          reference=None, profile: str = "us", sample: int = 200, seed: int = 0,
          coder: Callable[[str, str], LetterResult] | None = None) -> dict:
    """Audit coded episodes (paths or a :class:`CodedSet`). ``letters``: ``{id: text}``;
    ``suggestions``: clincoder JSONL produced earlier (or a :class:`CodedSet`); else, given a
    ``coder`` (``(id, text) -> LetterResult``), the letters of the sampled episodes are coded now;
    ``reference``: a gold set to compare with instead of the suggestions; ``sample``: episodes
    drawn at random (0: all). Writes ``audit.json``, ``audit.csv`` and ``audit.md`` to
    ``out_dir`` if given; returns the audit dictionary."""
    coded_set, ref_set = _as_set(coded, profile), _as_set(reference, profile)
    texts = dict(letters or {})
    episodes = sorted(coded_set.docs)
    if sample and sample < len(episodes):
        episodes = sorted(random.Random(seed).sample(episodes, sample))
    sugg_set = _as_set(suggestions, profile)
    if sugg_set is None and texts and coder is not None:
        sugg_set = _suggest(texts, episodes, coder)
    codiesp = coded_set.fmt == "codiesp" or (ref_set is not None and ref_set.fmt == "codiesp")

    def keyer(s: CodedSet | None):
        conv = codiesp and (s is None or s.fmt != "codiesp")
        return lambda system, code: code_key(system, code, conv)

    ckey, rkey, skey = keyer(coded_set), keyer(ref_set), keyer(sugg_set)
    findings = {ep: audit_episode(ep, coded_set.docs.get(ep, []), ref_set.docs.get(ep, []) if ref_set is not None else None,
                                  sugg_set.docs.get(ep, []) if sugg_set is not None else None, texts.get(ep),
                                  ckey=ckey, rkey=rkey, skey=skey, codiesp=codiesp) for ep in episodes}
    reference_used, expected, ekey = _expected(ref_set, sugg_set, rkey, skey, ckey)
    result = {
        "reference": reference_used,
        "coded": coded_set.sources,
        "profile": profile,
        "conventions": "CodiEsp (partial codes accepted, ICD-10-CM 7th character dropped)" if codiesp else "standard",
        "sample": {"size": len(episodes), "of": len(coded_set.docs), "seed": seed,
                   "requested": sample or len(coded_set.docs)},
        "summary": _nhs_summary(episodes, coded_set, expected, ckey, ekey) if expected else None,
        "findings_by_kind": {k: sum(f.kind == k for fs in findings.values() for f in fs) for k in KINDS},
        "episodes_with_findings": sum(1 for fs in findings.values() if fs),
        "episodes": [{"id": ep, "findings": [asdict(f) for f in fs]} for ep, fs in findings.items()],
    }
    if out_dir is not None:
        write_audit(result, out_dir)
    return result


def write_audit(result: dict, out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "audit.json", "csv": out / "audit.csv", "md": out / "audit.md"}
    paths["json"].write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    with paths["csv"].open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["episode", "kind", "system", "code", "expected", "message"])
        w.writeheader()
        for ep in result["episodes"]:
            for f in ep["findings"]:
                w.writerow(f)
    lines = ["# Clinical coding audit", "",
             f"- Coded episodes: {', '.join(result['coded'])}",
             f"- Reference: {result['reference']}",
             f"- Sample: {result['sample']['size']} of {result['sample']['of']} episodes (seed {result['sample']['seed']})",
             f"- Code conventions: {result['conventions']}",
             f"- Episodes with at least one finding: {result['episodes_with_findings']}", ""]
    if result["summary"]:
        lines += ["## Accuracy (NHS audit style)", "", "| measure | % correct | correct | of |", "|---|---:|---:|---:|"]
        for k, v in result["summary"].items():
            pc = "n/a" if v["percent_correct"] is None else f"{v['percent_correct']:.1f}"
            lines.append(f"| {k.replace('_', ' ')} | {pc} | {v['correct']} | {v['n']} |")
        lines.append("")
    lines += ["## Findings by kind", "", "| kind | count |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in result["findings_by_kind"].items()]
    lines += ["", "## Per episode", ""]
    for ep in result["episodes"]:
        if ep["findings"]:
            lines.append(f"### {ep['id']}")
            lines += [f"- **{f['kind']}** {f['system']} `{f['code']}`: {f['message']}" for f in ep["findings"]]
            lines.append("")
    paths["md"].write_text("\n".join(lines), encoding="utf-8")
    return paths


# ---- constructed audit sets -------------------------------------------------------------------------

@dataclass(frozen=True)
class Perturbation:
    episode: str
    kind: str  # dropped | added | swapped | invalid | resequenced
    system: str
    original: str  # the gold code changed ("" for added)
    new: str  # the code now in the coded set ("" for dropped)
    expected_kind: str  # the finding kind the audit must report
    expected_code: str  # ... about this code


_BAD_CATEGORIES = {System.ICD10CM: ["U9Z", "Q9Z", "W9Z", "U8Z"], System.ICD10: ["U9Z", "Q9Z", "W9Z"],
                   System.ICD10PCS: ["0ZZ", "ZZZ"], System.OPCS4: ["Z99", "U99"]}


def _invalid_code(system: str, original: str, n: int) -> str:
    sysv = System.parse(system)
    if n % 2 == 0:  # malformed
        return f"{compact(original)}?#" if sysv is not System.ICD10PCS else "0OI" + compact(original)[3:]
    table = table_for(system)
    for cat in _BAD_CATEGORIES[sysv]:
        if table is None or table.get(cat) is None:
            return f"{cat}.9" if sysv is not System.ICD10PCS else cat + "Z"
    return f"{compact(original)}?#"


@dataclass
class _Perturber:
    """What each kind of perturbation draws from: the gold set's codes, the letters and the
    suggestions (to keep added codes unsupported), and one random generator for all."""

    rng: random.Random
    pool: list[tuple[str, str]]
    codiesp: bool
    letters: Mapping[str, str]
    suggestions: CodedSet | None

    def valid(self, i: Item) -> bool:
        return i.well_formed and check_code(i.system, i.code, self.codiesp) is None

    def dropped(self, d, items, keys, cats, n):
        i = self.rng.choice(items)
        if sum(category_key(j.system, j.code) == category_key(i.system, i.code) for j in items) > 1:
            return None  # keep it unambiguous: no other code of that category remains
        return [j for j in items if j is not i], Perturbation(d, "dropped", i.system, i.code, "", "uncoded", i.code)

    def added(self, d, items, keys, cats, n):
        dx = [i for i in items if i.kind == "diagnosis"] or items
        system = dx[0].system
        scats = {(i.system, category_key(i.system, i.code))
                 for i in (self.suggestions.docs.get(d, []) if self.suggestions else [])}
        text = self.letters.get(d)
        opts = [c for s, c in self.pool if s == system and (s, category_key(s, c)) not in cats | scats
                and check_code(s, c, self.codiesp) is None and not lexical_support(text, s, c)]
        if not opts:
            return None
        c = self.rng.choice(opts)
        return items + [Item(system, c, max(i.rank for i in items) + 1)], \
            Perturbation(d, "added", system, "", c, "unsupported", c)

    def swapped(self, d, items, keys, cats, n):
        self.rng.shuffle(opts_i := [i for i in items if self.valid(i)])
        for i in opts_i:
            table = table_for(i.system)
            e = table.get(i.code) if table is not None else None
            if e is None or not e.parent:
                continue
            sib = [s.code for s in table.children(e.parent) if s.selectable and s.code != e.code
                   and len(compact(s.code)) <= 6 and (i.system, code_key(i.system, s.code)) not in keys
                   and category_key(i.system, s.code) == category_key(i.system, i.code)]
            if sib:
                s = self.rng.choice(sorted(sib))
                if sum(category_key(j.system, j.code) == category_key(i.system, i.code) for j in items) > 1:
                    return None
                return [replace(j, code=s) if j is i else j for j in items], \
                    Perturbation(d, "swapped", i.system, i.code, s, "specificity", s)
        return None

    def invalid(self, d, items, keys, cats, n):
        i = self.rng.choice(items)
        display, ok = canonical(i.system, _invalid_code(i.system, i.code, n))
        return [replace(j, code=display, well_formed=ok) if j is i else j for j in items], \
            Perturbation(d, "invalid", i.system, i.code, display, "invalid", display)

    def resequenced(self, d, items, keys, cats, n):
        dx = [i for i in items if i.kind == "diagnosis"]
        if len(dx) < 2 or any(i.role for i in items):
            return None
        first = dx[0]
        rest = [i for i in items if i is not first]
        return [replace(j, rank=k) for k, j in enumerate(rest + [first], 1)], \
            Perturbation(d, "resequenced", first.system, first.code, first.code, "sequencing", first.code)


def perturb_gold(gold: CodedSet, *, n_per_kind: int = 10, seed: int = 0,
                 kinds: Sequence[str] = tuple(PERTURBATIONS), letters: Mapping[str, str] | None = None,
                 suggestions: CodedSet | None = None) -> tuple[CodedSet, list[Perturbation]]:
    """A constructed audit set: ``gold`` with ``n_per_kind`` episodes perturbed per kind (each
    episode at most once), and the ground truth of what an audit with ``gold`` as reference must
    find. ``added`` codes are drawn from other episodes' gold codes, in a category absent from this
    episode's gold (and suggestions, if given), without lexical support in its letter (if given)."""
    unknown = [k for k in kinds if k not in PERTURBATIONS]
    if unknown:
        raise ValueError(f"unknown perturbation {unknown[0]!r}; expected one of {list(PERTURBATIONS)}")
    rng = random.Random(seed)
    docs = {d: list(v) for d, v in gold.docs.items()}
    order = sorted(d for d, v in docs.items() if len(v) >= 2)
    rng.shuffle(order)
    pool = sorted({(i.system, i.code) for v in gold.docs.values() for i in v if i.well_formed})
    perturber = _Perturber(rng, pool, gold.fmt == "codiesp", letters or {}, suggestions)
    truth: list[Perturbation] = []
    used: set[str] = set()
    for kind in kinds:
        done = 0
        for d in [d for d in order if d not in used]:
            if done >= n_per_kind:
                break
            items = docs[d]
            keys = [(i.system, code_key(i.system, i.code)) for i in items]
            if len(set(keys)) != len(keys):
                continue  # duplicated codes make the ground truth ambiguous
            cats = {(i.system, category_key(i.system, i.code)) for i in items}
            made = getattr(perturber, kind)(d, items, keys, cats, done)
            if made is None:
                continue
            docs[d], p = made
            truth.append(p)
            used.add(d)
            done += 1
    out = CodedSet(docs, gold.fmt, [f"{', '.join(gold.sources)} (perturbed, seed {seed})"], gold.has_scores,
                   gold.has_roles)
    return out, truth


def found(result: Mapping, truth: Iterable[Perturbation], system_keys: bool = True) -> dict[str, list[Perturbation]]:
    """Which perturbations the audit found (a finding of the expected kind on the expected code in
    that episode): ``{"found": [...], "missed": [...]}``."""
    by_ep = {e["id"]: e["findings"] for e in result["episodes"]}
    hit, miss = [], []
    for p in truth:
        want = code_key(p.system, p.expected_code).lower()
        ok = any(f["kind"] == p.expected_kind and code_key(f["system"], f["code"]).lower() == want
                 for f in by_ep.get(p.episode, []))
        (hit if ok else miss).append(p)
    return {"found": hit, "missed": miss}
