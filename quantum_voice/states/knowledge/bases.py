"""The knowledge-base bar of /knowledge: create a base, rename the chosen one (a dialog), delete it (confirmed)."""

from __future__ import annotations

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services.knowledge import documents, listing
from quantum_voice.states.knowledge.root import BaseRow, Deletion, KnowledgeState

RENAME_NAME = "rename_name"  # the rename dialog's field, kept apart from the create form's "name"


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


class BasesState(KnowledgeState):
    rename_open: bool = False

    @rx.event
    async def create_base(self, form: dict):
        self._clear_error()
        name = form.get("name", "")
        try:
            with self._signed_in_repo() as repo:
                new_id = documents.create_knowledge_base(repo, name).id
        except DomainError as exc:
            self._show_error(exc, ("name",))
            return None
        await self._choose(new_id)
        return [*await self._attempt(lambda repo: None), rx.set_value("kb-create-name", ""),
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
    async def rename_base(self, form: dict):
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
            return [*await self._attempt(lambda repo: None), rx.toast.error(exc.message)]
        self.rename_open = False
        return [*await self._attempt(lambda repo: None), rx.toast.success(f"Knowledge base renamed to “{new_name}”.")]

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

    def _deletion(self, action: str, target: int) -> Deletion | None:
        # Once it is gone, the reload picks another base and every panel forgets this one (KnowledgeState._reload).
        if action != "delete_base":
            return None
        return (lambda repo: documents.delete_knowledge_base(repo, target)), "Knowledge base deleted."
