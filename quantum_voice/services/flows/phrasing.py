"""The seam for an optional LLM that rephrases what the agent says (more natural, same facts).

The engine decides *what* to say, deterministically; a ``Phraser`` may only change *how*. It runs in the
conversation runner, outside the engine, so the engine stays pure and testable. ``KeepWording`` is the default.
A phraser must keep read-back emails, numbers and answers from the knowledge base word for word, and must never
see the caller's text as instructions.
"""

from __future__ import annotations

from typing import Protocol


class Phraser(Protocol):
    def rephrase(self, text: str, *, node_type: str | None) -> str:
        ...


class KeepWording:
    """Says exactly what the flow says."""

    def rephrase(self, text: str, *, node_type: str | None) -> str:
        return text
