"""Dates in a letter: when the patient was admitted, and the date a sentence gives an operation.

A procedure the letter dates before the admission ("an excision biopsy of a cervical lymph node as
a day case on 06/10/2025", admitted 16/10/2025) belongs to an earlier episode and is not coded in
this one (National Clinical Coding Standards OPCS-4: only the procedures of the episode are coded).
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b"
                  r"|\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(_MONTHS) + r")[a-z]*\.?,?\s+(\d{4})\b", re.I)
# "Admitted 16/10/2025", "Date of admission: 16 October 2025", "Admission date - 03/02/2026"
_ADMITTED = re.compile(r"\b(?:admitted(?:\s+on)?|date\s+of\s+admission|admission\s+date|date\s+admitted)\s*[:\-]?\s*",
                       re.I)
NEAR_CHARS = 80  # a date further than this from the operation's words dates something else


def as_date(found: re.Match) -> date | None:
    """The calendar date of a :data:`DATE` match (None for an impossible one: 31/02/2025)."""
    try:
        if found.group(1):
            year = int(found.group(3))
            return date(year + 2000 if year < 100 else year, int(found.group(2)), int(found.group(1)))
        return date(int(found.group(6)), _MONTHS.index(found.group(5).lower()[:3]) + 1, int(found.group(4)))
    except ValueError:
        return None


def admission_date(text: str) -> date | None:
    """The date the letter says the patient was admitted, if it gives one with its year."""
    for where in _ADMITTED.finditer(text):
        found = DATE.match(text, where.end())
        if found:
            return as_date(found)
    return None


def date_of(text: str, start: int, end: int, lo: int, hi: int) -> date | None:
    """The date nearest the words ``start``-``end`` within ``lo``-``hi`` (their sentence), if one
    stands within :data:`NEAR_CHARS` of them."""
    best, gap = None, NEAR_CHARS + 1
    for found in DATE.finditer(text, lo, hi):
        distance = found.start() - end if found.start() >= end else start - found.end()
        if 0 <= distance < gap:
            best, gap = as_date(found), distance
    return best
