"""Helpers for knowledge tests on a real database (SQLite and PostgreSQL through the ``engine`` fixture).

Writes go through ``session_scope`` (committed), because the background job reads with its own sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.knowledge import Document
from quantum_voice.services.knowledge import documents
from quantum_voice.services.knowledge.answering import sentence_vectors
from quantum_voice.services.knowledge.vectors import matrix_cache
from quantum_voice.services.tenancy import OrgRepository
from quantum_voice.worker import build_worker
from tests.factories import add_member, repo_for, verified_owner


@pytest.fixture(autouse=True)
def _fresh_knowledge_caches() -> Iterator[None]:
    matrix_cache.clear()
    sentence_vectors.clear()
    yield
    matrix_cache.clear()


def new_owner(email: str = "owner@example.com", org: str = "Acme Homes") -> int:
    with session_scope() as session:
        user, _ = verified_owner(session, email=email, org=org)
        return user.id


def new_member(owner_id: int, email: str, role: str) -> int:
    with session_scope() as session:
        return add_member(session, session.get(User, owner_id), email, role).id


@contextmanager
def acting_as(user_id: int) -> Iterator[OrgRepository]:
    with session_scope() as session:
        yield repo_for(session, session.get(User, user_id))


def new_knowledge_base(user_id: int, name: str = "Brochures") -> int:
    with acting_as(user_id) as repo:
        return documents.create_knowledge_base(repo, name).id


def upload(user_id: int, kb_id: int, name: str, data: bytes) -> int:
    with acting_as(user_id) as repo:
        return documents.upload_document(repo, kb_id, name, data).id


def run_jobs() -> int:
    return build_worker().run_pending()


def document(document_id: int) -> Document:
    with session_scope() as session:
        return session.get(Document, document_id)
