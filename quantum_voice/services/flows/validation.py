"""Is a flow runnable? Every problem names the node (or edge) it is about, so the designer can mark it.

``check_flow(raw)`` never raises: it returns the parsed definition (when there is no problem) and the problems.
``require_valid_flow(raw)`` raises ``FlowInvalid`` (a 422 naming the first broken node) for saving and publishing.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from quantum_voice.core.errors import ValidationFailed
from quantum_voice.services.flows.conditions import OUTCOMES, ConditionError, parse_condition
from quantum_voice.services.flows.schema import (
    NODE_ID_PATTERN,
    NODE_LABELS,
    SCHEMA_VERSION,
    STANDARD_FIELDS,
    Edge,
    FlowDefinition,
    Node,
    NodeType,
    Variable,
    default_variables,
)
from quantum_voice.services.leads.scoring import ScoringConfig

_NODE = TypeAdapter(Node)
_VARIABLES = TypeAdapter(list[Variable])


@dataclass(frozen=True)
class FlowProblem:
    code: str
    message: str
    node_id: str | None = None
    edge_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FlowCheck:
    definition: FlowDefinition | None
    problems: list[FlowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class FlowInvalid(ValidationFailed):
    """The flow cannot be saved or published as it is. ``problems`` lists every broken node."""

    code = "invalid_flow"

    def __init__(self, problems: list[FlowProblem]):
        first = problems[0]
        more = f" ({len(problems) - 1} more problem{'s' if len(problems) > 2 else ''} listed in details.)" \
            if len(problems) > 1 else ""
        super().__init__(first.message + more, field=f"nodes.{first.node_id}" if first.node_id else "flow")
        self.problems = problems
        self.details = [p.to_json() for p in problems]


def require_valid_flow(raw: Any) -> FlowDefinition:
    check = check_flow(raw)
    if check.problems or check.definition is None:
        raise FlowInvalid(check.problems)
    return check.definition


# A voice flow has tens of nodes; these bounds keep every check (and every save) quick whatever a client sends.
MAX_NODES, MAX_EDGES = 500, 2000
TOO_LARGE = "flow_too_large"


def check_flow(raw: Any) -> FlowCheck:
    if isinstance(raw, FlowDefinition):
        raw = raw.to_json()
    if not isinstance(raw, Mapping):
        return FlowCheck(None, [FlowProblem("not_a_flow", "A flow is a JSON object with 'nodes' and 'edges'.")])
    too_large = _too_large(raw)
    if too_large:
        return FlowCheck(None, [too_large])
    definition, problems = _parse(raw)
    problems += _check_graph(definition) + _check_variables(definition) + _check_nodes(definition)
    return FlowCheck(None if problems else definition, _unique(problems))


def _too_large(raw: Mapping) -> FlowProblem | None:
    for key, limit in (("nodes", MAX_NODES), ("edges", MAX_EDGES)):
        items = raw.get(key)
        if isinstance(items, list) and len(items) > limit:
            return FlowProblem(TOO_LARGE, f"This flow has {len(items)} {key}; a flow may have at most {limit}. "
                               "Split it into smaller flows, or remove what is not used.")
    return None


def _unique(problems: list[FlowProblem]) -> list[FlowProblem]:
    seen: set[tuple] = set()
    return [p for p in problems if not ((p.code, p.node_id, p.edge_index, p.message) in seen
                                        or seen.add((p.code, p.node_id, p.edge_index, p.message)))]


# ---------------------------------------------------------------- parsing, one piece at a time

def _parse(raw: Mapping) -> tuple[FlowDefinition, list[FlowProblem]]:
    problems: list[FlowProblem] = []
    if raw.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        problems.append(FlowProblem("unsupported_version", f"This flow uses schema version "
                                    f"{raw.get('schema_version')!r}; this version of Quantum Voice reads version "
                                    f"{SCHEMA_VERSION}."))
    nodes = _parse_nodes(_list(raw, "nodes", problems), problems)
    edges = _parse_edges(_list(raw, "edges", problems), problems)
    variables = _parse_part(raw, "variables", _VARIABLES.validate_python, default_variables(), problems)
    scoring = _parse_part(raw, "scoring", ScoringConfig.model_validate, ScoringConfig(), problems)
    return FlowDefinition(nodes=nodes, edges=edges, variables=variables, scoring=scoring), problems


def _list(raw: Mapping, key: str, problems: list[FlowProblem]) -> list:
    value = raw.get(key, [])
    if isinstance(value, list):
        return value
    problems.append(FlowProblem(f"bad_{key}", f"'{key}' must be a list."))
    return []


def _parse_nodes(items: list, problems: list[FlowProblem]) -> list:
    nodes, ids = [], Counter(item.get("id") for item in items if isinstance(item, Mapping))
    for index, item in enumerate(items):
        node_id = item.get("id") if isinstance(item, Mapping) else None
        if not isinstance(node_id, str) or not re.match(NODE_ID_PATTERN, node_id):
            problems.append(FlowProblem("bad_node_id", f"Node #{index + 1} needs an id of letters, digits, '-' or "
                                        f"'_' (at most 80), got {node_id!r}."))
            continue
        if ids[node_id] > 1:
            problems.append(FlowProblem("duplicate_node_id", f"Two nodes share the id '{node_id}'; give each "
                                        "node its own id.", node_id))
        if item.get("type") not in {t.value for t in NodeType}:
            problems.append(FlowProblem("unknown_node_type", f"Node '{node_id}' has type {item.get('type')!r}; "
                                        f"use one of {', '.join(t.value for t in NodeType)}.", node_id))
            continue
        try:
            nodes.append(_NODE.validate_python(item))
        except ValidationError as exc:
            label = NODE_LABELS[NodeType(item["type"])]
            problems += [FlowProblem("bad_setting", f"{label} node '{node_id}': {_describe(err)}", node_id)
                         for err in exc.errors()]
            # Keep the node (with default settings) so edges to it are not also reported as broken.
            nodes.append(_NODE.validate_python({"id": node_id, "type": item["type"]}))
    return nodes


def _describe(error: Mapping) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part not in {t.value for t in NodeType}]
    where = ".".join(loc[1:] if loc[:1] == ["config"] else loc) or "node"
    message = str(error.get("msg", "is not valid"))
    if error.get("type") == "extra_forbidden":
        return f"'{where}' is not a setting of this node; remove it."
    return f"'{where}': {message[0].lower() + message[1:] if message else message}."


def _parse_edges(items: list, problems: list[FlowProblem]) -> list[Edge]:
    edges = []
    for index, item in enumerate(items):
        try:
            edges.append(Edge.model_validate(item))
        except ValidationError as exc:
            source = item.get("source") if isinstance(item, Mapping) else None
            problems.append(FlowProblem("bad_edge", f"Edge #{index + 1}: {_describe(exc.errors()[0])} Every edge "
                                        "needs a source and a target node id.", source if isinstance(source, str)
                                        else None, index))
    return edges


def _parse_part(raw: Mapping, key: str, parse, default, problems: list[FlowProblem]):
    if key not in raw:
        return default
    try:
        return parse(raw[key])
    except ValidationError as exc:
        problems += [FlowProblem(f"bad_{key}", f"{key.capitalize()}: {_describe(err)}") for err in exc.errors()]
        return default


# ---------------------------------------------------------------- the graph

def _check_graph(flow: FlowDefinition) -> list[FlowProblem]:
    problems = _check_start_and_end(flow)
    for index, edge in enumerate(flow.edges):
        problems += _check_edge(flow, index, edge)
    problems += _check_default_exits(flow)
    for node in flow.nodes:
        exits = [e for e in flow.edges_from(node.id) if flow.has_node(e.target)]
        if node.type != NodeType.END.value and not exits:
            problems.append(FlowProblem("no_exit", f"{node.title} has no way out. Connect it to the next step "
                                        "(an End node finishes the call).", node.id))
    reachable = _reachable(flow)
    problems += [FlowProblem("unreachable", f"{node.title} can never be reached. Connect an edge into it from "
                             "the Start node's path, or delete it.", node.id)
                 for node in flow.nodes if node.id not in reachable and flow.nodes_of(NodeType.START)]
    return problems


def _check_start_and_end(flow: FlowDefinition) -> list[FlowProblem]:
    problems: list[FlowProblem] = []
    starts = flow.nodes_of(NodeType.START)
    if not starts:
        problems.append(FlowProblem("no_start", "Add a Start node: every flow begins with one."))
    problems += [FlowProblem("multiple_starts", f"{node.title}: a flow has exactly one Start node; delete this "
                             f"one or change its type (the first Start is '{starts[0].id}').", node.id)
                 for node in starts[1:]]
    if not flow.nodes_of(NodeType.END):
        problems.append(FlowProblem("no_end", "Add an End node: the call needs a way to finish (it is also where "
                                    "the agent goes when the caller says goodbye)."))
    return problems


def _check_edge(flow: FlowDefinition, index: int, edge: Edge) -> list[FlowProblem]:
    if not flow.has_node(edge.source):
        return [FlowProblem("missing_source", f"Edge #{index + 1} starts at '{edge.source}', which does not exist. "
                            "Delete the edge or reconnect it.", None, index)]
    source = flow.node(edge.source)
    problems: list[FlowProblem] = []
    if not flow.has_node(edge.target):
        problems.append(FlowProblem("missing_target", f"{source.title} has an edge to '{edge.target}', which does "
                                    "not exist. Reconnect the edge or delete it.", source.id, index))
    elif flow.node(edge.target).type == NodeType.START.value:
        problems.append(FlowProblem("edge_into_start", f"{source.title} has an edge back into the Start node; the "
                                    "greeting plays once. Point the edge at another node.", source.id, index))
    if source.type == NodeType.END.value:
        problems.append(FlowProblem("exit_from_end", f"{source.title} ends the call, so it cannot lead anywhere. "
                                    "Delete its outgoing edge.", source.id, index))
    return problems + _check_condition(flow, source, index, edge)


def _check_condition(flow: FlowDefinition, source, index: int, edge: Edge) -> list[FlowProblem]:
    try:
        condition = parse_condition(edge.condition)
    except ConditionError as exc:
        return [FlowProblem("bad_condition", f"{source.title}, edge to '{edge.target}': {exc}", source.id, index)]
    allowed = OUTCOMES[NodeType(source.type)]
    if condition.kind == "outcome" and condition.outcome not in allowed:
        options = ", ".join(sorted(allowed)) or "none: leave the condition empty"
        return [FlowProblem("condition_not_for_node", f"{source.title}, edge to '{edge.target}': "
                            f"'{condition.outcome}' never happens at a {NODE_LABELS[NodeType(source.type)]} node "
                            f"(its outcomes: {options}).", source.id, index)]
    known = {"score", "band"} | {v.key for v in flow.variables}
    if condition.subject and condition.subject not in known:
        return [FlowProblem("unknown_variable", f"{source.title}, edge to '{edge.target}': the condition uses "
                            f"'{condition.subject}', which is not a variable of this flow "
                            f"(known: {', '.join(sorted(known))}).", source.id, index)]
    return []


def _check_default_exits(flow: FlowDefinition) -> list[FlowProblem]:
    problems: list[FlowProblem] = []
    for node in flow.nodes:
        conditions: Counter[str] = Counter()
        for edge in flow.edges_from(node.id):
            try:
                parsed = parse_condition(edge.condition)
            except ConditionError:
                continue
            conditions["" if parsed.is_default else " ".join(edge.condition.lower().split())] += 1
        for condition, count in conditions.items():
            if count > 1:
                what = "exits without a condition" if condition == "" else f"exits with the condition '{condition}'"
                problems.append(FlowProblem("ambiguous_exits", f"{node.title} has {count} {what}; the engine would "
                                            "not know which to take. Give each its own condition.", node.id))
    return problems


def _reachable(flow: FlowDefinition) -> set[str]:
    """From Start along edges; Dispatch nodes with triggers are entered from anywhere, so they count as roots."""
    roots = [n.id for n in flow.nodes_of(NodeType.START)[:1]]
    roots += [n.id for n in flow.nodes_of(NodeType.DISPATCH) if _has_trigger(n.config.triggers)]
    seen, queue = set(roots), deque(roots)
    while queue:
        for edge in flow.edges_from(queue.popleft()):
            if edge.target not in seen and flow.has_node(edge.target):
                seen.add(edge.target)
                queue.append(edge.target)
    return seen


def _has_trigger(triggers) -> bool:
    return bool(triggers.on_request or triggers.keywords or triggers.max_call_minutes or
                triggers.low_confidence_streak)


# ---------------------------------------------------------------- node settings and variables

def _check_nodes(flow: FlowDefinition) -> list[FlowProblem]:
    problems: list[FlowProblem] = []
    keys = {v.key for v in flow.variables}
    for node in flow.nodes_of(NodeType.RAG_ANSWER):
        if not node.config.knowledge_base_id:
            problems.append(FlowProblem("no_knowledge_base", f"{node.title} has no knowledge base to answer from. "
                                        "Pick one in its settings.", node.id))
    for node in flow.nodes_of(NodeType.CLARIFY):
        if node.config.variable and node.config.variable not in keys:
            problems.append(FlowProblem("unknown_variable", f"{node.title} fills '{node.config.variable}', which is "
                                        "not a variable of this flow. Add it under Variables or pick another.",
                                        node.id))
    return problems


def _check_variables(flow: FlowDefinition) -> list[FlowProblem]:
    problems: list[FlowProblem] = []
    for key, count in Counter(v.key for v in flow.variables).items():
        if count > 1:
            problems.append(FlowProblem("bad_variables", f"Variables: '{key}' is defined {count} times."))
    for variable in flow.variables:
        problems += _check_variable(variable)
    keys = {v.key for v in flow.variables}
    problems += [FlowProblem("bad_scoring", f"Scoring rule '{rule.id}' looks at '{rule.field}', which is not a "
                             "variable of this flow.") for rule in flow.scoring.rules if rule.field and
                 rule.field not in keys]
    return problems


def _check_variable(variable: Variable) -> list[FlowProblem]:
    if variable.kind == "standard" and variable.key not in STANDARD_FIELDS:
        return [FlowProblem("bad_variables", f"Variable '{variable.key}' is not one of the standard fields "
                            f"({', '.join(STANDARD_FIELDS)}); give it a kind: text, choice, pattern or date_time.")]
    if variable.kind == "choice" and not variable.choices:
        return [FlowProblem("bad_variables", f"Variable '{variable.key}' is a choice but lists no choices.")]
    if variable.kind == "pattern":
        try:
            re.compile(variable.pattern or "")
        except re.error as exc:
            return [FlowProblem("bad_variables", f"Variable '{variable.key}': the pattern is not a valid regular "
                                f"expression ({exc}).")]
        if not variable.pattern:
            return [FlowProblem("bad_variables", f"Variable '{variable.key}' is a pattern but has none.")]
    return []
