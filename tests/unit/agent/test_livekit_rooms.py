"""LiveKit room tokens, minted with livekit-api and checked with its TokenVerifier (no LiveKit server needed)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import jwt
import pytest
from livekit import api

from quantum_voice.core.config import reset_settings
from quantum_voice.core.errors import ServiceUnavailable, ValidationFailed
from quantum_voice.services import livekit_rooms
from quantum_voice.services.livekit_rooms import CallDispatch

URL, KEY, SECRET = "wss://voice.example.test", "APIqv-test-key", "qv-test-secret-0123456789-0123456789-abcdef"


@pytest.fixture
def livekit_env(monkeypatch):
    monkeypatch.setenv("LIVEKIT_URL", URL)
    monkeypatch.setenv("LIVEKIT_API_KEY", KEY)
    monkeypatch.setenv("LIVEKIT_API_SECRET", SECRET)
    reset_settings()


@pytest.fixture
def no_livekit_env(monkeypatch):
    for var in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(var, raising=False)
    reset_settings()


def verify(token: str) -> api.Claims:
    return api.TokenVerifier(KEY, SECRET).verify(token)


def test_caller_token_is_signed_with_the_secret_and_joins_only_its_room_with_the_call_dispatch(livekit_env):
    dispatch = CallDispatch(campaign_id=12, is_test=True, channel="qr", qr_code_id=4, caller_identity="caller-ab12")
    token = livekit_rooms.caller_token("qv-campaign-12-abc", "caller-ab12", "Caller", dispatch,
                                       ttl=timedelta(minutes=5))

    claims = verify(token)
    assert (claims.identity, claims.name) == ("caller-ab12", "Caller")
    video = claims.video
    assert video.room_join and video.room == "qv-campaign-12-abc"
    assert video.can_publish and video.can_subscribe
    assert not video.room_admin and not video.room_create and not video.agent, "a caller gets no admin rights"
    assert CallDispatch.from_metadata(claims.metadata) == dispatch
    assert claims.attributes == {livekit_rooms.ROLE_ATTRIBUTE: "caller"}
    (agent,) = claims.room_config.agents  # joining creates the room and dispatches our agent (explicit dispatch)
    assert agent.agent_name == livekit_rooms.AGENT_NAME == "quantum-voice"
    assert json.loads(agent.metadata) == {"campaign_id": 12, "is_test": True, "use_draft": False, "channel": "qr",
                                          "qr_code_id": 4, "caller_identity": "caller-ab12"}

    raw = jwt.decode(token, SECRET, algorithms=["HS256"], issuer=KEY)
    assert raw["exp"] - raw["nbf"] == 300 and abs(raw["exp"] - (time.time() + 300)) < 5
    with pytest.raises(jwt.InvalidSignatureError):
        api.TokenVerifier(KEY, "another-secret-0123456789-0123456789-abcdef").verify(token)


def test_an_expired_caller_token_is_refused(livekit_env):
    token = livekit_rooms.caller_token("qv-room", "caller-1", "Caller", CallDispatch(campaign_id=1),
                                       ttl=timedelta(minutes=-5))
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(token)


def test_a_human_agent_joins_the_live_call_to_hear_and_speak_without_dispatching_another_agent(livekit_env):
    token = livekit_rooms.human_agent_token("qv-campaign-12-abc", user_id=7, name="Dana Reyes")

    claims = verify(token)
    assert (claims.identity, claims.name) == ("staff-7", "Dana Reyes")
    assert claims.video.room_join and claims.video.room == "qv-campaign-12-abc"
    assert claims.video.can_publish and claims.video.can_subscribe
    assert claims.attributes == {livekit_rooms.ROLE_ATTRIBUTE: "human_agent"}
    assert claims.room_config is None


def test_open_call_room_gives_the_caller_a_fresh_room_its_url_and_a_token_for_it(livekit_env):
    first = livekit_rooms.open_call_room(CallDispatch(campaign_id=3, channel="web"))
    second = livekit_rooms.open_call_room(CallDispatch(campaign_id=3, channel="web"))

    assert first.url == URL and first.room.startswith("qv-campaign-3-") and first.room != second.room
    claims = verify(first.token)
    assert claims.identity == first.identity == first.dispatch.caller_identity
    assert claims.video.room == first.room
    assert CallDispatch.from_metadata(claims.room_config.agents[0].metadata).caller_identity == first.identity


def test_room_names_are_one_per_call():
    assert livekit_rooms.room_name_for(conversation_public_id="5f0c-77aa") == "qv-conversation-5f0c-77aa"
    assert livekit_rooms.room_name_for(campaign_id=9, suffix="a1b2") == "qv-campaign-9-a1b2"
    assert livekit_rooms.room_name_for(campaign_id=9) != livekit_rooms.room_name_for(campaign_id=9)
    with pytest.raises(ValidationFailed):
        livekit_rooms.room_name_for()


def test_without_livekit_settings_tokens_are_refused_with_what_to_set(no_livekit_env, monkeypatch):
    assert not livekit_rooms.livekit_enabled()
    with pytest.raises(ServiceUnavailable) as refused:
        livekit_rooms.caller_token("qv-room", "caller-1", "Caller", CallDispatch(campaign_id=1))
    assert "Set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET" in refused.value.message
    assert refused.value.code == "livekit_not_configured"

    monkeypatch.setenv("LIVEKIT_URL", URL)  # half configured is not configured
    reset_settings()
    assert not livekit_rooms.livekit_enabled()
    with pytest.raises(ServiceUnavailable):
        livekit_rooms.human_agent_token("qv-room", user_id=1, name="Dana")


def test_a_call_dispatch_reads_back_from_metadata_and_a_bad_one_says_what_is_missing():
    dispatch = CallDispatch(campaign_id=8, is_test=True, use_draft=True, user_agent="Mozilla/5.0")
    assert CallDispatch.from_metadata(dispatch.to_metadata()) == dispatch
    assert CallDispatch.from_metadata('{"campaign_id": "8", "future_field": 1}') == CallDispatch(campaign_id=8)
    assert CallDispatch.from_metadata('{"campaign_id": 8, "is_test": "yes"}').is_test is False, "only true is true"
    for bad in ("", "not json", "[8]", "{}", '{"campaign_id": "x"}', '{"campaign_id": true}', '{"campaign_id": 0}'):
        with pytest.raises(ValidationFailed) as refused:
            CallDispatch.from_metadata(bad)
        assert "campaign_id" in refused.value.message
