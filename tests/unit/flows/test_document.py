"""The designer's working copy: canvas mapping, node forms, edits checked against the node's settings."""

import pytest

from quantum_voice.services.flows import document as fd
from quantum_voice.services.flows.templates import build_template
from quantum_voice.services.flows.validation import check_flow


def template_doc() -> dict:
    return fd.normalise(build_template("lead_capture_qa", knowledge_base_id=7, business="Harbor View").to_json())


def marks(**kw) -> fd.CanvasMarks:
    base = dict(selected_nodes=set(), selected_edges=set(), measured={}, node_problems={}, edge_problems=set())
    return fd.CanvasMarks(**{**base, **kw})


def test_every_node_type_has_a_form_covering_only_real_settings():
    for node_type in fd.NODE_TYPES:
        texts, flags = fd.form_values(node_type, {})
        for spec in fd.NODE_FORMS[node_type]:
            assert spec.key in texts or spec.key in flags, (node_type, spec.key)
            # Writing back what the form shows changes nothing.
            value = flags[spec.key] if spec.kind == "switch" else texts[spec.key]
            assert fd.apply_field(node_type, {}, spec.key, value) == fd.full_config(node_type, {})


def test_a_dropped_node_runs_with_defaults_and_gets_a_fresh_id():
    doc = template_doc()
    first = fd.add_node(doc, "dispatch", {"x": 10, "y": 20})
    second = fd.add_node(doc, "dispatch")
    assert (first, second) == ("dispatch_1", "dispatch_2")
    node = fd.node_of(doc, first)
    assert node["label"] == "Dispatch" and node["position"] == {"x": 10, "y": 20}
    assert node["config"]["triggers"]["on_request"] is True


def test_a_new_node_is_broken_until_connected():
    doc = template_doc()
    assert check_flow(fd.definition_of(doc)).ok
    node_id = fd.add_node(doc, "dispatch")
    doc["nodes"][-1]["config"]["triggers"]["on_request"] = False  # no trigger: only reachable by an edge
    problems = {p.node_id for p in check_flow(fd.definition_of(doc)).problems}
    assert node_id in problems
    assert fd.connect(doc, "clarify", node_id) and fd.connect(doc, node_id, "end")
    fd.edge_of(doc, doc["edges"][-2]["id"])["condition"] = "goodbye"
    assert check_flow(fd.definition_of(doc)).ok


def test_connect_refuses_loops_duplicates_and_unknown_nodes():
    doc = template_doc()
    assert fd.connect(doc, "end", "end") is None
    assert fd.connect(doc, "start", "lead_gate") is None  # already there
    assert fd.connect(doc, "start", "nowhere") is None


def test_removing_a_node_removes_its_edges():
    doc = template_doc()
    assert fd.remove_nodes(doc, {"clarify"})
    assert all("clarify" not in (e["source"], e["target"]) for e in doc["edges"])


def test_field_edits_are_checked_against_the_node_settings():
    config = fd.full_config("lead_gate", {})
    assert fd.apply_field("lead_gate", config, "max_attempts", "4")["max_attempts"] == 4
    with pytest.raises(fd.FieldRefused, match="less than or equal to 10"):
        fd.apply_field("lead_gate", config, "max_attempts", "15")
    with pytest.raises(fd.FieldRefused, match="whole number"):
        fd.apply_field("lead_gate", config, "max_attempts", "three")
    dispatch = fd.apply_field("dispatch", {}, "triggers.keywords", "Contract,  complaint ,")
    assert dispatch["triggers"]["keywords"] == ["contract", "complaint"]
    assert fd.apply_field("dispatch", dispatch, "triggers.max_call_minutes", "")["triggers"]["max_call_minutes"] is None
    assert fd.apply_field("clarify", {}, "questions", "First?\n\n Second? ")["questions"] == ["First?", "Second?"]
    assert fd.apply_field("rag_answer", {}, "knowledge_base_id", "7")["knowledge_base_id"] == 7


def test_canvas_marks_problems_selection_and_the_simulators_node():
    doc = template_doc()
    nodes = fd.canvas_nodes(doc, marks(selected_nodes={"answer"}, node_problems={"clarify": "broken"},
                                       active_node="lead_gate", measured={"start": {"width": 230, "height": 90}},
                                       knowledge_bases={7: "Harbor docs"}))
    by_id = {n["id"]: n for n in nodes}
    assert by_id["answer"]["selected"] and not by_id["start"]["selected"]
    assert by_id["clarify"]["data"]["problem"] == "broken"
    assert by_id["lead_gate"]["data"]["active"] and by_id["start"]["measured"]["width"] == 230
    assert "Harbor docs" in by_id["answer"]["data"]["summary"]
    assert all(n["type"] == fd.CANVAS_NODE_TYPE for n in nodes)


def test_parallel_edges_share_one_label():
    edges = {e["id"]: e for e in fd.canvas_edges(template_doc(), marks())}
    assert edges["lead_gate-answer-consented"]["label"] == "consented · declined · incomplete"
    assert "label" not in edges["lead_gate-answer-declined"]
    assert "label" not in edges["start-lead_gate"]


def test_normalise_gives_every_edge_an_id_and_every_node_a_position():
    doc = fd.normalise({"nodes": [{"id": "s", "type": "start"}, {"id": "x", "type": "bogus"}],
                        "edges": [{"source": "s", "target": "e"}, {"source": "s", "target": "f", "id": "e1"}]})
    assert [n["id"] for n in doc["nodes"]] == ["s"] and doc["nodes"][0]["position"] == {"x": 0.0, "y": 0.0}
    assert len({e["id"] for e in doc["edges"]}) == 2
