"""What each node type does when the call arrives at it (``enter``) and when the caller speaks there
(``respond``). One module per node type."""

from __future__ import annotations

from types import ModuleType


def handler_for(node_type: str) -> ModuleType:
    from quantum_voice.services.flows.nodes import clarify, dispatch, end, lead_gate, rag_answer, start

    return {"start": start, "lead_gate": lead_gate, "rag_answer": rag_answer, "clarify": clarify,
            "dispatch": dispatch, "end": end}[node_type]
