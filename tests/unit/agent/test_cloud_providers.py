"""The optional cloud adapters through the real livekit plugins, against local servers that speak Deepgram's and
OpenAI's documented wire formats: Deepgram's pre-recorded ``POST /v1/listen`` and ``POST /v1/speak``, OpenAI's
``POST /v1/audio/transcriptions`` and ``POST /v1/audio/speech``.

``FakeDeepgram`` and ``FakeOpenAI`` are shared with the resilience and whole-call tests.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import wave
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from aiohttp import web
from livekit.agents import APIError, stt

from agent.providers import cloud
from agent.providers.audio import pcm_to_frames
from quantum_voice.core.config import Settings

DEEPGRAM_KEY = "dg-test-key-0123456789"
OPENAI_KEY = "sk-test-key-0123456789"


def tone(seconds: float, rate: int) -> bytes:
    """Recognisable 16-bit PCM: a 440 Hz tone (what a fake TTS server says)."""
    t = np.arange(int(seconds * rate)) / rate
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16).tobytes()


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)


class FakeServer:
    """An aiohttp server on 127.0.0.1 in the test's event loop; every request is kept in ``requests``.

    ``failing``: "" answers properly, "error" answers HTTP 500, "hang" never answers. ``fail_after=n`` turns on
    ``failing="error"`` after n proper answers to the speech-to-text endpoint."""

    def __init__(self, *, fail_after: int | None = None, failing: str = "") -> None:
        self.requests: list[Request] = []
        self.failing = failing
        self.fail_after = fail_after
        self.served = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def start(self) -> FakeServer:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _keep(self, request: web.Request, *, form: bool = False) -> Request:
        fields: dict[str, str] = {}
        body = b""
        if form:
            async for part in (await request.multipart()):
                data = await part.read()
                if part.filename:
                    body = bytes(data)
                else:
                    fields[part.name] = data.decode()
        else:
            body = await request.read()
        kept = Request(request.path, dict(request.query), dict(request.headers), body, fields)
        self.requests.append(kept)
        return kept

    async def _failure(self, counts_as_stt: bool) -> web.Response | None:
        if counts_as_stt and self.fail_after is not None and self.served >= self.fail_after:
            self.failing = "error"
        if self.failing == "hang":
            await asyncio.sleep(3600)
        if self.failing == "error":
            return web.json_response({"err_code": "INTERNAL_SERVER_ERROR", "err_msg": "overloaded"}, status=500)
        return None

    def of(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


class FakeDeepgram(FakeServer):
    def __init__(self, transcripts: list[str] | None = None, **options) -> None:
        super().__init__(**options)
        self.transcripts = list(transcripts or ["hello from deepgram"])

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/listen", self.listen), web.post("/v1/speak", self.speak)]

    async def listen(self, request: web.Request) -> web.StreamResponse:
        kept = await self._keep(request)
        if (failure := await self._failure(counts_as_stt=True)) is not None:
            return failure
        with wave.open(io.BytesIO(kept.body)) as audio:  # the plugin sends the utterance as a WAV file
            seconds = audio.getnframes() / audio.getframerate()
        transcript = self.transcripts[min(self.served, len(self.transcripts) - 1)]
        self.served += 1
        words = [{"word": w.lower().strip(".,?!"), "punctuated_word": w, "start": i * 0.3, "end": i * 0.3 + 0.25,
                  "confidence": 0.97} for i, w in enumerate(transcript.split())]
        return web.json_response({
            "metadata": {"request_id": f"req-{len(self.requests)}", "duration": seconds, "channels": 1},
            "results": {"channels": [{"alternatives": [
                {"transcript": transcript, "confidence": 0.97, "words": words}]}]}})

    async def speak(self, request: web.Request) -> web.StreamResponse:
        await self._keep(request)
        if (failure := await self._failure(counts_as_stt=False)) is not None:
            return failure
        rate = int(request.query.get("sample_rate", "24000"))
        assert request.query.get("encoding") == "linear16" and request.query.get("container") == "none"
        return web.Response(body=tone(0.5, rate), content_type="application/octet-stream")


class FakeOpenAI(FakeServer):
    def __init__(self, transcript: str = "hello from openai", **options) -> None:
        super().__init__(**options)
        self.transcript = transcript

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/v1/audio/transcriptions", self.transcriptions), web.post("/v1/audio/speech", self.speech)]

    async def transcriptions(self, request: web.Request) -> web.StreamResponse:
        await self._keep(request, form=True)
        if (failure := await self._failure(counts_as_stt=True)) is not None:
            return failure
        self.served += 1
        return web.json_response({"text": self.transcript})

    async def speech(self, request: web.Request) -> web.StreamResponse:
        kept = await self._keep(request)
        if (failure := await self._failure(counts_as_stt=False)) is not None:
            return failure
        asked = json.loads(kept.body)
        audio = tone(0.5, 24_000)  # response_format "pcm": 24 kHz 16-bit mono
        if asked.get("stream_format") != "sse":
            return web.Response(body=audio, content_type="audio/pcm", headers={"x-request-id": "req-speech"})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "x-request-id": "req-speech"})
        await response.prepare(request)
        for start in range(0, len(audio), 4800):
            delta = {"type": "speech.audio.delta", "audio": base64.b64encode(audio[start:start + 4800]).decode()}
            await response.write(f"data: {json.dumps(delta)}\n\n".encode())
        done = {"type": "speech.audio.done", "usage": {"input_tokens": 5, "output_tokens": 40, "total_tokens": 45}}
        await response.write(f"data: {json.dumps(done)}\n\n".encode())
        await response.write_eof()
        return response


def cloud_settings(**overrides) -> Settings:
    values = {"deepgram_api_key": DEEPGRAM_KEY, "openai_api_key": OPENAI_KEY}
    values.update(overrides)
    return Settings(**values)


def run_with(fake: FakeServer, work: Callable[[FakeServer], Awaitable]):
    async def main():
        await fake.start()
        try:
            return await work(fake)
        finally:
            await cloud.close_http_session()
            await fake.stop()
    return asyncio.run(main())


def speech_frames(seconds: float = 1.2, rate: int = 16_000):
    return pcm_to_frames(tone(seconds, rate), rate)


async def spoken(voice, text: str) -> bytes:
    return b"".join([event.frame.data.tobytes() async for event in voice.synthesize(text)])


def same_audio(heard: bytes, sent: bytes) -> bool:
    """The audio the server sent, as livekit frames it (the last frame is padded with silence)."""
    return heard[:len(sent)] == sent and not heard[len(sent):].strip(b"\x00")


# ---------------------------------------------------------------- Deepgram


def test_deepgram_stt_sends_the_utterance_as_wav_and_returns_the_transcript():
    async def work(fake):
        settings = cloud_settings(voice_stt_provider="deepgram", deepgram_base_url=fake.base_url)
        provider = cloud.cloud_stt(settings, vocabulary=["Harborview"])
        event = await provider.plugin.recognize(speech_frames())
        return provider, event

    fake = FakeDeepgram(["I'd like to book a viewing."])
    provider, event = run_with(fake, work)
    assert provider.name == "deepgram" and provider.model == "nova-3"
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    assert event.alternatives[0].text == "I'd like to book a viewing." and event.alternatives[0].confidence == 0.97
    [request] = fake.of("/v1/listen")
    assert request.headers["Authorization"] == f"Token {DEEPGRAM_KEY}"
    assert request.headers["Content-Type"] == "audio/wav"
    assert request.query["model"] == "nova-3" and request.query["keyterm"] == "Harborview"


def test_deepgram_tts_returns_the_servers_audio():
    async def work(fake):
        provider = cloud.cloud_tts(cloud_settings(voice_tts_provider="deepgram", deepgram_base_url=fake.base_url))
        return provider, await spoken(provider.plugin, "Your viewing is booked.")

    fake = FakeDeepgram()
    provider, audio = run_with(fake, work)
    assert provider.name == "deepgram" and provider.plugin.sample_rate == 24_000
    assert same_audio(audio, tone(0.5, 24_000))
    [request] = fake.of("/v1/speak")
    assert json.loads(request.body) == {"text": "Your viewing is booked."}
    assert request.headers["Authorization"] == f"Token {DEEPGRAM_KEY}"
    assert request.query["model"] == "aura-2-andromeda-en"


def test_a_deepgram_error_is_an_api_error_and_the_key_is_never_logged(caplog):
    caplog.set_level(logging.DEBUG)

    async def work(fake):
        plugin = cloud.deepgram_stt(cloud_settings(deepgram_base_url=fake.base_url))
        with pytest.raises(APIError):
            await plugin.recognize(speech_frames())

    run_with(FakeDeepgram(failing="error"), work)
    assert DEEPGRAM_KEY not in caplog.text


def test_the_base_url_may_be_the_api_root_or_a_full_endpoint():
    for given in ("http://127.0.0.1:9", "http://127.0.0.1:9/", "http://127.0.0.1:9/v1/listen"):
        settings = cloud_settings(deepgram_base_url=given)
        assert cloud.deepgram_stt(settings)._opts.endpoint_url == "http://127.0.0.1:9/v1/listen"
        assert cloud.deepgram_tts(settings)._opts.base_url == "http://127.0.0.1:9/v1/speak"
    assert cloud.deepgram_stt(cloud_settings())._opts.endpoint_url == "https://api.deepgram.com/v1/listen"


# ---------------------------------------------------------------- OpenAI


def test_openai_stt_posts_the_audio_file_and_returns_the_text(caplog):
    caplog.set_level(logging.DEBUG)

    async def work(fake):
        settings = cloud_settings(voice_stt_provider="openai", openai_base_url=f"{fake.base_url}/v1")
        provider = cloud.cloud_stt(settings, vocabulary=["Harborview"])
        return provider, await provider.plugin.recognize(speech_frames())

    fake = FakeOpenAI("My name is John Smith.")
    provider, event = run_with(fake, work)
    assert provider.name == "openai" and event.alternatives[0].text == "My name is John Smith."
    [request] = fake.of("/v1/audio/transcriptions")
    assert request.headers["Authorization"] == f"Bearer {OPENAI_KEY}"
    assert request.form["model"] == "gpt-4o-mini-transcribe" and "Harborview" in request.form["prompt"]
    assert request.body[:4] == b"RIFF"
    assert OPENAI_KEY not in caplog.text


@pytest.mark.parametrize("model", ["gpt-4o-mini-tts", "tts-1"])  # server-sent events, and plain audio bytes
def test_openai_tts_returns_the_servers_audio(model):
    async def work(fake):
        settings = cloud_settings(voice_tts_provider="openai", openai_base_url=f"{fake.base_url}/v1",
                                  openai_tts_model=model)
        provider = cloud.cloud_tts(settings)
        return await spoken(provider.plugin, "Your viewing is booked.")

    fake = FakeOpenAI()
    assert same_audio(run_with(fake, work), tone(0.5, 24_000))
    [request] = fake.of("/v1/audio/speech")
    asked = json.loads(request.body)
    assert asked["input"] == "Your viewing is booked." and asked["response_format"] == "pcm"
    assert asked["model"] == model and asked["voice"] == "ash"
    assert request.headers["Authorization"] == f"Bearer {OPENAI_KEY}"


# ---------------------------------------------------------------- configuration


def test_local_is_the_default_and_needs_no_key():
    settings = Settings()
    assert cloud.cloud_stt(settings) is None and cloud.cloud_tts(settings) is None
    cloud.check_cloud_settings(settings)


@pytest.mark.parametrize("setting, variable", [("voice_stt_provider", "DEEPGRAM_API_KEY"),
                                               ("voice_tts_provider", "DEEPGRAM_API_KEY")])
def test_a_cloud_provider_without_its_key_names_the_variable_to_set(setting, variable):
    settings = Settings(**{setting: "deepgram"})
    with pytest.raises(cloud.CloudProviderNotConfigured, match=variable):
        cloud.check_cloud_settings(settings)
    with pytest.raises(cloud.CloudProviderNotConfigured, match="OPENAI_API_KEY"):
        cloud.openai_tts(Settings())


def test_an_unknown_provider_is_refused():
    with pytest.raises(cloud.CloudProviderNotConfigured, match="local, deepgram, openai"):
        cloud.check_cloud_settings(Settings(voice_stt_provider="whisperx"))
