"""The email gate before a call: the gate token handed out with the page, the moment a person takes before
posting it, the caller's email and consent, and what the gate writes: the consent ticket (written once, never
changed) and a short-lived, single-use call ticket for placing the call."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import RateLimited, ServiceUnavailable, ValidationFailed
from quantum_voice.models.calls import ConsentRecord
from quantum_voice.models.campaigns import Campaign, QRCode
from quantum_voice.services.leads.emails import valid_email
from quantum_voice.services.public_calls.call_limits import UNAVAILABLE, check_gate_limits
from quantum_voice.services.public_calls.call_page import campaign_by_slug, page_of
from quantum_voice.services.public_calls.call_tickets import expires_in, first_use, seal, unseal

CHANNELS = ("web", "widget", "qr")
GATE_MIN_SECONDS = 2  # a person reads the page and types an email; a script posting at once waits
GATE_TOKEN_SECONDS = 3600


@dataclass(frozen=True)
class CallTicket:
    token: str  # the browser sends it with its offer; valid once, for call_ticket_ttl_seconds
    consent_id: str  # the consent ticket's public id, shown to the caller
    consented_at: datetime
    is_test: bool


def gate_token(slug: str) -> str:
    """What the call page hands out with the page (``GET /api/public/campaigns/{slug}``): the gate accepts it once,
    from ``GATE_MIN_SECONDS`` after it was issued. Cheap for a person, a cost per post for a script."""
    now = utcnow().timestamp()
    return seal("gate", {"slug": slug, "iat": now, "exp": int(now) + GATE_TOKEN_SECONDS, "nonce": uuid.uuid4().hex})


def _check_gate_friction(slug: str, token: str | None, page_opened_at: float | None) -> None:
    """The page was opened (``page_opened_at``, the call page's own state; or its ``gate_token``) a moment ago."""
    if token is not None:
        claims = unseal("gate", token, "The call page was open too long. Reload it and try again.")
        if claims.get("slug") != slug:
            raise ValidationFailed("That gate token is for another campaign.", field="gate")
        page_opened_at = float(claims["iat"])
    if page_opened_at is None:
        raise ValidationFailed("Open the call page first: the gate needs its gate token "
                               "(GET /api/public/campaigns/{slug}).", field="gate")
    early = GATE_MIN_SECONDS - (utcnow().timestamp() - page_opened_at)
    if early > 0:
        raise RateLimited("One moment, please: try again in a second.", retry_after=max(1, int(early + 0.999)))
    if token is not None and not first_use(f"gate:{claims['nonce']}"):
        raise ValidationFailed("That gate token was already used. Reload the call page and try again.",
                               field="gate")


def open_gate(session: Session, slug: str, *, email: str, consent: bool, ip: str | None, user_agent: str | None,
              test_token: str | None = None, qr_code: str | None = None, channel: str = "web",
              gate: str | None = None, page_opened_at: float | None = None) -> CallTicket:
    """Email and consent from the call page → the consent ticket (written once, never changed) and a call ticket.
    ``gate`` (the API) or ``page_opened_at`` (the call page's state) shows the page was opened a moment ago."""
    _check_gate_friction(slug, gate, page_opened_at)
    campaign = campaign_by_slug(session, slug)
    page = page_of(session, campaign, test_token)
    if not page.accepting_calls:
        raise ServiceUnavailable(page.unavailable_reason or UNAVAILABLE, code="not_accepting_calls")
    address = valid_email((email or "").strip())
    if address is None:
        raise ValidationFailed("Enter your email address, like name@example.com.", field="email")
    if not consent:
        raise ValidationFailed("Please tick the box to agree to the privacy terms: the call is recorded to follow "
                               "up on your enquiry.", field="consent")
    check_gate_limits(ip)
    qr = _qr_code(session, campaign, qr_code)
    record = ConsentRecord(public_id=str(uuid.uuid4()), organization_id=campaign.organization_id,
                           campaign_id=campaign.id, email=address, granted=True,
                           wording=campaign.privacy_wording, policy_version=campaign.privacy_policy_version,
                           ip=(ip or None) and ip[:64], user_agent=(user_agent or None) and user_agent[:400])
    session.add(record)
    session.flush()
    claims = {"consent": record.id, "campaign": campaign.id, "test": page.is_test, "qr": qr.id if qr else None,
              "channel": channel if channel in CHANNELS else "web",
              "exp": expires_in(get_settings().call_ticket_ttl_seconds), "nonce": uuid.uuid4().hex}
    return CallTicket(token=seal("ticket", claims), consent_id=record.public_id, consented_at=record.created_at,
                      is_test=page.is_test)


def _qr_code(session: Session, campaign: Campaign, code: str | None) -> QRCode | None:
    if not code:
        return None
    return session.exec(select(QRCode).where(QRCode.code == code[:32], QRCode.campaign_id == campaign.id)).first()
