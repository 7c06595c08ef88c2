"""Renders the Markdown fixtures as real PDF and DOCX files (fpdf2, python-docx), for the benchmark and tests."""

from __future__ import annotations

import io
import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")


def _markdown_items(markdown: str):
    """("heading", level, text) | ("table", rows) | ("paragraph", text) from simple Markdown."""
    table: list[list[str]] = []
    for line in markdown.splitlines() + [""]:
        stripped = line.strip()
        if stripped.startswith("|"):
            if not re.fullmatch(r"\|?[\s:|-]+\|?", stripped):
                table.append([c.strip() for c in stripped.strip("|").split("|")])
            continue
        if table:
            yield ("table", table)
            table = []
        heading = _HEADING.match(stripped)
        if heading:
            yield ("heading", len(heading.group(1)), heading.group(2))
        elif stripped:
            yield ("paragraph", stripped)


def _paragraphs(markdown: str):
    """Joins wrapped lines into paragraphs (blank line = paragraph break)."""
    blocks, current = [], []
    for line in markdown.splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "|")):
            if current:
                blocks.append(" ".join(current))
                current = []
            if line.strip():
                blocks.append(line.strip())
            continue
        current.append(line.strip())
    if current:
        blocks.append(" ".join(current))
    return "\n".join(blocks)


def markdown_to_pdf(markdown: str, *, repeat: int = 1, page_break_between: bool = True) -> bytes:
    """A PDF with headings in larger bold type, tables as grid rows and body text in 11 pt."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=15)
    for copy in range(repeat):
        if copy == 0 or page_break_between:
            pdf.add_page()
        for item in _markdown_items(_paragraphs(markdown)):
            _pdf_item(pdf, item)
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    return text.replace("’", "'").replace("–", "-").replace("—", "-").encode("latin-1", "replace").decode("latin-1")


def _pdf_item(pdf, item) -> None:
    if item[0] == "heading":
        pdf.set_font("Helvetica", "B", {1: 20, 2: 15}.get(item[1], 13))
        pdf.multi_cell(0, 9, _latin1(item[2]), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    elif item[0] == "table":
        pdf.set_font("Helvetica", "", 9)
        with pdf.table() as table:
            for row in item[1]:
                cells = table.row()
                for cell in row:
                    cells.cell(_latin1(cell))
        pdf.ln(3)
    else:
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, _latin1(item[1]), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)


def markdown_to_docx(markdown: str) -> bytes:
    """A Word document with real heading styles and a real table."""
    import docx

    document = docx.Document()
    for item in _markdown_items(_paragraphs(markdown)):
        if item[0] == "heading":
            document.add_heading(item[2], level=min(item[1], 4))
        elif item[0] == "table":
            rows = item[1]
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            for r, row in enumerate(rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(item[1])
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
