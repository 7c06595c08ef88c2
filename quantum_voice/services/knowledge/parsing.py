"""Turns a file into ordered blocks of text (headings, paragraphs, table rows) with page and section.

PDF through pypdf (headings found by font size and weight), DOCX through python-docx (heading styles, tables in
document order), plain text and Markdown by their own conventions. HTML lives in ``webpages``.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field

from quantum_voice.services.knowledge import intake
from quantum_voice.services.knowledge.errors import DocumentRejected
from quantum_voice.services.knowledge.text import squash_spaces

HEADING, TEXT, TABLE = "heading", "text", "table"
SECTION_SEPARATOR = " › "


@dataclass
class Block:
    kind: str  # heading | text | table
    text: str
    page: int | None = None
    section: str | None = None  # the heading path this block sits under
    level: int = 0  # headings only: 1 = top level


@dataclass
class ParsedDocument:
    blocks: list[Block] = field(default_factory=list)
    page_count: int | None = None
    title: str | None = None  # web pages: the page title

    @property
    def text_length(self) -> int:
        return sum(len(b.text) for b in self.blocks if b.kind != HEADING)


class SectionTracker:
    """Keeps the path of headings above the current block ("Pricing › Parking")."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        self._stack.append((level, title))

    @property
    def path(self) -> str | None:
        return SECTION_SEPARATOR.join(t for _, t in self._stack)[:500] or None


def parse_document(data: bytes, content_type: str, *, max_pages: int = 2000) -> ParsedDocument:
    """Blocks of an uploaded file; raises :class:`DocumentRejected` when nothing usable comes out."""
    if content_type == intake.PDF:
        parsed = parse_pdf(data, max_pages=max_pages)
    elif content_type == intake.DOCX:
        parsed = parse_docx(data)
    elif content_type in (intake.TEXT, intake.MARKDOWN):
        text = intake.decode_text(data) or ""
        parsed = parse_markdown(text) if content_type == intake.MARKDOWN else parse_plain_text(text)
    else:
        raise DocumentRejected(f"This file type is not supported. {intake.SUPPORTED_HINT}",
                               code="unsupported_file_type")
    if parsed.text_length < 20 and content_type != intake.PDF:
        raise DocumentRejected("The file has no readable text. Check you picked the right file and upload it again.",
                               code="empty_file")
    return parsed


# ── PDF ──────────────────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class _PdfLine:
    text: str
    size: float
    bold: bool


def parse_pdf(data: bytes, *, max_pages: int) -> ParsedDocument:
    intake.check_pdf(data, max_pages=max_pages)
    reader = intake.open_pdf(data)
    pages = [_pdf_page_lines(page) for page in reader.pages]
    lines = [line for page in pages for line in page]
    if sum(len(line.text) for line in lines) < 20:
        raise _no_text_error(reader)
    body_size = _body_font_size(lines)
    tracker, blocks = SectionTracker(), []
    heading_sizes = sorted({round(l.size) for l in lines if _is_pdf_heading(l, body_size)}, reverse=True)
    for number, page_lines in enumerate(pages, start=1):
        paragraph: list[str] = []
        for line in page_lines:
            if _is_pdf_heading(line, body_size):
                _flush_paragraph(blocks, paragraph, number, tracker.path, page_lines)
                level = heading_sizes.index(round(line.size)) + 1
                tracker.enter(level, line.text)
                blocks.append(Block(HEADING, line.text, number, tracker.path, level))
                continue
            paragraph.append(line.text)
            if _ends_paragraph(line.text, page_lines):
                _flush_paragraph(blocks, paragraph, number, tracker.path, page_lines)
        _flush_paragraph(blocks, paragraph, number, tracker.path, page_lines)
    return ParsedDocument(blocks, page_count=len(pages))


def _pdf_page_lines(page) -> list[_PdfLine]:
    fragments: list[tuple[str, float, bool]] = []

    def visit(text, cm, tm, font, size):
        scale = abs(tm[3] or tm[0] or 1) * abs(cm[3] or cm[0] or 1)
        name = str((font or {}).get("/BaseFont", ""))
        fragments.append((text, float(size or 0) * scale, "bold" in name.lower() or "black" in name.lower()))

    try:
        page.extract_text(visitor_text=visit)
    except Exception:
        raise DocumentRejected("A page of this PDF cannot be read. Export or print it to PDF again, then upload "
                               "the new file.", code="corrupt_file") from None
    return _group_lines(fragments)


def _group_lines(fragments: list[tuple[str, float, bool]]) -> list[_PdfLine]:
    lines: list[_PdfLine] = []
    parts: list[tuple[str, float, bool]] = []

    def flush() -> None:
        text = squash_spaces("".join(p[0] for p in parts))
        visible = [p for p in parts if p[0].strip()]
        if text and visible:
            lines.append(_PdfLine(text, max(p[1] for p in visible), all(p[2] for p in visible)))
        parts.clear()

    for text, size, bold in fragments:
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                flush()
            if piece:
                parts.append((piece, size, bold))
    flush()
    return lines


def _body_font_size(lines: list[_PdfLine]) -> float:
    weights: Counter[float] = Counter()
    for line in lines:
        weights[round(line.size, 1)] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _is_pdf_heading(line: _PdfLine, body_size: float) -> bool:
    text = line.text
    if len(text) > 100 or len(text) < 2 or text.endswith((".", ",", ";")) or not re.search(r"[A-Za-z]", text):
        return False
    bigger = body_size > 0 and line.size >= body_size * 1.15
    return bigger or (line.bold and len(text) <= 80 and line.size >= body_size * 0.95)


def _ends_paragraph(text: str, page_lines: list[_PdfLine]) -> bool:
    longest = max((len(l.text) for l in page_lines), default=0)
    return text.endswith((".", "!", "?", ":")) and len(text) < longest * 0.8


def _flush_paragraph(blocks: list[Block], paragraph: list[str], page: int, section: str | None,
                     page_lines: list[_PdfLine]) -> None:
    if not paragraph:
        return
    if _looks_tabular(paragraph, page_lines):
        blocks.append(Block(TABLE, "\n".join(paragraph), page, section))
        paragraph.clear()
        return
    text = ""
    for line in paragraph:
        if text.endswith("-") and line[:1].islower():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    blocks.append(Block(TEXT, text, page, section))
    paragraph.clear()


def _looks_tabular(lines: list[str], page_lines: list[_PdfLine]) -> bool:
    """Rows of a table or list: several short lines that do not end like sentences (wrapped prose runs full width)."""
    if len(lines) < 3:
        return False
    longest = max((len(l.text) for l in page_lines), default=0)
    short = sum(1 for l in lines if len(l) < longest * 0.7 and not l.endswith((".", "!", "?", ",", ";")))
    return short >= len(lines) * 0.6


def _no_text_error(reader) -> DocumentRejected:
    has_images = False
    try:
        has_images = any(len(page.images) for page in reader.pages[:20])
    except Exception:
        pass
    if has_images:
        return DocumentRejected("This PDF contains only scanned images, no text we can read. Run text recognition "
                                "(OCR) on it — for example 'Recognize text' in Acrobat, or export the original "
                                "document to PDF — and upload that.", code="image_only_pdf")
    return DocumentRejected("This PDF has no text in it. Check it is the right file; if its text shows as "
                            "pictures, run text recognition (OCR) and upload the result.", code="empty_file")


# ── DOCX ─────────────────────────────────────────────────────────────────────────────────────────────────────


def parse_docx(data: bytes) -> ParsedDocument:
    intake.check_docx_archive(data)
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception:
        raise DocumentRejected("This Word file is damaged. Open it in Word, save it again and upload the new "
                               "file.", code="corrupt_file") from None
    tracker, blocks = SectionTracker(), []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = table_rows_as_lines([_docx_row_cells(row) for row in item.rows])
            if rows:
                blocks.append(Block(TABLE, "\n".join(rows), None, tracker.path))
            continue
        text = squash_spaces(item.text)
        if not text:
            continue
        level = _docx_heading_level(item.style.name if item.style is not None else "")
        if level:
            tracker.enter(level, text)
            blocks.append(Block(HEADING, text, None, tracker.path, level))
        else:
            blocks.append(Block(TEXT, text, None, tracker.path))
    return ParsedDocument(blocks)


def _docx_row_cells(row) -> list[str]:
    # python-docx returns a merged cell once per grid column it spans: keep each cell once.
    seen, texts = set(), []
    for cell in row.cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            texts.append(cell.text)
    return texts


def _docx_heading_level(style_name: str) -> int:
    if style_name == "Title":
        return 1
    match = re.match(r"Heading (\d)", style_name or "")
    return int(match.group(1)) if match else 0


def table_rows_as_lines(rows: list[list[str]]) -> list[str]:
    """Table rows as self-contained lines: "Model: 2-bedroom; Price: $689,000" when there is a header row."""
    cleaned = [[squash_spaces(cell) for cell in row] for row in rows]
    cleaned = [row for row in cleaned if any(row)]
    if not cleaned:
        return []
    header, body = cleaned[0], cleaned[1:]
    if body and all(header) and len(header) > 1:
        return [" | ".join(header)] + [
            "; ".join(f"{h}: {v}" for h, v in zip(header, row) if v) for row in body
        ]
    return [" | ".join(cell for cell in row if cell) for row in cleaned]


# ── Plain text and Markdown ──────────────────────────────────────────────────────────────────────────────────

_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_MD_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def parse_markdown(text: str) -> ParsedDocument:
    tracker, blocks = SectionTracker(), []
    paragraph: list[str] = []
    table: list[list[str]] = []
    lines = text.replace("\r\n", "\n").split("\n")
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        heading = _MD_HEADING.match(line)
        setext = i + 1 < len(lines) and line.strip() and re.fullmatch(r"=+|-+", lines[i + 1].strip() or "x")
        if line.strip().startswith("|") or (table and "|" in line):
            _flush_text(blocks, paragraph, tracker.path)
            if not _MD_TABLE_RULE.match(line.strip()):
                table.append([_md_inline(c) for c in line.strip().strip("|").split("|")])
            continue
        _flush_table(blocks, table, tracker.path)
        if heading or setext:
            _flush_text(blocks, paragraph, tracker.path)
            level = len(heading.group(1)) if heading else (1 if lines[i + 1].strip().startswith("=") else 2)
            title = _md_inline(heading.group(2) if heading else line.strip())
            tracker.enter(level, title)
            blocks.append(Block(HEADING, title, None, tracker.path, level))
        elif re.fullmatch(r"\s*(=+|-+|```.*)\s*", line):
            continue
        elif not line.strip():
            _flush_text(blocks, paragraph, tracker.path)
        elif re.match(r"\s*([-*+]|\d+[.)])\s+", line):
            _flush_text(blocks, paragraph, tracker.path)
            paragraph.append(_md_inline(re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", line)))
            _flush_text(blocks, paragraph, tracker.path)
        else:
            paragraph.append(_md_inline(line))
    _flush_table(blocks, table, tracker.path)
    _flush_text(blocks, paragraph, tracker.path)
    return ParsedDocument(blocks)


def _md_inline(text: str) -> str:
    text = _MD_LINK.sub(r"\1", text)
    for _ in range(2):
        text = _MD_EMPHASIS.sub(r"\2", text)
    return squash_spaces(re.sub(r"<[^>]+>", "", text))


def _flush_text(blocks: list[Block], paragraph: list[str], section: str | None) -> None:
    text = squash_spaces(" ".join(p for p in paragraph if p))
    if text:
        blocks.append(Block(TEXT, text, None, section))
    paragraph.clear()


def _flush_table(blocks: list[Block], table: list[list[str]], section: str | None) -> None:
    rows = table_rows_as_lines(table)
    if rows:
        blocks.append(Block(TABLE, "\n".join(rows), None, section))
    table.clear()


def parse_plain_text(text: str) -> ParsedDocument:
    """Paragraphs split by blank lines; a short title-like line on its own is a heading (the very first one is
    the document's title, the others sit below it; "2.1 Parking" numbering gives deeper levels)."""
    tracker, blocks = SectionTracker(), []
    text = text.replace("\r\n", "\n").replace("\f", "\n\n")

    def heading(title: str, level: int | None = None) -> None:
        title = title.rstrip(":")
        level = level or (1 if not blocks else _title_level(title) + 1)
        tracker.enter(level, title)
        blocks.append(Block(HEADING, title, None, tracker.path, level))

    for paragraph in re.split(r"\n\s*\n", text):
        lines = [squash_spaces(l) for l in paragraph.split("\n") if l.strip()]
        if len(lines) >= 2 and re.fullmatch(r"[=\-~]{3,}", lines[1]):
            heading(lines[0], 1 if lines[1].startswith("=") else 2)
            lines = lines[2:]
        if lines and _looks_like_title(lines[0]):
            heading(lines[0])
            lines = lines[1:]
        if lines:
            blocks.append(Block(TEXT, " ".join(lines), None, tracker.path))
    return ParsedDocument(blocks)


def _looks_like_title(line: str) -> bool:
    if len(line) > 70 or line.endswith((".", ",", ";", "?", "!")) or len(line.split()) > 9:
        return False
    return line.isupper() or line.endswith(":") or line.istitle() or bool(re.match(r"\d+(\.\d+)*\.?\s+[A-Z]", line))


def _title_level(line: str) -> int:
    numbered = re.match(r"(\d+(?:\.\d+)*)", line)
    return numbered.group(1).count(".") + 1 if numbered else 1
