"""PCM helpers: resampling to Whisper's 16 kHz mono, cutting frames, WAV files (including espeak's)."""

import struct

import numpy as np
import pytest
from livekit import rtc

from agent.providers.audio import (as_int16, frames_to_pcm, parse_wav, pcm_to_frames, read_wav, resample_to_16k_mono,
                                   write_wav)


def tone(frequency: float, rate: int, seconds: float = 1.0, amplitude: int = 12_000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * np.pi * frequency * t) * amplitude).astype(np.int16)


def dominant_frequency(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float32)))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[np.argmax(spectrum)])


def test_48k_stereo_frame_becomes_16k_mono_with_the_same_pitch():
    mono = tone(440, 48_000)
    stereo = np.repeat(mono, 2)  # interleaved L R
    frame = rtc.AudioFrame(stereo.tobytes(), 48_000, 2, len(mono))
    out = resample_to_16k_mono(frame)
    assert out.dtype == np.int16
    assert abs(len(out) - 16_000) <= 16
    assert abs(dominant_frequency(out, 16_000) - 440) < 3
    assert 10_000 < np.abs(out).max() < 13_000  # level kept, no clipping


def test_16k_mono_pcm_passes_through_unchanged():
    pcm = tone(300, 16_000, 0.5)
    assert np.array_equal(resample_to_16k_mono(pcm.tobytes(), 16_000), pcm)


def test_22050_pcm_bytes_resample_to_16k():
    out = resample_to_16k_mono(tone(500, 22_050).tobytes(), 22_050)
    assert abs(len(out) - 16_000) <= 16 and abs(dominant_frequency(out, 16_000) - 500) < 3


def test_raw_pcm_needs_its_rate():
    with pytest.raises(ValueError, match="rate"):
        resample_to_16k_mono(b"\x00\x00" * 10)


def test_float_arrays_are_taken_as_unit_range():
    assert as_int16(np.array([0.0, 1.0, -1.0, 2.0], dtype=np.float32)).tolist() == [0, 32767, -32767, 32767]


def test_pcm_is_cut_into_20ms_frames_keeping_the_remainder():
    pcm = np.arange(22_050 + 100, dtype=np.int16)
    frames = pcm_to_frames(pcm.tobytes(), 22_050)
    assert [f.samples_per_channel for f in frames[:-1]] == [441] * 50
    assert frames[-1].samples_per_channel == 100
    assert all(f.sample_rate == 22_050 and f.num_channels == 1 for f in frames)
    joined, rate = frames_to_pcm(frames)
    assert rate == 22_050 and np.array_equal(joined, pcm)


def test_stereo_pcm_frames_count_samples_per_channel():
    frames = pcm_to_frames(np.zeros(2 * 1600, dtype=np.int16), 16_000, frame_ms=10, channels=2)
    assert len(frames) == 10 and all(f.samples_per_channel == 160 and f.num_channels == 2 for f in frames)


def test_wav_round_trip(tmp_path):
    pcm = tone(440, 22_050, 0.25)
    write_wav(tmp_path / "a.wav", pcm, 22_050)
    read, rate = read_wav(tmp_path / "a.wav")
    assert rate == 22_050 and np.array_equal(read, pcm)


def test_stereo_wav_is_read_as_the_average_of_its_channels(tmp_path):
    left, right = np.full(100, 1000, np.int16), np.full(100, 3000, np.int16)
    write_wav(tmp_path / "s.wav", np.column_stack([left, right]).reshape(-1), 8_000, channels=2)
    read, rate = read_wav(tmp_path / "s.wav")
    assert rate == 8_000 and read.tolist() == [2000] * 100


def wav_bytes(payload: bytes, *, tag: int = 1, bits: int = 16, rate: int = 22_050,
              placeholder_sizes: bool = False) -> bytes:
    riff_size = data_size = 0x7FFFF000 if placeholder_sizes else None
    block_align = bits // 8
    fmt = struct.pack("<HHIIHH", tag, 1, rate, rate * block_align, block_align, bits)
    data_size = data_size if data_size is not None else len(payload)
    riff_size = riff_size if riff_size is not None else 4 + 8 + len(fmt) + 8 + len(payload)
    return (b"RIFF" + struct.pack("<I", riff_size) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", data_size) + payload)


def test_streamed_wav_with_placeholder_sizes_is_read_to_the_end():
    # espeak-ng --stdout cannot seek back, so its header claims ~2 GB of data.
    pcm = tone(200, 22_050, 0.1)
    read, rate = parse_wav(wav_bytes(pcm.tobytes(), placeholder_sizes=True))
    assert rate == 22_050 and np.array_equal(read, pcm)


def test_float_wav_is_converted_to_int16():
    read, _ = parse_wav(wav_bytes(np.array([0.5, -0.5], dtype="<f4").tobytes(), tag=3, bits=32))
    assert read.tolist() == [16383, -16383]


def test_unsupported_wav_encoding_is_refused_with_a_reason():
    with pytest.raises(ValueError, match="16-bit PCM"):
        parse_wav(wav_bytes(b"\x80" * 10, bits=8))
    with pytest.raises(ValueError, match="not a WAV"):
        parse_wav(b"OggS....")
