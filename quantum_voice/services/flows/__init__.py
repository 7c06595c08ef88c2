"""Conversation flows: the schema, its validation, templates and the engine that runs a call through a flow.

Plain Python, no Reflex. Modules: ``node_types`` (each node type's label, look and handles), ``schema`` (the JSON
definition), ``conditions`` (edge conditions), ``validation`` (problems naming nodes), ``templates``, ``intents``
and ``hearing`` (what a caller's turn means), ``engine`` with ``step``, ``nodes/`` and ``triggers`` (the
interpreter), ``state`` (JSON state and actions), ``knowledge`` (the RAG collaborator's interface) and
``knowledge_adapter`` (the knowledge service behind it), ``editing`` and ``publishing`` (drafts and immutable
versions in the database).
"""

from quantum_voice.services.flows.engine import CallContext, hang_up, respond, resume_after_handoff, start
from quantum_voice.services.flows.knowledge import KnowledgeResult, KnowledgeSearch
from quantum_voice.services.flows.schema import FlowDefinition, NodeType
from quantum_voice.services.flows.state import Action, FlowState, StepResult
from quantum_voice.services.flows.templates import TEMPLATES, build_template
from quantum_voice.services.flows.validation import FlowInvalid, FlowProblem, check_flow, require_valid_flow

__all__ = [
    "Action", "CallContext", "FlowDefinition", "FlowInvalid", "FlowProblem", "FlowState", "KnowledgeResult",
    "KnowledgeSearch", "NodeType", "StepResult", "TEMPLATES", "build_template", "check_flow", "hang_up",
    "require_valid_flow", "respond", "resume_after_handoff", "start",
]
