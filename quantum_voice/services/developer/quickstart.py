'''Quick-start code for the common tasks, in curl and Python (httpx): one source for the /developers page, for
docs/developers.md (which must contain every snippet as it is here) and for tests/integration/test_quickstart.py,
which runs the Python against the API and checks each curl against the routes, so the docs cannot drift.

The Python snippets assume ``SETUP`` ran first (``QV_URL``, ``QV_KEY`` and an ``api`` client).
'''

from __future__ import annotations

from dataclasses import dataclass

SETUP = """\
import os, uuid
import httpx

QV_URL = os.environ.get("QV_URL", "http://localhost:3000")
QV_KEY = os.environ["QV_KEY"]                      # qv_live_… from the Developers page
api = httpx.Client(base_url=f"{QV_URL}/api", headers={"Authorization": f"Bearer {QV_KEY}"})"""

SETUP_CURL = """\
export QV_URL=http://localhost:3000
export QV_KEY=qv_live_...                          # from the Developers page"""


@dataclass(frozen=True)
class Snippet:
    slug: str
    title: str
    scopes: tuple[str, ...]  # what the key needs
    curl: str
    python: str


UPLOAD_DOCUMENT = Snippet(
    slug="upload-document",
    title="Upload a document to a knowledge base",
    scopes=("knowledge:write",),
    curl="""\
curl -s -X POST "$QV_URL/api/knowledge/bases" -H "Authorization: Bearer $QV_KEY" \\
  -H "Content-Type: application/json" -d '{"name": "Product FAQ"}'
# → 201 {"id": 7}
curl -s -X POST "$QV_URL/api/knowledge/upload" -H "Authorization: Bearer $QV_KEY" \\
  -F knowledge_base_id=7 -F "file=@faq.txt;type=text/plain"
# → 202 {"id": 31, "status": "queued"}; GET /api/knowledge/documents/31 shows when it is ready""",
    python="""\
base = api.post("/knowledge/bases", json={"name": "Product FAQ"}).raise_for_status().json()
with open("faq.txt", "rb") as file:                # PDF, DOCX, TXT or Markdown
    document = api.post("/knowledge/upload", data={"knowledge_base_id": str(base["id"])},
                        files={"file": ("faq.txt", file, "text/plain")}).raise_for_status().json()
print(document["id"], document["status"])          # "queued": processed in the background
print(api.get(f"/knowledge/documents/{document['id']}").raise_for_status().json()["status"])""",
)

CREATE_CAMPAIGN = Snippet(
    slug="create-campaign",
    title="Create a campaign",
    scopes=("campaigns:write",),
    curl="""\
curl -s -X POST "$QV_URL/api/campaigns" -H "Authorization: Bearer $QV_KEY" \\
  -H "Content-Type: application/json" -H "Idempotency-Key: $(uuidgen)" \\
  -d '{"name": "Spring open house", "description": "Questions about the open house"}'
# → 201 {"id": 12, "call_url": "http://localhost:3000/call/spring-open-house", ...}""",
    python="""\
campaign = api.post("/campaigns", json={"name": "Spring open house",
                                        "description": "Questions about the open house"},
                    headers={"Idempotency-Key": str(uuid.uuid4())}).raise_for_status().json()
print(campaign["id"], campaign["call_url"])        # a retry with the same key creates nothing new""",
)

LIST_LEADS = Snippet(
    slug="list-leads",
    title="List leads since a date",
    scopes=("leads:read",),
    curl="""\
curl -s -G "$QV_URL/api/leads" -H "Authorization: Bearer $QV_KEY" \\
  -d created_from=2026-12-01 -d sort=oldest -d limit=100 -D headers.txt
# the next page: the same request with -d cursor=<X-Next-Cursor from headers.txt>, until there is none""",
    python="""\
leads, cursor = [], None
while True:
    params = {"created_from": "2026-12-01", "sort": "oldest", "limit": 100}  # a day, UTC, inclusive
    page = api.get("/leads", params={**params, "cursor": cursor} if cursor else params).raise_for_status()
    leads += page.json()
    cursor = page.headers.get("X-Next-Cursor")
    if not cursor:
        break
print(len(leads), [(lead["name"], lead["score"], lead["band"]) for lead in leads[:3]])""",
)

VERIFY_WEBHOOK = Snippet(
    slug="verify-webhook",
    title="Verify a webhook delivery",
    scopes=(),
    curl="""\
# body.json: the raw request body; QV_SIGNATURE: its QV-Signature header; QV_WEBHOOK_SECRET: whsec_…
t=${QV_SIGNATURE#t=}; t=${t%%,*}; v1=${QV_SIGNATURE##*v1=}
expected=$( (printf '%s.' "$t"; cat body.json) | openssl dgst -sha256 -hmac "$QV_WEBHOOK_SECRET" | sed 's/^.*= //')
[ "$expected" = "$v1" ] && [ $(( $(date +%s) - t )) -le 300 ] && echo valid || echo invalid""",
    python="""\
import json, os
from webhook_signature import SignatureInvalid, verify  # copied from quantum_voice/services/developer/

def read_delivery(body: bytes, headers) -> dict | None:
    \"\"\"The event of a POST to your webhook URL (raw body, headers), or None: answer 400 then.\"\"\"
    try:
        verify(body, headers["QV-Signature"], os.environ["QV_WEBHOOK_SECRET"], tolerance_seconds=300)
    except (KeyError, SignatureInvalid):
        return None
    return json.loads(body)  # answer 2xx at once; skip an event whose "id" you have already handled""",
)

SNIPPETS = (UPLOAD_DOCUMENT, CREATE_CAMPAIGN, LIST_LEADS, VERIFY_WEBHOOK)
