"""Letters as hospitals export them (clincoder.documents, through clincoder.io): UTF-16 and
Windows-1252 text, RTF, DOCX, HTML and PDF, each built here as a tiny fixture."""

from __future__ import annotations

import json
import logging
from io import BytesIO

import docx
import pytest
from pypdf import PdfWriter

from clincoder.batch import run_batch
from clincoder.core.schema import CodeSuggestion, Evidence, LetterResult
from clincoder.documents import DocumentError, extract
from clincoder.io import check_text, count_letters, iter_letters

LETTER = "Discharge summary\nDiagnosis: NSTEMI\nProcedure: PCI\n"

RTF = (r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Arial;}}\f0\pard Discharge summary\par "
       r"Diagnosis: community-acquired pneumonia\par Temperature 38.5\'b0C, caf\'e9 au lait spots\par}")
RTF_TEXT = "Discharge summary\nDiagnosis: community-acquired pneumonia\nTemperature 38.5\u00b0C, caf\u00e9 au lait spots\n"

HTML = b"""<!DOCTYPE html>
<html><head><title>Letter 7</title><style>p { color: red }</style>
<script>var note = "<p>hidden AKI</p>";</script></head>
<body><h1>Discharge   summary</h1>
<p>Diagnosis: <b>NSTEMI</b>&nbsp;&amp; T2DM</p>
<table><tr><th>Drug</th><th>Dose</th></tr><tr><td>Aspirin</td><td>75 mg</td></tr></table>
<p>Seen by<br>cardiology</p><!-- a comment --></body></html>"""
HTML_TEXT = "Discharge summary\nDiagnosis: NSTEMI & T2DM\nDrug\nDose\nAspirin\n75 mg\nSeen by\ncardiology"

DOCX_TEXT = "Discharge summary\nDiagnosis\nNSTEMI\nProcedure\nPCI\nSeen by cardiology\nFollow up in clinic."
PDF_TEXT = "Discharge summary\nDiagnosis: NSTEMI\nProcedure: PCI"


def pdf_with_text(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer is ``lines`` (Helvetica, one line each), built by hand
    with a correct cross-reference table."""
    ops = ["BT /F1 12 Tf 72 720 Td"] + [f"({line}) Tj 0 -16 Td" for line in lines] + ["ET"]
    stream = "\n".join(ops).encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    buf = BytesIO()
    writer.write(buf)
    return buf.getvalue()


def docx_letter() -> bytes:
    """Paragraphs around a table whose last row is one cell merged across both columns."""
    document = docx.Document()
    document.add_paragraph("Discharge summary")
    table = document.add_table(rows=3, cols=2)
    for row, (label, value) in enumerate([("Diagnosis", "NSTEMI"), ("Procedure", "PCI")]):
        table.cell(row, 0).text, table.cell(row, 1).text = label, value
    table.cell(2, 0).merge(table.cell(2, 1)).text = "Seen by cardiology"
    document.add_paragraph("Follow up in clinic.")
    buf = BytesIO()
    document.save(buf)
    return buf.getvalue()


# ---- each format -------------------------------------------------------------------------------

@pytest.mark.parametrize("codec,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_utf16_with_bom(tmp_path, codec, bom):
    p = tmp_path / "utf16.txt"
    p.write_bytes(bom + LETTER.encode(codec))
    [letter] = iter_letters([p])
    assert (letter.text, letter.error) == (LETTER, None)


def test_utf16_with_a_broken_body_is_an_error():
    text, err = check_text(b"\xff\xfe" + "AKI".encode("utf-16-le") + b"\x00", max_bytes=100)
    assert text is None and "UTF-16 LE byte-order mark but is not valid UTF-16 LE" in err


def test_windows_1252_pound_and_e_acute(tmp_path, caplog):
    p = tmp_path / "cp1252.txt"
    p.write_bytes(b"Private patient, fee \xa3120. Caf\xe9 au lait spots.\n")
    with caplog.at_level(logging.INFO, logger="clincoder.io"):
        [letter] = iter_letters([p])
    assert (letter.text, letter.error) == ("Private patient, fee \u00a3120. Caf\u00e9 au lait spots.\n", None)
    assert "letter cp1252: not valid utf-8; read as cp1252" in caplog.text
    assert "Caf" not in caplog.text and "fee" not in caplog.text  # logs carry the id, never the text


def test_utf8_is_not_mistaken_for_windows_1252():
    doc = extract("Fee \u00a3120, caf\u00e9".encode("utf-8"), ".txt")
    assert (doc.text, doc.encoding, doc.fallback) == ("Fee \u00a3120, caf\u00e9", "utf-8", False)


def test_rtf():
    assert extract(RTF.encode("ascii"), ".rtf").text == RTF_TEXT


def test_rtf_suffix_on_plain_text_is_an_error():
    with pytest.raises(DocumentError, match=r"not an RTF document"):
        extract(b"Discharge summary", ".rtf")


def test_docx_paragraphs_and_table_cells_in_document_order():
    assert extract(docx_letter(), ".docx").text == DOCX_TEXT


def test_html_visible_text_only():
    doc = extract(HTML, ".html")
    assert doc.text == HTML_TEXT
    assert "hidden AKI" not in doc.text and "Letter 7" not in doc.text and "color" not in doc.text


def test_html_pre_keeps_its_lines():
    assert extract(b"<p>Obs:</p><pre>BP 120/80\nHR  72</pre>", ".htm").text == "Obs:\nBP 120/80\nHR 72"


def test_pdf_text_layer():
    assert extract(pdf_with_text(PDF_TEXT.split("\n")), ".pdf").text == PDF_TEXT


def test_scanned_pdf_needs_ocr():
    with pytest.raises(DocumentError) as exc:
        extract(blank_pdf(), ".pdf")
    assert "scanned PDF with no text layer" in str(exc.value) and "needs OCR first" in str(exc.value)


@pytest.mark.parametrize("suffix,raw,message", [
    (".pdf", b"NSTEMI, not a PDF", "cannot read PDF: the file is damaged or not a PDF"),
    (".docx", b"PK\x03\x04 Diagnosis: NSTEMI", "cannot read DOCX: the file is damaged or not a Word .docx"),
    (".docx", b"Diagnosis: NSTEMI", "cannot read DOCX"),
])
def test_damaged_documents_are_errors_that_quote_no_text(suffix, raw, message, caplog):
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(DocumentError, match=message) as exc:
            extract(raw, suffix)
    assert "NSTEM" not in str(exc.value) and "NSTEM" not in caplog.text  # pypdf's warnings quote the bytes


def test_unknown_configured_encoding_is_an_error():
    with pytest.raises(DocumentError, match="unknown encoding 'utf-9' in the config"):
        extract(b"AKI", ".txt", encoding="utf-9")


# ---- a folder of everything --------------------------------------------------------------------

def letters_folder(folder):
    files = {
        "le.txt": b"\xff\xfe" + LETTER.encode("utf-16-le"), "be.txt": b"\xfe\xff" + LETTER.encode("utf-16-be"),
        "w1252.txt": b"Fee \xa3120. Caf\xe9.\n", "notes.rtf": RTF.encode("ascii"), "word.docx": docx_letter(),
        "page.html": HTML, "typed.pdf": pdf_with_text(PDF_TEXT.split("\n")), "scan.pdf": blank_pdf(),
        "twin.pdf": pdf_with_text(["Diagnosis: AF"]), "twin.txt": b"Diagnosis: AF\n", "readme.md": b"not a letter",
    }
    folder.mkdir()
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    return folder


def test_folder_with_every_format_yields_one_record_each(tmp_path):
    folder = letters_folder(tmp_path / "letters")
    letters = list(iter_letters([folder]))
    assert count_letters([folder]) == len(letters) == 10
    assert [x.id for x in letters] == ["be", "le", "notes", "page", "scan", "twin",
                                       f"twin#dup:{folder / 'twin.txt'}", "typed", "w1252", "word"]
    got = {x.id: x for x in letters}
    assert got["le"].text == got["be"].text == LETTER
    assert got["w1252"].text == "Fee \u00a3120. Caf\u00e9.\n"
    assert (got["notes"].text, got["page"].text, got["word"].text, got["typed"].text) == (
        RTF_TEXT, HTML_TEXT, DOCX_TEXT, PDF_TEXT)
    assert got["scan"].text is None and "scanned PDF with no text layer" in got["scan"].error
    assert got["twin"].text == "Diagnosis: AF" and got["twin"].source == str(folder / "twin.pdf")
    dup = got[f"twin#dup:{folder / 'twin.txt'}"]
    assert dup.text is None and f"duplicate id 'twin' (already read earlier in this batch, from {folder / 'twin.pdf'})" \
        in dup.error
    assert [x.id for x in letters if x.error] == ["scan", f"twin#dup:{folder / 'twin.txt'}"]


def test_size_limit_applies_to_the_file_not_the_extracted_text(tmp_path):
    p = tmp_path / "word.docx"
    p.write_bytes(docx_letter())
    size = p.stat().st_size
    [letter] = iter_letters([p], max_bytes=size - 1)
    assert letter.text is None and f"letter is {size:,} bytes, over the {size - 1:,}-byte limit" in letter.error
    [ok] = iter_letters([p], max_bytes=size)
    assert ok.text == DOCX_TEXT


def test_evidence_offsets_index_into_the_extracted_text(tmp_path):
    """The coder receives the extracted text, so its offsets are offsets into that text."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "page.html").write_bytes(HTML)

    def code(letter):
        start = letter.text.index("NSTEMI")
        ev = Evidence(start, start + 6, letter.text[start:start + 6])
        return LetterResult(letter.id, "uk", codes=(
            CodeSuggestion("ICD-10", "I21.4", "NSTEMI", 1, "primary", 0.9, evidence=(ev,)),))

    out = tmp_path / "coded.jsonl"
    run_batch([folder], out, code, progress=False)
    [rec] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    [ev] = rec["codes"][0]["evidence"]
    assert HTML_TEXT[ev["start"]:ev["end"]] == ev["text"] == "NSTEMI"
    assert ev["start"] == HTML_TEXT.index("NSTEMI") != HTML.decode().index("NSTEMI")
