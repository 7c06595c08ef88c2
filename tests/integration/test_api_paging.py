"""Cursor paging on the API's lists, on SQLite and PostgreSQL (docs/developers.md, "Lists a batch at a time"): a
client that follows X-Next-Cursor gets every item exactly once, in the list's order; a cursor it made up is a 422
``invalid_cursor`` in the one error format; ``limit`` is bounded; a cursor never reaches another organisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from quantum_voice.api import create_api
from quantum_voice.core.clock import utcnow
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import Membership, User
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.developer import Webhook, WebhookDelivery
from quantum_voice.models.knowledge import Document, KnowledgeBase, QnAPair
from quantum_voice.models.system import AuditLog, EmailMessage
from quantum_voice.services import paging
from tests.factories import api_owner

ITEMS = 5  # more than the limit of 2 the tests page with: three batches


@pytest.fixture
def client(engine):
    return TestClient(create_api())


@pytest.fixture
def owner(client) -> dict[str, str]:
    return api_owner(client)


def org_id() -> int:
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == "owner@example.com")).one()
        return session.exec(select(Membership).where(Membership.user_id == user.id)).one().organization_id


def knowledge_base(org: int, name: str = "FAQ") -> int:
    with session_scope() as session:
        kb = KnowledgeBase(organization_id=org, name=name)
        session.add(kb)
        session.flush()
        return kb.id


def webhook(org: int) -> int:
    with session_scope() as session:
        hook = Webhook(organization_id=org, url="https://crm.example.com/hooks", signing_secret="x", events=[])
        session.add(hook)
        session.flush()
        return hook.id


def add_rows(make: Callable[[int], object]) -> None:
    with session_scope() as session:
        for i in range(ITEMS):
            session.add(make(i))


@dataclass(frozen=True)
class PagedList:
    name: str
    seed: Callable[[int], tuple[str, list]]  # org id → (the list's address, the values it shows, in order)
    field: str  # which field of an item the values are


def _campaigns(org: int):
    now = utcnow()  # the same instant twice: the id breaks the tie
    add_rows(lambda i: Campaign(organization_id=org, name=f"Campaign {i}", slug=f"campaign-{i}",
                                created_at=now - timedelta(minutes=i // 2)))
    return "/api/campaigns", [f"campaign-{i}" for i in (1, 0, 3, 2, 4)]


def _bases(org: int):
    for name in ("delta", "alpha", "echo", "charlie", "bravo"):
        knowledge_base(org, name)
    return "/api/knowledge/bases", ["alpha", "bravo", "charlie", "delta", "echo"]


def _documents(org: int):
    kb = knowledge_base(org)
    add_rows(lambda i: Document(organization_id=org, knowledge_base_id=kb, name=f"doc{i}.txt", sha256=f"{i:064d}"))
    return f"/api/knowledge/documents?knowledge_base_id={kb}", [f"doc{i}.txt" for i in reversed(range(ITEMS))]


def _qna(org: int):
    kb = knowledge_base(org)
    add_rows(lambda i: QnAPair(organization_id=org, knowledge_base_id=kb, question=f"Q{i}?", answer="A."))
    return f"/api/knowledge/qna?knowledge_base_id={kb}", [f"Q{i}?" for i in range(ITEMS)]


def _webhooks(org: int):
    ids = [webhook(org) for _ in range(ITEMS)]
    return "/api/webhooks", list(reversed(ids))


def _deliveries(org: int):
    hook = webhook(org)
    add_rows(lambda i: WebhookDelivery(organization_id=org, webhook_id=hook, event_id=f"evt_{i}",
                                       event_type="lead.created"))
    return f"/api/webhooks/{hook}/deliveries", [f"evt_{i}" for i in reversed(range(ITEMS))]


def _audit(org: int):
    with session_scope() as session:  # signing up wrote entries of its own: these come first, newest first
        session.exec(AuditLog.__table__.delete())
    add_rows(lambda i: AuditLog(organization_id=org, action=f"test.action{i}"))
    return "/api/admin/audit-logs", [f"test.action{i}" for i in reversed(range(ITEMS))]


def _outbox(org: int):
    add_rows(lambda i: EmailMessage(organization_id=org, to_address=f"p{i}@example.com", subject="Hi",
                                    body_text="Hello", kind="notification", status="sent"))
    return "/api/admin/outbox", [f"p{i}@example.com" for i in reversed(range(ITEMS))]


LISTS = [PagedList("campaigns", _campaigns, "slug"), PagedList("knowledge bases", _bases, "name"),
         PagedList("documents", _documents, "name"), PagedList("q&a pairs", _qna, "question"),
         PagedList("webhooks", _webhooks, "id"), PagedList("webhook deliveries", _deliveries, "event_id"),
         PagedList("audit log", _audit, "action"), PagedList("outbox", _outbox, "to_address")]


def _join(url: str, query: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{query}"


def walk(client, owner, url: str, field: str, limit: int = 2) -> tuple[list, int]:
    """Every value of ``field`` following the cursors, and how many requests that took."""
    seen, cursor, batches = [], None, 0
    while True:
        response = client.get(_join(url, f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")), headers=owner)
        assert response.status_code == 200, response.text
        batches += 1
        assert len(response.json()) <= limit
        seen += [item[field] for item in response.json()]
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            assert "Link" not in response.headers
            return seen, batches
        assert f"cursor={cursor}" in response.headers["Link"] and 'rel="next"' in response.headers["Link"]


@pytest.mark.parametrize("paged", LISTS, ids=[p.name for p in LISTS])
def test_following_the_cursor_gets_every_item_once_in_order(client, owner, paged):
    url, expected = paged.seed(org_id())
    seen, batches = walk(client, owner, url, paged.field)
    assert seen == expected and batches == 3
    whole = client.get(_join(url, "limit=200"), headers=owner)
    assert [item[paged.field] for item in whole.json()] == expected and "X-Next-Cursor" not in whole.headers


@pytest.mark.parametrize("paged", LISTS, ids=[p.name for p in LISTS])
def test_a_tampered_cursor_is_refused_in_the_error_format(client, owner, paged):
    url, _ = paged.seed(org_id())
    first = client.get(_join(url, "limit=2"), headers=owner)
    cursor = first.headers["X-Next-Cursor"]
    for bad in ("nonsense", cursor[:-2], paging.write_cursor("x", "y", "z"), cursor + "%00", "W10"):
        response = client.get(_join(url, f"cursor={bad}"), headers=owner)
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]["code"] in ("invalid_cursor", "validation_error")
        assert response.json()["error"]["field"] == "cursor" and response.json()["error"]["message"]


def test_limit_is_bounded(client, owner):
    org = org_id()
    for url in ("/api/leads", "/api/webhooks", f"/api/knowledge/documents?knowledge_base_id={knowledge_base(org)}"):
        for limit in (0, -1, 201):
            response = client.get(_join(url, f"limit={limit}"), headers=owner)
            assert response.status_code == 422 and response.json()["error"]["field"] == "limit", (url, limit)
        assert client.get(_join(url, "limit=200"), headers=owner).status_code == 200
    # the lists that took up to 500 before cursors still do, so no existing call breaks
    assert client.get("/api/campaigns?limit=500", headers=owner).status_code == 200
    assert client.get("/api/campaigns?limit=501", headers=owner).status_code == 422


def test_the_default_batch_is_fifty(client, owner):
    org = org_id()
    kb = knowledge_base(org)
    with session_scope() as session:
        for i in range(paging.DEFAULT_LIMIT + 1):
            session.add(QnAPair(organization_id=org, knowledge_base_id=kb, question=f"Q{i}?", answer="A."))
    first = client.get(f"/api/knowledge/qna?knowledge_base_id={kb}", headers=owner)
    assert len(first.json()) == paging.DEFAULT_LIMIT and first.headers["X-Next-Cursor"]


def test_cursor_and_offset_together_are_refused(client, owner):
    _campaigns(org_id())
    cursor = client.get("/api/campaigns?limit=2", headers=owner).headers["X-Next-Cursor"]
    response = client.get(f"/api/campaigns?cursor={cursor}&offset=2", headers=owner)
    assert response.status_code == 422 and response.json()["error"]["field"] == "offset"
    old_way = client.get("/api/campaigns?limit=2&offset=2", headers=owner).json()  # still works
    assert [c["slug"] for c in old_way] == ["campaign-3", "campaign-2"]


def test_a_cursor_never_shows_another_organisations_items(client, owner):
    url, _ = _deliveries(org_id())
    cursor = client.get(_join(url, "limit=2"), headers=owner).headers["X-Next-Cursor"]
    with session_scope() as session:
        from tests.factories import verified_owner

        _, other = verified_owner(session, email="other@example.com", org="Other Org")
        other_hook = Webhook(organization_id=other.id, url="https://other.example.com/h", signing_secret="x",
                             events=[])
        session.add(other_hook)
        session.flush()
        session.add(WebhookDelivery(organization_id=other.id, webhook_id=other_hook.id, event_id="evt_other",
                                    event_type="lead.created"))
        other_url = f"/api/webhooks/{other_hook.id}/deliveries"
    assert client.get(_join(other_url, f"cursor={cursor}"), headers=owner).status_code == 404
    made_up = paging.write_cursor(10**9)  # a key of one's own choosing only narrows one's own list
    assert [d["event_id"] for d in client.get(_join(url, f"cursor={made_up}"), headers=owner).json()] == \
        [f"evt_{i}" for i in reversed(range(ITEMS))]
