"""Parsing keeps headings (as sections), page numbers and tables, for every format."""

import pytest

from quantum_voice.services.knowledge import intake
from quantum_voice.services.knowledge.errors import DocumentRejected
from quantum_voice.services.knowledge.parsing import (HEADING, TABLE, parse_document, parse_markdown,
                                                      parse_plain_text, table_rows_as_lines)
from tests.unit.knowledge import files


def texts(parsed, kind=None):
    return [b.text for b in parsed.blocks if kind is None or b.kind == kind]


def test_pdf_headings_come_from_larger_bold_type_and_sections_follow_them():
    parsed = parse_document(files.markdown_to_pdf(files.BROCHURE_MD), intake.PDF)
    assert texts(parsed, HEADING) == ["Harbor View Residences", "Pricing", "Parking", "Pets"]
    parking = next(b for b in parsed.blocks if "covered parking" in b.text)
    assert parking.section == "Harbor View Residences › Parking" and parking.page == 1
    assert parsed.page_count == 1


def test_pdf_blocks_keep_their_page_numbers():
    parsed = parse_document(files.pdf_with_pages(["First page talks about parking spaces.",
                                                  "Second page talks about the rooftop pool.",
                                                  "Third page talks about pets and the dog run."]), intake.PDF)
    pages = {b.page for b in parsed.blocks if "pool" in b.text}
    assert pages == {2} and parsed.page_count == 3


def test_pdf_tables_keep_one_row_per_line():
    parsed = parse_document(files.markdown_to_pdf(files.BROCHURE_MD), intake.PDF)
    table = next(b for b in parsed.blocks if "$689,000" in b.text)
    assert table.kind == TABLE and "Cedar 3 $689,000" in table.text.splitlines()


def test_image_only_pdf_is_refused_with_ocr_advice():
    with pytest.raises(DocumentRejected) as caught:
        parse_document(files.image_only_pdf(), intake.PDF)
    assert caught.value.code == "image_only_pdf" and "OCR" in caught.value.message


def test_pdf_without_any_text_is_refused():
    with pytest.raises(DocumentRejected) as caught:
        parse_document(files.blank_pdf(2), intake.PDF)
    assert caught.value.code == "empty_file"


def test_docx_heading_styles_become_sections_and_tables_become_rows():
    parsed = parse_document(files.markdown_to_docx(files.BROCHURE_MD), intake.DOCX)
    assert texts(parsed, HEADING) == ["Harbor View Residences", "Pricing", "Parking", "Pets"]
    table = next(b for b in parsed.blocks if b.kind == TABLE)
    assert table.section == "Harbor View Residences › Pricing"
    assert "Model: Cedar; Bedrooms: 3; Price: $689,000" in table.text.splitlines()


def test_docx_merged_cells_are_read_once_and_equal_neighbours_are_kept():
    import io

    import docx

    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for c, text in enumerate(["Model", "Beds", "Baths"]):
        table.cell(0, c).text = text
    for c, text in enumerate(["Aster", "1", "1"]):
        table.cell(1, c).text = text
    merged = table.cell(2, 1).merge(table.cell(2, 2))
    table.cell(2, 0).text, merged.text = "Studio", "none"
    buffer = io.BytesIO()
    document.save(buffer)
    rows = next(b for b in parse_document(buffer.getvalue(), intake.DOCX).blocks if b.kind == TABLE).text.splitlines()
    assert rows[1] == "Model: Aster; Beds: 1; Baths: 1"
    assert rows[2] == "Model: Studio; Beds: none"


def test_corrupt_docx_is_refused():
    data = files.markdown_to_docx(files.BROCHURE_MD)
    with pytest.raises(DocumentRejected) as caught:
        parse_document(data[:200], intake.DOCX)
    assert caught.value.code == "corrupt_file"


def test_markdown_headings_tables_lists_and_links():
    parsed = parse_markdown("# Guide\n\nSee [our site](http://x.test) for **more**.\n\n## Transit\n\n- Train in 4 min\n"
                            "- Ferry every 30 min\n\n| Stop | Minutes |\n|---|---|\n| Quay | 4 |\n")
    assert texts(parsed, HEADING) == ["Guide", "Transit"]
    assert "See our site for more." in texts(parsed)
    assert "Train in 4 min" in texts(parsed) and "Stop: Quay; Minutes: 4" in texts(parsed, TABLE)[0]
    assert parsed.blocks[-1].section == "Guide › Transit"


def test_plain_text_titles_become_headings():
    parsed = parse_plain_text("BUYING FAQ\n\nDEPOSITS\n\nWhat deposit is needed?\nTen percent at signing.\n\n"
                              "Parking:\nOne space per home.\n")
    assert texts(parsed, HEADING) == ["BUYING FAQ", "DEPOSITS", "Parking"]
    deposit = next(b for b in parsed.blocks if "Ten percent" in b.text)
    assert deposit.section == "BUYING FAQ › DEPOSITS"


def test_text_without_words_is_refused():
    with pytest.raises(DocumentRejected):
        parse_document(b"...\n\n--\n", intake.TEXT)


def test_table_rows_without_a_header_are_joined_with_bars():
    assert table_rows_as_lines([["a", ""], ["", ""], ["b", "c"]]) == ["a", "b | c"]
