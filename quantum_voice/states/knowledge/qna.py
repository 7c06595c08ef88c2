"""The Q&A pairs panel of /knowledge: the chosen base's pairs and the editor that adds, changes and deletes them."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.models.knowledge import QnAPair
from quantum_voice.services.knowledge import qna
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.knowledge.root import Deletion, KnowledgeState


@dataclass
class QnARow:
    id: int = 0
    question: str = ""
    answer: str = ""
    enabled: bool = True
    source: str = ""


def qna_row(p: QnAPair) -> QnARow:
    return QnARow(p.id, p.question, p.answer, p.enabled, p.source)


class QnAState(KnowledgeState):
    pairs: list[QnARow] = []
    # The editor: 0 → a new pair.
    qna_editing_id: int = 0
    qna_question: str = ""
    qna_answer: str = ""
    qna_source: str = "manual"

    def _show(self, repo: OrgRepository) -> None:
        self.pairs = [qna_row(p) for p in qna.list_pairs(repo, self.kb_id)] if self.kb_id else []

    def _forget(self) -> None:
        self._reset_qna_form()

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
    async def save_pair(self):
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
        return await self._attempt(lambda repo: None, "Q&A pair saved." if editing else "Q&A pair added.")

    @rx.event
    async def toggle_pair(self, pair_id: int, enabled: bool):
        return await self._attempt(lambda repo: qna.update_pair(repo, pair_id, enabled=enabled),
                                   "Q&A pair enabled." if enabled else "Q&A pair disabled.")

    @rx.event
    def ask_delete_pair(self, pair_id: int, question: str):
        self._ask("delete_pair", pair_id, "Delete Q&A pair?", f"The agent will no longer answer “{question}” "
                                                                "with this pair.")

    def _deletion(self, action: str, target: int) -> Deletion | None:
        if action != "delete_pair":
            return None
        if self.qna_editing_id == target:
            self._reset_qna_form()
        return (lambda repo: qna.delete_pair(repo, target)), "Q&A pair deleted."
