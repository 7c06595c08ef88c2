"""``--voice N``: N personas played as audio through the whole voice loop, so speech recognition errors count.

``agent.simulate.simulate_call`` takes pre-rendered turns, so this variant is not reactive: each persona first
plays its call in text (reactively, as in the main run) and the caller turns it said there are rendered, in that
order, with Piper's Joe or espeak-ng (alternating by persona) plus mild noise, and fed to the voice loop (VAD,
Whisper, the flow, Piper). When recognition makes the agent ask something again, the pre-rendered turns drift
out of step; that is part of what this measures. The same persona checks judge the stored call.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass

import numpy as np

from bench.conversations.calls import CallRecord, Exchange, play
from bench.conversations.checks import PersonaResult, judge
from bench.conversations.material import Persona, load_material
from bench.conversations.setup import BusinessSetup, build_business, consent_ticket, temporary_database
from bench.conversations.speech import classify

NOISE_SNR_DB = 25.0  # mild background noise: clearly audible, speech still clear


@dataclass
class VoiceResult:
    persona: PersonaResult | None  # None: the call did not finish (``error`` says why)
    voice: str
    heard: list[tuple[str, str]]  # (what the caller said, what recognition heard)
    persona_id: str = ""
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.persona is not None and self.persona.passed


def render(text: str, voice: str, seed: str):
    """One caller turn as audio: synthesised, padded with a little silence, with mild noise added."""
    from agent.providers.audio import as_int16
    from agent.providers.espeak_tts import synthesize_espeak_pcm
    from agent.providers.piper_tts import synthesize_pcm
    from agent.simulate import CallerTurn

    pcm, rate = (synthesize_pcm if voice == "piper" else synthesize_espeak_pcm)(text)
    speech = as_int16(pcm).astype(np.float32)
    pad = np.zeros(rate // 4, dtype=np.float32)
    signal = np.concatenate([pad, speech, pad])
    rms = float(np.sqrt(np.mean(speech ** 2))) if speech.size else 300.0
    rng = np.random.default_rng(zlib.crc32(seed.encode()))
    noisy = signal + rng.normal(0.0, rms / 10 ** (NOISE_SNR_DB / 20), signal.shape)
    return CallerTurn(np.clip(noisy, -32768, 32767).astype(np.int16), rate)


def available_voices() -> tuple[str, ...]:
    """Piper always (a Python package); espeak-ng when the system has it (scripts/install-system-deps.sh)."""
    import shutil

    return ("piper", "espeak-ng") if shutil.which("espeak-ng") else ("piper",)


def play_voice(setup: BusinessSetup, persona: Persona, voice_name: str, voice) -> VoiceResult:
    from agent.simulate import simulate_call
    from quantum_voice.services.conversations import CallSetup

    text_call = play(setup, persona)  # the order of the caller's answers, as the reactive caller gave them
    said = [t for t in text_call.caller.turns if t.text.strip()]  # silence is not rendered: no turn would end
    turns = [render(t.text, voice_name, f"{persona.id}:{i}") for i, t in enumerate(said)]
    call_setup = CallSetup(channel="simulator", is_test=True)
    if persona.typed_email:
        call_setup.caller_email = persona.email
        call_setup.consent_record_id = consent_ticket(setup, persona.email)
    result = asyncio.run(simulate_call(setup.campaign_id, turns, voice=voice, fast=True, setup=call_setup,
                                       turn_timeout=90))
    aligned = align(said, [r.caller or "" for r in result.reports[1:]])
    record = _record(persona, text_call, aligned, result)
    return VoiceResult(judge(setup.business.key, record, setup.business.questions), voice_name,
                       [(t.text if t else "?", r.caller or "") for t, r in zip(aligned, result.reports[1:])])


def align(said: list, heard: list[str]) -> list:
    """The caller turn each recognised turn came from. The voice loop may split one rendered turn in two (a pause
    between sentences ends a turn), so turns are matched by their words, moving forward only."""
    def overlap(a: str, b: str) -> float:
        x, y = set(_words(a)), set(_words(b))
        return len(x & y) / len(x | y) if x | y else 0.0

    out, pointer = [], -1
    for text in heard:
        if not said:
            out.append(None)
            continue
        here = overlap(said[pointer].text, text) if pointer >= 0 else -1.0
        ahead = list(range(pointer + 1, min(pointer + 3, len(said))))
        best = max(ahead, key=lambda i: (overlap(said[i].text, text), -i)) if ahead else pointer
        if best != pointer and (here <= 0 or overlap(said[best].text, text) >= here):
            pointer = best  # a new turn (by default the next one)
        out.append(said[max(pointer, 0)])
    return out


def _words(text: str) -> list[str]:
    import re

    return re.findall(r"[a-z0-9']+", text.lower())


def _record(persona: Persona, text_call: CallRecord, aligned, result) -> CallRecord:
    """The voice call as the checks read it: the agent's words and actions per turn (answers from the stored
    transcript), and the caller's knowledge of what it confirmed, recomputed from what the agent read back."""
    answered = _answered_agent_turns(result.conversation_id)
    exchanges = []
    for index, report in enumerate(result.reports):
        planned = aligned[index - 1] if 0 < index <= len(aligned) else None
        actions = ([answered[report.agent_seq]] if report.agent_seq in answered else []) + (
            ["handoff"] if report.handoff else [])
        exchanges.append(Exchange(caller=None if index == 0 else (report.caller or ""),
                                  purpose=planned.purpose if planned else None,
                                  question_id=planned.question_id if planned else None, agent=report.reply,
                                  actions=actions, node_id=report.node_id, step_ms=0.0))
    caller = text_call.caller
    caller.confirmed_emails = {persona.email} if any(
        classify(r.reply).read_back == persona.email for r in result.reports) else set()
    notes, refused = [], set()
    for index, report in enumerate(result.reports[1:]):
        turn = aligned[index] if index < len(aligned) else None
        if turn is not None and turn.purpose == "refusal":
            refused.add(turn.heard.kind)
        asked = classify(report.reply).kind
        if asked in refused:
            notes.append(f"asked again after refusal ({asked})")
    last = result.reports[-1] if result.reports else None
    status = "ended" if last and last.ended else "handed_off" if any(r.handoff for r in result.reports) else "active"
    return CallRecord(persona=persona, conversation_id=result.conversation_id, exchanges=exchanges, caller=caller,
                      capture_turns=None, status=status, hit_cap=False, notes=notes)


def _answered_agent_turns(conversation_id: int) -> dict[int, str]:
    """The agent turns that held an answer: ``answer``, or ``tentative`` for the closest passage offered as such."""
    from sqlmodel import select

    from quantum_voice.core.db import session_scope
    from quantum_voice.models.calls import TranscriptTurn

    with session_scope() as session:
        turns = session.exec(select(TranscriptTurn).where(TranscriptTurn.conversation_id == conversation_id,
                                                          TranscriptTurn.speaker == "agent")).all()
        found = {}
        for t in turns:
            answers = (t.meta or {}).get("answers") or []
            if answers:
                found[t.seq] = "answer" if any(not a.get("tentative") for a in answers) else "tentative"
        return found


def evaluate_voice(material, *, split: str = "all", business: str | None = None, count: int = 3,
                   progress=None) -> list[VoiceResult]:
    """The first ``count`` personas (taken round-robin across businesses) through the voice loop."""
    from agent.voice import LocalVoice

    say = progress or (lambda message: None)
    businesses = load_material(material, split=split, business=business)
    picks: list[tuple[int, Persona]] = []
    for round_ in range(max((len(b.personas) for b in businesses), default=0)):
        picks += [(i, b.personas[round_]) for i, b in enumerate(businesses) if round_ < len(b.personas)]
    picks = picks[:count]
    voice = LocalVoice.load()
    voices = available_voices()
    setups: dict[int, BusinessSetup] = {}
    results = []
    for n, (index, persona) in enumerate(picks):
        if index not in setups:
            setups[index] = build_business(businesses[index])
        voice_name = voices[n % len(voices)]
        say(f"voice call as {persona.id} ({voice_name})")
        try:
            results.append(play_voice(setups[index], persona, voice_name, voice))
        except TimeoutError as exc:  # a call that stalls is this persona's failure, not the end of the run
            results.append(VoiceResult(None, voice_name, [], persona.id, str(exc)))
    return results


def run_voice(material, *, split: str = "all", business: str | None = None, count: int = 3,
              quiet: bool = False) -> list[VoiceResult]:
    import sys

    progress = None if quiet else (lambda message: print(f"  … {message}", file=sys.stderr, flush=True))
    with temporary_database():
        results = evaluate_voice(material, split=split, business=business, count=count, progress=progress)
    passed = sum(r.passed for r in results)
    print(f"\nVoice run — {len(results)} personas through speech recognition (noise at {NOISE_SNR_DB:.0f} dB SNR): "
          f"{passed}/{len(results)} passed")
    for r in results:
        if r.persona is None:
            print(f"  {r.persona_id} [{r.voice}]: FAIL — the call did not finish: {r.error}")
            continue
        print(f"  {r.persona.business}/{r.persona.persona} [{r.voice}]: {'pass' if r.persona.passed else 'FAIL'}")
        if not quiet:
            for check in r.persona.failures:
                print(f"    ✗ {check.name}: {check.reason}")
            for said, heard in r.heard:
                if said.lower().strip(" .!?") != heard.lower().strip(" .!?"):
                    print(f"      said {said!r} → heard {heard!r}")
    return results
