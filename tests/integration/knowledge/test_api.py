"""/api/knowledge over HTTP: bearer tokens, multipart upload, the JSON error format, roles and isolation."""

import pytest
from fastapi.testclient import TestClient

from quantum_voice.api import create_api
from quantum_voice.core.db import session_scope
from tests.factories import PASSWORD, last_link
from tests.integration.knowledge.conftest import new_member, run_jobs
from tests.unit.knowledge import files


@pytest.fixture
def client(engine):
    return TestClient(create_api())


def sign_in(client, email: str, org: str | None = "Sunny Homes") -> dict[str, str]:
    if org:
        assert client.post("/api/auth/signup", json={"email": email, "password": PASSWORD,
                                                     "organization": org}).status_code == 201
        with session_scope() as session:
            token = last_link(session, email, "/verify")
        assert client.post("/api/auth/verify", json={"token": token}).status_code == 200
    response = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    return {"Authorization": f"Bearer {response.json()['token']}"}


def owner_id(client, auth) -> int:
    return client.get("/api/me", headers=auth).json()["id"]


def create_base(client, auth, name="Brochures") -> int:
    response = client.post("/api/knowledge/bases", json={"name": name}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def upload(client, auth, kb: int, name: str, data: bytes):
    return client.post("/api/knowledge/upload", data={"knowledge_base_id": str(kb)},
                       files={"file": (name, data, "application/octet-stream")}, headers=auth)


def test_upload_process_search_and_answer_over_the_api(client):
    auth = sign_in(client, "ana@example.com")
    kb = create_base(client, auth)
    response = upload(client, auth, kb, "brochure.docx", files.markdown_to_docx(files.BROCHURE_MD))
    assert response.status_code == 202 and response.json()["status"] == "queued"
    doc_id = response.json()["id"]
    run_jobs()
    doc = client.get(f"/api/knowledge/documents/{doc_id}", headers=auth).json()
    assert doc["status"] == "ready" and doc["progress"] == 1.0 and doc["chunk_count"] >= 1
    assert doc["content_type"].endswith("wordprocessingml.document")
    bases = client.get("/api/knowledge/bases", headers=auth).json()
    assert bases[0]["id"] == kb and bases[0]["ready_count"] == 1 and bases[0]["chunk_count"] == doc["chunk_count"]
    chunks = client.get(f"/api/knowledge/documents/{doc_id}/chunks", headers=auth).json()
    assert chunks and chunks[0]["section"]

    found = client.post("/api/knowledge/search", json={"knowledge_base_id": kb, "query": "What is the HOA fee?",
                                                         "top_k": 3}, headers=auth).json()
    assert set(found["results"][0]) >= {"text", "score", "document_id", "document_name", "page"}
    assert found["results"][0]["document_name"] == "brochure.docx" and len(found["results"]) <= 3
    assert "$450" in found["answer"]["text"] and 0.5 <= found["answer"]["confidence"] <= 1
    assert found["answer"]["citations"][0]["document_id"] == doc_id

    missing = client.post("/api/knowledge/search", json={"knowledge_base_id": kb,
                                                         "query": "What is the weather forecast for tomorrow?"},
                          headers=auth).json()
    assert missing["answer"] is None


def test_q_and_a_crud_and_analytics(client):
    auth = sign_in(client, "ana@example.com")
    kb = create_base(client, auth)
    created = client.post("/api/knowledge/qna", json={"knowledge_base_id": kb, "question": "Do you allow pets?",
                                                      "answer": "Yes, up to two."}, headers=auth)
    assert created.status_code == 201
    pair = created.json()["id"]
    assert client.patch(f"/api/knowledge/qna/{pair}", json={"answer": "Yes, up to two cats or dogs."},
                        headers=auth).json()["answer"] == "Yes, up to two cats or dogs."
    found = client.post("/api/knowledge/search", json={"knowledge_base_id": kb, "query": "Are pets allowed?"},
                        headers=auth).json()
    assert found["answer"]["source"] == "qna" and found["answer"]["citations"][0]["qna_pair_id"] == pair
    client.post("/api/knowledge/search", json={"knowledge_base_id": kb, "query": "Is there a golf course?"},
                headers=auth)
    stats = client.get(f"/api/knowledge/analytics?knowledge_base_id={kb}", headers=auth).json()
    assert {s["question"] for s in stats["most_asked"]} == {"Are pets allowed?", "Is there a golf course?"}
    assert [s["question"] for s in stats["unanswered"]] == ["Is there a golf course?"]
    assert [p["id"] for p in client.get(f"/api/knowledge/qna?knowledge_base_id={kb}", headers=auth).json()] == [pair]
    assert client.delete(f"/api/knowledge/qna/{pair}", headers=auth).status_code == 204
    assert client.get(f"/api/knowledge/qna/{pair}", headers=auth).status_code == 404


def test_errors_keep_the_json_format_and_say_what_to_do(client, monkeypatch):
    auth = sign_in(client, "ana@example.com")
    kb = create_base(client, auth)
    assert client.post("/api/knowledge/bases", json={"name": "Brochures"}, headers=auth).status_code == 409
    bad = upload(client, auth, kb, "scan.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unsupported_file_type"
    assert upload(client, auth, kb, "x.pdf", files.encrypted_pdf()).json()["error"]["code"] == "encrypted_pdf"
    first = upload(client, auth, kb, "a.txt", b"Harbor View has a rooftop pool and a gym.")
    again = upload(client, auth, kb, "b.txt", b"Harbor View has a rooftop pool and a gym.")
    assert first.status_code == 202 and again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_document"
    monkeypatch.setenv("KNOWLEDGE_MAX_UPLOAD_MB", "1")
    from quantum_voice.core.config import reset_settings

    reset_settings()
    too_big = upload(client, auth, kb, "big.txt", b"word " * 300_000)
    assert too_big.status_code == 413 and "1 MB" in too_big.json()["error"]["message"]
    neither = client.post("/api/knowledge/search", json={"query": "x"}, headers=auth)
    assert neither.status_code == 422 and neither.json()["error"]["code"] == "validation_error"
    assert client.get("/api/knowledge/bases").status_code == 401


def test_roles_and_organisation_isolation(client):
    auth = sign_in(client, "ana@example.com")
    kb = create_base(client, auth)
    doc = upload(client, auth, kb, "a.md", files.BROCHURE_MD.encode()).json()["id"]
    new_member(owner_id(client, auth), "viewer@example.com", "viewer")
    viewer = sign_in(client, "viewer@example.com", org=None)
    assert client.get(f"/api/knowledge/documents/{doc}", headers=viewer).status_code == 200
    denied = upload(client, viewer, kb, "b.txt", b"Viewers cannot add knowledge here.")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert client.post("/api/knowledge/bases", json={"name": "Mine"}, headers=viewer).status_code == 403

    stranger = sign_in(client, "bob@example.com", org="Other Org")
    for method, path, body in [
        ("get", f"/api/knowledge/bases/{kb}", None), ("get", f"/api/knowledge/documents/{doc}", None),
        ("get", f"/api/knowledge/documents?knowledge_base_id={kb}", None),
        ("delete", f"/api/knowledge/documents/{doc}", None),
        ("post", "/api/knowledge/search", {"knowledge_base_id": kb, "query": "HOA fee"}),
        ("post", "/api/knowledge/qna", {"knowledge_base_id": kb, "question": "Q?", "answer": "A."}),
        ("get", f"/api/knowledge/analytics?knowledge_base_id={kb}", None),
    ]:
        response = client.request(method, path, json=body, headers=stranger)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert upload(client, stranger, kb, "c.txt", b"Not my knowledge base at all.").status_code == 404
    assert client.get("/api/knowledge/bases", headers=stranger).json() == []
    assert client.get(f"/api/knowledge/documents/{doc}", headers=auth).status_code == 200


def test_rename_a_knowledge_base(client):
    auth = sign_in(client, "ana@example.com")
    kb = create_base(client, auth)
    create_base(client, auth, "Price lists")
    doc = upload(client, auth, kb, "a.txt", b"Harbor View has a rooftop pool and a gym.")
    assert doc.status_code == 202

    renamed = client.patch(f"/api/knowledge/bases/{kb}", json={"name": "  Sales   brochures ",
                                                                "description": "What sales hands out."},
                           headers=auth)
    assert renamed.status_code == 200, renamed.text
    body = renamed.json()
    assert (body["id"], body["name"], body["description"]) == (kb, "Sales brochures", "What sales hands out.")
    assert body["document_count"] == 1
    # Without a description the old one stays; the same name in other letters is still this base's own.
    kept = client.patch(f"/api/knowledge/bases/{kb}", json={"name": "SALES BROCHURES"}, headers=auth).json()
    assert (kept["name"], kept["description"]) == ("SALES BROCHURES", "What sales hands out.")
    assert client.get(f"/api/knowledge/bases/{kb}", headers=auth).json()["name"] == "SALES BROCHURES"

    clash = client.patch(f"/api/knowledge/bases/{kb}", json={"name": "price lists"}, headers=auth)
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "name"
    for empty in ("", "   "):
        refused = client.patch(f"/api/knowledge/bases/{kb}", json={"name": empty}, headers=auth)
        assert refused.status_code == 422 and refused.json()["error"]["field"] == "name", refused.text
    assert client.get(f"/api/knowledge/bases/{kb}", headers=auth).json()["name"] == "SALES BROCHURES"


def test_rename_needs_the_manage_permission_and_the_same_organisation(client):
    auth = sign_in(client, "ana@example.com")
    kb = create_base(client, auth)
    new_member(owner_id(client, auth), "viewer@example.com", "viewer")
    viewer = sign_in(client, "viewer@example.com", org=None)
    denied = client.patch(f"/api/knowledge/bases/{kb}", json={"name": "Viewer's"}, headers=viewer)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"

    stranger = sign_in(client, "bob@example.com", org="Other Org")
    hidden = client.patch(f"/api/knowledge/bases/{kb}", json={"name": "Mine now"}, headers=stranger)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    assert client.get(f"/api/knowledge/bases/{kb}", headers=auth).json()["name"] == "Brochures"
