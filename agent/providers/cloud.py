"""Optional cloud speech: Deepgram and OpenAI STT/TTS through their livekit-agents plugins.

Off unless ``VOICE_STT_PROVIDER`` / ``VOICE_TTS_PROVIDER`` name one; each then needs its key, and a missing key is
a ``CloudProviderNotConfigured`` naming the variable to set. The hosts come from settings (``DEEPGRAM_BASE_URL``,
``OPENAI_BASE_URL``), so a proxy, a compatible server or a test's fake can stand in for the real API.

The plugins are used one request per utterance or sentence: Deepgram's pre-recorded ``POST /v1/listen`` and
``POST /v1/speak``, OpenAI's ``/v1/audio/transcriptions`` and ``/v1/audio/speech``. That is what lets the fallback
chain (``agent/resilience.py``) hand the very same utterance or sentence to the next provider when one fails.

The plugin packages register themselves with livekit-agents on import, which must happen on the main thread; they
are imported here, at module level, and ``agent/voice.py`` imports this module, so calls built in job threads find
them loaded.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from typing import Any

import aiohttp
from livekit.agents import utils
from livekit.agents.types import NOT_GIVEN
from livekit.plugins import deepgram, openai

from quantum_voice.core.config import Settings

DEEPGRAM_HOST = "https://api.deepgram.com"
PROVIDERS = ("local", "deepgram", "openai")


class CloudProviderNotConfigured(ValueError):
    """A cloud provider was chosen without what it needs (its key, a known name)."""


@dataclass(frozen=True)
class CloudProvider:
    """A configured cloud plugin and how its usage is recorded (``usage_records.provider`` / ``model``)."""

    name: str  # deepgram | openai
    model: str
    plugin: Any  # a livekit stt.STT or tts.TTS


def cloud_stt(settings: Settings, vocabulary: list[str] | None = None) -> CloudProvider | None:
    """The cloud STT that ``VOICE_STT_PROVIDER`` chooses, or ``None`` for the local models alone."""
    choice = _choice(settings.voice_stt_provider, "VOICE_STT_PROVIDER")
    if choice == "deepgram":
        return CloudProvider("deepgram", settings.deepgram_stt_model, deepgram_stt(settings, vocabulary=vocabulary))
    if choice == "openai":
        return CloudProvider("openai", settings.openai_stt_model, openai_stt(settings, vocabulary=vocabulary))
    return None


def cloud_tts(settings: Settings) -> CloudProvider | None:
    """The cloud TTS that ``VOICE_TTS_PROVIDER`` chooses, or ``None`` for the local voices alone."""
    choice = _choice(settings.voice_tts_provider, "VOICE_TTS_PROVIDER")
    if choice == "deepgram":
        return CloudProvider("deepgram", settings.deepgram_tts_model, deepgram_tts(settings))
    if choice == "openai":
        return CloudProvider("openai", settings.openai_tts_model, openai_tts(settings))
    return None


def check_cloud_settings(settings: Settings) -> None:
    """Fail at start-up, not on the first call, when a chosen cloud provider lacks its key."""
    for setting, choice in (("VOICE_STT_PROVIDER", settings.voice_stt_provider),
                            ("VOICE_TTS_PROVIDER", settings.voice_tts_provider)):
        provider = _choice(choice, setting)
        if provider != "local":
            _key(settings, provider)


def deepgram_stt(settings: Settings, *, vocabulary: list[str] | None = None) -> deepgram.STT:
    model = settings.deepgram_stt_model
    keyterms = [term for term in (vocabulary or []) if term.strip()] if model.startswith("nova-3") else []
    return deepgram.STT(api_key=_key(settings, "deepgram"), model=model,
                        base_url=f"{_deepgram_root(settings)}/v1/listen", http_session=_LoopHttpSession(),
                        interim_results=False, keyterm=keyterms or NOT_GIVEN)


def deepgram_tts(settings: Settings) -> deepgram.TTS:
    return deepgram.TTS(api_key=_key(settings, "deepgram"), model=settings.deepgram_tts_model,
                        base_url=f"{_deepgram_root(settings)}/v1/speak", http_session=_LoopHttpSession())


def openai_stt(settings: Settings, *, vocabulary: list[str] | None = None) -> openai.STT:
    from agent.providers.whisper_stt import build_prompt

    prompt = build_prompt(vocabulary or [])
    return openai.STT(api_key=_key(settings, "openai"), base_url=settings.openai_base_url or NOT_GIVEN,
                      model=settings.openai_stt_model, use_realtime=False,
                      prompt=prompt if prompt else NOT_GIVEN)


def openai_tts(settings: Settings) -> openai.TTS:
    # raw 16-bit PCM at 24 kHz: nothing to decode, and the same format the fallback chain resamples from
    return openai.TTS(api_key=_key(settings, "openai"), base_url=settings.openai_base_url or NOT_GIVEN,
                      model=settings.openai_tts_model, voice=settings.openai_tts_voice, response_format="pcm")


def _choice(value: str, setting: str) -> str:
    choice = (value or "local").strip().lower()
    if choice not in PROVIDERS:
        raise CloudProviderNotConfigured(f"{setting}={value!r} is not one of {', '.join(PROVIDERS)}")
    return choice


def _key(settings: Settings, provider: str) -> str:
    secret = settings.deepgram_api_key if provider == "deepgram" else settings.openai_api_key
    key = secret.get_secret_value().strip()
    if not key:
        variable = "DEEPGRAM_API_KEY" if provider == "deepgram" else "OPENAI_API_KEY"
        raise CloudProviderNotConfigured(f"the {provider} speech provider needs {variable}; set it, or choose "
                                         "'local' for VOICE_STT_PROVIDER / VOICE_TTS_PROVIDER")
    return key


def _deepgram_root(settings: Settings) -> str:
    root = (settings.deepgram_base_url or DEEPGRAM_HOST).rstrip("/")
    for suffix in ("/v1/listen", "/v1/speak", "/v1"):  # a full endpoint given by mistake still works
        if root.endswith(suffix):
            root = root[: -len(suffix)]
    return root


# ---------------------------------------------------------------- HTTP sessions for the Deepgram plugin

_sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = weakref.WeakKeyDictionary()


def http_session() -> aiohttp.ClientSession:
    """The LiveKit job's HTTP session inside a job, else one kept per event loop (embedded calls, tests, CLI)."""
    try:
        return utils.http_context.http_session()
    except RuntimeError:
        pass
    loop = asyncio.get_running_loop()
    session = _sessions.get(loop)
    if session is None or session.closed:
        session = _sessions[loop] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit_per_host=50, keepalive_timeout=120))
    return session


async def close_http_session() -> None:
    """Close this event loop's session (when a loop that made cloud calls is about to end)."""
    session = _sessions.pop(asyncio.get_running_loop(), None)
    if session is not None and not session.closed:
        await session.close()


class _LoopHttpSession:
    """Stands in for the ``aiohttp.ClientSession`` a plugin wants at construction: calls are built outside the
    event loop that will run them, so the real session is looked up when a request is made."""

    def __getattr__(self, name: str) -> Any:
        return getattr(http_session(), name)

