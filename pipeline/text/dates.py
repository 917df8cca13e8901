"""Dates in a letter: when the patient was admitted, and the date a sentence gives an operation.

A procedure the letter dates before the admission belongs to an earlier episode and is not coded
in this one (National Clinical Coding Standards OPCS-4: only the procedures of the episode are
coded): "an excision biopsy of a cervical lymph node as a day case on 06/10/2025" (admitted
16/10/2025), "a right hip replacement in 2014", "adrenal vein sampling in January" (admitted in
March), "tonsillectomy aged 7" (born 1978).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}|\d{2})\b"
                  r"|\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(_MONTHS) + r")[a-z]*\.?,?\s+(\d{4})\b", re.I)
# a token that is a date, with or without its year ("14/06/2025", "3/7/25", "12/03")
DATE_TOKEN = re.compile(r"\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?$")
# "Admitted 16/10/2025", "Adm: 02/11/2025", "Adm/Disch: 21/11/2025", "Date of admission and discharge: 16 October 2025",
# "Admission date - 03/02/2026", "Inpatient stay, Beckford Ward: 01/06/2026 to ..."; a day case's
# "Attended: 10/03/2026", "Day case: 14/10/2025", "Date of admission, procedure and discharge: 12/05/2026"
_ADMITTED = re.compile(r"\b(?:admitted(?:\s+on)?|adm(?:itted|ission)?\s*/\s*disch(?:arged?)?\b\.?|adm\b\.?|admission\s+date|admission(?:\s+and\s+discharge)?|"
                       r"date\s+of\s+(?:admission|attendance|procedure|surgery|operation|treatment)"
                       r"(?:(?:,\s*\w+)*\s+and\s+discharge)?|"
                       r"date\s+admitted|attended(?:\s+on)?|attendance|day\s+case|inpatient\s+stay(?:,[^:\n]{0,40})?)"
                       r"\s*[:\-]?\s*", re.I)
NEAR_CHARS = 80  # a date further than this from the operation's words dates something else
_LEADS_TO = re.compile(r"\s*(?:on|dated|[(])?\s*")  # what joins an operation to its own date
# a period rather than a day: "in 2014", "during March 2025", "in January" (a month name written
# with its capital, so that "in may" is not read as May)
_MONTH_NAMES = "|".join(m.capitalize() + r"(?:" + rest + r")?" for m, rest in (
    ("jan", "uary"), ("feb", "ruary"), ("mar", "ch"), ("apr", "il"), ("may", ""), ("jun", "e"), ("jul", "y"),
    ("aug", "ust"), ("sep", "t|tember"), ("oct", "ober"), ("nov", "ember"), ("dec", "ember")))
PERIOD = re.compile(r"\b(?:[Ii]n|[Dd]uring)\s+(?:(" + _MONTH_NAMES + r")\.?,?\s+)?((?:19|20)\d{2})\b"
                    r"|\b(?:[Ii]n|[Dd]uring)\s+(" + _MONTH_NAMES + r")\b(?!\.?\s*\d)")
# a day and a month without the year ("a transurethral resection of a bladder tumour on 30 June"),
# taken in the admission's year
DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + _MONTH_NAMES + r")\b(?!\.?,?\s+\d)")
# a month and its year without the day ("core biopsy (09/2025)")
MONTH_YEAR = re.compile(r"(?<![/.\d])(\d{1,2})/((?:19|20)\d{2})\b")
# a year written alone beside the words ("phacoemulsification, right 2019 and left 2020", "avulsion
# of L great toenail 2021"), as its last day; a year inside a date or a range is not one
BARE_YEAR = re.compile(r"(?<![/.\d-])\b((?:19|20)\d{2})\b(?![/.-]?\d)")


def as_date(found: re.Match) -> date | None:
    """The calendar date of a :data:`DATE` match (None for an impossible one: 31/02/2025)."""
    try:
        if found.group(1):
            year = int(found.group(3))
            return date(year + 2000 if year < 100 else year, int(found.group(2)), int(found.group(1)))
        return date(int(found.group(6)), _MONTHS.index(found.group(5).lower()[:3]) + 1, int(found.group(4)))
    except ValueError:
        return None


# "DOB: 14/07/1978", "Date of birth - 3 February 1950", "born 03/02/1955" (a label first: an
# obstetric letter's "baby born 03/12/2026" is not the patient's birth)
_BORN_LABEL = re.compile(r"\b(?:DOB|D\.O\.B\.?|date\s+of\s+birth)\s*[:\-]?\s*", re.I)
_BORN = re.compile(r"\bborn\s*[:\-]?\s*", re.I)
# an age given for an event ("Tonsillectomy aged 7", "an appendicectomy at the age of 12", "a
# laparoscopic appendicectomy at 14 and is otherwise well": a bare number after "at" that ends its
# clause or is given in years; not "at 14:00", "at 14 weeks" or "at 36 cm")
AGE = re.compile(r"\b(?:aged|at\s+(?:the\s+)?age(?:\s+of)?|at(?=\s+\d{1,2}(?:\s*(?:years?|yrs?)\b|\s*[,.;)]|\s+and\b)))"
                 r"\s+(\d{1,3})\b(?!\s*(?:months?|weeks?|days?)\b)", re.I)
# an age in days, weeks or months ("his VP shunt inserted at three weeks of age", "circumcision aged
# 6 months"); "at 32 weeks" alone is a pregnancy's gestation, not an age
_COUNTS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
AGE_SPAN = re.compile(r"\b(?:aged\s+(\d{1,3}|%s)\s+(days?|weeks?|months?)\b|at\s+(\d{1,3}|%s)\s+(days?|weeks?|months?)"
                      r"\s+of\s+age\b)" % ("|".join(_COUNTS), "|".join(_COUNTS)), re.I)


def _date_after(label: re.Pattern, text: str) -> date | None:
    """The first full date written straight after a ``label`` ("DOB:", "Admitted")."""
    for where in label.finditer(text):
        found = DATE.match(text, where.end())
        if found:
            return as_date(found)
    return None


def birth_date(text: str) -> date | None:
    """The patient's date of birth, where the letter gives it in full."""
    return _date_after(_BORN_LABEL, text) or _date_after(_BORN, text)


def age_end(found: re.Match, born: date) -> date | None:
    """The last day of the year of life an :data:`AGE` match gives (None for an impossible date)."""
    years = int(found.group(1)) + 1
    try:
        return date(born.year + years, born.month, born.day if (born.month, born.day) != (2, 29) else 28) \
            - timedelta(days=1)
    except ValueError:
        return None


def age_span_end(found: re.Match, born: date) -> date | None:
    """The last day of the day, week or month of life an :data:`AGE_SPAN` match gives."""
    count, unit = (found.group(1), found.group(2)) if found.group(1) else (found.group(3), found.group(4))
    n = int(count) if count.isdigit() else _COUNTS.index(count.lower()) + 1
    unit = unit.lower().rstrip("s")
    if unit == "day":
        return born + timedelta(days=n)
    if unit == "week":
        return born + timedelta(days=7 * (n + 1) - 1)
    months = born.month - 1 + n + 1
    year, month = born.year + months // 12, months % 12 + 1
    return date(year, month, min(born.day, calendar.monthrange(year, month)[1])) - timedelta(days=1)


def admission_date(text: str) -> date | None:
    """The date the letter says the patient was admitted, if it gives one with its year."""
    return _date_after(_ADMITTED, text)


def day_in(found: re.Match, year: int) -> date | None:
    """The calendar date of a :data:`DAY_MONTH` match in ``year`` (None for an impossible one)."""
    try:
        return date(year, _MONTHS.index(found.group(2).lower()[:3]) + 1, int(found.group(1)))
    except ValueError:
        return None


def month_end(found: re.Match) -> date | None:
    """The last day of a :data:`MONTH_YEAR` match (None for a month that is not one: 13/2025)."""
    month, year = int(found.group(1)), int(found.group(2))
    return date(year, month, calendar.monthrange(year, month)[1]) if 1 <= month <= 12 else None


def period_end(found: re.Match, year: int) -> date:
    """The last day of a :data:`PERIOD` match; a month without a year is taken in ``year``."""
    month_name, stated_year, bare_month = found.groups()
    if stated_year:
        year = int(stated_year)
        if not month_name:
            return date(year, 12, 31)
    month = _MONTHS.index((month_name or bare_month).lower()[:3]) + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def date_of(text: str, start: int, end: int, lo: int, hi: int, year: int | None = None,
            born: date | None = None) -> date | None:
    """The date nearest the words ``start``-``end`` within ``lo``-``hi`` (their sentence), if one
    stands within :data:`NEAR_CHARS` of them. With ``year`` (the admission's), a period also
    counts ("in 2014", "in January", a year alone: "right 2019"), and with ``born`` an age
    ("aged 7"), each as its last day: a period that ends before a day is before it. With
    ``year``, a day and month without a year ("on 30 June") is taken in it. A date the words lead straight to ("colectomy on 12/05/2025,
    closure of colostomy on 04/09/2025") is theirs, however near another stands."""
    best, gap = None, NEAR_CHARS + 1
    found_dates = [(f, as_date(f)) for f in DATE.finditer(text, lo, hi)]
    found_dates += [(f, month_end(f)) for f in MONTH_YEAR.finditer(text, lo, hi)]
    if year is not None:
        found_dates += [(f, period_end(f, year)) for f in PERIOD.finditer(text, lo, hi)]
        found_dates += [(f, day_in(f, year)) for f in DAY_MONTH.finditer(text, lo, hi)]
        found_dates += [(f, date(int(f.group(1)), 12, 31)) for f in BARE_YEAR.finditer(text, lo, hi)]
    if born is not None:
        found_dates += [(f, age_end(f, born)) for f in AGE.finditer(text, lo, hi)]
        found_dates += [(f, age_span_end(f, born)) for f in AGE_SPAN.finditer(text, lo, hi)]
    for found, when in found_dates:
        if found.start() >= end:  # a date the words lead to ("colectomy on 12/05/2025") is theirs
            distance = 0 if _LEADS_TO.fullmatch(text, end, found.start()) else found.start() - end
        else:
            distance = start - found.end()
        if 0 <= distance < gap:
            best, gap = when, distance
    return best
