"""The node types a flow is built from, and the one table saying how each is named, drawn and connected.

The schema, validation messages, the designer's palette and property panel, and the canvas's JavaScript all
read ``NODE_SPECS`` (the canvas gets it as JSON, see ``components/flow_canvas.py``), so a node type's label,
colour, icon and handles are written once, here.
"""

from __future__ import annotations

from dataclasses import dataclass

from quantum_voice.models.base import StrEnum

CANVAS_NODE_TYPE = "qv"  # the one React Flow node type every flow node renders as


class NodeType(StrEnum):
    START = "start"
    LEAD_GATE = "lead_gate"
    RAG_ANSWER = "rag_answer"
    CLARIFY = "clarify"
    DISPATCH = "dispatch"
    END = "end"


@dataclass(frozen=True)
class NodeSpec:
    label: str
    colour: str  # a Radix colour scale: the node's icon, heading, exit handle, palette item and minimap dot
    icon: str  # a Lucide icon name as ``rx.icon`` takes it
    description: str  # the palette's one-line tooltip
    has_entry: bool = True  # a target handle: edges may lead into it
    has_exits: bool = True  # a source handle: edges may leave it


NODE_SPECS: dict[NodeType, NodeSpec] = {  # in palette order
    NodeType.START: NodeSpec("Start", "grass", "play", "Greeting and voice", has_entry=False),
    NodeType.LEAD_GATE: NodeSpec("Lead Gate", "violet", "shield-check", "Email, name and consent"),
    NodeType.RAG_ANSWER: NodeSpec("RAG Answer", "blue", "book-open-text", "Answers from knowledge"),
    NodeType.CLARIFY: NodeSpec("Clarify", "amber", "message-circle-question", "Follow-up questions"),
    NodeType.DISPATCH: NodeSpec("Dispatch", "orange", "headset", "Hand off to a person"),
    NodeType.END: NodeSpec("End", "gray", "flag", "Closing words", has_exits=False),
}

NODE_LABELS = {node_type: spec.label for node_type, spec in NODE_SPECS.items()}
