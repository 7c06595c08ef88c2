"""Uploads are typed by content and refused with a message saying what to do."""

import pytest

from quantum_voice.services.knowledge import intake
from quantum_voice.services.knowledge.errors import DocumentRejected, FileTooLarge
from tests.unit.knowledge import files

MB = 1024 * 1024


def inspect(data: bytes, max_bytes: int = 25 * MB, max_pages: int = 2000):
    return intake.inspect_upload(data, max_bytes=max_bytes, max_pages=max_pages)


def rejection(data: bytes, **limits) -> DocumentRejected:
    with pytest.raises(DocumentRejected) as caught:
        inspect(data, **limits)
    return caught.value


def test_each_supported_format_is_recognised_by_its_content():
    assert inspect(files.pdf_with_pages(["Hello there, this is a PDF."])).content_type == intake.PDF
    assert inspect(files.markdown_to_docx(files.BROCHURE_MD)).content_type == intake.DOCX
    assert inspect(b"Plain words about the building.\n").content_type == intake.TEXT
    assert inspect(files.BROCHURE_MD.encode()).content_type == intake.MARKDOWN


def test_the_type_does_not_come_from_the_name():
    # detect_content_type never sees a file name: a PNG called brochure.pdf is still a PNG.
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    error = rejection(png)
    assert error.code == "unsupported_file_type" and "image" in error.message


def test_pdf_facts_include_hash_size_and_pages():
    data = files.pdf_with_pages(["one", "two", "three"])
    facts = inspect(data)
    assert facts.page_count == 3 and facts.size_bytes == len(data) and len(facts.sha256) == 64


def test_empty_files_are_refused():
    assert rejection(b"").code == "empty_file"
    assert rejection(b"   \n\n ").code == "empty_file"


def test_files_over_the_limit_are_refused_with_the_limit_in_the_message():
    with pytest.raises(FileTooLarge) as caught:
        inspect(b"x" * (2 * MB + 1), max_bytes=2 * MB)
    assert caught.value.status == 413 and "limit is 2 MB" in caught.value.message


def test_corrupt_pdf_is_refused_and_says_to_export_again():
    good = files.pdf_with_pages(["Some text that is long enough."])
    error = rejection(b"%PDF-1.7\n" + b"\x07garbage" * 50)
    assert error.code == "corrupt_file" and "export" in error.message.lower()
    assert rejection(good[: len(good) // 3]).code in ("corrupt_file", "empty_file")


def test_password_protected_pdf_is_refused_and_says_how_to_fix_it():
    error = rejection(files.encrypted_pdf())
    assert error.code == "encrypted_pdf" and "without the password" in error.message


def test_pdf_with_too_many_pages_is_refused():
    error = rejection(files.blank_pdf(60), max_pages=50)
    assert error.code == "too_many_pages" and "Split it" in error.message


def test_zip_bomb_docx_is_refused():
    error = rejection(files.zip_bomb_docx(40))
    assert error.code == "hostile_file" and "zip bomb" in error.message


def test_other_archives_and_old_word_files_are_refused():
    assert rejection(files.spreadsheet_zip()).code == "unsupported_file_type"
    assert "save it as .docx" in rejection(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512).message
    assert rejection(b"PK\x03\x04 not really a zip").code == "corrupt_file"


def test_binary_garbage_is_not_text():
    assert rejection(bytes(range(256)) * 40).code == "unsupported_file_type"


def test_windows_and_utf16_text_decode():
    assert intake.decode_text("Café prices".encode("cp1252")) == "Café prices"
    assert intake.decode_text("Hello".encode("utf-16")) == "Hello"
