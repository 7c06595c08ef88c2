"""The /knowledge/upload panel: the files of the current upload, each one's share of the bytes sent, and then its
document's way through processing (the root state polls the documents; the rows follow them)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import DomainError
from quantum_voice.services.knowledge import documents
from quantum_voice.services.knowledge.errors import FileTooLarge
from quantum_voice.states.knowledge.root import PROCESSING, DocumentRow, KnowledgeState

log = logging.getLogger("quantum_voice.knowledge")
UPLOAD_NOT_STORED = ("The file could not be stored just now (the database did not answer). Nothing was added; "
                     "try again.")
UPLOAD_BROKE_OFF = "The upload did not finish: the connection broke off or the server refused it. Try again."
UPLOAD_WATCH_SECONDS = 5
UPLOAD_STALL_SECONDS = 120  # no progress for this long, and no answer: the request is gone


@dataclass
class UploadRow:
    """One file of the current upload: refused at once (``error``) or followed through processing (``document_id``)."""
    name: str = ""
    document_id: int = 0
    status: str = "uploading"
    progress: int = 0
    error: str = ""


def upload_progress_by_file(sizes: list[int], loaded: int, total: int) -> list[int]:
    """Percent sent of each file of one upload request, from the bytes of the whole request.

    Reflex sends every selected file in one multipart request and reports progress only for that request, so the
    split is estimated: the files travel in order, and the request's overhead (boundaries, part headers) is spread
    over them in proportion."""
    sizes = [max(size, 0) for size in sizes]
    done = total > 0 and loaded >= total
    sent = sum(sizes) * min(max(loaded, 0), total) / total if total > 0 else 0.0
    percents, start = [], 0
    for size in sizes:
        fraction = (sent - start) / size if size else float(done or sent > start)
        percents.append(int(min(max(fraction, 0.0), 1.0) * 100))
        start += size
    return percents


def follow_documents(files: list[UploadRow], docs: list[DocumentRow]) -> list[UploadRow]:
    """The rows as the page shows them: a file the server stored shows its document as it stands now, and goes
    once that document is deleted; a file still on its way, or refused, shows as it is."""
    by_id = {d.id: d for d in docs}
    rows = []
    for file in files:
        if not file.document_id:
            rows.append(file)
        elif (d := by_id.get(file.document_id)) is not None:
            rows.append(UploadRow(file.name, file.document_id, d.status, d.progress, d.error))
    return rows


class UploadsState(KnowledgeState):
    _files: list[UploadRow] = []  # as each file left the upload; a stored one then follows its document
    upload_progress: int = 0  # percent of the bytes of the whole request sent
    uploading: bool = False  # from the click on Upload until the server has stored every file
    _upload_sizes: list[int] = []
    _upload_started: float = 0.0  # when the current upload began (``watch_upload`` follows that one only)
    _upload_progress_at: float = 0.0  # when the browser last reported bytes sent

    @rx.var
    def uploads(self) -> list[UploadRow]:
        return follow_documents(self._files, self._documents)

    @rx.var
    def max_upload_mb(self) -> int:
        return get_settings().knowledge_max_upload_mb

    def _forget(self) -> None:
        self._files = []

    @rx.event
    def drop_unsent(self):
        """On opening the page: an upload request that failed in the browser never reaches ``upload``, so don't leave
        its rows hanging."""
        self.uploading, self.upload_progress = False, 0
        self._files = [f for f in self._files if f.status != "uploading"]

    @rx.event
    def start_upload(self, files: list[list]):
        """Runs on the click, before the bytes travel: one "uploading" row per selected file ([name, size])."""
        rows = [UploadRow(name=str(name), status="uploading") for name, _ in files]
        self._upload_sizes = [int(size or 0) for _, size in files]
        self._files = rows + [f for f in self._files if f.status != "uploading"]
        self.uploading, self.upload_progress = True, 0
        self._upload_started = self._upload_progress_at = time.monotonic()
        return UploadsState.watch_upload(self._upload_started)

    @rx.event
    def set_upload_progress(self, progress: dict):
        # Progress events can still arrive after the server has stored the files; they change nothing then.
        if not self.uploading:
            return
        loaded, total = int(progress.get("loaded", 0) or 0), int(progress.get("total", 0) or 0)
        self.upload_progress = int(round(float(progress.get("progress", 0) or 0) * 100))
        self._upload_progress_at = time.monotonic()
        sending = [f for f in self._files if f.status == "uploading"]
        for row, percent in zip(sending, upload_progress_by_file(self._upload_sizes, loaded, total)):
            row.progress = percent
        self._files = list(self._files)

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Each file through the same checks as POST /api/knowledge/upload; one refused file stops no other."""
        self.uploading = True
        limit = get_settings().knowledge_max_upload_mb * 1024 * 1024
        rows = []
        for file in files:
            name = file.name or file.filename or "upload"
            try:
                data = await file.read()
            except Exception:  # noqa: BLE001 - the request broke off: say so for this file, go on with the rest
                log.exception("reading the upload %r failed", name)
                rows.append(UploadRow(name, 0, "failed", 0, UPLOAD_BROKE_OFF))
                continue
            rows.append(self._store_upload(name, data, limit))
        new_ids = {r.document_id for r in rows if r.document_id}
        self._files = rows + [f for f in self._files if f.status != "uploading"
                              and (not f.document_id or f.document_id not in new_ids)]
        self.uploading, self.upload_progress, self._upload_sizes = False, 0, []
        refused = sum(1 for r in rows if r.status == "failed")
        events = [rx.clear_selected_files("kb-upload"), *await self._attempt(lambda repo: None)]
        if refused:
            events.append(rx.toast.error(f"{refused} of {len(rows)} file(s) could not be added. See why below."))
        else:
            events.append(rx.toast.success(f"{len(rows)} file(s) uploaded. Processing has started."))
        return events

    def _store_upload(self, name: str, data: bytes, limit: int) -> UploadRow:
        try:
            if len(data) > limit:
                raise FileTooLarge(f"The file is larger than {limit // 1048576} MB. Split it into smaller files or "
                                   "remove large images, then upload again.")
            with self._signed_in_repo() as repo:
                document = documents.upload_document(repo, self.kb_id, name, data)
                return UploadRow(name, document.id, document.status, 0, "")
        except DomainError as exc:
            return UploadRow(name, 0, "failed", 0, exc.message)
        except Exception:  # noqa: BLE001 - the database did not answer (locked, down): nothing stored, say so
            log.exception("storing the upload %r failed", name)
            return UploadRow(name, 0, "failed", 0, UPLOAD_NOT_STORED)

    @rx.event(background=True)
    async def watch_upload(self, started: float):
        """The browser's upload request may fail before it reaches ``upload`` (the connection dropped, the server
        refused it): then nothing else would end "Uploading…". After a while without progress, say so."""
        while True:
            await asyncio.sleep(UPLOAD_WATCH_SECONDS)
            async with self:
                if not self.uploading or self._upload_started != started:
                    return None
                if time.monotonic() - self._upload_progress_at < UPLOAD_STALL_SECONDS:
                    continue
                self._files = [UploadRow(f.name, 0, "failed", 0, UPLOAD_BROKE_OFF) if f.status == "uploading" else f
                               for f in self._files]
                self.uploading, self.upload_progress = False, 0
                return rx.toast.error(UPLOAD_BROKE_OFF)

    @rx.event
    def clear_uploads(self):
        still_processing = {u.document_id for u in self.uploads if u.status in PROCESSING}
        self._files = [f for f in self._files if f.document_id and f.document_id in still_processing]
