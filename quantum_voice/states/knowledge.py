"""/knowledge and /knowledge/upload: knowledge bases, their documents, Q&A pairs, test questions and analytics.

Every read and write goes through ``services.knowledge`` (the same functions the REST API calls); this state
only holds what the pages show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import reflex as rx

from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import DomainError
from quantum_voice.models.knowledge import Document, QnAPair
from quantum_voice.services.knowledge import documents, qna, questions
from quantum_voice.services.knowledge.errors import FileTooLarge
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.forms import ConfirmStep, FormErrors
from quantum_voice.states.session import SessionState

PROCESSING = ("queued", "parsing", "chunking", "embedding")
POLL_SECONDS = 1.5
TYPE_LABELS = {"application/pdf": "PDF", "text/plain": "Text", "text/markdown": "Markdown", "text/html": "Web",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word"}


@dataclass
class BaseRow:
    id: int = 0
    name: str = ""
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
    return DocumentRow(d.id, d.name, TYPE_LABELS.get(d.content_type or "", d.source_type), size_label(d.size_bytes),
                       d.status, int(round((d.progress or 0) * 100)), d.chunk_count or 0, d.error or "",
                       d.status in PROCESSING, moment(d.updated_at))


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
    documents: list[DocumentRow] = []
    pairs: list[QnARow] = []
    most_asked: list[QuestionRow] = []
    unanswered: list[QuestionRow] = []
    uploads: list[UploadRow] = []
    upload_progress: int = 0
    uploading: bool = False
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
    def any_processing(self) -> bool:
        return any(d.processing for d in self.documents)

    @rx.var
    def max_upload_mb(self) -> int:
        return get_settings().knowledge_max_upload_mb

    # ------------------------------------------------------------ loading

    def _reload(self, repo: OrgRepository) -> None:
        self.can_edit = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        self.bases = [BaseRow(s.knowledge_base.id, s.knowledge_base.name, s.document_count, s.ready_count,
                              s.chunk_count) for s in documents.list_knowledge_bases(repo)]
        if self.kb_id not in {b.id for b in self.bases}:
            self.kb_id = self.bases[0].id if self.bases else 0
            self.test = TestResult()
        self._reload_documents(repo)
        self.pairs = [qna_row(p) for p in qna.list_pairs(repo, self.kb_id)] if self.kb_id else []
        self.most_asked = ([question_row(s) for s in questions.most_asked(repo, self.kb_id)]
                           if self.kb_id else [])
        self.unanswered = ([question_row(s) for s in questions.unanswered(repo, self.kb_id)]
                           if self.kb_id else [])
        self.loaded = True

    def _reload_documents(self, repo: OrgRepository) -> None:
        self.documents = ([document_row(d) for d in documents.list_documents(repo, self.kb_id)]
                          if self.kb_id else [])
        by_id = {d.id: d for d in self.documents}
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
        return self._attempt(lambda repo: None)

    @rx.event
    def select_base(self, value: str):
        self.kb_id = int(value) if str(value).isdigit() else 0
        self.test, self.uploads = TestResult(), []
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
        if self._confirm_action == "delete_pair":
            if self.qna_editing_id == target:
                self._reset_qna_form()
            return self._attempt(lambda repo: qna.delete_pair(repo, target), "Q&A pair deleted.")
        self.uploads = [u for u in self.uploads if u.document_id != target]
        return self._attempt(lambda repo: documents.delete_document(repo, target), "Document deleted.")

    # ------------------------------------------------------------ upload

    @rx.event
    def set_upload_progress(self, progress: dict):
        self.upload_progress = int(round(float(progress.get("progress", 0) or 0) * 100))

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Each file through the same checks as POST /api/knowledge/upload; one refused file stops no other."""
        self.uploading = True
        limit = get_settings().knowledge_max_upload_mb * 1024 * 1024
        rows = []
        for file in files:
            name = file.name or file.filename or "upload"
            data = await file.read()
            rows.append(self._store_upload(name, data, limit))
        new_ids = {r.document_id for r in rows if r.document_id}
        self.uploads = rows + [u for u in self.uploads if not u.document_id or u.document_id not in new_ids]
        self.uploading, self.upload_progress = False, 0
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
