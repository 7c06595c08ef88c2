"""The "Test a question" panel of /knowledge: ask the chosen base as a caller would, see the answer and its sources."""

from __future__ import annotations

from dataclasses import dataclass, field

import reflex as rx

from quantum_voice.core.errors import DomainError
from quantum_voice.services.knowledge import questions
from quantum_voice.states.knowledge.root import KnowledgeState


@dataclass
class SourceRow:
    document_name: str = ""
    page: str = ""
    section: str = ""


@dataclass
class TestResult:
    asked: bool = False
    answered: bool = False
    text: str = ""
    confidence: int = 0  # percent
    threshold: int = 0
    origin: str = ""  # qna | extractive | …
    sources: list[SourceRow] = field(default_factory=list)


def shown_result(found: questions.KnowledgeAnswer) -> TestResult:
    """The answer callers would get, or else the closest passage (marked not answered), with its sources."""
    shown = found.answer or found.candidate
    return TestResult(
        asked=True, answered=found.answered, text=shown.text if shown else "",
        confidence=int(round((shown.confidence if shown else 0) * 100)),
        threshold=int(round(found.threshold * 100)), origin=shown.source if shown else "",
        sources=[SourceRow(c.document_name, str(c.page) if c.page else "", c.section or "")
                 for c in (shown.citations if shown else [])])


class AskState(KnowledgeState):
    test_question: str = ""
    test_busy: bool = False
    test: TestResult = TestResult()

    def _forget(self) -> None:
        self.test = TestResult()

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
        self.test = shown_result(found)
        self.test_busy = False
        return None
