"""Rich documents (nodes/formats.py through load_document): real PDF, Word, PowerPoint, Excel, HTML and EPUB
files written at test time by the libraries that write them, each several pages long with one needle
sentence on a later page; and the damaged, hostile and odd files a user may give."""
from __future__ import annotations

import io
import re
import sys
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from longflow.core.context import Context
from longflow.core.run import run_flow
from longflow.nodes import formats
from longflow.nodes.answer import format_context
from longflow.nodes.documents import CHUNK_CACHE, FILE_CACHE, DocumentError, chunk, load_document
from longflow.testing.scripted_server import Script, ScriptedServer

ROOT = Path(__file__).resolve().parents[2]
MOBY = (ROOT / "tests/data/moby_dick_excerpt.txt").read_text()
# Moby Dick's paragraphs, unwrapped: the filler around the needle.
PARAGRAPHS = [" ".join(p.split()) for p in MOBY.split("\n\n") if len(p.split()) > 20]
NEEDLE = "The bicycle was invented in 1817 by Karl Drais."
QUESTION = "When was the bicycle invented?"


@pytest.fixture(autouse=True)
def fresh_caches():
    CHUNK_CACHE.clear()
    FILE_CACHE.clear()


def filler(n_chars: int, seed: int) -> list[str]:
    """Paragraphs of Moby Dick adding up to about `n_chars`, starting at a different one for each seed."""
    out, size, i = [], 0, seed * 3
    while size < n_chars:
        out.append(PARAGRAPHS[i % len(PARAGRAPHS)])
        size += len(out[-1])
        i += 1
    return out


def load(path, **kw) -> dict:
    ctx = Context(node="load", stream=None)
    doc, = load_document([str(path)], ctx=ctx, **kw)["documents"]
    doc["_notes"] = [n["message"] for n in ctx.record.notes]
    return doc


def needle_chunk(doc: dict, tokens: int = 512) -> dict:
    chunks = chunk([{k: v for k, v in doc.items() if not k.startswith("_")}], tokens=tokens,
                   ctx=Context(node="chunk", stream=None))["chunks"]
    found = [c for c in chunks if NEEDLE in " ".join(c["text"].split())]
    assert len(found) == 1, "the needle is in exactly one chunk"
    assert all("section" in c for c in chunks if c["start"] >= doc["sections"][0]["start"])
    return found[0]


# -- writers: real files, made by the libraries that write each format ---------------------------------

def write_pdf(path: Path, pages: int = 6, needle_page: int = 4, password: str | None = None) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate
    style = getSampleStyleSheet()["BodyText"]
    story = []
    for page in range(1, pages + 1):
        body = [Paragraph(escape(p), style) for p in filler(2500, page)]
        if page == needle_page:   # a paragraph of its own, one line: the PDF does not wrap it
            body.insert(len(body) // 2, Paragraph(NEEDLE, style))
        story += body + [PageBreak()]
    encrypt = None
    if password:
        from reportlab.lib.pdfencrypt import StandardEncryption
        encrypt = StandardEncryption(password, canPrint=1)
    # Each page's filler fits on it: one PageBreak, one page.
    SimpleDocTemplate(str(path), pagesize=A4, encrypt=encrypt).build(story)
    return path


def write_docx(path: Path) -> Path:
    import docx
    document = docx.Document()
    document.add_paragraph("A report on old inventions", style="Title")
    document.add_paragraph(filler(800, 0)[0])   # before the first heading
    for i, heading in enumerate(["Whaling", "The sea", "Transport", "Music", "Endings"], 1):
        document.add_heading(heading, level=1 if i % 2 else 2)
        for j, paragraph in enumerate(filler(2500, i)):
            document.add_paragraph(paragraph)
            if heading == "Transport" and j == 1:
                document.add_paragraph(NEEDLE)
        if heading == "The sea":
            table = document.add_table(rows=2, cols=3)
            for r, row in enumerate([["ship", "tons", "crew"], ["Pequod", "300", "30"]]):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
    document.save(path)
    return path


def write_pptx(path: Path) -> Path:
    import pptx
    from pptx.util import Inches
    deck = pptx.Presentation()
    for number in range(1, 7):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = f"Part {number}"
        lines = filler(1500, number)
        if number == 5:
            lines.insert(1, NEEDLE)
        slide.placeholders[1].text_frame.text = "\n".join(lines)
        if number == 2:
            slide.notes_slide.notes_text_frame.text = "Speaker notes: mention the whales."
        if number == 3:
            table = slide.shapes.add_table(2, 2, Inches(1), Inches(5), Inches(4), Inches(1)).table
            for (r, c), value in zip([(0, 0), (0, 1), (1, 0), (1, 1)], ["ship", "crew", "Pequod", "30"]):
                table.cell(r, c).text = value
    deck.save(path)
    return path


def write_xlsx(path: Path) -> Path:
    import openpyxl
    book = openpyxl.Workbook()
    for s, name in enumerate(["Ships", "Crew", "Inventions", "Notes"]):
        sheet = book.active if s == 0 else book.create_sheet()
        sheet.title = name
        sheet.append(["year", "what"])
        for i, paragraph in enumerate(filler(3000, s)):
            for k, sentence in enumerate(re.split(r"(?<=[.!?])\s+", paragraph)):
                sheet.append([1800 + i * 10 + k, sentence])
            if name == "Inventions" and i == 2:
                sheet.append([1817, NEEDLE])
                sheet.append([])            # an empty row: skipped
    book.save(path)
    return path


def html_page(title: str = "Inventions") -> str:
    parts = [f"<html><head><title>{title}</title><style>p {{color: red}}</style>"
             "<script>var hidden = 'SCRIPT TEXT';</script></head><body>",
             "<nav><a href='/'>Home</a> <a href='/about'>NAVIGATION TEXT</a></nav>",
             f"<h1>{title}</h1>", "<p>An introduction, <b>in bold</b>, with a<br>line break.</p>"]
    for i, heading in enumerate(["Whaling", "The sea", "Transport", "Music"], 1):
        parts.append(f"<h2>{heading}</h2>")
        for j, paragraph in enumerate(filler(2500, i)):
            parts.append(f"<div><p>{escape(paragraph)}</p></div>")
            if heading == "Transport" and j == 1:
                parts.append(f"<p>{NEEDLE}</p>")
        if heading == "The sea":
            parts.append("<table><tr><th>ship</th><th>crew</th></tr><tr><td>Pequod</td><td>30</td></tr></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_epub(path: Path) -> Path:
    from ebooklib import epub
    book = epub.EpubBook()
    book.set_identifier("test-book")
    book.set_title("A test book")
    book.set_language("en")
    chapters = []
    for number in range(1, 6):
        heading = f"<h1>Chapter {number}: Part {number}</h1>" if number != 2 else ""   # one without a heading
        paragraphs = filler(2500, number)
        if number == 4:
            paragraphs.insert(1, NEEDLE)
        item = epub.EpubHtml(title=f"Chapter {number}", file_name=f"chap{number}.xhtml", lang="en")
        item.content = heading + "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        book.add_item(item)
        chapters.append(item)
    book.toc = chapters
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *chapters]
    epub.write_epub(str(path), book)
    return path


# -- each format: the text holds the needle, and its chunk names the page/section it is on --------------

def test_pdf_pages_are_sections(tmp_path):
    doc = load(write_pdf(tmp_path / "book.pdf"))
    assert [s["label"] for s in doc["sections"]] == [f"page {n}" for n in range(1, 7)]
    assert NEEDLE in doc["text"]
    assert needle_chunk(doc)["section"] in ("page 4", "page 3-4", "page 4-5")
    page4 = doc["sections"][3]["start"]
    assert NEEDLE in doc["text"][page4:doc["sections"][4]["start"]]


def test_docx_headings_are_sections_and_tables_are_read(tmp_path):
    doc = load(write_docx(tmp_path / "report.docx"))
    labels = [s["label"] for s in doc["sections"]]
    assert labels == ["section A report on old inventions", "section Whaling", "section The sea",
                      "section Transport", "section Music", "section Endings"]
    assert "ship\ttons\tcrew\nPequod\t300\t30\n" in doc["text"]
    assert needle_chunk(doc)["section"].startswith("section Transport")


def test_pptx_slides_are_sections_with_tables_and_notes(tmp_path):
    doc = load(write_pptx(tmp_path / "talk.pptx"))
    assert [s["label"] for s in doc["sections"]] == [f"slide {n}" for n in range(1, 7)]
    assert "Notes: Speaker notes: mention the whales." in doc["text"]
    assert "ship\tcrew\nPequod\t30" in doc["text"]
    assert needle_chunk(doc, tokens=256)["section"] in ("slide 5", "slide 4-5")


def test_xlsx_sheets_are_sections_of_tab_separated_rows(tmp_path):
    doc = load(write_xlsx(tmp_path / "book.xlsx"))
    assert [s["label"] for s in doc["sections"]] == ["sheet Ships", "sheet Crew", "sheet Inventions",
                                                      "sheet Notes"]
    assert f"\n1817\t{NEEDLE}\n" in doc["text"] and "\n\n\n" not in doc["text"]
    assert "sheet Inventions" in needle_chunk(doc)["section"]


def test_html_drops_scripts_and_navigation_and_h1_to_h3_start_sections(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(html_page())
    doc = load(path)
    assert [s["label"] for s in doc["sections"]] == ["section Inventions", "section Whaling", "section The sea",
                                                      "section Transport", "section Music"]
    text = doc["text"]
    assert "SCRIPT TEXT" not in text and "NAVIGATION TEXT" not in text and "color: red" not in text
    assert "An introduction, in bold, with a\nline break." in text
    assert "ship\tcrew\nPequod\t30" in text
    assert needle_chunk(doc)["section"].startswith("section Transport")


def test_epub_chapters_in_reading_order_named_by_their_heading(tmp_path):
    doc = load(write_epub(tmp_path / "book.epub"))
    labels = [s["label"] for s in doc["sections"]]
    # the nav page, first in the spine, is only navigation: dropped, it counts as no chapter
    assert labels == ["Chapter 1: Part 1", "chapter 2", "Chapter 3: Part 3", "Chapter 4: Part 4",
                      "Chapter 5: Part 5"]
    assert needle_chunk(doc)["section"] in ("Chapter 4: Part 4", "Chapter 3: Part 3 to Chapter 4: Part 4")


@pytest.mark.parametrize("name,data", [
    ("table.csv", "year,what\n1817,the bicycle\n"), ("table.tsv", "year\twhat\n1817\tthe bicycle\n")])
def test_csv_and_tsv_are_read_as_text(tmp_path, name, data):
    (tmp_path / name).write_text(data)
    doc = load(tmp_path / name)
    assert doc["text"] == data and "sections" not in doc


def test_plain_text_chunks_and_context_are_as_before(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text(MOBY[:3000])
    doc = load(path)
    chunks = chunk([doc], tokens=128, ctx=Context(node="chunk", stream=None))["chunks"]
    assert "sections" not in doc and all("section" not in c for c in chunks)
    assert format_context(chunks[:1]).startswith("[doc0#0]\n")


def test_a_chunk_across_two_pages_names_both_and_the_context_cites_it():
    text = "One. " * 50 + "Two. " * 50
    doc = {"text": text, "sections": [{"start": 250, "label": "page 2"}, {"start": 0, "label": "page 1"}]}
    loaded, = load_document([doc], ctx=Context(node="load", stream=None))["documents"]
    assert [s["start"] for s in loaded["sections"]] == [0, 250]
    whole, = chunk([loaded], tokens=512, ctx=Context(node="chunk", stream=None))["chunks"]
    assert whole["section"] == "page 1-2"
    assert format_context([whole]).startswith("[doc0#0, page 1-2]\n")
    assert format_context([{"chunk": "doc0#0", "section": "page 2", "text": "x"}]) == "[doc0#0, page 2]\nx"


def test_sections_of_a_document_dict_are_checked_and_dropped_when_its_text_changes():
    ctx = Context(node="load", stream=None)
    crlf = {"text": "One.\r\nTwo.\r\n", "sections": [{"start": 6, "label": "page 2"}]}
    doc, = load_document([crlf], ctx=ctx)["documents"]
    assert "sections" not in doc and "sections are dropped" in ctx.record.notes[0]["message"]
    with pytest.raises(DocumentError, match="'sections' that are not a list"):
        load_document([{"text": "x", "sections": [{"start": "0"}]}], ctx=ctx)


def test_what_a_library_warns_about_goes_to_the_record(tmp_path, monkeypatch):
    def warning_reader(library, data, encoding):
        import warnings
        warnings.warn("Data Validation extension is not supported and will be removed")
        return formats.Extracted("text\n", [{"start": 0, "label": "sheet A"}], [])
    monkeypatch.setitem(formats.READERS, ".xlsx", (warning_reader, "Excel", "openpyxl"))
    (tmp_path / "book.xlsx").write_bytes(b"PK")
    doc = load(tmp_path / "book.xlsx")
    assert doc["_notes"] == [f"{str(tmp_path / 'book.xlsx')!r}: openpyxl warned: Data Validation extension "
                             f"is not supported and will be removed"]


# -- damaged and hostile files: a DocumentError that says what is wrong and what to do ------------------

def test_a_corrupt_pdf(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage without end")
    with pytest.raises(DocumentError, match=r"broken\.pdf' is not a readable PDF file \(.+\); if it opens"):
        load(path)


def test_a_file_that_is_not_a_pdf(tmp_path):
    path = tmp_path / "page.pdf"
    path.write_text("<html><body>Access denied</body></html>")
    with pytest.raises(DocumentError, match=r"page\.pdf' is not a PDF file: it does not start with %PDF-"):
        load(path)


def test_a_pdf_cut_short_reads_or_fails_with_a_message(tmp_path):
    data = write_pdf(tmp_path / "whole.pdf", pages=2).read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[:len(data) // 2])
    try:
        doc = load(tmp_path / "cut.pdf")
    except DocumentError as exc:
        assert "cut.pdf" in str(exc)
    else:
        assert doc["text"]


def test_a_password_protected_pdf(tmp_path):
    path = write_pdf(tmp_path / "secret.pdf", pages=1, password="secret")
    with pytest.raises(DocumentError, match=r"is protected by a password: save a copy without it"):
        load(path)


def test_a_pdf_that_restricts_only_printing_or_copying_is_read(tmp_path):
    """Encrypted with AES and an owner password, no password to open it: common, and readable."""
    import pypdf
    writer = pypdf.PdfWriter(clone_from=write_pdf(tmp_path / "plain.pdf", pages=4))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-256")
    writer.write(tmp_path / "locked.pdf")
    doc = load(tmp_path / "locked.pdf")
    assert NEEDLE in doc["text"] and len(doc["sections"]) == 4


def test_a_pdf_without_text_needs_ocr(tmp_path):
    from reportlab.pdfgen import canvas
    sheet = canvas.Canvas(str(tmp_path / "scan.pdf"))
    sheet.rect(100, 100, 200, 200, fill=1)   # a picture, no text
    sheet.showPage()
    sheet.save()
    with pytest.raises(DocumentError, match=r"no text .* run OCR"):
        load(tmp_path / "scan.pdf")


@pytest.mark.parametrize("suffix", [".docx", ".pptx", ".xlsx", ".epub"])
def test_an_office_file_that_is_not_a_zip(tmp_path, suffix):
    path = tmp_path / f"notes{suffix}"
    path.write_text("just some text, saved under the wrong name")
    with pytest.raises(DocumentError, match=rf"is not an? \w+ file: a \{suffix} file is a zip archive, and "
                                            rf"this is not one"):
        load(path)


def test_an_old_or_password_protected_office_file(tmp_path):
    path = tmp_path / "old.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(DocumentError, match=r"old binary Office file .* or a password-protected one"):
        load(path)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    monkeypatch.setattr(formats, "ZIP_FLOOR", 2**20)   # the real floor, 100 MB, would take a while to write
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("word/document.xml", "w") as member:
            for _ in range(24):
                member.write(bytes(2**20))
    (tmp_path / "bomb.docx").write_bytes(buffer.getvalue())
    with pytest.raises(DocumentError, match=r"would unpack to 24 MB from 0\.0 MB .*zip bomb"):
        load(tmp_path / "bomb.docx")


def test_a_spreadsheet_of_a_million_empty_cells(tmp_path):
    import openpyxl
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "the only value"
    for row in range(2, 80):   # a stray formatted cell far right pads each row to 16,000 empty cells
        sheet.cell(row=row, column=16000).number_format = "0.00"
    book.save(tmp_path / "empty.xlsx")
    with pytest.raises(DocumentError, match=r"too many cells to read as text: .* empty .*save the sheets"):
        load(tmp_path / "empty.xlsx")


def test_a_damaged_word_file(tmp_path):
    data = write_docx(tmp_path / "good.docx").read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as good, zipfile.ZipFile(buffer, "w") as bad:
        for info in good.infolist():
            body = good.read(info)
            bad.writestr(info, body[:len(body) // 3] if info.filename == "word/document.xml" else body)
    (tmp_path / "bad.docx").write_bytes(buffer.getvalue())
    with pytest.raises(DocumentError, match=r"is not a readable Word file \(.+\); if it opens in Word"):
        load(tmp_path / "bad.docx")


def test_html_in_other_encodings(tmp_path):
    russian = "<html><head><meta charset='windows-1251'></head><body><h1>Велосипед</h1><p>Изобретён в 1817 году.</p></body></html>"
    (tmp_path / "ru.html").write_bytes(russian.encode("cp1251"))
    doc = load(tmp_path / "ru.html")
    assert "Изобретён в 1817 году." in doc["text"] and doc["sections"][0]["label"] == "section Велосипед"
    assert any("read as windows-1251" in n for n in doc["_notes"])
    (tmp_path / "wide.htm").write_bytes(("\ufeff" + html_page("Wide")).encode("utf-16-le"))
    assert NEEDLE in load(tmp_path / "wide.htm")["text"]
    with pytest.raises(DocumentError, match=r"cannot be decoded as utf-8 \(byte 0xc2"):
        load(tmp_path / "ru.html", encoding="utf-8")
    with pytest.raises(DocumentError, match="unknown encoding"):
        load(tmp_path / "ru.html", encoding="klingon")


def test_a_missing_reader_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    path.write_text("<p>hi</p>")
    monkeypatch.setitem(sys.modules, "bs4", None)   # `import bs4` now fails, as when it is not installed
    with pytest.raises(DocumentError, match=r"reading \.html files needs the `docs` extra \(bs4 is not "
                                            r"installed\): pip install 'longflow\[docs\]'"):
        load(path)


# -- end to end: Lv1 finds the needle in a PDF and the answer step is shown its page --------------------

def test_lv1_finds_the_needle_in_a_pdf_and_cites_its_page(tmp_path):
    path = write_pdf(tmp_path / "book.pdf")
    doc = load(path)
    total = sum(c["tokens"] for c in chunk([doc], tokens=512, ctx=Context(node="c", stream=None))["chunks"])
    with ScriptedServer(Script(needles=[NEEDLE])) as server:
        result = run_flow(ROOT / "flows/lv1.yaml", documents=[str(path)], question=QUESTION, model="scripted",
                          base_url=server.base_url, api_key="test", overrides={"retrieve.budget_tokens": 1024})
    assert total > 4 * 1024                                   # the budget is a small share of the document
    assert "1817" in result.answer
    shown = server.stats.last_prompt["answer"]
    page = needle_chunk(doc)["section"]
    assert page in ("page 4", "page 3-4", "page 4-5") and re.search(rf"\[doc0#\d+, {page}\]\n", shown)
    used, = result.record["context"]
    assert page in used["sections"].values()
    assert any(c.get("section") == page and NEEDLE in " ".join(c["text"].split())
               for c in result.outputs["context"])
