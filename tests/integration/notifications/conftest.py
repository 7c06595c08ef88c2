"""Organisations with leads, the local Slack/Asana/Resend receivers, a real SMTP server and a clock tests move."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from quantum_voice.core.clock import set_clock
from quantum_voice.core.config import reset_settings
from quantum_voice.core.db import session_scope
from quantum_voice.core.resilience import reset_breakers
from quantum_voice.models.leads import Lead
from quantum_voice.services import campaigns, integrations
from quantum_voice.services.notifications import queue_lead_notifications
from quantum_voice.services.tenancy import OrgRepository
from tests.factories import repo_for, verified_owner
from tests.local_server import free_port
from tests.unit.notifications.receivers import (
    ASANA_PROJECT, ASANA_TOKEN, RESEND_KEY, SLACK_CHANNEL, SLACK_TOKEN, Receiver)

BREAKDOWN = [{"rule": "budget", "label": "Gave a budget", "points": 30},
             {"rule": "timeline", "label": "Buying within 3 months", "points": 40},
             {"rule": "email", "label": "Left an email", "points": 15}]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(autouse=True)
def clock():
    reset_breakers()
    fake = Clock()
    set_clock(fake)
    yield fake
    reset_breakers()


@pytest.fixture
def fast_delivery(monkeypatch):
    monkeypatch.setenv("NOTIFY_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("NOTIFY_RETRY_BASE_SECONDS", "10")
    monkeypatch.setenv("APP_URL", "https://voice.example.com")
    reset_settings()


def _receiver(kind: str, env: str, monkeypatch, start: bool = True):
    receiver = Receiver(kind)
    if start:
        receiver.start()
    monkeypatch.setenv(env, receiver.url)
    reset_settings()
    return receiver


@pytest.fixture
def slack(monkeypatch, fast_delivery):
    receiver = _receiver("slack", "SLACK_BASE_URL", monkeypatch)
    yield receiver
    receiver.stop()


@pytest.fixture
def asana(monkeypatch, fast_delivery):
    receiver = _receiver("asana", "ASANA_BASE_URL", monkeypatch)
    yield receiver
    receiver.stop()


@pytest.fixture
def resend(monkeypatch, fast_delivery):
    receiver = _receiver("resend", "RESEND_BASE_URL", monkeypatch)
    yield receiver
    receiver.stop()


class Inbox:
    def __init__(self) -> None:
        self.messages = []
        self.refuse: dict[str, int] = {}  # address → how many more times to refuse it (450: try later)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse.get(address, 0) > 0:
            self.refuse[address] -= 1
            return "450 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"



@pytest.fixture
def smtp(monkeypatch, fast_delivery):
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_TIMEOUT_SECONDS", "3")
    reset_settings()
    yield inbox
    controller.stop()


# ---------------------------------------------------------------- organisations and leads

def new_org(email: str = "owner@example.com", name: str = "Harbor View") -> int:
    """An organisation with a verified owner; returns the owner's user id."""
    with session_scope() as session:
        owner, _ = verified_owner(session, email, name)
        return owner.id


def owner_repo(session, user_id: int) -> OrgRepository:
    from quantum_voice.models.accounts import User

    return repo_for(session, session.get(User, user_id))


def connect(user_id: int, *providers: str) -> None:
    values = {"slack": ({"channel": SLACK_CHANNEL}, {"bot_token": SLACK_TOKEN}),
              "asana": ({"project_gid": ASANA_PROJECT}, {"access_token": ASANA_TOKEN}),
              "resend": ({"from_address": "Leads <leads@harborview.example>"}, {"api_key": RESEND_KEY})}
    with session_scope() as session:
        repo = owner_repo(session, user_id)
        for provider in providers:
            config, secrets = values[provider]
            integrations.save_integration(repo, provider, config=config, secrets=secrets)


def new_campaign(user_id: int, name: str = "Spring open house") -> int:
    with session_scope() as session:
        return campaigns.create_campaign(owner_repo(session, user_id), name=name).id


def queue_lead(user_id: int, *, band: str = "hot", score: int = 85, campaign_id: int | None = None,
               email: str = "priya@example.com", name: str = "Priya Raman", is_test: bool = False) -> int:
    """A scored lead, written and queued in one transaction as the call's last step does, through the voice
    sidecar's view of the organisation (agent rights); returns its id."""
    from quantum_voice.services.voice_calls import system_repo

    with session_scope() as session:
        repo = system_repo(session, owner_repo(session, user_id).scope.organization_id)
        lead = repo.add(Lead(organization_id=repo.scope.organization_id, campaign_id=campaign_id, name=name,
                             email=email, phone="+1 555 0100", score=score, band=band, score_breakdown=BREAKDOWN,
                             interest="3-bedroom home", is_test=is_test))
        queue_lead_notifications(repo, lead)
        return lead.id
