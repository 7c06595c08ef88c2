"""The documents panel of /knowledge: one sorted page of the chosen base's documents, web sources, reprocessing and
deleting. The documents themselves are loaded (and polled while processing) by the root state."""

from __future__ import annotations

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services.knowledge import documents, listing
from quantum_voice.services.paging import page_of
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.knowledge.root import Deletion, DocumentRow, KnowledgeState
from quantum_voice.states.listing import ListControls


class DocumentsState(ListControls, KnowledgeState):
    sort_by: str = "added"  # one of listing.SORT_COLUMNS
    sort_desc: bool = True

    @rx.var
    def document_count(self) -> int:
        return len(self._documents)

    @rx.var
    def page_count(self) -> int:
        return page_of(len(self._documents), self.page, listing.PAGE_SIZE).count

    @rx.var
    def visible_documents(self) -> list[DocumentRow]:
        page = page_of(len(self._documents), self.page, listing.PAGE_SIZE)
        return listing.sort_documents(self._documents, self.sort_by, self.sort_desc)[page.start:page.stop]

    @rx.var
    def documents_range(self) -> str:
        return page_of(len(self._documents), self.page, listing.PAGE_SIZE).label

    def _show(self, repo: OrgRepository) -> None:
        self.page = page_of(len(self._documents), self.page, listing.PAGE_SIZE).number  # the list may have shrunk

    def _forget(self) -> None:
        self.page = 0

    @rx.event
    def sort(self, column: str):
        """A header click: the same column turns the order round, another one starts in its natural order."""
        self.sort_by, self.sort_desc = listing.next_sort(self.sort_by, self.sort_desc, column)
        self.page = 0

    @rx.event
    async def add_web_source(self, form: dict):
        self._clear_error()
        url, kind = form.get("url", ""), form.get("kind", "page")
        kb_id = self.kb_id
        try:
            with self._signed_in_repo() as repo:
                documents.add_web_source(repo, kb_id, url, sitemap=kind == "sitemap")
        except DomainError as exc:
            self._show_error(exc, ("url",))
            return None
        return [*await self._attempt(lambda repo: None), rx.set_value("kb-source-url", ""),
                rx.toast.success("Web source added. It is being fetched now.")]

    @rx.event
    async def reprocess(self, document_id: int):
        return await self._attempt(lambda repo: documents.reprocess_document(repo, document_id),
                                   "Reprocessing started.")

    @rx.event
    def ask_delete_document(self, document_id: int, name: str):
        self._ask("delete_document", document_id, "Delete document?",
                  f"“{name}” and everything the agent learnt from it will be removed from this knowledge base.")

    def _deletion(self, action: str, target: int) -> Deletion | None:
        if action != "delete_document":
            return None
        return (lambda repo: documents.delete_document(repo, target)), "Document deleted."
