"""Reading letters (every input -> exactly one Letter) and writing results (clincoder.io)."""

from __future__ import annotations

import csv
import json

import pytest

from clincoder.core.codiesp import codiesp_code, write_codiesp
from clincoder.io import CSV_FIELDS, check_text, count_letters, iter_letters, read_records, write_csv
from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult

PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
CP1252_LETTER = b"Diagnosis: \x93chest pain\x94 \x96 ACS ruled out.\n"
NEITHER_LETTER = b"Diagnosis: \x81chest pain.\n"  # 0x81: not UTF-8, and undefined in Windows-1252
CP1251_LETTER = "\u0414\u0438\u0430\u0433\u043d\u043e\u0437: \u043f\u043d\u0435\u0432\u043c\u043e\u043d\u0438\u044f.\n".encode("cp1251")


def _by_id(letters):
    return {x.id: x for x in letters}


# ---- inputs ------------------------------------------------------------------------------------

def test_single_txt_file(tmp_path):
    p = tmp_path / "letter-7.txt"
    p.write_text("Primary diagnosis: LRTI.\n", encoding="utf-8")
    [letter] = iter_letters([p])
    assert (letter.id, letter.text, letter.error, letter.source) == ("letter-7", "Primary diagnosis: LRTI.\n", None, str(p))


def test_utf8_bom_is_stripped(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbfAKI stage 2.")
    [letter] = iter_letters([p])
    assert letter.text == "AKI stage 2."


def test_directory_is_read_recursively_in_name_order_txt_only(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.txt").write_text("COPD", encoding="utf-8")
    (tmp_path / "a.txt").write_text("T2DM", encoding="utf-8")
    (tmp_path / "sub" / "c.TXT").write_text("AF", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a letter", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("editor swap", encoding="utf-8")
    letters = list(iter_letters([tmp_path]))
    assert [x.id for x in letters] == ["a", "b", "c"]
    assert [x.text for x in letters] == ["T2DM", "COPD", "AF"]
    assert count_letters([tmp_path]) == 3


def test_example_letters_are_readable(examples_dir):
    letters = list(iter_letters([examples_dir]))
    assert len(letters) == 6
    for letter in letters:
        assert letter.error is None
        assert 300 <= len(letter.text.split()) <= 550
        assert "Medications on discharge:" in letter.text and "Allergies:" in letter.text
        assert "fictional" not in letter.text.lower()
    text = " ".join(x.text for x in letters)
    for term in ("NSTEMI", "PCI", "T2DM", "AF", "#NOF", "hemiarthroplasty", "COPD", "LRTI", "type 2 respiratory failure",
                 "AKI", "CKD", "cholecystectomy", "OGD", "no evidence of PE", "ruled out", "?Pneumonia",
                 "Query early sepsis", "Mother had breast cancer", "Family history:", "Left", "right"):
        assert term in text, term


def test_jsonl_with_malformed_line_and_missing_id(tmp_path):
    p = tmp_path / "batch.jsonl"
    p.write_text("\n".join([
        json.dumps({"id": "j1", "text": "NSTEMI treated with PCI."}),
        '{"id": "j2", "text": "truncated',
        json.dumps({"text": "no id here"}),
        "",
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": 42, "text": "numeric id"}),
        json.dumps({"id": "j6"}),
        json.dumps({"id": "j7", "text": "   "}),
    ]) + "\n", encoding="utf-8")
    letters = list(iter_letters([p]))
    assert len(letters) == 7  # the blank line is not an input
    got = _by_id(letters)
    assert got["j1"].text == "NSTEMI treated with PCI." and got["j1"].error is None
    assert got["batch:2"].text is None and "malformed JSON on line 2" in got["batch:2"].error
    assert "line 3 has no 'id' field" in got["batch:3"].error
    assert "line 5 has no 'id' field" in got["batch:5"].error
    assert got["42"].text == "numeric id"
    assert "missing or not a string" in got["j6"].error
    assert "empty letter" in got["j7"].error
    assert got["batch:2"].source == f"{p}:2"
    assert count_letters([p]) == 7


def test_csv_input(fixtures_dir):
    letters = list(iter_letters([fixtures_dir / "letters.csv"]))
    assert [x.id for x in letters] == ["c1", "c2"]
    assert letters[1].text == "Left #NOF, treated with hemiarthroplasty." and letters[1].error is None
    assert count_letters([fixtures_dir / "letters.csv"]) == 2


def test_csv_with_missing_columns_is_one_error_record(tmp_path):
    p = tmp_path / "wrong.csv"
    p.write_text("letter_id,body\n1,COPD\n2,AF\n", encoding="utf-8")
    [letter] = iter_letters([p])
    assert letter.id == "wrong" and letter.text is None
    assert "CSV needs 'id' and 'text' columns" in letter.error and "letter_id" in letter.error


def test_csv_with_empty_text_cell(tmp_path):
    p = tmp_path / "some.csv"
    p.write_text('id,text\nok,"HTN, T2DM"\nblank,\n', encoding="utf-8")
    got = _by_id(iter_letters([p]))
    assert got["ok"].text == "HTN, T2DM"
    assert got["blank"].text is None and "empty letter" in got["blank"].error


@pytest.mark.parametrize("name,content,message", [
    ("empty.txt", b"", "empty letter"),
    ("blank.txt", b"  \n\t\n", "empty letter"),
    ("scan.txt", PNG_BYTES, "binary file"),
    ("nul.txt", b"Discharge summary\x00\x00\x00\x01\x02", "binary file"),
    ("neither.txt", NEITHER_LETTER, "not valid utf-8 text (byte 11), nor Windows-1252 text"),
])
def test_unreadable_files_become_error_records(tmp_path, name, content, message):
    p = tmp_path / name
    p.write_bytes(content)
    [letter] = iter_letters([p])
    assert letter.id == p.stem and letter.text is None
    assert message in letter.error


def test_windows_1252_is_read_when_not_utf8(tmp_path):
    p = tmp_path / "cp1252.txt"
    p.write_bytes(CP1252_LETTER)
    [letter] = iter_letters([p])
    assert letter.error is None and letter.text == "Diagnosis: \u201cchest pain\u201d \u2013 ACS ruled out.\n"


def test_undecodable_error_says_how_to_fix_it(tmp_path):
    p = tmp_path / "cp1251.txt"
    p.write_bytes(CP1251_LETTER)  # Cyrillic: mostly non-ASCII bytes, so not taken for Windows-1252
    [letter] = iter_letters([p])
    assert letter.text is None and "iconv" in letter.error and "byte 0" in letter.error
    [ok] = iter_letters([p], encoding="cp1251")  # with the right encoding configured it reads
    assert ok.error is None and ok.text.startswith("\u0414\u0438\u0430\u0433\u043d\u043e\u0437")


def test_five_megabyte_file_is_rejected_without_coding(tmp_path):
    p = tmp_path / "huge.txt"
    p.write_bytes(b"Patient is well. " * (5 * 1024 * 1024 // 17 + 1))
    assert p.stat().st_size >= 5 * 1024 * 1024
    [letter] = iter_letters([p])
    assert letter.text is None and "over the 1,000,000-byte limit" in letter.error
    [ok] = iter_letters([p], max_bytes=10 * 1024 * 1024)
    assert ok.error is None


def test_check_text_limits():
    assert check_text(b"x" * 11, max_bytes=10)[1].startswith("letter is 11 bytes")
    assert check_text("AKI \u2013 stage 2".encode(), max_bytes=100) == ("AKI \u2013 stage 2", None)


def test_oversized_jsonl_text_is_an_error(tmp_path):
    p = tmp_path / "big.jsonl"
    p.write_text(json.dumps({"id": "big", "text": "word " * 100}) + "\n", encoding="utf-8")
    [letter] = iter_letters([p], max_bytes=100)
    assert letter.text is None and "100-byte limit" in letter.error


def test_missing_input_is_an_error_record(tmp_path):
    [letter] = iter_letters([tmp_path / "nope.txt"])
    assert letter.id == "nope" and "does not exist" in letter.error


def test_duplicate_ids_become_error_records(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "letter.txt").write_text("COPD", encoding="utf-8")
    (tmp_path / "b" / "letter.txt").write_text("AF", encoding="utf-8")
    jl = tmp_path / "more.jsonl"
    jl.write_text(json.dumps({"id": "letter", "text": "HTN"}) + "\n", encoding="utf-8")
    letters = list(iter_letters([tmp_path / "a", tmp_path / "b", jl]))
    assert len(letters) == 3
    assert letters[0].id == "letter" and letters[0].text == "COPD"
    for dup in letters[1:]:
        assert dup.id.startswith("letter#dup:") and dup.text is None
        assert "duplicate id 'letter'" in dup.error
    assert len({x.id for x in letters}) == 3  # ids stay unique, so each gets its own output record


def test_one_letter_per_input_across_mixed_inputs(tmp_path, fixtures_dir):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "bin.txt").write_bytes(PNG_BYTES)
    inputs = [fixtures_dir / "letters", fixtures_dir / "letters.jsonl", fixtures_dir / "letters.csv", tmp_path]
    letters = list(iter_letters(inputs))
    assert len(letters) == count_letters(inputs) == 2 + 2 + 2 + 2
    assert sum(x.error is not None for x in letters) == 2


# ---- writers -----------------------------------------------------------------------------------

def _s(system, code, rank, role="secondary", score=0.9, evidence=()):
    return CodeSuggestion(system, code, f"title of {code}", rank, role, score, evidence=evidence)


@pytest.fixture
def us_records():
    return [
        LetterResult("doc1", "us",
                     codes=(_s("ICD-10-CM", "T81.4XXA", 1, "primary"), _s("ICD-10-PCS", "0DTJ4ZZ", 2, "primary"),
                            _s("ICD-10-CM", "E11.9", 3)),
                     candidates=(_s("ICD-10-CM", "T81.4XXD", 4, "candidate", 0.3),  # same CodiEsp code as rank 1
                                 _s("ICD-10-PCS", "BW03ZZZ", 5, "candidate", 0.2),
                                 _s("ICD-10-CM", "I10", 6, "candidate", 0.1))),
        LetterResult.failed("doc2", "us", "binary file, not text"),
        LetterResult("doc3", "us", codes=(_s("ICD-10-PCS", "BW03", 1, "primary"),)),
    ]


@pytest.mark.parametrize("system,code,expected", [
    ("ICD-10-CM", "T81.4XXA", "t81.4xx"), ("ICD-10-CM", "S72.001A", "s72.001"), ("ICD-10-CM", "E11.9", "e11.9"),
    ("ICD-10-CM", "I10", "i10"), ("ICD-10-PCS", "0DTJ4ZZ", "0dtj4zz"), ("ICD-10-PCS", "BW03", "bw03"),
])
def test_codiesp_code(system, code, expected):
    assert codiesp_code(system, code) == expected


def test_codiesp_writer(tmp_path, us_records):
    d, p = write_codiesp(us_records, tmp_path / "out" / "dev_")
    assert (d.name, p.name) == ("dev_D.tsv", "dev_P.tsv")
    d_rows = [line.split("\t") for line in d.read_text(encoding="utf-8").splitlines()]
    p_rows = [line.split("\t") for line in p.read_text(encoding="utf-8").splitlines()]
    # diagnoses and procedures in their own files, best first, lower case, 7th character dropped, deduplicated
    assert d_rows == [["doc1", "t81.4xx"], ["doc1", "e11.9"], ["doc1", "i10"]]
    assert p_rows == [["doc1", "0dtj4zz"], ["doc1", "bw03zzz"], ["doc3", "bw03"]]
    assert not any(r[0] == "doc2" for r in d_rows + p_rows)  # an error record has no codes


def test_csv_writer(tmp_path):
    ev = (Evidence(0, 6, "NSTEMI"), Evidence(20, 23, "PCI"))
    records = [
        LetterResult("l1", "uk", codes=(_s("ICD-10", "I21.4", 1, "primary", 0.87654, ev), _s("OPCS-4", "K75.1", 2)),
                     candidates=(_s("ICD-10", "I10", 3, "candidate", 0.2),)),
        LetterResult("l2", "uk"),
        LetterResult.failed("l3", "uk", "empty letter: no text to code"),
    ]
    path = write_csv(records, tmp_path / "nested" / "out.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == CSV_FIELDS
    assert [(r["id"], r["code"]) for r in rows] == [("l1", "I21.4"), ("l1", "K75.1"), ("l2", ""), ("l3", "")]
    assert rows[0]["system"] == "ICD-10" and rows[0]["role"] == "primary"
    assert rows[0]["score"] == "0.8765" and rows[0]["evidence"] == "0-6 | 20-23"
    assert rows[3]["error"] == "empty letter: no text to code"


def test_read_records_round_trip(tmp_path, us_records):
    p = tmp_path / "records.jsonl"
    p.write_text("".join(r.to_json() + "\n" for r in us_records) + "\n", encoding="utf-8")
    assert read_records(p) == us_records
