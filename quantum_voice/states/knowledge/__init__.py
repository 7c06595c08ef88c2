"""The states of /knowledge and /knowledge/upload: a root and one substate per panel.

- ``root.KnowledgeState``: the bases, the chosen one and its documents (polled while processing); load, choosing a
  base, the confirm dialog, and the refresh every change ends with.
- ``bases.BasesState``: create, rename, delete a base.  ``documents.DocumentsState``: the documents table (sorting and
  pages through ``ListControls``), web sources, reprocess, delete.  ``uploads.UploadsState``: the upload page.
- ``qna.QnAState``: Q&A pairs and their editor.  ``questions.CallerQuestionsState``: what callers asked.
  ``asking.AskState``: the "Test a question" panel.

Importing this package registers every panel, so the root's refresh reaches all of them.
"""

from quantum_voice.states.knowledge import asking, bases, documents, qna, questions, uploads  # noqa: F401
from quantum_voice.states.knowledge.root import KnowledgeState

__all__ = ["KnowledgeState"]
