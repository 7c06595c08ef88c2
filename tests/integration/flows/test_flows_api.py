"""Campaigns, flows, the simulator and leads through the REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy

import pytest
from fastapi.testclient import TestClient

from quantum_voice.api import campaigns as campaigns_api
from quantum_voice.api import create_api
from quantum_voice.api import flows as flows_api
from quantum_voice.api import leads as leads_api
from quantum_voice.core.db import session_scope
from tests.factories import api_login, api_member, api_owner, verified_owner
from tests.unit.flows.support import FixedPassages


@pytest.fixture
def client(engine) -> TestClient:
    app = create_api()
    for router in (campaigns_api.router, flows_api.router, leads_api.router):
        app.include_router(router)
    app.dependency_overrides[flows_api.knowledge_search] = lambda: FixedPassages()
    return TestClient(app)


login, member = api_login, api_member


@pytest.fixture
def owner(client) -> dict[str, str]:
    return api_owner(client)


def new_campaign(client, auth, **body) -> dict:
    response = client.post("/api/campaigns", json={"name": "Spring Open House", "description": "Yard signs",
                                                   **body}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def simulate(client, auth, campaign_id, *messages, **extra):
    response = client.post(f"/api/flows/{campaign_id}/test", json={"messages": list(messages), **extra},
                           headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- campaigns

def test_create_and_list_campaigns(client, owner):
    campaign = new_campaign(client, owner)
    assert campaign["template"] == "lead_capture_qa" and campaign["published_version"] == 1
    assert campaign["knowledge_base_id"] and campaign["flow_id"] and campaign["slug"] == "harbor-view-spring-open-house"
    second = new_campaign(client, owner, name="Support line", template="support_triage",
                          knowledge_base_id=campaign["knowledge_base_id"])
    assert second["knowledge_base_id"] == campaign["knowledge_base_id"]
    listed = client.get("/api/campaigns", headers=owner).json()
    assert [c["name"] for c in listed] == ["Support line", "Spring Open House"]
    assert client.get(f"/api/campaigns/{second['id']}", headers=owner).json()["template"] == "support_triage"


def test_campaign_errors_name_the_field(client, owner):
    r = client.post("/api/campaigns", json={"name": "X", "template": "cold_calling"}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["field"] == "template"
    assert "lead_capture_qa" in r.json()["error"]["message"]
    r = client.post("/api/campaigns", json={"name": "X", "knowledge_base_id": 999}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["field"] == "knowledge_base_id"
    r = client.post("/api/campaigns", json={"name": "   "}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["field"] == "name"


# ---------------------------------------------------------------- flows: templates, drafts, publishing

def test_templates_are_listed(client, owner):
    keys = [t["key"] for t in client.get("/api/flows/templates", headers=owner).json()]
    assert keys == ["lead_capture_qa", "appointment_booking", "support_triage"]


def test_get_the_flow_of_a_campaign(client, owner):
    campaign = new_campaign(client, owner)
    flow = client.get(f"/api/flows/{campaign['id']}", headers=owner).json()
    assert flow["campaign_id"] == campaign["id"] and flow["problems"] == []
    assert [n["type"] for n in flow["draft"]["nodes"]] == ["start", "lead_gate", "rag_answer", "clarify",
                                                          "dispatch", "end"]
    assert flow["published_version"]["version"] == 1 and flow["published_version"]["active"] is True


def test_post_flows_starts_over_from_another_template(client, owner):
    campaign = new_campaign(client, owner)
    r = client.post("/api/flows", json={"campaign_id": campaign["id"], "template": "appointment_booking"},
                    headers=owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "flow_exists"
    r = client.post("/api/flows", json={"campaign_id": campaign["id"], "template": "appointment_booking",
                                        "replace": True}, headers=owner)
    assert r.status_code == 201 and r.json()["template_key"] == "appointment_booking"
    assert r.json()["published_version"]["version"] == 1  # the live flow changes only when published
    r = client.post("/api/flows", json={"campaign_id": 9999, "template": "support_triage"}, headers=owner)
    assert r.status_code == 404


def test_saving_an_invalid_draft_is_a_422_naming_the_nodes(client, owner):
    campaign = new_campaign(client, owner)
    draft = client.get(f"/api/flows/{campaign['id']}", headers=owner).json()["draft"]
    broken = copy.deepcopy(draft)
    next(n for n in broken["nodes"] if n["id"] == "answer")["config"]["knowledge_base_id"] = None
    broken["edges"].append({"source": "clarify", "target": "nowhere", "condition": "resolved"})
    r = client.put(f"/api/flows/{campaign['id']}", json={"draft": broken}, headers=owner)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_flow" and error["field"] == "nodes.clarify"
    assert {(d["code"], d["node_id"]) for d in error["details"]} == {("missing_target", "clarify"),
                                                                     ("ambiguous_exits", "clarify"),
                                                                     ("no_knowledge_base", "answer")}
    r = client.put(f"/api/flows/{campaign['id']}?allow_invalid=true", json={"draft": broken}, headers=owner)
    assert r.status_code == 200 and {p["node_id"] for p in r.json()["problems"]} == {"clarify", "answer"}
    r = client.post(f"/api/flows/{campaign['id']}/publish", headers=owner)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_flow"


def _chain(nodes: int) -> dict:
    ids = ["s"] + [f"n{i}" for i in range(nodes - 2)] + ["e"]
    types = ["start"] + ["clarify"] * (nodes - 2) + ["end"]
    return {"nodes": [{"id": i, "type": t} for i, t in zip(ids, types)],
            "edges": [{"source": a, "target": b} for a, b in zip(ids, ids[1:])]}


def test_a_flow_over_the_size_limit_is_refused_even_as_an_autosaved_draft(client, owner):
    from quantum_voice.services.flows.validation import MAX_NODES

    campaign = new_campaign(client, owner)
    before = client.get(f"/api/flows/{campaign['id']}", headers=owner).json()["draft"]
    r = client.put(f"/api/flows/{campaign['id']}?allow_invalid=true", json={"draft": _chain(MAX_NODES + 1)},
                   headers=owner)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "flow_too_large"
    assert f"at most {MAX_NODES}" in r.json()["error"]["message"]
    assert client.get(f"/api/flows/{campaign['id']}", headers=owner).json()["draft"] == before  # nothing lost
    r = client.put(f"/api/flows/{campaign['id']}?allow_invalid=true", json={"draft": _chain(MAX_NODES)},
                   headers=owner)
    assert r.status_code == 200  # the largest allowed flow saves (its problems listed)


def test_a_request_body_over_the_limit_is_413_whether_declared_or_streamed(client, owner):
    from quantum_voice.api.limits import JSON_BODY_LIMIT

    campaign = new_campaign(client, owner)
    padding = {"draft": {"nodes": [], "edges": [], "note": "x" * JSON_BODY_LIMIT}}
    r = client.put(f"/api/flows/{campaign['id']}?allow_invalid=true", json=padding, headers=owner)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"

    def streamed():  # no Content-Length: the body is counted as it arrives
        yield b'{"draft": {"nodes": [], "edges": [], "note": "'
        for _ in range(3):
            yield b"x" * (1024 * 1024)
        yield b'"}}'

    r = client.put(f"/api/flows/{campaign['id']}?allow_invalid=true", content=streamed(),
                   headers={**owner, "Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_a_knowledge_base_of_another_organisation_is_a_problem_of_the_node(client, owner):
    campaign = new_campaign(client, owner)
    draft = client.get(f"/api/flows/{campaign['id']}", headers=owner).json()["draft"]
    next(n for n in draft["nodes"] if n["id"] == "answer")["config"]["knowledge_base_id"] = 424242
    r = client.put(f"/api/flows/{campaign['id']}", json={"draft": draft}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["details"][0]["code"] == "unknown_knowledge_base"
    assert r.json()["error"]["details"][0]["node_id"] == "answer"


def test_publish_versions_and_rollback(client, owner):
    campaign = new_campaign(client, owner)
    cid = campaign["id"]
    r = client.post(f"/api/flows/{cid}/publish", headers=owner)
    assert r.status_code == 409 and r.json()["error"]["code"] == "nothing_to_publish"

    draft = client.get(f"/api/flows/{cid}", headers=owner).json()["draft"]
    draft["nodes"][0]["config"]["greeting"] = "Welcome to version two!"
    assert client.put(f"/api/flows/{cid}", json={"draft": draft, "name": "Spring v2"}, headers=owner).status_code == 200
    r = client.post(f"/api/flows/{cid}/publish", headers=owner)
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["active"] is True
    versions = client.get(f"/api/flows/{cid}/versions", headers=owner).json()
    assert [(v["version"], v["active"]) for v in versions] == [(2, True), (1, False)]
    live = simulate(client, owner, cid, use_published=True)
    assert live["turns"][0]["agent"].startswith("Welcome to version two!")

    r = client.post(f"/api/flows/{cid}/rollback", json={"version": 1}, headers=owner)
    assert r.status_code == 200 and r.json()["published_version"]["version"] == 1
    assert r.json()["draft"]["nodes"][0]["config"]["greeting"].startswith("Hi, thanks for calling Harbor View")
    v2 = client.get(f"/api/flows/{cid}/versions/2", headers=owner).json()
    assert v2["definition"]["nodes"][0]["config"]["greeting"] == "Welcome to version two!"  # never changed
    assert client.get(f"/api/flows/{cid}/versions/7", headers=owner).status_code == 404
    assert client.post(f"/api/flows/{cid}/rollback", json={"version": 0}, headers=owner).status_code == 422


# ---------------------------------------------------------------- the simulator: whole conversations

def test_a_whole_conversation_through_the_simulator(client, owner):
    campaign = new_campaign(client, owner)
    body = simulate(client, owner, campaign["id"], "Hi, I'm John Smith", "How much is the HOA fee?",
                    "j o h n dot smith at example dot com", "yes, that's right, and I agree",
                    "We'd like to book a tour, we want to move next month", "no, that's all, thanks, bye")
    assert [t["caller"] for t in body["turns"]] == [None, "Hi, I'm John Smith", "How much is the HOA fee?",
                                                    "j o h n dot smith at example dot com",
                                                    "yes, that's right, and I agree",
                                                    "We'd like to book a tour, we want to move next month",
                                                    "no, that's all, thanks, bye"]
    assert [t["node_type"] for t in body["turns"]] == ["lead_gate", "lead_gate", "lead_gate", "lead_gate",
                                                       "rag_answer", "rag_answer", "end"]
    assert body["turns"][2]["agent"].startswith("The HOA fee is $350 a month")
    assert body["turns"][3]["agent"].startswith("I have j-o-h-n dot smith at example dot com. Is that right?")
    lead = body["lead"]
    assert {k: lead[k] for k in ("name", "email", "phone", "interest", "timeline", "budget", "score", "band")} == {
        "name": "John Smith", "email": "john.smith@example.com", "phone": None, "interest": None,
        "timeline": "next month", "budget": None, "score": 65, "band": "warm"}
    assert body["consent"] is True and body["handoff"] is None and body["ended"] is True


def test_a_declined_conversation_has_no_lead(client, owner):
    campaign = new_campaign(client, owner)
    body = simulate(client, owner, campaign["id"], "I'm Ana", "ana@example.com", "no, I don't agree",
                    "is there parking?")
    assert body["lead"] is None and body["consent"] is False and body["ended"] is False
    assert body["turns"][3]["agent"].startswith("No problem, I won't keep any of your details.")
    assert body["turns"][4]["agent"].startswith("Every home has two parking spaces")
    assert body["variables"] == {}


def test_a_conversation_handed_off(client, owner):
    campaign = new_campaign(client, owner)
    body = simulate(client, owner, campaign["id"], "I'm Ana, ana@example.com", "yes",
                    "I need to talk to someone about the contract", "hello?")
    assert body["handoff"] == {"reason": "request", "detail": "I need to talk to someone about the contract",
                               "priority": "high", "skill": "sales"}
    # no one can take calls live yet: told so, and the AI goes on answering
    assert body["turns"][-2]["agent"].startswith("I'm sorry, I can't put you through to a person on this call")
    assert body["ended"] is False and body["turns"][-1]["agent"]
    assert body["lead"]["email"] == "ana@example.com"


def test_simulator_stops_at_the_end_of_the_flow(client, owner):
    campaign = new_campaign(client, owner)
    body = simulate(client, owner, campaign["id"], "bye", "hello?", "anyone?")
    assert body["ended"] is True and len(body["turns"]) == 2


def test_simulator_input_limits(client, owner):
    campaign = new_campaign(client, owner)
    r = client.post(f"/api/flows/{campaign['id']}/test", json={"messages": ["x" * 3000]}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["field"].startswith("messages")
    r = client.post(f"/api/flows/{campaign['id']}/test", json={}, headers=owner)
    assert r.status_code == 422 and r.json()["error"]["field"] == "messages"


# ---------------------------------------------------------------- leads

def test_leads_list_and_detail_with_transcript(client, owner):
    campaign = new_campaign(client, owner)
    other = new_campaign(client, owner, name="Other")
    simulate(client, owner, campaign["id"], "I'm Ana, ana@example.com", "yes", "bye")
    simulate(client, owner, other["id"], "I'm Bo, bo@example.com", "yes", "bye")
    assert client.get("/api/leads", headers=owner).json() == []  # simulator calls are tests
    listed = client.get(f"/api/leads?campaign_id={campaign['id']}&include_tests=true", headers=owner).json()
    assert [(lead["name"], lead["is_test"]) for lead in listed] == [("Ana", True)]
    assert client.get("/api/leads?include_tests=true&band=cold", headers=owner).json()[0]["band"] == "cold"
    assert client.get("/api/leads?band=tepid", headers=owner).status_code == 422

    detail = client.get(f"/api/leads/{listed[0]['id']}", headers=owner).json()
    assert detail["consent"]["granted"] is True and detail["consent"]["email"] == "ana@example.com"
    assert detail["conversation"]["is_test"] is True and detail["conversation"]["status"] == "ended"
    assert [t["speaker"] for t in detail["transcript"]] == ["agent", "caller", "agent", "caller", "agent",
                                                            "caller", "agent"]
    assert detail["transcript"][1]["text"] == "I'm Ana, ana@example.com"
    assert client.get("/api/leads/99999", headers=owner).status_code == 404


# ---------------------------------------------------------------- roles and organisations

def test_viewers_read_but_do_not_change(client, owner):
    campaign = new_campaign(client, owner)
    viewer = member(client, "viewer", "vera@example.com")
    assert client.get("/api/campaigns", headers=viewer).status_code == 200
    assert client.get(f"/api/flows/{campaign['id']}", headers=viewer).status_code == 200
    assert client.get(f"/api/flows/{campaign['id']}/versions", headers=viewer).status_code == 200
    assert client.get("/api/leads", headers=viewer).status_code == 200
    for method, path, body in [("post", "/api/campaigns", {"name": "Mine"}),
                               ("put", f"/api/flows/{campaign['id']}", {"draft": {}}),
                               ("post", f"/api/flows/{campaign['id']}/publish", None),
                               ("post", f"/api/flows/{campaign['id']}/rollback", {"version": 1}),
                               ("post", f"/api/flows/{campaign['id']}/test", {"messages": ["hi"]}),
                               ("post", "/api/flows", {"campaign_id": campaign["id"], "replace": True})]:
        r = client.request(method, path, json=body, headers=viewer)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", path


def test_managers_design_flows(client, owner):
    campaign = new_campaign(client, owner)
    manager = member(client, "manager", "max@example.com")
    assert simulate(client, manager, campaign["id"], "bye")["ended"] is True


def test_another_organisation_sees_nothing(client, owner):
    campaign = new_campaign(client, owner)
    simulate(client, owner, campaign["id"], "I'm Ana, ana@example.com", "yes", "bye")
    lead_id = client.get("/api/leads?include_tests=true", headers=owner).json()[0]["id"]
    with session_scope() as session:
        verified_owner(session, email="eve@example.com", org="Elsewhere")
    eve = login(client, "eve@example.com")
    assert client.get("/api/campaigns", headers=eve).json() == []
    assert client.get("/api/leads?include_tests=true", headers=eve).json() == []
    for path in (f"/api/flows/{campaign['id']}", f"/api/campaigns/{campaign['id']}", f"/api/leads/{lead_id}"):
        assert client.get(path, headers=eve).status_code == 404, path
    assert client.post(f"/api/flows/{campaign['id']}/test", json={"messages": []}, headers=eve).status_code == 404


def test_endpoints_need_a_token(client):
    for path in ("/api/campaigns", "/api/flows/1", "/api/leads"):
        assert client.get(path).status_code == 401
