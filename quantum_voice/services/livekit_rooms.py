"""LiveKit rooms for calls: room names, access tokens and the dispatch that tells the voice worker what to run.

With ``LIVEKIT_URL``, ``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET`` set, a call happens in a LiveKit room: the app
opens one room per call and gives the caller a short-lived token for it; the caller's join creates the room, and
the token's room configuration dispatches the ``quantum-voice`` agent (explicit dispatch) with a ``CallDispatch``
as the job's metadata, so the worker (``agent/livekit_worker.py``) knows the campaign and how to open the call.
A staff member taking over a call later joins the same room with ``human_agent_token``.

Tokens are JWTs signed with the API secret (``livekit-api``'s ``AccessToken``); nothing here talks to the server.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, fields, replace
from datetime import timedelta
from typing import Any

from livekit import api

from quantum_voice.core.config import Settings, get_settings
from quantum_voice.core.errors import ServiceUnavailable, ValidationFailed

AGENT_NAME = "quantum-voice"  # the worker registers under this name; only explicitly dispatched rooms reach it
ROLE_ATTRIBUTE = "qv.role"  # participant attribute: "caller" or "human_agent"
CALLER_TOKEN_TTL = timedelta(minutes=10)  # time to join; a joined call is not cut off when the token expires
HUMAN_AGENT_TOKEN_TTL = timedelta(minutes=30)
NOT_CONFIGURED = ("LiveKit is not configured. Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET "
                  "to run calls through LiveKit rooms.")


@dataclass(frozen=True)
class LiveKitConfig:
    url: str
    api_key: str
    api_secret: str


@dataclass(frozen=True)
class CallDispatch:
    """What the voice worker needs to open a call; travels as JSON in the job's (and the caller's) metadata."""

    campaign_id: int
    channel: str = "web"
    is_test: bool = False
    use_draft: bool = False
    qr_code_id: int | None = None
    caller_identity: str | None = None  # the room participant whose audio the agent listens to
    conversation_public_id: str | None = None  # a call the app already opened (not yet used by the worker)
    caller_ip_hash: str | None = None
    user_agent: str | None = None
    caller_email: str | None = None  # typed at the call page's email gate (pre-fills the Lead Gate)
    consent_record_id: int | None = None  # the consent ticket written there

    def to_metadata(self) -> str:
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}, sort_keys=True)

    @classmethod
    def from_metadata(cls, metadata: str | dict[str, Any] | None) -> CallDispatch:
        """Read a dispatch back; a missing or malformed one says what is wrong (the worker logs it)."""
        try:
            data = json.loads(metadata) if isinstance(metadata, str) else metadata
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ValidationFailed("The call's metadata is not a JSON object; it must carry a campaign_id.",
                                   field="metadata")
        campaign_id = data.get("campaign_id")
        if isinstance(campaign_id, bool) or not isinstance(campaign_id, int | str) or \
                not str(campaign_id).isdigit() or int(campaign_id) <= 0:
            raise ValidationFailed("The call's metadata has no valid campaign_id.", field="campaign_id")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["campaign_id"] = int(campaign_id)
        for flag in ("is_test", "use_draft"):
            values[flag] = values.get(flag) is True
        return cls(**values)


@dataclass(frozen=True)
class CallRoom:
    """What the caller's browser needs to join: the server URL, the room and its token."""

    url: str
    room: str
    identity: str
    token: str
    dispatch: CallDispatch


def livekit_enabled(settings: Settings | None = None) -> bool:
    s = settings or get_settings()
    return bool(s.livekit_url and s.livekit_api_key.get_secret_value() and s.livekit_api_secret.get_secret_value())


def livekit_config(settings: Settings | None = None) -> LiveKitConfig:
    s = settings or get_settings()
    if not livekit_enabled(s):
        raise ServiceUnavailable(NOT_CONFIGURED, code="livekit_not_configured")
    return LiveKitConfig(s.livekit_url, s.livekit_api_key.get_secret_value(), s.livekit_api_secret.get_secret_value())


def room_name_for(*, campaign_id: int | None = None, conversation_public_id: str | None = None,
                  suffix: str | None = None) -> str:
    """One room per call: ``qv-conversation-<public id>`` for a call the app opened, else
    ``qv-campaign-<id>-<random>``."""
    if conversation_public_id:
        return f"qv-conversation-{_slug(conversation_public_id)}"
    if campaign_id is None:
        raise ValidationFailed("A call room needs a campaign or a conversation.")
    return f"qv-campaign-{int(campaign_id)}-{suffix or secrets.token_hex(6)}"


def caller_token(room: str, identity: str, name: str, dispatch: CallDispatch, *,
                 ttl: timedelta = CALLER_TOKEN_TTL, settings: Settings | None = None) -> str:
    """The caller's token: join ``room``, publish the microphone, hear the agent. Joining creates the room and
    dispatches the agent with ``dispatch`` as its job metadata."""
    config = livekit_config(settings)
    metadata = dispatch.to_metadata()
    return (api.AccessToken(config.api_key, config.api_secret)
            .with_identity(identity).with_name(name).with_ttl(ttl)
            .with_metadata(metadata).with_attributes({ROLE_ATTRIBUTE: "caller"})
            .with_grants(api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True,
                                         can_publish_data=True))
            .with_room_config(api.RoomConfiguration(
                agents=[api.RoomAgentDispatch(agent_name=AGENT_NAME, metadata=metadata)]))
            .to_jwt())


def human_agent_token(room: str, *, user_id: int, name: str, ttl: timedelta = HUMAN_AGENT_TOKEN_TTL,
                      settings: Settings | None = None) -> str:
    """A staff member joining a live call (hand-off): hears the caller and the agent, and speaks."""
    config = livekit_config(settings)
    return (api.AccessToken(config.api_key, config.api_secret)
            .with_identity(f"staff-{int(user_id)}").with_name(name).with_ttl(ttl)
            .with_attributes({ROLE_ATTRIBUTE: "human_agent"})
            .with_grants(api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True,
                                         can_publish_data=True))
            .to_jwt())


def open_call_room(dispatch: CallDispatch, *, name: str = "Caller", ttl: timedelta = CALLER_TOKEN_TTL,
                   settings: Settings | None = None) -> CallRoom:
    """A fresh room for one call and the caller's token for it."""
    config = livekit_config(settings)
    room = room_name_for(campaign_id=dispatch.campaign_id, conversation_public_id=dispatch.conversation_public_id)
    identity = dispatch.caller_identity or f"caller-{secrets.token_hex(6)}"
    dispatch = replace(dispatch, caller_identity=identity)
    return CallRoom(url=config.url, room=room, identity=identity, dispatch=dispatch,
                    token=caller_token(room, identity, name, dispatch, ttl=ttl, settings=settings))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:64] or "call"
