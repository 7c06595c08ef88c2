"""PCM helpers shared by the providers, the session and the tools: resampling, framing and WAV files.

Audio inside the sidecar is signed 16-bit little-endian PCM (``np.int16``); channels are interleaved.
"""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
from livekit import rtc

WHISPER_RATE = 16_000

_WAVE_FORMAT_PCM = 1
_WAVE_FORMAT_FLOAT = 3
_WAVE_FORMAT_EXTENSIBLE = 0xFFFE


def as_int16(pcm: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """A flat int16 view of PCM given as bytes or as an array (float arrays are taken as [-1, 1])."""
    if isinstance(pcm, np.ndarray):
        if np.issubdtype(pcm.dtype, np.floating):
            return (np.clip(pcm, -1.0, 1.0) * 32767.0).astype(np.int16).reshape(-1)
        return pcm.astype(np.int16, copy=False).reshape(-1)
    data = bytes(pcm)
    if len(data) % 2:
        data = data[:-1]  # a torn last sample carries no audio
    return np.frombuffer(data, dtype=np.int16)


def to_mono(pcm: np.ndarray, channels: int) -> np.ndarray:
    """Average interleaved channels into one."""
    if channels == 1:
        return pcm
    usable = len(pcm) - len(pcm) % channels
    mixed = pcm[:usable].reshape(-1, channels).astype(np.int32).mean(axis=1)
    return mixed.astype(np.int16)


def resample(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono int16 PCM (SoX, through the LiveKit runtime); returns the same array when rates match."""
    if from_rate == to_rate or len(pcm) == 0:
        return pcm
    resampler = rtc.AudioResampler(from_rate, to_rate, num_channels=1,
                                   quality=rtc.AudioResamplerQuality.HIGH)
    frame = rtc.AudioFrame(np.ascontiguousarray(pcm).tobytes(), from_rate, 1, len(pcm))
    out = resampler.push(frame) + resampler.flush()
    if not out:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in out])


def resample_to_16k_mono(audio: rtc.AudioFrame | bytes | np.ndarray, rate: int | None = None,
                         channels: int = 1) -> np.ndarray:
    """The 16 kHz mono int16 samples Whisper wants, from a frame (rate and channels are read from it) or PCM."""
    if isinstance(audio, rtc.AudioFrame):
        rate, channels = audio.sample_rate, audio.num_channels
        audio = np.frombuffer(audio.data, dtype=np.int16)
    if rate is None:
        raise ValueError("rate is required when the audio is raw PCM")
    return resample(to_mono(as_int16(audio), channels), rate, WHISPER_RATE)


def pcm_to_frames(pcm: bytes | np.ndarray, rate: int, frame_ms: int = 20,
                  channels: int = 1) -> list[rtc.AudioFrame]:
    """Cut PCM into ``frame_ms`` frames, as a microphone track delivers them; a shorter remainder is kept."""
    samples = as_int16(pcm)
    per_frame = max(1, rate * frame_ms // 1000) * channels
    frames = []
    for start in range(0, len(samples) - len(samples) % channels, per_frame):
        chunk = samples[start:start + per_frame]
        frames.append(rtc.AudioFrame(chunk.tobytes(), rate, channels, len(chunk) // channels))
    return frames


def frames_to_pcm(frames: rtc.AudioFrame | list[rtc.AudioFrame]) -> tuple[np.ndarray, int]:
    """Join frames into mono int16 PCM and its sample rate."""
    frame = rtc.combine_audio_frames(frames) if isinstance(frames, list) else frames
    samples = np.frombuffer(frame.data, dtype=np.int16)
    return to_mono(samples, frame.num_channels), frame.sample_rate


def parse_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono int16 PCM and rate from WAV bytes (16-bit PCM or 32-bit float).

    Tolerates the placeholder sizes that streaming writers (``espeak-ng --stdout``) leave in the header.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file (no RIFF/WAVE header)")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[body:body + 16])
        elif chunk_id == b"data":
            if fmt is None:
                raise ValueError("WAV data chunk comes before its fmt chunk")
            return _decode_wav_samples(data[body:body + size], fmt)
        pos = body + size + (size % 2)
    raise ValueError("WAV file has no data chunk")


def _decode_wav_samples(payload: bytes, fmt: tuple[int, ...]) -> tuple[np.ndarray, int]:
    tag, channels, rate, _, _, bits = fmt
    if tag == _WAVE_FORMAT_EXTENSIBLE:
        tag = _WAVE_FORMAT_FLOAT if bits == 32 else _WAVE_FORMAT_PCM
    if tag == _WAVE_FORMAT_PCM and bits == 16:
        samples = as_int16(payload)
    elif tag == _WAVE_FORMAT_FLOAT and bits == 32:
        usable = len(payload) - len(payload) % 4
        samples = as_int16(np.frombuffer(payload[:usable], dtype="<f4"))
    else:
        raise ValueError(f"unsupported WAV encoding (format {tag}, {bits} bits); use 16-bit PCM")
    return to_mono(samples, channels), rate


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Mono int16 PCM and sample rate of a WAV file (several channels are averaged)."""
    return parse_wav(Path(path).read_bytes())


def write_wav(path: str | Path, pcm: bytes | np.ndarray, rate: int, channels: int = 1) -> None:
    """Write 16-bit PCM as a WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(as_int16(pcm).tobytes())
