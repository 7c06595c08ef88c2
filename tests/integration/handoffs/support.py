"""Callers asking for a person, and the team that answers them, on a real database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlmodel import select

from quantum_voice.core.clock import set_clock
from quantum_voice.core.db import session_scope
from quantum_voice.models.accounts import User
from quantum_voice.models.calls import Conversation
from quantum_voice.models.handoff import Handoff
from tests.factories import add_member, verified_owner
from tests.integration.flows.test_conversations import call, rows
from tests.integration.leads.test_people_and_pipeline import ticket

class Clock:
    """A clock the test moves by hand (core/clock.set_clock), starting now."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime.now(timezone.utc).replace(microsecond=0)
        set_clock(lambda: self.now)

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def owner(email: str = "owner@example.com", org: str = "Acme Homes") -> int:
    with session_scope() as session:
        user, _ = verified_owner(session, email=email, org=org)
        return user.id


def member(owner_id: int, email: str, role: str = "agent") -> int:
    with session_scope() as session:
        return add_member(session, session.get(User, owner_id), email, role).id


def ask_for_person(user_id: int, campaign_id: int, email: str = "ana@example.com",
                   *lines: str) -> Handoff:
    """A real (not test) call whose caller, with consent, asks for a person: the waiting hand-off it leaves.

    The call is real (transcript, lead, the Dispatch node's request row); the row is then made what the call side
    writes when someone can take the call (``waiting``, the conversation ``handed_off``), whatever the flow engine
    decided about who is online when the request came."""
    conversation_id = call(user_id, campaign_id, *(lines or ("I'm Ana Lopez",)), "can I talk to a real person?",
                           setup=ticket(user_id, campaign_id, email))
    with session_scope() as session:
        handoff = session.exec(select(Handoff).where(Handoff.conversation_id == conversation_id)).one()
        conversation = session.get(Conversation, conversation_id)
        handoff.status, handoff.notes = "waiting", None
        conversation.status = "handed_off"
        session.add_all([handoff, conversation])
    return rows(Handoff, Handoff.conversation_id == conversation_id)[0]


def change(handoff_id: int, **values) -> None:
    with session_scope() as session:
        handoff = session.exec(select(Handoff).where(Handoff.id == handoff_id)).one()
        for key, value in values.items():
            setattr(handoff, key, value)
        session.add(handoff)
