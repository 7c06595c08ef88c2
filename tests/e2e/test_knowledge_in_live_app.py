"""The running app processes an uploaded document in its background worker, and the flow answers from it."""

import time

import httpx


BROCHURE = (
    "# Harbor View Residences\n\n## Fees\n\n"
    "The monthly HOA fee for a 3-bedroom home is 410 dollars and covers water, the gym and the rooftop pool.\n\n"
    "## Parking\n\nEvery home comes with one underground parking space; a second space costs 95 dollars a month.\n"
)


def test_uploaded_document_becomes_searchable(live_app):
    api = httpx.Client(base_url=live_app.url, timeout=30)
    token = api.post("/api/auth/login", json={"email": "demo@example.com",
                                              "password": "demo-password-123"}).json()["token"]
    api.headers["Authorization"] = f"Bearer {token}"
    kb = api.post("/api/knowledge/bases", json={"name": "Live brochure"}).json()["id"]
    upload = api.post("/api/knowledge/upload", data={"knowledge_base_id": str(kb)},
                      files={"file": ("brochure.md", BROCHURE.encode(), "text/markdown")})
    assert upload.status_code == 202, upload.text
    doc_id = upload.json()["id"]
    deadline = time.monotonic() + 120  # the first job also loads the embedding model
    status = upload.json()["status"]
    while status not in ("ready", "failed") and time.monotonic() < deadline:
        time.sleep(1)
        status = api.get(f"/api/knowledge/documents/{doc_id}").json()["status"]
    assert status == "ready", api.get(f"/api/knowledge/documents/{doc_id}").json()
    found = api.post("/api/knowledge/search", json={"knowledge_base_id": kb, "query": "How much is the HOA fee?",
                                                   "top_k": 3}).json()
    assert found["answer"] and "410" in found["answer"]["text"]
    assert found["results"][0]["document_name"] == "brochure.md"
