"""Placing a call from the email gate's ticket on one of three transports — a voice sidecar over WebRTC, the
WebSocket fallback, a LiveKit room — and carrying it on: moving a WebRTC call that never connected onto the socket,
resuming a call whose sidecar died, and the page's signed call token for hang-up and caller metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from quantum_voice.core.errors import (Conflict, DomainError, NotFound, RateLimited, ServiceUnavailable,
                                       ValidationFailed)
from quantum_voice.models.calls import ConsentRecord, Conversation
from quantum_voice.models.campaigns import Campaign
from quantum_voice.models.system import SystemMetric
from quantum_voice.services import livekit_rooms, media
from quantum_voice.services.conversations import CALL_ENDED, OPEN_STATUSES, CallSetup
from quantum_voice.services.deployment import hash_client_ip
from quantum_voice.services.public_calls.call_limits import (check_placement_limits, check_resume_limits,
                                                             give_back_capacity, use_capacity, why_not_accepting)
from quantum_voice.services.public_calls.call_tickets import (expires_in, first_use, keep_unused, release, seal,
                                                              unseal)

_CLIENT_METRICS = ("connect_ms", "rtt_ms", "jitter_ms", "packets_lost", "audio_drops", "duration_s", "reconnects")
CALL_NOT_FOUND = "We couldn't find this call to reconnect it. Press Call to start again."
ALREADY_PLACED = "This call was already placed. Go back and press Call again to start a new one."
TRIED_TOO_OFTEN = "This call could not be connected after several tries. Go back and press Call again."
WEBRTC_UNAVAILABLE = ("This browser's WebRTC offer could not be used. Connect over the WebSocket instead "
                      "(/api/public/calls/socket) with the same ticket: it has not been used.")


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


@dataclass(frozen=True)
class LiveKitJoin:
    """LiveKit mode: what the page needs to join the call's room (the worker is dispatched when it joins)."""

    url: str
    room: str
    identity: str
    token: str
    call_token: str  # for metrics (hang-up is leaving the room)


def place_call(session: Session, ticket: str, *, sdp: str, ip: str | None, user_agent: str | None) -> PlacedCall:
    """The browser's WebRTC offer → a voice sidecar's answer. The ticket works once; an offer the sidecar refuses
    hands it back (a few times at most) for the WebSocket fallback. Only a placed call uses up the campaign's line:
    a failed one gives its count back. Attempts are limited per caller address (``check_placement_limits``)."""
    check_placement_limits(ip)
    claims = unseal("ticket", ticket, "Your call link has expired. Go back and press Call again.")
    if not sdp or "m=audio" not in sdp:
        raise ValidationFailed("The browser's offer has no audio. Allow the microphone and try again.", field="sdp")
    campaign, setup = ticketed_call(session, claims, ip=ip, user_agent=user_agent)
    try:
        answer = media.open_browser_call(session, campaign_id=campaign.id, sdp=sdp, setup=setup)
    except BaseException as exc:
        give_back_capacity(campaign.id, is_test=setup.is_test)  # no call was placed
        if not isinstance(exc, DomainError) or exc.code != "bad_offer":
            raise
        if not release(claims["nonce"]):  # the ticket still works, for the socket, unless it was replayed
            raise ValidationFailed(TRIED_TOO_OFTEN, field="ticket") from None
        raise DomainError(WEBRTC_UNAVAILABLE, code="webrtc_unavailable") from None
    token = call_token_for(organization_id=campaign.organization_id, worker_id=answer.worker_id,
                           call_id=answer.call_id, conversation_id=answer.conversation_id, campaign_id=campaign.id)
    return PlacedCall(sdp=answer.sdp, type=answer.type, call_token=token, conversation_id=answer.conversation_id)


def resume_call(session: Session, call_token: str, *, sdp: str, ip: str | None) -> PlacedCall:
    """A call whose sidecar died mid-call, carried on from the page's new WebRTC offer on another live sidecar:
    the same conversation (flow, lead and transcript go on), a new answer and a fresh call token."""
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
    claims = unseal("call", call_token, "This call was too long ago to reconnect. Press Call to start again.")
    check_resume_limits(claims["conversation"], ip)
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
    if resume_token:
        lost = lost_call(session, resume_token, ip=ip)
        return SocketCall(organization_id=lost.organization_id, sidecars=lost.sidecars,
                          campaign_id=lost.campaign_id, resume=lost.conversation_id)
    check_placement_limits(ip)
    if call_token:
        claims = unseal("call", call_token, "This call has already ended. Go back and press Call again.")
        return SocketCall(organization_id=claims["org"], sidecars=media.sidecar_of_call(session, claims["worker"]),
                          campaign_id=claims.get("campaign"), call_id=claims["call"])
    if not ticket:
        raise ValidationFailed("Open the call socket with ?ticket= (from the email gate), ?call_token= (of a "
                               "WebRTC call that did not connect) or ?resume= (the call token of a call that "
                               "dropped).", field="ticket")
    claims = unseal("ticket", ticket, "Your call link has expired. Go back and press Call again.")
    campaign, setup = ticketed_call(session, claims, ip=ip, user_agent=user_agent)
    try:
        sidecars = media.sidecars_for_call(session, campaign_id=campaign.id)
    except BaseException:
        give_back_capacity(campaign.id, is_test=setup.is_test)
        raise
    return SocketCall(organization_id=campaign.organization_id, campaign_id=campaign.id, setup=setup,
                      sidecars=sidecars)


def socket_call_not_opened(call: SocketCall) -> None:
    """No sidecar took the new call ``open_socket_call`` checked: it gives back its count on the campaign's line."""
    if call.setup is not None and call.campaign_id is not None:
        give_back_capacity(call.campaign_id, is_test=call.setup.is_test)


def join_livekit_call(session: Session, ticket: str, *, ip: str | None, user_agent: str | None) -> LiveKitJoin:
    """With LiveKit configured, the page joins a room for its call instead of connecting to a sidecar: the same
    ticket checks, then a room and the caller's token whose dispatch carries the call's setup (the typed email and
    the consent ticket included) to the voice worker. The ticket works once."""
    livekit_rooms.livekit_config()  # not configured: a clear 503 before the ticket is used up
    check_placement_limits(ip)
    claims = unseal("ticket", ticket, "Your call link has expired. Go back and press Call again.")
    campaign, setup = ticketed_call(session, claims, ip=ip, user_agent=user_agent)
    try:
        room = livekit_rooms.open_call_room(livekit_rooms.CallDispatch(
            campaign_id=campaign.id, channel=setup.channel, is_test=setup.is_test, qr_code_id=setup.qr_code_id,
            caller_ip_hash=setup.caller_ip_hash, user_agent=setup.user_agent, caller_email=setup.caller_email,
            consent_record_id=setup.consent_record_id))
    except BaseException:
        give_back_capacity(campaign.id, is_test=setup.is_test)
        raise
    token = call_token_for(organization_id=campaign.organization_id, worker_id="livekit", call_id=room.room,
                           conversation_id=0, campaign_id=campaign.id)
    return LiveKitJoin(url=room.url, room=room.room, identity=room.identity, token=room.token, call_token=token)


def call_token_for(*, organization_id: int, worker_id: str, call_id: str, conversation_id: int,
                   campaign_id: int | None = None) -> str:
    """The signed token the page keeps for its call: hang-up, metrics, the WebSocket fallback and resuming."""
    return seal("call", {"call": call_id, "worker": worker_id, "conversation": conversation_id,
                         "org": organization_id, "campaign": campaign_id, "exp": expires_in(6 * 3600)})


def ticketed_call(session: Session, claims: dict[str, Any], *, ip: str | None,
                  user_agent: str | None) -> tuple[Campaign, CallSetup]:
    """The checks a call from the email gate's ticket must pass, whatever carries it, and its setup. The ticket
    is used up here, and the call counted on the campaign's line (``use_capacity``): a caller that then fails to
    place it gives the count back (``give_back_capacity``)."""
    campaign = session.get(Campaign, claims["campaign"])
    if campaign is None or campaign.deleted_at is not None:
        raise NotFound("This campaign no longer exists.")
    if not claims["test"]:
        reason = why_not_accepting(session, campaign)
        if reason:
            raise ServiceUnavailable(reason, code="not_accepting_calls")
    record = session.get(ConsentRecord, claims["consent"])
    if record is None or record.conversation_id is not None:
        raise ValidationFailed(ALREADY_PLACED, field="ticket")
    if not first_use(claims["nonce"]):  # a replayed ticket: no call, nothing counted
        raise ValidationFailed(ALREADY_PLACED, field="ticket")
    try:
        use_capacity(campaign, is_test=bool(claims["test"]))
    except RateLimited:
        keep_unused(claims["nonce"])  # a busy line leaves the ticket unused, to try again in a few minutes
        raise
    setup = CallSetup(channel=claims["channel"], is_test=bool(claims["test"]), qr_code_id=claims["qr"],
                      caller_ip_hash=hash_client_ip(ip), user_agent=(user_agent or None) and user_agent[:400],
                      caller_email=record.email, consent_record_id=record.id)
    return campaign, setup


def hang_up(session: Session, call_token: str) -> None:
    """The page's hang-up button when the data channel is gone (the normal hang-up goes over the call itself)."""
    claims = unseal("call", call_token, "This call has already ended.")
    media.hang_up_browser_call(session, worker_id=claims["worker"], call_id=claims["call"])


def report_metrics(session: Session, call_token: str, metrics: dict[str, Any]) -> int:
    """Caller-side numbers from the page (connection time, round trip, audio drops) for the dashboard. Returns how
    many were kept; unknown names and non-numbers are ignored."""
    claims = unseal("call", call_token, "This call has ended; its metrics can no longer be sent.")
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
