"""Checks an upload before it is accepted: size, type by content (not by name), hostile or unreadable files.

Everything here is fast and reads only what it must (a PDF's page tree, a ZIP's directory); the real parsing
happens in the background job.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import zipfile
from dataclasses import dataclass

from quantum_voice.services.knowledge.errors import DocumentRejected, FileTooLarge

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"

# The upload page takes this many files in one request (each up to KNOWLEDGE_MAX_UPLOAD_MB); the request-body limit
# of its upload endpoint (Reflex's /_upload, quantum_voice/api/limits.py) follows from both.
MAX_FILES_PER_UPLOAD = 20

SUPPORTED_HINT = "Upload a PDF, a Word document (.docx), a plain-text (.txt) or a Markdown (.md) file."

# A DOCX is a ZIP: refuse archives that unpack to far more than any real document (zip bombs).
DOCX_MAX_UNPACKED_BYTES = 200 * 1024 * 1024
DOCX_MAX_ENTRIES = 5000
DOCX_MAX_RATIO = 200  # unpacked ÷ packed size of one entry; real Word XML compresses about 5–20×

_KNOWN_BINARY = {
    b"\xd0\xcf\x11\xe0": "This looks like an old Word (.doc) or Excel file. Open it and save it as .docx, then "
                         "upload that.",
    b"\x89PNG": "This is an image. Upload the document it shows as PDF, DOCX or text instead.",
    b"\xff\xd8\xff": "This is an image. Upload the document it shows as PDF, DOCX or text instead.",
    b"GIF8": "This is an image. Upload the document it shows as PDF, DOCX or text instead.",
}
_MARKDOWN_SIGNS = re.compile(r"^(#{1,6} \S|```|\|?\s*:?-{3,}:?\s*\||[*-] \[[ x]\] )", re.MULTILINE)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadFacts:
    content_type: str
    sha256: str
    size_bytes: int
    page_count: int | None


def inspect_upload(data: bytes, *, max_bytes: int, max_pages: int) -> UploadFacts:
    """Accept or refuse ``data``; raises :class:`DocumentRejected` saying what to do."""
    if len(data) > max_bytes:
        raise FileTooLarge(f"The file is {len(data) / 1048576:.1f} MB; the limit is {max_bytes // 1048576} MB. "
                           "Split it into smaller files or remove large images, then upload again.")
    if not data.strip():
        raise DocumentRejected("The file is empty. Choose the file that has your content and upload it again.",
                               code="empty_file")
    content_type = detect_content_type(data)
    page_count = None
    if content_type == PDF:
        page_count = check_pdf(data, max_pages=max_pages)
    elif content_type == DOCX:
        check_docx_archive(data)
    return UploadFacts(content_type, hashlib.sha256(data).hexdigest(), len(data), page_count)


def detect_content_type(data: bytes) -> str:
    """The type of ``data`` from its bytes; refuses anything that is not PDF, DOCX, text or Markdown."""
    if b"%PDF-" in data[:1024]:
        return PDF
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    for magic, message in _KNOWN_BINARY.items():
        if data.startswith(magic):
            raise DocumentRejected(message, code="unsupported_file_type")
    text = decode_text(data)
    if text is None:
        raise DocumentRejected(f"This file type is not supported. {SUPPORTED_HINT}", code="unsupported_file_type")
    return MARKDOWN if _MARKDOWN_SIGNS.search(text) else TEXT


def _zip_type(data: bytes) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DocumentRejected("This file is damaged (a broken ZIP/Word archive). Open it in Word, save it again "
                               "as .docx and upload the new file.", code="corrupt_file") from None
    if "word/document.xml" in names:
        return DOCX
    raise DocumentRejected(f"This archive is not a Word document. {SUPPORTED_HINT}", code="unsupported_file_type")


def decode_text(data: bytes) -> str | None:
    """``data`` as text when it is text (UTF-8, UTF-16 with a BOM, or Windows-1252), else ``None``."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return None if controls > len(sample) * 0.01 else text


def check_docx_archive(data: bytes) -> None:
    """Refuse DOCX archives that are damaged or unpack to absurd sizes (zip bombs)."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DocumentRejected("This Word file is damaged. Open it in Word, save it again and upload the new "
                               "file.", code="corrupt_file") from None
    total = sum(e.file_size for e in entries)
    worst_ratio = max((e.file_size / max(e.compress_size, 1) for e in entries if e.file_size > 1_000_000), default=0)
    if len(entries) > DOCX_MAX_ENTRIES or total > DOCX_MAX_UNPACKED_BYTES or worst_ratio > DOCX_MAX_RATIO:
        raise DocumentRejected(f"This Word file unpacks to {total / 1048576:.0f} MB in {len(entries)} parts, far "
                               "more than any real document (it looks like a zip bomb). Re-save the document in "
                               "Word, or export it as PDF, and upload that.", code="hostile_file")


def check_pdf(data: bytes, *, max_pages: int) -> int:
    """Open the PDF far enough to refuse damaged, password-protected, empty or huge ones; returns its pages."""
    reader = open_pdf(data)
    try:
        count = int(reader.trailer["/Root"]["/Pages"]["/Count"])  # declared count: cheap, no page-tree walk
    except Exception:
        count = len(_pdf_pages(reader))
    if count > max_pages:
        raise DocumentRejected(f"This PDF has {count} pages; the limit is {max_pages}. Split it into smaller PDFs "
                               "(for example by chapter) and upload those.", code="too_many_pages")
    pages = _pdf_pages(reader)
    if len(pages) > max_pages:
        raise DocumentRejected(f"This PDF has {len(pages)} pages; the limit is {max_pages}. Split it into smaller "
                               "PDFs and upload those.", code="too_many_pages")
    if not pages:
        raise DocumentRejected("This PDF has no pages. Export the document to PDF again and upload the new file.",
                               code="empty_file")
    return len(pages)


def open_pdf(data: bytes):
    """A pypdf reader for ``data``, decrypted when it opens with an empty password."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many kinds of errors on broken files
        log.info("unreadable PDF: %s", type(exc).__name__)
        raise DocumentRejected("This PDF is damaged and cannot be read. Open it and export or print it to PDF "
                               "again, then upload the new file.", code="corrupt_file") from None
    if encrypted and not _decrypts_without_password(reader):
        raise DocumentRejected("This PDF is password-protected. Save a copy without the password (for example "
                               "print it to PDF) and upload that.", code="encrypted_pdf")
    return reader


def _decrypts_without_password(reader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


def _pdf_pages(reader) -> list:
    try:
        return list(reader.pages)
    except Exception:
        raise DocumentRejected("This PDF is damaged (its page list cannot be read). Export or print it to PDF "
                               "again, then upload the new file.", code="corrupt_file") from None
