"""A letter file's bytes -> the text the coder reads, for the formats hospitals export.

Plain text (UTF-8 with or without a byte-order mark, UTF-16 with one, or Windows-1252), RTF,
Word ``.docx``, HTML and the text layer of PDFs. The text returned here is the letter as far as
the rest of clincoder is concerned: evidence offsets index into it, never into the file.

A file that cannot be turned into text raises :class:`DocumentError`, whose message says what
is wrong and what to do. Messages name the format and, for parser failures, the exception's
type only: batch logs print them, and logs never carry letter text.
"""

from __future__ import annotations

import codecs
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from io import BytesIO
from typing import Callable, Iterator

TEXT_SUFFIXES = frozenset({".txt", ".text"})  # with READERS' suffixes, what a folder is read for
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
FALLBACK_ENCODING = "cp1252"
# Western European letters in Windows-1252 have a few accented letters, pound signs and curly
# quotes per hundred bytes. Where more of the bytes than this are non-ASCII, the file is in
# some other legacy code page (Cyrillic, Greek, CJK) that Windows-1252 would turn into mojibake.
MAX_HIGH_BYTE_SHARE = 0.3
MAX_CONTROL_SHARE = 0.05  # control characters (other than tab, newlines, form feed) in a text file
SAMPLE = 8192
SCANNED_PDF = ("scanned PDF with no text layer: the letter needs OCR first (e.g. `ocrmypdf --force-ocr "
               "in.pdf out.pdf`), or export it from the source system as text, .docx or a text PDF")


class DocumentError(ValueError):
    """A letter file that cannot be turned into text; the message tells the user what to do."""


@dataclass(frozen=True)
class Extracted:
    """A letter's text as the coder reads it, and how it was read.

    ``encoding`` is the character encoding the bytes were decoded with (None for DOCX and PDF,
    which carry their own); ``fallback`` is True when the bytes were not valid in the configured
    encoding and were read as Windows-1252 instead.
    """

    text: str
    format: str
    encoding: str | None = None
    fallback: bool = False


def extract(raw: bytes, suffix: str, encoding: str = "utf-8") -> Extracted:
    """The text of a letter file, chosen by its suffix; anything but RTF, DOCX, HTML and PDF
    is read as plain text in ``encoding``. Raises :class:`DocumentError`."""
    reader = READERS.get(suffix.lower(), read_plain)
    return reader(raw, encoding)


# ---- plain text ------------------------------------------------------------------------------

def read_plain(raw: bytes, encoding: str = "utf-8") -> Extracted:
    """Plain text: a byte-order mark decides the encoding; otherwise ``encoding``, then
    Windows-1252 when the configured encoding is UTF-8 and the bytes look like text."""
    for bom, codec in BOMS:
        if raw.startswith(bom):
            return Extracted(_decode_marked(raw[len(bom):], codec), "text", codec)
    try:
        configured = codecs.lookup(encoding).name
    except LookupError as exc:
        raise DocumentError(f"unknown encoding {encoding!r} in the config; use a Python codec name such as "
                            f"utf-8 or cp1252") from exc
    if _looks_binary(raw[:SAMPLE].decode("latin-1")):
        raise DocumentError("binary file, not text (e.g. an image or an old .doc); save the letter as .txt, "
                            ".docx, .rtf, .html or .pdf")
    try:
        return Extracted(raw.decode(encoding), "text", encoding)
    except UnicodeDecodeError as exc:
        if configured != "utf-8" or not _looks_like_cp1252(raw):
            also = ", nor Windows-1252 text" if configured == "utf-8" else ""
            raise DocumentError(
                f"not valid {encoding} text (byte {exc.start}){also}; convert it to UTF-8, e.g. "
                f"`iconv -f <its encoding> -t UTF-8`, or set encoding in the config") from exc
    return Extracted(raw.decode(FALLBACK_ENCODING), "text", FALLBACK_ENCODING, fallback=True)


def _decode_marked(body: bytes, codec: str) -> str:
    name = codec.upper().replace("-LE", " LE").replace("-BE", " BE")
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise DocumentError(f"starts with a {name} byte-order mark but is not valid {name} (byte {exc.start}); "
                            f"save it again as UTF-8") from exc
    if _looks_binary(text[:SAMPLE]):
        raise DocumentError(f"starts with a {name} byte-order mark but holds binary data, not text; save the "
                            f"letter again as UTF-8 text")
    return text


def _looks_binary(sample: str) -> bool:
    """A NUL, or more control characters than text has (bytes come in as Latin-1: one per byte)."""
    controls = sum(c < "\t" or "\r" < c < " " for c in sample)
    return "\x00" in sample or bool(sample) and controls / len(sample) > MAX_CONTROL_SHARE


def _looks_like_cp1252(raw: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as Windows-1252 text: every byte is defined there,
    and non-ASCII bytes are the minority a Western European letter has."""
    try:
        raw.decode(FALLBACK_ENCODING)
    except UnicodeDecodeError:
        return False
    return sum(b >= 0x80 for b in raw) <= MAX_HIGH_BYTE_SHARE * len(raw)


# ---- RTF -------------------------------------------------------------------------------------

def read_rtf(raw: bytes, encoding: str = "utf-8") -> Extracted:
    """RTF through striprtf; its code page (``\\ansicpg``) decodes the escaped characters."""
    from striprtf.striprtf import rtf_to_text

    source = read_plain(raw, encoding)
    if not source.text.lstrip().startswith("{\\rtf"):
        raise DocumentError("not an RTF document (it does not start with {\\rtf); save the letter from the "
                            "word processor as Rich Text Format, or rename it .txt if it is plain text")
    try:
        text = rtf_to_text(source.text, errors="replace")
    except Exception as exc:  # striprtf fails in its own ways on damaged files
        raise DocumentError(f"cannot read RTF: the file is damaged ({type(exc).__name__}); open it in a word "
                            f"processor and save it again as .rtf or .docx") from exc
    return Extracted(text, "rtf", source.encoding, source.fallback)


# ---- DOCX ------------------------------------------------------------------------------------

def read_docx(raw: bytes, encoding: str = "utf-8") -> Extracted:
    """Word ``.docx``: paragraphs and table cells in document order, one per line (a cell
    merged across columns or rows once). Headers, footers and text boxes are not read."""
    import docx

    try:
        document = docx.Document(BytesIO(raw))
        lines = list(_docx_lines(document, set()))
    except Exception as exc:  # python-docx raises zip, XML and package errors
        raise DocumentError(f"cannot read DOCX: the file is damaged or not a Word .docx document "
                            f"({type(exc).__name__}); open it in Word and save it again as .docx") from exc
    return Extracted("\n".join(lines), "docx")


def _docx_lines(container, seen: set) -> Iterator[str]:
    """The lines of a document or table cell; ``seen`` holds the <w:tc> elements already read
    (the elements themselves: keeping them alive keeps lxml's proxies, and so their identity)."""
    from docx.table import Table

    for block in container.iter_inner_content():
        if not isinstance(block, Table):
            yield block.text
            continue
        for row in block.rows:
            for cell in row.cells:
                # python-docx repeats a merged cell once per grid column and row it spans; its
                # <w:tc> element (``_tc``) is the one identity those repeats share
                if cell._tc not in seen:
                    seen.add(cell._tc)
                    yield from _docx_lines(cell, seen)


# ---- HTML ------------------------------------------------------------------------------------

HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "title"})
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "center", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "ul"})


class VisibleText(HTMLParser):
    """The text a browser shows: scripts, styles and the title dropped, whitespace collapsed as
    HTML renders it (kept as line breaks inside ``<pre>``), each block element and each table
    cell on its own line, empty lines left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        self._enter(tag, 1)

    def handle_endtag(self, tag: str) -> None:
        self._enter(tag, -1)

    def _enter(self, tag: str, step: int) -> None:
        if tag in HIDDEN_TAGS:
            self._hidden = max(0, self._hidden + step)
        elif tag in BLOCK_TAGS:
            self.flush()
        if tag == "pre":
            self._pre = max(0, self._pre + step)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        parts = data.split("\n") if self._pre else [data]
        for n, part in enumerate(parts):
            if n:
                self.flush()
            self._line.append(part)

    def flush(self) -> None:
        line = " ".join("".join(self._line).split())
        if line:
            self.lines.append(line)
        self._line = []


def read_html(raw: bytes, encoding: str = "utf-8") -> Extracted:
    """HTML (``.html``/``.htm``): the visible text, decoded as plain text is."""
    source = read_plain(raw, encoding)
    parser = VisibleText()
    try:
        parser.feed(source.text)
        parser.close()
    except Exception as exc:  # html.parser is lenient, but a few malformed declarations still raise
        raise DocumentError(f"cannot read HTML: the page is malformed ({type(exc).__name__}); save it again "
                            f"from the browser or export the letter as text") from exc
    parser.flush()
    return Extracted("\n".join(parser.lines), "html", source.encoding, source.fallback)


# ---- PDF -------------------------------------------------------------------------------------

def read_pdf(raw: bytes, encoding: str = "utf-8") -> Extracted:
    """The text layer of a PDF, page by page (pages separated by a blank line). A PDF without
    one is a scan, which needs OCR before it can be coded."""
    from pypdf import PdfReader

    try:
        with _silenced("pypdf"):
            reader = PdfReader(BytesIO(raw))
            if reader.is_encrypted and not reader.decrypt(""):
                raise DocumentError("password-protected PDF: save an unprotected copy (or export the letter as "
                                    "text) and code that")
            pages = [(page.extract_text() or "").strip("\n") for page in reader.pages]
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises its own and stdlib errors on damaged files
        raise DocumentError(f"cannot read PDF: the file is damaged or not a PDF ({type(exc).__name__}); export "
                            f"the letter again as PDF or as text") from exc
    text = "\n\n".join(pages)
    if not text.strip():
        raise DocumentError(SCANNED_PDF)
    return Extracted(text, "pdf")


@contextmanager
def _silenced(name: str) -> Iterator[None]:
    """Mute a library's logger while it parses a letter: pypdf's warnings quote the file's
    bytes (``invalid pdf header: b'...'``), and logs never carry letter text."""
    logger = logging.getLogger(name)  # its modules' loggers ("pypdf._reader") inherit its level
    before = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(before)


# Each reader takes the file's bytes and the configured encoding (DOCX and PDF carry their own).
READERS: dict[str, Callable[[bytes, str], Extracted]] = {
    ".rtf": read_rtf, ".docx": read_docx, ".html": read_html, ".htm": read_html, ".pdf": read_pdf}
LETTER_SUFFIXES = TEXT_SUFFIXES | frozenset(READERS)
