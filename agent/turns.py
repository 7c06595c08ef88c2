"""When has the caller finished? End of turn read from the words they said and the question they were asked.

livekit-agents asks its turn detector, once the caller's words are transcribed, how likely it is that the turn is
over: a likely end gets the short endpointing wait (``VOICE_MIN_ENDPOINTING_SECONDS``), an unlikely one the long
wait (``VOICE_MAX_ENDPOINTING_SECONDS``), during which the caller may go on and the words join the same turn.

livekit's offline end-of-turn model listens to the last 1.2 s of audio. Measured here on Piper and espeak-ng
speech it gives complete questions ("Is parking included?") 0.1-0.3 and trailing fragments ("My email is") up to
0.6, so most turns waited the long delay (~0.3 s of the 1.1 s voice-to-voice time in ``python -m agent.bench``).
Whisper's transcript says more: it punctuates a finished sentence, and a turn that ends on "and", "is" or "at"
is not finished, whatever its punctuation. The question the agent asked adds the rest: an answer to "What's your
email?" or "What's your phone number?" that the Lead Gate's own parsers cannot read an address or a number from
yet is still coming.

``end_of_turn_probability`` is the plain rule (no model, no audio, microseconds); ``TranscriptTurnDetector`` is it
behind livekit's turn-detector protocol. ``VOICE_TURN_DETECTOR=audio`` switches back to livekit's model, ``vad``
to silence alone.
"""

from __future__ import annotations

import re

from livekit.agents import llm

from quantum_voice.services.leads.emails import extract_email, mentions_email
from quantum_voice.services.leads.extraction import DIGIT_WORDS, extract_phone

LIKELY = 0.95  # a finished sentence
PLAIN = 0.7  # words with no punctuation ("Maria Garcia"): finished, unless the question says otherwise
UNLIKELY = 0.15  # trailing off, or an answer still missing what was asked
THRESHOLD = 0.5

# a turn ending on one of these words is mid-sentence, whatever Whisper's punctuation says ("My email is.")
DANGLING = frozenset("""
a an the my our your his her their its this that these those
and or but so because if than then when while where which who whose what
to of for with at in on by from about into onto over under like as
is are was were am be been being do does did have has had will would can could should shall may might must
i i'm we you he she they it it's there's
dot underscore dash hyphen plus um uh er erm hmm mm
""".split())

_FILLER_END = re.compile(r"(\.\.\.|…|[,;:\-–—])\s*$")
_TERMINAL = re.compile(r"[.?!]\s*$")
_ASKS_EMAIL = re.compile(r"\be-?mail\b", re.I)
_ASKS_PHONE = re.compile(r"\b(phone|mobile|cell|number to reach|call you back)\b", re.I)
_DOTTED = re.compile(r"[a-z0-9]\.[a-z0-9]", re.I)  # "john.smith", as Whisper writes a spoken "dot"
_EMAIL_IS = re.compile(r"\b(e-?mail|address)( address)? is\b", re.I)


def end_of_turn_probability(said: str, asked: str | None = None) -> float:
    """How likely it is that ``said`` (the caller's turn so far) is the whole turn, given the agent's last line
    ``asked``."""
    text = " ".join(said.split())
    if not text:
        return 0.0
    if _FILLER_END.search(text):
        return UNLIKELY
    words = re.findall(r"[a-z0-9']+", text.lower())
    if words and words[-1] in DANGLING:
        return UNLIKELY
    if asked and _still_answering(text, words, asked):
        return UNLIKELY
    return LIKELY if _TERMINAL.search(text) else PLAIN


def _still_answering(text: str, words: list[str], asked: str) -> bool:
    """An email or a phone number was asked for, and the caller has begun one that the Lead Gate could not take
    yet (its own parsers, ``extract_email`` and ``extract_phone``, find none)."""
    if _ASKS_EMAIL.search(asked):
        spelling = mentions_email(text) or _DOTTED.search(text) or _EMAIL_IS.search(text)
        return bool(spelling) and extract_email(text) is None
    if _ASKS_PHONE.search(asked):
        written = sum(ch.isdigit() for ch in text)
        spoken = sum(w in DIGIT_WORDS for w in words)
        started = written > 0 or spoken >= 2  # "I don't have one" is no number
        return started and extract_phone(text) is None
    return False


class TranscriptTurnDetector:
    """``end_of_turn_probability`` as a livekit-agents turn detector (its ``_TurnDetector`` protocol)."""

    @property
    def model(self) -> str:
        return "transcript-rules"

    @property
    def provider(self) -> str:
        return "quantum-voice"

    async def unlikely_threshold(self, language: str | None) -> float | None:
        return THRESHOLD

    async def supports_language(self, language: str | None) -> bool:
        return language is None or str(language).lower().startswith("en")

    async def predict_end_of_turn(self, chat_ctx: llm.ChatContext, *, timeout: float | None = None) -> float:
        said, asked = _last_exchange(chat_ctx)
        return end_of_turn_probability(said, asked)


def _last_exchange(chat_ctx: llm.ChatContext) -> tuple[str, str | None]:
    """The caller's latest words and the agent's line before them."""
    said, asked = "", None
    for item in reversed(chat_ctx.items):
        if getattr(item, "type", None) != "message":
            continue
        if item.role == "user" and not said:
            said = item.text_content or ""
        elif item.role == "assistant" and said:
            asked = item.text_content or ""
            break
    return said, asked
