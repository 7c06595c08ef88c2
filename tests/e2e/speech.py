"""Speech for browser tests: WAVs a fake microphone plays (Piper's voice, timed with silences), and what a browser
received, recorded inside the page and transcribed here with the sidecar's own Whisper."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Sequence

import numpy as np

RATE = 48000  # Chromium's fake microphone reads the WAV at its own rate; 48 kHz is what it captures at

# Records, from start() on, the audio a page receives: the hand-off's audio socket (the agent's page: 16 kHz s16le
# messages) and every remote WebRTC audio track (the caller's page), as 16 kHz s16le. take() gives it in base64.
RECORDER_JS = """(() => {
  const RATE = 16000;
  let recording = false, chunks = [];
  const keep = (pcm) => { if (recording && pcm.length) chunks.push(pcm); };
  const NativeSocket = window.WebSocket;
  function RecordedSocket(url, protocols) {
    const socket = protocols === undefined ? new NativeSocket(url) : new NativeSocket(url, protocols);
    if (/\\/api\\/handoffs\\/[^/]+\\/audio/.test(String(url))) {
      socket.addEventListener("message", (ev) => {
        if (ev.data instanceof ArrayBuffer) keep(new Int16Array(ev.data.slice(0)));
      });
    }
    return socket;
  }
  RecordedSocket.prototype = NativeSocket.prototype;
  ["CONNECTING", "OPEN", "CLOSING", "CLOSED"].forEach((k) => { RecordedSocket[k] = NativeSocket[k]; });
  window.WebSocket = RecordedSocket;

  function listen(stream) {
    const ctx = new AudioContext();
    const source = ctx.createMediaStreamSource(stream);
    const node = ctx.createScriptProcessor(4096, 1, 1);
    const step = ctx.sampleRate / RATE;
    let position = 0, sum = 0, count = 0;
    node.onaudioprocess = (ev) => {
      if (!recording) return;
      const input = ev.inputBuffer.getChannelData(0), out = [];
      for (let i = 0; i < input.length; i++) {
        sum += input[i]; count++; position += 1;
        if (position < step) continue;
        position -= step;
        const v = Math.max(-1, Math.min(1, sum / count));
        sum = count = 0;
        out.push(v < 0 ? v * 32768 : v * 32767);
      }
      keep(Int16Array.from(out));
    };
    const silent = ctx.createGain();
    silent.gain.value = 0;
    source.connect(node);
    node.connect(silent);
    silent.connect(ctx.destination);
    window.qvHeard.contexts.push(ctx);
  }
  const NativePeer = window.RTCPeerConnection;
  if (NativePeer) {
    function RecordedPeer(...args) {
      const pc = new NativePeer(...args);
      pc.addEventListener("track", (ev) => { if (ev.track.kind === "audio") listen(new MediaStream([ev.track])); });
      return pc;
    }
    RecordedPeer.prototype = NativePeer.prototype;
    Object.setPrototypeOf(RecordedPeer, NativePeer);
    window.RTCPeerConnection = RecordedPeer;
  }

  window.qvHeard = {
    contexts: [],
    start() { chunks = []; recording = true; },
    take() {
      const total = chunks.reduce((n, c) => n + c.length, 0), all = new Int16Array(total);
      let at = 0;
      chunks.forEach((c) => { all.set(c, at); at += c.length; });
      const bytes = new Uint8Array(all.buffer);
      let text = "";
      for (let i = 0; i < bytes.length; i += 0x8000) {
        text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      }
      return btoa(text);
    },
  };
})();"""


def render_wav(path, parts: Sequence[str | float]) -> None:
    """A WAV of ``parts``: a number is that many seconds of silence, a string is said in Piper's voice."""
    from agent.providers.audio import as_int16, resample, write_wav
    from agent.providers.piper_tts import synthesize_pcm

    pieces = []
    for part in parts:
        if isinstance(part, str):
            pcm, rate = synthesize_pcm(part)
            pieces.append(resample(as_int16(pcm), rate, RATE))
        else:
            pieces.append(np.zeros(int(RATE * part), dtype=np.int16))
    write_wav(path, np.concatenate(pieces), RATE)


def heard_so_far(page) -> str:
    """What the page received since ``qvHeard.start()``, transcribed (lower case)."""
    from agent.providers.whisper_stt import transcribe_pcm

    pcm = np.frombuffer(base64.b64decode(page.evaluate("window.qvHeard.take()")), dtype=np.int16)
    return transcribe_pcm(pcm, window_seconds=0).text.lower()


def wait_until_heard(page, words: Iterable[str], *, at_least: int, timeout: float) -> str:
    """Transcribes what the page received every few seconds until ``at_least`` of ``words`` are in it; returns the
    transcript, or fails with the last one."""
    words = [w.lower() for w in words]
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        time.sleep(4)
        text = heard_so_far(page)
        if sum(w in text for w in words) >= at_least:
            return text
    raise AssertionError(f"the page never received {at_least} of {words}; it heard: {text!r}")
