"""Every validation error, each naming the node (or edge) the designer must fix."""

import copy

import pytest

from quantum_voice.services.flows.schema import FlowDefinition
from quantum_voice.services.flows.templates import TEMPLATES, build_template
from quantum_voice.services.flows.validation import FlowInvalid, check_flow, require_valid_flow
from tests.unit.flows.support import edge, node

VALID = build_template("lead_capture_qa", knowledge_base_id=7, business="Harbor View").to_json()


def problems_after(change) -> list:
    flow = copy.deepcopy(VALID)
    change(flow)
    return check_flow(flow).problems


def only(problems, code):
    found = [p for p in problems if p.code == code]
    assert found, f"no {code!r} among {[p.code for p in problems]}"
    return found[0]


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_template_is_valid(key):
    check = check_flow(build_template(key, knowledge_base_id=7, business="Acme"))
    assert check.ok, check.problems
    assert check.definition is not None


def test_not_a_flow_at_all():
    assert check_flow(["nodes"]).problems[0].code == "not_a_flow"
    assert only(check_flow({"nodes": "start", "edges": []}).problems, "bad_nodes")
    assert only(check_flow({"nodes": [], "edges": {}}).problems, "bad_edges")


def test_unsupported_schema_version():
    assert "schema version 9" in only(problems_after(lambda f: f.update(schema_version=9)),
                                      "unsupported_version").message


def test_no_start():
    problem = only(problems_after(lambda f: f["nodes"].pop(0)), "no_start")
    assert problem.message == "Add a Start node: every flow begins with one."


def test_two_starts_names_the_extra_one():
    problem = only(problems_after(lambda f: f["nodes"].append(node("start_2", "start"))), "multiple_starts")
    assert problem.node_id == "start_2" and "exactly one Start" in problem.message


def test_no_end():
    def drop_end(flow):
        flow["nodes"] = [n for n in flow["nodes"] if n["type"] != "end"]
        flow["edges"] = [e for e in flow["edges"] if e["target"] != "end"]
    assert only(problems_after(drop_end), "no_end").node_id is None


def test_unreachable_node():
    problem = only(problems_after(lambda f: f["nodes"].append(node("orphan", "clarify"))), "unreachable")
    assert problem.node_id == "orphan" and "Clarify node 'orphan' can never be reached" in problem.message


def test_dispatch_with_triggers_counts_as_reachable_but_without_triggers_does_not():
    def add_dispatch(triggers):
        def change(flow):
            flow["nodes"].append(node("escalate", "dispatch", triggers=triggers))
            flow["edges"].append(edge("escalate", "end"))
        return change
    assert not [p for p in problems_after(add_dispatch({"keywords": ["lawyer"]})) if p.code == "unreachable"]
    off = {"on_request": False, "keywords": []}
    assert only(problems_after(add_dispatch(off)), "unreachable").node_id == "escalate"


def test_node_without_exit():
    problem = only(problems_after(lambda f: f.update(edges=[e for e in f["edges"] if e["source"] != "clarify"])),
                   "no_exit")
    assert problem.node_id == "clarify" and "has no way out" in problem.message


def test_edge_to_a_missing_node_names_its_source():
    problem = only(problems_after(lambda f: f["edges"].append(edge("answer", "gone", "answered"))), "missing_target")
    assert problem.node_id == "answer" and "'gone', which does not exist" in problem.message
    assert problem.edge_index == len(VALID["edges"])


def test_edge_from_a_missing_node():
    problem = only(problems_after(lambda f: f["edges"].append(edge("ghost", "end"))), "missing_source")
    assert problem.node_id is None and problem.edge_index == len(VALID["edges"])


def test_edge_into_start_and_out_of_end():
    assert only(problems_after(lambda f: f["edges"].append(edge("answer", "start", "answered"))),
                "edge_into_start").node_id == "answer"
    assert only(problems_after(lambda f: f["edges"].append(edge("end", "answer"))), "exit_from_end").node_id == "end"


@pytest.mark.parametrize("condition,fragment", [
    ("scor >= 70", "only 'score' is a number (got 'scor')"),
    ("score >= lots", "compared with a number"),
    ("band == lukewarm", "hot, warm or cold"),
    ("interest > 3", "compares numbers"),
    ("score contains 7", "makes no sense"),
    ("interest ==", "not a condition"),
])
def test_malformed_conditions(condition, fragment):
    problem = only(problems_after(lambda f: f["edges"].append(edge("answer", "end", condition))), "bad_condition")
    assert problem.node_id == "answer" and fragment in problem.message


def test_condition_the_node_never_produces():
    problem = only(problems_after(lambda f: f["edges"].append(edge("answer", "end", "declined"))),
                   "condition_not_for_node")
    assert problem.node_id == "answer" and "answered, done, goodbye, low_confidence" in problem.message


def test_condition_on_an_unknown_variable():
    problem = only(problems_after(lambda f: f["edges"].append(edge("answer", "end", "has bedrooms"))),
                   "unknown_variable")
    assert problem.node_id == "answer" and "'bedrooms'" in problem.message


def test_two_exits_with_the_same_condition():
    problem = only(problems_after(lambda f: f["edges"].append(edge("answer", "dispatch", "done"))), "ambiguous_exits")
    assert problem.node_id == "answer"
    problem = only(problems_after(lambda f: f["edges"].append(edge("dispatch", "answer"))), "ambiguous_exits")
    assert problem.node_id == "dispatch" and "without a condition" in problem.message


def test_rag_node_needs_a_knowledge_base():
    def clear(flow):
        next(n for n in flow["nodes"] if n["id"] == "answer")["config"]["knowledge_base_id"] = None
    problem = only(problems_after(clear), "no_knowledge_base")
    assert problem.node_id == "answer" and problem.message.startswith("RAG Answer node 'answer' has no knowledge base")


def test_bad_settings_name_the_node_and_the_setting():
    def break_gate(flow):
        gate = next(n for n in flow["nodes"] if n["id"] == "lead_gate")
        gate["config"].update(max_attempts=0, colour="red")
    problems = [p for p in problems_after(break_gate) if p.code == "bad_setting"]
    assert {p.node_id for p in problems} == {"lead_gate"}
    messages = " ".join(p.message for p in problems)
    assert "Lead Gate node 'lead_gate': 'max_attempts'" in messages and "'colour' is not a setting" in messages
    assert not [p for p in problems_after(break_gate) if p.code in ("missing_target", "unreachable")]


def test_threshold_outside_zero_to_one():
    def change(flow):
        next(n for n in flow["nodes"] if n["id"] == "answer")["config"]["confidence_threshold"] = 1.5
    assert "confidence_threshold" in only(problems_after(change), "bad_setting").message


def test_node_ids_and_types():
    assert only(problems_after(lambda f: f["nodes"].append({"type": "end"})), "bad_node_id").node_id is None
    assert only(problems_after(lambda f: f["nodes"].append(node("end", "end"))), "duplicate_node_id").node_id == "end"
    problem = only(problems_after(lambda f: f["nodes"].append(node("x", "webhook"))), "unknown_node_type")
    assert problem.node_id == "x" and "'webhook'" in problem.message


def test_edge_without_target():
    problem = only(problems_after(lambda f: f["edges"].append({"source": "answer"})), "bad_edge")
    assert problem.node_id == "answer" and "needs a source and a target" in problem.message


def test_variables_and_scoring():
    assert "not one of the standard fields" in only(problems_after(
        lambda f: f["variables"].append({"key": "bedrooms"})), "bad_variables").message
    assert "lists no choices" in only(problems_after(
        lambda f: f["variables"].append({"key": "bedrooms", "kind": "choice"})), "bad_variables").message
    assert "not a valid regular expression" in only(problems_after(
        lambda f: f["variables"].append({"key": "ref", "kind": "pattern", "pattern": "(unclosed"})),
        "bad_variables").message
    assert "defined 2 times" in only(problems_after(
        lambda f: f["variables"].append({"key": "email"})), "bad_variables").message
    assert "looks at 'bedrooms'" in only(problems_after(lambda f: f["scoring"]["rules"].append(
        {"id": "beds", "label": "Beds", "points": 5, "field": "bedrooms"})), "bad_scoring").message
    assert only(problems_after(lambda f: f["scoring"].update(bands={"hot": 30, "warm": 50})), "bad_scoring")


def test_clarify_must_fill_a_known_variable():
    def change(flow):
        next(n for n in flow["nodes"] if n["id"] == "clarify")["config"]["variable"] = "bedrooms"
    assert only(problems_after(change), "unknown_variable").node_id == "clarify"


def test_require_valid_flow_raises_a_422_naming_the_first_node_and_listing_all():
    flow = copy.deepcopy(VALID)
    flow["edges"].append(edge("answer", "gone", "answered"))
    flow["nodes"].append(node("orphan", "end"))
    with pytest.raises(FlowInvalid) as raised:
        require_valid_flow(flow)
    error = raised.value
    assert error.status == 422 and error.code == "invalid_flow" and error.field == "nodes.answer"
    assert "1 more problem" in error.message
    assert {d["node_id"] for d in error.details} == {"answer", "orphan"}


def test_a_flow_over_the_size_limits_gets_one_problem_and_is_not_parsed():
    from quantum_voice.services.flows.validation import MAX_EDGES, MAX_NODES

    nodes = [{"id": f"n{i}", "type": "nonsense"} for i in range(MAX_NODES + 1)]
    check = check_flow({"nodes": nodes, "edges": []})
    assert [p.code for p in check.problems] == ["flow_too_large"] and check.definition is None
    edges = [{"source": "a", "target": "b"}] * (MAX_EDGES + 1)
    assert [p.code for p in check_flow({"nodes": [], "edges": edges}).problems] == ["flow_too_large"]


def test_lookups_follow_nodes_and_edges_added_after_the_first_lookup():
    flow = FlowDefinition.model_validate({"nodes": [{"id": "s", "type": "start"}], "edges": []})
    assert flow.has_node("s") and not flow.has_node("e") and flow.edges_from("s") == []
    flow.nodes.append(FlowDefinition.model_validate({"nodes": [{"id": "e", "type": "end"}]}).nodes[0])
    flow.edges.append(FlowDefinition.model_validate({"edges": [{"source": "s", "target": "e"}]}).edges[0])
    assert flow.node("e").type == "end" and [e.target for e in flow.edges_from("s")] == ["e"]
