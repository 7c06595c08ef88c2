"""PiperTTS through LiveKit's TTS API, alone and behind the StreamAdapter the session puts in front of it."""

import asyncio
import time

import pytest
from livekit.agents import tts

from agent.providers.piper_tts import PiperTTS, synthesize_pcm

pytestmark = pytest.mark.voice  # loads Whisper or Piper


@pytest.fixture(scope="module")
def piper() -> PiperTTS:
    voice = PiperTTS()
    voice.prewarm()
    return voice


async def timed_frames(voice: tts.TTS, text: str) -> tuple[list, float, float]:
    """Frames of a synthesis, seconds to the first frame, seconds to the end."""
    started, first, frames = time.perf_counter(), None, []
    async for event in voice.synthesize(text):
        first = first if first is not None else time.perf_counter() - started
        frames.append(event.frame)
    return frames, first, time.perf_counter() - started


def test_a_sentence_becomes_22050_hz_mono_frames_of_plausible_length(piper):
    frames, first, _ = asyncio.run(timed_frames(piper, "I'd like to book a viewing on Saturday."))
    assert first is not None
    assert all(f.sample_rate == 22_050 and f.num_channels == 1 for f in frames)
    assert 1.0 < sum(f.duration for f in frames) < 6.0


def test_audio_is_pushed_sentence_by_sentence_before_the_text_is_finished(piper):
    text = ("Thanks for calling. The open house starts at ten on Saturday morning. "
            "Parking is available on the street behind the building, and the entrance is on the left.")
    frames, first, total = asyncio.run(timed_frames(piper, text))
    assert first < total * 0.8
    assert sum(f.duration for f in frames) > 5.0


def test_characters_and_audio_are_counted_for_usage():
    voice, collected = PiperTTS(), []
    voice.on("metrics_collected", collected.append)
    asyncio.run(timed_frames(voice, "Hello there."))
    assert voice.usage.requests == 1 and voice.usage.characters == len("Hello there.")
    assert voice.usage.audio_seconds > 0.3
    assert collected and collected[0].characters_count == len("Hello there.")


def test_stream_adapter_with_the_default_offline_tokenizer_speaks_every_sentence(piper):
    async def speak() -> float:
        stream = tts.StreamAdapter(tts=piper).stream()
        for piece in ("Hello there. How can ", "I help you today? We open ", "at nine."):
            stream.push_text(piece)
        stream.end_input()
        seconds = sum([event.frame.duration async for event in stream])
        await stream.aclose()
        return seconds

    assert asyncio.run(speak()) > 2.5


def test_synthesize_pcm_gives_the_whole_utterance_and_its_rate():
    pcm, rate = synthesize_pcm("Goodbye.")
    assert rate == 22_050 and len(pcm) % 2 == 0 and 0.3 < len(pcm) / 2 / rate < 3


def test_text_with_nothing_to_say_gives_a_breath_of_silence_not_retries(piper):
    frames, _, total = asyncio.run(timed_frames(piper, "..."))
    assert sum(f.duration for f in frames) < 0.1 and not any(any(f.data) for f in frames)
    assert total < 2.0  # a "no audio" APIError would have been retried with back-off


def test_a_sentence_spoken_again_comes_from_the_cache_byte_for_byte():
    from agent.providers.piper_tts import PiperTTS, SpokenCache, spoken_cache

    text = "What's the best email address to reach you?"

    async def speak() -> bytes:
        stream = PiperTTS().synthesize(text)
        audio = b"".join([bytes(ev.frame.data) async for ev in stream])
        await stream.aclose()
        return audio

    first = asyncio.run(speak())
    hits = spoken_cache.hits
    assert asyncio.run(speak()) == first and spoken_cache.hits == hits + 1

    small = SpokenCache(max_bytes=80)
    for i in range(8):
        small.put(str(i), None, bytes([i]) * 10)
    assert small.get("0", None) == bytes(10)  # "0" is now the most recently used
    small.put("8", None, b"z" * 10)  # over the byte budget: the least recently used ("1") goes
    assert small.get("1", None) is None and small.get("0", None) and small.get("8", None) == b"z" * 10
    small.put("huge", None, b"h" * 50)  # one item larger than an eighth of the budget is not kept
    assert small.get("huge", None) is None


def test_steady_speech_is_the_same_audio_every_time():
    first, rate = synthesize_pcm("Is parking included?", steady=True)
    again, _ = synthesize_pcm("Is parking included?", steady=True)
    assert first == again and len(first) > rate  # over half a second of 16-bit audio
