"""Why a document or web source was refused. Each message tells the user what to do instead."""

from __future__ import annotations

from quantum_voice.core.errors import DomainError, ValidationFailed


class DocumentRejected(ValidationFailed):
    """The file (or page) cannot become knowledge as it is; retrying will not help."""

    code = "document_rejected"


class FileTooLarge(DocumentRejected):
    status = 413
    code = "file_too_large"


class FetchFailed(DomainError):
    """A web page could not be fetched right now; retrying may help."""

    status = 502
    code = "fetch_failed"
