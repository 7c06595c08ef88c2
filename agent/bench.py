"""``python -m agent.bench``: voice-loop latency and capacity on this machine, printed as a table.

It builds a throw-away SQLite database with a campaign whose knowledge base holds a short brochure, synthesizes
caller turns with Piper, and runs whole calls through the real loop (``agent.simulate``), paced in real time:

* voice-to-voice latency — end of the caller's speech → first byte of the agent's audio, endpointing included —
  p50/p95 over ``--turns`` caller turns (one call after another);
* Whisper's real-time factor (transcription time / audio length) on the same turns;
* capacity: for 1, 2, 4, 8… simultaneous calls, the p95 voice-to-voice latency; the largest number of calls
  that keeps p95 ≤ 1.0 s is reported. The calls run in lockstep: every caller stops talking at the same instant
  (the worst case). ``--stagger 6`` spreads their starts over 6 seconds, as real callers' turns end at
  different moments.

Targets (issue "The voice loop"): p50 ≤ 0.6 s, p95 ≤ 0.9 s, ≥ 8 concurrent calls. Nothing here is asserted.

``python -m agent.bench --stt`` measures the recogniser alone instead: word error rate and time per utterance of
Whisper's fitted window against its full 30-second one, on 70 spoken questions and lead-capture lines
(``bench/fixtures/questions.json`` plus the call script) in two synthetic voices (Piper's Joe and espeak-ng).
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np

QUESTIONS = ["How much is the monthly HOA fee?", "Is parking included?", "Can I keep a dog?",
             "How many homes are in the building?", "What does the fee cover?", "Do you have electric car chargers?"]
BROCHURE = """# Harbor View Residences

Harbor View Residences is a waterfront condominium building with 142 homes.

## Fees

The monthly HOA fee is $450. It covers water, trash collection and the fitness centre.

## Parking

Each residence includes one covered parking space in the garage. Forty spaces have electric vehicle chargers.

## Pets

Residents may keep up to two cats or dogs. A fenced dog run is in the courtyard.
"""


def _prepare_database(folder: Path) -> int:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.db'}"
    os.environ.setdefault("DATA_DIR", str(folder))
    from quantum_voice.core.config import reset_settings

    reset_settings()
    from quantum_voice.core.db import session_scope
    from quantum_voice.core.migrate import upgrade_to_head
    from quantum_voice.core.security import hash_password
    from quantum_voice.models.accounts import Membership, Organization, Role, User
    from quantum_voice.services import campaigns
    from quantum_voice.services.knowledge import documents
    from quantum_voice.services.tenancy import OrgRepository, Scope
    from quantum_voice.worker import build_worker
    from quantum_voice.core.clock import utcnow

    upgrade_to_head()
    with session_scope() as session:
        org = Organization(name="Harbor View Residences", slug="harbor-view-bench", onboarding_completed_at=utcnow())
        user = User(email="bench@example.com", full_name="Bench", password_hash=hash_password("bench-password-1"),
                    email_verified_at=utcnow())
        session.add(org)
        session.add(user)
        session.flush()
        session.add(Membership(organization_id=org.id, user_id=user.id, role=Role.OWNER.value))
        repo = OrgRepository(session, Scope(user.id, org.id, Role.OWNER.value))
        campaign = campaigns.create_campaign(repo, name="Bench", template="lead_capture_qa")
        documents.upload_document(repo, campaign.knowledge_base_id, "brochure.md", BROCHURE.encode())
        campaign_id = campaign.id
    build_worker().run_pending()
    return campaign_id


def _turns(texts: list[str]):
    from agent.providers.audio import as_int16
    from agent.providers.piper_tts import synthesize_pcm
    from agent.simulate import CallerTurn

    out = []
    for text in texts:
        pcm, rate = synthesize_pcm(text)
        pad = np.zeros(rate // 4, dtype=np.int16)
        out.append(CallerTurn(np.concatenate([pad, as_int16(pcm), pad]), rate))
    return out


def _call_script(questions: int) -> list[str]:
    script = ["My name is John Smith.", "My email is john dot smith at example dot com.", "Yes, I agree."]
    return script + [QUESTIONS[i % len(QUESTIONS)] for i in range(questions)]


async def _calls(campaign_id: int, voice, concurrent: int, questions: int, stagger: float = 0.0) -> list[float]:
    """Timings of every answered turn of ``concurrent`` simultaneous calls; with ``stagger``, call k starts
    k/concurrent of that many seconds after the first (callers do not all stop talking at the same instant)."""
    from agent.simulate import simulate_call

    async def one(k: int) -> list:
        await asyncio.sleep(stagger * k / concurrent)
        result = await simulate_call(campaign_id, _turns(_call_script(questions)), voice=voice, turn_timeout=60)
        return [r.timings for r in result.reports[1:] if r.timings.voice_to_voice_ms is not None]

    results = await asyncio.gather(*(one(k) for k in range(concurrent)))
    return [t for r in results for t in r]


LEAD_LINES = ["My name is John Smith.", "My email is john dot smith at example dot com.", "Yes, I agree.",
              "No, thanks.", "My phone number is five five five, one two three, four five six seven.", "Sure.",
              "I'd like to talk to a person please.", "Maria Garcia", "It's jane at gmail dot com.",
              "Can you repeat that?"]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def word_errors(said: str, heard: str) -> int:
    """Words inserted, dropped or changed between the two texts, ignoring case and punctuation."""
    expected, got = words(said), words(heard)
    matched = sum(block.size for block in difflib.SequenceMatcher(a=expected, b=got).get_matching_blocks())
    return max(len(expected), len(got)) - matched


def stt_table(model: str) -> list[tuple[str, str, float, float]]:
    """(voice, window, word error rate %, ms per utterance) for the fitted and the full window."""
    import json

    from agent.providers.audio import as_int16, resample_to_16k_mono
    from agent.providers.espeak_tts import synthesize_espeak_pcm
    from agent.providers.piper_tts import synthesize_pcm
    from agent.providers.whisper_stt import DEFAULT_WINDOW_SECONDS, build_prompt, load_whisper, transcribe_pcm

    fixture = json.loads((Path(__file__).resolve().parent.parent / "bench/fixtures/questions.json").read_text())
    texts = [q["question"] for key in ("answerable", "unanswerable") for q in fixture.get(key, [])] + LEAD_LINES
    prompt = build_prompt(["Harbor View Residences", "Meridian Homes"])

    load_whisper(model)
    rows = []
    for voice, synth in (("piper", synthesize_pcm), ("espeak-ng", synthesize_espeak_pcm)):
        clips = []
        for text in texts:
            pcm, rate = synth(text)
            clips.append(resample_to_16k_mono(as_int16(pcm), rate))
        for label, window in ((f"fitted ({DEFAULT_WINDOW_SECONDS:.0f} s)", DEFAULT_WINDOW_SECONDS), ("full (30 s)", 0)):
            wrong = said = 0
            started = time.perf_counter()
            for text, clip in zip(texts, clips, strict=True):
                heard = transcribe_pcm(clip, model=model, prompt=prompt, window_seconds=window).text
                wrong += word_errors(text, heard)
                said += len(words(text))
            rows.append((voice, label, 100 * wrong / said, (time.perf_counter() - started) * 1000 / len(texts)))
    return rows


def _print_stt(model: str) -> None:
    rows = stt_table(model)
    print()
    print(f"Whisper {model} on this machine ({os.cpu_count()} cores), 70 utterances per voice")
    print(f"{'voice':<12}{'window':<16}{'WER %':>8}{'ms / utterance':>16}")
    print("-" * 52)
    for voice, label, wer, ms in rows:
        print(f"{voice:<12}{label:<16}{wer:>8.1f}{ms:>16.0f}")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=50, help="caller turns for the latency figures (≥ 50)")
    parser.add_argument("--levels", default="1,2,4,8", help="simultaneous calls to try for capacity")
    parser.add_argument("--questions", type=int, default=3, help="questions per call in the capacity runs")
    parser.add_argument("--stagger", type=float, default=0.0,
                        help="spread the concurrent calls' starts over this many seconds (0: lockstep)")
    parser.add_argument("--stt", action="store_true", help="recogniser accuracy and speed only (fitted vs 30 s)")
    args = parser.parse_args(argv)
    if args.stt:
        from quantum_voice.core.config import get_settings

        _print_stt(get_settings().voice_stt_model)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="qv-voice-bench-"))
    campaign_id = _prepare_database(folder)
    from agent.providers.whisper_stt import transcribe_pcm
    from agent.providers.audio import resample_to_16k_mono
    from agent.voice import LocalVoice

    voice = LocalVoice.load()
    settings = voice.settings

    # STT real-time factor
    elapsed = audio = 0.0
    for turn in _turns(QUESTIONS):
        pcm = resample_to_16k_mono(turn.pcm, turn.rate)
        started = time.perf_counter()
        transcribe_pcm(pcm, model=settings.voice_stt_model, window_seconds=settings.voice_stt_window_seconds)
        elapsed += time.perf_counter() - started
        audio += len(pcm) / 16000

    # latency over sequential calls
    timings: list = []
    per_call = 8
    while len(timings) < args.turns:
        timings += asyncio.run(_calls(campaign_id, voice, 1, per_call - 3))
    latencies = [t.voice_to_voice_ms for t in timings]
    parts = {name: [getattr(t, name) for t in timings if getattr(t, name) is not None]
             for name in ("stt_ms", "endpointing_ms", "brain_ms", "tts_first_byte_ms")}
    # capacity
    capacity_rows = []
    for level in [int(x) for x in args.levels.split(",") if x.strip()]:
        values = [t.voice_to_voice_ms
                  for t in asyncio.run(_calls(campaign_id, voice, level, args.questions, args.stagger))]
        capacity_rows.append((level, len(values), _pct(values, 0.5), _pct(values, 0.95)))
    best = max((lvl for lvl, _, _, p95 in capacity_rows if p95 <= 1000), default=0)

    print()
    print(f"Voice loop on this machine ({os.cpu_count()} cores) — STT {settings.voice_stt_model} "
          f"({settings.voice_stt_window_seconds:g} s window), TTS "
          f"{settings.voice_tts}, VAD silence {settings.voice_vad_min_silence_seconds}s, endpointing "
          f"{settings.voice_min_endpointing_seconds}-{settings.voice_max_endpointing_seconds}s")
    print(f"{'measure':<44}{'value':>12}{'target':>12}")
    print("-" * 68)
    print(f"{'voice-to-voice p50 (ms), ' + str(len(latencies)) + ' turns':<44}{_pct(latencies, .5):>12.0f}{'≤ 600':>12}")
    print(f"{'voice-to-voice p95 (ms)':<44}{_pct(latencies, .95):>12.0f}{'≤ 900':>12}")
    for name, label in (("stt_ms", "end of speech → transcript"), ("endpointing_ms", "end-of-turn wait"),
                        ("brain_ms", "flow step"), ("tts_first_byte_ms", "reply → first audio byte")):
        print(f"{f'  of which {label}, p50 / p95 (ms)':<44}"
              f"{f'{_pct(parts[name], .5):.0f} / {_pct(parts[name], .95):.0f}':>12}")
    print(f"{'STT real-time factor':<44}{elapsed / audio:>12.3f}{'':>12}")
    for level, n, p50, p95 in capacity_rows:
        print(f"{f'{level} concurrent call(s): p50 / p95 (ms), {n} turns':<44}{f'{p50:.0f} / {p95:.0f}':>12}")
    print(f"  (concurrent calls started over {args.stagger:g} s{'; lockstep' if not args.stagger else ''})")
    print(f"{'concurrent calls with p95 ≤ 1.0 s':<44}{best:>12}{'≥ 8':>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
