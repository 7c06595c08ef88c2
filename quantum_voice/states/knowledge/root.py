"""The root of the knowledge pages' states: the organisation's knowledge bases, the one chosen, and its documents.

Each panel of /knowledge and /knowledge/upload is a substate of ``KnowledgeState`` that reads the chosen base from
here. A change refreshes the page as a whole, as one state did before: ``_attempt`` runs the service call, reloads
the bases and the documents here, then lets every panel (``await self.get_state(panel)``) reload its own part
(``_show``). A panel drops what belonged to the base chosen before in ``_forget``, and deletes what it asked to
confirm in ``_deletion``.

Every read and write goes through ``services.knowledge`` (the same functions the REST API calls); these states only
hold what the pages show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.models.knowledge import Document
from quantum_voice.services.knowledge import documents
from quantum_voice.services.permissions import Permission, has_permission
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.forms import ConfirmStep, FormErrors
from quantum_voice.states.session import SessionState

PROCESSING = ("queued", "parsing", "chunking", "embedding")
POLL_SECONDS = 1.5
TYPE_LABELS = {"application/pdf": "PDF", "text/plain": "Text", "text/markdown": "Markdown", "text/html": "Web",
               "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word"}

ServiceCall = Callable[[OrgRepository], object]
Deletion = tuple[ServiceCall, str]  # the call that deletes, and what the toast says once it is done


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


class KnowledgeState(ConfirmStep, FormErrors, SessionState):
    loaded: bool = False
    can_edit: bool = False
    bases: list[BaseRow] = []
    kb_id: int = 0
    # Every document of the chosen base stays on the server; the panels send only what they show of them.
    _documents: list[DocumentRow] = []
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

    def _processing(self) -> bool:
        return any(d.processing for d in self._documents)

    # ------------------------------------------------------------ what each panel does (panels override these)

    def _show(self, repo: OrgRepository) -> None:
        """Load this panel's part of the chosen base; the bases and the documents are loaded already."""

    def _forget(self) -> None:
        """Drop what this panel kept of the base chosen before (a test answer, a half-written pair, a page)."""

    def _deletion(self, action: str, target: int) -> Deletion | None:
        """The deletion the person just confirmed, if ``action`` is one this panel asked about."""
        return None

    # ------------------------------------------------------------ loading

    async def _panels(self) -> list[KnowledgeState]:
        return [await self.get_state(panel) for panel in KnowledgeState.get_substates()]

    async def _choose(self, kb_id: int) -> None:
        self.kb_id = kb_id
        for panel in await self._panels():
            panel._forget()

    def _reload(self, repo: OrgRepository, panels: list[KnowledgeState]) -> None:
        self.can_edit = has_permission(self.role, Permission.MANAGE_CAMPAIGNS)
        self.bases = [BaseRow(s.knowledge_base.id, s.knowledge_base.name, s.knowledge_base.description or "",
                              s.document_count, s.ready_count, s.chunk_count)
                      for s in documents.list_knowledge_bases(repo)]
        if self.kb_id not in {b.id for b in self.bases}:  # deleted, here or elsewhere: show the first one
            self.kb_id = self.bases[0].id if self.bases else 0
            for panel in panels:
                panel._forget()
        self._reload_documents(repo)
        for panel in panels:
            panel._show(repo)
        self.loaded = True

    def _reload_documents(self, repo: OrgRepository) -> None:
        self._documents = ([document_row(d) for d in documents.list_documents(repo, self.kb_id)]
                           if self.kb_id else [])

    async def _attempt(self, action: ServiceCall, success: str = "") -> list:
        """Run one service call, refresh what the page shows, and say how it went."""
        panels = await self._panels()
        error = self._act_then_reload(action, lambda repo: self._reload(repo, panels))
        events = [KnowledgeState.poll_processing] if self._processing() else []
        if error is not None:
            return [*events, rx.toast.error(error.message)]
        return [*events, rx.toast.success(success)] if success else events

    @rx.event
    async def load(self):
        if redirect := self._guard():
            return redirect
        return await self._attempt(lambda repo: None)

    @rx.event
    async def select_base(self, value: str):
        await self._choose(int(value) if str(value).isdigit() else 0)
        return await self._attempt(lambda repo: None)

    @rx.event
    async def confirm(self):
        """The confirm dialog's "Delete": the panel that asked carries it out."""
        self.confirm_open = False
        for panel in await self._panels():
            if (deletion := panel._deletion(self._confirm_action, self._confirm_id)) is not None:
                return await self._attempt(*deletion)
        return None

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
                        was_processing = self._processing()
                        self._reload_documents(repo)
                        if not self._processing():
                            if was_processing:  # counts and analytics, once the work is done
                                self._reload(repo, await self._panels())
                            return
        except DomainError:
            return
        finally:
            async with self:
                self._polling = False
