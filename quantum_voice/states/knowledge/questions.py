"""The caller-questions panel of /knowledge: what callers asked of the chosen base, and what went unanswered.
Its "Answer it" button opens the Q&A editor (``QnAState.answer_question``)."""

from __future__ import annotations

from dataclasses import dataclass

from quantum_voice.services.knowledge import questions
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.states.format import moment
from quantum_voice.states.knowledge.root import KnowledgeState


@dataclass
class QuestionRow:
    question: str = ""
    count: int = 0
    answered: int = 0
    confidence: int = 0  # percent
    last_asked: str = ""


def question_row(s: questions.QuestionStat) -> QuestionRow:
    return QuestionRow(s.question, s.count, s.answered_count, int(round(s.average_confidence * 100)),
                       moment(s.last_asked_at))


class CallerQuestionsState(KnowledgeState):
    most_asked: list[QuestionRow] = []
    unanswered: list[QuestionRow] = []

    def _show(self, repo: OrgRepository) -> None:
        self.most_asked = [question_row(s) for s in questions.most_asked(repo, self.kb_id)] if self.kb_id else []
        self.unanswered = [question_row(s) for s in questions.unanswered(repo, self.kb_id)] if self.kb_id else []
