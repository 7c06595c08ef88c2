"""/knowledge and /knowledge/upload: knowledge bases, their documents, Q&A pairs, test questions and analytics.

Every read and write goes through ``services.knowledge`` (the same functions the REST API calls); this state
only holds what the pages show.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import reflex as rx

from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import DomainError
from quantum_voice.models.knowledge import Document, QnAPair
from quantum_voice.services.knowledge import documents, listing, qna, questions
from quantum_voice.services.knowledge.errors import FileTooLarge
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.forms import ConfirmStep, FormErrors
from quantum_voice.states.session import SessionState

log = logging.getLogger("quantum_voice.knowledge")
UPLOAD_NOT_STORED = ("The file could not be stored just now (the database did not answer). Nothing was added; "
                     "try again.")
UPLOAD_BROKE_OFF = "The upload did not finish: the connection broke off or the server refused it. Try again."
UPLOAD_WATCH_SECONDS = 5
UPLOAD_STALL_SECONDS = 120  # no progress for this long, and no answer: the request is gone

PROCESSING = ("queued", "parsing", "chunking", "embedding")
RENAME_NAME = "rename_name"  # the rename dialog's field, kept apart from the create form's "name"
POLL_SECONDS = 1.5
TYPE_LABELS = {"application/pdf": "PDF", "text/plain": "Text", "text/markdown": "Markdown", "text/html": "Web",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word"}


@dataclass
class BaseRow:
    id: int = 0
    name: str = ""
    description: str = ""
    documents: int = 0
    ready: int = 0
    chunks: int = 0


@dataclass
class DocumentRow:
    id: int = 0
    name: str = ""
    kind: str = ""
    size: str = ""
    status: str = ""
    progress: int = 0  # percent
    chunks: int = 0
    error: str = ""
    processing: bool = False
    updated: str = ""
    added: str = ""
    size_bytes: int = 0
    created_at: str = ""  # ISO, for sorting


@dataclass
class UploadRow:
    """One file of the current upload: refused at once (``error``) or followed through processing (``document_id``)."""
    name: str = ""
    document_id: int = 0
    status: str = "uploading"
    progress: int = 0
    error: str = ""


@dataclass
class QnARow:
    id: int = 0
    question: str = ""
    answer: str = ""
    enabled: bool = True
    source: str = ""


@dataclass
class SourceRow:
    document_name: str = ""
    page: str = ""
    section: str = ""


@dataclass
class QuestionRow:
    question: str = ""
    count: int = 0
    answered: int = 0
    confidence: int = 0  # percent
    last_asked: str = ""


@dataclass
class TestResult:
    asked: bool = False
    answered: bool = False
    text: str = ""
    confidence: int = 0  # percent
    threshold: int = 0
    origin: str = ""  # qna | extractive | …
    sources: list[SourceRow] = field(default_factory=list)


def size_label(size: int) -> str:
    if not size:
        return "—"
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(size / 1024, 0.1):.1f} KB"


def document_row(d: Document) -> DocumentRow:
    return DocumentRow(id=d.id, name=d.name, kind=TYPE_LABELS.get(d.content_type or "", d.source_type),
                       size=size_label(d.size_bytes), status=d.status, progress=int(round((d.progress or 0) * 100)),
                       chunks=d.chunk_count or 0, error=d.error or "", processing=d.status in PROCESSING,
                       updated=moment(d.updated_at), added=moment(d.created_at), size_bytes=d.size_bytes or 0,
                       created_at=d.created_at.isoformat() if d.created_at else "")


def deletion_warning(base: BaseRow, campaigns: list[str]) -> str:
    """What the confirm dialog says before a knowledge base goes: its documents, and who answers from it."""
    count = f"{base.documents} document{'' if base.documents == 1 else 's'}"
    text = (f"“{base.name}” will be deleted with its {count}, its Q&A pairs and its caller-question history. "
            "This cannot be undone.")
    if campaigns:
        named = ", ".join(f"“{c}”" for c in campaigns)
        text += (f" {'Campaign' if len(campaigns) == 1 else 'Campaigns'} {named} "
                 f"{'answers' if len(campaigns) == 1 else 'answer'} callers from it and will have no knowledge base "
                 "until you attach another.")
    return text


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


def qna_row(p: QnAPair) -> QnARow:
    return QnARow(p.id, p.question, p.answer, p.enabled, p.source)


def question_row(s: questions.QuestionStat) -> QuestionRow:
    return QuestionRow(s.question, s.count, s.answered_count, int(round(s.average_confidence * 100)),
                       moment(s.last_asked_at))


class KnowledgeState(ConfirmStep, FormErrors, SessionState):
    loaded: bool = False
    can_edit: bool = False
    bases: list[BaseRow] = []
    kb_id: int = 0
    # Every document of the chosen base stays on the server; the page gets one sorted page of them.
    _documents: list[DocumentRow] = []
    doc_sort: str = "added"  # one of listing.SORT_COLUMNS
    doc_sort_desc: bool = True
    doc_page: int = 0
    pairs: list[QnARow] = []
    most_asked: list[QuestionRow] = []
    unanswered: list[QuestionRow] = []
    uploads: list[UploadRow] = []
    upload_progress: int = 0  # percent of the bytes of the whole request sent
    uploading: bool = False  # from the click on Upload until the server has stored every file
    _upload_sizes: list[int] = []
    _upload_started: float = 0.0  # when the current upload began (``watch_upload`` follows that one only)
    _upload_progress_at: float = 0.0  # when the browser last reported bytes sent
    # Rename dialog
    rename_open: bool = False
    # Q&A editor: 0 → a new pair.
    qna_editing_id: int = 0
    qna_question: str = ""
    qna_answer: str = ""
    qna_source: str = "manual"
    # Test panel
    test_question: str = ""
    test_busy: bool = False
    test: TestResult = TestResult()
    # Web source form
    source_kind: str = "page"
    # Confirm dialog for deletions
    _polling: bool = False

    @rx.var
    def kb_name(self) -> str:
        return next((b.name for b in self.bases if b.id == self.kb_id), "")

    @rx.var
    def kb_value(self) -> str:
        return str(self.kb_id) if self.kb_id else ""

    @rx.var
    def kb_description(self) -> str:
        return next((b.description for b in self.bases if b.id == self.kb_id), "")

    @rx.var
    def any_processing(self) -> bool:
        return any(d.processing for d in self._documents)

    @rx.var
    def document_count(self) -> int:
        return len(self._documents)

    @rx.var
    def visible_documents(self) -> list[DocumentRow]:
        page = listing.page_of(len(self._documents), self.doc_page)
        return listing.sort_documents(self._documents, self.doc_sort, self.doc_sort_desc)[page.start:page.stop]

    @rx.var
    def documents_range(self) -> str:
        return listing.page_of(len(self._documents), self.doc_page).label

    @rx.var
    def has_previous_documents(self) -> bool:
        return listing.page_of(len(self._documents), self.doc_page).has_previous

    @rx.var
    def has_next_documents(self) -> bool:
        return listing.page_of(len(self._documents), self.doc_page).has_next

    @rx.var
    def max_upload_mb(self) -> int:
        return get_settings().knowledge_max_upload_mb

    # ------------------------------------------------------------ loading

    def _reload(self, repo: OrgRepository) -> None:
        self.can_edit = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        self.bases = [BaseRow(s.knowledge_base.id, s.knowledge_base.name, s.knowledge_base.description or "",
                              s.document_count, s.ready_count, s.chunk_count)
                      for s in documents.list_knowledge_bases(repo)]
        if self.kb_id not in {b.id for b in self.bases}:
            self.kb_id = self.bases[0].id if self.bases else 0
            self.test, self.doc_page = TestResult(), 0
        self._reload_documents(repo)
        self.pairs = [qna_row(p) for p in qna.list_pairs(repo, self.kb_id)] if self.kb_id else []
        self.most_asked = ([question_row(s) for s in questions.most_asked(repo, self.kb_id)]
                           if self.kb_id else [])
        self.unanswered = ([question_row(s) for s in questions.unanswered(repo, self.kb_id)]
                           if self.kb_id else [])
        self.loaded = True

    def _reload_documents(self, repo: OrgRepository) -> None:
        self._documents = ([document_row(d) for d in documents.list_documents(repo, self.kb_id)]
                           if self.kb_id else [])
        self.doc_page = listing.page_of(len(self._documents), self.doc_page).number
        by_id = {d.id: d for d in self._documents}
        for row in self.uploads:
            if row.document_id in by_id:
                d = by_id[row.document_id]
                row.status, row.progress, row.error = d.status, d.progress, d.error
        self.uploads = list(self.uploads)

    def _attempt(self, action: Callable[[OrgRepository], object], success: str = ""):
        """Run one service call, refresh what the page shows, and say how it went."""
        error = self._act_then_reload(action, self._reload)
        events = [KnowledgeState.poll_processing] if self.any_processing else []
        if error is not None:
            return [*events, rx.toast.error(error.message)]
        return [*events, rx.toast.success(success)] if success else events

    @rx.event
    def load(self):
        if redirect := self._guard():
            return redirect
        # An upload request that failed in the browser never reaches ``upload``: don't leave its rows hanging.
        self.uploading, self.upload_progress = False, 0
        self.uploads = [u for u in self.uploads if u.status != "uploading"]
        return self._attempt(lambda repo: None)

    @rx.event
    def select_base(self, value: str):
        self.kb_id = int(value) if str(value).isdigit() else 0
        self.test, self.uploads, self.doc_page = TestResult(), [], 0
        self._reset_qna_form()
        return self._attempt(lambda repo: None)

    @rx.event(background=True)
    async def poll_processing(self):
        """Refresh the documents every ``POLL_SECONDS`` while any of them is still being processed."""
        async with self:
            if self._polling:
                return
            self._polling = True
        try:
            while True:
                await asyncio.sleep(POLL_SECONDS)
                async with self:
                    with self._signed_in_repo() as repo:
                        was_processing = self.any_processing
                        self._reload_documents(repo)
                        if not self.any_processing:
                            if was_processing:
                                self._reload(repo)  # counts and analytics, once the work is done
                            return
        except DomainError:
            return
        finally:
            async with self:
                self._polling = False

    # ------------------------------------------------------------ knowledge bases

    @rx.event
    def create_base(self, form: dict):
        self._clear_error()
        name = form.get("name", "")
        try:
            with self._signed_in_repo() as repo:
                kb = documents.create_knowledge_base(repo, name)
                new_id = kb.id
        except DomainError as exc:
            self._show_error(exc, ("name",))
            return None
        self.kb_id, self.test, self.uploads = new_id, TestResult(), []
        return [*self._attempt(lambda repo: None), rx.set_value("kb-create-name", ""),
                rx.toast.success(f"Knowledge base “{' '.join(name.split())}” created.")]

    @rx.event
    def open_rename(self):
        self._clear_error()
        self.rename_open = True

    @rx.event
    def set_rename_open(self, open_: bool):
        self.rename_open = open_
        if not open_ and self.error_field == RENAME_NAME:
            self._clear_error()

    @rx.event
    def rename_base(self, form: dict):
        self._clear_error()
        kb_id, name, description = self.kb_id, form.get("name", ""), form.get("description", "")
        try:
            with self._signed_in_repo() as repo:
                new_name = documents.rename_knowledge_base(repo, kb_id, name, description).name
        except DomainError as exc:
            if exc.field == "name":  # beside the dialog's own field, not the create form's "name"
                self.error, self.error_field = exc.message, RENAME_NAME
                return None
            self.rename_open = False
            return [*self._attempt(lambda repo: None), rx.toast.error(exc.message)]
        self.rename_open = False
        return [*self._attempt(lambda repo: None), rx.toast.success(f"Knowledge base renamed to “{new_name}”.")]

    @rx.event
    def ask_delete_base(self):
        base = next((b for b in self.bases if b.id == self.kb_id), None)
        if base is None:
            return None
        try:
            with self._signed_in_repo() as repo:
                campaigns = listing.campaigns_using(repo, base.id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._ask("delete_base", base.id, "Delete knowledge base?", deletion_warning(base, campaigns))
        return None

    # ------------------------------------------------------------ documents list

    @rx.event
    def sort_documents(self, column: str):
        self.doc_sort, self.doc_sort_desc = listing.next_sort(self.doc_sort, self.doc_sort_desc, column)
        self.doc_page = 0

    @rx.event
    def next_documents(self):
        self.doc_page = listing.page_of(len(self._documents), self.doc_page + 1).number

    @rx.event
    def previous_documents(self):
        self.doc_page = listing.page_of(len(self._documents), self.doc_page - 1).number

    # ------------------------------------------------------------ documents

    @rx.event
    def add_web_source(self, form: dict):
        self._clear_error()
        url, kind = form.get("url", ""), form.get("kind", "page")
        kb_id = self.kb_id
        try:
            with self._signed_in_repo() as repo:
                documents.add_web_source(repo, kb_id, url, sitemap=kind == "sitemap")
        except DomainError as exc:
            self._show_error(exc, ("url",))
            return None
        return [*self._attempt(lambda repo: None), rx.set_value("kb-source-url", ""),
                rx.toast.success("Web source added. It is being fetched now.")]

    @rx.event
    def reprocess(self, document_id: int):
        return self._attempt(lambda repo: documents.reprocess_document(repo, document_id), "Reprocessing started.")

    @rx.event
    def ask_delete_document(self, document_id: int, name: str):
        self._ask("delete_document", document_id, "Delete document?",
                  f"“{name}” and everything the agent learnt from it will be removed from this knowledge base.")

    @rx.event
    def ask_delete_pair(self, pair_id: int, question: str):
        self._ask("delete_pair", pair_id, "Delete Q&A pair?", f"The agent will no longer answer “{question}” "
                                                                "with this pair.")

    @rx.event
    def confirm(self):
        self.confirm_open = False
        target = self._confirm_id
        if self._confirm_action == "delete_base":
            self.test, self.uploads, self.doc_page = TestResult(), [], 0
            self._reset_qna_form()
            return self._attempt(lambda repo: documents.delete_knowledge_base(repo, target), "Knowledge base deleted.")
        if self._confirm_action == "delete_pair":
            if self.qna_editing_id == target:
                self._reset_qna_form()
            return self._attempt(lambda repo: qna.delete_pair(repo, target), "Q&A pair deleted.")
        self.uploads = [u for u in self.uploads if u.document_id != target]
        return self._attempt(lambda repo: documents.delete_document(repo, target), "Document deleted.")

    # ------------------------------------------------------------ upload

    @rx.event
    def start_upload(self, files: list[list]):
        """Runs on the click, before the bytes travel: one "uploading" row per selected file ([name, size])."""
        rows = [UploadRow(name=str(name), status="uploading") for name, _ in files]
        self._upload_sizes = [int(size or 0) for _, size in files]
        self.uploads = rows + [u for u in self.uploads if u.status != "uploading"]
        self.uploading, self.upload_progress = True, 0
        self._upload_started = self._upload_progress_at = time.monotonic()
        return KnowledgeState.watch_upload(self._upload_started)

    @rx.event
    def set_upload_progress(self, progress: dict):
        # Progress events can still arrive after the server has stored the files; they change nothing then.
        if not self.uploading:
            return
        loaded, total = int(progress.get("loaded", 0) or 0), int(progress.get("total", 0) or 0)
        self.upload_progress = int(round(float(progress.get("progress", 0) or 0) * 100))
        self._upload_progress_at = time.monotonic()
        sending = [u for u in self.uploads if u.status == "uploading"]
        for row, percent in zip(sending, upload_progress_by_file(self._upload_sizes, loaded, total)):
            row.progress = percent
        self.uploads = list(self.uploads)

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
        self.uploads = rows + [u for u in self.uploads if u.status != "uploading"
                               and (not u.document_id or u.document_id not in new_ids)]
        self.uploading, self.upload_progress, self._upload_sizes = False, 0, []
        refused = sum(1 for r in rows if r.status == "failed")
        events = [rx.clear_selected_files("kb-upload"), *self._attempt(lambda repo: None)]
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
                self.uploads = [UploadRow(u.name, 0, "failed", 0, UPLOAD_BROKE_OFF) if u.status == "uploading" else u
                                for u in self.uploads]
                self.uploading, self.upload_progress = False, 0
                return rx.toast.error(UPLOAD_BROKE_OFF)

    @rx.event
    def clear_uploads(self):
        self.uploads = [u for u in self.uploads if u.status in PROCESSING]

    # ------------------------------------------------------------ Q&A pairs

    def _reset_qna_form(self) -> None:
        self.qna_editing_id, self.qna_question, self.qna_answer, self.qna_source = 0, "", "", "manual"
        self._clear_error()

    @rx.event
    def set_qna_question(self, value: str):
        self.qna_question = value

    @rx.event
    def set_qna_answer(self, value: str):
        self.qna_answer = value

    @rx.event
    def edit_pair(self, pair_id: int):
        pair = next((p for p in self.pairs if p.id == pair_id), None)
        if pair is not None:
            self._clear_error()
            self.qna_editing_id, self.qna_question, self.qna_answer = pair.id, pair.question, pair.answer
            self.qna_source = pair.source
        return rx.scroll_to("qna-editor")

    @rx.event
    def cancel_qna(self):
        self._reset_qna_form()

    @rx.event
    def answer_question(self, question: str):
        """Turn an unanswered caller question into a new Q&A pair: the editor opens with it filled in."""
        self._reset_qna_form()
        self.qna_question, self.qna_source = question, "unanswered_question"
        return [rx.scroll_to("qna-editor"), rx.set_focus("qna-answer")]

    @rx.event
    def save_pair(self):
        self._clear_error()
        editing, kb_id = self.qna_editing_id, self.kb_id
        question, answer, source = self.qna_question, self.qna_answer, self.qna_source
        try:
            with self._signed_in_repo() as repo:
                if editing:
                    qna.update_pair(repo, editing, question=question, answer=answer)
                else:
                    qna.create_pair(repo, kb_id, question, answer, source=source)
        except DomainError as exc:
            self._show_error(exc, ("question", "answer"))
            return None
        self._reset_qna_form()
        return self._attempt(lambda repo: None, "Q&A pair saved." if editing else "Q&A pair added.")

    @rx.event
    def toggle_pair(self, pair_id: int, enabled: bool):
        return self._attempt(lambda repo: qna.update_pair(repo, pair_id, enabled=enabled),
                             "Q&A pair enabled." if enabled else "Q&A pair disabled.")

    # ------------------------------------------------------------ test a question

    @rx.event
    def set_test_question(self, value: str):
        self.test_question = value

    @rx.event
    def run_test(self):
        # Owners' test questions are not caller questions: record=False keeps them out of the analytics.
        self.test_busy = True
        question, kb_id = self.test_question, self.kb_id
        try:
            with self._signed_in_repo() as repo:
                found = questions.ask_as(repo, kb_id, question, top_k=5, record=False)
        except DomainError as exc:
            self.test_busy = False
            return rx.toast.error(exc.message)
        shown = found.answer or found.candidate
        self.test = TestResult(
            asked=True, answered=found.answered, text=shown.text if shown else "",
            confidence=int(round((shown.confidence if shown else 0) * 100)),
            threshold=int(round(found.threshold * 100)), origin=shown.source if shown else "",
            sources=[SourceRow(c.document_name, str(c.page) if c.page else "", c.section or "")
                     for c in (shown.citations if shown else [])])
        self.test_busy = False
        return None
