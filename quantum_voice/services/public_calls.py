"""The public side of a campaign, for callers (no account, no sign-in): what the call page shows, the email gate
that writes the consent ticket, the checks a call must pass before it starts, and placing the call on a voice
sidecar.

A call goes: ``campaign_page`` (branding, privacy wording, whether calls are taken) → ``open_gate`` (email +
consent → an immutable consent ticket and a short-lived signed *call ticket*) → ``place_call`` (the browser's
WebRTC offer and the call ticket → the sidecar's answer; the ticket works once) → ``hang_up`` / ``report_metrics``
with the signed *call token* returned by ``place_call``.

When WebRTC cannot connect, the page's call goes as PCM over a WebSocket instead (``open_socket_call``): with the
ticket when the page knows before placing the call (no WebRTC in the browser, ``?transport=socket``, or
``place_call`` answering ``webrtc_unavailable``, which leaves the ticket unused), or with the call token of its
WebRTC call that never connected, which the sidecar then moves onto the socket. A consent ticket belongs to one
call, so the fallback continues that call rather than opening a second one.

When the voice sidecar running a call dies mid-call, the page resumes it with its call token (``resume_call`` for
WebRTC, ``open_socket_call(resume_token=...)`` for the socket): the same conversation carries on on another live
sidecar, which answers "Sorry, we got cut off." and asks again what the flow was waiting for. Only the token's own
conversation, only while it is open (a lost call stays open for CALL_RESUME_GRACE_SECONDS), only once its sidecar
is gone or unreachable, and a limited number of times.

Abuse limits: calls started per caller IP and per campaign per hour (the shared cache, so every app process
counts together), the campaign's hard budget, and a maximum call length (the campaign's ``max_call_seconds``,
enforced by the sidecar). A test call (the owner's "Test call" button) carries a signed test token: it may run a
campaign that is not live yet, and it is marked as a test (left out of analytics).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from quantum_voice.core.cache import get_cache
from quantum_voice.core.clock import utcnow
from quantum_voice.core.config import get_settings
from quantum_voice.core.errors import (Conflict, DomainError, NotFound, PermissionDenied, RateLimited,
                                       ServiceUnavailable, ValidationFailed)
from quantum_voice.core.security import sign, tokens_equal
from quantum_voice.models.accounts import Organization
from quantum_voice.models.billing import Budget, UsageRecord
from quantum_voice.models.calls import ConsentRecord, Conversation
from quantum_voice.models.campaigns import Campaign, CampaignStatus, QRCode
from quantum_voice.models.system import SystemMetric
from quantum_voice.services.conversations import CALL_ENDED, OPEN_STATUSES, CallSetup
from quantum_voice.services.deployment import hash_client_ip
from quantum_voice.services.flows.editing import live_campaign
from quantum_voice.services.leads.emails import valid_email
from quantum_voice.services.permissions import Permission
from quantum_voice.services.ratelimit import Limit, RateLimiter
from quantum_voice.services.tenancy import OrgRepository

TEST_LINK_HOURS = 24
CHANNELS = ("web", "widget", "qr")
UNAVAILABLE = "This line isn't taking calls right now. Please try again later."
_CLIENT_METRICS = ("connect_ms", "rtt_ms", "jitter_ms", "packets_lost", "audio_drops", "duration_s", "reconnects")
# resuming a lost call: the page tries a few times (with backoff) per drop; a call may drop a few times
RESUMES_PER_CALL_PER_HOUR = 20
RESUMES_PER_IP_PER_HOUR = 60
CALL_NOT_FOUND = "We couldn't find this call to reconnect it. Press Call to start again."


@dataclass(frozen=True)
class CampaignPage:
    """What the public call page shows before the call."""

    slug: str
    name: str
    organization: str
    greeting: str
    brand_color: str
    logo_url: str | None
    privacy_wording: str
    policy_version: str
    accepting_calls: bool
    unavailable_reason: str | None
    is_test: bool
    media: str = "embedded"  # embedded (WebRTC / WebSocket to a voice sidecar) | livekit (a LiveKit room)


@dataclass(frozen=True)
class CallTicket:
    token: str  # the browser sends it with its offer; valid once, for call_ticket_ttl_seconds
    consent_id: str  # the consent ticket's public id, shown to the caller
    consented_at: datetime
    is_test: bool


@dataclass(frozen=True)
class PlacedCall:
    sdp: str
    type: str
    call_token: str  # for hang-up and metrics from the page
    conversation_id: int


@dataclass(frozen=True)
class SocketCall:
    """A call the page makes over the WebSocket fallback, checked: a new call (``campaign_id``, ``setup``), the
    page's WebRTC call that never connected (``call_id``) or a lost call to resume (``resume``: its conversation),
    and the sidecars to try for it, best first."""

    organization_id: int
    sidecars: list[tuple[str, str]]  # (worker id, media URL)
    campaign_id: int | None = None
    setup: CallSetup | None = None
    call_id: str | None = None
    resume: int | None = None


@dataclass(frozen=True)
class LostCall:
    """A call whose media connection dropped with its voice sidecar, checked for resuming: its conversation and the
    live sidecars to try, best first."""

    organization_id: int
    campaign_id: int
    conversation_id: int
    sidecars: list[tuple[str, str]]  # (worker id, media URL)


# ---------------------------------------------------------------- the page

def campaign_page(session: Session, slug: str, *, test_token: str | None = None) -> CampaignPage:
    return _page_of(session, _campaign(session, slug), test_token)


def _page_of(session: Session, campaign: Campaign, test_token: str | None) -> CampaignPage:
    is_test = bool(test_token) and _test_token_valid(campaign, test_token)
    if test_token and not is_test:
        raise PermissionDenied("This test-call link has expired or is not valid. Open a new one from the "
                               "campaign's page with the Test call button.")
    reason = None if is_test else _why_not_accepting(session, campaign)
    organization = session.get(Organization, campaign.organization_id)
    return CampaignPage(slug=campaign.slug, name=campaign.name, organization=organization.name if organization else "",
                        greeting=campaign.greeting, brand_color=campaign.brand_color, logo_url=campaign.logo_url,
                        privacy_wording=campaign.privacy_wording, policy_version=campaign.privacy_policy_version,
                        accepting_calls=reason is None, unavailable_reason=reason, is_test=is_test,
                        media=media_mode())


def test_call_link(repo: OrgRepository, campaign_id: int) -> str:
    """The "Test call" button: the call page in test mode, for people who manage the campaign."""
    repo.scope.require(Permission.MANAGE_CAMPAIGNS)
    campaign = live_campaign(repo, campaign_id)
    expires = int(time.time()) + TEST_LINK_HOURS * 3600
    token = f"{expires}.{_sign(f'test-call:{campaign.id}:{expires}')}"
    return f"{get_settings().app_url.rstrip('/')}/call/{campaign.slug}?test={token}"


# ---------------------------------------------------------------- the email gate

GATE_MIN_SECONDS = 2  # a person reads the page and types an email; a script posting at once waits
GATE_TOKEN_SECONDS = 3600


def gate_token(slug: str) -> str:
    """What the call page hands out with the page (``GET /api/public/campaigns/{slug}``): the gate accepts it once,
    from ``GATE_MIN_SECONDS`` after it was issued. Cheap for a person, a cost per post for a script."""
    now = utcnow().timestamp()
    return _seal("gate", {"slug": slug, "iat": now, "exp": int(now) + GATE_TOKEN_SECONDS, "nonce": uuid.uuid4().hex})


def _check_gate_friction(slug: str, token: str | None, page_opened_at: float | None) -> None:
    """The page was opened (``page_opened_at``, the call page's own state; or its ``gate_token``) a moment ago."""
    if token is not None:
        claims = _open("gate", token, "The call page was open too long. Reload it and try again.")
        if claims.get("slug") != slug:
            raise ValidationFailed("That gate token is for another campaign.", field="gate")
        page_opened_at = float(claims["iat"])
    if page_opened_at is None:
        raise ValidationFailed("Open the call page first: the gate needs its gate token "
                               "(GET /api/public/campaigns/{slug}).", field="gate")
    early = GATE_MIN_SECONDS - (utcnow().timestamp() - page_opened_at)
    if early > 0:
        raise RateLimited("One moment, please: try again in a second.", retry_after=max(1, int(early + 0.999)))
    if token is not None and not _first_use(f"gate:{claims['nonce']}"):
        raise ValidationFailed("That gate token was already used. Reload the call page and try again.",
                               field="gate")


def open_gate(session: Session, slug: str, *, email: str, consent: bool, ip: str | None, user_agent: str | None,
              test_token: str | None = None, qr_code: str | None = None, channel: str = "web",
              gate: str | None = None, page_opened_at: float | None = None) -> CallTicket:
    """Email and consent from the call page → the consent ticket (written once, never changed) and a call ticket.
    ``gate`` (the API) or ``page_opened_at`` (the call page's state) shows the page was opened a moment ago."""
    _check_gate_friction(slug, gate, page_opened_at)
    campaign = _campaign(session, slug)
    page = _page_of(session, campaign, test_token)
    if not page.accepting_calls:
        raise ServiceUnavailable(page.unavailable_reason or UNAVAILABLE, code="not_accepting_calls")
    address = valid_email((email or "").strip())
    if address is None:
        raise ValidationFailed("Enter your email address, like name@example.com.", field="email")
    if not consent:
        raise ValidationFailed("Please tick the box to agree to the privacy terms: the call is recorded to follow "
                               "up on your enquiry.", field="consent")
    _check_gate_limits(ip)
    qr = _qr_code(session, campaign, qr_code)
    record = ConsentRecord(public_id=str(uuid.uuid4()), organization_id=campaign.organization_id,
                           campaign_id=campaign.id, email=address, granted=True,
                           wording=campaign.privacy_wording, policy_version=campaign.privacy_policy_version,
                           ip=(ip or None) and ip[:64], user_agent=(user_agent or None) and user_agent[:400])
    session.add(record)
    session.flush()
    claims = {"consent": record.id, "campaign": campaign.id, "test": page.is_test, "qr": qr.id if qr else None,
              "channel": channel if channel in CHANNELS else "web",
              "exp": int(time.time()) + get_settings().call_ticket_ttl_seconds, "nonce": uuid.uuid4().hex}
    return CallTicket(token=_seal("ticket", claims), consent_id=record.public_id, consented_at=record.created_at,
                      is_test=page.is_test)


# ---------------------------------------------------------------- placing the call

WEBRTC_UNAVAILABLE = ("This browser's WebRTC offer could not be used. Connect over the WebSocket instead "
                      "(/api/public/calls/socket) with the same ticket: it has not been used.")


def place_call(session: Session, ticket: str, *, sdp: str, ip: str | None, user_agent: str | None) -> PlacedCall:
    """The browser's WebRTC offer → a voice sidecar's answer. The ticket works once."""
    from quantum_voice.services import media

    claims = _open("ticket", ticket, "Your call link has expired. Go back and press Call again.")
    if not sdp or "m=audio" not in sdp:
        raise ValidationFailed("The browser's offer has no audio. Allow the microphone and try again.", field="sdp")
    campaign, setup = _ticketed_call(session, claims, ip=ip, user_agent=user_agent)
    try:
        answer = media.open_browser_call(session, campaign_id=campaign.id, sdp=sdp, setup=setup)
    except DomainError as exc:
        if exc.code != "bad_offer":
            raise
        _release(claims["nonce"])  # no call was opened: the ticket still works, for the socket
        raise DomainError(WEBRTC_UNAVAILABLE, code="webrtc_unavailable") from None
    token = call_token_for(organization_id=campaign.organization_id, worker_id=answer.worker_id,
                           call_id=answer.call_id, conversation_id=answer.conversation_id, campaign_id=campaign.id)
    return PlacedCall(sdp=answer.sdp, type=answer.type, call_token=token, conversation_id=answer.conversation_id)


def resume_call(session: Session, call_token: str, *, sdp: str, ip: str | None) -> PlacedCall:
    """A call whose sidecar died mid-call, carried on from the page's new WebRTC offer on another live sidecar:
    the same conversation (flow, lead and transcript go on), a new answer and a fresh call token."""
    from quantum_voice.services import media

    if not sdp or "m=audio" not in sdp:
        raise ValidationFailed("The browser's offer has no audio. Allow the microphone and try again.", field="sdp")
    call = lost_call(session, call_token, ip=ip)
    try:
        answer = media.resume_browser_call(call.sidecars, campaign_id=call.campaign_id,
                                           conversation_id=call.conversation_id, sdp=sdp)
    except DomainError as exc:
        if exc.code != "bad_offer":
            raise
        raise DomainError("This browser's WebRTC offer could not be used. Resume over the WebSocket instead "
                          "(/api/public/calls/socket?resume=<call token>).", code="webrtc_unavailable") from None
    token = call_token_for(organization_id=call.organization_id, worker_id=answer.worker_id, call_id=answer.call_id,
                           conversation_id=answer.conversation_id, campaign_id=call.campaign_id)
    return PlacedCall(sdp=answer.sdp, type=answer.type, call_token=token, conversation_id=answer.conversation_id)


def lost_call(session: Session, call_token: str, *, ip: str | None) -> LostCall:
    """The checks before resuming a call with the page's ``call_token``: genuine and not expired, within the
    resume limits, its own conversation (of the token's organisation and campaign) and still open, and its sidecar
    gone, unreachable or no longer running it; ``ServiceUnavailable`` when no other sidecar can take it."""
    from quantum_voice.services import media

    claims = _open("call", call_token, "This call was too long ago to reconnect. Press Call to start again.")
    _check_resume_limits(claims, ip)
    conversation = session.exec(select(Conversation).where(Conversation.id == claims["conversation"],
                                                           Conversation.organization_id == claims["org"])).first()
    if conversation is None or conversation.campaign_id is None \
            or claims.get("campaign") not in (None, conversation.campaign_id):
        raise NotFound(CALL_NOT_FOUND)
    if conversation.status not in OPEN_STATUSES:
        raise Conflict(CALL_ENDED, code="call_ended")
    sidecars = media.sidecars_for_resume(session, conversation_id=conversation.id, worker_id=conversation.worker_id)
    return LostCall(organization_id=conversation.organization_id, campaign_id=conversation.campaign_id,
                    conversation_id=conversation.id, sidecars=sidecars)


def open_socket_call(session: Session, *, ticket: str | None = None, call_token: str | None = None,
                     resume_token: str | None = None, ip: str | None, user_agent: str | None) -> SocketCall:
    """The checks before a call over the WebSocket fallback, with the email gate's ``ticket`` (used up here, as
    ``place_call`` does), the ``call_token`` of the page's WebRTC call that never connected, or the call token of a
    call to resume (``resume_token``, checked as ``lost_call`` does)."""
    from quantum_voice.services import media

    if resume_token:
        lost = lost_call(session, resume_token, ip=ip)
        return SocketCall(organization_id=lost.organization_id, sidecars=lost.sidecars,
                          campaign_id=lost.campaign_id, resume=lost.conversation_id)
    if call_token:
        claims = _open("call", call_token, "This call has already ended. Go back and press Call again.")
        return SocketCall(organization_id=claims["org"], sidecars=media.sidecar_of_call(session, claims["worker"]),
                          campaign_id=claims.get("campaign"), call_id=claims["call"])
    if not ticket:
        raise ValidationFailed("Open the call socket with ?ticket= (from the email gate), ?call_token= (of a "
                               "WebRTC call that did not connect) or ?resume= (the call token of a call that "
                               "dropped).", field="ticket")
    claims = _open("ticket", ticket, "Your call link has expired. Go back and press Call again.")
    campaign, setup = _ticketed_call(session, claims, ip=ip, user_agent=user_agent)
    return SocketCall(organization_id=campaign.organization_id, campaign_id=campaign.id, setup=setup,
                      sidecars=media.sidecars_for_call(session, campaign_id=campaign.id))


@dataclass(frozen=True)
class LiveKitJoin:
    """LiveKit mode: what the page needs to join the call's room (the worker is dispatched when it joins)."""

    url: str
    room: str
    identity: str
    token: str
    call_token: str  # for metrics (hang-up is leaving the room)


def join_livekit_call(session: Session, ticket: str, *, ip: str | None, user_agent: str | None) -> LiveKitJoin:
    """With LiveKit configured, the page joins a room for its call instead of connecting to a sidecar: the same
    ticket checks, then a room and the caller's token whose dispatch carries the call's setup (the typed email and
    the consent ticket included) to the voice worker. The ticket works once."""
    from quantum_voice.services import livekit_rooms

    livekit_rooms.livekit_config()  # not configured: a clear 503 before the ticket is used up
    claims = _open("ticket", ticket, "Your call link has expired. Go back and press Call again.")
    campaign, setup = _ticketed_call(session, claims, ip=ip, user_agent=user_agent)
    room = livekit_rooms.open_call_room(livekit_rooms.CallDispatch(
        campaign_id=campaign.id, channel=setup.channel, is_test=setup.is_test, qr_code_id=setup.qr_code_id,
        caller_ip_hash=setup.caller_ip_hash, user_agent=setup.user_agent, caller_email=setup.caller_email,
        consent_record_id=setup.consent_record_id))
    token = call_token_for(organization_id=campaign.organization_id, worker_id="livekit", call_id=room.room,
                           conversation_id=0, campaign_id=campaign.id)
    return LiveKitJoin(url=room.url, room=room.room, identity=room.identity, token=room.token, call_token=token)


def media_mode() -> str:
    """How the page connects: ``livekit`` (a LiveKit server is configured) or ``embedded`` (a voice sidecar)."""
    from quantum_voice.services import livekit_rooms

    return "livekit" if livekit_rooms.livekit_enabled() else "embedded"


def call_token_for(*, organization_id: int, worker_id: str, call_id: str, conversation_id: int,
                   campaign_id: int | None = None) -> str:
    """The signed token the page keeps for its call: hang-up, metrics, the WebSocket fallback and resuming."""
    return _seal("call", {"call": call_id, "worker": worker_id, "conversation": conversation_id,
                          "org": organization_id, "campaign": campaign_id, "exp": int(time.time()) + 6 * 3600})


def _ticketed_call(session: Session, claims: dict[str, Any], *, ip: str | None,
                   user_agent: str | None) -> tuple[Campaign, CallSetup]:
    """The checks a call from the email gate's ticket must pass, whatever carries it, and its setup. The ticket
    is used up here."""
    campaign = session.get(Campaign, claims["campaign"])
    if campaign is None or campaign.deleted_at is not None:
        raise NotFound("This campaign no longer exists.")
    if not claims["test"]:
        reason = _why_not_accepting(session, campaign)
        if reason:
            raise ServiceUnavailable(reason, code="not_accepting_calls")
    record = session.get(ConsentRecord, claims["consent"])
    if record is None or record.conversation_id is not None:
        raise ValidationFailed("This call was already placed. Go back and press Call again to start a new one.",
                               field="ticket")
    _use_capacity(campaign, is_test=bool(claims["test"]))  # a busy line leaves the ticket unused
    if not _first_use(claims["nonce"]):
        raise ValidationFailed("This call was already placed. Go back and press Call again to start a new one.",
                               field="ticket")
    setup = CallSetup(channel=claims["channel"], is_test=bool(claims["test"]), qr_code_id=claims["qr"],
                      caller_ip_hash=hash_client_ip(ip), user_agent=(user_agent or None) and user_agent[:400],
                      caller_email=record.email, consent_record_id=record.id)
    return campaign, setup


def hang_up(session: Session, call_token: str) -> None:
    """The page's hang-up button when the data channel is gone (the normal hang-up goes over the call itself)."""
    from quantum_voice.services import media

    claims = _open("call", call_token, "This call has already ended.")
    media.hang_up_browser_call(session, worker_id=claims["worker"], call_id=claims["call"])


def report_metrics(session: Session, call_token: str, metrics: dict[str, Any]) -> int:
    """Caller-side numbers from the page (connection time, round trip, audio drops) for the dashboard. Returns how
    many were kept; unknown names and non-numbers are ignored."""
    claims = _open("call", call_token, "This call has ended; its metrics can no longer be sent.")
    conversation = session.get(Conversation, claims["conversation"]) if claims["conversation"] else None
    if conversation is not None and conversation.organization_id != claims["org"]:
        conversation = None
    labels = {"conversation_id": claims["conversation"], "test": bool(conversation and conversation.is_test)}
    kept = 0
    for name in _CLIENT_METRICS:
        value = metrics.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e9:
            continue
        session.add(SystemMetric(organization_id=claims["org"], name=f"caller_{name}", value=float(value),
                                 labels=labels, source="call-page"))
        kept += 1
    return kept


# ---------------------------------------------------------------- checks

def _campaign(session: Session, slug: str) -> Campaign:
    campaign = session.exec(select(Campaign).where(Campaign.slug == (slug or "").strip().lower(),
                                                   Campaign.deleted_at.is_(None))).first()
    if campaign is None:
        raise NotFound("We couldn't find this call link. Check the address, or scan the QR code again.")
    return campaign


def _why_not_accepting(session: Session, campaign: Campaign) -> str | None:
    if campaign.status != CampaignStatus.LIVE.value:
        return UNAVAILABLE
    if _over_hard_budget(session, campaign):
        return UNAVAILABLE
    return None


def _over_hard_budget(session: Session, campaign: Campaign) -> bool:
    """A budget's hard limit refuses new calls: the campaign's own budget, else the organisation's."""
    budgets = session.exec(select(Budget).where(Budget.organization_id == campaign.organization_id,
                                                sa.or_(Budget.campaign_id == campaign.id,
                                                       Budget.campaign_id.is_(None)))).all()
    for budget in sorted(budgets, key=lambda b: b.campaign_id is None):
        if budget.hard_limit_usd is None:
            continue
        spent = session.exec(select(sa.func.coalesce(sa.func.sum(UsageRecord.cost_usd), 0)).where(
            UsageRecord.organization_id == campaign.organization_id,
            UsageRecord.created_at >= _period_start(budget.period),
            *([UsageRecord.campaign_id == campaign.id] if budget.campaign_id else []))).one()
        if Decimal(str(spent)) >= budget.hard_limit_usd:
            return True
    return False


def _period_start(period: str) -> datetime:
    now = utcnow()
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == "daily" else day.replace(day=1) if period == "monthly" else day - timedelta(days=7)


def _check_gate_limits(ip: str | None) -> None:
    """The email gate, per caller address and per address range (/24 for IPv4, /48 for IPv6): one network cannot
    write consent records without end. The campaign's capacity is counted where calls are placed (``_use_capacity``),
    so gate posts alone can never shut a campaign's line."""
    if not ip:
        return
    settings = get_settings()
    limiter = RateLimiter(get_cache(), "calls")
    busy = "You've started a lot of calls in a short time. Please wait a while before calling again."
    for key, limit in ((f"ip:{hash_client_ip(ip)}", Limit(settings.calls_per_ip_per_hour, 3600)),
                       (f"range:{hash_client_ip(address_range(ip))}", Limit(settings.calls_per_range_per_hour, 3600))):
        verdict = limiter.hit(key, limit)
        if not verdict.allowed:
            raise RateLimited(busy, retry_after=verdict.retry_after)


def _use_capacity(campaign: Campaign, *, is_test: bool) -> None:
    """One more call on the campaign's line this hour (the owner's test calls don't count)."""
    if is_test:
        return
    verdict = RateLimiter(get_cache(), "calls").hit(
        f"campaign:{campaign.id}", Limit(get_settings().calls_per_campaign_per_hour, 3600))
    if not verdict.allowed:
        raise RateLimited("This line is very busy right now. Please try again in a few minutes.",
                          retry_after=verdict.retry_after)


def address_range(ip: str) -> str:
    """"203.0.113.7" → "203.0.113.0/24"; an IPv6 address → its /48; anything else as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    return str(ipaddress.ip_network(f"{address}/{24 if address.version == 4 else 48}", strict=False))


def _check_resume_limits(claims: dict[str, Any], ip: str | None) -> None:
    limiter = RateLimiter(get_cache(), "call-resumes")
    checks = [(f"conversation:{claims['conversation']}", Limit(RESUMES_PER_CALL_PER_HOUR, 3600),
               "This call has been reconnected many times. Please press Call to start a new one.")]
    if ip:
        checks.append((f"ip:{hash_client_ip(ip)}", Limit(RESUMES_PER_IP_PER_HOUR, 3600),
                       "Too many reconnects from your network in a short time. Please wait a while before calling "
                       "again."))
    for key, limit, message in checks:
        verdict = limiter.hit(key, limit)
        if not verdict.allowed:
            raise RateLimited(message, retry_after=verdict.retry_after)


def _qr_code(session: Session, campaign: Campaign, code: str | None) -> QRCode | None:
    if not code:
        return None
    return session.exec(select(QRCode).where(QRCode.code == code[:32], QRCode.campaign_id == campaign.id)).first()


def _first_use(nonce: str) -> bool:
    cache = get_cache()
    count, _ = cache.incr(f"call-ticket:{nonce}", get_settings().call_ticket_ttl_seconds + 60)
    return count == 1


def _release(nonce: str) -> None:
    """The ticket's call was never opened: it may be used once more."""
    get_cache().delete(f"call-ticket:{nonce}")


# ---------------------------------------------------------------- signed tokens

def _sign(message: str) -> str:
    return sign(get_settings().effective_secret_key, message.encode())


def _test_token_valid(campaign: Campaign, token: str) -> bool:
    expires, _, signature = (token or "").partition(".")
    if not expires.isdigit() or int(expires) < time.time():
        return False
    return tokens_equal(signature, _sign(f"test-call:{campaign.id}:{expires}"))


def _seal(kind: str, claims: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{body}.{_sign(f'{kind}:{body}')}"


def _open(kind: str, token: str, expired_message: str) -> dict[str, Any]:
    body, _, signature = (token or "").partition(".")
    if not body or not tokens_equal(signature, _sign(f"{kind}:{body}")):
        raise ValidationFailed(f"That {kind} is not valid. Go back to the call page and start again.", field=kind)
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if int(claims.get("exp", 0)) < time.time():
        raise ValidationFailed(expired_message, field=kind)
    return claims
