"""Code systems and code normalisation: the one place where code strings are canonicalised.

ICD-10 and OPCS-4 share the code shape (``K75.1`` is a PCI in OPCS-4 and portal-vein phlebitis in
ICD-10), so a code never travels without its :class:`System`.
"""

from __future__ import annotations

import functools
import re
from enum import Enum


class System(str, Enum):
    """A code system. The value is what appears in output records."""

    ICD10 = "ICD-10"  # WHO ICD-10 2019 or the UK 5th Edition, depending on the loaded table
    OPCS4 = "OPCS-4"
    ICD10CM = "ICD-10-CM"
    ICD10PCS = "ICD-10-PCS"

    @property
    def kind(self) -> str:
        """``diagnosis`` or ``procedure``."""
        return "procedure" if self in (System.OPCS4, System.ICD10PCS) else "diagnosis"

    @classmethod
    def parse(cls, value: str) -> "System":
        if isinstance(value, cls):  # str() of a str-Enum member is "System.OPCS4" on Python 3.11
            return value
        if value in cls._value2member_map_:  # the exact value ("ICD-10-CM"): no need to normalise
            return cls._value2member_map_[value]
        key = re.sub(r"[^a-z0-9]", "", str(value).lower())
        for s in cls:
            if re.sub(r"[^a-z0-9]", "", s.value.lower()) == key:
                return s
        aliases = {"icd10uk": cls.ICD10, "icd10who": cls.ICD10, "opcs": cls.OPCS4, "opcs410": cls.OPCS4,
                   "cm": cls.ICD10CM, "pcs": cls.ICD10PCS}
        if key in aliases:
            return aliases[key]
        raise ValueError(f"unknown code system {value!r}; expected one of {[s.value for s in cls]}")


class InvalidCodeFormat(ValueError):
    """A string that cannot be a code of the given system."""


_ICD_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?$")
_OPCS_RE = re.compile(r"^[A-Z][0-9]{2}(?:[0-9])?$")
_PCS_RE = re.compile(r"^[0-9A-HJ-NP-Z]{3,7}$")


@functools.lru_cache(maxsize=1 << 17)  # pure, and called thousands of times per letter
def compact(code: str) -> str:
    """Upper-case, strip whitespace, dots and a trailing dash (``I21.4 `` -> ``I214``)."""
    return re.sub(r"[\s.\-]", "", str(code)).upper()


@functools.lru_cache(maxsize=1 << 16)  # pure, and called for every candidate of every letter
def normalise(system: System | str, code: str) -> str:
    """Canonical display form of ``code`` in ``system``.

    ICD-10 / ICD-10-CM / OPCS-4: dotted after the 3rd character (``i214`` -> ``I21.4``,
    ``W371`` -> ``W37.1``). ICD-10-PCS: 3-7 upper-case alphanumerics without dots. Placeholder
    ``X`` characters of ICD-10-CM (``T81.4XXA``) are kept. Raises :class:`InvalidCodeFormat`.
    """
    system = System.parse(system) if not isinstance(system, System) else system
    raw = compact(code)
    if not raw:
        raise InvalidCodeFormat(f"empty {system.value} code")
    if system is System.ICD10PCS:
        if not _PCS_RE.match(raw):
            raise InvalidCodeFormat(f"{code!r} is not an ICD-10-PCS code (3-7 letters/digits, no I or O)")
        return raw
    pattern = _OPCS_RE if system is System.OPCS4 else _ICD_RE
    if not pattern.match(raw):
        raise InvalidCodeFormat(f"{code!r} is not a well-formed {system.value} code")
    return raw if len(raw) == 3 else f"{raw[:3]}.{raw[3:]}"


# An OPCS-4 category title that makes its codes diagnostic operations ("Diagnostic endoscopic
# examination of bladder"): the look, coded as the main procedure only when nothing therapeutic was done
DIAGNOSTIC_CATEGORY = r"^Diagnostic\b"


def opcs4_chapter(code: str) -> str:
    """The OPCS-4 chapter letter of a code: ``U`` diagnostic imaging, testing and rehabilitation;
    ``X`` miscellaneous operations (transfusion, drugs); ``Y`` and ``Z`` the supplementary codes
    (methods, approaches, sites, laterality), which only qualify another code."""
    return compact(code)[:1]


# chapter O's overflow site codes (O11 other upper digestive tract ... O16 body region), which
# qualify another code as chapter Z's sites do
_OPCS4_OVERFLOW_SITES = ("O11", "O16")
# the endovascular placement of stents (L76 bare metal, L89 drug-eluting or coated, O20 stent
# grafts: their number and kind), coded after the stent operation whose vessel they qualify
# (OPCS-4.10 Tabular List: "use a supplementary code for placement of stent (L76, L89, O20)")
_OPCS4_QUALIFYING_CATEGORIES = frozenset({"L76", "L89", "O20"})


def opcs4_supplementary(code: str) -> bool:
    """Whether an OPCS-4 code only qualifies another: chapters Y (methods, approaches) and Z
    (sites, laterality), chapter O's overflow site codes (O11-O16) and the stents of an
    endovascular stent operation (L76, L89, O20); never used alone."""
    c = compact(code)
    return c[:1] in "YZ" or _OPCS4_OVERFLOW_SITES[0] <= c[:3] <= _OPCS4_OVERFLOW_SITES[1] or \
        c[:3] in _OPCS4_QUALIFYING_CATEGORIES


def category(system: System, code: str) -> str:
    """The 3-character category (ICD-10/-CM/OPCS-4) or the 3-character PCS table of a code."""
    return compact(code)[:3]


@functools.lru_cache(maxsize=1 << 16)
def label_form(system: System | str, code: str) -> str:
    """The form codes take in learned models and in CodiEsp gold: lower case, dotted, with an
    ICD-10-CM 7th character dropped (``T81.4XXA`` -> ``t81.4xx``), ICD-10-PCS undotted."""
    system = System.parse(system) if not isinstance(system, System) else system
    c = code.strip()
    if system is System.ICD10CM and len(compact(c)) == 7:
        c = c[:-1]
    return c.lower()
