"""Real PDF, DOCX and ZIP files made on the spot for the knowledge tests (fpdf2, pypdf, python-docx, zipfile)."""

from __future__ import annotations

import io
import zipfile

from bench.render import markdown_to_docx, markdown_to_pdf  # noqa: F401  (re-exported for the tests)

BROCHURE_MD = """# Harbor View Residences

Harbor View Residences is a waterfront condominium building with 142 homes. Construction started in 2025.

## Pricing

| Model | Bedrooms | Price |
|---|---|---|
| Aster | 1 | $420,000 |
| Cedar | 3 | $689,000 |

The monthly HOA fee is $450. It covers water, trash collection and the fitness centre.

## Parking

Each residence includes one covered parking space in the garage. Forty spaces have electric vehicle chargers.

## Pets

Residents may keep up to two cats or dogs. A fenced dog run is in the courtyard.
"""


def pdf_with_pages(texts: list[str], heading: str | None = None) -> bytes:
    """One page per text, optionally each starting with a bold 18 pt heading."""
    from fpdf import FPDF

    pdf = FPDF()
    for text in texts:
        pdf.add_page()
        if heading:
            pdf.set_font("Helvetica", "B", 18)
            pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def image_only_pdf() -> bytes:
    """A 'scanned' PDF: one page holding only a picture, no text layer."""
    from fpdf import FPDF
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (200, 120), (200, 200, 190)).save(picture, format="PNG")
    picture.seek(0)
    pdf = FPDF()
    pdf.add_page()
    pdf.image(picture, x=10, y=10, w=180)
    return bytes(pdf.output())


def blank_pdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def encrypted_pdf(password: str = "s3cret") -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_pages(["Secret price list."]))))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def zip_bomb_docx(unpacked_mb: int = 40) -> bytes:
    """A DOCX-shaped archive with one part that inflates far beyond any real document."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("word/media/padding.bin", b"\0" * (unpacked_mb * 1024 * 1024))
    return out.getvalue()


def spreadsheet_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return out.getvalue()
