"""The designer's working copy of a flow, and how it maps onto the canvas. No Reflex, no database.

The working copy is the flow definition JSON (schema.py). The canvas shows it as React Flow nodes and edges;
what the canvas proposes (moves, selections, deletions, connections) comes back as React Flow "changes" that
are applied here. The property panel edits one node's settings through ``NODE_FORMS``; each edit is checked
against the node type's config model, so a bad value is refused beside its field rather than saved.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from quantum_voice.services.flows.node_types import CANVAS_NODE_TYPE, NODE_LABELS, NodeType
from quantum_voice.services.flows.schema import CONFIG_MODELS

NODE_TYPES = [t.value for t in NodeType]


# ---------------------------------------------------------------- the property forms

@dataclass(frozen=True)
class FieldSpec:
    key: str  # dotted path inside the node's config: "triggers.keywords"
    label: str
    kind: str  # text | textarea | switch | int | float | select | lines | csv | knowledge_base | variable
    hint: str = ""
    options: tuple[tuple[str, str], ...] = ()
    optional: bool = False  # an empty box means "not set" (None)

    @property
    def dom_id(self) -> str:
        return "prop-" + self.key.replace(".", "-").replace("_", "-")


NODE_FORMS: dict[str, list[FieldSpec]] = {
    "start": [
        FieldSpec("greeting", "Greeting", "textarea", "The first thing callers hear."),
        FieldSpec("voice", "Voice", "text", "The text-to-speech voice; \"default\" uses the campaign's voice."),
        FieldSpec("ring_sequence", "Play two rings before the greeting", "switch",
                  "Makes the call feel like a call."),
    ],
    "lead_gate": [
        FieldSpec("ask_name", "Ask for the caller's name", "switch"),
        FieldSpec("ask_phone", "Ask for a phone number", "switch"),
        FieldSpec("name_prompt", "Name question", "text"),
        FieldSpec("email_prompt", "Email question", "text"),
        FieldSpec("phone_prompt", "Phone question", "text"),
        FieldSpec("confirm_email", "Read the email back", "select",
                  options=(("when_spoken", "When it was spoken"), ("always", "Always"), ("never", "Never"))),
        FieldSpec("consent_wording", "Consent wording", "textarea",
                  "Read to the caller before anything is stored. Empty: the campaign's privacy wording."),
        FieldSpec("consent_question", "Consent question", "text"),
        FieldSpec("policy_version", "Privacy policy version", "text",
                  "Kept with each consent record. Empty: the campaign's version."),
        FieldSpec("max_attempts", "Re-asks per field", "int", "1 to 10, then the flow moves on."),
        FieldSpec("completed_text", "When everything is captured", "text"),
        FieldSpec("declined_text", "When consent is declined", "text"),
    ],
    "rag_answer": [
        FieldSpec("knowledge_base_id", "Knowledge base", "knowledge_base", "Where answers come from."),
        FieldSpec("confidence_threshold", "Confidence threshold", "float",
                  "0 to 1. At or above it the agent answers; below it, it never presents a passage as the answer."),
        FieldSpec("tentative_threshold", "Offer the closest passage from", "float",
                  "0 to 1, below the threshold: the closest passage is offered as such and the caller asked "
                  "whether it answers the question. 0: never; say the fallback instead."),
        FieldSpec("tentative_text", "Before the closest passage", "text"),
        FieldSpec("tentative_check", "Then asked", "text"),
        FieldSpec("alternative_text", "After a no, before the next closest passage", "text",
                  "The next closest passage is offered once before the fallback. Empty: straight to the fallback."),
        FieldSpec("off_topic_text", "To an off-topic question", "text",
                  "Said to a question about something else entirely (sport, the weather, trivia)."),
        FieldSpec("max_answer_words", "Longest answer (words)", "int", "5 to 300. Short answers sound natural."),
        FieldSpec("prompt", "Invitation to ask", "text"),
        FieldSpec("follow_up", "Follow-up after an answer", "text"),
        FieldSpec("fallback_text", "When the documents don't have the answer", "text",
                  "Said to a caller who left an email: offer the team's follow-up."),
        FieldSpec("fallback_without_contact", "... and the caller left no email", "text"),
    ],
    "clarify": [
        FieldSpec("questions", "Follow-up questions", "lines", "One per line, asked in turn."),
        FieldSpec("variable", "Field it fills", "variable", "Resolved once this field is captured.",
                  optional=True),
        FieldSpec("max_attempts", "Attempts", "int", "1 to 10."),
    ],
    "dispatch": [
        FieldSpec("triggers.on_request", "Hand off when the caller asks for a person", "switch"),
        FieldSpec("triggers.keywords", "Hand-off keywords", "csv", "Comma-separated, like: contract, complaint."),
        FieldSpec("triggers.max_call_minutes", "Hand off after (minutes)", "float", "Empty: no time limit.",
                  optional=True),
        FieldSpec("triggers.low_confidence_streak", "Hand off after unclear turns in a row", "int",
                  "Empty: never for this reason.", optional=True),
        FieldSpec("priority", "Priority", "select",
                  options=(("low", "Low"), ("normal", "Normal"), ("high", "High"), ("urgent", "Urgent"))),
        FieldSpec("skill", "Required skill", "text", "Only agents with this skill get the call. Empty: anyone.",
                  optional=True),
        FieldSpec("connecting_text", "When someone can take the call", "text",
                  "Said as the caller joins the queue of agents."),
        FieldSpec("waiting_text", "While the caller holds", "text",
                  "Repeated about every 20 seconds, with the rough wait."),
        FieldSpec("connected_text", "When an agent takes the call", "text", "{agent}: the agent's first name."),
        FieldSpec("message", "When no one can take the call", "text"),
        FieldSpec("message_without_contact", "... and the caller left no email or phone", "text"),
        FieldSpec("unanswered_text", "When no one answered in time", "text"),
        FieldSpec("callback_question", "Callback question", "text", "Empty: no callback is offered.",
                  optional=True),
        FieldSpec("hold_text", "If the caller asks again", "text"),
    ],
    "end": [
        FieldSpec("closing_text", "Closing words", "textarea"),
        FieldSpec("next_steps", "Next steps", "textarea", "Told to the caller after the closing words."),
        FieldSpec("next_steps_without_contact", "Next steps when the caller left no email or phone", "textarea",
                  "Said instead of the next steps when the team has no way to reach the caller."),
    ],
}


def field_spec(node_type: str, key: str) -> FieldSpec | None:
    return next((f for f in NODE_FORMS.get(node_type, []) if f.key == key), None)


def _get(config: dict[str, Any], path: str) -> Any:
    value: Any = config
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _set(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    result = copy.deepcopy(config)
    target = result
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value
    return result


def full_config(node_type: str, config: dict[str, Any] | None) -> dict[str, Any]:
    """The node's settings with every default filled in (what the engine will use)."""
    model = CONFIG_MODELS[NodeType(node_type)]
    try:
        return model.model_validate(config or {}).model_dump(mode="json")
    except ValidationError:
        return {**model().model_dump(mode="json"), **(config or {})}


def form_values(node_type: str, config: dict[str, Any]) -> tuple[dict[str, str], dict[str, bool]]:
    """The panel's text boxes and switches for one node."""
    config = full_config(node_type, config)
    texts: dict[str, str] = {}
    flags: dict[str, bool] = {}
    for spec in NODE_FORMS.get(node_type, []):
        value = _get(config, spec.key)
        if spec.kind == "switch":
            flags[spec.key] = bool(value)
        elif spec.kind == "lines":
            texts[spec.key] = "\n".join(value or [])
        elif spec.kind == "csv":
            texts[spec.key] = ", ".join(value or [])
        else:
            texts[spec.key] = "" if value is None else _number_text(value)
    return texts, flags


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class FieldRefused(ValueError):
    """A value the node's settings cannot take; the message is shown beside the field."""


def apply_field(node_type: str, config: dict[str, Any], key: str, raw: Any) -> dict[str, Any]:
    """The node's config with one field changed, or ``FieldRefused`` saying why not."""
    spec = field_spec(node_type, key)
    if spec is None:
        raise FieldRefused(f"'{key}' is not a setting of this node.")
    value = _parse(spec, raw)
    candidate = _set(full_config(node_type, config), key, value)
    try:
        model = CONFIG_MODELS[NodeType(node_type)].model_validate(candidate)
    except ValidationError as exc:
        raise FieldRefused(_message(exc)) from None
    return model.model_dump(mode="json")


def _parse(spec: FieldSpec, raw: Any) -> Any:
    if spec.kind == "switch":
        return bool(raw)
    text = "" if raw is None else str(raw).strip()
    if spec.kind == "lines":
        return [line.strip() for line in str(raw or "").splitlines() if line.strip()]
    if spec.kind == "csv":
        return [part.strip() for part in text.split(",") if part.strip()]
    if text == "" and (spec.optional or spec.kind in ("knowledge_base", "variable")):
        return None
    if spec.kind in ("int", "knowledge_base"):
        try:
            return int(text)
        except ValueError:
            raise FieldRefused("Enter a whole number.") from None
    if spec.kind == "float":
        try:
            return float(text.replace(",", "."))
        except ValueError:
            raise FieldRefused("Enter a number.") from None
    return str(raw if raw is not None else "")


def _message(exc: ValidationError) -> str:
    error = exc.errors()[0]
    message = str(error.get("msg", "This value is not allowed."))
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".")


# ---------------------------------------------------------------- the working copy

def normalise(raw: dict[str, Any] | None) -> dict[str, Any]:
    """A definition the designer can edit: every node has a position, label and config; every edge an id."""
    doc = copy.deepcopy(raw or {})
    doc.setdefault("schema_version", 1)
    nodes = [n for n in doc.get("nodes") or [] if isinstance(n, dict) and n.get("type") in NODE_TYPES]
    for node in nodes:
        position = node.get("position") or {}
        node["position"] = {"x": float(position.get("x", 0) or 0), "y": float(position.get("y", 0) or 0)}
        node.setdefault("label", "")
        node["config"] = node.get("config") or {}
    doc["nodes"] = nodes
    edges = [e for e in doc.get("edges") or [] if isinstance(e, dict) and e.get("source") and e.get("target")]
    used: set[str] = set()
    for edge in edges:
        edge["condition"] = edge.get("condition") or ""
        if not edge.get("id") or edge["id"] in used:
            edge["id"] = _free_id("e", used | {e.get("id") for e in edges if e.get("id")})
        used.add(edge["id"])
    doc["edges"] = edges
    return doc


def _free_id(prefix: str, taken: set) -> str:
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def node_of(doc: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    return next((n for n in doc["nodes"] if n["id"] == node_id), None)


def edge_of(doc: dict[str, Any], edge_id: str) -> dict[str, Any] | None:
    return next((e for e in doc["edges"] if e["id"] == edge_id), None)


def add_node(doc: dict[str, Any], node_type: str, position: dict[str, float] | None = None,
             config: dict[str, Any] | None = None) -> str:
    """Add a node with working defaults; returns its id (``lead_gate_2``)."""
    if node_type not in NODE_TYPES:
        raise ValueError(f"unknown node type {node_type!r}")
    taken = {n["id"] for n in doc["nodes"]}
    n = 1
    while f"{node_type}_{n}" in taken:
        n += 1
    node_id = f"{node_type}_{n}"
    defaults = CONFIG_MODELS[NodeType(node_type)]().model_dump(mode="json")
    doc["nodes"].append({
        "id": node_id, "type": node_type, "label": NODE_LABELS[NodeType(node_type)],
        "position": position or free_spot(doc), "config": {**defaults, **(config or {})},
    })
    return node_id


def free_spot(doc: dict[str, Any], near: str | None = None) -> dict[str, float]:
    """Somewhere a new node does not cover another: beside ``near``, else below everything."""
    anchor = node_of(doc, near) if near else None
    if anchor is not None:
        x, y = anchor["position"]["x"] + 280, anchor["position"]["y"]
    elif doc["nodes"]:
        x = min(n["position"]["x"] for n in doc["nodes"])
        y = max(n["position"]["y"] for n in doc["nodes"]) + 160
    else:
        x, y = 0.0, 0.0
    while any(abs(n["position"]["x"] - x) < 200 and abs(n["position"]["y"] - y) < 90 for n in doc["nodes"]):
        y += 110
    return {"x": float(x), "y": float(y)}


def connect(doc: dict[str, Any], source: str, target: str) -> str | None:
    """Add an edge; ``None`` for a self-loop, an unknown node or an edge that already exists."""
    if source == target or node_of(doc, source) is None or node_of(doc, target) is None:
        return None
    if any(e["source"] == source and e["target"] == target for e in doc["edges"]):
        return None
    edge_id = _free_id("e", {e["id"] for e in doc["edges"]})
    doc["edges"].append({"id": edge_id, "source": source, "target": target, "condition": ""})
    return edge_id


def remove_nodes(doc: dict[str, Any], node_ids: set[str]) -> bool:
    before = len(doc["nodes"]) + len(doc["edges"])
    doc["nodes"] = [n for n in doc["nodes"] if n["id"] not in node_ids]
    doc["edges"] = [e for e in doc["edges"] if e["source"] not in node_ids and e["target"] not in node_ids]
    return len(doc["nodes"]) + len(doc["edges"]) != before


def remove_edges(doc: dict[str, Any], edge_ids: set[str]) -> bool:
    before = len(doc["edges"])
    doc["edges"] = [e for e in doc["edges"] if e["id"] not in edge_ids]
    return len(doc["edges"]) != before


def definition_of(doc: dict[str, Any]) -> dict[str, Any]:
    """What gets saved: the definition without designer-only keys (edge ids are kept; the schema allows them)."""
    return copy.deepcopy(doc)


# ---------------------------------------------------------------- what each node says about itself

def node_title(node: dict[str, Any]) -> str:
    return node.get("label") or node["id"]


def node_summary(node: dict[str, Any], knowledge_bases: dict[int, str]) -> str:
    config = full_config(node["type"], node.get("config"))
    kind = node["type"]
    if kind == "start":
        return config["greeting"]
    if kind == "lead_gate":
        fields = ["email"] + (["name"] if config["ask_name"] else []) + (["phone"] if config["ask_phone"] else [])
        return f"Asks {', '.join(fields)} and consent · up to {config['max_attempts']} tries each"
    if kind == "rag_answer":
        kb = config.get("knowledge_base_id")
        source = knowledge_bases.get(kb, f"knowledge base #{kb}") if kb else "no knowledge base yet"
        return f"Answers from {source} · confidence ≥ {config['confidence_threshold']:.2f}"
    if kind == "clarify":
        return config["questions"][0] if config["questions"] else ""
    if kind == "dispatch":
        return _dispatch_summary(config)
    return " ".join(part for part in (config["closing_text"], config["next_steps"]) if part)


def _dispatch_summary(config: dict[str, Any]) -> str:
    triggers = config["triggers"]
    reasons = (["on request"] if triggers["on_request"] else []) + \
        ([f"keywords: {', '.join(triggers['keywords'])}"] if triggers["keywords"] else []) + \
        ([f"after {_number_text(triggers['max_call_minutes'])} min"] if triggers["max_call_minutes"] else []) + \
        ([f"after {triggers['low_confidence_streak']} misses"] if triggers["low_confidence_streak"] else [])
    when = "Hands off " + ("; ".join(reasons) if reasons else "when the flow leads here")
    return f"{when} · {config['priority']} priority" + (f" · skill {config['skill']}" if config["skill"] else "")


# ---------------------------------------------------------------- the canvas view

@dataclass
class CanvasMarks:
    """Designer-only facts drawn on the canvas: selection, measured sizes, problems, the simulator's node."""

    selected_nodes: set[str]
    selected_edges: set[str]
    measured: dict[str, dict[str, float]]
    node_problems: dict[str, str]
    edge_problems: set[str]
    active_node: str = ""
    knowledge_bases: dict[int, str] | None = None


def canvas_nodes(doc: dict[str, Any], marks: CanvasMarks) -> list[dict[str, Any]]:
    nodes = []
    for node in doc["nodes"]:
        item: dict[str, Any] = {
            "id": node["id"], "type": CANVAS_NODE_TYPE, "position": dict(node["position"]),
            "selected": node["id"] in marks.selected_nodes,
            "data": {"kind": node["type"], "title": node_title(node),
                     "summary": node_summary(node, marks.knowledge_bases or {}),
                     "problem": marks.node_problems.get(node["id"], ""),
                     "active": node["id"] == marks.active_node},
        }
        if node["id"] in marks.measured:
            item["measured"] = dict(marks.measured[node["id"]])
        nodes.append(item)
    return nodes


def _pair_labels(doc: dict[str, Any]) -> dict[str, str]:
    """One label per pair of connected nodes: parallel edges (consented, declined, incomplete to the same node)
    share one path, so the first carries all their conditions and the others none."""
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for edge in doc["edges"]:
        pairs.setdefault((edge["source"], edge["target"]), []).append(edge)
    labels: dict[str, str] = {}
    for group in pairs.values():
        conditions = [e["condition"] or ("else" if len(group) > 1 else "") for e in group]
        labels[group[0]["id"]] = " · ".join(c for c in conditions if c)
    return labels


def canvas_edges(doc: dict[str, Any], marks: CanvasMarks) -> list[dict[str, Any]]:
    edges = []
    labels = _pair_labels(doc)
    for edge in doc["edges"]:
        broken = edge["id"] in marks.edge_problems
        colour = "var(--red-9)" if broken else "var(--gray-9)"
        item: dict[str, Any] = {
            "id": edge["id"], "source": edge["source"], "target": edge["target"], "type": "smoothstep",
            "selected": edge["id"] in marks.selected_edges,
            "markerEnd": {"type": "arrowclosed", "color": colour, "width": 18, "height": 18},
            "style": {"stroke": colour, "strokeWidth": 2 if broken else 1.5},
            "animated": bool(marks.active_node) and edge["target"] == marks.active_node,
        }
        if labels.get(edge["id"]):
            item.update(label=labels[edge["id"]], labelBgPadding=[6, 3], labelBgBorderRadius=6,
                        labelStyle={"fontSize": 11, "fontWeight": 600,
                                    "fill": "var(--red-11)" if broken else "var(--accent-11)"},
                        labelBgStyle={"fill": "var(--red-3)" if broken else "var(--accent-3)"})
        edges.append(item)
    return edges
