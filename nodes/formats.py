"""Rich documents to text: the bytes of a PDF, Word, PowerPoint, Excel, HTML or EPUB file in, its text and
its sections (pages, headings, slides, sheets, chapters) out. `load_document` reads such files through it.

    extracted = extract(Path("report.pdf").read_bytes(), ".pdf")
    extracted.sections == [{"start": 0, "label": "page 1"}, {"start": 1834, "label": "page 2"}, ...]

A section runs from its `start` (a char offset into the text) to the next one's. Each reader uses the light
library that knows its format, installed with `pip install 'longflow[docs]'`: pypdf, python-docx,
python-pptx, openpyxl, beautifulsoup4 (with lxml) and ebooklib. The files are untrusted: whatever a library
raises becomes a FormatError whose message names the problem and the fix, zip containers (docx, pptx, xlsx,
epub) are measured before a library unpacks them, and a spreadsheet is read cell by cell within a budget.
"""
from __future__ import annotations

import importlib
import io
import logging
import re
import threading
import warnings
import zipfile
from contextlib import contextmanager
from typing import Callable, Iterator, NamedTuple, TypedDict


class Section(TypedDict):
    start: int       # char offset into the document's text where the section begins
    label: str       # "page 3", "slide 2", "sheet Budget", "section Results", "Chapter One"


class Extracted(NamedTuple):
    text: str                # line ends are "\n": offsets stay valid after load_document normalises it
    sections: list[Section]  # sorted by start
    notes: list[str]         # what the record should say (pages without text, the encoding guessed...)


class FormatError(ValueError):
    """A rich document that cannot be read; the message completes "<file> ...", saying why and what to do."""


DOCS_EXTRA = "pip install 'longflow[docs]'"
MAX_LABEL_CHARS = 80
# A zip whose members unpack to more than ZIP_RATIO times its size (and more than ZIP_FLOOR) is a zip
# bomb, not a document: office XML compresses 5-10x, sparse spreadsheets more, a bomb 1,000x. Python's
# zipfile stops each member at its declared size, so the declared sizes are what has to be checked.
ZIP_RATIO, ZIP_FLOOR, ZIP_CEILING = 20, 100 * 2**20, 2 * 2**30
# A spreadsheet's rows are padded with empty cells up to their last filled one: a sheet that is mostly
# nothing (a format applied to a whole column, a stray cell at XFD1048576) costs time and gives no text.
MAX_CELLS, MAX_EMPTY_CELLS = 10_000_000, 1_000_000


def extract(data: bytes, suffix: str, encoding: str = "auto") -> Extracted:
    """The text and sections of a document in the format `suffix` names (one of RICH_SUFFIXES).
    `encoding` applies to HTML only ('auto': its byte-order mark or <meta charset>, else a guess)."""
    reader, kind, module = READERS[suffix]
    library = _library(module, suffix)
    try:
        # Libraries warn about what they skip (openpyxl: "Data Validation extension is not supported"):
        # the record's notes say it with the file named, rather than stderr without. (catch_warnings swaps
        # process-wide state; documents are loaded one at a time, and each file once.)
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            result = reader(library, data, encoding)
    except FormatError:
        raise
    except Exception as exc:       # a damaged file breaks libraries in any number of ways
        raise FormatError(f"is not a readable {kind} file ({_reason(exc)}); {_RESAVE[kind]}") from None
    said = dict.fromkeys(" ".join(str(w.message).split())[:200] for w in warned)
    result.notes.extend(f"{module} warned: {message}" for message in list(said)[:5])
    return result


def _library(module: str, suffix: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise FormatError(f"is a {suffix} file, and reading {suffix} files needs the `docs` extra "
                          f"({module} is not installed): {DOCS_EXTRA}") from None


def _reason(exc: Exception) -> str:
    message = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class _TextBuilder:
    """The text of a document, built line by line, and where its sections start. A section begins after a
    blank line, which the chunker takes for a sentence end, so chunks tend to end where sections do."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self.sections: list[Section] = []

    def section(self, label: str) -> None:
        self.end_block()
        label = " ".join(label.split())[:MAX_LABEL_CHARS]
        if self.sections and self.sections[-1]["start"] == self._size:
            self.sections[-1]["label"] = label   # the one before holds no text: it is dropped
        else:
            self.sections.append(Section(start=self._size, label=label))

    def add(self, text: str, end: str = "\n\n") -> None:
        """A line or paragraph (nothing when blank), followed by `end`."""
        text = _clean(text).strip("\n")
        if text.strip():
            self._put(text.rstrip() + end)

    def end_block(self) -> None:
        """A blank line after what came before (a table's rows, say), unless there is one."""
        if self._parts and not self._parts[-1].endswith("\n\n"):
            self._put("\n")

    def _put(self, text: str) -> None:
        self._parts.append(text)
        self._size += len(text)

    def result(self, notes: list[str] | None = None) -> Extracted:
        text = "".join(self._parts).rstrip() + "\n" if self._size else ""
        sections = [s for s in self.sections if s["start"] < len(text)]
        return Extracted(text, sections, notes or [])


_CONTROL = str.maketrans({"\r": "\n", "\v": "\n", "\f": "\n", "\x00": None, "\ufeff": None})


def _clean(text: str) -> str:
    """Line ends as "\\n" (python-pptx gives "\\v" for a line break, PDFs "\\r" and form feeds), no NULs and
    no byte-order marks: load_document's normalisation must leave the text, and so its offsets, as they are."""
    return text.replace("\r\n", "\n").translate(_CONTROL)


# -- PDF ----------------------------------------------------------------------------------------------

def _read_pdf(pypdf, data: bytes, encoding: str) -> Extracted:
    if b"%PDF-" not in data[:1024]:   # readers allow some junk before the header, not its absence
        raise FormatError("is not a PDF file: it does not start with %PDF- (another kind of file renamed, or "
                          "a web page saved in its place?); give the PDF itself")
    out, empty, failed, repairs = _TextBuilder(), [], [], []
    with _collected(logging.getLogger("pypdf"), repairs):
        try:
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                _decrypt(pypdf, reader)
            pages = list(reader.pages)
        except FormatError:
            raise
        except Exception as exc:   # what pypdf logged on the way ("EOF marker not found") says most
            said = f"; {'; '.join(dict.fromkeys(repairs))}" if repairs else ""
            raise FormatError(f"is not a readable PDF file ({_reason(exc)}{said}); {_RESAVE['PDF']}") from None
        for number, page in enumerate(pages, 1):
            try:
                text = page.extract_text() or ""
            except Exception:          # one damaged page costs that page, not the document
                failed.append(number)
                continue
            out.section(f"page {number}")
            out.add(text)
            if not text.strip():
                empty.append(number)
    result = out.result([f"{_pages(failed)} could not be read (damaged): skipped"] if failed else [])
    if repairs:
        result.notes.append(f"pypdf worked around damage: {'; '.join(sorted(set(repairs))[:5])}")
    if not result.text:
        raise FormatError("holds no text that can be extracted: a scanned PDF is a picture of its pages; "
                          "run OCR on it first (e.g. `ocrmypdf in.pdf out.pdf`) and give the result")
    if empty:
        result.notes.append(f"{_pages(empty)}: no text (scanned images or figures?), not read")
    return result


@contextmanager
def _collected(logger: logging.Logger, messages: list[str]) -> Iterator[None]:
    """Collect what `logger` and its children say from this thread (pypdf logs each repair of a damaged
    file) instead of letting Python print it to stderr as bare lines with no file named: it does that only
    when no handler at all is found, and this is one. Logging set up by the application still gets it."""
    thread = threading.get_ident()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread and len(messages) < 100:
                messages.append(" ".join(record.getMessage().split())[:200])
    handler = Collect(logging.WARNING)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _decrypt(pypdf, reader) -> None:
    """Open an encrypted PDF that needs no password to read (common: it restricts only printing or
    copying); one that does cannot be read."""
    try:
        opened = reader.decrypt("")
    except pypdf.errors.DependencyError:
        raise FormatError(f"is encrypted with AES, which pypdf reads with the cryptography package: "
                          f"{DOCS_EXTRA} (or pip install cryptography)") from None
    if not opened:
        raise FormatError("is protected by a password: save a copy without it (e.g. `qpdf --decrypt "
                          "--password=PASSWORD in.pdf out.pdf`) and give that")


def _pages(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:10])) + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
    return f"page {shown}" if len(numbers) == 1 else f"pages {shown}"


# -- zip containers: Word, PowerPoint, Excel, EPUB -----------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"   # old binary Office files, and password-protected new ones


def _check_zip(data: bytes, kind: str, suffix: str) -> None:
    """Fail with a message unless `data` is a zip archive of a sane unpacked size."""
    if kind in _APPS and data.startswith(_OLE_MAGIC):
        raise FormatError(f"is not a {suffix} file inside: it is an old binary Office file (.doc, .ppt, .xls) "
                          f"renamed, or a password-protected one; remove the password, or save it as {suffix} "
                          f"from {_APPS[kind]}, and give that")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise FormatError(f"is not {_AN[kind]} {kind} file: a {suffix} file is a zip archive, and this is not "
                          f"one (damaged, cut short, or another kind of file renamed); {_RESAVE[kind]}") from None
    limit = min(max(ZIP_RATIO * len(data), ZIP_FLOOR), ZIP_CEILING)
    if unpacked > limit:
        raise FormatError(f"would unpack to {unpacked / 2**20:,.0f} MB from {len(data) / 2**20:,.1f} MB "
                          f"({unpacked / max(len(data), 1):,.0f} times its size): not a real document but a "
                          f"zip bomb, or too large to read; up to {limit / 2**20:,.0f} MB are unpacked. "
                          f"Export its text (or save it as PDF) and give that")


# -- Word ---------------------------------------------------------------------------------------------

def _read_docx(docx, data: bytes, encoding: str) -> Extracted:
    _check_zip(data, "Word", ".docx")
    from docx.table import Table
    out = _TextBuilder()
    for block in docx.Document(io.BytesIO(data)).iter_inner_content():   # paragraphs and tables in order
        if isinstance(block, Table):
            _add_rows(out, ([cell.text for cell in _distinct_cells(row)] for row in block.rows))
            continue
        if _is_heading(block) and block.text.strip():
            out.section(f"section {block.text}")
            out.add(block.text, _HEADING_END)
        else:
            out.add(block.text)
    return out.result()


# A heading is followed by a line break, not a blank line: the chunker ends chunks at blank lines, and a
# chunk that ended just after the next section's heading would be labelled as running into that section.
_HEADING_END = "\n"


def _is_heading(paragraph) -> bool:
    """Title and Heading 1-3 start sections: deeper headings would cut a document into slivers. Word keeps
    the built-in style names in English whatever the language it shows them in."""
    name = (paragraph.style.name or "") if paragraph.style is not None else ""
    return name == "Title" or bool(re.fullmatch(r"Heading [123]", name))


def _distinct_cells(row) -> list:
    """A row's cells, a merged cell once (python-docx repeats it for every column it spans)."""
    seen, cells = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            cells.append(cell)
    return cells


def _add_rows(out: _TextBuilder, rows) -> None:
    """Table rows as tab-separated lines, a blank line after the table."""
    for cells in rows:
        out.add("\t".join(" ".join(str(c).split()) for c in cells), end="\n")
    out.end_block()


# -- PowerPoint ---------------------------------------------------------------------------------------

def _read_pptx(pptx, data: bytes, encoding: str) -> Extracted:
    _check_zip(data, "PowerPoint", ".pptx")
    out = _TextBuilder()
    for number, slide in enumerate(pptx.Presentation(io.BytesIO(data)).slides, 1):
        out.section(f"slide {number}")
        for shape in _shapes(slide.shapes):
            if shape.has_text_frame:
                out.add("\n".join(p.text for p in shape.text_frame.paragraphs))
            if getattr(shape, "has_table", False) and shape.has_table:
                _add_rows(out, ([cell.text for cell in row.cells] for row in shape.table.rows))
        notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        if notes is not None and notes.text.strip():
            out.add(f"Notes: {notes.text}")
    return out.result()


def _shapes(shapes) -> Iterator:
    """The shapes of a slide in order, those inside groups included (a stack: groups nest)."""
    stack = [iter(shapes)]
    while stack:
        shape = next(stack[-1], None)
        if shape is None:
            stack.pop()
        elif hasattr(shape, "shapes"):   # a group
            stack.append(iter(shape.shapes))
        else:
            yield shape


# -- Excel --------------------------------------------------------------------------------------------

def _read_xlsx(openpyxl, data: bytes, encoding: str) -> Extracted:
    _check_zip(data, "Excel", ".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)   # values, not formulas
    out, cells, filled = _TextBuilder(), 0, 0
    try:
        for sheet in book.worksheets:
            out.section(f"sheet {sheet.title}")
            sheet.reset_dimensions()   # the declared used range can be A1:XFD1048576: pad rows to their data only
            for row in sheet.iter_rows(values_only=True):
                values = [_cell_text(v) for v in row]
                while values and not values[-1]:
                    values.pop()
                cells, filled = cells + max(len(row), 1), filled + sum(1 for v in values if v)
                if cells > MAX_CELLS or cells - filled > max(MAX_EMPTY_CELLS, 10 * filled):
                    raise FormatError(_too_many_cells(cells, filled, sheet.title))
                out.add("\t".join(values), end="\n")
    finally:
        book.close()
    return out.result()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return " ".join(str(value).split())   # a cell's own line breaks would split its row


def _too_many_cells(cells: int, filled: int, sheet: str) -> str:
    return (f"has too many cells to read as text: {cells:,} by sheet {sheet!r}, {cells - filled:,} of them "
            f"empty (rows padded up to a stray cell far to the right, or rows with nothing in them); delete the "
            f"empty rows and columns past the data, or save the sheets that matter as CSV, and give that")


# -- HTML and EPUB ------------------------------------------------------------------------------------

_DROPPED = ["script", "style", "nav", "noscript", "template", "head", "svg", "iframe", "object"]
_BLOCKS = frozenset("""address article aside blockquote body caption dd details dialog div dl dt fieldset
    figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main ol p pre section summary
    table tbody thead tfoot tr ul""".split())
_CELLS = frozenset(("td", "th"))
_HEADINGS = frozenset(("h1", "h2", "h3"))


def _read_html(bs4, data: bytes, encoding: str) -> Extracted:
    soup, notes = _soup(bs4, data, encoding)
    out = _TextBuilder()
    for line, heading, end in _html_lines(bs4, soup):
        if heading:
            out.section(f"section {line}")
        out.add(line, end)
    return out.result(notes)


def _soup(bs4, data: bytes, encoding: str):
    """The parsed page, and a note when its encoding was guessed as something other than UTF-8. A named
    encoding is used as given, and fails as a text file's would; 'auto' lets beautifulsoup read the byte-order
    mark or <meta charset>, else guess."""
    if encoding != "auto":
        try:
            return _parsed(bs4, data.decode(encoding)), []
        except UnicodeDecodeError as exc:
            raise FormatError(f"cannot be decoded as {encoding} (byte 0x{data[exc.start]:02x} at offset "
                              f"{exc.start}); name the page's encoding in the node's parameters, e.g. "
                              f"`with: {{encoding: gb18030}}`, or leave it to `auto`") from None
    soup = _parsed(bs4, data)
    used = (soup.original_encoding or "utf-8").lower()
    notes = [] if used in ("utf-8", "ascii") else [f"not UTF-8: read as {used}"]
    return soup, notes


def _parsed(bs4, markup: bytes | str):
    """The page parsed by lxml's forgiving HTML parser, XHTML included (e-books are XHTML: beautifulsoup
    warns that an XML parser would be stricter, which is just what a damaged page does not want)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs4.XMLParsedAsHTMLWarning)
        return bs4.BeautifulSoup(markup, "lxml")


def _html_lines(bs4, soup) -> Iterator[tuple[str, bool, str]]:
    """(line, whether it is an h1-h3 heading, what ends it) for each block of visible text, in order. A
    block element (p, li, div...) is a paragraph, ended by a blank line; a table row is a line, its cells
    joined with tabs; <br> and the lines of a <pre> end with a line break."""
    for tag in soup.find_all(_DROPPED):
        tag.decompose()
    text_types = (bs4.NavigableString,)
    skipped = (bs4.Comment, bs4.Declaration, bs4.Doctype, bs4.ProcessingInstruction)
    block_of, pre_of = _nearest(_BLOCKS | _CELLS), _nearest(frozenset(["pre"]))
    line: list[str] = []
    block = None

    def flush(broken: bool = False) -> Iterator[tuple[str, bool, str]]:
        text = "".join(line)
        line.clear()
        in_pre = block is not None and pre_of(block) is not None
        in_row = block is not None and (block.name == "tr" or block.name in _CELLS)
        if in_pre:
            parts = [p.rstrip() for p in text.split("\n")]
        else:   # white space collapsed as a browser shows it; in a row, the tabs between cells kept
            parts = ["\t".join(" ".join(cell.split()) for cell in text.split("\t")) if in_row
                     else " ".join(text.split())]
        parts = [p for p in parts if p.strip()]
        heading = block is not None and block.name in _HEADINGS
        for i, part in enumerate(parts):
            end = "\n" if broken or in_row or heading or i + 1 < len(parts) else "\n\n"
            yield part, heading, end

    for element in soup.descendants:   # a generator over the parse order, not recursion: deep pages are fine
        if isinstance(element, bs4.Tag):
            if element.name == "br":
                yield from flush(broken=True)
            continue
        if not isinstance(element, text_types) or isinstance(element, skipped):
            continue
        here = block_of(element.parent)
        if here is not block:
            next_cell = here is not None and here.name in _CELLS and block is not None \
                and block.name in _CELLS and here.parent is block.parent
            if next_cell:
                line.append("\t")
            else:
                yield from flush()
            block = here
        line.append(str(element))
    yield from flush()


def _nearest(names: frozenset) -> Callable:
    """A function: tag -> its nearest ancestor-or-self named in `names` (None if none), remembered per tag so
    that a page of many strings in deep markup is walked about once."""
    known: dict[int, object] = {}

    def nearest(tag):
        path = []
        while tag is not None and tag.name not in names and id(tag) not in known:
            path.append(tag)
            tag = tag.parent
        found = known.get(id(tag), tag) if tag is not None else None
        for visited in path:
            known[id(visited)] = found
        return found
    return nearest


def _read_epub(epub, data: bytes, encoding: str) -> Extracted:
    """Chapters in reading (spine) order, each a section named by its first heading, else "chapter N"."""
    _check_zip(data, "EPUB", ".epub")
    bs4, ebooklib = _library("bs4", ".epub"), _library("ebooklib", ".epub")
    book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    out, number = _TextBuilder(), 0
    for item_id, _linear in book.spine:
        item = book.get_item_with_id(item_id)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        lines = list(_html_lines(bs4, _parsed(bs4, item.get_content())))
        if not lines:
            continue                # a cover picture, an empty page
        number += 1
        out.section(next((line for line, heading, _ in lines if heading), f"chapter {number}"))
        for line, _heading, end in lines:
            out.add(line, end)
    return out.result()


# suffix -> (reader, the kind of document, the module it needs)
READERS: dict[str, tuple[Callable, str, str]] = {
    ".pdf": (_read_pdf, "PDF", "pypdf"),
    ".docx": (_read_docx, "Word", "docx"),
    ".pptx": (_read_pptx, "PowerPoint", "pptx"),
    ".xlsx": (_read_xlsx, "Excel", "openpyxl"),
    ".html": (_read_html, "HTML", "bs4"),
    ".htm": (_read_html, "HTML", "bs4"),
    ".xhtml": (_read_html, "HTML", "bs4"),
    ".epub": (_read_epub, "EPUB", "ebooklib.epub"),
}
RICH_SUFFIXES = tuple(READERS)
_APPS = {"Word": "Word or LibreOffice", "PowerPoint": "PowerPoint or LibreOffice", "Excel": "Excel or LibreOffice"}
_AN = {"PDF": "a", "Word": "a", "PowerPoint": "a", "Excel": "an", "HTML": "an", "EPUB": "an"}
# What to do with a file its library cannot read.
_RESAVE = {
    "PDF": "if it opens in a PDF viewer, print it from there to a new PDF and give that",
    **{kind: f"if it opens in {apps}, save it again from there and give that" for kind, apps in _APPS.items()},
    "HTML": "save the page again from a browser (as HTML, or as text) and give that",
    "EPUB": "if it opens in an e-book reader, convert it again (Calibre can) and give that",
}
