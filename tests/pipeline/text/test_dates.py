"""Dates in a letter: the admission date, the date nearest an operation, and a procedure the
letter dates before the admission read as an earlier episode's."""

from __future__ import annotations

from datetime import date

import pytest

from clincoder.text.dates import admission_date, birth_date, date_of
from clincoder.text.pipeline import analyse


@pytest.mark.parametrize("text, admitted", [
    ("Admitted 16/10/2025, discharged 23/10/2025", date(2025, 10, 16)),
    ("Date of admission: 3 February 2026", date(2026, 2, 3)),
    ("Admission date - 03.02.26", date(2026, 2, 3)),
    ("Attended: 10/03/2026 (elective day case, 07:45 to 17:30)", date(2026, 3, 10)),
    ("Adm: 02/11/2025 via ED    D/C: 14/11/2025", date(2025, 11, 2)),
    ("Urology - Emergency Admission Discharge Summary\nAdmission: 21/04/2026", date(2026, 4, 21)),
    ("Date of admission, procedure and discharge: 12/05/2026 (day case)", date(2026, 5, 12)),
    ("Day case: 16/06/2025", date(2025, 6, 16)),
    ("Inpatient stay, Beckford Ward: 01/06/2026 to 10/06/2026", date(2026, 6, 1)),
    ("He was admitted on 12/03 with chest pain.", None),  # no year: no date
    ("Discharged 23/10/2025", None),
])
def test_the_admission_date(text, admitted):
    assert admission_date(text) == admitted


def test_the_date_nearest_the_operation_within_its_sentence():
    text = "An excision biopsy of a node as a day case on 06/10/2025, and he was admitted on 16/10/2025."
    a = text.index("excision biopsy")
    assert date_of(text, a, a + 15, 0, len(text)) == date(2025, 10, 6)
    assert date_of(text, a, a + 15, 0, text.index("06/10")) is None  # outside the sentence given


@pytest.mark.parametrize("operation, assertion", [
    ("He had an excision biopsy of a cervical lymph node as a day case on 06/10/2025.", "historical"),
    ("On 20/10/2025 a bone marrow aspirate and trephine biopsy was taken.", "present"),
    ("Laparoscopic right hemicolectomy 07/04/2025.", "historical"),
    # a day and month without the year: in the admission's year
    ("As you know, he had a transurethral resection of a bladder tumour on 30 September.", "historical"),
    ("On 18 October a bone marrow aspirate and trephine biopsy was taken.", "present"),
])
def test_a_procedure_dated_before_the_admission_is_an_earlier_episodes(operation, assertion):
    mentions = analyse("Admitted 16/10/2025, discharged 23/10/2025\n\n" + operation)
    assert [m.assertion for m in mentions if m.label == "PROCEDURE"][0] == assertion


def test_each_operation_of_a_sentence_is_dated_by_its_own_date():
    mentions = analyse("Attendance: 04/09/2025 (day case)\n\n"
                       "Laparoscopic sigmoid colectomy on 12/05/2025, closure of colostomy on 04/09/2025.")
    assert [m.assertion for m in mentions if m.label == "PROCEDURE"] == ["historical", "present"]


@pytest.mark.parametrize("text, ends", [
    ("Core biopsy (08/2025) showed", date(2025, 8, 31)),  # a month and its year: its last day
    ("Core biopsy 13/2025 showed", None),  # no month
    ("Core biopsy on 12/09/2025 showed", date(2025, 9, 12)),  # a full date, not its month and year
])
def test_a_month_and_year_counts_as_its_last_day(text, ends):
    assert date_of(text, 0, 4, 0, len(text)) == ends


@pytest.mark.parametrize("operation, assertion", [
    ("Apart from that she has CKD, and she had a right hip replacement in 2014 which still serves her well.",
     "historical"),
    ("A CT-guided biopsy at the regional centre in January showed an adenoma.", "historical"),
    ("A CT-guided biopsy at the regional centre in December showed an adenoma.", "present"),  # not before it
    ("A laparoscopic cholecystectomy was performed in October 2025 without complication.", "present"),  # this month
    ("We performed a laparoscopic cholecystectomy in October.", "present"),
])
def test_a_procedure_dated_by_a_period_before_the_admission(operation, assertion):
    mentions = analyse("Admitted 16/10/2025, discharged 23/10/2025\n\n" + operation)
    assert [m.assertion for m in mentions if m.label == "PROCEDURE"][0] == assertion


@pytest.mark.parametrize("text, year, ends", [
    ("a hip replacement in 2014 which", 2026, date(2014, 12, 31)),
    ("sampling in January lateralised", 2026, date(2026, 1, 31)),
    ("an ablation during Sept. 2023 for", 2026, date(2023, 9, 30)),
    ("which in may be", 2026, None),  # not a month
    ("a repair in 12 months", 2026, None),
])
def test_a_period_counts_as_its_last_day(text, year, ends):
    assert date_of(text, 0, 2, 0, len(text), year) == ends


@pytest.mark.parametrize("text, born", [
    ("Re: Mr X, DOB: 14/07/1978, NHS No: 999 000 0000", date(1978, 7, 14)),
    ("Date of birth - 3 February 1950", date(1950, 2, 3)),
    ("Mrs Joan TREVELYAN, born 03/02/1955, NHS No: 999 731 4452", date(1955, 2, 3)),
    ("Born in Leeds.", None),
])
def test_the_date_of_birth(text, born):
    assert birth_date(text) == born


@pytest.mark.parametrize("operation, assertion", [
    ("- Tonsillectomy aged 7.", "historical"),
    ("He had an appendicectomy at the age of 12.", "historical"),
    ("Laparoscopic cholecystectomy in a man aged 47.", "present"),  # his age now
    ("Circumcision aged 6 months.", "historical"),  # an age in months: the month of life ended long ago
    ("His VP shunt was inserted at three weeks of age.", "historical"),
    ("Delivered by caesarean section at 32 weeks.", "present"),  # a gestation, not an age
    ("He had a laparoscopic appendicectomy at 14 and is otherwise well.", "historical"),  # a bare age
    ("Laparoscopic cholecystectomy at 14:00, uneventful.", "present"),  # a time
    # a year written alone beside the operation
    ("- Bilateral phacoemulsification with intraocular lens implants, right 2019 and left 2020.", "historical"),
    ("- PMH: avulsion of L great toenail for ingrowing nail 2021 (no recurrence).", "historical"),
    ("Procedure 2026: laparoscopic cholecystectomy.", "present"),  # this year
    # the prosthesis a fracture lies around was put in before
    ("1. Vancouver B2 periprosthetic fracture of the left femur around a cemented total hip replacement.",
     "historical"),
    ("She has taken aspirin 75 mg and clopidogrel 75 mg since her PCI.", "historical"),  # counted from it
])
def test_a_procedure_dated_by_the_patients_age_then(operation, assertion):
    mentions = analyse("Re: Mr X, DOB: 14/07/1978\nAdmitted 03/03/2026, discharged 05/03/2026\n\n" + operation)
    assert [m.assertion for m in mentions if m.label == "PROCEDURE"][0] == assertion


def test_an_age_in_weeks_that_is_the_babys_age_now_dates_nothing_earlier():
    mentions = analyse("Re: Baby X, DOB: 01/02/2026\nAdmitted 03/03/2026, discharged 05/03/2026\n\n"
                       "Laparoscopic pyloromyotomy at four weeks of age.")
    assert [m.assertion for m in mentions if m.label == "PROCEDURE"][0] == "present"


def test_the_date_of_birth_is_the_labelled_one_before_a_birth_told_in_the_letter():
    from clincoder.text.dates import birth_date
    text = "Baby born 03/12/2026 by caesarean section.\nMother: Miss Chloe Randall, DOB 11/09/1999\n"
    assert birth_date(text) == date(1999, 9, 11)
    assert birth_date("Born: 14/09/2026 at 28+2 weeks\n") == date(2026, 9, 14)
